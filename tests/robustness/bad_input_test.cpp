// Bad user input: each case gets one line on stderr saying what and where, a
// documented exit code (src/cli/commands.hpp, docs/robustness.md), and leaves
// an existing database exactly as it was.
//
// Cases that need another user (unreadable file, read-only directory, no
// capture permission) run callwall as `nobody` through setpriv when the test
// runs as root, and directly otherwise; they skip when neither works.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "robustness/cli_test.hpp"
#include "store/store.hpp"

namespace callwall::robustness {
namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";

class BadInput : public CliTest {
protected:
    BadInput() : CliTest("badinput") {}
};

// ---- capture files ----

TEST_F(BadInput, MissingCaptureFile) {
    const std::string db = make_db();
    const std::string before = read_existing(db);
    const std::string f = dir_ / "nope.pcap";
    expect_one_line(callwall({"analyze", f, "--db", db}), 3, "callwall: " + f + ": no such file");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, EmptyCaptureFileName) {
    const std::string db = make_db();
    const std::string before = read_existing(db);
    expect_one_line(callwall({"analyze", capture_, "", "--db", db}), 3,
                    "callwall: \"\": an empty file name, expected a .pcap or .pcapng file");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, DirectoryInsteadOfFile) {
    const std::string db = make_db();
    const std::string before = read_existing(db);
    std::filesystem::create_directory(dir_ / "d.pcap");
    expect_one_line(callwall({"analyze", capture_, dir_ / "d.pcap", "--db", db}), 3,
                    "callwall: " + (dir_ / "d.pcap") + ": is a directory, expected a .pcap or .pcapng file");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, UnreadableFile) {
    const std::string f = dir_ / "secret.pcap";
    std::filesystem::copy_file(capture_, f);
    ::chmod(f.c_str(), 0);
    // The database is written by nobody: a directory it may write to.
    const std::string out = dir_ / "w";
    std::filesystem::create_directory(out);
    ::chmod(out.c_str(), 0777);
    bool skipped = false;
    const auto r = callwall_unprivileged({"analyze", f, "--db", out + "/x.sqlite"}, skipped);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetpriv << ": cannot test an unreadable file";
    expect_one_line(r, 3, "callwall: " + f + ": cannot open: Permission denied");
    EXPECT_FALSE(std::filesystem::exists(out + "/x.sqlite")) << "a database was created for a failed run";
}

TEST_F(BadInput, NotACaptureFile) {
    const std::string db = make_db();
    const std::string before = read_existing(db);
    const std::string f = dir_ / "notes.txt";
    write_file(f, "this is not a capture\n");
    expect_one_line(callwall({"analyze", f, "--db", db}), 3,
                    "callwall: " + f + ": not a pcap/pcapng capture (unknown file format)");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, EmptyFile) {
    const std::string f = dir_ / "empty.pcap";
    write_file(f, "");
    expect_one_line(callwall({"analyze", f, "--db", dir_ / "x.sqlite"}), 3,
                    "callwall: " + f + ": empty file, expected a .pcap or .pcapng capture");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "x.sqlite"));
}

TEST_F(BadInput, TruncatedFileHeader) {
    const std::string f = dir_ / "short.pcap";
    write_file(f, read_file(capture_).substr(0, 10));
    // The part in parentheses is libpcap's (1.10: "truncated dump file; tried
    // to read 24 file header bytes, only got 6", after the 4-byte magic).
    const auto r = callwall({"analyze", f, "--db", dir_ / "x.sqlite"});
    EXPECT_EQ(r.exit.code, 3) << r.exit.describe();
    const auto lines = split_lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0].rfind("callwall: " + f + ": not a pcap/pcapng capture (truncated dump file", 0), 0u) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "x.sqlite"));
}

TEST_F(BadInput, UnsupportedLinkType) {
    const std::string f = dir_ / "lt.pcap";
    std::string bytes = read_file(capture_);
    ASSERT_GE(bytes.size(), 24u);
    bytes[20] = static_cast<char>(9999 & 0xFF);  // little-endian network field
    bytes[21] = static_cast<char>(9999 >> 8);
    bytes[22] = bytes[23] = 0;
    write_file(f, bytes);
    expect_one_line(callwall({"analyze", f, "--db", dir_ / "x.sqlite"}), 3,
                    "callwall: " + f + ": link type 9999 (unknown) is not supported");
}

// ---- live capture ----

TEST_F(BadInput, UnknownInterface) {
    const std::string db = make_db();
    const std::string before = read_existing(db);
    expect_one_line(callwall({"capture", "-i", "callwallnone0", "--db", db}), 3,
                    "callwall: callwallnone0: no such interface (No such device exists)");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, NoPermissionToCapture) {
    const std::string out = dir_ / "w";
    std::filesystem::create_directory(out);
    ::chmod(out.c_str(), 0777);
    bool skipped = false;
    const auto r = callwall_unprivileged({"capture", "-i", "lo", "--db", out + "/x.sqlite"}, skipped);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetpriv << ": cannot drop the capture permission";
    if (r.exit.exited && r.exit.code == 0) GTEST_SKIP() << "this user may capture on lo (CAP_NET_RAW)";
    expect_one_line(r, 6,
                    "callwall: lo: no permission to capture (run as root or grant CAP_NET_RAW): socket: Operation not "
                    "permitted");
    EXPECT_FALSE(std::filesystem::exists(out + "/x.sqlite")) << "a database was created for a failed capture";
}

// ---- database ----

TEST_F(BadInput, DatabaseInMissingDirectory) {
    const std::string missing = dir_ / "no/such/dir";
    expect_one_line(callwall({"analyze", capture_, "--db", missing + "/x.sqlite"}), 5,
                    "callwall: database error: " + missing + "/x.sqlite: directory " + missing + " does not exist");
}

TEST_F(BadInput, DatabaseInReadOnlyDirectory) {
    const std::string ro = dir_ / "ro";
    std::filesystem::create_directory(ro);
    ::chmod(ro.c_str(), 0555);
    bool skipped = false;
    const auto r = callwall_unprivileged({"analyze", capture_, "--db", ro + "/x.sqlite"}, skipped);
    ::chmod(ro.c_str(), 0755);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetpriv << ": cannot make a directory read-only";
    expect_one_line(r, 5,
                    "callwall: database error: " + ro + "/x.sqlite: cannot create the database: directory " + ro +
                        " is not writable (Permission denied)");
    EXPECT_TRUE(std::filesystem::is_empty(ro));
}

TEST_F(BadInput, DatabaseFileReadOnly) {
    const std::string db = make_db();
    ::chmod(db.c_str(), 0444);
    const std::string before = read_existing(db);
    bool skipped = false;
    const auto r = callwall_unprivileged({"analyze", capture_, "--db", db}, skipped);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetpriv << ": cannot make a file read-only";
    expect_one_line(r, 5, "callwall: database error: " + db + ": cannot write the database file (Permission denied)");
    EXPECT_EQ(read_file(db), before);
    Db check(db, true);
    EXPECT_EQ(check.integer("SELECT count(*) FROM run"), 1);
}

TEST_F(BadInput, DatabaseWritableInReadOnlyDirectory) {
    // WAL mode needs DB-wal and DB-shm beside the database.
    const std::string ro = dir_ / "ro";
    std::filesystem::create_directory(ro);
    const std::string db = make_db("ro/keep.sqlite");
    if (::geteuid() == 0) {
        ASSERT_EQ(::chown(db.c_str(), 65534, 65534), 0);
    }
    ::chmod(ro.c_str(), 0555);
    const std::string before = read_existing(db);
    bool skipped = false;
    const auto r = callwall_unprivileged({"analyze", capture_, "--db", db}, skipped);
    ::chmod(ro.c_str(), 0755);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetpriv << ": cannot make a directory read-only";
    expect_one_line(r, 5,
                    "callwall: database error: " + db + ": directory " + ro +
                        " is not writable, and the database needs its -wal and -shm files there (Permission denied)");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, DatabaseIsADirectory) {
    std::filesystem::create_directory(dir_ / "db.sqlite");
    expect_one_line(callwall({"analyze", capture_, "--db", dir_ / "db.sqlite"}), 5,
                    "callwall: database error: " + (dir_ / "db.sqlite") + ": is a directory, expected a database file");
}

TEST_F(BadInput, DatabaseNotSqlite) {
    const std::string db = dir_ / "notes.sqlite";
    const std::string text = "my notes, not a database\n" + std::string(2000, 'x') + "\n";
    write_file(db, text);
    expect_one_line(callwall({"analyze", capture_, "--db", db}), 5,
                    "callwall: database error: " + db + ": not a SQLite database (refusing to overwrite it)");
    EXPECT_EQ(read_file(db), text);
    expect_one_line(callwall({"report", "--db", db}), 5, "callwall: " + db + ": not a SQLite database");
    EXPECT_EQ(read_file(db), text);
}

TEST_F(BadInput, DatabaseWithNewerSchema) {
    const std::string db = make_db();
    {
        Db w(db);
        ASSERT_TRUE(w.ok());
        w.rows("PRAGMA user_version=99");
        ASSERT_EQ(w.first_error(), "");
    }
    const std::string before = read_existing(db);
    expect_one_line(callwall({"analyze", capture_, "--db", db}), 5,
                    "callwall: database error: " + db +
                        ": database schema version 99 is newer than this callwall understands (" +
                        std::to_string(store::kSchemaVersion) + "); use a newer callwall or another file");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, DatabaseOfAnotherProgram) {
    const std::string db = dir_ / "other.sqlite";
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
        sqlite3_exec(h, "CREATE TABLE customers(id INTEGER, name TEXT); INSERT INTO customers VALUES (1, 'a');",
                     nullptr, nullptr, nullptr);
        sqlite3_close(h);
    }
    const std::string before = read_existing(db);
    expect_one_line(callwall({"analyze", capture_, "--db", db}), 5,
                    "callwall: database error: " + db +
                        ": an existing SQLite database that is not callwall's (no callwall application_id, "
                        "user_version 0, tables customers); refusing to modify it");
    EXPECT_EQ(read_file(db), before);
}

// Another program's database whose tables happen to carry callwall's names,
// or whose user_version happens to be 1: refused before anything is written
// (no tables added, no WAL switch, no -wal/-shm left), with the reason.
TEST_F(BadInput, DatabaseOfAnotherProgramWithOurNamesOrVersion) {
    struct Case {
        const char* sql;
        const char* why;
    };
    for (const Case& c : {Case{"CREATE TABLE run(id INTEGER, who TEXT); INSERT INTO run VALUES (1, 'me');",
                               "no callwall application_id, user_version 0, tables run"},
                          Case{"CREATE TABLE verdict(v TEXT); PRAGMA user_version=1;",
                               "no callwall application_id, user_version 1, tables verdict"}}) {
        SCOPED_TRACE(c.sql);
        const std::string db = dir_ / "theirs.sqlite";
        std::filesystem::remove(db);
        {
            sqlite3* h = nullptr;
            ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
            ASSERT_EQ(sqlite3_exec(h, c.sql, nullptr, nullptr, nullptr), SQLITE_OK);
            sqlite3_close(h);
        }
        const std::string before = read_existing(db);
        expect_one_line(callwall({"analyze", capture_, "--db", db}), 5,
                        "callwall: database error: " + db + ": an existing SQLite database that is not callwall's (" +
                            c.why + "); refusing to modify it");
        EXPECT_EQ(read_file(db), before);
        EXPECT_FALSE(std::filesystem::exists(db + "-wal"));
        EXPECT_FALSE(std::filesystem::exists(db + "-shm"));
    }
}

TEST_F(BadInput, DamagedDatabase) {
    const std::string db = make_db();
    const auto size = std::filesystem::file_size(db);
    std::filesystem::resize_file(db, size / 2);
    const std::string before = read_existing(db);
    expect_one_line(callwall({"analyze", capture_, "--db", db}), 5,
                    "callwall: database error: " + db +
                        ": the database file is damaged (reading the schema version: database disk image is "
                        "malformed); use another file");
    EXPECT_EQ(read_file(db), before);
}

// ---- catalog ----

TEST_F(BadInput, CorruptCatalog) {
    const std::string db = make_db();
    const std::string before = read_existing(db);
    const std::string cat = dir_ / "cat";
    std::filesystem::create_directory(cat);
    write_file(cat + "/broken.toml", "schema = 1\n[document\nvendor = \"X\"\n");
    const auto r = callwall({"analyze", capture_, "--db", db, "--catalog", cat});
    EXPECT_FALSE(has_sanitizer_report(r.err)) << r.err;
    EXPECT_EQ(r.exit.code, 4) << r.exit.describe() << "\n" << r.err;
    // One line per catalog error (file:line:column: error: what was expected), then the summary.
    EXPECT_EQ(r.err, cat +
                         "/broken.toml:2:10: error: TOML syntax: Error while parsing table header: expected ']', "
                         "saw '\\n'\n"
                         "callwall: the catalog has 1 error(s); 'callwall catalog check' lists them\n");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, ContradictoryCatalog) {
    // The same entries twice (a copy of a bundled file under another name): duplicate ids.
    const std::string db = make_db();
    const std::string before = read_existing(db);
    const std::string cat = dir_ / "cat";
    std::filesystem::create_directory(cat);
    std::filesystem::copy_file(source_dir() + "/catalog/whereby.toml", cat + "/whereby_copy.toml");
    const auto r = callwall({"analyze", capture_, "--db", db, "--catalog", cat});
    EXPECT_FALSE(has_sanitizer_report(r.err)) << r.err;
    EXPECT_EQ(r.exit.code, 4) << r.exit.describe() << "\n" << r.err;
    const auto lines = split_lines(r.err);
    ASSERT_GE(lines.size(), 2u) << r.err;
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
        EXPECT_EQ(lines[i].rfind(cat + "/whereby_copy.toml:", 0), 0u) << lines[i];
        EXPECT_NE(lines[i].find(": error: duplicate id '"), std::string::npos) << lines[i];
        EXPECT_NE(lines[i].find("; the bundled catalog defines it at "), std::string::npos) << lines[i];
    }
    EXPECT_EQ(lines.back(), "callwall: the catalog has " + std::to_string(lines.size() - 1) +
                                " error(s); 'callwall catalog check' lists them");
    EXPECT_EQ(read_file(db), before);
}

TEST_F(BadInput, MissingCatalogDirectory) {
    const std::string cat = dir_ / "nocat";
    const auto r = callwall({"analyze", capture_, "--db", dir_ / "x.sqlite", "--catalog", cat});
    EXPECT_EQ(r.exit.code, 4) << r.exit.describe() << "\n" << r.err;
    EXPECT_EQ(r.err, cat +
                         ": error: no such file or directory; expected a catalog directory or .toml file\n"
                         "callwall: the catalog has 1 error(s); 'callwall catalog check' lists them\n");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "x.sqlite"));
}

// ---- report ----

TEST_F(BadInput, ReportOnMissingDatabase) {
    const std::string db = dir_ / "missing.sqlite";
    expect_one_line(callwall({"report", "--db", db}), 5, "callwall: " + db + ": no such database");
    EXPECT_FALSE(std::filesystem::exists(db)) << "report created a database";
}

// A run the database does not hold is a usage error (exit 2), which names the
// runs it does hold, not a database error (exit 5).
TEST_F(BadInput, ReportOfARunThatDoesNotExist) {
    const std::string db = make_db();
    expect_one_line(callwall({"report", "--db", db, "--run", "99"}), 2,
                    "callwall report: " + db + ": no run 99 (it holds run 1)");
}

// A usage error goes to standard error, one line, exit 2: never the usage
// text on standard output (where a script would read it as a result).
TEST_F(BadInput, UsageErrorsNeverWriteStandardOutput) {
    const std::vector<std::vector<std::string>> cases = {
        {},          {"analyze"},
        {"capture"}, {"report"},
        {"catalog"}, {"catalog", "list", "extra"},
        {"bogus"},   {"analyze", capture_, "--db", dir_ / "u.sqlite", "--bogus"}};
    for (const auto& args : cases) {
        const auto r = callwall(args);
        std::string what = "callwall";
        for (const auto& a : args) what += " " + a;
        EXPECT_TRUE(r.exit.exited && r.exit.code == 2) << what << ": " << r.exit.describe();
        EXPECT_EQ(r.out, "") << what;
        EXPECT_FALSE(r.err.empty()) << what;
    }
}

// ---- values that make no sense ----

TEST_F(BadInput, ValuesThatMakeNoSenseAreUsageErrors) {
    const std::string db = dir_ / "never.sqlite";
    const auto analyze = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args{"analyze", capture_, "--db", db};
        args.insert(args.end(), extra.begin(), extra.end());
        return callwall(args);
    };
    expect_one_line(analyze({"--threads", "0"}), 2, "callwall analyze: --threads takes 1 or 2, not 0");
    expect_one_line(analyze({"--max-flows", "0"}), 2,
                    "callwall analyze: --max-flows takes a number of flows from 1 to 4294967295, not 0");
    expect_one_line(analyze({"--max-flows", "-1"}), 2,
                    "callwall analyze: --max-flows takes a number of flows from 1 to 4294967295, not -1");
    expect_one_line(analyze({"--vendor", "NoSuchVendor"}), 2,
                    "callwall analyze: --vendor: unknown vendor 'NoSuchVendor' (known vendors: 'Agora' 'Sendbird' "
                    "'Whereby')");
    EXPECT_FALSE(std::filesystem::exists(db)) << "a refused command created its database";
    // Vendor names are matched as `catalog list --vendor` matches them.
    const auto ok = analyze({"-q", "--vendor", "whereby"});
    EXPECT_TRUE(ok.exit.exited && ok.exit.code == 0) << ok.exit.describe() << "\n" << head(ok.err);
    const auto capture = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> args{"capture", "-i", "lo", "--db", dir_ / "live.sqlite"};
        args.insert(args.end(), extra.begin(), extra.end());
        return callwall(args);
    };
    expect_one_line(capture({"--duration", "-5"}), 2,
                    "callwall capture: --duration takes a number of seconds of at least 0, not -5");
    expect_one_line(capture({"--refresh", "0"}), 2,
                    "callwall capture: --refresh takes a number of seconds above 0, not 0");
    expect_one_line(capture({"--count", "-1"}), 2,
                    "callwall capture: --count takes a number of packets of at least 0, not -1");
    expect_one_line(capture({"--workers", "0"}), 2, "callwall capture: --workers takes 1 to 64, not 0");
    expect_one_line(capture({"--workers", "65"}), 2, "callwall capture: --workers takes 1 to 64, not 65");
    expect_one_line(capture({"--workers", "2", "--events", dir_ / "events.jsonl"}), 2,
                    "callwall capture: --workers 2 cannot go with --events");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "events.jsonl"));
    expect_one_line(capture({"--vendor", "Zoom"}), 2,
                    "callwall capture: --vendor: unknown vendor 'Zoom' (known vendors: 'Agora' 'Sendbird' 'Whereby')");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "live.sqlite"));
}

// ---- audit ----

TEST_F(BadInput, AuditFixOutNeverOverwritesTheRuleset) {
    const std::string rules = dir_ / "rules.v4";
    {
        std::ofstream out(rules);
        out << "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
    }
    const std::string before = read_existing(rules);
    const std::string db = dir_ / "audit.sqlite";
    expect_one_line(callwall({"audit", "--iptables", rules, "--fix-out", rules, "--db", db}), 2,
                    "callwall audit: --fix-out takes a file of its own (not the ruleset, not the database) and cannot "
                    "go with --no-fix");
    EXPECT_EQ(read_file(rules), before);
    EXPECT_FALSE(std::filesystem::exists(db));
    expect_one_line(callwall({"audit", "--iptables", rules, "--nft", rules, "--db", db}), 2,
                    "callwall audit: one of --nft FILE or --iptables FILE, and --db FILE, are required");
    const std::string missing = dir_ / "nope.v4";
    expect_one_line(callwall({"audit", "--iptables", missing, "--db", db}), 3,
                    "callwall audit: cannot read " + missing + ": No such file or directory");
    EXPECT_FALSE(std::filesystem::exists(db));
}

}  // namespace
}  // namespace callwall::robustness
