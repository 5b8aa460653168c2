// libFuzzer target: DNS probe/decode (unicast and mDNS dialects), every decoded name and SVCB alpn list, and the TCP framer
// fed the input in two pieces (split at a position taken from the first byte).
#include <cstddef>
#include <cstdint>

#include "callwall/proto/dns.hpp"

using namespace callwall;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in{data, size};
    (void)proto::dns::probe_tcp(in);
    for (const auto dialect : {proto::dns::Dialect::Dns, proto::dns::Dialect::Mdns}) {
        (void)proto::dns::probe(in, dialect);
        if (const auto r = proto::dns::decode(in, dialect); r.ok()) {
            size_t sink = r->name(r->question.qname).size();
            for (const auto& a : r->answers) {
                sink += r->name(a.name).size() + r->name(a.target).size() + a.rdata.size();
                for (const ByteView id : proto::dns::alpn_ids(a.alpn)) sink += id.size();
                if (!a.address.empty() && a.address.size() != 4 && a.address.size() != 16) {
                    __builtin_trap();
                }
            }
            if (sink > r->length + proto::dns::kNameArenaBytes * 64) __builtin_trap();
        }
    }
    static proto::dns::TcpFramer framer;
    framer.reset();
    const size_t cut = size == 0 ? 0 : data[0] % (size + 1);
    auto on_message = [](ByteView m) { (void)proto::dns::decode(m); };
    framer.feed(in.first(cut), on_message);
    framer.feed(in.subspan(cut), on_message);
    return 0;
}
