// A run from start to end. See src/run/session.hpp.
#include "run/session.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>
#include <system_error>

#include "attrib/kept_flows.hpp"
#include "attrib/kept_rows.hpp"
#include "attrib/run_detail.hpp"
#include "attrib/live.hpp"
#include "facts/naming.hpp"
#include "attrib/flow_row.hpp"
#include "attrib/run_attribution.hpp"
#include "run/row_hook.hpp"
#include "run/run_status.hpp"
#include "run/store_analyzer.hpp"
#include "run/verdict_changes.hpp"
#include "events/events.hpp"
#include "callwall/version.hpp"
#include "events/event_sink.hpp"
#include "events/record_json.hpp"
#include "records/run.hpp"
#include "run/vendor_addresses.hpp"
#include "store/store.hpp"
#include "store/whole_runs.hpp"
#include "util/clock.hpp"
#include "util/populate_behind.hpp"

namespace callwall::run {
namespace {

// A notes line for each bound the run hit (dissect buffer pools full, name
// table full), so the damage to the results is visible in run.notes. Flows
// forced out by --max-flows are already in run.flows_evicted_full.
void note_bounds(StoreAnalyzer& a) {
    std::string& notes = a.totals().notes;
    const pipeline::DissectStats ds = a.dissect_stats();
    if (ds.pool_exhausted)
        notes +=
            "bounds: " + std::to_string(ds.pool_exhausted) +
            " times a flow got no decoder buffer (TLS/QUIC/STUN/RTP/DNS pools full); those flows lack application facts\n";
    if (ds.names_dropped)
        notes += "bounds: " + std::to_string(ds.names_dropped) + " names not recorded (name table full at " +
                 std::to_string(facts::NameTable::kMaxNames) + ")\n";
    if (ds.addresses_dropped)
        notes += "bounds: " + std::to_string(ds.addresses_dropped) +
                 " DNS answers not mapped to addresses (address map full)\n";
    // Not the reclaims themselves: a stalled hello that lost its buffer and
    // never sent more lacks nothing the bound took, and how many buffers
    // were reclaimed depends on how the flows are split across workers.
    if (ds.hellos_cut)
        notes += "bounds: " + std::to_string(ds.hellos_cut) +
                 " TLS/QUIC handshakes went on after their buffer was reclaimed for newer ones (pool full or one "
                 "address at its bound); those flows lack their hello\n";
    if (ds.tcp_gaps)
        notes += "tcp: " + std::to_string(ds.tcp_gaps) + " stream gaps never filled (" +
                 std::to_string(ds.tcp_gap_bytes) + " bytes not decoded), " + std::to_string(ds.tcp_resyncs) +
                 " resynchronisations at the next frame\n";
    if (ds.peers_dropped)
        notes += "bounds: " + std::to_string(ds.peers_dropped) + " TURN peers not recorded (peer map full)\n";
}

}  // namespace

struct Session::Impl {
    /// With a second core: the flow-sized arrays' fresh memory is populated
    /// on a thread of its own (util/populate_behind.hpp). First, so that it
    /// outlives every array that asks it.
    std::unique_ptr<util::PopulateBehind> populate;
    Options o;
    std::unique_ptr<events::EventLog> log;
    /// The run's DNS names and flow interfaces as its rows are handed to the
    /// store (the store's tap: it outlives `db`).
    attrib::KeptRows kept_rows;
    std::unique_ptr<store::Store> db;
    int64_t run_id = 0;
    std::unique_ptr<events::EventSink> event_sink;
    std::unique_ptr<VendorAddresses> vendor_addresses;  ///< kept across runs
    std::unique_ptr<facts::TeeSink> tee;  ///< events and addresses both
    std::unique_ptr<VerdictChanges> verdict_changes;
    std::unique_ptr<attrib::KeptFlows> kept;  ///< the run's flows for its attribution (before wired: it points here)
    std::unique_ptr<RowHook> row_hook;  ///< each row's outcome, and kept (before wired: it points here)
    std::unique_ptr<StoreAnalyzer> wired;  ///< the packet path and the store's writer it writes through
    /// Live runs: the refresh's attribution, from the flows that changed.
    std::unique_ptr<attrib::LiveAttribution> live;
    std::vector<uint64_t> changed;  ///< flow ids written since the last live attribution
    /// With write-behind, the live attribution runs on the store's thread
    /// (Store::defer): one at a time, its verdicts picked up by the next tick.
    std::mutex live_mu;
    std::optional<attrib::RunVerdicts> live_done;  ///< under live_mu
    double live_cost = 0;  ///< under live_mu
    bool live_in_flight = false;  ///< decoding thread only
    std::optional<attrib::RunVerdicts> last_verdicts;  ///< of the run's last attribution
    std::optional<attrib::RunDetail> detail;  ///< of the run's final attribution
    RunRow row;  ///< the run's rows besides its record
    store::RunInfo begun;  ///< what the run's row started with
    store::RunStatus written_status = store::RunStatus::Running;  ///< as last written
    double ended_at = 0;  ///< as last written; 0 while it runs
    /// The run's row: its totals, status and end written (and kept here).
    void write_row(store::RunStatus st, double ended) {
        db->update_run(run_id, wired->totals(), st, ended);
        written_status = st;
        if (ended > 0) ended_at = ended;
    }
    uint64_t until_checkpoint = 0;  ///< frames until the next checkpoint (file runs)
    double last_commit = 0;  ///< when a checkpoint last committed (file runs)
    uint32_t checkpoints_since_commit = 0;
    double last_refresh = 0, last_attrib = 0, attrib_cost = 0;
    Status status = Status::Failed;  ///< until finish() says otherwise
    std::string ended_by;
    bool run_end_written = false;
    double ran_until = 0;  ///< capture_ran_until(); 0: the last packet's time
    /// The run's end is when the capture stopped, when that is known and
    /// later than its last packet.
    void take_capture_end() {
        facts::RunTotals& t = wired->totals();
        if (t.packets && ran_until > t.last_ts) t.last_ts = ran_until;
    }

    /// Begins a run: its row, its packet path, its run_start line.
    void begin();

    /// The verdicts of a deferred live attribution that finished, as events;
    /// Attributed when there were some.
    Tick take_live_verdicts();

    void verdict_events(const attrib::RunVerdicts& v) {
        last_verdicts = v;
        if (!verdict_changes) return;
        for (const events::VerdictEvent& e : verdict_changes->update(v, wired->totals().last_ts)) {
            log->write(events::to_json(e));
        }
    }

    /// Once the event stream fails (its reader went away: EPIPE), a run note
    /// says so; the run itself goes on. True when the note was added now.
    bool note_events_closed() {
        if (!log || log->ok() || events_noted) return false;
        events_noted = true;
        wired->totals().notes += "events: the event stream closed after " + std::to_string(log->lines()) + " lines (" +
                                 log->error() + "); the run went on without it\n";
        return true;
    }
    bool events_noted = false;
    store::Store::BusyWaits busy_before;  ///< the store's waits when the run began

    /// A run note for the time the run's writes waited for other writers.
    void note_busy_waits() {
        const store::Store::BusyWaits w = db->busy_waits();
        if (w.waits == busy_before.waits) return;
        char line[320];
        std::snprintf(
            line, sizeof line,
            "database: waited %.1f s in all for another process's write lock (%llu times, the longest "
            "%.1f s): an SQLite shell, merge or analyze writing the same file; the capture went on meanwhile\n",
            w.waited_s - busy_before.waited_s, static_cast<unsigned long long>(w.waits - busy_before.waits),
            w.longest_s);
        wired->totals().notes += line;
    }

    /// The run's record as its row holds it with these totals (its writer
    /// aside: no reader of this copy needs it); text views `begun` and the totals.
    [[nodiscard]] records::Run record(std::string_view status, double ended) const {
        records::Run r = store::run_record(begun, store::WriterId{});
        store::set_run_totals(r, wired->totals(), status, ended);
        return r;
    }

    void run_end_event() noexcept {
        if (!log || run_end_written) return;
        run_end_written = true;
        try {
            const facts::RunTotals& t = wired->totals();
            events::RunEndEvent e;
            e.ts = util::wall_s();
            e.run_id = run_id;
            e.status = std::string(store::to_string(store_status(status)));
            e.ended_by = ended_by;
            e.packets = t.packets;
            e.bytes = t.bytes;
            e.flows = wired->flow_stats().created;
            e.kernel_dropped = t.kernel_dropped;
            e.first_ts = t.first_ts;
            e.last_ts = t.last_ts;
            events::append_columns(records::kRunTotalsColumns, records::run_totals(record(e.status, e.ts)),
                                   events::kRunEndViewedColumns, e.columns);
            log->write(events::to_json(e));
        } catch (...) {
            // Out of memory formatting the last line: the run is in the database.
        }
    }
};

Session::Session(Options options) : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.o = std::move(options);
    if (!s.o.events_path.empty()) {
        s.log = std::make_unique<events::EventLog>(s.o.events_path);
        if (!s.log->ok()) throw EventsError("--events " + s.log->error());
    }
    if (s.o.write_behind) {
        try {
            s.populate = std::make_unique<util::PopulateBehind>();
        } catch (const std::system_error&) {
            // No thread: pages fault where they are first touched, as on one core.
        }
    }
    s.db = store::Store::open(s.o.db_path);
    s.db->tap_rows(&s.kept_rows);
    // A live capture outlasts other writers of its file instead of stopping
    // after 5 s of "database is locked" (store::Store::set_patient).
    if (s.o.refresh_s > 0) s.db->set_patient(true);
    s.db->write_behind(s.o.write_behind);
    if (s.o.collect_vendor_addresses) s.vendor_addresses = std::make_unique<VendorAddresses>(*s.o.catalog);
    s.begin();
}

void Session::Impl::begin() {
    begun = begin_info(o.kind, o.sources, o.command_line, *o.catalog);
    const store::RunInfo& info = begun;
    run_id = db->begin_run(info);
    row = RunRow{};
    row.id = run_id;
    row.sources = info.sources;
    written_status = store::RunStatus::Running;
    ended_at = 0;

    pipeline::AnalyzerConfig cfg;
    cfg.flows.max_flows = o.max_flows;
    cfg.decoder_flows = o.decoder_flows;
    cfg.per_message_rows = o.per_message_rows;
    cfg.workers = log ? 1 : o.workers;
    if (log) {
        event_sink = std::make_unique<events::EventSink>(*log, o.catalog, run_id);
        verdict_changes = std::make_unique<VerdictChanges>(*o.catalog, run_id);
        cfg.extra_sink = event_sink.get();
        events::RunStartEvent e;
        e.ts = info.started_at;
        e.run_id = run_id;
        e.kind = info.kind;
        e.sources = info.sources;
        e.tool_version = kVersion;
        e.catalog_digest = info.catalog_digest;
        // The columns as the run's row holds them (begin_run wrote them with this process as the writer).
        const store::WriterId me = store::current_writer();
        const records::Run r = store::run_record(info, me);  // its text views `info` and `me`
        events::append_columns(records::kRunOnceColumns, records::run_once(r), events::kRunStartViewedColumns,
                               e.columns);
        log->write(events::to_json(e));
    }
    ShardInputs shards;
    shards.fanout = log ? nullptr : o.fanout;  // the command refuses --workers with --events
    if (vendor_addresses && cfg.workers > 1) {
        shards.vendor_addresses = vendor_addresses.get();  // each worker collects; taken at refreshes
    } else if (vendor_addresses) {
        if (cfg.extra_sink) {
            tee = std::make_unique<facts::TeeSink>(*cfg.extra_sink, *vendor_addresses);
            cfg.extra_sink = tee.get();
        } else {
            cfg.extra_sink = vendor_addresses.get();
        }
    }
    // A run without refreshes is attributed once, at its end: its flows are
    // kept as their rows are written, for that attribution to take.
    auto next_kept = o.refresh_s <= 0 ? std::make_unique<attrib::KeptFlows>() : nullptr;
    auto next_hook = std::make_unique<RowHook>(attrib::provisional_outcome, next_kept.get());
    if (next_kept) kept_rows.keep_dns_names(run_id);  // and its DNS questions, counted per name
    // The last run's goes first.
    wired =
        std::make_unique<StoreAnalyzer>(db.get(), run_id, cfg, RowWiring{next_hook.get(), event_sink.get()}, shards);
    kept = std::move(next_kept);
    row_hook = std::move(next_hook);
    live.reset();  // begin_run above waited for a deferred job using it
    live_done.reset();
    live_in_flight = false;
    last_verdicts.reset();
    detail.reset();
    if (o.refresh_s > 0) {
        wired->track_written();
        live = std::make_unique<attrib::LiveAttribution>(*o.catalog, &kept_rows);
    }
    until_checkpoint = o.checkpoint_packets ? o.checkpoint_packets : UINT64_MAX;
    last_refresh = last_commit = util::mono_s();
    checkpoints_since_commit = 0;
    last_attrib = attrib_cost = 0;
    status = Status::Failed;
    ended_by.clear();
    run_end_written = false;
    events_noted = false;
    busy_before = db->busy_waits();
}

void Session::next_run() {
    Impl& s = *impl_;
    s.run_end_event();
    s.wired.reset();  // before the sink it points to
    if (s.log) s.log->reopen();
    s.begin();
}

Session::~Session() {
    if (!impl_) return;
    try {
        // A deferred job uses the members destroyed below.
        if (impl_->db) impl_->db->sync_writes();
    } catch (...) {}
    impl_->run_end_event();
}

int64_t Session::run_id() const noexcept { return impl_->run_id; }
const attrib::RunVerdicts* Session::last_verdicts() const noexcept {
    return impl_->last_verdicts ? &*impl_->last_verdicts : nullptr;
}
const attrib::RunDetail* Session::run_detail() const noexcept { return impl_->detail ? &*impl_->detail : nullptr; }
const RunRow& Session::run_row() const noexcept { return impl_->row; }

records::Run Session::run_record() const {
    return impl_->record(store::to_string(impl_->written_status), impl_->ended_at);
}
const catalog::Catalog& Session::catalog() const noexcept { return *impl_->o.catalog; }
void Session::write_allow_list(const std::string& format, const std::string& text) {
    store::write_allow_list(*impl_->db, impl_->run_id, format, text);
    impl_->row.allow_lists[format] = text;
}
store::Store& Session::store() noexcept { return *impl_->db; }
RunCounts Session::counts() const {
    const StoreAnalyzer& a = *impl_->wired;
    RunCounts c;
    c.flows_created = a.flow_stats().created;
    c.live_flows = a.live_flows();
    c.flows_written = a.flows_written();
    std::copy(a.state_counts(), a.state_counts() + c.state_counts.size(), c.state_counts.begin());
    return c;
}

void Session::snapshot_all() { impl_->wired->snapshot(); }
std::string Session::wait_for_workers(int ms) { return impl_->wired->wait_for_workers(ms); }
facts::RunTotals& Session::totals() noexcept { return impl_->wired->totals(); }
const facts::RunTotals& Session::totals() const noexcept { return impl_->wired->totals(); }

bool Session::process(const decode::RawFrame& frame) {
    Impl& s = *impl_;
    s.wired->process(frame);
    if (--s.until_checkpoint != 0) return false;
    return checkpoint();
}

bool Session::checkpoint() {
    Impl& s = *impl_;
    s.until_checkpoint = s.o.checkpoint_packets ? s.o.checkpoint_packets : UINT64_MAX;
    if (s.o.checkpoint_packets == 0) return false;
    StoreAnalyzer& a = *s.wired;
    a.drain();
    const flow::FlowTableStats fs = a.flow_stats();
    a.totals().flows = fs.created;
    a.totals().flows_evicted_full = fs.evicted_full;
    s.db->update_run(s.run_id, a.totals(), store::RunStatus::Running, 0);
    if (const double now = util::mono_s();
        ++s.checkpoints_since_commit >= s.o.commit_every_checkpoints || now - s.last_commit >= s.o.commit_every_s) {
        s.db->flush();
        s.last_commit = now;
        s.checkpoints_since_commit = 0;
    }
    return true;
}

Tick Session::tick(double now) {
    Impl& s = *impl_;
    if (s.o.refresh_s <= 0 || now - s.last_refresh < s.o.refresh_s) return Tick::Nothing;
    s.last_refresh = now;
    if (s.o.kernel_stats) s.o.kernel_stats(s.wired->totals());
    s.wired->snapshot_changed();
    s.db->update_run(s.run_id, s.wired->totals(), store::RunStatus::Running, 0);
    s.db->flush();
    const Tick picked = s.take_live_verdicts();  // a deferred attribution that finished
    if (s.live_in_flight || now - s.last_attrib < std::max(s.o.refresh_s, s.attrib_cost * 5))
        return picked == Tick::Attributed ? picked : Tick::Refreshed;
    s.wired->take_written_ids(s.changed);
    if (!s.db->write_behind()) {
        const double a0 = util::mono_s();
        const attrib::RunVerdicts v = s.live->refresh(*s.db, s.run_id, s.changed);
        s.verdict_events(v);
        s.attrib_cost = util::mono_s() - a0;
        s.last_attrib = now;
        return Tick::Attributed;
    }
    // On the store's thread, after the rows just queued: the decoding thread
    // goes on reading meanwhile.
    s.live_in_flight = true;
    s.last_attrib = now;
    s.db->defer([&s, ids = std::move(s.changed), run = s.run_id](store::Store& db) {
        const double a0 = util::mono_s();
        attrib::RunVerdicts v = s.live->refresh(db, run, ids);
        std::lock_guard lk(s.live_mu);
        s.live_done = std::move(v);
        s.live_cost = util::mono_s() - a0;
    });
    s.changed = {};
    return picked == Tick::Attributed ? picked : Tick::Refreshed;
}

Tick Session::Impl::take_live_verdicts() {
    std::optional<attrib::RunVerdicts> v;
    {
        std::lock_guard lk(live_mu);
        if (!live_done) return Tick::Nothing;
        v = std::move(live_done);
        live_done.reset();
        attrib_cost = live_cost;
    }
    live_in_flight = false;
    verdict_events(*v);
    return Tick::Attributed;
}

void Session::note(const std::string& line) { impl_->wired->totals().notes += line; }

void Session::capture_ran_until(double ts_s) noexcept { impl_->ran_until = ts_s; }

void Session::finish(Status status, const std::string& ended_by) {
    Impl& s = *impl_;
    s.status = status;
    s.ended_by = ended_by;
    if (s.o.kernel_stats) s.o.kernel_stats(s.wired->totals());
    if (!ended_by.empty()) s.wired->totals().notes += "ended by " + ended_by + "\n";
    s.db->sync_writes();  // a deferred live attribution: its verdict events come before the final ones
    s.take_live_verdicts();
    s.take_capture_end();  // before the flows still alive are written with their outcome hints
    s.wired->finish();
    s.take_capture_end();  // a sharded run's end is set again from its workers'
    note_bounds(*s.wired);
    const facts::RunTotals& t = s.wired->totals();
    // What the run row says of its end, for an attribution from memory.
    if (s.kept) s.kept->set_run_totals(t.packets ? t.last_ts : 0, t.flows_evicted_full);
    s.note_events_closed();
    s.note_busy_waits();
    s.write_row(store_status(status), util::wall_s());
    s.db->flush();
}

void Session::fail(const store::StoreError& e) noexcept {
    Impl& s = *impl_;
    s.status = Status::Failed;
    try {
        // A full disk: the room kept for this write is given back first.
        if (e.kind() == store::StoreErrorKind::Full) s.db->release_space_reserve();
        s.wired->totals().notes += stop_note(e);
        s.write_row(store::RunStatus::Failed, util::wall_s());
        s.db->flush();
    } catch (...) {
        // The database keeps every committed batch; the run stays "running".
    }
    s.run_end_event();
}

std::optional<attrib::RunVerdicts> Session::attribute(const std::function<bool()>& cancelled, bool keep_detail) {
    Impl& s = *impl_;
    attrib::RunVerdicts v;
    attrib::RunDetail detail;
    s.detail.reset();
    try {
        v = attrib::run_attribution(*s.db, s.run_id, *s.o.catalog, cancelled, s.o.flow_context, s.kept.get(),
                                    &s.kept_rows, s.o.entry_verdict, s.o.flow_outcome, keep_detail ? &detail : nullptr);
    } catch (const attrib::AttributionCancelled&) {
        s.status = Status::Interrupted;
        s.wired->totals().notes += "attribution interrupted: no verdicts written\n";
        s.write_row(store::RunStatus::Interrupted, util::wall_s());
        s.db->flush();
        s.run_end_event();
        return std::nullopt;
    }
    // Said once in the run's notes, and the row written again with it.
    bool row_changed = false;
    for (const std::string& note : v.one_direction.notes()) {
        const std::string line = note + "\n";
        std::string& notes = s.wired->totals().notes;
        if (notes.find(line) == std::string::npos) {
            notes += line;
            row_changed = true;
        }
    }
    s.db->flush();
    s.verdict_events(v);
    s.run_end_event();
    if (keep_detail) s.detail = std::move(detail);
    if (s.note_events_closed() || row_changed) {  // the stream closed on the verdict lines, or a note came
        s.write_row(store_status(s.status), util::wall_s());
        s.db->flush();
    }
    return v;
}

std::vector<int64_t> Session::prune(double max_age_s, uint64_t max_runs) {
    return store::prune_runs(*impl_->db, max_age_s, max_runs, util::wall_s(), impl_->run_id);
}

const std::vector<std::string>& Session::vendor_addresses() const noexcept {
    static const std::vector<std::string> kNone;
    return impl_->vendor_addresses ? impl_->vendor_addresses->addresses() : kNone;
}

std::string Session::events_error() const { return impl_->log ? impl_->log->error() : std::string(); }

}  // namespace callwall::run
