// The client's source port as a dimension of the audit: its ephemeral range
// split where the ruleset can tell the ports apart (a rule on a destination
// port that the answers reach, a rule on a source port), each part probed,
// and the same verdicts every run.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/ruleset_chains.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

constexpr catalog::PortRange kLinux{32768, 60999};

std::vector<uint32_t> cuts(std::string_view listed) { return client_port_cuts(parse_listed(listed), kLinux); }

TEST(AuditClientPorts, OnlyRulesTheAnswersReachCutTheClientsPorts) {
    // After the conntrack accept, a destination port is the server's only.
    EXPECT_TRUE(cuts("table inet filter {\n chain forward {\n  type filter hook forward priority filter; policy drop;\n"
                     "  ct state established,related accept\n  udp dport 40000-65535 reject\n }\n}\n")
                    .empty());
    // Before it (or with none), the answers meet it: the client's port 40000 is told apart.
    EXPECT_EQ(cuts("table inet media {\n chain forward {\n  type filter hook forward priority 10; policy accept;\n"
                   "  udp dport 40000-65535 reject\n  ct state established,related accept\n }\n}\n"),
              std::vector<uint32_t>{40000});
    // A chain jumped to before the conntrack accept, and a named set it reads.
    EXPECT_EQ(
        cuts("table inet f {\n set hi {\n  type inet_service\n  flags interval\n  elements = { 50000-50010 }\n }\n"
             " chain forward {\n  type filter hook forward priority filter; policy drop;\n  jump media\n"
             "  ct state established,related accept\n }\n chain media {\n  udp dport @hi drop\n }\n}\n"),
        (std::vector<uint32_t>{50000, 50011}));
    // A source port rule anywhere (the client's requests).
    EXPECT_EQ(cuts("table inet f {\n chain forward {\n  type filter hook forward priority filter; policy drop;\n"
                   "  ct state established,related accept\n  udp sport 33000 drop\n }\n}\n"),
              (std::vector<uint32_t>{33000, 33001}));
    // An iptables dump: multiport ranges, chain names, the conntrack accept.
    const auto dump = parse_iptables_dump(
        "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p udp -m multiport --dports 45000:65535 -j DROP\n"
        "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        "-A FORWARD -p udp -m multiport --dports 35000:36000 -j DROP\nCOMMIT\n");
    EXPECT_EQ(client_port_cuts(dump, kLinux), std::vector<uint32_t>{45000});
}

TEST(AuditClientPorts, RateLimitsAreReadFromRulesWithAVerdict) {
    const auto r = rate_limits(parse_listed(
        "table inet filter {\n chain forward {\n  type filter hook forward priority filter; policy drop;\n"
        "  ct state new meter guests size 65535 { ip saddr limit rate over 5/second burst 10 packets } reject\n"
        "  udp dport 5000 limit rate 3/minute log prefix \"x\"\n  icmp type echo-request limit rate 1/second accept\n"
        "  tcp dport 443 limit rate 100/second accept\n  ct state new add @cc { ip saddr ct count over 10 } drop\n"
        " }\n chain input {\n  type filter hook input priority filter;\n  limit rate 1/second accept\n }\n}\n"));
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].kind, "meter");
    EXPECT_EQ(r[0].text(), "5 new flows/s per client (burst 10)");
    EXPECT_EQ(r[0].index, 0u);
    EXPECT_EQ(r[1].text(), "100 packets/s in total");
    EXPECT_EQ(r[1].transport, "tcp");
    EXPECT_EQ(r[2].kind, "ct count");
    EXPECT_EQ(r[2].text(), "10 connections at once per client");
    const auto ipt = rate_limits(parse_iptables_dump(
        "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p udp -m hashlimit --hashlimit-above 5/sec --hashlimit-burst 10 "
        "--hashlimit-mode srcip --hashlimit-name g -j REJECT\n-A FORWARD -p tcp -m connlimit --connlimit-above 10 "
        "--connlimit-mask 32 --connlimit-saddr -j DROP\n-A FORWARD -m limit --limit 2/min -j LOG\nCOMMIT\n"));
    ASSERT_EQ(ipt.size(), 2u);
    EXPECT_EQ(ipt[0].text(), "5 packets/s per client (burst 10)");
    EXPECT_EQ(ipt[0].transport, "udp");
    EXPECT_EQ(ipt[1].kind, "connlimit");
    EXPECT_EQ(ipt[1].count, 10u);
}

// Each entry's verdict, why and intervals (ports, client ports, outcome) as text.
std::string outcome_text(const AuditResult& r) {
    std::string out;
    for (const auto& a : r.entries) {
        out += a.entry->id + " " + std::string(attrib::to_string(a.verdict.verdict)) + " " + a.verdict.why + "\n";
        for (const auto& iv : a.intervals)
            out += "  " + catalog::port_range_text(iv.range) + " from " + catalog::port_range_text(iv.client) + ": " +
                   std::string(to_string(iv.result.outcome)) + "\n";
    }
    return out;
}

TEST(AuditClientPorts, AReplyPortRuleInASecondBaseChainSplitsTheClientsPorts) {
    AUDIT_OR_SKIP(r, "reply_ports.nft");
    ASSERT_EQ(r.client_intervals.size(), 2u);
    EXPECT_EQ(catalog::port_range_text(r.client_intervals[0]), "32768-39999");
    EXPECT_EQ(catalog::port_range_text(r.client_intervals[1]), "40000-60999");
    for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "comment \"lan out\"");
    expect(r, kTurnUdp, V::Partial, "passes udp 443 only from client ports 32768-39999 by inet filter forward");
    expect(r, kTurnUdp, V::Partial,
           "reply blocked udp 443 from client ports 40000-60999 (request reached the server, its reply did not come "
           "back) by the reply, by inet media forward: rule 'udp dport 40000-65535 reject comment \"no high udp\"'");
    expect(r, kHigh, V::Partial, "passes udp 1024-39999 only from client ports 32768-39999");
    expect(r, kHigh, V::Partial, "rejected udp 40000-65535 (icmp type 3 code 3) by inet media forward");
    // Every probe of a part left from a port inside it.
    for (const auto& p : r.replay.results)
        if (!p.probe.inbound && p.probe.client_port == 0) {
            EXPECT_GE(p.sport, p.probe.client_ports.lo);
            EXPECT_LE(p.sport, p.probe.client_ports.hi);
        }
    // Windows' and macOS's ports all lie above 40000: the answers never come back.
    AuditOptions win = opt_r;
    win.client_ports = {49152, 65535};
    const auto w = run_audit(bundled(), win);
    ASSERT_TRUE(w.replay.ok) << w.replay.error;
    ASSERT_EQ(w.client_intervals.size(), 1u);
    expect(w, kTurnUdp, V::Blocked, "by the reply, by inet media forward");
    EXPECT_EQ(entry(w, kTurnUdp).verdict.why.find("client ports"), std::string::npos);
}

TEST(AuditClientPorts, TenRunsGiveTheSameVerdictsAndIntervals) {
    AUDIT_OR_SKIP(first, "reply_ports.nft");
    const std::string want = outcome_text(first);
    EXPECT_NE(want.find("from 32768-39999: passes"), std::string::npos) << want;
    for (int i = 1; i < 10; ++i) {
        const auto again = run_audit(bundled(), opt_first);
        ASSERT_TRUE(again.replay.ok) << again.replay.error;
        EXPECT_EQ(outcome_text(again), want) << "run " << i + 1;
    }
}

}  // namespace
}  // namespace callwall::audit
