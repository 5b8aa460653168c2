// What the packet path knows of flow-hash sharding (analyze --workers N,
// capture --workers N): the address pair a frame is sharded by, the counts
// the workers give back, and the fan-out coordinator as the reading thread's
// Analyzer drives it (Analyzer::use_workers). The coordinator, its workers
// and the merger that writes their rows into the store are
// run/shards/shards.hpp's; what a worker writes for the merger is
// run/shards/shard_records.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "decode/ip_reassembly.hpp"
#include "decode/packet.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/dissect.hpp"
#include "pipeline/undecoded.hpp"

namespace callwall::pipeline {

/// The addresses a frame is sharded by (worker_of hashes them as an
/// unordered pair): the pair an ICMP error quotes when it is not a fragment
/// and its quote shows an address, else the frame's own (a fragment's too:
/// a later fragment has no ports). Live capture's fanout program
/// (capture/fanout.hpp) follows the same rule in the kernel.
[[nodiscard]] inline std::pair<const decode::IpAddr*, const decode::IpAddr*> shard_pair(
    const decode::PacketMeta& m) noexcept {
    const bool quoted = m.icmp_error && !m.is_fragment && m.quoted.src.family != 0;
    return quoted ? std::pair{&m.quoted.src, &m.quoted.dst} : std::pair{&m.src, &m.dst};
}

/// The frames a fanout worker read (the reading thread counts them otherwise).
struct FrameTotals {
    uint64_t packets = 0, bytes = 0, truncated = 0, undecoded = 0;
    double first_ts = 0, last_ts = 0;  ///< 0: no frame yet
    uint64_t clock_back_jumps = 0;
    int64_t clock_back_max_us = 0;
    UndecodedKinds kinds;  ///< the undecoded frames, by why
};

/// What the workers counted, summed (the merger's own counts for flows).
struct ShardTotals {
    uint64_t flows_written = 0;
    uint64_t state_counts[32] = {};
    flow::FlowTableStats flows;
    decode::ReassemblyStats reassembly;
    DissectStats dissect;
    uint64_t orphan_fragments = 0;
    uint64_t live_flows = 0;
    FrameTotals frames;  ///< fanout: the frames the workers read
};

/// The fan-out coordinator as the reading thread's Analyzer drives it
/// (Analyzer::use_workers): it hands the frames to the workers and has the
/// merger write what they give back. Implemented by Shards; one call per
/// frame in a sharded run (the one-thread packet path makes none).
class ShardCoordinator {
public:
    virtual ~ShardCoordinator() = default;
    /// Hands frame number `index` (decoded as `m`) to its worker (a tunnel's
    /// outer fragments: to the worker of what they carry, see
    /// run/shards/fragment_routes.hpp). May throw
    /// StoreError (writing what the workers gave back).
    virtual void dispatch(const decode::RawFrame& frame, const decode::PacketMeta& m, uint64_t index,
                          int64_t clock_us) = 0;
    /// The expiry tick after frame `index`, on every worker; `last_ts` is the
    /// capture time of that frame (the provisional outcomes' "capture end").
    virtual void tick(uint64_t index, int64_t clock_us, double last_ts) = 0;
    /// A live run's refresh after frame `index` (`last_ts` its capture time):
    /// every worker writes its live flows (`all`) or those that changed
    /// (Analyzer::snapshot_changed), named by the merger with every answer
    /// and TURN peer up to that frame; waits until they are written (to the
    /// store, which may write behind). Returns how many. May throw StoreError.
    virtual uint64_t snapshot(uint64_t index, double last_ts, bool all) = 0;
    /// Every worker ends its flows; waits until every row is written. May
    /// throw StoreError.
    virtual void finish(uint64_t last_index, double last_ts) = 0;
    /// Fanout: merges what the workers wrote, for up to `ms` (the command's
    /// wait between its checks of time, signals and refresh).
    virtual void pump_for(int ms) = 0;
    /// Fanout: "" or the first reader error a worker met ("IFACE: reason").
    [[nodiscard]] virtual std::string error() const = 0;
    /// Counts so far (exact after finish()).
    [[nodiscard]] virtual ShardTotals totals() const = 0;
    /// Flows numbered so far (created, in the run's order).
    [[nodiscard]] virtual uint64_t flows_created() const noexcept = 0;
    /// The workers read the frames themselves (live capture on a
    /// PACKET_FANOUT group): the reading thread's Analyzer is given none,
    /// and the frame counts come from totals().frames.
    [[nodiscard]] virtual bool workers_read() const noexcept = 0;
};

}  // namespace callwall::pipeline
