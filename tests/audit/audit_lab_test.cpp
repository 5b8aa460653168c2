// The lab's firewall profiles (captures/lab/PROFILE/ruleset.nft, the ruleset
// the lab's router ran while real clients made real calls through it)
// audited from their ruleset files agree with what the lab's captures
// showed: every port a lab capture saw pass (expected_verdicts.tsv's
// ports_observed, which the Lab tests hold callwall's analysis of those
// captures to) passes the audit, and every port it saw blocked
// (ports_blocked) is dropped or rejected by it. The audit covers every port
// of every entry; the captures exercise some, and those are compared.
// Skips (with the reason) where nft is missing or no sandbox can be made.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/audit.hpp"
#include "unit/corpus.hpp"

namespace callwall::audit {
namespace {

namespace fs = std::filesystem;

struct Row {
    std::string entry, verdict;
    std::vector<uint16_t> observed, blocked;
};

std::vector<uint16_t> ports(const std::string& list) {
    std::vector<uint16_t> out;
    if (list == "-") return out;
    std::stringstream ss(list);
    for (std::string p; std::getline(ss, p, ',');) out.push_back(static_cast<uint16_t>(std::stoul(p)));
    return out;
}

std::vector<Row> read_expected(const fs::path& tsv) {
    std::vector<Row> rows;
    std::ifstream in(tsv);
    bool header = true;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        if (header) {  // entry_id verdict reasons flows_observed flows_blocked flows_inconclusive ports_observed ports_blocked
            header = false;
            continue;
        }
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
        if (f.size() < 8) continue;
        rows.push_back({f[0], f[1], ports(f[6]), ports(f[7])});
    }
    return rows;
}

class AuditLab : public ::testing::TestWithParam<std::string> {};

TEST_P(AuditLab, TheRulesetAgreesWithTheLabsCaptures) {
    if (::access("/usr/sbin/nft", X_OK) != 0 && ::access("/sbin/nft", X_OK) != 0)
        GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";
    const fs::path dir = fs::path(CALLWALL_SOURCE_DIR) / "captures/lab" / GetParam();
    const auto rows = read_expected(dir / "expected_verdicts.tsv");
    ASSERT_FALSE(rows.empty()) << dir;
    AuditOptions opt;
    opt.ruleset_path = (dir / "ruleset.nft").string();
    opt.inside = "fw-in";  // as tools/lab/run.sh names the router's ends
    opt.outside = "fw-out";
    const auto r = run_audit(test::bundled_catalog(), opt);
    if (!r.replay.ok && !r.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    ASSERT_TRUE(r.replay.ok) << r.replay.error;
    int agree = 0, compared = 0, inbound = 0;
    for (const auto& row : rows) {
        const auto it = std::find_if(r.entries.begin(), r.entries.end(),
                                     [&](const EntryAudit& a) { return a.entry->id == row.entry; });
        ASSERT_NE(it, r.entries.end()) << row.entry;
        // An inbound entry's ports are the client's local ports, in the lab and in the audit.
        if (it->entry->direction == catalog::Direction::Inbound)
            inbound += static_cast<int>(row.observed.size() + row.blocked.size());
        for (const bool passed : {true, false}) {
            for (const uint16_t port : passed ? row.observed : row.blocked) {
                ++compared;
                const auto iv = std::find_if(it->intervals.begin(), it->intervals.end(), [&](const IntervalResult& x) {
                    return x.range.lo <= port && port <= x.range.hi;
                });
                if (iv == it->intervals.end()) {
                    ADD_FAILURE() << GetParam() << " " << row.entry << " port " << port << ": not audited";
                    continue;
                }
                const bool audit_passed = iv->result.outcome == ProbeOutcome::Passed;
                if (audit_passed == passed) {
                    ++agree;
                    continue;
                }
                ADD_FAILURE() << GetParam() << " " << row.entry << " port " << port << ": the lab's capture "
                              << (passed ? "passed" : "was blocked") << ", the audit says "
                              << to_string(iv->result.outcome) << " by " << iv->result.decided_by;
            }
        }
    }
    std::printf("lab %s: %d/%d exercised ports agree with the audit (%d of them on inbound entries)\n",
                GetParam().c_str(), agree, compared, inbound);
    EXPECT_GT(compared, 0);
}

INSTANTIATE_TEST_SUITE_P(Profiles, AuditLab,
                         ::testing::Values("open", "restrictive", "corporate", "udp-egress", "strict"),
                         [](const auto& info) {
                             std::string n = info.param;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

}  // namespace
}  // namespace callwall::audit
