// The report's rows as projections of the records a run writes: the run's
// own (records/run.hpp) and an entry's verdict (records/attribution.hpp: the
// verdict and the catalog entry it judged), whether the records were read
// back from a database (report/load.cpp) or made from the run's memory
// (run/answer.cpp, store::run_record; report/from_run.cpp,
// attrib::EntryRecords): one mapping for both.
#pragma once

#include <string>
#include <vector>

#include "records/attribution.hpp"
#include "records/run.hpp"
#include "report/report.hpp"

namespace callwall::report {

/// The run `id`'s row from its record (its sources, from run_source, and
/// how it ended in words, status_detail and still_running, are left to the
/// reader).
[[nodiscard]] RunInfo run_info(int64_t id, const records::Run& r);

/// The verdict record's lists, split (the record holds JSON arrays): its
/// reasons, and its ports observed and blocked comma-joined.
struct VerdictLists {
    std::vector<std::string> reasons;
    std::string ports_observed, ports_blocked;
};

[[nodiscard]] VerdictRow verdict_row(const records::Verdict& v, const records::CatalogEntry& e, VerdictLists lists);

}  // namespace callwall::report
