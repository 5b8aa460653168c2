// The probe and the reflector over IPv6: address literals, the reflector's
// STUN answer for an IPv6 source (XOR-MAPPED-ADDRESS family 2, RFC 8489
// §14.2), the probe capture's DNS frames (AAAA answers, IPv6/UDP with its
// checksum) read back by the project's own decoders, and on loopback (::1)
// the sender against the real reflector, TCP with its token and STUN.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "decode/packet.hpp"
#include "proto/dns.hpp"
#include "proto/stun.hpp"
#include "probe/address.hpp"
#include "probe/capture.hpp"
#include "probe/loopback.hpp"
#include "probe/plan.hpp"
#include "probe/reflector.hpp"
#include "probe/sender.hpp"
#include "probe/wire.hpp"

namespace callwall::probe {
namespace {

TEST(ProbeIpv6, AddressLiteralsOfBothFamilies) {
    const auto v4 = parse_address("192.0.2.7", 443);
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->family(), AF_INET);
    EXPECT_EQ(v4->port(), 443);
    EXPECT_EQ(v4->ip().size(), 4u);
    EXPECT_EQ(v4->text(), "192.0.2.7");
    const auto v6 = parse_address("2001:db8::7", 3478);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->family(), AF_INET6);
    EXPECT_EQ(v6->port(), 3478);
    EXPECT_EQ(v6->ip().size(), 16u);
    EXPECT_EQ(v6->text(), "2001:db8::7");
    EXPECT_FALSE(parse_address("turn.example.com"));
    EXPECT_FALSE(parse_address("192.0.2.300"));
    EXPECT_TRUE(is_ipv6("::1"));
    EXPECT_EQ(with_port("192.0.2.7", 443), "192.0.2.7:443");
    EXPECT_EQ(with_port("2001:db8::7", 3478), "[2001:db8::7]:3478");
    EXPECT_FALSE(is_ipv6("127.0.0.1"));
}

TEST(ProbeIpv6, ReflectorAnswersAnIpv6SourceWithItsMappedAddress) {
    const auto tid = new_transaction_id();
    const auto from = parse_address("2001:db8:1::20", 50000);
    ASSERT_TRUE(from);
    const auto bind = reflector_answer(ByteView(stun_request(tid, false)), from->ip(), 50000, "K1", "n");
    ASSERT_TRUE(bind);
    const auto m = proto::stun::decode(ByteView(*bind));
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->xor_mapped_address);
    EXPECT_EQ(m->xor_mapped_address->family, 6);
    EXPECT_EQ(m->xor_mapped_address->port, 50000);
    EXPECT_TRUE(std::equal(from->ip().begin(), from->ip().end(), m->xor_mapped_address->addr.begin()));
    EXPECT_TRUE(read_stun_answer(ByteView(*bind), tid, "K1").token_valid);
    // An address of neither length is no source to answer.
    const uint8_t odd[5] = {};
    EXPECT_FALSE(reflector_answer(ByteView(stun_request(tid, false)), ByteView(odd, 5), 1, "K1", "n"));
}

// The DNS message of a frame made by dns_frame, through the packet decoder.
proto::dns::Message decoded_dns(const std::vector<uint8_t>& frame, decode::PacketMeta& meta) {
    EXPECT_TRUE(decode::parse_frame_ok(1, ByteView(frame), meta));
    auto m = proto::dns::decode(meta.payload);
    EXPECT_TRUE(m);
    return m ? *m : proto::dns::Message{};
}

TEST(ProbeIpv6, DnsFramesCarryAaaaAnswersOverIpv6WithAValidChecksum) {
    const auto frame = dns_frame("turn.example.com", "2001:db8::7", "2001:db8:1::20", true, 7);
    ASSERT_FALSE(frame.empty());
    decode::PacketMeta meta;
    const auto m = decoded_dns(frame, meta);
    EXPECT_EQ(meta.src.family, 6);
    EXPECT_EQ(meta.proto, 17);
    EXPECT_EQ(meta.sport, 53);
    ASSERT_EQ(m.answers.size(), 1u);
    EXPECT_EQ(m.answers[0].type, 28);
    const auto want = parse_address("2001:db8::7");
    EXPECT_TRUE(
        std::equal(want->ip().begin(), want->ip().end(), m.answers[0].address.begin(), m.answers[0].address.end()));
    // The UDP checksum over the pseudo-header and the datagram sums to 0xFFFF.
    const size_t udp = 14 + 40;
    uint32_t sum = 0;
    for (size_t i = 14 + 8; i < 14 + 40; i += 2) sum += uint32_t{frame[i]} << 8 | frame[i + 1];  // addresses
    sum += static_cast<uint32_t>(frame.size() - udp) + 17;
    for (size_t i = udp; i + 1 < frame.size(); i += 2) sum += uint32_t{frame[i]} << 8 | frame[i + 1];
    if ((frame.size() - udp) % 2) sum += uint32_t{frame.back()} << 8;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    EXPECT_EQ(sum, 0xFFFFu);
    EXPECT_NE(frame[udp + 6] | frame[udp + 7], 0) << "IPv6 forbids a zero UDP checksum";
    // An IPv6 address named over IPv4 DNS is an AAAA answer too; an IPv4 one an A.
    decode::PacketMeta m4;
    EXPECT_EQ(decoded_dns(dns_frame("x.example.com", "2001:db8::7", "192.0.2.1", true, 8), m4).answers[0].type, 28);
    EXPECT_EQ(decoded_dns(dns_frame("x.example.com", "198.51.100.4", "192.0.2.1", true, 9), m4).answers[0].type, 1);
    EXPECT_TRUE(dns_frame("x.example.com", "not-an-address", "192.0.2.1", true, 9).empty());
}

TEST(ProbeIpv6, SystemResolveGivesTheFamilyAsked) {
    std::string err;
    EXPECT_EQ(system_resolve("::1", &err, AF_INET6), "::1") << err;
    EXPECT_EQ(system_resolve("127.0.0.1", &err, AF_INET), "127.0.0.1") << err;
    err.clear();
    EXPECT_EQ(system_resolve("127.0.0.1", &err, AF_INET6), "");
    EXPECT_NE(err.find("does not resolve"), std::string::npos) << err;
}

bool loopback6_usable() {
    const int s = ::socket(AF_INET6, SOCK_DGRAM, 0);
    if (s < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

TEST(ProbeIpv6, SenderAndReflectorOnIpv6Loopback) {
    if (!loopback6_usable()) GTEST_SKIP() << "no IPv6 loopback here (::1 cannot be bound)";
    const uint16_t port = loopback::free_port(AF_INET6);
    loopback::Reflector reflector("::1", port, "K1");
    std::vector<Probe> probes(3);
    const ProbeKind kinds[] = {ProbeKind::Tls, ProbeKind::Tcp, ProbeKind::StunBinding};
    for (size_t i = 0; i < probes.size(); ++i) {
        probes[i].addr = "::1";
        probes[i].port = port;
        probes[i].host = "turnserver.appearin.net";
        probes[i].kind = kinds[i];
    }
    SendOptions o;
    o.rate_per_s = 100;
    o.key = "K1";
    const auto r = send_probes(probes, o, nullptr);
    EXPECT_EQ(reflector.stop(), 0);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].seen, "connected") << r[0].detail;
    EXPECT_EQ(r[1].seen, "connected") << r[1].detail;
    EXPECT_EQ(r[2].seen, "stun-answered") << r[2].detail;
    EXPECT_NE(r[2].detail.find("reflector token valid"), std::string::npos) << r[2].detail;
    for (const auto& x : r) EXPECT_NE(x.local_port, 0);
}

TEST(ProbeIpv6, ReflectorRulesetForAnIpv6Address) {
    ReflectOptions o;
    o.listen = "2001:db8:2::2";
    o.redirect_port = 30999;
    o.tcp = {{443, 443}};
    o.udp = {{3478, 3478}, {10000, 20000}};
    const std::string r = nft_ruleset(o);
    EXPECT_NE(r.find("table ip6 callwall_reflect"), std::string::npos) << r;
    EXPECT_NE(r.find("ip6 daddr 2001:db8:2::2 tcp dport { 443 } dnat to [2001:db8:2::2]:30999"), std::string::npos)
        << r;
    EXPECT_NE(r.find("ip6 daddr 2001:db8:2::2 udp dport { 3478, 10000-20000 } dnat to [2001:db8:2::2]:30999"),
              std::string::npos)
        << r;
}

}  // namespace
}  // namespace callwall::probe
