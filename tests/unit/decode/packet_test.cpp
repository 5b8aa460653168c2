// Link/IP/transport/ICMP decoding on hex fixtures.
#include "decode/packet.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "unit/test_util.hpp"

namespace callwall::decode {
namespace {

using test::hex;
using test::view;

// arkime__tls-alpn-h2.pcap frame 1: BSD loopback (NULL, little-endian family
// 30 = AF_INET6 on macOS), IPv6, TCP SYN with options.
const auto kNullIpv6Syn =
    hex("1e000000 60025bab 002c 06 40"
        "20014998 ef830014 80000000 0000100d"
        "26064700 00000000 00000000 6811d209"
        "fa22 01bb 33152f2a 00000000 b002 ffff d20b 0000"
        "02040542 01030306 0101080a 6e69087c 00000000 04020000");

// ndpi__stun.pcap frame 24: Ethernet, ICMP port unreachable (3/3) from
// 192.168.12.169 quoting a UDP STUN packet 74.125.247.128:3478 → 192.168.12.169:43016.
const auto kIcmpPortUnreach =
    hex("08beac0b176e 9adf58faebdc 0800 45c0 006c f7c3 0000 4001 72be c0a80ca9 4a7df780"
        "0303 0c9a 00000000 4500 0050 0109 0000 6611 4445 4a7df780 c0a80ca9 0d96 a808 003c 7ad7"
        "0104 0020 2112a442 6a617a69 36324e66 55443577 000d 0004 00000000 0008 0014 083ad06e"
        "3fc764fc de7200d6 2a73aacb 292ca9cb");

// ndpi__dns.pcap frame 4: Ethernet, 802.1Q, 802.1Q, PPPoE session, PPP IPv4, UDP DNS query.
const auto kQinqPppoeDns =
    hex("000000000001 d494e80eadc1 8100 01a5 8100 0311 8864 1100 556a 003f 0021"
        "4500 003d 0000 4000 4011 84a1 52b271f5 52b29eb5 b897 0035 0029 b67d"
        "7843 0100 0001 0000 0000 0000 02 6537 08 7768617473617070 03 6e6574 00 0001 0001");

TEST(Packet, NullLoopbackIpv6TcpSyn) {
    auto r = parse_frame(0, view(kNullIpv6Syn));
    ASSERT_TRUE(r.ok());
    const PacketMeta& m = *r;
    EXPECT_EQ(m.ip_version, 6);
    EXPECT_EQ(m.proto, kProtoTcp);
    EXPECT_EQ(to_string(m.src), "2001:4998:ef83:14:8000::100d");
    EXPECT_EQ(to_string(m.dst), "2606:4700::6811:d209");
    EXPECT_EQ(m.sport, 64034);
    EXPECT_EQ(m.dport, 443);
    EXPECT_EQ(m.tcp_flags, kTcpSyn);
    EXPECT_EQ(m.tcp_seq, 0x33152f2au);
    EXPECT_TRUE(m.payload.empty());
    EXPECT_EQ(m.ttl, 64);
}

TEST(Packet, IcmpErrorQuotesInnerUdp) {
    auto r = parse_frame(1, view(kIcmpPortUnreach));
    ASSERT_TRUE(r.ok());
    const PacketMeta& m = *r;
    EXPECT_EQ(m.proto, kProtoIcmp);
    EXPECT_TRUE(m.icmp_error);
    EXPECT_EQ(m.icmp_type, 3);
    EXPECT_EQ(m.icmp_code, 3);
    EXPECT_EQ(m.quoted.proto, kProtoUdp);
    EXPECT_TRUE(m.quoted.has_ports);
    EXPECT_EQ(to_string(m.quoted.src), "74.125.247.128");
    EXPECT_EQ(to_string(m.quoted.dst), "192.168.12.169");
    EXPECT_EQ(m.quoted.sport, 3478);
    EXPECT_EQ(m.quoted.dport, 43016);
}

TEST(Packet, VlanVlanPppoeUdp) {
    auto r = parse_frame(1, view(kQinqPppoeDns));
    ASSERT_TRUE(r.ok());
    const PacketMeta& m = *r;
    EXPECT_EQ(m.vlan_count, 2);
    EXPECT_EQ(m.vlan_outer, 0x1a5);
    EXPECT_EQ(m.vlan_inner, 0x311);
    EXPECT_EQ(m.proto, kProtoUdp);
    EXPECT_EQ(m.sport, 47255);
    EXPECT_EQ(m.dport, 53);
    EXPECT_EQ(m.payload.size(), 0x29u - 8);
    EXPECT_EQ(m.payload[0], 0x78);
}

// Every prefix of a valid frame is either decoded with the payload clipped to
// what was captured (once the transport header is complete) or refused as
// Truncated — never a crash, never a read past the view (ASan proves it).
void check_prefixes(uint32_t linktype, const std::vector<uint8_t>& frame, size_t headers_end) {
    for (size_t n = 0; n < frame.size(); ++n) {
        std::vector<uint8_t> cut(frame.begin(), frame.begin() + static_cast<long>(n));
        auto r = parse_frame(linktype, view(cut));
        if (n < headers_end) {
            ASSERT_FALSE(r.ok()) << "prefix " << n;
            EXPECT_EQ(r.code(), DecodeErrorCode::Truncated) << "prefix " << n;
        } else if (r.ok()) {
            EXPECT_LE(r->payload.size(), n) << "prefix " << n;
            EXPECT_TRUE(r->payload.empty() || r->payload.data() + r->payload.size() <= cut.data() + cut.size());
        } else {
            EXPECT_EQ(r.code(), DecodeErrorCode::Truncated) << "prefix " << n;
        }
    }
}

TEST(Packet, EveryPrefixOfNullIpv6Syn) { check_prefixes(0, kNullIpv6Syn, 4 + 40 + 20); }
TEST(Packet, EveryPrefixOfIcmpError) { check_prefixes(1, kIcmpPortUnreach, 14 + 20 + 8); }
TEST(Packet, EveryPrefixOfPppoe) { check_prefixes(1, kQinqPppoeDns, 14 + 8 + 8 + 20 + 8); }

TEST(Packet, SnaplenCutMarksTruncation) {
    std::vector<uint8_t> cut(kQinqPppoeDns.begin(), kQinqPppoeDns.begin() + 70);
    auto r = parse_frame(1, view(cut));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->snap_truncated);
    EXPECT_EQ(r->payload_wire_len, 0x29u - 8);
    EXPECT_LT(r->payload.size(), r->payload_wire_len);
}

TEST(Packet, WrongLengths) {
    // IPv4 total length below the header length.
    auto f = kIcmpPortUnreach;
    f[16] = 0x00;
    f[17] = 0x10;
    auto r = parse_frame(1, view(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
    // IHL below 5.
    f = kIcmpPortUnreach;
    f[14] = 0x44;
    r = parse_frame(1, view(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
    // UDP length below 8.
    f = kQinqPppoeDns;
    f[30 + 20 + 4] = 0;
    f[30 + 20 + 5] = 4;
    r = parse_frame(1, view(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
    // TCP data offset below 5.
    f = kNullIpv6Syn;
    f[4 + 40 + 12] = 0x40;
    r = parse_frame(0, view(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
}

TEST(Packet, NotIpAndUnknownLinkType) {
    const auto arp = hex("ffffffffffff 001122334455 0806 0001 0800 0604 0001");
    auto r = parse_frame(1, view(arp));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::NotThisProtocol);
    r = parse_frame(147, view(arp));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Unsupported);
}

TEST(Packet, TooManyVlanTagsRefused) {
    std::vector<uint8_t> f = hex("000000000001 000000000002");
    for (int i = 0; i < 6; ++i) {
        const auto tag = hex("8100 0001");
        f.insert(f.end(), tag.begin(), tag.end());
    }
    const auto tail = hex("0800");
    f.insert(f.end(), tail.begin(), tail.end());
    auto r = parse_frame(1, view(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
}

TEST(Packet, Ipv6ExtensionChainAndLaterFragment) {
    // Raw IPv6: hop-by-hop (8 bytes) → fragment (offset 8, later fragment) → UDP.
    const auto pkt =
        hex("60000000 0018 00 40 20010db8000000000000000000000001 20010db8000000000000000000000002"
            "2c 00 0000 00000000"  // hop-by-hop: next = 44 (fragment), len 0, padding
            "11 00 0041 12345678"  // fragment: next = UDP, offset 8 (0x0041>>3 = 8), M=1, id
            "0102030405060708");
    auto r = parse_frame(101, view(pkt));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->is_fragment);
    EXPECT_TRUE(r->later_fragment);
    EXPECT_EQ(r->frag_id, 0x12345678u);
    EXPECT_EQ(r->proto, kProtoUdp);
    EXPECT_EQ(r->sport, 0);
}

TEST(Packet, Ipv6ExtensionLoopBounded) {
    // 20 destination-options headers in a row: refused after kMaxExtHeaders.
    std::vector<uint8_t> pkt =
        hex("60000000 00a0 3c 40 20010db8000000000000000000000001 20010db8000000000000000000000002");
    for (int i = 0; i < 20; ++i) {
        const auto h = hex("3c00 000000000000");
        pkt.insert(pkt.end(), h.begin(), h.end());
    }
    auto r = parse_frame(101, view(pkt));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
}

// An Ethernet frame whose IPv4 total length is 0, as Npcap/Windows and Linux
// TSO/GSO captures show a segmentation-offload super-frame (tools/
// gen_field_decode.py, tso_zero_total_length.pcap): 10.1.0.10 → 198.51.100.70,
// TCP 41002 → 443 (or UDP), `payload_len` bytes of payload.
std::vector<uint8_t> tso_frame(uint8_t proto, size_t payload_len) {
    auto f =
        hex("02005e000001 02000a01000a 0800"
            "4500 0000 1234 4000 40 00 0000 0a01000a c6336446");
    f[14 + 9] = proto;
    std::vector<uint8_t> l4 =
        proto == kProtoTcp ? hex("a03a 01bb 00000001 00000002 5018 0200 0000 0000") : hex("a03a 0035 0000 0000");
    if (proto == kProtoUdp) {
        l4[4] = static_cast<uint8_t>((8 + payload_len) >> 8);
        l4[5] = static_cast<uint8_t>(8 + payload_len);
    }
    f.insert(f.end(), l4.begin(), l4.end());
    for (size_t i = 0; i < payload_len; ++i) f.push_back(static_cast<uint8_t>(i));
    return f;
}

TEST(Packet, Ipv4TotalLengthZeroTakesTheCapturedLength) {
    for (uint8_t proto : {kProtoTcp, kProtoUdp}) {
        const auto f = tso_frame(proto, 3000);
        auto r = parse_frame(1, view(f));
        ASSERT_TRUE(r.ok()) << int{proto};
        EXPECT_EQ(r->proto, proto);
        EXPECT_EQ(r->ip_total_len, f.size() - 14);
        EXPECT_EQ(r->payload.size(), 3000u);
        EXPECT_EQ(r->payload_wire_len, 3000u);
        EXPECT_FALSE(r->snap_truncated);
        EXPECT_TRUE(r->anomalies & kAnomalyIpv4ZeroTotalLength);
        EXPECT_EQ(r->anomalies & kAnomalyUdpLengthMismatch, 0u);
    }
    // Only 0 is taken for TSO: a real length below the header stays malformed.
    auto f = tso_frame(kProtoTcp, 100);
    f[17] = 0x10;
    auto r = parse_frame(1, view(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
}

// An IPv6 jumbogram as Linux BIG TCP/GSO hands it to a capture on the
// sending host (tcpdump's bigtcp-ipv6-vxlan-ipv6.pcap): payload length 0, no
// Jumbo Payload option left, and UDP's length 0 too (RFC 2675 §4). The
// captured length stands for both; a UDP length of 0 anywhere else is still
// malformed.
TEST(Packet, Ipv6JumbogramTakesTheCapturedLengthForUdpToo) {
    auto f =
        hex("02005e000001 02000a01000a 86dd 60000000 0000 11 40 20010db8000100000000000000000010 "
            "20010db8000200000000000000000060 c350 0035 0000 0000");
    for (int i = 0; i < 3000; ++i) f.push_back(static_cast<uint8_t>(i));
    auto r = parse_frame(1, view(f));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->anomalies & kAnomalyIpv6ZeroPayloadLength);
    EXPECT_EQ(r->proto, kProtoUdp);
    EXPECT_EQ(r->dport, 53);
    EXPECT_EQ(r->payload.size(), 3000u);
    EXPECT_EQ(r->payload_wire_len, 3000u);
    EXPECT_EQ(r->anomalies & kAnomalyUdpLengthMismatch, 0u);
    f[14 + 4 + 1] = 0x10;  // a payload length that is not 0: UDP's 0 is malformed again
    EXPECT_FALSE(parse_frame(1, view(f)).ok());
}

// Echo request 10.1.0.10 → 203.0.113.60, id 0x1234 seq 1, then the ICMP
// 3/13 "administratively prohibited" from 198.51.100.1 quoting it
// (icmp_echo_errors.pcap frames 1-2); the ICMPv6 equivalents (frames 7-8, cut
// to the quoted echo header).
const auto kEchoRequest4 =
    hex("02005e000001 02000a01000a 0800 4500 003f 0000 4000 40 01 0000 0a01000a cb00713c"
        "0800 0000 1234 0001 63616c6c77616c6c2d70696e672d646174612d303132333435363738396162636465");
const auto kEchoReply4 =
    hex("02000a01000a 02005e000001 0800 4500 003f 0000 4000 37 01 0000 cb00713c 0a01000a"
        "0000 0000 1234 0001 63616c6c77616c6c2d70696e672d646174612d303132333435363738396162636465");
const auto kAdminProhibitedQuotingEcho4 =
    hex("02000a01000a 02005e000001 0800 4500 0038 0000 4000 3e 01 0000 c6336401 0a01000a"
        "030d 0000 00000000 4500 003f 0000 4000 40 01 0000 0a01000a cb00713c 0800 0000 1234 0001");
const auto kEchoRequest6 = hex(
    "02005e000001 02000a01000a 86dd 60000000 0008 3a 40 20010db8000100000000000000000010 20010db8000200000000000000000060"
    "8000 0000 2345 0001");
const auto kEchoReply6 = hex(
    "02000a01000a 02005e000001 86dd 60000000 0008 3a 37 20010db8000200000000000000000060 20010db8000100000000000000000010"
    "8100 0000 2345 0001");
const auto kAdminProhibitedQuotingEcho6 = hex(
    "02000a01000a 02005e000001 86dd 60000000 0038 3a 3e 20010db800ff00000000000000000001 20010db8000100000000000000000010"
    "0101 0000 00000000"
    "60000000 0008 3a 40 20010db8000100000000000000000010 20010db8000200000000000000000060 8000 0000 2345 0001");

TEST(Packet, EchoRequestAndReplyAreKeyedAsOneConversation) {
    for (const auto* pair : {&kEchoRequest4, &kEchoRequest6}) {
        const bool v6 = pair == &kEchoRequest6;
        auto req = parse_frame(1, view(*pair));
        auto rep = parse_frame(1, view(v6 ? kEchoReply6 : kEchoReply4));
        ASSERT_TRUE(req.ok());
        ASSERT_TRUE(rep.ok());
        EXPECT_FALSE(req->icmp_error);
        EXPECT_EQ(req->sport, v6 ? 0x2345 : 0x1234);  // the requester's "port": the identifier
        EXPECT_EQ(req->dport, 0);
        EXPECT_EQ(rep->sport, 0);
        EXPECT_EQ(rep->dport, v6 ? 0x2345 : 0x1234);
    }
}

TEST(Packet, IcmpErrorQuotingAnEchoCarriesItsIdentifier) {
    for (const auto* frame : {&kAdminProhibitedQuotingEcho4, &kAdminProhibitedQuotingEcho6}) {
        const bool v6 = frame == &kAdminProhibitedQuotingEcho6;
        auto r = parse_frame(1, view(*frame));
        ASSERT_TRUE(r.ok());
        EXPECT_TRUE(r->icmp_error);
        const QuotedPacket& q = r->quoted;
        EXPECT_EQ(q.proto, v6 ? kProtoIcmp6 : kProtoIcmp);
        EXPECT_TRUE(q.has_ports);
        EXPECT_EQ(q.sport, v6 ? 0x2345 : 0x1234);
        EXPECT_EQ(q.dport, 0);
        EXPECT_EQ(to_string(q.src), v6 ? "2001:db8:1::10" : "10.1.0.10");
    }
    // A quoted ICMP that is not an echo (here a quoted 3/3) quotes no key.
    auto f = kAdminProhibitedQuotingEcho4;
    f[14 + 20 + 8 + 20] = 3;
    auto r = parse_frame(1, view(f));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->quoted.has_ports);
    // Cut inside the quoted echo header: no key either.
    f = kAdminProhibitedQuotingEcho4;
    f.resize(f.size() - 3);
    r = parse_frame(1, view(f));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->quoted.has_ports);
}

TEST(Packet, FragmentsPointAtTheirIpPacket) {
    // The later IPv6 fragment above and an IPv4 first fragment (MF) with padding.
    const auto pkt =
        hex("60000000 0018 00 40 20010db8000000000000000000000001 20010db8000000000000000000000002"
            "2c 00 0000 00000000 11 00 0041 12345678 0102030405060708");
    auto r = parse_frame(101, view(pkt));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->frag_ip.data(), pkt.data());
    EXPECT_EQ(r->frag_ip.size(), pkt.size());
    const auto v4 = hex("4500 0024 0007 2000 40 11 0000 c0000235 0a01000a 0035 9c40 0bc0 0000 0102030405060708 0000");
    r = parse_frame(101, view(v4));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->is_fragment);
    EXPECT_FALSE(r->later_fragment);
    EXPECT_EQ(r->frag_ip.size(), 0x24u);  // padding excluded
    // Not a fragment: no view.
    r = parse_frame(1, view(kQinqPppoeDns));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->frag_ip.empty());
}

TEST(Packet, MetaStaysThreeCacheLines) {
    // parse_frame copies a reset PacketMeta on every packet; frag_ip was
    // added into padding (packet.hpp), keep it that way.
    EXPECT_LE(sizeof(PacketMeta), 192u);
}

TEST(Packet, AddressText) {
    IpAddr a;
    ASSERT_TRUE(parse_ip("192.0.2.7", a));
    EXPECT_EQ(a.family, 4);
    EXPECT_EQ(to_string(a), "192.0.2.7");
    ASSERT_TRUE(parse_ip("2001:db8::1", a));
    EXPECT_EQ(a.family, 6);
    EXPECT_EQ(to_string(a), "2001:db8::1");
    EXPECT_FALSE(parse_ip("not-an-ip", a));
}

// IpAddr's == (two 8-byte compares, packet.hpp) sees every one of the 16
// bytes and the family, and agrees with the defaulted <=>.
TEST(Packet, AddressEqualityIsEveryByteAndTheFamily) {
    IpAddr a;
    ASSERT_TRUE(parse_ip("2001:db8::1", a));
    std::vector<IpAddr> others;
    for (size_t i = 0; i < a.bytes.size(); ++i) {
        IpAddr b = a;
        b.bytes[i] ^= 0x80;
        others.push_back(b);
    }
    IpAddr other_family = a;
    other_family.family = 4;
    others.push_back(other_family);
    const IpAddr same = a;
    EXPECT_TRUE(a == same);
    EXPECT_TRUE((a <=> same) == 0);
    for (const IpAddr& b : others) {
        EXPECT_FALSE(a == b) << to_string(b);
        EXPECT_TRUE(a != b);
        EXPECT_FALSE((a <=> b) == 0);
    }
}

// ---- tunnels, label stacks, PPP and NFLOG ----
// Frame 1 of each captures/encap/inconclusive_and_dns.<kind>.pcap
// (tools/gen_encap.py): the DNS query 10.1.0.21:51374 → 192.0.2.53:53 for
// api-7d21.calls.sendbird.com (an 84-byte IPv4 packet), wrapped.
#define CW_INNER_DNS_QUERY                                                                                   \
    "4500005441a4400040112caa0a010015c0000235c8ae00350040d33de78e01000001000000000001086170692d376432310563" \
    "616c6c730873656e646269726403636f6d000001000100002904d0000000000000"
const auto kGeneve =
    hex("02000000025102000000025008004500008e000140004011b468c00002fac00002fbc00117c1007a00000200655800109200"
        "010380010000000102005e00000102000a0100150800" CW_INNER_DNS_QUERY);
const auto kGtpu =
    hex("02000000025102000000025008004500007c000140004011b47ac00002fac00002fb086808680068000032ff0058000010000001"
        "0000" CW_INNER_DNS_QUERY);
const auto kMpls = hex("02005e00000102000a0100158847003e8040007d0140" CW_INNER_DNS_QUERY);
const auto kMplsPw =
    hex("020000000251020000000250884700010040000111400000000002005e00000102000a0100150800" CW_INNER_DNS_QUERY);
const auto kPptp = hex(
    "02000000025102000000025008004500007800014000402fb460c00002fac00002fb3001880b0058000700000001ff030021" CW_INNER_DNS_QUERY);
const auto kPpp = hex("ff030021" CW_INNER_DNS_QUERY);
const auto kCiscoHdlc = hex("0f000800" CW_INNER_DNS_QUERY);
const auto kPppEther =
    hex("110012340056"
        "0021" CW_INNER_DNS_QUERY);
const auto kNflog =
    hex("0200000508000100080003000d000a0063616c6c77616c6c00000000580009"
        "00" CW_INNER_DNS_QUERY);
#undef CW_INNER_DNS_QUERY

struct Wrapped {
    const char* what;
    uint32_t linktype;
    const std::vector<uint8_t>* frame;
    Encap encap;
};
const Wrapped kWrapped[] = {
    {"geneve", 1, &kGeneve, Encap::Geneve},     {"gtpu", 1, &kGtpu, Encap::Gtpu},
    {"mpls", 1, &kMpls, Encap::Mpls},           {"mpls pseudowire", 1, &kMplsPw, Encap::Mpls},
    {"pptp", 1, &kPptp, Encap::Pptp},           {"ppp", 9, &kPpp, Encap::None},
    {"ppp hdlc", 50, &kPpp, Encap::None},       {"cisco hdlc", 50, &kCiscoHdlc, Encap::None},
    {"ppp ether", 51, &kPppEther, Encap::None}, {"nflog", 239, &kNflog, Encap::None},
};

TEST(Packet, TunnelsLabelStacksPppAndNflogReachTheInnerPacket) {
    for (const Wrapped& w : kWrapped) {
        SCOPED_TRACE(w.what);
        auto r = parse_frame(w.linktype, view(*w.frame));
        ASSERT_TRUE(r.ok()) << static_cast<int>(r.code());
        EXPECT_EQ(to_string(r->src), "10.1.0.21");
        EXPECT_EQ(to_string(r->dst), "192.0.2.53");
        EXPECT_EQ(r->proto, kProtoUdp);
        EXPECT_EQ(r->sport, 51374);
        EXPECT_EQ(r->dport, 53);
        EXPECT_EQ(r->payload.size(), 0x40u - 8);
        EXPECT_EQ(r->payload[0], 0xe7);  // the DNS id
        EXPECT_EQ(r->encap, w.encap);
        EXPECT_EQ(r->undecoded_in, Encap::None);
        if (w.encap == Encap::Geneve || w.encap == Encap::Gtpu || w.encap == Encap::Pptp) {
            EXPECT_EQ(to_string(r->tunnel_src), "192.0.2.250");
            EXPECT_EQ(to_string(r->tunnel_dst), "192.0.2.251");
        }
        EXPECT_TRUE(link_type_supported(w.linktype));
    }
}

// Every prefix: decoded (the tunnel's own packet while its header is cut,
// or the inner packet with its payload clipped), or refused as Truncated
// (NFLOG: or as a record without a packet, when cut between attributes).
TEST(Packet, EveryPrefixOfATunnelIsDecodedOrTruncated) {
    for (const Wrapped& w : kWrapped) {
        SCOPED_TRACE(w.what);
        const auto& frame = *w.frame;
        for (size_t n = 0; n < frame.size(); ++n) {
            std::vector<uint8_t> cut(frame.begin(), frame.begin() + static_cast<long>(n));
            auto r = parse_frame(w.linktype, view(cut));
            if (r.ok()) {
                EXPECT_TRUE(r->payload.empty() || r->payload.data() + r->payload.size() <= cut.data() + cut.size());
            } else if (w.linktype == 239) {
                EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol)
                    << "prefix " << n;
            } else {
                EXPECT_EQ(r.code(), DecodeErrorCode::Truncated) << "prefix " << n;
            }
        }
    }
}

// Frame 2 of the GTP-U capture: E set, a PDU session container extension
// header (type 0x85, one 4-byte unit), then the DNS answer.
const auto kGtpuExt =
    hex("020000000251020000000250080045000090000240004011b465c00002fac00002fb08680868007c000034ff006c00001000"
        "00000085010009004500006427bb40003d114983c00002350a0100150035c8ae0050c69fe78e81800001000100000001086170"
        "692d376432310563616c6c730873656e646269726403636f6d0000010001c00c000100010000003c0004cb00713c00002904d0"
        "000000000000");

// The frame fails, and names the encapsulation whose content it could not read.
void expect_undecoded_in(uint32_t linktype, const std::vector<uint8_t>& f, DecodeErrorCode code, Encap in) {
    PacketMeta m;
    const LayerStatus st = parse_frame(linktype, view(f), m);
    ASSERT_FALSE(st.ok);
    EXPECT_EQ(st.error.code, code);
    EXPECT_EQ(m.undecoded_in, in);
}

TEST(Packet, GtpuExtensionHeadersAreWalkedAndBounded) {
    auto r = parse_frame(1, view(kGtpuExt));
    ASSERT_TRUE(r.ok()) << static_cast<int>(r.code());
    EXPECT_EQ(r->sport, 53);
    EXPECT_EQ(r->dport, 51374);
    EXPECT_EQ(r->encap, Encap::Gtpu);
    // An extension header of length 0 would never end: refused.
    auto f = kGtpuExt;
    f[54] = 0;
    expect_undecoded_in(1, f, DecodeErrorCode::Malformed, Encap::Gtpu);
    // Each extension header naming another after it: the chain is cut at kMaxGtpExtHeaders.
    f = kGtpuExt;
    f[57] = 0x85;
    for (int i = 0; i < 12; ++i) {
        const auto ext = hex("01000985");
        f.insert(f.begin() + 58, ext.begin(), ext.end());
    }
    expect_undecoded_in(1, f, DecodeErrorCode::Malformed, Encap::Gtpu);
}

TEST(Packet, GeneveOfAnotherVersionStaysAUdpDatagram) {
    auto f = kGeneve;
    f[42] |= 0x40;  // version 1: none is defined
    auto r = parse_frame(1, view(f));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->dport, 6081);
    EXPECT_EQ(r->encap, Encap::None);
}

TEST(Packet, AStunRequestToGenevesPortStaysAUdpDatagram) {
    // A probe sweeping 1024-65535 sends STUN to 6081 too: its first bytes
    // read as Geneve version 0 with the payload's length as protocol, but
    // the magic cookie puts 0x42 in Geneve's last reserved byte.
    auto f = kGeneve;
    f[49] = 0x42;
    auto r = parse_frame(1, view(f));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->dport, 6081);
    EXPECT_EQ(r->encap, Encap::None);
}

TEST(Packet, GtpuTunnelMessagesStayUdpDatagrams) {
    // Echo request (type 1), End Marker (254): the tunnel's own, a UDP flow to 2152.
    for (uint8_t type : {uint8_t{1}, uint8_t{254}}) {
        auto f = kGtpu;
        f[43] = type;
        auto r = parse_frame(1, view(f));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->dport, 2152);
        EXPECT_EQ(r->encap, Encap::None);
    }
    // GTP' (PT=0) and GTPv2 (version 2): not GTP-U.
    for (uint8_t flags : {uint8_t{0x22}, uint8_t{0x48}}) {
        auto f = kGtpu;
        f[42] = flags;
        auto r = parse_frame(1, view(f));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->dport, 2152);
    }
}

TEST(Packet, EncapsulatedContentNotDecodedIsNamed) {
    auto f = kGeneve;
    f[44] = 0x12;  // Geneve protocol type 0x1258
    expect_undecoded_in(1, f, DecodeErrorCode::Unsupported, Encap::Geneve);
    f = kGeneve;
    f[42] = 0x3F;  // options longer than the packet
    expect_undecoded_in(1, f, DecodeErrorCode::Truncated, Encap::Geneve);
    f = kGtpu;
    f[54] = 0x15;  // the G-PDU holds no IP packet
    expect_undecoded_in(1, f, DecodeErrorCode::Unsupported, Encap::Gtpu);
    f = kMpls;
    f[22] = 0x55;  // neither IP nor a control word after the bottom of the stack
    expect_undecoded_in(1, f, DecodeErrorCode::Unsupported, Encap::Mpls);
    f = kMpls;
    f[20] &= 0xFE;  // no bottom of stack: the labels run into the packet
    expect_undecoded_in(1, f, DecodeErrorCode::Malformed, Encap::Mpls);
    f = kPptp;
    f[50 - 2] = 0x00;
    f[50 - 1] = 0xFD;  // PPP compressed datagram (MPPE): data, not readable
    expect_undecoded_in(1, f, DecodeErrorCode::Unsupported, Encap::Pptp);
    f = kPptp;
    f[50 - 2] = 0xC0;
    f[50 - 1] = 0x21;  // LCP: PPP's control, nothing to decode, as ARP
    expect_undecoded_in(1, f, DecodeErrorCode::NotThisProtocol, Encap::None);
    f = kPptp;
    f[34] = 0x20;
    f[35] = 0x81;  // an acknowledgement alone (K, A; no S)
    expect_undecoded_in(1, f, DecodeErrorCode::NotThisProtocol, Encap::None);
    f = kPptp;
    f[35] = 0x02;  // GRE version 2: none is defined
    expect_undecoded_in(1, f, DecodeErrorCode::Unsupported, Encap::Gre);
    f = kPptp;
    f[34] = 0x00;
    f[35] = 0x00;  // plain GRE carrying protocol 0x880B
    expect_undecoded_in(1, f, DecodeErrorCode::Unsupported, Encap::Gre);
    // Link types: not tunnels, nothing to name.
    f = kNflog;
    f[0] = 7;  // AF_BRIDGE
    expect_undecoded_in(239, f, DecodeErrorCode::NotThisProtocol, Encap::None);
    f = kPppEther;
    f[1] = 0x09;  // PADI
    expect_undecoded_in(51, f, DecodeErrorCode::NotThisProtocol, Encap::None);
}

TEST(Packet, TunnelsInsideTunnelsStopAtTheDepthLimitAndAreNamed) {
    // Geneve frames nested in Geneve: the inner Ethernet frame is the whole previous frame.
    std::vector<uint8_t> f = kGeneve;
    for (int depth = 1; depth <= kMaxEncapDepth; ++depth) {
        auto r = parse_frame(1, view(f));
        ASSERT_TRUE(r.ok()) << depth;
        EXPECT_EQ(r->encap_depth, depth);
        std::vector<uint8_t> outer(kGeneve.begin(), kGeneve.begin() + 58);  // up to the inner frame
        outer.insert(outer.end(), f.begin(), f.end());
        const size_t grow = f.size() - (kGeneve.size() - 58);
        const auto add16 = [&](size_t at, size_t n) {
            const size_t v = ((outer[at] << 8) | outer[at + 1]) + n;
            outer[at] = static_cast<uint8_t>(v >> 8);
            outer[at + 1] = static_cast<uint8_t>(v);
        };
        add16(16, grow);  // outer IP total length
        add16(38, grow);  // outer UDP length
        f = outer;
    }
    PacketMeta m;
    const LayerStatus st = parse_frame(1, view(f), m);
    ASSERT_FALSE(st.ok);
    EXPECT_TRUE(m.anomalies & kAnomalyEncapTooDeep);
    EXPECT_EQ(m.undecoded_in, Encap::Geneve);
}

TEST(Packet, NflogReadsEitherByteOrderAndSkipsPaddedAttributes) {
    // The same record from a big-endian host: lengths and types swapped.
    auto f = kNflog;
    for (size_t at : {size_t{4}, size_t{12}, size_t{28}}) {
        std::swap(f[at], f[at + 1]);
        std::swap(f[at + 2], f[at + 3]);
    }
    auto r = parse_frame(239, view(f));
    ASSERT_TRUE(r.ok()) << static_cast<int>(r.code());
    EXPECT_EQ(r->dport, 53);
    // An attribute of length 0 (or under its own header) is refused, not looped on.
    f = kNflog;
    f[4] = 0;
    f[5] = 0;
    r = parse_frame(239, view(f));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
}

}  // namespace
}  // namespace callwall::decode
