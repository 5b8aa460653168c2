// The addresses an audit's packets carry: the client on the inside network
// the ruleset names (its rules' source prefixes, its masquerade rules, a
// defined LAN network, or --inside-net), and a vendor's stand-in at an
// address no prefix, range or set element of the ruleset covers.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/ruleset_text.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

TEST(AuditAddresses, AddressesPrefixesAndRangesAreRead) {
    const auto r = ipv4_ranges(
        "ip saddr 192.168.1.0/24 # 10.0.0.0/8 in a comment\nip daddr { 203.0.112.0/22, 198.51.100.1-198.51.100.9 }"
        " comment \"1.2.3.4\"\n-A X -s 10.1.2.3/32 --dport 3478:3479 -j ACCEPT\nmeta mark 0x1 oifname eth0.10");
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(v4_text(r[0].lo) + "-" + v4_text(r[0].hi), "192.168.1.0-192.168.1.255");
    EXPECT_EQ(v4_text(r[1].lo) + "-" + v4_text(r[1].hi), "203.0.112.0-203.0.115.255");
    EXPECT_EQ(v4_text(r[2].lo) + "-" + v4_text(r[2].hi), "198.51.100.1-198.51.100.9");
    EXPECT_EQ(r[3].len, 32);
}

TEST(AuditAddresses, TheInsideNetworkComesFromTheRuleset) {
    const auto nft = inside_networks(
        "define LAN_NET = 10.20.0.0/16\niifname \"lan0\" ip saddr $LAN_NET accept\n"
        "iifname \"dmz0\" ip saddr 172.16.5.0/24 accept\noifname \"wan0\" ip saddr 192.168.9.0/24 masquerade\n",
        "lan0");
    ASSERT_EQ(nft.size(), 2u);
    EXPECT_EQ(v4_text(nft[0].lo) + "/" + std::to_string(nft[0].len), "10.20.0.0/16");
    EXPECT_EQ(v4_text(nft[1].lo) + "/" + std::to_string(nft[1].len), "192.168.9.0/24");
    EXPECT_TRUE(inside_networks("iifname \"lan0\" ip saddr 192.168.1.50 accept\n", "lan0").empty());  // one host
}

TEST(AuditAddresses, LanScopedRulesMatchTheClient) {
    DUMP_AUDIT_OR_SKIP(r, "office_lan_scoped.iptables", false);
    EXPECT_EQ(r.inside_net, "192.168.1.0/24");
    EXPECT_EQ(r.client, "192.168.1.3");  // .2 is the quarantined host
    for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "(rule 3 of FORWARD)");
    expect(r, kTurnUdp, V::Observed, "(rule 4 of FORWARD)");
    expect(r, kHigh, V::Partial, "ip filter FORWARD: policy drop");
    expect_port(r, kHigh, 3478, O::Passed, "rule 4 of FORWARD");
    expect_port(r, kHigh, 15000, O::Passed, "rule 5 of FORWARD");
    expect_port(r, kHigh, 5000, O::Dropped, "policy drop");
}

TEST(AuditAddresses, ADefinedLanNetworkAndInsideNetFlag) {
    AUDIT_OR_SKIP(r, "defined_interfaces.nft");
    EXPECT_EQ(r.client, "192.168.50.2");
    expect(r, kTurnUdp, V::Observed, "comment \"turn\"");
    // --inside-net elsewhere: the LAN-scoped rules no longer match.
    AuditOptions opt = opt_r;
    opt.inside_nets = {"10.9.8.0/24"};
    const auto other = run_audit(bundled(), opt);
    ASSERT_TRUE(other.replay.ok) << other.replay.error;
    EXPECT_EQ(other.client, "10.9.8.2");
    EXPECT_EQ(other.inside_from, "--inside-net");
    expect(other, kTurnUdp, V::Blocked, "policy drop");
    opt.inside_nets = {"10.9.8.0/31"};
    const auto bad = run_audit(bundled(), opt);
    EXPECT_TRUE(bad.interfaces_unsure);
    EXPECT_NE(bad.replay.error.find("--inside-net takes an IPv4 network"), std::string::npos);
}

TEST(AuditAddresses, ABogonListDoesNotBlockVendors) {
    AUDIT_OR_SKIP(r, "bogons.nft");
    uint32_t a = 0;
    ASSERT_TRUE(parse_ipv4(r.fallback, a));
    EXPECT_FALSE(covered(a, ipv4_ranges(robustness::read_file(ruleset("bogons.nft"))))) << r.fallback;
    for (const char* id : {kSig, kTurnTcp, kTurnUdp, kHigh, kThird})
        expect(r, id, V::Observed, "rule 'iifname \"lan0\" oifname \"wan0\" accept comment \"lan out\"'");
}

TEST(AuditAddresses, AnAllowListByCoveringPrefixIsNotAPass) {
    AUDIT_OR_SKIP(r, "allow_by_cover.nft");
    EXPECT_EQ(r.fallback, "198.51.100.10");
    for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "comment \"web\"");
    expect(r, kTurnUdp, V::Blocked, "inet filter forward: policy drop");
    expect(r, kHigh, V::Blocked, "inet filter forward: policy drop");
    EXPECT_EQ(entry(r, kHigh).verdict.why.find("partner media"), std::string::npos);
}

TEST(AuditAddresses, TheFirstLinesSayTheAddresses) {
    if (!have_nft() || !have_iptables_nft()) GTEST_SKIP() << "nft or iptables-nft-restore is missing";
    robustness::TempDir dir("addrs");
    ASSERT_TRUE(dir.ok());
    const auto r = robustness::run({CALLWALL_BINARY, "audit", "--iptables", ruleset("office_lan_scoped.iptables"),
                                    "--vendor", "whereby", "--no-fix", "--db", dir / "a.sqlite"},
                                   120);
    if (r.exit.exited && r.exit.code == 6) GTEST_SKIP() << "no sandbox: " << r.err;
    EXPECT_EQ(r.exit.code, 0) << r.err;
    EXPECT_NE(r.out.find("\nclient: 192.168.1.3 on 192.168.1.0/24 behind lan0 (from the ruleset's source prefixes on "
                         "lan0 and\n  its masquerade rules)\nclient ports: 32768-60999 (the ruleset does not tell them "
                         "apart)\nservers: behind wan0; vendor names stand at 203.0.113.10"),
              std::string::npos)
        << r.out;
}

}  // namespace
}  // namespace callwall::audit
