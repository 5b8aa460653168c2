// Unit tests of the audit's pure parts: port cut points, interval splitting,
// interface guesses, and reading `nft monitor trace` output.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/ruleset_text.hpp"

namespace callwall::audit {
namespace {

using catalog::PortRange;

std::vector<PortRange> split(std::vector<PortRange> ranges, std::string_view ruleset) {
    const auto cuts = port_cut_points(ruleset);
    return split_ranges(ranges, cuts);
}

TEST(AuditIntervals, CutPointsAreEveryNumberAndItsSuccessor) {
    EXPECT_EQ(port_cut_points("udp dport 3478 accept"), (std::vector<uint32_t>{3478, 3479}));
    EXPECT_EQ(port_cut_points("udp dport 10000-20000 drop"), (std::vector<uint32_t>{10000, 10001, 20000, 20001}));
    EXPECT_EQ(port_cut_points("tcp dport 65535 drop"), (std::vector<uint32_t>{65535, 65536}));
    EXPECT_EQ(port_cut_points("no numbers here"), (std::vector<uint32_t>{}));
    // Numbers out of the port space cut nothing; 0 cuts at 1 only.
    EXPECT_EQ(port_cut_points("priority 100000 0"), (std::vector<uint32_t>{1}));
}

TEST(AuditIntervals, SplitsARangeWhereTheRulesetCouldDiffer) {
    // The accept-by-default ruleset's numbers: 3478 and 10000-20000.
    const auto got = split({{1024, 65535}}, "udp dport 3478 drop\nudp dport 10000-20000 reject");
    const std::vector<PortRange> want{{1024, 3477}, {3478, 3478}, {3479, 9999}, {10000, 10000},
                                      {10001, 19999}, {20000, 20000}, {20001, 65535}};
    EXPECT_EQ(got, want);
}

TEST(AuditIntervals, SetsAndComparisonsAreCoveredToo) {
    // A set element range, a map key and `<` all give boundaries.
    const auto got = split({{1, 2000}}, "elements = { 443, 1000-1100 }\ntcp dport vmap { 80 : drop }\nudp dport < 53");
    const std::vector<PortRange> want{{1, 52},     {53, 53},     {54, 79},      {80, 80},     {81, 442},
                                      {443, 443},  {444, 999},   {1000, 1000},  {1001, 1099}, {1100, 1100},
                                      {1101, 2000}};
    EXPECT_EQ(got, want);
}

TEST(AuditIntervals, ARangeNoRuleTouchesStaysWhole) {
    EXPECT_EQ(split({{443, 443}}, "udp dport 3478 drop"), (std::vector<PortRange>{{443, 443}}));
    EXPECT_EQ(split({{5000, 6000}}, "udp dport 3478 drop"), (std::vector<PortRange>{{5000, 6000}}));
    EXPECT_EQ(split({{1, 65535}}, ""), (std::vector<PortRange>{{1, 65535}}));
}

TEST(AuditInterfaces, GuessesInsideAndOutsideFromNames) {
    EXPECT_EQ(guess_interfaces("iifname \"lan0\" oifname \"wan0\" accept"), std::make_pair(std::string("lan0"), std::string("wan0")));
    EXPECT_EQ(guess_interfaces("oifname \"ppp0\" masquerade\niifname { \"br-lan\", \"lo\" } accept"),
              std::make_pair(std::string("br-lan"), std::string("ppp0")));
    EXPECT_EQ(guess_interfaces("tcp dport 22 accept"), std::make_pair(std::string("lan0"), std::string("wan0")));
    EXPECT_EQ(guess_interfaces("iifname \"enp1s0\" accept\noifname \"enp2s0\" accept"),
              std::make_pair(std::string("enp1s0"), std::string("enp2s0")));
    EXPECT_EQ(interface_names("iifname != \"eth*\" drop\niifname \"a\" oifname \"b\""), (std::vector<std::string>{"a", "b"}));
}

constexpr std::string_view kTrace =
    "trace id 6dfe2da6 inet callwall_audit_trace trace_prerouting packet: iif \"lan0\" ip saddr 192.168.77.2 ip daddr "
    "203.0.113.10 ip protocol udp udp sport 56783 udp dport 5000 udp length 10\n"
    "trace id 6dfe2da6 inet callwall_audit_trace trace_prerouting rule meta nftrace set 1 # handle 2 (verdict continue)\n"
    "trace id 6dfe2da6 inet callwall_audit_trace trace_prerouting policy accept \n"
    "trace id 6dfe2da6 ip nat prerouting policy accept \n"
    "trace id 6dfe2da6 inet filter forward rule ct state established,related accept # handle 3 (verdict continue)\n"
    "trace id 6dfe2da6 inet filter forward rule iifname \"lan0\" jump lan_out # handle 5 (verdict jump lan_out)\n"
    "trace id 6dfe2da6 inet filter lan_out rule udp dport 5000 reject comment \"x (y)\" # handle 4 (verdict drop)\n"
    "trace id 11111111 inet filter forward packet: iif \"lan0\" ip saddr 192.168.77.2 ip daddr 203.0.113.10 ip protocol tcp "
    "tcp sport 4000 tcp dport 443 tcp flags == syn\n"
    "trace id 11111111 ip nat postrouting rule oifname \"wan0\" masquerade # handle 2 (verdict accept)\n"
    "trace id 11111111 inet filter forward policy accept \n"
    "trace id 11111111 ip nat postrouting rule oifname \"wan0\" masquerade # handle 2 (verdict accept)\n";

constexpr std::string_view kListed =
    "table ip nat {\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t}\n}\n"
    "table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n"
    "\tchain lan_out {\n\t}\n}\n";

TEST(AuditTrace, ReadsPacketsAndTheRuleThatDropped) {
    const auto packets = parse_trace(kTrace, "callwall_audit_trace");
    ASSERT_EQ(packets.size(), 2u);
    const auto& p = packets[0];
    EXPECT_EQ(p.proto, "udp");
    EXPECT_EQ(p.saddr, "192.168.77.2");
    EXPECT_EQ(p.daddr, "203.0.113.10");
    EXPECT_EQ(p.sport, 56783);
    EXPECT_EQ(p.dport, 5000);
    ASSERT_EQ(p.events.size(), 4u);  // the tracing table's own events are left out
    const auto types = chain_types(kListed);
    EXPECT_EQ(types.at("ip nat postrouting"), "nat");
    EXPECT_EQ(types.at("inet filter forward"), "filter");
    const TraceEvent* e = deciding_event(p, types);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->chain, "lan_out");
    EXPECT_EQ(e->handle, 4);
    EXPECT_EQ(e->rule, "udp dport 5000 reject comment \"x (y)\"");
    EXPECT_EQ(describe(*e), "inet filter lan_out: rule 'udp dport 5000 reject comment \"x (y)\"' (handle 4)");
}

TEST(AuditTrace, AReusedTraceIdStartsANewPacket) {
    // The SYN-ACK's ACK got the SYN's buffer, hence its id: it must not add
    // the conntrack rule's accept to the SYN.
    const std::string text =
        "trace id aa inet t p packet: iif \"lan0\" ip saddr 10.0.0.2 ip daddr 10.0.0.9 ip protocol tcp tcp sport 5 tcp dport 443\n"
        "trace id aa inet filter forward rule tcp dport 443 accept # handle 7 (verdict accept)\n"
        "trace id aa inet t p packet: iif \"lan0\" ip saddr 10.0.0.2 ip daddr 10.0.0.9 ip protocol tcp tcp sport 5 tcp dport 443\n"
        "trace id aa inet filter forward rule ct state established accept # handle 3 (verdict accept)\n";
    const auto packets = parse_trace(text, "t");
    ASSERT_EQ(packets.size(), 2u);
    ASSERT_EQ(packets[0].events.size(), 1u);
    EXPECT_EQ(packets[0].events[0].handle, 7);
    EXPECT_EQ(packets[1].events[0].handle, 3);
}

TEST(AuditTrace, APassIsTheFilterChainsAcceptNotTheNatRule) {
    const auto packets = parse_trace(kTrace, "callwall_audit_trace");
    ASSERT_EQ(packets.size(), 2u);
    const TraceEvent* e = deciding_event(packets[1], chain_types(kListed));
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(e->policy);
    EXPECT_EQ(describe(*e), "inet filter forward: policy accept");
}

TEST(AuditAddress, PicksADocumentationNetworkTheRulesetDoesNotName) {
    EXPECT_EQ(unmentioned_address("tcp dport 443 accept"), "203.0.113.10");
    EXPECT_EQ(unmentioned_address("ip daddr 203.0.113.0/24 drop"), "198.51.100.10");
    EXPECT_EQ(unmentioned_address("ip daddr { 203.0.113.0/24, 198.51.100.7 } drop"), "192.0.2.10");
}

}  // namespace
}  // namespace callwall::audit
