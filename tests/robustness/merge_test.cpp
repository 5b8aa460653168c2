// callwall merge: the runs of several databases in one. Each run keeps what
// it was (its flows, names, matches, verdicts and reports are those of the
// source run, under a new id) and says where it came from (run.origin); the
// sources are never written; what is not callwall's is refused, with the
// target left as it was.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "golden/run_util.hpp"
#include "robustness/cli_test.hpp"

namespace callwall::robustness {
namespace {

using test::query_rows;

class Merge : public CliTest {
protected:
    Merge() : CliTest("merge") {}

    // A database with one run of each capture (under captures/).
    std::string analysed(const std::string& name, const std::vector<std::string>& captures) {
        const std::string db = dir_ / name;
        for (const auto& c : captures) {
            const auto r = callwall({"analyze", "-q", source_dir() + "/captures/" + c, "--db", db});
            EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << c << ": " << r.exit.describe() << "\n" << head(r.err);
        }
        return db;
    }

    // A report of one run without its first line (which names the run's id).
    std::string report(const std::string& db, int run, const std::string& format) {
        const auto r = callwall({"report", "--db", db, "--run", std::to_string(run), "--format", format});
        EXPECT_EQ(r.exit.code, 0) << r.err;
        const std::string& o = r.out;
        if (format == "text") return o.substr(o.find('\n') + 1);
        return o;
    }
};

// Every table whose rows belong to a run, with its row count for run `run`.
std::vector<std::string> counts(const std::string& db, int run) {
    std::vector<std::string> out;
    for (const char* t :
         {"flow", "flow_name", "dns_query", "dns_name", "dns_answer", "tls_hello", "stun_message", "rtp_stream",
          "icmp_error", "catalog_entry", "flow_match", "verdict", "product_verdict", "run_source", "unmatched_flow"}) {
        const auto n =
            query_rows(db, "SELECT count(*) FROM " + std::string(t) + " WHERE run_id=" + std::to_string(run));
        out.push_back(std::string(t) + "=" + (n.empty() ? "?" : n[0]));
    }
    return out;
}

TEST_F(Merge, RunsKeepTheirRowsAndReportsAndSayWhereTheyCameFrom) {
    const std::string a = analysed("site-a.sqlite", {"scenarios/whereby.pcap", "dns_basic.pcap"});
    const std::string b = analysed("site-b.sqlite", {"scenarios/agora_2018_gaming.pcap"});
    const std::string all = dir_ / "all.sqlite";
    const std::string a_before = read_existing(a), b_before = read_existing(b);
    const auto r = callwall({"merge", a, b, "--db", all});
    ASSERT_EQ(r.exit.code, 0) << r.err;
    EXPECT_NE(r.out.find("run 1 (analyze, completed) -> run 3"), std::string::npos) << r.out;
    EXPECT_TRUE(read_file(a) == a_before) << "a source is only read";
    EXPECT_TRUE(read_file(b) == b_before) << "a source is only read";
    EXPECT_EQ(
        query_rows(all, "SELECT id, kind, status, origin FROM run ORDER BY id"),
        (std::vector<std::string>{"1\tanalyze\tcompleted\t" + a + " run 1", "2\tanalyze\tcompleted\t" + a + " run 2",
                                  "3\tanalyze\tcompleted\t" + b + " run 1"}));
    const std::vector<std::pair<std::pair<std::string, int>, int>> moved{{{a, 1}, 1}, {{a, 2}, 2}, {{b, 1}, 3}};
    for (const auto& [from, to] : moved) {
        SCOPED_TRACE(from.first + " run " + std::to_string(from.second));
        EXPECT_EQ(counts(all, to), counts(from.first, from.second));
        // The report is the source run's, with the line that says where it came from.
        EXPECT_EQ(report(all, to, "text"), "merged from " + from.first + " run " + std::to_string(from.second) + "\n" +
                                               report(from.first, from.second, "text"));
    }
    // The merged database's own runs: the verdict rows are those of the source.
    EXPECT_EQ(query_rows(all,
                         "SELECT entry_id, verdict, reasons, ports_observed, ports_blocked FROM verdict "
                         "WHERE run_id=3 ORDER BY entry_id"),
              query_rows(b,
                         "SELECT entry_id, verdict, reasons, ports_observed, ports_blocked FROM verdict "
                         "WHERE run_id=1 ORDER BY entry_id"));
    EXPECT_NE(report(all, 3, "json").find("\"origin\":\"" + b + " run 1\""), std::string::npos);
    // The Source column names the document by its catalog title.
    EXPECT_NE(
        report(a, 1, "html").find("<span class=\"doc-title\">Whereby: \u201cFirewall &amp; Security\u201d</span>"),
        std::string::npos);
    EXPECT_NE(
        report(all, 1, "html").find("<span class=\"doc-title\">Whereby: \u201cFirewall &amp; Security\u201d</span>"),
        std::string::npos)
        << "merged with the run";
    const std::string plain = report(a, 1, "json");
    EXPECT_EQ(plain.substr(0, plain.find("\"verdicts\"")).find("\"origin\""), std::string::npos)
        << "a run not merged has none";
    // One vendor across the sites: each requirement's verdict in every run.
    const auto across = callwall({"report", "--db", all, "--across-runs", "--vendor", "whereby"});
    ASSERT_EQ(across.exit.code, 0) << across.err;
    EXPECT_NE(across.out.find("  run 3  analyze, completed  " + source_dir() +
                              "/captures/scenarios/agora_2018_gaming.pcap  (from " + b + " run 1)\n"),
              std::string::npos)
        << across.out;
    // A run that saw nothing of Whereby (run 2: DNS alone, run 3: Agora
    // alone) shows "-", and the legend says so; the cells are the same with
    // or without --vendor.
    const std::string turn_udp =
        "  Whereby TURN relay (UDP) (udp 443)\n    run 1 blocked [icmp-3-13] · run 2 - · run 3 -\n";
    EXPECT_NE(across.out.find(turn_udp), std::string::npos) << across.out;
    EXPECT_NE(across.out.find("\n-: the run shows nothing of that vendor"), std::string::npos) << across.out;
    const auto bare = callwall({"report", "--db", all, "--across-runs"});
    ASSERT_EQ(bare.exit.code, 0) << bare.err;
    EXPECT_NE(bare.out.find(turn_udp), std::string::npos) << bare.out;
    EXPECT_NE(bare.out.find("\n-: the run shows nothing of that vendor"), std::string::npos) << bare.out;
    // The same as a page: every run with its origin, every requirement's verdict in each.
    const std::string page = dir_ / "across.html";
    const auto html = callwall({"report", "--db", all, "--across-runs", "--format", "html", "-o", page});
    ASSERT_EQ(html.exit.code, 0) << html.err;
    std::ifstream in(page);
    const std::string h((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(h.find("<h1>Across 3 run(s)</h1>"), std::string::npos);
    EXPECT_NE(h.find(b + " run 1</td></tr>"), std::string::npos) << "run 3's origin";
    EXPECT_NE(h.find("<th>Run 1</th><th>Run 2</th><th>Run 3</th>"), std::string::npos);
    EXPECT_NE(h.find("<span class=\"reason\">icmp-3-13</span>"), std::string::npos);
    EXPECT_NE(h.find("the run shows nothing of that vendor"), std::string::npos);
    expect_one_line(
        callwall({"report", "--db", all, "--across-runs", "--format", "json"}), 2,
        "callwall report: --across-runs shows every run as text or html: not with --run, --format json|csv or "
        "--fail-on");
    // Merging again appends again (the same runs, new ids): a merge is a copy, not a sync.
    ASSERT_EQ(callwall({"merge", b, "--db", all, "-q"}).exit.code, 0);
    EXPECT_EQ(query_rows(all, "SELECT id, origin FROM run WHERE id=4"), std::vector<std::string>{"4\t" + b + " run 1"});
}

// A source written by callwall before schema version 3 (verdict lists
// comma-joined) is merged with its lists as JSON arrays, and is not changed.
TEST_F(Merge, AnOlderSourcesVerdictListsArriveAsJson) {
    const std::string old = analysed("old.sqlite", {"scenarios/agora_2018_gaming.pcap"});
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open(old.c_str(), &h), SQLITE_OK);
        const char* v2 =
            "UPDATE verdict SET reasons = replace(replace(replace(reasons, '[', ''), ']', ''), '\"', ''), "
            "ports_observed = replace(replace(ports_observed, '[', ''), ']', ''), "
            "ports_blocked = replace(replace(ports_blocked, '[', ''), ']', ''), "
            "evidence_flows = replace(replace(evidence_flows, '[', ''), ']', ''); "
            "ALTER TABLE run DROP COLUMN origin; PRAGMA user_version=2;";
        ASSERT_EQ(sqlite3_exec(h, v2, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
        sqlite3_close(h);
    }
    ASSERT_EQ(query_rows(old, "SELECT reasons FROM verdict WHERE entry_id='agora-2018.gaming.udp'"),
              std::vector<std::string>{"icmp-3-3,no-answer"});
    const std::string all = dir_ / "all.sqlite";
    const auto r = callwall({"merge", old, "--db", all, "-q"});
    ASSERT_EQ(r.exit.code, 0) << r.err;
    EXPECT_EQ(query_rows(all, "SELECT reasons, ports_blocked FROM verdict WHERE entry_id='agora-2018.gaming.udp'"),
              std::vector<std::string>{"[\"icmp-3-3\",\"no-answer\"]\t[4002,9700]"});
    EXPECT_EQ(query_rows(old, "PRAGMA user_version"), std::vector<std::string>{"2"}) << "the source is not migrated";
}

TEST_F(Merge, ARunCopiedWhileRunningSaysSoNotWhoseProcessItWas) {
    // A sensor's run still being written when its database was merged: the
    // copy keeps status 'running' and the source's writer (this test's own
    // process, alive: the report would call the copy "still running (pid
    // N)"), but nothing will ever finish the copy.
    const std::string site = analysed("site.sqlite", {"scenarios/whereby.pcap"});
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open(site.c_str(), &h), SQLITE_OK);
        const std::string running =
            "UPDATE run SET status='running', ended_at=NULL, writer_pid=" + std::to_string(::getpid()) +
            ", writer_start=0, writer_boot_id=''";
        ASSERT_EQ(sqlite3_exec(h, running.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
        sqlite3_close(h);
    }
    const std::string all = dir_ / "all.sqlite";
    ASSERT_EQ(callwall({"merge", site, "--db", all, "-q"}).exit.code, 0);
    const auto text = callwall({"report", "--db", all, "--format", "text"});
    EXPECT_NE(text.out.find("this run was copied from " + site +
                            " run 1 while it was still running: the copy holds what had been written by then"),
              std::string::npos)
        << text.out;
    EXPECT_EQ(text.out.find("never finished"), std::string::npos) << text.out;
    EXPECT_EQ(text.out.find("is still running"), std::string::npos) << text.out;
}

TEST_F(Merge, NothingIsLeftBesideASource) {
    // SQLite's mode=ro creates SRC-wal and SRC-shm beside a closed WAL
    // database and leaves them (owned by whoever merged, they block the
    // owner's next run): a source is opened as `report` opens a database.
    const std::string src = analysed("src.sqlite", {"scenarios/whereby.pcap"});
    ASSERT_FALSE(std::filesystem::exists(src + "-wal"));
    ASSERT_EQ(callwall({"merge", "-q", src, "--db", dir_ / "all.sqlite"}).exit.code, 0);
    EXPECT_FALSE(std::filesystem::exists(src + "-wal"));
    EXPECT_FALSE(std::filesystem::exists(src + "-shm"));
}

TEST_F(Merge, ASourceInAReadOnlyDirectoryIsReadAndSaysWhatItCouldNot) {
    const std::string ro = dir_ / "ro", out = dir_ / "out";
    std::filesystem::create_directory(ro);
    std::filesystem::create_directory(out);
    const std::string src = analysed("ro/site.sqlite", {"scenarios/whereby.pcap"});
    ::chmod(ro.c_str(), 0555);
    ::chmod(out.c_str(), 0777);
    bool skipped = false;
    const auto r = callwall_unprivileged({"merge", "-q", src, "--db", out + "/all.sqlite"}, skipped);
    // A -wal there (a writer killed, or still running) that cannot be opened
    // here: the file is read without it, and merge says so.
    ::chmod(ro.c_str(), 0755);
    { std::ofstream wal(src + "-wal"); }
    ::chmod(ro.c_str(), 0555);
    const auto w = callwall_unprivileged({"merge", "-q", src, "--db", out + "/all.sqlite"}, skipped);
    ::chmod(ro.c_str(), 0755);
    if (skipped) GTEST_SKIP() << "running as root without " << kSetprivPath << ": cannot read as another user";
    EXPECT_EQ(r.exit.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    expect_one_line(w, 0,
                    "callwall merge: warning: read " + src +
                        " without its -wal (its -wal/-shm files cannot be opened here): the last commits of a running "
                        "or killed run may be missing");
    EXPECT_EQ(query_rows(out + "/all.sqlite", "SELECT count(*) FROM run"), std::vector<std::string>{"2"});
    EXPECT_FALSE(std::filesystem::exists(src + "-shm"));
}

TEST_F(Merge, WhatIsNotCallwallsIsRefusedAndTheTargetKept) {
    const std::string all = make_db("all.sqlite");
    const auto contents = [&] {
        return query_rows(all,
                          "SELECT (SELECT group_concat(id || ' ' || source) FROM run), (SELECT count(*) FROM flow), "
                          "(SELECT count(*) FROM verdict)");
    };
    const auto before = contents();
    const std::string foreign = dir_ / "customers.sqlite";
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open(foreign.c_str(), &h), SQLITE_OK);
        sqlite3_exec(h, "CREATE TABLE customers(id INTEGER);", nullptr, nullptr, nullptr);
        sqlite3_close(h);
    }
    expect_one_line(callwall({"merge", foreign, "--db", all}), 5,
                    "callwall: database error: " + foreign +
                        ": not a callwall database (no callwall application_id, user_version 0, tables customers)");
    const std::string text = dir_ / "notes.sqlite";
    { std::ofstream(text) << "not a database\n"; }
    expect_one_line(callwall({"merge", text, "--db", all}), 5,
                    "callwall: database error: " + text + ": not a SQLite database");
    expect_one_line(callwall({"merge", all, "--db", all}), 2,
                    "callwall merge: " + all + " is both a source and the --db target");
    expect_one_line(callwall({"merge", "--db", all}), 2,
                    "callwall merge: one or more source databases and --db are required");
    EXPECT_EQ(contents(), before) << "the target's runs are as they were";
    EXPECT_EQ(query_rows(foreign, "SELECT count(*) FROM customers"), std::vector<std::string>{"0"});
}

}  // namespace
}  // namespace callwall::robustness
