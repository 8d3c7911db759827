/**
 * 4-bit weight quantisation as QLoRA uses it: bitsandbytes' blockwise NF4 (and FP4), with optional double
 * quantisation of the block scales, reproduced in Java so that codes, scales and dequantised values match
 * bitsandbytes' format.
 *
 * <h2>The format</h2>
 * <ul>
 *   <li>The weight (e.g. a Linear weight [out, in]) is flattened row-major and cut into blocks of 64 elements
 *       (the last block may be shorter).
 *   <li>Per block, {@code absmax = max |x|} in fp32. Each element becomes the 4-bit index of the code nearest to
 *       {@code x * (1/absmax)} in the 16-value NF4 (or FP4) codebook, where "nearest" is decided by bitsandbytes'
 *       float32 midpoints and a value exactly on a midpoint takes the lower code ({@link oneml.quant.QuantType}).
 *   <li>Two indices per byte: element 2j in the high nibble, 2j+1 in the low nibble; an odd length gets a pad
 *       nibble (the code of 0.0). Storage: 4 bits per parameter.
 *   <li>Scales: one fp32 absmax per block (+0.5 bit per parameter, 4.5 in all), or with double quantisation
 *       {@code offset = mean(absmax)} and {@code absmax - offset} quantised to 8 bits with bitsandbytes' signed
 *       dynamic map, in blocks of 256 with an fp32 {@code absmax2} each (+0.127 bit: 4.127 in all). Decoded
 *       absmax: {@code code8[i] * absmax2 + offset}.
 *   <li>Dequantised value: {@code code4[index] * absmax[block]}, one float32 multiply.
 * </ul>
 *
 * <h2>Using it</h2>
 * <pre>{@code
 * QuantizedTensor q = Quantizer.quantize(weight, QuantConfig.qlora());   // float[] + shape, or an NDArray
 * DeviceQuantizedTensor w = q.upload(modelManager);                       // once: codes into native memory
 * try (NDManager step = modelManager.newSubManager()) {
 *     NDArray wFloat = w.dequantize(step);                                // per forward pass: [out, in] float32
 *     NDArray y = ai.djl.nn.core.Linear.linear(x, wFloat, bias).singletonOrThrow();
 * }
 * }</pre>
 *
 * <p>{@link oneml.quant.QuantizedTensor} is the immutable heap copy (save, load, inspect, error and size figures,
 * a pure-Java {@code dequantizeToArray}); {@link oneml.quant.DeviceQuantizedTensor} is the native copy a layer
 * keeps, dequantising with a gather from a 256 x 2 table because DJL has no bitwise ops, bit-identical to the Java
 * reference.
 */
package oneml.quant;
