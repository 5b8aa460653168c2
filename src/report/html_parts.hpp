// Private to the HTML report's files (html.cpp: the page, html_text.cpp:
// text helpers and the fixed vocabularies, html_timeline.cpp: the timeline
// drawing). Every string from the data goes through esc().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/report.hpp"

namespace callwall::report::html {

/// The report pages' inline style sheet.
[[nodiscard]] const char* page_style();
/// HTML-escaped text; invalid UTF-8 and control characters are replaced.
[[nodiscard]] std::string esc(std::string_view s);
/// At most max_chars characters: the middle gives way to an ellipsis.
[[nodiscard]] std::string clip_middle(std::string_view s, size_t max_chars);
/// At most max_chars characters: the middle gives way to " … ", cut at
/// spaces so that no word is shown in part (unless one word is longer than
/// its share).
[[nodiscard]] std::string clip_words(std::string_view s, size_t max_chars);
/// A number with `decimals` decimals, "C" locale.
[[nodiscard]] std::string fixed(double v, int decimals);
/// 1234567 -> "1,234,567".
[[nodiscard]] std::string grouped(uint64_t v);
[[nodiscard]] std::string iso_utc(double ts);
[[nodiscard]] std::string seconds_text(double s);
[[nodiscard]] std::string five_tuple(const std::string& transport, const std::string& cip, uint16_t cport,
                                     const std::string& sip, uint16_t sport);
[[nodiscard]] std::string five_tuple(const EvidenceFlow& f);
/// "—" for an empty string.
[[nodiscard]] std::string or_dash(const std::string& s);
/// esc() with break opportunities after separators, for long names.
[[nodiscard]] std::string esc_breakable(std::string_view s);

/// A data word (verdict, outcome, conclusion) as a class name, a glyph and a label.
struct Badge {
    const char* css;  ///< class suffix, from this table only
    const char* glyph;  ///< a shape that survives grey-scale printing
    std::string label;
};
/// `audit`: the run replayed a ruleset, where `observed` reads "passes".
[[nodiscard]] Badge verdict_badge(const std::string& v, bool audit = false);
[[nodiscard]] Badge outcome_badge(const std::string& o);
[[nodiscard]] Badge conclusion_badge(const std::string& c);
[[nodiscard]] std::string badge_html(const Badge& b);
[[nodiscard]] std::string icmp_text(const EvidenceFlow& f);
/// Flows counted for a verdict: the evidence lists at most kMaxEvidence of them.
[[nodiscard]] uint64_t flows_counted(const VerdictRow& v);
[[nodiscard]] uint64_t flows_not_shown(const VerdictRow& v);
[[nodiscard]] std::string requirement_label(const VerdictRow& v);

/// The time the timeline spans: the capture, widened to any evidence flow
/// outside it (a killed run may lack first_ts/last_ts). {0, 0} when unknown.
[[nodiscard]] std::pair<double, double> time_range(const ReportData& d);

/// The "Timeline of the evidence" section: one SVG lane per requirement with evidence.
void write_timeline(std::string& o, const ReportData& d);

}  // namespace callwall::report::html
