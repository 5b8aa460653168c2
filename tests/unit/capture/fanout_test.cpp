// The fanout program live capture's workers are split by (capture/fanout.*)
// must send a worker everything run::Shards sends it
// when it reads a file: both directions of an address pair, every fragment,
// every ICMP error with the pair it quotes. Checked through a model of the
// kernel (unit/capture/cbpf_model.hpp, itself checked against the kernel by
// live/fanout_netns_test.cpp): on hand-made frames for each layer the
// program walks, and on every frame of every committed capture, the program
// returns exactly the hash of the pair pipeline::shard_pair picks.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "capture/pcap_source.hpp"
#include "decode/packet.hpp"
#include "capture/fanout.hpp"
#include "pipeline/shards.hpp"
#include "unit/capture/cbpf_model.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

using Bytes = std::vector<uint8_t>;

uint32_t program_on(uint32_t linktype, const Bytes& frame) {
    const auto v = kernel_view(linktype, ByteView(frame.data(), frame.size()));
    EXPECT_TRUE(v.has_value());
    return v ? run_cbpf(capture::fanout_program(), *v) : 0;
}

// ---- hand-made frames ----

using V4 = std::array<uint8_t, 4>;
using V6 = std::array<uint8_t, 16>;
const V4 kA{10, 0, 0, 1}, kB{192, 0, 2, 77}, kR{198, 51, 100, 9};
const V6 kC{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
const V6 kD{0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0x01};
const V6 kE{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
// Tunnel endpoints: a switch mirroring to the sensor, or two VTEPs.
const V4 kT1{203, 0, 113, 1}, kT2{203, 0, 113, 2};
const V6 kT6{0x20, 0x01, 0x0d, 0xb8, 0x7e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05};

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
Bytes be16(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }

Bytes udp(uint16_t sport, uint16_t dport, size_t payload = 8) {
    Bytes b = cat(cat(be16(sport), be16(dport)), cat(be16(static_cast<uint16_t>(8 + payload)), be16(0)));
    b.resize(8 + payload, 0x5A);
    return b;
}
Bytes tcp_syn(uint16_t sport, uint16_t dport) {
    return cat(cat(be16(sport), be16(dport)), Bytes{0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0});
}
Bytes ipv4(const V4& src, const V4& dst, uint8_t proto, const Bytes& body, uint16_t frag = 0, size_t options = 0) {
    const size_t hl = 20 + options;
    Bytes h{static_cast<uint8_t>(0x40 | hl / 4), 0};
    h = cat(h, be16(static_cast<uint16_t>(hl + body.size())));
    h = cat(h, cat(be16(0x1234), be16(frag)));
    h = cat(h, Bytes{64, proto, 0, 0});
    h.insert(h.end(), src.begin(), src.end());
    h.insert(h.end(), dst.begin(), dst.end());
    h.resize(hl, 1);  // options: NOPs
    return cat(h, body);
}
Bytes ipv6(const V6& src, const V6& dst, uint8_t nh, const Bytes& body) {
    Bytes h{0x60, 0, 0, 0};
    h = cat(h, be16(static_cast<uint16_t>(body.size())));
    h = cat(h, Bytes{nh, 64});
    h.insert(h.end(), src.begin(), src.end());
    h.insert(h.end(), dst.begin(), dst.end());
    return cat(h, body);
}
// An IPv6 extension header of 8 octets (hop-by-hop, destination options, routing).
Bytes ext(uint8_t next) { return {next, 0, 1, 4, 0, 0, 0, 0}; }
Bytes icmp(uint8_t type, uint8_t code, const Bytes& rest) { return cat(Bytes{type, code, 0, 0, 0, 0, 0, 0}, rest); }
Bytes ether(uint16_t type, const Bytes& payload) {
    Bytes h{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa};
    return cat(cat(h, be16(type)), payload);
}
// Ethernet with VLAN tags: `tags` TPIDs, outermost first.
Bytes ether_tagged(const std::vector<uint16_t>& tags, uint16_t type, const Bytes& payload) {
    Bytes inner = cat(be16(type), payload);
    for (size_t i = tags.size(); i-- > 0;) inner = cat(cat(be16(tags[i]), be16(static_cast<uint16_t>(100 + i))), inner);
    Bytes h{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa};
    return cat(h, inner);
}
Bytes pppoe(uint16_t ppp, const Bytes& ip) {
    return cat(cat(Bytes{0x11, 0, 0x12, 0x34}, be16(static_cast<uint16_t>(ip.size() + 2))), cat(be16(ppp), ip));
}
Bytes udp_carrying(uint16_t sport, uint16_t dport, const Bytes& payload) {
    return cat(cat(cat(be16(sport), be16(dport)), cat(be16(static_cast<uint16_t>(8 + payload.size())), be16(0))),
               payload);
}
// GRE with the optional fields `flags` asks for (checksum, key, sequence number).
Bytes gre(uint16_t flags, uint16_t proto, const Bytes& inner) {
    Bytes h = cat(be16(flags), be16(proto));
    for (uint16_t optional : {0x8000, 0x2000, 0x1000})
        if (flags & optional) h = cat(h, Bytes{0xAB, 0xCD, 0xEF, static_cast<uint8_t>(optional >> 12)});
    return cat(h, inner);
}
Bytes vxlan(const Bytes& inner_frame) { return cat(Bytes{0x08, 0, 0, 0, 0, 0x12, 0x34, 0}, inner_frame); }
// ERSPAN type III's 12-byte header; `subheader`: O set and 8 more bytes.
Bytes erspan3(bool subheader, const Bytes& inner_frame) {
    Bytes h{0x20, 0x64, 0x00, 0x07, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, static_cast<uint8_t>(subheader ? 0x01 : 0x00)};
    if (subheader) h = cat(h, Bytes(8, 0x77));
    return cat(h, inner_frame);
}

struct Case {
    const char* what;
    uint32_t linktype;
    Bytes frame;
    uint32_t expected;
};

// Through tunnels: hashed by the inner packet's pair, as the decoder takes
// the inner packet for the frame.
std::vector<Case> tunnelled(const Bytes& a_to_b, const Bytes& c_to_d, const Bytes& quote4, const Bytes& quote6) {
    const uint32_t ab = pair_hash(kA.data(), kB.data(), 4), cd = pair_hash(kC.data(), kD.data(), 16),
                   ra = pair_hash(kR.data(), kA.data(), 4), tt = pair_hash(kT1.data(), kT2.data(), 4);
    const Bytes b_to_a = ipv4(kB, kA, 6, tcp_syn(443, 40001));
    const Bytes mirrored = ether(0x0800, a_to_b);
    const auto outer4 = [](uint8_t proto, const Bytes& body) { return ether(0x0800, ipv4(kT1, kT2, proto, body)); };
    std::vector<Case> c;
    c.push_back({"GRE, IPv4 inside", 1, outer4(47, gre(0, 0x0800, a_to_b)), ab});
    c.push_back({"GRE with checksum, key and sequence, IPv6 inside", 1, outer4(47, gre(0xB000, 0x86DD, c_to_d)), cd});
    c.push_back({"GRE bridging Ethernet with a VLAN tag inside", 1,
                 ether(0x0800, ipv4(kT2, kT1, 47, gre(0x2000, 0x6558, ether_tagged({0x8100}, 0x0800, b_to_a)))), ab});
    c.push_back({"ERSPAN type I", 1, outer4(47, gre(0, 0x88BE, mirrored)), ab});
    c.push_back({"WCCP version 2 redirect (GRE 0x883E, a 4-byte redirect header)", 1,
                 outer4(47, gre(0, 0x883E, cat(Bytes{0x05, 0x59, 0x00, 0x48}, a_to_b))), ab});
    c.push_back({"WCCP version 1 redirect (no header)", 1, outer4(47, gre(0, 0x883E, a_to_b)), ab});
    c.push_back({"GRE with a key carrying Cisco MetaData", 1,
                 outer4(47, gre(0x2000, 0x8909, cat(be16(0x0800), cat(Bytes{1, 1, 0, 1, 0, 0}, a_to_b)))), ab});
    c.push_back({"ERSPAN type II", 1, outer4(47, gre(0x1000, 0x88BE, cat(Bytes(8, 0x10), mirrored))), ab});
    c.push_back({"ERSPAN type III", 1, outer4(47, gre(0x1000, 0x22EB, erspan3(false, mirrored))), ab});
    c.push_back({"ERSPAN type III with a platform subheader, QinQ inside", 1,
                 outer4(47, gre(0x1000, 0x22EB, erspan3(true, ether_tagged({0x88A8, 0x8100}, 0x0800, b_to_a)))), ab});
    c.push_back({"ERSPAN type II over an 802.1Q-tagged IPv4 outer frame", 1,
                 ether_tagged({0x8100}, 0x0800, ipv4(kT1, kT2, 47, gre(0x1000, 0x88BE, cat(Bytes(8, 0), mirrored)))),
                 ab});
    c.push_back({"ERSPAN type II over IPv6 with destination options", 1,
                 ether(0x86DD, ipv6(kT6, kC, 60, cat(ext(47), gre(0x1000, 0x88BE, cat(Bytes(8, 0), mirrored))))), ab});
    c.push_back({"ERSPAN type III carrying PPPoE", 1,
                 outer4(47, gre(0x1000, 0x22EB, erspan3(false, ether(0x8864, pppoe(0x0057, c_to_d))))), cd});
    c.push_back({"ICMP error inside ERSPAN: the pair it quotes", 1,
                 outer4(47, gre(0x1000, 0x88BE, cat(Bytes(8, 0), ether(0x0800, ipv4(kR, kA, 1, icmp(3, 3, quote4)))))),
                 ab});
    c.push_back({"echo inside GRE: the inner pair", 1,
                 outer4(47, gre(0, 0x0800, ipv4(kR, kA, 1, icmp(8, 0, Bytes(8, 0))))), ra});
    c.push_back(
        {"later fragment inside GRE", 1, outer4(47, gre(0, 0x0800, ipv4(kB, kA, 17, Bytes(64, 1), 0x0010))), ab});
    c.push_back({"VXLAN over IPv4", 1, outer4(17, udp_carrying(49152, 4789, vxlan(mirrored))), ab});
    c.push_back({"VXLAN over IPv6, IPv6 inside", 1,
                 ether(0x86DD, ipv6(kT6, kD, 17, udp_carrying(50001, 4789, vxlan(ether(0x86DD, c_to_d))))), cd});
    c.push_back({"ICMPv6 error inside VXLAN", 1,
                 outer4(17, udp_carrying(49153, 4789, vxlan(ether(0x86DD, ipv6(kE, kC, 58, icmp(1, 4, quote6)))))),
                 cd});
    c.push_back({"IP in IP", 1, outer4(4, a_to_b), ab});
    c.push_back({"6in4 (IPv6 in IPv4)", 1, outer4(41, c_to_d), cd});
    c.push_back({"IPv4 in IPv6 behind a destination options header", 1,
                 ether(0x86DD, ipv6(kT6, kC, 60, cat(ext(4), a_to_b))), ab});
    c.push_back({"EtherIP", 1, outer4(97, cat(Bytes{0x30, 0x00}, mirrored)), ab});
    c.push_back({"GRE in UDP, IPv4 inside", 1, outer4(17, udp_carrying(61000, 4754, gre(0, 0x0800, a_to_b))), ab});
    c.push_back({"GRE in UDP with a key, Ethernet inside", 1,
                 outer4(17, udp_carrying(61001, 4754, gre(0x2000, 0x6558, ether(0x86DD, c_to_d)))), cd});
    c.push_back({"VXLAN-GPE, IPv4 inside", 1,
                 outer4(17, udp_carrying(61002, 4790, cat(Bytes{0x0C, 0, 0, 1, 0, 0, 0x42, 0}, a_to_b))), ab});
    c.push_back({"VXLAN-GPE, Ethernet inside", 1,
                 outer4(17, udp_carrying(61003, 4790, cat(Bytes{0x0C, 0, 0, 3, 0, 0, 0x42, 0}, mirrored))), ab});
    const Bytes label{0x00, 0x01, 0x00, 0x40}, bottom_label{0x00, 0x02, 0x01, 0x40};  // label 16, then 32 with S
    c.push_back({"MPLS in GRE, two labels, IPv4 inside", 1,
                 outer4(47, gre(0, 0x8847, cat(cat(label, bottom_label), a_to_b))), ab});
    c.push_back({"MPLS in GRE in UDP, a pseudowire control word and Ethernet inside", 1,
                 outer4(17, udp_carrying(61005, 4754, gre(0, 0x8847, cat(bottom_label, cat(Bytes(4, 0), mirrored))))),
                 ab});
    c.push_back({"GRE in UDP with GRE's version bits set: a UDP datagram", 1,
                 outer4(17, udp_carrying(61004, 4754, gre(0x0001, 0x0800, a_to_b))), tt});
    c.push_back({"IP in IP in a fragment", 1, ether(0x0800, ipv4(kT1, kT2, 4, a_to_b, 0x2000)), tt});
    // What the decoder does not take for a tunnel: by the outer pair.
    Bytes no_i_flag = vxlan(mirrored);
    no_i_flag[0] = 0;
    c.push_back({"UDP to 4789 without VXLAN's I flag", 1, outer4(17, udp_carrying(49154, 4789, no_i_flag)), tt});
    const Bytes vxlan_short = vxlan(Bytes(mirrored.begin(), mirrored.begin() + 13));  // 21 bytes: one short
    c.push_back({"UDP to 4789 too short for VXLAN", 1, outer4(17, udp_carrying(49155, 4789, vxlan_short)), tt});
    Bytes reserved = vxlan(mirrored);
    reserved[7] = 1;
    c.push_back({"UDP to 4789 with VXLAN's last byte set", 1, outer4(17, udp_carrying(49156, 4789, reserved)), tt});
    c.push_back({"VXLAN's port as the source port", 1, outer4(17, udp_carrying(4789, 49157, vxlan(mirrored))), tt});
    c.push_back({"GRE in an IPv4 fragment", 1, ether(0x0800, ipv4(kT1, kT2, 47, gre(0, 0x0800, a_to_b), 0x2000)), tt});
    const Bytes tunnel_packet = ipv4(kT1, kT2, 47, gre(0, 0x0800, a_to_b));
    c.push_back({"an ICMP error quoting a GRE packet: the tunnel's pair", 1,
                 ether(0x0800, ipv4(kR, kT1, 1, icmp(3, 2, Bytes(tunnel_packet.begin(), tunnel_packet.begin() + 28)))),
                 tt});
    return c;
}

std::vector<Case> cases() {
    const uint32_t ab = pair_hash(kA.data(), kB.data(), 4), ra = pair_hash(kR.data(), kA.data(), 4);
    const uint32_t cd = pair_hash(kC.data(), kD.data(), 16), ec = pair_hash(kE.data(), kC.data(), 16);
    const Bytes a_to_b = ipv4(kA, kB, 17, udp(40000, 3478));
    const Bytes quote4 = Bytes(a_to_b.begin(), a_to_b.begin() + 28);
    const Bytes c_to_d = ipv6(kC, kD, 17, udp(50000, 443));
    const Bytes quote6 = Bytes(c_to_d.begin(), c_to_d.begin() + 48);
    std::vector<Case> c;
    c.push_back({"UDP A to B", 1, ether(0x0800, a_to_b), ab});
    c.push_back({"UDP B to A", 1, ether(0x0800, ipv4(kB, kA, 17, udp(3478, 40000))), ab});
    c.push_back({"TCP A to B, IP options", 1, ether(0x0800, ipv4(kA, kB, 6, tcp_syn(40001, 443), 0, 8)), ab});
    c.push_back({"port unreachable R to A quoting A to B", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(3, 3, quote4))), ab});
    c.push_back(
        {"time exceeded with outer IP options", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(11, 0, quote4), 0, 4)), ab});
    c.push_back({"source quench", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(4, 0, quote4))), ab});
    c.push_back({"parameter problem", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(12, 0, quote4))), ab});
    c.push_back({"echo request R to A (not an error)", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(8, 0, Bytes(8, 0)))), ra});
    c.push_back({"redirect (not an error to the decoder)", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(5, 0, quote4))), ra});
    c.push_back({"first fragment A to B", 1, ether(0x0800, ipv4(kA, kB, 17, udp(40000, 3478, 64), 0x2000)), ab});
    c.push_back({"later fragment B to A", 1, ether(0x0800, ipv4(kB, kA, 17, Bytes(64, 1), 0x0010)), ab});
    c.push_back(
        {"fragment of an ICMP error: its own pair", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(3, 3, quote4), 0x2000)), ra});
    c.push_back({"802.1Q (taken out by the kernel)", 1, ether_tagged({0x8100}, 0x0800, a_to_b), ab});
    c.push_back({"QinQ", 1, ether_tagged({0x88A8, 0x8100}, 0x0800, a_to_b), ab});
    c.push_back({"old QinQ and two more tags", 1, ether_tagged({0x8100, 0x9100, 0x8100, 0x8100}, 0x0800, a_to_b), ab});
    c.push_back({"PPPoE", 1, ether(0x8864, pppoe(0x0021, a_to_b)), ab});
    const Bytes metadata{0x01, 0x01, 0x00, 0x01, 0x00, 0x10};  // Cisco MetaData: version, length, option, SGT 16
    c.push_back({"Cisco MetaData (TrustSec SGT)", 1, ether(0x8909, cat(metadata, cat(be16(0x0800), a_to_b))), ab});
    c.push_back({"802.1Q, then Cisco MetaData, IPv6", 1,
                 ether_tagged({0x8100}, 0x8909, cat(metadata, cat(be16(0x86DD), c_to_d))), cd});
    c.push_back({"PPPoE over a VLAN, IPv6", 1, ether_tagged({0x8100, 0x8100}, 0x8864, pppoe(0x0057, c_to_d)), cd});
    c.push_back({"IPv6 UDP C to D", 1, ether(0x86DD, c_to_d), cd});
    c.push_back({"IPv6 UDP D to C, hop-by-hop and destination options", 1,
                 ether(0x86DD, ipv6(kD, kC, 0, cat(ext(60), cat(ext(17), udp(443, 50000))))), cd});
    c.push_back({"ICMPv6 unreachable E to C quoting C to D, behind hop-by-hop", 1,
                 ether(0x86DD, ipv6(kE, kC, 0, cat(ext(58), icmp(1, 4, quote6)))), cd});
    c.push_back({"ICMPv6 packet too big", 1, ether(0x86DD, ipv6(kE, kC, 58, icmp(2, 0, quote6))), cd});
    c.push_back({"ICMPv6 echo E to C", 1, ether(0x86DD, ipv6(kE, kC, 58, icmp(128, 0, Bytes(8, 0)))), ec});
    c.push_back({"ICMPv6 error in a fragment: its own pair", 1,
                 ether(0x86DD, ipv6(kE, kC, 44, cat(Bytes{58, 0, 0, 1, 0, 0, 0, 7}, icmp(1, 4, quote6)))), ec});
    c.push_back({"ICMPv4 error quoting IPv6", 1, ether(0x0800, ipv4(kR, kA, 1, icmp(3, 1, quote6))), cd});
    // The protocol number decides, not the IP version, as in the decoder.
    c.push_back({"ICMPv6 time exceeded over IPv4", 1, ether(0x0800, ipv4(kR, kA, 58, icmp(3, 0, quote4))), ab});
    c.push_back({"ICMP time exceeded over IPv6", 1, ether(0x86DD, ipv6(kE, kC, 1, icmp(11, 0, quote6))), cd});
    {
        // An error whose datagram ends before its quote: the quote lies in
        // the frame's padding, which is no quote to the decoder.
        Bytes padded = ipv4(kR, kA, 1, icmp(3, 3, {}));
        padded = cat(padded, quote4);
        c.push_back({"error with its quote in the padding: its own pair", 1, ether(0x0800, padded), ra});
        // Its datagram ends inside the quoted destination: half a pair is none.
        c.push_back({"error whose quote ends inside the quoted destination: its own pair", 1,
                     ether(0x0800, ipv4(kR, kA, 1, icmp(3, 3, Bytes(quote4.begin(), quote4.begin() + 18)))), ra});
        c.push_back({"ICMPv6 error whose quote ends inside the quoted destination: its own pair", 1,
                     ether(0x86DD, ipv6(kE, kC, 58, icmp(1, 4, Bytes(quote6.begin(), quote6.begin() + 30)))), ec});
    }
    c.push_back({"raw IPv4", 101, a_to_b, ab});
    c.push_back({"SLL2 IPv6", 276, cat(cat(be16(0x86DD), Bytes(18, 0)), c_to_d), cd});
    for (const Case& t : tunnelled(a_to_b, c_to_d, quote4, quote6)) c.push_back(t);
    return c;
}

TEST(FanoutProgram, ReturnsTheHashOfThePairShardsPicksOnEveryLayerItWalks) {
    for (const Case& c : cases()) {
        SCOPED_TRACE(c.what);
        EXPECT_EQ(program_on(c.linktype, c.frame), c.expected);
        // The decoder agrees on the frame and on the pair.
        decode::PacketMeta m;
        ASSERT_TRUE(decode::parse_frame_ok(c.linktype, ByteView(c.frame.data(), c.frame.size()), m));
        const auto [a, b] = pipeline::shard_pair(m);
        EXPECT_EQ(pair_hash(*a, *b), c.expected);
    }
}

TEST(FanoutProgram, WhatIsNotIpOrEndsShortGoesToTheFirstSocket) {
    EXPECT_EQ(program_on(1, ether(0x0806, Bytes(28, 0))), 0u);  // ARP
    const Bytes a_to_b = ipv4(kA, kB, 17, udp(1, 2));
    EXPECT_EQ(program_on(1, ether(0x0800, Bytes(a_to_b.begin(), a_to_b.begin() + 15))), 0u);  // cut in the source
    // An error whose total length promises a quote the packet stops short of.
    const Bytes whole = ipv4(kR, kA, 1, icmp(3, 3, Bytes(a_to_b.begin(), a_to_b.begin() + 28)));
    EXPECT_EQ(program_on(1, ether(0x0800, Bytes(whole.begin(), whole.begin() + 20 + 8 + 14))), 0u);
    // Five VLAN tags: more than the decoder walks.
    EXPECT_EQ(program_on(1, ether_tagged({0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100}, 0x0800, a_to_b)), 0u);
}

TEST(FanoutProgram, SpreadsPairsOverTheSockets) {
    // 256 hosts talking to one server: every group size gets them all
    // spread, none of its sockets with fewer than half its share.
    for (uint32_t n = 2; n <= 8; ++n) {
        std::vector<int> per(n, 0);
        for (uint32_t host = 0; host < 256; ++host) {
            const V4 client{10, 1, static_cast<uint8_t>(host / 256), static_cast<uint8_t>(host)};
            per[program_on(1, ether(0x0800, ipv4(client, kB, 17, udp(5000, 443)))) % n]++;
        }
        for (uint32_t k = 0; k < n; ++k) EXPECT_GE(per[k], 256 / static_cast<int>(n) / 2) << n << " sockets, #" << k;
    }
}

TEST(FanoutProgram, ATunnelInsideATunnelGoesByThePairAroundItOneSocketForBothDirections) {
    // The decoder goes three tunnels deep; the program one: VXLAN inside
    // GRE is hashed by the VXLAN packet's pair. Not shard_pair's, but the
    // same for both directions of the innermost flow, which is what keeps
    // it on one worker.
    const auto nested = [](const Bytes& innermost) {
        const Bytes vx = ipv4(kR, kB, 17, udp_carrying(49200, 4789, vxlan(ether(0x0800, innermost))));
        return ether(0x0800, ipv4(kT1, kT2, 47, gre(0, 0x0800, vx)));
    };
    const Bytes there = nested(ipv4(kA, kB, 17, udp(40000, 3478)));
    const Bytes back = nested(ipv4(kB, kA, 17, udp(3478, 40000)));
    EXPECT_EQ(program_on(1, there), pair_hash(kR.data(), kB.data(), 4));
    EXPECT_EQ(program_on(1, back), program_on(1, there));
    decode::PacketMeta m;
    ASSERT_TRUE(decode::parse_frame_ok(1, ByteView(there.data(), there.size()), m));
    EXPECT_EQ(m.encap_depth, 2);
    const auto [a, b] = pipeline::shard_pair(m);
    EXPECT_EQ(pair_hash(*a, *b), pair_hash(kA.data(), kB.data(), 4)) << "the decoder's pair: the innermost";
}

// Every frame of `captures` the decoder takes: the program returns the hash
// of shard_pair's pair (frames inside two tunnels or more, hashed by the
// pair around the innermost packet, and frames in a tunnel the program does
// not walk, are counted apart: the program only needs to keep each of their
// pairs on one socket). Returns the frames checked.
size_t check_captures(const std::vector<std::filesystem::path>& captures, size_t* tunnelled_out = nullptr) {
    size_t frames = 0, checked = 0, tunnelled = 0, nested = 0, unmodelled = 0;
    // Per capture and pair: the same pair in two captures is in two tunnels.
    std::map<std::tuple<std::string, decode::IpAddr, decode::IpAddr>, std::set<uint32_t>> nested_pairs;
    for (const auto& path : captures) {
        std::unique_ptr<capture::PcapSource> src;
        try {
            src = capture::PcapSource::open_file(path.string());
        } catch (const capture::CaptureError&) {
            continue;  // the damaged-file fixtures
        }
        decode::RawFrame f;
        decode::PacketMeta m;
        int mismatches = 0;
        while (src->next(f) == capture::NextStatus::Frame) {
            ++frames;
            if (!decode::parse_frame_ok(f.linktype, f.bytes, m)) continue;
            const auto v = kernel_view(f.linktype, f.bytes);
            if (!v) {
                ++unmodelled;
                continue;
            }
            const uint32_t got = run_cbpf(capture::fanout_program(), *v);
            auto [a, b] = pipeline::shard_pair(m);
            // Geneve, GTP-U, MPLS, PPTP, AYIYA and Teredo are not walked by
            // the program: it hashes the pair around them (or, for MPLS, the
            // frame is no IP to it), which keeps an inner pair on one socket
            // as long as its tunnel is one pair both ways. Checked as the
            // nested ones.
            const bool unwalked = m.encap == decode::Encap::Geneve || m.encap == decode::Encap::Gtpu ||
                                  m.encap == decode::Encap::Mpls || m.encap == decode::Encap::Pptp ||
                                  m.encap == decode::Encap::Ayiya || m.encap == decode::Encap::Teredo;
            if (m.encap_depth > 1 || unwalked) {
                ++nested;
                const auto [lo, hi] = std::minmax(*a, *b);
                nested_pairs[{path.string(), lo, hi}].insert(got);
                continue;
            }
            ++checked;
            tunnelled += m.encap != decode::Encap::None;
            if (got != pair_hash(*a, *b) && ++mismatches <= 3)
                ADD_FAILURE() << path.filename() << " frame at " << f.ts_us << " (" << decode::to_string(*a) << ", "
                              << decode::to_string(*b) << "): program " << got << ", pair " << pair_hash(*a, *b);
        }
    }
    for (const auto& [key, hashes] : nested_pairs)
        EXPECT_EQ(hashes.size(), 1u) << std::get<0>(key) << ": pair " << decode::to_string(std::get<1>(key)) << ", "
                                     << decode::to_string(std::get<2>(key))
                                     << " inside two tunnels (or one the program does not walk), on several sockets";
    std::printf(
        "%zu captures, %zu frames: %zu checked against shard_pair (%zu of them tunnelled), %zu inside two tunnels "
        "or more in %zu pairs, %zu of link types the model does not know\n",
        captures.size(), frames, checked, tunnelled, nested, nested_pairs.size(), unmodelled);
    if (tunnelled_out) *tunnelled_out = tunnelled;
    return checked;
}

TEST(FanoutProgram, EveryFrameOfEveryCommittedCaptureGoesWhereShardsSendsIt) {
    const auto captures = committed_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << source_dir();
    EXPECT_GT(check_captures(captures), 10000u);
}

// Tunnelled captures made by others: tcpdump's own test captures of ERSPAN
// types I-III, VXLAN (with GSO and BIG TCP super-frames), GRE of several
// kinds, and two hostile GRE frames (tests/data/tcpdump/README.md).
TEST(FanoutProgram, EveryFrameOfTcpdumpsTunnelCapturesGoesWhereShardsSendsIt) {
    const auto captures = captures_in(source_dir() + "/tests/data/tcpdump");
    if (captures.empty()) GTEST_SKIP() << "no tests/data/tcpdump under " << source_dir();
    size_t tunnelled = 0;
    EXPECT_GT(check_captures(captures, &tunnelled), 100u);
    EXPECT_GT(tunnelled, 100u);
}

// The same over the real captures made by others (../shared/captures/public).
TEST(FanoutProgram, EveryFrameOfEveryPublicCaptureGoesWhereShardsSendsIt) {
    const std::string shared = shared_dir();
    if (shared.empty() || !std::filesystem::is_directory(shared + "/captures/public"))
        GTEST_SKIP() << "../shared/captures/public is not here";
    EXPECT_GT(check_captures(captures_in(shared + "/captures/public")), 10000u);
}

}  // namespace
}  // namespace callwall::test
