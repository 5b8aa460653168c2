// `analyze` keeps a row per DNS question, DNS answer, TLS/QUIC hello, STUN
// message and ICMP error only with --detail (the per-message
// rows nobody queries one by one cost a large share of a busy mirror port's
// CPU: docs/performance.md). Whatever the default leaves out, the verdicts
// may not change: over every committed capture, each analysed as its own
// run, the default and --detail databases must hold the same flows, names,
// DNS questions per name, RTP streams, matches and verdicts, and `report
// --format json --all` must print the same for every run; the five
// per-message tables must be empty by default and filled with --detail, and
// the per-name counts (dns_name) must be what the questions' own rows add up to.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "robustness/robustness_util.hpp"

namespace callwall::robustness {
namespace {

constexpr const char* kPerMessage[] = {"dns_query", "dns_answer", "tls_hello", "stun_message", "icmp_error"};

// Every row of the tables the verdicts are made of.
std::string verdict_inputs(const std::string& path) {
    return table_contents(path, {"flow", "flow_name", "dns_name", "rtp_stream", "flow_match", "verdict",
                                 "product_verdict", "unmatched_flow", "allow_list"});
}

// dns_name's rows as the questions' own rows (dns_query, --detail) add them
// up: per run and name, the questions, those answered, those resolved
// (NOERROR with records), those failed (unanswered or another code), the
// latest failure ("no response" or its code) and the first and last times.
constexpr const char* kNamesFromQuestions =
    "SELECT run_id, qname, count(*), sum(answered), sum(answered AND rcode IS 'NOERROR' AND answers > 0), "
    "sum(NOT (answered AND rcode IS 'NOERROR')), "
    "(SELECT CASE WHEN l.answered THEN l.rcode ELSE 'no response' END FROM dns_query l WHERE l.run_id = q.run_id "
    "AND l.qname = q.qname AND NOT (l.answered AND l.rcode IS 'NOERROR') ORDER BY l.rowid DESC LIMIT 1), "
    "printf('%.6f', min(ts)), printf('%.6f', max(ts)) FROM dns_query q GROUP BY run_id, qname ORDER BY run_id, qname";
constexpr const char* kNames =
    "SELECT run_id, qname, queries, answered, resolved, failed, last_failure, printf('%.6f', first_ts), "
    "printf('%.6f', last_ts) FROM dns_name ORDER BY run_id, qname";

TEST(Detail, PerMessageRowsOnlyWithDetailAndTheVerdictsTheSame) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    const std::vector<std::string> captures = committed_captures();
    ASSERT_GE(captures.size(), 20u);
    TempDir dir("detail");
    ASSERT_TRUE(dir.ok());
    const std::string plain = dir.path() + "/plain.sqlite", detail = dir.path() + "/detail.sqlite";
    for (const auto& c : captures) {
        for (const bool with : {false, true}) {
            std::vector<std::string> argv{bin, "analyze", "-q", "--db", with ? detail : plain, c};
            if (with) argv.emplace_back("--detail");
            const RunResult r = run(argv, kCaptureRunTimeoutS);
            ASSERT_TRUE(r.exit.exited) << c << ": " << head(r.err);
            ASSERT_EQ(r.exit.code, 0) << c << ": " << head(r.err);
        }
    }
    EXPECT_EQ(verdict_inputs(plain), verdict_inputs(detail));
    {
        Db p(plain, true), d(detail, true);
        for (const char* t : kPerMessage) {
            EXPECT_EQ(p.integer(std::string("SELECT count(*) FROM ") + t), 0) << t << " without --detail";
            EXPECT_GT(d.integer(std::string("SELECT count(*) FROM ") + t), 0) << t << " with --detail";
        }
        EXPECT_GT(p.integer("SELECT count(*) FROM verdict WHERE verdict <> 'not_exercised'"), 100);
        const std::vector<std::string> names = d.rows(kNames);
        EXPECT_EQ(names, d.rows(kNamesFromQuestions));
        EXPECT_GT(names.size(), 50u);
        EXPECT_GT(d.integer("SELECT count(*) FROM dns_name WHERE last_failure = 'no response'"), 0);
        EXPECT_GT(d.integer("SELECT count(*) FROM dns_name WHERE last_failure = 'NXDOMAIN'"), 0);
        EXPECT_GT(d.integer("SELECT count(*) FROM dns_name WHERE queries > 1"), 0);
        EXPECT_EQ(d.first_error(), "");
    }
    for (size_t run_id = 1; run_id <= captures.size(); ++run_id) {
        std::string json[2];
        for (const bool with : {false, true}) {
            const RunResult r = run({bin, "report", "--db", with ? detail : plain, "--run", std::to_string(run_id),
                                     "--format", "json", "--all"},
                                    kCaptureRunTimeoutS);
            ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << captures[run_id - 1] << ": " << head(r.err);
            json[with] = r.out;
        }
        EXPECT_GT(json[0].size(), 1000u);
        EXPECT_EQ(json[0], json[1]) << captures[run_id - 1];
    }
}

}  // namespace
}  // namespace callwall::robustness
