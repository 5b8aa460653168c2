// Probe building blocks: the port spread, the retransmission schedule, the
// reflector token, the STUN and TLS messages a probe sends (checked by the
// project's own decoders), and the plan's allowed destinations.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "proto/stun.hpp"
#include "proto/tls.hpp"
#include "unit/corpus.hpp"
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <cstring>
#include <fstream>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/capture.hpp"
#include "probe/local_port.hpp"
#include "probe/plan.hpp"
#include "probe/reflector.hpp"
#include "probe/wire.hpp"

namespace callwall::probe {
namespace {

TEST(ProbeSpread, SmallRangeIsEveryPort) {
    EXPECT_EQ(spread_ports({3478, 3478}, 16), std::vector<uint16_t>{3478});
    EXPECT_EQ(spread_ports({10, 13}, 16), (std::vector<uint16_t>{10, 11, 12, 13}));
    EXPECT_EQ(spread_ports({10, 13}, 4), (std::vector<uint16_t>{10, 11, 12, 13}));
}

TEST(ProbeSpread, WideRangeHasBoundsAndEvenDistinctSpread) {
    for (uint32_t n : {2u, 3u, 16u, 100u}) {
        const auto p = spread_ports({10000, 65535}, n);
        ASSERT_EQ(p.size(), n);
        EXPECT_EQ(p.front(), 10000);
        EXPECT_EQ(p.back(), 65535);
        EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));
        EXPECT_EQ(std::set<uint16_t>(p.begin(), p.end()).size(), n);
    }
    // 16 ports over 1024..65535: gaps of 4300 or 4301 (64511 / 15 = 4300.7).
    const auto p = spread_ports({1024, 65535}, 16);
    for (size_t i = 1; i < p.size(); ++i) {
        EXPECT_GE(p[i] - p[i - 1], 4300);
        EXPECT_LE(p[i] - p[i - 1], 4301);
    }
    // One more port than asked: all but one, still both ends.
    const auto q = spread_ports({100, 116}, 16);
    EXPECT_EQ(q.size(), 16u);
    EXPECT_EQ(q.front(), 100);
    EXPECT_EQ(q.back(), 116);
    EXPECT_EQ(spread_ports({1, 65535}, 0).size(), 2u);  // below 2 counts as 2
}

TEST(ProbeSchedule, RetransmitsOnTheRfc5389BackoffAndPersists) {
    // RFC 8489 §6.2.1 with RTO 500 ms: 0, 0.5, 1.5, 3.5 s (doubling gaps).
    ASSERT_EQ(kStunScheduleS.size(), 4u);
    EXPECT_DOUBLE_EQ(kStunScheduleS[0], 0.0);
    for (size_t i = 1; i < kStunScheduleS.size(); ++i)
        EXPECT_DOUBLE_EQ(kStunScheduleS[i] - kStunScheduleS[i - 1], 0.5 * double(1u << (i - 1)));
    // Attribution calls a client that retransmitted "persisted" (blocked:
    // stun-timeout), so a drop needs at least two sends.
    EXPECT_GE(kStunScheduleS.size(), 2u);
}

TEST(ProbeToken, HmacOverTransactionIdWithKey) {
    const TransactionId a{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    TransactionId b = a;
    b[11] ^= 1;
    EXPECT_EQ(token_for("k", a), token_for("k", a));
    EXPECT_NE(token_for("k", a), token_for("k", b));
    EXPECT_NE(token_for("k", a), token_for("other", a));
    // RFC 4231-style check of the primitive: HMAC-SHA256("key", ...) differs from all zeros.
    EXPECT_NE(token_for("k", a), Token{});
}

TEST(ProbeWire, BindingRequestDecodesAsStun) {
    const auto tid = new_transaction_id();
    const auto req = stun_request(tid, false);
    const auto m = proto::stun::decode(ByteView(req));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->method, proto::stun::Method::Binding);
    EXPECT_EQ(m->msg_class, proto::stun::MessageClass::Request);
    EXPECT_TRUE(std::equal(tid.begin(), tid.end(), m->transaction_id.begin()));
    const auto alloc = proto::stun::decode(ByteView(stun_request(tid, true)));
    ASSERT_TRUE(alloc);
    EXPECT_EQ(alloc->method, proto::stun::Method::Allocate);
    ASSERT_TRUE(alloc->requested_transport);
    EXPECT_EQ(*alloc->requested_transport, 17);
}

TEST(ProbeWire, ReflectorAnswersCarryAValidToken) {
    const auto tid = new_transaction_id();
    const std::array<uint8_t, 4> ip{192, 0, 2, 7};
    const auto bind = reflector_answer(ByteView(stun_request(tid, false, "secret", 3478)), ip, 50000, "secret", "abcd");
    ASSERT_TRUE(bind);
    const auto m = proto::stun::decode(ByteView(*bind));
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->xor_mapped_address);
    EXPECT_EQ(m->xor_mapped_address->port, 50000);
    EXPECT_EQ(m->xor_mapped_address->addr[0], 192);
    EXPECT_EQ(m->xor_mapped_address->addr[3], 7);
    auto a = read_stun_answer(ByteView(*bind), tid, "secret");
    EXPECT_TRUE(a.stun);
    EXPECT_TRUE(a.success);
    EXPECT_TRUE(a.token_present);
    EXPECT_TRUE(a.token_valid);
    // The wrong key, or another transaction: the token does not verify.
    EXPECT_FALSE(read_stun_answer(ByteView(*bind), tid, "guess").token_valid);
    auto other = tid;
    other[0] ^= 0xFF;
    EXPECT_FALSE(read_stun_answer(ByteView(*bind), other, "secret").stun);

    const auto alloc = reflector_answer(ByteView(stun_request(tid, true, "secret", 3478)), ip, 50000, "secret", "abcd");
    ASSERT_TRUE(alloc);
    a = read_stun_answer(ByteView(*alloc), tid, "secret");
    EXPECT_TRUE(a.stun);
    EXPECT_FALSE(a.success);
    EXPECT_EQ(a.error_code, 401);
    EXPECT_TRUE(a.realm_and_nonce);
    EXPECT_TRUE(a.token_valid);
    // Not a request: no answer.
    EXPECT_FALSE(reflector_answer(ByteView(*alloc), ip, 1, "secret", "abcd"));
}

TEST(ProbeWire, AnswerWithoutTokenIsNotValid) {
    // A middlebox's Binding success: the same message with the token removed.
    const auto tid = new_transaction_id();
    const std::array<uint8_t, 4> ip{10, 0, 0, 1};
    auto bind = *reflector_answer(ByteView(stun_request(tid, false)), ip, 1, "secret", "n");
    // Strip everything after XOR-MAPPED-ADDRESS (20 header + 12 attribute).
    bind.resize(32);
    bind[2] = 0;
    bind[3] = 12;
    const auto a = read_stun_answer(ByteView(bind), tid, "secret");
    EXPECT_TRUE(a.stun);
    EXPECT_FALSE(a.token_present);
    EXPECT_FALSE(a.token_valid);
}

TEST(ProbeWire, ClientHelloCarriesTheSniForOurOwnParser) {
    const auto rec = client_hello("turnserver.appearin.net");
    const auto ch = proto::tls::decode_record_stream(ByteView(rec));
    ASSERT_TRUE(ch);
    const std::string sni(ch->server_name.begin(), ch->server_name.end());
    EXPECT_EQ(sni, "turnserver.appearin.net");
    EXPECT_TRUE(ch->tls13);
    ASSERT_EQ(ch->alpn.size(), 1u);
}

TEST(ProbeCaptureFrames, DnsFramesAndFilter) {
    EXPECT_EQ(bpf_for({}), "");
    const std::string filter = bpf_for({"10.0.0.1", "10.0.0.2"});
    EXPECT_EQ(filter.rfind("host 10.0.0.1 or host 10.0.0.2 or (icmp and ", 0), 0u) << filter;
    // libpcap compiles it: a firewall's ICMP error from its own address passes,
    // anything else from a third address does not.
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    bpf_program prog{};
    ASSERT_EQ(pcap_compile(dead, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN), 0) << pcap_geterr(dead);
    const auto frame = [](uint8_t proto, uint8_t icmp_type) {
        std::vector<uint8_t> f(14 + 20 + 8 + 28, 0);
        f[12] = 0x08;
        f[14] = 0x45;
        f[14 + 3] = static_cast<uint8_t>(f.size() - 14);
        f[14 + 8] = 64;
        f[14 + 9] = proto;
        const uint8_t from[4] = {10, 9, 9, 1}, to[4] = {10, 0, 0, 9};  // a router, to the probe
        std::copy(from, from + 4, f.begin() + 14 + 12);
        std::copy(to, to + 4, f.begin() + 14 + 16);
        f[14 + 20] = icmp_type;
        return f;
    };
    const auto passes = [&](const std::vector<uint8_t>& f) {
        pcap_pkthdr h{};
        h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
        return pcap_offline_filter(&prog, &h, f.data()) != 0;
    };
    EXPECT_TRUE(passes(frame(1, 3)));  // destination unreachable
    EXPECT_TRUE(passes(frame(1, 11)));  // time exceeded
    EXPECT_FALSE(passes(frame(1, 8)));  // an echo request
    EXPECT_FALSE(passes(frame(17, 3)));  // UDP from a third address
    pcap_freecode(&prog);
    pcap_close(dead);
    const auto f = dns_frame("a.whereby.com", "198.51.100.4", "10.0.0.9", true, 7);
    ASSERT_GT(f.size(), 14u + 20 + 8 + 12);
    EXPECT_EQ(f[12], 0x08);  // IPv4 ethertype
    EXPECT_EQ(f[14 + 9], 17);  // UDP
    EXPECT_EQ(f[14 + 20 + 1], 53);  // from port 53
    // The A record's address is the last four bytes.
    EXPECT_EQ(std::vector<uint8_t>(f.end() - 4, f.end()), (std::vector<uint8_t>{198, 51, 100, 4}));
}

TEST(ProbeReflect, RangesAndRuleset) {
    std::vector<catalog::PortRange> r;
    std::string err;
    ASSERT_TRUE(parse_ranges("443,1024-65535", &r, &err));
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].lo, 1024);
    EXPECT_EQ(r[1].hi, 65535);
    for (const char* bad : {"", "0", "70000", "5-4", "x", "1-2-3", "80,"}) {
        std::vector<catalog::PortRange> b;
        EXPECT_FALSE(parse_ranges(bad, &b, &err)) << bad;
    }
    ReflectOptions o;
    o.listen = "203.0.113.5";
    o.udp = {{3478, 3478}, {10000, 65535}};
    const std::string rules = nft_ruleset(o);
    EXPECT_NE(rules.find("ip daddr 203.0.113.5 udp dport { 3478, 10000-65535 } dnat to 203.0.113.5:30999"),
              std::string::npos)
        << rules;
    EXPECT_EQ(rules.find("tcp dport"), std::string::npos);
}

TEST(ProbePlan, DestinationsOnlyFromResolveTargetsOrReflector) {
    const catalog::Catalog& cat = callwall::test::bundled_catalog();
    PlanOptions o;
    o.vendors = {"Whereby"};
    o.resolve = {{"turnserver.appearin.net", "198.51.100.10"}};
    o.targets = {{"whereby.signaling.tcp", "api.whereby.com"}};
    std::vector<std::string> asked;
    const auto resolver = [&](const std::string& name, std::string* err) -> std::string {
        asked.push_back(name);
        if (name == "api.whereby.com") return "198.51.100.11";
        *err = "does not resolve";
        return {};
    };
    const Plan p = make_plan(cat, o, resolver);
    ASSERT_FALSE(p.probes.empty());
    for (const auto& pr : p.probes) EXPECT_TRUE(pr.addr == "198.51.100.10" || pr.addr == "198.51.100.11") << pr.addr;
    EXPECT_EQ(p.destinations, (std::vector<std::string>{"198.51.100.10", "198.51.100.11"}));
    // Wildcard-only entries without --target are not exercised, with the reason.
    bool wildcard_reason = false;
    for (const auto& s : p.skipped) wildcard_reason |= s.reason.find("--target " + s.entry_id) != std::string::npos;
    EXPECT_TRUE(wildcard_reason);
    EXPECT_EQ(std::count(asked.begin(), asked.end(), "turnserver.appearin.net"), 0);  // --resolve wins

    o.reflector = "203.0.113.5";
    const Plan q = make_plan(cat, o, resolver);
    EXPECT_EQ(q.destinations, std::vector<std::string>{"203.0.113.5"});
    for (const auto& pr : q.probes)
        if (pr.kind == ProbeKind::Tls) {
            EXPECT_FALSE(pr.host.empty());
        }
    o.budget = 3;
    const Plan b = make_plan(cat, o, resolver);
    EXPECT_EQ(b.probes.size(), 3u);
    bool budget_reason = false;
    for (const auto& s : b.skipped) budget_reason |= s.reason == "--budget 3 reached";
    EXPECT_TRUE(budget_reason);
}

// Which UDP probes' silence says something: a TURN Allocate to a port the
// entry lists (Whereby's TURN on 443), or anything to 3478/5349; not the
// spread over Whereby's 1024-65535, nor Agora's media ports (its servers
// speak their own protocol there, not STUN).
TEST(ProbePlan, OnlySomeUdpProbesExpectAnAnswer) {
    const catalog::Catalog& cat = callwall::test::bundled_catalog();
    PlanOptions o;
    o.vendors = {"Whereby", "Agora"};
    o.reflector = "203.0.113.5";
    const Plan p = make_plan(cat, o, [](const std::string&, std::string*) { return std::string(); });
    std::map<std::string, std::set<std::pair<uint16_t, bool>>> by_entry;
    for (const auto& pr : p.probes) by_entry[pr.entry_id].insert({pr.port, pr.answer_expected});
    EXPECT_EQ(by_entry.at("whereby.turn.udp"), (std::set<std::pair<uint16_t, bool>>{{443, true}}));
    for (const auto& [port, expected] : by_entry.at("whereby.turn-sfu-highport.udp")) EXPECT_FALSE(expected) << port;
    for (const auto& [port, expected] : by_entry.at("agora-2020.rtm-native.udp")) EXPECT_FALSE(expected) << port;
    EXPECT_TRUE(by_entry.at("agora-2018.web.udp").count({3478, true}));
    EXPECT_TRUE(by_entry.at("whereby.signaling.tcp").count({443, false})) << "TCP: not a UDP probe";
}

TEST(ProbePlan, ProbeHostsInTheCatalogStandForWildcards) {
    const std::string toml =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n"
        "[[entry]]\nid = \"v.turn\"\nproduct = \"P\"\nservice = \"TURN\"\nrequired = true\n"
        "source = { file = \"s.txt\", section = \"A\" }\ntransport = \"udp\"\nports = [3478]\n"
        "destinations = [\"*.turn.x.com\"]\nprobe_hosts = [\"eu.turn.x.com\"]\n"
        "[[entry]]\nid = \"v.sig\"\nproduct = \"P\"\nservice = \"S\"\nrequired = true\n"
        "source = { file = \"s.txt\", section = \"A\" }\ntransport = \"tcp\"\nports = [443]\n"
        "destinations = [\"*.sig.x.com\"]\n";
    auto r = catalog::load_string("v.toml", toml);
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    PlanOptions o;
    o.vendors = {"V"};
    o.resolve = {{"eu.turn.x.com", "198.51.100.30"}};
    const auto none = [](const std::string&, std::string* err) -> std::string {
        *err = "no resolver in this test";
        return {};
    };
    const Plan p = make_plan(*r.catalog, o, none);
    ASSERT_EQ(p.probes.size(), 1u);
    EXPECT_EQ(p.probes[0].entry_id, "v.turn");
    EXPECT_EQ(p.probes[0].host, "eu.turn.x.com");
    EXPECT_EQ(p.probes[0].addr, "198.51.100.30");
    ASSERT_EQ(p.skipped.size(), 1u);
    EXPECT_EQ(p.skipped[0].entry_id, "v.sig");
    EXPECT_NE(p.skipped[0].reason.find("or list probe_hosts in the catalog entry"), std::string::npos)
        << p.skipped[0].reason;
    // Through a reflector the catalog's real name goes before a stand-in.
    o.reflector = "203.0.113.5";
    const Plan q = make_plan(*r.catalog, o, none);
    ASSERT_EQ(q.probes.size(), 2u);
    EXPECT_EQ(q.probes[0].host, "eu.turn.x.com");
    EXPECT_EQ(q.probes[1].host, "callwall-probe.sig.x.com");
}

// The bundled catalog's one inbound entry (Agora's recording downstream,
// local UDP 40000-41000) is the only range a probe must not send from.
TEST(ProbeLocalPort, InboundLocalPortsAreTheInboundEntriesRanges) {
    const auto ranges = callwall::test::bundled_catalog().inbound_local_ports();
    ASSERT_EQ(ranges.size(), 1u);
    EXPECT_EQ(ranges[0].lo, 40000);
    EXPECT_EQ(ranges[0].hi, 41000);
}

uint16_t local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    return ntohs(a.sin_port);
}

sockaddr_in loopback() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int udp_socket() { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }

// The kernel's ephemeral range, from /proc (Linux's default when unreadable).
catalog::PortRange ephemeral_range() {
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned lo = 32768, hi = 60999;
    in >> lo >> hi;
    return {static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
}

TEST(ProbeLocalPort, PortIsOutsideTheAvoidedRanges) {
    const catalog::PortRange e = ephemeral_range();
    ASSERT_LT(e.lo, e.hi);
    // Avoid the lower half of the kernel's range: every socket ends outside it.
    const std::vector<catalog::PortRange> avoid{{e.lo, static_cast<uint16_t>(e.lo + (e.hi - e.lo) / 2)}};
    for (int i = 0; i < 20; ++i) {
        std::string err;
        const int fd = bind_outside(udp_socket, loopback(), avoid, &err);
        ASSERT_GE(fd, 0) << err;
        EXPECT_TRUE(err.empty());
        EXPECT_GT(local_port(fd), avoid[0].hi);
        ::close(fd);
    }
}

TEST(ProbeLocalPort, NoPortOutsideIsAnErrorNotAnAvoidedPort) {
    const std::vector<catalog::PortRange> avoid{ephemeral_range()};
    std::string err;
    EXPECT_EQ(bind_outside(udp_socket, loopback(), avoid, &err), -1);
    EXPECT_EQ(err, "no local port outside the inbound entries' ranges");
}

TEST(ProbeLocalPort, AFailingSocketIsSaid) {
    std::string err;
    const auto fails = [] {
        errno = EMFILE;
        return -1;
    };
    EXPECT_EQ(bind_outside(fails, loopback(), {}, &err), -1);
    EXPECT_EQ(err, std::string("socket: ") + std::strerror(EMFILE));
}

// A vendor that publishes ranges and no names (catalog schema 2): the probe
// goes to an address inside the first range, never to a documentation
// address and never through the resolver.
TEST(ProbePlan, PublishedRangesStandForTheVendorsAddress) {
    const std::string toml =
        "schema = 2\n[document]\nvendor = \"V\"\nurl = \"https://v.example/net\"\nundated = true\n"
        "transcribed = 2026-11-26\n"
        "[[entry]]\nid = \"v.media\"\nproduct = \"P\"\nservice = \"Media\"\nrequired = true\n"
        "transport = \"udp\"\nports = [3478]\n"
        "addresses = [\"2603:1063::/38\", \"52.112.0.0/14\"]\n[entry.source]\nsection = \"Optimize\"\n";
    auto r = catalog::load_string("v.toml", toml);
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
    PlanOptions o;
    o.vendors = {"V"};
    std::vector<std::string> asked;
    const auto resolver = [&](const std::string& name, std::string* err) -> std::string {
        asked.push_back(name);
        *err = "no resolver in this test";
        return {};
    };
    const Plan p = make_plan(*r.catalog, o, resolver);
    ASSERT_EQ(p.probes.size(), 1u) << (p.skipped.empty() ? "" : p.skipped[0].reason);
    EXPECT_EQ(p.probes[0].addr, "52.112.0.1");  // IPv4 first, inside 52.112.0.0/14
    EXPECT_TRUE(p.probes[0].host.empty());
    EXPECT_TRUE(asked.empty());
    EXPECT_EQ(p.destinations, std::vector<std::string>{"52.112.0.1"});
    // Through a reflector the reflector stands for every address, as for names.
    o.reflector = "203.0.113.5";
    const Plan q = make_plan(*r.catalog, o, resolver);
    ASSERT_EQ(q.probes.size(), 1u);
    EXPECT_EQ(q.probes[0].addr, "203.0.113.5");
}

}  // namespace
}  // namespace callwall::probe
