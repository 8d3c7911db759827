package oneml.kernel;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.dflib.jjava.jupyter.kernel.history.HistoryEntry;
import org.dflib.jjava.jupyter.kernel.history.HistoryManager;

/**
 * The inputs (raw and with magics resolved) and text outputs of this kernel's cells, for history_request:
 * tail, range (start inclusive, stop exclusive, as IPython) and glob search ({@code *}, {@code ?}), with
 * unique and n. One session per kernel process, numbered 1; session 0 and negative sessions mean this one.
 */
final class History implements HistoryManager {
    static final int SESSION = 1;

    private record Cell(int line, String raw, String transformed, String output) {}

    private final List<Cell> cells = new ArrayList<>();

    synchronized void add(int line, String raw, String transformed, String output) {
        cells.add(new Cell(line, raw, transformed == null ? raw : transformed, output));
    }

    synchronized int size() {
        return cells.size();
    }

    @Override
    public synchronized List<HistoryEntry> lookupTail(int length, Set<ResultFlag> flags) {
        int from = length <= 0 ? 0 : Math.max(0, cells.size() - length);
        return entries(cells.subList(from, cells.size()), flags);
    }

    @Override
    public synchronized List<HistoryEntry> lookupRange(int session, int start, int stop, Set<ResultFlag> flags) {
        if (session > 0 && session != SESSION) {
            return List.of();
        }
        List<Cell> picked = new ArrayList<>();
        for (Cell c : cells) {
            if (c.line() >= start && (stop <= 0 || c.line() < stop)) {
                picked.add(c);
            }
        }
        return entries(picked, flags);
    }

    @Override
    public synchronized List<HistoryEntry> search(String glob, int length, Set<ResultFlag> flags) {
        Pattern pattern = glob(glob == null || glob.isEmpty() ? "*" : glob);
        boolean unique = flags.contains(ResultFlag.UNIQUE);
        List<Cell> matched = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = cells.size() - 1; i >= 0; i--) { // newest first, so "unique" keeps the latest of each input
            Cell c = cells.get(i);
            if (pattern.matcher(c.raw()).matches() && (!unique || seen.add(c.raw()))) {
                matched.add(0, c);
            }
        }
        if (length > 0 && matched.size() > length) {
            matched = matched.subList(matched.size() - length, matched.size());
        }
        return entries(matched, flags);
    }

    static Pattern glob(String glob) {
        StringBuilder regex = new StringBuilder();
        for (char ch : glob.toCharArray()) {
            switch (ch) {
                case '*' -> regex.append("[\\s\\S]*");
                case '?' -> regex.append("[\\s\\S]");
                default -> regex.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return Pattern.compile(regex.toString());
    }

    private static List<HistoryEntry> entries(List<Cell> cells, Set<ResultFlag> flags) {
        boolean transformed = flags.contains(ResultFlag.TRANSFORMED_INPUT);
        boolean output = flags.contains(ResultFlag.INCLUDE_OUTPUT);
        List<HistoryEntry> out = new ArrayList<>(cells.size());
        for (Cell c : cells) {
            out.add(new HistoryEntry(SESSION, c.line(), transformed ? c.transformed() : c.raw(), output ? c.output() : null));
        }
        return out;
    }
}
