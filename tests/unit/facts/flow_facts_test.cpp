// The per-flow application facts are declared once (facts/flow_facts.hpp):
// the flow table the store creates has their columns, in their order, with
// their declarations; a value of every fact goes through the row (INSERT,
// then the SELECT attribution reads), through facts_of and through the kept
// flows unchanged; and the defaults (stored as NULL where the declaration
// says so) read back as the defaults.
#include "facts/flow_facts.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <iterator>
#include <string>
#include <vector>

#include "attrib/kept_flows.hpp"
#include "attrib/flow_row.hpp"
#include "golden/run_util.hpp"
#include "store/flow_pages.hpp"
#include "store/store.hpp"

namespace callwall {
namespace {

struct FactsDbColumn {
    std::string name, declaration;
};

// The flow table's columns as SQLite describes them: "INTEGER NOT NULL DEFAULT 0".
std::vector<FactsDbColumn> facts_flow_columns(const std::string& path) {
    std::vector<FactsDbColumn> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA table_info(flow)", -1, &st, nullptr), SQLITE_OK);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const auto text = [&](int i) {
            const auto* p = sqlite3_column_text(st, i);
            return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
        };
        std::string decl = text(2);
        if (sqlite3_column_int(st, 3)) decl += " NOT NULL";
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) decl += " DEFAULT " + text(4);
        out.push_back({text(1), decl});
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return out;
}

// Every fact set to a value of its own, none its default.
store::FlowAppInfo facts_all_set() {
    store::FlowAppInfo app;
    int64_t k = 2;
#define FACTS_TEST_SET(type, member, init, decl, stored) app.member = static_cast<type>(k++);
    CALLWALL_FLOW_APP_FACTS(FACTS_TEST_SET)
#undef FACTS_TEST_SET
    return app;
}

flow::Flow facts_test_flow() {
    flow::Flow f;
    f.id = 7;
    f.proto = decode::kProtoUdp;
    f.client_ip = decode::IpAddr::v4(0x0A000001u);
    f.server_ip = decode::IpAddr::v4(0xC6336401u);
    f.client_port = 50000;
    f.server_port = 3478;
    f.packets[0] = 3;
    f.first_ts_us = 1'767'225'600'000'000;
    f.last_ts_us = f.first_ts_us + 1'000'000;
    return f;
}

// The flow written with `app`, read back as attribution reads it.
attrib::FlowFacts facts_through_row(const store::FlowAppInfo& app) {
    test::TempDb tmp;
    int64_t run = 0;
    {
        auto s = store::Store::open(tmp.path());
        run = s->begin_run(store::RunInfo{"analyze", "test.pcap", "test", "", 1.0});
        s->add_flow(run, facts_test_flow(), app);
        s->flush();
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(tmp.path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::vector<attrib::FlowFacts> flows;
    store::read_flows(db, tmp.path(), run, {7}, flows);
    sqlite3_close_v2(db);
    EXPECT_EQ(flows.size(), 1u);
    return flows.empty() ? attrib::FlowFacts{} : flows.front();
}

TEST(FactsTable, TheFlowTableHasEveryFactColumnInOrderAsDeclared) {
    test::TempDb tmp;
    store::Store::open(tmp.path()).reset();  // the schema, as a new database gets it
    const std::vector<FactsDbColumn> columns = facts_flow_columns(tmp.path());
    size_t at = 0;
    while (at < columns.size() && columns[at].name != facts::kAppFactColumns[0]) ++at;
    const size_t n = std::size(facts::kAppFactColumns);
    ASSERT_LE(at + n, columns.size()) << "the flow table lacks the facts' columns";
    for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(columns[at + i].name, facts::kAppFactColumns[i]);
        EXPECT_EQ(columns[at + i].declaration, facts::kAppFactDeclarations[i]) << columns[at + i].name;
    }
    // Each column once: no fact is declared beside the table as well.
    for (size_t i = 0; i < columns.size(); ++i)
        for (size_t j = i + 1; j < columns.size(); ++j) EXPECT_NE(columns[i].name, columns[j].name);
}

TEST(FactsTable, EveryFactGoesThroughTheRowFactsOfAndTheKeptFlows) {
    const store::FlowAppInfo app = facts_all_set();
    const attrib::FlowFacts read = facts_through_row(app);
    const attrib::FlowFacts live = attrib::facts_of(facts_test_flow(), app);
    attrib::KeptFlows kept;
    kept.add(live, facts::FlowNames{});
    std::vector<attrib::FlowFacts> page;
    size_t at = 0;
    kept.page(at, 10, page);
    ASSERT_EQ(page.size(), 1u);
#define FACTS_TEST_EXPECT(type, member, init, decl, stored)           \
    EXPECT_EQ(read.member, app.member) << #member " through the row"; \
    EXPECT_EQ(live.member, app.member) << #member " by facts_of";     \
    EXPECT_EQ(page[0].member, app.member) << #member " kept";         \
    EXPECT_NE(app.member, static_cast<type>(init)) << #member " set";
    CALLWALL_FLOW_APP_FACTS(FACTS_TEST_EXPECT)
#undef FACTS_TEST_EXPECT
}

TEST(FactsTable, DefaultsReadBackAsDefaults) {
    const attrib::FlowFacts read = facts_through_row(store::FlowAppInfo{});
#define FACTS_TEST_DEFAULT(type, member, init, decl, stored) EXPECT_EQ(read.member, static_cast<type>(init)) << #member;
    CALLWALL_FLOW_APP_FACTS(FACTS_TEST_DEFAULT)
#undef FACTS_TEST_DEFAULT
    EXPECT_EQ(read.tls_alert, -1);
}

TEST(FactsTable, ColumnValuesStoreNullWhereDeclared) {
    facts::FlowAppFacts f;
    f.stun_last_error = 0;
    f.tls_alert = -1;
    const auto none = facts::column_values(f);
    EXPECT_FALSE(std::get<4>(none).has_value()) << "stun_last_error 0 is NULL";
    f.stun_last_error = 438;
    f.tls_alert = 40;
    const auto some = facts::column_values(f);
    EXPECT_EQ(std::get<4>(some), std::optional<int64_t>(438));
    EXPECT_EQ(std::get<0>(some), 0) << "a count is its value, 0 included";
}

// A fact added to the table alone (ttl_first_*): the flow table records the
// TTL of each side's first packet, and the row has it. In the lab capture the
// client (10.77.1.10) sends with TTL 64 and the answers come one router away
// (63): frame 3 to 10.77.100.53:53 from port 53605, frame 4 the answer.
TEST(FactsTable, FirstPacketTtlOfEachSideIsStored) {
    test::TempDb tmp;
    const int64_t run =
        test::analyze_files({std::string(CALLWALL_SOURCE_DIR) + "/captures/lab/restrictive/client.pcap"}, tmp.path());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(tmp.path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    const auto ints = [&](const std::string& sql) {
        std::vector<int64_t> out;
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
        while (st && sqlite3_step(st) == SQLITE_ROW)
            for (int i = 0; i < sqlite3_column_count(st); ++i) out.push_back(sqlite3_column_int64(st, i));
        sqlite3_finalize(st);
        return out;
    };
    const std::string where = " FROM flow WHERE run_id=" + std::to_string(run);
    EXPECT_EQ(ints("SELECT ttl_first_c2s, ttl_first_s2c" + where + " AND client_port=53605 AND server_port=53"),
              (std::vector<int64_t>{64, 63}));
    // Every flow that answered has both; one that did not has no s2c TTL (NULL).
    EXPECT_EQ(
        ints("SELECT count(*)" + where + " AND packets_s2c > 0 AND (ttl_first_c2s IS NULL OR ttl_first_s2c IS NULL)"),
        (std::vector<int64_t>{0}));
    EXPECT_EQ(ints("SELECT count(*)" + where + " AND packets_s2c = 0 AND ttl_first_s2c IS NOT NULL"),
              (std::vector<int64_t>{0}));
    const std::vector<int64_t> one_way = ints("SELECT count(*)" + where + " AND packets_s2c = 0");
    ASSERT_EQ(one_way.size(), 1u);
    EXPECT_GT(one_way[0], 0) << "the restrictive lab drops some of the client's flows";
    sqlite3_close_v2(db);
}

}  // namespace
}  // namespace callwall
