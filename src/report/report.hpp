// Reports of a run, read back from the database (load: report/load.cpp) or,
// for the run a command just attributed, taken from memory
// (report/from_run.hpp): text (for a firewall team), JSON (the stable
// interface in DESIGN.md), CSV, and a self-contained HTML page.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "facts/flow_facts.hpp"

namespace callwall::store {
class Store;
}

namespace callwall::report {

struct RunInfo {
    int64_t id = 0;
    std::string kind, source, status, command_line, tool_version, catalog_digest, notes;
    double started_at = 0, ended_at = 0, first_ts = 0, last_ts = 0;
    uint64_t packets = 0, bytes = 0, truncated_packets = 0, undecoded_packets = 0, kernel_dropped = 0, flows = 0;
    uint64_t flows_evicted_full = 0;  ///< flows written out early because the flow table was full
    std::vector<std::string> sources;  ///< each input file or interface (run_source; else `source` whole)
    /// For a run merged from another database (`callwall merge`): "FILE run N"; "" otherwise.
    std::string origin;
    uint64_t damaged_files = 0;
    /// For a run that did not complete: one sentence on how it ended, e.g.
    /// "this run is still running (pid 4242)", "this run never finished: the
    /// process was killed", "this run stopped: the disk is full". Empty for
    /// completed and interrupted runs.
    std::string status_detail;
    bool still_running = false;  ///< status 'running' and its writer process is alive
};

/// A flow a verdict rests on: its row's columns a report shows (the flow
/// record's, facts::ShownFlow: id, five-tuple, times, packets, state,
/// outcome, app, name, the last ICMP error), and how it matched the entry.
struct EvidenceFlow : facts::ShownFlow {
    std::string evidence_kind;
};

struct VerdictRow {
    std::string entry_id, vendor, edition, product, service, transport, ports, destinations, conditions;
    std::string source_file, source_section;
    /// The title of the vendor document the entry comes from ("" when the
    /// run predates it); source_file names the seed file.
    std::string document_title;
    bool required = true;
    std::string verdict;  ///< observed | blocked | partial | inconclusive | not_exercised
    std::vector<std::string> reasons;
    uint32_t flows_observed = 0, flows_blocked = 0, flows_inconclusive = 0;
    std::string ports_observed, ports_blocked, origin, why;
    std::vector<EvidenceFlow> evidence;  ///< up to kMaxEvidence flows, blocked ones first
    /// Other entries (e.g. of another edition or product) that the same flows also serve.
    std::vector<std::string> shared_with;
};

struct ProductRow {
    std::string vendor, product, edition, conclusion, detail;
};

/// A catalog gap: a flow to a vendor's address or name that no entry of the
/// vendor explains (the unmatched_flow record's vendor and name) and the
/// flow's columns a report shows.
struct UnmatchedVendorFlow {
    std::string vendor;
    std::string name;  ///< the vendor's name (or address) the flow carried
    facts::ShownFlow flow;
};

struct OtherFlowsSummary {
    std::string transport, app;
    uint16_t server_port = 0;
    uint64_t flows = 0;
};

/// What to add to a firewall for what a run found blocked (a probe's):
/// `callwall catalog export --entry ...` of exactly those requirements.
struct AllowList {
    std::string format;  ///< "iptables", "nft"
    std::string text;
};

struct ReportData {
    std::string db_path;
    RunInfo run;
    std::vector<VerdictRow> verdicts;
    /// The rows of a vendor's other editions, judged but not shown: their
    /// ids, services and products only, for naming what a shown row's
    /// flows also serve.
    std::vector<VerdictRow> unshown;
    std::vector<ProductRow> products;
    std::vector<UnmatchedVendorFlow> vendor_gaps;
    uint64_t other_flows = 0;
    std::vector<OtherFlowsSummary> other_summary;  ///< top groups by app and port
    std::vector<AllowList> allow_lists;  ///< by format; empty for runs that wrote none
    /// Set when the database could only be read without its -wal file.
    std::string read_warning;
    /// Every run the database holds, ascending (for a report across runs).
    std::vector<int64_t> run_ids;
};

inline constexpr size_t kMaxEvidence = 5;
/// Groups of other flows a report lists (the largest).
inline constexpr size_t kOtherFlowGroupsShown = 12;

/// `schema_version` of the JSON report (docs/report.schema.json).
inline constexpr int kJsonSchemaVersion = 1;

struct ReportOptions {
    std::optional<int64_t> run;  ///< default: the latest run
    std::vector<std::string> vendors;  ///< default: the vendors seen in the run
    bool all_entries = false;  ///< also entries of vendors not seen
};

/// The run asked for (--run N) is not in the database: a usage error, not a
/// database one.
struct NoSuchRun : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Loads a run's results. Throws std::runtime_error with a one-line message
/// (no such database/run, not a callwall database, attribution not run);
/// NoSuchRun when --run names a run the database does not hold.
ReportData load(const std::string& db_path, const ReportOptions& opt);
/// The same through the writer's own store (a live capture's view).
ReportData load(store::Store& db, const ReportOptions& opt);

struct TextOptions {
    /// Under each requirement, the flows its verdict rests on (up to
    /// kMaxEvidence, blocked ones first, as the HTML and JSON reports list
    /// them): `-v` / `--verbose`.
    bool evidence = false;
    /// Every requirement's row, in catalog order (`--all`). By default each
    /// product's rows come in the order that decides its answer (blocked,
    /// partial, inconclusive, observed; required before optional) and the
    /// rows not exercised are folded into one line.
    bool all_rows = false;
};
std::string render_text(const ReportData& d, const TextOptions& opt = {});
/// The verdicts of several runs of one database side by side (`report
/// --across-runs`: several sites merged into one, or one site over time):
/// the runs with their origins, then each requirement with its verdict in
/// every run ("-": the run shows nothing of that vendor; the legend only
/// when one is shown).
std::string render_across(const std::vector<ReportData>& runs);
/// The same as a self-contained HTML page (`--across-runs --format html`).
std::string render_across_html(const std::vector<ReportData>& runs);
std::string render_json(const ReportData& d);
std::string render_csv(const ReportData& d);
std::string render_html(const ReportData& d);

}  // namespace callwall::report
