// Tunnels of IP (6in4, GRE in UDP, AYIYA, Teredo, VXLAN-GPE, MPLS in UDP) and
// the 802.11 and Cisco HDLC link types on hex fixtures (made with
// tools/gen_captures.py's packet library; tshark 4.0 reads each down to the
// inner UDP datagram).
#include <gtest/gtest.h>

#include <vector>

#include "decode/packet.hpp"
#include "unit/decode/packet_meta_equal.hpp"
#include "unit/test_util.hpp"

namespace callwall::decode {
namespace {

using test::hex;
using test::view;

// Ethernet, IPv4 192.0.2.1 → 198.51.100.41 protocol 41, IPv6 2001:db8:1::10 →
// 2001:db8:2::9, UDP 40000 → 443 "callwall".
const auto k6in4 =
    hex("02000000025102000000025008004500004c0007400040294e24c0000201c6336429600000000010114020010db8000100000000000000"
        "00001020010db80002000000000000000000099c4001bb001052a963616c6c77616c6c");
// UDP 50000 → 4754, GRE with a key (77), protocol 0x0800, IPv4 10.1.0.10 → 203.0.113.9, UDP 40000 → 3478.
const auto kGreUdp =
    hex("0200000002510200000002500800450000480007400040114e40c0000201c6336429c350129200345b2e200008000000004d4500002400"
        "0140004011f4b30a01000acb0071099c400d9600105c4763616c6c77616c6c");
// UDP 5072 → 5072, AYIYA (identity 16 bytes, signature 20, opcode forward, next header 41), the IPv6 packet.
const auto kAyiya =
    hex("0200000002510200000002500800450000800007400040114e08c0000201c633642913d013d0006cccd6415211296955b9000001020304"
        "05060708090a0b0c0d0e0f0000000000000000000000000000000000000000600000000010114020010db8000100000000000000000010"
        "20010db80002000000000000000000099c4001bb001052a963616c6c77616c6c");
// UDP 3544 → 40000, Teredo origin indication, the IPv6 packet.
const auto kTeredo =
    hex("02000000025102000000025008004500005c0007400040114e2cc0000201c63364290dd89c400048be33000063bf39cc9bf86000000000"
        "10114020010db800010000000000000000001020010db80002000000000000000000099c4001bb001052a963616c6c77616c6c");
// UDP 50000 → 4790, VXLAN-GPE (I, P; next protocol 3: Ethernet) VNI 4242, the IPv4 frame.
const auto kVxlanGpe =
    hex("0200000002510200000002500800450000560007400040114e32c0000201c6336429c35012b60042d4860c000003001092000200000002"
        "51020000000250080045000024000140004011f4b30a01000acb0071099c400d9600105c4763616c6c77616c6c");
// UDP 50000 → 6635, one MPLS label (3000, bottom of stack), the IPv4 packet.
const auto kMplsUdp = hex(
    "0200000002510200000002500800450000440007400040114e44c0000201c6336429c35019eb0030fa2e00bb814045000024000140004011"
    "f4b30a01000acb0071099c400d9600105c4763616c6c77616c6c");
// UDP 50000 → 6635, a STUN Binding request whose transaction id reads as a
// bottom-of-stack label followed by a 4: no IPv4 packet follows.
const auto kStunToMplsPort =
    hex("0200000002510200000002500800450000300007400040110000c0000201c6336429c35019eb001c0000000100002112a44200000100"
        "45aabbccddeeff11");
// UDP 50000 → 4754 whose payload is no GRE header (reserved bits set).
const auto kNotGre =
    hex("02000000025102000000025008004500003e0007400040114e4ac0000201c6336429c3501292002af8584500ffff000000000000000000"
        "000000000000000000000000000000000000000000");

// 802.11 QoS data, ToDS and FromDS (4 addresses), LLC/SNAP, IPv4 UDP.
const auto kWlan4Addr =
    hex("88030000020000000a01020000000a0102005e0000011000020000000b020000aaaa03000000080045000024000140004011f4b30a0100"
        "0acb0071099c400d9600105c4763616c6c77616c6c");
// Radiotap (TSFT, Flags = FCS at end, Rate, Channel, signal), 802.11 data ToDS, IPv6 UDP, the FCS.
const auto kRadiotapFcs =
    hex("000017002f000000e803000000000000106c3c144001d608012c00020000000a01020000000b0202005e0000012000aaaa0300000086dd"
        "600000000010114020010db800010000000000000000001020010db80002000000000000000000099c4001bb001052a963616c6c77616c"
        "6ceb56bc61");
// Radiotap with two present words (Flags = data pad, Rate), 802.11 QoS data FromDS padded to 28 bytes, IPv4 UDP.
const auto kRadiotapPad =
    hex("00000e000600008000000000200c88022c00020000000b02020000000a0102005e000001300005000000aaaa0300000008004500002400"
        "0140004011f4b30a01000acb0071099c400d9600105c4763616c6c77616c6c");
// PPI with an 802.11-Common field, DLT 105, 802.11 data ToDS, IPv6 UDP.
const auto kPpi =
    hex("000020006900000002001400e80300000000000000006c003c1440010000d8a108012c00020000000a01020000000b0202005e00000120"
        "00aaaa0300000086dd600000000010114020010db800010000000000000000001020010db80002000000000000000000099c4001bb0010"
        "52a963616c6c77616c6c");
// Cisco HDLC (LINKTYPE_C_HDLC): 0x0F 0x00 0x0800, IPv4 UDP.
const auto kCiscoHdlcUdp = hex("0f00080045000024000140004011f4b30a01000acb0071099c400d9600105c4763616c6c77616c6c");
// 802.11 QoS data with the Protected bit (CCMP header, ciphertext).
const auto kProtected =
    hex("88412c00020000000a01020000000b0202005e000001400000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000");
// 802.11 beacon.
const auto kBeacon = hex("80000000ffffffffffff020000000a01020000000a010000000000000000000000000000");
// 802.11 QoS data, A-MSDU of two subframes.
const auto kAmsdu =
    hex("88012c00020000000a01020000000b0202005e00000150008000020000000b0202005e0000010026aaaa0300000008004500001e000140"
        "004011f4b90a01000acb0071099c400009000abc4b6130020000000b0202005e0000010026aaaa0300000008004500001e000140004011"
        "f4b90a01000acb0071099c410009000abc496131");

void expect_inner_udp4(const PacketMeta& m, uint16_t dport) {
    EXPECT_EQ(m.ip_version, 4);
    EXPECT_EQ(m.proto, kProtoUdp);
    EXPECT_EQ(to_string(m.src), "10.1.0.10");
    EXPECT_EQ(to_string(m.dst), "203.0.113.9");
    EXPECT_EQ(m.sport, 40000);
    EXPECT_EQ(m.dport, dport);
    EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "callwall");
}

void expect_inner_udp6(const PacketMeta& m) {
    EXPECT_EQ(m.ip_version, 6);
    EXPECT_EQ(m.proto, kProtoUdp);
    EXPECT_EQ(to_string(m.src), "2001:db8:1::10");
    EXPECT_EQ(to_string(m.dst), "2001:db8:2::9");
    EXPECT_EQ(m.sport, 40000);
    EXPECT_EQ(m.dport, 443);
    EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "callwall");
}

void expect_tunnel(const PacketMeta& m, Encap e) {
    EXPECT_EQ(m.encap, e);
    EXPECT_EQ(m.encap_depth, 1);
    EXPECT_EQ(to_string(m.tunnel_src), "192.0.2.1");
    EXPECT_EQ(to_string(m.tunnel_dst), "198.51.100.41");
}

TEST(Tunnels, SixInFour) {
    auto r = parse_frame(1, view(k6in4));
    ASSERT_TRUE(r.ok());
    expect_inner_udp6(*r);
    expect_tunnel(*r, Encap::IpInIp);
}

TEST(Tunnels, GreInUdp) {
    auto r = parse_frame(1, view(kGreUdp));
    ASSERT_TRUE(r.ok());
    expect_inner_udp4(*r, 3478);
    expect_tunnel(*r, Encap::GreUdp);
}

TEST(Tunnels, Ayiya) {
    auto r = parse_frame(1, view(kAyiya));
    ASSERT_TRUE(r.ok());
    expect_inner_udp6(*r);
    expect_tunnel(*r, Encap::Ayiya);
}

TEST(Tunnels, TeredoFromTheServerPortWithOriginIndication) {
    auto r = parse_frame(1, view(kTeredo));
    ASSERT_TRUE(r.ok());
    expect_inner_udp6(*r);
    expect_tunnel(*r, Encap::Teredo);
}

TEST(Tunnels, VxlanGpeCarryingEthernet) {
    auto r = parse_frame(1, view(kVxlanGpe));
    ASSERT_TRUE(r.ok());
    expect_inner_udp4(*r, 3478);
    expect_tunnel(*r, Encap::VxlanGpe);
}

TEST(Tunnels, MplsInUdp) {
    auto r = parse_frame(1, view(kMplsUdp));
    ASSERT_TRUE(r.ok());
    expect_inner_udp4(*r, 3478);
    EXPECT_EQ(r->encap, Encap::Mpls);
}

// A datagram to a tunnel's port that is not the tunnel's stays a UDP flow,
// decoded the same by the fast path and the general path.
TEST(Tunnels, ADatagramToTheGreInUdpPortThatIsNotGreStaysUdp) {
    auto r = parse_frame(1, view(kNotGre));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->encap, Encap::None);
    EXPECT_EQ(r->dport, 4754);
    EXPECT_EQ(r->payload.size(), 34u);
    PacketMeta general;
    ASSERT_TRUE(parse_ethernet(view(kNotGre), general).ok);
    EXPECT_TRUE(test::same_meta(*r, general));
}

// Only the port announces MPLS in UDP: a datagram that merely looks like a
// label stack stays the UDP datagram it is (a probe's STUN request sweeping
// the high ports), on the fast path and the general one.
TEST(Tunnels, AStunRequestToTheMplsInUdpPortStaysUdp) {
    auto r = parse_frame(1, view(kStunToMplsPort));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->encap, Encap::None);
    EXPECT_EQ(r->dport, 6635);
    EXPECT_EQ(r->payload.size(), 20u);
    PacketMeta general;
    ASSERT_TRUE(parse_ethernet(view(kStunToMplsPort), general).ok);
    EXPECT_TRUE(test::same_meta(*r, general));
}

// Cut anywhere, no tunnel reads past its frame: every prefix decodes or
// fails, and a decoded payload lies inside the prefix.
TEST(Tunnels, EveryPrefixStaysInsideTheFrame) {
    for (const auto* f : {&k6in4, &kGreUdp, &kAyiya, &kTeredo, &kVxlanGpe, &kMplsUdp}) {
        for (size_t n = 0; n <= f->size(); ++n) {
            const ByteView v(f->data(), n);
            PacketMeta m;
            if (!parse_frame(1, v, m).ok) continue;
            if (!m.payload.empty()) {
                EXPECT_GE(m.payload.data(), v.data());
                EXPECT_LE(m.payload.data() + m.payload.size(), v.data() + v.size());
            }
        }
    }
}

TEST(Links, Wlan80211FourAddressQosData) {
    auto r = parse_frame(105, view(kWlan4Addr));
    ASSERT_TRUE(r.ok());
    expect_inner_udp4(*r, 3478);
    EXPECT_EQ(r->encap, Encap::None);
}

TEST(Links, RadiotapWithTsftAndTheFcsAtTheEnd) {
    auto r = parse_frame(127, view(kRadiotapFcs));
    ASSERT_TRUE(r.ok());
    expect_inner_udp6(*r);
}

TEST(Links, RadiotapWithTwoPresentWordsAndDataPadding) {
    auto r = parse_frame(127, view(kRadiotapPad));
    ASSERT_TRUE(r.ok());
    expect_inner_udp4(*r, 3478);
}

TEST(Links, PpiCarrying80211) {
    auto r = parse_frame(192, view(kPpi));
    ASSERT_TRUE(r.ok());
    expect_inner_udp6(*r);
}

TEST(Links, CiscoHdlc) {
    auto r = parse_frame(104, view(kCiscoHdlcUdp));
    ASSERT_TRUE(r.ok());
    expect_inner_udp4(*r, 3478);
}

TEST(Links, ProtectedFramesAreNotDecodedAndSaySo) {
    PacketMeta m;
    const LayerStatus st = parse_frame(105, view(kProtected), m);
    EXPECT_FALSE(st.ok);
    EXPECT_TRUE(m.anomalies & kAnomalyWlanProtected);
}

TEST(Links, ManagementFramesAreSkippedAndSaySo) {
    PacketMeta m;
    const LayerStatus st = parse_frame(105, view(kBeacon), m);
    EXPECT_FALSE(st.ok);
    EXPECT_EQ(st.error.code, DecodeErrorCode::NotThisProtocol);
    EXPECT_TRUE(m.anomalies & kAnomalyWlanNotData);
}

TEST(Links, AnAmsduOfSeveralPacketsIsNotDecodedAndSaysSo) {
    PacketMeta m;
    EXPECT_FALSE(parse_frame(105, view(kAmsdu), m).ok);
    EXPECT_TRUE(m.anomalies & kAnomalyWlanAmsdu);
}

// A radiotap header whose present words chain on without end, or whose
// length points past the frame, is refused.
TEST(Links, HostileRadiotapHeadersAreRefused) {
    std::vector<uint8_t> endless = {0x00, 0x00, 0x48, 0x00};
    for (int i = 0; i < 17; ++i) endless.insert(endless.end(), {0x00, 0x00, 0x00, 0x80});
    EXPECT_FALSE(parse_frame(127, ByteView(endless.data(), endless.size())).ok());
    const auto too_long = hex("0000ff002f000000");
    EXPECT_FALSE(parse_frame(127, view(too_long)).ok());
    const auto ppi_in_ppi = hex("00000800c0000000 00000800c0000000");
    EXPECT_FALSE(parse_frame(192, view(ppi_in_ppi)).ok());
}

TEST(Links, EveryPrefixStaysInsideTheFrame) {
    const std::pair<uint32_t, const std::vector<uint8_t>*> frames[] = {{105, &kWlan4Addr},    {127, &kRadiotapFcs},
                                                                       {127, &kRadiotapPad},  {192, &kPpi},
                                                                       {104, &kCiscoHdlcUdp}, {105, &kAmsdu}};
    for (const auto& [lt, f] : frames) {
        for (size_t n = 0; n <= f->size(); ++n) {
            const ByteView v(f->data(), n);
            PacketMeta m;
            if (!parse_frame(lt, v, m).ok) continue;
            if (!m.payload.empty()) {
                EXPECT_GE(m.payload.data(), v.data());
                EXPECT_LE(m.payload.data() + m.payload.size(), v.data() + v.size());
            }
        }
    }
}

TEST(Links, TheNewLinkTypesAreSupported) {
    for (uint32_t lt : {104u, 105u, 127u, 192u}) EXPECT_TRUE(link_type_supported(lt)) << lt;
}

}  // namespace
}  // namespace callwall::decode
