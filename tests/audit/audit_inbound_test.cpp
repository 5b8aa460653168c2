// Inbound requirements in an audit: the local ports a vendor sends to (the
// Agora 2018 Recording SDK's simplex downstream ports, UDP 40000-41000) are
// tried as answers to the client's packets from those ports to a port of the
// same product that gets out (what the SDK does), or — when none gets out —
// as unsolicited packets from the server side, which can show them passing
// but never blocked. Verdicts by hand in each ruleset's header.
// Skips (with the reason) where nft is missing or namespaces cannot be made.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/fix.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

constexpr const char* kDownstream = "agora-2018.recording.udp-downstream";
constexpr const char* kDuplex = "agora-2018.recording.udp-duplex";

// Runs the audit of the Agora 2018 Recording SDK; skips without a sandbox.
#define RECORDING_AUDIT_OR_SKIP(var, file)                                                             \
    if (!have_nft()) GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";              \
    AuditOptions opt_##var;                                                                            \
    opt_##var.ruleset_path = ruleset(file);                                                            \
    opt_##var.vendors = {"agora"};                                                                     \
    const AuditResult var = run_audit(bundled(), opt_##var);                                           \
    if (!var.replay.ok && !var.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << var.replay.error; \
    ASSERT_TRUE(var.replay.ok) << var.replay.error

TEST(AuditInbound, LocalPortsAreTriedAsAnswersToTheClientsPackets) {
    RECORDING_AUDIT_OR_SKIP(r, "inbound_ports.nft");
    expect(r, kDuplex, V::Partial, "passes udp 8000 by inet filter forward: rule 'oifname \"wan0\" udp dport 8000");
    expect(
        r, kDownstream, V::Partial,
        "the local ports were tried as answers to the client's packets from them to udp 8000 (" + std::string(kDuplex));
    const auto& down = entry(r, kDownstream);
    ASSERT_EQ(down.intervals.size(), 3u);  // 40000-40499, 40500-40999, 41000
    for (const auto& iv : down.intervals) {
        EXPECT_FALSE(iv.result.probe.inbound);
        EXPECT_EQ(iv.result.probe.port, 8000);
        EXPECT_EQ(iv.result.probe.client_port, iv.range.lo);
    }
    // What let the answers in decided a passing port, not the rule that let the request out.
    expect_port(r, kDownstream, 40000, O::Passed, "rule 'ct state established,related accept'");
    expect_port(r, kDownstream, 40499, O::Passed, "ct state established,related accept");
    expect_port(r, kDownstream, 40500, O::ReplyBlocked, "no media to these local ports");
    EXPECT_TRUE(at_port(down, 40999).decider.reply);
    expect_port(r, kDownstream, 41000, O::Dropped, "nothing leaves from local port 41000");
    EXPECT_FALSE(at_port(down, 41000).decider.reply);
    EXPECT_EQ(down.verdict.ports_observed, (std::set<uint16_t>{40000}));
    EXPECT_EQ(down.verdict.ports_blocked, (std::set<uint16_t>{40500, 41000}));
    EXPECT_NE(down.verdict.why.find("passes udp local 40000-40499"), std::string::npos) << down.verdict.why;
}

TEST(AuditInbound, UnsolicitedPacketsCanPassButNeverBlock) {
    RECORDING_AUDIT_OR_SKIP(r, "inbound_forwarded.nft");
    expect(r, kDuplex, V::Blocked, "policy drop");
    expect(r, kDownstream, V::Inconclusive, "the local ports were tried unsolicited from udp 1080");
    const auto& down = entry(r, kDownstream);
    ASSERT_EQ(down.intervals.size(), 2u);  // 40000-40999, 41000
    for (const auto& iv : down.intervals) {
        EXPECT_TRUE(iv.result.probe.inbound);
        EXPECT_EQ(iv.result.probe.port, 1080);  // the product's first outbound port
        EXPECT_EQ(iv.result.probe.client_port, iv.range.lo);
    }
    expect_port(r, kDownstream, 40000, O::Passed, "comment \"media port-forward\"");
    EXPECT_EQ(at_port(down, 40000).how, "arrived unsolicited at the client's port");
    expect_port(r, kDownstream, 41000, O::Dropped, "inet filter forward: policy drop");
    // Stopped unsolicited is not evidence against the SDK, which opens its ports itself.
    EXPECT_TRUE(down.verdict.ports_blocked.empty());
    EXPECT_EQ(down.verdict.flows_blocked, 0u);
    EXPECT_EQ(down.verdict.flows_inconclusive, 1u);
    EXPECT_NE(down.verdict.why.find("the audit cannot tell"), std::string::npos) << down.verdict.why;
}

TEST(AuditInbound, StoppedAnswersAreFixedWithConntrackAndSourcePortsAreNot) {
    RECORDING_AUDIT_OR_SKIP(r, "inbound_ports.nft");
    const Fix f = fix_and_verify(bundled(), opt_r, r);
    EXPECT_TRUE(f.verified) << f.rerun_error;
    EXPECT_TRUE(std::any_of(f.rules.begin(), f.rules.end(), [](const FixRule& x) {
        return x.rule == "insert rule inet filter forward ct state established,related accept";
    }));
    EXPECT_FALSE(std::any_of(f.rules.begin(), f.rules.end(), [](const FixRule& x) {
        return x.entry_id == kDownstream;  // no dport rule for the client's own ports
    }));
    ASSERT_EQ(f.unfixable.size(), 1u);
    EXPECT_NE(f.unfixable[0].find(std::string(kDownstream) + ": the client's packets from its local ports are "
                                                             "stopped by"),
              std::string::npos)
        << f.unfixable[0];
    const auto& down = entry(f.rerun, kDownstream);
    EXPECT_EQ(at_port(down, 40500).outcome, O::Passed) << at_port(down, 40500).decided_by;
    EXPECT_EQ(at_port(down, 41000).outcome, O::Dropped);
    ASSERT_EQ(f.still_failing.size(), 1u);
    EXPECT_EQ(f.still_failing[0].rfind(std::string(kDownstream) + ": partial", 0), 0u) << f.still_failing[0];
}

}  // namespace
}  // namespace callwall::audit
