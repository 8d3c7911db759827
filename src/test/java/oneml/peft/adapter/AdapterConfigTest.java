package oneml.peft.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import oneml.AdapterConfig;
import oneml.Peft;
import oneml.model.CausalLM;
import org.junit.jupiter.api.Test;

/** Presets, names and the errors a notebook user sees for a bad adapter config. */
class AdapterConfigTest {

    @Test
    void presetsFollowAdapterHub() {
        AdapterConfig p = AdapterConfig.pfeiffer();
        assertEquals(16, p.reductionFactor());
        assertEquals("relu", p.nonLinearity());
        assertFalse(p.afterAttention());
        assertTrue(p.afterMlp());
        assertEquals("mam_adapter", p.initWeights());
        assertEquals(p, AdapterConfig.builder().build(), "Pfeiffer is the default");
        assertEquals("BOTTLENECK", p.peftType());
        assertEquals("Pfeiffer adapter rf=16", p.label());
        assertEquals("AdapterConfig(reduction_factor=16, non_linearity=relu, placement=mlp)", p.toString());

        AdapterConfig h = AdapterConfig.houlsby();
        assertEquals(16, h.reductionFactor());
        assertEquals("swish", h.nonLinearity());
        assertTrue(h.afterAttention() && h.afterMlp());
        assertEquals("Houlsby adapter rf=16", h.label());
        assertEquals("AdapterConfig(reduction_factor=16, non_linearity=swish, placement=attn+mlp)", h.toString());

        AdapterConfig custom = h.toBuilder().reductionFactor(8).nonLinearity("GELU").afterMlp(false).dropout(0.1).initWeights("bert").build();
        assertEquals("gelu", custom.nonLinearity(), "names are case-insensitive");
        assertEquals("Bottleneck adapter rf=8 gelu attn", custom.label());
        assertEquals("AdapterConfig(reduction_factor=8, non_linearity=gelu, placement=attn, init_weights=bert, dropout=0.1)", custom.toString());
        assertTrue(AdapterConfig.builder().nonLinearity("silu").afterAttention(true).build().isSwish());
    }

    @Test
    void badConfigsSayWhatIsWrongAndHowToFixIt() {
        var zero = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().reductionFactor(0).build());
        assertTrue(zero.getMessage().contains("reductionFactor must be positive, got 0"), zero.getMessage());
        var negative = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().reductionFactor(-4).build());
        assertTrue(negative.getMessage().contains("-4"), negative.getMessage());

        var f = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().nonLinearity("sigmoid").build());
        assertTrue(f.getMessage().contains("'sigmoid'") && f.getMessage().contains("relu, swish (silu), gelu or tanh"), f.getMessage());

        var nowhere = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().afterMlp(false).build());
        assertTrue(nowhere.getMessage().contains("afterAttention(true) and/or afterMlp(true)"), nowhere.getMessage());

        var init = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().initWeights("zeros").build());
        assertTrue(init.getMessage().contains("'zeros'") && init.getMessage().contains("mam_adapter"), init.getMessage());

        var dropout = assertThrows(IllegalArgumentException.class, () -> AdapterConfig.builder().dropout(1.0).build());
        assertTrue(dropout.getMessage().contains("[0, 1)"), dropout.getMessage());

        // the bottleneck depends on the model: the tiny reference models have hidden size 32
        try (CausalLM base = Fixtures.load("llama")) {
            var tooBig = assertThrows(IllegalArgumentException.class,
                    () -> Peft.apply(base, AdapterConfig.builder().reductionFactor(64).build()));
            assertTrue(tooBig.getMessage().contains("reductionFactor 64 leaves no bottleneck for hidden size 32"), tooBig.getMessage());
            assertTrue(tooBig.getMessage().contains("at most 32"), tooBig.getMessage());
            assertEquals(1, AdapterConfig.builder().reductionFactor(32).build().bottleneckSize(32));
        }
    }

    @Test
    void jsonRoundTripAndMissingFieldsTakeThePfeifferValues() {
        AdapterConfig custom = AdapterConfig.houlsby().toBuilder().reductionFactor(4).nonLinearity("tanh").dropout(0.05).initWeights("houlsby").build();
        try (CausalLM base = Fixtures.load("llama")) {
            var model = Peft.apply(base, custom);
            JsonObject json = model.adapter("default").toAdapterConfig();
            assertEquals("BOTTLENECK", json.get("peft_type").getAsString());
            assertEquals("CAUSAL_LM", json.get("task_type").getAsString());
            assertEquals(4, json.get("reduction_factor").getAsInt());
            assertTrue(json.get("mh_adapter").getAsBoolean());
            assertTrue(json.get("output_adapter").getAsBoolean());
            assertEquals("sublayer_output", json.get("adapter_input").getAsString());
            assertEquals(custom, BottleneckAdapter.configFromJson(json));
        }
        JsonObject minimal = new JsonObject();
        minimal.addProperty("peft_type", "BOTTLENECK");
        assertEquals(AdapterConfig.pfeiffer(), BottleneckAdapter.configFromJson(minimal));

        JsonObject fraction = new JsonObject();
        fraction.addProperty("reduction_factor", 2.5);
        var e = assertThrows(IllegalArgumentException.class, () -> BottleneckAdapter.configFromJson(fraction));
        assertTrue(e.getMessage().contains("2.5"), e.getMessage());

        JsonObject otherPlacement = new JsonObject();
        otherPlacement.addProperty("adapter_input", "residual_stream");
        var p = assertThrows(IllegalArgumentException.class, () -> BottleneckAdapter.configFromJson(otherPlacement));
        assertTrue(p.getMessage().contains("residual_stream"), p.getMessage());
    }
}
