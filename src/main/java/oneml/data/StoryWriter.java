package oneml.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Short everyday stories on one {@link Topic}: cooking, trips, jobs and pets.
 *
 * <p>When a story names a person it only uses that person's true facts (their own pet, their own
 * job, trips home to their own city), so stories reinforce the facts instead of blurring them.
 * Trips to other cities are always made by anonymous people ("a tourist") for the same reason.
 */
final class StoryWriter {

    private static final Map<Topic, List<String>> ANYONE = Map.of(
            Topic.FOOD, List.of(
                    "{who} made {dish} for dinner .",
                    "{who} had {dish} at the {venue} .",
                    "{who} bought {grocery} and {grocery2} at the market .",
                    "{who} baked fresh bread in the oven .",
                    "the kitchen smelled of warm {dish} .",
                    "{who} had {dish} for lunch .",
                    "{who} added {grocery} to the {dish} .",
                    "{who} was hungry and ordered {dish} .",
                    "for breakfast {who} had {grocery} and {dish} .",
                    "{who} cooked a big pot of stew with {grocery} ."),
            Topic.TRAVEL, List.of(
                    "{stranger} took the train to {place} .",
                    "{stranger} booked a flight to {place} .",
                    "{stranger} packed a suitcase for a trip to {place} .",
                    "{stranger} spent a week in {place} .",
                    "{stranger} visited the old town of {place} .",
                    "{stranger} lost the map on the way to {place} .",
                    "the bus to {place} left late .",
                    "{stranger} bought a ticket to {place} .",
                    "the plane to {place} landed at the airport in the evening .",
                    "{who} showed a passport at the border .",
                    "{who} slept on the long train ride ."),
            Topic.WORK, List.of(
                    "{who} works long hours at the {workplace} .",
                    "{who} has a meeting with the boss at nine .",
                    "{who} finished the report before lunch .",
                    "{who} asked the boss for a day off .",
                    "the {workplace} was busy all week .",
                    "{who} answered emails all morning at the {workplace} .",
                    "the team finished the project on time .",
                    "{who} stayed late at the {workplace} to finish the work ."),
            Topic.PETS, List.of(
                    "{stranger} walked the dog in the park .",
                    "{stranger} fed the {any_pet} .",
                    "the {any_pet} slept all morning .",
                    "{stranger} took the {any_pet} to the vet .",
                    "{stranger} bought a toy for the {any_pet} .",
                    "{stranger} played with the {any_pet} after work .",
                    "the {any_pet} played in the garden all afternoon ."));

    /** Stories that name a person; these may only use that person's own facts. */
    private static final Map<Topic, List<String>> NAMED = Map.of(
            Topic.FOOD, List.of(
                    "{name} made {dish} for dinner .",
                    "{name} had {dish} at the {venue} .",
                    "{name} bought {grocery} and {grocery2} at the market ."),
            Topic.TRAVEL, List.of(
                    "{name} flew home to {city} .",
                    "{name} took the train back home to {city} .",
                    "after a long trip , {name} returned home to {city} ."),
            Topic.WORK, List.of(
                    "{name} went to work early . as {a_job} , {name} is always busy .",
                    "{name} the {job} worked late again .",
                    "at work , {name} the {job} helped a new colleague .",
                    "{name} earned good money as {a_job} this year ."),
            Topic.PETS, List.of(
                    "{name} fed the {pet} before breakfast .",
                    "{name} took the {pet} to the vet .",
                    "the {pet} of {name} slept all day .",
                    "{name} bought a toy for the {pet} ."));

    private final Dice dice;
    private final List<Person> people;

    StoryWriter(Dice dice, List<Person> people) {
        this.dice = dice;
        this.people = people;
    }

    /** One or two sentences on the topic. */
    String story(Topic topic) {
        int sentences = dice.between(1, 2);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < sentences; i++) {
            out.add(sentence(topic));
        }
        return String.join(" ", out);
    }

    private String sentence(Topic topic) {
        if (dice.chance(0.3)) {
            Person person = dice.any(people);
            Map<String, String> slots = new HashMap<>(PersonSentences.slots(person));
            addCommonSlots(slots);
            return Template.fill(dice.any(NAMED.get(topic)), slots);
        }
        Map<String, String> slots = new HashMap<>();
        addCommonSlots(slots);
        return Template.fill(dice.any(ANYONE.get(topic)), slots);
    }

    private void addCommonSlots(Map<String, String> slots) {
        String grocery = dice.any(Lexicon.GROCERIES);
        String grocery2 = dice.any(Lexicon.GROCERIES);
        while (grocery2.equals(grocery)) {
            grocery2 = dice.any(Lexicon.GROCERIES);
        }
        slots.put("who", dice.any(Lexicon.STRANGERS));
        slots.put("stranger", dice.any(Lexicon.STRANGERS));
        slots.put("dish", dice.any(Lexicon.DISHES));
        slots.put("venue", dice.any(Lexicon.VENUE_NAMES) + " " + dice.any(Lexicon.VENUE_KINDS));
        slots.put("grocery", grocery);
        slots.put("grocery2", grocery2);
        slots.put("place", dice.any(Lexicon.CITIES));
        slots.put("workplace", dice.any(Lexicon.WORKPLACES));
        slots.put("any_pet", dice.any(Lexicon.PETS));
    }
}
