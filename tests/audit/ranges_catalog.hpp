// The published-ranges tests' own catalog: one vendor whose media entry
// lists the ranges a test gives (the shape of Teams' Optimize row, written
// by the test: the bundled Teams file changes with Microsoft's list).
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"

namespace callwall::audit::audit_test {

inline constexpr const char* kRangesMedia = "ranges-test.media.udp";

// A one-entry catalog whose media entry publishes `addresses` (TOML items).
inline catalog::Catalog ranges_catalog(const std::string& addresses) {
    std::string dir = (std::filesystem::temp_directory_path() / "callwall-ranges-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) return {};
    {
        std::ofstream f(dir + "/ranges_test.toml");
        f << "schema = 2\n[document]\nvendor = \"Ranges Test\"\ntitle = \"Ranges test URLs and IP address ranges\"\n"
             "url = \"https://ranges-test.invalid/ranges\"\ndate = 2026-10-31\ntranscribed = 2026-11-26\n"
             "direction = \"outbound\"\n\n[[entry]]\nid = \""
          << kRangesMedia
          << "\"\nproduct = \"Ranges Test\"\nservice = \"Media (Optimize)\"\ntransport = \"udp\"\n"
             "ports = [[3478, 3481]]\naddresses = ["
          << addresses << "]\nrequired = true\n\n[entry.source]\nsection = \"ID 11\"\n";
    }
    const std::vector<std::filesystem::path> dirs{std::filesystem::path(dir)};
    catalog::LoadResult r = catalog::load(dirs);
    std::filesystem::remove_all(dir);
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
}

inline constexpr const char* kThreeAndV6 =
    "\"13.107.64.0/18\", \"52.112.0.0/14\", \"52.120.0.0/14\", \"2603:1063::/38\"";

// Audits `file` (an nft ruleset, or with `dump` an iptables-save dump and
// `ipsets` its ipset save beside it) against `cat`; skips without a sandbox.
inline AuditResult audit_ranges(const catalog::Catalog& cat, const char* file, bool dump = false,
                                const std::string& ipsets = {}) {
    AuditOptions opt;
    opt.ruleset_path = ruleset(file);
    opt.iptables = dump;
    if (!ipsets.empty()) {
        opt.ipset_path = ruleset(ipsets.c_str());
        opt.ipsets = read_ruleset_input(opt.ipset_path, false);
    }
    return run_audit(cat, opt);
}

#define RANGE_AUDIT_OR_SKIP(var, cat, file, ...)                                                       \
    if (!have_nft()) GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";              \
    ASSERT_EQ((cat).entries().size(), 1u);                                                             \
    const AuditResult var = audit_ranges(cat, file __VA_OPT__(, ) __VA_ARGS__);                        \
    if (!var.replay.ok && !var.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << var.replay.error; \
    ASSERT_TRUE(var.replay.ok) << var.replay.error

}  // namespace callwall::audit::audit_test
