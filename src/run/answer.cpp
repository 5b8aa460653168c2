// A command's answer for the run it just attributed. See run/answer.hpp.
#include "run/answer.hpp"

#include "callwall/version.hpp"
#include "facts/run_totals.hpp"
#include "report/from_run.hpp"
#include "store/store.hpp"

namespace callwall::run {

std::optional<report::ReportData> report_of(Session& session, const attrib::RunVerdicts& verdicts,
                                            const report::ReportOptions& opt) {
    const RunRow& row = session.run_row();
    const attrib::RunDetail* detail = session.run_detail();
    if (!detail) return std::nullopt;
    const auto& t = session.totals();
    report::RunInMemory in;
    in.db_path = session.store().path();
    report::RunInfo& r = in.run;
    r.id = row.id;
    r.kind = row.kind;
    r.source = row.source;
    r.status = row.status;
    r.command_line = row.command_line;
    r.tool_version = kVersion;
    r.catalog_digest = row.catalog_digest;
    r.notes = t.notes;
    r.started_at = row.started_at;
    r.ended_at = row.ended_at;
    // The row holds no capture times for a run without packets.
    r.first_ts = t.packets ? t.first_ts : 0;
    r.last_ts = t.packets ? t.last_ts : 0;
    r.packets = t.packets;
    r.bytes = t.bytes;
    r.truncated_packets = t.truncated_packets;
    r.undecoded_packets = t.undecoded_packets;
    r.kernel_dropped = t.kernel_dropped;
    r.flows = t.flows;
    r.flows_evicted_full = t.flows_evicted_full;
    r.damaged_files = t.damaged_files;
    r.sources = row.sources;
    in.catalog = &session.catalog();
    in.verdicts = &verdicts;
    in.detail = detail;
    for (const auto& [format, text] : row.allow_lists) in.allow_lists.push_back(report::AllowList{format, text});
    report::ReportOptions this_run = opt;
    this_run.run = row.id;
    return report::from_run(in, this_run);
}

report::ReportData answer(Session& session, const attrib::RunVerdicts& verdicts, const report::ReportOptions& opt) {
    if (auto d = report_of(session, verdicts, opt)) return std::move(*d);
    report::ReportOptions this_run = opt;
    this_run.run = session.run_id();
    return report::load(session.store(), this_run);
}

}  // namespace callwall::run
