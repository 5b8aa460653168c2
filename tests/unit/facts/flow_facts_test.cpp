// The per-flow application facts are declared once (facts/flow_facts.hpp):
// the flow table the store creates has their columns, in their order, with
// their declarations; a value of every fact goes through the row (INSERT,
// then the SELECT attribution reads), through facts_of and through the kept
// flows unchanged; and the defaults (stored as NULL where the declaration
// says so) read back as the defaults.
#include "facts/flow_facts.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <tuple>
#include <string_view>
#include <string>
#include <vector>

#include "attrib/kept_flows.hpp"
#include "attrib/flow_row.hpp"
#include "flow/flow_table.hpp"
#include "golden/run_util.hpp"
#include "sqlite_rows.hpp"
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

// Every application fact set to a value of its own, none its default, and
// the flow's text columns too.
store::FlowAppInfo facts_all_set() {
    store::FlowAppInfo app;
    int64_t k = 2;
#define FACTS_TEST_SET(type, member, init, decl, stored, read, ...) app.member = static_cast<type>(k++);
    CALLWALL_FLOW_APP_FACTS(FACTS_TEST_SET)
#undef FACTS_TEST_SET
    app.app = "stun+turn";
    app.name = "turn.example.com";
    app.name_source = "dns";
    app.outcome = "observed";
    app.roles = 9;
    return app;
}

// A flow whose own columns are all set (nothing NULL); `none`: one that
// sent a single packet and nothing else (every nullable column NULL).
flow::Flow facts_test_flow(bool none = false) {
    flow::Flow f;
    f.id = 7;
    f.proto = decode::kProtoUdp;
    f.client_ip = decode::IpAddr::v4(0x0A000001u);
    f.server_ip = decode::IpAddr::v4(0xC6336401u);
    f.client_port = 50000;
    f.server_port = 3478;
    f.packets[flow::kFromClient] = 3;
    f.bytes[flow::kFromClient] = 300;
    f.first_ts_us = 1'767'225'600'000'000;
    f.last_ts_us = f.first_ts_us + 1'000'000;
    if (none) return f;
    f.initiator_guessed = true;
    f.packets[flow::kFromServer] = 2;
    f.bytes[flow::kFromServer] = 250;
    f.ttl_min[flow::kFromServer] = 40;
    f.ttl_max[flow::kFromServer] = 60;
    f.tcp.syn = 2;
    f.tcp.synack = 1;
    f.tcp.first_syn_us = f.first_ts_us + 5;
    f.tcp.last_syn_us = f.first_ts_us + 900'000;
    f.tcp.rst[flow::kFromServer] = true;
    f.tcp.rst_ttl = 55;
    f.tcp.client_acked = true;  // the client acknowledged 1200 bytes of the server's
    f.tcp.ack_base = 1000;
    f.tcp.ack_max = 2200;
    f.later_fragments = 4;
    f.icmp_errors = 2;
    f.icmp_type = 1;
    f.icmp_code = 4;
    (void)decode::parse_ip("2001:db8::9", f.icmp_from);
    f.link_broadcast = true;
    f.interfaces = 0b101;  // interfaces 0 and 2
    return f;
}

// The flow written with `app`, read back as attribution reads it.
attrib::FlowFacts facts_through_row(const flow::Flow& f, const store::FlowAppInfo& app, test::TempDb& tmp) {
    int64_t run = 0;
    {
        auto s = store::Store::open(tmp.path());
        run = s->begin_run(store::RunInfo{"analyze", "test.pcap", "test", "", 1.0});
        s->add_flow(run, f, app);
        s->flush();
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(tmp.path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::vector<attrib::FlowFacts> flows;
    store::read_flows(db, tmp.path(), run, {f.id}, flows);
    sqlite3_close_v2(db);
    EXPECT_EQ(flows.size(), 1u);
    return flows.empty() ? attrib::FlowFacts{} : flows.front();
}

// The row's columns as SQLite returns them, as text ("NULL" for NULL).
std::vector<std::string> facts_row_text(const std::string& path) {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT * FROM flow", -1, &st, nullptr), SQLITE_OK);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
            const auto* p = sqlite3_column_text(st, i);
            out.push_back(p ? reinterpret_cast<const char*>(p) : "NULL");
        }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return out;
}

TEST(FactsTable, TheFlowTableHasEveryColumnInOrderAsDeclared) {
    test::TempDb tmp;
    store::Store::open(tmp.path()).reset();  // the schema, as a new database gets it
    const std::vector<FactsDbColumn> columns = facts_flow_columns(tmp.path());
    const size_t n = std::size(facts::kFlowColumns);
    ASSERT_EQ(columns.size(), 1 + n) << "run_id, then the record's columns, nothing else";
    EXPECT_EQ(columns[0].name, "run_id");
    for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(columns[1 + i].name, facts::kFlowColumns[i]);
        EXPECT_EQ(columns[1 + i].declaration, facts::kFlowColumnDeclarations[i]) << columns[1 + i].name;
    }
    // The application facts are among them, in their order.
    static constexpr const char* kAppFacts[] = {
#define FACTS_TEST_NAME(type, member, init, decl, stored, read, ...) #member,
        CALLWALL_FLOW_APP_FACTS(FACTS_TEST_NAME)
#undef FACTS_TEST_NAME
    };
    size_t at = 0;
    while (at < n && std::string_view(facts::kFlowColumns[at]) != kAppFacts[0]) ++at;
    ASSERT_LE(at + std::size(kAppFacts), n) << "the application facts are not among the columns";
    for (size_t i = 0; i < std::size(kAppFacts); ++i)
        EXPECT_EQ(std::string_view(facts::kFlowColumns[at + i]), kAppFacts[i]);
    // Each column once: no column is declared beside the table as well.
    for (size_t i = 0; i < columns.size(); ++i)
        for (size_t j = i + 1; j < columns.size(); ++j) EXPECT_NE(columns[i].name, columns[j].name);
}

// Every column attribution reads holds the same value through the row,
// through facts_of and through the kept flows, and none is its default in
// this flow (so each was carried, not left alone).
TEST(FactsTable, EveryColumnGoesThroughTheRowFactsOfAndTheKeptFlows) {
    const store::FlowAppInfo app = facts_all_set();
    const flow::Flow f = facts_test_flow();
    test::TempDb tmp;
    const attrib::FlowFacts from_row = facts_through_row(f, app, tmp);
    const attrib::FlowFacts live = attrib::facts_of(f, app);
    attrib::KeptFlows kept;
    kept.add(live, facts::FlowNames{});
    std::vector<attrib::FlowFacts> page;
    size_t at = 0;
    kept.page(at, 10, page);
    ASSERT_EQ(page.size(), 1u);
    const attrib::FlowFacts none;
#define FACTS_TEST_EXPECT(type, member, init, decl, stored, read, ...)                             \
    CALLWALL_FLOW_IF_##read(EXPECT_EQ(from_row.member, live.member) << #member " through the row"; \
                            EXPECT_EQ(page[0].member, live.member) << #member " kept";             \
                            EXPECT_NE(live.member, none.member) << #member " set";)
    CALLWALL_FLOW_COLUMNS(FACTS_TEST_EXPECT)
#undef FACTS_TEST_EXPECT
#define FACTS_TEST_APP(type, member, init, decl, stored, read, ...) EXPECT_EQ(live.member, app.member) << #member;
    CALLWALL_FLOW_APP_FACTS(FACTS_TEST_APP)
#undef FACTS_TEST_APP
    EXPECT_EQ(live.transport, "udp");
    EXPECT_EQ(live.client_ip, "10.0.0.1");
    EXPECT_EQ(live.server_ip, "198.51.100.1");
    EXPECT_EQ(live.state, "answered");
    EXPECT_EQ(live.icmp_from, "2001:db8::9");
    EXPECT_EQ(live.icmp_family(), 6);
    EXPECT_EQ(live.rst_ttl, 55);
    EXPECT_EQ(live.server_ttl_min, 40);
    EXPECT_DOUBLE_EQ(live.first_syn_ts, 1'767'225'600.000005);
    // The columns only the row has, as written.
    const std::vector<std::string> row = facts_row_text(tmp.path());
    const auto column = [&](std::string_view name) {
        for (size_t i = 0; i < std::size(facts::kFlowColumns); ++i)
            if (facts::kFlowColumns[i] == name && 1 + i < row.size()) return row[1 + i];
        return std::string("missing");
    };
    EXPECT_EQ(column("initiator_guessed"), "1");
    EXPECT_EQ(column("bytes_c2s"), "300");
    EXPECT_EQ(column("bytes_s2c"), "250");
    EXPECT_EQ(column("later_fragments"), "4");
}

// A column stored as NULL when it holds nothing (no SYN, no RST, no answer,
// no ICMP error, no STUN error, no TLS alert) is NULL in the row and reads
// back as its default.
TEST(FactsTable, NullableColumnsAreNullAndReadBackAsDefaults) {
    test::TempDb tmp;
    const flow::Flow f = facts_test_flow(true);
    const attrib::FlowFacts from_row = facts_through_row(f, store::FlowAppInfo{}, tmp);
    const attrib::FlowFacts none;
    const std::vector<std::string> row = facts_row_text(tmp.path());
    ASSERT_EQ(row.size(), 1 + std::size(facts::kFlowColumns));
    size_t i = 1;
    // A Value column is never NULL; any other is, and reads back as its default.
#define FACTS_TEST_NULL_Value(member, read) EXPECT_NE(row[i], "NULL") << #member;
#define FACTS_TEST_NULL_Nullable(member, read) \
    EXPECT_EQ(row[i], "NULL") << #member;      \
    CALLWALL_FLOW_IF_##read(EXPECT_EQ(from_row.member, none.member) << #member;)
#define FACTS_TEST_NULL_ZeroIsNull FACTS_TEST_NULL_Nullable
#define FACTS_TEST_NULL_NegativeIsNull FACTS_TEST_NULL_Nullable
#define FACTS_TEST_NULL_EmptyIsNull FACTS_TEST_NULL_Nullable
#define FACTS_TEST_DEFAULT(type, member, init, decl, stored, read, ...) FACTS_TEST_NULL_##stored(member, read) i += 1;
    CALLWALL_FLOW_COLUMNS(FACTS_TEST_DEFAULT)
#undef FACTS_TEST_DEFAULT
#undef FACTS_TEST_NULL_Value
#undef FACTS_TEST_NULL_Nullable
#undef FACTS_TEST_NULL_ZeroIsNull
#undef FACTS_TEST_NULL_NegativeIsNull
#undef FACTS_TEST_NULL_EmptyIsNull
    EXPECT_EQ(from_row.tls_alert, -1);
    EXPECT_EQ(from_row.rst_ttl, -1);
    EXPECT_EQ(from_row.first_syn_ts, 0.0);
    EXPECT_EQ(from_row.icmp_from, "");
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
        std::string why;
        EXPECT_EQ(test::prepare_one(db, sql, &st, why), SQLITE_OK) << sql << ": " << why;
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

// Turning a flow (seen from its other side) follows each column's line:
// a pair's two sides trade places, a responder's share of a count becomes
// the rest of it, the far end's TTLs and acknowledgements are forgotten,
// the sides' role bits trade, every other column stays; turning twice
// gives the flow back but for what was forgotten.
TEST(FactsTable, TurningAFlowFollowsEachColumnsLine) {
    facts::FlowFacts f;
    f.id = 7;
    f.transport = "udp";
    f.client_ip = "192.0.2.1";
    f.server_ip = "198.51.100.2";
    f.client_port = 3478;
    f.server_port = 50000;
    f.packets_c2s = 10;
    f.packets_s2c = 20;
    f.ttl_first_c2s = 60;
    f.ttl_first_s2c = 120;
    f.stun_requests = 9;
    f.stun_requests_s2c = 4;
    f.stun_answered = 7;
    f.stun_answered_s2c = 2;
    f.stun_retransmissions = 5;
    f.stun_retransmissions_s2c = 1;
    f.server_ttl_min = 50;
    f.server_ttl_max = 58;
    f.acked_s2c = 100;
    f.roles = flow::kClientAnswered | flow::kServerAsked;
    f.rtp_packets = 33;
    f.outcome = "observed";
    facts::FlowFacts t = f;
    facts::turn_columns(t);
    EXPECT_EQ(std::tie(t.client_ip, t.server_ip, t.client_port, t.server_port),
              std::tie(f.server_ip, f.client_ip, f.server_port, f.client_port));
    EXPECT_EQ(std::tie(t.packets_c2s, t.packets_s2c, t.ttl_first_c2s, t.ttl_first_s2c),
              std::tie(f.packets_s2c, f.packets_c2s, f.ttl_first_s2c, f.ttl_first_c2s));
    EXPECT_EQ(t.stun_requests_s2c, 5u);
    EXPECT_EQ(t.stun_answered_s2c, 5u);
    EXPECT_EQ(t.stun_retransmissions_s2c, 4u);
    EXPECT_EQ(std::tie(t.stun_requests, t.stun_answered, t.stun_retransmissions),
              std::tie(f.stun_requests, f.stun_answered, f.stun_retransmissions));
    EXPECT_EQ(std::tie(t.server_ttl_min, t.server_ttl_max, t.acked_s2c), std::make_tuple(-1, -1, -1));
    EXPECT_EQ(t.roles, flow::kClientAsked | flow::kServerAnswered);
    EXPECT_EQ(std::tie(t.id, t.transport, t.rtp_packets, t.outcome),
              std::tie(f.id, f.transport, f.rtp_packets, f.outcome));
    facts::turn_columns(t);
    facts::FlowFacts back = f;
    back.server_ttl_min = back.server_ttl_max = -1;
    back.acked_s2c = -1;
    size_t columns = 0;
    facts::each_read_column(t, back, [&](const auto& x, const auto& y) {
        EXPECT_EQ(x, y) << "column " << columns;
        ++columns;
    });
    EXPECT_GT(columns, 40u);
}

// Each Pair line names a column whose line says PairOf and names it back.
TEST(FactsTable, EachPairOfSidesIsDeclaredOnBothLines) {
    struct Line {
        std::string_view member, turned, other;
    };
#define FACTS_TEST_TURNED(type, member, init, decl, stored, read, turned, ...) \
    Line{#member, #turned, "" __VA_OPT__(#__VA_ARGS__)},
    const std::vector<Line> lines = {CALLWALL_FLOW_COLUMNS(FACTS_TEST_TURNED)};
#undef FACTS_TEST_TURNED
    size_t pairs = 0;
    for (const Line& l : lines) {
        if (l.turned != "Pair") continue;
        ++pairs;
        const auto other = std::find_if(lines.begin(), lines.end(), [&](const Line& o) { return o.member == l.other; });
        ASSERT_NE(other, lines.end()) << l.member << " pairs with no column " << l.other;
        EXPECT_EQ(other->turned, "PairOf") << l.member;
        EXPECT_EQ(other->other, l.member) << l.member;
    }
    for (const Line& l : lines)
        if (l.turned == "PairOf")
            EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const Line& o) {
                return o.turned == "Pair" && o.other == l.member;
            })) << l.member;
    EXPECT_EQ(pairs, 5u);  // the addresses, the ports, packets, bytes and first TTLs of each side
}

}  // namespace
}  // namespace callwall
