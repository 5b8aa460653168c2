// libFuzzer target: STUN probe/decode (checking that every view stays inside
// the input), ChannelData over UDP and TCP, the transaction tracker and
// ChannelData validator on the decoded message, and the stream framer fed the
// input in three pieces (cuts taken from the first two bytes).
#include <array>
#include <cstddef>
#include <cstdint>

#include "proto/stun.hpp"

using namespace callwall;
namespace stun = proto::stun;

namespace {
void check_inside(ByteView outer, ByteView v) {
    if (!v.empty() && (v.data() < outer.data() || v.data() + v.size() > outer.data() + outer.size())) {
        __builtin_trap();
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in{data, size};
    (void)stun::probe(in);
    if (const auto m = stun::decode(in); m.ok()) {
        if (m->size > size) __builtin_trap();
        for (ByteView v : {m->transaction_id, m->username, m->realm, m->nonce, m->software}) check_inside(in, v);
        if (m->data) check_inside(in, *m->data);
        if (m->error_code) check_inside(in, m->error_code->reason);
        std::array<stun::PendingTransaction, 4> slots{};
        stun::TransactionTracker tracker(slots);
        (void)tracker.on_message(*m, 1);
        (void)tracker.on_message(*m, 2);
        tracker.finish();
        stun::ChannelValidator validator;
        validator.on_message(*m);
    }
    for (bool tcp : {false, true}) {
        if (const auto c = stun::decode_channel_data(in, tcp); c.ok()) {
            if (c->size > size) __builtin_trap();
            check_inside(in, c->payload);
        }
    }
    std::array<uint8_t, 64> buf{};
    stun::StreamFramer framer(buf);
    const size_t cut1 = size == 0 ? 0 : data[0] % (size + 1);
    const size_t cut2 = size < 2 ? cut1 : cut1 + data[1] % (size - cut1 + 1);
    for (ByteView piece : {in.first(cut1), in.subspan(cut1, cut2 - cut1), in.subspan(cut2)}) {
        framer.feed(piece);
        while (const auto f = framer.next()) (void)stun::decode(f->bytes);
    }
    return 0;
}
