// `analyze --threads 1` (everything on one core) and `--threads 2` (the file
// read on a second core by capture::ReadAhead, the rows written by the
// store's own thread) must write the same database (with --detail):
// every row of every per-run table, over several captures analysed as one
// run. And --threads takes only 1 or 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "robustness/robustness_util.hpp"

namespace callwall::robustness {
namespace {

// Every row of the run's tables, in a fixed order.
std::string contents(const std::string& path) {
    const std::string all = table_contents(
        path, {"flow", "flow_name", "dns_query", "dns_name", "dns_answer", "tls_hello", "stun_message", "rtp_stream",
               "icmp_error", "flow_match", "verdict", "product_verdict", "unmatched_flow"});
    EXPECT_NE(all.find("\nflow\t"), std::string::npos) << "no flows written";
    return all;
}

TEST(Threads, OneAndTwoThreadsWriteTheSameDatabase) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    // Every capture in the repository (scenarios, lab, encapsulations, decoder
    // cases: 8 MB, so the read-ahead ring wraps many times), as one run.
    const std::vector<std::string> captures = committed_captures();
    ASSERT_GE(captures.size(), 20u);
    TempDir dir("threads");
    ASSERT_TRUE(dir.ok());
    std::string dumps[2];
    for (int threads : {1, 2}) {
        const std::string db = dir.path() + "/t" + std::to_string(threads) + ".sqlite";
        std::vector<std::string> argv{bin,       "analyze", "-q", "--db", db, "--threads", std::to_string(threads),
                                      "--detail"};
        argv.insert(argv.end(), captures.begin(), captures.end());
        const RunResult r = run(argv, kCaptureRunTimeoutS);
        ASSERT_TRUE(r.exit.exited) << head(r.err);
        ASSERT_EQ(r.exit.code, 0) << head(r.err);
        dumps[threads - 1] = contents(db);
    }
    EXPECT_GT(std::count(dumps[0].begin(), dumps[0].end(), '\n'), 1000);
    EXPECT_EQ(dumps[0], dumps[1]);
}

TEST(Threads, OnlyOneOrTwo) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    TempDir dir("threads");
    ASSERT_TRUE(dir.ok());
    const RunResult r = run({bin, "analyze", "-q", "--db", dir.path() + "/x.sqlite", "--threads", "3",
                             source_dir() + "/captures/dns_basic.pcap"},
                            kCaptureRunTimeoutS);
    ASSERT_TRUE(r.exit.exited);
    EXPECT_EQ(r.exit.code, 2);
    EXPECT_NE(r.err.find("--threads takes 1 or 2"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/x.sqlite")) << "a usage error must not create the database";
}

}  // namespace
}  // namespace callwall::robustness
