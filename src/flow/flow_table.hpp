// Bidirectional flows: canonical keys, per-direction counters, TCP state,
// ICMP errors attached to the flow they quote, idle timeouts and a flow bound.
//
// The table is open addressing (linear probing, backward-shift deletion) over
// a slot array of indices into a slab of Flow records, each with a tag of its
// flow's hash so probes skip other flows without reading them; the slot array
// doubles (load factor at most 1/2) and the slab grows up to the high-water
// mark of live flows, so a capture with 10k flows works in a few hundred KB
// of cache-resident slots. Intrusive LRU lists, one per idle timeout (UDP,
// TCP open, TCP closed, other), order flows by last activity (to
// FlowTableConfig::lru_granularity_us, on a clock that never goes back) so
// idle flows and, when the bound is reached, the least recently active flow
// are evicted in O(1) each. Whether a flow is expired depends on that flow
// alone (its last activity and its own timeout), never on the flows queued
// before it: a closed TCP flow does not wait behind a UDP flow with a longer
// timeout, and a table holding any subset of the flows evicts the same ones
// at the same ticks (what sharding the flows across threads needs). Evicted
// flows are handed to a callback (the store), never lost, oldest move first.
// After warm-up (the high-water mark of live flows) no call allocates.
//
// Key design (Suricata FlowHashKey4, Zeek session Key): the key holds the two
// endpoints in canonical order (lower address/port first) plus the protocol;
// the VLAN id is not part of the key (mirror ports often tag the two
// directions differently).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "decode/packet.hpp"
#include "util/huge_pages.hpp"

namespace callwall::flow {

/// Ports a server usually listens on; when no SYN tells who started a flow,
/// a packet *from* such a port to a high port is taken as a reply, so the
/// other side is the client (the capture began mid-conversation). A probe
/// never sends from one (probe::bind_next), so its flows are never turned
/// round.
[[nodiscard]] inline bool well_known_service_port(uint16_t p) noexcept {
    return p < 1024 || p == 3478 || p == 5349 || p == 19302 || p == 8801 || p == 5228;
}

using decode::IpAddr;

/// Canonical 5-tuple as five 64-bit words, so comparing and hashing a key
/// is a handful of word operations: the two endpoint addresses (16 bytes
/// each; IPv4 in the first 4) and one word of ports, protocol and family.
/// Endpoint a is the smaller (address words, then port) of the two; the
/// order is arbitrary but fixed, which is all a canonical key needs.
struct FlowKey {
    uint64_t a[2] = {0, 0}, b[2] = {0, 0};
    uint64_t ports_proto = 0;  ///< port_a << 32 | port_b << 16 | proto << 8 | family
    friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

/// Builds the canonical key; `a_is_src` tells whether the packet's source is endpoint a.
[[nodiscard]] FlowKey make_key(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport, uint8_t proto,
                               bool& a_is_src) noexcept;

/// Zeek's conn_state vocabulary for TCP (and a reduced form for UDP/ICMP).
/// See https://docs.zeek.org/en/master/scripts/base/protocols/conn/main.zeek.html
enum class ConnState : uint8_t {
    S0,  ///< SYN seen, no reply: attempted, no answer
    S1,  ///< established, not terminated
    SF,  ///< established and closed normally (FIN both ways)
    REJ,  ///< SYN answered by RST: rejected
    S2,  ///< established, originator sent FIN, no FIN from responder
    S3,  ///< established, responder sent FIN, no FIN from originator
    RSTO,  ///< established, originator aborted with RST
    RSTR,  ///< established, responder aborted with RST
    RSTOS0,  ///< originator sent SYN then RST, never a SYN-ACK
    RSTRH,  ///< responder sent SYN-ACK then RST, no SYN from originator seen
    SH,  ///< originator sent SYN then FIN, no SYN-ACK (half-open)
    SHR,  ///< responder sent SYN-ACK then FIN, no SYN from originator seen
    OTH,  ///< no SYN seen: mid-stream traffic
    // Non-TCP:
    UdpAnswered,  ///< packets in both directions
    UdpOneWay,  ///< packets from the initiator only
    OtherBoth,
    OtherOneWay,
};
[[nodiscard]] std::string_view to_string(ConnState s) noexcept;

struct Flow;
/// Zeek's conn_state for the flow: TCP as ConnState, UDP "SF" (both ways),
/// "S0" (the originator only), "SHR" (the responder only), anything else "OTH".
[[nodiscard]] std::string_view zeek_conn_state(const Flow& f) noexcept;
/// Zeek's conn.log history letters (upper case the originator's, lower case
/// the responder's), each once per endpoint in the order first seen:
/// TCP S (SYN), H (SYN-ACK), A (pure ACK), D (payload), F (FIN), R (RST),
/// Q (SYN/FIN/RST together), I (FIN and RST); UDP D (a packet); ICMP and
/// other protocols none. A leading
/// '^' when the first packet came from the responder. Not kept: Zeek's
/// counted letters (C checksum, T retransmission, W zero window, G gap)
/// and a SYN repeated with a new sequence number. `out` needs 14 bytes.
size_t history_text(const Flow& f, char* out) noexcept;

/// Direction index into per-direction arrays.
enum Dir : uint8_t { kFromClient = 0, kFromServer = 1 };

/// What each side's decoded messages were, one bit per side and kind (the
/// dissect stage's FlowApp::roles, the flow row's `roles` column): a DNS
/// query or STUN request asks, a DNS response (QR set) or a STUN success or
/// error response answers. Attribution orients a flow by them when the
/// capture holds only the answers (attrib::orient_by_protocol).
[[nodiscard]] constexpr uint8_t role_bit(Dir d, bool answer) noexcept {
    return static_cast<uint8_t>(1u << (d * 2 + (answer ? 1 : 0)));
}
inline constexpr uint8_t kClientAsked = role_bit(kFromClient, false), kClientAnswered = role_bit(kFromClient, true),
                         kServerAsked = role_bit(kFromServer, false), kServerAnswered = role_bit(kFromServer, true);

struct TcpTrack {
    uint8_t syn = 0;  ///< SYNs from the client (retransmissions included)
    uint8_t synack = 0;  ///< SYN-ACKs from the server
    bool saw_handshake_ack = false;  ///< client's ACK after the SYN-ACK
    bool rst[2] = {false, false};
    bool fin[2] = {false, false};
    bool first_was_syn = false;
    bool rst_before_synack = false;  ///< the server's first answer to the SYN was a RST
    bool data[2] = {false, false};  ///< payload seen per direction
    uint8_t rst_ttl = 0;  ///< TTL of the first RST from the server
    /// The server's stream as the client's ACKs acknowledge it: where it
    /// starts (the SYN-ACK's sequence number + 1; without one, the client's
    /// first ACK number) and the highest ACK number the client sent (serial
    /// order, RFC 1982). ack_max - ack_base bytes of the server's reached
    /// the client, captured or not: a capture of the client's side alone
    /// still shows that the server answered (acked_s2c in the flow's row).
    /// The two sit in what would be padding (the track stays 64 bytes).
    uint32_t ack_base = 0;
    int64_t first_syn_us = 0, last_syn_us = 0, synack_us = 0, rst_us = 0;
    uint32_t isn[2] = {0, 0};
    bool isn_known[2] = {false, false};
    /// The client sent an ACK (no SYN, no RST) after its SYN, or any such
    /// ACK when no SYN was seen: ack_base and ack_max hold.
    bool client_acked = false;
    uint32_t ack_max = 0;
};
static_assert(sizeof(TcpTrack) == 64, "the TCP track is one cache line of the flow: see Flow's member order");

struct alignas(64) Flow {
    // Ordered by use so a UDP packet touches three cache lines. Line 0, the
    // lookup: a probe reads the hash and the key, a hit the LRU links and time.
    uint64_t key_hash = 0;  ///< hash(key), cached: probes compare it before the key
    FlowKey key;
    uint32_t lru_prev = UINT32_MAX, lru_next = UINT32_MAX;  ///< intrusive LRU (indices into the slab)
    int64_t last_ts_us = 0;  ///< latest packet time (never moves back when capture time does)
    // Line 1: what every packet updates.
    uint64_t packets[2] = {0, 0};
    uint64_t bytes[2] = {0, 0};  ///< IP bytes per direction
    uint64_t payload_bytes[2] = {0, 0};
    int64_t lru_ts_us = 0;  ///< the table's clock when the flow was last moved to its LRU list's tail
    uint8_t ttl_min[2] = {255, 255}, ttl_max[2] = {0, 0};
    uint8_t proto = 0;
    bool client_is_a = true;  ///< which canonical endpoint is the client
    bool initiator_guessed = false;  ///< no SYN: the client is a guess (first sender / port heuristic)
    uint8_t lru_class = 0;  ///< which LRU list (FlowTable's idle-timeout classes)
    // Then: TCP state (TCP packets), the rest (rarely per packet).
    TcpTrack tcp;
    uint32_t later_fragments = 0;  ///< non-first fragments counted against the flow
    uint32_t hash_slot = UINT32_MAX;
    uint64_t id = 0;  ///< run-scoped, in order of creation (stable for golden output)
    // Endpoints as client (initiator) and server.
    IpAddr client_ip, server_ip;
    uint16_t client_port = 0, server_port = 0;
    int64_t first_ts_us = 0;  ///< earliest packet time
    // Line 4: what the dissect stage (app_slot) and the conn history read on
    // every packet, then what only some flows or a flow's ends touch. Five
    // lines in all: the history at the end of a sixth made every packet
    // touch one more line, and every flow 64 bytes larger.
    // Owned by the dissect stage (application facts); opaque here.
    uint32_t app_slot = UINT32_MAX;
    // Zeek's conn.log history (see history_text): each letter once per
    // endpoint, in the order first seen. A letter is a slot (HistorySlot)
    // and a direction; `history_order` holds the slots as nibbles (slot + 1,
    // the client's 1-6, the server's 7-12), `history_seen` one bit per slot
    // and, in its top bits, which variant the two-letter slots took
    // (SYN: S or H; flags: Q or I).
    uint16_t history_seen = 0;
    bool first_from_server = false;  ///< the first packet came from the server (Zeek's '^')
    /// The packet that opened the flow went to the link-layer broadcast
    /// address (Ethernet ff:ff:ff:ff:ff:ff, or Linux cooked capture's
    /// "broadcast" packet type): nothing is expected to answer it.
    bool link_broadcast = false;
    uint64_t history_order = 0;
    /// Order of the last move to an LRU tail, across all lists (FlowTable::at):
    /// evictions that happen together go oldest move first.
    uint64_t lru_seq = 0;
    // ICMP errors quoting this flow.
    int64_t icmp_ts_us = 0;
    IpAddr icmp_from;  ///< sender of the last ICMP error
    uint16_t icmp_errors = 0;
    uint8_t icmp_type = 0, icmp_code = 0;  ///< the last one
    uint8_t icmp_ttl = 0;
    /// The IP TTL (IPv6: hop limit) of the first packet from each side (valid once packets[d] > 0).
    uint8_t ttl_first[2] = {0, 0};
    // ICMP/ICMPv6 flows: the type and code of the flow's first packet, and
    // whether the client sent it (what Zeek's ICMP "ports" and the
    // Community ID are made of).
    uint8_t first_icmp_type = 0, first_icmp_code = 0;
    bool first_icmp_from_client = true;
    /// The capture's interfaces the flow's packets came on, one bit each
    /// (interface_bit); 0: none known (a datagram made whole from fragments).
    uint32_t interfaces = 0;

    [[nodiscard]] ConnState state() const noexcept;
};
static_assert(sizeof(Flow) == 5 * 64, "a flow is five cache lines: see the order of its members");

/// A capture interface's bit in Flow::interfaces (decode::RawFrame::interface):
/// interfaces 31 and above share the top bit.
[[nodiscard]] constexpr uint32_t interface_bit(uint16_t interface) noexcept {
    return uint32_t{1} << (interface < 31 ? interface : 31);
}

struct FlowTableConfig {
    uint32_t max_flows = 1u << 20;  ///< bound on live flows; the LRU flow is evicted beyond it
    int64_t udp_idle_us = 120'000'000;
    int64_t tcp_idle_us = 300'000'000;  ///< established / in progress
    int64_t tcp_closed_idle_us = 30'000'000;  ///< after FIN both ways or RST
    int64_t other_idle_us = 60'000'000;
    uint64_t hash_seed = 0x9E3779B97F4A7C15ull;
    /// A flow is moved to the LRU tail at most once per this much capture
    /// time, not on every packet (relinking touches two other flows' cache
    /// lines). Expiry and the bound then see last activity to within this
    /// granularity; 0 = exact LRU.
    int64_t lru_granularity_us = 100'000;
};

struct FlowTableStats {
    uint64_t created = 0;
    uint64_t evicted_idle = 0;
    uint64_t evicted_full = 0;  ///< forced out by max_flows
    uint64_t peak_live = 0;
};

class FlowTable {
public:
    using EvictFn = std::function<void(Flow&)>;

    explicit FlowTable(const FlowTableConfig& cfg = {});

    struct Lookup {
        Flow* flow = nullptr;
        Dir dir = kFromClient;
        bool created = false;
    };

    /// Finds or creates the flow of this packet and updates its counters and
    /// TCP state. `ts_us` drives timeouts.
    Lookup update(const decode::PacketMeta& m, int64_t ts_us) noexcept;

    /// Finds the flow an ICMP error quotes (the quoted packet was sent by the
    /// flow's endpoint that received the error) and records the error on it.
    /// Returns nullptr when no live flow matches.
    Flow* attach_icmp_error(const decode::PacketMeta& m, int64_t ts_us) noexcept;

    /// Finds a live flow by its 5-tuple in either direction.
    Flow* find(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport, uint8_t proto) noexcept;

    /// The clock and order of what follows (one call per packet, before its
    /// update): `clock_us` never goes back (the caller's latest capture time)
    /// and `seq` grows (the packet's index in the run). Without calls, the
    /// clock is the latest `ts_us` given to update() and the order its calls'.
    void at(int64_t clock_us, uint64_t seq) noexcept {
        clock_us_ = std::max(clock_us_, clock_us);
        seq_ = std::max(seq_, seq << 24);  // room for the moves of one packet (and a tick's: Analyzer)
    }
    /// The order of the next LRU move, exactly (a datagram released by a tick: Analyzer).
    void set_seq(uint64_t seq) noexcept { seq_ = seq; }
    /// Evicts every flow idle longer than its timeout at `now_us` (last
    /// activity: its latest packet, or its last LRU move if the clock was
    /// ahead of that packet's time), oldest LRU move first.
    void expire(int64_t now_us) noexcept;
    /// Evicts every flow (end of run), oldest activity first.
    void flush() noexcept;

    void set_evict_callback(EvictFn fn) { on_evict_ = std::move(fn); }
    [[nodiscard]] size_t live() const noexcept { return live_; }
    [[nodiscard]] const FlowTableStats& stats() const noexcept { return stats_; }
    /// Visits live flows, oldest LRU move first (for periodic snapshots). Do
    /// not modify the table inside.
    template <class F>
    void for_each(F&& f) {
        uint32_t pos[kLruClasses];
        for (int c = 0; c < kLruClasses; ++c) pos[c] = lru_head_[c];
        for (uint32_t i; (i = oldest_of(pos)) != UINT32_MAX;) {
            pos[slab_[i].lru_class] = slab_[i].lru_next;
            f(slab_[i]);
        }
    }
    /// Slab index of a flow (stable while the flow is live).
    [[nodiscard]] uint32_t index_of(const Flow& f) const noexcept { return static_cast<uint32_t>(&f - slab_.data()); }

private:
    [[nodiscard]] uint64_t hash(const FlowKey& k) const noexcept;
    uint32_t find_slot(const FlowKey& k, uint64_t h) const noexcept;
    uint32_t allocate() noexcept;
    /// The flow ended before the packet now looked up (update()): idle past
    /// its timeout at the clock, or a new SYN on it once closed.
    bool idle_past_timeout(const Flow& f) const noexcept;
    static bool new_syn_on_closed(const Flow& f, const decode::PacketMeta& m, bool a_is_src) noexcept;
    /// A flow for a packet whose key is not in the table (update's cold half).
    [[gnu::noinline]] uint32_t create(const decode::PacketMeta& m, const FlowKey& k, uint64_t h, uint32_t s,
                                      bool a_is_src, int64_t ts_us) noexcept;
    void grow_slots() noexcept;  ///< doubles the slot array and re-places every live flow
    void evict(uint32_t idx) noexcept;
    /// A TCP packet's flags and payload on the flow's state; a flow that
    /// closes moves to the closed list.
    void track_tcp(uint32_t idx, Dir d, const decode::PacketMeta& m, int64_t ts_us) noexcept;
    void lru_unlink(uint32_t idx) noexcept;
    /// Appends the flow to its class's list, stamped with the clock and the next sequence.
    void lru_push_back(uint32_t idx) noexcept;
    /// The flow's LRU class from its protocol and TCP state.
    [[nodiscard]] static uint8_t lru_class_of(const Flow& f) noexcept;
    /// Of the flows at the given list positions, the one moved least recently (UINT32_MAX: none).
    [[nodiscard]] uint32_t oldest_of(const uint32_t* at) const noexcept {
        uint32_t best = UINT32_MAX;
        for (int c = 0; c < kLruClasses; ++c)
            if (at[c] != UINT32_MAX && (best == UINT32_MAX || slab_[at[c]].lru_seq < slab_[best].lru_seq)) best = at[c];
        return best;
    }
    [[nodiscard]] int64_t class_limit(uint8_t c) const noexcept;

    FlowTableConfig cfg_;
    /// A slot holds the flow's slab index (low 32 bits) and the high 32 bits
    /// of its key hash as a tag, so a probe past another flow's slot reads
    /// that flow's record (a cache miss) only when the tags match.
    static constexpr uint64_t kTagMask = 0xFFFFFFFF00000000ull;
    static constexpr uint64_t kEmptySlot = UINT64_MAX;
    [[nodiscard]] static uint64_t make_slot(uint32_t idx, uint64_t hash) noexcept { return (hash & kTagMask) | idx; }
    util::HugeVector<uint64_t> slots_;  ///< kEmptySlot = empty (on huge pages from 256 KiB: util/huge_pages.hpp)
    uint64_t mask_ = 0;
    util::HugeVector<Flow> slab_;
    util::PopulateAhead slab_ahead_;
    std::vector<uint32_t> free_;
    // The LRU classes: one idle timeout each, so each list is in order of
    // expiry (to the LRU granularity) and expire() stops at the first flow
    // of a list stamped within the timeout.
    static constexpr int kLruUdp = 0, kLruTcpOpen = 1, kLruTcpClosed = 2, kLruOther = 3, kLruClasses = 4;
    uint32_t lru_head_[kLruClasses] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
    uint32_t lru_tail_[kLruClasses] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
    int64_t clock_us_ = INT64_MIN;  ///< never goes back (at(), update())
    uint64_t seq_ = 0;  ///< the next LRU move's order
    size_t live_ = 0;
    uint64_t next_id_ = 1;
    FlowTableStats stats_;
    EvictFn on_evict_;
};

}  // namespace callwall::flow
