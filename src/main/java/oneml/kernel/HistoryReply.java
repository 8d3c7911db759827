package oneml.kernel;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.dflib.jjava.jupyter.kernel.history.HistoryEntry;
import org.dflib.jjava.jupyter.kernel.history.HistoryManager;
import org.dflib.jjava.jupyter.messages.ContentType;
import org.dflib.jjava.jupyter.messages.MessageType;
import org.dflib.jjava.jupyter.messages.request.HistoryRequest;

/**
 * history_reply with the {@code status} the protocol requires (the base leaves it out) and rows of
 * [session, line, input] or, with output, [session, line, [input, output]]. Serialised by field name.
 */
final class HistoryReply implements ContentType<HistoryReply> {
    @SuppressWarnings({"unused", "FieldCanBeLocal"})
    private final String status = "ok";
    private final List<List<Object>> history = new ArrayList<>();

    private HistoryReply(List<HistoryEntry> entries, boolean withOutput) {
        for (HistoryEntry e : entries) {
            List<Object> row = new ArrayList<>();
            row.add(e.getSession());
            row.add(e.getCellNumber());
            if (withOutput) {
                List<Object> io = new ArrayList<>();
                io.add(e.getInput());
                io.add(e.getOutput());
                row.add(io);
            } else {
                row.add(e.getInput());
            }
            history.add(row);
        }
    }

    /** The answer to a tail, range or search request (raw or transformed input, with or without output). */
    static HistoryReply answer(History history, HistoryRequest request) {
        Set<HistoryManager.ResultFlag> flags = EnumSet.noneOf(HistoryManager.ResultFlag.class);
        if (request.includeOutput()) {
            flags.add(HistoryManager.ResultFlag.INCLUDE_OUTPUT);
        }
        if (!request.useRaw()) {
            flags.add(HistoryManager.ResultFlag.TRANSFORMED_INPUT);
        }
        List<HistoryEntry> entries = switch (request.getAccessType()) {
            case TAIL -> history.lookupTail(((HistoryRequest.Tail) request).getMaxReturnLength(), flags);
            case RANGE -> {
                HistoryRequest.Range r = (HistoryRequest.Range) request;
                yield history.lookupRange(r.getSessionIndex(), r.getStart(), r.getStop(), flags);
            }
            case SEARCH -> {
                HistoryRequest.Search s = (HistoryRequest.Search) request;
                if (s.filterUnique()) {
                    flags.add(HistoryManager.ResultFlag.UNIQUE);
                }
                yield history.search(s.getPattern(), s.getMaxReturnLength(), flags);
            }
        };
        return new HistoryReply(entries, request.includeOutput());
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public MessageType<HistoryReply> getType() {
        return (MessageType) MessageType.HISTORY_REPLY;
    }
}
