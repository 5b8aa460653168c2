// SQLite store: schema version, appending runs, refusing files that are not ours.
#include "store/store.hpp"
#include "store/whole_runs.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <sqlite3.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include <filesystem>
#include <fstream>

#include "report/report.hpp"
#include "golden/run_util.hpp"
#include "store/attribution_io.hpp"
#include "unit/store/schema_v1.hpp"

namespace callwall::store {
namespace {

using test::query_rows;
using test::TempDb;

flow::Flow sample_flow(uint64_t id) {
    flow::Flow f;
    f.id = id;
    f.proto = decode::kProtoUdp;
    EXPECT_TRUE(decode::parse_ip("10.0.0.1", f.client_ip));
    EXPECT_TRUE(decode::parse_ip("2001:db8::1", f.server_ip));
    f.client_port = 5000;
    f.server_port = 3478;
    f.packets[0] = 3;
    f.packets[1] = 2;
    f.first_ts_us = 1'767'225'600'000'000;
    f.last_ts_us = f.first_ts_us + 1'500'000;
    return f;
}

// The hand-written IPv4 formatter agrees with inet_ntop on every octet value
// in every position; IPv6 and unset addresses keep their forms.
TEST(Store, FormatIpMatchesInetNtop) {
    char ours[64], theirs[64];
    for (int pos = 0; pos < 4; ++pos) {
        for (int v = 0; v < 256; ++v) {
            decode::IpAddr a = decode::IpAddr::v4(0xC0A80001u);  // 192.168.0.1
            a.bytes[static_cast<size_t>(pos)] = static_cast<uint8_t>(v);
            const size_t n = format_ip(a, ours, sizeof ours);
            ASSERT_NE(inet_ntop(AF_INET, a.bytes.data(), theirs, sizeof theirs), nullptr);
            ASSERT_EQ(std::string(ours, n), theirs) << "octet " << pos << " = " << v;
            ASSERT_EQ(std::strlen(ours), n);
        }
    }
    decode::IpAddr six;
    ASSERT_TRUE(decode::parse_ip("2001:db8::1", six));
    EXPECT_EQ(std::string(ours, format_ip(six, ours, sizeof ours)), "2001:db8::1");
    EXPECT_EQ(std::string(ours, format_ip(decode::IpAddr{}, ours, sizeof ours)), "?");
}

TEST(Store, CreatesVersionedWalDatabase) {
    TempDb db;
    { auto s = Store::open(db.path()); }
    EXPECT_EQ(query_rows(db.path(), "PRAGMA user_version")[0], std::to_string(kSchemaVersion));
    EXPECT_EQ(query_rows(db.path(), "PRAGMA journal_mode")[0], "wal");
}

// A run's rows stay in the WAL until it reaches 64 MiB (or the Store closes):
// at SQLite's default of 4 MiB, a big run paid a checkpoint (a copy and two
// fsyncs) several times. Several commits of about 6 MiB in all leave the
// main file as it was created; closing copies everything back.
TEST(Store, RowsStayInTheWalUntilItIsLarge) {
    TempDb db;
    const std::string wal = db.path() + "-wal";
    const std::string name(2000, 'n');
    {
        auto s = Store::open(db.path());
        const int64_t id = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
        s->flush();
        const auto created = std::filesystem::file_size(db.path());
        FlowAppInfo info;
        info.name = name;
        for (uint64_t i = 1; i <= 3000; ++i) {
            s->add_flow(id, sample_flow(i), info);
            if (i % 500 == 0) s->flush();  // six commits
        }
        EXPECT_GT(std::filesystem::file_size(wal), 5u << 20);
        EXPECT_EQ(std::filesystem::file_size(db.path()), created) << "checkpointed before the WAL reached 64 MiB";
    }
    EXPECT_FALSE(std::filesystem::exists(wal)) << "closing checkpoints and removes the WAL";
    EXPECT_EQ(query_rows(db.path(), "SELECT count(*), sum(length(name)) FROM flow"),
              std::vector<std::string>{"3000\t6000000"});
}

// The indexes readers query by: a new database gets them once its first
// run's rows are in (create_reader_indexes, or the Store's end), and an
// existing database missing some (its first run was killed before they were
// built) gets them back when it is next opened.
TEST(Store, ReaderIndexesBuiltAfterTheFirstRunAndRepairedOnOpen) {
    const std::string indexes =
        "SELECT name FROM sqlite_master WHERE type='index' AND name NOT LIKE 'sqlite_%' ORDER BY name";
    const std::vector<std::string> all{"dns_answer_run", "dns_query_run",  "flow_match_entry",  "rtp_stream_flow",
                                       "stun_txn",       "tls_hello_flow", "unmatched_flow_idx"};
    TempDb db;
    {
        auto s = Store::open(db.path());
        const int64_t id = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
        s->add_flow(id, sample_flow(1), {});
        s->flush();
        EXPECT_EQ(query_rows(db.path(), indexes), std::vector<std::string>{"stun_txn"}) << "written without them";
        s->create_reader_indexes();
        EXPECT_EQ(query_rows(db.path(), indexes), all);
        s->create_reader_indexes();  // once only
    }
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, "DROP INDEX dns_query_run; DROP INDEX rtp_stream_flow", nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(raw);
    }
    { auto s = Store::open(db.path()); }
    EXPECT_EQ(query_rows(db.path(), indexes), all);
    TempDb ended;  // a Store that never called it builds them when it closes
    { auto s = Store::open(ended.path()); }
    EXPECT_EQ(query_rows(ended.path(), indexes), all);
}

// flow_server (flows by server address) is no reader index since schema
// version 5: it is built the first time attribution reads a server's TTLs
// through it, and the answer is the same as a scan's.
TEST(Store, FlowServerIndexBuiltWhenAttributionFirstReadsByServer) {
    const std::string has_index = "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='flow_server'";
    TempDb db;
    auto s = Store::open(db.path());
    const int64_t run = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
    for (uint64_t id = 1; id <= 40; ++id) {
        flow::Flow f = sample_flow(id);
        f.proto = decode::kProtoTcp;
        f.client_port = static_cast<uint16_t>(5000 + id);
        f.tcp.synack = id % 2;
        f.ttl_min[1] = static_cast<uint8_t>(50 + id % 3);
        f.ttl_max[1] = static_cast<uint8_t>(60 + id % 3);
        s->add_flow(run, f, {});
    }
    s->create_reader_indexes();
    EXPECT_EQ(query_rows(db.path(), has_index), std::vector<std::string>{"0"});
    const std::set<int> expected{50, 51, 52, 60, 61, 62};
    {
        AttributionIo io(*s, run);
        EXPECT_EQ(io.server_ttls("2001:db8::1"), expected);
        EXPECT_EQ(io.server_ttls("192.0.2.99"), std::set<int>{});
    }
    EXPECT_EQ(query_rows(db.path(), has_index), std::vector<std::string>{"1"});
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT group_concat(t) FROM (SELECT server_ttl_min AS t FROM flow WHERE synack_count > 0 "
                         "UNION SELECT server_ttl_max FROM flow WHERE synack_count > 0 ORDER BY 1)"),
              std::vector<std::string>{"50,51,52,60,61,62"});
}

// A question as the tests below write it: names shared out of order,
// answered or not, with several codes, some with records.
records::DnsQuery question(uint64_t i, std::string& name) {
    static const char* const kRcodes[] = {"NOERROR", "NXDOMAIN", "NOERROR", "SERVFAIL", "REFUSED"};
    name = "n" + std::to_string((i * 7919) % 613) + ".example";
    records::DnsQuery q;
    q.flow_id = static_cast<int64_t>(1 + i % 50);
    q.ts = 1000.0 + static_cast<double>((i * 31) % 997);
    q.client_ip = "10.0.0.1";
    q.server_ip = "10.0.0.53";
    q.qname = name;
    q.qtype = i % 2 ? 1 : 28;
    q.answered = i % 6 != 5;
    if (q.answered) q.rcode = kRcodes[i % 5];
    q.answers = static_cast<uint32_t>(i % 3);
    return q;
}

constexpr const char* kDnsNameRows =
    "SELECT run_id, qname, queries, answered, resolved, failed, coalesce(last_failure, '-'), first_ts, last_ts "
    "FROM dns_name ORDER BY rowid";

// dns_name adds up what the questions were, wherever the commits fall
// (every question, every 7, one batch of kBatchRows and its rest, the end
// only), with or without the questions' own rows, inline, written behind
// or recorded by a sharded worker and put by the merger; and what it holds
// is what the dns_query rows give.
TEST(Store, DnsNamesAddUpTheQuestionsWhereverTheCommitsFall) {
    const uint64_t n = static_cast<uint64_t>(Store::kBatchRows) + 4321;
    std::vector<std::string> rows[6];
    for (int way = 0; way < 6; ++way) {
        TempDb db;
        auto s = Store::open(db.path());
        s->write_behind(way == 3);
        const int64_t run = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
        const uint64_t every = way == 0 ? 1 : way == 1 ? 7 : 0;  // 0: only at kBatchRows and the end
        std::vector<char> recorded;
        auto recorder = Store::recorder(recorded);
        for (uint64_t i = 0; i < n; ++i) {
            std::string name;
            const records::DnsQuery q = question(i, name);
            if (way == 4)
                recorder->add_dns_question(run, q);
            else if (way == 5 || i % 2)
                s->add_dns_query(run, q);
            else
                s->add_dns_question(run, q);
            if (every && i % every == 0) s->flush();
        }
        for (size_t at = 0; at < recorded.size();) {
            const size_t len = Store::encoded_row_size(recorded.data() + at, recorded.size() - at);
            ASSERT_GT(len, 0u);
            s->put_encoded(recorded.data() + at, len);
            at += len;
        }
        s->flush();
        s.reset();
        rows[way] = query_rows(db.path(), kDnsNameRows);
        EXPECT_EQ(query_rows(db.path(), "SELECT count(*) FROM dns_query"),
                  std::vector<std::string>{way == 4   ? "0"
                                           : way == 5 ? std::to_string(n)
                                                      : std::to_string(n / 2)});
        if (way == 5) {
            // Every question has its row here: the counts as SQL adds them up.
            EXPECT_EQ(query_rows(db.path(),
                                 "SELECT run_id, qname, queries, answered, resolved, failed, "
                                 "coalesce(last_failure, '-'), first_ts, last_ts FROM dns_name ORDER BY qname"),
                      query_rows(db.path(),
                                 "SELECT run_id, qname, count(*), sum(answered), "
                                 "sum(answered AND rcode IS 'NOERROR' AND answers > 0), "
                                 "sum(NOT (answered AND rcode IS 'NOERROR')), coalesce((SELECT CASE WHEN l.answered "
                                 "THEN l.rcode ELSE 'no response' END FROM dns_query l WHERE l.qname = q.qname AND "
                                 "NOT (l.answered AND l.rcode IS 'NOERROR') ORDER BY l.rowid DESC LIMIT 1), '-'), "
                                 "min(ts), max(ts) FROM dns_query q GROUP BY run_id, qname ORDER BY qname"));
        }
    }
    ASSERT_EQ(rows[0].size(), 613u);
    for (int way = 1; way < 6; ++way) EXPECT_EQ(rows[way], rows[0]) << "way " << way;
    // Names in the order first asked; every kind of latest failure occurs.
    std::string first;
    EXPECT_EQ(rows[0][0].rfind("1\t" + (question(0, first), first) + "\t", 0), 0u) << rows[0][0];
    for (const char* why : {"\tNXDOMAIN\t", "\tSERVFAIL\t", "\tREFUSED\t", "\tno response\t"})
        EXPECT_TRUE(std::any_of(rows[0].begin(), rows[0].end(), [&](const std::string& r) {
            return r.find(why) != std::string::npos;
        })) << why;
}

// A flow's row is written once when it ends (a plain INSERT: a second row
// with its id is a fault, not a silent overwrite); a live snapshot's row is
// replaced on purpose, by replace_flow, with the flow's later counts.
TEST(Store, AFlowRowIsWrittenOnceOrReplacedOnPurpose) {
    TempDb db;
    auto s = Store::open(db.path());
    const int64_t id = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
    flow::Flow f = sample_flow(7);
    s->replace_flow(id, f, {});  // a snapshot's first row: nothing to replace yet
    f.packets[0] = 40;
    s->replace_flow(id, f, {});
    s->add_flow(id, sample_flow(8), {});
    s->flush();
    EXPECT_EQ(query_rows(db.path(), "SELECT id, packets_c2s FROM flow ORDER BY id"),
              (std::vector<std::string>{"7\t40", "8\t3"}));
    try {
        s->add_flow(id, sample_flow(8), {});
        s->flush();
        FAIL() << "a second row for flow 8 was taken";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("writing a flow"), std::string::npos) << e.what();
    }
}

// Flow and flow-name rows wait in groups of 16 and are written by one
// INSERT each (store/row_group.hpp); what lands is what one statement per
// row wrote: every value in place (text, numbers and NULLs changing from
// row to row), the rows in the order given, a duplicate name ignored, and a
// flow's row replaced after the rows given before it, waiting ones too.
TEST(Store, RowsWrittenInGroupsLandAsTheyWereGiven) {
    TempDb db;
    auto s = Store::open(db.path());
    const int64_t run = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
    const auto flow_of = [](uint64_t i) {
        flow::Flow f = sample_flow(i);
        f.packets[0] = i * 10;
        if (i % 2 == 0) {
            f.icmp_errors = 1;
            f.icmp_type = 3;
            EXPECT_TRUE(decode::parse_ip("192.0.2." + std::to_string(i), f.icmp_from));
        }
        return f;
    };
    std::vector<std::string> hosts;  // FlowAppInfo holds views
    for (uint64_t i = 0; i <= 37; ++i) hosts.push_back("host" + std::to_string(i) + ".example");
    const auto app_of = [&](uint64_t i) { return FlowAppInfo{i % 3 ? "stun" : "", hosts[i], "dns", ""}; };
    for (uint64_t i = 1; i <= 37; ++i) {
        const FlowAppInfo app = app_of(i);
        s->add_flow(run, flow_of(i), app);
        const std::string name = "n" + std::to_string(i) + ".example";
        s->add(run, records::FlowName{static_cast<int64_t>(i), name, "sni"});
        if (i == 3) s->add(run, records::FlowName{3, "n3.example", "sni"});  // ignored: already there
        if (i == 25) {
            // Flow 20 waits in the second group (17 to 25): the replacement
            // comes after it, as it was given.
            flow::Flow again = flow_of(20);
            again.packets[0] = 999;
            s->replace_flow(run, again, app_of(20));
        }
    }
    s->flush();
    std::vector<std::string> order, rows, names;
    for (uint64_t i = 1; i <= 37; ++i) {
        if (i != 20) order.push_back(std::to_string(i));
        if (i == 25) order.push_back("20");
        const FlowAppInfo app = app_of(i);
        rows.push_back(std::to_string(i) + "\t" + std::to_string(i == 20 ? 999 : i * 10) + "\t" +
                       (i % 2 == 0 ? "192.0.2." + std::to_string(i) : std::string("-")) + "\t" + std::string(app.app) +
                       "\t" + hosts[i]);
        names.push_back(std::to_string(i) + "\tn" + std::to_string(i) + ".example");
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT id FROM flow ORDER BY rowid"), order);
    EXPECT_EQ(
        query_rows(db.path(), "SELECT id, packets_c2s, coalesce(icmp_from, '-'), app, name FROM flow ORDER BY id"),
        rows);
    EXPECT_EQ(query_rows(db.path(), "SELECT flow_id, name FROM flow_name ORDER BY rowid"), names);
}

// A group that cannot be written (here a flow id given twice: a bug, but
// any write error takes the same path) is reported by the call that filled
// it, as "writing a flow", and its rows are not written later on top.
TEST(Store, AGroupThatFailsIsReportedByTheCallThatFilledIt) {
    TempDb db;
    auto s = Store::open(db.path());
    const int64_t run = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
    for (uint64_t i = 1; i <= 15; ++i) s->add_flow(run, sample_flow(i), {});
    try {
        s->add_flow(run, sample_flow(7), {});
        FAIL() << "a second row for flow 7 was taken";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("writing a flow"), std::string::npos) << e.what();
    }
    s->add_flow(run, sample_flow(16), {});
    s->flush();
    EXPECT_EQ(query_rows(db.path(), "SELECT id FROM flow ORDER BY rowid"), std::vector<std::string>{"16"});
}

// Whoever reads through the store's own connection before a commit (a
// report during a live run) sees the rows still waiting in a group.
TEST(Store, AReaderOfTheStoreSeesRowsWaitingInAGroup) {
    TempDb db;
    auto s = Store::open(db.path());
    const int64_t run = s->begin_run(RunInfo{"capture", "eth0", "x", "", 1.0});
    for (uint64_t i = 1; i <= 5; ++i) s->add_flow(run, sample_flow(i), {});
    report::ReportOptions opt;
    opt.run = run;
    EXPECT_EQ(report::load(*s, opt).other_flows, 5u);
}

TEST(Store, SecondRunIsAppendedAndFirstKept) {
    TempDb db;
    for (int run = 0; run < 2; ++run) {
        auto s = Store::open(db.path());
        RunInfo info;
        info.kind = "analyze";
        info.source = "x.pcap";
        const int64_t id = s->begin_run(info);
        s->add_flow(id, sample_flow(1), FlowAppInfo{"stun", "turn.example", "dns", ""});
        RunTotals t;
        t.packets = 5;
        s->update_run(id, t, RunStatus::Completed, 2.0);
        s->flush();
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT id, status, packets FROM run ORDER BY id"),
              (std::vector<std::string>{"1\tcompleted\t5", "2\tcompleted\t5"}));
    EXPECT_EQ(
        query_rows(
            db.path(),
            "SELECT run_id, id, client_ip, server_ip, printf('%.1f', first_ts), state, app, name FROM flow ORDER BY run_id"),
        (std::vector<std::string>{"1\t1\t10.0.0.1\t2001:db8::1\t1767225600.0\tanswered\tstun\tturn.example",
                                  "2\t1\t10.0.0.1\t2001:db8::1\t1767225600.0\tanswered\tstun\tturn.example"}));
}

// A database written before flow.stun_ice_checks existed gets the column
// (default 0) when it is opened, keeps its rows, and takes new flows.
TEST(Store, OlderDatabaseGetsTheIceChecksColumn) {
    TempDb db;
    {
        auto s = Store::open(db.path());
        const int64_t id = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
        s->add_flow(id, sample_flow(1), {});
        s->update_run(id, RunTotals{}, RunStatus::Completed, 2.0);
        s->flush();
    }
    {
        sqlite3* raw = nullptr;
        sqlite3_open(db.path().c_str(), &raw);
        ASSERT_EQ(sqlite3_exec(raw, "ALTER TABLE flow DROP COLUMN stun_ice_checks", nullptr, nullptr, nullptr),
                  SQLITE_OK)
            << sqlite3_errmsg(raw);
        sqlite3_close(raw);
    }
    ASSERT_TRUE(query_rows(db.path(), "SELECT 1 FROM pragma_table_info('flow') WHERE name='stun_ice_checks'").empty());
    {
        auto s = Store::open(db.path());
        const int64_t id = s->begin_run(RunInfo{"analyze", "y.pcap", "y", "", 3.0});
        FlowAppInfo app{"stun", "", "", ""};
        app.stun_requests = app.stun_ice_checks = 2;
        s->add_flow(id, sample_flow(1), app);
        s->flush();
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT run_id, stun_ice_checks FROM flow ORDER BY run_id"),
              (std::vector<std::string>{"1\t0", "2\t2"}));
}

TEST(Store, UnfinishedRunStaysRunning) {
    TempDb db;
    {
        auto s = Store::open(db.path());
        s->begin_run(RunInfo{"capture", "eth0", "x", "", 1.0});
        s->add_flow(1, sample_flow(1), {});
        s->flush();
        // No update_run: as if the process was killed here.
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT status FROM run")[0], "running");
    EXPECT_EQ(query_rows(db.path(), "SELECT count(*) FROM flow")[0], "1");
}

TEST(Store, RefusesNewerSchema) {
    TempDb db;
    {
        sqlite3* raw = nullptr;
        sqlite3_open(db.path().c_str(), &raw);
        sqlite3_exec(raw,
                     ("PRAGMA application_id=" + std::to_string(kApplicationId) + "; PRAGMA user_version=999").c_str(),
                     nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    try {
        Store::open(db.path());
        FAIL() << "expected StoreError";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::NewerSchema);
        EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
    }
}

TEST(Store, RefusesFileThatIsNotSqlite) {
    TempDb db;
    std::ofstream(db.path()) << "this is a text file, not a database, and it is long enough to have a header\n";
    try {
        Store::open(db.path());
        FAIL() << "expected StoreError";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::NotADatabase) << e.what();
    }
    EXPECT_EQ(test::read_file(db.path()).substr(0, 9), "this is a");
}

TEST(Store, RefusesSomeoneElsesDatabase) {
    TempDb db;
    {
        sqlite3* raw = nullptr;
        sqlite3_open(db.path().c_str(), &raw);
        sqlite3_exec(raw, "CREATE TABLE invoices(id INTEGER)", nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    try {
        Store::open(db.path());
        FAIL() << "expected StoreError";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::NotOurs) << e.what();
    }
}

// A foreign SQLite file made by `sql`; Store::open must refuse it as not
// ours, naming why, and leave every byte of it as it was: no WAL switch, no
// tables, no user_version, no -wal file left behind.
void expect_refused_untouched(const std::string& sql, const std::string& why) {
    TempDb db;
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
        sqlite3_close(raw);
    }
    const std::string before = test::read_file(db.path());
    ASSERT_FALSE(before.empty()) << "the foreign database was not written: nothing to compare against";
    try {
        Store::open(db.path());
        FAIL() << "expected StoreError for: " << sql;
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::NotOurs) << e.what();
        EXPECT_EQ(std::string(e.what()), db.path() + ": an existing SQLite database that is not callwall's (" + why +
                                             "); refusing to modify it");
    }
    EXPECT_EQ(test::read_file(db.path()), before) << sql;
    EXPECT_FALSE(std::filesystem::exists(db.path() + "-wal")) << sql;
    EXPECT_EQ(query_rows(db.path(), "PRAGMA journal_mode")[0], "delete") << sql;
}

TEST(Store, RefusesForeignDatabaseWithTablesNamedLikeOurs) {
    expect_refused_untouched("CREATE TABLE run(id INTEGER, what TEXT); INSERT INTO run VALUES (1, 'mine')",
                             "no callwall application_id, user_version 0, tables run");
    expect_refused_untouched("CREATE TABLE flow(a); CREATE TABLE verdict(b)",
                             "no callwall application_id, user_version 0, tables flow, verdict");
}

TEST(Store, RefusesForeignDatabaseWhoseUserVersionIsOne) {
    expect_refused_untouched("CREATE TABLE notes(t TEXT); PRAGMA user_version=1",
                             "no callwall application_id, user_version 1, tables notes");
    // No tables at all but a version: someone's, not empty.
    expect_refused_untouched("PRAGMA user_version=1", "no callwall application_id, user_version 1, no tables");
}

TEST(Store, RefusesAnotherApplicationsId) {
    expect_refused_untouched("PRAGMA application_id=1179603794; CREATE TABLE t(x)",
                             "application_id 0x464f5352 is another program's");
}

TEST(Store, RefusesOldCallwallDatabaseWithAForeignTable) {
    TempDb db;
    ASSERT_TRUE(test::make_v1_database(db.path()));
    {
        sqlite3* raw = nullptr;
        sqlite3_open(db.path().c_str(), &raw);
        sqlite3_exec(raw, "PRAGMA journal_mode=DELETE; CREATE TABLE invoices(id INTEGER)", nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    EXPECT_THROW(Store::open(db.path()), StoreError);
    EXPECT_EQ(query_rows(db.path(), "PRAGMA application_id")[0], "0");
}

TEST(Store, NewDatabaseCarriesTheApplicationId) {
    TempDb db;
    { auto s = Store::open(db.path()); }
    EXPECT_EQ(query_rows(db.path(), "PRAGMA application_id")[0], std::to_string(kApplicationId));
    // An existing empty SQLite file (no schema, no header fields) is taken too.
    TempDb empty;
    {
        sqlite3* raw = nullptr;
        sqlite3_open(empty.path().c_str(), &raw);
        sqlite3_exec(raw, "VACUUM", nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    { auto s = Store::open(empty.path()); }
    EXPECT_EQ(query_rows(empty.path(), "PRAGMA application_id")[0], std::to_string(kApplicationId));
}

// A database made by callwall before the application id (schema version 1,
// application_id 0) opens, keeps its runs and gets the id.
TEST(Store, OpensVersionOneDatabaseFromBeforeTheIdAndMarksIt) {
    TempDb db;
    ASSERT_TRUE(test::make_v1_database(db.path()));
    ASSERT_EQ(query_rows(db.path(), "PRAGMA application_id")[0], "0");
    {
        auto s = Store::open(db.path());
        s->begin_run(RunInfo{"analyze", "new.pcap", "x", "", 3.0});
    }
    EXPECT_EQ(query_rows(db.path(), "PRAGMA application_id")[0], std::to_string(kApplicationId));
    EXPECT_EQ(query_rows(db.path(), "PRAGMA user_version")[0], std::to_string(kSchemaVersion));
    EXPECT_EQ(query_rows(db.path(), "SELECT id, source, status, packets FROM run ORDER BY id"),
              (std::vector<std::string>{"1\told.pcap\tcompleted\t7", "2\tnew.pcap\trunning\t0"}));
}

// Schema version 2: the run row names its writer; a version-1 database gets
// the columns (NULL for its old runs) on its next open.
TEST(Store, RunRowRecordsItsWriterProcess) {
    TempDb db;
    {
        auto s = Store::open(db.path());
        s->begin_run(RunInfo{"capture", "eth0", "x", "", 1.0});
    }
    const WriterId me = current_writer();
    EXPECT_EQ(me.pid, ::getpid());
    EXPECT_GT(me.start_ticks, 0);
    EXPECT_FALSE(me.boot_id.empty());
    EXPECT_EQ(query_rows(db.path(), "SELECT writer_pid, writer_start, writer_boot_id FROM run")[0],
              std::to_string(me.pid) + "\t" + std::to_string(me.start_ticks) + "\t" + me.boot_id);
    EXPECT_EQ(writer_state(me), WriterState::Alive);
}

TEST(Store, WriterStateTellsAliveFromGone) {
    const WriterId me = current_writer();
    WriterId other_start = me;
    other_start.start_ticks += 1;  // the pid reused by another process
    EXPECT_EQ(writer_state(other_start), WriterState::Gone);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    int st = 0;
    ASSERT_EQ(::waitpid(child, &st, 0), child);  // ended and reaped
    WriterId gone = me;
    gone.pid = child;
    EXPECT_EQ(writer_state(gone), WriterState::Gone);
    WriterId rebooted = me;
    rebooted.boot_id = "00000000-0000-0000-0000-000000000000";
    EXPECT_EQ(writer_state(rebooted), WriterState::OtherBoot);
    EXPECT_EQ(writer_state(WriterId{}), WriterState::Unknown);
}

TEST(Store, VersionOneDatabaseGetsTheWriterColumns) {
    TempDb db;
    ASSERT_TRUE(test::make_v1_database(db.path()));
    ASSERT_EQ(query_rows(db.path(), "SELECT count(*) FROM pragma_table_info('run') WHERE name LIKE 'writer%'")[0], "0");
    { auto s = Store::open(db.path()); }
    EXPECT_EQ(query_rows(db.path(), "SELECT count(*) FROM pragma_table_info('run') WHERE name LIKE 'writer%'")[0], "3");
    EXPECT_EQ(query_rows(db.path(), "SELECT status, writer_pid FROM run WHERE id=1")[0], "completed\tNULL");
    EXPECT_EQ(query_rows(db.path(), "PRAGMA user_version")[0], std::to_string(kSchemaVersion));
}

// Schema version 3: the verdict's lists are JSON arrays. A version-2
// database (lists comma-joined) is read as it is by the report (read-only,
// no migration) and rewritten on its next open for writing; the report reads
// the same verdicts before and after.
TEST(Store, VersionTwoVerdictListsBecomeJsonArrays) {
    TempDb db;
    {
        auto s = Store::open(db.path());
        const int64_t id = s->begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
        s->update_run(id, RunTotals{}, RunStatus::Completed, 2.0);
        s->flush();
    }
    {
        sqlite3* raw = nullptr;
        sqlite3_open(db.path().c_str(), &raw);
        const char* v2 =
            "INSERT INTO catalog_entry VALUES (1,'v.a','V','P','','2024-01-01','media','udp','3478-3479','v.example',"
            "'outbound',1,'','v.toml','1','');"
            "INSERT INTO catalog_entry VALUES (1,'v.b','V','P','','2024-01-01','signal','tcp','443','v.example',"
            "'outbound',1,'','v.toml','2','');"
            "INSERT INTO verdict VALUES (1,'v.a','partial','stun-timeout,icmp-3-13',1,2,0,'3478','3479','','o','w');"
            "INSERT INTO verdict VALUES (1,'v.b','observed','',1,0,0,'443','','','','w');"
            "PRAGMA user_version=2;";
        ASSERT_EQ(sqlite3_exec(raw, v2, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
        sqlite3_close(raw);
    }
    report::ReportOptions all;
    all.all_entries = true;
    all.vendors = {"V"};
    const auto rows = [&] {
        std::vector<std::string> out;
        for (const auto& v : report::load(db.path(), all).verdicts) {
            std::string reasons;
            for (const auto& r : v.reasons) reasons += r + ";";
            out.push_back(v.entry_id + " " + v.verdict + " [" + reasons + "] " + v.ports_observed + " / " +
                          v.ports_blocked);
        }
        return out;
    };
    const std::vector<std::string> want{"v.a partial [stun-timeout;icmp-3-13;] 3478 / 3479", "v.b observed [] 443 / "};
    EXPECT_EQ(rows(), want) << "a version-2 database, read as it is";
    { auto s = Store::open(db.path()); }
    EXPECT_EQ(query_rows(db.path(), "PRAGMA user_version")[0], std::to_string(kSchemaVersion));
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT entry_id, reasons, ports_observed, ports_blocked, evidence_flows FROM verdict "
                         "ORDER BY entry_id"),
              (std::vector<std::string>{"v.a\t[\"stun-timeout\",\"icmp-3-13\"]\t[3478]\t[3479]\t[]",
                                        "v.b\t[]\t[443]\t[]\t[]"}));
    EXPECT_EQ(
        query_rows(db.path(), "SELECT v.entry_id FROM verdict v, json_each(v.ports_blocked) p WHERE p.value = 3479"),
        std::vector<std::string>{"v.a"});
    EXPECT_EQ(rows(), want) << "the same database after its migration";
}

TEST(Store, MissingDirectoryIsAClearError) {
    try {
        Store::open("/nonexistent-dir-callwall/x.sqlite");
        FAIL() << "expected StoreError";
    } catch (const StoreError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "/nonexistent-dir-callwall/x.sqlite: directory /nonexistent-dir-callwall does not exist");
    }
}

}  // namespace
}  // namespace callwall::store

namespace callwall::store {
namespace {

// capture --keep: finished runs past the count or the age go, with every
// row of theirs; the current run and a run still running never do.
TEST(WholeRuns, PruneKeepsTheNewestTheCurrentAndTheRunning) {
    TempDb db;
    auto s = Store::open(db.path());
    std::vector<int64_t> ids;
    for (int i = 0; i < 5; ++i) {
        const int64_t id = s->begin_run(RunInfo{"capture", "eth1", "x", "", 100.0 + i});
        s->add_flow(id, sample_flow(1), {});
        // Runs 1-3 ended at 100, 110 and 120; run 4 still running; run 5 the current one.
        if (i < 3) s->update_run(id, RunTotals{}, RunStatus::Completed, 100.0 + 10 * i);
        ids.push_back(id);
    }
    s->flush();
    EXPECT_TRUE(prune_runs(*s, 0, 0, 1000, ids[4]).empty());  // no bound: nothing
    // Older than 15 s at 130: the runs that ended at 100 and 110.
    EXPECT_EQ(prune_runs(*s, 15, 0, 130, ids[4]), (std::vector<int64_t>{ids[0], ids[1]}));
    // The newest two kept: run 3 goes; 4 is running, 5 is current.
    EXPECT_EQ(prune_runs(*s, 0, 2, 130, ids[4]), (std::vector<int64_t>{ids[2]}));
    s.reset();
    EXPECT_EQ(query_rows(db.path(), "SELECT id FROM run ORDER BY id"),
              (std::vector<std::string>{std::to_string(ids[3]), std::to_string(ids[4])}));
    EXPECT_EQ(query_rows(db.path(), "SELECT DISTINCT run_id FROM flow ORDER BY run_id"),
              (std::vector<std::string>{std::to_string(ids[3]), std::to_string(ids[4])}));
}

}  // namespace
}  // namespace callwall::store
