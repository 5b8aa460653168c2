// Every range a vendor publishes is tried: an office allowing one of Teams'
// media ranges and leaving the others to the policy reads partial, naming the
// ranges dropped; ranges the ruleset cannot tell apart share one probe, so an
// entry of 200 ranges costs no more than the ruleset's own prefixes make it.
// The tests' own catalog (a copy of the shape of Teams' rows, written here):
// the bundled Teams file changes with Microsoft's list.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/range_groups.hpp"
#include "audit/ranges_catalog.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

std::vector<catalog::AddressRange> parsed_ranges(std::initializer_list<const char*> texts) {
    std::vector<catalog::AddressRange> out;
    for (const char* t : texts) out.push_back(*catalog::parse_address_range(t));
    return out;
}

TEST(AuditPublishedRanges, RangesTheRulesetCannotTellApartShareAnAddress) {
    const auto published = parsed_ranges({"13.107.64.0/18", "52.112.0.0/14", "52.120.0.0/14"});
    // Nothing in the ruleset names them: one group, inside the first range.
    auto g = group_ranges(published, ipv4_ranges("udp dport 3478-3481 accept"));
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].address, "13.107.64.1");
    EXPECT_EQ(ranges_text(g[0].ranges), "13.107.64.0/18, 52.112.0.0/14 and 52.120.0.0/14");
    // One allowed by prefix: it stands apart; the other two share an address.
    g = group_ranges(published, ipv4_ranges("ip daddr 13.107.64.0/18 accept"));
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(g[1].address, "52.112.0.1");
    EXPECT_EQ(ranges_text(g[1].ranges), "52.112.0.0/14 and 52.120.0.0/14");
    // A prefix covering part of a range cuts it at its edges.
    g = group_ranges(published, ipv4_ranges("ip daddr 52.113.0.0/16 drop"));
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(ranges_text(g[0].ranges),
              "13.107.64.0/18, 52.112.0.0-52.112.255.255 of 52.112.0.0/14, 52.114.0.0-52.115.255.255 of "
              "52.112.0.0/14 and 52.120.0.0/14");
    EXPECT_EQ(g[1].ranges, std::vector<std::string>{"52.113.0.0-52.113.255.255 of 52.112.0.0/14"});
    EXPECT_EQ(g[1].address, "52.113.0.1");
    // 0.0.0.0/0 singles nothing out; IPv6 ranges are group_ranges6's.
    EXPECT_EQ(group_ranges(published, ipv4_ranges("ip daddr 0.0.0.0/0 accept")).size(), 1u);
    const auto v6 = group_ranges6(parsed_ranges({"2603:1063::/38", "13.107.64.0/18"}),
                                  ipv6_ranges("ip6 daddr 2603:1063::/40 accept"));
    ASSERT_EQ(v6.size(), 2u);
    EXPECT_EQ(v6[0].address, "2603:1063::1");
    EXPECT_NE(v6[1].ranges[0].find(" of 2603:1063::/38"), std::string::npos) << v6[1].ranges[0];
}

TEST(AuditPublishedRanges, TwoHundredRangesNamedByNoRuleAreOneGroup) {
    std::vector<catalog::AddressRange> published;
    for (int i = 0; i < 200; ++i)
        published.push_back(*catalog::parse_address_range("20." + std::to_string(i) + ".0.0/16"));
    EXPECT_EQ(group_ranges(published, ipv4_ranges("ip daddr 10.0.0.0/8 drop\nudp dport 3478 accept")).size(), 1u);
    // Each named alike by one set: as many groups as the ruleset's prefixes
    // inside them, never more than the cap.
    EXPECT_EQ(group_ranges(published, ipv4_ranges("ip daddr { 20.1.0.0/16, 20.7.0.0/16 } accept")).size(), 3u);
    std::string many;
    for (int i = 0; i < 200; ++i) many += "ip daddr 20." + std::to_string(i) + ".0.0/16 accept\n";
    EXPECT_EQ(group_ranges(published, ipv4_ranges(many), 16).size(), 16u);
}

TEST(AuditPublishedRanges, OneRangeAllowedTwoDroppedReadsPartialNamingTheDropped) {
    const catalog::Catalog cat = ranges_catalog(kThreeAndV6);
    RANGE_AUDIT_OR_SKIP(r, cat, "ranges_one_of_three.nft");
    const auto& a = entry(r, kRangesMedia);
    EXPECT_EQ(attrib::to_string(a.verdict.verdict), attrib::to_string(V::Partial)) << a.verdict.why;
    const std::string& why = a.verdict.why;
    EXPECT_NE(why.find("to 13.107.64.0/18: passes udp 3478-3481 by inet filter forward: rule"), std::string::npos)
        << why;
    EXPECT_NE(why.find("to 52.112.0.0/14 and 52.120.0.0/14: dropped udp 3478-3481 (no answer) by inet filter forward: "
                       "policy drop"),
              std::string::npos)
        << why;
    // IPv6's one range passes; the verdict is IPv4's, IPv6 said beside it.
    ASSERT_EQ(a.groups6.size(), 1u);
    ASSERT_FALSE(a.intervals6.empty());
    EXPECT_EQ(to_string(a.intervals6.front().result.outcome), to_string(O::Passed));
    EXPECT_NE(why.find("IPv6: passes udp 3478-3481"), std::string::npos) << why;
}

TEST(AuditPublishedRanges, TheReverseReadsPartialNotBlocked) {
    const catalog::Catalog cat = ranges_catalog(kThreeAndV6);
    RANGE_AUDIT_OR_SKIP(r, cat, "ranges_two_of_three.nft");
    const auto& a = entry(r, kRangesMedia);
    EXPECT_EQ(attrib::to_string(a.verdict.verdict), attrib::to_string(V::Partial)) << a.verdict.why;
    const std::string& why = a.verdict.why;
    EXPECT_NE(why.find("to 13.107.64.0/18: dropped udp 3478-3481 (no answer) by inet filter forward: rule 'ip daddr "
                       "13.107.64.0/18 drop comment \"not our region\"'"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("to 52.112.0.0/14 and 52.120.0.0/14: passes udp 3478-3481"), std::string::npos) << why;
    // IPv6: the /40 the ruleset allows passes, the rest of the /38 does not.
    ASSERT_EQ(a.groups6.size(), 2u);
    EXPECT_NE(why.find(" of 2603:1063::/38: dropped udp 3478-3481"), std::string::npos) << why;
}

TEST(AuditPublishedRanges, TwoHundredRangesCostAtMostTwiceOneRange) {
    std::string many = "\"13.107.64.0/18\"";
    for (int i = 0; i < 199; ++i) many += ", \"20." + std::to_string(i) + ".0.0/16\"";
    const catalog::Catalog one_cat = ranges_catalog("\"13.107.64.0/18\"");
    const catalog::Catalog many_cat = ranges_catalog(many);
    RANGE_AUDIT_OR_SKIP(one, one_cat, "ranges_one_of_three.nft");
    RANGE_AUDIT_OR_SKIP(r, many_cat, "ranges_one_of_three.nft");
    // The replay's work (probes sent) bounds its time: bench/audit_bench.sh times both.
    EXPECT_LE(r.replay.results.size(), 2 * one.replay.results.size());
    const auto& a = entry(r, kRangesMedia);
    EXPECT_EQ(a.groups.size(), 2u);
    EXPECT_EQ(attrib::to_string(a.verdict.verdict), attrib::to_string(V::Partial)) << a.verdict.why;
    EXPECT_NE(a.verdict.why.find("to 20.0.0.0/16, 20.1.0.0/16, "), std::string::npos) << a.verdict.why;
}

}  // namespace
}  // namespace callwall::audit
