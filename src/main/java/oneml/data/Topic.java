package oneml.data;

import java.util.Locale;

/** The labels of the topic task; each label is a single word that also occurs in the corpus. */
enum Topic {
    FOOD, TRAVEL, WORK, PETS;

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
