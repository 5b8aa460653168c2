// libFuzzer target: live capture's fanout program (capture/fanout.*) against
// the decoder, on one frame. The first byte picks the link type; the rest
// is the frame. The program, run through the model of the kernel
// (unit/capture/cbpf_interp.hpp), must use only what the model knows and
// end with a return; and on every frame the decoder takes whole — nothing
// cut short or longer than its length fields say, one tunnel deep at most —
// it must return the hash of the pair pipeline::shard_pair picks, the pair
// the worker that owns the flow is chosen by.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../unit/capture/cbpf_interp.hpp"
#include "decode/packet.hpp"
#include "capture/fanout.hpp"
#include "pipeline/shards.hpp"

namespace {

using callwall::decode::PacketMeta;

// Frames where the program may rightly go elsewhere than shard_pair: the
// kernel sees the packet whole while the decoder trusts the length fields
// (a field claiming more than is there ends the program's read with 0), and
// the program follows one tunnel where the decoder follows three.
bool comparable(const PacketMeta& m) {
    using namespace callwall::decode;
    constexpr uint32_t kLengths = kAnomalyIpLengthBeyondCapture | kAnomalyUdpLengthMismatch |
                                  kAnomalyIpv4ZeroTotalLength | kAnomalyIpv6ZeroPayloadLength;
    return m.encap_depth <= 1 && !m.snap_truncated && (m.anomalies & kLengths) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static constexpr uint32_t kLinkTypes[] = {1, 1, 1, 1, 113, 276, 101, 0, 108};  // mostly Ethernet
    const uint32_t linktype = kLinkTypes[data[0] % (sizeof kLinkTypes / sizeof kLinkTypes[0])];
    const callwall::ByteView frame{data + 1, size - 1};
    const auto view = callwall::test::kernel_view(linktype, frame);
    if (!view) return 0;
    std::string fault;
    const auto got = callwall::test::try_run_cbpf(callwall::capture::fanout_program(), *view, fault);
    if (!got) __builtin_trap();  // an instruction the model does not know, or no return
    PacketMeta m;
    if (!callwall::decode::parse_frame_ok(linktype, frame, m) || !comparable(m)) return 0;
    const auto [a, b] = callwall::pipeline::shard_pair(m);
    if (*got != callwall::test::pair_hash(*a, *b)) __builtin_trap();
    return 0;
}
