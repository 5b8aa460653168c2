// Store::write_behind: rows written by the store's thread end up exactly as
// rows written inline (every table, in order: a STUN request marked answered
// after it was queued, run updates, commits in between), readers see every
// row queued before them, and a write error on the writer thread reaches the
// caller as the StoreError of a later call with the database left valid.
#include "store/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "report/report.hpp"
#include "golden/run_util.hpp"
#include "small_disk.hpp"

namespace callwall::store {
namespace {

using test::query_rows;
using test::TempDb;

flow::Flow row_flow(uint64_t id) {
    flow::Flow f;
    f.id = id;
    f.proto = id % 3 ? decode::kProtoUdp : decode::kProtoTcp;
    f.client_ip = decode::IpAddr::v4(0x0A000000u + static_cast<uint32_t>(id % 5000));
    EXPECT_TRUE(decode::parse_ip("2001:db8::7", f.server_ip));
    f.client_port = static_cast<uint16_t>(1024 + id % 60000);
    f.server_port = 3478;
    f.packets[0] = id % 7 + 1;
    f.packets[1] = id % 5;
    f.bytes[0] = id * 3;
    f.first_ts_us = 1'767'225'600'000'000 + static_cast<int64_t>(id) * 1000;
    f.last_ts_us = f.first_ts_us + 1'500'000;
    if (id % 11 == 0) f.tcp.first_syn_us = f.first_ts_us;
    return f;
}

// Every kind of row, `n` flows' worth, with commits and run updates between
// them; the same calls whichever way the store writes.
void write_rows(Store& s, int64_t run, uint64_t n) {
    const std::string long_name(300, 'x');
    for (uint64_t i = 1; i <= n; ++i) {
        FlowAppInfo app;
        app.app = i % 2 ? "stun" : "";
        app.name = i % 4 == 0 ? std::string_view(long_name) : std::string_view("turn.example.com");
        app.name_source = "dns";
        app.stun_requests = static_cast<uint32_t>(i % 3);
        app.tls_alert = i % 13 == 0 ? 40 : -1;
        s.add_flow(run, row_flow(i), app);
        const auto id = static_cast<int64_t>(i);
        s.add(run, records::FlowName{id, "media.example.com", "sni"});
        const std::string txn = "txn" + std::to_string(i);
        s.add(run, records::StunMessage{id, 1.5, "c2s", "Binding", "Request", txn, 0, std::nullopt, "udp"});
        if (i % 2) s.mark_stun_answered(run, i, txn);
        if (i % 10 == 0) {
            s.add_dns_query(run,
                            records::DnsQuery{id, 2.0, "10.0.0.1", "10.0.0.53", "example.com", 1, 1, "NOERROR", 1});
            // Questions without their own row, counted per name: some
            // unanswered, some refused, names shared across commits.
            const std::string q = "n" + std::to_string(i / 10 % 70) + ".example";
            const bool answered = i % 3 != 0;
            s.add_dns_question(
                run, records::DnsQuery{id, static_cast<double>(i), "", "", q, 1, answered,
                                       answered ? records::OptText(i % 7 == 0 ? "REFUSED" : "NOERROR") : std::nullopt,
                                       static_cast<int64_t>(i % 2)});
            s.add(run, records::DnsAnswer{id, 2.0, "10.0.0.1", "10.0.0.53", "example.com", "A", "192.0.2.1", 60});
            const bool server_hello = i % 20 == 0;
            s.add(run, records::TlsHello{id, 3.0, "tls", "example.com", "h2", "TLS1.3", 0, server_hello,
                                         server_hello ? records::OptText("TLS1.2") : std::nullopt, std::nullopt});
            s.add(run, records::IcmpError{4.0, 4, "10.0.0.254", "10.0.0.1", 3, 3, 64, "10.0.0.1", "192.0.2.1", 17, 5000,
                                          3478, id});
            char ssrc[16];
            std::snprintf(ssrc, sizeof ssrc, "0x%08x", static_cast<unsigned>(i));
            records::RtpStream r;
            r.flow_id = id;
            r.direction = "c2s";
            r.ssrc = ssrc;
            r.packets = id;
            if (i % 20 == 0) {
                r.jitter_ms = 1.25;
                r.max_jitter_ms = 0.0;
            }
            s.add(run, r);
        }
        if (i % 5000 == 0) {
            RunTotals t;
            t.packets = i;
            t.notes = "at " + std::to_string(i) + "\n";
            s.update_run(run, t, RunStatus::Running, 0);
            s.flush();
        }
    }
}

// The rows of every table the writer fills, in a fixed order.
std::vector<std::string> contents(const std::string& path) {
    std::vector<std::string> all;
    for (const char* q :
         {"SELECT * FROM flow ORDER BY run_id, id", "SELECT * FROM flow_name ORDER BY rowid",
          "SELECT * FROM stun_message ORDER BY rowid", "SELECT * FROM dns_query ORDER BY rowid",
          "SELECT * FROM dns_name ORDER BY rowid", "SELECT * FROM dns_answer ORDER BY rowid",
          "SELECT * FROM tls_hello ORDER BY rowid", "SELECT * FROM icmp_error ORDER BY rowid",
          "SELECT * FROM rtp_stream ORDER BY rowid", "SELECT id, status, packets, notes FROM run ORDER BY id"}) {
        for (auto& row : query_rows(path, q)) all.push_back(q + std::string(": ") + row);
    }
    return all;
}

// 20,000 flows with their rows: about 20 MiB of queued rows, more than the
// queue holds, so the decoding side also waits for room on the way.
TEST(WriteBehind, RowsEndUpAsWrittenInline) {
    TempDb inline_db, behind_db;
    for (const bool behind : {false, true}) {
        auto s = Store::open(behind ? behind_db.path() : inline_db.path());
        s->write_behind(behind);
        const int64_t run = s->begin_run(RunInfo{"capture", "eth0", "test", "", 1.0});
        write_rows(*s, run, 20000);
        RunTotals t;
        t.packets = 20000;
        s->update_run(run, t, RunStatus::Completed, 2.0);
        s->flush();
    }
    const auto a = contents(inline_db.path());
    const auto b = contents(behind_db.path());
    ASSERT_GT(a.size(), 60000u);
    EXPECT_EQ(a.size(), b.size());
    EXPECT_TRUE(a == b) << "write-behind changed what was written";
    EXPECT_EQ(query_rows(behind_db.path(), "SELECT count(*) FROM stun_message WHERE answered=1"),
              std::vector<std::string>{"10000"})
        << "marks applied after the requests they mark";
    // 2,000 questions with their dns_query rows for one name, 2,000 without
    // for 70 names, counted across the 4 commits between them.
    EXPECT_EQ(query_rows(behind_db.path(), "SELECT count(*), sum(queries) FROM dns_name"),
              std::vector<std::string>{"71\t4000"});
}

// What a reader of the same Store sees: every row queued before it (the
// report waits for the writer), and a flush() makes them visible to other
// connections once the writer reached it.
TEST(WriteBehind, ReadersSeeEveryRowQueuedBeforeThem) {
    TempDb db;
    auto s = Store::open(db.path());
    s->write_behind(true);
    const int64_t run = s->begin_run(RunInfo{"capture", "eth0", "test", "", 1.0});
    write_rows(*s, run, 3000);  // ~3 MiB queued ahead of the update
    RunTotals t;
    t.packets = 4242;
    t.first_ts = t.last_ts = 1.0;
    s->update_run(run, t, RunStatus::Running, 0);
    report::ReportOptions opt;
    opt.run = run;
    const report::ReportData d = report::load(*s, opt);
    EXPECT_EQ(d.run.packets, 4242u) << "the report read before the writer applied the queued update";
    s->flush();
    s->write_behind(false);  // waits for the writer
    EXPECT_EQ(query_rows(db.path(), "SELECT count(*) FROM flow"), std::vector<std::string>{"3000"});
}

// With write-behind the log is copied back into the database while rows
// are still written (a checkpoint on a thread of its own each time the log
// has grown by 4 MiB): the database file holds most of the rows before the
// run ends. SQLite's own checkpoint (at 64 MiB) would not have copied any.
TEST(WriteBehind, TheLogIsCopiedBackWhileRowsAreWritten) {
    TempDb db;
    auto s = Store::open(db.path());
    s->write_behind(true);
    const int64_t run = s->begin_run(RunInfo{"capture", "eth0", "test", "", 1.0});
    write_rows(*s, run, 30000);  // ~12 MiB
    s->flush();
    s->sync_writes();
    s->finish_run_checkpoint();
    struct stat st {};
    ASSERT_EQ(::stat(db.path().c_str(), &st), 0);
    const auto db_bytes = static_cast<long long>(st.st_size);
    EXPECT_GT(db_bytes, 4LL << 20) << "rows copied into the database before its close";
    s->write_behind(false);
    s.reset();
    EXPECT_EQ(query_rows(db.path(), "SELECT count(*) FROM flow"), std::vector<std::string>{"30000"});
    EXPECT_EQ(query_rows(db.path(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

using test::SmallDisk;

// A full disk on the writer thread: a later call throws the Full StoreError
// (not the call that queued the row), and the database stays valid with
// every committed batch.
TEST(WriteBehind, WriteErrorReachesTheCallerOnALaterCall) {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    const std::string mnt = "/tmp/callwall-wb-disk-" + std::to_string(::getpid());
    SmallDisk disk(mnt, "1m");
    if (!disk.mounted()) GTEST_SKIP() << "cannot mount a 1 MiB tmpfs on " << mnt << ": " << disk.error();
    const std::string path = mnt + "/d.sqlite";
    bool thrown = false;
    StoreErrorKind kind = StoreErrorKind::Other;
    {
        auto s = Store::open(path);
        s->write_behind(true);
        const int64_t run = s->begin_run(RunInfo{"capture", "eth0", "test", "", 1.0});
        try {
            // About 2 MiB of rows per 5,000 flows (with a flush each time): the disk fills within the bound.
            for (int round = 0; round < 40 && !thrown; ++round) {
                write_rows(*s, run, 5000);
                s->flush();
            }
            s->write_behind(false);
        } catch (const StoreError& e) {
            thrown = true;
            kind = e.kind();
        }
    }
    ASSERT_TRUE(thrown) << "a 1 MiB disk never filled";
    EXPECT_EQ(kind, StoreErrorKind::Full);
    EXPECT_EQ(query_rows(path, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

}  // namespace
}  // namespace callwall::store
