package oneml.data;

/**
 * One row of a downstream task. The prompt ends with ":" and the response is the text that
 * follows it; a trainer joins them with a single space.
 */
public record Example(String prompt, String response) {}
