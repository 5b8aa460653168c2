// TCP in-order delivery and resynchronisation. See pipeline/tcp_reassembly.hpp.
#include "pipeline/tcp_reassembly.hpp"

#include <algorithm>
#include <cstring>

namespace callwall::pipeline {
namespace {

// RFC 793 §3.3: sequence numbers compare modulo 2^32.
int32_t diff(uint32_t a, uint32_t b) noexcept { return static_cast<int32_t>(a - b); }

void remove_first(TcpOooStore& s) noexcept {
    s.live = static_cast<uint16_t>(s.live - s.pieces[0].len);
    for (size_t i = 1; i < s.count; ++i) s.pieces[i - 1] = s.pieces[i];
    --s.count;
    if (s.count == 0) s.used = 0;
}

// Moves the pieces' data to the front of the buffer (in offset order), so
// space freed by delivered pieces can be reused.
void compact(TcpOooStore& s) noexcept {
    uint16_t write = 0;
    bool moved[kTcpOooSegments] = {};
    for (size_t n = 0; n < s.count; ++n) {
        size_t pick = s.count;
        for (size_t i = 0; i < s.count; ++i)
            if (!moved[i] && (pick == s.count || s.pieces[i].off < s.pieces[pick].off)) pick = i;
        TcpOooStore::Piece& p = s.pieces[pick];
        if (p.off != write) std::memmove(s.data.data() + write, s.data.data() + p.off, p.len);
        p.off = write;
        write = static_cast<uint16_t>(write + p.len);
        moved[pick] = true;
    }
    s.used = write;
}

}  // namespace

void TcpReassembler::skip_to(uint32_t seq, TcpSink& sink) {
    const uint32_t lost = seq - next_;
    if (lost == 0) return;
    ++stats_.gaps;
    stats_.gap_bytes += lost;
    next_ = seq;
    sink.gap(lost);
}

void TcpReassembler::drain(TcpOooStore& s, TcpSink& sink) {
    while (s.count > 0 && diff(s.pieces[0].seq, next_) <= 0) {
        const TcpOooStore::Piece p = s.pieces[0];
        const uint32_t end = p.seq + p.len;
        if (diff(end, next_) > 0) {
            const uint32_t skip = next_ - p.seq;
            const uint32_t seq = next_;
            next_ = end;
            remove_first(s);  // before the callback: the view stays valid (no compaction here)
            sink.bytes(seq, ByteView(s.data.data() + p.off + skip, p.len - skip), p.ts_us);
        } else {
            remove_first(s);
        }
    }
}

// Holds the parts of [seq, seq+len) not yet delivered or held (first copy
// wins). False when the bounds would be exceeded (nothing is stored then).
bool TcpReassembler::insert(TcpOooStore& s, uint32_t seq, ByteView payload, int64_t ts_us) noexcept {
    // The uncovered ranges, computed first so a failure leaves the store as it was.
    struct Range {
        uint32_t seq;
        uint32_t from;  // offset in payload
        uint32_t len;
    };
    Range add[kTcpOooSegments + 1];
    size_t n_add = 0;
    size_t new_bytes = 0;
    uint32_t cur = 0;  // offset in payload of the first byte not yet classified
    const uint32_t total = static_cast<uint32_t>(payload.size());
    size_t i = 0;
    while (cur < total) {
        const uint32_t at = seq + cur;
        while (i < s.count && diff(s.pieces[i].seq + s.pieces[i].len, at) <= 0) ++i;  // pieces before
        if (i < s.count && diff(s.pieces[i].seq, at) <= 0) {  // inside piece i: held already
            const uint32_t covered = std::min<uint32_t>(s.pieces[i].seq + s.pieces[i].len - at, total - cur);
            stats_.overlap_bytes += covered;
            cur += covered;
            ++i;
            continue;
        }
        const uint32_t upto = i < s.count ? std::min<uint32_t>(total, cur + (s.pieces[i].seq - at)) : total;
        if (n_add >= std::size(add)) return false;
        add[n_add++] = Range{at, cur, upto - cur};
        new_bytes += upto - cur;
        cur = upto;
    }
    if (n_add == 0) return true;  // all of it was held already
    if (s.count + n_add > kTcpOooSegments || s.live + new_bytes > kTcpOooBytes) return false;
    if (s.used + new_bytes > kTcpOooBytes) compact(s);
    for (size_t k = 0; k < n_add; ++k) {
        const Range& r = add[k];
        std::memcpy(s.data.data() + s.used, payload.data() + r.from, r.len);
        TcpOooStore::Piece p{r.seq, static_cast<uint16_t>(r.len), s.used, ts_us};
        s.used = static_cast<uint16_t>(s.used + r.len);
        s.live = static_cast<uint16_t>(s.live + r.len);
        size_t pos = s.count;
        while (pos > 0 && diff(s.pieces[pos - 1].seq, p.seq) > 0) {
            s.pieces[pos] = s.pieces[pos - 1];
            --pos;
        }
        s.pieces[pos] = p;
        ++s.count;
    }
    ++stats_.queued;
    return true;
}

void TcpReassembler::add(uint32_t seq, ByteView payload, uint32_t wire_len, int64_t ts_us, TcpOooStore* store,
                         TcpSink& sink) {
    if (payload.empty() && wire_len == 0) return;
    if (!known_) next_ = seq, known_ = true;
    // Holes open too long are given up first (oldest held piece's age).
    while (store && store->count > 0) {
        int64_t oldest = store->pieces[0].ts_us;
        for (size_t i = 1; i < store->count; ++i) oldest = std::min(oldest, store->pieces[i].ts_us);
        if (ts_us - oldest <= kTcpMaxHoleAgeUs) break;
        skip_to(store->pieces[0].seq, sink);
        drain(*store, sink);
    }
    // A snaplen cut: the wire bytes after the captured ones are missing.
    const uint32_t cut = wire_len > payload.size() ? wire_len - static_cast<uint32_t>(payload.size()) : 0;
    const uint32_t captured_end = seq + static_cast<uint32_t>(payload.size());
    // Each round delivers, holds or drops part of the segment; every round
    // either shrinks `payload`, empties the store or ends.
    for (int guard = 0; guard < 4 * static_cast<int>(kTcpOooSegments) + 8; ++guard) {
        const int32_t delta = diff(seq, next_);
        if (delta < 0) {  // already delivered (retransmission): first copy wins
            const uint32_t before = static_cast<uint32_t>(-delta);
            stats_.overlap_bytes += static_cast<uint32_t>(std::min<size_t>(before, payload.size()));
            if (before >= payload.size()) break;
            payload = payload.subspan(before);
            seq = next_;
        }
        if (payload.empty()) break;
        if (seq == next_) {
            size_t take = payload.size();
            if (store && store->count > 0) {
                // Held data after the hole wins over this copy where they overlap.
                take = std::min<size_t>(take, static_cast<uint32_t>(store->pieces[0].seq - next_));
            }
            if (take > 0) {
                next_ += static_cast<uint32_t>(take);
                sink.bytes(seq, payload.first(take), ts_us);
                payload = payload.subspan(take);
                seq += static_cast<uint32_t>(take);
            }
            if (store) drain(*store, sink);
            continue;
        }
        // Past a hole.
        if (static_cast<uint32_t>(delta) > kTcpMaxHoleSpan || !store) {
            if (store) {  // hand over what is held before this segment, holes given up
                while (store->count > 0 && diff(store->pieces[0].seq, seq) < 0) {
                    skip_to(store->pieces[0].seq, sink);
                    drain(*store, sink);
                }
            }
            if (diff(seq, next_) > 0) skip_to(seq, sink);
            continue;
        }
        if (insert(*store, seq, payload, ts_us)) break;
        // Bounds hit: the oldest hole will not be filled in time. Give it up
        // and deliver what was held behind it, then try again.
        if (store->count > 0 && diff(store->pieces[0].seq, seq) < 0) {
            skip_to(store->pieces[0].seq, sink);
            drain(*store, sink);
        } else {
            skip_to(seq, sink);  // the segment alone exceeds the bounds, or comes first
        }
    }
    if (cut && next_ == captured_end) skip_to(next_ + cut, sink);
}

void TcpReassembler::flush(TcpOooStore* store, TcpSink& sink) {
    if (!store) return;
    while (store->count > 0) {
        skip_to(store->pieces[0].seq, sink);
        drain(*store, sink);
    }
}

// ---------------------------------------------------------------------------

namespace {

constexpr uint32_t kStunCookie = 0x2112A442;

// STUN header (RFC 8489 §5): top two bits zero, magic cookie, length a multiple of 4.
bool stun_header(ByteView h, size_t& total) noexcept {
    if (h.size() < 20 || (h[0] & 0xC0) != 0 || load_u32(h, 4) != kStunCookie) return false;
    const uint16_t len = load_u16(h, 2);
    if (len % 4 != 0 || 20u + len > kMaxResyncFrame) return false;
    total = 20u + len;
    return true;
}

}  // namespace

FrameProbe probe_frame(FrameSync k, ByteView at) noexcept {
    FrameProbe r;
    switch (k) {
        case FrameSync::StunDirect: {
            size_t total = 0;
            if (stun_header(at, total)) return FrameProbe{total, true};
            // ChannelData (RFC 8656 §12.4; RFC 5766 allowed 0x4000-0x7FFF):
            // padded to 4 over TCP. Relayed datagrams are at least an RTP/RTCP
            // header (8 bytes) or a DTLS record header.
            if (at.size() < 4) return r;
            const uint16_t channel = load_u16(at, 0), len = load_u16(at, 2);
            if (channel < 0x4000 || channel > 0x7FFF || len < 8 || 4u + len > kMaxResyncFrame) return r;
            return FrameProbe{4 + ((len + 3u) & ~size_t{3}), false};
        }
        case FrameSync::Rfc4571: {
            if (at.size() < 4) return r;
            const uint16_t len = load_u16(at, 0);
            if (len < 8 || 2u + len > kMaxResyncFrame) return r;
            size_t total = 0;
            if (stun_header(at.subspan(2), total)) return total == len ? FrameProbe{2u + len, true} : r;
            // RTP/RTCP version 2 (RFC 3550) or a DTLS record (content type 20-23, RFC 7983).
            const uint8_t b = at[2];
            const bool rtp = (b & 0xC0) == 0x80 && len >= 12;
            const bool dtls = b >= 20 && b <= 23 && at[3] == 0xFE && len >= 13;
            return (rtp || dtls) ? FrameProbe{2u + len, false} : r;
        }
        case FrameSync::Dns: {
            // RFC 1035 §4.1.1: after the length, ID, flags, QDCOUNT, ANCOUNT,
            // NSCOUNT, ARCOUNT. A real message asks one question with opcode
            // QUERY (or NOTIFY/UPDATE), Z clear, and modest section counts.
            if (at.size() < 14) return r;
            const uint16_t len = load_u16(at, 0);
            if (len < 12) return r;
            const uint8_t opcode = (at[4] >> 3) & 0xF;
            const bool z = (at[5] & 0x40) != 0;
            const uint16_t qd = load_u16(at, 6), an = load_u16(at, 8), ns = load_u16(at, 10), ar = load_u16(at, 12);
            if (z || qd != 1 || !(opcode == 0 || opcode == 4 || opcode == 5)) return r;
            if (an > 256 || ns > 256 || ar > 256) return r;
            return FrameProbe{2u + len, true};
        }
    }
    return r;
}

size_t find_resync(FrameSync k, ByteView chunk) noexcept {
    for (size_t i = 0; i < chunk.size(); ++i) {
        const FrameProbe first = probe_frame(k, chunk.subspan(i));
        if (!first.len) continue;
        size_t j = i + first.len;
        bool ok = first.strong;
        for (int n = 0; !ok && n < kResyncChain; ++n) {
            if (j == chunk.size()) {
                ok = true;
                break;
            }
            if (j > chunk.size()) break;  // a weak frame running past the chunk proves nothing
            const FrameProbe more = probe_frame(k, chunk.subspan(j));
            if (!more.len) break;
            if (more.strong) ok = true;
            j += more.len;
            if (n == kResyncChain - 1) ok = true;
        }
        if (ok) return i;
    }
    return chunk.size();
}

}  // namespace callwall::pipeline
