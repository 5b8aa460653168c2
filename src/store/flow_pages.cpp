// Reading flows back for attribution. See store/flow_pages.hpp.
#include "store/flow_pages.hpp"

#include <map>
#include <string>
#include <stdexcept>
#include <system_error>

#include "store/read_value.hpp"
#include "store/statement.hpp"
#include "util/thread_without_signals.hpp"

namespace callwall::store {
namespace {

// The flow columns attribution reads (read_flow_page, read_flows), in the
// record's order (facts/flow_facts.hpp), from the flows it attributes.
std::string flow_facts_sql(std::string_view which) {
    std::string sql = "SELECT ";
    const char* comma = "";
    for (const char* column : facts::kFlowReadColumns) {
        sql += comma;
        sql += column;
        comma = ", ";
    }
    return sql + " FROM flow WHERE run_id=? AND transport IN ('tcp','udp') AND " + std::string(which);
}

void read_flow_facts(const Statement& st, facts::FlowFacts& f) {
    int i = 0;
    facts::each_read_column(f, [&](auto& column) { read_value(st, i++, column); });
}

}  // namespace

std::string wal_file_of(sqlite3* db, const std::string& path) {
    const char* file = sqlite3_db_filename(db, "main");
    if (file == nullptr || *file == '\0') return "";
    Statement st(db, path, "PRAGMA journal_mode");
    return st.row("reading the journal mode") && st.text(0) == "wal" ? file : "";
}

void read_flow_page(sqlite3* db, const std::string& path, int64_t run, uint64_t after_id, int max_flows,
                    std::vector<facts::FlowFacts>& flows) {
    flows.clear();
    flows.reserve(static_cast<size_t>(max_flows));  // once, not page by page
    {
        static const std::string sql = flow_facts_sql("id > ? ORDER BY id LIMIT ?");
        Statement st(db, path, sql.c_str());
        st.bind(1, run).bind(2, after_id).bind(3, max_flows);
        while (st.row("reading flows")) read_flow_facts(st, flows.emplace_back());
    }
    if (flows.empty()) return;
    Statement st(db, path,
                 "SELECT flow_id, name, source FROM flow_name WHERE run_id=? AND flow_id BETWEEN ? AND ? "
                 "ORDER BY flow_id, source DESC, name");
    st.bind(1, run).bind(2, flows.front().id).bind(3, flows.back().id);
    // Both are in id order: one cursor walks the page's flows.
    size_t at = 0;
    while (st.row("reading flow names")) {
        const auto id = static_cast<uint64_t>(st.int64(0));
        while (at < flows.size() && flows[at].id < id) ++at;
        if (at < flows.size() && flows[at].id == id)
            flows[at].names.push_back({std::string(st.text(1)), std::string(st.text(2))});
    }
}

void read_flows(sqlite3* db, const std::string& path, int64_t run, const std::vector<uint64_t>& ids,
                std::vector<facts::FlowFacts>& flows) {
    flows.clear();
    static const std::string sql = flow_facts_sql("id = ?");
    Statement one(db, path, sql.c_str());
    Statement names(db, path,
                    "SELECT name, source FROM flow_name WHERE run_id=? AND flow_id=? ORDER BY source DESC, name");
    for (const uint64_t id : ids) {
        one.bind(1, run).bind(2, id);
        if (!one.row("reading a flow")) continue;  // ICMP and other transports are not attributed
        facts::FlowFacts& f = flows.emplace_back();
        read_flow_facts(one, f);
        one.reset();
        names.bind(1, run).bind(2, id);
        while (names.row("reading flow names"))
            f.names.push_back({std::string(names.text(0)), std::string(names.text(1))});
    }
}

std::set<std::string> read_stun_answered_hosts(sqlite3* db, const std::string& path, int64_t run) {
    std::set<std::string> hosts;
    std::set<std::string, std::less<>> reset_servers;  // the same pass finds them; not wanted here
    read_stun_hosts_and_reset_servers(db, path, run, hosts, reset_servers);
    return hosts;
}

void read_stun_hosts_and_reset_servers(sqlite3* db, const std::string& path, int64_t run,
                                       std::set<std::string>& stun_hosts,
                                       std::set<std::string, std::less<>>& reset_servers) {
    // One pass over the run's flows (a UNION of SELECTs would read them once per SELECT):
    // the client of a flow whose own STUN requests were answered, the server
    // of one whose requests towards the client were, and the server of a
    // flow answered by a reset alone (attribution's test for asking
    // AttributionIo::server_ttls, so every server it asks about is here).
    Statement st(db, path,
                 "SELECT client_ip, stun_answered > stun_answered_s2c, server_ip, stun_answered_s2c > 0, "
                 "rst_ttl IS NOT NULL AND synack_count = 0 FROM flow WHERE run_id=?1 "
                 "AND (stun_answered > stun_answered_s2c OR stun_answered_s2c > 0 OR "
                 "(rst_ttl IS NOT NULL AND synack_count = 0))");
    st.bind(1, run);
    while (st.row("reading STUN hosts and reset servers")) {
        if (st.integer(1)) stun_hosts.emplace(st.text(0));
        if (st.integer(3)) stun_hosts.emplace(st.text(2));
        if (st.integer(4)) reset_servers.emplace(st.text(2));
    }
}

ServerTtls read_server_ttls(sqlite3* db, const std::string& path, int64_t run,
                            const std::set<std::string, std::less<>>& servers) {
    // Every server asked about has an entry, an empty set when none of its
    // flows gives a TTL: the caller need not ask its own connection.
    ServerTtls ttls;
    for (const std::string& s : servers) ttls.emplace(s, std::set<int>{});
    if (servers.empty()) return ttls;
    // AttributionIo::server_ttls's rows, for every server asked about at once.
    Statement st(db, path,
                 (std::string("SELECT server_ip, server_ttl_min, server_ttl_max FROM flow WHERE run_id=? AND ") +
                  kFlowAnsweredWithTtl)
                     .c_str());
    st.bind(1, run);
    while (st.row("reading server TTLs")) {
        const std::string_view ip = st.text(0);
        const auto it = ttls.find(ip);
        if (it == ttls.end()) continue;
        it->second.insert(st.integer(1));
        it->second.insert(st.integer(2));
    }
    return ttls;
}

FlowPagesAhead::FlowPagesAhead(std::string path, int64_t run, int page_flows)
    : path_(std::move(path)), run_(run), page_flows_(page_flows) {}

std::unique_ptr<FlowPagesAhead> FlowPagesAhead::start(sqlite3* db, const std::string& path, int64_t run,
                                                      int page_flows) {
    const std::string file = wal_file_of(db, path);
    if (file.empty()) return nullptr;
    // The thread's connection, opened here: a process that has dropped its
    // privileges since the caller's connection was opened (capture --user)
    // may not reopen the file (a directory it cannot enter); the caller
    // then reads on its own connection.
    sqlite3* second = nullptr;
    if (sqlite3_open_v2(file.c_str(), &second, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
        sqlite3_exec(second, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(second);
        return nullptr;
    }
    std::unique_ptr<FlowPagesAhead> a(new FlowPagesAhead(path, run, page_flows));
    try {
        a->thread_ = util::thread_without_signals("callwall-pages", [p = a.get(), second] { p->read_loop(second); });
    } catch (const std::system_error&) {
        sqlite3_close_v2(second);
        a.reset();  // no thread: the caller reads on its own connection
    }
    return a;
}

FlowPagesAhead::~FlowPagesAhead() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void FlowPagesAhead::next(std::vector<facts::FlowFacts>& flows) {
    std::unique_lock<std::mutex> lk(mu_);
    if (!dns_read_) {  // the names not taken are not wanted: the thread goes on to the pages
        dns_dropped_ = true;
        dns_ready_.clear();
        cv_.notify_all();
    }
    cv_.wait(lk, [&] { return !ready_.empty() || done_; });
    if (ready_.empty()) {
        if (error_) std::rethrow_exception(error_);
        flows.clear();  // asked again after the last page
        return;
    }
    flows.swap(ready_.front());
    spare_.push_back(std::move(ready_.front()));  // the caller's last page: its capacity is reused
    ready_.pop_front();
    lk.unlock();
    cv_.notify_all();
}

std::set<std::string> FlowPagesAhead::stun_answered_hosts() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return stun_read_ || done_; });
    if (!stun_read_) {
        if (error_) std::rethrow_exception(error_);
        throw std::logic_error("the flow reader ended before the STUN hosts were read");
    }
    return stun_hosts_;
}

const ServerTtls& FlowPagesAhead::reset_server_ttls() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return ttls_read_ || done_; });
    if (!ttls_read_) {
        if (error_) std::rethrow_exception(error_);
        throw std::logic_error("the flow reader ended before the server TTLs were read");
    }
    return reset_ttls_;  // no longer written: the thread moved on
}

bool FlowPagesAhead::next_dns_names(std::vector<DnsNameRow>& rows) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !dns_ready_.empty() || dns_read_ || done_; });
    if (dns_ready_.empty()) {
        rows.clear();
        if (!dns_read_ && error_) std::rethrow_exception(error_);
        if (!dns_read_) throw std::logic_error("the flow reader ended before the DNS names were read");
        return false;
    }
    rows.swap(dns_ready_.front());
    dns_ready_.pop_front();
    lk.unlock();
    cv_.notify_all();
    return true;
}

void FlowPagesAhead::read_dns_names(sqlite3* db) {
    // In dns_name's key order: no sort.
    Statement st(db, path_, kDnsNamesSql);
    st.bind(1, run_);
    std::vector<DnsNameRow> batch;
    bool more = true;
    while (more) {
        batch.clear();
        batch.reserve(kDnsBatch);
        while (batch.size() < kDnsBatch && (more = st.row("reading DNS names")))
            batch.push_back(
                {std::string(st.text(0)), st.integer(1) != 0, clamp_u32(st.int64(2)), std::string(st.text(3))});
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || dns_dropped_ || dns_ready_.size() < kDnsBatchesAhead; });
        if (stop_ || dns_dropped_) break;
        if (!batch.empty()) {
            dns_ready_.push_back(std::move(batch));
            batch = {};
        }
        lk.unlock();
        cv_.notify_all();
    }
    st.reset();
    {
        std::lock_guard<std::mutex> lk(mu_);
        dns_read_ = true;
    }
    cv_.notify_all();
}

void FlowPagesAhead::read_loop(sqlite3* db) noexcept {
    try {
        sqlite3_busy_timeout(db, 5000);
        // Pages are read once, in order: a small cache holds the trees'
        // inner pages (SQLite's default, 2 MiB, only added resident memory).
        Statement(db, path_, "PRAGMA cache_size=-256").run("setting the reader's cache");
        read_pages(db);
    } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        error_ = std::current_exception();
    }
    sqlite3_close_v2(db);  // its read transaction ends with it (a read-only connection has nothing to roll back)
    {
        std::lock_guard<std::mutex> lk(mu_);
        done_ = true;
    }
    cv_.notify_all();
}

void FlowPagesAhead::read_pages(sqlite3* db) {
    // One read transaction, so every page comes from the same snapshot.
    Statement(db, path_, "BEGIN").run("starting to read the flows");
    if (page_flows_ == 0) {  // the flows are in the caller's memory: its DNS names only
        read_dns_names(db);
        return;
    }
    std::set<std::string> hosts;
    std::set<std::string, std::less<>> reset_servers;
    read_stun_hosts_and_reset_servers(db, path_, run_, hosts, reset_servers);
    {
        std::lock_guard<std::mutex> lk(mu_);
        stun_hosts_ = std::move(hosts);
        stun_read_ = true;
    }
    cv_.notify_all();
    ServerTtls ttls = read_server_ttls(db, path_, run_, reset_servers);
    {
        std::lock_guard<std::mutex> lk(mu_);
        reset_ttls_ = std::move(ttls);
        ttls_read_ = true;
    }
    cv_.notify_all();
    read_dns_names(db);
    std::vector<facts::FlowFacts> page;
    for (uint64_t after = 0;;) {
        read_flow_page(db, path_, run_, after, page_flows_, page);
        const bool last = page.empty();
        if (!last) after = page.back().id;
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || ready_.size() < kPagesAhead; });
        if (stop_) return;
        ready_.push_back(std::move(page));
        if (last) return;
        if (spare_.empty()) {
            page = {};
        } else {
            page = std::move(spare_.back());
            spare_.pop_back();
        }
        lk.unlock();
        cv_.notify_all();
    }
}

}  // namespace callwall::store
