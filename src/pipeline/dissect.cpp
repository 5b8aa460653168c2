// The dissect stage. See pipeline/dissect.hpp.
#include "callwall/pipeline/dissect.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <optional>

#include "callwall/proto/dns.hpp"
#include "callwall/proto/dtls.hpp"
#include "callwall/proto/quic.hpp"
#include "callwall/proto/rtp.hpp"
#include "callwall/proto/stun.hpp"
#include "callwall/proto/tls.hpp"
#include "pipeline/buffer_pool.hpp"
#include "pipeline/proxy_preamble.hpp"
#include "pipeline/tcp_reassembly.hpp"

namespace callwall::pipeline {
namespace {

namespace dns = proto::dns;
namespace tls = proto::tls;
namespace quic = proto::quic;
namespace stun = proto::stun;
namespace rtp = proto::rtp;
namespace dtls = proto::dtls;
using decode::IpAddr;
using flow::Dir;
using flow::Flow;

// Payload packets a flow may show before it is given up as "none of ours".
// Every protocol here announces itself in its first packet or two (a DNS
// message, a TLS record, a QUIC Initial, a STUN request); 8 allows for
// leading junk and retransmissions.
constexpr uint8_t kClassifyPackets = 8;
// An Rtc flow (STUN/DTLS/RTP candidates) with none of them confirmed after
// this many packets is given up (the RTP confirmer rejects within 32).
constexpr uint16_t kRtcGiveUpPackets = 64;
// Streams per flow: audio + video + RTX in each direction, plus TURN-carried.
constexpr size_t kRtpStreamsPerFlow = 8;
// RTP streams with fewer packets are not reported (one or two stray
// RTP-looking packets on a flow that is RTP for other SSRCs).
constexpr uint64_t kMinStreamPackets = 2;
// Outstanding STUN transactions per flow (ICE paces checks, see stun.hpp).
constexpr size_t kStunTxnSlots = 32;
// Outstanding DNS queries per flow; resolvers pipeline a handful.
constexpr size_t kDnsPending = 16;
// Buffer for one TCP direction of STUN/TURN framing: a TURN message or
// ChannelData frame carrying media fits well within it.
constexpr size_t kStunFramerBuffer = 4096;

// Pool bounds (buffers lent to flows that need them; see the file header).
constexpr size_t kTlsSlots = 2048;  // per direction: a ClientHello or a server's first flight in progress
constexpr size_t kQuicSlots = 512;
// One client address holds at most this many handshake buffers (its own
// least recently progressed one is reclaimed beyond): a browser opens a few
// dozen connections at once, a host stalling thousands is junk (issue 22).
constexpr size_t kTlsSlotsPerSource = kTlsSlots / 16;
constexpr size_t kQuicSlotsPerSource = kQuicSlots / 16;
constexpr size_t kTcpOooSlots = 1024;       // TCP directions with a hole open (16 KiB each)
constexpr size_t kProxySlots = 1024;        // proxy preambles being read (2 KiB each)
// After a gap, bytes scanned for a frame start before a direction is given
// up for good (a flow that only looked like STUN/DNS at first).
constexpr uint32_t kResyncBudget = 64 * 1024;
// Roles of a flow's reclaimable buffers (SlotOwner::role).
constexpr uint8_t kRoleTlsClient = 0, kRoleTlsServer = 1, kRoleQuic = 2;
constexpr size_t kStunSlots = 16384;
constexpr size_t kStunTcpSlots = 1024;
constexpr size_t kRtpSlots = 16384;
constexpr size_t kDnsPendingSlots = 65536;  // flows with DNS queries awaiting an answer (256 B each)
constexpr size_t kDnsTcpSlots = 1024;       // DNS-over-TCP connections being framed (8 KiB each)

/// In-order delivery of one TCP direction for the framers. Lives in the
/// slot of the framer it feeds (DNS, STUN, proxy preamble), so flows that
/// need none pay nothing; the caller returns `ooo` before the slot is reset.
struct TcpStream {
    TcpReassembler r;
    int32_t ooo = -1;             ///< TcpOooStore lent while a hole is open
    bool resync = false;          ///< after a gap: looking for the next frame start
    bool dead = false;            ///< resynchronisation budget spent: direction given up
    uint32_t resync_scanned = 0;  ///< bytes scanned since the gap
};

// One direction of a TLS first flight being reassembled; returned to the
// pool as soon as that side is decoded (or given up on).
struct TlsSlot {
    std::array<uint8_t, tls::kMinFlightBuffer> buf;
    std::optional<tls::ClientHelloAssembler> client;
    std::optional<tls::ServerFlightAssembler> server;
    void reset() noexcept {
        client.reset();
        server.reset();
    }
};

struct QuicSlot {
    std::array<uint8_t, quic::kRecommendedCryptoBuffer> buf;
    std::optional<quic::ClientInitialAssembler> assembler;
    void reset() noexcept { assembler.reset(); }
};

struct StunSlot {
    std::array<stun::PendingTransaction, kStunTxnSlots> txns{};
    std::optional<stun::TransactionTracker> tracker;
    stun::ChannelValidator validator;
    uint32_t ice_checks = 0;  // new requests that are ICE connectivity checks
    // The responder's own transactions (a peer checking back, RFC 8445
    // §7.3.1.4): requests it sent, retransmitted, and got answered.
    uint32_t server_requests = 0, server_retransmissions = 0, server_answered = 0;
    void reset() noexcept {
        tracker.reset();
        txns = {};
        validator = {};
        ice_checks = server_requests = server_retransmissions = server_answered = 0;
    }
};

struct StunTcpSlot {
    std::array<std::array<uint8_t, kStunFramerBuffer>, 2> buf;
    std::array<std::optional<stun::StreamFramer>, 2> framer;
    // The framing each direction used before a gap (kept for resynchronisation).
    std::array<stun::StreamFraming, 2> framing{};
    std::array<TcpStream, 2> stream;
    void reset() noexcept { framer[0].reset(), framer[1].reset(), framing = {}, stream = {}; }
};

struct RtpStream {
    bool used = false;
    bool via_turn = false;
    uint8_t dir = 0;
    uint32_t ssrc = 0;
    int64_t first_us = 0, last_us = 0;
    rtp::StreamStats stats{rtp::JitterMode::Wireshark};
};

struct RtpSlot {
    rtp::Confirmer direct, turn;
    std::array<RtpStream, kRtpStreamsPerFlow> streams;
    uint32_t streams_dropped = 0;
    void reset() noexcept { *this = RtpSlot{}; }
};

struct DnsPending {
    bool used = false;
    uint16_t id = 0;
    uint16_t qtype = 0;
    uint32_t qname = 0;
    int64_t ts_us = 0;
};

// Queries of one flow awaiting their answer; returned when none is pending.
struct DnsPendingSlot {
    std::array<DnsPending, kDnsPending> pending{};
    void reset() noexcept { pending = {}; }
    [[nodiscard]] bool empty() const noexcept {
        for (const auto& p : pending)
            if (p.used) return false;
        return true;
    }
};

// The proxy request and reply read before the tunnelled TLS starts.
struct ProxySlot {
    std::array<std::array<uint8_t, proxy::kMaxPreamble>, 2> buf;
    std::array<uint16_t, 2> len{};
    std::array<TcpStream, 2> stream;
    void reset() noexcept { len = {}, stream = {}; }
};

struct DnsTcpSlot {
    std::array<dns::TcpFramer, 2> framer;
    std::array<TcpStream, 2> stream;
    void reset() noexcept {
        framer[0].reset();
        framer[1].reset();
        stream = {};
    }
};

enum class Kind : uint8_t { Undecided, Dns, Tls, Quic, Rtc, StunTcp, Unknown };


/// Per-flow application state (parallel to the flow table's slab).
struct FlowApp {
    Kind kind = Kind::Undecided;
    uint8_t tries = 0;
    uint16_t apps = 0;
    uint16_t rtc_packets = 0;
    int32_t tls_c = -1, tls_s = -1, quic = -1, stun = -1, stun_tcp = -1, rtp = -1, dns = -1, dns_tcp = -1;
    // Hello facts (TLS or QUIC).
    bool hello = false;
    bool hello_ech = false;
    bool server_hello = false;
    bool hello_failed = false, server_failed = false;
    int16_t alert = -1;
    uint8_t hello_proto = 0;  // 0 tls, 1 quic, 2 gquic
    uint32_t sni = 0;
    uint32_t alpn = 0;
    uint16_t hello_version = 0, server_version = 0;
    uint32_t quic_version = 0;
    int64_t hello_ts_us = 0;
    // Counters.
    uint32_t channel_data = 0;
    uint64_t rtp_packets = 0, rtcp_packets = 0;
    bool dtls_handshake = false;
    // TLS behind a proxy preamble (SOCKS4/4a/5, HTTP CONNECT).
    proxy::Kind proxy = proxy::Kind::None;
    bool preamble_done[2] = {false, false};
    int32_t proxy_slot = -1;
    uint32_t tls_start[2] = {0, 0};  ///< sequence number of the first tunnelled byte
    uint32_t proxy_target = 0;       ///< interned host the client asked the proxy for
    uint16_t proxy_port = 0;         ///< the port the client asked the proxy for
};

std::string_view rcode_name(uint16_t rc) noexcept {
    switch (rc) {
        case 0: return "NOERROR";
        case 1: return "FORMERR";
        case 2: return "SERVFAIL";
        case 3: return "NXDOMAIN";
        case 4: return "NOTIMP";
        case 5: return "REFUSED";
        default: return "OTHER";
    }
}

std::string rrtype_name(uint16_t t) {
    switch (t) {
        case 1: return "A";
        case 5: return "CNAME";
        case 28: return "AAAA";
        case 64: return "SVCB";
        case 65: return "HTTPS";
        default: return "TYPE" + std::to_string(t);
    }
}

std::string tls_version_name(uint16_t v) {
    switch (v) {
        case 0x0304: return "TLS1.3";
        case 0x0303: return "TLS1.2";
        case 0x0302: return "TLS1.1";
        case 0x0301: return "TLS1.0";
        case 0x0300: return "SSL3.0";
        case 0: return "";
        default: {
            char b[16];
            std::snprintf(b, sizeof b, "0x%04x", v);
            return b;
        }
    }
}

std::string quic_version_name(uint32_t v) {
    const quic::VersionInfo vi = quic::classify_version(v);
    char b[24];
    switch (vi.family) {
        case quic::VersionFamily::V1: return "QUICv1";
        case quic::VersionFamily::V2: return "QUICv2";
        case quic::VersionFamily::IetfDraft: std::snprintf(b, sizeof b, "draft-%u", vi.draft); return b;
        case quic::VersionFamily::GoogleQ: std::snprintf(b, sizeof b, "Q%03u", vi.gquic); return b;
        case quic::VersionFamily::GoogleT: std::snprintf(b, sizeof b, "T%03u", vi.gquic); return b;
        default: std::snprintf(b, sizeof b, "0x%08x", v); return b;
    }
}

std::string hex(ByteView v) {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(v.size() * 2);
    for (uint8_t b : v) {
        s += d[b >> 4];
        s += d[b & 15];
    }
    return s;
}

/// An address as text in a stack buffer (no allocation; store::format_ip).
class IpText {
public:
    explicit IpText(const IpAddr& a) noexcept : n_(store::format_ip(a, buf_, sizeof buf_)) {}
    [[nodiscard]] std::string_view view() const noexcept { return {buf_, n_}; }

private:
    char buf_[64];
    size_t n_;
};

struct IpAddrHash {
    size_t operator()(const IpAddr& a) const noexcept {
        return static_cast<size_t>(decode::hash_append(decode::kFnvOffsetBasis, a));
    }
};

IpAddr from_stun(const stun::Address& a) {
    IpAddr r;
    r.family = a.family;
    std::memcpy(r.bytes.data(), a.addr.data(), a.family == 4 ? 4 : 16);
    return r;
}

}  // namespace

// ---------------------------------------------------------------------------

std::string app_text(uint16_t bits) {
    static constexpr std::pair<uint16_t, const char*> kNames[] = {
        {kAppDns, "dns"},   {kAppTls, "tls"},   {kAppQuic, "quic"}, {kAppGquic, "gquic"}, {kAppStun, "stun"},
        {kAppTurn, "turn"}, {kAppMsTurn, "ms-turn"}, {kAppDtls, "dtls"}, {kAppRtp, "rtp"},     {kAppRtcp, "rtcp"},
    };
    std::string s;
    for (auto [bit, name] : kNames) {
        if (!(bits & bit)) continue;
        if (!s.empty()) s += '+';
        s += name;
    }
    return s;
}

uint32_t NameTable::intern(std::string_view name) {
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty()) return 0;
    // Lowercased on the stack (a DNS name is at most 255 bytes, an SNI may be
    // longer): a name seen before is found without allocating.
    char stack[256];
    std::string heap;
    char* lower = stack;
    if (name.size() > sizeof stack) {
        heap.resize(name.size());
        lower = heap.data();
    }
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        lower[i] = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    const std::string_view key(lower, name.size());
    auto it = ids_.find(key);
    if (it != ids_.end()) return it->second;
    if (names_.size() > kMaxNames) {
        ++dropped_;
        return 0;
    }
    const uint32_t id = static_cast<uint32_t>(names_.size());
    auto [pos, _] = ids_.emplace(std::string(key), id);
    names_.push_back(&pos->first);
    return id;
}

std::string_view NameTable::get(uint32_t id) const noexcept {
    return id > 0 && id < names_.size() ? std::string_view(*names_[id]) : std::string_view();
}

size_t NameMap::KeyHash::operator()(const Key& k) const noexcept {
    const uint64_t h = decode::hash_append(decode::hash_append(decode::kFnvOffsetBasis, k.client), k.address);
    return static_cast<size_t>(h ^ (h >> 29));
}

void NameMap::add(const IpAddr& client, const IpAddr& address, uint32_t name, int64_t ts_us) {
    if (name == 0) return;
    auto it = map_.find(Key{client, address});
    if (it == map_.end()) {
        if (map_.size() >= kMaxEntries) {
            ++dropped_;
            return;
        }
        it = map_.emplace(Key{client, address}, Names{}).first;
    }
    Names& n = it->second;
    for (uint8_t i = 0; i < n.count; ++i)
        if (n.items[i].name == name) return;  // keep the first time it was seen
    if (n.count >= kNamesPerAddress) {
        ++dropped_;
        return;
    }
    n.items[n.count++] = Named{name, ts_us};
}

size_t NameMap::lookup(const IpAddr& client, const IpAddr& address, int64_t at_us, uint32_t* out,
                       size_t cap) const noexcept {
    auto it = map_.find(Key{client, address});
    if (it == map_.end()) return 0;
    size_t k = 0;
    for (uint8_t i = 0; i < it->second.count && k < cap; ++i)
        if (it->second.items[i].ts_us <= at_us) out[k++] = it->second.items[i].name;
    return k;
}

// ---------------------------------------------------------------------------

struct Dissector::Impl {
    Impl(store::Store* s, int64_t run) : store(s), run_id(run) {}

    store::Store* store;
    int64_t run_id;
    std::vector<FlowApp> apps;
    ReclaimPool<TlsSlot> tls_pool{kTlsSlots, kTlsSlotsPerSource};
    ReclaimPool<QuicSlot> quic_pool{kQuicSlots, kQuicSlotsPerSource};
    Pool<TcpOooStore> ooo_pool{kTcpOooSlots};
    Pool<ProxySlot> proxy_pool{kProxySlots};
    Pool<StunSlot> stun_pool{kStunSlots};
    Pool<StunTcpSlot> stun_tcp_pool{kStunTcpSlots};
    Pool<RtpSlot> rtp_pool{kRtpSlots};
    Pool<DnsPendingSlot> dns_pool{kDnsPendingSlots};
    Pool<DnsTcpSlot> dns_tcp_pool{kDnsTcpSlots};
    quic::Decryptor decryptor;
    NameTable names;
    NameMap name_map;
    /// TURN peer/relayed address → the TURN server's name (from its flow).
    std::unordered_map<IpAddr, uint32_t, IpAddrHash> peers;
    // TURN allocations name a handful of peers each; a hostile stream of
    // XOR-PEER-ADDRESS values must not grow the map without bound.
    static constexpr size_t kMaxPeers = 1u << 16;
    void add_peer(const IpAddr& addr, uint32_t name) {
        if (peers.size() >= kMaxPeers && !peers.count(addr)) {
            ++stats.peers_dropped;
            return;
        }
        peers.emplace(addr, name);
    }
    DissectStats stats;
    std::exception_ptr error;
    // Scratch for the flow row's strings (views handed out by on_flow_end).
    std::string app_buf, name_buf, source_buf;

    template <class F>
    void write(F&& f) noexcept {
        if (!store || error) return;
        try {
            f(*store);
        } catch (...) {
            error = std::current_exception();
        }
    }

    FlowApp& app(uint32_t slot) {
        if (slot >= apps.size()) apps.resize(std::max<size_t>(slot + 1, apps.size() * 2));
        return apps[slot];
    }

    template <class P>
    int32_t lend(P& pool) {
        const int32_t i = pool.acquire();
        if (i < 0) ++stats.pool_exhausted;
        return i;
    }

    // Handshake buffers: reclaimed from the least recently progressed owner
    // when the pool is full or the client address is at its bound.
    static uint64_t source_of(const Flow& f) noexcept { return decode::hash_append(decode::kFnvOffsetBasis, f.client_ip); }
    uint32_t index_of(const FlowApp& a) const noexcept { return static_cast<uint32_t>(&a - apps.data()); }
    void detach(SlotOwner o) noexcept {
        if (o.flow >= apps.size()) return;
        FlowApp& x = apps[o.flow];
        if (o.role == kRoleTlsClient) x.tls_c = -1, x.hello_failed = true;
        else if (o.role == kRoleTlsServer) x.tls_s = -1, x.server_failed = true;
        else x.quic = -1, x.hello_failed = true;
    }
    template <class P>
    int32_t lend_reclaimable(P& pool, const Flow& f, const FlowApp& a, uint8_t role) {
        SlotOwner evicted;
        bool reclaimed = false;
        const int32_t i = pool.acquire(source_of(f), SlotOwner{index_of(a), role}, &evicted, &reclaimed);
        if (reclaimed) detach(evicted);
        return i;
    }

    void release_streams(std::array<TcpStream, 2>& streams) noexcept {
        for (TcpStream& st : streams)
            if (st.ooo >= 0) ooo_pool.release(st.ooo), st.ooo = -1;
    }
    // The TCP stream state of a flow: in the slot of the framer it feeds.
    TcpStream* streams_of(FlowApp& a) noexcept {
        switch (a.kind) {
            case Kind::Dns: return a.dns_tcp >= 0 ? dns_tcp_pool.at(a.dns_tcp).stream.data() : nullptr;
            case Kind::StunTcp: return a.stun_tcp >= 0 ? stun_tcp_pool.at(a.stun_tcp).stream.data() : nullptr;
            case Kind::Tls: return a.proxy_slot >= 0 ? proxy_pool.at(a.proxy_slot).stream.data() : nullptr;
            default: return nullptr;
        }
    }

    void release_all(FlowApp& a) noexcept {
        if (a.tls_c >= 0) tls_pool.release(a.tls_c);
        if (a.tls_s >= 0) tls_pool.release(a.tls_s);
        if (a.dns_tcp >= 0) release_streams(dns_tcp_pool.at(a.dns_tcp).stream), dns_tcp_pool.release(a.dns_tcp);
        if (a.quic >= 0) quic_pool.release(a.quic);
        if (a.stun >= 0) stun_pool.release(a.stun);
        if (a.stun_tcp >= 0) release_streams(stun_tcp_pool.at(a.stun_tcp).stream), stun_tcp_pool.release(a.stun_tcp);
        if (a.rtp >= 0) rtp_pool.release(a.rtp);
        if (a.dns >= 0) dns_pool.release(a.dns);
        if (a.proxy_slot >= 0) release_streams(proxy_pool.at(a.proxy_slot).stream), proxy_pool.release(a.proxy_slot);
        a.tls_c = a.tls_s = a.quic = a.stun = a.stun_tcp = a.rtp = a.dns = a.dns_tcp = a.proxy_slot = -1;
    }

    uint32_t dns_name_of(const Flow& f, int64_t at_us) const noexcept {
        uint32_t n[1];
        return name_map.lookup(f.client_ip, f.server_ip, at_us, n, 1) ? n[0] : 0;
    }

    // ---- DNS ----
    void on_dns_message(Flow& f, FlowApp& a, Dir d, ByteView msg, int64_t ts_us) {
        auto r = dns::decode(msg, dns_dialect(f));
        if (!r) {
            ++stats.dns_malformed;
            return;
        }
        ++stats.dns_messages;
        a.apps |= kAppDns;
        const dns::Message& m = *r;
        if (a.dns < 0 && !m.header.qr) a.dns = lend(dns_pool);
        DnsPendingSlot* slot = a.dns >= 0 ? &dns_pool.at(a.dns) : nullptr;
        const std::string_view qname = m.has_question ? m.name(m.question.qname) : std::string_view();
        const uint32_t qname_id = names.intern(qname);
        if (!m.header.qr) {
            if (!slot || !m.has_question) return;
            DnsPending* free_p = nullptr;
            for (auto& p : slot->pending) {
                if (p.used && p.id == m.header.id && p.qname == qname_id) return;  // retransmission
                if (!p.used && !free_p) free_p = &p;
            }
            if (!free_p) free_p = &slot->pending[m.header.id % kDnsPending];  // overwrite: bounded
            *free_p = DnsPending{true, m.header.id, m.question.qtype, qname_id, ts_us};
            return;
        }
        // A response: the client is the flow's client (the side that asked).
        (void)d;
        const double ts = static_cast<double>(ts_us) / 1e6;
        const IpText client_text(f.client_ip), server_text(f.server_ip);
        const std::string_view client = client_text.view(), server = server_text.view();
        if (slot) {
            for (auto& p : slot->pending)
                if (p.used && p.id == m.header.id) p.used = false;
            if (slot->empty()) {  // nothing awaits an answer: give the slot back
                dns_pool.release(a.dns);
                a.dns = -1;
            }
        }
        write([&](store::Store& s) {
            store::DnsQueryRow q;
            q.flow_id = f.id;
            q.ts = ts;
            q.client_ip = client;
            q.server_ip = server;
            q.qname = names.get(qname_id);
            q.qtype = m.question.qtype;
            q.answered = true;
            q.rcode = rcode_name(m.extended_rcode);
            q.answers = static_cast<uint32_t>(m.answers.size());
            s.add_dns_query(run_id, q);
        });
        // Names of this answer: the question and every CNAME owner/target.
        uint32_t chain[8];
        size_t chain_n = 0;
        if (qname_id) chain[chain_n++] = qname_id;
        for (const auto& an : m.answers) {
            if (an.type != 5) continue;
            for (uint32_t id : {names.intern(m.name(an.name)), names.intern(m.name(an.target))}) {
                if (id && chain_n < 8 && std::find(chain, chain + chain_n, id) == chain + chain_n) chain[chain_n++] = id;
            }
        }
        for (const auto& an : m.answers) {
            std::string answer;
            if ((an.type == 1 || an.type == 28) && !an.address.empty()) {
                const IpAddr addr = IpAddr::from_bytes(an.address);
                answer = IpText(addr).view();
                for (size_t i = 0; i < chain_n; ++i) name_map.add(f.client_ip, addr, chain[i], ts_us);
            } else if (an.type == 5) {
                answer = std::string(m.name(an.target));
            } else if (an.type == 64 || an.type == 65) {
                answer = std::to_string(an.svc_priority) + " " + std::string(m.name(an.target));
                if (!an.alpn.empty()) {
                    answer += " alpn=";
                    bool first = true;
                    for (ByteView id : dns::alpn_ids(an.alpn)) {
                        if (!first) answer += ',';
                        answer += as_text(id);
                        first = false;
                    }
                }
                for (size_t off = 0; off + 4 <= an.ipv4hint.size(); off += 4) {
                    const IpAddr h = IpAddr::from_bytes(an.ipv4hint.subspan(off, 4));
                    answer += off ? "," : " ipv4hint=";
                    answer += IpText(h).view();
                    for (size_t i = 0; i < chain_n; ++i) name_map.add(f.client_ip, h, chain[i], ts_us);
                }
                for (size_t off = 0; off + 16 <= an.ipv6hint.size(); off += 16) {
                    const IpAddr h = IpAddr::from_bytes(an.ipv6hint.subspan(off, 16));
                    answer += off ? "," : " ipv6hint=";
                    answer += IpText(h).view();
                    for (size_t i = 0; i < chain_n; ++i) name_map.add(f.client_ip, h, chain[i], ts_us);
                }
            } else {
                answer = "";  // type recorded, value not decoded
            }
            const std::string rrtype = rrtype_name(an.type);
            write([&](store::Store& s) {
                store::DnsAnswerRow row;
                row.flow_id = f.id;
                row.ts = ts;
                row.client_ip = client;
                row.server_ip = server;
                row.qname = m.name(an.name);
                row.rrtype = rrtype;
                row.answer = answer;
                row.ttl = an.ttl_s;
                s.add_dns_answer(run_id, row);
            });
        }
    }

    void flush_dns_pending(Flow& f, FlowApp& a) {
        if (a.dns < 0) return;
        const IpText client_text(f.client_ip), server_text(f.server_ip);
        const std::string_view client = client_text.view(), server = server_text.view();
        for (auto& p : dns_pool.at(a.dns).pending) {
            if (!p.used) continue;
            write([&](store::Store& s) {
                store::DnsQueryRow q;
                q.flow_id = f.id;
                q.ts = static_cast<double>(p.ts_us) / 1e6;
                q.client_ip = client;
                q.server_ip = server;
                q.qname = names.get(p.qname);
                q.qtype = p.qtype;
                q.answered = false;
                s.add_dns_query(run_id, q);
            });
            p.used = false;
        }
    }

    // ---- TLS ----
    [[nodiscard]] static bool tls_side_done(const FlowApp& a, Dir d) noexcept {
        return d == flow::kFromClient ? (a.hello || a.hello_failed) : (a.server_hello || a.server_failed);
    }

    void on_tls_segment(Flow& f, FlowApp& a, Dir d, const decode::PacketMeta& m, int64_t ts_us) {
        if (tls_side_done(a, d)) return;
        if (a.proxy != proxy::Kind::None && !a.preamble_done[d]) {
            on_proxy_segment(f, a, d, m, ts_us);
            return;
        }
        tls_add(f, a, d, m.tcp_seq, m.payload, ts_us);
    }

    // One piece of a TLS first flight (a segment, or the part of one after a proxy preamble).
    void tls_add(Flow& f, FlowApp& a, Dir d, uint32_t seq, ByteView payload, int64_t ts_us) {
        if (tls_side_done(a, d) || payload.empty()) return;
        int32_t& idx = d == flow::kFromClient ? a.tls_c : a.tls_s;
        if (idx < 0) {
            idx = lend_reclaimable(tls_pool, f, a, d == flow::kFromClient ? kRoleTlsClient : kRoleTlsServer);
            if (idx < 0) return;
        }
        TlsSlot& s = tls_pool.at(idx);
        // The stream starts after the SYN, or after the proxy preamble.
        const bool anchored = a.proxy != proxy::Kind::None || f.tcp.isn_known[d];
        const uint32_t anchor = a.proxy != proxy::Kind::None ? a.tls_start[d] - 1 : f.tcp.isn[d];
        tls::FlightAssembler* fa = nullptr;
        if (d == flow::kFromClient) {
            if (!s.client) {
                s.client.emplace(std::span<uint8_t>(s.buf));
                if (anchored) s.client->anchor_syn(anchor);
            }
            fa = &*s.client;
        } else {
            if (!s.server) {
                s.server.emplace(std::span<uint8_t>(s.buf));
                if (anchored) s.server->anchor_syn(anchor);
            }
            fa = &*s.server;
        }
        const size_t held = fa->contiguous_bytes();
        const auto st = fa->add_segment(seq, payload);
        if (fa->contiguous_bytes() > held) tls_pool.touch(idx);  // progress: reclaimed last
        if (d == flow::kFromClient) {
            if (st == tls::AssemblyStatus::Done) {
                auto ch = s.client->client_hello();
                if (ch) {
                    record_hello(a, *ch, 0, ts_us);
                    a.apps |= kAppTls;
                    ++stats.tls_hellos;
                } else {
                    a.hello_failed = true;  // done by an alert, or a hello that does not parse
                }
            } else if (st == tls::AssemblyStatus::Failed) {
                a.hello_failed = true;
            }
        } else {
            if (st == tls::AssemblyStatus::Done) {
                auto sf = s.server->server_flight();
                if (sf) {
                    if (sf->has_server_hello) {
                        a.server_hello = true;
                        a.apps |= kAppTls;
                        a.server_version = sf->server_hello.version();
                    }
                    if (sf->fatal_alert()) a.alert = sf->alert_description;
                }
                if (!a.server_hello) a.server_failed = true;
            } else if (st == tls::AssemblyStatus::Failed) {
                a.server_failed = true;
            }
        }
        if (tls_side_done(a, d) && idx >= 0) {
            tls_pool.release(idx);
            idx = -1;
        }
    }

    // ---- proxy preambles (pipeline/proxy_preamble.hpp) ----
    void on_proxy_segment(Flow& f, FlowApp& a, Dir d, const decode::PacketMeta& m, int64_t ts_us) {
        if (a.proxy_slot < 0) return;
        stream_add(f, a, d, m, ts_us);
        TcpStream& st = proxy_pool.at(a.proxy_slot).stream[d];
        if (a.preamble_done[d] && st.ooo >= 0) {
            // Tunnelled bytes held past a hole go to the TLS assembler (which keeps order itself).
            TcpOooStore& store = ooo_pool.at(st.ooo);
            for (size_t i = 0; i < store.count; ++i) {
                const TcpOooStore::Piece& p = store.pieces[i];
                tls_add(f, a, d, p.seq, ByteView(store.data.data() + p.off, p.len), p.ts_us);
            }
            ooo_pool.release(st.ooo);
            st.ooo = -1;
        }
        if (a.preamble_done[0] && a.preamble_done[1]) {
            release_streams(proxy_pool.at(a.proxy_slot).stream);
            proxy_pool.release(a.proxy_slot);
            a.proxy_slot = -1;
        }
    }

    void proxy_failed(FlowApp& a, Dir d) noexcept {
        a.preamble_done[d] = true;
        (d == flow::kFromClient ? a.hello_failed : a.server_failed) = true;
    }

    // In-order bytes of a direction still in its preamble (or just past it).
    void proxy_bytes(Flow& f, FlowApp& a, Dir d, uint32_t seq, ByteView p, int64_t ts_us) {
        if (a.preamble_done[d]) {
            tls_add(f, a, d, seq, p, ts_us);
            return;
        }
        if (a.proxy_slot < 0) return proxy_failed(a, d);
        ProxySlot& s = proxy_pool.at(a.proxy_slot);
        uint16_t& len = s.len[d];
        if (len == 0) a.tls_start[d] = seq;  // the stream's first byte
        const size_t before = len;
        const size_t k = std::min(p.size(), proxy::kMaxPreamble - before);
        std::memcpy(s.buf[d].data() + before, p.data(), k);
        len = static_cast<uint16_t>(before + k);
        const ByteView held(s.buf[d].data(), len);
        const proxy::Parsed r =
            d == flow::kFromClient ? proxy::parse_request(a.proxy, held) : proxy::parse_reply(a.proxy, held);
        if (r.status == proxy::Status::Failed || (r.status == proxy::Status::NeedMore && len >= proxy::kMaxPreamble))
            return proxy_failed(a, d);
        if (r.status == proxy::Status::NeedMore) return;
        a.preamble_done[d] = true;
        a.tls_start[d] += static_cast<uint32_t>(r.length);
        if (d == flow::kFromClient) {
            ++stats.proxy_tunnels;
            a.proxy_target = names.intern(r.target);
            a.proxy_port = r.target_port;
        }
        const size_t rest = r.length - before;  // first tunnelled byte within p
        if (rest < p.size()) tls_add(f, a, d, seq + static_cast<uint32_t>(rest), p.subspan(rest), ts_us);
    }

    void record_hello(FlowApp& a, const tls::ClientHello& ch, uint8_t proto, int64_t ts_us) {
        a.hello = true;
        a.hello_proto = proto;
        a.hello_ts_us = ts_us;
        a.sni = names.intern(as_text(ch.server_name));
        std::string alpn;
        for (ByteView p : ch.alpn) {
            if (!alpn.empty()) alpn += ',';
            alpn += as_text(p);
        }
        a.alpn = names.intern(alpn);
        a.hello_version = ch.offered_version();
        a.hello_ech = ch.ech;
    }

    // ---- QUIC ----
    void on_quic_datagram(const Flow& f, FlowApp& a, Dir d, ByteView payload, int64_t ts_us) {
        if (d != flow::kFromClient || a.hello || a.hello_failed) return;
        if (a.quic < 0) {
            a.quic = lend_reclaimable(quic_pool, f, a, kRoleQuic);
            if (a.quic < 0) return;
        }
        QuicSlot& s = quic_pool.at(a.quic);
        if (!s.assembler) s.assembler.emplace(std::span<uint8_t>(s.buf));
        const quic::FeedResult r = s.assembler->feed(decryptor, payload);
        quic_pool.touch(a.quic);  // progress: reclaimed last
        if (r.version && !a.quic_version) a.quic_version = r.version;
        if (r.status == quic::AssemblyStatus::Done) {
            if (r.kind == quic::HandshakeKind::TlsClientHello) {
                auto ch = tls::decode_client_hello(r.client_hello);
                if (ch) {
                    record_hello(a, *ch, 1, ts_us);
                    ++stats.quic_hellos;
                } else {
                    a.hello_failed = true;
                }
            } else if (r.kind == quic::HandshakeKind::GQuicChlo) {
                a.hello = true;
                a.hello_proto = 2;
                a.hello_ts_us = ts_us;
                a.sni = names.intern(as_text(r.gquic_sni));
                a.apps |= kAppGquic;
            }
        } else if (r.status == quic::AssemblyStatus::Failed) {
            a.hello_failed = true;
        }
        if (a.hello || a.hello_failed) {
            quic_pool.release(a.quic);
            a.quic = -1;
        }
    }

    // ---- STUN / TURN ----
    StunSlot* stun_slot(FlowApp& a) {
        if (a.stun < 0) {
            a.stun = lend(stun_pool);
            if (a.stun < 0) return nullptr;
            StunSlot& s = stun_pool.at(a.stun);
            s.tracker.emplace(std::span<stun::PendingTransaction>(s.txns));
        }
        return &stun_pool.at(a.stun);
    }

    void on_stun_message(Flow& f, FlowApp& a, Dir d, const stun::Message& msg, int64_t ts_us, std::string_view carried) {
        ++stats.stun_messages;
        a.apps |= kAppStun;
        if (msg.method != stun::Method::Binding) a.apps |= kAppTurn;
        if (msg.variant == stun::Variant::MsTurn) a.apps |= kAppMsTurn;
        StunSlot* s = stun_slot(a);
        stun::TrackResult tr;
        if (s) {
            s->validator.on_message(msg);
            tr = s->tracker->on_message(msg, static_cast<uint64_t>(ts_us));
            if (tr.event == stun::TrackEvent::Request && stun::is_ice_check(msg)) ++s->ice_checks;
            switch (tr.event) {
                case stun::TrackEvent::Request: s->server_requests += d == flow::kFromServer; break;
                case stun::TrackEvent::Retransmission: s->server_retransmissions += d == flow::kFromServer; break;
                case stun::TrackEvent::Answered:
                case stun::TrackEvent::ErrorAnswered: s->server_answered += d == flow::kFromClient; break;
                default: break;
            }
        }
        const std::string txid = hex(msg.transaction_id);
        std::string_view method = stun::to_string(msg.method);
        char method_num[16];
        if (method.empty()) {
            std::snprintf(method_num, sizeof method_num, "0x%03x", static_cast<unsigned>(msg.method));
            method = method_num;
        }
        const bool request = msg.msg_class == stun::MessageClass::Request;
        write([&](store::Store& st) {
            store::StunMessageRow row;
            row.flow_id = f.id;
            row.ts = static_cast<double>(ts_us) / 1e6;
            row.direction = d == flow::kFromClient ? "c2s" : "s2c";
            row.method = method;
            row.msg_class = stun::to_string(msg.msg_class);
            row.transaction_id = txid;
            row.answered = request ? 0 : -1;
            row.error_code = msg.error_code ? msg.error_code->code : 0;
            row.carried = carried;
            st.add_stun_message(run_id, row);
            if (tr.event == stun::TrackEvent::Answered || tr.event == stun::TrackEvent::ErrorAnswered)
                st.mark_stun_answered(run_id, f.id, txid);
        });
        // TURN peers: addresses this client talks to through the relay, and
        // the relay's own address, are named after the TURN server.
        if (!msg.xor_peer_addresses.empty() || !msg.xor_relayed_addresses.empty()) {
            const uint32_t server_name = a.sni ? a.sni : dns_name_of(f, ts_us);
            if (server_name) {
                for (const auto& p : msg.xor_peer_addresses) add_peer(from_stun(p), server_name);
                for (const auto& p : msg.xor_relayed_addresses) add_peer(from_stun(p), server_name);
            }
        }
        if (msg.data) on_relayed_payload(f, a, d, *msg.data, ts_us);
    }

    // Media carried inside TURN (ChannelData, Send/Data indications).
    void on_relayed_payload(Flow& f, FlowApp& a, Dir d, ByteView payload, int64_t ts_us, bool via_turn = true) {
        if (payload.empty()) return;
        switch (rtp::classify_first_byte(payload[0])) {
            case rtp::FirstByteClass::RtpRtcp: on_rtp_or_rtcp(f, a, d, payload, ts_us, via_turn); break;
            case rtp::FirstByteClass::Dtls: on_dtls(a, payload); break;
            default: break;
        }
    }

    void on_dtls(FlowApp& a, ByteView payload) {
        if (!dtls::probe(payload)) return;
        auto r = dtls::decode(payload);
        if (!r) return;
        ++stats.dtls_records;
        a.apps |= kAppDtls;
        if (r->client_hello || r->server_hello) a.dtls_handshake = true;
    }

    RtpSlot* rtp_slot(FlowApp& a) {
        if (a.rtp < 0) a.rtp = lend(rtp_pool);
        return a.rtp >= 0 ? &rtp_pool.at(a.rtp) : nullptr;
    }

    void on_rtp_or_rtcp(Flow& f, FlowApp& a, Dir d, ByteView payload, int64_t ts_us, bool via_turn) {
        (void)f;
        if (rtp::looks_like_rtcp(payload)) {
            if (rtp::probe_rtcp(payload)) {
                ++stats.rtcp_packets;
                ++a.rtcp_packets;
                a.apps |= kAppRtcp;
            }
            return;
        }
        auto h = rtp::decode(payload);
        if (!h) return;
        RtpSlot* s = rtp_slot(a);
        if (!s) return;
        rtp::Confirmer& c = via_turn ? s->turn : s->direct;
        const rtp::Verdict v = c.on_header(*h);
        if (v == rtp::Verdict::Rejected) return;
        // Statistics from the first packet of each SSRC (counted once the flow is confirmed).
        RtpStream* st = nullptr;
        RtpStream* free_st = nullptr;
        for (auto& x : s->streams) {
            if (x.used && x.ssrc == h->ssrc && x.dir == d && x.via_turn == via_turn) {
                st = &x;
                break;
            }
            if (!x.used && !free_st) free_st = &x;
        }
        if (!st) {
            if (!free_st) {
                ++s->streams_dropped;
                return;
            }
            st = free_st;
            st->used = true;
            st->ssrc = h->ssrc;
            st->dir = d;
            st->via_turn = via_turn;
            st->first_us = ts_us;
            st->stats = rtp::StreamStats(rtp::JitterMode::Wireshark);
        }
        st->last_us = ts_us;
        st->stats.add(rtp::PacketSample{static_cast<uint64_t>(ts_us), h->sequence_number, h->timestamp, h->payload_type,
                                        h->marker});
        if (v == rtp::Verdict::Confirmed) {
            a.apps |= kAppRtp;
            ++stats.rtp_packets;
        }
    }

    void on_channel_data_datagram(Flow& f, FlowApp& a, Dir d, ByteView payload, int64_t ts_us, bool over_tcp) {
        auto cd = stun::decode_channel_data(payload, over_tcp);
        if (!cd) return;
        ++a.channel_data;
        ++stats.channel_data;
        a.apps |= kAppTurn;
        on_relayed_payload(f, a, d, cd->payload, ts_us);
    }

    // One UDP datagram of an Rtc flow, demultiplexed by its first byte.
    void on_rtc_datagram(Flow& f, FlowApp& a, Dir d, ByteView payload, int64_t ts_us) {
        if (payload.empty()) return;
        ++a.rtc_packets;
        switch (rtp::classify_first_byte(payload[0])) {
            case rtp::FirstByteClass::Stun: {
                auto msg = stun::decode(payload);
                if (msg) on_stun_message(f, a, d, *msg, ts_us, "udp");
                break;
            }
            case rtp::FirstByteClass::TurnChannel: {
                StunSlot* s = stun_slot(a);
                if (s && s->validator.on_datagram(payload) == stun::ChannelVerdict::Accepted)
                    on_channel_data_datagram(f, a, d, payload, ts_us, false);
                break;
            }
            case rtp::FirstByteClass::Dtls:
                if (a.stun >= 0) stun_pool.at(a.stun).validator.on_other_datagram();
                on_dtls(a, payload);
                break;
            case rtp::FirstByteClass::RtpRtcp:
                if (a.stun >= 0) stun_pool.at(a.stun).validator.on_other_datagram();
                on_rtp_or_rtcp(f, a, d, payload, ts_us, false);
                break;
            default:
                if (a.stun >= 0) stun_pool.at(a.stun).validator.on_other_datagram();
                break;
        }
        // Nothing confirmed after a while: not an RTC flow after all.
        if (a.rtc_packets >= kRtcGiveUpPackets && !(a.apps & (kAppStun | kAppTurn | kAppDtls | kAppRtp | kAppRtcp))) {
            a.kind = Kind::Unknown;
            release_all(a);
        }
    }

    // ---- TCP in-order delivery for the framers (pipeline/tcp_reassembly.hpp) ----
    struct StreamSink final : TcpSink {
        StreamSink(Impl& i, Flow& fl, FlowApp& ap, Dir dir) : im(i), f(fl), a(ap), d(dir) {}
        void bytes(uint32_t seq, ByteView data, int64_t ts_us) override { im.on_stream_bytes(f, a, d, seq, data, ts_us); }
        void gap(uint32_t) override { im.on_stream_gap(a, d); }
        Impl& im;
        Flow& f;
        FlowApp& a;
        Dir d;
    };

    void count_stream(const TcpReassembler::Stats& before, const TcpReassembler::Stats& after) noexcept {
        stats.tcp_gaps += after.gaps - before.gaps;
        stats.tcp_gap_bytes += after.gap_bytes - before.gap_bytes;
        stats.tcp_held_segments += after.queued - before.queued;
    }

    // Hands this segment's new bytes (and any held ones it unblocks) to the
    // flow's framer in stream order.
    void stream_add(Flow& f, FlowApp& a, Dir d, const decode::PacketMeta& m, int64_t ts_us) {
        TcpStream* streams = streams_of(a);
        if (!streams) return;
        TcpStream& st = streams[d];
        if (st.dead) return;
        if (!st.r.known() && f.tcp.isn_known[d]) st.r.anchor_syn(f.tcp.isn[d]);
        if (st.ooo < 0 && st.r.needs_store(m.tcp_seq)) st.ooo = lend(ooo_pool);
        TcpOooStore* store = st.ooo >= 0 ? &ooo_pool.at(st.ooo) : nullptr;
        StreamSink sink(*this, f, a, d);
        const TcpReassembler::Stats before = st.r.stats();
        st.r.add(m.tcp_seq, m.payload, m.payload_wire_len, ts_us, store, sink);
        count_stream(before, st.r.stats());
        if (st.ooo >= 0 && ooo_pool.at(st.ooo).empty()) {
            ooo_pool.release(st.ooo);
            st.ooo = -1;
        }
    }

    // The flow ends: holes still open are given up and held bytes delivered.
    void flush_streams(Flow& f, FlowApp& a) {
        for (Dir d : {flow::kFromClient, flow::kFromServer}) {
            TcpStream* streams = streams_of(a);  // again each time: a sink may release the slot
            if (!streams) return;
            TcpStream& st = streams[d];
            if (st.ooo < 0 || st.dead) continue;
            StreamSink sink(*this, f, a, d);
            const TcpReassembler::Stats before = st.r.stats();
            st.r.flush(&ooo_pool.at(st.ooo), sink);
            count_stream(before, st.r.stats());
        }
    }

    void on_stream_bytes(Flow& f, FlowApp& a, Dir d, uint32_t seq, ByteView p, int64_t ts_us) {
        switch (a.kind) {
            case Kind::Dns: dns_tcp_bytes(f, a, d, p, ts_us); break;
            case Kind::StunTcp: stun_tcp_bytes(f, a, d, p, ts_us); break;
            case Kind::Tls: proxy_bytes(f, a, d, seq, p, ts_us); break;
            default: break;
        }
    }

    void on_stream_gap(FlowApp& a, Dir d) noexcept {
        if (a.kind == Kind::Tls) {
            if (!a.preamble_done[d]) proxy_failed(a, d);  // a preamble with a hole: its length is unknown
            return;
        }
        if (TcpStream* streams = streams_of(a)) streams[d].resync = true;
    }

    // After a gap: drops the bytes before the next plausible frame start.
    // True when `p` now starts one (the framer restarts there).
    bool resync(TcpStream& st, FrameSync k, ByteView& p) noexcept {
        const size_t at = find_resync(k, p);
        if (at >= p.size()) {
            st.resync_scanned += static_cast<uint32_t>(std::min<size_t>(p.size(), kResyncBudget));
            if (st.resync_scanned >= kResyncBudget) st.dead = true;
            return false;
        }
        st.resync = false;
        st.resync_scanned = 0;
        ++stats.tcp_resyncs;
        p = p.subspan(at);
        return true;
    }

    void on_tcp_dns(Flow& f, FlowApp& a, Dir d, const decode::PacketMeta& m, int64_t ts_us) {
        if (a.dns_tcp < 0) {
            a.dns_tcp = lend(dns_tcp_pool);
            if (a.dns_tcp < 0) return;
        }
        stream_add(f, a, d, m, ts_us);
    }

    void dns_tcp_bytes(Flow& f, FlowApp& a, Dir d, ByteView p, int64_t ts_us) {
        if (a.dns_tcp < 0) return;
        DnsTcpSlot& s = dns_tcp_pool.at(a.dns_tcp);
        TcpStream& st = s.stream[d];
        if (st.resync) {
            if (!resync(st, FrameSync::Dns, p)) return;
            s.framer[d].reset();  // the next byte is a length prefix
        }
        const uint64_t malformed = stats.dns_malformed;
        s.framer[d].feed(p, [&](ByteView msg) { on_dns_message(f, a, d, msg, ts_us); });
        // A message that does not decode: the framing is wrong (a resync on
        // a false header, or junk in the stream); look for the next header.
        if (stats.dns_malformed != malformed) st.resync = true;
    }

    void on_tcp_stun(Flow& f, FlowApp& a, Dir d, const decode::PacketMeta& m, int64_t ts_us) {
        if (a.stun_tcp < 0) {
            a.stun_tcp = lend(stun_tcp_pool);
            if (a.stun_tcp < 0) return;
        }
        stream_add(f, a, d, m, ts_us);
    }

    // An RFC 4571-framed STUN Binding indication (zero transaction id): fed to
    // a framer restarted after a gap on an ICE-TCP stream, so it keeps RFC 4571
    // framing even when the first frame after the gap is media, not STUN
    // (StreamFramer decides the framing on its first frame). Discarded.
    static constexpr uint8_t kRfc4571Primer[22] = {0x00, 0x14, 0x00, 0x11, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 0, 0,
                                                   0,    0,    0,    0,    0,    0,    0,    0,    0,    0};

    void stun_tcp_bytes(Flow& f, FlowApp& a, Dir d, ByteView p, int64_t ts_us) {
        if (a.stun_tcp < 0) return;
        StunTcpSlot& s = stun_tcp_pool.at(a.stun_tcp);
        TcpStream& st = s.stream[d];
        if (st.resync) {
            const bool rfc4571 = s.framing[d] == stun::StreamFraming::Rfc4571;
            if (!resync(st, rfc4571 ? FrameSync::Rfc4571 : FrameSync::StunDirect, p)) return;
            s.framer[d].emplace(std::span<uint8_t>(s.buf[d]));
            if (rfc4571) {
                s.framer[d]->feed(ByteView(kRfc4571Primer));
                while (s.framer[d]->next()) {
                }
            }
        }
        if (!s.framer[d]) s.framer[d].emplace(std::span<uint8_t>(s.buf[d]));
        stun::StreamFramer& fr = *s.framer[d];
        fr.feed(p);
        while (auto frame = fr.next()) {
            switch (frame->kind) {
                case stun::FrameKind::Stun: {
                    auto msg = stun::decode(frame->bytes);
                    if (msg) on_stun_message(f, a, d, *msg, ts_us, "tcp");
                    break;
                }
                case stun::FrameKind::ChannelData: on_channel_data_datagram(f, a, d, frame->bytes, ts_us, true); break;
                case stun::FrameKind::MsMultiplexed: a.apps |= kAppMsTurn; break;
                case stun::FrameKind::Rfc4571Payload:
                    // ICE-TCP (RFC 6544) carries media directly between the
                    // peers: relayed only on a flow with TURN evidence.
                    on_relayed_payload(f, a, d, frame->bytes, ts_us, (a.apps & kAppTurn) != 0);
                    break;
            }
        }
        if (fr.framing() != stun::StreamFraming::Unknown) s.framing[d] = fr.framing();
        // Junk where a frame should start (a frame lost to a snaplen cut, a
        // broken stack): look for the next frame instead of giving up the flow.
        if (fr.gave_up()) st.resync = true;
    }

    // ---- classification (the registry) ----
    static bool dns_port(uint16_t p) noexcept { return p == 53 || p == 5353 || p == 5355; }
    // RFC 6762: mDNS on UDP 5353 (multicast, and one-shot queries answered from 5353).
    static dns::Dialect dns_dialect(const Flow& f) noexcept {
        return f.proto == decode::kProtoUdp && (f.server_port == 5353 || f.client_port == 5353)
                   ? dns::Dialect::Mdns
                   : dns::Dialect::Dns;
    }

    Kind classify_udp(const Flow& f, ByteView p) const noexcept {
        if ((dns_port(f.server_port) || dns_port(f.client_port)) && dns::probe(p, dns_dialect(f))) return Kind::Dns;
        // Long headers may clear the fixed bit (RFC 9287) and gQUIC Q043 starts
        // with 0x09: probe() decides, not the first byte.
        if (quic::probe(p)) return Kind::Quic;
        if (stun::probe(p)) return Kind::Rtc;
        if (dtls::probe(p)) return Kind::Rtc;
        if (!p.empty() && p[0] >= 0x40 && p[0] <= 0x7F && p.size() >= 4) return Kind::Rtc;  // ChannelData candidate
        if (rtp::probe(p) || rtp::probe_rtcp(p)) return Kind::Rtc;
        return Kind::Undecided;
    }

    Kind classify_tcp(const Flow& f, ByteView p) const noexcept {
        if ((dns_port(f.server_port) || dns_port(f.client_port)) && dns::probe_tcp(p)) return Kind::Dns;
        if (tls::probe(p)) return Kind::Tls;
        if (stun::probe(p)) return Kind::StunTcp;
        // ChannelData first (a TURN-TCP capture that starts mid-call): only when
        // the segment is exactly one padded frame, a 2^-14-ish coincidence otherwise.
        if (p.size() >= 8 && p[0] >= 0x40 && p[0] <= 0x4F) {
            const size_t framed = 4 + ((load_u16(p, 2) + 3u) & ~size_t{3});
            if (framed == p.size()) return Kind::StunTcp;
        }
        // RFC 4571 framing (ICE-TCP): a 2-byte length then STUN.
        if (p.size() >= 2 + stun::kHeaderLen && stun::probe(p.subspan(2))) return Kind::StunTcp;
        return Kind::Undecided;
    }

    void on_packet(Flow& f, uint32_t slot, Dir d, const decode::PacketMeta& m, int64_t ts_us) {
        FlowApp& a = app(slot);
        if (a.kind == Kind::Unknown || m.payload.empty() || m.later_fragment) return;
        const bool tcp = f.proto == decode::kProtoTcp;
        if (!tcp && f.proto != decode::kProtoUdp) return;
        if (a.kind == Kind::Undecided) {
            a.kind = tcp ? classify_tcp(f, m.payload) : classify_udp(f, m.payload);
            if (tcp && a.kind == Kind::Undecided && d == flow::kFromClient) {
                // A proxy request (SOCKS4/4a/5, HTTP CONNECT): TLS follows the preamble.
                a.proxy = proxy::probe(m.payload);
                if (a.proxy != proxy::Kind::None) {
                    a.kind = Kind::Tls;
                    a.proxy_slot = lend(proxy_pool);
                    if (a.proxy_slot < 0) proxy_failed(a, flow::kFromClient), proxy_failed(a, flow::kFromServer);
                }
            }
            if (a.kind == Kind::Undecided) {
                if (++a.tries >= kClassifyPackets) a.kind = Kind::Unknown;
                return;
            }
            if (a.kind == Kind::Tls && a.proxy == proxy::Kind::None) a.apps |= kAppTls;
            if (a.kind == Kind::Quic) a.apps |= kAppQuic;
        }
        switch (a.kind) {
            case Kind::Dns:
                if (tcp) on_tcp_dns(f, a, d, m, ts_us);
                else on_dns_message(f, a, d, m.payload, ts_us);
                break;
            case Kind::Tls: on_tls_segment(f, a, d, m, ts_us); break;
            case Kind::Quic: on_quic_datagram(f, a, d, m.payload, ts_us); break;
            case Kind::Rtc: on_rtc_datagram(f, a, d, m.payload, ts_us); break;
            case Kind::StunTcp: on_tcp_stun(f, a, d, m, ts_us); break;
            default: break;
        }
    }

    // Fills the flow row's application columns and writes the flow's names.
    // `final`: the flow ends (pending DNS queries and STUN transactions count
    // as unanswered, RTP streams and hellos are written, buffers returned);
    // otherwise a snapshot of a live flow with no side effect on its state.
    void describe(Flow& f, FlowApp& a, store::FlowAppInfo& info, bool final) {
        info = store::FlowAppInfo{};
        if (final) flush_dns_pending(f, a);
        // STUN summary.
        if (a.stun >= 0) {
            auto& tracker = *stun_pool.at(a.stun).tracker;
            if (final) tracker.finish();
            const auto& s = tracker.stats();
            info.stun_requests = s.requests;
            info.stun_answered = s.answered + s.error_answered;
            info.stun_errors = s.error_answered;
            info.stun_retransmissions = s.retransmissions;
            const StunSlot& slot = stun_pool.at(a.stun);
            info.stun_ice_checks = slot.ice_checks;
            info.stun_requests_s2c = slot.server_requests;
            info.stun_answered_s2c = slot.server_answered;
            info.stun_retransmissions_s2c = slot.server_retransmissions;
            if (!s.error_codes.empty()) info.stun_last_error = s.error_codes[s.error_codes.size() - 1].code;
        }
        // RTP streams (only on flows where RTP was confirmed).
        uint64_t rtp_packets = 0;
        if (a.rtp >= 0) {
            RtpSlot& r = rtp_pool.at(a.rtp);
            const bool direct_ok = r.direct.verdict() == rtp::Verdict::Confirmed;
            const bool turn_ok = r.turn.verdict() == rtp::Verdict::Confirmed;
            for (const auto& st : r.streams) {
                if (!st.used || st.stats.packets() < kMinStreamPackets) continue;
                if (!(st.via_turn ? turn_ok : direct_ok)) continue;
                rtp_packets += st.stats.packets();
                if (!final) continue;
                write([&](store::Store& s) {
                    store::RtpStreamRow row;
                    row.flow_id = f.id;
                    row.direction = st.dir == flow::kFromClient ? "c2s" : "s2c";
                    row.ssrc = st.ssrc;
                    row.payload_type = st.stats.payload_type();
                    row.packets = st.stats.packets();
                    row.lost = st.stats.lost();
                    row.reordered = st.stats.reordered();
                    row.duplicates = st.stats.duplicates();
                    row.has_jitter = st.stats.has_jitter();
                    row.jitter_ms = st.stats.jitter_ms();
                    row.max_jitter_ms = st.stats.max_jitter_ms();
                    row.clock_rate = st.stats.clock_rate_hz();
                    row.via_turn = st.via_turn;
                    row.first_ts = static_cast<double>(st.first_us) / 1e6;
                    row.last_ts = static_cast<double>(st.last_us) / 1e6;
                    s.add_rtp_stream(run_id, row);
                });
            }
        }
        // Hello (TLS or QUIC).
        if (a.hello && final) {
            const std::string version =
                a.hello_proto == 0 ? tls_version_name(a.hello_version) : quic_version_name(a.quic_version);
            const std::string server_version = tls_version_name(a.server_version);
            write([&](store::Store& s) {
                store::TlsHelloRow row;
                row.flow_id = f.id;
                row.ts = static_cast<double>(a.hello_ts_us) / 1e6;
                row.protocol = a.hello_proto == 0 ? "tls" : a.hello_proto == 1 ? "quic" : "gquic";
                row.sni = names.get(a.sni);
                row.alpn = names.get(a.alpn);
                row.version = version;
                row.ech = a.hello_ech;
                row.server_hello = a.server_hello;
                row.server_version = server_version;
                row.alert = a.alert;
                s.add_tls_hello(run_id, row);
            });
        }
        // The name the flow was meant for: its own SNI, else DNS answers the
        // same client saw before the flow began, else a TURN peer relation.
        name_buf.clear();
        source_buf.clear();
        uint32_t dns_names[NameMap::kNamesPerAddress];
        const size_t dns_n =
            name_map.lookup(f.client_ip, f.server_ip, f.first_ts_us, dns_names, NameMap::kNamesPerAddress);
        if (a.sni) {
            name_buf = names.get(a.sni);
            source_buf = "sni";
        } else if (a.proxy_target) {  // the host behind the proxy, not the proxy's own name
            name_buf = names.get(a.proxy_target);
            source_buf = "proxy";
        } else if (dns_n) {
            name_buf = names.get(dns_names[0]);
            source_buf = "dns";
        } else if (auto it = peers.find(f.server_ip); it != peers.end()) {
            name_buf = names.get(it->second);
            source_buf = "turn-peer";
        }
        // A flow opened towards us by an address our side had resolved (a
        // vendor server sending first, e.g. Agora Recording's downstream
        // ports): the name belongs to the initiator.
        uint32_t initiator_names[NameMap::kNamesPerAddress];
        const size_t init_n = (a.sni || a.proxy_target || dns_n) ? 0
            : name_map.lookup(f.server_ip, f.client_ip, f.first_ts_us, initiator_names, NameMap::kNamesPerAddress);
        if (source_buf.empty() && init_n) {
            name_buf = names.get(initiator_names[0]);
            source_buf = "dns-initiator";
        }
        write([&](store::Store& s) {
            for (size_t i = 0; i < init_n; ++i) s.add_flow_name(run_id, f.id, names.get(initiator_names[i]), "dns-initiator");
            if (a.sni) s.add_flow_name(run_id, f.id, names.get(a.sni), "sni");
            if (a.proxy_target) s.add_flow_name(run_id, f.id, names.get(a.proxy_target), "proxy");
            for (size_t i = 0; i < dns_n; ++i) s.add_flow_name(run_id, f.id, names.get(dns_names[i]), "dns");
            if (source_buf == "turn-peer") s.add_flow_name(run_id, f.id, name_buf, "turn-peer");
        });
        app_buf = app_text(a.apps);
        info.app = app_buf;
        info.name = name_buf;
        info.name_source = source_buf;
        info.channel_data = a.channel_data;
        info.proxy_port = a.proxy_port;
        info.rtp_packets = rtp_packets;
        info.rtcp_packets = a.rtcp_packets;
        info.dtls_handshake = a.dtls_handshake;
        info.tls_server_hello = a.server_hello;
        info.tls_alert = a.alert;
    }

    void on_flow_end(Flow& f, uint32_t slot, store::FlowAppInfo& info) {
        FlowApp& a = app(slot);
        if (f.proto == decode::kProtoTcp) flush_streams(f, a);
        describe(f, a, info, true);
        release_all(a);
        a = FlowApp{};
    }
};

Dissector::Dissector(store::Store* store, int64_t run_id) : impl_(std::make_unique<Impl>(store, run_id)) {}
Dissector::~Dissector() = default;

void Dissector::on_flow_created(flow::Flow&, uint32_t slot) noexcept {
    try {
        FlowApp& a = impl_->app(slot);
        impl_->release_all(a);
        a = FlowApp{};
    } catch (...) {
        // Growing the per-flow array failed (out of memory): leave it; the flow is still counted.
    }
}

void Dissector::on_packet(flow::Flow& f, uint32_t slot, flow::Dir dir, const decode::PacketMeta& m,
                          int64_t ts_us) noexcept {
    try {
        impl_->on_packet(f, slot, dir, m, ts_us);
    } catch (...) {
        // Only allocation (interning a new name, growing a pool chunk) can throw here.
        if (!impl_->error) impl_->error = std::current_exception();
    }
}

void Dissector::on_flow_end(flow::Flow& f, uint32_t slot, store::FlowAppInfo& info) {
    impl_->on_flow_end(f, slot, info);
}

void Dissector::snapshot(flow::Flow& f, uint32_t slot, store::FlowAppInfo& info) {
    impl_->describe(f, impl_->app(slot), info, false);
}

std::exception_ptr Dissector::take_error() noexcept {
    auto e = impl_->error;
    impl_->error = nullptr;
    return e;
}

DissectStats Dissector::stats() const noexcept {
    DissectStats s = impl_->stats;
    s.names_dropped = impl_->names.dropped();
    s.addresses_dropped = impl_->name_map.dropped();
    s.buffers_reclaimed = impl_->tls_pool.reclaimed() + impl_->quic_pool.reclaimed();
    s.pool_exhausted += impl_->tls_pool.refused() + impl_->quic_pool.refused();
    return s;
}
const NameTable& Dissector::names() const noexcept { return impl_->names; }

}  // namespace callwall::pipeline
