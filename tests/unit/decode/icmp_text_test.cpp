// The words for ICMP and ICMPv6 error types and Destination Unreachable codes.
#include "decode/icmp_text.hpp"

#include <gtest/gtest.h>

namespace callwall::decode {
namespace {

TEST(IcmpText, Ipv4UnreachableCodes) {
    EXPECT_EQ(unreachable_code_text(false, 0), "net unreachable");
    EXPECT_EQ(unreachable_code_text(false, 3), "port unreachable");
    EXPECT_EQ(unreachable_code_text(false, 4), "fragmentation needed");
    EXPECT_EQ(unreachable_code_text(false, 13), "communication administratively prohibited");
    EXPECT_EQ(unreachable_code_text(false, 15), "precedence cutoff");
}

TEST(IcmpText, Icmpv6UnreachableCodes) {
    EXPECT_EQ(unreachable_code_text(true, 0), "no route");
    EXPECT_EQ(unreachable_code_text(true, 1), "administratively prohibited");
    EXPECT_EQ(unreachable_code_text(true, 4), "port unreachable");
    EXPECT_EQ(unreachable_code_text(true, 6), "reject route");
}

TEST(IcmpText, UnknownCodesHaveNoWords) {
    EXPECT_EQ(unreachable_code_text(false, 16), "");
    EXPECT_EQ(unreachable_code_text(true, 7), "");  // IPv4 has words for 7, ICMPv6 does not
    EXPECT_EQ(unreachable_code_text(false, -1), "");
    EXPECT_EQ(unreachable_code_text(true, 255), "");
}

TEST(IcmpText, ErrorTypesByFamily) {
    EXPECT_EQ(icmp_type_text(false, 3), "destination unreachable");
    EXPECT_EQ(icmp_type_text(false, 11), "time exceeded");
    EXPECT_EQ(icmp_type_text(false, 12), "parameter problem");
    EXPECT_EQ(icmp_type_text(false, 4), "");  // source quench: no words
    EXPECT_EQ(icmp_type_text(false, 1), "");
    EXPECT_EQ(icmp_type_text(true, 1), "destination unreachable");
    EXPECT_EQ(icmp_type_text(true, 2), "packet too big");
    EXPECT_EQ(icmp_type_text(true, 3), "time exceeded");
    EXPECT_EQ(icmp_type_text(true, 4), "parameter problem");
    EXPECT_EQ(icmp_type_text(true, 11), "");
    EXPECT_EQ(icmp_type_text(true, 128), "");  // echo request: not an error
}

}  // namespace
}  // namespace callwall::decode
