package oneml.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordTokenizerBuilderTest {

    @Test
    void vocabularyIsSpecialTokensThenSortedPieces() {
        List<String> vocab = new WordTokenizerBuilder()
                .addText("The soup was COLD.")
                .addTexts(List.of("hot, cold", "the end?"))
                .vocabulary();
        assertEquals(List.of("<pad>", "<s>", "</s>", "<unk>", ",", ".", "?", "cold", "end", "hot", "soup", "the", "was"),
                vocab);
    }

    @Test
    void writtenTokenizerLoadsInDjlAndRoundTrips(@TempDir Path dir) throws IOException {
        new WordTokenizerBuilder().addText("the soup was cold . mara lives in oslo").writeTo(dir);
        assertTrue(Files.exists(dir.resolve("tokenizer_config.json")));
        assertTrue(Files.exists(dir.resolve("special_tokens_map.json")));
        try (HuggingFaceTokenizer tokenizer = Datasets.openTokenizer(dir.resolve("tokenizer.json"))) {
            Encoding e = tokenizer.encode("The soup was cold. zebra");
            assertEquals(List.of("the", "soup", "was", "cold", ".", "<unk>"), Arrays.asList(e.getTokens()));
            assertEquals(3, e.getIds()[5], "<unk> has id 3");
            assertEquals("the soup was cold .", tokenizer.decode(tokenizer.encode("the soup was cold .").getIds()));
        }
    }

    @Test
    void specialTokensHaveFixedIdsAndBosIsPrependedOnRequest(@TempDir Path dir) throws IOException {
        new WordTokenizerBuilder().addText("hello").writeTo(dir);
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"))) {
            assertArrayEquals(new long[] {1, 4}, tokenizer.encode("hello").getIds());
            assertArrayEquals(new long[] {0, 1, 2, 3}, tokenizer.encode("<pad><s></s><unk>", false, false).getIds());
        }
    }

    @Test
    void longTextIsNotTruncated(@TempDir Path dir) throws IOException {
        new WordTokenizerBuilder().addText("word").writeTo(dir);
        String text = String.join(" ", java.util.Collections.nCopies(3000, "word"));
        try (HuggingFaceTokenizer tokenizer = Datasets.openTokenizer(dir.resolve("tokenizer.json"))) {
            assertEquals(3000, tokenizer.encode(text).getIds().length);
        }
    }

    /** Every line of every shipped task file, and every word of the shipped corpus, round-trips. */
    @Test
    void shippedTokenizerCoversEveryShippedFile() throws IOException {
        List<String> lines = new ArrayList<>();
        for (String task : Datasets.TASKS) {
            for (Example e : Datasets.shipped(task).examples("train")) {
                lines.add(e.prompt() + " " + e.response());
            }
            for (String split : List.of("validation", "test")) {
                Datasets.shipped(task).examples(split).forEach(e -> lines.add(e.prompt() + " " + e.response()));
            }
        }
        Set<String> corpusWords = new TreeSet<>();
        for (String doc : Files.readAllLines(Datasets.corpusFile(), StandardCharsets.UTF_8)) {
            corpusWords.addAll(List.of(doc.split(" ")));
        }
        lines.add(String.join(" ", corpusWords));

        try (HuggingFaceTokenizer tokenizer = Datasets.tokenizer()) {
            Encoding[] encodings = tokenizer.batchEncode(lines);
            for (int i = 0; i < lines.size(); i++) {
                long[] ids = encodings[i].getIds();
                assertTrue(Arrays.stream(ids).noneMatch(id -> id == 3), "<unk> in: " + lines.get(i));
                assertEquals(lines.get(i).split(" ").length, ids.length, "one token per word: " + lines.get(i));
                assertEquals(lines.get(i), tokenizer.decode(ids));
            }
        }
    }
}
