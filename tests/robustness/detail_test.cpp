// `analyze` keeps a row per DNS answer, TLS/QUIC hello, STUN message and ICMP
// error only with --detail (issue 20 item 1: the per-message rows nobody
// queries one by one cost ~12 % of the CPU). Whatever the default leaves out,
// the verdicts may not change: over every committed capture, each analysed as
// its own run, the default and --detail databases must hold the same flows,
// names, DNS queries, RTP streams, matches and verdicts, and `report --format
// json --all` must print the same for every run; the four per-message tables
// must be empty by default and filled with --detail.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "robustness/robustness_util.hpp"

namespace callwall::robustness {
namespace {

constexpr const char* kPerMessage[] = {"dns_answer", "tls_hello", "stun_message", "icmp_error"};

// Every row of the tables the verdicts are made of.
std::string verdict_inputs(const std::string& path) {
    return table_contents(path, {"flow", "flow_name", "dns_query", "rtp_stream", "flow_match", "verdict",
                                 "product_verdict", "unmatched_flow", "allow_list"});
}

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
