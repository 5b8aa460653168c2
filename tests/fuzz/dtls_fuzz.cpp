// libFuzzer target: DTLS probe/decode, checking that every record fragment
// and ClientHello view stays inside the input.
#include <cstddef>
#include <cstdint>

#include "proto/dtls.hpp"

using namespace callwall;

namespace {
void check_inside(ByteView outer, ByteView v) {
    if (!v.empty() && (v.data() < outer.data() || v.data() + v.size() > outer.data() + outer.size())) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in{data, size};
    const bool probed = proto::dtls::probe(in);
    const auto d = proto::dtls::decode(in);
    if (probed && !d.ok()) __builtin_trap();  // probe() promises a whole first record
    if (!d.ok()) return 0;
    for (const auto& r : d->records) check_inside(in, r.fragment);
    if (d->records.size() > d->record_count) __builtin_trap();
    if (const auto& ch = d->client_hello_info) {
        for (ByteView v : {ch->random, ch->session_id, ch->cookie, ch->server_name, ch->first_alpn})
            check_inside(in, v);
    }
    return 0;
}
