// The reading thread's side of a sharded run (analyze --workers N, capture
// --workers N): it counts the frames, decodes their headers and hands each
// to its worker (run/shards/shards.hpp), sends the workers the expiry ticks
// one thread would have run, and keeps the run's totals from what they give
// back. Where the workers read their own sockets (fanout), it is given no
// frame and takes their frame counts instead. A run on one thread has a
// pipeline::Analyzer in its place; run/store_analyzer.hpp holds one or the
// other.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "decode/frame.hpp"
#include "decode/packet.hpp"
#include "facts/run_totals.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/dissect.hpp"
#include "pipeline/frame_count.hpp"
#include "run/shards/shards.hpp"

namespace callwall::run {

class ShardedRun {
public:
    explicit ShardedRun(std::unique_ptr<Shards> workers);
    ~ShardedRun();
    ShardedRun(const ShardedRun&) = delete;
    ShardedRun& operator=(const ShardedRun&) = delete;

    /// Counts one frame and hands it to its worker. Never throws (a store
    /// error writing what the workers gave back is kept for drain()).
    void process(const decode::RawFrame& frame) noexcept;
    /// A live refresh: every worker writes its live flows (`all`) or those
    /// that changed (pipeline::Analyzer::snapshot_changed). Returns how many.
    /// May throw StoreError.
    uint64_t snapshot(bool all);
    /// The run's end: every worker ends its flows, every row is written, and
    /// the workers' counts become the run's. May throw StoreError.
    void finish();
    /// Rethrows the first error process() kept; call between packets.
    void drain();
    /// Fanout: writes what the workers handed over for up to `ms`, then
    /// returns "" or the first reader error a worker met; otherwise "" at
    /// once. May throw StoreError.
    std::string wait_for_workers(int ms);

    [[nodiscard]] facts::RunTotals& totals() noexcept { return totals_; }
    /// The workers' flow tables' counts, summed (flows created: numbered so far).
    [[nodiscard]] flow::FlowTableStats flow_stats() const;
    /// Flows alive at the workers' last progress marks.
    [[nodiscard]] size_t live_flows() const;
    /// The workers' dissectors' counts, summed (with the merger's naming).
    [[nodiscard]] pipeline::DissectStats dissect_stats() const;
    /// Flows ended and written (exact after finish()).
    [[nodiscard]] uint64_t flows_written() const noexcept { return flows_written_; }
    /// The written flows by final state, indexed by flow::ConnState (after finish()).
    [[nodiscard]] const uint64_t* state_counts() const noexcept { return state_counts_; }
    [[nodiscard]] Shards& workers() noexcept { return *workers_; }

private:
    /// Fanout: the frame counts into totals() as the workers last published
    /// them (at most ~50 ms old); otherwise nothing.
    void pull_totals();

    std::unique_ptr<Shards> workers_;
    bool workers_read_;  ///< fanout: the workers count the frames
    facts::RunTotals totals_;
    pipeline::FrameCount count_;
    int64_t last_expire_us_ = 0;
    decode::PacketMeta meta_;  ///< the current frame's headers, reused
    std::exception_ptr deferred_error_;
    uint64_t flows_written_ = 0;
    uint64_t state_counts_[32] = {};
};

}  // namespace callwall::run
