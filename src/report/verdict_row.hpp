// The report's row of an entry's verdict as a projection of the records
// attribution writes for it (records/attribution.hpp: the verdict and the
// catalog entry it judged), whether the records were read back from a
// database (report/load.cpp) or made from the run's memory
// (report/from_run.cpp, attrib::EntryRecords): one mapping for both.
#pragma once

#include <string>
#include <vector>

#include "records/attribution.hpp"
#include "report/report.hpp"

namespace callwall::report {

/// The verdict record's lists, split (the record holds JSON arrays): its
/// reasons, and its ports observed and blocked comma-joined.
struct VerdictLists {
    std::vector<std::string> reasons;
    std::string ports_observed, ports_blocked;
};

[[nodiscard]] VerdictRow verdict_row(const records::Verdict& v, const records::CatalogEntry& e, VerdictLists lists);

}  // namespace callwall::report
