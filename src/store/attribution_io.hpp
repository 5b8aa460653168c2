// The store's side of attribution (internal to the core library): typed reads
// of one run's facts and typed writes of what attribution decided. Every
// statement lives here; attribution itself (src/attrib) sees no SQL.
//
// Writes happen inside one transaction, opened by begin_writing() (which also
// clears an earlier attribution of the run: a live run is attributed again
// and again) and committed by commit(); destroying the object without
// commit() rolls everything back.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "facts/flow_facts.hpp"
#include "records/attribution.hpp"
#include "store/store.hpp"

namespace callwall::store {

class CheckpointAhead;
class FlowPagesAhead;
class Statement;
class Transaction;

/// One flow row of a 5-tuple that has several rows in the run.
struct TupleRow {
    uint64_t id = 0;
    bool client_low = false;  ///< the row's client is the lower endpoint (address text, then port)
    bool c2s = false, s2c = false;  ///< packets in that direction
};

class AttributionIo {
public:
    /// Builds the reader indexes (committing the open batch) and prepares.
    /// `ahead_page_flows` > 0: read_flow_page will be called from the first
    /// page on, with pages of that many flows, and may take them from a
    /// thread that reads them ahead on a connection of its own
    /// (store/flow_pages.hpp), from the database as committed here.
    /// `flows_in_memory`: the caller has the run's flows (attrib::KeptFlows)
    /// and reads no page, STUN host or server TTL here; with
    /// `ahead_page_flows` > 0 the thread then reads the DNS names alone,
    /// and the reader indexes wait for build_indexes_behind().
    explicit AttributionIo(Store& s, int64_t run_id, int ahead_page_flows = 0, bool flows_in_memory = false);
    /// The caller has everything it reads in memory (the kept flows, their
    /// names, the DNS names the store kept, the run's totals) and will only
    /// write. With write-behind the store's writer thread commits the rows
    /// still queued, starts the checkpoint ahead and builds the reader
    /// indexes while the caller attributes: nothing here waits for it until
    /// begin_writing. Without, that is done here and now.
    struct ReadsNothing {};
    AttributionIo(Store& s, int64_t run_id, ReadsNothing);
    ~AttributionIo();  ///< waits for indexes being built behind
    AttributionIo(const AttributionIo&) = delete;
    AttributionIo& operator=(const AttributionIo&) = delete;

    // ---- reads ----
    /// The run's last packet time (0 when none) and flows evicted from a full table.
    void read_run(double& capture_end, int64_t& evicted_full);
    /// Hosts with a STUN request of their own that was answered.
    [[nodiscard]] std::set<std::string> stun_answered_hosts();
    /// The run's TCP/UDP flows by the capture interfaces they were seen on
    /// (`interfaces`, as stored) and whether they show the far side
    /// (attrib::shows_far_side), as counts; a capture of one interface
    /// whose flows show the far side is given as one call with no count (the
    /// first such row ends the scan).
    /// `written`: the interfaces of every flow of the run, when the caller
    /// saw every row handed over (attrib::KeptRows::interfaces_written); one
    /// interface lets the scan end at the first flow that shows the far side.
    void for_each_interface_set(std::optional<uint32_t> written,
                                const std::function<void(uint32_t interfaces, bool far_side, uint64_t flows)>& fn);
    /// Each 5-tuple with more than one row, its rows (in no given order).
    void for_each_shared_tuple(const std::function<void(const std::vector<TupleRow>&)>& fn);
    /// For tests: keeps only the low `bits` of the tuples' 64-bit hash, so
    /// that different tuples share one (as they do, rarely, with all 64).
    void set_tuple_hash_bits(int bits) noexcept { tuple_hash_bits_ = std::clamp(bits, 0, 64); }
    /// Up to `max_flows` TCP/UDP flows with ids above `after_id`, in id order,
    /// with their names. `flows` is cleared first and keeps its capacity.
    void read_flow_page(uint64_t after_id, int max_flows, std::vector<facts::FlowFacts>& flows);
    /// The TCP/UDP flows among `ids` (other ids are skipped), with their
    /// names, in the order of `ids`. `flows` is cleared first.
    void read_flows(const std::vector<uint64_t>& ids, std::vector<facts::FlowFacts>& flows);
    /// The run's DNS questions per name (dns_name), in qname order: whether
    /// one resolved, how many failed, the latest failure's response code
    /// ("" when it went unanswered).
    void for_each_dns_name(const std::function<void(std::string_view qname, bool resolved, uint32_t failed,
                                                    std::string_view last_rcode)>& fn);
    /// Every distinct name of the run's flows.
    void for_each_flow_name(const std::function<void(std::string_view name)>& fn);
    /// TTLs seen from `server_ip` on its flows that completed a handshake or answered.
    /// Read once per server: the flow rows' TTL columns do not change while
    /// this object lives (attribution rewrites only their outcome).
    [[nodiscard]] const std::set<int>& server_ttls(const std::string& server_ip);

    /// With the flows in memory and the DNS names read ahead: the store's
    /// writer thread builds the reader indexes while the caller attributes
    /// (it reads nothing more on this connection until begin_writing, which
    /// waits for them). Otherwise the constructor built them.
    void build_indexes_behind();

    // ---- writes (inside the transaction) ----
    /// Opens the transaction and clears the run's flow_match, unmatched_flow and verdict rows.
    void begin_writing();
    /// Opens the transaction for a live refresh that rewrites some flows'
    /// rows (clear_flow() each first): only the verdicts are cleared.
    void begin_rewriting();
    /// Deletes one flow's flow_match and unmatched_flow rows (begin_rewriting()).
    void clear_flow(uint64_t flow_id);
    /// Attribution's records of the run (records/attribution.hpp).
    void write(const records::FlowMatch& r);
    void write(const records::UnmatchedFlow& r);
    void write(const records::CatalogEntry& r);
    void write(const records::Verdict& r);
    /// Replaces the run's product verdicts.
    void replace_products(std::span<const records::ProductVerdict> products);
    void write_flow_outcome(uint64_t flow_id, std::string_view outcome);
    void write_catalog_digest(std::string_view digest);
    void commit();

    // ---- writes behind ----
    /// begin_writing, on the store's writer thread after the indexes when
    /// they are being built there (ReadsNothing with write-behind, or
    /// build_indexes_behind): from here on the writes are that thread's, each
    /// given as a job to write_behind(), run there in order while the caller
    /// goes on; commit_behind() ends them. Otherwise begin_writing() now.
    void begin_writing_behind();
    /// `job` writes through the object it is given: on the writer thread
    /// after begin_writing_behind() (it must not touch what the caller
    /// changes meanwhile), here and now otherwise.
    void write_behind(std::function<void(AttributionIo&)> job);
    /// commit(), after the jobs; waits for all of them and rethrows the
    /// first error the writer thread met. The connection is the caller's
    /// again when it returns.
    void commit_behind();

private:
    int tuple_hash_bits_ = 64;  ///< set_tuple_hash_bits
    /// The transaction and the statements begin_writing and begin_rewriting both use.
    void open_writers();
    /// begin_writing once the indexes are there: the transaction, the
    /// statements, the run's earlier attribution cleared.
    void start_writing();
    bool writing_behind_ = false;  ///< begin_writing_behind gave the writes to the writer thread
    Store& store_;
    int64_t run_;
    std::unique_ptr<Statement> ttl_q_, ins_match_, ins_matches_, upd_outcome_, ins_gap_, ins_entry_, ins_verdict_,
        del_match_, del_gap_;
    /// A flow match waiting for its INSERT, its text fields viewing copies
    /// of their own: what it was given from is gone once the flow's rows are
    /// written. Not copyable: the views point into its own `text`.
    template <class Values>
    struct TextFields;
    template <class... T>
    struct TextFields<std::tuple<T...>> {
        static constexpr size_t count = (size_t{std::is_same_v<std::remove_cvref_t<T>, std::string_view>} + ... + 0);
    };
    struct WaitingMatch {
        WaitingMatch() = default;
        WaitingMatch(const WaitingMatch&) = delete;
        WaitingMatch& operator=(const WaitingMatch&) = delete;
        records::FlowMatch row;
        /// One per text field of the record, in order.
        std::array<std::string, TextFields<decltype(std::declval<records::FlowMatch&>().fields())>::count> text;
        void take(const records::FlowMatch& r);
    };
    /// Flow matches are written kMatchRows at a time, by one INSERT of that
    /// many rows (ins_matches_): a statement's step costs much the same for
    /// one row as for many (store/row_group.hpp). They wait in order, and
    /// are written before anything that could see them: a flow's matches
    /// cleared, the commit. (Nothing reads them back while they wait.)
    static constexpr int kMatchRows = 16;
    std::array<WaitingMatch, kMatchRows> waiting_;
    int waiting_count_ = 0;
    void write_waiting_matches();
    std::unique_ptr<Transaction> txn_;
    std::unique_ptr<FlowPagesAhead> ahead_;  ///< pages read ahead, when the constructor was asked and could
    /// With ahead_: the packets' rows copied into the database file meanwhile.
    std::unique_ptr<CheckpointAhead> checkpoint_;
    /// server_ttls' answers by server: a busy server answered by resets
    /// was read by an indexed scan of its flows once per reset flow.
    std::map<std::string, std::set<int>, std::less<>> ttls_;
    int ahead_page_flows_ = 0;
    uint64_t ahead_after_ = 0;  ///< the last id of the last page taken from ahead_
    bool indexes_deferred_ = false;  ///< not built by the constructor
    bool indexes_behind_ = false;  ///< being built on the store's writer thread
    /// This connection is the caller's again: indexes being built behind
    /// are waited for.
    void own_connection();
    /// The reader indexes are there: waited for, or built now if deferred
    /// and never sent behind.
    void indexes_built();
};

}  // namespace callwall::store
