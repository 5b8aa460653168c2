// FlowPagesAhead (store/flow_pages.hpp): the pages read ahead on a connection
// of their own are the pages the caller's connection reads, page for page;
// that reader sees the database as committed, never the caller's open
// transaction; it stops when dropped midway; it declines a database that is
// not a file in WAL mode; its errors reach the caller; the STUN hosts, the
// reset servers' TTLs and the DNS queries it reads first are the caller's. And run_attribution,
// which reads ahead when the store writes behind, writes the same rows either
// way on every scenario capture.
#include "store/flow_pages.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "attrib/run_attribution.hpp"
#include "store/attribution_io.hpp"
#include "golden/run_util.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::store {
namespace {

using test::attribution_rows;
using test::TempDb;

// Every field attribution reads, as one line.
std::string facts_line(const facts::FlowFacts& f) {
    std::string s =
        std::to_string(f.id) + " " + f.transport + " " + f.client_ip + ":" + std::to_string(f.client_port) + " " +
        f.server_ip + ":" + std::to_string(f.server_port) + " " + std::to_string(f.first_ts) + " " +
        std::to_string(f.last_ts) + " " + std::to_string(f.packets_c2s) + "/" + std::to_string(f.packets_s2c) + " " +
        f.state + " syn " + std::to_string(f.syn_count) + "/" + std::to_string(f.synack_count) + " " +
        std::to_string(f.first_syn_ts) + " " + std::to_string(f.last_syn_ts) + " ttl " + std::to_string(f.rst_ttl) +
        " " + std::to_string(f.server_ttl_min) + "-" + std::to_string(f.server_ttl_max) + " icmp " +
        std::to_string(f.icmp_errors) + " " + std::to_string(f.icmp_type) + "/" + std::to_string(f.icmp_code) + " " +
        f.icmp_from + " v" + std::to_string(f.icmp_family()) + " app " + f.app + " stun " +
        std::to_string(f.stun_requests) + "," + std::to_string(f.stun_answered) + "," + std::to_string(f.stun_errors) +
        "," + std::to_string(f.stun_retransmissions) + "," + std::to_string(f.stun_ice_checks) + "," +
        std::to_string(f.stun_requests_s2c) + "," + std::to_string(f.stun_answered_s2c) + "," +
        std::to_string(f.stun_retransmissions_s2c) + " proxy " + std::to_string(f.proxy_port) + " rtp " +
        std::to_string(f.rtp_packets) + " dtls " + std::to_string(f.dtls_handshake) + " cd " +
        std::to_string(f.channel_data) + " outcome '" + f.outcome + "' names";
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
        const std::string media = "media" + std::to_string(i % 11) + ".example.com";
        if (i % 3 == 0) s->add(run, records::FlowName{static_cast<int64_t>(i), media, "sni"});
        if (i % 6 == 0) s->add(run, records::FlowName{static_cast<int64_t>(i), "turn.example.com", "dns"});
    }
    s->flush();
    return run;
}

// The run's pages as lines, read on `db` itself (ahead == false) or ahead.
std::vector<std::string> pages(sqlite3* db, const std::string& path, int64_t run, bool ahead, size_t& page_count) {
    std::vector<std::string> lines;
    std::vector<facts::FlowFacts> page;
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
    std::vector<facts::FlowFacts> page;
    size_t flows = 0;
    for (a->next(page); !page.empty(); a->next(page)) flows += page.size();
    EXPECT_EQ(flows, 2600u - 26u);
}

// A run whose TCP flows answer with TTLs, some only by a reset (the servers
// AttributionIo::server_ttls is asked about), and `queries` DNS questions
// for `names` names, which repeat out of order with differing answers (so
// the order within a name shows in its latest failure).
int64_t write_resets_and_queries(const std::string& path, uint64_t flows, uint64_t queries, uint64_t names) {
    auto s = Store::open(path);
    const int64_t run = s->begin_run(RunInfo{"analyze", "test.pcap", "test", "", 1.0});
    for (uint64_t i = 1; i <= flows; ++i) {
        flow::Flow f = paged_flow(i);
        f.proto = i % 5 == 4 ? decode::kProtoUdp : decode::kProtoTcp;
        f.packets[1] = i % 9 == 0 ? 0 : 1;  // some never answered: no TTL
        f.ttl_min[1] = static_cast<uint8_t>(40 + i % 6);
        f.ttl_max[1] = static_cast<uint8_t>(50 + i % 4);
        if (f.proto == decode::kProtoTcp) {
            f.tcp.first_syn_us = f.first_ts_us;
            f.tcp.syn = 1;
            if (i % 13 == 0) {  // answered by a reset alone
                f.tcp.rst[1] = true;
                f.tcp.rst_ttl = static_cast<uint8_t>(100 + i % 50);
            } else {
                f.tcp.synack = 1;
            }
        }
        if (i == 26) f.server_ip = decode::IpAddr::v4(0xCB007109);  // 203.0.113.9: reset, nothing else
        s->add_flow(run, f, FlowAppInfo{});
    }
    static const char* const kRcodes[] = {"NOERROR", "NXDOMAIN", "SERVFAIL", ""};
    for (uint64_t i = 0; i < queries; ++i) {
        records::DnsQuery q;
        q.flow_id = static_cast<int64_t>(1 + i % flows);
        q.ts = static_cast<double>(i);
        q.client_ip = "10.0.0.1";
        q.server_ip = "10.0.0.53";
        const std::string name = "q" + std::to_string((i * 7919) % names) + ".example.com";
        q.qname = name;
        q.qtype = 1;
        const std::string_view rcode = kRcodes[i % 4];
        q.answered = !rcode.empty();
        if (q.answered) q.rcode = rcode;
        q.answers = static_cast<uint32_t>(i % 5);
        s->add_dns_query(run, q);
    }
    s->flush();
    return run;
}

std::vector<std::string> dns_fold_rows(AttributionIo& io) {
    std::vector<std::string> rows;
    io.for_each_dns_name([&](std::string_view qname, bool resolved, uint32_t failed, std::string_view last_rcode) {
        rows.push_back(std::string(qname) + " " + std::to_string(resolved) + " " + std::to_string(failed) + " " +
                       std::string(last_rcode));
    });
    return rows;
}

TEST(FlowPagesAhead, ReadsTheDnsNamesAndResetServersTtlsTheCallersConnectionReads) {
    TempDb tmp;
    // More names than are read ahead at once: the reader waits and goes on.
    const uint64_t names = FlowPagesAhead::kDnsRowsAhead + 3 * FlowPagesAhead::kDnsBatch + 17;
    const int64_t run = write_resets_and_queries(tmp.path(), 3000, 2 * names, names);
    auto store = Store::open(tmp.path());
    std::vector<std::string> servers;
    for (const auto& r : test::query_rows(tmp.path(),
                                          "SELECT DISTINCT server_ip FROM flow WHERE rst_ttl IS NOT NULL "
                                          "AND synack_count = 0 ORDER BY 1"))
        servers.push_back(r);
    ASSERT_GT(servers.size(), 20u);
    std::vector<std::string> fold[2], ttls[2];
    for (const bool ahead : {false, true}) {
        AttributionIo io(*store, run, ahead ? 1024 : 0);
        fold[ahead] = dns_fold_rows(io);
        const auto ttl_lines = [&] {
            std::vector<std::string> lines;
            for (const auto& ip : servers) {
                std::string line = ip + ":";
                for (const int t : io.server_ttls(ip)) line += " " + std::to_string(t);
                lines.push_back(line);
            }
            return lines;
        };
        ttls[ahead] = ttl_lines();
        EXPECT_EQ(ttl_lines(), ttls[ahead]) << "asked again (answered from memory), ahead " << ahead;
        std::vector<facts::FlowFacts> page;
        size_t flows = 0;
        for (uint64_t after = 0;; after = page.back().id) {
            io.read_flow_page(after, 1024, page);
            if (page.empty()) break;
            flows += page.size();
        }
        EXPECT_EQ(flows, 3000u) << "ahead " << ahead;
    }
    ASSERT_EQ(fold[0].size(), names);
    EXPECT_EQ(fold[1], fold[0]);
    EXPECT_EQ(ttls[1], ttls[0]);
    // What they hold: names in order, each asked twice (questions i and
    // i + names, 7919 being prime to `names`): q0's are questions 0
    // (NOERROR, no record: neither resolved nor failed) and 14,353
    // (NXDOMAIN); q1's are 4,794 (SERVFAIL) and 19,147 (unanswered, the
    // latest); a reset-only server with no other flow has no TTLs; the
    // others have some.
    EXPECT_EQ(fold[0][0], "q0.example.com 0 1 NXDOMAIN");
    EXPECT_EQ(fold[0][1], "q1.example.com 0 2 ");
    EXPECT_NE(std::find(ttls[0].begin(), ttls[0].end(), "203.0.113.9:"), ttls[0].end());
    EXPECT_GT(std::count_if(ttls[0].begin(), ttls[0].end(), [](const std::string& l) { return l.back() != ':'; }), 10);
    // The reader answers for every server attribution asks about, those
    // without TTLs included, so the caller's connection is never asked.
    Raw raw(tmp.path());
    auto a = FlowPagesAhead::start(raw.db, tmp.path(), run, 1024);
    ASSERT_NE(a, nullptr);
    std::vector<std::string> answered;
    for (const auto& [ip, t] : a->reset_server_ttls()) answered.push_back(ip);
    EXPECT_EQ(answered, servers);
    EXPECT_EQ(a->reset_server_ttls().at("203.0.113.9"), std::set<int>{});
}

TEST(FlowPagesAhead, PagesComeEvenWhenTheDnsNamesAreNotTaken) {
    TempDb tmp;
    const uint64_t names = 2 * FlowPagesAhead::kDnsRowsAhead;
    const int64_t run = write_resets_and_queries(tmp.path(), 3000, names, names);
    Raw raw(tmp.path());
    auto a = FlowPagesAhead::start(raw.db, tmp.path(), run, 1024);
    ASSERT_NE(a, nullptr);
    std::vector<DnsNameRow> rows;
    ASSERT_TRUE(a->next_dns_names(rows));  // one batch, then straight to the pages
    EXPECT_EQ(rows.size(), FlowPagesAhead::kDnsBatch);
    std::vector<facts::FlowFacts> page;
    size_t flows = 0;
    for (a->next(page); !page.empty(); a->next(page)) flows += page.size();
    EXPECT_EQ(flows, 3000u);
    EXPECT_FALSE(a->next_dns_names(rows)) << "the rest was dropped";
    EXPECT_TRUE(rows.empty());
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
    std::vector<facts::FlowFacts> page;
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
    std::vector<facts::FlowFacts> page;
    try {
        a->next(page);
        ADD_FAILURE() << "a database without a flow table read as " << page.size() << " flows";
    } catch (const StoreError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(tmp.path() + ": ", 0), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find("no such table: flow"), std::string::npos) << e.what();
    }
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
