// Frames given up at a decoder's limit are not only counted undecodable: the
// run's notes say which limit and how many (an IPv6 packet with more than 8
// extension headers; GRE in GRE deeper than kMaxEncapDepth).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "decode/packet.hpp"
#include "pipeline/analyzer.hpp"
#include "unit/raw_ip.hpp"

namespace callwall::pipeline::decode_limits_test {
namespace {

using namespace test::raw_ip;

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
    EXPECT_EQ(notes_after(ipv6_with_ext_headers(9)),
              "decode: 1 frames not decoded: more than 8 IPv6 extension headers\n");
}

TEST(DecodeLimits, TunnelsNestedTooDeepAreNoted) {
    const Bytes p = gre_nested(decode::kMaxEncapDepth + 1);
    EXPECT_EQ(notes_after(p), "decode: 1 frames not decoded: tunnels nested deeper than " +
                                  std::to_string(decode::kMaxEncapDepth) + " (GRE, ERSPAN, VXLAN, IP in IP)\n");
}

}  // namespace
}  // namespace callwall::pipeline::decode_limits_test
