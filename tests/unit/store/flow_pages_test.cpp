// FlowPagesAhead (store/flow_pages.hpp): the pages read ahead on a connection
// of their own are the pages the caller's connection reads, page for page;
// that reader sees the database as committed, never the caller's open
// transaction; it stops when dropped midway; it declines a database that is
// not a file in WAL mode; its errors reach the caller; the STUN hosts it
// scans first are the caller's. And run_attribution,
// which reads ahead when the store writes behind, writes the same rows either
// way on every scenario capture.
#include "store/flow_pages.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "attrib/store_io.hpp"
#include "golden/run_util.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::store {
namespace {

using test::TempDb;

// Every field attribution reads, as one line.
std::string facts_line(const attrib::FlowFacts& f) {
    std::string s =
        std::to_string(f.id) + " " + f.transport + " " + f.client_ip + ":" + std::to_string(f.client_port) + " " +
        f.server_ip + ":" + std::to_string(f.server_port) + " " + std::to_string(f.first_ts) + " " +
        std::to_string(f.last_ts) + " " + std::to_string(f.packets_c2s) + "/" + std::to_string(f.packets_s2c) + " " +
        f.state + " syn " + std::to_string(f.syn_count) + "/" + std::to_string(f.synack_count) + " " +
        std::to_string(f.first_syn_ts) + " " + std::to_string(f.last_syn_ts) + " ttl " + std::to_string(f.rst_ttl) +
        " " + std::to_string(f.server_ttl_min) + "-" + std::to_string(f.server_ttl_max) + " icmp " +
        std::to_string(f.icmp_errors) + " " + std::to_string(f.icmp_type) + "/" + std::to_string(f.icmp_code) + " " +
        f.icmp_from + " v" + std::to_string(f.icmp_family) + " app " + f.app + " stun " +
        std::to_string(f.stun_requests) + "," + std::to_string(f.stun_answered) + "," + std::to_string(f.stun_errors) +
        "," + std::to_string(f.stun_retransmissions) + "," + std::to_string(f.stun_ice_checks) + "," +
        std::to_string(f.stun_requests_s2c) + "," + std::to_string(f.stun_answered_s2c) + "," +
        std::to_string(f.stun_retransmissions_s2c) + " proxy " + std::to_string(f.proxy_port) + " rtp " +
        std::to_string(f.rtp_packets) + " dtls " + std::to_string(f.dtls_handshake) + " cd " +
        std::to_string(f.channel_data) + " outcome '" + f.stored_outcome + "' names";
    for (const auto& n : f.names) s += " " + n.name + "(" + n.source + ")";
    return s;
}

flow::Flow paged_flow(uint64_t id) {
    flow::Flow f;
    f.id = id;
    f.proto = id % 97 == 0 ? decode::kProtoIcmp : (id % 3 ? decode::kProtoUdp : decode::kProtoTcp);
    f.client_ip = decode::IpAddr::v4(0x0A000000u + static_cast<uint32_t>(id % 5000));
    if (id % 7 == 0)
        EXPECT_TRUE(decode::parse_ip("2001:db8::7", f.server_ip));
    else
        f.server_ip = decode::IpAddr::v4(0xC6336400u + static_cast<uint32_t>(id % 200));
    f.client_port = static_cast<uint16_t>(1024 + id % 60000);
    f.server_port = id % 2 ? 3478 : 443;
    f.packets[0] = id % 7 + 1;
    f.packets[1] = id % 5;
    f.first_ts_us = 1'767'225'600'000'000 + static_cast<int64_t>(id) * 1000;
    f.last_ts_us = f.first_ts_us + 1'500'000;
    return f;
}

// A run of `n` flows (every 97th ICMP, which attribution does not read), some
// with one name and some with two, written into the database at `path` and
// the store closed.
int64_t write_run(const std::string& path, uint64_t n) {
    auto s = Store::open(path);
    const int64_t run = s->begin_run(RunInfo{"analyze", "test.pcap", "test", "", 1.0});
    for (uint64_t i = 1; i <= n; ++i) {
        FlowAppInfo app;
        app.app = i % 2 ? "stun" : "tls";
        app.stun_requests = static_cast<uint32_t>(i % 3);
        app.stun_answered = i % 3 == 1 ? 1 : 0;  // the client's own request answered
        app.stun_answered_s2c = i % 10 == 0 ? 1 : 0;  // the server's request towards the client answered
        s->add_flow(run, paged_flow(i), app);
        if (i % 3 == 0) s->add_flow_name(run, i, "media" + std::to_string(i % 11) + ".example.com", "sni");
        if (i % 6 == 0) s->add_flow_name(run, i, "turn.example.com", "dns");
    }
    s->flush();
    return run;
}

// The run's pages as lines, read on `db` itself (ahead == false) or ahead.
std::vector<std::string> pages(sqlite3* db, const std::string& path, int64_t run, bool ahead, size_t& page_count) {
    std::vector<std::string> lines;
    std::vector<attrib::FlowFacts> page;
    page_count = 0;
    std::unique_ptr<FlowPagesAhead> a;
    if (ahead) {
        a = FlowPagesAhead::start(db, path, run, 1024);
        EXPECT_NE(a, nullptr) << "a file in WAL mode is read ahead";
        if (!a) return lines;
    }
    for (uint64_t after = 0;;) {
        if (a)
            a->next(page);
        else
            read_flow_page(db, path, run, after, 1024, page);
        if (page.empty()) break;
        ++page_count;
        after = page.back().id;
        for (const auto& f : page) lines.push_back(facts_line(f));
    }
    return lines;
}

struct Raw {
    sqlite3* db = nullptr;
    explicit Raw(const std::string& path, int flags = SQLITE_OPEN_READWRITE) {
        EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, flags, nullptr), SQLITE_OK) << path;
    }
    ~Raw() { sqlite3_close_v2(db); }
    void exec(const char* sql) const { ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql; }
};

TEST(FlowPagesAhead, ReadsThePagesTheCallersConnectionReads) {
    TempDb tmp;
    const int64_t run = write_run(tmp.path(), 2600);
    Raw raw(tmp.path());
    size_t own_pages = 0, ahead_pages = 0;
    const auto own = pages(raw.db, tmp.path(), run, false, own_pages);
    const auto ahead = pages(raw.db, tmp.path(), run, true, ahead_pages);
    EXPECT_EQ(own_pages, 3u);  // 2600 flows less 26 ICMP: 1024 + 1024 + 526
    EXPECT_EQ(own.size(), 2600u - 26u);
    EXPECT_EQ(ahead_pages, own_pages);
    EXPECT_EQ(ahead, own);
    ASSERT_FALSE(own.empty());
    EXPECT_NE(own[2].find("names media3.example.com(sni)"), std::string::npos) << own[2];
    EXPECT_NE(own[5].find("names media6.example.com(sni) turn.example.com(dns)"), std::string::npos) << own[5];
}

// The hosts with an answered STUN request of their own, which the thread
// scans before its first page (while the caller builds the indexes), are
// the ones the caller's connection finds; the pages follow as before.
TEST(FlowPagesAhead, ScansTheStunHostsTheCallersConnectionFinds) {
    TempDb tmp;
    const int64_t run = write_run(tmp.path(), 2600);
    Raw raw(tmp.path());
    const std::set<std::string> own = read_stun_answered_hosts(raw.db, tmp.path(), run);
    EXPECT_EQ(own.count("10.0.0.1"), 1u);  // flow 1: its client's request answered
    EXPECT_EQ(own.count("198.51.100.10"), 1u);  // flow 10: its server's request answered
    EXPECT_EQ(own.count("10.0.0.2"), 0u);  // flow 2: nothing answered
    auto a = FlowPagesAhead::start(raw.db, tmp.path(), run, 1024);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->stun_answered_hosts(), own);
    EXPECT_EQ(a->stun_answered_hosts(), own) << "asked again";
    std::vector<attrib::FlowFacts> page;
    size_t flows = 0;
    for (a->next(page); !page.empty(); a->next(page)) flows += page.size();
    EXPECT_EQ(flows, 2600u - 26u);
}

TEST(FlowPagesAhead, SeesTheDatabaseAsCommittedNotTheCallersOpenTransaction) {
    TempDb tmp;
    const int64_t run = write_run(tmp.path(), 1500);
    Raw raw(tmp.path());
    raw.exec("BEGIN");
    raw.exec("UPDATE flow SET outcome='blocked:no-answer' WHERE id=1100");
    size_t n = 0;
    const auto own = pages(raw.db, tmp.path(), run, false, n);
    const auto ahead = pages(raw.db, tmp.path(), run, true, n);
    raw.exec("ROLLBACK");
    ASSERT_EQ(own.size(), ahead.size());
    size_t differ = 0;
    for (size_t i = 0; i < own.size(); ++i) {
        if (own[i] == ahead[i]) continue;
        ++differ;
        EXPECT_EQ(own[i].rfind("1100 ", 0), 0u) << own[i];
        EXPECT_NE(own[i].find("outcome 'blocked:no-answer'"), std::string::npos) << own[i];
        EXPECT_NE(ahead[i].find("outcome ''"), std::string::npos) << ahead[i];
    }
    EXPECT_EQ(differ, 1u);
}

TEST(FlowPagesAhead, StopsWhenDroppedMidway) {
    TempDb tmp;
    const int64_t run = write_run(tmp.path(), 9000);  // nine pages: the reader waits with four ready
    Raw raw(tmp.path());
    auto a = FlowPagesAhead::start(raw.db, tmp.path(), run, 1024);
    ASSERT_NE(a, nullptr);
    std::vector<attrib::FlowFacts> page;
    a->next(page);
    EXPECT_EQ(page.size(), 1024u);
    EXPECT_EQ(page.front().id, 1u);
    a.reset();  // must return: the reader is woken and stops between pages
    SUCCEED();
}

TEST(FlowPagesAhead, DeclinesWhatIsNotAFileInWalMode) {
    TempDb tmp;
    {
        Raw raw(tmp.path(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        raw.exec("PRAGMA journal_mode=DELETE");
        raw.exec("CREATE TABLE flow (run_id INTEGER, id INTEGER)");
        EXPECT_EQ(FlowPagesAhead::start(raw.db, tmp.path(), 1, 1024), nullptr) << "rollback journal";
    }
    Raw memory(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    EXPECT_EQ(FlowPagesAhead::start(memory.db, ":memory:", 1, 1024), nullptr) << "in memory";
}

TEST(FlowPagesAhead, ItsErrorReachesTheCaller) {
    TempDb tmp;
    Raw raw(tmp.path(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw.exec("PRAGMA journal_mode=WAL");
    raw.exec("CREATE TABLE other (x)");
    auto a = FlowPagesAhead::start(raw.db, tmp.path(), 1, 1024);
    ASSERT_NE(a, nullptr);
    std::vector<attrib::FlowFacts> page;
    try {
        a->next(page);
        ADD_FAILURE() << "a database without a flow table read as " << page.size() << " flows";
    } catch (const StoreError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(tmp.path() + ": ", 0), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find("no such table: flow"), std::string::npos) << e.what();
    }
}

// What attribution wrote for the run, as lines.
std::vector<std::string> attribution_rows(const std::string& db) {
    std::vector<std::string> rows;
    for (const char* sql : {"SELECT id, outcome FROM flow ORDER BY id",
                            "SELECT flow_id, entry_id, evidence, confidence, name, counted FROM flow_match "
                            "ORDER BY flow_id, entry_id",
                            "SELECT flow_id, vendor, name FROM unmatched_flow ORDER BY flow_id, vendor, name",
                            "SELECT * FROM verdict ORDER BY entry_id", "SELECT * FROM product_verdict"}) {
        for (auto& r : test::query_rows(db, sql)) rows.push_back(std::move(r));
    }
    return rows;
}

TEST(FlowPagesAhead, RunAttributionWritesTheSameRowsReadingAhead) {
    const std::filesystem::path dir = std::filesystem::path(test::source_dir()) / "captures" / "scenarios";
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no captures/scenarios in " << dir;
    int scenarios = 0;
    for (const auto& capture : test::captures_in(dir.string())) {
        SCOPED_TRACE(capture.filename().string());
        ++scenarios;
        std::vector<std::string> written[2];
        for (const bool ahead : {false, true}) {
            TempDb db;
            const int64_t run = test::analyze_files({capture.string()}, db.path());
            {
                auto s = Store::open(db.path());
                s->write_behind(ahead);  // what makes run_attribution read ahead
                attrib::run_attribution(*s, run, test::bundled_catalog());
            }
            written[ahead] = attribution_rows(db.path());
        }
        EXPECT_EQ(written[1], written[0]);
        EXPECT_GT(written[0].size(), 1u);
    }
    EXPECT_GT(scenarios, 5);
}

}  // namespace
}  // namespace callwall::store
