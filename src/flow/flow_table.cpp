// Flow table implementation. See flow/flow_table.hpp.
#include "flow/flow_table.hpp"

#include <algorithm>
#include <cstring>

namespace callwall::flow {
namespace {

using decode::kProtoTcp;
using decode::kProtoUdp;

// Slots are sized for a load factor of at most 1/2 at max_flows so probe
// sequences stay short; the slot array is allocated once.
uint64_t slot_count_for(uint32_t max_flows) {
    uint64_t n = 1024;
    while (n < uint64_t{max_flows} * 2) n <<= 1;
    return n;
}

inline uint64_t load64(const uint8_t* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

}  // namespace

// Inlined into the per-packet lookup (update()): left to itself the
// compiler called them once update() grew, and together with the analyzer's
// two per-packet helpers that cost measurably more instructions (callgrind;
// docs/performance.md).
[[gnu::always_inline]] inline FlowKey canonical_key(const IpAddr& src, uint16_t sport, const IpAddr& dst,
                                                    uint16_t dport, uint8_t proto, bool& a_is_src) noexcept {
    const uint64_t s0 = load64(src.bytes.data()), s1 = load64(src.bytes.data() + 8);
    const uint64_t d0 = load64(dst.bytes.data()), d1 = load64(dst.bytes.data() + 8);
    // Any fixed total order on (address, port) makes the key canonical.
    a_is_src = s0 != d0 ? s0 < d0 : s1 != d1 ? s1 < d1 : sport <= dport;
    FlowKey k;
    const uint64_t tail = (uint64_t{proto} << 8) | src.family;
    if (a_is_src) {
        k.a[0] = s0, k.a[1] = s1, k.b[0] = d0, k.b[1] = d1;
        k.ports_proto = (uint64_t{sport} << 32) | (uint64_t{dport} << 16) | tail;
    } else {
        k.a[0] = d0, k.a[1] = d1, k.b[0] = s0, k.b[1] = s1;
        k.ports_proto = (uint64_t{dport} << 32) | (uint64_t{sport} << 16) | tail;
    }
    return k;
}

FlowKey make_key(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport, uint8_t proto,
                 bool& a_is_src) noexcept {
    return canonical_key(src, sport, dst, dport, proto, a_is_src);
}

std::string_view to_string(ConnState s) noexcept {
    switch (s) {
        case ConnState::S0: return "S0";
        case ConnState::S1: return "S1";
        case ConnState::SF: return "SF";
        case ConnState::REJ: return "REJ";
        case ConnState::S2: return "S2";
        case ConnState::S3: return "S3";
        case ConnState::RSTO: return "RSTO";
        case ConnState::RSTR: return "RSTR";
        case ConnState::RSTOS0: return "RSTOS0";
        case ConnState::RSTRH: return "RSTRH";
        case ConnState::SH: return "SH";
        case ConnState::SHR: return "SHR";
        case ConnState::OTH: return "OTH";
        case ConnState::UdpAnswered: return "answered";
        case ConnState::UdpOneWay: return "one-way";
        case ConnState::OtherBoth: return "both";
        case ConnState::OtherOneWay: return "one-way";
    }
    return "?";
}

ConnState Flow::state() const noexcept {
    if (proto != kProtoTcp) {
        const bool both = packets[kFromClient] > 0 && packets[kFromServer] > 0;
        if (proto == kProtoUdp) return both ? ConnState::UdpAnswered : ConnState::UdpOneWay;
        return both ? ConnState::OtherBoth : ConnState::OtherOneWay;
    }
    const TcpTrack& t = tcp;
    if (t.syn == 0) {
        // No SYN from the client seen.
        if (t.synack > 0) {
            if (t.rst[kFromServer]) return ConnState::RSTRH;
            if (t.fin[kFromServer]) return ConnState::SHR;
        }
        return ConnState::OTH;
    }
    // Data from the server proves the handshake completed: its SYN-ACK was
    // lost from the capture (a mirror port's drop, a capture started between
    // the SYN and the SYN-ACK's copy), not from the wire.
    const bool synack_not_captured = t.data[kFromServer] && !t.rst_before_synack;
    if (t.synack == 0 && !synack_not_captured) {
        if (t.rst_before_synack || t.rst[kFromServer]) return ConnState::REJ;
        if (t.rst[kFromClient]) return ConnState::RSTOS0;
        if (t.fin[kFromClient]) return ConnState::SH;
        return ConnState::S0;
    }
    // SYN and SYN-ACK seen (or the server's data): established (Zeek counts SYN/SYN-ACK as established).
    if (t.rst[kFromClient]) return ConnState::RSTO;
    if (t.rst[kFromServer]) return ConnState::RSTR;
    if (t.fin[kFromClient] && t.fin[kFromServer]) return ConnState::SF;
    if (t.fin[kFromClient]) return ConnState::S2;
    if (t.fin[kFromServer]) return ConnState::S3;
    return ConnState::S1;
}

FlowTable::FlowTable(const FlowTableConfig& cfg) : cfg_(cfg) {
    // The slot array and the slab grow with live flows (memory follows live
    // flows, not the bound), and a small slot array stays in cache.
    const uint32_t start = std::min<uint32_t>(cfg_.max_flows, 4096);
    const uint64_t n = slot_count_for(start);
    slots_.assign(n, kEmptySlot);
    mask_ = n - 1;
    // The slab's capacity for the bound, reserved as address space (huge
    // pages from 256 KiB, util/huge_pages.hpp): it grows in place, never
    // copied, and what it grows into next is populated behind with a
    // second core (util/populate_behind.hpp). Resident memory follows the
    // flows used, as before. Where the address space is bounded (ulimit -v)
    // and refuses it, the slab starts small and doubles as it did.
    try {
        slab_.reserve(cfg_.max_flows);
    } catch (const std::bad_alloc&) {
        slab_.reserve(start);
    }
}

void FlowTable::grow_slots() noexcept {
    const uint64_t n = slots_.size() * 2;
    slots_.assign(n, kEmptySlot);
    mask_ = n - 1;
    for (uint32_t head : lru_head_) {
        for (uint32_t i = head; i != UINT32_MAX; i = slab_[i].lru_next) {
            uint64_t s = slab_[i].key_hash & mask_;
            while (slots_[s] != kEmptySlot) s = (s + 1) & mask_;
            slots_[s] = make_slot(i, slab_[i].key_hash);
            slab_[i].hash_slot = static_cast<uint32_t>(s);
        }
    }
}

[[gnu::always_inline]] inline uint64_t FlowTable::hash(const FlowKey& k) const noexcept {
    // Two 64x64->128-bit products folded (wyhash's mix): the two address
    // halves' products are independent, so the chain the slot's load waits
    // for is two multiplies, not five in a row plus a finalizer.
    const auto mix = [](uint64_t x, uint64_t y) {
        const unsigned __int128 r = static_cast<unsigned __int128>(x) * y;
        return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
    };
    const uint64_t lo = mix(k.a[0] ^ cfg_.hash_seed, k.b[0] ^ 0xE7037ED1A0B428DBull);
    const uint64_t hi = mix(k.a[1] ^ 0x8EBC6AF09C88C6E3ull, k.b[1] ^ 0x589965CC75374CC3ull);
    return mix(lo ^ hi ^ 0x1D8E4E27C47D124Full, k.ports_proto ^ 0xA0761D6478BD642Full);
}

uint32_t FlowTable::find_slot(const FlowKey& k, uint64_t h) const noexcept {
    uint64_t s = h & mask_;
    const uint64_t tag = h & kTagMask;
    while (true) {
        const uint64_t e = slots_[s];
        if (e == kEmptySlot) return static_cast<uint32_t>(s);
        // Only a slot whose tag matches costs a look at its flow (another cache line).
        if ((e & kTagMask) == tag && slab_[static_cast<uint32_t>(e)].key == k) return static_cast<uint32_t>(s);
        s = (s + 1) & mask_;
    }
}

void FlowTable::lru_unlink(uint32_t idx) noexcept {
    Flow& f = slab_[idx];
    const uint8_t c = f.lru_class;
    if (f.lru_prev != UINT32_MAX)
        slab_[f.lru_prev].lru_next = f.lru_next;
    else
        lru_head_[c] = f.lru_next;
    if (f.lru_next != UINT32_MAX)
        slab_[f.lru_next].lru_prev = f.lru_prev;
    else
        lru_tail_[c] = f.lru_prev;
    f.lru_prev = f.lru_next = UINT32_MAX;
}

void FlowTable::lru_push_back(uint32_t idx) noexcept {
    Flow& f = slab_[idx];
    const uint8_t c = f.lru_class;
    f.lru_ts_us = clock_us_;
    f.lru_seq = seq_++;
    f.lru_prev = lru_tail_[c];
    f.lru_next = UINT32_MAX;
    if (lru_tail_[c] != UINT32_MAX)
        slab_[lru_tail_[c]].lru_next = idx;
    else
        lru_head_[c] = idx;
    lru_tail_[c] = idx;
}

uint8_t FlowTable::lru_class_of(const Flow& f) noexcept {
    if (f.proto == kProtoUdp) return kLruUdp;
    if (f.proto != kProtoTcp) return kLruOther;
    const bool closed = f.tcp.rst[0] || f.tcp.rst[1] || (f.tcp.fin[0] && f.tcp.fin[1]);
    return closed ? kLruTcpClosed : kLruTcpOpen;
}

int64_t FlowTable::class_limit(uint8_t c) const noexcept {
    switch (c) {
        case kLruUdp: return cfg_.udp_idle_us;
        case kLruTcpOpen: return cfg_.tcp_idle_us;
        case kLruTcpClosed: return cfg_.tcp_closed_idle_us;
        default: return cfg_.other_idle_us;
    }
}

uint32_t FlowTable::allocate() noexcept {
    if (!free_.empty()) {
        const uint32_t idx = free_.back();
        free_.pop_back();
        return idx;
    }
    // Growth happens only until the high-water mark of live flows.
    slab_.emplace_back();
    slab_ahead_.after_growth(slab_);
    return static_cast<uint32_t>(slab_.size() - 1);
}

void FlowTable::evict(uint32_t idx) noexcept {
    Flow& f = slab_[idx];
    if (on_evict_) on_evict_(f);
    lru_unlink(idx);
    // Backward-shift deletion keeps linear-probe chains intact without tombstones.
    uint64_t hole = f.hash_slot;
    uint64_t s = (hole + 1) & mask_;
    while (true) {
        const uint64_t e = slots_[s];
        if (e == kEmptySlot) break;
        const auto other = static_cast<uint32_t>(e);
        const uint64_t home = slab_[other].key_hash & mask_;
        // Move `other` into the hole if its home is not cyclically in (hole, s].
        const bool in_range = hole <= s ? (home > hole && home <= s) : (home > hole || home <= s);
        if (!in_range) {
            slots_[hole] = e;
            slab_[other].hash_slot = static_cast<uint32_t>(hole);
            hole = s;
        }
        s = (s + 1) & mask_;
    }
    slots_[hole] = kEmptySlot;
    f = Flow{};
    free_.push_back(idx);  // capacity reserved on the first evictions; no growth past the slab size
    --live_;
}

// A list is in order of its flows' LRU moves, each stamped with the clock,
// which never goes back; a flow's last activity lies within the LRU
// granularity after its stamp (a packet later than that moves it). So the
// walk of a list can stop at the first flow stamped within the timeout, and
// every flow before it is due exactly when its own last activity (the later
// of its latest packet and its stamp) is older than the timeout.
void FlowTable::expire(int64_t now_us) noexcept {
    // The first due flow of class c from list position i on (UINT32_MAX: none).
    const auto next_due = [&](int c, uint32_t i) {
        const int64_t limit = class_limit(static_cast<uint8_t>(c));
        for (; i != UINT32_MAX && now_us - slab_[i].lru_ts_us > limit; i = slab_[i].lru_next)
            if (now_us - std::max(slab_[i].last_ts_us, slab_[i].lru_ts_us) > limit) return i;
        return UINT32_MAX;
    };
    // The classes' due flows merged by LRU order, without a list of them.
    uint32_t due[kLruClasses];
    for (int c = 0; c < kLruClasses; ++c) due[c] = next_due(c, lru_head_[c]);
    for (uint32_t i; (i = oldest_of(due)) != UINT32_MAX;) {
        const uint8_t c = slab_[i].lru_class;
        const uint32_t after = slab_[i].lru_next;
        ++stats_.evicted_idle;
        evict(i);
        due[c] = next_due(c, after);
    }
}

void FlowTable::flush() noexcept {
    for (uint32_t i; (i = oldest_of(lru_head_)) != UINT32_MAX;) evict(i);
}

Flow* FlowTable::find(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport, uint8_t proto) noexcept {
    bool a_is_src = false;
    const FlowKey k = make_key(src, sport, dst, dport, proto, a_is_src);
    const uint64_t e = slots_[find_slot(k, hash(k))];
    return e == kEmptySlot ? nullptr : &slab_[static_cast<uint32_t>(e)];
}

namespace {

// History slots per endpoint (Zeek's HIST_* masks that have a letter here).
enum HistorySlot : uint8_t { kHistSyn, kHistFin, kHistRst, kHistData, kHistAck, kHistFlags, kHistSlots };
constexpr uint16_t kHistVariantBit = 12;  ///< + dir * 2 + (slot == kHistFlags): the second letter of a slot

// Records a letter the first time its slot is seen for that endpoint.
inline void add_history(Flow& f, Dir d, HistorySlot slot, bool variant) noexcept {
    const unsigned bit = unsigned{d} * unsigned{kHistSlots} + unsigned{slot};
    if (f.history_seen & (1u << bit)) return;
    f.history_seen = static_cast<uint16_t>(f.history_seen | (1u << bit));
    if (variant)
        f.history_seen =
            static_cast<uint16_t>(f.history_seen | (1u << (kHistVariantBit + d * 2 + (slot == kHistFlags ? 1 : 0))));
    for (int i = 0; i < 16; ++i)
        if (((f.history_order >> (i * 4)) & 0xF) == 0) {
            f.history_order |= uint64_t{bit + 1u} << (i * 4);
            return;
        }
}

// Zeek's update_history (TCPSessionAdapter): one flag of SYN/FIN/RST gives
// its letter; more than one Q (or I for FIN+RST); none gives D with payload,
// else A with ACK.
inline void tcp_history(Flow& f, Dir d, uint8_t flags, bool payload) noexcept {
    const bool syn = flags & decode::kTcpSyn, fin = flags & decode::kTcpFin, rst = flags & decode::kTcpRst;
    const int bits = int{syn} + int{fin} + int{rst};
    if (bits > 1) {
        add_history(f, d, kHistFlags, fin && rst);
    } else if (bits == 1) {
        if (syn) add_history(f, d, kHistSyn, (flags & decode::kTcpAck) != 0);
        if (fin) add_history(f, d, kHistFin, false);
        if (rst) add_history(f, d, kHistRst, false);
    } else if (payload) {
        add_history(f, d, kHistData, false);
    } else if (flags & decode::kTcpAck) {
        add_history(f, d, kHistAck, false);
    }
}

// A client's ACK (no SYN, no RST): how far it acknowledges the server's
// stream. A client in SYN-SENT answers nothing but a SYN-ACK with an ACK
// (RFC 9293 §3.10.7.3): its first ACK after its SYN, in its own sequence
// space past the SYN, proves the SYN-ACK reached it; a later, higher ACK
// number proves the server's bytes did.
inline void client_ack(TcpTrack& t, const decode::PacketMeta& m) noexcept {
    if (t.client_acked) {
        if (static_cast<int32_t>(m.tcp_ack - t.ack_max) > 0) t.ack_max = m.tcp_ack;
        return;
    }
    // An ACK of an earlier connection on the same ports (before the SYN in
    // the client's sequence space) says nothing about this one.
    if (t.isn_known[kFromClient] && static_cast<int32_t>(m.tcp_seq - t.isn[kFromClient]) <= 0) return;
    t.client_acked = true;
    t.ack_base = t.isn_known[kFromServer] ? t.isn[kFromServer] + 1 : m.tcp_ack;
    t.ack_max = m.tcp_ack;
}

}  // namespace

size_t history_text(const Flow& f, char* out) noexcept {
    static constexpr char kLetters[kHistSlots][2] = {{'S', 'H'}, {'F', 'F'}, {'R', 'R'},
                                                     {'D', 'D'}, {'A', 'A'}, {'Q', 'I'}};
    size_t n = 0;
    if (f.proto != kProtoTcp && f.proto != kProtoUdp) return 0;
    if (f.first_from_server) out[n++] = '^';
    for (int i = 0; i < 16; ++i) {
        const unsigned code = (f.history_order >> (i * 4)) & 0xF;
        if (code == 0) break;
        const unsigned bit = code - 1, d = bit / unsigned{kHistSlots}, slot = bit % unsigned{kHistSlots};
        const bool variant = (f.history_seen >> (kHistVariantBit + d * 2 + (slot == kHistFlags ? 1 : 0))) & 1u;
        char c = kLetters[slot][variant ? 1 : 0];
        if (d == kFromServer) c = static_cast<char>(c - 'A' + 'a');
        out[n++] = c;
    }
    return n;
}

std::string_view zeek_conn_state(const Flow& f) noexcept {
    if (f.proto == kProtoTcp) return to_string(f.state());
    if (f.proto == kProtoUdp) {
        const bool orig = f.packets[kFromClient] > 0, resp = f.packets[kFromServer] > 0;
        if (orig) return resp ? "SF" : "S0";
        return resp ? "SHR" : "OTH";
    }
    return "OTH";
}

void FlowTable::track_tcp(uint32_t idx, Dir d, const decode::PacketMeta& m, int64_t ts_us) noexcept {
    Flow& f = slab_[idx];
    TcpTrack& t = f.tcp;
    const uint8_t fl = m.tcp_flags;
    const bool syn = fl & decode::kTcpSyn, ack = fl & decode::kTcpAck;
    if (syn && !ack && d == kFromClient) {
        if (t.syn < 255) ++t.syn;
        if (t.first_syn_us == 0) t.first_syn_us = ts_us;
        t.last_syn_us = ts_us;
        t.isn[d] = m.tcp_seq;
        t.isn_known[d] = true;
    } else if (syn && ack && d == kFromServer) {
        if (t.synack < 255) ++t.synack;
        if (t.synack_us == 0) t.synack_us = ts_us;
        t.isn[d] = m.tcp_seq;
        t.isn_known[d] = true;
    } else if (ack && !syn && d == kFromClient) {
        if (t.synack > 0) t.saw_handshake_ack = true;
        if (!(fl & decode::kTcpRst)) client_ack(t, m);
    }
    if (fl & decode::kTcpRst) {
        if (!t.rst[d] && d == kFromServer) {
            t.rst_ttl = m.ttl;
            t.rst_us = ts_us;
            if (t.synack == 0 && t.syn > 0 && !t.data[kFromServer]) t.rst_before_synack = true;
        }
        t.rst[d] = true;
    }
    if (fl & decode::kTcpFin) t.fin[d] = true;
    if (!m.payload.empty() || m.payload_wire_len > 0) t.data[d] = true;
    tcp_history(f, d, fl, m.payload_wire_len > 0);
    if (const uint8_t c = lru_class_of(f); c != f.lru_class) {
        // Closed (FIN both ways, or RST): to the shorter timeout's list.
        lru_unlink(idx);
        f.lru_class = c;
        lru_push_back(idx);
    }
}

// A new flow for the packet `m` whose key `k` (hash `h`) is not in the
// table; `s`: the empty slot find_slot gave. Out of update()'s line: a flow
// is created once per thousands of packets, and inlined there it made every
// packet save and restore the registers it needs.
uint32_t FlowTable::create(const decode::PacketMeta& m, const FlowKey& k, uint64_t h, uint32_t s, bool a_is_src,
                           int64_t ts_us) noexcept {
    if (live_ >= cfg_.max_flows && live_ > 0) {
        ++stats_.evicted_full;
        evict(oldest_of(lru_head_));
        s = find_slot(k, h);  // the deletion may have shifted the chain
    } else if ((live_ + 1) * 2 > slots_.size() && slots_.size() < slot_count_for(cfg_.max_flows)) {
        grow_slots();  // keep the load factor at most 1/2
        s = find_slot(k, h);
    }
    const uint32_t idx = allocate();
    slots_[s] = make_slot(idx, h);
    Flow& f = slab_[idx];
    f = Flow{};
    f.key = k;
    f.key_hash = h;
    f.hash_slot = s;
    f.id = next_id_++;
    f.proto = m.proto;
    f.first_ts_us = ts_us;
    // Who started it: the sender of a SYN (no ACK); the receiver of a
    // SYN-ACK; otherwise the first sender, unless that packet comes from a
    // well-known service port to a high port (a reply seen first).
    bool src_is_client = true;
    if (m.proto == kProtoTcp) {
        const bool syn = (m.tcp_flags & decode::kTcpSyn) != 0;
        const bool ack = (m.tcp_flags & decode::kTcpAck) != 0;
        if (syn && ack)
            src_is_client = false;
        else if (!syn)
            f.initiator_guessed = true;
    } else {
        f.initiator_guessed = true;
    }
    if (f.initiator_guessed && well_known_service_port(m.sport) && !well_known_service_port(m.dport))
        src_is_client = false;
    f.client_is_a = (src_is_client == a_is_src);
    f.client_ip = src_is_client ? m.src : m.dst;
    f.server_ip = src_is_client ? m.dst : m.src;
    f.first_from_server = !src_is_client;
    f.client_port = src_is_client ? m.sport : m.dport;
    f.server_port = src_is_client ? m.dport : m.sport;
    if (m.proto == decode::kProtoIcmp || m.proto == decode::kProtoIcmp6) {
        f.first_icmp_type = m.icmp_type;
        f.first_icmp_code = m.icmp_code;
        f.first_icmp_from_client = src_is_client;
    }
    f.tcp.first_was_syn =
        m.proto == kProtoTcp && (m.tcp_flags & (decode::kTcpSyn | decode::kTcpAck)) == decode::kTcpSyn;
    ++live_;
    ++stats_.created;
    stats_.peak_live = std::max<uint64_t>(stats_.peak_live, live_);
    f.lru_class = lru_class_of(f);
    lru_push_back(idx);
    return idx;
}

bool FlowTable::idle_past_timeout(const Flow& f) const noexcept {
    return clock_us_ - std::max(f.last_ts_us, f.lru_ts_us) > class_limit(f.lru_class);
}

// A SYN without ACK on a connection closed by FINs both ways or a RST, with
// a sequence number other than its sender's SYN on it (not a
// retransmission): a new connection on the same ports, as tshark and Zeek
// read it.
bool FlowTable::new_syn_on_closed(const Flow& f, const decode::PacketMeta& m, bool a_is_src) noexcept {
    if (f.proto != kProtoTcp || f.lru_class != kLruTcpClosed ||
        (m.tcp_flags & (decode::kTcpSyn | decode::kTcpAck)) != decode::kTcpSyn)
        return false;
    const Dir d = (a_is_src == f.client_is_a) ? kFromClient : kFromServer;
    return !f.tcp.isn_known[d] || f.tcp.isn[d] != m.tcp_seq;
}

// Without a stack protector: its only locals are the key and the result,
// fixed-size values written from the decoded headers, never a buffer that
// packet bytes are copied into; the guard's load and check was a tenth of
// this per-packet function's own instructions.
[[gnu::no_stack_protector]] FlowTable::Lookup FlowTable::update(const decode::PacketMeta& m, int64_t ts_us) noexcept {
    bool a_is_src = false;
    const FlowKey k = canonical_key(m.src, m.sport, m.dst, m.dport, m.proto, a_is_src);
    const uint64_t h = hash(k);
    const uint32_t s = find_slot(k, h);
    const bool found = slots_[s] != kEmptySlot;
    uint32_t idx = static_cast<uint32_t>(slots_[s]);
    Lookup out;
    clock_us_ = std::max(clock_us_, ts_us);
    const bool idle = found && idle_past_timeout(slab_[idx]);
    if (idle || (found && new_syn_on_closed(slab_[idx], m, a_is_src))) {
        // The flow ended before this packet: idle past its timeout with no
        // expire() between its last packet and this one (no other frame in
        // the silence), or closed and opened again by a new SYN. It ends
        // here, as expire() would have ended it, and the packet starts a
        // new flow: whether a flow splits depends on its own packets alone.
        if (idle) ++stats_.evicted_idle;
        evict(idx);
        idx = create(m, k, h, find_slot(k, h), a_is_src, ts_us);
        out.created = true;
    } else if (!found) {
        idx = create(m, k, h, s, a_is_src, ts_us);
        out.created = true;
    } else if (clock_us_ - slab_[idx].lru_ts_us >= cfg_.lru_granularity_us) {
        lru_unlink(idx);
        lru_push_back(idx);
    }
    Flow& f = slab_[idx];
    const Dir d = (a_is_src == f.client_is_a) ? kFromClient : kFromServer;
    out.flow = &f;
    out.dir = d;
    // Capture time can go backwards (files merged from machines whose clocks
    // differ, a clock stepped during the capture). The record's span is the
    // earliest and latest packet time, and last_ts_us, which expire() compares
    // with the capture clock (the analyzer calls it only with times past the
    // last call's), never moves back: a packet stamped in the past must not
    // make a live flow look idle and get it split in two at the next expiry.
    // first_ts_us lies on a line the packet path does not touch otherwise:
    // only a packet from the past reads it.
    if (ts_us >= f.last_ts_us)
        f.last_ts_us = ts_us;
    else if (ts_us < f.first_ts_us)
        f.first_ts_us = ts_us;
    if (f.packets[d] == 0) f.ttl_first[d] = m.ttl;
    ++f.packets[d];
    f.bytes[d] += m.ip_total_len;
    f.payload_bytes[d] += m.payload_wire_len;
    f.ttl_min[d] = std::min(f.ttl_min[d], m.ttl);
    f.ttl_max[d] = std::max(f.ttl_max[d], m.ttl);
    if (m.later_fragment) {
        ++f.later_fragments;
        return out;
    }
    if (m.proto == kProtoTcp)
        track_tcp(idx, d, m, ts_us);
    else if (m.proto == kProtoUdp)
        add_history(f, d, kHistData, false);  // Zeek's UDP analyzer: D / d for every packet
    return out;
}

Flow* FlowTable::attach_icmp_error(const decode::PacketMeta& m, int64_t ts_us) noexcept {
    const decode::QuotedPacket& q = m.quoted;
    if (q.src.family == 0 || !q.has_ports) return nullptr;
    Flow* f = find(q.src, q.sport, q.dst, q.dport, q.proto);
    if (!f) return nullptr;
    if (f->icmp_errors < UINT16_MAX) ++f->icmp_errors;
    f->icmp_type = m.icmp_type;
    f->icmp_code = m.icmp_code;
    f->icmp_from = m.src;
    f->icmp_ts_us = ts_us;
    f->icmp_ttl = m.ttl;
    return f;
}

}  // namespace callwall::flow
