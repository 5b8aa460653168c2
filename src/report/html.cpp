// The HTML report: one self-contained page for an auditor asking "does this
// firewall pass Whereby?". See report/report.hpp.
//
// Invariants:
// - Self-contained: inline <style> only; no script, no external CSS, fonts,
//   images or links (the only href values are "#..." fragments in the page).
// - Every string from the data goes through esc(), which also replaces
//   invalid UTF-8 and control characters (names come from the wire).
// - Class names are chosen from fixed tables, never copied from the data.
// - Deterministic: the same ReportData gives the same bytes (no clock, no
//   locale-dependent formatting beyond the "C" snprintf conversions, no
//   unordered containers).
// - Colour is never the only carrier: verdict and conclusion badges carry
//   words, timeline bars differ in fill and outline as well as in colour.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <map>
#include <utility>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "report/report.hpp"
#include "report/html_parts.hpp"
#include "report/text_parts.hpp"
#include "util/split.hpp"

namespace callwall::report {
namespace {

using namespace html;  // the page's text helpers and vocabularies (html_parts.hpp)

// Verbatim from DESIGN "Where the capture sits".
constexpr const char* kCapturePointNote =
    "callwall assumes the capture point is between the clients and the firewall (a mirror of the inside "
    "interface); a capture taken outside the firewall cannot see what was dropped, and 'not exercised' is then "
    "the honest word.";

constexpr size_t kDigestShortChars = 12;
constexpr size_t kSourcesShown = 6;  ///< more capture files than this fold into a list

// ---------------------------------------------------------------------------
// Page parts.

constexpr const char* kStyle = R"CSS(
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#c21f2b;--bad-bg:#ffebe9;--mid:#b35900;--mid-bg:#fff1e5;
--unk:#7d5b00;--unk-bg:#fff8c5;--none:#57606a;--none-bg:#eef1f4;--nolist:#7034c9;--nolist-bg:#f5ecff;
--abn:#3d5a80;--abn-bg:#eef3f8;
--line:#d0d7de;--muted:#59636e}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans","DejaVu Sans",sans-serif;
color:#1f2328;background:#fff;margin:0 auto;max-width:1400px;padding:14px 22px 28px;overflow-wrap:break-word}
h1{font-size:21px;margin:4px 0 2px}
h2{font-size:16px;margin:22px 0 6px;padding-bottom:3px;border-bottom:2px solid #1f2328}
h3{font-size:13.5px;margin:14px 0 4px}
p{margin:4px 0}
a{color:#0550ae;text-decoration:none}
a:hover{text-decoration:underline}
code{overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono","Liberation Mono",Menlo,monospace;font-size:12px}
.sub{color:var(--muted);margin:0 0 8px}
.muted{color:var(--muted)}
.small{font-size:11.5px}
/* Wide tables and the timeline scroll inside their own box, never the page. */
.scroll{overflow-x:auto;max-width:100%;margin:4px 0 8px}
table{border-collapse:collapse;width:100%;margin:0}
th,td{border-bottom:1px solid var(--line);padding:3px 6px;vertical-align:top;text-align:left}
th{background:#f6f8fa;font-weight:600;font-size:12px;white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.nowrap{white-space:nowrap}
.wrap{overflow-wrap:anywhere;word-break:normal}
.badge{display:inline-block;padding:0 7px;border-radius:9px;border:1px solid;font-weight:600;font-size:11.5px;
white-space:nowrap;line-height:18px}
.glyph{font-weight:700}
.b-ok{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}
.b-bad{color:var(--bad);background:var(--bad-bg);border-color:var(--bad)}
.b-mid{color:var(--mid);background:var(--mid-bg);border-color:var(--mid)}
.b-unk{color:var(--unk);background:var(--unk-bg);border-color:var(--unk);border-style:dashed}
.b-none{color:var(--none);background:var(--none-bg);border-color:#aab2bb;border-style:dotted}
.b-nolist{color:var(--nolist);background:var(--nolist-bg);border-color:var(--nolist)}
.b-abn{color:var(--abn);background:var(--abn-bg);border-color:var(--abn);border-style:dotted}
.alert{border:1px solid;border-left-width:6px;border-radius:4px;padding:7px 11px;margin:8px 0}
.alert strong{display:inline-block;margin-right:4px}
.alert-bad{border-color:var(--bad);background:var(--bad-bg)}
.alert-warn{border-color:var(--mid);background:var(--mid-bg)}
.alert-info{border-color:#54aeff;background:#ddf4ff}
/* As many columns of run facts as fit at 300px at least; a value too long
   for its row goes under its name rather than one character per line. */
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,300px),1fr));gap:0 22px;margin:6px 0}
.facts div{display:flex;flex-wrap:wrap;gap:0 8px;border-bottom:1px dotted var(--line);padding:2px 0}
.facts dt{color:var(--muted);flex:0 0 118px}
.facts dd{margin:0;flex:1 1 150px;min-width:0;overflow-wrap:anywhere}
.source{margin:2px 0 4px;overflow-wrap:break-word}
.source details{display:inline-block;vertical-align:top}
.source summary{cursor:pointer}
ul.files{margin:2px 0;padding-left:18px;columns:2 260px;font-size:11.5px;overflow-wrap:anywhere}
.verdict-counts{margin:2px 0 6px}
.verdict-counts .badge{margin-right:6px}
.products td.concl{width:190px}
.products td.what{width:330px;min-width:130px;font-weight:600}
tr.group td{background:#f6f8fa;font-weight:600;border-top:2px solid #8c959f;padding-top:5px}
tr.v-ok td:first-child{box-shadow:inset 4px 0 var(--ok)}
tr.v-bad td:first-child{box-shadow:inset 4px 0 var(--bad)}
tr.v-mid td:first-child{box-shadow:inset 4px 0 var(--mid)}
tr.v-unk td:first-child{box-shadow:inset 4px 0 var(--unk)}
tr.v-none td:first-child{box-shadow:inset 4px 0 #c4cbd2}
tr.v-abn td:first-child{box-shadow:inset 4px 0 #8fa3bf}
tr.v-none td{color:#4b535c}
table.verdicts{min-width:1000px}
.verdicts td.dest{min-width:170px;max-width:240px}
.verdicts td.ports{min-width:110px;max-width:170px}
.verdicts td.src{min-width:150px;max-width:210px;overflow-wrap:anywhere}
.verdicts td.why{min-width:200px}
.reason{display:inline-block;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:11px;background:#eef1f4;
border:1px solid var(--line);border-radius:3px;padding:0 4px;margin:1px 3px 1px 0}
.origin{color:#6e2a00;font-size:12px}
.doc-title{font-weight:600}
.merged{border-left:4px solid #54aeff;background:#ddf4ff;padding:4px 10px;margin:6px 0}
.tag{font-size:10.5px;border:1px solid #aab2bb;border-radius:3px;padding:0 3px;color:var(--muted);margin-left:4px}
.timeline{width:100%;min-width:760px;height:auto;border:1px solid var(--line);border-radius:4px;background:#fff;
display:block}
.timeline text{font-family:system-ui,"Liberation Sans","DejaVu Sans",sans-serif;font-size:11px;fill:#1f2328}
.timeline .tick{stroke:#d8dee4;stroke-width:1;stroke-dasharray:3 3}
.timeline .axis{stroke:#8c959f;stroke-width:1}
.timeline .capture-end{stroke:#57606a;stroke-width:2}
.timeline .ticklabel{fill:var(--muted);font-size:10.5px}
.timeline .lane-alt{fill:#f6f8fa}
.timeline .lane-verdict{font-size:10.5px;font-weight:600}
.timeline .lane-whose{fill:var(--muted);font-size:10.5px}
.timeline .lane-more{fill:#0550ae;font-size:10.5px}
.timeline .lv-ok{fill:var(--ok)}.timeline .lv-bad{fill:var(--bad)}.timeline .lv-mid{fill:var(--mid)}
.timeline .lv-unk{fill:var(--unk)}.timeline .lv-none{fill:var(--none)}
.timeline .o-ok,.timeline .o-bad,.timeline .o-unk,.timeline .o-abn,.timeline .o-none{stroke-width:1.5}
.timeline .o-ok{fill:#2da44e;stroke:#1a7f37}
.timeline .o-bad{fill:#e5534b;stroke:#82071e;stroke-width:2.5}
.timeline .o-unk{fill:#fff8c5;stroke:#9a6700;stroke-dasharray:3 2}
.timeline .o-abn{fill:#d6e2f0;stroke:#3d5a80;stroke-dasharray:1 2}
.timeline .o-none{fill:#d0d7de;stroke:#8c959f}
.evidence{margin:6px 0 10px;border:1px solid var(--line);border-radius:4px;padding:2px 10px 4px}
.evidence summary{cursor:pointer;padding:4px 0;font-weight:600}
.evidence table{font-size:12px}
table.flows{min-width:900px}
.evidence td.icmp{min-width:140px}
.evidence td.tuple{min-width:170px;overflow-wrap:anywhere}
.gaps{border:2px solid var(--mid);border-radius:4px;padding:4px 12px 6px;background:#fffaf5}
.gaps h2{border-bottom-color:var(--mid);margin-top:6px}
footer{overflow-wrap:anywhere;margin-top:22px;color:var(--muted);font-size:11.5px;border-top:1px solid var(--line);padding-top:6px}
dl.glossary{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:4px 0}
dl.glossary dt{margin:0}
dl.glossary dd{margin:0}
@media (max-width:640px){
body{padding:10px 10px 20px}
/* The answer per product reads top to bottom rather than in squeezed columns. */
.products thead{display:none}
.products tr,.products td{display:block;width:auto}
.products td.what,.products td.concl{width:auto;border-bottom:0}
/* The verdict table as cards: service and verdict first, no sideways scroll. */
table.verdicts{min-width:0}
.verdicts thead{display:none}
.verdicts tr,.verdicts td{display:block;width:auto;min-width:0;max-width:none}
.verdicts tr{border-bottom:1px solid var(--line);padding:3px 0}
.verdicts td{border-bottom:0;padding:1px 6px}
.verdicts td.num{text-align:left}
.verdicts td.product{color:var(--muted);font-size:11.5px}
.verdicts td.service{font-weight:600}
.verdicts td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);font-family:system-ui,sans-serif}
}
@media print{
.scroll{overflow:visible}
body{max-width:none;padding:0;font-size:10.5px}
h2{break-after:avoid}
tr,.evidence,.alert{break-inside:avoid}
.facts{grid-template-columns:repeat(2,minmax(0,1fr))}
a{color:inherit}
}
)CSS";

std::string capitalised(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

// What must be read before the answer: how the run ended, what it lost, and
// where a merged run came from.
void write_run_alerts(std::string& o, const ReportData& d) {
    const RunInfo& r = d.run;
    // Whether the status needs a warning before anything else is read.
    if (r.status == "interrupted") {
        o += "<div class=\"alert alert-bad\" id=\"run-warning\"><strong>Interrupted run.</strong> This run was "
             "interrupted before it finished (Ctrl-C or a signal): the data covers only what was captured until "
             "the stop at " +
             esc(iso_utc(r.last_ts)) +
             ". Attempts near the end had no time to be answered and are "
             "judged inconclusive, not blocked; anything the call needed later is \u201cnot exercised\u201d.</div>\n";
    } else if (r.still_running) {
        o += "<div class=\"alert alert-warn\" id=\"run-warning\"><strong>Run still running.</strong> " +
             esc(capitalised(r.status_detail)) +
             ": this page shows what it had stored when the page was made. Treat every verdict as provisional.</div>\n";
    } else if (r.status == "running") {
        o += "<div class=\"alert alert-bad\" id=\"run-warning\"><strong>Run never finished.</strong> " +
             esc(capitalised(r.status_detail.empty() ? "this run never finished" : r.status_detail)) +
             ". It never closed the run: totals may be incomplete and the last seconds may be missing. Treat every "
             "verdict as provisional.</div>\n";
    } else if (r.status != "completed") {
        o += "<div class=\"alert alert-warn\" id=\"run-warning\"><strong>Run status \u201c" + esc(r.status) +
             "\u201d.</strong> " +
             (r.status_detail.empty() ? std::string() : esc(capitalised(r.status_detail)) + ". ") +
             "The run did not finish normally; treat the verdicts as provisional.</div>\n";
    }
    if (!d.read_warning.empty())
        o += "<div class=\"alert alert-warn\"><strong>Read incompletely.</strong> " + esc(capitalised(d.read_warning)) +
             ".</div>\n";
    if (r.kernel_dropped > 0) {
        o += "<div class=\"alert alert-warn\"><strong>Packets lost at capture.</strong> The kernel dropped " +
             grouped(r.kernel_dropped) +
             " packet(s) it could not hand over: an answer may be missing from the capture, so a flow may look "
             "unanswered although it got through.</div>\n";
    }
    if (r.truncated_packets > 0) {
        o += "<div class=\"alert alert-warn\"><strong>Truncated packets.</strong> " + grouped(r.truncated_packets) +
             " packet(s) were captured shorter than on the wire (snap length): names in them may be missing.</div>\n";
    }
    if (!r.origin.empty())
        o += "<p class=\"merged\" id=\"merged-from\"><strong>Merged from <span class=\"mono\">" + esc(r.origin) +
             "</span></strong> (<code>callwall merge</code>): this run is that database's run as it was recorded "
             "there, under a new id.</p>\n";
}

// The run's metadata, below the answer.
void write_run_facts(std::string& o, const ReportData& d) {
    const RunInfo& r = d.run;
    o += "<h2 id=\"run\">About this run</h2>\n<dl class=\"facts\">\n";
    auto fact = [&](const char* name, const std::string& value_html) {
        o += "<div><dt>";
        o += name;
        o += "</dt><dd>" + value_html + "</dd></div>\n";
    };
    const Badge status = r.status == "completed"     ? Badge{"ok", "\u2713", "completed"}
                         : r.status == "interrupted" ? Badge{"bad", "\u2717", "interrupted"}
                         : r.still_running           ? Badge{"mid", "!", "running"}
                         : r.status == "running"     ? Badge{"bad", "\u2717", "never finished"}
                                                     : Badge{"mid", "!", r.status.empty() ? "unknown" : r.status};
    fact("Run", "<b>" + std::to_string(r.id) + "</b> " + badge_html(status));
    const bool audit = r.kind == "audit";
    fact("Kind", esc(r.kind == "capture"   ? "live capture"
                     : r.kind == "analyze" ? "analysis of capture files"
                     : audit ? "ruleset audit (each requirement replayed through the ruleset in a sandbox)"
                             : r.kind));
    fact("Tool version", esc(or_dash(r.tool_version)));
    if (!r.origin.empty()) fact("Merged from", "<span class=\"mono\">" + esc(r.origin) + "</span>");
    if (!audit) {  // an audit captures nothing
        fact("Capture start", esc(iso_utc(r.first_ts)));
        fact("Capture end", esc(iso_utc(r.last_ts)));
        fact("Captured span",
             r.last_ts >= r.first_ts && r.first_ts > 0 ? esc(seconds_text(r.last_ts - r.first_ts)) : "\u2014");
        fact("Packets", grouped(r.packets) + " <span class=\"muted\">(" + grouped(r.bytes) + " bytes)</span>");
        fact("Flows", grouped(r.flows));
        fact("Kernel drops", r.kernel_dropped > 0 ? "<b>" + grouped(r.kernel_dropped) + "</b>" : "0");
        fact("Truncated / undecoded", grouped(r.truncated_packets) + " / " + grouped(r.undecoded_packets));
    }
    fact("Catalog digest", r.catalog_digest.empty()
                               ? std::string("\u2014")
                               : "<span class=\"mono\" title=\"sha256 " + esc(r.catalog_digest) +
                                     "\">sha256:" + esc(r.catalog_digest.substr(0, kDigestShortChars)) +
                                     (r.catalog_digest.size() > kDigestShortChars ? "\u2026" : "") + "</span>");
    fact("Database", "<span class=\"mono\">" + esc(or_dash(d.db_path)) + "</span>");
    fact("Run started", esc(iso_utc(r.started_at)));
    fact("Run ended", esc(iso_utc(r.ended_at)));
    o += "</dl>\n";
    // analyze records its files comma-separated; a long list folds away.
    const std::vector<std::string> files =
        r.kind == "capture" ? std::vector<std::string>{r.source} : util::split(r.source, ',');
    o += std::string("<div class=\"source\"><span class=\"muted\">") + (r.kind == "capture" ? "Interface" : "Source") +
         "</span> ";
    if (files.size() <= kSourcesShown) {
        for (size_t k = 0; k < files.size(); ++k)
            o += (k ? ", " : "") + ("<span class=\"mono\">" + esc(files[k]) + "</span>");
        if (files.empty()) o += "\u2014";
    } else {
        o += "<details><summary>" + std::to_string(files.size()) + " capture files</summary><ul class=\"files mono\">";
        for (const std::string& f : files) o += "<li>" + esc(f) + "</li>";
        o += "</ul></details>";
    }
    o += "</div>\n";
    if (!r.command_line.empty())
        o += "<p class=\"small muted\">Command: <code>" + esc(r.command_line) + "</code></p>\n";
    if (!r.notes.empty()) o += "<p class=\"small\">Notes: " + esc(r.notes) + "</p>\n";
    if (audit) return;
    o += "<div class=\"alert alert-info\" id=\"capture-point\"><strong>Where the capture sits.</strong> ";
    o += esc(kCapturePointNote);
    o += "</div>\n";
}

void write_products(std::string& o, const ReportData& d) {
    o += "<h2 id=\"answer\">Answer per product</h2>\n";
    if (!d.verdicts.empty()) {
        // Counts in the fixed verdict order, so the line reads the same every time.
        static const char* const kOrder[] = {"observed", "partial", "blocked", "inconclusive", "not_exercised"};
        o += "<p class=\"verdict-counts\">" + std::to_string(d.verdicts.size()) + " requirement(s): ";
        for (const char* v : kOrder) {
            const auto n = std::count_if(d.verdicts.begin(), d.verdicts.end(),
                                         [&](const VerdictRow& r) { return r.verdict == v; });
            if (n == 0) continue;
            Badge b = verdict_badge(v, d.run.kind == "audit");
            b.label = std::to_string(n) + " " + b.label;
            o += badge_html(b);
        }
        o += "</p>\n";
    }
    if (d.products.empty()) {
        o += "<p class=\"muted\">No product conclusions: none of the selected vendors' traffic was seen.</p>\n";
        return;
    }
    o +=
        "<div class=\"scroll\"><table class=\"products\"><thead><tr><th>Vendor \u00b7 edition \u00b7 product</th><th>Conclusion</th>"
        "<th>Detail</th></tr></thead><tbody>\n";
    for (const ProductRow& p : d.products) {
        const Badge b = conclusion_badge(p.conclusion);
        o += std::string("<tr class=\"v-") + b.css + "\"><td class=\"what\">" + esc(p.vendor) +
             (p.edition.empty() ? std::string(" \u00b7")
                                : " <span class=\"muted\">\u00b7 " + esc(p.edition) + " \u00b7</span>") +
             " " + esc(p.product) + "</td><td class=\"concl\">" + badge_html(b) + "</td><td>" + esc(p.detail) +
             "</td></tr>\n";
    }
    o += "</tbody></table></div>\n";
}

void write_gaps(std::string& o, const ReportData& d) {
    if (d.vendor_gaps.empty()) {
        o += "<h2 id=\"gaps\">Catalog gaps</h2>\n<p>None: every flow to a vendor's names matched a catalog "
             "entry.</p>\n";
        return;
    }
    o += "<section class=\"gaps\"><h2 id=\"gaps\">\u26A0 Catalog gaps: " + std::to_string(d.vendor_gaps.size()) +
         " flow(s) to a vendor's names on ports no catalog entry lists</h2>\n"
         "<p>The vendor's software used something its documentation (as seeded in the catalog) does not list. "
         "The verdicts below do not cover these flows: a firewall rule written from the catalog alone would miss "
         "them.</p>\n";
    // One row per vendor, name, transport and server port: a busy capture
    // has many flows of each, and the row is what a catalog would add.
    struct Group {
        std::vector<const UnmatchedVendorFlow*> flows;
        std::map<std::string, std::vector<uint64_t>> by_outcome;
        std::vector<std::string> apps, servers;
    };
    std::map<std::tuple<std::string, std::string, std::string, uint16_t>, Group> groups;
    for (const UnmatchedVendorFlow& u : d.vendor_gaps) {
        const facts::ShownFlow& f = u.flow;
        Group& g = groups[{u.vendor, u.name, f.transport, f.server_port}];
        g.flows.push_back(&u);
        g.by_outcome[f.outcome].push_back(f.id);
        if (std::find(g.apps.begin(), g.apps.end(), f.app) == g.apps.end()) g.apps.push_back(f.app);
        if (std::find(g.servers.begin(), g.servers.end(), f.server_ip) == g.servers.end())
            g.servers.push_back(f.server_ip);
    }
    o += "<p class=\"small muted\">" + std::to_string(groups.size()) +
         " group(s) by vendor, name, transport and port.</p>\n";
    o += "<div class=\"scroll\"><table class=\"gap-flows\"><thead><tr><th>Vendor</th><th>Name</th><th>Port</th>"
         "<th class=\"num\">Flows</th><th>Outcomes</th><th>App</th><th>Servers</th><th>Flow ids</th></tr></thead>"
         "<tbody>\n";
    constexpr size_t kIdsShown = 8;
    constexpr size_t kServersShown = 3;
    for (const auto& [key, g] : groups) {
        const auto& [vendor, name, transport, port] = key;
        o += "<tr><td>" + esc(vendor) + "</td><td class=\"mono wrap\">" + esc(or_dash(name)) +
             "</td><td class=\"mono nowrap\">" + esc(transport) + " " + std::to_string(port) +
             "</td><td class=\"num\">" + grouped(g.flows.size()) + "</td><td>";
        for (const auto& [outcome, ids] : g.by_outcome) {
            Badge b = outcome_badge(outcome);
            b.label = std::to_string(ids.size()) + " " + b.label;
            std::string list;
            for (uint64_t id : ids) list += (list.empty() ? "" : " ") + std::to_string(id);
            // data-flows: the flows this badge stands for (the browser test
            // checks their stored outcomes against its colour).
            o += "<span data-flows=\"" + list + "\">" + badge_html(b) + "</span> ";
        }
        o += "</td><td>";
        for (size_t k = 0; k < g.apps.size(); ++k) o += (k ? ", " : "") + esc(or_dash(g.apps[k]));
        o += "</td><td class=\"mono wrap small\">";
        for (size_t k = 0; k < g.servers.size() && k < kServersShown; ++k) o += (k ? ", " : "") + esc(g.servers[k]);
        if (g.servers.size() > kServersShown)
            o += " <span class=\"muted\">and " + std::to_string(g.servers.size() - kServersShown) + " more</span>";
        o += "</td><td class=\"mono small wrap\">";
        for (size_t k = 0; k < g.flows.size() && k < kIdsShown; ++k)
            o += (k ? " " : "") + std::to_string(g.flows[k]->flow.id);
        if (g.flows.size() > kIdsShown)
            o += " <span class=\"muted\">(" + grouped(g.flows.size() - kIdsShown) + " more)</span>";
        o += "</td></tr>\n";
    }
    o += "</tbody></table></div></section>\n";
}

void write_glossary(std::string& o, bool audit) {
    o += "<details class=\"small\" open><summary class=\"muted\">What the verdicts mean</summary>"
         "<dl class=\"glossary\">";
    if (audit) {
        // A ruleset audit: the requirement's traffic was replayed through the ruleset.
        o += "<dt>" + badge_html(verdict_badge("observed", true)) +
             "</dt><dd>the replayed traffic got through the "
             "ruleset (TCP handshake completed, UDP answered).</dd>";
        o += "<dt>" + badge_html(verdict_badge("blocked", true)) +
             "</dt><dd>the ruleset dropped or rejected it; the "
             "why names the rule or the chain policy that decided.</dd>";
        o += "<dt>" + badge_html(verdict_badge("partial", true)) +
             "</dt><dd>some of its port intervals pass, others "
             "do not (each listed).</dd>";
        o += "<dt>" + badge_html(verdict_badge("inconclusive", true)) +
             "</dt><dd>replayed, but the sandbox could not "
             "tell.</dd>";
        o += "<dt>" + badge_html(verdict_badge("not_exercised", true)) +
             "</dt><dd>not replayed by this audit (the "
             "why says why).</dd>";
        o += "</dl></details>\n";
        return;
    }
    o += "<dt>" + badge_html(verdict_badge("observed")) +
         "</dt><dd>traffic for it got through (TCP handshake "
         "completed, UDP answered, STUN success).</dd>";
    o += "<dt>" + badge_html(verdict_badge("blocked")) +
         "</dt><dd>it was attempted and did not get through "
         "(SYN retransmitted unanswered, RST, ICMP unreachable, STUN timeouts, name never answered).</dd>";
    o += "<dt>" + badge_html(verdict_badge("partial")) +
         "</dt><dd>some of its ports got through, others were "
         "blocked.</dd>";
    o += "<dt>" + badge_html(verdict_badge("inconclusive")) +
         "</dt><dd>attempted, but too little capture after "
         "the attempt to tell.</dd>";
    o += "<dt>" + badge_html(verdict_badge("not_exercised")) +
         "</dt><dd>no traffic for it in the capture: the "
         "call did not need it, which is not a pass.</dd>";
    o += "</dl></details>\n";
}

// Another entry as a reader knows it (service_of); its id when the report
// does not hold it. The id stays in the link's title (and in the JSON and CSV).
std::string entry_name(const std::map<std::string_view, const VerdictRow*>& names, const VerdictRow& here,
                       const std::string& id) {
    const auto it = names.find(id);
    return it == names.end() ? id : service_of(*it->second, here);
}

void write_verdicts(std::string& o, const ReportData& d, const std::map<std::string, size_t>& row_of_entry) {
    std::map<std::string_view, const VerdictRow*> names;
    for (const auto& v : d.verdicts) names.emplace(v.entry_id, &v);
    for (const auto& v : d.unshown) names.emplace(v.entry_id, &v);
    o += "<h2 id=\"requirements\">Requirements and verdicts</h2>\n";
    write_glossary(o, d.run.kind == "audit");
    if (d.verdicts.empty()) {
        o += "<p class=\"muted\">No catalog requirements for the selected vendors.</p>\n";
        return;
    }
    o += "<div class=\"scroll\"><table class=\"verdicts\"><thead><tr><th>Product</th><th>Service</th><th>Verdict</th>"
         "<th>Why / who said no</th><th>Transport / ports</th><th>Destinations</th><th>Conditions</th>"
         "<th class=\"num\" title=\"flows observed / blocked / inconclusive\">Flows \u2713/\u2717/?</th>"
         "<th>Also serves</th><th>Source</th></tr></thead><tbody>\n";
    // On a phone the rows read as cards (the style sheet): the verdict comes
    // right after the service, each other cell under its column's name.
    std::string group;
    for (size_t i = 0; i < d.verdicts.size(); ++i) {
        const VerdictRow& v = d.verdicts[i];
        const std::string key = v.vendor + '\x1f' + v.edition;
        if (key != group) {
            group = key;
            o += "<tr class=\"group\"><td colspan=\"10\">" + esc(v.vendor) +
                 (v.edition.empty() ? "" : " <span class=\"muted\">\u00b7 edition " + esc(v.edition) + "</span>") +
                 "</td></tr>\n";
        }
        const Badge b = verdict_badge(v.verdict, d.run.kind == "audit");
        o += std::string("<tr id=\"r") + std::to_string(i) + "\" class=\"v-" + b.css + "\">";
        o += "<td class=\"product\">" + esc(v.product) + "</td>";
        o += "<td class=\"service\">" + esc(v.service) + (v.required ? "" : "<span class=\"tag\">optional</span>") +
             "</td>";
        o += "<td class=\"verdict\">" + badge_html(b) + "</td>";
        o += "<td class=\"why\">" + esc(v.why);
        if (!v.reasons.empty()) {
            o += "<br>";
            for (const std::string& r : v.reasons) o += "<span class=\"reason\">" + esc(r) + "</span>";
        }
        if (!v.origin.empty()) o += "<br><span class=\"origin\">said no: " + esc(v.origin) + "</span>";
        if (!v.evidence.empty())
            o += "<br><a class=\"small\" href=\"#e" + std::to_string(i) + "\">evidence (" +
                 std::to_string(v.evidence.size()) + " flow" + (v.evidence.size() == 1 ? "" : "s") +
                 (flows_not_shown(v) > 0 ? ", " + grouped(flows_not_shown(v)) + " more" : std::string()) + ")</a>";
        else if (v.verdict == "blocked" || v.verdict == "partial")
            o += "<br><a class=\"small\" href=\"#e" + std::to_string(i) + "\">evidence (no flow)</a>";
        o += "</td>";
        o += "<td class=\"ports\" data-label=\"ports\"><span class=\"mono\">" + esc(v.transport) + " " +
             esc_breakable(v.ports) + "</span>";
        if (!v.ports_observed.empty())
            o += "<br><span class=\"small\">through: <span class=\"mono\">" + esc_breakable(v.ports_observed) +
                 "</span></span>";
        if (!v.ports_blocked.empty())
            o += "<br><span class=\"small\">blocked: <span class=\"mono\">" + esc_breakable(v.ports_blocked) +
                 "</span></span>";
        o += "</td>";
        o += "<td class=\"dest mono wrap small\" data-label=\"to\">" + esc(or_dash(v.destinations)) + "</td>";
        o += "<td class=\"small\" data-label=\"conditions\">" + esc(or_dash(v.conditions)) + "</td>";
        o += "<td class=\"num\" data-label=\"flows \u2713/\u2717/?\">" + std::to_string(v.flows_observed) + " / " +
             std::to_string(v.flows_blocked) + " / " + std::to_string(v.flows_inconclusive) + "</td>";
        o += "<td class=\"small wrap\" data-label=\"also serves\">";
        for (size_t k = 0; k < v.shared_with.size(); ++k) {
            if (k > 0) o += "<br>";
            const std::string& id = v.shared_with[k];
            const std::string name = entry_name(names, v, id);
            const auto it = row_of_entry.find(id);
            if (it != row_of_entry.end())
                o += "<a href=\"#r" + std::to_string(it->second) + "\" title=\"" + esc(id) + "\">" + esc(name) + "</a>";
            else
                o += "<span title=\"" + esc(id) + "\">" + esc(name) + "</span>";
        }
        if (v.shared_with.empty()) o += "\u2014";
        o += "</td>";
        // The document's title first (what a reader can look up); the seed
        // file it was transcribed from in small print under the section.
        o += "<td class=\"src small wrap\" data-label=\"source\">";
        if (!v.document_title.empty())
            o += "<span class=\"doc-title\">" + esc(v.vendor) + ": \u201c" + esc(v.document_title) + "\u201d</span>";
        else
            o += "<span class=\"mono\">" + esc(or_dash(v.source_file)) + "</span>";
        if (!v.source_section.empty()) o += "<br>\u00a7 " + esc(v.source_section);
        if (!v.document_title.empty() && !v.source_file.empty())
            o += "<br><span class=\"muted\">seed <span class=\"mono\">" + esc(v.source_file) + "</span></span>";
        o += "<br><span class=\"muted mono\">" + esc(v.entry_id) + "</span></td>";
        o += "</tr>\n";
    }
    o += "</tbody></table></div>\n";
}

/// Tick step of about a fifth of the span, rounded to 1, 2 or 5 times a power of ten.
void write_evidence(std::string& o, const ReportData& d) {
    o += "<h2 id=\"evidence\">Evidence per requirement</h2>\n";
    const double t0 = time_range(d).first;  // the timeline's origin, so offsets read on its axis
    bool any = false;
    for (size_t i = 0; i < d.verdicts.size(); ++i) {
        const VerdictRow& v = d.verdicts[i];
        const bool failed = v.verdict == "blocked" || v.verdict == "partial";
        if (v.evidence.empty() && !failed) continue;
        any = true;
        const Badge b = verdict_badge(v.verdict, d.run.kind == "audit");
        // Failures are what an audit reads; observed rows stay folded.
        const bool open = v.verdict != "observed";
        o += "<details class=\"evidence\" id=\"e" + std::to_string(i) + "\"" + (open ? " open" : "") + "><summary>" +
             badge_html(b) + " " + esc(requirement_label(v)) + " <a class=\"small\" href=\"#r" + std::to_string(i) +
             "\">\u2191 row</a></summary>\n";
        o += "<p>" + esc(v.why);
        if (!v.origin.empty()) o += " <span class=\"origin\">\u2014 said no: " + esc(v.origin) + "</span>";
        o += "</p>\n";
        if (v.evidence.empty()) {
            o += "<p class=\"small muted\">No flow behind this verdict: the reason above is the evidence (for "
                 "example a name that never resolved, so nothing was attempted).</p></details>\n";
            continue;
        }
        const uint64_t more = flows_not_shown(v);
        if (more > 0)
            o += "<p class=\"small muted\">Showing " + std::to_string(v.evidence.size()) + " of " +
                 grouped(flows_counted(v)) + " flows, blocked ones first; " + grouped(more) +
                 " more are counted in the verdict row (" + grouped(v.flows_observed) + " observed, " +
                 grouped(v.flows_blocked) + " blocked, " + grouped(v.flows_inconclusive) +
                 " inconclusive in all) but not listed.</p>\n";
        o +=
            "<div class=\"scroll\"><table class=\"flows\"><thead><tr><th class=\"num\">Flow</th><th>5-tuple</th><th>First (UTC)</th><th>Last (UTC)</th>"
            "<th class=\"num\" title=\"packets client to server / server to client\">Pkts \u2192/\u2190</th>"
            "<th>State</th><th>Outcome</th><th>App</th><th>Name (known by)</th><th>Matched by</th><th>ICMP</th>"
            "</tr></thead><tbody>\n";
        for (const EvidenceFlow& f : v.evidence) {
            const Badge ob = outcome_badge(f.outcome);
            o += std::string("<tr class=\"v-") + ob.css + "\"><td class=\"num\">" + std::to_string(f.id) + "</td>";
            o += "<td class=\"tuple mono\">" + esc(five_tuple(f)) + "</td>";
            o += "<td class=\"mono nowrap\">" + esc(iso_utc(f.first_ts)) + "<br><span class=\"muted\">+" +
                 esc(seconds_text(f.first_ts - t0)) + "</span></td>";
            o += "<td class=\"mono nowrap\">" + esc(iso_utc(f.last_ts)) + "<br><span class=\"muted\">" +
                 esc(seconds_text(f.last_ts - f.first_ts)) + " long</span></td>";
            o += "<td class=\"num\">" + grouped(f.packets_c2s) + " / " + grouped(f.packets_s2c) + "</td>";
            o += "<td class=\"mono\">" + esc(or_dash(f.state)) + "</td>";
            o += "<td>" + badge_html(ob) + "</td>";
            o += "<td>" + esc(or_dash(f.app)) + "</td>";
            o += "<td class=\"wrap\"><span class=\"mono\">" + esc(or_dash(f.name)) + "</span>";
            if (!f.name_source.empty()) o += " <span class=\"muted\">(" + esc(f.name_source) + ")</span>";
            o += "</td>";
            o += "<td>" + esc(or_dash(f.evidence_kind));
            if (f.evidence_kind == "port-only") o += " <span class=\"muted small\">(decides nothing alone)</span>";
            o += "</td>";
            o += "<td class=\"icmp small\">" + esc(or_dash(icmp_text(f))) + "</td></tr>\n";
        }
        o += "</tbody></table></div></details>\n";
    }
    if (!any) o += "<p class=\"muted\">No requirement has evidence flows.</p>\n";
}

void write_other(std::string& o, const ReportData& d) {
    o += "<h2 id=\"other\">Other flows</h2>\n";
    o += "<p>" + grouped(d.other_flows) +
         " flow(s) matched no catalogued vendor (neither by name nor by an entry). They are summarised, not "
         "judged.</p>\n";
    if (d.other_summary.empty()) return;
    uint64_t shown = 0;
    for (const OtherFlowsSummary& s : d.other_summary) shown += s.flows;
    o +=
        "<div class=\"scroll\"><table style=\"width:auto\"><thead><tr><th>Transport</th><th>App</th><th class=\"num\">Server port</th>"
        "<th class=\"num\">Flows</th></tr></thead><tbody>\n";
    for (const OtherFlowsSummary& s : d.other_summary)
        o += "<tr><td>" + esc(s.transport) + "</td><td>" + esc(or_dash(s.app)) + "</td><td class=\"num\">" +
             std::to_string(s.server_port) + "</td><td class=\"num\">" + grouped(s.flows) + "</td></tr>\n";
    o += "</tbody></table></div>\n";
    if (shown < d.other_flows)
        o += "<p class=\"small muted\">The largest groups only; " + grouped(d.other_flows - shown) +
             " flow(s) in smaller groups.</p>\n";
}

// What to add to the firewall for what the run found blocked (a probe's
// allow-lists), one collapsible block per format.
void write_allow_lists(std::string& o, const ReportData& d) {
    if (d.allow_lists.empty()) return;
    o += "<h2 id=\"allow\">To allow what was blocked</h2>\n";
    o += "<p>What <code>callwall catalog export</code> writes for exactly the requirements this run found blocked "
         "or partly blocked:</p>\n";
    for (const AllowList& a : d.allow_lists)
        o += "<details><summary>" + esc(a.format) + "</summary><pre>" + esc(a.text) + "</pre></details>\n";
}

}  // namespace

const char* html::page_style() { return kStyle; }

std::string render_html(const ReportData& d) {
    std::map<std::string, size_t> row_of_entry;
    std::vector<std::string> vendors;  // in order of first appearance
    for (size_t i = 0; i < d.verdicts.size(); ++i) {
        row_of_entry.emplace(d.verdicts[i].entry_id, i);
        if (std::find(vendors.begin(), vendors.end(), d.verdicts[i].vendor) == vendors.end())
            vendors.push_back(d.verdicts[i].vendor);
    }
    for (const ProductRow& p : d.products)
        if (std::find(vendors.begin(), vendors.end(), p.vendor) == vendors.end()) vendors.push_back(p.vendor);
    std::string vendor_list;
    for (size_t i = 0; i < vendors.size(); ++i)
        vendor_list += (i == 0 ? "" : i + 1 == vendors.size() ? " and " : ", ") + vendors[i];

    std::string o;
    o.reserve(64 * 1024);
    o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"generator\" content=\"callwall " +
         esc(d.run.tool_version) + "\">\n";
    o += "<title>callwall report \u2014 run " + std::to_string(d.run.id) +
         (vendor_list.empty() ? "" : " \u2014 " + esc(vendor_list)) + "</title>\n";
    o += "<style>";
    o += kStyle;
    o += "</style>\n</head>\n<body>\n<header>\n";
    o += "<h1>" +
         (vendor_list.empty() ? std::string("Does this firewall pass real-time-communication traffic?")
                              : "Does this firewall pass " + esc(vendor_list) + "?") +
         "</h1>\n";
    o += "<p class=\"sub\">callwall report of run " + std::to_string(d.run.id) +
         " \u00b7 <a href=\"#answer\">answer</a> \u00b7 <a href=\"#run\">run</a> "
         "\u00b7 <a href=\"#gaps\">catalog gaps</a> \u00b7 <a href=\"#requirements\">requirements</a> \u00b7 "
         "<a href=\"#timeline\">timeline</a> \u00b7 <a href=\"#evidence\">evidence</a> \u00b7 "
         "<a href=\"#other\">other flows</a></p>\n";
    write_run_alerts(o, d);
    o += "</header>\n<main>\n";
    write_products(o, d);
    write_run_facts(o, d);
    write_gaps(o, d);
    write_verdicts(o, d, row_of_entry);
    write_allow_lists(o, d);
    write_timeline(o, d);
    write_evidence(o, d);
    write_other(o, d);
    o += "</main>\n<footer>callwall " + esc(or_dash(d.run.tool_version)) + " \u00b7 run " + std::to_string(d.run.id) +
         " \u00b7 catalog sha256:" + esc(or_dash(d.run.catalog_digest)) +
         ". A verdict covers only what the capture shows; \u201cnot exercised\u201d is not a pass.</footer>\n";
    o += "</body>\n</html>\n";
    return o;
}

}  // namespace callwall::report
