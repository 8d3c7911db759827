package oneml.data;

import oneml.io.AtomicFiles;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a word-level tokenizer in Hugging Face {@code tokenizer.json} format from sample text.
 *
 * <p>The tokenizer lower-cases, splits like the {@code Whitespace} pre-tokenizer (runs of word
 * characters, and runs of punctuation), and maps each piece to one id; anything unseen becomes
 * {@code <unk>}. Ids 0-3 are the special tokens {@code <pad> <s> </s> <unk>}; the words follow in
 * sorted order, so the same text always yields the same ids. With DJL's {@code addSpecialTokens}
 * on, {@code <s>} is prepended as Llama does; {@code </s>} is left to the trainer. Decoding joins
 * tokens with single spaces (no decoder is configured, which is what tokenizers does then).
 */
public final class WordTokenizerBuilder {

    public static final String PAD = "<pad>";
    public static final String BOS = "<s>";
    public static final String EOS = "</s>";
    public static final String UNK = "<unk>";
    public static final List<String> SPECIAL_TOKENS = List.of(PAD, BOS, EOS, UNK);

    /** The pieces the Whitespace pre-tokenizer produces: {@code \w+|[^\w\s]+}. */
    private static final Pattern PIECE =
            Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    private final SortedSet<String> words = new TreeSet<>();

    /** Adds every piece of the text, lower-cased, as the tokenizer itself will split it. */
    public WordTokenizerBuilder addText(String text) {
        Matcher m = PIECE.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            words.add(m.group());
        }
        return this;
    }

    public WordTokenizerBuilder addTexts(Iterable<String> texts) {
        texts.forEach(this::addText);
        return this;
    }

    /** The vocabulary in id order: special tokens, then the words sorted. */
    public List<String> vocabulary() {
        List<String> vocab = new ArrayList<>(SPECIAL_TOKENS);
        for (String word : words) {
            if (!SPECIAL_TOKENS.contains(word)) {
                vocab.add(word);
            }
        }
        return Collections.unmodifiableList(vocab);
    }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into a folder. */
    public void writeTo(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), tokenizerJson() + "\n");
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), GSON.toJson(tokenizerConfig()) + "\n");
        AtomicFiles.writeString(dir.resolve("special_tokens_map.json"), GSON.toJson(specialTokensMap()) + "\n");
    }

    /** The content of tokenizer.json. */
    public String tokenizerJson() {
        List<String> vocabulary = vocabulary();
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", JsonNull.INSTANCE);
        root.add("padding", JsonNull.INSTANCE);
        JsonArray added = new JsonArray();
        for (int id = 0; id < SPECIAL_TOKENS.size(); id++) {
            JsonObject token = new JsonObject();
            token.addProperty("id", id);
            token.addProperty("content", SPECIAL_TOKENS.get(id));
            token.addProperty("single_word", false);
            token.addProperty("lstrip", false);
            token.addProperty("rstrip", false);
            token.addProperty("normalized", false);
            token.addProperty("special", true);
            added.add(token);
        }
        root.add("added_tokens", added);
        root.add("normalizer", type("Lowercase"));
        root.add("pre_tokenizer", type("Whitespace"));
        root.add("post_processor", prependBos(vocabulary.indexOf(BOS)));
        root.add("decoder", JsonNull.INSTANCE);
        JsonObject model = type("WordLevel");
        JsonObject vocab = new JsonObject();
        for (int id = 0; id < vocabulary.size(); id++) {
            vocab.addProperty(vocabulary.get(id), id);
        }
        model.add("vocab", vocab);
        model.addProperty("unk_token", UNK);
        root.add("model", model);
        return GSON.toJson(root);
    }

    /** Llama's template: "<s> $A" for one sequence, "<s> $A <s> $B" for a pair. */
    private static JsonObject prependBos(int bosId) {
        JsonObject processor = type("TemplateProcessing");
        JsonArray single = new JsonArray();
        single.add(special(0));
        single.add(sequence("A", 0));
        JsonArray pair = new JsonArray();
        pair.add(special(0));
        pair.add(sequence("A", 0));
        pair.add(special(1));
        pair.add(sequence("B", 1));
        processor.add("single", single);
        processor.add("pair", pair);
        JsonObject bos = new JsonObject();
        bos.addProperty("id", BOS);
        JsonArray ids = new JsonArray();
        ids.add(bosId);
        bos.add("ids", ids);
        JsonArray tokens = new JsonArray();
        tokens.add(BOS);
        bos.add("tokens", tokens);
        JsonObject specials = new JsonObject();
        specials.add(BOS, bos);
        processor.add("special_tokens", specials);
        return processor;
    }

    private static JsonObject special(int typeId) {
        JsonObject inner = new JsonObject();
        inner.addProperty("id", BOS);
        inner.addProperty("type_id", typeId);
        JsonObject outer = new JsonObject();
        outer.add("SpecialToken", inner);
        return outer;
    }

    private static JsonObject sequence(String id, int typeId) {
        JsonObject inner = new JsonObject();
        inner.addProperty("id", id);
        inner.addProperty("type_id", typeId);
        JsonObject outer = new JsonObject();
        outer.add("Sequence", inner);
        return outer;
    }

    private static JsonObject type(String type) {
        JsonObject obj = new JsonObject();
        obj.addProperty("type", type);
        return obj;
    }

    /** For transformers' AutoTokenizer; DJL needs only tokenizer.json. */
    private static JsonObject tokenizerConfig() {
        JsonObject config = specialTokensMap();
        config.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        config.addProperty("add_bos_token", true);
        config.addProperty("add_eos_token", false);
        config.addProperty("clean_up_tokenization_spaces", false);
        return config;
    }

    private static JsonObject specialTokensMap() {
        JsonObject map = new JsonObject();
        map.addProperty("bos_token", BOS);
        map.addProperty("eos_token", EOS);
        map.addProperty("unk_token", UNK);
        map.addProperty("pad_token", PAD);
        return map;
    }
}
