package oneml.kernel;

import java.util.List;
import org.dflib.jjava.jupyter.kernel.HelpLink;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.messages.reply.KernelInfoReply;

/** kernel_info_reply with the {@code status} the protocol requires (the base leaves it out). */
final class KernelInfo extends KernelInfoReply {
    @SuppressWarnings("unused")
    private final String status = "ok";

    KernelInfo(String protocol, String name, String version, LanguageInfo info, String banner, List<HelpLink> links) {
        super(protocol, name, version, info, banner, links);
    }
}
