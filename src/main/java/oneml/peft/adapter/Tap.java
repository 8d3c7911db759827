package oneml.peft.adapter;

/**
 * The two places in a block where a bottleneck adapter sits, named as AdapterHub names the modules that
 * hold them ({@code attention_adapters}, {@code output_adapters}); the names appear in the file keys.
 */
enum Tap {
    ATTENTION("attention_adapters"),
    MLP("output_adapters");

    final String moduleName;

    Tap(String moduleName) {
        this.moduleName = moduleName;
    }
}
