// A command's answer for the run it just attributed: the report made from
// what the session holds in memory (report/from_run.hpp), or read back from
// its store when that cannot tell.
#pragma once

#include <optional>

#include "attrib/attrib.hpp"
#include "report/report.hpp"
#include "run/session.hpp"

namespace callwall::run {

/// report::from_run() of the session's run right after its final
/// attribution (Session::attribute returned `verdicts`): its row and totals
/// as the session wrote them, what attribution kept, the allow-lists it
/// wrote. nullopt when the session kept no detail or from_run() says nullopt.
[[nodiscard]] std::optional<report::ReportData> report_of(Session& session, const attrib::RunVerdicts& verdicts,
                                                          const report::ReportOptions& opt);

/// The answer a command prints for the run it just attributed: report_of,
/// or, when that cannot tell, report::load() through the session's store.
/// May throw store::StoreError or std::runtime_error.
[[nodiscard]] report::ReportData answer(Session& session, const attrib::RunVerdicts& verdicts,
                                        const report::ReportOptions& opt);

}  // namespace callwall::run
