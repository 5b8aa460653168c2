// libFuzzer target: IP fragment reassembly. The input is a sequence of
// records `time step (1) | length (2, big-endian) | raw IP packet`; every
// fragment among them goes to one reassembler, with capture time moving
// forward or back by the step. Released packets must lie inside the
// reassembler's views, and after a flush every fragment added must have been
// released exactly once.
#include <cstddef>
#include <cstdint>

#include "decode/ip_reassembly.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace callwall::decode;
    static IpReassembler r;  // built once: its buffers are allocated once, as in the analyzer
    static uint64_t released = 0;
    static bool wired = false;
    if (!wired) {
        r.set_release_callback([](const IpReassembler::Released& x) {
            released += x.fragments;
            if (x.meta && x.meta->payload.size() > IpReassembler::kMaxDatagramBytes) __builtin_trap();
        });
        wired = true;
    }
    const uint64_t added_before = r.stats().fragments;
    released = 0;
    int64_t ts = 1'000'000'000;
    size_t at = 0;
    while (at + 3 <= size) {
        ts += (static_cast<int8_t>(data[at]) * 250'000);
        const size_t n = std::min<size_t>(size - at - 3, (size_t{data[at + 1]} << 8) | data[at + 2]);
        const callwall::ByteView pkt{data + at + 3, n};
        at += 3 + n;
        PacketMeta m;
        if (!parse_frame(static_cast<uint32_t>(LinkType::Raw), pkt, m).ok || !m.is_fragment) continue;
        r.add(m, ts);
        if ((data[at - 1] & 0x0F) == 0) r.expire(ts);
    }
    r.flush();
    if (released != r.stats().fragments - added_before || r.in_progress() != 0) __builtin_trap();
    return 0;
}
