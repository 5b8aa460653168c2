// In-order delivery of TCP directions. See pipeline/tcp_stream.hpp.
#include "pipeline/tcp_stream.hpp"

#include <algorithm>

namespace callwall::pipeline {

void TcpDelivery::count(const TcpReassembler::Stats& before, const TcpReassembler::Stats& after) noexcept {
    stats_.tcp_gaps += after.gaps - before.gaps;
    stats_.tcp_gap_bytes += after.gap_bytes - before.gap_bytes;
    stats_.tcp_held_segments += after.queued - before.queued;
}

void TcpDelivery::add(const flow::Flow& f, TcpStream& st, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us,
                      TcpSink& sink) {
    if (st.dead) return;
    if (!st.r.known() && f.tcp.isn_known[d]) st.r.anchor_syn(f.tcp.isn[d]);
    if (st.ooo < 0 && st.r.needs_store(m.tcp_seq)) {
        st.ooo = pool_.acquire();
        if (st.ooo < 0) ++stats_.pool_exhausted;
    }
    TcpOooStore* store = held(st);
    const TcpReassembler::Stats before = st.r.stats();
    st.r.add(m.tcp_seq, m.payload, m.payload_wire_len, ts_us, store, sink);
    count(before, st.r.stats());
    if (st.ooo >= 0 && pool_.at(st.ooo).empty()) drop_held(st);
}

void TcpDelivery::flush(TcpStream& st, TcpSink& sink) {
    if (st.ooo < 0 || st.dead) return;
    const TcpReassembler::Stats before = st.r.stats();
    st.r.flush(&pool_.at(st.ooo), sink);
    count(before, st.r.stats());
}

bool TcpDelivery::resync(TcpStream& st, FrameSync k, ByteView& p) noexcept {
    const size_t at = find_resync(k, p);
    if (at >= p.size()) {
        st.resync_scanned += static_cast<uint32_t>(std::min<size_t>(p.size(), kResyncBudget));
        if (st.resync_scanned >= kResyncBudget) st.dead = true;
        return false;
    }
    st.resync = false;
    st.resync_scanned = 0;
    ++stats_.tcp_resyncs;
    p = p.subspan(at);
    return true;
}

void TcpDelivery::drop_held(TcpStream& st) noexcept {
    if (st.ooo < 0) return;
    pool_.release(st.ooo);
    st.ooo = -1;
}

void TcpDelivery::release(std::array<TcpStream, 2>& streams) noexcept {
    for (TcpStream& st : streams) drop_held(st);
}

}  // namespace callwall::pipeline
