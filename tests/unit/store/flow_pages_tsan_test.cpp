// FlowPagesAhead's two threads under ThreadSanitizer (flow_pages_tsan in
// CMakeLists.txt builds this with store/flow_pages.cpp and statement.cpp
// alone): the attributing thread takes pages and writes in its own open
// transaction, as run_attribution does, while the reader reads ahead; the
// reset servers' TTLs and the DNS queries read first are handed over, taken
// or left; and a reader dropped midway stops. Also built into callwall_tests.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "store/flow_pages.hpp"
#include "store/schema.hpp"

namespace callwall::store {
namespace {

// A database file of the store's schema holding `n` UDP flows of run 1, every
// third with a name; removed with its WAL at the end.
class FlowFile {
public:
    explicit FlowFile(int n) {
        char tmpl[] = "/tmp/callwall-flow-pages-XXXXXX";
        const int fd = mkstemp(tmpl);
        if (fd >= 0) close(fd);
        path_ = tmpl;
        EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
        exec("PRAGMA journal_mode=WAL");
        exec(schema_sql().c_str());
        exec("BEGIN");
        exec(
            "INSERT INTO run (id, kind, source, command_line, tool_version, started_at, status) "
            "VALUES (1, 'analyze', 't', 't', 't', 0, 'completed')");
        for (int i = 1; i <= n; ++i) {
            const std::string id = std::to_string(i);
            exec(("INSERT INTO flow (run_id, id, transport, client_ip, client_port, server_ip, server_port, "
                  "initiator_guessed, first_ts, last_ts, packets_c2s, bytes_c2s, packets_s2c, bytes_s2c, state) "
                  "VALUES (1, " +
                  id + ", 'udp', '10.0.0.1', " + std::to_string(1024 + i % 60000) +
                  ", '198.51.100.1', 3478, 0, 1, 2, 1, 100, 1, 100, 'answered')")
                     .c_str());
            if (i % 3 == 0)
                exec(("INSERT INTO flow_name (run_id, flow_id, name, source) VALUES (1, " + id +
                      ", 'turn.example.com', 'dns')")
                         .c_str());
        }
        exec("COMMIT");
    }
    ~FlowFile() {
        sqlite3_close_v2(db_);
        for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
    }
    void exec(const char* sql) const {
        char* err = nullptr;
        EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &err), SQLITE_OK) << sql << ": " << (err ? err : "");
        sqlite3_free(err);
    }
    [[nodiscard]] sqlite3* db() const { return db_; }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
    sqlite3* db_ = nullptr;
};

TEST(FlowPagesAheadThreads, PagesTakenWhileTheCallerWrites) {
    FlowFile file(6000);
    file.exec("BEGIN");
    auto ahead = FlowPagesAhead::start(file.db(), file.path(), 1, 500);
    ASSERT_NE(ahead, nullptr);
    EXPECT_TRUE(ahead->stun_answered_hosts().empty());  // scanned on the thread first, handed over
    std::vector<facts::FlowFacts> page;
    uint64_t last = 0;
    size_t flows = 0, named = 0;
    for (;;) {
        ahead->next(page);
        if (page.empty()) break;
        for (const auto& f : page) {
            EXPECT_GT(f.id, last);
            last = f.id;
            ++flows;
            named += f.names.size();
            EXPECT_EQ(f.outcome, "");
            file.exec(("UPDATE flow SET outcome='observed' WHERE run_id=1 AND id=" + std::to_string(f.id)).c_str());
        }
    }
    file.exec("COMMIT");
    EXPECT_EQ(flows, 6000u);
    EXPECT_EQ(named, 2000u);
}

TEST(FlowPagesAheadThreads, ResetServersAndDnsNamesHandedOverThenThePages) {
    FlowFile file(3000);
    file.exec("UPDATE flow SET transport='tcp', rst_ttl=100, synack_count=0 WHERE id % 10 = 0");
    file.exec(
        "UPDATE flow SET transport='tcp', synack_count=1, server_ttl_min=50, server_ttl_max=52 WHERE id % 10 = 1");
    file.exec("BEGIN");
    for (int i = 0; i < 2 * static_cast<int>(FlowPagesAhead::kDnsRowsAhead); ++i)
        file.exec(("INSERT INTO dns_name (run_id, qname, queries, answered, resolved, failed, first_ts, last_ts) "
                   "VALUES (1, 'q" +
                   std::to_string(i) + ".example', 2, 2, 1, 1, 0, 1)")
                      .c_str());
    file.exec("COMMIT");
    for (const bool take_names : {true, false}) {
        auto ahead = FlowPagesAhead::start(file.db(), file.path(), 1, 500);
        ASSERT_NE(ahead, nullptr);
        const auto& ttls = ahead->reset_server_ttls();
        ASSERT_EQ(ttls.size(), 1u);
        EXPECT_EQ(ttls.begin()->first, "198.51.100.1");
        EXPECT_EQ(ttls.begin()->second, (std::set<int>{50, 52}));
        std::vector<DnsNameRow> rows;
        size_t names = 0;
        std::string last;
        while ((take_names || names == 0) && ahead->next_dns_names(rows)) {
            for (const auto& r : rows) {
                EXPECT_LT(last, r.qname);
                last = r.qname;
            }
            names += rows.size();
        }
        if (take_names) {
            EXPECT_EQ(names, 2 * FlowPagesAhead::kDnsRowsAhead);
        }
        std::vector<facts::FlowFacts> page;
        size_t flows = 0;
        for (ahead->next(page); !page.empty(); ahead->next(page)) flows += page.size();
        EXPECT_EQ(flows, 3000u);
    }
}

// Pages of 0 flows (the caller keeps the flows in memory, attrib::KeptFlows):
// the DNS names alone are read, while the caller writes in its own open
// transaction; no page comes; a reader dropped before or midway stops.
TEST(FlowPagesAheadThreads, DnsNamesAloneWhenTheFlowsAreInMemory) {
    FlowFile file(1000);
    file.exec("BEGIN");
    for (int i = 0; i < 3 * static_cast<int>(FlowPagesAhead::kDnsBatch) + 5; ++i)
        file.exec(("INSERT INTO dns_name (run_id, qname, queries, answered, resolved, failed, first_ts, last_ts) "
                   "VALUES (1, 'q" +
                   std::to_string(i) + ".example', 1, 1, 1, 0, 0, 0)")
                      .c_str());
    file.exec("COMMIT");
    for (int taken = 0; taken <= 2; ++taken) {  // batches taken before the reader is dropped (2: all)
        file.exec("BEGIN");
        auto ahead = FlowPagesAhead::start(file.db(), file.path(), 1, 0);
        ASSERT_NE(ahead, nullptr);
        std::vector<DnsNameRow> rows;
        size_t names = 0;
        for (int batch = 0; (taken == 2 || batch < taken) && ahead->next_dns_names(rows); ++batch) {
            names += rows.size();
            file.exec("UPDATE flow SET outcome='observed' WHERE run_id=1 AND id=1");
        }
        if (taken == 2) {
            EXPECT_EQ(names, 3 * FlowPagesAhead::kDnsBatch + 5);
            std::vector<facts::FlowFacts> page;
            ahead->next(page);
            EXPECT_TRUE(page.empty());
        }
        ahead.reset();
        file.exec("COMMIT");
    }
}

TEST(FlowPagesAheadThreads, DroppedMidwayItStops) {
    FlowFile file(5000);
    for (int round = 0; round < 5; ++round) {
        auto ahead = FlowPagesAhead::start(file.db(), file.path(), 1, 256);
        ASSERT_NE(ahead, nullptr);
        std::vector<facts::FlowFacts> page;
        for (int i = 0; i < round; ++i) ahead->next(page);
    }
    SUCCEED();
}

}  // namespace
}  // namespace callwall::store
