// Frames not decoded, by why: what the run's notes say of them. Counted
// where frames are decoded (the reading thread, or each worker that reads
// its own frames from the kernel) and summed, so that a run on workers
// notes what a run on one thread notes.
#pragma once

#include <cstdint>

#include "decode/packet.hpp"

namespace callwall::pipeline {

struct UndecodedKinds {
    /// 802.11 frames that hold no packet of ours: skipped, encrypted, aggregated.
    static constexpr uint32_t kWlanAnomalies =
        decode::kAnomalyWlanNotData | decode::kAnomalyWlanProtected | decode::kAnomalyWlanAmsdu;

    /// Frames that failed inside an encapsulation, by decode::Encap.
    uint64_t in[decode::kEncapKinds] = {};
    /// Frames given up at a decoder's limit.
    uint64_t encap_too_deep = 0, ext_headers_too_many = 0;
    /// 802.11 frames, by why.
    uint64_t wlan_not_data = 0, wlan_protected = 0, wlan_amsdu = 0;

    /// One frame not decoded, its decoder's `anomalies` and the encapsulation
    /// it failed in: one count, a decoder's limit or 802.11 first.
    void count(uint32_t anomalies, decode::Encap where) noexcept {
        if (anomalies & kWlanAnomalies) {
            if (anomalies & decode::kAnomalyWlanNotData)
                ++wlan_not_data;
            else if (anomalies & decode::kAnomalyWlanProtected)
                ++wlan_protected;
            else
                ++wlan_amsdu;
        } else if (anomalies & decode::kAnomalyEncapTooDeep) {
            ++encap_too_deep;
        } else if (anomalies & decode::kAnomalyTooManyExtHeaders) {
            ++ext_headers_too_many;
        } else if (where != decode::Encap::None) {
            ++in[static_cast<int>(where)];
        }
    }

    void add(const UndecodedKinds& o) noexcept {
        for (int k = 0; k < decode::kEncapKinds; ++k) in[k] += o.in[k];
        encap_too_deep += o.encap_too_deep;
        ext_headers_too_many += o.ext_headers_too_many;
        wlan_not_data += o.wlan_not_data;
        wlan_protected += o.wlan_protected;
        wlan_amsdu += o.wlan_amsdu;
    }
};

}  // namespace callwall::pipeline
