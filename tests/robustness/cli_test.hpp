// A GoogleTest fixture for tests that run the real callwall binary on a small
// capture in a directory of their own (bad input, outputs, read-only reports).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "robustness/robustness_util.hpp"

namespace callwall::robustness {

/// The usage error's exit code (src/cli/commands.hpp; the tests run the binary).
inline constexpr int kExitUsage = 2;

class CliTest : public ::testing::Test {
protected:
    static constexpr double kCliTimeoutS = 60;
    static constexpr const char* kSetprivPath = "/usr/bin/setpriv";

    explicit CliTest(const std::string& dir_tag) : dir_(dir_tag) {}

    void SetUp() override {
        bin_ = binary();
        if (bin_.empty() || !executable(bin_)) GTEST_SKIP() << "callwall binary not built: " << bin_;
        ASSERT_TRUE(dir_.ok());
        // Traversable by `nobody` for the permission cases.
        ::chmod(dir_.path().c_str(), 0755);
        capture_ = source_dir() + "/captures/dns_basic.pcap";
        ASSERT_TRUE(std::filesystem::exists(capture_));
    }

    RunResult callwall(const std::vector<std::string>& args) {
        std::vector<std::string> argv{bin_};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, kCliTimeoutS);
    }

    /// The same as another user (root: setpriv to nobody; otherwise ourselves).
    /// Empty result with `skipped` set when that is not possible.
    RunResult callwall_unprivileged(const std::vector<std::string>& args, bool& skipped) {
        skipped = false;
        std::vector<std::string> argv;
        if (::geteuid() == 0) {
            if (!executable(kSetprivPath)) {
                skipped = true;
                return {};
            }
            argv = {kSetprivPath, "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
        }
        argv.push_back(bin_);
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, kCliTimeoutS);
    }

    /// A database holding one finished run (the "already written" data).
    std::string make_db(const std::string& name = "keep.sqlite") {
        const std::string db = dir_ / name;
        const auto r = callwall({"analyze", "-q", capture_, "--db", db});
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << head(r.err);
        return db;
    }

    /// Checks exit code and that stderr is exactly `line` + newline, and no sanitizer report.
    static void expect_one_line(const RunResult& r, int code, const std::string& line) {
        EXPECT_FALSE(has_sanitizer_report(r.err)) << r.err;
        EXPECT_TRUE(r.exit.exited) << r.exit.describe();
        EXPECT_EQ(r.exit.code, code) << r.err;
        EXPECT_EQ(r.err, line + "\n");
    }

    std::string bin_;
    TempDir dir_;
    std::string capture_;
};

}  // namespace callwall::robustness
