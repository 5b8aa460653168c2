// The report's reads (internal to the core library): one run's results,
// read from a database file (read-only, leaving nothing behind) or through
// the writer's own connection (a live capture's view). report::load is the
// public face of both.
#pragma once

#include <string>

#include "report/report.hpp"
#include "store/store.hpp"

namespace callwall::store {

/// See report::load.
[[nodiscard]] report::ReportData load_report(const std::string& db_path, const report::ReportOptions& opt);
[[nodiscard]] report::ReportData load_report(Store& db, const report::ReportOptions& opt);

}  // namespace callwall::store
