// Flow-hash sharding: several decoding workers, one reader, one writer, and
// the same database as one thread makes (analyze --workers N).
//
// The reading thread (run/shards/sharded_run.hpp) counts every frame, decodes its
// headers and hands it to the worker its address pair hashes to (both
// directions, every fragment and every ICMP error quoting the pair go to the
// same one: the pair, not the 5-tuple, because a later fragment carries no
// ports). Each worker (run/shards/shard_worker.hpp) is an Analyzer of its own (flow table, reassembler,
// dissectors) whose rows go to a buffer instead of the database, and whose
// naming goes there too (pipeline/app_analyzer.hpp NamingOut): a flow is
// named by DNS answers and TURN peers any worker saw, so only one place can
// name flows. Every second of capture time the reader sends every worker the
// expiry tick one thread would have run after that packet; a flow's expiry
// depends on that flow alone (flow/flow_table.hpp), so each worker evicts
// exactly its share of what one table evicts.
//
// Every record a worker writes carries the key one thread would have written
// it under: (packet index, 0) while processing a packet; (tick's packet
// index, reassembly release by first fragment's index, then flow eviction by
// LRU order) at a tick; the end last. The merger, on the reading thread,
// takes records from the workers in key order (a worker's watermark says it
// has nothing more below it), numbers flows in the order they were created,
// names each flow as it ends with the run's one Naming, and writes the rows
// through the Store (write-behind: SQLite on the store's thread). So rows
// reach the database in the order one thread writes them, with the same ids:
// tests/robustness/shards_test.cpp compares the dumps of every committed capture.
//
// Live capture with workers (capture --workers N, FanoutInput) reads no
// frame on the command's thread: the kernel splits each interface across N
// sockets by the same address pair (capture/fanout.hpp) and worker i reads
// socket i of every interface itself, through a reading thread of its own
// (capture/live_reader.hpp). With no frame numbers across sockets, a
// worker's keys are capture times (microseconds since the run began), kept
// strictly increasing per worker (a frame stamped earlier than the one
// before takes the next key); it counts its frames, runs its expiry ticks on
// the latest capture time any worker has shown, and, idle, marks progress
// with the wall clock less 250 ms, so the merger never waits on a quiet
// socket. A refresh is a barrier there too, but every worker first stops
// where it is (its reading thread goes on filling its buffer); the key past
// the furthest of them is the refresh's. Elsewhere a live run's refresh is a
// barrier at the reading thread's frame: every worker marks the frame, the
// merger writes everything below it (so its naming knows every answer and
// TURN peer up to there), then every worker writes its live flows that
// changed, under the key (frame, snapshot), which the merger names and
// writes before the refresh returns.
//
// Where the workers differ from one thread: bounds shared by the whole run
// become per worker (--max-flows, the reassembler's 64 datagrams, the
// decoders' buffer pools and per-address handshake buffers, the name table),
// so a run that hits one of them may differ; and a datagram released at a
// tick by one worker and one released at the same tick by another have no
// order between them (ties go by worker). Live, the vendor addresses that
// widen the filter are found per worker and taken at each refresh, so their
// order (the "newest" of the run note, which ones are kept past the
// filter's bound) may differ. With fanout, rows from different workers go in
// capture-time order rather than arrival order, a frame the kernel hands
// over late is merged after rows the others wrote meanwhile, and a run's
// boundary (SIGHUP, --rotate) is where each worker stood when told.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decode/ip_reassembly.hpp"
#include "facts/run_totals.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/analyzer.hpp"
#include "pipeline/dissect.hpp"
#include "pipeline/frame_count.hpp"
#include "run/fanout_input.hpp"
#include "store/store.hpp"

namespace callwall::run {

class RowHook;

/// The frames a fanout worker read (the reading thread counts them otherwise).
struct FramesRead {
    facts::FrameTotals totals;
    pipeline::FrameCount count;
    /// Another worker's, summed into these.
    void add(const FramesRead& o) noexcept;
};

/// What the workers counted, summed (the merger's own counts for flows).
struct ShardTotals {
    uint64_t flows_written = 0;
    uint64_t state_counts[32] = {};
    flow::FlowTableStats flows;
    decode::ReassemblyStats reassembly;
    pipeline::DissectStats dissect;
    uint64_t orphan_fragments = 0;
    uint64_t live_flows = 0;
    FramesRead frames;  ///< fanout: the frames the workers read
};

class Shards {
public:
    /// Starts `workers` (≥ 2) decoding threads writing into `store` (which
    /// should write behind) for run `run_id`; `row_hook` (not owned; null:
    /// none) gives each row's provisional outcome (each worker takes its own).
    /// `in`: the fanout readers the workers read, the vendor addresses
    /// collector (run/fanout_input.hpp).
    Shards(store::Store& store, int64_t run_id, const pipeline::AnalyzerConfig& cfg, int workers,
           const RowHook* row_hook = nullptr, ShardInputs in = {});
    /// Stops the workers (after finish(), or dropping what is in flight).
    ~Shards();
    Shards(const Shards&) = delete;
    Shards& operator=(const Shards&) = delete;

    /// The worker of a decoded frame.
    [[nodiscard]] size_t worker_of(const decode::PacketMeta& m) const noexcept;
    /// Hands frame number `index` (decoded as `m`) to its worker (a tunnel's
    /// outer fragments: to the worker of what they carry, see
    /// run/shards/fragment_routes.hpp). May throw StoreError (writing what
    /// the workers gave back).
    void dispatch(const decode::RawFrame& frame, const decode::PacketMeta& m, uint64_t index, int64_t clock_us);
    /// The expiry tick after frame `index`, on every worker; `last_ts` is the
    /// capture time of that frame (the provisional outcomes' "capture end").
    void tick(uint64_t index, int64_t clock_us, double last_ts);
    /// A live run's refresh after frame `index` (`last_ts` its capture time):
    /// every worker writes its live flows (`all`) or those that changed
    /// (Analyzer::snapshot_changed), named by the merger with every answer
    /// and TURN peer up to that frame; waits until they are written (to the
    /// store, which may write behind). Returns how many. May throw StoreError.
    uint64_t snapshot(uint64_t index, double last_ts, bool all);
    /// From now on the run's id of every flow row written is appended to
    /// `*ids` (a live run's re-attribution: run/flow_ends.hpp).
    void track_written(std::vector<uint64_t>* ids) noexcept;
    /// Every worker ends its flows; waits until every row is written. May
    /// throw StoreError.
    void finish(uint64_t last_index, double last_ts);
    /// Fanout: merges what the workers wrote, for up to `ms` (the command's
    /// wait between its checks of time, signals and refresh).
    void pump_for(int ms);
    /// Fanout: "" or the first reader error a worker met ("IFACE: reason").
    [[nodiscard]] std::string error() const;
    /// Counts so far (exact after finish()).
    [[nodiscard]] ShardTotals totals() const;
    /// Flows numbered so far (created, in the run's order).
    [[nodiscard]] uint64_t flows_created() const noexcept;
    /// The workers read the frames themselves (live capture on a
    /// PACKET_FANOUT group): the reading thread is given none, and the frame
    /// counts come from totals().frames.
    [[nodiscard]] bool workers_read() const noexcept;

    /// Defined in run/shards/shards_impl.hpp, for shards*.cpp alone.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace callwall::run
