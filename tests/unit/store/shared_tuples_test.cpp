// AttributionIo::for_each_shared_tuple: the rows of each 5-tuple that has
// several in a run (a full flow table splits an exchange into flows of one
// tuple), grouped as the tuple's transport and its two endpoints, the lower
// first, define them: what the split rows of attribution are found from.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "attrib/stage.hpp"
#include "golden/run_util.hpp"
#include "store/attribution_io.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::store {
namespace {

using test::TempDb;

/// A tuple's rows in id order: their ids, client_low and directions.
struct TupleGroup {
    std::vector<uint64_t> ids;
    std::vector<bool> low, c2s, s2c;
};

/// The rows that lack a direction another row of their tuple carries
/// (attribution's split rows).
std::set<uint64_t> split_rows(const std::vector<TupleGroup>& groups) {
    std::set<uint64_t> split;
    std::vector<attrib::stage::TupleRow> rows;
    for (const TupleGroup& g : groups) {
        rows.clear();
        for (size_t i = 0; i < g.ids.size(); ++i) rows.push_back({g.ids[i], g.low[i], g.c2s[i], g.s2c[i]});
        attrib::stage::add_split_rows(rows, split);
    }
    return split;
}

/// What the store returns, each group's rows in id order, the groups by
/// first id; with `hash_bits` of the tuples' hash kept (fewer than 64: many
/// different tuples share a hash, and the store tells them apart).
std::vector<TupleGroup> stored_groups(const std::string& db, int64_t run, int hash_bits = 64) {
    std::vector<TupleGroup> out;
    auto s = Store::open(db);
    AttributionIo io(*s, run);
    io.set_tuple_hash_bits(hash_bits);
    io.for_each_shared_tuple([&](const std::vector<TupleRow>& rows) {
        std::vector<TupleRow> sorted = rows;
        std::sort(sorted.begin(), sorted.end(), [](const TupleRow& a, const TupleRow& b) { return a.id < b.id; });
        TupleGroup g;
        for (const auto& r : sorted) {
            g.ids.push_back(r.id);
            g.low.push_back(r.client_low);
            g.c2s.push_back(r.c2s);
            g.s2c.push_back(r.s2c);
        }
        out.push_back(std::move(g));
    });
    std::sort(out.begin(), out.end(), [](const TupleGroup& a, const TupleGroup& b) { return a.ids < b.ids; });
    return out;
}

/// The groups by the definition, from the rows as text: the endpoints as
/// "address port" strings, the lower of the two first, and client_low
/// whether the client's string is the lower.
std::vector<TupleGroup> expected_groups(const std::string& db, int64_t run) {
    std::map<std::tuple<std::string, std::string, std::string>, TupleGroup> tuples;
    for (const std::string& row :
         test::query_rows(db,
                          "SELECT id, transport, client_ip, client_port, server_ip, server_port, packets_c2s > 0, "
                          "packets_s2c > 0 FROM flow WHERE run_id=" +
                              std::to_string(run) + " ORDER BY id")) {
        std::istringstream in(row);
        std::string id, transport, cip, cport, sip, sport, c2s, s2c;
        for (std::string* field : {&id, &transport, &cip, &cport, &sip, &sport, &c2s, &s2c})
            std::getline(in, *field, '\t');
        const std::string a = cip + " " + cport, b = sip + " " + sport;
        TupleGroup& g = tuples[{transport, std::min(a, b), std::max(a, b)}];
        g.ids.push_back(std::stoull(id));
        g.low.push_back(a < b);
        g.c2s.push_back(c2s == "1");
        g.s2c.push_back(s2c == "1");
    }
    std::vector<TupleGroup> out;
    for (auto& [key, g] : tuples)
        if (g.ids.size() > 1) out.push_back(std::move(g));
    std::sort(out.begin(), out.end(), [](const TupleGroup& a, const TupleGroup& b) { return a.ids < b.ids; });
    return out;
}

/// Rows of one group have the same client exactly when their client_low
/// agree, whichever endpoint is called the lower: the same in both, or
/// flipped for every row of the group.
bool same_clients(const TupleGroup& a, const TupleGroup& b) {
    if (a.ids != b.ids) return false;
    const bool flipped = a.low[0] != b.low[0];
    for (size_t i = 0; i < a.low.size(); ++i)
        if ((a.low[i] != b.low[i]) != flipped) return false;
    return true;
}

std::string ids_text(const TupleGroup& g) {
    std::string s;
    for (size_t i = 0; i < g.ids.size(); ++i) s += std::to_string(g.ids[i]) + (g.low[i] ? "L " : "H ");
    return s;
}

/// The store's groups against the definition's, and the split rows found
/// from each. Adds to the counts: groups, groups whose rows have different
/// clients, split rows.
void expect_groups_match(const std::string& db, int64_t run, size_t& groups, size_t& mixed, size_t& split,
                         int hash_bits = 64) {
    SCOPED_TRACE("hash bits " + std::to_string(hash_bits));
    const auto got = stored_groups(db, run, hash_bits);
    const auto want = expected_groups(db, run);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(same_clients(got[i], want[i])) << "stored " << ids_text(got[i]) << "; wanted " << ids_text(want[i]);
        EXPECT_EQ(got[i].c2s, want[i].c2s);
        EXPECT_EQ(got[i].s2c, want[i].s2c);
        mixed += std::find(want[i].low.begin(), want[i].low.end(), !want[i].low[0]) != want[i].low.end();
    }
    const std::set<uint64_t> from_store = split_rows(got);
    EXPECT_EQ(from_store, split_rows(want));
    groups += got.size();
    split += from_store.size();
}

// Every committed capture through a flow table of eight flows, so that
// exchanges are split into flows of one tuple: the groups the store returns
// are the tuples' rows, and the split rows found from them are the same as
// found from the rows by the definition.
TEST(SharedTuples, EveryCommittedCaptureThroughASmallTableGroupsAsTheTuplesDo) {
    const auto captures = test::committed_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir();
    size_t groups = 0, mixed = 0, split = 0;
    for (const auto& capture : captures) {
        SCOPED_TRACE(capture.string());
        TempDb db;
        pipeline::AnalyzerConfig small;
        small.flows.max_flows = 8;
        const int64_t run = test::analyze_files({capture.string()}, db.path(), small);
        expect_groups_match(db.path(), run, groups, mixed, split);
        size_t unused = 0;
        expect_groups_match(db.path(), run, unused, unused, unused, 2);  // four hashes: every tuple shares one
    }
    std::printf("%zu captures: %zu tuples with several rows, %zu with different clients, %zu split rows\n",
                captures.size(), groups, mixed, split);
    EXPECT_GT(groups, 100u) << "tuples with several rows over " << captures.size() << " captures";
    EXPECT_GE(mixed, 3u) << "groups whose rows have different clients";
    EXPECT_GT(split, 10u) << "split rows";
}

// Endpoints whose order as "address port" text differs from their order as
// address, then port number (80 and 443 on one address; an address that is
// another's prefix), a flow from an endpoint to itself, and one tuple over
// two transports: the same groups as the definition's.
TEST(SharedTuples, EndpointsOrderedAsTextOrAsNumbersGroupAlike) {
    TempDb db;
    { auto s = Store::open(db.path()); }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
    std::string sql =
        "BEGIN; INSERT INTO run (id, kind, source, command_line, tool_version, started_at, status, flows_evicted_full) "
        "VALUES (1, 'analyze', 't', 't', 't', 0, 'completed', 1);";
    struct Row {
        const char* transport;
        const char* cip;
        int cport;
        const char* sip;
        int sport;
        int c2s, s2c;
    };
    const Row rows[] = {
        {"tcp", "10.0.0.1", 80, "10.0.0.1", 443, 1, 0},  // 1: text "10.0.0.1 443" < "10.0.0.1 80", numbers 80 < 443
        {"tcp", "10.0.0.1", 443, "10.0.0.1", 80, 1, 1},  // 2: the same tuple, the other client
        {"udp", "10.0.0.1", 80, "10.0.0.1", 443, 1, 0},  // 3: the same endpoints over UDP: a tuple of its own
        {"udp", "10.0.0.1", 5000, "10.0.0.12", 5000, 1, 0},  // 4: "10.0.0.1" a prefix of "10.0.0.12"
        {"udp", "10.0.0.12", 5000, "10.0.0.1", 5000, 1, 0},  // 5
        {"udp", "2001:db8::1", 9, "2001:db8::1", 9, 1, 0},  // 6: an endpoint to itself
        {"udp", "2001:db8::1", 9, "2001:db8::1", 9, 0, 1},  // 7
        {"udp", "192.0.2.1", 53, "192.0.2.2", 53, 1, 0},  // 8: alone
    };
    int id = 0;
    for (const Row& r : rows)
        sql +=
            "INSERT INTO flow (run_id, id, transport, client_ip, client_port, server_ip, server_port, "
            "initiator_guessed, first_ts, last_ts, packets_c2s, bytes_c2s, packets_s2c, bytes_s2c, state) VALUES (1, " +
            std::to_string(++id) + ", '" + r.transport + "', '" + r.cip + "', " + std::to_string(r.cport) + ", '" +
            r.sip + "', " + std::to_string(r.sport) + ", 0, 1, 2, " + std::to_string(r.c2s) + ", 60, " +
            std::to_string(r.s2c) + ", 60, 'x');";
    ASSERT_EQ(sqlite3_exec(raw, (sql + "COMMIT;").c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
    size_t groups = 0, mixed = 0, split = 0;
    for (const int bits : {1, 2})  // the eight rows under one or four hashes
        expect_groups_match(db.path(), 1, groups, mixed, split, bits);
    EXPECT_EQ(groups, 6u);
    groups = mixed = split = 0;
    expect_groups_match(db.path(), 1, groups, mixed, split);
    EXPECT_EQ(groups, 3u);
    EXPECT_EQ(split, 4u) << "rows 1, 4, 5 and 6: another row of their tuple carries their answer's direction";
    EXPECT_EQ(mixed, 2u) << "tcp 1-2 and udp 4-5 have different clients";
    const auto got = stored_groups(db.path(), 1);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].ids, (std::vector<uint64_t>{1, 2}));
    EXPECT_NE(got[0].low[0], got[0].low[1]);
    EXPECT_EQ(got[1].ids, (std::vector<uint64_t>{4, 5}));
    EXPECT_EQ(got[2].ids, (std::vector<uint64_t>{6, 7}));
    EXPECT_EQ(got[2].low[0], got[2].low[1]) << "an endpoint to itself is its own lower endpoint or neither";
}

}  // namespace
}  // namespace callwall::store
