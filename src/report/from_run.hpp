// A run's report from what the run holds in memory right after its
// attribution (its row, the verdicts, what attribution kept beside them:
// attrib/run_detail.hpp), without reading the database back: what a command
// prints as its answer. It equals what report::load reads from the rows the
// run wrote; tests/unit/report/from_run_test.cpp compares the two on every
// committed capture.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attrib/attrib.hpp"
#include "attrib/run_detail.hpp"
#include "catalog/catalog.hpp"
#include "report/report.hpp"

namespace callwall::report {

struct RunInMemory {
    std::string db_path;
    RunInfo run;  ///< the run's row as written (status_detail is filled here)
    const catalog::Catalog* catalog = nullptr;
    const attrib::RunVerdicts* verdicts = nullptr;
    const attrib::RunDetail* detail = nullptr;
    std::vector<AllowList> allow_lists;  ///< as written for the run
};

/// The report of the run `in` holds, as report::load would read it with
/// `opt` (its `run` is this run's). Fields load fills that this leaves
/// empty: run_ids (the database's runs: `report --across-runs`) and
/// read_warning (never set for a run just written); the text, JSON, CSV and
/// HTML renderings of one run use neither. nullopt when an evidence flow
/// the report shows was not kept (the caller then reads the database).
[[nodiscard]] std::optional<ReportData> from_run(const RunInMemory& in, const ReportOptions& opt);

/// A failed run's status in words (RunInfo::status_detail) from its notes:
/// the disk was full, or what stopped it.
void describe_failed(RunInfo& r);

}  // namespace callwall::report
