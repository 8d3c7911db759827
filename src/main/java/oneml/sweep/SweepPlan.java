package oneml.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The trials a sweep will run, listed before anything runs: {@code sweep.plan().count()} and {@code .table()} say what a
 * sweep costs; trials whose config refuses the combination are listed with the reason (they become FAILED rows).
 */
public record SweepPlan(List<Trial> trials, int seeds) {

    public SweepPlan {
        trials = List.copyOf(trials);
    }

    public int count() {
        return trials.size();
    }

    /** Trials per space name, in plan order. */
    public Map<String, Integer> countsByName() {
        Map<String, Integer> m = new LinkedHashMap<>();
        trials.forEach(t -> m.merge(t.name(), 1, Integer::sum));
        return m;
    }

    /**
     * Per space name (in plan order), every field and its distinct values in plan order (as rows show them: 0.002, 16,
     * q_proj,v_proj, true); a field with more than one value is swept, the others are fixed.
     */
    public Map<String, Map<String, List<String>>> values() {
        Map<String, Map<String, Set<String>>> m = new LinkedHashMap<>();
        for (Trial t : trials) {
            Map<String, Set<String>> fields = m.computeIfAbsent(t.name(), k -> new LinkedHashMap<>());
            t.config().forEach((k, v) -> fields.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(Trial.show(v)));
            t.training().forEach((k, v) -> fields.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(Trial.show(v)));
        }
        Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
        m.forEach((name, fields) -> {
            Map<String, List<String>> f = new LinkedHashMap<>();
            fields.forEach((k, v) -> f.put(k, List.copyOf(v)));
            out.put(name, f);
        });
        return out;
    }

    /** The trial with this id. */
    public Trial trial(String id) {
        return trials.stream().filter(t -> t.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no trial '" + id + "' in this plan"));
    }

    /** One row per trial: id, name, method, seed, every field, and the planning problem if any. */
    public Table table() {
        Set<String> fields = new LinkedHashSet<>();
        trials.forEach(t -> {
            fields.addAll(t.config().keySet());
            fields.addAll(t.training().keySet());
        });
        StringColumn id = StringColumn.create("trial");
        StringColumn name = StringColumn.create("name");
        StringColumn method = StringColumn.create("method");
        LongColumn seed = LongColumn.create("seed");
        List<StringColumn> values = new ArrayList<>();
        fields.forEach(f -> values.add(StringColumn.create(f)));
        StringColumn problem = StringColumn.create("problem");
        for (Trial t : trials) {
            id.append(t.id());
            name.append(t.name());
            method.append(t.method());
            seed.append(t.seed());
            for (StringColumn c : values) {
                Object v = t.config().containsKey(c.name()) ? t.config().get(c.name()) : t.training().get(c.name());
                c.append(v == null ? "" : Trial.show(v));
            }
            problem.append(t.problem() == null ? "" : t.problem());
        }
        Table table = Table.create(String.format(Locale.ROOT, "sweep plan: %d trials", count()), id, name, method, seed);
        values.forEach(table::addColumns);
        return table.addColumns(problem);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "Sweep plan: %d trials (%s), %d %s each%n", count(),
                String.join(", ", countsByName().entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).toList()), seeds,
                seeds == 1 ? "seed" : "seeds"));
        trials.forEach(t -> s.append("  ").append(t).append('\n'));
        return s.toString().stripTrailing();
    }
}
