// Attribution's reads and writes. See store/attribution_io.hpp.
#include "store/attribution_io.hpp"

#include <bit>
#include <functional>
#include <iterator>
#include <map>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "records/attribution.hpp"
#include "store/checkpoint_ahead.hpp"
#include "store/conn.hpp"
#include "store/flow_pages.hpp"
#include "store/row_group.hpp"
#include "store/schema.hpp"
#include "store/statement.hpp"

namespace callwall::store {
AttributionIo::AttributionIo(Store& s, int64_t run_id, int ahead_page_flows, bool flows_in_memory)
    : store_(s), run_(run_id) {
    store_.commit_now();  // the writer thread's rows, then the open batch: attribution's transaction cannot nest in it
    // Started before the indexes are built: the pages are read while they are.
    if (ahead_page_flows > 0) {
        ahead_ = FlowPagesAhead::start(store_.c_->db, store_.path(), run_, flows_in_memory ? 0 : ahead_page_flows);
        ahead_page_flows_ = ahead_page_flows;
        store_.finish_run_checkpoint();
        if (ahead_) checkpoint_ = CheckpointAhead::start(store_.c_->db, store_.path());
    }
    if (flows_in_memory && ahead_ && store_.write_behind())
        indexes_deferred_ = true;  // build_indexes_behind()
    else
        store_.create_reader_indexes();
}

AttributionIo::AttributionIo(Store& s, int64_t run_id, ReadsNothing) : store_(s), run_(run_id) {
    if (!store_.write_behind()) {
        store_.commit_now();
        store_.create_reader_indexes();
        return;
    }
    // On the writer thread, after the rows queued before it: the checkpoint
    // starts from every packet's row, as the constructor above starts it.
    store_.defer([this](Store& st) {
        st.commit_batch();
        st.finish_run_checkpoint();
        checkpoint_ = CheckpointAhead::start(st.c_->db, st.path());
        st.create_reader_indexes();
    });
    indexes_behind_ = true;
}

AttributionIo::~AttributionIo() {
    try {
        if (indexes_behind_) store_.sync_writes();  // the writer thread leaves the connection first
    } catch (...) {
        // Its error was the caller's to hear (begin_writing); the statements go anyway.
    }
}

void AttributionIo::build_indexes_behind() {
    if (!indexes_deferred_ || indexes_behind_) return;
    store_.defer([](Store& st) { st.create_reader_indexes(); });
    indexes_behind_ = true;
}

void AttributionIo::own_connection() {
    if (!indexes_behind_) return;
    indexes_behind_ = indexes_deferred_ = false;  // built by the job
    store_.sync_writes();  // throws the writer thread's error, if any
}

void AttributionIo::indexes_built() {
    own_connection();
    if (!indexes_deferred_) return;
    indexes_deferred_ = false;
    store_.create_reader_indexes();  // never sent behind: built now
}

void AttributionIo::read_run(double& capture_end, int64_t& evicted_full) {
    own_connection();
    Statement st(store_.c_->db, store_.path(), "SELECT coalesce(last_ts, 0), flows_evicted_full FROM run WHERE id=?");
    st.bind(1, run_);
    if (st.row("reading the run")) {
        capture_end = st.real(0);
        evicted_full = st.int64(1);
        st.reset();
    }
}

void AttributionIo::for_each_interface_set(
    std::optional<uint32_t> written,
    const std::function<void(uint32_t interfaces, bool far_side, uint64_t flows)>& fn) {
    own_connection();
    // attrib::shows_far_side in SQL (roles & 2: flow::kClientAnswered).
    constexpr const char* kFarSide = "(packets_s2c > 0 OR icmp_errors > 0 OR (roles & 2) != 0)";
    if (written && std::popcount(*written) == 1) {
        // One interface: the first flow that shows the far side ends the
        // scan (in a capture of both directions, within its first rows); the
        // flows are counted only when none does (CASE evaluates the count
        // only then).
        const std::string sql =
            std::string(
                "SELECT far, CASE WHEN far THEN 0 ELSE (SELECT count(*) FROM flow WHERE run_id=?1 AND "
                "transport IN ('tcp','udp')) END FROM (SELECT EXISTS(SELECT 1 FROM flow WHERE run_id=?1 AND "
                "transport IN ('tcp','udp') AND ") +
            kFarSide + ") AS far)";
        Statement st(store_.c_->db, store_.path(), sql.c_str());
        st.bind(1, run_);
        if (st.row("reading whether the capture holds one direction")) {
            const bool far = st.int64(0) != 0;
            const auto flows = static_cast<uint64_t>(st.int64(1));
            st.reset();
            if (far || flows > 0) fn(*written, far, flows);
        }
        return;
    }
    // Several interfaces (or not known): each set of them, counted.
    const std::string sql = std::string("SELECT interfaces, ") + kFarSide +
                            ", count(*) FROM flow WHERE run_id=?1 AND transport IN ('tcp','udp') GROUP BY 1, 2";
    Statement st(store_.c_->db, store_.path(), sql.c_str());
    st.bind(1, run_);
    while (st.row("reading which interfaces hold one direction"))
        fn(static_cast<uint32_t>(st.int64(0)), st.int64(1) != 0, static_cast<uint64_t>(st.int64(2)));
}

std::set<std::string> AttributionIo::stun_answered_hosts() {
    if (ahead_) return ahead_->stun_answered_hosts();  // scanned beside the indexes
    own_connection();
    return read_stun_answered_hosts(store_.c_->db, store_.path(), run_);
}

namespace {

uint64_t mix64(uint64_t h) noexcept {  // splitmix64's finalizer
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

std::string_view value_text(sqlite3_value* v) noexcept {
    const unsigned char* p = sqlite3_value_text(v);  // before sqlite3_value_bytes, as SQLite asks
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_value_bytes(v)))
             : std::string_view();
}

/// callwall_tuple_hash(transport, client_ip, client_port, server_ip,
/// server_port): a 64-bit hash of the flow's 5-tuple with its two endpoints
/// in order (address text, then port), the lower first, so both directions
/// hash alike; the user data holds how many low bits are kept.
void tuple_hash(sqlite3_context* ctx, int, sqlite3_value** v) {
    const std::string_view transport = value_text(v[0]), cip = value_text(v[1]), sip = value_text(v[3]);
    const uint64_t cport = static_cast<uint64_t>(sqlite3_value_int64(v[2]));
    const uint64_t sport = static_cast<uint64_t>(sqlite3_value_int64(v[4]));
    const bool client_low = cip < sip || (cip == sip && cport < sport);
    const std::hash<std::string_view> text_hash;
    uint64_t h = mix64(text_hash(transport));
    h = mix64(h ^ text_hash(client_low ? cip : sip));
    h = mix64(h ^ (client_low ? cport : sport));
    h = mix64(h ^ text_hash(client_low ? sip : cip));
    h = mix64(h ^ (client_low ? sport : cport));
    const int bits = *static_cast<const int*>(sqlite3_user_data(ctx));
    if (bits < 64) h &= (uint64_t{1} << bits) - 1;
    sqlite3_result_int64(ctx, static_cast<int64_t>(h));
}

}  // namespace

void AttributionIo::for_each_shared_tuple(const std::function<void(const std::vector<TupleRow>&)>& fn) {
    own_connection();
    sqlite3* db = store_.c_->db;
    // Every row of the run in the order of its 5-tuple's hash (the transport
    // and the two endpoints, the lower first): rows of one tuple come
    // together, and rows of different tuples that share a hash are told
    // apart by their tuples, read again. Sorting by one integer costs 7,200
    // instructions a flow; sorting by the tuples' columns cost 16,900 and
    // grouping them in SQL through text 25,700 (docs/performance.md, "Many
    // flows"), for every flow of a run whose table overflowed. The
    // endpoints are ordered by address text, then port; add_split_rows asks
    // only whether rows of one tuple have the same client, which any order
    // of the two endpoints tells alike.
    // Registered with `bits` as user data, unregistered with none.
    const auto define = [db](const int* bits, decltype(&tuple_hash) fn) {
        return sqlite3_create_function_v2(db, "callwall_tuple_hash", 5,
                                          SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, const_cast<int*>(bits),
                                          fn, nullptr, nullptr, nullptr);
    };
    if (const int rc = define(&tuple_hash_bits_, tuple_hash); rc != SQLITE_OK)
        throw_sqlite(db, store_.path(), rc, "registering the tuple hash");
    struct Unregister {  // the function's user data lives in this object, the connection longer
        decltype(define)& redefine;
        ~Unregister() { redefine(nullptr, nullptr); }
    } const unregister{define};
    // The row's client is the lower endpoint (what tuple_hash orders by).
    const std::string client_low = "(client_ip < server_ip OR (client_ip = server_ip AND client_port < server_port))";
    Statement st(db, store_.path(),
                 ("SELECT id, " + client_low +
                  ", packets_c2s > 0, packets_s2c > 0, "
                  "callwall_tuple_hash(transport, client_ip, client_port, server_ip, server_port) AS h "
                  "FROM flow WHERE run_id=? ORDER BY h")
                     .c_str());
    st.bind(1, run_);
    Statement tuple(db, store_.path(),
                    ("SELECT transport, iif(low, client_ip, server_ip), iif(low, client_port, server_port), "
                     "iif(low, server_ip, client_ip), iif(low, server_port, client_port) FROM (SELECT *, " +
                     client_low + " AS low FROM flow WHERE run_id=?1 AND id=?2)")
                        .c_str());
    tuple.bind(1, run_);
    std::vector<TupleRow> rows;  // of one hash
    std::map<std::string, std::vector<TupleRow>> tuples;  // a hash's rows by their tuple
    const auto flush = [&] {
        if (rows.size() > 1) {
            tuples.clear();
            for (const TupleRow& r : rows) {
                tuple.bind(2, r.id);
                std::string key;
                if (tuple.row("reading a split flow's tuple"))
                    for (int c = 0; c < 5; ++c) (key += tuple.text(c)) += '\0';
                tuple.reset();
                tuples[key].push_back(r);
            }
            for (const auto& [key, same] : tuples)
                if (same.size() > 1) fn(same);
        }
        rows.clear();
    };
    int64_t hash = 0;
    while (st.row("reading split flows")) {
        if (!rows.empty() && st.int64(4) != hash) flush();
        hash = st.int64(4);
        rows.push_back(
            TupleRow{static_cast<uint64_t>(st.int64(0)), st.integer(1) != 0, st.integer(2) != 0, st.integer(3) != 0});
    }
    flush();
}

void AttributionIo::read_flow_page(uint64_t after_id, int max_flows, std::vector<facts::FlowFacts>& flows) {
    if (!ahead_) {
        own_connection();
        store::read_flow_page(store_.c_->db, store_.path(), run_, after_id, max_flows, flows);
        return;
    }
    if (after_id != ahead_after_ || max_flows != ahead_page_flows_)
        throw std::logic_error("AttributionIo::read_flow_page: pages read ahead are taken in order, whole");
    ahead_->next(flows);
    if (!flows.empty()) ahead_after_ = flows.back().id;
}

void AttributionIo::read_flows(const std::vector<uint64_t>& ids, std::vector<facts::FlowFacts>& flows) {
    own_connection();
    store::read_flows(store_.c_->db, store_.path(), run_, ids, flows);
}

void AttributionIo::for_each_dns_name(
    const std::function<void(std::string_view, bool, uint32_t, std::string_view)>& fn) {
    if (ahead_) {  // read beside the indexes
        std::vector<DnsNameRow> rows;
        while (ahead_->next_dns_names(rows))
            for (const DnsNameRow& r : rows) fn(r.qname, r.resolved, r.failed, r.last_rcode);
        return;
    }
    own_connection();
    Statement st(store_.c_->db, store_.path(), kDnsNamesSql);
    st.bind(1, run_);
    while (st.row("reading DNS names")) fn(st.text(0), st.integer(1) != 0, clamp_u32(st.int64(2)), st.text(3));
}

void AttributionIo::for_each_flow_name(const std::function<void(std::string_view)>& fn) {
    own_connection();
    Statement st(store_.c_->db, store_.path(), "SELECT DISTINCT name FROM flow_name WHERE run_id=?");
    st.bind(1, run_);
    while (st.row("reading flow names")) fn(st.text(0));
}

const std::set<int>& AttributionIo::server_ttls(const std::string& server_ip) {
    if (ahead_) {  // every server of a flow answered by a reset alone, read beside the indexes
        const auto& read = ahead_->reset_server_ttls();
        if (const auto it = read.find(server_ip); it != read.end()) return it->second;
    }
    if (const auto it = ttls_.find(server_ip); it != ttls_.end()) return it->second;
    own_connection();
    if (!ttl_q_) {  // the first server asked about here: its index, then the query that reads by it
        store_.exec(kServerIndex);
        ttl_q_ = std::make_unique<Statement>(
            store_.c_->db, store_.path(),
            (std::string(
                 "SELECT DISTINCT server_ttl_min, server_ttl_max FROM flow WHERE run_id=? AND server_ip=? AND ") +
             kFlowAnsweredWithTtl)
                .c_str());
    }
    std::set<int> ttls;
    ttl_q_->bind(1, run_).bind(2, server_ip);
    while (ttl_q_->row("reading server TTLs")) {
        ttls.insert(ttl_q_->integer(0));
        ttls.insert(ttl_q_->integer(1));
    }
    return ttls_.emplace(server_ip, std::move(ttls)).first->second;
}

void AttributionIo::open_writers() {
    txn_ = std::make_unique<Transaction>(store_.c_->db, store_.path());
    // A plain INSERT: begin_writing clears the run's matches, clear_flow a
    // flow's, and match_flow gives an entry once per flow. (OR REPLACE cost
    // a statement journal per row.)
    ins_match_ = std::make_unique<Statement>(store_.c_->db, store_.path(),
                                             records::insert_sql(records::FlowMatch::table()).c_str());
    upd_outcome_ =
        std::make_unique<Statement>(store_.c_->db, store_.path(), "UPDATE flow SET outcome=? WHERE run_id=? AND id=?");
    ins_gap_ = std::make_unique<Statement>(store_.c_->db, store_.path(),
                                           records::insert_sql(records::UnmatchedFlow::table()).c_str());
}

void AttributionIo::begin_writing() {
    indexes_built();
    start_writing();
}

void AttributionIo::start_writing() {
    write_waiting_matches();
    open_writers();
    // Attribution may run many times on a live run: start from a clean slate.
    for (const char* sql : {"DELETE FROM flow_match WHERE run_id=?", "DELETE FROM unmatched_flow WHERE run_id=?",
                            "DELETE FROM verdict WHERE run_id=?"})
        Statement(store_.c_->db, store_.path(), sql).bind(1, run_).run("clearing earlier attribution");
}

void AttributionIo::begin_writing_behind() {
    if (!indexes_behind_) {
        begin_writing();
        return;
    }
    writing_behind_ = true;
    store_.defer([this](Store&) { start_writing(); });
}

void AttributionIo::write_behind(std::function<void(AttributionIo&)> job) {
    if (!writing_behind_) {
        job(*this);
        return;
    }
    store_.defer([this, job = std::move(job)](Store&) { job(*this); });
}

void AttributionIo::commit_behind() {
    if (!writing_behind_) {
        commit();
        return;
    }
    store_.defer([this](Store&) { commit(); });
    writing_behind_ = false;
    own_connection();  // waits for the jobs; throws the writer thread's error, if any
}

void AttributionIo::begin_rewriting() {
    write_waiting_matches();
    indexes_built();
    open_writers();
    del_match_ = std::make_unique<Statement>(store_.c_->db, store_.path(),
                                             "DELETE FROM flow_match WHERE run_id=? AND flow_id=?");
    del_gap_ = std::make_unique<Statement>(store_.c_->db, store_.path(),
                                           "DELETE FROM unmatched_flow WHERE run_id=? AND flow_id=?");
    Statement(store_.c_->db, store_.path(), "DELETE FROM verdict WHERE run_id=?")
        .bind(1, run_)
        .run("clearing verdicts");
}

void AttributionIo::clear_flow(uint64_t flow_id) {
    write_waiting_matches();
    del_match_->bind(1, run_).bind(2, flow_id).run("clearing a flow's matches");
    del_gap_->bind(1, run_).bind(2, flow_id).run("clearing a flow's gaps");
}

void AttributionIo::WaitingMatch::take(const records::FlowMatch& r) {
    row = r;
    size_t t = 0;
    const auto own = [&](auto& field) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(field)>, std::string_view>) {
            text[t].assign(field);
            field = text[t++];
        }
    };
    std::apply([&](auto&... field) { (own(field), ...); }, row.fields());
}

void AttributionIo::write(const records::FlowMatch& r) {
    waiting_[static_cast<size_t>(waiting_count_++)].take(r);
    if (waiting_count_ == kMatchRows) write_waiting_matches();
}

void AttributionIo::write_waiting_matches() {
    // Written or failed (the transaction then rolls back), they wait no more.
    const int n = std::exchange(waiting_count_, 0);
    if (n < kMatchRows) {
        for (int i = 0; i < n; ++i)
            ins_match_->bind_record(run_, waiting_[static_cast<size_t>(i)].row).run("writing a flow match");
        return;
    }
    if (!ins_matches_)
        ins_matches_ = std::make_unique<Statement>(
            store_.c_->db, store_.path(),
            many_rows_sql(records::insert_sql(records::FlowMatch::table()), kMatchRows).c_str());
    constexpr int kValues = 1 + static_cast<int>(std::size(records::FlowMatch::kColumns));  // run_id, then the columns
    for (int i = 0; i < n; ++i) ins_matches_->bind_record(run_, waiting_[static_cast<size_t>(i)].row, 1 + i * kValues);
    ins_matches_->run("writing a flow match");
}

void AttributionIo::write(const records::UnmatchedFlow& r) {
    ins_gap_->bind_record(run_, r).run("writing an unmatched flow");
}

void AttributionIo::write_flow_outcome(uint64_t flow_id, std::string_view outcome) {
    upd_outcome_->bind(1, outcome).bind(2, run_).bind(3, flow_id).run("writing a flow outcome");
}

void AttributionIo::write(const records::CatalogEntry& r) {
    if (!ins_entry_)
        ins_entry_ = std::make_unique<Statement>(store_.c_->db, store_.path(),
                                                 records::insert_sql(records::CatalogEntry::table()).c_str());
    ins_entry_->bind_record(run_, r).run("writing a catalog entry");
}

void AttributionIo::write(const records::Verdict& r) {
    if (!ins_verdict_)
        ins_verdict_ = std::make_unique<Statement>(store_.c_->db, store_.path(),
                                                   records::insert_sql(records::Verdict::table()).c_str());
    ins_verdict_->bind_record(run_, r).run("writing a verdict");
}

void AttributionIo::replace_products(std::span<const records::ProductVerdict> products) {
    Statement ins(store_.c_->db, store_.path(), records::insert_sql(records::ProductVerdict::table()).c_str());
    Statement(store_.c_->db, store_.path(), "DELETE FROM product_verdict WHERE run_id=?")
        .bind(1, run_)
        .run("clearing product verdicts");
    for (const records::ProductVerdict& p : products) ins.bind_record(run_, p).run("writing a product verdict");
}

void AttributionIo::write_catalog_digest(std::string_view digest) {
    Statement(store_.c_->db, store_.path(), "UPDATE run SET catalog_digest=? WHERE id=?")
        .bind(1, digest)
        .bind(2, run_)
        .run("writing the catalog digest");
}

void AttributionIo::commit() {
    write_waiting_matches();
    // Statements are finalised before COMMIT, as before (an open read would not stop it, but a pending one might).
    ins_match_.reset();
    ins_matches_.reset();
    upd_outcome_.reset();
    ins_gap_.reset();
    ins_entry_.reset();
    ins_verdict_.reset();
    if (ttl_q_) ttl_q_->reset();
    txn_->commit("committing verdicts");
    txn_.reset();
}

}  // namespace callwall::store
