// RTP/RTCP on a media flow. See pipeline/analyzers/rtp.hpp.
#include "pipeline/analyzers/rtp.hpp"

namespace callwall::pipeline {

namespace rtp = proto::rtp;

inline RtpMedia::Stream* RtpMedia::stream_for(Slot& s, const rtp::HeaderFields& h, flow::Dir d, bool via_turn,
                                              int64_t ts_us) noexcept {
    Stream* free_st = nullptr;
    for (auto& x : s.streams) {
        if (x.used && x.ssrc == h.ssrc && x.dir == d && x.via_turn == via_turn) return &x;
        if (!x.used && !free_st) free_st = &x;
    }
    if (!free_st) {
        ++s.streams_dropped;
        return nullptr;
    }
    free_st->used = true;
    free_st->ssrc = h.ssrc;
    free_st->dir = d;
    free_st->via_turn = via_turn;
    free_st->first_us = ts_us;
    free_st->stats = rtp::StreamStats(rtp::JitterMode::Wireshark);
    return free_st;
}

// Without a stack protector: its locals are the header's five fixed fields
// and the sample handed to the statistics, never a buffer that packet bytes
// are copied into; the guard was paid on every RTP datagram.
[[gnu::no_stack_protector]] void RtpMedia::on_packet(const flow::Flow&, FlowApp& a, RtcFlow& r, flow::Dir d,
                                                     ByteView payload, int64_t ts_us, bool via_turn) {
    if (rtp::looks_like_rtcp(payload)) {
        if (rtp::probe_rtcp(payload)) {
            ++s_.stats.rtcp_packets;
            ++r.rtcp_packets;
            a.labels |= kRtcpLabel;
        }
        return;
    }
    rtp::HeaderFields h;
    if (!rtp::decode_fields(payload, h)) return;
    if (r.rtp < 0) r.rtp = s_.lend(pool_);
    if (r.rtp < 0) return;
    Slot& s = pool_.at(r.rtp);
    rtp::Confirmer& c = via_turn ? s.turn : s.direct;
    const rtp::Verdict v = c.on_header(h);
    if (v == rtp::Verdict::Rejected) return;
    // Statistics from the first packet of each SSRC (counted once the flow is confirmed).
    Stream* st = stream_for(s, h, d, via_turn, ts_us);
    if (!st) return;
    st->last_us = ts_us;
    st->stats.add(
        rtp::PacketSample{static_cast<uint64_t>(ts_us), h.sequence_number, h.timestamp, h.payload_type, h.marker});
    if (v == rtp::Verdict::Confirmed) {
        a.labels |= kRtpLabel;
        ++s_.stats.rtp_packets;
    }
}

uint64_t RtpMedia::describe(const flow::Flow& f, RtcFlow& r, bool final) {
    if (r.rtp < 0) return 0;
    const Slot& s = pool_.at(r.rtp);
    // Only streams of a kind (direct, relayed) that was confirmed.
    const bool direct_ok = s.direct.verdict() == rtp::Verdict::Confirmed;
    const bool turn_ok = s.turn.verdict() == rtp::Verdict::Confirmed;
    uint64_t packets = 0;
    for (const auto& st : s.streams) {
        if (!st.used || st.stats.packets() < kMinStreamPackets) continue;
        if (!(st.via_turn ? turn_ok : direct_ok)) continue;
        packets += st.stats.packets();
        if (!final) continue;
        facts::RtpStreamFact row;
        row.flow_id = f.id;
        row.dir = st.dir == flow::kFromClient ? flow::kFromClient : flow::kFromServer;
        row.ssrc = st.ssrc;
        row.via_turn = st.via_turn;
        row.first_us = st.first_us;
        row.last_us = st.last_us;
        row.stats = &st.stats;
        s_.sink->write(&row);
    }
    return packets;
}

void RtpMedia::release(RtcFlow& r) noexcept {
    if (r.rtp >= 0) pool_.release(r.rtp);
    r.rtp = -1;
}

}  // namespace callwall::pipeline
