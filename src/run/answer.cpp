// A command's answer for the run it just attributed. See run/answer.hpp.
#include "run/answer.hpp"

#include "report/from_run.hpp"
#include "report/record_rows.hpp"
#include "store/store.hpp"

namespace callwall::run {

std::optional<report::ReportData> report_of(Session& session, const attrib::RunVerdicts& verdicts,
                                            const report::ReportOptions& opt) {
    const RunRow& row = session.run_row();
    const attrib::RunDetail* detail = session.run_detail();
    if (!detail) return std::nullopt;
    report::RunInMemory in;
    in.db_path = session.store().path();
    in.run = report::run_info(row.id, session.run_record());
    in.run.sources = row.sources;
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
