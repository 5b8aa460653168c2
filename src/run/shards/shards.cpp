// Flow-hash sharding: the reader's side and the workers. See
// run/shards/shards.hpp; the merger is in shard_merge.cpp.
#include "run/shards/shards.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "run/shards/shards_impl.hpp"
#include "util/clock.hpp"
#include "util/thread_without_signals.hpp"

namespace callwall::run {
namespace {

using shard::In;
using shard::InChunk;
using shard::InRecord;
using shard::kChunkBytes;
using shard::kChunkRecords;
using shard::kMarkEvery;
using shard::kQueuedChunks;

uint64_t mix(uint64_t h) noexcept {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 33);
}

uint64_t word(const decode::IpAddr& a, size_t at) noexcept {
    uint64_t v;
    std::memcpy(&v, a.bytes.data() + at, 8);
    return v;
}

void add_to(decode::ReassemblyStats& t, const decode::ReassemblyStats& c) noexcept {
    t.fragments += c.fragments;
    t.completed += c.completed;
    t.timed_out += c.timed_out;
    t.evicted += c.evicted;
    t.overlaps += c.overlaps;
    t.invalid += c.invalid;
    t.cut += c.cut;
    t.flushed += c.flushed;
    t.duplicates += c.duplicates;
    t.unattributed += c.unattributed;
}

void add_to(pipeline::DissectStats& t, const pipeline::DissectStats& c) noexcept {
    t.pool_exhausted += c.pool_exhausted;
    t.dns_messages += c.dns_messages;
    t.dns_malformed += c.dns_malformed;
    t.tls_hellos += c.tls_hellos;
    t.quic_hellos += c.quic_hellos;
    t.stun_messages += c.stun_messages;
    t.channel_data += c.channel_data;
    t.rtp_packets += c.rtp_packets;
    t.rtcp_packets += c.rtcp_packets;
    t.dtls_records += c.dtls_records;
    t.names_dropped += c.names_dropped;
    t.addresses_dropped += c.addresses_dropped;
    t.peers_dropped += c.peers_dropped;
    t.tcp_held_segments += c.tcp_held_segments;
    t.tcp_gaps += c.tcp_gaps;
    t.tcp_gap_bytes += c.tcp_gap_bytes;
    t.tcp_resyncs += c.tcp_resyncs;
    t.proxy_tunnels += c.proxy_tunnels;
    t.buffers_reclaimed += c.buffers_reclaimed;
    t.hellos_cut += c.hellos_cut;
}

}  // namespace

void Shards::Impl::run(Worker& w) {
    InChunk chunk;
    for (;;) {
        {
            std::unique_lock lk(w.mu);
            w.cv.wait(lk, [&] { return !w.full.empty(); });
            chunk = std::move(w.full.front());
            w.full.pop_front();
        }
        progress.notify_one();  // the reader may wait for room
        bool done = false;
        for (const InRecord& r : chunk.records) {
            switch (r.kind) {
                case In::Frame: {
                    decode::RawFrame f;
                    f.ts_us = r.ts_us;
                    f.linktype = r.linktype;
                    f.interface = r.interface;
                    f.caplen = r.caplen;
                    f.wirelen = r.wirelen;
                    f.bytes = ByteView(chunk.data.data() + r.offset, r.caplen);
                    w.decoder->frame(f, r.index, r.clock_us, r.index);
                    break;
                }
                case In::Tick: w.decoder->tick(r.index, r.clock_us, r.last_ts, r.index); break;
                case In::Mark:
                    w.decoder->writer().watermark(r.index);
                    publish(w);
                    break;
                case In::Sync:
                    w.decoder->writer().watermark(r.index, shard::kSnapshotPhase);
                    publish(w);
                    break;
                case In::Snapshot:
                case In::SnapshotAll:
                    w.decoder->snapshot(r.index, r.last_ts, r.kind == In::SnapshotAll, snapshot_peers,
                                        snapshot_peers_listed);
                    w.decoder->writer().watermark(r.index);
                    publish(w);
                    break;
                case In::Pause:
                case In::Resume: break;  // fanout only
                case In::Finish:
                    w.decoder->finish(r.last_ts, r.index);
                    publish(w);
                    done = true;
                    break;
            }
        }
        chunk.records.clear();
        chunk.data.clear();
        {
            std::lock_guard lk(w.mu);
            w.empty.push_back(std::move(chunk));
        }
        if (done) return;
    }
}

void Shards::Impl::publish(Worker& w, const FramesRead* frames) {
    pipeline::Analyzer& a = w.decoder->analyzer();
    {
        std::lock_guard lk(w.mu);
        w.written.push_back(std::move(w.out));
        if (!w.spent.empty()) {
            w.out = std::move(w.spent.back());
            w.spent.pop_back();
        } else {
            w.out = std::vector<char>();
        }
        ShardTotals& c = w.counts;
        c.flows_written = a.flows_written();
        std::copy(a.state_counts(), a.state_counts() + 32, c.state_counts);
        c.flows = a.flows().stats();
        c.reassembly = a.reassembly();
        c.dissect = a.dissector().stats();
        c.orphan_fragments = a.totals().orphan_fragments;
        c.live_flows = a.flows().live();
        if (frames) c.frames = *frames;
    }
    w.out.clear();
    w.decoder->writer().handed_over();
    progress.notify_one();
}

void Shards::Impl::hand_in(size_t i) {
    Worker& w = *workers[i];
    InChunk& c = filling[i];
    for (;;) {
        {
            std::lock_guard lk(w.mu);
            if (w.full.size() < kQueuedChunks) {
                w.full.push_back(std::move(c));
                if (!w.empty.empty()) {
                    c = std::move(w.empty.back());
                    w.empty.pop_back();
                } else {
                    c = InChunk();
                }
                break;
            }
        }
        // The worker is behind: write what can be written meanwhile (a worker
        // never waits for the merger, so this cannot deadlock).
        if (!pump()) wait_for_progress();
    }
    w.cv.notify_one();
    c.records.reserve(kChunkRecords);
    c.data.reserve(kChunkBytes);
}

bool Shards::Impl::pump() {
    bool wrote = false;
    for (size_t i = 0; i < workers.size(); ++i) {
        Worker& w = *workers[i];
        std::vector<std::vector<char>> got;
        {
            std::lock_guard lk(w.mu);
            while (!w.written.empty()) {
                got.push_back(std::move(w.written.front()));
                w.written.pop_front();
            }
        }
        for (auto& b : got) merger.take(i, std::move(b));
    }
    wrote = merger.merge();
    for (size_t i = 0; i < workers.size(); ++i) {
        std::vector<std::vector<char>> spent = merger.spent(i);
        if (spent.empty()) continue;
        Worker& w = *workers[i];
        std::lock_guard lk(w.mu);
        for (auto& b : spent) w.spent.push_back(std::move(b));
    }
    return wrote;
}

void Shards::Impl::stop() noexcept {
    if (!finished && fanout) {
        // Dropping the run (an error): end every worker without waiting for its rows.
        InRecord r;
        r.kind = In::Finish;
        control_all(r);
    } else if (!finished) {
        InRecord r;
        r.kind = In::Finish;
        for (size_t i = 0; i < workers.size(); ++i) {
            Worker& w = *workers[i];
            std::lock_guard lk(w.mu);
            InChunk c;
            c.records.push_back(r);
            w.full.push_back(std::move(c));
            w.cv.notify_one();
        }
    }
    for (auto& w : workers)
        if (w->thread.joinable()) w->thread.join();
}

Shards::Shards(store::Store& store, int64_t run_id, const pipeline::AnalyzerConfig& cfg, int workers,
               const RowHook* row_hook, ShardInputs in)
    : impl_(std::make_unique<Impl>(store, run_id)) {
    Impl& s = *impl_;
    pipeline::AnalyzerConfig wc = cfg;
    wc.workers = 1;
    wc.extra_sink = nullptr;
    s.vendor_addresses = in.vendor_addresses;
    s.fanout = in.fanout;
    if (s.fanout) s.base_us = util::wall_us();
    s.merger.streams(static_cast<size_t>(workers));
    for (int i = 0; i < workers; ++i) {
        auto w = std::make_unique<Impl::Worker>();
        if (s.vendor_addresses) {
            w->addresses = std::make_unique<VendorAddresses>(s.vendor_addresses->catalog());
            wc.extra_sink = w->addresses.get();
        }
        w->decoder = std::make_unique<ShardWorker>(w->out, run_id, wc, row_hook);
        if (s.fanout) w->reader = s.fanout->readers.at(static_cast<size_t>(i));
        for (size_t k = 0; k < kQueuedChunks; ++k) w->empty.emplace_back();
        s.workers.push_back(std::move(w));
        s.filling.emplace_back();
        s.filling.back().records.reserve(kChunkRecords);
        s.filling.back().data.reserve(kChunkBytes);
    }
    try {
        for (size_t i = 0; i < s.workers.size(); ++i) {
            s.workers[i]->thread =
                util::thread_without_signals("callwall-w" + std::to_string(i), [&s, wp = s.workers[i].get()] {
                    if (s.fanout)
                        s.run_fanout(*wp);
                    else
                        s.run(*wp);
                });
        }
    } catch (...) {
        s.stop();
        throw;
    }
}

Shards::~Shards() { impl_->stop(); }

size_t Shards::worker_of(const decode::PacketMeta& m) const noexcept {
    // The unordered address pair: both directions, every fragment, and an
    // ICMP error by the pair it quotes.
    const auto [pa, pb] = pipeline::shard_pair(m);
    const decode::IpAddr& a = *pa;
    const decode::IpAddr& b = *pb;
    // Symmetric: a sum and an exclusive or of the two addresses, mixed once.
    const uint64_t a0 = word(a, 0), a1 = word(a, 8), b0 = word(b, 0), b1 = word(b, 8);
    const uint64_t h = mix(((a0 + b0) * 0x9E3779B97F4A7C15ull) ^ (a1 + b1) ^ ((a0 ^ b0) << 1) ^ (a1 ^ b1));
    return static_cast<size_t>(h % impl_->workers.size());
}

void Shards::dispatch(const decode::RawFrame& frame, const decode::PacketMeta& m, uint64_t index, int64_t clock_us) {
    Impl& s = *impl_;
    size_t i = worker_of(m);
    if (FragmentRoutes::applies(m))
        i = s.fragment_routes.worker(m, i, [this](const decode::PacketMeta& inner) { return worker_of(inner); });
    if ((s.filling[i].data.size() + frame.caplen > kChunkBytes && !s.filling[i].records.empty()) ||
        s.filling[i].records.size() >= kChunkRecords)
        s.hand_in(i);
    InChunk& c = s.filling[i];
    InRecord r;
    r.kind = In::Frame;
    r.ts_us = frame.ts_us;
    r.clock_us = clock_us;
    r.index = index;
    r.caplen = frame.caplen;
    r.wirelen = frame.wirelen;
    r.linktype = frame.linktype;
    r.interface = frame.interface;
    r.offset = static_cast<uint32_t>(c.data.size());
    c.data.insert(c.data.end(), frame.bytes.begin(), frame.bytes.end());
    s.add(i, r);
    if (++s.since_mark < kMarkEvery) return;
    s.since_mark = 0;
    InRecord mark;
    mark.kind = In::Mark;
    mark.index = index;
    s.to_all(mark);
    for (size_t k = 0; k < s.workers.size(); ++k) s.hand_in(k);
    s.pump();
}

void Shards::tick(uint64_t index, int64_t clock_us, double last_ts) {
    InRecord r;
    r.kind = In::Tick;
    r.index = index;
    r.clock_us = clock_us;
    r.last_ts = last_ts;
    impl_->to_all(r);
}

uint64_t Shards::snapshot(uint64_t index, double last_ts, bool all) {
    Impl& s = *impl_;
    if (s.fanout) return s.snapshot_fanout(all);
    InRecord r;
    r.kind = In::Sync;
    r.index = index;
    s.to_all(r);
    s.write_below({index, shard::kSnapshotPhase});
    s.snapshot_peers_listed = s.merger.take_new_peers(s.snapshot_peers);
    const uint64_t before = s.merger.snapshots();
    r.kind = all ? In::SnapshotAll : In::Snapshot;
    r.last_ts = last_ts;
    s.to_all(r);
    s.write_below({index + 1, 0});
    s.take_vendor_addresses();
    return s.merger.snapshots() - before;
}

void Shards::track_written(std::vector<uint64_t>* ids) noexcept { impl_->merger.track_written(ids); }

void Shards::finish(uint64_t last_index, double last_ts) {
    Impl& s = *impl_;
    InRecord r;
    r.kind = In::Finish;
    r.index = last_index;
    r.last_ts = last_ts;
    if (s.fanout) {
        s.control_all(r);
    } else {
        s.to_all(r);
        for (size_t k = 0; k < s.workers.size(); ++k) s.hand_in(k);
    }
    s.finished = true;
    while (!s.merger.done()) {
        if (!s.pump()) s.wait_for_progress();
    }
    for (auto& w : s.workers) w->thread.join();
    s.take_vendor_addresses();
    for (auto& w : s.workers) {
        w->decoder->drain();  // a worker's own error (out of memory)
    }
}

ShardTotals Shards::totals() const {
    ShardTotals t;
    for (const auto& w : impl_->workers) {
        std::lock_guard lk(w->mu);
        const ShardTotals& c = w->counts;
        t.flows_written += c.flows_written;
        for (size_t k = 0; k < 32; ++k) t.state_counts[k] += c.state_counts[k];
        t.flows.created += c.flows.created;
        t.flows.evicted_idle += c.flows.evicted_idle;
        t.flows.evicted_full += c.flows.evicted_full;
        t.flows.peak_live += c.flows.peak_live;
        add_to(t.reassembly, c.reassembly);
        add_to(t.dissect, c.dissect);
        t.orphan_fragments += c.orphan_fragments;
        t.live_flows += c.live_flows;
        t.frames.add(c.frames);
    }
    const facts::Naming& n = impl_->merger.naming();
    t.dissect.names_dropped += n.table().dropped();
    t.dissect.addresses_dropped += n.addresses_dropped();
    t.dissect.peers_dropped += n.peers_dropped();
    return t;
}

void FramesRead::add(const FramesRead& o) noexcept {
    facts::FrameTotals& t = totals;
    const facts::FrameTotals& ot = o.totals;
    if (ot.packets && (t.packets == 0 || ot.first_ts < t.first_ts)) t.first_ts = ot.first_ts;
    t.last_ts = std::max(t.last_ts, ot.last_ts);
    t.packets += ot.packets;
    t.bytes += ot.bytes;
    t.truncated_packets += ot.truncated_packets;
    t.undecoded_packets += ot.undecoded_packets;
    count.undecoded.add(o.count.undecoded);
    count.clock_back_jumps += o.count.clock_back_jumps;
    count.clock_back_max_us = std::max(count.clock_back_max_us, o.count.clock_back_max_us);
}

uint64_t Shards::flows_created() const noexcept { return impl_->merger.created(); }

bool Shards::workers_read() const noexcept { return impl_->fanout != nullptr; }

}  // namespace callwall::run
