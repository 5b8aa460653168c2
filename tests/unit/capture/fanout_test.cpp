// The fanout program live capture's workers are split by (capture/fanout.*,
// issue 20 item 3) must send a worker everything pipeline::Shards sends it
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
#include <vector>

#include "callwall/capture/pcap_source.hpp"
#include "callwall/decode/packet.hpp"
#include "capture/fanout.hpp"
#include "pipeline/shards.hpp"
#include "unit/capture/cbpf_model.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

using Bytes = std::vector<uint8_t>;

// The hash the program is meant to return for an unordered pair: the
// exclusive or of the addresses' 32-bit words (network order), mixed.
uint32_t pair_hash(const uint8_t* a, const uint8_t* b, size_t len) {
    uint32_t h = 0;
    for (size_t i = 0; i < len; i += 4) {
        h ^= uint32_t{a[i]} << 24 | uint32_t{a[i + 1]} << 16 | uint32_t{a[i + 2]} << 8 | a[i + 3];
        h ^= uint32_t{b[i]} << 24 | uint32_t{b[i + 1]} << 16 | uint32_t{b[i + 2]} << 8 | b[i + 3];
    }
    for (int round = 0; round < 3; ++round) {
        h ^= h >> 16;
        if (round < 2) h *= 0x045D9F3B;
    }
    return h;
}

uint32_t pair_hash(const decode::IpAddr& a, const decode::IpAddr& b) {
    return pair_hash(a.bytes.data(), b.bytes.data(), a.family == 6 ? 16 : 4);
}

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

struct Case {
    const char* what;
    uint32_t linktype;
    Bytes frame;
    uint32_t expected;
};

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
    c.push_back({"raw IPv4", 101, a_to_b, ab});
    c.push_back({"SLL2 IPv6", 276, cat(cat(be16(0x86DD), Bytes(18, 0)), c_to_d), cd});
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
    // An error whose quote stops inside the quoted source address.
    const Bytes cut = ipv4(kR, kA, 1, icmp(3, 3, Bytes(a_to_b.begin(), a_to_b.begin() + 14)));
    EXPECT_EQ(program_on(1, ether(0x0800, cut)), 0u);
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

// Every frame of `captures` the decoder takes: the program returns the hash
// of shard_pair's pair (tunnelled frames, hashed by their outer pair, are
// counted apart: the program only needs to keep each pair on one socket,
// which they do by the outer pair's pair). Returns the frames checked.
size_t check_captures(const std::vector<std::filesystem::path>& captures) {
    size_t frames = 0, checked = 0, tunnelled = 0, unmodelled = 0;
    std::map<std::pair<decode::IpAddr, decode::IpAddr>, std::set<uint32_t>> tunnel_pairs;
    for (const auto& path : captures) {
        std::unique_ptr<capture::PcapSource> src;
        try {
            src = capture::PcapSource::open_file(path.string());
        } catch (const capture::CaptureError&) {
            continue;  // the damaged-file fixtures
        }
        capture::RawFrame f;
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
            if (m.encap != decode::Encap::None) {
                ++tunnelled;
                tunnel_pairs[std::minmax(*a, *b)].insert(got);
                continue;
            }
            ++checked;
            if (got != pair_hash(*a, *b) && ++mismatches <= 3)
                ADD_FAILURE() << path.filename() << " frame at " << f.ts_us << " (" << decode::to_string(*a) << ", "
                              << decode::to_string(*b) << "): program " << got << ", pair " << pair_hash(*a, *b);
        }
    }
    for (const auto& [pair, hashes] : tunnel_pairs)
        EXPECT_EQ(hashes.size(), 1u) << "tunnelled pair " << decode::to_string(pair.first) << ", "
                                     << decode::to_string(pair.second) << " on several sockets";
    std::printf(
        "%zu captures, %zu frames: %zu checked against shard_pair, %zu tunnelled in %zu pairs, %zu of "
        "link types the model does not know\n",
        captures.size(), frames, checked, tunnelled, tunnel_pairs.size(), unmodelled);
    return checked;
}

TEST(FanoutProgram, EveryFrameOfEveryCommittedCaptureGoesWhereShardsSendsIt) {
    const auto captures = committed_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << source_dir();
    EXPECT_GT(check_captures(captures), 10000u);
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
