// The packet path: frame → decode → flow table → (application dissection) →
// the run's sinks (facts/flow_sink.hpp: the store's writer, wired by the run
// session, run/store_analyzer.hpp).
//
// Synchronous calls passing value types, single-threaded. process() is the
// hot path: it never throws and never allocates once the flow table is warm;
// facts go out as they are found, and each evicted flow as one row.
//
// Two uses: a run's own (process(): it counts the frames it is given and
// analyses them), and one worker of a sharded run (work_for, process_at:
// run/shards/shard_worker.hpp), whose frames another thread counted. A
// sharded run's reading thread is not an Analyzer: run/shards/sharded_run.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "decode/frame.hpp"
#include "decode/ip_reassembly.hpp"
#include "facts/flow_facts.hpp"
#include "facts/flow_sink.hpp"
#include "facts/naming.hpp"
#include "facts/run_totals.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/dissect.hpp"
#include "pipeline/frame_count.hpp"
#include "pipeline/undecoded.hpp"

namespace callwall::pipeline {

// Idle flows are expired at most once per second of capture time: the LRU
// head check is O(1) but there is no need to do it per packet. (The fanout
// workers tick at the same interval.)
inline constexpr int64_t kExpireIntervalUs = 1'000'000;

/// A decoding worker's view of its Analyzer (run/shards/shard_worker.hpp):
/// where, in a tick or the run's end, what follows belongs, and each flow
/// created, so the merger can order and number what the worker records.
/// Called per flow and per datagram a tick releases, never per packet. Must
/// not throw (a worker keeps its own error).
class WorkerTap {
public:
    virtual ~WorkerTap() = default;
    /// A flow was created (`id`: the worker's own number).
    virtual void flow_created(uint64_t id) noexcept = 0;
    /// A tick (or the end) releases a datagram: `order`, its first
    /// fragment's arrival order (decode::IpReassembler::Released::order).
    virtual void datagram_released(uint64_t order) noexcept = 0;
    /// A tick (or the end) ends a flow idle too long (or alive):
    /// `lru_seq`, its place in the flow table's order.
    virtual void flow_ending(uint64_t lru_seq) noexcept = 0;
};

struct AnalyzerConfig {
    flow::FlowTableConfig flows{};
    /// Facts are also handed to this sink (not owned; null: the run's only).
    facts::FactSink* extra_sink = nullptr;
    /// Decoding workers (run/shards/shards.hpp): 2 or more shard the flows
    /// across that many threads (needs a store that writes behind, and no
    /// extra_sink or flow observer); 1: this thread decodes. Whoever wires
    /// the run starts them (run/store_analyzer.hpp) instead of an Analyzer.
    int workers = 1;
    /// Rows per message (dns_answer, tls_hello, stun_message, icmp_error).
    /// False: only what the verdicts are made of (flows with their STUN, ICMP
    /// and TLS columns, names, DNS queries) — verdicts and reports are the
    /// same; the commands keep them with --detail.
    bool per_message_rows = true;
    /// Flows the run knows it holds at most at once (a probe's capture: one
    /// per probe it sent); 0: unknown. The decoders' per-flow pools are
    /// bounded by it instead of their defaults when it is larger (at most
    /// flows.max_flows): without it, a sweep's 64,512 flows alive at once
    /// left most of them without their STUN facts (Dissector::size_for_flows).
    size_t decoder_flows = 0;
};

class Analyzer {
public:
    /// Facts and rows go to `sinks` (not owned; null members, as in
    /// benchmarks: flows are then counted and dropped). Each flow's row is
    /// one call to sinks.rows (the run wires what else a flow's end goes to
    /// behind it: run/flow_ends.hpp).
    explicit Analyzer(facts::RunSinks sinks = {}, const AnalyzerConfig& cfg = {});
    ~Analyzer();

    /// Counts and processes one frame of the run. Never throws.
    void process(const decode::RawFrame& frame) noexcept;
    /// Evicts every remaining flow to the run's sinks. May throw (a store's error).
    void finish();
    /// Writes every live flow's current state as its row (rows are replaced
    /// when the flow ends), so the database shows the run as it forms.
    void snapshot();
    /// The live refresh: writes only the live flows that changed since the
    /// last snapshot — a packet or an ICMP error of their own since then, new
    /// in the slab, or towards a TURN peer learnt since then (the one name
    /// that changes without a packet) — so a refresh costs what changed, not
    /// what is alive. (A flow's outcome hint may age without a packet; the
    /// attribution that follows reclassifies every flow and rewrites it.)
    /// Returns how many rows it wrote. May throw StoreError.
    uint64_t snapshot_changed();
    /// Rethrows the first error the packet path kept (a row or fact the
    /// store could not write: disk full); call between packets. The caller stops the run.
    void drain();

    /// A sharded run's worker (run/shards/shard_worker.hpp) is told of its
    /// flows' creation and where its rows belong (not owned), and its
    /// naming is done by the merger: `naming` takes the answers and peers.
    void work_for(WorkerTap& tap, NamingOut& naming) noexcept;
    /// A worker's frame, the run's clock then at `clock_us`; `seq`: its
    /// order in the worker's flow table (the frame number; a fanout
    /// worker's own count). Returns whether the frame decoded.
    bool process_at(const decode::RawFrame& frame, int64_t clock_us, uint64_t seq) noexcept;
    /// A worker's expiry tick at `clock_us`, after the frame of order `seq`;
    /// `last_ts`: the capture time of the run's latest frame.
    void expire_at(int64_t clock_us, uint64_t seq, double last_ts) noexcept;
    /// A worker's end: every datagram in progress, then every flow.
    void finish_at(uint64_t seq, double last_ts) noexcept;
    /// Writes the live flows (`all`, or those that changed: see
    /// snapshot_changed, `new_peers` the TURN peers learnt since the last
    /// refresh; `peers_listed` false: too many to list, every flow changed)
    /// as rows. Returns how many. May throw (the row sink's error).
    uint64_t write_live(bool all, const std::vector<decode::IpAddr>& new_peers, bool peers_listed);
    [[nodiscard]] const decode::ReassemblyStats& reassembly() const noexcept { return reasm_.stats(); }

    [[nodiscard]] facts::RunTotals& totals() noexcept { return totals_; }
    /// Frames this Analyzer could not decode, by why (a worker that reads its
    /// own frames hands these on with its frame counts).
    [[nodiscard]] const UndecodedKinds& undecoded_kinds() const noexcept { return count_.undecoded; }
    [[nodiscard]] const flow::FlowTable& flows() const noexcept { return table_; }
    [[nodiscard]] flow::FlowTable& flows() noexcept { return table_; }
    /// Flows written (or dropped in store-less mode) so far.
    [[nodiscard]] uint64_t flows_written() const noexcept { return flows_written_; }
    /// Counts of final conn states of written flows, indexed by ConnState.
    [[nodiscard]] const uint64_t* state_counts() const noexcept { return state_counts_; }
    [[nodiscard]] const Dissector& dissector() const noexcept { return dissector_; }

private:
    void on_evict(flow::Flow& f);
    /// A flow's row as the sink takes it, its record built into `record`.
    [[nodiscard]] facts::FlowEnd row_of(const flow::Flow& f, facts::FlowAppInfo& info, facts::FlowRecord& record,
                                        bool live, bool replace) const noexcept;
    /// A decoded frame (number `index`, the run's clock then at `clock_us`):
    /// to the reassembler, as an ICMP error, or to its flow.
    void on_decoded(const decode::PacketMeta& m, int64_t ts_us, int64_t clock_us, uint64_t index) noexcept;
    /// A packet (or reassembled datagram) counted on its flow: to the dissectors.
    void on_flow_packet(const flow::FlowTable::Lookup& lk, const decode::PacketMeta& m, int64_t ts_us) noexcept;
    /// Attaches an ICMP error to the flow it quotes and records it.
    void record_icmp_error(const decode::PacketMeta& m, int64_t ts_us) noexcept;
    /// A datagram (or the fragments of one) the reassembler let go.
    void on_reassembled(const decode::IpReassembler::Released& r) noexcept;
    /// The expiry tick after the frame of order `seq` in the flow table:
    /// datagrams, then flows, idle too long at the clock.
    void expire(int64_t clock_us, uint64_t seq);
    /// The end: every datagram in progress, then every flow.
    void flush_all(uint64_t seq) noexcept;

    facts::FlowRowSink* rows_;  ///< sinks.rows
    bool per_message_rows_;
    flow::FlowTable table_;
    Dissector dissector_;
    facts::RunTotals totals_;
    uint64_t flows_written_ = 0;
    uint64_t state_counts_[32] = {};
    int64_t last_expire_us_ = 0;
    /// The run's frames counted (process), or a worker's frames that did
    /// not decode (process_at: their kinds only).
    FrameCount count_;
    // Evictions happen inside the noexcept packet path; rows that fail to be
    // written are reported by drain()/finish() instead of throwing there.
    std::exception_ptr deferred_error_;
    uint64_t icmp_unmatched_ = 0;
    /// IP fragments wait here until their datagram is whole (or given up);
    /// only the fragment branch of process() touches it.
    decode::IpReassembler reasm_;
    decode::PacketMeta meta_;  ///< the current packet's headers, reused: no per-packet construction
    /// The frame being decoded (process, process_at), null between frames
    /// (a tick's datagrams): a new flow's link-layer destination is read from it.
    const decode::RawFrame* frame_ = nullptr;
    /// Per slab index: the flow id and packet + ICMP error count at its last
    /// snapshot (snapshot_changed); grows with the slab's high-water mark.
    struct Snapped {
        uint64_t id = UINT64_MAX, count = 0;
    };
    std::vector<Snapped> snapped_;
    /// A snapshot wrote this flow's row (its end replaces the row).
    [[nodiscard]] bool snapped(const flow::Flow& f) const noexcept;
    std::vector<decode::IpAddr> new_peers_;  ///< reused by snapshot_changed
    WorkerTap* tap_ = nullptr;  ///< this Analyzer is a worker (work_for)
    /// In a tick or the end: releasing datagrams, then ending flows (an
    /// eviction outside them is the table making room for a packet's flow).
    enum class Tick : uint8_t { None, Releasing, Ending };
    Tick tick_ = Tick::None;
    uint64_t tick_seq_ = 0;  ///< the tick's frame's order in the flow table
};

}  // namespace callwall::pipeline
