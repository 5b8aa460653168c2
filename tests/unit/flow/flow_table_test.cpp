// Flow table: canonical keys, initiator, Zeek conn states, ICMP attachment,
// idle and bound eviction, and hash-table integrity under churn.
#include "flow/flow_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

#include "unit/test_util.hpp"

namespace callwall::flow {
namespace {

using decode::IpAddr;
using decode::PacketMeta;

IpAddr ip(const char* s) {
    IpAddr a;
    EXPECT_TRUE(decode::parse_ip(s, a));
    return a;
}

PacketMeta tcp(const char* src, uint16_t sp, const char* dst, uint16_t dp, uint8_t flags, uint32_t len = 0) {
    PacketMeta m;
    m.src = ip(src);
    m.dst = ip(dst);
    m.ip_version = m.src.family;
    m.proto = decode::kProtoTcp;
    m.sport = sp;
    m.dport = dp;
    m.tcp_flags = flags;
    m.ttl = 64;
    m.ip_total_len = 40 + len;
    m.payload_wire_len = len;
    return m;
}

PacketMeta udp(const char* src, uint16_t sp, const char* dst, uint16_t dp) {
    PacketMeta m = tcp(src, sp, dst, dp, 0, 20);
    m.proto = decode::kProtoUdp;
    return m;
}

constexpr const char* C = "10.0.0.1";
constexpr const char* S = "192.0.2.10";
using namespace decode;

ConnState run(FlowTable& t, std::initializer_list<std::pair<bool, uint8_t>> pkts, uint16_t cport = 40000) {
    int64_t ts = 1'000'000;
    Flow* f = nullptr;
    for (auto [from_client, flags] : pkts) {
        const auto m = from_client ? tcp(C, cport, S, 443, flags) : tcp(S, 443, C, cport, flags);
        f = t.update(m, ts += 1000).flow;
    }
    return f->state();
}

TEST(FlowTable, BothDirectionsAreOneFlowWithInitiator) {
    FlowTable t;
    auto a = t.update(tcp(C, 40000, S, 443, kTcpSyn), 1);
    auto b = t.update(tcp(S, 443, C, 40000, kTcpSyn | kTcpAck), 2);
    ASSERT_EQ(a.flow, b.flow);
    EXPECT_TRUE(a.created);
    EXPECT_FALSE(b.created);
    EXPECT_EQ(a.dir, kFromClient);
    EXPECT_EQ(b.dir, kFromServer);
    EXPECT_EQ(decode::to_string(a.flow->client_ip), C);
    EXPECT_EQ(a.flow->server_port, 443);
    EXPECT_EQ(a.flow->packets[kFromClient], 1u);
    EXPECT_EQ(a.flow->packets[kFromServer], 1u);
    EXPECT_EQ(t.live(), 1u);
}

TEST(FlowTable, SynAckSeenFirstMakesReceiverTheClient) {
    FlowTable t;
    auto a = t.update(tcp(S, 443, C, 40000, kTcpSyn | kTcpAck), 1);
    EXPECT_EQ(decode::to_string(a.flow->client_ip), C);
    EXPECT_EQ(a.dir, kFromServer);
}

TEST(FlowTable, MidStreamReplyFromServicePortGuessesClient) {
    FlowTable t;
    auto a = t.update(udp(S, 53, C, 50000), 1);
    EXPECT_EQ(decode::to_string(a.flow->client_ip), C);
    EXPECT_TRUE(a.flow->initiator_guessed);
}

TEST(FlowTable, ZeekConnStates) {
    const uint8_t SYN = kTcpSyn, SA = kTcpSyn | kTcpAck, A = kTcpAck, FA = kTcpFin | kTcpAck, R = kTcpRst,
                  RA = kTcpRst | kTcpAck;
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {true, SYN}, {true, SYN}}), ConnState::S0);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {false, RA}}), ConnState::REJ);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {false, SA}, {true, A}}), ConnState::S1);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {false, SA}, {true, A}, {true, FA}, {false, FA}, {true, A}}), ConnState::SF);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {false, SA}, {true, A}, {true, R}}), ConnState::RSTO);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {false, SA}, {true, A}, {false, R}}), ConnState::RSTR);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {false, SA}, {true, FA}}), ConnState::S2);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {false, SA}, {false, FA}}), ConnState::S3);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {true, R}}), ConnState::RSTOS0);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, SYN}, {true, FA}}), ConnState::SH);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{true, A}, {false, A}}), ConnState::OTH);
    }
    {
        FlowTable t;
        EXPECT_EQ(run(t, {{false, SA}, {false, R}}), ConnState::RSTRH);
    }
}

TEST(FlowTable, RejectRecordsRstTtl) {
    FlowTable t;
    t.update(tcp(C, 1, S, 80, kTcpSyn), 1);
    auto rst = tcp(S, 80, C, 1, kTcpRst | kTcpAck);
    rst.ttl = 250;
    Flow* f = t.update(rst, 2).flow;
    EXPECT_TRUE(f->tcp.rst_before_synack);
    EXPECT_EQ(f->tcp.rst_ttl, 250);
}

TEST(FlowTable, IcmpErrorAttachesToQuotedFlow) {
    FlowTable t;
    t.update(udp(C, 50000, S, 3478), 1);
    PacketMeta icmp;
    icmp.src = ip("198.51.100.1");  // a router in between
    icmp.dst = ip(C);
    icmp.proto = kProtoIcmp;
    icmp.icmp_error = true;
    icmp.icmp_type = 3;
    icmp.icmp_code = 13;
    icmp.quoted.src = ip(C);
    icmp.quoted.dst = ip(S);
    icmp.quoted.proto = kProtoUdp;
    icmp.quoted.sport = 50000;
    icmp.quoted.dport = 3478;
    icmp.quoted.has_ports = true;
    Flow* f = t.attach_icmp_error(icmp, 5);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->icmp_errors, 1);
    EXPECT_EQ(f->icmp_code, 13);
    EXPECT_EQ(decode::to_string(f->icmp_from), "198.51.100.1");
    icmp.quoted.dport = 3479;
    EXPECT_EQ(t.attach_icmp_error(icmp, 6), nullptr);
}

TEST(FlowTable, IdleFlowsAreEvictedToTheCallback) {
    FlowTableConfig cfg;
    cfg.udp_idle_us = 10;
    FlowTable t(cfg);
    std::vector<uint64_t> evicted;
    t.set_evict_callback([&](Flow& f) { evicted.push_back(f.id); });
    t.update(udp(C, 1, S, 53), 0);
    t.update(udp(C, 2, S, 53), 5);
    t.expire(12);
    ASSERT_EQ(evicted.size(), 1u);
    EXPECT_EQ(evicted[0], 1u);
    t.flush();
    EXPECT_EQ(evicted.size(), 2u);
    EXPECT_EQ(t.live(), 0u);
}

// A table that records the client port of every flow it evicts.
struct EvictionLog {
    explicit EvictionLog(const FlowTableConfig& cfg) : table(cfg) {
        table.set_evict_callback([this](Flow& f) { ports.push_back(f.client_port); });
    }
    FlowTable table;
    std::vector<uint16_t> ports;
};

TEST(FlowTable, BoundEvictsLeastRecentlyActive) {
    FlowTableConfig cfg;
    cfg.max_flows = 3;
    cfg.lru_granularity_us = 0;  // exact LRU: every packet moves its flow to the tail
    EvictionLog log(cfg);
    FlowTable& t = log.table;
    std::vector<uint16_t>& evicted_ports = log.ports;
    t.update(udp(C, 1, S, 53), 1);
    t.update(udp(C, 2, S, 53), 2);
    t.update(udp(C, 3, S, 53), 3);
    t.update(udp(C, 1, S, 53), 4);  // port 1 is active again
    t.update(udp(C, 4, S, 53), 5);  // evicts port 2
    ASSERT_EQ(evicted_ports.size(), 1u);
    EXPECT_EQ(evicted_ports[0], 2);
    EXPECT_EQ(t.live(), 3u);
    EXPECT_EQ(t.stats().evicted_full, 1u);
}

// With the default granularity a flow moves to the LRU tail only when its
// last move is at least that long ago: packets in between do not reorder.
TEST(FlowTable, LruOrderIsKeptToItsGranularity) {
    FlowTableConfig cfg;
    cfg.max_flows = 3;
    cfg.lru_granularity_us = 100;
    EvictionLog log(cfg);
    FlowTable& t = log.table;
    std::vector<uint16_t>& evicted_ports = log.ports;
    t.update(udp(C, 1, S, 53), 1000);
    t.update(udp(C, 2, S, 53), 1010);
    t.update(udp(C, 3, S, 53), 1020);
    t.update(udp(C, 1, S, 53), 1050);  // 50 us after its last move: stays at the head
    t.update(udp(C, 4, S, 53), 1060);  // the bound evicts port 1 (head), not port 2
    ASSERT_EQ(evicted_ports.size(), 1u);
    EXPECT_EQ(evicted_ports[0], 1);
    t.update(udp(C, 2, S, 53), 1200);  // 190 us after its last move: to the tail
    t.update(udp(C, 5, S, 53), 1210);  // evicts port 3, now the least recently moved
    ASSERT_EQ(evicted_ports.size(), 2u);
    EXPECT_EQ(evicted_ports[1], 3);
    // Counters and last activity are exact whatever the LRU position.
    const PacketMeta m = udp(C, 2, S, 53);
    const Flow* f2 = t.find(m.src, m.sport, m.dst, m.dport, m.proto);
    ASSERT_NE(f2, nullptr);
    EXPECT_EQ(f2->packets[kFromClient], 2u);
    EXPECT_EQ(f2->last_ts_us, 1200);
}

// Idle expiry with the default granularity: a flow touched inside the
// granularity is still expired only by its real last activity, and a flow
// behind it in the LRU list that is due goes all the same.
TEST(FlowTable, ExpiryUsesLastActivityNotLruPosition) {
    FlowTableConfig cfg;
    cfg.udp_idle_us = 1000;
    cfg.lru_granularity_us = 100;
    EvictionLog log(cfg);
    FlowTable& t = log.table;
    std::vector<uint16_t>& evicted_ports = log.ports;
    t.update(udp(C, 1, S, 53), 0);
    t.update(udp(C, 2, S, 53), 10);
    t.update(udp(C, 1, S, 53), 50);  // not moved (inside 100 us), but active at 50
    t.expire(1040);  // port 1 idle 990 us: kept; port 2 idle 1030 us: goes
    ASSERT_EQ(evicted_ports, std::vector<uint16_t>{2});
    t.expire(1060);  // port 1 idle 1010 us
    ASSERT_EQ(evicted_ports, (std::vector<uint16_t>{2, 1}));
    EXPECT_EQ(t.live(), 0u);
}

// Each flow expires on its own timeout: a closed TCP flow (30 s) does not
// wait behind an open one (300 s) or a UDP flow (120 s) active before it,
// and flows due at the same expiry go oldest activity first, whatever their
// kinds.
TEST(FlowTable, EachFlowExpiresOnItsOwnTimeout) {
    FlowTableConfig cfg;
    EvictionLog log(cfg);
    FlowTable& t = log.table;
    constexpr int64_t s = 1'000'000;
    t.update(tcp(C, 1, S, 443, kTcpSyn, 0), 0);  // open TCP: 300 s
    t.update(udp(C, 2, S, 3478), 1 * s);  // UDP: 120 s
    t.update(tcp(C, 3, S, 443, kTcpSyn, 0), 2 * s);
    t.update(tcp(C, 3, S, 443, kTcpRst, 0), 3 * s);  // closed: 30 s
    t.update(udp(C, 4, S, 3478), 4 * s);
    t.expire(34 * s);  // the closed flow has been idle 31 s
    ASSERT_EQ(log.ports, std::vector<uint16_t>{3});
    t.expire(126 * s);  // both UDP flows due: the older first
    ASSERT_EQ(log.ports, (std::vector<uint16_t>{3, 2, 4}));
    t.expire(299 * s);
    EXPECT_EQ(log.ports.size(), 3u);
    t.expire(301 * s);
    EXPECT_EQ(log.ports, (std::vector<uint16_t>{3, 2, 4, 1}));
}

// Whether a flow expires depends on that flow alone: two tables that each
// hold part of the flows, given the same clock, evict the same flows as one
// table holding all of them (the property sharding flows across threads
// needs), and the sequence numbers order the evictions as one table does:
// by expiry, then by the packet that ended a flow idle past its timeout (0:
// an expire()), then by sequence.
TEST(FlowTable, ExpiryOfASubsetIsTheSubsetOfTheExpiry) {
    FlowTableConfig cfg;
    cfg.udp_idle_us = 5'000;
    cfg.tcp_closed_idle_us = 1'000;
    cfg.tcp_idle_us = 20'000;
    cfg.lru_granularity_us = 100;
    struct Log {
        FlowTable table;
        uint64_t tick = 0;
        uint64_t packet = 0;  ///< the packet being looked up; 0 in expire() and flush()
        std::vector<std::tuple<uint64_t, uint64_t, uint64_t, uint16_t>> out;  // (expiry, packet, lru_seq, port)
        explicit Log(const FlowTableConfig& c) : table(c) {
            table.set_evict_callback([this](Flow& f) { out.emplace_back(tick, packet, f.lru_seq, f.client_port); });
        }
    };
    Log all(cfg), part[2] = {Log(cfg), Log(cfg)};
    uint64_t rng = 12345;
    const auto next = [&] { return rng = rng * 6364136223846793005ull + 1442695040888963407ull, rng >> 33; };
    int64_t clock = 0;
    for (uint64_t i = 1; i <= 20'000; ++i) {
        const auto port = static_cast<uint16_t>(1 + next() % 300);
        const bool is_tcp = port % 3 == 0;
        clock += static_cast<int64_t>(next() % 40);
        const int64_t ts = clock - static_cast<int64_t>(next() % 3 == 0 ? next() % 500 : 0);  // some from the past
        const uint8_t flags = next() % 50 == 0 ? kTcpRst : kTcpAck;
        const PacketMeta m = is_tcp ? tcp(C, port, S, 443, flags, 0) : udp(C, port, S, 3478);
        Log& shard = part[port % 2];
        for (Log* l : {&all, &shard}) {
            l->packet = i;
            l->table.at(clock, i);
            l->table.update(m, ts);
        }
        if (i % 50 == 0) {
            for (Log* l : {&all, &part[0], &part[1]}) {
                ++l->tick;
                l->packet = 0;
                l->table.expire(clock);
            }
        }
    }
    for (Log* l : {&all, &part[0], &part[1]}) {
        ++l->tick;
        l->packet = 0;
        l->table.flush();
    }
    ASSERT_EQ(all.out.size(), all.table.stats().created);
    ASSERT_GT(all.table.stats().evicted_idle, 1000u);
    // The one table's evictions, in the order it made them, are the two
    // tables' merged by expiry and then by sequence.
    auto merged = part[0].out;
    merged.insert(merged.end(), part[1].out.begin(), part[1].out.end());
    std::sort(merged.begin(), merged.end());
    EXPECT_EQ(merged, all.out);
}

// A flow idle past its timeout ends at its own next packet when no expire()
// came in the silence (no other frame arrived): the packet starts a new
// flow, as it would after the sweep. Within the timeout it is the same flow.
TEST(FlowTable, AFlowIdlePastItsTimeoutEndsAtItsNextPacket) {
    FlowTableConfig cfg;
    FlowTable t(cfg);
    std::vector<uint64_t> ended;
    t.set_evict_callback([&](Flow& f) { ended.push_back(f.id); });
    const int64_t s = 1'000'000;
    t.at(0, 1);
    const uint64_t first = t.update(udp(C, 5060, S, 5060), 0).flow->id;
    t.at(119 * s, 2);
    EXPECT_FALSE(t.update(udp(S, 5060, C, 5060), 119 * s).created);  // within 120 s of the last packet
    t.at(240 * s, 3);
    const auto later = t.update(udp(C, 5060, S, 5060), 240 * s);  // 121 s of silence, no expire()
    EXPECT_TRUE(later.created);
    EXPECT_NE(later.flow->id, first);
    EXPECT_EQ(ended, std::vector<uint64_t>{first});
    EXPECT_EQ(t.stats().evicted_idle, 1u);
    EXPECT_EQ(later.flow->packets[kFromClient], 1u);
}

// A new SYN on a connection closed by a RST (or FINs both ways) opens a new
// connection on the same ports; the same SYN again (its sequence number)
// is a retransmission of the closed one's.
TEST(FlowTable, ANewSynOnAClosedConnectionStartsANewFlow) {
    FlowTableConfig cfg;
    FlowTable t(cfg);
    auto syn = tcp(C, 40000, S, 5060, kTcpSyn);
    syn.tcp_seq = 1000;
    const uint64_t first = t.update(syn, 1).flow->id;
    t.update(tcp(S, 5060, C, 40000, kTcpRst | kTcpAck), 2);
    EXPECT_FALSE(t.update(syn, 3).created);  // retransmitted after the RST
    auto again = syn;
    again.tcp_seq = 90000;
    const auto next = t.update(again, 4);
    EXPECT_TRUE(next.created);
    EXPECT_NE(next.flow->id, first);
    EXPECT_EQ(next.flow->client_port, 40000);
    // A SYN on a connection still open is not a new one.
    auto other = tcp(C, 40001, S, 5060, kTcpSyn);
    other.tcp_seq = 5;
    t.update(other, 5);
    t.update(tcp(S, 5060, C, 40001, kTcpSyn | kTcpAck), 6);
    other.tcp_seq = 777;
    EXPECT_FALSE(t.update(other, 7).created);
}

// Capture time going backwards (captures of two machines concatenated): a
// packet stamped in the past keeps the flow's latest time, so the next
// expiry does not split the flow in two; the record spans both times.
TEST(FlowTable, ClockGoingBackDoesNotSplitAFlow) {
    for (bool tcp_flow : {false, true}) {
        FlowTableConfig cfg;
        EvictionLog log(cfg);
        FlowTable& t = log.table;
        auto pkt = [&](bool from_client) {
            if (tcp_flow) return from_client ? tcp(C, 40000, S, 443, kTcpAck, 10) : tcp(S, 443, C, 40000, kTcpAck, 10);
            return from_client ? udp(C, 40000, S, 3478) : udp(S, 3478, C, 40000);
        };
        constexpr int64_t s = 1'000'000;
        Flow* f = t.update(pkt(true), 1000 * s).flow;
        const uint64_t id = f->id;
        t.update(pkt(false), 1001 * s);
        t.update(pkt(true), 600 * s);  // 401 s in the past: longer than any idle timeout
        t.expire(1002 * s);
        EXPECT_TRUE(log.ports.empty()) << tcp_flow;
        const auto lk = t.update(pkt(true), 1002 * s);
        EXPECT_FALSE(lk.created);
        EXPECT_EQ(lk.flow->id, id);
        EXPECT_EQ(lk.flow->first_ts_us, 600 * s);
        EXPECT_EQ(lk.flow->last_ts_us, 1002 * s);
        EXPECT_EQ(lk.flow->packets[kFromClient] + lk.flow->packets[kFromServer], 4u);
        EXPECT_EQ(t.stats().created, 1u);
    }
}

// A ping and its reply are one flow, and an ICMP error quoting the ping
// attaches to it (ICMPv4 and ICMPv6; frames of icmp_echo_errors.pcap).
TEST(FlowTable, IcmpErrorQuotingAnEchoAttachesToThePing) {
    const auto frame = [](const char* h) {
        PacketMeta m;
        static std::vector<std::vector<uint8_t>> keep;  // the views must outlive the call
        keep.push_back(test::hex(h));
        EXPECT_TRUE(decode::parse_frame(1, keep.back(), m).ok);
        return m;
    };
    struct Case {
        const char *request, *reply, *error;
    };
    const Case cases[] = {
        {"02005e000001 02000a01000a 0800 4500 001c 0000 4000 40 01 0000 0a01000a cb00713c 0800 0000 1234 0001",
         "02000a01000a 02005e000001 0800 4500 001c 0000 4000 37 01 0000 cb00713c 0a01000a 0000 0000 1234 0001",
         "02000a01000a 02005e000001 0800 4500 0038 0000 4000 3e 01 0000 c6336401 0a01000a 030d 0000 00000000"
         "4500 001c 0000 4000 40 01 0000 0a01000a cb00713c 0800 0000 1234 0001"},
        {"02005e000001 02000a01000a 86dd 60000000 0008 3a 40 20010db8000100000000000000000010 "
         "20010db8000200000000000000000060 8000 0000 2345 0001",
         "02000a01000a 02005e000001 86dd 60000000 0008 3a 37 20010db8000200000000000000000060 "
         "20010db8000100000000000000000010 8100 0000 2345 0001",
         "02000a01000a 02005e000001 86dd 60000000 0038 3a 3e 20010db800ff00000000000000000001 "
         "20010db8000100000000000000000010 0101 0000 00000000 60000000 0008 3a 40 20010db8000100000000000000000010 "
         "20010db8000200000000000000000060 8000 0000 2345 0001"},
    };
    for (const Case& c : cases) {
        FlowTable t;
        const auto req = t.update(frame(c.request), 1);
        ASSERT_TRUE(req.created);
        EXPECT_EQ(req.dir, kFromClient);
        const auto rep = t.update(frame(c.reply), 2);
        EXPECT_FALSE(rep.created);
        EXPECT_EQ(rep.flow, req.flow);
        EXPECT_EQ(rep.dir, kFromServer);
        const PacketMeta err = frame(c.error);
        ASSERT_TRUE(err.icmp_error);
        Flow* f = t.attach_icmp_error(err, 3);
        ASSERT_EQ(f, req.flow);
        EXPECT_EQ(f->icmp_errors, 1);
        EXPECT_EQ(f->icmp_type, err.icmp_type);
        EXPECT_EQ(f->icmp_code, err.icmp_code);
    }
}

// The slot array starts small and doubles as live flows grow: every flow
// must still be found (with its id) after each growth, and evict cleanly.
TEST(FlowTable, GrowingSlotArrayKeepsEveryFlow) {
    FlowTable t;
    std::vector<std::pair<PacketMeta, uint64_t>> made;
    char addr[32];
    for (int i = 0; i < 40000; ++i) {
        std::snprintf(addr, sizeof addr, "10.%d.%d.%d", (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF);
        const PacketMeta m = udp(addr, static_cast<uint16_t>(1024 + i % 5000), S, 3478);
        const auto r = t.update(m, i);
        ASSERT_TRUE(r.created);
        made.emplace_back(m, r.flow->id);
    }
    EXPECT_EQ(t.live(), 40000u);
    for (const auto& [m, id] : made) {
        const Flow* f = t.find(m.dst, m.dport, m.src, m.sport, m.proto);  // the reverse direction finds it too
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(f->id, id);
    }
    size_t evicted = 0;
    t.set_evict_callback([&](Flow&) { ++evicted; });
    t.flush();
    EXPECT_EQ(evicted, 40000u);
    EXPECT_EQ(t.live(), 0u);
    EXPECT_EQ(t.find(made[0].first.src, made[0].first.sport, made[0].first.dst, made[0].first.dport, kProtoUdp),
              nullptr);
}

// Random inserts, lookups and evictions checked against a std::map model:
// backward-shift deletion must never lose or duplicate a flow.
TEST(FlowTable, ChurnKeepsTableConsistent) {
    FlowTableConfig cfg;
    cfg.max_flows = 500;
    cfg.udp_idle_us = 50;
    FlowTable t(cfg);
    std::map<std::tuple<int, int>, uint64_t> live;
    t.set_evict_callback([&](Flow& f) {
        const int host = f.client_ip.bytes[3];
        live.erase({host, f.client_port});
    });
    std::mt19937 rng(7);
    char addr[32];
    for (int i = 0; i < 20000; ++i) {
        const int host = static_cast<int>(rng() % 8);
        const int port = 1024 + static_cast<int>(rng() % 200);
        std::snprintf(addr, sizeof addr, "10.0.0.%d", host);
        auto r = t.update(udp(addr, static_cast<uint16_t>(port), S, 53), i);
        auto it = live.find({host, port});
        if (it == live.end()) {
            EXPECT_TRUE(r.created);
            live[{host, port}] = r.flow->id;
        } else {
            EXPECT_FALSE(r.created);
            EXPECT_EQ(it->second, r.flow->id);
        }
        if (i % 100 == 0) t.expire(i);
        ASSERT_EQ(t.live(), live.size());
    }
}

}  // namespace
}  // namespace callwall::flow
