package oneml.sweep;

import com.google.gson.JsonObject;
import oneml.io.JsonFields;

/**
 * What every trial of a sweep shares and a child JVM needs to run one: the base model (a Hugging Face folder, or null
 * for the embedded default), the data (a shipped task, a folder or one file, as {@code --data} takes it) and how a
 * trial is scored. Plain strings and numbers, so a trial can run in another process (or, later, on another machine).
 *
 * @param checkpointEvery resumable checkpoints every this many steps (0: none); it does not change a trial's numbers,
 *                        so it is not part of a trial's id
 */
record Setup(String model, String data, int evalEvery, int evalLimit, int maxNewTokens, int checkpointEvery) {

    /** The part of the setup a trial's numbers depend on, for its id. */
    JsonObject identity() {
        JsonObject o = new JsonObject();
        o.addProperty("model", model == null ? "<embedded oneml-tiny>" : model);
        o.addProperty("data", data);
        o.addProperty("evalEvery", evalEvery);
        o.addProperty("evalLimit", evalLimit);
        o.addProperty("maxNewTokens", maxNewTokens);
        return o;
    }

    JsonObject toJson() {
        JsonObject o = identity();
        if (model == null) {
            o.remove("model");
        }
        o.addProperty("checkpointEvery", checkpointEvery);
        return o;
    }

    static Setup fromJson(JsonObject o) {
        return new Setup(JsonFields.string(o, "model", null), JsonFields.string(o, "data", "sentiment"), JsonFields.integer(o, "evalEvery", 0),
                JsonFields.integer(o, "evalLimit", 0), JsonFields.integer(o, "maxNewTokens", 8), JsonFields.integer(o, "checkpointEvery", 0));
    }
}
