// Unit tests of the audit's pure parts: port cut points, interval splitting,
// interface guesses, and reading `nft monitor trace` output.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/fix.hpp"
#include "audit/ruleset_text.hpp"

namespace callwall::audit {
namespace {

using catalog::PortRange;

std::vector<PortRange> split(std::vector<PortRange> ranges, std::string_view ruleset) {
    const auto cuts = port_cut_points(ruleset);
    return split_ranges(ranges, cuts);
}

TEST(AuditText, LinesWithoutTheirNewlines) {
    using L = std::vector<std::string_view>;
    EXPECT_EQ(split_lines("a\n\nb\n"), (L{"a", "", "b"}));  // a final newline adds no empty line
    EXPECT_EQ(split_lines("a\nb"), (L{"a", "b"}));
    EXPECT_EQ(split_lines(""), L{});
}

TEST(AuditIntervals, CutPointsAreEveryPortAndItsSuccessor) {
    EXPECT_EQ(port_cut_points("udp dport 3478 accept"), (std::vector<uint32_t>{3478, 3479}));
    EXPECT_EQ(port_cut_points("udp dport 10000-20000 drop"), (std::vector<uint32_t>{10000, 20001}));
    EXPECT_EQ(port_cut_points("tcp dport 65535 drop"), (std::vector<uint32_t>{65535, 65536}));
    EXPECT_EQ(port_cut_points("no numbers here"), (std::vector<uint32_t>{}));
    // Numbers out of the port space cut nothing; 0 cuts at 1 only.
    EXPECT_EQ(port_cut_points("priority 100000 0"), (std::vector<uint32_t>{1}));
}

TEST(AuditIntervals, WordsThatAreNotPortsCutNothing) {
    EXPECT_EQ(port_cut_points("ip saddr 10.1.2.0/24 ip daddr 203.0.113.10 iifname \"lan0\" oifname eth1 accept"),
              (std::vector<uint32_t>{}));
    EXPECT_EQ(
        port_cut_points("ip6 daddr fd77:0:0:1::1 type filter hook forward priority -150; comment \"rule 12: x 99\""),
        (std::vector<uint32_t>{}));
    EXPECT_EQ(port_cut_points("meta mark 0x10 tcp dport 443 accept"), (std::vector<uint32_t>{443, 444}));
    EXPECT_EQ(port_cut_points("# udp 1024-65535 by hand\n*filter\n-A F --dport 53 -j ACCEPT # 99\n"),
              (std::vector<uint32_t>{53, 54}));
}

TEST(AuditIntervals, IptablesRangesAndLists) {
    EXPECT_EQ(port_cut_points("-A F -p udp -m udp --dport 3478:3479 -j ACCEPT"), (std::vector<uint32_t>{3478, 3480}));
    EXPECT_EQ(port_cut_points("-A F -p tcp -m multiport --dports 80,443,8000:8100 -j ACCEPT"),
              (std::vector<uint32_t>{80, 81, 443, 444, 8000, 8101}));
    // The counters [0:0] read as a range 0-0: a harmless cut at 1.
    EXPECT_EQ(port_cut_points("--sport 1024: --dport :99 -s 10.0.0.0/8 :FORWARD DROP [0:0]"),
              (std::vector<uint32_t>{1, 100, 1024}));
}

TEST(AuditIntervals, SplitsARangeWhereTheRulesetCouldDiffer) {
    // The accept-by-default ruleset's ports: 3478 and 10000-20000.
    const auto got = split({{1024, 65535}}, "udp dport 3478 drop\nudp dport 10000-20000 reject");
    const std::vector<PortRange> want{{1024, 3477}, {3478, 3478}, {3479, 9999}, {10000, 20000}, {20001, 65535}};
    EXPECT_EQ(got, want);
}

TEST(AuditIntervals, SetsAndComparisonsAreCoveredToo) {
    // A set element range, a map key and `<` all give boundaries.
    const auto got = split({{1, 2000}}, "elements = { 443, 1000-1100 }\ntcp dport vmap { 80 : drop }\nudp dport < 53");
    const std::vector<PortRange> want{{1, 52},    {53, 53},   {54, 79},     {80, 80},    {81, 442},
                                      {443, 443}, {444, 999}, {1000, 1100}, {1101, 2000}};
    EXPECT_EQ(got, want);
}

TEST(AuditIntervals, ARangeNoRuleTouchesStaysWhole) {
    EXPECT_EQ(split({{443, 443}}, "udp dport 3478 drop"), (std::vector<PortRange>{{443, 443}}));
    EXPECT_EQ(split({{5000, 6000}}, "udp dport 3478 drop"), (std::vector<PortRange>{{5000, 6000}}));
    EXPECT_EQ(split({{1, 65535}}, ""), (std::vector<PortRange>{{1, 65535}}));
}

TEST(AuditInterfaces, GuessesInsideAndOutsideFromNames) {
    EXPECT_EQ(guess_interfaces("iifname \"lan0\" oifname \"wan0\" accept"),
              std::make_pair(std::string("lan0"), std::string("wan0")));
    EXPECT_EQ(guess_interfaces("oifname \"ppp0\" masquerade\niifname { \"br-lan\", \"lo\" } accept"),
              std::make_pair(std::string("br-lan"), std::string("ppp0")));
    EXPECT_EQ(guess_interfaces("tcp dport 22 accept"), std::make_pair(std::string("lan0"), std::string("wan0")));
    EXPECT_EQ(guess_interfaces("iifname \"enp1s0\" accept\noifname \"enp2s0\" accept"),
              std::make_pair(std::string("enp1s0"), std::string("enp2s0")));
    EXPECT_EQ(interface_names("iifname != \"eth*\" drop\niifname \"a\" oifname \"b\""),
              (std::vector<std::string>{"a", "b"}));
}

TEST(AuditInterfaces, NamesInAVerdictMap) {
    EXPECT_EQ(interface_names("iifname vmap { \"lan0\" : jump a, \"dmz0\" : jump b }\noifname \"wan0\" accept"),
              (std::vector<std::string>{"lan0", "dmz0", "wan0"}));
}

TEST(AuditInterfaces, NamesInAnIptablesDump) {
    constexpr std::string_view dump =
        "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i lan0 -o wan0 -j ACCEPT\n"
        "-A FORWARD ! -i ppp+ -j DROP\n-A FORWARD --out-interface eth9 -j ACCEPT\n"
        "# -i notarule\nCOMMIT\n";
    EXPECT_EQ(interface_names(dump), (std::vector<std::string>{"lan0", "wan0", "eth9"}));
    EXPECT_EQ(guess_interfaces(dump), std::make_pair(std::string("lan0"), std::string("wan0")));
}

TEST(AuditIptables, RulesAreNamedByTheirDumpLineInChainOrder) {
    // `nft -a list ruleset` after iptables-nft-restore, and iptables-nft-save.
    constexpr std::string_view listed =
        "table ip nat { # handle 2\n\tchain POSTROUTING { # handle 1\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        "\t\toifname \"wan0\" counter packets 0 bytes 0 masquerade # handle 2\n\t}\n}\n"
        "table ip filter { # handle 1\n\tchain FORWARD { # handle 2\n"
        "\t\ttype filter hook forward priority filter; policy drop;\n"
        "\t\tct state related,established counter packets 0 bytes 0 accept # handle 5\n"
        "\t\tiifname \"lan0\" counter packets 0 bytes 0 jump LAN_OUT # handle 6\n\t}\n\n"
        "\tchain LAN_OUT { # handle 4\n"
        "\t\tmeta l4proto tcp tcp dport { 80, 443 }  counter packets 0 bytes 0 accept # handle 7\n"
        "\t\tudp dport 3478  counter packets 0 bytes 0 accept # handle 9\n\t}\n}\n";
    constexpr std::string_view save =
        "# Generated by iptables-nft-save v1.8.9\n*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\n"
        "COMMIT\n*filter\n:FORWARD DROP [0:0]\n:LAN_OUT - [0:0]\n"
        "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A FORWARD -i lan0 -j LAN_OUT\n"
        "-A LAN_OUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n"
        "-A LAN_OUT -p udp -m udp --dport 3478 -m comment --comment turn -j ACCEPT\nCOMMIT\n";
    const auto rules = iptables_rules(listed, save);
    ASSERT_EQ(rules.size(), 5u);
    const auto& turn = rules.at({"ip filter LAN_OUT", 9});
    EXPECT_EQ(turn.line, "-A LAN_OUT -p udp -m udp --dport 3478 -m comment --comment turn -j ACCEPT");
    EXPECT_EQ(turn.position, 2);
    EXPECT_EQ(rules.at({"ip filter FORWARD", 6}).line, "-A FORWARD -i lan0 -j LAN_OUT");
    EXPECT_EQ(rules.at({"ip nat POSTROUTING", 2}).line, "-A POSTROUTING -o wan0 -j MASQUERADE");
    TraceEvent e{.table = "ip filter",
                 .chain = "LAN_OUT",
                 .rule = "udp dport 3478 counter accept",
                 .handle = 9,
                 .verdict = "accept"};
    EXPECT_EQ(
        describe(e, &rules),
        "ip filter LAN_OUT: rule '-A LAN_OUT -p udp -m udp --dport 3478 -m comment --comment turn -j ACCEPT' (rule 2 of LAN_OUT)");
    e.handle = 99;  // not from the dump: nft's own words
    EXPECT_EQ(describe(e, &rules), "ip filter LAN_OUT: rule 'udp dport 3478 counter accept' (handle 99)");
    EXPECT_EQ(describe(TraceEvent{.table = "ip filter", .chain = "FORWARD", .policy = true, .verdict = "drop"}, &rules),
              "ip filter FORWARD: policy drop");
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
    // A covering prefix counts, a neighbouring address does not.
    EXPECT_EQ(unmentioned_address("ip daddr { 203.0.112.0/22, 198.51.100.7 } drop"), "198.51.100.10");
    EXPECT_EQ(unmentioned_address("ip daddr { 203.0.113.0/24, 198.51.100.0-198.51.100.20 } drop"), "192.0.2.10");
}

}  // namespace
}  // namespace callwall::audit

namespace callwall::audit {
namespace {

constexpr std::string_view kDump =
    "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
    "*filter\n:FORWARD DROP [0:0]\n:LAN_OUT - [0:0]\n:EMPTY - [0:0]\n"
    "-A FORWARD -j LAN_OUT\n-A LAN_OUT -p tcp -j ACCEPT\n-A LAN_OUT -p udp -j DROP\nCOMMIT\n";

TEST(AuditFixText, AnIptablesLineGoesBeforeItsRuleOrAtTheChainsEnd) {
    EXPECT_EQ(insert_iptables_line(kDump, "ip filter", "LAN_OUT", 2, "-A LAN_OUT -p udp --dport 443 -j ACCEPT"),
              "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
              "*filter\n:FORWARD DROP [0:0]\n:LAN_OUT - [0:0]\n:EMPTY - [0:0]\n"
              "-A FORWARD -j LAN_OUT\n-A LAN_OUT -p tcp -j ACCEPT\n-A LAN_OUT -p udp --dport 443 -j ACCEPT\n"
              "-A LAN_OUT -p udp -j DROP\nCOMMIT\n");
    EXPECT_EQ(
        insert_iptables_line(kDump, "ip filter", "FORWARD", 0, "-A FORWARD -j ACCEPT"),
        "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
        "*filter\n:FORWARD DROP [0:0]\n:LAN_OUT - [0:0]\n:EMPTY - [0:0]\n"
        "-A FORWARD -j LAN_OUT\n-A FORWARD -j ACCEPT\n-A LAN_OUT -p tcp -j ACCEPT\n-A LAN_OUT -p udp -j DROP\nCOMMIT\n");
    // A chain without rules: before its table's COMMIT, whatever the position.
    const std::string empty = insert_iptables_line(kDump, "ip filter", "EMPTY", 1, "-A EMPTY -j ACCEPT");
    EXPECT_NE(empty.find("-A LAN_OUT -p udp -j DROP\n-A EMPTY -j ACCEPT\nCOMMIT\n"), std::string::npos) << empty;
    // Past the last rule: after it.
    const std::string past = insert_iptables_line(kDump, "ip filter", "LAN_OUT", 9, "-A LAN_OUT -j RETURN");
    EXPECT_NE(past.find("-A LAN_OUT -p udp -j DROP\n-A LAN_OUT -j RETURN\nCOMMIT"), std::string::npos) << past;
    // The same chain name in another table is not this one; an absent table changes nothing.
    EXPECT_EQ(insert_iptables_line(kDump, "ip mangle", "FORWARD", 1, "-A FORWARD -j ACCEPT"), kDump);
    const std::string nat = insert_iptables_line(kDump, "ip nat", "POSTROUTING", 1, "-A POSTROUTING -j ACCEPT");
    EXPECT_NE(nat.find("*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j ACCEPT\n-A POSTROUTING -o wan0"),
              std::string::npos);
}

}  // namespace
}  // namespace callwall::audit
