// libFuzzer target: link/IP/transport/ICMP decoding of one frame. The first
// byte picks the link type; the rest is the frame. For Ethernet, the fast
// path and the general path must agree field by field.
#include <cstddef>
#include <cstdint>

#include "decode/packet.hpp"
#include "../unit/decode/packet_meta_equal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static constexpr uint32_t kLinkTypes[] = {0, 1,  12, 101, 108, 113, 228, 229, 276,
                                              9, 50, 51, 239, 104, 105, 127, 192};
    const uint32_t linktype = kLinkTypes[data[0] % (sizeof kLinkTypes / sizeof kLinkTypes[0])];
    const callwall::ByteView frame{data + 1, size - 1};
    auto r = callwall::decode::parse_frame(linktype, frame);
    if (r) {
        // Every view must lie inside the frame.
        const auto& p = r->payload;
        if (!p.empty() && (p.data() < frame.data() || p.data() + p.size() > frame.data() + frame.size()))
            __builtin_trap();
        const auto& fi = r->frag_ip;
        if (!fi.empty() && (fi.data() < frame.data() || fi.data() + fi.size() > frame.data() + frame.size()))
            __builtin_trap();
        if (r->is_fragment != !fi.empty() && r->encap == callwall::decode::Encap::None) __builtin_trap();
    }
    if (linktype == 1) {
        // The Ethernet fast path must decode exactly as the general path.
        callwall::decode::PacketMeta fast, general;
        const auto a = callwall::decode::parse_frame(linktype, frame, fast);
        const auto b = callwall::decode::parse_ethernet(frame, general);
        if (a.ok != b.ok || (a.ok && !callwall::test::same_meta(fast, general))) __builtin_trap();
    }
    return 0;
}
