// The audit's text output: every line within 100 columns (the fix's
// commands, written to be copied, are kept whole), and the address a
// vendor's names were assumed at said once per vendor, not on every line.
#include <gtest/gtest.h>

#include "audit/audit_test_util.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

struct Case {
    const char* flag;
    const char* file;
};

TEST(AuditOutput, EveryLineFitsInAHundredColumns) {
    if (!have_nft() || !have_iptables_nft()) GTEST_SKIP() << "nft or iptables-nft-restore is missing";
    robustness::TempDir dir("width");
    ASSERT_TRUE(dir.ok());
    const Case cases[] = {{"--nft", "two_tables.nft"},
                          {"--nft", "reply_ports.nft"},
                          {"--nft", "user_chain_jump.nft"},
                          {"--iptables", "office_lan_scoped.iptables"}};
    int n = 0;
    for (const auto& c : cases) {
        const auto db = dir / ("w" + std::to_string(n++) + ".sqlite");
        const auto r = robustness::run({CALLWALL_BINARY, "audit", c.flag, ruleset(c.file), "--vendor", "whereby",
                                        "--vendor", "sendbird", "--db", db},
                                       240);
        if (r.exit.exited && r.exit.code == 6) GTEST_SKIP() << "no sandbox: " << r.err;
        ASSERT_EQ(r.exit.code, 0) << c.file << ": " << r.err;
        bool in_fix = false;
        size_t assumed = 0;
        for (const std::string_view line : split_lines(r.out)) {
            if (line.rfind("fix: ", 0) == 0) in_fix = true;
            // The fix's rules themselves (below their "# where" line) are commands to copy.
            const bool command = in_fix && line.rfind("  ", 0) == 0 && line.rfind("  # ", 0) != 0;
            if (!command) {
                EXPECT_LE(line.size(), 100u) << c.file << ": " << line;
            }
            if (line.find(" assumed at ") != std::string_view::npos) ++assumed;
        }
        // Whereby's names and Sendbird's: one note each, not one per requirement.
        EXPECT_GE(assumed, 1u) << c.file;
        EXPECT_LE(assumed, 2u) << c.file << ":\n" << r.out;
    }
}

}  // namespace
}  // namespace callwall::audit
