// One vendor's requirements across the runs of a database (`report
// --across-runs`). See report/report.hpp (render_across).
#include <map>
#include <string>
#include <vector>

#include "callwall/report/report.hpp"
#include "report/text_parts.hpp"

namespace callwall::report {
namespace {

// A verdict word as the text report writes it, with its reasons.
std::string cell(const VerdictRow& v) {
    std::string w = v.verdict == "not_exercised" ? "not exercised" : v.verdict;
    if (!v.reasons.empty()) w += " [" + reasons_joined(v) + "]";
    return w;
}

}  // namespace

std::string render_across(const std::vector<ReportData>& runs) {
    std::string o = "across " + std::to_string(runs.size()) + " run(s)" +
                    (runs.empty() ? std::string() : " of " + runs.front().db_path) + ":\n";
    for (const auto& d : runs) {
        const RunInfo& r = d.run;
        o += "  run " + std::to_string(r.id) + "  " + r.kind + ", " + r.status + "  " + r.source +
             (r.origin.empty() ? "" : "  (from " + r.origin + ")") + "\n";
    }
    // The requirements in the order the runs list them (vendor, edition,
    // product, entry), each with its row in every run that shows it.
    std::vector<std::string> order;
    std::map<std::string, std::map<int64_t, const VerdictRow*>> rows;
    std::map<std::string, const VerdictRow*> first;
    for (const auto& d : runs)
        for (const auto& v : d.verdicts) {
            if (!first.count(v.entry_id)) {
                order.push_back(v.entry_id);
                first[v.entry_id] = &v;
            }
            rows[v.entry_id][d.run.id] = &v;
        }
    std::string group;
    for (const auto& id : order) {
        const VerdictRow& v = *first[id];
        const std::string g = v.vendor + (v.edition.empty() ? "" : " " + v.edition) + " — " + v.product;
        if (g != group) {
            o += "\n" + g + "\n";
            group = g;
        }
        o += "  " + v.service + (v.required ? "" : " (optional)") + " (" + v.transport + " " + ports_spaced(v.ports) +
             ")\n    ";
        bool lead = true;
        for (const auto& d : runs) {
            const auto it = rows[id].find(d.run.id);
            o += (lead ? "" : " · ") + ("run " + std::to_string(d.run.id) + " ") +
                 (it == rows[id].end() ? std::string("-") : cell(*it->second));
            lead = false;
        }
        o += "\n";
    }
    if (order.empty()) o += "\nno vendor traffic recognised in these runs (use --vendor NAME)\n";
    o += "\n-: the run shows nothing of that vendor (no traffic of it; --all lists every entry)\n";
    return o;
}

}  // namespace callwall::report
