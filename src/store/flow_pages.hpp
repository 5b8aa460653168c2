// Private to the store module: reading a run's flows back for attribution, a
// page at a time in id order, with their names, and FlowPagesAhead, which
// reads those pages on a thread beside the one attributing them.
//
// Attribution reads every flow row once and writes what it decided inside one
// transaction. On a second core the reads need not wait for the writes: a
// connection of its own, read-only, on a thread of its own, reads first what
// attribution needs before the flows (the STUN hosts, the TTLs of the servers
// that answered with a reset alone, the DNS questions in name order), then
// the pages ahead, while the attributing thread builds the reader indexes,
// folds the DNS questions and attributes the pages already read. In WAL mode
// that reader sees the database as committed when it began (the attributing
// thread commits only after the last page), so it reads exactly the rows,
// names and stored outcomes the attributing thread would have read itself,
// and the database comes out the same (tests/unit/store/flow_pages_test.cpp).
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "facts/flow_facts.hpp"
#include "store/dns_names.hpp"

namespace callwall::store {

/// Up to `max_flows` TCP/UDP flows of run `run` with ids above `after_id`, in
/// id order, with their names. `flows` is cleared first and keeps its
/// capacity. Throws StoreError naming `path`.
void read_flow_page(sqlite3* db, const std::string& path, int64_t run, uint64_t after_id, int max_flows,
                    std::vector<facts::FlowFacts>& flows);

/// The hosts of run `run` with a STUN request of their own that was answered:
/// the client of a flow whose requests were, the server of one whose
/// requests towards the client were. Throws StoreError naming `path`.
std::set<std::string> read_stun_answered_hosts(sqlite3* db, const std::string& path, int64_t run);

/// The database file `db` is connected to, if it is a file in WAL mode (where
/// a second connection can read or checkpoint beside the caller's writes);
/// "" otherwise. Throws StoreError naming `path`.
std::string wal_file_of(sqlite3* db, const std::string& path);

/// The flows whose server TTLs AttributionIo::server_ttls reads: answered
/// with a handshake, or UDP answered (a WHERE condition on `flow`).
inline constexpr const char* kFlowAnsweredWithTtl =
    "server_ttl_min IS NOT NULL AND (synack_count > 0 OR (transport='udp' AND packets_s2c > 0))";

/// A run's DNS questions per name as the DNS fold reads them, by name (the
/// order of dns_name's key: no sort). The latest failure's response code,
/// "" when it went unanswered (or none failed).
inline constexpr const char* kDnsNamesSql =
    "SELECT qname, resolved > 0, failed, CASE WHEN last_failure IS NULL OR last_failure = 'no response' THEN '' "
    "ELSE last_failure END FROM dns_name WHERE run_id=? ORDER BY qname";

/// One pass over run `run`'s flows: the hosts read_stun_answered_hosts gives
/// (added to `stun_hosts`), and the servers of the flows answered by a reset
/// alone (rst_ttl set, no SYN-ACK: those AttributionIo::server_ttls
/// is asked about; added to `reset_servers`). Throws StoreError naming `path`.
void read_stun_hosts_and_reset_servers(sqlite3* db, const std::string& path, int64_t run,
                                       std::set<std::string>& stun_hosts,
                                       std::set<std::string, std::less<>>& reset_servers);

/// Server address → the TTLs AttributionIo::server_ttls gives for it.
using ServerTtls = std::map<std::string, std::set<int>, std::less<>>;

/// AttributionIo::server_ttls of each of `servers` (an empty set for one
/// with none), in one pass. Throws StoreError naming `path`.
ServerTtls read_server_ttls(sqlite3* db, const std::string& path, int64_t run,
                            const std::set<std::string, std::less<>>& servers);

/// A dns_name row as AttributionIo::for_each_dns_name gives it.
struct DnsNameRow {
    std::string qname;
    bool resolved = false;
    uint32_t failed = 0;
    std::string last_rcode;  ///< the latest failure's response code; "" unanswered
};

/// The TCP/UDP flows among `ids` (other ids are skipped), with their names, in
/// the order of `ids`. `flows` is cleared first.
void read_flows(sqlite3* db, const std::string& path, int64_t run, const std::vector<uint64_t>& ids,
                std::vector<facts::FlowFacts>& flows);

class FlowPagesAhead {
public:
    /// Pages read and not yet taken, at most: memory stays at a few pages
    /// (a page of 1024 flows is about 400 KiB) whatever the run's size.
    static constexpr size_t kPagesAhead = 4;
    /// Batches of DNS names read and not yet taken, at most.
    static constexpr size_t kDnsBatch = 2048;
    static constexpr size_t kDnsBatchesAhead = 4;
    static constexpr size_t kDnsRowsAhead = kDnsBatch * kDnsBatchesAhead;

    /// Starts reading run `run`'s pages of `page_flows` flows, from the first
    /// (0: only the DNS names: next() gives no page, and the STUN hosts
    /// and server TTLs are not read),
    /// on a thread with a read-only connection of its own to the database
    /// `db` is connected to. nullptr when that cannot be done and the caller
    /// should read on its own connection: the database is not a file in WAL
    /// mode (a reader there would hold back the caller's commit), this
    /// process cannot open it a second time (capture's --user dropped the
    /// privileges it was opened with), or the thread cannot be started. Call it after committing what the pages
    /// must show, and commit nothing that changes the flow or flow_name rows
    /// before the last page is taken.
    static std::unique_ptr<FlowPagesAhead> start(sqlite3* db, const std::string& path, int64_t run, int page_flows);

    ~FlowPagesAhead();  ///< stops the thread (between pages) and waits for it
    FlowPagesAhead(const FlowPagesAhead&) = delete;
    FlowPagesAhead& operator=(const FlowPagesAhead&) = delete;

    /// The next page, in order, as read_flow_page would give it on the
    /// caller's connection (`flows` takes its place; empty after the last).
    /// Throws the StoreError the thread met.
    void next(std::vector<facts::FlowFacts>& flows);
    /// read_stun_answered_hosts on the thread's connection, which scans the
    /// flows before it reads the first page (while the caller builds the
    /// indexes); waits for it. Throws the StoreError the thread met.
    std::set<std::string> stun_answered_hosts();
    /// read_server_ttls of the reset servers found in the STUN hosts' pass,
    /// on the thread's connection; waits for it. A server it lacks was not
    /// asked about. Throws the StoreError the thread met.
    const ServerTtls& reset_server_ttls();
    /// The next batch of the run's dns_name rows in qname order, as the
    /// caller's connection would give them (kDnsNamesSql), read after the
    /// server TTLs and before the first page; false once there are no more
    /// (`rows` empty). Taking a page (next()) first drops the names not
    /// taken. Throws the StoreError the thread met.
    bool next_dns_names(std::vector<DnsNameRow>& rows);

private:
    FlowPagesAhead(std::string path, int64_t run, int page_flows);
    /// The thread: reads on `db` (start()'s connection), which it closes.
    void read_loop(sqlite3* db) noexcept;
    void read_pages(sqlite3* db);
    void read_dns_names(sqlite3* db);

    const std::string path_;  ///< as the user named it (error messages)
    const int64_t run_;
    const int page_flows_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::vector<facts::FlowFacts>> ready_;  ///< pages read, in order (guarded by mu_)
    std::vector<std::vector<facts::FlowFacts>> spare_;  ///< taken pages given back for reuse (guarded by mu_)
    std::set<std::string> stun_hosts_;  ///< (guarded by mu_)
    bool stun_read_ = false;  ///< stun_hosts_ is read (guarded by mu_)
    ServerTtls reset_ttls_;  ///< (guarded by mu_ until ttls_read_)
    bool ttls_read_ = false;  ///< reset_ttls_ is read (guarded by mu_)
    std::deque<std::vector<DnsNameRow>> dns_ready_;  ///< batches read, in order (guarded by mu_)
    bool dns_read_ = false;  ///< every DNS name is in dns_ready_ or taken (guarded by mu_)
    bool dns_dropped_ = false;  ///< the caller took a page: read no more names (guarded by mu_)
    bool done_ = false;  ///< the thread has read the last (empty) page or failed (guarded by mu_)
    bool stop_ = false;  ///< asked to stop (guarded by mu_)
    std::exception_ptr error_;  ///< what the thread met, when it failed (guarded by mu_)
    std::thread thread_;
};

}  // namespace callwall::store
