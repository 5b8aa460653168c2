// The run's notes on its input, in words. See pipeline/run_notes.hpp.
#include "pipeline/run_notes.hpp"

#include <cstdio>

#include "decode/layers.hpp"
#include "util/clock.hpp"

namespace callwall::pipeline {
namespace {

void note_clock(std::string& notes, uint64_t jumps, int64_t max_us) {
    if (!jumps) return;
    char line[256];
    std::snprintf(line, sizeof line,
                  "clock: capture time went back %llu times (largest jump %.6f s); flows keep each packet's own "
                  "time and idle expiry followed the latest time seen, so a packet from the past did not make "
                  "its flow look idle\n",
                  static_cast<unsigned long long>(jumps), util::us_to_s(max_us));
    notes += line;
}

void note_encapsulations(std::string& notes, const UndecodedKinds& undecoded) {
    std::string kinds;
    for (int k = 1; k < decode::kEncapKinds; ++k) {
        if (!undecoded.in[k]) continue;
        char part[64];
        std::snprintf(part, sizeof part, "%s%llu in %s", kinds.empty() ? "" : ", ",
                      static_cast<unsigned long long>(undecoded.in[k]),
                      std::string(decode::to_string(static_cast<decode::Encap>(k))).c_str());
        kinds += part;
    }
    if (kinds.empty()) return;
    notes +=
        "encapsulations not decoded: packets whose tunnel, label stack or PPP session carried what callwall does not "
        "read (another protocol inside, headers cut short), counted in undecoded_packets: " +
        kinds + "\n";
}

void note_decode_limits(std::string& notes, const UndecodedKinds& undecoded) {
    if (undecoded.encap_too_deep)
        notes += "decode: " + std::to_string(undecoded.encap_too_deep) +
                 " frames not decoded: tunnels nested deeper than " + std::to_string(decode::kMaxEncapDepth) +
                 " (GRE, ERSPAN, VXLAN, IP in IP)\n";
    if (undecoded.ext_headers_too_many)
        notes += "decode: " + std::to_string(undecoded.ext_headers_too_many) + " frames not decoded: more than " +
                 std::to_string(decode::detail::kMaxExtHeaders) + " IPv6 extension headers\n";
}

void note_wlan(std::string& notes, const UndecodedKinds& undecoded) {
    const struct {
        uint64_t frames;
        const char* what;
    } lines[] = {
        {undecoded.wlan_not_data,
         "management, control and null data frames skipped (no IP packet in them), counted in "
         "undecoded_packets"},
        {undecoded.wlan_protected,
         "protected data frames not decoded: encrypted by the network (WPA2/WPA3, WEP) and the "
         "capture holds them undecrypted, so their traffic is in no flow and no verdict; capture on "
         "the wired side of the access point or on a host to see it"},
        {undecoded.wlan_amsdu, "A-MSDU frames not decoded: several packets aggregated in one frame"},
    };
    for (const auto& n : lines)
        if (n.frames) notes += "802.11: " + std::to_string(n.frames) + " " + n.what + "\n";
}

}  // namespace

void note_fragments(std::string& notes, const decode::ReassemblyStats& st) {
    const uint64_t incomplete = st.timed_out + st.evicted + st.flushed;
    if (!incomplete && !st.unattributed) return;
    char line[512];
    std::snprintf(line, sizeof line,
                  "fragments: %llu IP datagrams reassembled, %llu not (%llu timed out, %llu pushed out with %zu in "
                  "progress, %llu unfinished at the end; of these %llu overlapping IPv6, %llu invalid, %llu cut by "
                  "the snaplen): their first fragments were decoded alone; %llu fragments without their first "
                  "fragment (orphan_fragments)\n",
                  static_cast<unsigned long long>(st.completed), static_cast<unsigned long long>(incomplete),
                  static_cast<unsigned long long>(st.timed_out), static_cast<unsigned long long>(st.evicted),
                  decode::IpReassembler::kMaxDatagrams, static_cast<unsigned long long>(st.flushed),
                  static_cast<unsigned long long>(st.overlaps), static_cast<unsigned long long>(st.invalid),
                  static_cast<unsigned long long>(st.cut), static_cast<unsigned long long>(st.unattributed));
    notes += line;
}

void note_input(std::string& notes, uint64_t clock_back_jumps, int64_t clock_back_max_us,
                const UndecodedKinds& undecoded) {
    note_clock(notes, clock_back_jumps, clock_back_max_us);
    note_encapsulations(notes, undecoded);
    note_decode_limits(notes, undecoded);
    note_wlan(notes, undecoded);
}

}  // namespace callwall::pipeline
