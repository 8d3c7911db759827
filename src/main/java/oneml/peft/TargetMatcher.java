package oneml.peft;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import oneml.model.CausalLM;
import oneml.model.ModelConfig;

/** Which modules a config's target_modules select, matched as Hugging Face PEFT matches them. */
public final class TargetMatcher {
    private static final Pattern LAYER_INDEX = Pattern.compile("\\.(?:layers|h)\\.(\\d+)\\.");

    private TargetMatcher() {}

    /**
     * LoRA's default targets for the model's {@code model_type}, as PEFT's
     * TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING lists them (every LoRA-like method shares it).
     */
    public static List<String> defaultTargets(ModelConfig config) {
        return switch (config.modelType()) {
            case "gpt2" -> List.of("c_attn");
            case "llama", "mistral", "qwen2" -> List.of("q_proj", "v_proj");
            default -> throw noDefault(config, "LoRA");
        };
    }

    /** IA3's default targets, PEFT's TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING (Qwen2 differs from Llama). */
    public static List<String> defaultIa3Targets(ModelConfig config) {
        return switch (config.modelType()) {
            case "gpt2" -> List.of("c_attn", "mlp.c_proj");
            case "llama", "mistral" -> List.of("k_proj", "v_proj", "down_proj");
            case "qwen2" -> List.of("q_proj", "v_proj", "down_proj");
            default -> throw noDefault(config, "IA3");
        };
    }

    /** IA3's default feed-forward modules, PEFT's TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING. */
    public static List<String> defaultIa3Feedforward(ModelConfig config) {
        return switch (config.modelType()) {
            case "gpt2" -> List.of("mlp.c_proj");
            case "llama", "mistral", "qwen2" -> List.of("down_proj");
            default -> throw noDefault(config, "IA3");
        };
    }

    private static IllegalArgumentException noDefault(ModelConfig config, String method) {
        return new IllegalArgumentException("PEFT has no default " + method + " target modules for model_type '" + config.modelType()
                + "'; name them (target_modules, or --target-modules on the command line)");
    }

    /**
     * Linear module paths selected by suffix names (or "all-linear") or a full-match regex, restricted to
     * {@code layers} when non-empty. Nothing selected is an error that lists the module names that exist.
     */
    public static List<String> select(CausalLM model, List<String> names, String regex, List<Integer> layers) {
        Collection<String> linear = model.linears().keySet();
        List<String> wanted = names.isEmpty() && regex == null ? defaultTargets(model.config()) : names;
        Pattern pattern = null;
        if (regex != null) {
            try {
                pattern = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("target_modules regex '" + regex + "' is invalid: " + e.getDescription());
            }
        }
        List<String> selected = new ArrayList<>();
        Set<String> unmatched = new LinkedHashSet<>(wanted);
        for (String path : linear) {
            boolean hit;
            if (pattern != null) {
                hit = pattern.matcher(path).matches();
            } else if (wanted.size() == 1 && wanted.get(0).equals("all-linear")) {
                hit = true;
                unmatched.clear();
            } else {
                hit = false;
                for (String name : wanted) {
                    if (path.equals(name) || path.endsWith("." + name)) {
                        hit = true;
                        unmatched.remove(name);
                    }
                }
            }
            if (hit && (layers.isEmpty() || layers.contains(layerIndex(path)))) {
                selected.add(path);
            }
        }
        if (selected.isEmpty() || (pattern == null && !unmatched.isEmpty())) {
            String what = pattern != null ? "regex '" + regex + "'" : (unmatched.isEmpty() ? wanted : unmatched).toString();
            throw new IllegalArgumentException("target modules " + what + " not found in the " + model.config().modelType()
                    + " model" + (layers.isEmpty() ? "" : " (layers_to_transform " + layers + ")")
                    + ". Linear modules that exist: " + shortNames(linear) + " (full paths such as " + linear.iterator().next() + ")");
        }
        return selected;
    }

    /** The distinct last path components, e.g. [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]. */
    public static Set<String> shortNames(Collection<String> paths) {
        Set<String> names = new LinkedHashSet<>();
        for (String p : paths) {
            names.add(p.substring(p.lastIndexOf('.') + 1));
        }
        return names;
    }

    /** The transformer layer a path belongs to, or -1 for modules outside the blocks. */
    public static int layerIndex(String path) {
        Matcher m = LAYER_INDEX.matcher(path);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** PEFT's rank_pattern / alpha_pattern lookup: the first key matching the end of the path wins. */
    public static <T> T patternValue(Map<String, T> patterns, String path, T fallback) {
        for (var e : patterns.entrySet()) {
            if (Pattern.compile("(.*\\.)?" + e.getKey() + "$").matcher(path).matches()) {
                return e.getValue();
            }
        }
        return fallback;
    }
}
