package oneml.data;

import java.util.List;

/**
 * The closed word lists of the synthetic world.
 *
 * <p>Every word is lower case and purely alphabetic, so a whitespace tokenizer sees exactly one
 * token per word. The lists are disjoint where a word would otherwise carry two meanings (no
 * person is called "rose", no food is called "orange"), which keeps the facts unambiguous for a
 * small word-level model. {@code LexiconTest} checks this.
 */
final class Lexicon {

    private Lexicon() {}

    /** One person per name; the order is fixed so a seed always yields the same people. */
    static final List<String> NAMES = List.of(
            "mara", "tomas", "lena", "oskar", "nina", "felix", "ida", "hugo", "vera", "emil",
            "clara", "anton", "freya", "jonas", "lina", "milo", "elsa", "bruno", "greta", "otto",
            "alma", "leon", "iris", "nils", "tilda", "arne", "sofia", "karl", "maja", "erik",
            "hanna", "lars", "selma", "viktor", "ebba", "axel", "stina", "rasmus", "thea", "jakob",
            "noor", "samir", "leila", "omar", "yara", "tariq", "amira", "karim", "zara", "idris",
            "priya", "ravi", "anika", "dev", "meera", "arjun", "kavya", "rohan", "sana", "vikram",
            "mei", "chen", "lian", "bo", "yuki", "kenji", "aiko", "hiro", "sora", "ren",
            "ana", "pablo", "lucia", "diego", "carmen", "mateo", "elena", "javier", "rosa", "marco",
            "giulia", "luca", "chiara", "paolo", "sara", "enzo", "bianca", "dario", "nadia", "ivan",
            "olga", "pavel", "katya", "boris", "irina", "yuri", "tanya", "dmitri", "zoe", "liam",
            "ella", "noah", "mia", "owen", "ava", "ethan", "lily", "jude", "finn", "cora",
            "theo", "nora", "eli", "isla", "reid", "maeve", "declan", "niamh", "cian", "aoife",
            "rory", "siobhan", "kwame", "ama", "kofi", "abena", "yaw", "efua", "kojo", "adwoa",
            "chidi", "ngozi", "emeka", "amaka", "tunde", "bisi", "femi", "funmi", "jomo", "wanjiru",
            "baraka", "zawadi", "amani", "juma", "halima", "musa", "fatima", "ali", "hassan", "layla",
            "youssef", "salma", "malik", "rania", "tomasz", "agata", "piotr", "zofia", "marek", "kasia",
            "jan", "ola", "henrik", "birgit", "sven", "ingrid", "magnus", "sigrid", "astrid", "bjorn",
            "liv", "kai", "nalu", "keoni", "leilani", "mana", "tane", "aroha", "wiremu", "hemi",
            "anahera", "pita", "kiri", "mateus", "beatriz", "rafael", "ines", "tiago", "joana", "caio",
            "lucas", "julia", "gabriel", "marta", "rita", "ruben", "nuno", "vasco", "leonor", "duarte");

    static final List<String> CITIES = List.of(
            "oslo", "lima", "cairo", "paris", "rome", "tokyo", "delhi", "lagos", "quito", "dublin",
            "vienna", "madrid", "berlin", "athens", "prague", "nairobi", "seoul", "hanoi", "bergen",
            "porto", "riga", "tunis", "dakar", "accra", "kyoto", "bogota", "havana", "lisbon",
            "warsaw", "zurich");

    static final List<String> JOBS = List.of(
            "baker", "teacher", "doctor", "farmer", "pilot", "nurse", "painter", "chef", "driver",
            "tailor", "builder", "writer", "singer", "dancer", "lawyer", "dentist", "plumber",
            "gardener", "librarian", "engineer", "carpenter", "potter", "judge", "barber");

    static final List<String> PETS = List.of(
            "cat", "dog", "rabbit", "parrot", "hamster", "goldfish", "turtle", "horse", "goat",
            "lizard", "ferret", "canary");

    static final List<String> COLOURS = List.of(
            "red", "blue", "green", "yellow", "orange", "purple", "pink", "black", "white", "brown",
            "grey", "silver");

    static final List<String> INSTRUMENTS = List.of(
            "piano", "guitar", "violin", "drums", "flute", "harp", "trumpet", "cello");

    /** Singular dishes, so "the soup was ..." is always grammatical. */
    static final List<String> DISHES = List.of(
            "soup", "bread", "cake", "pizza", "pasta", "curry", "stew", "burger", "pie", "salad",
            "sushi", "omelette", "sandwich", "porridge", "risotto", "lasagne", "coffee", "tea",
            "rice", "cheese");

    /** First word of a venue name: "the harbor cafe". */
    static final List<String> VENUE_NAMES = List.of(
            "harbor", "corner", "garden", "river", "station", "village", "bridge", "hill", "lake",
            "castle", "mill", "square");

    static final List<String> VENUE_KINDS = List.of(
            "cafe", "diner", "bistro", "inn", "bakery", "kitchen", "grill", "hotel");

    static final List<String> SHOWS = List.of(
            "film", "play", "show", "concert", "book", "novel", "album", "musical");

    static final List<String> PRODUCTS = List.of(
            "lamp", "kettle", "chair", "bag", "umbrella", "phone", "clock", "desk", "bike",
            "jacket", "radio", "camera", "mug", "pen", "bottle", "backpack", "blanket", "sofa",
            "tent", "watch");

    /** The people who serve a guest; reviews judge them with the SERVICE words. */
    static final List<String> SERVICE = List.of("service", "waiter", "staff", "host", "cook");

    /** The rooms of a stay; reviews judge them with the ROOM words. */
    static final List<String> ROOMS = List.of("room", "suite", "cabin", "apartment");

    // Sentiment words, grouped by what they can describe, so reviews stay grammatical and plausible.
    static final List<String> FOOD_GOOD = List.of(
            "tasty", "fresh", "delicious", "crisp", "tender", "rich", "hearty", "flavourful");
    static final List<String> FOOD_BAD = List.of(
            "bland", "stale", "greasy", "soggy", "burnt", "salty", "cold", "watery");
    static final List<String> SHOW_GOOD = List.of(
            "gripping", "moving", "funny", "clever", "charming", "beautiful", "exciting", "witty");
    static final List<String> SHOW_BAD = List.of(
            "boring", "dull", "silly", "predictable", "slow", "confusing", "tedious", "clumsy");
    static final List<String> PRODUCT_GOOD = List.of(
            "sturdy", "handy", "reliable", "comfortable", "solid", "sleek", "durable", "useful");
    static final List<String> PRODUCT_BAD = List.of(
            "flimsy", "broken", "noisy", "leaky", "fragile", "useless", "uncomfortable", "wobbly");
    static final List<String> SERVICE_GOOD = List.of(
            "friendly", "helpful", "polite", "quick", "attentive", "cheerful");
    static final List<String> SERVICE_BAD = List.of(
            "rude", "careless", "lazy", "grumpy", "unfriendly", "sloppy");
    static final List<String> ROOM_GOOD = List.of(
            "clean", "cosy", "spacious", "quiet", "tidy", "bright");
    static final List<String> ROOM_BAD = List.of(
            "dirty", "cramped", "messy", "noisy", "shabby", "gloomy");
    static final List<String> GENERAL_GOOD = List.of(
            "good", "great", "lovely", "excellent", "wonderful", "perfect", "superb", "fantastic",
            "amazing", "nice", "pleasant", "brilliant");
    static final List<String> GENERAL_BAD = List.of(
            "bad", "awful", "terrible", "horrible", "poor", "dreadful", "disappointing", "nasty",
            "mediocre", "miserable", "sad", "weak");

    /** Pairs stated as "hot is the opposite of cold ." in the corpus; each word has one partner. */
    static final List<List<String>> OPPOSITES = List.of(
            List.of("hot", "cold"), List.of("big", "small"), List.of("tall", "short"),
            List.of("old", "young"), List.of("fast", "slow"), List.of("happy", "sad"),
            List.of("heavy", "light"), List.of("bright", "dark"), List.of("open", "closed"),
            List.of("early", "late"), List.of("full", "empty"), List.of("wet", "dry"),
            List.of("rich", "poor"), List.of("hard", "soft"), List.of("loud", "quiet"),
            List.of("clean", "dirty"), List.of("strong", "weak"), List.of("good", "bad"),
            List.of("easy", "difficult"), List.of("cheap", "expensive"), List.of("high", "low"),
            List.of("thick", "thin"), List.of("near", "far"), List.of("up", "down"),
            List.of("day", "night"), List.of("left", "right"), List.of("first", "last"),
            List.of("sweet", "sour"), List.of("safe", "dangerous"), List.of("warm", "cool"),
            List.of("brave", "scared"), List.of("kind", "cruel"), List.of("win", "lose"),
            List.of("buy", "sell"), List.of("push", "pull"), List.of("arrive", "leave"),
            List.of("north", "south"), List.of("east", "west"), List.of("summer", "winter"),
            List.of("inside", "outside"));

    /** Anonymous subjects for stories that must not add facts about named people. */
    static final List<String> STRANGERS = List.of(
            "a tourist", "the family", "my aunt", "my uncle", "an old friend", "a young couple",
            "the students", "my neighbour", "a stranger", "the old man", "a young woman",
            "my cousin", "the team", "a traveller", "the children");

    static final List<String> WORKPLACES = List.of(
            "office", "factory", "shop", "school", "hospital", "studio", "workshop", "farm");

    static final List<String> GROCERIES = List.of(
            "apples", "eggs", "milk", "butter", "flour", "onions", "carrots", "potatoes", "beans",
            "lemons", "honey", "noodles", "tomatoes", "grapes", "pears");
}
