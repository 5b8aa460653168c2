// Pieces of a verdict row as the text reports write them (report.cpp's text
// and CSV reports, text_blocks.cpp's verdict blocks, across_runs.cpp's
// `report --across-runs`). Private to src/report.
#pragma once

#include <string>
#include <string_view>

#include "report/report.hpp"

namespace callwall::report {

/// The verdict's reasons comma-joined, in the order the verdict lists them:
/// "icmp-3-3,no-answer".
inline std::string reasons_joined(const VerdictRow& v) {
    std::string rs;
    for (const auto& r : v.reasons) rs += (rs.empty() ? "" : ",") + r;
    return rs;
}

/// A port list with a space after each comma: "443, 3478-3479".
inline std::string ports_spaced(std::string_view ports) {
    std::string out;
    for (const char c : ports) out += c == ',' ? std::string(", ") : std::string(1, c);
    return out;
}

/// "Vendor Edition — Product" (without an edition: "Vendor — Product").
inline std::string product_label(const std::string& vendor, const std::string& edition, const std::string& product) {
    return vendor + (edition.empty() ? "" : " " + edition) + " \u2014 " + product;
}

inline bool same_product(const VerdictRow& a, const VerdictRow& b) {
    return a.vendor == b.vendor && a.edition == b.edition && a.product == b.product;
}

/// Entry row `x` as a reader of `here`'s row knows it: its service, then
/// the product it is in when that is not `here`'s ("also serves ...").
inline std::string service_of(const VerdictRow& x, const VerdictRow& here) {
    return same_product(x, here) ? x.service : x.service + " of " + product_label(x.vendor, x.edition, x.product);
}

/// The text report's verdict blocks (text_blocks.cpp), appended to `o`:
/// when they hold several vendors, one line per vendor first (its
/// conclusion, and the first thing to fix); then per product its
/// conclusion, its rows in the order that decides it (`opt.all_rows`:
/// every row in catalog order) and the rows not exercised folded into one
/// line; then the products nothing exercised. `audit`: a ruleset replayed,
/// where `observed` reads "passes".
void text_blocks(const ReportData& d, const TextOptions& opt, bool audit, std::string& o);

}  // namespace callwall::report
