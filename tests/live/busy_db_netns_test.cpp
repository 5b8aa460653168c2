// A live capture among neighbours (and one interface that goes away): another process holds a write transaction
// on the capture's database for 30 s while traffic crosses the link. The
// capture waits for the lock instead of ending with "database is locked"
// (exit 5, the run left `running`): it keeps capturing, says how long it
// waited in its status lines and run notes, and the run ends with every
// flow. In network namespaces this test makes; skipped where it cannot.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "live/capture_fixture.hpp"
#include "live/spawn.hpp"

namespace callwall::test::busy_db_test {
namespace {

using namespace std::chrono_literals;

class BusyDatabase : public NamespacePairTest {
protected:
    void SetUp() override { make_pair("cwbusy", "cwb", "10.198.0.1/24", "10.198.0.2/24"); }
    /// One UDP datagram from A to 10.198.0.2:`port` (nothing listens: a flow seen once).
    int send_udp(int port) {
        return run({"ip", "netns", "exec", net_.ns_a, "/usr/bin/python3", "-c",
                    "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                    "s.sendto(b'callwall busy database test',('10.198.0.2'," +
                        std::to_string(port) + "))\n"},
                   10s);
    }
};

TEST_F(BusyDatabase, CaptureOutlastsAThirtySecondWriteTransaction) {
#ifndef CALLWALL_BINARY
    GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
    if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
    TempDb db;
    const std::string log = db.path() + ".log";
    const pid_t cw =
        spawn({"ip", "netns", "exec", net_.ns_a, CALLWALL_BINARY, "capture", "-i", net_.veth_a, "--db", db.path(),
               "--refresh", "1", "--status-every", "1", "--duration", "90", "--no-filter", "--user", "root"},
              log);
    pids_.push_back(cw);
    ASSERT_TRUE(wait_for_run(db.path())) << read_file(log);
    // The neighbour: a write transaction held for 30 s (sqlite3's own
    // timeout lets it wait for the capture's short commits to get the lock).
    const std::string holder_log = db.path() + ".holder";
    const pid_t holder = spawn({"/usr/bin/python3", "-c",
                                "import sqlite3, sys, time\n"
                                "c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n"
                                "c.execute('BEGIN IMMEDIATE')\n"
                                "print('locked', flush=True)\n"
                                "time.sleep(30)\n"
                                "c.execute('COMMIT')\n"
                                "print('released', flush=True)\n",
                                db.path()},
                               holder_log);
    pids_.push_back(holder);
    bool locked = false;
    for (int i = 0; i < 200 && !locked; ++i) {
        std::this_thread::sleep_for(100ms);
        locked = read_file(holder_log).find("locked") != std::string::npos;
    }
    ASSERT_TRUE(locked) << read_file(holder_log);
    // Traffic while the file is locked: 40 flows over 20 s.
    constexpr int kFlows = 40;
    for (int i = 0; i < kFlows; ++i) {
        EXPECT_EQ(send_udp(41000 + i), 0);
        std::this_thread::sleep_for(500ms);
    }
    EXPECT_EQ(wait_for(holder, 40s), 0) << read_file(holder_log);
    pids_.pop_back();
    EXPECT_NE(read_file(holder_log).find("released"), std::string::npos);
    // The capture is still there, and catches up.
    EXPECT_EQ(kill(cw, 0), 0) << "the capture ended while the database was locked:\n" << read_file(log);
    std::this_thread::sleep_for(3s);
    ASSERT_EQ(kill(cw, SIGINT), 0);
    EXPECT_EQ(wait_for(cw, 30s), 0) << read_file(log);
    pids_.pop_back();
    EXPECT_EQ(query_rows(db.path(), "SELECT status FROM run"), std::vector<std::string>{"interrupted"});
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT count(DISTINCT server_port) FROM flow WHERE server_port BETWEEN 41000 AND "
                         "41039"),
              std::vector<std::string>{std::to_string(kFlows)});
    const std::string notes = query_rows(db.path(), "SELECT notes FROM run")[0];
    EXPECT_NE(notes.find("database: waited "), std::string::npos) << notes;
    EXPECT_NE(read_file(log).find(" db-waited "), std::string::npos) << read_file(log);
    EXPECT_EQ(read_file(log).find("database is locked"), std::string::npos) << read_file(log);
#endif
}

// `callwall merge` writes many runs into the capture's database while it
// captures: both finish, the capture with every flow, the merge with every run.
TEST_F(BusyDatabase, CaptureAndAMergeIntoItsDatabaseBothFinish) {
#ifndef CALLWALL_BINARY
    GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
    // The merge's source: every scenario capture, three times, as runs.
    TempDb src;
    std::vector<std::string> scenarios;
    for (const auto& e : std::filesystem::directory_iterator(source_dir() + "/captures/scenarios"))
        if (e.path().extension() == ".pcap") scenarios.push_back(e.path().string());
    ASSERT_FALSE(scenarios.empty());
    for (int round = 0; round < 3; ++round)
        for (const std::string& c : scenarios)
            ASSERT_EQ(run({CALLWALL_BINARY, "analyze", "-q", "--db", src.path(), c}, 60s), 0) << c;
    const size_t src_runs = run_count(src.path());
    TempDb db;
    const std::string log = db.path() + ".log";
    const pid_t cw = spawn({"ip", "netns", "exec", net_.ns_a, CALLWALL_BINARY, "capture", "-i", net_.veth_a, "--db",
                            db.path(), "--refresh", "1", "--duration", "90", "--no-filter", "--user", "root"},
                           log);
    pids_.push_back(cw);
    ASSERT_TRUE(wait_for_run(db.path())) << read_file(log);
    const std::string merge_log = db.path() + ".merge";
    const pid_t merge = spawn({CALLWALL_BINARY, "merge", "-q", src.path(), "--db", db.path()}, merge_log);
    pids_.push_back(merge);
    constexpr int kFlows = 20;
    for (int i = 0; i < kFlows; ++i) {
        EXPECT_EQ(send_udp(41200 + i), 0);
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(wait_for(merge, 120s), 0) << read_file(merge_log);
    pids_.pop_back();
    EXPECT_EQ(kill(cw, 0), 0) << read_file(log);
    std::this_thread::sleep_for(2s);
    ASSERT_EQ(kill(cw, SIGINT), 0);
    EXPECT_EQ(wait_for(cw, 30s), 0) << read_file(log);
    pids_.pop_back();
    EXPECT_EQ(run_count(db.path()), src_runs + 1);
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT count(DISTINCT server_port) FROM flow WHERE server_port BETWEEN 41200 AND "
                         "41219"),
              std::vector<std::string>{std::to_string(kFlows)});
    EXPECT_EQ(query_rows(db.path(), "SELECT status FROM run WHERE kind='capture'"),
              std::vector<std::string>{"interrupted"});
#endif
}

// A live capture whose event pipe closes (`--events - | true`): the capture
// goes on to its end with every flow, notes the closed stream, exits 7.
TEST_F(BusyDatabase, ACaptureWhoseEventPipeClosesFinishesWithEveryFlow) {
#ifndef CALLWALL_BINARY
    GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
    TempDb db;
    const std::string status = db.path() + ".status", log = db.path() + ".log";
    const pid_t sh = spawn({"/bin/bash", "-c",
                            "ip netns exec " + net_.ns_a + " " + CALLWALL_BINARY + " capture -i " + net_.veth_a +
                                " --db " + db.path() + " --refresh 1 --duration 8 --no-filter --user root --events -" +
                                " | true; echo ${PIPESTATUS[0]} >" + status},
                           log);
    pids_.push_back(sh);
    ASSERT_TRUE(wait_for_run(db.path())) << read_file(log);
    constexpr int kFlows = 10;
    for (int i = 0; i < kFlows; ++i) EXPECT_EQ(send_udp(41300 + i), 0);
    EXPECT_EQ(wait_for(sh, 40s), 0) << read_file(log);
    pids_.pop_back();
    EXPECT_EQ(read_file(status), "7\n") << read_file(log);
    EXPECT_NE(read_file(log).find("events not written: standard output: Broken pipe"), std::string::npos)
        << read_file(log);
    EXPECT_EQ(query_rows(db.path(), "SELECT status FROM run"), std::vector<std::string>{"completed"});
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT count(DISTINCT server_port) FROM flow WHERE server_port BETWEEN 41300 AND "
                         "41309"),
              std::vector<std::string>{std::to_string(kFlows)});
    EXPECT_NE(query_rows(db.path(), "SELECT notes FROM run")[0].find("events: the event stream closed"),
              std::string::npos);
#endif
}

// One of two interfaces goes away mid-capture (the veth is deleted): the run
// fails, with its verdicts, and the command says so and exits 3 (it exited 0
// with nothing on stderr).
TEST_F(BusyDatabase, LosingOneOfTwoInterfacesFailsTheRunWithExit3) {
#ifndef CALLWALL_BINARY
    GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
    const std::string extra = "cwbx" + std::to_string(getpid() % 100000), peer = extra + "p";
    ASSERT_EQ(run({"ip", "-n", net_.ns_a, "link", "add", extra, "type", "veth", "peer", "name", peer}), 0);
    ASSERT_EQ(run({"ip", "-n", net_.ns_a, "link", "set", extra, "up"}), 0);
    ASSERT_EQ(run({"ip", "-n", net_.ns_a, "link", "set", peer, "up"}), 0);
    TempDb db;
    const std::string log = db.path() + ".log";
    const pid_t cw = spawn({"ip", "netns", "exec", net_.ns_a, CALLWALL_BINARY, "capture", "-i", net_.veth_a, "-i",
                            extra, "--db", db.path(), "--refresh", "1", "--duration", "60", "--no-filter", "--quiet"},
                           log);
    pids_.push_back(cw);
    ASSERT_TRUE(wait_for_run(db.path())) << read_file(log);
    EXPECT_EQ(send_udp(41100), 0);
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(run({"ip", "-n", net_.ns_a, "link", "del", extra}), 0);
    EXPECT_EQ(wait_for(cw, 30s), 3) << read_file(log);
    pids_.pop_back();
    EXPECT_EQ(query_rows(db.path(), "SELECT status FROM run"), std::vector<std::string>{"failed"});
    EXPECT_NE(read_file(log).find("callwall capture: run 1 failed: "), std::string::npos) << read_file(log);
    EXPECT_NE(query_rows(db.path(), "SELECT count(*) FROM verdict")[0], "0");
#endif
}

}  // namespace
}  // namespace callwall::test::busy_db_test
