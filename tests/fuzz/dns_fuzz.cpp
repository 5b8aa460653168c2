// libFuzzer target: DNS probe/decode (unicast and mDNS dialects), every decoded name and SVCB alpn list, decode_into
// into a Message reused from input to input against decode, and the TCP framer fed the input in two pieces (split at a
// position taken from the first byte).
#include <cstddef>
#include <cstdint>

#include "proto/dns.hpp"

using namespace callwall;

namespace {
// decode_into into the one Message it reuses from input to input (as the
// packet path does) gives what decode gives: the fields that reach rows.
void check_reuse(const proto::dns::Message& a, const proto::dns::Message& b) {
    bool same = a.header.id == b.header.id && a.header.qr == b.header.qr && a.header.rcode == b.header.rcode &&
                a.header.ancount == b.header.ancount && a.has_question == b.has_question &&
                a.name(a.question.qname) == b.name(b.question.qname) && a.question.qtype == b.question.qtype &&
                a.answers.size() == b.answers.size() && a.answers.overflowed() == b.answers.overflowed() &&
                a.answers_truncated == b.answers_truncated && a.has_edns == b.has_edns &&
                a.extended_rcode == b.extended_rcode && a.length == b.length && a.anomalies == b.anomalies &&
                a.name_arena_used == b.name_arena_used;
    for (size_t i = 0; same && i < a.answers.size(); ++i) {
        const auto &x = a.answers[i], &y = b.answers[i];
        same = a.name(x.name) == b.name(y.name) && x.type == y.type && x.ttl_s == y.ttl_s &&
               x.rdata.data() == y.rdata.data() && x.rdata.size() == y.rdata.size() &&
               x.address.data() == y.address.data() && a.name(x.target) == b.name(y.target) && x.port == y.port &&
               x.alpn.data() == y.alpn.data() && x.alpn.size() == y.alpn.size();
    }
    if (!same) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in{data, size};
    static proto::dns::Message reused;
    (void)proto::dns::probe_tcp(in);
    for (const auto dialect : {proto::dns::Dialect::Dns, proto::dns::Dialect::Mdns}) {
        (void)proto::dns::probe(in, dialect);
        const auto r = proto::dns::decode(in, dialect);
        if (proto::dns::decode_into(in, dialect, reused) != r.ok()) __builtin_trap();
        if (r.ok()) check_reuse(reused, *r);
        if (r.ok()) {
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
