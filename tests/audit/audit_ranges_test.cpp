// The audit of a vendor that publishes address ranges (catalog schema 2),
// with the tests' own Teams-like catalog (tests/data/catalog_ranges): an
// address inside the published range stands for the vendor, so a ruleset
// that allows the ranges passes its entries, and one that allows only the
// vendor's names leaves the range-only entry blocked, saying why.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

constexpr const char* kMedia = "teams-like.media.optimize.udp";
constexpr const char* kAllow = "teams-like.media.allow.tcp";

const catalog::Catalog& teams_like() {
    static const catalog::Catalog c = [] {
        const std::vector<std::filesystem::path> dirs{std::string(CALLWALL_SOURCE_DIR) + "/tests/data/catalog_ranges"};
        catalog::LoadResult r = catalog::load(dirs);
        for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    return c;
}

#define RANGES_AUDIT_OR_SKIP(var, file, pins)                                                          \
    if (!have_nft()) GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";              \
    AuditOptions opt_##var;                                                                            \
    opt_##var.ruleset_path = ruleset(file);                                                            \
    opt_##var.resolve = pins;                                                                          \
    const AuditResult var = run_audit(teams_like(), opt_##var);                                        \
    if (!var.replay.ok && !var.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << var.replay.error; \
    ASSERT_TRUE(var.replay.ok) << var.replay.error;                                                    \
    ASSERT_EQ(var.entries.size(), 2u)

using Resolve = std::vector<std::pair<std::string, std::string>>;

TEST(AuditRanges, TheVendorsRangeStandsForItsAddress) {
    ASSERT_EQ(teams_like().entries().size(), 2u);
    RANGES_AUDIT_OR_SKIP(r, "teams_like_ranges.nft", Resolve{});
    // An address inside the first IPv4 range, not a documentation address.
    EXPECT_EQ(entry(r, kMedia).daddr, "13.107.64.1");
    EXPECT_EQ(entry(r, kAllow).daddr, "13.107.64.1");
    // Every published range is tried: the ruleset's set names each of the
    // three, so each stands apart, at an address of its own.
    EXPECT_NE(entry(r, kMedia).assumed.find("the vendor's published ranges tried at 13.107.64.1 (13.107.64.0/18), "
                                            "52.112.0.1 (52.112.0.0/14), 52.120.0.1 (52.120.0.0/14)"),
              std::string::npos)
        << entry(r, kMedia).assumed;
}

TEST(AuditRanges, ARulesetAllowingTheRangesPassesEveryEntry) {
    RANGES_AUDIT_OR_SKIP(r, "teams_like_ranges.nft", Resolve{});
    expect(r, kMedia, V::Observed, "comment \"optimize\"");
    expect(r, kAllow, V::Observed, "comment \"allow\"");
    for (const auto& a : r.entries) EXPECT_TRUE(a.verdict.reasons.empty()) << a.entry->id;
}

TEST(AuditRanges, ARulesetAllowingOnlyNamesBlocksTheRangeOnlyEntryWithTheReason) {
    RANGES_AUDIT_OR_SKIP(r, "teams_like_names.nft", (Resolve{{"a.teams-like.invalid", "192.0.2.44"}}));
    // The entry with names is pinned to the resolved name, in the names' set.
    EXPECT_EQ(entry(r, kAllow).daddr, "192.0.2.44");
    expect(r, kAllow, V::Observed, "comment \"names-web\"");
    // The Optimize row has ranges only: nothing in a names-only ruleset serves it.
    expect(r, kMedia, V::Blocked, "policy drop");
    const auto& reasons = entry(r, kMedia).verdict.reasons;
    EXPECT_NE(std::find(reasons.begin(), reasons.end(), std::string(kNoNamesReason)), reasons.end())
        << entry(r, kMedia).verdict.why;
    EXPECT_NE(entry(r, kMedia).verdict.why.find("the vendor publishes no names for this requirement"),
              std::string::npos);
    // The named entry's reasons do not carry it.
    EXPECT_TRUE(entry(r, kAllow).verdict.reasons.empty());
}

}  // namespace
}  // namespace callwall::audit
