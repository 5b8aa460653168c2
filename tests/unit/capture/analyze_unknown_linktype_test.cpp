// `callwall analyze` given several files, one of them of a link type
// callwall does not read: that file is skipped with one warning on stderr
// and a line in the run's notes, the others are read and the run ends as
// they make it (exit 0). A lone such file, or only such files, still stop
// the run before the database is touched (exit 3).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "robustness/robustness_util.hpp"

namespace callwall::robustness {
namespace {

class AnalyzeUnknownLinkType : public ::testing::Test {
protected:
    void SetUp() override {
        bin_ = binary();
        if (bin_.empty() || !executable(bin_)) GTEST_SKIP() << "callwall binary not built: " << bin_;
        ASSERT_TRUE(dir_.ok());
        a_ = dir_ / "a.pcap";
        b_ = dir_ / "b.pcap";
        c_ = dir_ / "c.pcap";
        std::filesystem::copy_file(source_dir() + "/captures/dns_basic.pcap", a_);
        std::filesystem::copy_file(source_dir() + "/captures/tls_basic.pcap", c_);
        // b: dns_basic with the header's link type made 147 (LINKTYPE_USER0).
        std::filesystem::copy_file(source_dir() + "/captures/dns_basic.pcap", b_);
        std::fstream f(b_, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(20);
        const char user0[4] = {static_cast<char>(147), 0, 0, 0};
        f.write(user0, 4);
    }

    RunResult analyze(const std::vector<std::string>& files, const std::string& db) {
        std::vector<std::string> argv{bin_, "analyze", "-q", "--db", db};
        argv.insert(argv.end(), files.begin(), files.end());
        return run(argv, kCommandTimeoutS);
    }

    std::string bin_;
    TempDir dir_{"unknown-linktype"};
    std::string a_, b_, c_;
};

TEST_F(AnalyzeUnknownLinkType, TheFileIsSkippedWithAWarningAndANoteTheOthersAreRead) {
    const std::string alone = dir_ / "alone.sqlite", mixed = dir_ / "mixed.sqlite";
    const RunResult r0 = analyze({a_, c_}, alone);
    ASSERT_TRUE(r0.exit.exited && r0.exit.code == 0) << r0.exit.describe() << "\n" << head(r0.err);
    const RunResult r = analyze({a_, b_, c_}, mixed);
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << head(r.err);
    // One line about b (the two others both start at the capture's first second: a time-order warning too).
    std::vector<std::string> about_b;
    for (const auto& line : split_lines(r.err))
        if (line.find(b_) != std::string::npos) about_b.push_back(line);
    ASSERT_EQ(about_b.size(), 1u) << r.err;
    EXPECT_EQ(about_b[0], "callwall: warning: " + b_ +
                              ": link type 147 (unknown) is not supported; file skipped, reading the others");
    Db d0(alone, true), d(mixed, true);
    // The run is the run of the other two files: packets, flows, sources.
    EXPECT_GT(d0.integer("SELECT packets FROM run"), 0);
    EXPECT_EQ(d.rows("SELECT packets, flows, status FROM run"), d0.rows("SELECT packets, flows, status FROM run"));
    EXPECT_EQ(d.rows("SELECT source FROM run_source ORDER BY position"),
              d0.rows("SELECT source FROM run_source ORDER BY position"));
    EXPECT_EQ(d.rows("SELECT count(*) FROM flow"), d0.rows("SELECT count(*) FROM flow"));
    const auto notes = d.rows("SELECT notes FROM run");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find(b_ + ": link type 147 (unknown) is not supported: file skipped, its packets are not in "
                                 "this run\n"),
              std::string::npos)
        << notes[0];
}

TEST_F(AnalyzeUnknownLinkType, OnlySuchFilesStillStopBeforeTheDatabase) {
    const std::string db = dir_ / "none.sqlite";
    RunResult r = analyze({b_}, db);
    EXPECT_TRUE(r.exit.exited && r.exit.code == 3) << r.exit.describe();
    EXPECT_EQ(split_lines(r.err).size(), 1u) << r.err;
    EXPECT_FALSE(std::filesystem::exists(db));
    const std::string b2 = dir_ / "b2.pcap";
    std::filesystem::copy_file(b_, b2);
    r = analyze({b_, b2}, db);
    EXPECT_TRUE(r.exit.exited && r.exit.code == 3) << r.exit.describe();
    const auto lines = split_lines(r.err);
    ASSERT_EQ(lines.size(), 3u) << r.err;  // a warning per file, then why nothing was read
    EXPECT_EQ(lines[2], "callwall: none of the 2 files has a link type callwall reads");
    EXPECT_FALSE(std::filesystem::exists(db));
}

}  // namespace
}  // namespace callwall::robustness
