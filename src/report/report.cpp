// The text, JSON and CSV renderings (the reads: report/load.cpp). See report/report.hpp.
#include "report/report.hpp"
#include "report/html_parts.hpp"
#include "report/text_layout.hpp"
#include "report/text_parts.hpp"
#include "report/text_safe.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "catalog/catalog.hpp"
#include "util/split.hpp"

namespace callwall::report {

namespace {

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
}

std::string json_ports(const std::string& ports) {
    std::string o = "[";
    bool first = true;
    for (const auto& part : util::split(ports, ',')) {
        const auto dash = part.find('-');
        const std::string lo = dash == std::string::npos ? part : part.substr(0, dash);
        const std::string hi = dash == std::string::npos ? part : part.substr(dash + 1);
        o += (first ? "" : ",") + std::string("[") + lo + "," + hi + "]";
        first = false;
    }
    return o + "]";
}

}  // namespace

namespace {
// A JSON array of strings.
std::string json_strings(const std::vector<std::string>& v) {
    std::string o = "[";
    for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + catalog::json_quote(v[i]);
    return o + "]";
}

// The run's notes, one per non-empty line (the store keeps them as lines).
std::vector<std::string_view> note_lines(std::string_view notes) {
    std::vector<std::string_view> out;
    for (size_t at = 0; at < notes.size();) {
        size_t end = notes.find('\n', at);
        if (end == std::string_view::npos) end = notes.size();
        if (end > at) out.push_back(notes.substr(at, end - at));
        at = end + 1;
    }
    return out;
}
// The run's header: what was read, what the run could not see, its notes.
void text_header(const ReportData& d, bool audit, std::string& o) {
    const RunInfo& r = d.run;
    o += "run " + std::to_string(r.id) + " (" + r.kind + ", " + r.status + "): " + r.source + "\n";
    if (!r.origin.empty()) o += "merged from " + r.origin + "\n";
    if (audit)
        o += "ruleset audit: each requirement replayed through the kernel's netfilter in a throw-away sandbox\n";
    else
        o += "capture " + text::iso_time(r.first_ts) + " .. " + text::iso_time(r.last_ts) + ", " +
             std::to_string(r.packets) + " packets, " + std::to_string(r.flows) + " flows" +
             (r.kernel_dropped ? ", kernel dropped " + std::to_string(r.kernel_dropped) : std::string()) + "\n";
    if (!d.read_warning.empty()) o += "WARNING: " + d.read_warning + "\n";
    if (r.still_running)
        o += "note: " + r.status_detail + "; results so far are partial\n";
    else if (!r.status_detail.empty())
        o += "WARNING: " + r.status_detail + "; results are partial\n";
    else if (r.status == "running")
        o += "WARNING: this run never finished; results are partial\n";
    if (r.status == "interrupted") o += "note: the run was interrupted; results cover the packets seen until then\n";
    // What the run could not see or keep: never silent (bounds hit, damaged
    // files, an exchange split by a full flow table).
    if (r.flows_evicted_full)
        o += "lost: " + std::to_string(r.flows_evicted_full) +
             " flows written out early because the flow table was full (--max-flows); an exchange split by it is "
             "judged inconclusive, never blocked\n";
    const auto notes = note_lines(r.notes);
    if (!notes.empty()) o += "run notes:\n";
    for (std::string_view n : notes) o += "  " + std::string(n) + "\n";
    if (!audit)
        o += text::wrapped(
            "",
            "assumes the capture point is between the clients and the firewall; outside it, 'not exercised' "
            "is the honest word",
            0);
}

}  // namespace

std::string render_text(const ReportData& raw, const TextOptions& opt) {
    // Every string off the wire or out of a catalog file escaped first: the
    // text goes to a terminal.
    const ReportData safe = text_safe(raw);
    const ReportData& d = safe;
    std::string o;
    // Built by concatenation: a source naming many files has no length bound.
    // An audit replays the requirements through a ruleset: no capture, and
    // `observed` reads "passes".
    const bool audit = d.run.kind == "audit";
    text_header(d, audit, o);
    if (d.verdicts.empty() && d.products.empty()) {
        o += "\nno vendor traffic recognised in this run (use --vendor NAME to list a vendor's requirements anyway)\n";
    }
    text_blocks(d, opt, audit, o);
    for (const auto& p : d.products) {
        if (p.conclusion != "cannot be allow-listed") continue;
        o += "\n" + text::wrapped("",
                                  p.vendor + (p.edition.empty() ? "" : " " + p.edition) + " — " + p.product +
                                      ": cannot be allow-listed (" + p.detail + ")",
                                  2);
    }
    for (const auto& a : d.allow_lists) {
        if (a.format != "nft") continue;  // the JSON and HTML reports have every format
        o += "\nTO ALLOW WHAT WAS BLOCKED (nft; 'callwall report --format json' has the iptables lines too):\n";
        for (const auto& line : note_lines(a.text)) {
            o += "  ";
            o += line;
            o += "\n";
        }
    }
    char b[768];  // a gap line's two addresses, an other-flows line
    if (!d.vendor_gaps.empty()) {
        o += "\nCATALOG GAP: flows to a vendor's names on ports no requirement lists\n";
        for (const auto& u : d.vendor_gaps) {
            const facts::ShownFlow& f = u.flow;
            std::snprintf(b, sizeof b, "%s %s:%u -> %s:%u", f.transport.c_str(), f.client_ip.c_str(), f.client_port,
                          f.server_ip.c_str(), f.server_port);
            const std::string ends = "  " + text::pad(u.vendor, 10) + " " + b;
            const std::string what = u.name + "  " + (f.app.empty() ? "-" : f.app) + "  " + f.outcome;
            // Within the report's width: what the flow is goes on the next
            // line when the addresses leave no room for it.
            if (text::columns(ends) + 2 + text::columns(what) <= text::kWidth)
                o += ends + "  " + what + "\n";
            else
                o += ends + "\n" + std::string(13, ' ') + what + "\n";
        }
    }
    if (d.other_flows) {
        o += "\nother flows (no requirement explains them): " + std::to_string(d.other_flows) + "\n";
        for (const auto& s : d.other_summary) {
            std::snprintf(b, sizeof b, "  %6llu  %s/%u%s%s\n", static_cast<unsigned long long>(s.flows),
                          s.transport.c_str(), s.server_port, s.app.empty() ? "" : " ", s.app.c_str());
            o += b;
        }
    }
    return o;
}

std::string render_json(const ReportData& d) {
    using catalog::json_quote;
    const RunInfo& r = d.run;
    // Versioned: docs/report.schema.json describes this document; the version
    // changes when a field is removed or changes meaning (fields may be added).
    std::string o = "{\"schema_version\":" + std::to_string(kJsonSchemaVersion) + ",\"runs\":[{";
    o += "\"id\":" + std::to_string(r.id) + ",\"kind\":" + json_quote(r.kind) + ",\"source\":" + json_quote(r.source) +
         ",\"sources\":" + json_strings(r.sources) + ",\"status\":" + json_quote(r.status) +
         ",\"tool_version\":" + json_quote(r.tool_version) + ",\"catalog_digest\":" + json_quote(r.catalog_digest) +
         ",\"packets\":" + std::to_string(r.packets) + ",\"bytes\":" + std::to_string(r.bytes) +
         ",\"flows\":" + std::to_string(r.flows) + ",\"kernel_dropped\":" + std::to_string(r.kernel_dropped) +
         ",\"flows_evicted_full\":" + std::to_string(r.flows_evicted_full) +
         ",\"damaged_files\":" + std::to_string(r.damaged_files) +
         (r.origin.empty() ? std::string() : ",\"origin\":" + json_quote(r.origin)) + ",\"notes\":[";
    const auto notes = note_lines(r.notes);
    for (size_t i = 0; i < notes.size(); ++i) o += (i ? "," : "") + json_quote(notes[i]);
    o += "]";
    char b[64];
    std::snprintf(b, sizeof b, ",\"first_ts\":%.6f,\"last_ts\":%.6f", r.first_ts, r.last_ts);
    o += b;
    o += "}],\"verdicts\":[";
    bool first = true;
    for (const auto& v : d.verdicts) {
        o += first ? "{" : ",{";
        first = false;
        o += "\"entry_id\":" + json_quote(v.entry_id) + ",\"vendor\":" + json_quote(v.vendor) +
             ",\"edition\":" + json_quote(v.edition) + ",\"product\":" + json_quote(v.product) +
             ",\"service\":" + json_quote(v.service) + ",\"transport\":" + json_quote(v.transport) +
             ",\"ports\":" + json_ports(v.ports) + ",\"required\":" + (v.required ? "true" : "false") +
             ",\"verdict\":" + json_quote(v.verdict) + ",\"reasons\":[";
        for (size_t i = 0; i < v.reasons.size(); ++i) o += (i ? "," : "") + json_quote(v.reasons[i]);
        o += "],\"flows_observed\":" + std::to_string(v.flows_observed) +
             ",\"flows_blocked\":" + std::to_string(v.flows_blocked) +
             ",\"flows_inconclusive\":" + std::to_string(v.flows_inconclusive) + ",\"origin\":" + json_quote(v.origin) +
             ",\"why\":" + json_quote(v.why) + ",\"also_serves\":[";
        for (size_t i = 0; i < v.shared_with.size(); ++i) o += (i ? "," : "") + json_quote(v.shared_with[i]);
        // The evidence list is cut at kMaxEvidence flows: say how many more
        // matched flows the counts hold.
        const uint64_t counted = uint64_t{v.flows_observed} + v.flows_blocked + v.flows_inconclusive;
        o += "],\"evidence_more\":" + std::to_string(counted > v.evidence.size() ? counted - v.evidence.size() : 0);
        o += ",\"evidence\":[";
        for (size_t i = 0; i < v.evidence.size(); ++i) {
            const auto& e = v.evidence[i];
            o += (i ? ",{" : "{");
            o += "\"flow_id\":" + std::to_string(e.id) + ",\"transport\":" + json_quote(e.transport) +
                 ",\"client\":" + json_quote(e.client_ip + ":" + std::to_string(e.client_port)) +
                 ",\"server\":" + json_quote(e.server_ip + ":" + std::to_string(e.server_port));
            std::snprintf(b, sizeof b, ",\"first_ts\":%.6f,\"last_ts\":%.6f", e.first_ts, e.last_ts);
            o += b;
            o += ",\"packets_c2s\":" + std::to_string(e.packets_c2s) +
                 ",\"packets_s2c\":" + std::to_string(e.packets_s2c) + ",\"state\":" + json_quote(e.state) +
                 ",\"outcome\":" + json_quote(e.outcome) + ",\"app\":" + json_quote(e.app) + "," +
                 catalog::json_field("name", e.name) + ",\"name_source\":" + json_quote(e.name_source) +
                 ",\"evidence_kind\":" + json_quote(e.evidence_kind) + "}";
        }
        o += "]}";
    }
    o += "],\"products\":[";
    for (size_t i = 0; i < d.products.size(); ++i) {
        const auto& p = d.products[i];
        o += (i ? ",{" : "{");
        o += "\"vendor\":" + json_quote(p.vendor) + ",\"product\":" + json_quote(p.product) +
             ",\"edition\":" + json_quote(p.edition) + ",\"conclusion\":" + json_quote(p.conclusion) +
             ",\"detail\":" + json_quote(p.detail) + "}";
    }
    o += "],\"unmatched\":{\"vendor_flows\":[";
    for (size_t i = 0; i < d.vendor_gaps.size(); ++i) {
        const auto& u = d.vendor_gaps[i];
        const facts::ShownFlow& f = u.flow;
        o += (i ? ",{" : "{");
        o += "\"flow_id\":" + std::to_string(f.id) + ",\"vendor\":" + json_quote(u.vendor) + "," +
             catalog::json_field("name", u.name) + ",\"transport\":" + json_quote(f.transport) +
             ",\"server\":" + json_quote(f.server_ip + ":" + std::to_string(f.server_port)) +
             ",\"app\":" + json_quote(f.app) + ",\"outcome\":" + json_quote(f.outcome) + "}";
    }
    o += "],\"other_flows\":" + std::to_string(d.other_flows) + "}";
    if (!d.allow_lists.empty()) {
        o += ",\"allow_list\":{";
        for (size_t i = 0; i < d.allow_lists.size(); ++i)
            o += (i ? "," : "") + json_quote(d.allow_lists[i].format) + ":" + json_quote(d.allow_lists[i].text);
        o += "}";
    }
    o += "}\n";
    return o;
}

std::string render_csv(const ReportData& d) {
    std::string o =
        "run_id,entry_id,vendor,edition,product,service,transport,ports,destinations,required,conditions,verdict,reasons,"
        "flows_observed,flows_blocked,flows_inconclusive,ports_observed,ports_blocked,origin,why,source_file,source_section\n";
    for (const auto& v : d.verdicts) {
        // The verdict's reasons in its order (the verdict table holds them as a JSON array).
        const std::string reasons = reasons_joined(v);
        const std::string fields[] = {std::to_string(d.run.id),
                                      v.entry_id,
                                      v.vendor,
                                      v.edition,
                                      v.product,
                                      v.service,
                                      v.transport,
                                      v.ports,
                                      v.destinations,
                                      v.required ? "yes" : "no",
                                      v.conditions,
                                      v.verdict,
                                      reasons,
                                      std::to_string(v.flows_observed),
                                      std::to_string(v.flows_blocked),
                                      std::to_string(v.flows_inconclusive),
                                      v.ports_observed,
                                      v.ports_blocked,
                                      v.origin,
                                      v.why,
                                      v.source_file,
                                      v.source_section};
        bool first = true;
        for (const auto& f : fields) {
            o += (first ? "" : ",") + csv_field(f);
            first = false;
        }
        o += "\n";
    }
    return o;
}

}  // namespace callwall::report
