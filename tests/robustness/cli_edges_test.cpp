// The command line at its edges: a closed event pipe, a gate on a run that
// did not finish, values that would overflow, standard input that is not a
// capture, `-o -`, `help COMMAND`, an unknown --vendor in a report, and -v.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "robustness/cli_test.hpp"
#include "sqlite_rows.hpp"

namespace callwall::robustness::cli_edges_test {
namespace {

constexpr int kExitUsage = 2, kExitInput = 3, kExitUnfinished = 11;

class CliEdges : public CliTest {
protected:
    CliEdges() : CliTest("cli-edges") {}

    /// `script` run by bash, with $CALLWALL the binary.
    RunResult bash(const std::string& script) {
        return run({"/bin/bash", "-c", script}, kCliTimeoutS, {"CALLWALL=" + bin_});
    }

    /// One value of the database, as text.
    static std::string query(const std::string& db, const std::string& sql) {
        sqlite3* h = nullptr;
        std::string out;
        if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_stmt* st = nullptr;
            std::string why;
            if (test::prepare_one(h, sql, &st, why) != SQLITE_OK)
                ADD_FAILURE() << sql << ": " << why;
            else if (sqlite3_step(st) == SQLITE_ROW)
                if (const unsigned char* t = sqlite3_column_text(st, 0)) out = reinterpret_cast<const char*>(t);
            sqlite3_finalize(st);
        }
        sqlite3_close(h);
        return out;
    }
};

// `analyze --events - | true`: the reader is gone before the first line. The
// run finishes with its verdicts, a run note says the stream closed, and the
// exit status is 7 with one line, not death by SIGPIPE (141).
TEST_F(CliEdges, AClosedEventPipeEndsInExit7AndAFinishedRun) {
    const std::string db = dir_ / "pipe.sqlite";
    const auto r = bash("\"$CALLWALL\" analyze '" + source_dir() + "/captures/scenarios/whereby.pcap' --db '" + db +
                        "' --events - | true; echo \"status ${PIPESTATUS[0]}\"");
    EXPECT_EQ(r.out, "status 7\n") << r.err;
    EXPECT_EQ(r.err, "callwall analyze: events not written: standard output: Broken pipe\n");
    EXPECT_EQ(query(db, "SELECT status FROM run"), "completed");
    EXPECT_NE(query(db, "SELECT notes FROM run").find("events: the event stream closed after "), std::string::npos)
        << query(db, "SELECT notes FROM run");
    EXPECT_NE(query(db, "SELECT count(*) FROM verdict"), "0");
    EXPECT_EQ(query(db, "SELECT count(*) FROM flow"), "10");
}

// A run killed mid-way stays `running`: a gate refuses to pass it.
TEST_F(CliEdges, AGateNeverPassesARunThatDidNotFinish) {
    // tls_basic: a Sendbird TLS connection that got through, nothing blocked.
    const std::string db = dir_ / "gate.sqlite";
    ASSERT_EQ(callwall({"analyze", "-q", source_dir() + "/captures/tls_basic.pcap", "--db", db}).exit.code, 0);
    ASSERT_EQ(callwall({"report", "--db", db, "--fail-on", "blocked"}).exit.code, 0);
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "UPDATE run SET status='running', ended_at=NULL", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
    const auto r = callwall({"report", "--db", db, "--fail-on", "blocked"});
    expect_one_line(r, kExitUnfinished,
                    "callwall report: --fail-on blocked: run 1 did not finish (status running: its process ended "
                    "without finishing it (killed?)): its verdicts cannot pass a gate");
    // Without a gate the report is still printed, with its warning.
    const auto plain = callwall({"report", "--db", db});
    EXPECT_EQ(plain.exit.code, 0);
    EXPECT_NE(plain.out.find("never finished"), std::string::npos) << plain.out;
}

TEST_F(CliEdges, CaptureSizesAreCheckedBeforeAnythingOpens) {
    const std::string db = dir_ / "never.sqlite";
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--buffer-size", "4096"}, "callwall capture: --buffer-size takes 1 to 2047 (MB), not 4096"},
        {{"--buffer-size", "0"}, "callwall capture: --buffer-size takes 1 to 2047 (MB), not 0"},
        {{"--buffer-size=-1"}, "callwall capture: --buffer-size takes 1 to 2047 (MB), not -1"},
        {{"--snaplen", "0"}, "callwall capture: --snaplen takes 68 to 262144 (bytes), not 0"},
        {{"--snaplen", "1"}, "callwall capture: --snaplen takes 68 to 262144 (bytes), not 1"},
        {{"--snaplen", "300000"}, "callwall capture: --snaplen takes 68 to 262144 (bytes), not 300000"},
    };
    for (const auto& [extra, line] : cases) {
        std::vector<std::string> args{"capture", "-i", "lo", "--db", db, "--duration", "1"};
        args.insert(args.end(), extra.begin(), extra.end());
        expect_one_line(callwall(args), kExitUsage, line);
    }
    EXPECT_FALSE(std::filesystem::exists(db));
}

// A --metrics file the capture cannot write is found when it starts, not
// when the run ends (capture on lo: root, or CAP_NET_RAW).
TEST_F(CliEdges, AnUnwritableMetricsFileIsFoundAtTheStart) {
    if (::geteuid() != 0) GTEST_SKIP() << "capturing on lo needs root";
    const std::string db = dir_ / "metrics.sqlite";
    const std::string prom = dir_.path() + "/no/such/dir/callwall.prom";
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = callwall({"capture", "-i", "lo", "--db", db, "--metrics", prom, "--duration", "30", "--quiet"});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.exit.code == 6) GTEST_SKIP() << "no permission to capture on lo here";
    expect_one_line(r, 7, "callwall capture: --metrics: cannot write " + prom + ": No such file or directory");
    EXPECT_LT(s, 20.0) << "found only at the end of the 30 s run";
    EXPECT_EQ(query(db, "SELECT status FROM run"), "failed");
}

TEST_F(CliEdges, StandardInputThatIsNotACaptureSaysSo) {
    auto r =
        bash("printf 'this is not a capture at all' | \"$CALLWALL\" analyze - --db '" + dir_.path() + "/x.sqlite'");
    expect_one_line(r, kExitInput, "callwall: -: not a pcap/pcapng capture (unknown file format)");
    r = bash("\"$CALLWALL\" analyze - --db '" + dir_.path() + "/x.sqlite' </dev/null");
    expect_one_line(r, kExitInput, "callwall: -: empty input, expected a .pcap or .pcapng capture");
    r = bash("true | \"$CALLWALL\" analyze - --db '" + dir_.path() + "/x.sqlite'");
    expect_one_line(r, kExitInput, "callwall: -: empty input, expected a .pcap or .pcapng capture");
}

TEST_F(CliEdges, HelpCommandIsTheCommandsHelp) {
    for (const char* cmd : {"analyze", "report", "capture", "merge"}) {
        const auto a = callwall({"help", cmd});
        const auto b = callwall({cmd, "--help"});
        EXPECT_EQ(a.exit.code, 0) << cmd;
        EXPECT_EQ(a.out, b.out) << cmd;
        EXPECT_NE(a.out.find(std::string("callwall ") + cmd), std::string::npos) << a.out;
    }
    expect_one_line(callwall({"help", "nosuch"}), kExitUsage,
                    "callwall: unknown command 'nosuch' (try 'callwall --help')");
}

TEST_F(CliEdges, ReportOfAnUnknownVendorIsAUsageError) {
    const std::string db = make_db();
    const auto r = callwall({"report", "--db", db, "--vendor", "nosuch"});
    EXPECT_EQ(r.exit.code, kExitUsage) << r.err;
    EXPECT_EQ(r.err.rfind("callwall report: --vendor: unknown vendor 'nosuch' (the run's vendors: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("'Whereby'"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    // Any case, and a vendor the run did not see, are fine.
    EXPECT_EQ(callwall({"report", "--db", db, "--vendor", "whereby"}).exit.code, 0);
}

// -v: the text report lists the flows behind each verdict, in analyze's
// report and in `report`'s alike; -q with -v, or -v where the evidence is
// always there (json, html), is a usage error.
TEST_F(CliEdges, VerboseListsTheFlowsBehindEachVerdict) {
    const std::string cap = source_dir() + "/captures/lab/restrictive/client.pcap";
    const std::string db = dir_ / "verbose.sqlite";
    const auto plain = callwall({"analyze", cap, "--db", dir_ / "plain.sqlite"});
    const auto verbose = callwall({"analyze", cap, "--db", db, "-v"});
    ASSERT_EQ(plain.exit.code, 0) << plain.err;
    ASSERT_EQ(verbose.exit.code, 0) << verbose.err;
    EXPECT_EQ(plain.out.find("      flow "), std::string::npos) << plain.out;
    // The restrictive profile answers TCP 5668 with a reset and drops UDP 3478.
    std::string one_line = verbose.out;  // wrapped evidence lines joined (whatever their indent)
    for (size_t at; (at = one_line.find("\n  ")) != std::string::npos;)
        one_line.replace(at, one_line.find_first_not_of(' ', at + 1) - at, " ");
    EXPECT_NE(one_line.find(":5668, 1/1 packets, REJ, blocked:reset,"), std::string::npos) << one_line;
    EXPECT_NE(one_line.find(":3478, 1/0 packets, one-way, blocked:stun-timeout, stun,"), std::string::npos) << one_line;
    // -v adds the flows (and names entries by id where rows serve several):
    // every verdict row of the plain report is in it as it is.
    size_t rows = 0;
    for (size_t at = 0; at < plain.out.size();) {
        const size_t end = plain.out.find('\n', at);
        const std::string line = plain.out.substr(at, end - at + 1);
        at = end + 1;
        for (const char* v : {"  blocked ", "  observed ", "  partial ", "  inconclusive "})
            if (line.rfind(v, 0) == 0) {
                ++rows;
                EXPECT_NE(verbose.out.find(line), std::string::npos) << line;
            }
    }
    EXPECT_GT(rows, 5u) << plain.out;
    // `report -v` on the same run prints the same report.
    const auto report = callwall({"report", "--db", db, "-v"});
    EXPECT_EQ(report.exit.code, 0) << report.err;
    EXPECT_NE(verbose.out.find(report.out), std::string::npos) << report.out;
    expect_one_line(callwall({"analyze", cap, "--db", dir_ / "qv.sqlite", "-q", "-v"}), kExitUsage,
                    "callwall analyze: -q (--quiet) and -v (--verbose) together: give one");
    expect_one_line(callwall({"report", "--db", db, "-v", "--format", "json"}), kExitUsage,
                    "callwall report: -v lists the evidence flows in the text report of one run (--format json and "
                    "html always carry them)");
    expect_one_line(callwall({"analyze", cap, "--db", dir_ / "ev.sqlite", "-v", "--events", "-"}), kExitUsage,
                    "callwall analyze: -v with --events -: standard output carries the events only");
}

}  // namespace
}  // namespace callwall::robustness::cli_edges_test
