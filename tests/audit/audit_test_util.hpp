// Helpers of the audit tests: the bundled catalog, the committed rulesets,
// and checks of an entry's verdict and of one port's probe.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "audit/audit.hpp"
#include "unit/corpus.hpp"

namespace callwall::audit::audit_test {

/// The bundled catalog, loaded once (unit/corpus.hpp).
// The audit tests' expectations are written for the seed vendors' entries.
inline const catalog::Catalog& bundled() { return callwall::test::seed_catalog(); }

inline std::string ruleset(const char* name) {
    return std::string(CALLWALL_SOURCE_DIR) + "/tests/audit/rulesets/" + name;
}

inline bool have_nft() { return ::access("/usr/sbin/nft", X_OK) == 0 || ::access("/sbin/nft", X_OK) == 0; }

inline bool have_iptables_nft() {
    return ::access("/usr/sbin/iptables-nft-restore", X_OK) == 0 || ::access("/sbin/iptables-nft-restore", X_OK) == 0;
}

// Runs the audit of the committed iptables dump FILE (Whereby only, or every
// vendor); skips the test when iptables-nft-restore or a sandbox is missing.
#define DUMP_AUDIT_OR_SKIP(var, file, every_vendor)                                                    \
    if (!have_nft() || !have_iptables_nft())                                                           \
        GTEST_SKIP() << "nft or iptables-nft-restore is missing (tools/setup.sh installs both)";       \
    AuditOptions opt_##var;                                                                            \
    opt_##var.ruleset_path = ruleset(file);                                                            \
    opt_##var.iptables = true;                                                                         \
    if (!(every_vendor)) opt_##var.vendors = {"whereby"};                                              \
    const AuditResult var = run_audit(bundled(), opt_##var);                                           \
    if (!var.replay.ok && !var.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << var.replay.error; \
    ASSERT_TRUE(var.replay.ok) << var.replay.error

// Runs the audit of Whereby; skips the test when no sandbox can be made.
#define AUDIT_OR_SKIP(var, file)                                                                       \
    if (!have_nft()) GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";              \
    AuditOptions opt_##var;                                                                            \
    opt_##var.ruleset_path = ruleset(file);                                                            \
    opt_##var.vendors = {"whereby"};                                                                   \
    const AuditResult var = run_audit(bundled(), opt_##var);                                           \
    if (!var.replay.ok && !var.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << var.replay.error; \
    ASSERT_TRUE(var.replay.ok) << var.replay.error;                                                    \
    ASSERT_EQ(var.entries.size(), 5u)

inline const EntryAudit& entry(const AuditResult& r, std::string_view id) {
    for (const auto& a : r.entries)
        if (a.entry->id == id) return a;
    ADD_FAILURE() << "no entry " << id;
    static const EntryAudit none;
    return none;
}

inline const ProbeResult& at_port(const EntryAudit& a, uint16_t port) {
    for (const auto& iv : a.intervals)
        if (iv.range.lo <= port && port <= iv.range.hi) return iv.result;
    ADD_FAILURE() << "no interval holds port " << port;
    static const ProbeResult none;
    return none;
}

inline void expect(const AuditResult& r, std::string_view id, attrib::Verdict v, std::string_view decided) {
    const auto& a = entry(r, id);
    EXPECT_EQ(attrib::to_string(a.verdict.verdict), attrib::to_string(v)) << id << ": " << a.verdict.why;
    EXPECT_NE(a.verdict.why.find(decided), std::string::npos) << id << ": " << a.verdict.why;
}

inline void expect_port(const AuditResult& r, std::string_view id, uint16_t port, ProbeOutcome o,
                        std::string_view decided) {
    const auto& p = at_port(entry(r, id), port);
    EXPECT_EQ(to_string(p.outcome), to_string(o)) << id << " port " << port << ": " << p.how << " / " << p.decided_by;
    EXPECT_NE(p.decided_by.find(decided), std::string::npos) << id << " port " << port << ": " << p.decided_by;
}

using V = attrib::Verdict;
using O = ProbeOutcome;
inline constexpr const char* kSig = "whereby.signaling.tcp";
inline constexpr const char* kTurnTcp = "whereby.turn.tcp";
inline constexpr const char* kTurnUdp = "whereby.turn.udp";
inline constexpr const char* kHigh = "whereby.turn-sfu-highport.udp";
inline constexpr const char* kThird = "whereby.third-party.tcp";

}  // namespace callwall::audit::audit_test
