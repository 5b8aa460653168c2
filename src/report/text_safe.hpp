// A report's strings made safe for a terminal (util/terminal_text.hpp): the
// text renderings and the live view print names off the wire and strings of
// catalog files, so they render a copy whose every string is escaped.
#pragma once

#include "report/report.hpp"

namespace callwall::report {

/// `d` with every string escaped by util::terminal_text (multi-line ones,
/// the run's notes and the allow lists, line by line).
[[nodiscard]] ReportData text_safe(const ReportData& d);

}  // namespace callwall::report
