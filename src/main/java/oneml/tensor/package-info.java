/**
 * libtorch operators that DJL's API does not reach ({@link oneml.tensor.Kernels}): fused SwiGLU, RMSNorm, rotary
 * embeddings, causal attention, the causal-LM loss, LoRA's update, the 4-bit pair decode, fused AdamW, fresh
 * gradients and multi-tensor norms. The lowest layer above {@code oneml.io}: the model, the 4-bit code in
 * {@code oneml.quant}, LoRA and the trainer all use it, and it uses nothing of oneml.
 */
package oneml.tensor;
