// Frames given up at a decoder's limit are not only counted undecodable: the
// run's notes say which limit and how many (an IPv6 packet with more than 8
// extension headers; GRE in GRE deeper than kMaxEncapDepth).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "decode/packet.hpp"
#include "pipeline/analyzer.hpp"

namespace callwall::pipeline::decode_limits_test {
namespace {

constexpr uint32_t kLinkRaw = 101;  // LINKTYPE_RAW: the frame is the IP packet

std::vector<uint8_t> ipv6(uint8_t next, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> p = {
        0x60, 0, 0, 0, static_cast<uint8_t>(payload.size() >> 8), static_cast<uint8_t>(payload.size()), next, 64};
    for (int i = 0; i < 2; ++i) {  // 2001:db8::1 -> 2001:db8::2
        std::vector<uint8_t> a = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(1 + i)};
        p.insert(p.end(), a.begin(), a.end());
    }
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

std::vector<uint8_t> ipv4(uint8_t proto, const std::vector<uint8_t>& payload) {
    const size_t len = 20 + payload.size();
    std::vector<uint8_t> p = {0x45,
                              0,
                              static_cast<uint8_t>(len >> 8),
                              static_cast<uint8_t>(len),
                              0,
                              1,
                              0,
                              0,
                              64,
                              proto,
                              0,
                              0,
                              10,
                              0,
                              0,
                              1,
                              10,
                              0,
                              0,
                              2};
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

const std::vector<uint8_t> kUdp = {0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};

std::string notes_after(const std::vector<uint8_t>& packet) {
    Analyzer a;
    decode::RawFrame f;
    f.linktype = kLinkRaw;
    f.caplen = f.wirelen = static_cast<uint32_t>(packet.size());
    f.bytes = ByteView{packet.data(), packet.size()};
    f.ts_us = 1'000'000;
    a.process(f);
    a.finish();
    EXPECT_EQ(a.totals().undecoded_packets, 1u);
    return a.totals().notes;
}

TEST(DecodeLimits, TooManyIpv6ExtensionHeadersAreNoted) {
    // Nine destination-options headers (8 bytes each), then UDP.
    std::vector<uint8_t> chain;
    for (int i = 0; i < 9; ++i) {
        const std::vector<uint8_t> h = {static_cast<uint8_t>(i == 8 ? 17 : 60), 0, 1, 4, 0, 0, 0, 0};
        chain.insert(chain.end(), h.begin(), h.end());
    }
    chain.insert(chain.end(), kUdp.begin(), kUdp.end());
    EXPECT_EQ(notes_after(ipv6(60, chain)), "decode: 1 frames not decoded: more than 8 IPv6 extension headers\n");
}

TEST(DecodeLimits, TunnelsNestedTooDeepAreNoted) {
    // IPv4 in GRE (protocol 0x0800), kMaxEncapDepth + 1 times over.
    std::vector<uint8_t> p = ipv4(17, kUdp);
    for (int i = 0; i <= decode::kMaxEncapDepth; ++i) {
        std::vector<uint8_t> gre = {0, 0, 0x08, 0x00};
        gre.insert(gre.end(), p.begin(), p.end());
        p = ipv4(47, gre);
    }
    EXPECT_EQ(notes_after(p), "decode: 1 frames not decoded: tunnels nested deeper than " +
                                  std::to_string(decode::kMaxEncapDepth) + " (GRE, ERSPAN, VXLAN, IP in IP)\n");
}

}  // namespace
}  // namespace callwall::pipeline::decode_limits_test
