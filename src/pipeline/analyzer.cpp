// The packet path. See pipeline/analyzer.hpp.
#include "pipeline/analyzer.hpp"

#include "decode/packet.hpp"
#include "pipeline/run_notes.hpp"
#include "util/clock.hpp"

#include <algorithm>

namespace callwall::pipeline {
namespace {

// Linktypes whose frames say where they went on the link (tcpdump's DLT_*).
constexpr uint32_t kLinkEthernet = 1, kLinkLinuxSll = 113, kLinkLinuxSll2 = 276;
constexpr uint32_t kLinkWlan = 105, kLinkRadiotap = 127, kLinkPpi = 192;
// Linux cooked captures' packet type of a frame sent to the broadcast address
// (PACKET_BROADCAST, <linux/if_packet.h>): SLL's bytes 0-1, SLL2's byte 10.
constexpr uint8_t kSllBroadcast = 1;

// The frame went to the link-layer broadcast address. Read once per new
// flow, never per packet; a frame too short to tell is not a broadcast.
// An 802.11 data frame's destination: Address 1 from the AP (ToDS clear),
// Address 3 to it or over a 4-address hop (ToDS set).
bool wlan_to_broadcast(ByteView b) noexcept {
    if (b.size() < 24) return false;
    const size_t da = (b[1] & 0x01) ? 16 : 4;
    return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(da), b.begin() + static_cast<std::ptrdiff_t>(da + 6),
                       [](uint8_t x) { return x == 0xFF; });
}

bool to_link_broadcast(const decode::RawFrame& fr) noexcept {
    const ByteView b = fr.bytes;
    switch (fr.linktype) {
        case kLinkWlan: return wlan_to_broadcast(b);
        case kLinkRadiotap:
        case kLinkPpi: {
            // Both headers give their own length, little-endian, in bytes 2-3;
            // PPI names the link type after it in bytes 4-7 (802.11 here).
            if (b.size() < 8) return false;
            if (fr.linktype == kLinkPpi && (b[4] != kLinkWlan || b[5] || b[6] || b[7])) return false;
            const size_t len = b[2] | (size_t{b[3]} << 8);
            return len <= b.size() && wlan_to_broadcast(b.subspan(len));
        }
        case kLinkEthernet:
            return b.size() >= 6 && std::all_of(b.begin(), b.begin() + 6, [](uint8_t x) { return x == 0xFF; });
        case kLinkLinuxSll: return b.size() >= 2 && b[0] == 0 && b[1] == kSllBroadcast;
        case kLinkLinuxSll2: return b.size() >= 11 && b[10] == kSllBroadcast;
        default: return false;
    }
}

}  // namespace

Analyzer::Analyzer(facts::RunSinks sinks, const AnalyzerConfig& cfg)
    : rows_(sinks.rows),
      per_message_rows_(cfg.per_message_rows),
      table_(cfg.flows),
      dissector_(sinks.facts, cfg.extra_sink) {
    dissector_.reserve_flows(cfg.flows.max_flows);
    if (cfg.decoder_flows) dissector_.size_for_flows(std::min<size_t>(cfg.decoder_flows, cfg.flows.max_flows));
    table_.set_evict_callback([this](flow::Flow& f) { on_evict(f); });
    reasm_.set_release_callback([this](const decode::IpReassembler::Released& r) { on_reassembled(r); });
}

Analyzer::~Analyzer() = default;

void Analyzer::on_evict(flow::Flow& f) {
    ++flows_written_;
    ++state_counts_[static_cast<int>(f.state())];
    try {
        if (tap_ && tick_ == Tick::Ending) tap_->flow_ending(f.lru_seq);
        facts::FlowAppInfo info;
        dissector_.on_flow_end(f, table_.index_of(f), info);
        if (rows_) {
            facts::FlowRecord record;
            rows_->flow_row(row_of(f, info, record, false, snapped(f)));
        }
    } catch (...) {
        if (!deferred_error_) deferred_error_ = std::current_exception();
    }
}

facts::FlowEnd Analyzer::row_of(const flow::Flow& f, facts::FlowAppInfo& info, facts::FlowRecord& record, bool live,
                                bool replace) const noexcept {
    facts::record_of(f, info, record);
    const auto [sni, proxy] = dissector_.last_name_inputs();
    return {f,
            info,
            record,
            dissector_.last_names(),
            sni,
            proxy,
            totals_.last_ts,
            live,
            replace,
            deferred_error_ != nullptr};
}

bool Analyzer::snapped(const flow::Flow& f) const noexcept {
    const uint32_t slot = table_.index_of(f);
    return slot < snapped_.size() && snapped_[slot].id == f.id;
}

void Analyzer::process(const decode::RawFrame& frame) noexcept {
    facts::RunTotals& t = totals_;
    const decode::PacketMeta* m = count_.take(frame, t, meta_);
    if (!m) return;
    const int64_t clock_us = count_.clock_us;
    table_.at(clock_us, t.packets);
    frame_ = &frame;
    on_decoded(*m, frame.ts_us, clock_us, t.packets);
    frame_ = nullptr;
    if (clock_us - last_expire_us_ >= kExpireIntervalUs) {
        expire(clock_us, t.packets);
        last_expire_us_ = clock_us;
    }
}

void Analyzer::expire(int64_t clock_us, uint64_t seq) {
    tick_seq_ = seq;
    tick_ = Tick::Releasing;
    reasm_.expire(clock_us);  // first: a released datagram refreshes its flow
    tick_ = Tick::Ending;
    table_.expire(clock_us);
    tick_ = Tick::None;
}

void Analyzer::work_for(WorkerTap& tap, NamingOut& naming) noexcept {
    tap_ = &tap;
    dissector_.name_elsewhere(&naming);
}

bool Analyzer::process_at(const decode::RawFrame& frame, int64_t clock_us, uint64_t seq) noexcept {
    totals_.last_ts = util::us_to_s(frame.ts_us);
    table_.at(clock_us, seq);
    decode::PacketMeta& m = meta_;
    if (!decode::parse_frame_ok(frame.linktype, frame.bytes, m)) {
        // A worker that reads its own frames (fanout): its count is the run's.
        // Others are handed decoded frames only.
        count_.undecoded.count(m.anomalies, m.undecoded_in);
        return false;
    }
    frame_ = &frame;
    on_decoded(m, frame.ts_us, clock_us, seq);
    frame_ = nullptr;
    return true;
}

// Both inlined where they are called (the packet path): as calls they cost
// measurably on one core.
[[gnu::always_inline]] inline void Analyzer::on_decoded(const decode::PacketMeta& m, int64_t ts_us, int64_t clock_us,
                                                        uint64_t index) noexcept {
    if (m.is_fragment) {
        // Held until the datagram is whole: on_reassembled sees it, once,
        // with all its fragments counted. The only branch fragments take.
        reasm_.at(clock_us, index);
        reasm_.add(m, ts_us);
    } else if (m.icmp_error) {
        record_icmp_error(m, ts_us);
    } else {
        on_flow_packet(table_.update(m, ts_us), m, ts_us);
    }
}

[[gnu::always_inline]] inline void Analyzer::on_flow_packet(const flow::FlowTable::Lookup& lk,
                                                            const decode::PacketMeta& m, int64_t ts_us) noexcept {
    flow::Flow& f = *lk.flow;
    const uint32_t slot = table_.index_of(f);
    if (lk.created) {
        f.link_broadcast =
            frame_ && lk.dir == flow::kFromClient && m.encap == decode::Encap::None && to_link_broadcast(*frame_);
        if (tap_) tap_->flow_created(f.id);
        dissector_.on_flow_created(f, slot);
    }
    // Per packet: a tap's two halves are two interfaces, one direction each.
    if (frame_) f.interfaces |= flow::interface_bit(frame_->interface);
    dissector_.on_packet(f, slot, lk.dir, m, ts_us);
}

void Analyzer::expire_at(int64_t clock_us, uint64_t seq, double last_ts) noexcept {
    totals_.last_ts = last_ts;
    expire(clock_us, seq);
}

void Analyzer::finish_at(uint64_t seq, double last_ts) noexcept {
    totals_.last_ts = last_ts;
    flush_all(seq);
}

void Analyzer::flush_all(uint64_t seq) noexcept {
    tick_seq_ = seq;
    tick_ = Tick::Releasing;
    reasm_.flush();  // before the flows: an unfinished datagram still counts on its flow
    tick_ = Tick::Ending;
    table_.flush();
    tick_ = Tick::None;
}

void Analyzer::record_icmp_error(const decode::PacketMeta& m, int64_t ts_us) noexcept {
    flow::Flow* f = table_.attach_icmp_error(m, ts_us);
    if (!f) ++icmp_unmatched_;
    if (f && frame_) f->interfaces |= flow::interface_bit(frame_->interface);
    if (!rows_ || !per_message_rows_ || deferred_error_) return;
    try {
        rows_->icmp_error({ts_us, &m, f ? f->id : 0});
    } catch (...) {
        deferred_error_ = std::current_exception();
    }
}

// Fragments and flows: a reassembled datagram is decoded and dissected as one
// packet, at its last fragment's time, and counted on its flow as the
// fragments that carried it (packets: one per fragment, bytes: their IP
// lengths, later_fragments: all but the first; first seen at the first
// fragment's time), so the counts say what crossed the wire, as they did
// before reassembly. A datagram that never completes gives what its first
// fragment alone gives; fragments without a first fragment cannot be
// attributed and go to run.orphan_fragments.
void Analyzer::on_reassembled(const decode::IpReassembler::Released& r) noexcept {
    if (tick_ == Tick::Releasing) {
        // Released by a tick or the end: the flow's LRU order comes from the
        // tick and the datagram's first fragment, the same on every worker.
        table_.set_seq((tick_seq_ << 24) | (uint64_t{1} << 23) | (r.order & ((uint64_t{1} << 23) - 1)));
        if (tap_) tap_->datagram_released(r.order);
    }
    if (!r.meta) {
        totals_.orphan_fragments += r.fragments;
        return;
    }
    const decode::PacketMeta& m = *r.meta;
    if (m.icmp_error) {
        record_icmp_error(m, r.ts_us);
        return;
    }
    const auto lk = table_.update(m, r.first_ts_us);
    flow::Flow& f = *lk.flow;
    f.last_ts_us = std::max(f.last_ts_us, r.ts_us);
    f.packets[lk.dir] += r.fragments - 1;
    f.later_fragments += r.fragments - 1;
    f.bytes[lk.dir] += r.wire_bytes - m.ip_total_len;  // update() counted the rebuilt datagram's length
    on_flow_packet(lk, m, r.ts_us);
}

void Analyzer::snapshot() {
    if (!rows_) return;
    drain();
    totals_.flows = table_.stats().created;
    write_live(true, new_peers_, true);
}

uint64_t Analyzer::snapshot_changed() {
    if (!rows_) return 0;
    drain();
    totals_.flows = table_.stats().created;
    const bool peers_listed = dissector_.take_new_peers(new_peers_);
    return write_live(false, new_peers_, peers_listed);
}

uint64_t Analyzer::write_live(bool all, const std::vector<decode::IpAddr>& new_peers, bool peers_listed) {
    const auto towards_new_peer = [&](const flow::Flow& f) {
        if (!peers_listed) return true;
        for (const decode::IpAddr& p : new_peers)
            if (p == f.server_ip || p == f.client_ip) return true;
        return false;
    };
    uint64_t written = 0;
    table_.for_each([&](flow::Flow& f) {
        const uint32_t slot = table_.index_of(f);
        if (slot >= snapped_.size()) snapped_.resize(std::max<size_t>(size_t{slot} + 1, snapped_.size() * 2));
        Snapped& s = snapped_[slot];
        const uint64_t count = f.packets[0] + f.packets[1] + f.icmp_errors;
        if (!all && s.id == f.id && s.count == count && !towards_new_peer(f)) return;
        facts::FlowAppInfo info;
        dissector_.snapshot(f, slot, info);
        if (rows_) {
            facts::FlowRecord record;
            rows_->flow_row(row_of(f, info, record, true, true));
        }
        s.id = f.id;
        s.count = count;
        ++written;
    });
    return written;
}

void Analyzer::drain() {
    if (!deferred_error_) deferred_error_ = dissector_.take_error();
    if (!deferred_error_ && rows_) deferred_error_ = rows_->take_error();
    if (deferred_error_) {
        auto e = deferred_error_;
        deferred_error_ = nullptr;
        std::rethrow_exception(e);
    }
}

void Analyzer::finish() {
    note_input(totals_.notes, count_.clock_back_jumps, count_.clock_back_max_us, count_.undecoded);
    flush_all(totals_.packets);
    note_fragments(totals_.notes, reasm_.stats());
    totals_.flows = table_.stats().created;
    totals_.flows_evicted_full = table_.stats().evicted_full;
    drain();
}

}  // namespace callwall::pipeline
