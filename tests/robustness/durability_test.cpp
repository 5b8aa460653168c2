// Durability: a run stopped by SIGINT/SIGTERM is finished cleanly and marked
// 'interrupted' (rows up to then stored, verdicts computed); a run killed with
// SIGKILL leaves a database that opens, passes integrity_check, keeps earlier
// runs intact and shows the dead run as 'running'; a full disk stops callwall
// with exit 5 and one "disk full" line, and the database stays valid.
//
// The workload is tools/gen_workload.py --packets 300000 (cached in /tmp);
// callwall reads it several times in one run so the signal lands mid-analysis
// even on a fast machine. It reads copies (cached in /tmp too): `analyze`
// reads a file named twice only once.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "robustness/robustness_util.hpp"
#include "small_disk.hpp"

namespace callwall::robustness {
namespace {

/// stderr without analyze's "time runs backwards" warnings: the big run reads
/// copies of one workload, so each copy starts before the previous one ended.
std::string without_time_order_warnings(const std::string& err) {
    std::string out;
    for (const auto& line : split_lines(err))
        if (line.rfind("callwall: warning: time runs backwards: ", 0) != 0) out += line + "\n";
    return out;
}

constexpr int kWorkloadPackets = 300000;
constexpr int kCopies = 8;  // the workload is read this many times in one run
constexpr double kRunTimeoutS = 300;

/// The cached workload capture, generated on first use; "" when it cannot be made.
std::string workload(std::string& why) {
    const std::string cached = "/tmp/callwall-robustness-workload-" + std::to_string(kWorkloadPackets) + ".pcap";
    std::error_code ec;
    if (std::filesystem::file_size(cached, ec) > 1000000 && !ec) return cached;
    if (!executable(kPython)) {
        why = std::string(kPython) + " is missing";
        return "";
    }
    const std::string tmp = cached + ".tmp." + std::to_string(::getpid());
    const auto r = run(
        {kPython, source_dir() + "/tools/gen_workload.py", "--packets", std::to_string(kWorkloadPackets), "--out", tmp},
        300);
    if (!r.exit.exited || r.exit.code != 0) {
        std::filesystem::remove(tmp, ec);
        why = "tools/gen_workload.py failed: " + r.exit.describe() + " " + head(r.err, 3);
        return "";
    }
    std::filesystem::rename(tmp, cached, ec);  // atomic: a concurrent generator's copy is as good
    if (ec) {
        why = "cannot store " + cached + ": " + ec.message();
        std::filesystem::remove(tmp, ec);
        return "";
    }
    return cached;
}

/// `base` and kCopies - 1 copies of it (cached beside it), as distinct files;
/// empty when a copy cannot be made.
std::vector<std::string> workload_copies(const std::string& base, std::string& why) {
    std::vector<std::string> files{base};
    std::error_code ec;
    const auto size = std::filesystem::file_size(base, ec);
    for (int i = 1; i < kCopies && !ec; ++i) {
        const std::string copy = base.substr(0, base.rfind(".pcap")) + "-copy" + std::to_string(i) + ".pcap";
        std::error_code ec2;
        if (std::filesystem::file_size(copy, ec2) != size || ec2) {
            const std::string tmp = copy + ".tmp." + std::to_string(::getpid());
            std::filesystem::copy_file(base, tmp, std::filesystem::copy_options::overwrite_existing, ec);
            if (!ec) std::filesystem::rename(tmp, copy, ec);  // atomic, as for the workload itself
            if (ec) std::filesystem::remove(tmp, ec2);
        }
        files.push_back(copy);
    }
    if (ec) {
        why = "cannot copy " + base + ": " + ec.message();
        return {};
    }
    return files;
}

class Durability : public ::testing::Test {
protected:
    void SetUp() override {
        bin_ = binary();
        if (bin_.empty() || !executable(bin_)) GTEST_SKIP() << "callwall binary not built: " << bin_;
        ASSERT_TRUE(dir_.ok());
        std::string why;
        workload_ = workload(why);
        if (workload_.empty()) GTEST_SKIP() << "no workload capture: " << why;
        workloads_ = workload_copies(workload_, why);
        if (workloads_.empty()) GTEST_SKIP() << "no copies of the workload capture: " << why;
    }

    RunResult callwall(const std::vector<std::string>& args) {
        std::vector<std::string> argv{bin_};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, kRunTimeoutS);
    }

    /// Run 1: a small finished run whose data must survive what follows. Returns its fingerprint.
    std::string earlier_run(const std::string& db) {
        const auto r = callwall({"analyze", "-q", source_dir() + "/captures/dns_basic.pcap",
                                 source_dir() + "/captures/tls_basic.pcap", "--db", db});
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << head(r.err);
        Db d(db, true);
        EXPECT_EQ(d.text("SELECT status FROM run WHERE id=1"), "completed");
        EXPECT_GT(d.integer("SELECT count(*) FROM flow WHERE run_id=1"), 0);
        return run_fingerprint(d, 1);
    }

    std::vector<std::string> big_run_args(const std::string& db) {
        std::vector<std::string> argv{bin_, "analyze"};
        argv.insert(argv.end(), workloads_.begin(), workloads_.end());
        argv.push_back("--db");
        argv.push_back(db);
        return argv;
    }

    /// Waits until run 2 has committed rows (and totals: the run row's packet
    /// count rides along with each batch) while the process still runs.
    static ::testing::AssertionResult wait_mid_analysis(Process& p, const std::string& db) {
        const double t0 = now_s();
        while (now_s() - t0 < 120) {
            if (p.poll())
                return ::testing::AssertionFailure() << "callwall ended before the signal: " << p.info().describe();
            Db reader(db, true);
            const long long n = reader.integer(
                "SELECT (SELECT count(*) FROM flow WHERE run_id=2) + (SELECT count(*) FROM dns_name WHERE run_id=2)");
            if (n > 0 && reader.integer("SELECT packets FROM run WHERE id=2") > 0) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return ::testing::AssertionFailure() << "no rows of run 2 committed within 120 s";
    }

    void interrupt_with(int sig) {
        const std::string db = dir_ / "d.sqlite";
        const std::string run1 = earlier_run(db);
        Process p(big_run_args(db), dir_ / "out", dir_ / "err");
        ASSERT_TRUE(p.started());
        ASSERT_TRUE(wait_mid_analysis(p, db));
        p.signal(sig);
        const ExitInfo ex = p.wait(kRunTimeoutS);
        const std::string err = read_file(dir_ / "err"), out = read_file(dir_ / "out");
        EXPECT_FALSE(has_sanitizer_report(err)) << head(err, 30);
        ASSERT_TRUE(ex.exited) << ex.describe();
        EXPECT_EQ(ex.code, 0) << err;
        EXPECT_EQ(without_time_order_warnings(err), "");
        EXPECT_NE(out.find("run 2 (interrupted) into " + db), std::string::npos) << head(out);

        Db d(db);
        ASSERT_TRUE(d.ok()) << d.error();
        EXPECT_EQ(d.text("PRAGMA integrity_check"), "ok");
        EXPECT_EQ(run_fingerprint(d, 1), run1) << "run 1 changed";
        EXPECT_EQ(d.text("SELECT status FROM run WHERE id=2"), "interrupted");
        EXPECT_NE(d.text("SELECT ended_at FROM run WHERE id=2"), "NULL");
        const long long packets = d.integer("SELECT packets FROM run WHERE id=2");
        EXPECT_GT(packets, 0);
        EXPECT_LT(packets, static_cast<long long>(kCopies) * kWorkloadPackets)
            << "the signal came after the last packet";
        // Every flow seen until the signal is stored, and verdicts are computed.
        const long long flows = d.integer("SELECT flows FROM run WHERE id=2");
        EXPECT_GT(flows, 0);
        EXPECT_EQ(d.integer("SELECT count(*) FROM flow WHERE run_id=2"), flows);
        const long long entries = d.integer("SELECT count(*) FROM catalog_entry WHERE run_id=2");
        EXPECT_GT(entries, 0);
        EXPECT_EQ(d.integer("SELECT count(*) FROM verdict WHERE run_id=2"), entries);
        EXPECT_GT(d.integer("SELECT count(*) FROM verdict WHERE run_id=2 AND verdict <> 'not_exercised'"), 0);
    }

    std::string bin_;
    TempDir dir_{"durability"};
    std::string workload_;
    std::vector<std::string> workloads_;  // kCopies distinct files with the workload's bytes
};

TEST_F(Durability, SigintFinishesRunAsInterrupted) { interrupt_with(SIGINT); }

TEST_F(Durability, SigtermFinishesRunAsInterrupted) { interrupt_with(SIGTERM); }

// `tcpdump -w - | callwall analyze /dev/stdin`: Ctrl-C lands while callwall
// waits in read(); the interrupted read is the requested stop, not damage.
TEST_F(Durability, SigintWhileReadingAPipeIsNotDamage) {
    const std::string db = dir_ / "d.sqlite";
    const std::string fifo = dir_ / "pipe.pcap";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
    Process p({bin_, "analyze", fifo, "--db", db}, dir_ / "out", dir_ / "err");
    ASSERT_TRUE(p.started());
    // Open the writing end once callwall has opened the reading end.
    int fd = -1;
    const double t0 = now_s();
    while (fd < 0 && now_s() - t0 < 60 && !p.poll()) {
        fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GE(fd, 0) << "callwall never opened the pipe: " << p.info().describe() << " " << read_file(dir_ / "err");
    ::fcntl(fd, F_SETFL, 0);
    // 4 MiB of the workload; write() returns once callwall has read all but a pipe buffer of it.
    const std::string bytes = read_file(workload_).substr(0, 4 << 20);
    auto* old = ::signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    EXPECT_EQ(off, bytes.size()) << "callwall stopped reading: " << read_file(dir_ / "err");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // it drains the pipe, then blocks in read()
    EXPECT_FALSE(p.poll()) << "callwall ended before the signal: " << p.info().describe();
    p.signal(SIGINT);
    const ExitInfo ex = p.wait(kRunTimeoutS);
    ::close(fd);
    ::signal(SIGPIPE, old);
    const std::string err = read_file(dir_ / "err");
    EXPECT_FALSE(has_sanitizer_report(err)) << head(err, 30);
    ASSERT_TRUE(ex.exited) << ex.describe();
    EXPECT_EQ(ex.code, 0) << err;
    EXPECT_EQ(err, "");
    Db d(db);
    EXPECT_EQ(d.text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(d.text("SELECT status FROM run WHERE id=1"), "interrupted");
    EXPECT_EQ(d.integer("SELECT damaged_files FROM run WHERE id=1"), 0);
    EXPECT_EQ(d.text("SELECT notes FROM run WHERE id=1"), "");
    EXPECT_GT(d.integer("SELECT packets FROM run WHERE id=1"), 1000);
    EXPECT_GT(d.integer("SELECT count(*) FROM verdict WHERE run_id=1"), 0);
}

TEST_F(Durability, KillNineLeavesConsistentDatabaseAndIncompleteRun) {
    const std::string db = dir_ / "d.sqlite";
    const std::string run1 = earlier_run(db);
    {
        Process p(big_run_args(db), "", dir_ / "err");
        ASSERT_TRUE(p.started());
        ASSERT_TRUE(wait_mid_analysis(p, db));
        p.signal(SIGKILL);
        const ExitInfo ex = p.wait(60);
        EXPECT_EQ(ex.signal, SIGKILL) << ex.describe();
    }
    {
        Db d(db);  // read-write: recovers the WAL as the next user would
        ASSERT_TRUE(d.ok()) << d.error();
        EXPECT_EQ(d.text("PRAGMA integrity_check"), "ok");
        EXPECT_EQ(run_fingerprint(d, 1), run1) << "run 1 changed";
        EXPECT_EQ(d.text("SELECT status FROM run WHERE id=2"), "running");
        EXPECT_EQ(d.text("SELECT ended_at FROM run WHERE id=2"), "NULL");
        EXPECT_GT(d.integer("SELECT packets FROM run WHERE id=2"), 0) << "the totals of the last committed batch";
        EXPECT_GT(d.integer("SELECT count(*) FROM flow WHERE run_id=2") +
                      d.integer("SELECT count(*) FROM dns_name WHERE run_id=2"),
                  0)
            << "the committed batches of the dead run are gone";
    }
    // The report says the run is incomplete; the database takes new runs.
    const auto rep = callwall({"report", "--db", db, "--run", "2"});
    EXPECT_TRUE(rep.exit.exited && rep.exit.code == 0) << rep.exit.describe() << "\n" << head(rep.err);
    EXPECT_NE(rep.out.find("WARNING: this run never finished"), std::string::npos) << head(rep.out);
    const auto again = callwall({"analyze", "-q", source_dir() + "/captures/tls_basic.pcap", "--db", db});
    EXPECT_TRUE(again.exit.exited && again.exit.code == 0) << again.exit.describe() << "\n" << head(again.err);
    Db d(db, true);
    EXPECT_EQ(d.text("SELECT status FROM run WHERE id=3"), "completed");
    EXPECT_EQ(run_fingerprint(d, 1), run1);
}

using test::SmallDisk;

TEST_F(Durability, FullDiskStopsWithClearErrorAndValidDatabase) {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    const std::string mnt = dir_ / "small";
    // Room for the earlier run, not for the big one (its database is ~0.7 MB
    // since the DNS questions are counted per name: 2 MiB no longer fills).
    SmallDisk disk(mnt, "512k");
    if (!disk.mounted()) GTEST_SKIP() << "cannot mount a 512 KiB tmpfs on " << mnt << ": " << disk.error();
    const std::string db = mnt + "/d.sqlite";
    // The earlier run is made on the ordinary disk and its closed database
    // (~150 KiB, with its write-ahead log when one is kept) copied onto the
    // small one: written there, its log could outgrow the room on a loaded
    // machine before a checkpoint.
    const std::string earlier = dir_ / "earlier.sqlite";
    const std::string run1 = earlier_run(earlier);
    std::filesystem::copy_file(earlier, db);
    if (std::filesystem::exists(earlier + "-wal")) std::filesystem::copy_file(earlier + "-wal", db + "-wal");

    const auto argv = big_run_args(db);
    auto r = run(argv, kRunTimeoutS);
    EXPECT_FALSE(has_sanitizer_report(r.err)) << head(r.err, 30);
    ASSERT_TRUE(r.exit.exited) << r.exit.describe();
    EXPECT_EQ(r.exit.code, 5) << r.err;
    r.err = without_time_order_warnings(r.err);
    // One line: "callwall: database error: DB: disk full while writing the database (WHAT)".
    const std::string prefix = "callwall: database error: " + db + ": disk full while writing the database (";
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "stderr: " << r.err;
    EXPECT_TRUE(r.err.size() > prefix.size() + 2 && r.err.substr(r.err.size() - 2) == ")\n" &&
                r.err.find('\n') == r.err.size() - 1)
        << "stderr: " << r.err;

    Db d(db);
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_EQ(d.text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(run_fingerprint(d, 1), run1) << "run 1 changed";
    // The failed run says what happened: its last status write fits in the
    // room kept for it (store/space_reserve.hpp, given back first). A disk
    // already full when the run began leaves no run 2 at all (its row and
    // sources are one transaction) and the error says where it stopped.
    EXPECT_FALSE(std::filesystem::exists(db + "-callwall-reserve"));
    if (d.integer("SELECT count(*) FROM run WHERE id=2") == 0) {
        EXPECT_TRUE(r.err.find("(inserting the run)") != std::string::npos ||
                    r.err.find("(recording the run's sources)") != std::string::npos)
            << "stderr: " << r.err;
        EXPECT_EQ(d.integer("SELECT count(*) FROM run_source WHERE run_id=2"), 0);
        return;
    }
    EXPECT_EQ(d.text("SELECT status FROM run WHERE id=2"), "failed");
    EXPECT_NE(d.text("SELECT notes FROM run WHERE id=2").find("stopped: the disk is full ("), std::string::npos);
    const auto rep = callwall({"report", "--db", db, "--run", "2"});
    EXPECT_TRUE(rep.exit.exited && rep.exit.code == 0) << rep.exit.describe() << "\n" << head(rep.err);
    EXPECT_NE(rep.out.find("WARNING: this run stopped: the disk is full"), std::string::npos) << head(rep.out);
}

}  // namespace
}  // namespace callwall::robustness
