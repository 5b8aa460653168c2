// Reading a run's report back from its database: the run's row, its
// verdicts with their evidence flows, products, catalog gaps, other flows and
// allow-lists, through the store's typed reads (store/read_query.hpp). See
// report::load in report/report.hpp; report/from_run.cpp builds the same from
// a run's memory.
#include <sys/statvfs.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "report/from_run.hpp"
#include "report/other_flows.hpp"
#include "report/report.hpp"
#include "report/record_rows.hpp"
#include "report/vendor_filter.hpp"
#include "records/attribution.hpp"
#include "store/read_query.hpp"
#include "store/read_record.hpp"
#include "store/read_value.hpp"
#include "store/store.hpp"
#include "util/split.hpp"

namespace callwall::report {

using store::ReadDb;
using Query = store::ReadQuery;

namespace {
// Free space on the file system holding `path`, in bytes (-1 unknown).
int64_t free_bytes(const std::string& path) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0) return -1;
    return static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
}

// Below this a database write is likely to have failed on a full disk.
constexpr int64_t kNearlyFullBytes = 1 << 20;

// Fills status_detail (see RunInfo) from the status, the notes and, for a
// run still marked running, whether its writer process `w` is alive.
void describe_status(const std::string& db_path, const store::WriterId& w, RunInfo& r) {
    if (r.status == "failed") {
        describe_failed(r);
        return;
    }
    if (r.status != "running") return;
    // A copy made by `callwall merge` while the source run was being written:
    // its writer is the source's (maybe on another machine), and this copy
    // never grows.
    if (!r.origin.empty()) {
        r.status_detail = "this run was copied from " + r.origin +
                          " while it was still running: the copy holds what had been written by then";
        return;
    }
    const std::string pid = std::to_string(w.pid);
    switch (store::writer_state(w)) {
        case store::WriterState::Alive:
            r.still_running = true;
            r.status_detail = "this run is still running (pid " + pid + ")";
            return;
        case store::WriterState::Gone: {
            r.status_detail = "this run never finished: the process was killed";
            const auto slash = db_path.find_last_of('/');
            const int64_t free = free_bytes(slash == std::string::npos ? "." : db_path.substr(0, slash + 1));
            if (free >= 0 && free < kNearlyFullBytes)
                r.status_detail += " or stopped on a full disk (the disk holding the database has " +
                                   std::to_string(free / 1024) + " KiB free)";
            return;
        }
        case store::WriterState::OtherBoot:
            r.status_detail =
                "this run never finished: its process (pid " + pid + ") ran before a reboot or on another machine";
            return;
        case store::WriterState::Unknown:
            r.status_detail =
                "this run never finished (the process was killed, or is still running: the database "
                "does not record which process wrote it)";
            return;
    }
}

// The runs a database holds, for a message: "runs 1-3", "runs 1, 4", "no runs".
std::string run_ids(ReadDb& db) {
    Query st = db.prep("SELECT id FROM run ORDER BY id");
    std::vector<int64_t> ids;
    while (st.row()) ids.push_back(st.int64(0));
    if (ids.empty()) return "it holds no runs";
    if (ids.back() - ids.front() + 1 == static_cast<int64_t>(ids.size()))
        return ids.size() == 1 ? "it holds run " + std::to_string(ids[0])
                               : "it holds runs " + std::to_string(ids.front()) + "-" + std::to_string(ids.back());
    std::string s = "it holds runs";
    for (size_t i = 0; i < ids.size() && i < 20; ++i) s += (i ? ", " : " ") + std::to_string(ids[i]);
    return ids.size() > 20 ? s + ", ..." : s;
}

// The run row asked for (the latest by default), its status in words and its inputs.
void read_run(ReadDb& db, const std::string& db_path, const ReportOptions& opt, RunInfo& r) {
    using records::Run;
    // Columns an older database lacks (the writer's before version 2, origin
    // before 4) read as NULL (store::select_list).
    Query st = db.prep("SELECT r.id, " + store::select_list(db, Run::table(), "r") + " FROM run r " +
                       (opt.run ? "WHERE r.id=?" : "ORDER BY r.id DESC LIMIT 1"));
    if (opt.run) st.bind(1, *opt.run);
    if (!st.row()) {
        if (opt.run) throw NoSuchRun(db_path + ": no run " + std::to_string(*opt.run) + " (" + run_ids(db) + ")");
        throw std::runtime_error(db_path + ": no runs recorded");
    }
    Run row;
    store::read_record(st, 1, row);
    r = run_info(st.int64(0), row);
    const store::WriterId writer{row.writer_pid.value_or(0), row.writer_start.value_or(0),
                                 std::string(row.writer_boot_id.value_or(""))};
    st.reset();
    describe_status(db_path, writer, r);
    // Each input on its own (databases before run_source: the joined text, whole).
    Query t = db.prep("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='run_source'");
    if (t.row() && t.integer(0) > 0) {
        Query q = db.prep("SELECT source FROM run_source WHERE run_id=? ORDER BY position");
        q.bind(1, r.id);
        while (q.row()) r.sources.push_back(q.text(0));
    }
    if (r.sources.empty()) r.sources.push_back(r.source);
}

// The place of column `name` of `Record` in a SELECT whose list has
// `before` columns before the record's (SQLite's ORDER BY by position).
template <class Record>
std::string position_of(std::string_view name, int before = 0) {
    return std::to_string(before + records::value_index(Record::kColumns, name));
}

// Product conclusions (the product_verdict record); returns the vendors the
// run concluded anything about (seen).
std::set<std::string> read_products(ReadDb& db, int64_t run, const VendorFilter& vf, ReportData& d) {
    using records::ProductVerdict;
    Query st =
        db.prep("SELECT " + store::select_list(db, ProductVerdict::table(), "p") +
                " FROM product_verdict p WHERE p.run_id=? ORDER BY " + position_of<ProductVerdict>("vendor") + ", " +
                position_of<ProductVerdict>("edition") + " DESC, " + position_of<ProductVerdict>("product"));
    st.bind(1, run);
    std::set<std::string> seen;
    std::vector<ProductRow> all;
    ProductVerdict r;
    while (st.row()) {
        store::read_record(st, 0, r);
        all.push_back(ProductRow{std::string(r.vendor), std::string(r.product), std::string(r.edition),
                                 std::string(r.conclusion), std::string(r.detail)});
        seen.insert(all.back().vendor);
    }
    for (auto& p : all)
        if (vf.wanted(p.vendor, true)) d.products.push_back(p);
    return seen;
}

// The flow's columns a report shows (the flow record's,
// facts::kFlowShownColumns) as a SELECT list over the flow table alone.
std::string shown_flow_list() {
    std::string sql;
    for (const char* column : facts::kFlowShownColumns) sql += (sql.empty() ? "" : ", ") + std::string(column);
    return sql;
}

// A flow's columns a report shows from the row's columns `first`, `first` + 1, ...
void read_shown_flow(const Query& q, int first, facts::ShownFlow& f) {
    facts::each_shown_column(f, [&](auto& column) { store::read_value(q, first++, column); });
}

// The evidence flow query: the flow's columns a report shows, then how it
// matched entry ?1.
std::string evidence_flow_sql() {
    return "SELECT " + shown_flow_list() +
           ", coalesce((SELECT m.evidence FROM flow_match m WHERE m.run_id=f.run_id AND m.flow_id=f.id AND "
           "m.entry_id=?1),'') FROM flow f WHERE f.run_id=?2 AND f.id=?3";
}

// One evidence flow of an entry, from evidence_flow_sql's row.
EvidenceFlow evidence_flow(const Query& fe) {
    EvidenceFlow e;
    read_shown_flow(fe, 0, e);
    e.evidence_kind = fe.text(static_cast<int>(std::size(facts::kFlowShownColumns)));
    return e;
}

// A verdict's list: a JSON array (schema version 3), read by SQLite's
// json_each through `items` ("SELECT value FROM json_each(?1) ORDER BY
// key"); a database written before version 3 holds the items comma-joined.
std::vector<std::string> list_items(Query& items, const std::string& text) {
    if (text.empty() || text[0] != '[') return util::split(text, ',');
    items.reset();
    items.bind(1, text);
    std::vector<std::string> out;
    while (items.row()) out.push_back(items.text(0));
    return out;
}

std::string comma_joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& x : items) out += (out.empty() ? "" : ",") + x;
    return out;
}

// Entry verdicts of the vendors shown, each with up to kMaxEvidence evidence flows.
// The editions whose products a run concluded, by vendor: one per vendor
// (the judging edition) since a vendor gets one answer; a run written
// before that has every edition here.
std::map<std::string, std::set<std::string>> concluded_editions(ReadDb& db, int64_t run) {
    std::map<std::string, std::set<std::string>> out;
    Query q = db.prep("SELECT DISTINCT vendor, edition FROM product_verdict WHERE run_id=?");
    q.bind(1, run);
    while (q.row()) out[q.text(0)].insert(q.text(1));
    return out;
}

void read_verdicts(ReadDb& db, int64_t run, const VendorFilter& vf, const std::set<std::string>& seen, ReportData& d,
                   bool all_entries) {
    // A vendor's other editions keep their rows in the database; the report
    // shows the edition that answered (all of them with --all-entries).
    const auto concluded = concluded_editions(db, run);
    // Each verdict record with the catalog entry record it judged (a column
    // an older database lacks, such as the document's title, reads as its
    // default: the report reads without migrating).
    using records::CatalogEntry;
    using records::Verdict;
    constexpr int kVerdictColumns = static_cast<int>(std::size(Verdict::kColumns));
    const std::string sql =
        "SELECT " + store::select_list(db, Verdict::table(), "v") + ", " +
        store::select_list(db, CatalogEntry::table(), "e") +
        " FROM verdict v JOIN catalog_entry e ON e.run_id=v.run_id AND e.entry_id=v.entry_id WHERE v.run_id=? "
        "ORDER BY " +
        position_of<CatalogEntry>("vendor", kVerdictColumns) + ", " +
        position_of<CatalogEntry>("edition", kVerdictColumns) + " DESC, " +
        position_of<CatalogEntry>("product", kVerdictColumns) + ", " + position_of<Verdict>("entry_id");
    Query st = db.prep(sql);
    st.bind(1, run);
    Query fe = db.prep(evidence_flow_sql());
    Query items = db.prep("SELECT value FROM json_each(?1) ORDER BY key");
    std::vector<std::string> ids;
    Verdict verdict;
    CatalogEntry entry;
    while (st.row()) {
        store::read_record(st, 0, verdict);
        store::read_record(st, kVerdictColumns, entry);
        VerdictRow v = verdict_row(verdict, entry,
                                   {list_items(items, std::string(verdict.reasons)),
                                    comma_joined(list_items(items, std::string(verdict.ports_observed))),
                                    comma_joined(list_items(items, std::string(verdict.ports_blocked)))});
        ids = list_items(items, std::string(verdict.evidence_flows));
        if (!vf.wanted(v.vendor, seen.count(v.vendor) > 0)) continue;
        if (auto c = concluded.find(v.vendor); !all_entries && c != concluded.end() && !c->second.count(v.edition)) {
            d.unshown.push_back(VerdictRow{.entry_id = v.entry_id,
                                           .vendor = v.vendor,
                                           .edition = v.edition,
                                           .product = v.product,
                                           .service = v.service});
            continue;
        }
        for (size_t k = 0; k < ids.size() && k < kMaxEvidence; ++k) {
            // An id that is not a number (a damaged row) names no flow.
            fe.bind(1, v.entry_id).bind(2, run);
            char* end = nullptr;
            const long long id = std::strtoll(ids[k].c_str(), &end, 10);
            if (end && *end == '\0')
                fe.bind(3, static_cast<int64_t>(id));
            else
                fe.bind(3, ids[k]);
            if (fe.row()) v.evidence.push_back(evidence_flow(fe));
            fe.reset();
        }
        d.verdicts.push_back(std::move(v));
    }
}

// Overlaps: other entries counted on the same flows.
void read_overlaps(ReadDb& db, int64_t run, ReportData& d) {
    Query st = db.prep(
        "SELECT DISTINCT a.entry_id, b.entry_id FROM flow_match a JOIN flow_match b ON a.run_id=b.run_id AND "
        "a.flow_id=b.flow_id AND a.entry_id<>b.entry_id WHERE a.run_id=? AND a.counted=1 AND b.counted=1 ORDER BY 1, 2");
    st.bind(1, run);
    std::map<std::string, std::vector<std::string>> shared;
    while (st.row()) shared[st.text(0)].push_back(st.text(1));
    for (auto& v : d.verdicts) {
        auto it = shared.find(v.entry_id);
        if (it != shared.end()) v.shared_with = it->second;
    }
}

// Flows carrying a vendor's name that no entry of it matched (catalog
// gaps): each unmatched_flow record with its flow's columns a report shows.
void read_vendor_gaps(ReadDb& db, int64_t run, const VendorFilter& vf, ReportData& d) {
    using records::UnmatchedFlow;
    constexpr int kGapColumns = static_cast<int>(std::size(UnmatchedFlow::kColumns));
    // The flow's columns in a subquery of the flow table alone (both tables
    // have a `name`); its key columns come first.
    Query st =
        db.prep("SELECT " + store::select_list(db, UnmatchedFlow::table(), "u") +
                ", f.* FROM unmatched_flow u JOIN (SELECT run_id AS flow_run, id AS flow_key, " + shown_flow_list() +
                " FROM flow) f ON f.flow_run=u.run_id AND f.flow_key=u.flow_id WHERE u.run_id=? ORDER BY " +
                position_of<UnmatchedFlow>("vendor") + ", " + position_of<UnmatchedFlow>("flow_id"));
    st.bind(1, run);
    UnmatchedFlow gap;
    while (st.row()) {
        store::read_record(st, 0, gap);
        UnmatchedVendorFlow u{std::string(gap.vendor), std::string(gap.name), {}};
        if (!vf.wanted(u.vendor, true)) continue;
        read_shown_flow(st, kGapColumns + 2, u.flow);
        d.vendor_gaps.push_back(std::move(u));
    }
}

// TCP and UDP flows that count for no entry and name no vendor: how many, and
// the largest groups. One pass over the flows: the groups' counts add up to
// the total (a count(*) beside the grouped query read every flow twice).
void read_other_flows(ReadDb& db, int64_t run, ReportData& d) {
    Query st = db.prep(
        "SELECT transport, app, server_port, count(*) AS n FROM flow f WHERE f.run_id=?1 AND f.transport IN "
        "('tcp','udp') AND NOT EXISTS (SELECT 1 FROM flow_match m WHERE m.run_id=f.run_id AND m.flow_id=f.id AND "
        "m.counted=1) AND NOT EXISTS (SELECT 1 FROM unmatched_flow u WHERE u.run_id=f.run_id AND u.flow_id=f.id) "
        "GROUP BY 1, 2, 3");
    st.bind(1, run);
    std::vector<OtherFlowsSummary> groups;
    while (st.row())
        groups.push_back(OtherFlowsSummary{st.text(0), st.text(1), static_cast<uint16_t>(st.integer(2)), st.u64(3)});
    set_other_flows(std::move(groups), d);
}

// The run's allow-lists (databases before the allow_list table have none).
void read_allow_lists(ReadDb& db, int64_t run, ReportData& d) {
    Query t = db.prep("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='allow_list'");
    if (!t.row() || t.integer(0) == 0) return;
    Query q = db.prep("SELECT format, text FROM allow_list WHERE run_id=? ORDER BY format");
    q.bind(1, run);
    while (q.row()) d.allow_lists.push_back(AllowList{std::string(q.text(0)), std::string(q.text(1))});
}

ReportData load_with(ReadDb& db, const std::string& db_path, const ReportOptions& opt) {
    ReportData d;
    d.db_path = db_path;
    read_run(db, db_path, opt, d.run);
    const VendorFilter vf(opt);
    const std::set<std::string> seen = read_products(db, d.run.id, vf, d);
    read_verdicts(db, d.run.id, vf, seen, d, opt.all_entries);
    read_overlaps(db, d.run.id, d);
    read_vendor_gaps(db, d.run.id, vf, d);
    read_other_flows(db, d.run.id, d);
    read_allow_lists(db, d.run.id, d);
    Query ids = db.prep("SELECT id FROM run ORDER BY id");
    while (ids.row()) d.run_ids.push_back(ids.int64(0));
    return d;
}
}  // namespace

ReportData load(const std::string& db_path, const ReportOptions& opt) {
    ReportData d;
    const std::string warning = ReadDb::read_settled(db_path, [&](ReadDb& db) { d = load_with(db, db_path, opt); });
    d.read_warning = warning;
    return d;
}

ReportData load(store::Store& db, const ReportOptions& opt) {
    ReadDb reader(db);
    return load_with(reader, db.path(), opt);
}

}  // namespace callwall::report
