// The packet path. See pipeline/analyzer.hpp.
#include "callwall/pipeline/analyzer.hpp"

#include "callwall/decode/packet.hpp"

namespace callwall::pipeline {
namespace {
// Idle flows are expired at most once per second of capture time: the LRU
// head check is O(1) but there is no need to do it per packet.
constexpr int64_t kExpireIntervalUs = 1'000'000;
}  // namespace

Analyzer::Analyzer(store::Store* store, int64_t run_id, const AnalyzerConfig& cfg)
    : store_(store),
      run_id_(run_id),
      table_(cfg.flows),
      dissector_(store, run_id),
      frags_(kFragSlots),
      outcome_hint_(cfg.outcome_hint) {
    table_.set_evict_callback([this](flow::Flow& f) { on_evict(f); });
}

Analyzer::~Analyzer() = default;

namespace {
size_t frag_slot(const decode::IpAddr& src, const decode::IpAddr& dst, uint32_t id, uint8_t proto) noexcept {
    uint64_t h = decode::hash_append(decode::hash_append(decode::kFnvOffsetBasis, src), dst);
    h = (h ^ id) * 0x100000001b3ull;
    h = (h ^ proto) * 0x100000001b3ull;
    return static_cast<size_t>(h);
}
}  // namespace

void Analyzer::remember_first_fragment(const decode::PacketMeta& m) noexcept {
    FragEntry& e = frags_[frag_slot(m.src, m.dst, m.frag_id, m.proto) % kFragSlots];
    e = FragEntry{m.src, m.dst, m.frag_id, m.proto, true, m.sport, m.dport};
}

bool Analyzer::complete_later_fragment(decode::PacketMeta& m) noexcept {
    const FragEntry& e = frags_[frag_slot(m.src, m.dst, m.frag_id, m.proto) % kFragSlots];
    if (!e.used || e.id != m.frag_id || e.proto != m.proto || !(e.src == m.src) || !(e.dst == m.dst)) return false;
    m.sport = e.sport;
    m.dport = e.dport;
    return true;
}

void Analyzer::on_evict(flow::Flow& f) {
    ++flows_written_;
    ++state_counts_[static_cast<int>(f.state())];
    try {
        store::FlowAppInfo info;
        dissector_.on_flow_end(f, table_.index_of(f), info);
        if (store_ && !deferred_error_) {
            hint_outcome(f, info);
            store_->add_flow(run_id_, f, info);
        }
    } catch (...) {
        if (!deferred_error_) deferred_error_ = std::current_exception();
    }
}

void Analyzer::hint_outcome(const flow::Flow& f, store::FlowAppInfo& info) {
    if (!outcome_hint_) return;
    outcome_buf_ = outcome_hint_(f, info, totals_.last_ts);
    info.outcome = outcome_buf_;
}

void Analyzer::process(const capture::RawFrame& frame) noexcept {
    store::RunTotals& t = totals_;
    const double ts = static_cast<double>(frame.ts_us) / 1e6;
    if (t.packets == 0) t.first_ts = ts;
    t.last_ts = ts;
    ++t.packets;
    t.bytes += frame.wirelen;
    if (frame.caplen < frame.wirelen) ++t.truncated_packets;

    decode::PacketMeta& m = meta_;
    if (!decode::parse_frame_ok(frame.linktype, frame.bytes, m)) {
        ++t.undecoded_packets;
        return;
    }
    if (m.is_fragment) {
        if (!m.later_fragment) {
            remember_first_fragment(m);
        } else if (!complete_later_fragment(m)) {
            ++t.orphan_fragments;  // its first fragment was not seen (yet)
            return;
        }
    }
    if (m.icmp_error) {
        flow::Flow* f = table_.attach_icmp_error(m, frame.ts_us);
        if (!f) ++icmp_unmatched_;
        if (store_ && !deferred_error_) {
            try {
                // Addresses formatted into stack buffers: no allocation per packet.
                char from[64], to[64], qsrc[64], qdst[64];
                store::IcmpErrorRow row;
                row.ts = ts;
                row.family = m.ip_version;
                row.from_ip = {from, store::format_ip(m.src, from, sizeof from)};
                row.to_ip = {to, store::format_ip(m.dst, to, sizeof to)};
                row.type = m.icmp_type;
                row.code = m.icmp_code;
                row.ttl = m.ttl;
                if (m.quoted.src.family) {
                    row.quoted_src = {qsrc, store::format_ip(m.quoted.src, qsrc, sizeof qsrc)};
                    row.quoted_dst = {qdst, store::format_ip(m.quoted.dst, qdst, sizeof qdst)};
                }
                row.quoted_proto = m.quoted.proto;
                row.quoted_sport = m.quoted.sport;
                row.quoted_dport = m.quoted.dport;
                row.flow_id = f ? f->id : 0;
                store_->add_icmp_error(run_id_, row);
            } catch (...) {
                deferred_error_ = std::current_exception();
            }
        }
        return;
    }
    const auto lk = table_.update(m, frame.ts_us);
    const uint32_t slot = table_.index_of(*lk.flow);
    if (lk.created) dissector_.on_flow_created(*lk.flow, slot);
    dissector_.on_packet(*lk.flow, slot, lk.dir, m, frame.ts_us);
    if (frame.ts_us - last_expire_us_ >= kExpireIntervalUs) {
        table_.expire(frame.ts_us);
        last_expire_us_ = frame.ts_us;
    }
}

void Analyzer::snapshot() {
    if (!store_) return;
    drain();
    totals_.flows = table_.stats().created;
    table_.for_each([this](flow::Flow& f) {
        store::FlowAppInfo info;
        dissector_.snapshot(f, table_.index_of(f), info);
        hint_outcome(f, info);
        store_->add_flow(run_id_, f, info);
    });
}

void Analyzer::drain() {
    if (!deferred_error_) deferred_error_ = dissector_.take_error();
    if (deferred_error_) {
        auto e = deferred_error_;
        deferred_error_ = nullptr;
        std::rethrow_exception(e);
    }
}

void Analyzer::finish() {
    table_.flush();
    totals_.flows = table_.stats().created;
    totals_.flows_evicted_full = table_.stats().evicted_full;
    drain();
}

}  // namespace callwall::pipeline
