package oneml.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.AdapterConfig;
import oneml.IA3Config;
import oneml.LoRAConfig;
import oneml.PeftConfig;
import oneml.PrefixTuningConfig;
import oneml.PromptTuningConfig;
import oneml.QLoRAConfig;
import oneml.compare.Candidate;
import oneml.train.TrainConfig;

/**
 * The fields a sweep can vary, per method, with their types and ranges, and how a set of values becomes the method's
 * config. Each method starts from its comparison preset ({@link Candidate#preset}) and the config builders apply the
 * swept values, so a sweep means exactly what the builders mean. Values are kept in one normal form (Integer, Double,
 * Boolean, String, List of String) so that a trial prints, hashes and saves the same way whichever way it was written.
 */
final class Fields {
    private Fields() {}

    enum Kind { INT, NUMBER, BOOL, TEXT, NAMES }

    /** A field: its name as the builders spell it, its type, and the values it accepts (checked before anything runs). */
    record Field(String name, Kind kind, double min, double max, boolean maxExclusive, List<String> choices) {
        static Field integer(String name, int min, int max) { return new Field(name, Kind.INT, min, max, false, List.of()); }
        static Field number(String name, double min, double max, boolean maxExclusive) { return new Field(name, Kind.NUMBER, min, max, maxExclusive, List.of()); }
        static Field bool(String name) { return new Field(name, Kind.BOOL, 0, 0, false, List.of()); }
        static Field text(String name, String... choices) { return new Field(name, Kind.TEXT, 0, 0, false, List.of(choices)); }
        static Field names(String name) { return new Field(name, Kind.NAMES, 0, 0, false, List.of()); }

        /** {@code value} in normal form, or an error naming the field, the value and what it accepts. */
        Object normalise(String method, Object value) {
            String where = method + " field '" + name + "'";
            if (value instanceof List<?> && kind != Kind.NAMES) {
                throw new IllegalArgumentException(where + " takes one value per grid point, got the list " + value
                        + "; give the values one by one, e.g. grid(\"" + name + "\", a, b) or \"" + name + "\": [a, b] in a spec");
            }
            switch (kind) {
                case INT -> {
                    if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || Double.isInfinite(n.doubleValue())) {
                        throw new IllegalArgumentException(where + " takes whole numbers, got " + show(value));
                    }
                    double v = n.doubleValue();
                    if (v < min || v > max) {
                        throw new IllegalArgumentException(where + " must be in " + range() + ", got " + show(value));
                    }
                    return (int) v;
                }
                case NUMBER -> {
                    if (!(value instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                        throw new IllegalArgumentException(where + " takes numbers, got " + show(value));
                    }
                    double v = n.doubleValue();
                    if (v < min || (maxExclusive ? v >= max : v > max)) {
                        throw new IllegalArgumentException(where + " must be in " + range() + ", got " + show(value));
                    }
                    return v;
                }
                case BOOL -> {
                    if (!(value instanceof Boolean b)) {
                        throw new IllegalArgumentException(where + " takes true or false, got " + show(value));
                    }
                    return b;
                }
                case TEXT -> {
                    String s = value instanceof String t ? t.trim().toLowerCase(Locale.ROOT) : null;
                    if (s == null || !choices.contains(s)) {
                        throw new IllegalArgumentException(where + " takes one of " + choices + ", got " + show(value));
                    }
                    return s;
                }
                case NAMES -> {
                    List<String> out = new ArrayList<>();
                    if (value instanceof String s) {
                        for (String part : s.split(",")) {
                            out.add(part.trim());
                        }
                    } else if (value instanceof List<?> list) {
                        for (Object o : list) {
                            if (!(o instanceof String s)) {
                                throw new IllegalArgumentException(where + " takes lists of module names, got " + show(value));
                            }
                            out.add(s.trim());
                        }
                    } else {
                        throw new IllegalArgumentException(where + " takes lists of module names such as [\"q_proj\", \"v_proj\"], got "
                                + show(value));
                    }
                    if (out.isEmpty() || out.stream().anyMatch(String::isEmpty)) {
                        throw new IllegalArgumentException(where + " needs at least one module name and no empty names, got " + show(value));
                    }
                    return List.copyOf(out);
                }
                default -> throw new AssertionError(kind);
            }
        }

        String range() {
            return switch (kind) {
                case INT -> "[" + (long) min + ", " + (long) max + "]";
                case NUMBER -> (min == Double.MIN_VALUE ? "(0" : "[" + fmt(min)) + ", " + fmt(max) + (maxExclusive ? ")" : "]");
                default -> "";
            };
        }
    }

    static final Field R = Field.integer("r", 1, 4096);
    static final Field ALPHA = Field.number("alpha", Double.MIN_VALUE, 1e6, false);
    static final Field DROPOUT = Field.number("dropout", 0, 1, true);
    static final Field TARGETS = Field.names("targetModules");
    static final Field RSLORA = Field.bool("useRslora");
    static final Field DORA = Field.bool("useDora");
    static final Field BIAS = Field.text("bias", "none", "all", "lora_only");
    static final Field QUANT_TYPE = Field.text("quantType", "nf4", "fp4");
    static final Field DOUBLE_QUANT = Field.bool("doubleQuant");
    static final Field FEEDFORWARD = Field.names("feedforwardModules");
    static final Field VIRTUAL_TOKENS = Field.integer("numVirtualTokens", 1, 1024);
    static final Field PROJECTION = Field.bool("prefixProjection");
    static final Field REDUCTION = Field.integer("reductionFactor", 1, 4096);
    static final Field NON_LINEARITY = Field.text("nonLinearity", AdapterConfig.NON_LINEARITIES.toArray(new String[0]));
    static final Field AFTER_ATTENTION = Field.bool("afterAttention");
    static final Field AFTER_MLP = Field.bool("afterMlp");

    static final Field LEARNING_RATE = Field.number("learningRate", Double.MIN_VALUE, 10, false);
    static final Field STEPS = Field.integer("steps", 1, 1_000_000);
    static final Field BATCH_SIZE = Field.integer("batchSize", 1, 4096);
    static final Field CHECKPOINTING = Field.bool("gradientCheckpointing");
    static final Field WARMUP = Field.integer("warmupSteps", 0, 1_000_000);
    static final Field WEIGHT_DECAY = Field.number("weightDecay", 0, 10, false);
    static final Field MAX_GRAD_NORM = Field.number("maxGradNorm", 0, 1e6, false);

    /** Training fields, the same for every method. */
    static final List<Field> TRAINING = List.of(LEARNING_RATE, STEPS, BATCH_SIZE, CHECKPOINTING, WARMUP, WEIGHT_DECAY, MAX_GRAD_NORM);

    private static final List<Field> LORA = List.of(R, ALPHA, DROPOUT, TARGETS, RSLORA, DORA, BIAS);

    /** Config fields per method, in the order tables show them. */
    static final Map<String, List<Field>> CONFIG = configFields();

    private static Map<String, List<Field>> configFields() {
        Map<String, List<Field>> m = new LinkedHashMap<>();
        m.put("full", List.of());
        m.put("lora", LORA);
        m.put("dora", LORA);
        List<Field> qlora = new ArrayList<>(LORA);
        qlora.add(QUANT_TYPE);
        qlora.add(DOUBLE_QUANT);
        m.put("qlora", List.copyOf(qlora));
        m.put("ia3", List.of(TARGETS, FEEDFORWARD));
        m.put("prompt", List.of(VIRTUAL_TOKENS));
        m.put("prefix", List.of(VIRTUAL_TOKENS, PROJECTION));
        m.put("adapter", List.of(REDUCTION, NON_LINEARITY, AFTER_ATTENTION, AFTER_MLP, DROPOUT));
        return m;
    }

    /** The method's name in normal form, or an error listing the methods a sweep knows. */
    static String method(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (!CONFIG.containsKey(n)) {
            throw new IllegalArgumentException("unknown method '" + name + "'; a sweep knows " + CONFIG.keySet());
        }
        return n;
    }

    /** The field {@code name} of {@code method}, or an error listing the fields that exist for it. */
    static Field field(String method, String name) {
        for (Field f : CONFIG.get(method)) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        for (Field f : TRAINING) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown field '" + name + "' for method " + method + "; its fields are "
                + CONFIG.get(method).stream().map(Field::name).toList() + " and the training fields "
                + TRAINING.stream().map(Field::name).toList());
    }

    static boolean isTraining(String name) {
        return TRAINING.stream().anyMatch(f -> f.name().equals(name));
    }

    /**
     * The method's config: its preset with {@code values} applied through the config's builder (null for full
     * fine-tuning). A combination the config refuses (IA3 feed-forward modules outside its targets) throws its message.
     */
    static PeftConfig build(String method, Map<String, Object> values) {
        PeftConfig preset = Candidate.preset(method).config();
        return switch (method) {
            case "full" -> null;
            case "lora", "dora" -> {
                LoRAConfig.Builder b = ((LoRAConfig) preset).toBuilder();
                values.forEach((k, v) -> {
                    switch (k) {
                        case "r" -> b.r((Integer) v);
                        case "alpha" -> b.alpha((Double) v);
                        case "dropout" -> b.dropout((Double) v);
                        case "targetModules" -> b.targetModules(names(v));
                        case "useRslora" -> b.useRslora((Boolean) v);
                        case "useDora" -> b.useDora((Boolean) v);
                        case "bias" -> b.bias((String) v);
                        default -> throw new AssertionError(k);
                    }
                });
                yield b.build();
            }
            case "qlora" -> {
                LoRAConfig l = ((QLoRAConfig) preset).lora();
                QLoRAConfig q = (QLoRAConfig) preset;
                QLoRAConfig.Builder b = QLoRAConfig.builder().r(l.r()).alpha(l.alpha()).dropout(l.dropout())
                        .quantType(q.quant().type().name()).doubleQuant(q.quant().doubleQuant());
                values.forEach((k, v) -> {
                    switch (k) {
                        case "r" -> b.r((Integer) v);
                        case "alpha" -> b.alpha((Double) v);
                        case "dropout" -> b.dropout((Double) v);
                        case "targetModules" -> b.targetModules(names(v).toArray(new String[0]));
                        case "useRslora" -> b.useRslora((Boolean) v);
                        case "useDora" -> b.useDora((Boolean) v);
                        case "bias" -> b.bias((String) v);
                        case "quantType" -> b.quantType((String) v);
                        case "doubleQuant" -> b.doubleQuant((Boolean) v);
                        default -> throw new AssertionError(k);
                    }
                });
                yield b.build();
            }
            case "ia3" -> {
                IA3Config p = (IA3Config) preset;
                IA3Config.Builder b = IA3Config.builder().targetModules(p.targetModules());
                if (p.feedforwardModules() != null) {
                    b.feedforwardModules(p.feedforwardModules());
                }
                values.forEach((k, v) -> {
                    switch (k) {
                        case "targetModules" -> b.targetModules(names(v));
                        case "feedforwardModules" -> b.feedforwardModules(names(v));
                        default -> throw new AssertionError(k);
                    }
                });
                yield b.build();
            }
            case "prompt" -> {
                PromptTuningConfig.Builder b = PromptTuningConfig.builder().numVirtualTokens(((PromptTuningConfig) preset).numVirtualTokens());
                values.forEach((k, v) -> b.numVirtualTokens((Integer) v));
                yield b.build();
            }
            case "prefix" -> {
                PrefixTuningConfig p = (PrefixTuningConfig) preset;
                PrefixTuningConfig.Builder b = PrefixTuningConfig.builder().numVirtualTokens(p.numVirtualTokens()).prefixProjection(p.prefixProjection());
                values.forEach((k, v) -> {
                    switch (k) {
                        case "numVirtualTokens" -> b.numVirtualTokens((Integer) v);
                        case "prefixProjection" -> b.prefixProjection((Boolean) v);
                        default -> throw new AssertionError(k);
                    }
                });
                yield b.build();
            }
            case "adapter" -> {
                AdapterConfig.Builder b = ((AdapterConfig) preset).toBuilder();
                values.forEach((k, v) -> {
                    switch (k) {
                        case "reductionFactor" -> b.reductionFactor((Integer) v);
                        case "nonLinearity" -> b.nonLinearity((String) v);
                        case "afterAttention" -> b.afterAttention((Boolean) v);
                        case "afterMlp" -> b.afterMlp((Boolean) v);
                        case "dropout" -> b.dropout((Double) v);
                        default -> throw new AssertionError(k);
                    }
                });
                yield b.build();
            }
            default -> throw new AssertionError(method);
        };
    }

    /**
     * Every config field of the method as the built config holds it, defaults included (a row shows them all and the
     * trial's id covers them all). An unset IA3 feed-forward list (the model type's default) is left out.
     */
    static Map<String, Object> read(String method, PeftConfig config) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (method) {
            case "lora", "dora", "qlora" -> {
                LoRAConfig l = config instanceof QLoRAConfig q ? q.lora() : (LoRAConfig) config;
                m.put("r", l.r());
                m.put("alpha", l.alpha());
                m.put("dropout", l.dropout());
                m.put("targetModules", l.targetModules());
                m.put("useRslora", l.useRslora());
                m.put("useDora", l.useDora());
                m.put("bias", l.bias());
                if (config instanceof QLoRAConfig q) {
                    m.put("quantType", q.quant().type().name().toLowerCase(Locale.ROOT));
                    m.put("doubleQuant", q.quant().doubleQuant());
                }
            }
            case "ia3" -> {
                IA3Config c = (IA3Config) config;
                m.put("targetModules", c.targetModules());
                if (c.feedforwardModules() != null) {
                    m.put("feedforwardModules", c.feedforwardModules());
                }
            }
            case "prompt" -> m.put("numVirtualTokens", ((PromptTuningConfig) config).numVirtualTokens());
            case "prefix" -> {
                PrefixTuningConfig c = (PrefixTuningConfig) config;
                m.put("numVirtualTokens", c.numVirtualTokens());
                m.put("prefixProjection", c.prefixProjection());
            }
            case "adapter" -> {
                AdapterConfig c = (AdapterConfig) config;
                m.put("reductionFactor", c.reductionFactor());
                m.put("nonLinearity", c.nonLinearity());
                m.put("afterAttention", c.afterAttention());
                m.put("afterMlp", c.afterMlp());
                m.put("dropout", c.dropout());
            }
            default -> { } // full fine-tuning has no config
        }
        return m;
    }

    /** The training fields' defaults: the method's preset learning rate, the sweep's steps and batch size, the trainer's others. */
    static Map<String, Object> trainingDefaults(String method, int steps, int batchSize) {
        TrainConfig d = TrainConfig.builder().build();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("learningRate", Candidate.preset(method).learningRate());
        m.put("steps", steps);
        m.put("batchSize", batchSize);
        m.put("gradientCheckpointing", d.gradientCheckpointing());
        m.put("warmupSteps", d.warmupSteps());
        m.put("weightDecay", d.weightDecay());
        m.put("maxGradNorm", d.maxGradNorm());
        return m;
    }

    @SuppressWarnings("unchecked")
    static List<String> names(Object v) {
        return (List<String>) v;
    }

    static String show(Object value) {
        if (value instanceof String s) {
            return "\"" + s + "\"";
        }
        return String.valueOf(value);
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
