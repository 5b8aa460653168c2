// Outputs that never destroy: `report -o` refuses the database it reads (any
// spelling or link of it) and any SQLite file, replaces its output file only
// once the new one is completely written (a full disk leaves the old file as
// it was), and every command reports a failed write to standard output in
// one line with exit 7 instead of exiting 0 (or 70 without a word).
#include <fstream>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "robustness/cli_test.hpp"

namespace callwall::robustness {
namespace {

constexpr int kExitOutput = 7;

class Output : public CliTest {
protected:
    Output() : CliTest("output") {}

    /// callwall with standard output on /dev/full (every write fails with ENOSPC).
    RunResult callwall_to_full_device(const std::vector<std::string>& args) {
        std::vector<std::string> argv{bin_};
        argv.insert(argv.end(), args.begin(), args.end());
        RunResult r;
        Process p(argv, "/dev/full", dir_ / "full.err");
        r.exit = p.wait(kCommandTimeoutS);
        r.err = read_file(dir_ / "full.err");
        return r;
    }

    /// Files in the test directory whose name contains ".tmp-" (left-over temporaries).
    std::vector<std::string> temporaries() const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir_.path()))
            if (e.path().filename().string().find(".tmp-") != std::string::npos) out.push_back(e.path().string());
        return out;
    }
};

TEST_F(Output, ReportRefusesToOverwriteTheDatabaseItReads) {
    const std::string db = make_db();
    std::filesystem::create_directory(dir_ / "sub");
    const std::string dotted = dir_.path() + "/sub/../keep.sqlite";
    const std::string link = dir_ / "link.txt";
    std::filesystem::create_symlink(db, link);
    const std::string before = read_existing(db);
    for (const std::string& out : {db, dotted, link}) {
        const auto r = callwall({"report", "--db", db, "-o", out});
        expect_one_line(r, kExitOutput,
                        "callwall report: refusing to write " + out + ": it is the database being read (" + db + ")");
        EXPECT_EQ(read_file(db), before) << "-o " << out;
    }
    // The same database under another spelling as --db.
    const auto r = callwall({"report", "--db", dotted, "-o", db});
    expect_one_line(r, kExitOutput,
                    "callwall report: refusing to write " + db + ": it is the database being read (" + dotted + ")");
    EXPECT_EQ(read_file(db), before);
    EXPECT_TRUE(std::filesystem::is_symlink(link));
}

TEST_F(Output, ReportRefusesToOverwriteAnySqliteFile) {
    const std::string db = make_db();
    const std::string other = dir_ / "other.db";
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open(other.c_str(), &h), SQLITE_OK);
        sqlite3_exec(h, "CREATE TABLE mine(x); INSERT INTO mine VALUES (42)", nullptr, nullptr, nullptr);
        sqlite3_close(h);
    }
    const std::string before = read_existing(other);
    const auto r = callwall({"report", "--db", db, "--format", "json", "-o", other});
    expect_one_line(r, kExitOutput, "callwall report: refusing to write " + other + ": it is a SQLite database");
    EXPECT_EQ(read_file(other), before);
}

TEST_F(Output, ReportReplacesAnOrdinaryFileKeepingItsModeAndLinks) {
    const std::string db = make_db();
    const std::string out = dir_ / "report.txt";
    write_file(out, "run 1 (analyze, completed): last week's capture\n");
    ::chmod(out.c_str(), 0640);
    const std::string link = dir_ / "latest.txt";
    std::filesystem::create_symlink(out, link);
    const auto r = callwall({"report", "--db", db, "-o", link});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << r.err;
    EXPECT_EQ(r.err, "");
    const auto expected = callwall({"report", "--db", db});
    EXPECT_EQ(read_file(out), expected.out);
    EXPECT_TRUE(std::filesystem::is_symlink(link));
    struct stat st {};
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_TRUE(temporaries().empty());
}

// A full disk while writing -o FILE: RLIMIT_FSIZE in the child makes every
// write past the limit fail with EFBIG (SIGXFSZ ignored).
TEST_F(Output, ReportOnAFullDiskLeavesTheOldFileIntact) {
    // A run of several requirements' flows: its HTML report runs well past the limit below.
    capture_ = source_dir() + "/captures/scenarios/agora_2018_web.pcap";
    const std::string db = make_db();
    const std::string out = dir_ / "report.html";
    const std::string old = "<!DOCTYPE html>\n<title>callwall report</title>\n<p>last week's report</p>\n";
    write_file(out, old);
    const auto full = callwall({"report", "--db", db, "--format", "html"});
    ASSERT_TRUE(full.exit.exited && full.exit.code == 0) << full.err;
    // Above the 32 KiB a -shm file takes (so an older callwall, which made
    // one, failed on the output and not on reading), below the page.
    constexpr rlim_t kLimit = 33000;
    ASSERT_GT(full.out.size(), kLimit + 1024) << "the HTML report must not fit under the limit";

    const std::string err = dir_ / "fsize.err";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int nfd = ::open("/dev/null", O_RDWR);
        ::dup2(nfd, STDIN_FILENO);
        ::dup2(nfd, STDOUT_FILENO);
        ::dup2(efd, STDERR_FILENO);
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit lim{kLimit, kLimit};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        const std::vector<std::string> args{bin_, "report", "--db", db, "--format", "html", "-o", out};
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st)) << "signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    EXPECT_EQ(WEXITSTATUS(st), kExitOutput);
    EXPECT_EQ(read_file(err),
              "callwall report: cannot write " + out + ": " + std::strerror(EFBIG) + " (the file is left as it was)\n");
    EXPECT_EQ(read_file(out), old);
    EXPECT_TRUE(temporaries().empty()) << temporaries().front();
}

TEST_F(Output, ReportToAFullStandardOutputFails) {
    const std::string db = make_db();
    for (const char* format : {"text", "json", "html"}) {
        expect_one_line(callwall_to_full_device({"report", "--db", db, "--format", format}), kExitOutput,
                        std::string("callwall report: cannot write standard output: ") + std::strerror(ENOSPC));
    }
}

TEST_F(Output, AnalyzeToAFullStandardOutputFailsAfterStoringTheRun) {
    const std::string db = dir_ / "a.sqlite";
    expect_one_line(callwall_to_full_device({"analyze", capture_, "--db", db}), kExitOutput,
                    std::string("callwall analyze: cannot write standard output: ") + std::strerror(ENOSPC));
    Db d(db, true);
    EXPECT_EQ(d.text("SELECT status FROM run"), "completed");
}

// capture with standard output on a full device: the run is stored and the
// failed write is one line with exit 7. Capturing on lo needs root
// (CAP_NET_RAW): skipped with the reason otherwise.
TEST_F(Output, CaptureToAFullStandardOutputFailsAfterStoringTheRun) {
    if (::geteuid() != 0) GTEST_SKIP() << "capturing on lo needs root (CAP_NET_RAW)";
    const std::string db = dir_ / "live.sqlite";
    Process p({bin_, "capture", "-i", "lo", "--count", "3", "--filter", "udp port 59999", "--user", "root", "--db", db},
              "/dev/full", dir_ / "capture.err");
    ASSERT_TRUE(p.started());
    // Datagrams for it to count, every 50 ms until it ends (at most 20 s).
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(59999);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const double t0 = now_s();
    while (!p.poll() && now_s() - t0 < 20) {
        (void)::sendto(fd, "x", 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::close(fd);
    const ExitInfo e = p.wait(10);
    const std::string err = read_file(dir_ / "capture.err");
    if (e.exited && (e.code == 3 || e.code == 6)) GTEST_SKIP() << "cannot capture on lo here: " << err;
    EXPECT_TRUE(e.exited) << e.describe();
    EXPECT_EQ(e.code, kExitOutput) << err;
    EXPECT_EQ(err, std::string("callwall capture: cannot write standard output: ") + std::strerror(ENOSPC) + "\n");
    Db d(db, true);
    EXPECT_EQ(d.text("SELECT status FROM run"), "completed");
    EXPECT_EQ(d.text("SELECT packets >= 3 FROM run"), "1");
}

TEST_F(Output, CatalogToAFullStandardOutputFails) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"catalog", "list"},
                                                 {"catalog", "list", "--format", "json"},
                                                 {"catalog", "export"},
                                                 {"catalog", "export", "--format", "iptables"},
                                                 {"catalog", "check"}}) {
        std::string what;
        for (const auto& a : args) what += a + " ";
        SCOPED_TRACE(what);
        expect_one_line(callwall_to_full_device(args), kExitOutput,
                        std::string("callwall catalog: cannot write standard output: ") + std::strerror(ENOSPC));
    }
}

// capture --metrics FILE never replaces a file that is not callwall's
// metrics file: refused before any interface or database is opened.
TEST_F(Output, CaptureRefusesToReplaceAFileThatIsNotItsMetrics) {
    const std::string other = dir_ / "notes.txt";
    {
        std::ofstream f(other);
        f << "my notes\n";
    }
    const std::string db = dir_ / "never.sqlite";
    const auto r = callwall({"capture", "-i", "lo", "--db", db, "--metrics", other, "--duration", "1"});
    expect_one_line(r, kExitOutput,
                    "callwall capture: --metrics " + other + ": it exists and is not a metrics file callwall wrote");
    EXPECT_EQ(read_file(other), "my notes\n");
    EXPECT_FALSE(std::filesystem::exists(db)) << "nothing was opened";
}

// capture --export: a file that is not an export, the database, or another
// output of the capture is refused before any interface or database is
// opened; so is a record or a format that does not exist (usage).
TEST_F(Output, CaptureExportRefusesFilesThatAreNotItsExports) {
    const std::string other = dir_ / "notes.txt";
    write_file(other, "my notes\n");
    const std::string db = dir_ / "never.sqlite";
    auto r = callwall({"capture", "-i", "lo", "--db", db, "--export", "verdict:jsonl:" + other, "--duration", "1"});
    expect_one_line(r, kExitOutput,
                    "callwall capture: --export " + other + ": it exists and is not an export callwall wrote");
    EXPECT_EQ(read_file(other), "my notes\n");
    const std::string log = dir_ / "events.jsonl";
    r = callwall({"capture", "-i", "lo", "--db", db, "--events", log, "--export", "flow:csv:" + log});
    expect_one_line(r, kExitOutput, "callwall capture: --export " + log + ": it is an input of this run (" + log + ")");
    r = callwall({"capture", "-i", "lo", "--db", db, "--export", "flow:csv:" + db});
    expect_one_line(r, kExitOutput, "callwall capture: --export " + db + ": it is an input of this run (" + db + ")");
    r = callwall({"capture", "-i", "lo", "--db", db, "--export", "flows:csv:x.csv"});
    EXPECT_EQ(r.exit.code, kExitUsage) << r.exit.describe();
    EXPECT_EQ(r.err.rfind("callwall capture: --export no record 'flows' (one of: flow, flow_name, ", 0), 0u) << r.err;
    r = callwall({"capture", "-i", "lo", "--db", db, "--export", "flow:parquet:x.csv"});
    expect_one_line(r, kExitUsage, "callwall capture: --export no format 'parquet' (one of: csv, jsonl)");
    EXPECT_FALSE(std::filesystem::exists(db)) << "nothing was opened";
    EXPECT_FALSE(std::filesystem::exists(log));
}

// Outputs that are an input of the run, or a file callwall did not write,
// are refused before anything is read or written: report -o over a capture
// or someone's file, --events appending to the capture being read or to a
// file that is not an event log. A report or event log callwall wrote is
// replaced / appended to as before.
TEST_F(Output, OutputsRefuseInputsAndFilesThatAreNotCallwalls) {
    const std::string db = make_db();
    const std::string pcap = dir_ / "capture.pcap";
    std::filesystem::copy_file(capture_, pcap);
    const std::string pcap_before = read_existing(pcap);
    const std::string passwd = dir_ / "passwd";
    write_file(passwd, "root:x:0:0:root:/root:/bin/bash\n");

    auto r = callwall({"report", "--db", db, "-o", pcap});
    expect_one_line(r, kExitOutput,
                    "callwall report: refusing to write " + pcap + ": it exists and is not a report callwall wrote");
    EXPECT_EQ(read_file(pcap), pcap_before);

    const std::string db2 = dir_ / "events-run.sqlite";
    r = callwall({"analyze", "-q", "--db", db2, "--events", pcap, pcap});
    expect_one_line(r, kExitOutput,
                    "callwall analyze: --events " + pcap + ": it is an input of this run (" + pcap + ")");
    EXPECT_EQ(read_file(pcap), pcap_before);
    EXPECT_FALSE(std::filesystem::exists(db2)) << "refused before the database is made";

    r = callwall({"analyze", "-q", "--db", db2, "--events", passwd, pcap});
    expect_one_line(r, kExitOutput,
                    "callwall analyze: --events " + passwd + ": it exists and is not an event log callwall wrote");
    EXPECT_EQ(read_file(passwd), "root:x:0:0:root:/root:/bin/bash\n");

    // Ours: an event log is appended to, a report replaced.
    const std::string events = dir_ / "events.jsonl";
    r = callwall({"analyze", "-q", "--db", db2, "--events", events, pcap});
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
    const std::string first = read_file(events);
    r = callwall({"analyze", "-q", "--db", db2, "--events", events, pcap});
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
    EXPECT_EQ(read_file(events).substr(0, first.size()), first);
    EXPECT_GT(read_file(events).size(), first.size());
    const std::string report = dir_ / "report.json";
    for (int i = 0; i < 2; ++i) {
        r = callwall({"report", "--db", db, "--format", "json", "-o", report});
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
    }
    // -o - is standard output.
    r = callwall({"report", "--db", db, "-o", "-"});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
    EXPECT_EQ(r.out, callwall({"report", "--db", db}).out);
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::current_path() / "-"));
}

}  // namespace
}  // namespace callwall::robustness
