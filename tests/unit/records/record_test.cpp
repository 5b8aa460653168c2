// Records declared once: the table, the INSERT, the values bound, the
// export and an event line's members all come from a record's column list
// (records/record.hpp).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>
#include <tuple>

#include "golden/run_util.hpp"
#include "sqlite_rows.hpp"
#include "events/record_json.hpp"
#include "records/attribution.hpp"
#include "records/run.hpp"
#include "run/live_export.hpp"
#include "store/read_query.hpp"
#include "store/row_codec.hpp"
#include "store/store.hpp"

namespace callwall::records {
namespace {

// DNS answers with one column more than the store's: the resolver that
// answered. Nothing but this list is edited.
#define CALLWALL_TEST_DNS_ANSWER_COLUMNS(X) \
    CALLWALL_DNS_ANSWER_COLUMNS(X)          \
    X(OptText, resolver, "resolver", "TEXT")
CALLWALL_RECORD(DnsAnswerWithResolver, CALLWALL_TEST_DNS_ANSWER_COLUMNS, "dns_answer", "", "INSERT", "");

// Runs one statement on `db`; fails the test with SQLite's message otherwise.
void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << "\n" << sql;
    sqlite3_free(err);
}

// Each row of a query, its columns joined by '|' (NULL as "NULL").
std::vector<std::string> rows(sqlite3* db, const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    std::string why;
    EXPECT_EQ(test::prepare_one(db, sql, &st, why), SQLITE_OK) << sql << ": " << why;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        std::string row;
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
            const auto* t = sqlite3_column_text(st, i);
            row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
        }
        out.push_back(row);
    }
    sqlite3_finalize(st);
    return out;
}

TEST(Record, AColumnAddedToItsListReachesTheTableTheInsertTheRowTheExportAndTheEvents) {
    const Table t = DnsAnswerWithResolver::table();
    const std::string create = create_table_sql(t);
    // The store's table with the new column last.
    std::string expected = create_table_sql(DnsAnswer::table());
    expected.replace(expected.rfind("\n);"), 3, ",\n  resolver TEXT\n);");
    EXPECT_EQ(create, expected);
    EXPECT_EQ(
        insert_sql(t),
        "INSERT INTO dns_answer (run_id, flow_id, ts, client_ip, server_ip, qname, rrtype, answer, ttl, resolver) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)");
    EXPECT_EQ(std::tuple_size_v<decltype(DnsAnswerWithResolver{}.values())>, 9u);
    EXPECT_EQ(value_index(t.columns, "resolver"), 9);  // after run_id and the eight of dns_answer

    // Written with the store's binding, read back.
    test::TempDb file;
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.path().c_str(), &db), SQLITE_OK);
    exec(db, "CREATE TABLE run (id INTEGER PRIMARY KEY); INSERT INTO run (id) VALUES (7);");
    exec(db, create);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, insert_sql(t).c_str(), -1, &st, nullptr), SQLITE_OK);
    DnsAnswerWithResolver r;
    r.flow_id = 3;
    r.ts = 1.5;
    r.client_ip = "10.0.0.1";
    r.server_ip = "10.0.0.53";
    r.qname = "turn.example.com";
    r.rrtype = "A";
    r.answer = "192.0.2.1";
    r.ttl = 60;
    std::string event;  // the record's columns as an event line's members
    for (const OptText resolver : {OptText("10.0.0.53"), OptText()}) {
        r.resolver = resolver;
        store::codec::bind_record(st, 7, r);
        EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db);
        sqlite3_reset(st);
        events::append_columns(DnsAnswerWithResolver::kColumns, r.values(), {}, event);
        event += '\n';
    }
    sqlite3_finalize(st);
    EXPECT_EQ(rows(db, "SELECT run_id, flow_id, qname, answer, ttl, resolver FROM dns_answer ORDER BY rowid"),
              (std::vector<std::string>{"7|3|turn.example.com|192.0.2.1|60|10.0.0.53",
                                        "7|3|turn.example.com|192.0.2.1|60|NULL"}));
    sqlite3_close(db);

    // The export (as `callwall export` reads and writes a stored record).
    std::string csv;
    store::ReadDb::read_settled(file.path(), [&](store::ReadDb& rdb) {
        csv.clear();
        auto q = rdb.prep("SELECT * FROM dns_answer WHERE run_id = 7 ORDER BY rowid");
        std::vector<std::string> columns;
        for (int i = 1; i < q.columns(); ++i) columns.push_back(q.name(i));
        const writers::Writer& w = *writers::find("csv");
        w.begin(columns, csv);
        std::vector<writers::Value> values;
        while (q.row()) {
            run::read_values(q, 1, values);
            w.row(columns, values, csv);
        }
    });
    EXPECT_EQ(csv,
              "flow_id,ts,client_ip,server_ip,qname,rrtype,answer,ttl,resolver\n"
              "3,1.5,10.0.0.1,10.0.0.53,turn.example.com,A,192.0.2.1,60,10.0.0.53\n"
              "3,1.5,10.0.0.1,10.0.0.53,turn.example.com,A,192.0.2.1,60,\n");
    // The event line's members (events/record_json.hpp).
    EXPECT_EQ(event,
              ",\"flow_id\":3,\"ts\":1.500000,\"client_ip\":\"10.0.0.1\",\"server_ip\":\"10.0.0.53\",\"qname\":"
              "\"turn.example.com\",\"rrtype\":\"A\",\"answer\":\"192.0.2.1\",\"ttl\":60,\"resolver\":\"10.0.0.53\"\n"
              ",\"flow_id\":3,\"ts\":1.500000,\"client_ip\":\"10.0.0.1\",\"server_ip\":\"10.0.0.53\",\"qname\":"
              "\"turn.example.com\",\"rrtype\":\"A\",\"answer\":\"192.0.2.1\",\"ttl\":60,\"resolver\":null\n");
}

// The store's tables are its records' lists, column for column, and every
// table of the schema with a run_id is a record's or the flows'.
TEST(Record, TheStoresTablesAreTheirRecordsColumns) {
    test::TempDb tmp;
    { auto s = store::Store::open(tmp.path()); }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(tmp.path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::vector<Table> tables;
#define CALLWALL_TEST_TABLE(Record) tables.push_back(Record::table());
    CALLWALL_RUN_RECORDS(CALLWALL_TEST_TABLE)
#undef CALLWALL_TEST_TABLE
    EXPECT_EQ(tables.size(), 15u);
    for (const Table& t : tables) {
        std::vector<std::string> declared = {"run_id"};
        for (const Column& c : t.columns) declared.emplace_back(c.name);
        EXPECT_EQ(rows(db, "SELECT name FROM pragma_table_info('" + std::string(t.name) + "') ORDER BY cid"), declared)
            << t.name;
    }
    std::vector<std::string> run_tables = {"flow"};
    for (const Table& t : tables) run_tables.emplace_back(t.name);
    std::sort(run_tables.begin(), run_tables.end());
    EXPECT_EQ(rows(db,
                   "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND EXISTS (SELECT 1 FROM "
                   "pragma_table_info(m.name) WHERE name = 'run_id') ORDER BY m.name"),
              run_tables);
    sqlite3_close(db);
}

// The run table is the run record's list after its id; a run's row is
// inserted whole and its update writes the columns marked Totals and no
// other, so what the run began with stays.
TEST(Record, TheRunTableIsTheRunRecordAndItsUpdateWritesOnlyItsTotals) {
    test::TempDb tmp;
    {
        auto s = store::Store::open(tmp.path());
        store::RunInfo info;
        info.kind = "analyze";
        info.source = "a.pcap";
        info.command_line = "callwall analyze a.pcap";
        info.catalog_digest = "d1";
        info.started_at = 100;
        info.sources = {"a.pcap"};
        const int64_t id = s->begin_run(info);
        store::RunTotals t;
        t.packets = 7;
        t.bytes = 700;
        t.flows = 3;
        t.first_ts = 1.5;
        t.last_ts = 2.5;
        t.notes = "a note";
        s->update_run(id, t, store::RunStatus::Completed, 200);
        s->flush();
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(tmp.path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::vector<std::string> declared = {"id"};
    for (const Column& c : Run::kColumns) declared.emplace_back(c.name);
    EXPECT_EQ(rows(db, "SELECT name FROM pragma_table_info('run') ORDER BY cid"), declared);
    EXPECT_EQ(rows(db,
                   "SELECT id, kind, source, command_line, tool_version <> '', catalog_digest, started_at, ended_at, "
                   "status, packets, bytes, flows, first_ts, last_ts, notes, writer_pid IS NOT NULL, origin FROM run"),
              std::vector<std::string>{
                  "1|analyze|a.pcap|callwall analyze a.pcap|1|d1|100.0|200.0|completed|7|700|3|1.5|2.5|a note|1|NULL"});
    sqlite3_close(db);
    // The update's columns are the list's Totals, in the table's order.
    const std::vector<std::string_view> totals(std::begin(kRunTotalsColumns), std::end(kRunTotalsColumns));
    EXPECT_EQ(totals.size(), 16u);
    EXPECT_EQ(totals.front(), "ended_at");
    EXPECT_EQ(totals.back(), "notes");
    EXPECT_EQ(std::count(totals.begin(), totals.end(), "catalog_digest"), 0);
    const std::string update = update_sql(Run::table(), kRunTotalsColumns, "id");
    EXPECT_TRUE(update.starts_with("UPDATE run SET ended_at=?, status=?, packets=?, ")) << update;
    EXPECT_TRUE(update.ends_with(", last_ts=?, notes=? WHERE id=?")) << update;
}

}  // namespace
}  // namespace callwall::records
