// One decoding worker of a sharded run (run/shards/shards.hpp): an Analyzer
// of its own whose facts and ICMP errors a recording Store encodes, and
// whose flow rows, flow creations and names are recorded for the merger
// (run/shards/shard_records.hpp), each under the key of the frame, tick,
// refresh or end it belongs to, so the merger writes them in the order one
// thread would have. The threads, queues and hand-over around it are
// Shards::Impl's; this is what one worker does with what it is handed.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

#include "facts/flow_sink.hpp"
#include "pipeline/analyzer.hpp"
#include "run/shards/shard_records.hpp"

namespace callwall::store {
class RunWriter;
class Store;
}  // namespace callwall::store

namespace callwall::run {

class RowHook;

class ShardWorker final : public pipeline::WorkerTap, public facts::FlowRowSink {
public:
    /// Records into `out` (not owned: the buffer the worker hands over and
    /// gets back empty) for run `run_id`; `cfg` is the run's, for one
    /// thread (no extra sink but the worker's vendor addresses, no fanout);
    /// `run_hook` (null: none) gives each row's provisional outcome.
    ShardWorker(std::vector<char>& out, int64_t run_id, const pipeline::AnalyzerConfig& cfg, const RowHook* run_hook);
    ~ShardWorker() override;
    ShardWorker(const ShardWorker&) = delete;
    ShardWorker& operator=(const ShardWorker&) = delete;

    /// Frame number `index` (a fanout worker's: its key), the run's clock
    /// then at `clock_us`; `seq`: its order in this worker's flow table.
    /// Returns whether it decoded.
    bool frame(const decode::RawFrame& f, uint64_t index, int64_t clock_us, uint64_t seq) noexcept;
    /// The expiry tick after frame `index`; `last_ts`: the capture time of the run's latest frame.
    void tick(uint64_t index, int64_t clock_us, double last_ts, uint64_t seq) noexcept;
    /// A live refresh after frame `index`: the live flows (`all`, or those
    /// that changed; `peers`: the TURN peers the whole run learnt since the
    /// last one, `peers_listed` false: too many to list).
    void snapshot(uint64_t index, double last_ts, bool all, const std::vector<decode::IpAddr>& peers,
                  bool peers_listed) noexcept;
    /// The end: every datagram in progress, then every flow, then the end record.
    void finish(double last_ts, uint64_t seq) noexcept;
    /// Rethrows the first error the worker kept (out of memory recording).
    void drain();

    [[nodiscard]] shard::Writer& writer() noexcept { return writer_; }
    [[nodiscard]] pipeline::Analyzer& analyzer() noexcept { return *analyzer_; }

    void flow_created(uint64_t id) noexcept override;
    void datagram_released(uint64_t order) noexcept override;
    void flow_ending(uint64_t lru_seq) noexcept override;

    /// The row's outcome, then the row for the merger (which names and numbers it).
    void flow_row(const facts::FlowEnd& e) override;
    void icmp_error(const facts::IcmpErrorFact& e) override;
    std::exception_ptr take_error() noexcept override;

private:
    /// Records what `write` writes; an allocation failure is kept for drain().
    template <class F>
    void record(F&& write) noexcept;
    /// The key of a tick's (or the end's) records.
    [[nodiscard]] uint64_t tick_key() const noexcept { return ending_ ? shard::kEndIndex : tick_index_; }

    std::unique_ptr<store::Store> recorder_;  ///< encodes the facts' rows into the buffer
    std::unique_ptr<store::RunWriter> sinks_;  ///< the worker's facts and ICMP errors, into recorder_
    shard::Writer writer_;
    std::unique_ptr<RowHook> hook_;  ///< the outcome of its rows
    std::unique_ptr<pipeline::Analyzer> analyzer_;  ///< last: it points at the members above
    uint64_t tick_index_ = 0;  ///< the frame the tick in progress follows
    bool ending_ = false;  ///< finish() is in progress
    std::exception_ptr error_;
};

}  // namespace callwall::run
