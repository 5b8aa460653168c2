// IPv6 in the audit: ip6tables-save's dump (--ip6tables, alone or beside
// --iptables) and nft tables of family ip6 and inet audited with an IPv6
// client and IPv6 servers; per-family verdicts where the two differ; a
// ruleset that filters IPv4 only says IPv6 was not audited.
#include <gtest/gtest.h>

#include <fstream>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/ruleset_chains.hpp"
#include "audit/ruleset_text.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

std::string range_text(const V6Range& r) { return v6_text(r.lo) + "-" + v6_text(r.hi); }

TEST(AuditIpv6, AddressesPrefixesAndRangesAreRead) {
    const auto r = ipv6_ranges(
        "ip6 saddr 2001:db8:abcd:1::/64 # fd00::/8 in a comment\nip6 daddr { fc00::/7, 2001:db8::1-2001:db8::9 }"
        " comment \"2001:db8::7\"\n-A FORWARD -s fd12:3456::/48 -p udp --dport 3478:3479 -j ACCEPT\n"
        "# Generated on Mon Nov 23 09:12:01 2026\nether saddr 02:00:00:00:00:01 ct state established accept\n"
        "ip6 daddr ::1 drop\nip daddr 10.0.0.1 drop\nmeta mark 0xdead:beef");
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(range_text(r[0]), "2001:db8:abcd:1::-2001:db8:abcd:1:ffff:ffff:ffff:ffff");
    EXPECT_EQ(r[0].len, 64);
    EXPECT_EQ(range_text(r[1]), "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(range_text(r[2]), "2001:db8::1-2001:db8::9");
    EXPECT_EQ(r[2].len, 0);
    EXPECT_EQ(range_text(r[3]), "fd12:3456::-fd12:3456:0:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(range_text(r[4]), "::1-::1");
    V6Address a{};
    ASSERT_TRUE(parse_ipv6("fd00::5", a));
    EXPECT_TRUE(covered(a, r));
    ASSERT_TRUE(parse_ipv6("2001:db8:1::5", a));
    EXPECT_FALSE(covered(a, r));
    EXPECT_FALSE(covered(a, ipv6_ranges("ip6 daddr ::/0 drop")));  // ::/0 singles nothing out
}

TEST(AuditIpv6, TheStandInIsAnAddressNoPrefixCovers) {
    EXPECT_EQ(unmentioned_address6("tcp dport 443 accept"), "2001:db8:113::10");
    // A bogon list naming the documentation prefix, then one by covering prefix.
    EXPECT_EQ(unmentioned_address6("ip6 daddr 2001:db8::/32 drop"), "3fff:113::10");
    EXPECT_EQ(unmentioned_address6("ip6 daddr { 2001:db8::/32, 3ff0::/12 } drop"), "2a00:1450:4010::10");
}

TEST(AuditIpv6, TheInsideNetworkComesFromTheRuleset) {
    const auto nets = inside_networks6(robustness::read_file(ruleset("office_v6.ip6tables")), "lan0");
    ASSERT_EQ(nets.size(), 2u);
    EXPECT_EQ(v6_text(nets[0].lo) + "/" + std::to_string(nets[0].len), "2001:db8:abcd:1::/64");
    EXPECT_EQ(v6_text(nets[1].lo) + "/" + std::to_string(nets[1].len), "fd00::/8");
    EXPECT_TRUE(inside_networks("iifname \"lan0\" ip6 saddr fd00::/8 accept\n", "lan0").empty());
}

TEST(AuditIpv6, FamiliesAFilterChainStandsFor) {
    const auto ip = filtered_families("table ip filter {\n chain forward {\n  type filter hook forward priority 0;\n");
    EXPECT_TRUE(ip.v4);
    EXPECT_FALSE(ip.v6);
    const auto inet = filtered_families("table inet f {\n chain c {\n  type filter hook forward priority 0;\n");
    EXPECT_TRUE(inet.v4 && inet.v6);
    const auto ip6 = filtered_families(
        "table ip6 filter {\n chain FORWARD {\n  type filter hook forward priority 0;\n }\n}\ntable ip nat {\n"
        " chain POSTROUTING {\n  type nat hook postrouting priority 100;\n");
    EXPECT_FALSE(ip6.v4);
    EXPECT_TRUE(ip6.v6);
}

// Runs the audit of Whereby with ip6tables-save's dump `v6` (and
// iptables-save's `v4` when not empty); skips without a sandbox.
#define DUMPS_AUDIT_OR_SKIP(var, v4, v6)                                                               \
    if (!have_nft() || !have_iptables_nft())                                                           \
        GTEST_SKIP() << "nft or ip(6)tables-nft-restore is missing (tools/setup.sh installs both)";    \
    AuditOptions opt_##var;                                                                            \
    opt_##var.iptables = true;                                                                         \
    opt_##var.vendors = {"whereby"};                                                                   \
    if (std::string(v4).empty()) {                                                                     \
        opt_##var.ruleset_path = ruleset(v6);                                                          \
        opt_##var.ip6tables = true;                                                                    \
    } else {                                                                                           \
        opt_##var.ruleset_path = ruleset(v4);                                                          \
        opt_##var.ip6tables_path = ruleset(v6);                                                        \
        opt_##var.input6 = read_ruleset_input(opt_##var.ip6tables_path, false);                        \
    }                                                                                                  \
    const AuditResult var = run_audit(bundled(), opt_##var);                                           \
    if (!var.replay.ok && !var.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << var.replay.error; \
    ASSERT_TRUE(var.replay.ok) << var.replay.error;                                                    \
    if (!var.replay.ipv6_unavailable.empty()) GTEST_SKIP() << "no IPv6: " << var.replay.ipv6_unavailable

const ProbeResult& at_port6(const EntryAudit& a, uint16_t port, bool v6) {
    for (const auto* list : {&a.intervals, &a.intervals6})
        for (const auto& iv : *list)
            if (iv.v6 == v6 && iv.range.lo <= port && port <= iv.range.hi) return iv.result;
    ADD_FAILURE() << "no interval holds port " << port << (v6 ? " over IPv6" : " over IPv4");
    static const ProbeResult none;
    return none;
}

void expect_family(const AuditResult& r, std::string_view id, uint16_t port, bool v6, ProbeOutcome o,
                   std::string_view decided) {
    const auto& p = at_port6(entry(r, id), port, v6);
    EXPECT_EQ(to_string(p.outcome), to_string(o))
        << id << " port " << port << (v6 ? " IPv6: " : " IPv4: ") << p.how << " / " << p.decided_by;
    EXPECT_NE(p.decided_by.find(decided), std::string::npos) << id << " port " << port << ": " << p.decided_by;
    EXPECT_EQ(over_ipv6(p.probe), v6) << p.probe.daddr;
}

TEST(AuditIpv6, AnIp6tablesDumpAlone) {
    // Written as admins write them: ICMPv6 accepted, established/related,
    // the LAN's /64 on the allows, a bogon drop of the documentation prefix,
    // a ULA reject, policy DROP.
    DUMPS_AUDIT_OR_SKIP(r, "", "office_v6.ip6tables");
    EXPECT_FALSE(r.audited_v4);
    EXPECT_TRUE(r.audited_v6);
    EXPECT_NE(r.not_audited.find("IPv4 not audited"), std::string::npos) << r.not_audited;
    EXPECT_EQ(r.inside_net6, "2001:db8:abcd:1::/64");
    EXPECT_EQ(r.client6, "2001:db8:abcd:1::2");
    EXPECT_EQ(r.fallback6, "3fff:113::10");  // 2001:db8::/32 is dropped toward wan0
    for (const char* id : {kSig, kTurnTcp, kThird}) {
        expect(r, id, V::Observed, "ip6 filter FORWARD: rule '-A FORWARD -s 2001:db8:abcd:1::/64");
        expect(r, id, V::Observed, "(rule 4 of FORWARD)");
    }
    expect(r, kTurnUdp, V::Blocked, "ip6 filter FORWARD: policy drop");
    expect(r, kHigh, V::Partial, "policy drop");
    expect_family(r, kHigh, 3478, true, O::Passed, "rule 5 of FORWARD");
    expect_family(r, kHigh, 5000, true, O::Dropped, "policy drop");
    for (const auto& p : r.replay.results) EXPECT_TRUE(over_ipv6(p.probe)) << p.probe.daddr;
    // Where the names stood is IPv6's stand-in.
    EXPECT_NE(entry(r, kSig).verdict.why.find("its names assumed at 3fff:113::10 over IPv6"), std::string::npos)
        << entry(r, kSig).verdict.why;
    EXPECT_EQ(entry(r, kSig).verdict.why.find("203.0.113.10"), std::string::npos) << entry(r, kSig).verdict.why;
    // No family prefix: one family only.
    EXPECT_EQ(entry(r, kHigh).verdict.why.find("IPv6: "), std::string::npos) << entry(r, kHigh).verdict.why;
}

TEST(AuditIpv6, BothDumpsGivePerFamilyVerdicts) {
    DUMPS_AUDIT_OR_SKIP(r, "office_lan_scoped.iptables", "office_v6.ip6tables");
    EXPECT_TRUE(r.audited_v4);
    EXPECT_TRUE(r.audited_v6);
    EXPECT_TRUE(r.not_audited.empty()) << r.not_audited;
    EXPECT_EQ(r.client, "192.168.1.3");
    EXPECT_EQ(r.client6, "2001:db8:abcd:1::2");
    // Both families pass tcp 443: one line, as an IPv4 audit writes it.
    for (const char* id : {kSig, kTurnTcp, kThird}) {
        expect(r, id, V::Observed, "(rule 3 of FORWARD)");
        EXPECT_EQ(entry(r, id).verdict.why.find("IPv6"), std::string::npos) << entry(r, id).verdict.why;
        expect_family(r, id, 443, true, O::Passed, "rule 4 of FORWARD");
    }
    // udp 443: passes over IPv4 (multiport 443,3478), dropped over IPv6. The
    // verdict is IPv4's (a client falls back to it); the why says both.
    const auto& turn = entry(r, kTurnUdp);
    EXPECT_EQ(attrib::to_string(turn.verdict.verdict), attrib::to_string(V::Observed)) << turn.verdict.why;
    EXPECT_NE(turn.verdict.why.find("audit: IPv4: passes udp 443 by ip filter FORWARD"), std::string::npos)
        << turn.verdict.why;
    EXPECT_NE(turn.verdict.why.find("; IPv6: dropped udp 443 (no answer) by ip6 filter FORWARD: policy drop"),
              std::string::npos)
        << turn.verdict.why;
    EXPECT_TRUE(turn.verdict.reasons.empty());
    EXPECT_TRUE(turn.verdict.origin.empty()) << turn.verdict.origin;
    ASSERT_EQ(turn.intervals.size(), 1u);  // IPv4's, where an IPv4 audit puts them
    EXPECT_FALSE(turn.intervals[0].v6);
    ASSERT_EQ(turn.intervals6.size(), 1u);
    EXPECT_TRUE(turn.intervals6[0].v6);
    // udp 1024-65535: 10000-20000 passes over IPv4 only.
    expect_family(r, kHigh, 15000, false, O::Passed, "rule 5 of FORWARD");
    expect_family(r, kHigh, 15000, true, O::Dropped, "ip6 filter FORWARD: policy drop");
    expect_family(r, kHigh, 3478, true, O::Passed, "rule 5 of FORWARD");
    EXPECT_NE(entry(r, kHigh).verdict.why.find("; IPv6: "), std::string::npos) << entry(r, kHigh).verdict.why;
}

TEST(AuditIpv6, AnInetTableGivesPerFamilyVerdicts) {
    AUDIT_OR_SKIP(r, "inet_families.nft");
    if (!r.replay.ipv6_unavailable.empty()) GTEST_SKIP() << "no IPv6: " << r.replay.ipv6_unavailable;
    EXPECT_TRUE(r.audited_v4);
    EXPECT_TRUE(r.audited_v6);
    EXPECT_EQ(r.inside_from6, "the default: the ruleset names no IPv6 inside network; --inside-net sets one");
    EXPECT_EQ(r.client6, "fd77:77:77:77::2");
    for (const char* id : {kSig, kTurnTcp, kThird}) {
        expect(r, id, V::Observed, "comment \"web\"");
        EXPECT_EQ(entry(r, id).verdict.why.find("IPv6"), std::string::npos) << entry(r, id).verdict.why;
    }
    expect(r, kTurnUdp, V::Observed, "comment \"turn\"");
    // 3478 passes over IPv4 and is dropped over IPv6; the rest alike.
    expect(r, kHigh, V::Partial, "policy drop");
    expect_family(r, kHigh, 3478, false, O::Passed, "comment \"turn\"");
    expect_family(r, kHigh, 3478, true, O::Dropped, "comment \"no STUN over IPv6\"");
    expect_family(r, kHigh, 15000, true, O::Passed, "comment \"turn\"");
    expect_family(r, kHigh, 5000, true, O::Dropped, "inet filter forward: policy drop");
    const std::string& why = entry(r, kHigh).verdict.why;
    const size_t v4 = why.find(
        "audit: IPv4: dropped udp 1024-3477 (no answer) by inet filter forward: policy drop; "
        "passes udp 3478 by inet filter forward: rule");
    const size_t v6 = why.find(
        "; IPv6: dropped udp 1024-3477 (no answer) by inet filter forward: policy drop; "
        "dropped udp 3478 (no answer) by inet filter forward: rule 'meta nfproto ipv6 udp "
        "dport 3478 drop comment \"no STUN over IPv6\"'");
    EXPECT_NE(v4, std::string::npos) << why;
    EXPECT_NE(v6, std::string::npos) << why;
    EXPECT_LT(v4, v6) << why;
}

TEST(AuditIpv6, ResolvePinsEachFamilysAddress) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    AuditOptions opt;
    opt.ruleset_path = ruleset("inet_families.nft");
    opt.vendors = {"whereby"};
    // One name given an address of each family, and one that is neither
    // (skipped by both): each family takes its own.
    opt.resolve = {{"a.turn.whereby.com", "zz::1"},
                   {"a.turn.whereby.com", "2001:db8:77::20"},
                   {"a.turn.whereby.com", "198.51.100.20"}};
    const auto r = run_audit(bundled(), opt);
    if (!r.replay.ok) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    if (!r.replay.ipv6_unavailable.empty()) GTEST_SKIP() << "no IPv6: " << r.replay.ipv6_unavailable;
    const auto& turn = entry(r, kTurnUdp);
    EXPECT_EQ(turn.daddr, "198.51.100.20");
    EXPECT_EQ(turn.assumed, "a.turn.whereby.com = 198.51.100.20 (--resolve)");
    EXPECT_EQ(turn.daddr6, "2001:db8:77::20");
    EXPECT_EQ(turn.assumed6, "a.turn.whereby.com = 2001:db8:77::20 (--resolve)");
    bool v4 = false, v6 = false;
    for (const auto& p : r.replay.results) {
        v4 = v4 || p.probe.daddr == "198.51.100.20";
        v6 = v6 || p.probe.daddr == "2001:db8:77::20";
    }
    EXPECT_TRUE(v4 && v6) << "a probe to each pinned address";
    // An entry no --resolve names keeps the stand-ins.
    EXPECT_EQ(entry(r, kSig).daddr6, r.fallback6);
}

TEST(AuditIpv6, BlockedOverIpv4ButPassingOverIpv6IsPartial) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    robustness::TempDir dir("v6only");
    ASSERT_TRUE(dir.ok());
    const std::string path = dir / "v6_udp.nft";
    {
        std::ofstream out(path);
        out << "table inet filter {\n chain forward {\n  type filter hook forward priority filter; policy drop;\n"
               "  ct state established,related accept\n  meta l4proto ipv6-icmp accept\n"
               "  iifname \"lan0\" oifname \"wan0\" tcp dport 443 accept comment \"web\"\n"
               "  iifname \"lan0\" oifname \"wan0\" meta nfproto ipv6 udp dport 443 accept comment \"turn v6\"\n"
               " }\n}\n";
    }
    AuditOptions opt;
    opt.ruleset_path = path;
    opt.vendors = {"whereby"};
    const auto r = run_audit(bundled(), opt);
    if (!r.replay.ok) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    if (!r.replay.ipv6_unavailable.empty()) GTEST_SKIP() << "no IPv6: " << r.replay.ipv6_unavailable;
    const auto& turn = entry(r, kTurnUdp);
    EXPECT_EQ(attrib::to_string(turn.verdict.verdict), attrib::to_string(V::Partial)) << turn.verdict.why;
    EXPECT_EQ(turn.verdict.origin, "ruleset, over IPv4: inet filter forward: policy drop");
    EXPECT_EQ(turn.verdict.reasons, (std::vector<std::string>{"dropped over IPv4"}));
    EXPECT_NE(turn.verdict.why.find("audit: IPv4: dropped udp 443 (no answer) by inet filter forward: policy drop; "
                                    "IPv6: passes udp 443 by inet filter forward: rule"),
              std::string::npos)
        << turn.verdict.why;
    expect(r, kSig, V::Observed, "comment \"web\"");
}

TEST(AuditIpv6, AnIpv4OnlyRulesetSaysIpv6WasNotAudited) {
    AUDIT_OR_SKIP(r, "ipv4_only.nft");
    EXPECT_TRUE(r.audited_v4);
    EXPECT_FALSE(r.audited_v6);
    EXPECT_EQ(r.not_audited,
              "IPv6 not audited: the ruleset filters IPv4 only (no ip6 or inet table with a filter chain)");
    for (const auto& p : r.replay.results) EXPECT_FALSE(over_ipv6(p.probe)) << p.probe.daddr;
    expect(r, kSig, V::Observed, "comment \"web\"");
    expect(r, kTurnUdp, V::Blocked, "ip filter forward: policy drop");
    EXPECT_EQ(entry(r, kTurnUdp).verdict.why.find("IPv"), std::string::npos) << entry(r, kTurnUdp).verdict.why;
}

TEST(AuditIpv6, TheOutputSaysTheFamilies) {
    if (!have_nft() || !have_iptables_nft()) GTEST_SKIP() << "nft or iptables-nft-restore is missing";
    robustness::TempDir dir("v6out");
    ASSERT_TRUE(dir.ok());
    // IPv4 only: one line, once, that IPv6 was not audited.
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--nft", ruleset("ipv4_only.nft")}, {"--iptables", ruleset("office_lan_scoped.iptables")}}) {
        std::vector<std::string> cmd{CALLWALL_BINARY, "audit",    args[0], args[1],         "--vendor",
                                     "whereby",       "--no-fix", "--db",  dir / "a.sqlite"};
        const auto r = robustness::run(cmd, 120);
        if (r.exit.exited && r.exit.code == 6) GTEST_SKIP() << "no sandbox: " << r.err;
        EXPECT_EQ(r.exit.code, 0) << r.err;
        const size_t at = r.out.find("\nIPv6 not audited: ");
        EXPECT_NE(at, std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("IPv6 not audited", at + 2), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("IPv6: client"), std::string::npos) << r.out;
    }
    // Both dumps: the IPv6 addresses, and the per-family line of udp 443.
    const auto r =
        robustness::run({CALLWALL_BINARY, "audit", "--iptables", ruleset("office_lan_scoped.iptables"), "--ip6tables",
                         ruleset("office_v6.ip6tables"), "--vendor", "whereby", "--no-fix", "--db", dir / "b.sqlite"},
                        120);
    if (r.exit.exited && r.exit.code == 6) GTEST_SKIP() << "no sandbox: " << r.err;
    EXPECT_EQ(r.exit.code, 0) << r.err;
    if (r.out.find("IPv6 not audited: IPv6 could not") != std::string::npos) GTEST_SKIP() << r.out;
    EXPECT_NE(r.out.find("\nIPv6: client 2001:db8:abcd:1::2 on 2001:db8:abcd:1::/64"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("vendor names stand at 3fff:113::10"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\npasses     whereby.turn.udp\n           IPv4: passes udp 443 by ip filter FORWARD"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("IPv6: dropped udp 443 (no answer) by ip6 filter FORWARD: policy drop"), std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("not audited"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace callwall::audit
