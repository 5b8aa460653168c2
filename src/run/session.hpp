// A run from its start to its end: the one place that owns the database,
// the packet path (one Analyzer, or a sharded run's workers), the run's row
// (begun, updated, finished), the refresh cadence (totals every so many
// packets for files; live flows, totals and verdicts every --refresh
// seconds for a live capture), the event stream, and what an error does to
// the run's status.
// `analyze`, `capture` (and the coming `probe`) are option parsing, their
// packet sources and rendering on top of it.
//
// Errors: the database's throw store::StoreError (the caller turns it into
// one line and exit 5 after calling fail(), which marks the run failed with
// the reason in its notes, if the database still takes a write). A session
// never prints.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "attrib/attrib.hpp"
#include "capture/pcap_source.hpp"
#include "catalog/catalog.hpp"
#include "records/run.hpp"

namespace callwall::store {
class Store;
class StoreError;
}  // namespace callwall::store
namespace callwall::attrib {
struct RunDetail;
}  // namespace callwall::attrib
namespace callwall::facts {
struct RunTotals;
}  // namespace callwall::facts
namespace callwall::run {

struct FanoutInput;

enum class Status : uint8_t { Completed, Interrupted, Failed };

/// The run's rows besides its record (Session::run_record()): its id, each
/// input, the allow-lists written for it.
struct RunRow {
    int64_t id = 0;
    std::vector<std::string> sources;  ///< run_source's rows
    /// Allow-lists written for the run (write_allow_list), by format.
    std::map<std::string, std::string> allow_lists;
};

struct Options {
    std::string db_path;
    std::string kind;  ///< the run's kind: "analyze", "capture", "probe"
    std::vector<std::string> sources;  ///< files or interfaces, in the order read
    std::string command_line;
    const catalog::Catalog* catalog = nullptr;  ///< required; must outlive the session
    uint32_t max_flows = 1u << 20;  ///< bound on live flows
    /// Flows the run knows it holds at most at once (a probe: one per probe
    /// it sends); 0: unknown (pipeline::AnalyzerConfig::decoder_flows).
    size_t decoder_flows = 0;
    /// File runs: the run's totals are written every this many packets, so a
    /// run killed later shows the packets of its last committed batch; and
    /// at a checkpoint commit_every_s or commit_every_checkpoints after the
    /// last commit, what is written is committed (rows otherwise commit by
    /// the store's batch of 20,000, which a run with few rows per packet may
    /// take minutes to fill).
    uint64_t checkpoint_packets = 0x4000;
    double commit_every_s = 1.0;
    uint32_t commit_every_checkpoints = 16;
    /// Live runs: seconds between refreshes (live flows and totals written,
    /// verdicts recomputed when due); 0: no refresh (file runs).
    double refresh_s = 0;
    /// Live runs: fills the kernel's counters into the totals before each write.
    std::function<void(facts::RunTotals&)> kernel_stats;
    /// --events: JSON lines to this file ("-": standard output); "" for none.
    std::string events_path;
    /// Live runs with the catalog's filter: collect the addresses vendor
    /// names resolve to (vendor_addresses()), for the filter to pass them.
    bool collect_vendor_addresses = false;
    /// Rows are written by a thread of the store's beside the decoding
    /// (store::Store::write_behind); the database ends up the same.
    bool write_behind = false;
    /// Decoding workers (pipeline::AnalyzerConfig::workers); 2 or more need
    /// write_behind; with events_path the run decodes on one thread.
    int workers = 1;
    /// Live capture with workers reading a PACKET_FANOUT group themselves
    /// (run/fanout_input.hpp; not owned; `workers` its readers' number, no
    /// events_path): the workers read, the reading thread reads nothing.
    const FanoutInput* fanout = nullptr;
    /// Rows per message (dns_answer, tls_hello, stun_message, icmp_error);
    /// analyze and capture keep them with --detail (AnalyzerConfig::per_message_rows).
    bool per_message_rows = true;
    /// What the command alone knows about flows (a probe's intercepted
    /// answers), set into each flow's context by the final attribution.
    attrib::FlowContextHook flow_context;
    /// What the command knows about each entry's verdict (a probe's coverage).
    attrib::EntryVerdictHook entry_verdict;
    /// Each flow's outcome, as attribution decided it.
    attrib::FlowOutcomeHook flow_outcome;
};

/// The event file cannot be opened: nothing was written (the database is
/// not touched before it opens).
class EventsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What a live tick did.
enum class Tick : uint8_t { Nothing, Refreshed, Attributed };

/// What the run has counted of its flows so far: a command's progress and summary lines.
struct RunCounts {
    uint64_t flows_created = 0;  ///< flows numbered so far
    size_t live_flows = 0;  ///< alive now
    uint64_t flows_written = 0;  ///< ended and written
    std::array<uint64_t, 32> state_counts{};  ///< the written flows by final state, indexed by flow::ConnState
};

class Session {
public:
    /// Opens the event file (if asked), the database, and begins the run.
    /// Throws EventsError or store::StoreError.
    explicit Session(Options options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    [[nodiscard]] int64_t run_id() const noexcept;
    [[nodiscard]] store::Store& store() noexcept;
    [[nodiscard]] facts::RunTotals& totals() noexcept;
    [[nodiscard]] const facts::RunTotals& totals() const noexcept;
    /// The flows counted so far (with workers: theirs, at their last progress mark).
    [[nodiscard]] RunCounts counts() const;
    /// Writes every live flow's current row now (a full refresh, which the
    /// live runs' refresh does only for the flows that changed). May throw
    /// store::StoreError.
    void snapshot_all();
    /// Live capture whose workers read a PACKET_FANOUT group: writes what
    /// they handed over for up to `ms`, then returns "" or the first reader
    /// error a worker met; otherwise "" at once. May throw store::StoreError.
    std::string wait_for_workers(int ms);

    /// One frame. The packet path never throws; every checkpoint_packets
    /// frames the totals are written, which may throw store::StoreError.
    /// Returns true when it wrote them (the caller may redraw its progress).
    bool process(const decode::RawFrame& frame);

    /// Live runs: call at least every 100 ms. Every refresh_s (monotonic
    /// `now`) writes the live flows that changed since the last refresh
    /// (Analyzer::snapshot_changed) and the totals; the verdicts are recomputed
    /// then too from the flows that changed (attrib::LiveAttribution), but
    /// less often on a busy port (at most ~20 % of the time goes to them).
    /// May throw store::StoreError.
    Tick tick(double now);

    /// A line for the run's notes (damaged files, sources that failed).
    void note(const std::string& line);

    /// The capture ran until `ts_s` (seconds since the epoch, as the frames'
    /// times), which may be after its last packet: a probe waits after its
    /// last send before it stops capturing. finish() takes it as the run's
    /// end (run.last_ts) when later than the last packet, so that an attempt
    /// sent near the end is judged by how long the capture really went on
    /// after it (attrib::kNoAnswerWaitS), not by when the last packet came.
    /// A file read as it was written has no such time: never call it there.
    void capture_ran_until(double ts_s) noexcept;

    /// Ends the run: flows still alive are written, the bounds the run hit
    /// are noted, "ended by WHAT" is noted when given, and the status and end
    /// time are written. May throw store::StoreError.
    void finish(Status status, const std::string& ended_by = "");

    /// The database failed during the run: marks the run failed with the
    /// reason in its notes, if the database still takes a write. Never throws.
    void fail(const store::StoreError& e) noexcept;

    /// The final attribution: verdicts written, verdict lines and the run's
    /// end line on the event stream. `cancelled` (optional) is asked between
    /// pages of flows: when it says true the attribution stops at once,
    /// nothing of it is written, the run is marked interrupted with a note,
    /// and nullopt is returned. `keep_detail` false: what a report shows
    /// beside the verdicts is not kept (run_detail() stays null; a command
    /// that prints nothing needs none of it). May throw store::StoreError.
    std::optional<attrib::RunVerdicts> attribute(const std::function<bool()>& cancelled = {}, bool keep_detail = true);

    /// After finish() and attribute(): begins the next run in the same
    /// database with the same options (SIGHUP, --rotate). The event file is
    /// reopened (a file moved away by logrotate is followed by a new one).
    /// Flows alive at the boundary were ended in the finished run; their
    /// later packets make new flows in this one (each packet counts in
    /// exactly one run). May throw store::StoreError.
    void next_run();

    /// capture --keep: deletes finished runs older than `max_age_s` (0: no
    /// bound) and all but the newest `max_runs` (0: no bound); never this
    /// session's run. Returns the ids deleted. May throw store::StoreError.
    std::vector<int64_t> prune(double max_age_s, uint64_t max_runs);

    /// Addresses vendor names resolved to so far, in the order first seen
    /// (at most catalog::kMaxFilterAddresses), across the session's runs;
    /// empty unless Options::collect_vendor_addresses.
    [[nodiscard]] const std::vector<std::string>& vendor_addresses() const noexcept;

    /// "" or the first error writing the event file ("PATH: REASON").
    [[nodiscard]] std::string events_error() const;

    /// The verdicts of the run's last attribution (live refresh or final);
    /// null before the first one of the run.
    [[nodiscard]] const attrib::RunVerdicts* last_verdicts() const noexcept;

    /// What the run's final attribution kept for a report beside its
    /// verdicts (attrib/run_detail.hpp); null before attribute() returned.
    [[nodiscard]] const attrib::RunDetail* run_detail() const noexcept;
    /// The run's rows besides its record, as last written.
    [[nodiscard]] const RunRow& run_row() const noexcept;
    /// The run's record (records/run.hpp) as last written, with the totals
    /// of now (totals()), its writer's columns aside; its text views the
    /// session's, valid until the session writes the row again.
    [[nodiscard]] records::Run run_record() const;
    /// The catalog the run is attributed with.
    [[nodiscard]] const catalog::Catalog& catalog() const noexcept;
    /// Records the allow-list for what the run found blocked, in one format
    /// (store::write_allow_list), and keeps it in run_row().
    /// May throw store::StoreError.
    void write_allow_list(const std::string& format, const std::string& text);

private:
    /// process()'s every checkpoint_packets frames: the totals written, a
    /// commit when due. Apart, so that the per-frame call sets up no frame
    /// for it.
    [[gnu::noinline]] bool checkpoint();

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace callwall::run
