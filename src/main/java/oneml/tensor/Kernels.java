package oneml.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A few libtorch operators that DJL's API does not reach (fused SiLU, the multi-tensor AdamW kernel,
 * per-tensor norms, gradients as fresh tensors), called through a TorchScript module that is written here as
 * source and compiled by libtorch when the class loads. No Python and no file: the archive
 * {@code torch.jit.save} would write is four small entries (the module's source, a pickled module object with
 * its {@code training} flag, an empty constants table, the format version), built in memory.
 *
 * <p>Calls go through {@link IValueUtils#forward(PtSymbolBlock, NDList, boolean)} with {@code isTrain}
 * true, which leaves the thread's grad mode alone: under a GradientCollector autograd records through the
 * module's operators as through DJL's own; outside one nothing is recorded. The method is picked by an
 * array named {@code module_method:NAME} that DJL drops from the inputs. The results belong to the manager
 * of the first input.
 *
 * <p>The graph executor's optimiser is turned off in each calling thread (it is a thread-local libtorch
 * setting): its profiling runs and autodiff subgraphs only slow these one-line methods down.
 */
public final class Kernels {
    private static final String CLASS = "OnemlKernels";
    private static final String SOURCE = String.join("\n",
            "class " + CLASS + "(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__." + CLASS + ", x: Tensor) -> Tensor:",
            "    return x",
            // SwiGLU's gate: silu(g) * u with libtorch's fused SiLU forward and backward
            "  def silu_mul(self: __torch__." + CLASS + ", g: Tensor, u: Tensor) -> Tensor:",
            "    return torch.mul(torch.silu(g), u)",
            // RMSNorm as Hugging Face writes it, w * (x * rsqrt(mean(x^2) + eps)), with mean(x^2) taken as
            // ||x||^2 / D: the norm's backward is one pass over x, where pow and mean take three
            "  def rms_norm(self: __torch__." + CLASS + ", x: Tensor, w: Tensor, eps: Tensor) -> Tensor:",
            "    n = torch.linalg_vector_norm(x, 2., [-1], True)",
            "    r = torch.rsqrt(torch.add(torch.div(torch.mul(n, n), torch.size(x, -1)), torch.item(eps)))",
            "    return torch.mul(w, torch.mul(x, r))",
            // mean next-token cross-entropy; shifting the labels left (the last position ignored) instead of
            // slicing the logits saves a copy of them forward and two passes backward
            "  def causal_lm_loss(self: __torch__." + CLASS + ", logits: Tensor, labels: Tensor) -> Tensor:",
            "    pad = torch.full_like(torch.slice(labels, 1, 0, 1), -100)",
            "    target = torch.reshape(torch.cat([torch.slice(labels, 1, 1), pad], 1), [-1])",
            "    flat = torch.reshape(logits, [-1, torch.size(logits, -1)])",
            "    total = torch.cross_entropy_loss(flat, target, None, 2, -100, 0.)", // 2: sum
            "    return torch.div(total, torch.clamp_min(torch.sum(torch.ne(target, -100)), 1))",
            // rotary embedding, x * cos + rotate_half(x) * sin with rotate_half(x) = [-x2, x1] taken as a roll of the last
            // dimension by half times a sin table whose first half is negated: no slices (their backward zero-fills a
            // full-size gradient per slice) and no negation pass
            "  def rotary(self: __torch__." + CLASS + ", x: Tensor, cos: Tensor, signed_sin: Tensor) -> Tensor:",
            "    half = torch.floordiv(torch.size(x, -1), 2)",
            "    return torch.add(torch.mul(x, cos), torch.mul(torch.roll(x, [half], [-1]), signed_sin))",
            // LoRA's update added to the projection's output in the same pass: y + s * (x A^T) B^T
            "  def lora_update(self: __torch__." + CLASS + ", y: Tensor, x: Tensor, a: Tensor, b: Tensor, s: Tensor) -> Tensor:",
            "    y2 = torch.reshape(y, [-1, torch.size(y, -1)])",
            "    xa = torch.mm(torch.reshape(x, [-1, torch.size(x, -1)]), torch.t(a))",
            "    return torch.view(torch.addmm(y2, xa, torch.t(b), beta=1, alpha=float(torch.item(s))), torch.size(y))",
            // 4-bit decoding: each packed byte picks a row of a [256, 2] table of value pairs; gathering the rows as
            // complex64 scalars (a view, no copy) takes libtorch's one-dimensional gather, faster than row copies
            "  def decode_pairs(self: __torch__." + CLASS + ", packed: Tensor, table: Tensor) -> Tensor:",
            "    return torch.view_as_real(torch.index_select(torch.view_as_complex(table), 0, torch.to(packed, 3)))", // 3: int32
            // causal scaled dot-product attention over [B, H, T, D], key/value heads shared by groups of queries
            "  def causal_attention(self: __torch__." + CLASS + ", q: Tensor, k: Tensor, v: Tensor) -> Tensor:",
            "    group = torch.floordiv(torch.size(q, 1), torch.size(k, 1))",
            "    if torch.gt(group, 1):",
            "      k1 = torch.repeat_interleave(k, group, 1)",
            "      v1 = torch.repeat_interleave(v, group, 1)",
            "      k0, v0 = k1, v1",
            "    else:",
            "      k0, v0 = k, v",
            "    return torch.scaled_dot_product_attention(q, k0, v0, None, 0., True)",
            // torch.optim.AdamW(fused=True): one pass over parameters, gradients and both moments; the kernel divides
            // the gradients by grad_scale as it reads them, which is where gradient clipping's factor goes
            "  def adamw(self: __torch__." + CLASS + ", params: List[Tensor], grads: List[Tensor], m: List[Tensor],"
                    + " v: List[Tensor], steps: List[Tensor], lr: float, beta1: float, beta2: float, weight_decay: float,"
                    + " eps: float, grad_divisor: float) -> Tensor:",
            "    torch._foreach_add_(steps, 1.)",
            // without a divisor the kernel leaves the gradients alone; with one it writes the divided values back
            "    if grad_divisor == 1.:",
            "      torch._fused_adamw_(params, grads, m, v, annotate(List[Tensor], []), steps, lr=lr, beta1=beta1, beta2=beta2,"
                    + " weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)",
            "    else:",
            "      torch._fused_adamw_(params, grads, m, v, annotate(List[Tensor], []), steps, lr=lr, beta1=beta1, beta2=beta2,"
                    + " weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False,"
                    + " grad_scale=torch.full([1], grad_divisor, dtype=6))", // 6: float32
            "    return steps[0]",
            // d loss / d params as fresh tensors (torch.autograd.grad): nothing accumulates into .grad, so no
            // zeroing pass and no accumulation pass per parameter; a parameter the loss does not reach gets zeros
            "  def gradients(self: __torch__." + CLASS + ", loss: Tensor, params: List[Tensor]) -> List[Tensor]:",
            "    gs = torch.autograd.grad([loss], params, None, False, False, True)",
            "    out = annotate(List[Tensor], [])",
            "    for i in range(torch.len(gs)):",
            "      g = gs[i]",
            "      if g is None:",
            "        out.append(torch.zeros_like(params[i]))",
            "      else:",
            "        out.append(g)",
            "    return out",
            // overwrite a tensor's values in place (NDArray.set goes through a libtorch guard that prints a deprecation warning)
            "  def assign(self: __torch__." + CLASS + ", dst: Tensor, src: Tensor) -> Tensor:",
            "    dst.copy_(src)",
            "    return dst",
            // squared L2 norm of every tensor of a list, summed, in float64 (the clipping norm)
            "  def squared_norm(self: __torch__." + CLASS + ", xs: List[Tensor]) -> Tensor:",
            "    norms = torch._foreach_norm(xs)",
            "    return torch.sum(torch.square(torch.to(torch.stack(norms), 7)))", // 7: torch.float64
            "");

    /**
     * Owns the module and the method selectors for the life of the process: a base manager of its own, as this
     * package sits below the model package whose root manager the rest of oneml uses.
     */
    private static NDManager owner;
    private static PtSymbolBlock module;
    private static final Map<String, NDArray> SELECTORS = new HashMap<>();
    private static final ThreadLocal<Boolean> CONFIGURED = ThreadLocal.withInitial(() -> false);

    private Kernels() {}

    private static synchronized NDManager owner() {
        if (owner == null) {
            owner = NDManager.newBaseManager("PyTorch");
        }
        return owner;
    }

    private static synchronized PtSymbolBlock module() {
        if (module == null) {
            PtNDManager root = (PtNDManager) owner();
            try {
                module = JniUtils.loadModule(root, new ByteArrayInputStream(archive()), true, false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return module;
    }

    private static synchronized NDArray selector(String method) {
        return SELECTORS.computeIfAbsent(method, m -> {
            NDArray s = owner().zeros(new ai.djl.ndarray.types.Shape());
            s.setName("module_method:" + m);
            return s;
        });
    }

    private static void configureThread() {
        if (!CONFIGURED.get()) {
            JniUtils.setGraphExecutorOptimize(false);
            CONFIGURED.set(true);
        }
    }

    /**
     * Runs {@code method} on tensor inputs, recording autograd when the thread does. The inputs must be
     * unnamed (DJL reads names as list and dict structure); results belong to the first input's manager.
     */
    static NDList call(String method, NDArray... inputs) {
        PtSymbolBlock m = module();
        configureThread();
        NDList list = new NDList(inputs.length + 1);
        for (NDArray x : inputs) {
            if (x.getName() != null) {
                throw new IllegalArgumentException("TorchScript inputs must be unnamed; got '" + x.getName() + "'");
            }
            list.add(x);
        }
        list.add(selector(method));
        return IValueUtils.forward(m, list, true);
    }

    /** {@code silu(g) * u} (SwiGLU's gate) with libtorch's fused SiLU; autograd records it like any op. */
    public static NDArray siluMul(NDArray g, NDArray u) {
        return call("silu_mul", g, u).singletonOrThrow();
    }

    /** RMSNorm over the last dimension: {@code w * (x * rsqrt(mean(x^2) + eps))}; eps is a 0-d float64 array. */
    public static NDArray rmsNorm(NDArray x, NDArray weight, NDArray eps) {
        return call("rms_norm", x, weight, eps).singletonOrThrow();
    }

    /**
     * Mean causal-LM cross-entropy, logits [B, T, V] at position i predicting labels [B, T] at i + 1, labels
     * equal to -100 not counted (0 when none counts), by libtorch's cross_entropy.
     */
    public static NDArray causalLmLoss(NDArray logits, NDArray labels) {
        return call("causal_lm_loss", logits, labels).singletonOrThrow();
    }

    /**
     * Rotary position embedding over the last dimension: {@code x * cos + rotate_half(x) * sin}, given cos and the
     * signed sin table ({@code -sin} in the first half of the last dimension, {@code sin} in the second).
     */
    public static NDArray rotary(NDArray x, NDArray cos, NDArray signedSin) {
        return call("rotary", x, cos, signedSin).singletonOrThrow();
    }

    /**
     * Rows of {@code table} [256, 2] (float32, contiguous) picked by the uint8 {@code packed} codes [N]: the
     * [N, 2] float32 values, in the manager of {@code packed}.
     */
    public static NDArray decodePairs(NDArray packed, NDArray table) {
        return call("decode_pairs", packed, table).singletonOrThrow();
    }

    /** {@code y + s * (x A^T) B^T} as one libtorch addmm; {@code s} is a 0-d float64 array. */
    public static NDArray loraUpdate(NDArray y, NDArray x, NDArray a, NDArray b, NDArray s) {
        return call("lora_update", y, x, a, b, s).singletonOrThrow();
    }

    /**
     * Causal attention, softmax(q k^T / sqrt(D) + causal mask) v, by libtorch's scaled_dot_product_attention.
     * q [B, H, T, D]; k, v [B, KV, T, D] with H a multiple of KV (each key/value head serves H / KV queries).
     */
    public static NDArray causalAttention(NDArray q, NDArray k, NDArray v) {
        return call("causal_attention", q, k, v).singletonOrThrow();
    }

    /**
     * One torch.optim.AdamW(fused=True) update of every parameter in place: moments {@code m}, {@code v} and
     * the per-parameter step counters (float32 scalars, incremented here) are updated too. Lists are parallel. The
     * update uses {@code grads / gradDivisor} (gradient clipping without a pass of its own); the gradients may be
     * overwritten.
     */
    public static void adamW(java.util.List<NDArray> params, java.util.List<NDArray> grads, java.util.List<NDArray> m,
            java.util.List<NDArray> v, java.util.List<NDArray> steps, double lr, double beta1, double beta2, double weightDecay,
            double eps, double gradDivisor) {
        IValue[] in = {tensors(params), tensors(grads), tensors(m), tensors(v), tensors(steps), IValue.from(lr),
            IValue.from(beta1), IValue.from(beta2), IValue.from(weightDecay), IValue.from(eps), IValue.from(gradDivisor)};
        try {
            runNoGrad("adamw", in).close();
        } finally {
            for (IValue i : in) {
                i.close();
            }
        }
    }

    /**
     * The gradients of {@code loss} with respect to {@code params} (leaves that require gradients), as new arrays in
     * the manager of {@code loss}, parallel to {@code params}; the autograd graph is freed and the parameters'
     * own gradient fields are left untouched. A parameter the loss does not reach gets zeros (AdamW then still
     * decays it, where PyTorch would skip a None gradient). The arrays are inference tensors (DJL runs such methods
     * in inference mode): libtorch refuses in-place changes to them outside a kernel, so combine them out of place.
     */
    public static List<NDArray> gradients(NDArray loss, List<NDArray> params) {
        PtNDManager manager = (PtNDManager) loss.getManager();
        try (IValue l = IValue.from((PtNDArray) loss); IValue ps = tensors(params); IValue out = runNoGrad("gradients", l, ps)) {
            return List.of(out.toTensorArray(manager));
        }
    }

    /**
     * Overwrites every value of {@code dst} with {@code values} (row-major, converted to its type), without autograd
     * recording it: what {@code NDArray.set(float[])} does, minus the deprecation warning libtorch prints for it.
     */
    public static void assign(NDArray dst, float[] values) {
        if (values.length != dst.size()) {
            throw new IllegalArgumentException(values.length + " values for an array of shape " + dst.getShape());
        }
        try (NDManager scratch = dst.getManager().newSubManager(); NDArray src = scratch.create(values, dst.getShape());
             IValue d = IValue.from((PtNDArray) dst); IValue s = IValue.from((PtNDArray) src); IValue out = runNoGrad("assign", d, s)) {
            // the result is dst itself; its IValue handle is closed here
        }
    }

    /** Sum over the arrays of their squared L2 norms (libtorch's multi-tensor norm), accumulated in float64. */
    public static double squaredNorm(java.util.Collection<NDArray> arrays) {
        try (IValue in = tensors(arrays); IValue out = runNoGrad("squared_norm", in);
             NDArray sum = out.toTensor((PtNDManager) arrays.iterator().next().getManager())) {
            return sum.getDouble();
        }
    }

    /** Runs {@code method} on IValues with autograd off; the caller closes inputs and the result. */
    private static IValue runNoGrad(String method, IValue... inputs) {
        PtSymbolBlock m = module();
        configureThread();
        return IValueUtils.runMethod(m, method, inputs);
    }

    private static IValue tensors(java.util.Collection<NDArray> arrays) {
        return IValue.listFrom(arrays.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
    }

    /** The archive torch.jit.save writes for a module of this source (without the optional debug tables). */
    static byte[] archive() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            entry(zip, "oneml/data.pkl", modulePickle());
            entry(zip, "oneml/code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            entry(zip, "oneml/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}); // protocol 2, empty tuple, stop
            entry(zip, "oneml/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    private static void entry(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    /** Pickle (protocol 2) of {@code __torch__.CLASS()} with state {@code {'training': True}}. */
    private static byte[] modulePickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80); // PROTO 2
        p.write(2);
        p.writeBytes(("c__torch__\n" + CLASS + "\n").getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        p.write('('); // MARK
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE, 4-byte little-endian length
        p.write(key.length);
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write(0x88); // NEWTRUE
        p.write('u'); // SETITEMS
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }
}
