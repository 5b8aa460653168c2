// Dumps that match ipsets (-m set --match-set) audited with the sets as
// admins keep them: `ipset save` output given beside the dump (--ipset
// FILE), restored into the sandbox before the dump. Without it, the refusal
// says which flag reads the sets.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/ranges_catalog.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

bool have_ipset() { return ::access("/usr/sbin/ipset", X_OK) == 0 || ::access("/sbin/ipset", X_OK) == 0; }

TEST(AuditIpset, TheSetsDecideAsOnTheRouter) {
    if (!have_iptables_nft() || !have_ipset())
        GTEST_SKIP() << "iptables-nft-restore or ipset is missing (tools/setup.sh)";
    const catalog::Catalog cat = ranges_catalog(kThreeAndV6);
    RANGE_AUDIT_OR_SKIP(r, cat, "office_ipset.iptables", true, "office_ipset.ipset");
    const auto& a = entry(r, kRangesMedia);
    // The set's members are the ruleset's prefixes: the three ranges stand apart.
    EXPECT_EQ(attrib::to_string(a.verdict.verdict), attrib::to_string(V::Partial)) << a.verdict.why;
    EXPECT_NE(a.verdict.why.find("to 13.107.64.0/18 and 52.112.0.0/14: passes udp 3478-3481 by ip filter FORWARD: "
                                 "rule '-A FORWARD -i lan0 -o wan0 -p udp -m set --match-set teams_media dst"),
              std::string::npos)
        << a.verdict.why;
    EXPECT_NE(a.verdict.why.find("to 52.120.0.0/14: dropped udp 3478-3481 (no answer) by ip filter FORWARD: rule "
                                 "'-A FORWARD -i lan0 -o wan0 -m set --match-set blocked_dst dst"),
              std::string::npos)
        << a.verdict.why;
}

TEST(AuditIpset, ADumpMatchingSetsWithoutThemSaysWhichFlagReadsThem) {
    if (!have_iptables_nft()) GTEST_SKIP() << "iptables-nft-restore is missing (tools/setup.sh)";
    const catalog::Catalog cat = ranges_catalog(kThreeAndV6);
    const AuditResult r = audit_ranges(cat, "office_ipset.iptables", true);
    if (!r.replay.ok && !r.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    ASSERT_TRUE(r.replay.lint_failed);
    EXPECT_NE(r.replay.error.find("Set blocked_dst doesn't exist"), std::string::npos) << r.replay.error;
    EXPECT_NE(r.replay.error.find("give their 'ipset save' output with --ipset FILE"), std::string::npos)
        << r.replay.error;
}

TEST(AuditIpset, TheFlagGoesWithADumpOnly) {
    robustness::TempDir dir("ipsetflag");
    ASSERT_TRUE(dir.ok());
    const auto r = robustness::run({CALLWALL_BINARY, "audit", "--nft", ruleset("sets_vmaps.nft"), "--ipset",
                                    ruleset("office_ipset.ipset"), "--db", dir / "a.sqlite"},
                                   60);
    ASSERT_TRUE(r.exit.exited) << r.exit.describe();
    EXPECT_EQ(r.exit.code, 2) << r.err;
    EXPECT_NE(r.err.find("--ipset goes with --iptables or --ip6tables"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace callwall::audit
