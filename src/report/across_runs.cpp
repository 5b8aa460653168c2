// One vendor's requirements across the runs of a database (`report
// --across-runs`). See report/report.hpp (render_across).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "report/report.hpp"
#include "report/text_safe.hpp"
#include "report/html_parts.hpp"
#include "report/text_parts.hpp"

namespace callwall::report {
namespace {

// A verdict word as the text report writes it, with its reasons.
std::string cell(const VerdictRow& v) {
    std::string w = v.verdict == "not_exercised" ? "not exercised" : v.verdict;
    if (!v.reasons.empty()) w += " [" + reasons_joined(v) + "]";
    return w;
}

// The requirements in the order the runs list them (vendor, edition,
// product, entry), each with its row in every run that shows it.
struct Grid {
    std::vector<std::string> order;
    std::map<std::string, std::map<int64_t, const VerdictRow*>> rows;
    std::map<std::string, const VerdictRow*> first;
    bool any_missing = false;  ///< some run shows nothing of some requirement's vendor
};

Grid grid_of(const std::vector<ReportData>& runs) {
    Grid g;
    for (const auto& d : runs) {
        // A run that exercised nothing of a vendor shows nothing of it ("-"),
        // whether or not --vendor made it list that vendor's entries: the
        // cell is the same for one run however the report was asked for.
        std::set<std::string_view> exercised;
        for (const auto& v : d.verdicts)
            if (v.verdict != "not_exercised") exercised.insert(v.vendor);
        for (const auto& v : d.verdicts) {
            if (!g.first.count(v.entry_id)) {
                g.order.push_back(v.entry_id);
                g.first[v.entry_id] = &v;
            }
            if (exercised.count(v.vendor)) g.rows[v.entry_id][d.run.id] = &v;
        }
    }
    // A requirement no run shows anything of (an edition no run judged by,
    // listed by a run that saw nothing of its vendor) is left out, unless
    // nothing else is shown: then the "-" rows say the runs hold none of it.
    const bool any_shown = std::any_of(g.order.begin(), g.order.end(), [&](const std::string& id) {
        const auto it = g.rows.find(id);
        return it != g.rows.end() && !it->second.empty();
    });
    if (any_shown)
        std::erase_if(g.order, [&](const std::string& id) {
            const auto it = g.rows.find(id);
            return it == g.rows.end() || it->second.empty();
        });
    for (const auto& id : g.order)
        if (g.rows[id].size() < runs.size()) g.any_missing = true;
    return g;
}

std::string group_of(const VerdictRow& v) {
    return v.vendor + (v.edition.empty() ? "" : " " + v.edition) + " \u2014 " + v.product;
}

// Only said when a '-' is shown: a run shows nothing of a vendor it had no
// traffic of, with --vendor or without.
constexpr const char* kMissingLegend =
    "-: the run shows nothing of that vendor (no traffic of it; --vendor or --all lists every entry)";
constexpr const char* kNotExercisedLegend =
    "not exercised: the run had no traffic for that requirement (which is not a pass)";

}  // namespace

std::string render_across(const std::vector<ReportData>& raw) {
    // Escaped for the terminal first, as render_text does.
    std::vector<ReportData> runs;
    runs.reserve(raw.size());
    for (const auto& d : raw) runs.push_back(text_safe(d));
    std::string o = "across " + std::to_string(runs.size()) + " run(s)" +
                    (runs.empty() ? std::string() : " of " + runs.front().db_path) + ":\n";
    for (const auto& d : runs) {
        const RunInfo& r = d.run;
        o += "  run " + std::to_string(r.id) + "  " + r.kind + ", " + r.status + "  " + r.source +
             (r.origin.empty() ? "" : "  (from " + r.origin + ")") + "\n";
    }
    const Grid g = grid_of(runs);
    const auto& order = g.order;
    std::string group;
    for (const auto& id : order) {
        const VerdictRow& v = *g.first.at(id);
        const std::string label = group_of(v);
        if (label != group) {
            o += "\n" + label + "\n";
            group = label;
        }
        o += "  " + v.service + (v.required ? "" : " (optional)") + " (" + v.transport + " " + ports_spaced(v.ports) +
             ")\n    ";
        bool lead = true;
        const auto& in_runs = g.rows.at(id);
        for (const auto& d : runs) {
            const auto it = in_runs.find(d.run.id);
            o += (lead ? "" : " · ") + ("run " + std::to_string(d.run.id) + " ") +
                 (it == in_runs.end() ? std::string("-") : cell(*it->second));
            lead = false;
        }
        o += "\n";
    }
    if (order.empty()) o += "\nno vendor traffic recognised in these runs (use --vendor NAME)\n";
    if (g.any_missing) o += "\n" + std::string(kMissingLegend) + "\n";
    return o;
}

std::string render_across_html(const std::vector<ReportData>& runs) {
    using namespace html;
    const Grid g = grid_of(runs);
    const std::string db = runs.empty() ? std::string() : runs.front().db_path;
    std::string o;
    o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"generator\" content=\"callwall " +
         esc(runs.empty() ? std::string() : runs.front().run.tool_version) + "\">\n<title>callwall report \u2014 " +
         std::to_string(runs.size()) + " run(s) of " + esc(db) + "</title>\n<style>" + page_style() +
         "</style>\n</head>\n<body>\n<header>\n<h1>Across " + std::to_string(runs.size()) + " run(s)</h1>\n";
    o += "<p class=\"sub\">callwall report of every run of <span class=\"mono\">" + esc(db) + "</span></p>\n";
    o += "<div class=\"scroll\"><table class=\"runs\"><thead><tr><th class=\"num\">Run</th><th>Kind</th>"
         "<th>Status</th><th>Source</th><th>Merged from</th></tr></thead><tbody>\n";
    for (const auto& d : runs) {
        const RunInfo& r = d.run;
        o += "<tr><td class=\"num\">" + std::to_string(r.id) + "</td><td>" + esc(r.kind) + "</td><td>" + esc(r.status) +
             "</td><td class=\"mono wrap\">" + esc(r.source) + "</td><td class=\"mono wrap\">" +
             esc(or_dash(r.origin)) + "</td></tr>\n";
    }
    o += "</tbody></table></div>\n</header>\n<main>\n";
    if (g.order.empty())
        o += "<p class=\"muted\">No vendor traffic recognised in these runs (use --vendor NAME).</p>\n";
    std::string group;
    bool open = false;
    for (const auto& id : g.order) {
        const VerdictRow& v = *g.first.at(id);
        const std::string label = group_of(v);
        if (label != group) {
            if (open) o += "</tbody></table></div>\n";
            o += "<h2>" + esc(label) +
                 "</h2>\n<div class=\"scroll\"><table class=\"across\"><thead><tr>"
                 "<th>Requirement</th>";
            for (const auto& d : runs) o += "<th>Run " + std::to_string(d.run.id) + "</th>";
            o += "</tr></thead><tbody>\n";
            group = label;
            open = true;
        }
        o += "<tr><td>" + esc(v.service) + (v.required ? "" : "<span class=\"tag\">optional</span>") +
             "<br><span class=\"mono small\">" + esc(v.transport) + " " + esc_breakable(v.ports) + "</span></td>";
        const auto& in_runs = g.rows.at(id);
        for (const auto& d : runs) {
            const auto it = in_runs.find(d.run.id);
            if (it == in_runs.end()) {
                o += "<td class=\"muted\" title=\"the run shows nothing of this vendor\">-</td>";
                continue;
            }
            o += "<td>" + badge_html(verdict_badge(it->second->verdict, d.run.kind == "audit"));
            for (const std::string& r : it->second->reasons) o += " <span class=\"reason\">" + esc(r) + "</span>";
            o += "</td>";
        }
        o += "</tr>\n";
    }
    if (open) o += "</tbody></table></div>\n";
    o += "<p class=\"small muted\">" + esc(kNotExercisedLegend) + "." +
         (g.any_missing ? "<br>" + esc(kMissingLegend) + "." : std::string()) + "</p>\n";
    o += "</main>\n</body>\n</html>\n";
    return o;
}

}  // namespace callwall::report
