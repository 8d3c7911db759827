package oneml.compare;

import java.util.Locale;

/** The docs' name and "best for" line of each method family, matched by a comparison entry's name. */
enum MethodFamily {
    FULL("full", "Full fine-tuning", "Maximum quality when memory allows (the baseline)"),
    QLORA("qlora", "QLoRA", "Memory-constrained"),
    DORA("dora", "DoRA", "LoRA quality closer to full fine-tuning (its paper, 7B+ models)"),
    LORA("lora", "LoRA", "General adaptation"),
    IA3("ia3", "IA3", "Very few parameters, mergeable"),
    PROMPT("prompt", "Prompt tuning", "Many tasks on one frozen model (catches full fine-tuning only at billions of parameters)"),
    PREFIX("prefix", "Prefix tuning", "Task-specific prompts"),
    ADAPTER("adapter", "Adapters", "Multi-task learning"),
    OTHER("", "", "");

    private final String key;
    private final String title;
    private final String bestFor;

    MethodFamily(String key, String title, String bestFor) {
        this.key = key;
        this.title = title;
        this.bestFor = bestFor;
    }

    String title() {
        return title;
    }

    String bestFor() {
        return bestFor;
    }

    /** The family whose key starts the name ("qlora-r64" is QLoRA); QLoRA and DoRA are tried before LoRA. */
    static MethodFamily of(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (MethodFamily f : values()) {
            if (f != OTHER && n.startsWith(f.key)) {
                return f;
            }
        }
        return OTHER;
    }
}
