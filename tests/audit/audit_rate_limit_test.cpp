// Rate limits on the way out (meters, limits, hashlimit, ct count): the
// audit paces its replay below them and says a pass holds at that rate;
// its own burst never reads as a block.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

TEST(AuditRateLimit, APerGuestMeterIsPacedNotBlocked) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";
    AuditOptions opt;
    opt.ruleset_path = ruleset("guest_meter.nft");
    opt.vendors = {"whereby"};
    for (int run = 0; run < 3; ++run) {
        const AuditResult r = run_audit(bundled(), opt);
        if (!r.replay.ok && !r.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << r.replay.error;
        ASSERT_TRUE(r.replay.ok) << r.replay.error;
        ASSERT_EQ(r.limits.size(), 1u);
        EXPECT_EQ(r.limits[0].kind, "meter");
        // More new UDP flows than the meter's burst: without the pace most would be rejected.
        size_t udp = 0;
        for (const auto& p : r.replay.results) udp += p.probe.transport == catalog::Transport::Udp;
        EXPECT_GT(udp, 20u);
        for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "comment \"web\"");
        for (const char* id : {kTurnUdp, kHigh}) {
            expect(r, id, V::Observed, "comment \"guest udp\"");
            expect(r, id, V::Observed,
                   "passes at up to 5 new flows/s per client (burst 10) (meter in inet filter forward)");
        }
        // TCP goes by "web": no limit on its way.
        EXPECT_EQ(entry(r, kSig).verdict.why.find("passes at up to"), std::string::npos);
    }
}

}  // namespace
}  // namespace callwall::audit
