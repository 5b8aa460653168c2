// `callwall analyze` given the same capture twice — the same name, another
// spelling of it, a symlink or a hard link — reads it once and says so in one
// line on stderr naming both arguments; two different files with the same
// bytes are still two files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "robustness/robustness_util.hpp"

namespace callwall::robustness {
namespace {

class AnalyzeSameFile : public ::testing::Test {
protected:
    void SetUp() override {
        bin_ = binary();
        if (bin_.empty() || !executable(bin_)) GTEST_SKIP() << "callwall binary not built: " << bin_;
        ASSERT_TRUE(dir_.ok());
        a_ = dir_ / "a.pcap";
        std::filesystem::copy_file(source_dir() + "/captures/dns_basic.pcap", a_);
    }

    struct Outcome {
        long long packets = -1;
        std::vector<std::string> warnings;
    };

    Outcome analyze(const std::vector<std::string>& files) {
        const std::string db = dir_ / ("run" + std::to_string(++runs_) + ".sqlite");
        std::vector<std::string> argv{bin_, "analyze", "-q", "--db", db};
        argv.insert(argv.end(), files.begin(), files.end());
        const auto r = run(argv, 60);
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << head(r.err);
        Outcome o;
        for (const auto& line : split_lines(r.err))
            if (line.find("warning") != std::string::npos) o.warnings.push_back(line);
        Db d(db, true);
        o.packets = d.integer("SELECT packets FROM run");
        return o;
    }

    std::string bin_;
    TempDir dir_{"same-file"};
    std::string a_;
    int runs_ = 0;
};

TEST_F(AnalyzeSameFile, SameNameTwiceIsReadOnceWithOneWarning) {
    const long long once = analyze({a_}).packets;
    ASSERT_GT(once, 0);
    const Outcome twice = analyze({a_, a_});
    EXPECT_EQ(twice.packets, once);
    ASSERT_EQ(twice.warnings.size(), 1u);
    EXPECT_EQ(twice.warnings[0], "callwall: warning: " + a_ + " is the same file as " + a_ + "; reading it once");
}

TEST_F(AnalyzeSameFile, OtherSpellingsSymlinksAndHardLinksAreTheSameFile) {
    const long long once = analyze({a_}).packets;
    std::filesystem::create_directory(dir_ / "sub");
    std::filesystem::create_symlink(a_, dir_ / "link.pcap");
    std::filesystem::create_hard_link(a_, dir_ / "hard.pcap");
    const std::string dotted = dir_ / "sub/../a.pcap", slash = dir_ / "./a.pcap";
    const Outcome o = analyze({dotted, dir_ / "link.pcap", slash, dir_ / "hard.pcap"});
    EXPECT_EQ(o.packets, once);
    ASSERT_EQ(o.warnings.size(), 3u);
    EXPECT_EQ(o.warnings[0],
              "callwall: warning: " + (dir_ / "link.pcap") + " is the same file as " + dotted + "; reading it once");
    EXPECT_NE(o.warnings[1].find(slash), std::string::npos);
    EXPECT_NE(o.warnings[2].find(dir_ / "hard.pcap"), std::string::npos);
}

TEST_F(AnalyzeSameFile, CopiesAreDifferentFiles) {
    const long long once = analyze({a_}).packets;
    std::filesystem::copy_file(a_, dir_ / "copy.pcap");
    const Outcome o = analyze({a_, dir_ / "copy.pcap"});
    EXPECT_EQ(o.packets, 2 * once);
    // Read twice, so the copy starts before the original ended: that is the
    // only warning (not "the same file").
    ASSERT_EQ(o.warnings.size(), 1u);
    EXPECT_EQ(o.warnings[0].rfind("callwall: warning: time runs backwards: " + (dir_ / "copy.pcap") + " starts at ", 0),
              0u)
        << o.warnings[0];
}

}  // namespace
}  // namespace callwall::robustness
