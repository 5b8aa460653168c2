// Report loading and the text, JSON and CSV renderings. See report/report.hpp.
#include "callwall/report/report.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "callwall/catalog/catalog.hpp"

namespace callwall::report {
namespace {

class ReadDb {
public:
    /// Borrows an open connection (the writer's, e.g. during a live capture).
    ReadDb(sqlite3* borrowed, const std::string& path) : path_(path), db_(borrowed), owned_(false) {}
    explicit ReadDb(const std::string& path) : path_(path) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": no such database");
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
            throw std::runtime_error(path + ": cannot open database: " + sqlite3_errmsg(db_));
        sqlite3_busy_timeout(db_, 5000);
    }
    ~ReadDb() {
        if (owned_) sqlite3_close(db_);
    }
    sqlite3_stmt* prep(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
        if (rc != SQLITE_OK) {
            if ((rc & 0xFF) == SQLITE_NOTADB) throw std::runtime_error(path_ + ": not a SQLite database");
            throw std::runtime_error(path_ + ": not a callwall database (or an older one): " + sqlite3_errmsg(db_));
        }
        return st;
    }

private:
    std::string path_;
    sqlite3* db_ = nullptr;
    bool owned_ = true;
};

ReportData load_with(ReadDb& db, const std::string& db_path, const ReportOptions& opt);

std::string text(sqlite3_stmt* st, int i) {
    const auto* t = sqlite3_column_text(st, i);
    return t ? reinterpret_cast<const char*>(t) : "";
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

std::string iso_time(double ts) {
    if (ts <= 0) return "-";
    const time_t t = static_cast<time_t>(ts);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char b[40];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", b, static_cast<int>((ts - static_cast<double>(t)) * 1000));
    return out;
}

std::string upper_verdict(const std::string& v) {
    if (v == "not_exercised") return "not exercised";
    return v;
}

// Word-wraps `s` into lines of at most `width` characters.
std::vector<std::string> wrap(const std::string& s, size_t width) {
    std::vector<std::string> lines;
    std::string line;
    std::istringstream in(s);
    std::string word;
    while (in >> word) {
        while (word.size() > width) {
            if (!line.empty()) {
                lines.push_back(line);
                line.clear();
            }
            lines.push_back(word.substr(0, width));
            word = word.substr(width);
        }
        if (line.empty()) line = word;
        else if (line.size() + 1 + word.size() <= width) line += " " + word;
        else {
            lines.push_back(line);
            line = word;
        }
    }
    if (!line.empty()) lines.push_back(line);
    if (lines.empty()) lines.push_back("");
    return lines;
}

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
}

std::string json_ports(const std::string& ports) {
    std::string o = "[";
    bool first = true;
    for (const auto& part : split(ports, ',')) {
        const auto dash = part.find('-');
        const std::string lo = dash == std::string::npos ? part : part.substr(0, dash);
        const std::string hi = dash == std::string::npos ? part : part.substr(dash + 1);
        o += (first ? "" : ",") + std::string("[") + lo + "," + hi + "]";
        first = false;
    }
    return o + "]";
}

}  // namespace

ReportData load(const std::string& db_path, const ReportOptions& opt) {
    ReadDb db(db_path);
    return load_with(db, db_path, opt);
}

ReportData load(sqlite3* connection, const std::string& db_path, const ReportOptions& opt) {
    ReadDb db(connection, db_path);
    return load_with(db, db_path, opt);
}

namespace {
ReportData load_with(ReadDb& db, const std::string& db_path, const ReportOptions& opt) {
    ReportData d;
    d.db_path = db_path;
    {
        std::string sql =
            "SELECT id, kind, source, status, command_line, tool_version, coalesce(catalog_digest,''), notes, started_at, "
            "coalesce(ended_at,0), coalesce(first_ts,0), coalesce(last_ts,0), packets, bytes, truncated_packets, "
            "undecoded_packets, kernel_dropped, flows FROM run ";
        sql += opt.run ? "WHERE id=" + std::to_string(*opt.run) : "ORDER BY id DESC LIMIT 1";
        sqlite3_stmt* st = db.prep(sql);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            throw std::runtime_error(db_path + (opt.run ? ": no run " + std::to_string(*opt.run) : ": no runs recorded"));
        }
        RunInfo& r = d.run;
        int i = 0;
        r.id = sqlite3_column_int64(st, i++);
        r.kind = text(st, i++);
        r.source = text(st, i++);
        r.status = text(st, i++);
        r.command_line = text(st, i++);
        r.tool_version = text(st, i++);
        r.catalog_digest = text(st, i++);
        r.notes = text(st, i++);
        r.started_at = sqlite3_column_double(st, i++);
        r.ended_at = sqlite3_column_double(st, i++);
        r.first_ts = sqlite3_column_double(st, i++);
        r.last_ts = sqlite3_column_double(st, i++);
        r.packets = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        r.bytes = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        r.truncated_packets = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        r.undecoded_packets = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        r.kernel_dropped = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        r.flows = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        sqlite3_finalize(st);
    }
    const std::string run = std::to_string(d.run.id);
    // Vendors to show.
    std::set<std::string> vendors(opt.vendors.begin(), opt.vendors.end());
    std::set<std::string> vendors_lower;
    for (auto v : vendors) {
        for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        vendors_lower.insert(v);
    }
    auto vendor_wanted = [&](std::string v, bool seen) {
        if (opt.all_entries) return true;
        if (vendors_lower.empty()) return seen;
        for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return vendors_lower.count(v) > 0;
    };
    std::set<std::string> seen;
    {
        sqlite3_stmt* st = db.prep("SELECT vendor, product, edition, conclusion, detail FROM product_verdict WHERE run_id=" + run +
                                   " ORDER BY vendor, edition DESC, product");
        std::vector<ProductRow> all;
        while (sqlite3_step(st) == SQLITE_ROW) {
            all.push_back(ProductRow{text(st, 0), text(st, 1), text(st, 2), text(st, 3), text(st, 4)});
            seen.insert(all.back().vendor);
        }
        sqlite3_finalize(st);
        for (auto& p : all)
            if (vendor_wanted(p.vendor, true)) d.products.push_back(p);
    }
    {
        sqlite3_stmt* st = db.prep(
            "SELECT entry_id, vendor, edition, product, service, transport, ports, destinations, conditions, required, "
            "verdict, reasons, flows_observed, flows_blocked, flows_inconclusive, ports_observed, ports_blocked, origin, "
            "why, evidence_flows, (SELECT source_file FROM catalog_entry c WHERE c.run_id=s.run_id AND c.entry_id=s.entry_id), "
            "(SELECT source_section FROM catalog_entry c WHERE c.run_id=s.run_id AND c.entry_id=s.entry_id) "
            "FROM verdict_summary s WHERE run_id=" + run + " ORDER BY vendor, edition DESC, product, entry_id");
        while (sqlite3_step(st) == SQLITE_ROW) {
            VerdictRow v;
            int i = 0;
            v.entry_id = text(st, i++);
            v.vendor = text(st, i++);
            v.edition = text(st, i++);
            v.product = text(st, i++);
            v.service = text(st, i++);
            v.transport = text(st, i++);
            v.ports = text(st, i++);
            v.destinations = text(st, i++);
            v.conditions = text(st, i++);
            v.required = sqlite3_column_int(st, i++) != 0;
            v.verdict = text(st, i++);
            v.reasons = split(text(st, i++), ',');
            v.flows_observed = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            v.flows_blocked = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            v.flows_inconclusive = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            v.ports_observed = text(st, i++);
            v.ports_blocked = text(st, i++);
            v.origin = text(st, i++);
            v.why = text(st, i++);
            const auto ids = split(text(st, i++), ',');
            v.source_file = text(st, i++);
            v.source_section = text(st, i++);
            if (!vendor_wanted(v.vendor, seen.count(v.vendor) > 0)) continue;
            // Evidence flows.
            for (size_t k = 0; k < ids.size() && k < kMaxEvidence; ++k) {
                sqlite3_stmt* fe = db.prep(
                    "SELECT f.id, f.transport, f.client_ip, f.client_port, f.server_ip, f.server_port, f.first_ts, f.last_ts, "
                    "f.packets_c2s, f.packets_s2c, f.state, f.outcome, f.app, f.name, f.name_source, coalesce(m.evidence,''), "
                    "coalesce(f.icmp_type,-1), coalesce(f.icmp_code,-1), coalesce(f.icmp_from,'') FROM flow f "
                    "LEFT JOIN flow_match m ON m.run_id=f.run_id AND m.flow_id=f.id AND m.entry_id=? "
                    "WHERE f.run_id=" + run + " AND f.id=" + ids[k]);
                sqlite3_bind_text(fe, 1, v.entry_id.c_str(), -1, SQLITE_TRANSIENT);
                if (sqlite3_step(fe) == SQLITE_ROW) {
                    EvidenceFlow e;
                    int j = 0;
                    e.flow_id = static_cast<uint64_t>(sqlite3_column_int64(fe, j++));
                    e.transport = text(fe, j++);
                    e.client_ip = text(fe, j++);
                    e.client_port = static_cast<uint16_t>(sqlite3_column_int(fe, j++));
                    e.server_ip = text(fe, j++);
                    e.server_port = static_cast<uint16_t>(sqlite3_column_int(fe, j++));
                    e.first_ts = sqlite3_column_double(fe, j++);
                    e.last_ts = sqlite3_column_double(fe, j++);
                    e.packets_c2s = static_cast<uint64_t>(sqlite3_column_int64(fe, j++));
                    e.packets_s2c = static_cast<uint64_t>(sqlite3_column_int64(fe, j++));
                    e.state = text(fe, j++);
                    e.outcome = text(fe, j++);
                    e.app = text(fe, j++);
                    e.name = text(fe, j++);
                    e.name_source = text(fe, j++);
                    e.evidence_kind = text(fe, j++);
                    e.icmp_type = sqlite3_column_int(fe, j++);
                    e.icmp_code = sqlite3_column_int(fe, j++);
                    e.icmp_from = text(fe, j++);
                    v.evidence.push_back(e);
                }
                sqlite3_finalize(fe);
            }
            d.verdicts.push_back(std::move(v));
        }
        sqlite3_finalize(st);
    }
    // Overlaps: other entries counted on the same flows.
    {
        sqlite3_stmt* st = db.prep(
            "SELECT DISTINCT a.entry_id, b.entry_id FROM flow_match a JOIN flow_match b ON a.run_id=b.run_id AND "
            "a.flow_id=b.flow_id AND a.entry_id<>b.entry_id WHERE a.run_id=" + run + " AND a.counted=1 AND b.counted=1 "
            "ORDER BY 1, 2");
        std::map<std::string, std::vector<std::string>> shared;
        while (sqlite3_step(st) == SQLITE_ROW) shared[text(st, 0)].push_back(text(st, 1));
        sqlite3_finalize(st);
        for (auto& v : d.verdicts) {
            auto it = shared.find(v.entry_id);
            if (it != shared.end()) v.shared_with = it->second;
        }
    }
    {
        sqlite3_stmt* st = db.prep(
            "SELECT flow_id, vendor, name, transport, client_ip, client_port, server_ip, server_port, app, outcome "
            "FROM unmatched_vendor_flows WHERE run_id=" + run + " ORDER BY vendor, flow_id");
        while (sqlite3_step(st) == SQLITE_ROW) {
            UnmatchedVendorFlow u;
            u.flow_id = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
            u.vendor = text(st, 1);
            u.name = text(st, 2);
            u.transport = text(st, 3);
            u.client_ip = text(st, 4);
            u.client_port = static_cast<uint16_t>(sqlite3_column_int(st, 5));
            u.server_ip = text(st, 6);
            u.server_port = static_cast<uint16_t>(sqlite3_column_int(st, 7));
            u.app = text(st, 8);
            u.outcome = text(st, 9);
            if (vendor_wanted(u.vendor, true)) d.vendor_gaps.push_back(u);
        }
        sqlite3_finalize(st);
    }
    {
        const std::string unmatched =
            "FROM flow f WHERE f.run_id=" + run + " AND f.transport IN ('tcp','udp') AND NOT EXISTS (SELECT 1 FROM "
            "flow_match m WHERE m.run_id=f.run_id AND m.flow_id=f.id AND m.counted=1) AND NOT EXISTS (SELECT 1 FROM "
            "unmatched_flow u WHERE u.run_id=f.run_id AND u.flow_id=f.id)";
        sqlite3_stmt* st = db.prep("SELECT count(*) " + unmatched);
        if (sqlite3_step(st) == SQLITE_ROW) d.other_flows = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
        st = db.prep("SELECT transport, app, server_port, count(*) AS n " + unmatched +
                     " GROUP BY 1, 2, 3 ORDER BY n DESC, 1, 2, 3 LIMIT 12");
        while (sqlite3_step(st) == SQLITE_ROW)
            d.other_summary.push_back(OtherFlowsSummary{text(st, 0), text(st, 1),
                                                        static_cast<uint16_t>(sqlite3_column_int(st, 2)),
                                                        static_cast<uint64_t>(sqlite3_column_int64(st, 3))});
        sqlite3_finalize(st);
    }
    return d;
}
}  // namespace

std::string render_text(const ReportData& d) {
    std::string o;
    char b[512];
    const RunInfo& r = d.run;
    std::snprintf(b, sizeof b, "run %lld (%s, %s): %s\n", static_cast<long long>(r.id), r.kind.c_str(), r.status.c_str(),
                  r.source.c_str());
    o += b;
    std::snprintf(b, sizeof b, "capture %s .. %s, %llu packets, %llu flows%s\n", iso_time(r.first_ts).c_str(),
                  iso_time(r.last_ts).c_str(), static_cast<unsigned long long>(r.packets),
                  static_cast<unsigned long long>(r.flows),
                  r.kernel_dropped ? (", kernel dropped " + std::to_string(r.kernel_dropped)).c_str() : "");
    o += b;
    if (r.status == "running") o += "WARNING: this run never finished (the process was killed); results are partial\n";
    if (r.status == "interrupted") o += "note: the run was interrupted; results cover the packets seen until then\n";
    o += "assumes the capture point is between the clients and the firewall; outside it, 'not exercised' is the honest word\n";
    if (d.verdicts.empty() && d.products.empty()) {
        o += "\nno vendor traffic recognised in this run (use --vendor NAME to list a vendor's requirements anyway)\n";
    }
    // Group rows by vendor / edition / product; a product with nothing
    // exercised is one line (its requirements are in `--format json|csv`).
    constexpr size_t kService = 34, kPorts = 22, kVerdict = 14, kWhy = 60;
    std::vector<std::string> quiet_products;
    for (size_t i = 0; i < d.verdicts.size();) {
        const auto& first = d.verdicts[i];
        size_t j = i;
        bool exercised = false;
        while (j < d.verdicts.size() && d.verdicts[j].vendor == first.vendor && d.verdicts[j].edition == first.edition &&
               d.verdicts[j].product == first.product) {
            exercised |= d.verdicts[j].verdict != "not_exercised";
            ++j;
        }
        const std::string g = first.vendor + (first.edition.empty() ? "" : " " + first.edition) + " — " + first.product;
        if (!exercised) {
            quiet_products.push_back(g);
            i = j;
            continue;
        }
        o += "\n" + g + "\n";
        for (const auto& p : d.products)
            if (p.vendor == first.vendor && p.product == first.product && p.edition == first.edition)
                o += "  => " + p.conclusion + ": " + p.detail + "\n";
        o += "  " + pad("service", kService) + " " + pad("transport/ports", kPorts) + " " + pad("verdict", kVerdict) + " why\n";
        for (; i < j; ++i) {
            const auto& v = d.verdicts[i];
            auto svc = wrap(v.service + (v.required ? "" : " (optional)"), kService);
            std::string ports_spaced = v.transport + " ";
            for (char c : v.ports) ports_spaced += c == ',' ? std::string(", ") : std::string(1, c);
            auto ports = wrap(ports_spaced, kPorts);
            std::string why = v.why;
            if (!v.reasons.empty()) {
                std::string rs;
                for (const auto& x : v.reasons) rs += (rs.empty() ? "" : ",") + x;
                why = "[" + rs + "] " + why;
            }
            if (!v.origin.empty()) why += "; likely origin: " + v.origin;
            if (!v.conditions.empty() && v.conditions != "-") why += " (if " + v.conditions + ")";
            if (!v.shared_with.empty()) {
                std::string sw;
                for (const auto& x : v.shared_with) sw += (sw.empty() ? "" : ", ") + x;
                why += "; same flows also serve " + sw;
            }
            auto whyl = wrap(why, kWhy);
            const size_t n = std::max({svc.size(), ports.size(), whyl.size()});
            for (size_t k = 0; k < n; ++k) {
                o += "  " + pad(k < svc.size() ? svc[k] : "", kService) + " " + pad(k < ports.size() ? ports[k] : "", kPorts) +
                     " " + pad(k == 0 ? upper_verdict(v.verdict) : "", kVerdict) + " " + (k < whyl.size() ? whyl[k] : "") + "\n";
            }
        }
    }
    if (!quiet_products.empty()) {
        o += "\nnot exercised (no traffic for them in this capture):\n";
        for (const auto& q : quiet_products) o += "  " + q + "\n";
    }
    for (const auto& p : d.products) {
        if (p.conclusion != "cannot be allow-listed") continue;
        o += "\n" + p.vendor + (p.edition.empty() ? "" : " " + p.edition) + " — " + p.product +
             ": cannot be allow-listed (" + p.detail + ")\n";
    }
    if (!d.vendor_gaps.empty()) {
        o += "\nCATALOG GAP: flows to a vendor's names on ports no requirement lists\n";
        for (const auto& u : d.vendor_gaps) {
            std::snprintf(b, sizeof b, "  %-10s %s %s:%u -> %s:%u  %s  %s  %s\n", u.vendor.c_str(), u.transport.c_str(),
                          u.client_ip.c_str(), u.client_port, u.server_ip.c_str(), u.server_port, u.name.c_str(),
                          u.app.empty() ? "-" : u.app.c_str(), u.outcome.c_str());
            o += b;
        }
    }
    if (d.other_flows) {
        o += "\nother flows (no requirement explains them): " + std::to_string(d.other_flows) + "\n";
        for (const auto& s : d.other_summary) {
            std::snprintf(b, sizeof b, "  %6llu  %s/%u %s\n", static_cast<unsigned long long>(s.flows),
                          s.transport.c_str(), s.server_port, s.app.empty() ? "" : s.app.c_str());
            o += b;
        }
    }
    return o;
}

std::string render_json(const ReportData& d) {
    using catalog::json_quote;
    const RunInfo& r = d.run;
    std::string o = "{\"runs\":[{";
    o += "\"id\":" + std::to_string(r.id) + ",\"kind\":" + json_quote(r.kind) + ",\"source\":" + json_quote(r.source) +
         ",\"status\":" + json_quote(r.status) + ",\"tool_version\":" + json_quote(r.tool_version) +
         ",\"catalog_digest\":" + json_quote(r.catalog_digest) + ",\"packets\":" + std::to_string(r.packets) +
         ",\"bytes\":" + std::to_string(r.bytes) + ",\"flows\":" + std::to_string(r.flows) +
         ",\"kernel_dropped\":" + std::to_string(r.kernel_dropped);
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
        o += "],\"evidence\":[";
        for (size_t i = 0; i < v.evidence.size(); ++i) {
            const auto& e = v.evidence[i];
            o += (i ? ",{" : "{");
            o += "\"flow_id\":" + std::to_string(e.flow_id) + ",\"transport\":" + json_quote(e.transport) +
                 ",\"client\":" + json_quote(e.client_ip + ":" + std::to_string(e.client_port)) +
                 ",\"server\":" + json_quote(e.server_ip + ":" + std::to_string(e.server_port));
            std::snprintf(b, sizeof b, ",\"first_ts\":%.6f,\"last_ts\":%.6f", e.first_ts, e.last_ts);
            o += b;
            o += ",\"packets_c2s\":" + std::to_string(e.packets_c2s) + ",\"packets_s2c\":" + std::to_string(e.packets_s2c) +
                 ",\"state\":" + json_quote(e.state) + ",\"outcome\":" + json_quote(e.outcome) +
                 ",\"app\":" + json_quote(e.app) + ",\"name\":" + json_quote(e.name) +
                 ",\"name_source\":" + json_quote(e.name_source) + ",\"evidence_kind\":" + json_quote(e.evidence_kind) + "}";
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
        o += (i ? ",{" : "{");
        o += "\"flow_id\":" + std::to_string(u.flow_id) + ",\"vendor\":" + json_quote(u.vendor) +
             ",\"name\":" + json_quote(u.name) + ",\"transport\":" + json_quote(u.transport) +
             ",\"server\":" + json_quote(u.server_ip + ":" + std::to_string(u.server_port)) +
             ",\"app\":" + json_quote(u.app) + ",\"outcome\":" + json_quote(u.outcome) + "}";
    }
    o += "],\"other_flows\":" + std::to_string(d.other_flows) + "}}\n";
    return o;
}

std::string render_csv(const ReportData& d) {
    std::string o =
        "run_id,entry_id,vendor,edition,product,service,transport,ports,destinations,required,conditions,verdict,reasons,"
        "flows_observed,flows_blocked,flows_inconclusive,ports_observed,ports_blocked,origin,why,source_file,source_section\n";
    for (const auto& v : d.verdicts) {
        std::string reasons;
        for (const auto& r : v.reasons) reasons += (reasons.empty() ? "" : ";") + r;
        const std::string fields[] = {std::to_string(d.run.id), v.entry_id, v.vendor, v.edition, v.product, v.service,
                                      v.transport, v.ports, v.destinations, v.required ? "yes" : "no", v.conditions,
                                      v.verdict, reasons, std::to_string(v.flows_observed),
                                      std::to_string(v.flows_blocked), std::to_string(v.flows_inconclusive),
                                      v.ports_observed, v.ports_blocked, v.origin, v.why, v.source_file, v.source_section};
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
