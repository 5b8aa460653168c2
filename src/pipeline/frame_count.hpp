// Counting the frames a run reads, before they are decoded: the totals of
// the run's row (facts::FrameTotals), the run's clock, capture time stepping
// back, and the frames not decoded, by why. Whoever reads the frames counts
// them: a run's own Analyzer, a sharded run's reading thread
// (run/shards/sharded_run.hpp), or each fanout worker that reads its own
// sockets (their counts are summed).
#pragma once

#include <algorithm>
#include <cstdint>

#include "decode/frame.hpp"
#include "decode/packet.hpp"
#include "facts/run_totals.hpp"
#include "pipeline/undecoded.hpp"
#include "util/clock.hpp"

namespace callwall::pipeline {

// A frame stamped earlier than the one before it by more than this is a
// clock jump worth a note (captures merged from machines whose clocks differ,
// a clock stepped mid-capture). Smaller steps back are ordinary: frames
// timestamped on different CPUs or NIC queues, multi-interface captures whose
// buffers are flushed in batches (tools/gen_workload.py's workload has 787
// steps back of up to 29 ms). Either way expiry is safe: see FlowTable::update.
inline constexpr int64_t kClockBackToleranceUs = 1'000'000;

struct FrameCount {
    /// The latest capture time so far: expiry's clock, which never goes back.
    int64_t clock_us = INT64_MIN;
    int64_t prev_ts_us = 0;  ///< the previous frame's capture time
    // Capture time going backwards (files merged from machines whose clocks
    // differ): counted for run.notes. Flows keep each packet's own time and
    // expiry only moves forward (see FlowTable::update), so a packet from the
    // past does not split its flow.
    uint64_t clock_back_jumps = 0;
    int64_t clock_back_max_us = 0;
    UndecodedKinds undecoded;  ///< frames not decoded, by why

    /// A frame read, before it is decoded: counted in `t`, its capture time
    /// the run's last.
    void arrive(const decode::RawFrame& f, facts::FrameTotals& t) noexcept {
        const double ts = util::us_to_s(f.ts_us);
        if (t.packets == 0) {
            t.first_ts = ts;
        } else if (f.ts_us < prev_ts_us - kClockBackToleranceUs) {
            ++clock_back_jumps;
            clock_back_max_us = std::max(clock_back_max_us, prev_ts_us - f.ts_us);
        }
        prev_ts_us = f.ts_us;
        clock_us = std::max(clock_us, f.ts_us);
        t.last_ts = ts;
        ++t.packets;
        t.bytes += f.wirelen;
        if (f.caplen < f.wirelen) ++t.truncated_packets;
    }

    /// The frame did not decode; `m` says how far it went. Counted by why,
    /// once a frame (UndecodedKinds::count): the run's notes say it in words
    /// (pipeline/run_notes.hpp).
    void not_decoded(const decode::PacketMeta& m, facts::FrameTotals& t) noexcept {
        ++t.undecoded_packets;
        undecoded.count(m.anomalies, m.undecoded_in);
    }

    /// A frame read: counted (arrive), its headers decoded into `scratch`.
    /// Returns the headers, or null when the frame did not decode (counted so).
    [[nodiscard]] const decode::PacketMeta* take(const decode::RawFrame& f, facts::FrameTotals& t,
                                                 decode::PacketMeta& scratch) noexcept {
        arrive(f, t);
        if (!decode::parse_frame_ok(f.linktype, f.bytes, scratch)) {
            not_decoded(scratch, t);
            return nullptr;
        }
        return &scratch;
    }
};

}  // namespace callwall::pipeline
