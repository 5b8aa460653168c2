// The edges an operator touches behave as documented: `--events` into a named
// pipe delivers every line to its reader; an output named after the
// database's -wal, -shm, -journal or reserve file is refused before it exists;
// every command refuses a database of a newer schema; a signal while the
// catalog loads ends the run with its database, marked interrupted; the
// same run reads the same in `report --across-runs` with or without
// --vendor; a catalog file past its bound is refused unread; `--help` and
// docs/robustness.md list every exit status.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "robustness/cli_test.hpp"

namespace callwall::robustness {
namespace {

constexpr int kDatabaseRefused = 5;
constexpr int kOutputRefused = 7;

class OperatorEdges : public CliTest {
protected:
    OperatorEdges() : CliTest("operator-edges") {}
};

// Reads a FIFO until its writer closes it (or `limit_s`), without ever
// blocking: its open and reads poll.
std::string read_fifo(const std::string& path, double limit_s, bool* timed_out) {
    std::string got;
    const double until = now_s() + limit_s;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return got;
    bool writer_seen = false;
    while (now_s() < until) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            got.append(buf, static_cast<size_t>(n));
            writer_seen = true;
        } else if (n == 0 && writer_seen) {
            ::close(fd);
            return got;  // the writer closed its end
        } else if (n == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // no writer yet
        }
    }
    ::close(fd);
    *timed_out = true;
    return got;
}

TEST_F(OperatorEdges, EventsIntoANamedPipeReachItsReaderWhole) {
    const std::string pcap = source_dir() + "/captures/scenarios/whereby.pcap";
    const std::string fifo = dir_ / "events.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    bool timed_out = false;
    std::string piped;
    std::thread reader([&] { piped = read_fifo(fifo, 60, &timed_out); });
    const auto r = callwall({"analyze", "-q", pcap, "--db", dir_ / "fifo.sqlite", "--events", fifo});
    reader.join();
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << head(r.err);
    EXPECT_FALSE(timed_out) << "the reader never saw the writer close";
    // The same run into a regular file: the same lines (the run's times aside,
    // the same number of lines of each type).
    const std::string file = dir_ / "events.jsonl";
    const auto f = callwall({"analyze", "-q", pcap, "--db", dir_ / "file.sqlite", "--events", file});
    ASSERT_TRUE(f.exit.exited && f.exit.code == 0) << f.exit.describe() << head(f.err);
    const std::string written = read_file(file);
    ASSERT_FALSE(written.empty());
    const auto types = [](const std::string& s) {
        std::map<std::string, int> n;
        std::istringstream in(s);
        for (std::string line; std::getline(in, line);) {
            const size_t at = line.find("\"type\":\"");
            n[at == std::string::npos ? "?" : line.substr(at + 8, line.find('"', at + 8) - at - 8)]++;
        }
        return n;
    };
    EXPECT_EQ(types(piped), types(written));
    EXPECT_EQ(std::count(piped.begin(), piped.end(), '\n'), std::count(written.begin(), written.end(), '\n'));
    EXPECT_EQ(piped.back(), '\n');
}

TEST_F(OperatorEdges, OutputsNamedAfterTheDatabasesOwnFilesAreRefused) {
    const std::string db = make_db();
    const std::string before = read_file(db);
    for (const char* suffix : {"-wal", "-shm", "-journal", "-callwall-reserve"}) {
        const std::string out = db + suffix;
        ASSERT_FALSE(std::filesystem::exists(out)) << out;
        auto r = callwall({"report", "--db", db, "-o", out});
        expect_one_line(r, kOutputRefused,
                        "callwall report: refusing to write " + out + ": it is the database being read (" + db + ")");
        EXPECT_FALSE(std::filesystem::exists(out)) << out;
        const std::string run_db = dir_ / "run.sqlite";
        r = callwall({"analyze", "-q", capture_, "--db", run_db, "--events", run_db + suffix});
        expect_one_line(
            r, kOutputRefused,
            "callwall analyze: --events " + run_db + suffix + ": it is an input of this run (" + run_db + ")");
        EXPECT_FALSE(std::filesystem::exists(run_db + suffix));
    }
    EXPECT_EQ(read_file(db), before);
}

TEST_F(OperatorEdges, EveryCommandRefusesADatabaseOfANewerSchema) {
    const std::string db = make_db();
    {
        Db d(db);
        ASSERT_TRUE(d.ok()) << d.error();
        d.rows("PRAGMA user_version=99");
    }
    const std::string before = read_file(db);
    const std::string want = "is newer than this callwall understands";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"report", "--db", db},
          std::vector<std::string>{"report", "--db", db, "--across-runs"},
          std::vector<std::string>{"report", "--db", db, "--format", "json"},
          std::vector<std::string>{"analyze", "-q", capture_, "--db", db},
          std::vector<std::string>{"merge", db, "--db", dir_ / "merged.sqlite"}}) {
        const auto r = callwall(args);
        EXPECT_TRUE(r.exit.exited && r.exit.code == kDatabaseRefused)
            << args[0] << " " << args.back() << ": " << r.exit.describe() << "\n"
            << r.err;
        EXPECT_NE(r.err.find(want), std::string::npos) << args[0] << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    EXPECT_EQ(read_file(db), before);
}

// Whether the process has a handler for SIGTERM (/proc/PID/status SigCgt).
bool catches_sigterm(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGTERM - 1)) & 1;
    return false;
}

TEST_F(OperatorEdges, ASignalWhileTheCatalogLoadsEndsTheRunWithItsDatabase) {
    // A catalog large enough to take a noticeable time to load (a quarter
    // million names): the signal lands while it loads.
    const std::string cat = dir_ / "big";
    std::filesystem::create_directories(cat);
    {
        std::ofstream f(cat + "/big.toml");
        f << "schema = 2\n[document]\ntitle = \"T\"\nurl = \"https://t.example/\"\nundated = true\ntranscribed = 2026-11-27\nvendor = \"Big\"\ndirection = \"outbound\"\n\n[[entry]]\nid = \"big.a.tcp\"\n"
             "product = \"Big\"\nservice = \"Many names\"\ntransport = \"tcp\"\nports = [443]\nrequired = true\n"
             "destinations = [";
        for (int i = 0; i < 250000; ++i) f << (i ? "," : "") << "\"h" << i << ".big.example\"";
        f << "]\n[entry.source]\nsection = \"All\"\n";
    }
    const std::string db = dir_ / "signalled.sqlite";
    Process p({bin_, "analyze", capture_, "--db", db, "--catalog", cat}, dir_ / "sig.out", dir_ / "sig.err");
    ASSERT_TRUE(p.started());
    // As soon as the handler is there: main() has begun, the catalog is loading.
    const double until = now_s() + 10;
    while (!catches_sigterm(p.pid()) && !p.poll() && now_s() < until)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    ASSERT_TRUE(catches_sigterm(p.pid())) << "no SIGTERM handler: " << read_file(dir_ / "sig.err");
    p.signal(SIGTERM);
    const ExitInfo e = p.wait(kCommandTimeoutS);
    const std::string err = read_file(dir_ / "sig.err");
    ASSERT_TRUE(e.exited) << e.describe() << "\n" << err;
    EXPECT_EQ(e.code, 0) << err;
    ASSERT_TRUE(std::filesystem::exists(db)) << "no database: " << err;
    Db d(db);
    EXPECT_EQ(d.text("SELECT status FROM run ORDER BY id DESC LIMIT 1"), "interrupted");
    EXPECT_NE(read_file(dir_ / "sig.out").find("(interrupted)"), std::string::npos) << read_file(dir_ / "sig.out");
}

TEST_F(OperatorEdges, AcrossRunsShowsARunAlikeWithAndWithoutVendor) {
    const std::string db = dir_ / "two.sqlite";
    auto r = callwall({"analyze", "-q", source_dir() + "/captures/scenarios/whereby.pcap", "--db", db});
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << head(r.err);
    r = callwall({"analyze", "-q", source_dir() + "/captures/scenarios/sendbird_calls.pcap", "--db", db});
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << head(r.err);
    const auto all = callwall({"report", "--db", db, "--across-runs"});
    const auto one = callwall({"report", "--db", db, "--across-runs", "--vendor", "whereby"});
    ASSERT_TRUE(all.exit.exited && all.exit.code == 0) << head(all.err);
    ASSERT_TRUE(one.exit.exited && one.exit.code == 0) << head(one.err);
    // Run 2 (Sendbird) holds nothing of Whereby: "-" in both, never "not exercised".
    const auto row = [](const std::string& out, const std::string& service) {
        const size_t at = out.find("\n  " + service);
        if (at == std::string::npos) return std::string();
        const size_t cells = out.find('\n', at + 1) + 1;
        return out.substr(cells, out.find('\n', cells) - cells);
    };
    for (const char* service : {"Whereby signaling (wss)", "Whereby TURN relay (UDP)"}) {
        const std::string a = row(all.out, service), o = row(one.out, service);
        EXPECT_NE(a.find("run 2 -"), std::string::npos) << service << "\n" << all.out;
        EXPECT_EQ(a, o) << service << "\nwithout --vendor:\n" << all.out << "\nwith --vendor:\n" << one.out;
    }
}

TEST_F(OperatorEdges, ACatalogFileOverItsBoundIsRefusedUnread) {
    // 65 MiB, sparse: refused by its size before a byte is read.
    const std::string dir = dir_ / "huge";
    std::filesystem::create_directories(dir);
    const std::string file = dir + "/huge.toml";
    { std::ofstream(file) << "schema = 1\n"; }
    std::filesystem::resize_file(file, 65u << 20);
    const auto r = callwall({"catalog", "check", "--no-bundled-catalog", dir});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 4) << r.exit.describe() << r.err;
    // One line, from the size alone (read, its NUL bytes would be a TOML error).
    EXPECT_EQ(r.err.substr(0, r.err.find('\n') + 1),
              file +
                  ": error: the file is 68157440 bytes; a catalog file holds at most 67108864 (split it into "
                  "several files)\n");
}

TEST_F(OperatorEdges, EveryExitStatusIsDocumented) {
    const auto help = callwall({"--help"});
    ASSERT_TRUE(help.exit.exited && help.exit.code == 0);
    const std::string doc = read_file(source_dir() + "/docs/robustness.md");
    for (const int code : {0, 2, 3, 4, 5, 6, 7, 10, 11, 70}) {
        const std::string c = std::to_string(code) + " ";
        EXPECT_TRUE(help.out.find(" " + c) != std::string::npos || help.out.find("\n" + c) != std::string::npos)
            << code << "\n"
            << help.out;
        EXPECT_NE(doc.find("\n| " + std::to_string(code) + " |"), std::string::npos) << code;
    }
}

}  // namespace
}  // namespace callwall::robustness
