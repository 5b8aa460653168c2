// The fix never opens the network: every rule it proposes is scoped to the
// way out (inside interface in, outside interface out), answers come back by
// conntrack, optional entries are fixed only when asked, and a sandbox
// loaded with the ruleset and the fix still drops what the outside sends in.
#include <gtest/gtest.h>

#include <algorithm>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/fix.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

constexpr const char* kP2p = "sendbird-calls.p2p-stun.udp";  // optional, any destination, udp 1024-65535

AuditResult sendbird_audit(AuditOptions& opt) {
    opt.ruleset_path = ruleset("policy_drop_allows.nft");
    opt.vendors = {"sendbird"};
    return run_audit(bundled(), opt);
}

TEST(AuditFixScope, EveryRuleIsScopedAndOptionalEntriesOnlyWhenAsked) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    AuditOptions opt;
    const auto r = sendbird_audit(opt);
    if (!r.replay.ok) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    ASSERT_EQ(attrib::to_string(entry(r, kP2p).verdict.verdict), attrib::to_string(V::Partial));
    const Fix required_only = fix_and_verify(bundled(), opt, r);
    EXPECT_FALSE(std::any_of(required_only.rules.begin(), required_only.rules.end(),
                             [](const FixRule& x) { return x.entry_id == kP2p; }));
    EXPECT_NE(std::find(required_only.unfixable.begin(), required_only.unfixable.end(),
                        std::string(kP2p) + ": optional (the vendor presents it as optional); --fix-optional adds it"),
              required_only.unfixable.end());
    for (const auto& s : required_only.still_failing) EXPECT_EQ(s.find(kP2p), std::string::npos) << s;
    opt.fix_optional = true;
    const Fix all = fix_and_verify(bundled(), opt, r);
    ASSERT_TRUE(std::any_of(all.rules.begin(), all.rules.end(), [](const FixRule& x) { return x.entry_id == kP2p; }));
    for (const auto& x : all.rules) {
        if (x.entry_id.empty()) {  // the answers' rule: conntrack only
            EXPECT_EQ(x.rule.find("accept"), x.rule.find("ct state established,related accept") + 29) << x.rule;
            continue;
        }
        EXPECT_NE(x.rule.find(" iifname \"lan0\" oifname \"wan0\" "), std::string::npos) << x.rule;
    }
    EXPECT_TRUE(all.verified) << all.rerun_error;
    EXPECT_EQ(entry(all.rerun, kP2p).verdict.verdict, V::Observed) << entry(all.rerun, kP2p).verdict.why;
}

// What the outside sends in, unsolicited, to the client's ports: the
// P2P entry's own range, and one TCP port.
std::vector<Probe> from_outside(const std::string& server) {
    return {Probe{catalog::Transport::Udp, server, 40000, 40000, true},
            Probe{catalog::Transport::Udp, server, 3478, 50000, true},
            Probe{catalog::Transport::Tcp, server, 40001, 40001, true}};
}

ReplayOutput inbound_with(const AuditResult& r, const std::string& patch) {
    SandboxSpec spec;
    spec.input = read_ruleset_input(ruleset("policy_drop_allows.nft"), true);
    spec.inside = r.inside;
    spec.outside = r.outside;
    spec.server_addrs = {r.fallback};
    spec.patch = patch;
    return replay(spec, [&](std::string_view) { return from_outside(r.fallback); });
}

TEST(AuditFixScope, TheFixedRulesetStillDropsWhatComesFromOutside) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    AuditOptions opt;
    opt.fix_optional = true;  // the widest fix: udp 1024-65535 to any address
    const auto r = sendbird_audit(opt);
    if (!r.replay.ok) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    const Fix f = fix_and_verify(bundled(), opt, r);
    ASSERT_FALSE(f.test_text.empty());
    const auto fixed = inbound_with(r, f.test_text);
    ASSERT_TRUE(fixed.ok) << fixed.error;
    ASSERT_EQ(fixed.results.size(), 3u);
    for (const auto& p : fixed.results)
        EXPECT_EQ(to_string(p.outcome), to_string(O::Dropped))
            << (p.probe.transport == catalog::Transport::Tcp ? "tcp " : "udp ") << p.probe.client_port << ": " << p.how
            << " by " << p.decided_by << "\nfix:\n"
            << f.test_text;
    // The same rule without its scope lets the outside in: the check can tell.
    const auto open = inbound_with(r, "add rule inet filter forward udp dport 1024-65535 accept\n");
    ASSERT_TRUE(open.ok) << open.error;
    EXPECT_EQ(to_string(open.results[0].outcome), to_string(O::Passed)) << open.results[0].decided_by;
}

}  // namespace
}  // namespace callwall::audit
