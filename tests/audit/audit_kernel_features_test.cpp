// A kernel without a feature the ruleset uses is the sandbox's limit, not
// the ruleset's fault: a flowtable is left out (it only offloads flows
// conntrack established) and the rest audited, saying so; a queue rule on
// a kernel without nfnetlink_queue stops the audit with exit 6 naming it.
#include <gtest/gtest.h>

#include <algorithm>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/kernel_features.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

// nft 1.x's refusal on a kernel without nf_flow_table (as printed by nft -c -f).
constexpr const char* kFlowtableRefused =
    "/tmp/ft.nft:2:12-12: Error: Could not process rule: No such file or directory\n"
    " flowtable f {\n"
    "           ^\n"
    "/tmp/ft.nft:7:19-29: Error: Could not process rule: No such file or directory\n"
    "  ip protocol tcp flow add @f\n"
    "                  ^^^^^^^^^^^\n";

TEST(AuditKernelFeatures, NftsRefusalNamesTheFeature) {
    const auto f = missing_features(kFlowtableRefused);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].feature, "flowtables (nf_flow_table)");
    EXPECT_EQ(f[0].where, "/tmp/ft.nft:2");
    EXPECT_EQ(f[1].statement, "flow add @f");
    EXPECT_TRUE(f[0].can_leave_out && f[1].can_leave_out);
    const auto q = missing_features(
        "r.nft:4:3-7: Error: Could not process rule: No such file or directory\n  queue num 1\n  ^^^^^\n");
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(features_text(q), "queue (nfnetlink_queue) at r.nft:4 ('queue')");
    EXPECT_FALSE(q[0].can_leave_out);
    // A jump to a chain that does not exist is the ruleset's mistake, and any
    // other error beside a missing feature keeps the refusal the ruleset's.
    EXPECT_TRUE(missing_features("r.nft:3:3-14: Error: Could not process rule: No such file or directory\n"
                                 "  jump nowhere\n  ^^^^^^^^^^^^\n")
                    .empty());
    EXPECT_TRUE(missing_features(std::string(kFlowtableRefused) +
                                 "r.nft:9:1-3: Error: syntax error, unexpected junk\njunk\n^^^^\n")
                    .empty());
}

TEST(AuditKernelFeatures, FlowtablesAreLeftOutKeepingLinesAndHandles) {
    const std::string in =
        "table inet fw4 {\n\tflowtable ft {\n\t\thook ingress priority filter\n\t\tdevices = { \"lan0\" }\n\t}\n"
        "\tchain forward {\n\t\tmeta l4proto { tcp, udp } flow offload @ft\n\t\tip protocol tcp flow add @ft accept\n"
        "\t}\n}\n";
    const std::string out = without_flowtables(in);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), std::count(in.begin(), in.end(), '\n'));
    EXPECT_EQ(out,
              "table inet fw4 {\n\tset callwall_no_flowtable_ft { type ipv4_addr; }\n\n\n\n"
              "\tchain forward {\n\t\tmeta l4proto { tcp, udp } counter\n\t\tip protocol tcp counter accept\n"
              "\t}\n}\n");
}

TEST(AuditKernelFeatures, AFlowtableRouterIsAuditedWithOrWithoutOffload) {
    AUDIT_OR_SKIP(r, "flowtable_router.nft");
    for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "comment \"!fw4: web\"");
    expect_port(r, kHigh, 3478, O::Passed, "comment \"!fw4: turn\"");
    expect(r, kTurnUdp, V::Blocked, "inet fw4 forward: policy drop");
    // Where the kernel has no flowtables, the run's notes say it was left out.
    if (r.replay.mode.find("has no flowtables") != std::string::npos) {
        EXPECT_NE(r.replay.mode.find("audited without the ruleset's flowtables"), std::string::npos) << r.replay.mode;
        EXPECT_EQ(r.replay.mode.find("callwall-audit-"), std::string::npos) << r.replay.mode;  // the user's path
    }
}

TEST(AuditKernelFeatures, AQueueRuleOnAKernelWithoutItIsTheSandboxsLimit) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";
    AuditOptions opt;
    opt.ruleset_path = ruleset("queue_ids.nft");
    opt.vendors = {"whereby"};
    const AuditResult r = run_audit(bundled(), opt);
    if (r.replay.ok) GTEST_SKIP() << "this kernel has nfnetlink_queue: the queue rule loaded";
    if (r.replay.error.find("lacks") == std::string::npos) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    EXPECT_FALSE(r.replay.lint_failed);  // exit 6, not 3
    EXPECT_NE(r.replay.error.find("the sandbox's kernel lacks queue (nfnetlink_queue) at "), std::string::npos)
        << r.replay.error;
    EXPECT_NE(r.replay.error.find("queue_ids.nft:8"), std::string::npos) << r.replay.error;
    EXPECT_EQ(r.replay.error.find("callwall-audit-"), std::string::npos) << r.replay.error;  // the user's path
}

}  // namespace
}  // namespace callwall::audit
