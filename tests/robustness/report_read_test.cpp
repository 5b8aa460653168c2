// `report` only reads: it opens the database read-only and leaves nothing
// beside it (no -wal/-shm that would later block the owner's writer), also in
// a directory it may not write; and it tells a run still in progress from one
// whose process was killed and from one a full disk stopped.
//
// The other-user cases run callwall as `nobody` through setpriv when the
// test runs as root (permissions do not bite root), directly otherwise.
#include <gtest/gtest.h>

#include "store/store.hpp"
#include "golden/run_util.hpp"
#include "robustness/cli_test.hpp"
#include "unit/store/schema_v1.hpp"

namespace callwall::robustness {
namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";

std::vector<std::string> listing(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

/// Field 22 of /proc/PID/stat (start time in clock ticks after boot); 0 if gone.
long long start_ticks(pid_t pid) {
    const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = s.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream in(s.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22 && in >> field; ++i) {
        if (i == 22) return std::atoll(field.c_str());
    }
    return 0;
}

std::string boot_id() {
    std::string id = read_file("/proc/sys/kernel/random/boot_id");
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
}

class ReportRead : public CliTest {
protected:
    ReportRead() : CliTest("reportread") {}

    /// Adds a run row as a writer would have left it; returns its id.
    static long long add_run(const std::string& db, const std::string& status, const std::string& notes,
                             const std::string& writer_values) {
        Db d(db);
        EXPECT_TRUE(d.ok()) << d.error();
        const auto r = d.rows(
            "INSERT INTO run (kind, source, command_line, tool_version, started_at, status, notes, writer_pid, "
            "writer_start, writer_boot_id) VALUES ('capture', 'eth9', 'callwall capture -i eth9', 'test', 1.0, '" +
            status + "', '" + notes + "', " + writer_values + ")");
        EXPECT_TRUE(r.empty()) << r[0];
        return d.integer("SELECT max(id) FROM run");
    }
    /// A version-1 database (test::make_v1_database) with `rows` inserted; its path.
    std::string v1_database(const std::vector<std::string>& rows) {
        const std::string db = dir_ / "v1.sqlite";
        EXPECT_TRUE(test::make_v1_database(db));
        Db d(db);
        for (const std::string& sql : rows) d.rows(sql);
        EXPECT_EQ(d.first_error(), "");
        return db;
    }
};

// ---- item: read-only, nothing left behind ----

TEST_F(ReportRead, ReportOnAClosedDatabaseLeavesNoWalOrShm) {
    const std::string db = make_db();
    const auto before = listing(dir_.path());
    ASSERT_EQ(before, std::vector<std::string>{"keep.sqlite"});
    const std::string bytes = read_file(db);
    for (const char* format : {"text", "json", "csv", "html"}) {
        const auto r = callwall({"report", "--db", db, "--format", format});
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << r.err;
        EXPECT_EQ(listing(dir_.path()), before) << "after --format " << format;
    }
    EXPECT_EQ(read_file(db), bytes);
}

TEST_F(ReportRead, ReportByAnotherUserInAReadOnlyDirectory) {
    std::filesystem::create_directory(dir_ / "ro");
    const std::string db = make_db("ro/keep.sqlite");
    const auto expected = callwall({"report", "--db", db});
    ASSERT_EQ(expected.exit.code, 0) << expected.err;
    ::chmod((dir_ / "ro").c_str(), 0555);
    bool skipped = false;
    const auto r = callwall_unprivileged({"report", "--db", db}, skipped);
    ::chmod((dir_ / "ro").c_str(), 0755);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetpriv << ": cannot make a directory read-only";
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, expected.out);
    EXPECT_EQ(listing(dir_ / "ro"), std::vector<std::string>{"keep.sqlite"});
}

// A database whose writer was killed keeps its -wal (with the last commits)
// and -shm. Another user reading it in a directory it may not write: the
// report works, creates nothing, and the owner's next run is not blocked.
// With the -shm (root's, read-only for `nobody`) the -wal is read; without
// it SQLite cannot read the -wal here, and the report says what is missing.
class KilledWriter : public ReportRead, public ::testing::WithParamInterface<bool> {};

TEST_P(KilledWriter, ReportByAnotherUserInAReadOnlyDirectory) {
    const bool keep_shm = GetParam();
    std::filesystem::create_directory(dir_ / "ro");
    const std::string db = make_db("ro/keep.sqlite");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // A writer that dies without closing: its commit stays in the -wal.
        sqlite3* h = nullptr;
        sqlite3_open(db.c_str(), &h);
        sqlite3_exec(h, "PRAGMA wal_autocheckpoint=0; UPDATE run SET source='only-in-the-wal' WHERE id=1", nullptr,
                     nullptr, nullptr);
        ::_exit(0);
    }
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_EQ(listing(dir_ / "ro"), (std::vector<std::string>{"keep.sqlite", "keep.sqlite-shm", "keep.sqlite-wal"}));
    if (!keep_shm) std::filesystem::remove(db + "-shm");
    const auto before = listing(dir_ / "ro");
    ::chmod((dir_ / "ro").c_str(), 0555);
    bool skipped = false;
    const auto r = callwall_unprivileged({"report", "--db", db}, skipped);
    ::chmod((dir_ / "ro").c_str(), 0755);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetpriv << ": cannot make a directory read-only";
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << r.err;
    if (keep_shm) {
        EXPECT_NE(r.out.find("run 1 (analyze, completed): only-in-the-wal\n"), std::string::npos) << head(r.out);
    } else {
        EXPECT_NE(r.out.find("run 1 (analyze, completed): " + capture_ + "\n"), std::string::npos) << head(r.out);
        EXPECT_NE(r.out.find("WARNING: read without " + db +
                             "-wal (its -wal/-shm files cannot be opened here): the last commits of a running or "
                             "killed run may be missing\n"),
                  std::string::npos)
            << head(r.out);
    }
    EXPECT_EQ(listing(dir_ / "ro"), before);
    // The owner writes on.
    const auto again = callwall({"analyze", "-q", capture_, "--db", db});
    EXPECT_TRUE(again.exit.exited && again.exit.code == 0) << again.exit.describe() << "\n" << again.err;
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutShm, KilledWriter, ::testing::Bool());

// ---- item: still running, killed, disk full ----

TEST_F(ReportRead, RunningRunWithALiveWriterIsStillRunning) {
    const std::string db = make_db();
    Process sleeper({"/bin/sleep", "60"}, "", "");
    ASSERT_TRUE(sleeper.started());
    long long ticks = 0;
    for (int i = 0; i < 200 && ticks == 0; ++i) {
        ticks = start_ticks(sleeper.pid());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GT(ticks, 0);
    const std::string pid = std::to_string(sleeper.pid());
    const long long id = add_run(db, "running", "", pid + ", " + std::to_string(ticks) + ", '" + boot_id() + "'");
    auto r = callwall({"report", "--db", db, "--run", std::to_string(id)});
    EXPECT_EQ(r.exit.code, 0) << r.err;
    EXPECT_NE(r.out.find("note: this run is still running (pid " + pid + "); results so far are partial\n"),
              std::string::npos)
        << head(r.out);
    EXPECT_EQ(r.out.find("never finished"), std::string::npos) << head(r.out);
    const auto html = callwall({"report", "--db", db, "--run", std::to_string(id), "--format", "html"});
    EXPECT_NE(html.out.find("Run still running."), std::string::npos);

    sleeper.kill_now();  // now it is gone (and reaped)
    r = callwall({"report", "--db", db, "--run", std::to_string(id)});
    EXPECT_EQ(r.exit.code, 0) << r.err;
    EXPECT_NE(r.out.find("WARNING: this run never finished: the process was killed"), std::string::npos) << head(r.out);
    // The same pid with another start time is another process: the writer is gone.
    const long long reused = add_run(db, "running", "", std::to_string(::getpid()) + ", 1, '" + boot_id() + "'");
    r = callwall({"report", "--db", db, "--run", std::to_string(reused)});
    EXPECT_NE(r.out.find("WARNING: this run never finished: the process was killed"), std::string::npos) << head(r.out);
    // Another boot (or machine): no claim about the process.
    const long long other = add_run(db, "running", "", "1, 5, 'another-boot'");
    r = callwall({"report", "--db", db, "--run", std::to_string(other)});
    EXPECT_NE(r.out.find("WARNING: this run never finished: its process (pid 1) ran before a reboot or on another "
                         "machine"),
              std::string::npos)
        << head(r.out);
}

TEST_F(ReportRead, RunStoppedByAFullDiskSaysSo) {
    const std::string db = make_db();
    const long long id = add_run(
        db, "failed",
        std::string(store::kDiskFullNote) + " (" + db + ": disk full while writing the database (committing))\n",
        "NULL, NULL, NULL");
    const auto r = callwall({"report", "--db", db, "--run", std::to_string(id)});
    EXPECT_EQ(r.exit.code, 0) << r.err;
    EXPECT_NE(r.out.find("WARNING: this run stopped: the disk is full; results are partial\n"), std::string::npos)
        << head(r.out);
    EXPECT_EQ(r.out.find("never finished"), std::string::npos) << head(r.out);
}

// A version-1 database (from before the writer columns), read as it is: the
// report cannot know the process and says so instead of "killed".
TEST_F(ReportRead, RunningRunOfAVersionOneDatabase) {
    const std::string db =
        v1_database({"INSERT INTO run (kind, source, command_line, tool_version, started_at, status) "
                     "VALUES ('capture', 'eth9', 'x', '0.1', 3.0, 'running')"});
    const std::string bytes = read_file(db);
    const auto r = callwall({"report", "--db", db, "--run", "2"});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << r.err;
    EXPECT_NE(r.out.find("WARNING: this run never finished (the process was killed, or is still running: the "
                         "database does not record which process wrote it); results are partial\n"),
              std::string::npos)
        << head(r.out);
    EXPECT_EQ(read_file(db), bytes) << "report must not migrate or otherwise write";
    EXPECT_EQ(listing(dir_.path()), std::vector<std::string>{"v1.sqlite"});
}

// A version-1 database's verdicts read as written: its catalog_entry has no
// document title (read as empty), its lists are comma-joined, and nothing is
// migrated or written.
TEST_F(ReportRead, VerdictsOfAVersionOneDatabase) {
    const std::string db = v1_database(
        {"INSERT INTO catalog_entry VALUES (1, 'acme.media.udp', 'Acme', 'Meetings', '', '2020-01-01', 'Media', "
         "'udp', '3478', 'media.acme.example', 'outbound', 1, '', 'acme.toml', 'Ports')",
         "INSERT INTO verdict VALUES (1, 'acme.media.udp', 'blocked', 'stun-timeout,icmp-3-13', 0, 2, 0, '', "
         "'3478', '', 'a firewall', '2 attempt(s) got no answer')",
         "INSERT INTO product_verdict VALUES (1, 'Acme', 'Meetings', '', 'not ready', 'blocked: Media (udp)')"});
    const std::string bytes = read_file(db);
    const auto r = callwall({"report", "--db", db, "--run", "1", "--format", "json"});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << r.err;
    EXPECT_NE(r.out.find("\"entry_id\":\"acme.media.udp\",\"vendor\":\"Acme\",\"edition\":\"\",\"product\":"
                         "\"Meetings\",\"service\":\"Media\",\"transport\":\"udp\",\"ports\":[[3478,3478]],"
                         "\"required\":true,\"verdict\":\"blocked\",\"reasons\":[\"stun-timeout\",\"icmp-3-13\"],"
                         "\"flows_observed\":0,\"flows_blocked\":2"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("\"conclusion\":\"not ready\""), std::string::npos) << r.out;
    const auto text = callwall({"report", "--db", db, "--run", "1", "-v"});
    EXPECT_TRUE(text.exit.exited && text.exit.code == 0) << text.exit.describe() << "\n" << text.err;
    EXPECT_NE(text.out.find("[stun-timeout,icmp-3-13] 2 attempt(s) got no answer; likely origin: a firewall;\n"
                            "                entry acme.media.udp\n"),
              std::string::npos)
        << text.out;
    EXPECT_EQ(read_file(db), bytes) << "report must not migrate or otherwise write";
}

// The tests' database helper runs one statement a call: a second one in
// the same string is an error, not silently skipped (rows the test meant to
// insert would be missing and the test read an emptier database).
TEST_F(ReportRead, TheHelperRefusesASecondStatement) {
    const std::string db = v1_database({});
    Db d(db);
    const auto r = d.rows(
        "INSERT INTO product_verdict VALUES (1, 'A', 'P', '', 'ready', ''); "
        "INSERT INTO product_verdict VALUES (1, 'B', 'P', '', 'ready', '')");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_NE(r[0].find("more than one statement"), std::string::npos) << r[0];
    EXPECT_NE(d.first_error(), "");
    EXPECT_EQ(d.rows("SELECT 1;\n"), std::vector<std::string>{"1"}) << "a trailing semicolon is one statement";
    // So does the golden tests' query_rows.
    std::string why;
    EXPECT_TRUE(test::query_rows(db, "SELECT 1; SELECT 2", &why).empty());
    EXPECT_NE(why.find("more than one statement"), std::string::npos) << why;
    EXPECT_EQ(test::query_rows(db, "SELECT 1 ;", &why), std::vector<std::string>{"1"});
    EXPECT_EQ(why, "");
}

// The writer records itself in the run row while it runs.
TEST_F(ReportRead, AnalyzeRecordsItsProcessInTheRunRow) {
    const std::string db = make_db();
    Db d(db, true);
    const long long pid = d.integer("SELECT writer_pid FROM run WHERE id=1");
    EXPECT_GT(pid, 0);
    EXPECT_NE(pid, ::getpid());
    EXPECT_GT(d.integer("SELECT writer_start FROM run WHERE id=1"), 0);
    EXPECT_EQ(d.text("SELECT writer_boot_id FROM run WHERE id=1"), boot_id());
}

}  // namespace
}  // namespace callwall::robustness
