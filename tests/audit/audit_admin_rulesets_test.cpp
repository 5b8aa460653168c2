// Rulesets as firewall managers generate them and admins leave them:
// firewalld's `nft list ruleset` (zones, policies, a masquerade in a NAT
// user chain), ufw's iptables-save (user chains, an accept shadowed by an
// earlier reject), and a tight global limit on the accept rule. What the
// text names: the filter rule that decided and the filter path to it.
#include <gtest/gtest.h>

#include <algorithm>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/fix.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

TEST(AuditAdminRulesets, FirewalldPassesAreTheFilterPolicysNotTheMasquerade) {
    AUDIT_OR_SKIP(r, "firewalld_router.nft");
    for (const char* id : {kSig, kTurnTcp, kThird})
        expect(r, id, V::Observed, "inet firewalld filter_FWD_policy_internal-to-external: rule 'accept'");
    for (const auto& a : r.entries) EXPECT_EQ(a.verdict.why.find("masquerade"), std::string::npos) << a.verdict.why;
    // The reject's path is the forward hook's, from filter_FORWARD, not the
    // prerouting chains'. (IPv4 only: over IPv6 it passes, so partial.)
    expect(r, kTurnUdp, V::Partial,
           "by inet firewalld filter_FWD_policy_internal-to-external_deny: rule 'meta nfproto ipv4 udp dport 443 "
           "reject with icmpx admin-prohibited'");
    expect(r, kTurnUdp, V::Partial,
           "(path: filter_FORWARD -> filter_FORWARD_POLICIES -> "
           "filter_FWD_policy_internal-to-external -> ");
    for (const auto& a : r.entries) EXPECT_EQ(a.verdict.why.find("PREROUTING"), std::string::npos) << a.verdict.why;
}

TEST(AuditAdminRulesets, UfwsShadowedAcceptIsNamedAsTheOneLineFix) {
    DUMP_AUDIT_OR_SKIP(r, "ufw_router.iptables", false);
    expect(r, kSig, V::Observed,
           "rule '-A ufw-user-forward -i lan0 -o wan0 -p tcp -m multiport --dports 80,443 -j "
           "ACCEPT' (rule 2 of ufw-user-forward)");
    expect(r, kTurnUdp, V::Blocked,
           "(rule 1 of ufw-user-forward) (path: FORWARD -> ufw-before-logging-forward (returned) -> "
           "ufw-before-forward -> ufw-user-forward)");
    const Fix f = fix_and_verify(bundled(), opt_r, r);
    ASSERT_FALSE(f.shadowed.empty());
    EXPECT_NE(f.shadowed[0].find("whereby.turn.udp: the ruleset's own rule '-A ufw-user-forward -i lan0 -o wan0 -p "
                                 "udp -m udp --dport 443 -j ACCEPT' would let it through, but rule '-A "
                                 "ufw-user-forward -i lan0 -o wan0 -p udp -m udp --dport 443 -j REJECT"),
              std::string::npos)
        << f.shadowed[0];
    EXPECT_NE(f.shadowed[0].find("moving that rule above it is the one-line fix"), std::string::npos);
    // The ports no accept names are not claimed shadowed.
    for (const auto& s : f.shadowed) EXPECT_EQ(s.find(kHigh), std::string::npos) << s;
}

TEST(AuditAdminRulesets, ATightGlobalLimitOnTheAcceptIsPaced) {
    AUDIT_OR_SKIP(r, "tight_limit.nft");
    ASSERT_EQ(r.limits.size(), 1u);
    EXPECT_TRUE(r.limits[0].new_only);  // after the conntrack accept: new flows only
    expect(r, kTurnUdp, V::Observed, "comment \"media, limited\"");
    expect(r, kTurnUdp, V::Observed, "passes at up to 1 new flows/s in total (burst 2)");
    expect_port(r, kHigh, 3478, O::Passed, "comment \"media, limited\"");
    expect_port(r, kHigh, 10000, O::Passed, "comment \"media, limited\"");
    expect_port(r, kHigh, 1024, O::Dropped, "inet filter forward: policy drop");
    for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "comment \"web\"");
}

TEST(AuditAdminRulesets, AnIp6tablesDumpAloneSpeaksOfIpv6Only) {
    if (!have_nft() || !have_iptables_nft()) GTEST_SKIP() << "nft or ip6tables-nft-restore is missing";
    AuditOptions opt;
    opt.ruleset_path = ruleset("office_v6.ip6tables");
    opt.iptables = true;
    opt.ip6tables = true;
    opt.vendors = {"whereby"};
    const AuditResult r = run_audit(bundled(), opt);
    if (!r.replay.ok && !r.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    ASSERT_TRUE(r.replay.ok) << r.replay.error;
    const Fix f = fix_and_verify(bundled(), opt, r);
    for (const auto& u : f.unfixable) EXPECT_EQ(u.find("what IPv6 stops and IPv4 does not"), std::string::npos) << u;
}

}  // namespace
}  // namespace callwall::audit
