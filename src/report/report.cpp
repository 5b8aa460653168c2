// Report loading and the text, JSON and CSV renderings. See report/report.hpp.
#include "callwall/report/report.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "callwall/catalog/catalog.hpp"
#include "callwall/store/store.hpp"

namespace callwall::report {
namespace {

// How `report` opens a database it reads. It never writes, and leaves
// nothing behind: SQLite's mode=ro still creates DB-wal and DB-shm beside a
// WAL database and leaves them (a read-only connection cannot remove them),
// owned by whoever ran the report, where they block the owner's next run.
//  - No DB-wal: every commit is in the file itself (the last writer closed
//    cleanly). It is read as immutable=1: no lock, no -wal, no -shm. A writer
//    that starts meanwhile shows in the file (size, mtime, inode) or a DB-wal
//    appearing; load() then reads it again through SQLite's locks.
//  - DB-wal exists (a writer is running, or was killed): mode=ro, which uses
//    the -wal and -shm already there. If even they cannot be opened (a
//    read-only directory, files of another user), immutable=1 reads what the
//    file holds without the commits still in the -wal, and says so.
enum class OpenMode { ReadOnly, Immutable };

std::string uri_path(const std::string& path) {
    std::string out = "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char b[4];
            std::snprintf(b, sizeof b, "%%%02X", static_cast<unsigned char>(c));
            out += b;
        } else {
            out += c;
        }
    }
    return out;
}

class ReadDb {
public:
    /// Borrows an open connection (the writer's, e.g. during a live capture).
    ReadDb(sqlite3* borrowed, const std::string& path) : path_(path), db_(borrowed), owned_(false) {}
    ReadDb(const std::string& path, OpenMode mode) : path_(path) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": no such database");
        const std::string uri = uri_path(path) + (mode == OpenMode::Immutable ? "?immutable=1" : "?mode=ro");
        if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK)
            throw std::runtime_error(path + ": cannot open database: " + sqlite3_errmsg(db_));
        sqlite3_busy_timeout(db_, 5000);
    }
    /// True when a first read works; false when SQLite cannot open or
    /// initialise the -wal/-shm files (read-only directory, another user's files).
    bool can_read() {
        sqlite3_stmt* st = nullptr;
        int rc = sqlite3_prepare_v2(db_, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        sqlite3_finalize(st);
        const int primary = rc & 0xFF;
        return !(primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_IOERR ||
                 primary == SQLITE_PERM);
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

namespace {
// What changes when a writer touches the database between two looks.
struct FileState {
    bool exists = false, wal = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    struct timespec mtime {};
    bool operator==(const FileState& o) const {
        return exists == o.exists && wal == o.wal && dev == o.dev && ino == o.ino && size == o.size &&
               mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
    }
};

FileState file_state(const std::string& path) {
    FileState f;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return f;
    f.exists = true;
    f.dev = st.st_dev;
    f.ino = st.st_ino;
    f.size = st.st_size;
    f.mtime = st.st_mtim;
    struct stat wal {};
    f.wal = ::lstat((path + "-wal").c_str(), &wal) == 0;
    return f;
}
}  // namespace

ReportData load(const std::string& db_path, const ReportOptions& opt) {
    // A closed database: read the file alone, then make sure no writer came
    // (and perhaps went) meanwhile; if one did, look again (see ReadDb).
    for (int attempt = 0; attempt < 3; ++attempt) {
        const FileState before = file_state(db_path);
        if (!before.exists) throw std::runtime_error(db_path + ": no such database");
        if (before.wal) break;
        try {
            ReadDb db(db_path, OpenMode::Immutable);
            ReportData d = load_with(db, db_path, opt);
            if (file_state(db_path) == before) return d;
        } catch (const std::runtime_error&) {
            if (file_state(db_path) == before) throw;
        }
    }
    {
        ReadDb db(db_path, OpenMode::ReadOnly);
        if (db.can_read()) return load_with(db, db_path, opt);
    }
    ReadDb db(db_path, OpenMode::Immutable);
    ReportData d = load_with(db, db_path, opt);
    d.read_warning = "read without " + db_path +
                     "-wal (its -wal/-shm files cannot be opened here): the last commits of a running or killed run "
                     "may be missing";
    return d;
}

ReportData load(sqlite3* connection, const std::string& db_path, const ReportOptions& opt) {
    ReadDb db(connection, db_path);
    return load_with(db, db_path, opt);
}

namespace {
// Free space on the file system holding `path`, in bytes (-1 unknown).
int64_t free_bytes(const std::string& path) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0) return -1;
    return static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
}

// Below this a database write is likely to have failed on a full disk.
constexpr int64_t kNearlyFullBytes = 1 << 20;

// Fills status_detail (see RunInfo) from the status, the notes and, for a
// run still marked running, whether its writer process is alive.
void describe_status(ReadDb& db, const std::string& db_path, RunInfo& r) {
    if (r.status == "failed") {
        if (r.notes.find(store::kDiskFullNote) != std::string::npos) {
            r.status_detail = "this run " + std::string(store::kDiskFullNote);
        } else {
            r.status_detail = "this run failed";
            const auto at = r.notes.find("stopped: ");
            if (at != std::string::npos) r.status_detail += " (" + r.notes.substr(at, r.notes.find('\n', at) - at) + ")";
        }
        return;
    }
    if (r.status != "running") return;
    store::WriterId w;
    // Version-1 databases (and read-only copies of them) lack the columns.
    sqlite3_stmt* has = db.prep("SELECT count(*) FROM pragma_table_info('run') WHERE name='writer_pid'");
    const bool recorded = sqlite3_step(has) == SQLITE_ROW && sqlite3_column_int(has, 0) > 0;
    sqlite3_finalize(has);
    if (recorded) {
        sqlite3_stmt* st = db.prep("SELECT coalesce(writer_pid,0), coalesce(writer_start,0), coalesce(writer_boot_id,'') "
                                   "FROM run WHERE id=" + std::to_string(r.id));
        if (sqlite3_step(st) == SQLITE_ROW) {
            w.pid = sqlite3_column_int64(st, 0);
            w.start_ticks = sqlite3_column_int64(st, 1);
            w.boot_id = text(st, 2);
        }
        sqlite3_finalize(st);
    }
    const std::string pid = std::to_string(w.pid);
    switch (store::writer_state(w)) {
        case store::WriterState::Alive:
            r.still_running = true;
            r.status_detail = "this run is still running (pid " + pid + ")";
            return;
        case store::WriterState::Gone: {
            r.status_detail = "this run never finished: the process was killed";
            const auto slash = db_path.find_last_of('/');
            const int64_t free = free_bytes(slash == std::string::npos ? "." : db_path.substr(0, slash + 1));
            if (free >= 0 && free < kNearlyFullBytes)
                r.status_detail += " or stopped on a full disk (the disk holding the database has " +
                                   std::to_string(free / 1024) + " KiB free)";
            return;
        }
        case store::WriterState::OtherBoot:
            r.status_detail = "this run never finished: its process (pid " + pid +
                              ") ran before a reboot or on another machine";
            return;
        case store::WriterState::Unknown:
            r.status_detail = "this run never finished (the process was killed, or is still running: the database "
                              "does not record which process wrote it)";
            return;
    }
}

// The runs a database holds, for a message: "runs 1-3", "runs 1, 4", "no runs".
std::string run_ids(ReadDb& db) {
    sqlite3_stmt* st = db.prep("SELECT id FROM run ORDER BY id");
    std::vector<int64_t> ids;
    while (sqlite3_step(st) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    if (ids.empty()) return "it holds no runs";
    if (ids.back() - ids.front() + 1 == static_cast<int64_t>(ids.size()))
        return ids.size() == 1 ? "it holds run " + std::to_string(ids[0])
                               : "it holds runs " + std::to_string(ids.front()) + "-" + std::to_string(ids.back());
    std::string s = "it holds runs";
    for (size_t i = 0; i < ids.size() && i < 20; ++i) s += (i ? ", " : " ") + std::to_string(ids[i]);
    return ids.size() > 20 ? s + ", ..." : s;
}

ReportData load_with(ReadDb& db, const std::string& db_path, const ReportOptions& opt) {
    ReportData d;
    d.db_path = db_path;
    {
        std::string sql =
            "SELECT id, kind, source, status, command_line, tool_version, coalesce(catalog_digest,''), notes, started_at, "
            "coalesce(ended_at,0), coalesce(first_ts,0), coalesce(last_ts,0), packets, bytes, truncated_packets, "
            "undecoded_packets, kernel_dropped, flows, flows_evicted_full, damaged_files FROM run ";
        sql += opt.run ? "WHERE id=" + std::to_string(*opt.run) : "ORDER BY id DESC LIMIT 1";
        sqlite3_stmt* st = db.prep(sql);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            if (opt.run) throw NoSuchRun(db_path + ": no run " + std::to_string(*opt.run) + " (" + run_ids(db) + ")");
            throw std::runtime_error(db_path + ": no runs recorded");
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
        r.flows_evicted_full = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        r.damaged_files = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
        sqlite3_finalize(st);
        describe_status(db, db_path, r);
        // Each input on its own (databases before run_source: the joined text, whole).
        sqlite3_stmt* t = db.prep("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='run_source'");
        const bool listed = sqlite3_step(t) == SQLITE_ROW && sqlite3_column_int(t, 0) > 0;
        sqlite3_finalize(t);
        if (listed) {
            sqlite3_stmt* q = db.prep("SELECT source FROM run_source WHERE run_id=" + std::to_string(r.id) + " ORDER BY position");
            while (sqlite3_step(q) == SQLITE_ROW) r.sources.push_back(text(q, 0));
            sqlite3_finalize(q);
        }
        if (r.sources.empty()) r.sources.push_back(r.source);
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

namespace {
// The text report fits a 100-column terminal: long sentences are wrapped
// under their first word, table rows are cut into columns that add up to it.
constexpr size_t kTextWidth = 100;

// `first` + text wrapped to kTextWidth, continuation lines indented by `indent` spaces.
std::string wrapped(const std::string& first, const std::string& text, size_t indent) {
    const size_t lead = std::max(first.size(), indent);
    const auto lines = wrap(text, kTextWidth > lead + 20 ? kTextWidth - lead : 20);
    std::string o = first + (lines.empty() ? "" : lines[0]) + "\n";
    for (size_t i = 1; i < lines.size(); ++i) o += std::string(indent, ' ') + lines[i] + "\n";
    return o;
}

// A table row without the padding after its last cell.
std::string trimmed(std::string row) {
    while (!row.empty() && row.back() == ' ') row.pop_back();
    return row + "\n";
}

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
}  // namespace

std::string render_text(const ReportData& d) {
    std::string o;
    const RunInfo& r = d.run;
    // Built by concatenation: a source naming many files has no length bound.
    o += "run " + std::to_string(r.id) + " (" + r.kind + ", " + r.status + "): " + r.source + "\n";
    o += "capture " + iso_time(r.first_ts) + " .. " + iso_time(r.last_ts) + ", " + std::to_string(r.packets) +
         " packets, " + std::to_string(r.flows) + " flows" +
         (r.kernel_dropped ? ", kernel dropped " + std::to_string(r.kernel_dropped) : std::string()) + "\n";
    if (!d.read_warning.empty()) o += "WARNING: " + d.read_warning + "\n";
    if (r.still_running) o += "note: " + r.status_detail + "; results so far are partial\n";
    else if (!r.status_detail.empty()) o += "WARNING: " + r.status_detail + "; results are partial\n";
    else if (r.status == "running") o += "WARNING: this run never finished; results are partial\n";
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
    o += wrapped("", "assumes the capture point is between the clients and the firewall; outside it, 'not exercised' is "
                     "the honest word", 0);
    if (d.verdicts.empty() && d.products.empty()) {
        o += "\nno vendor traffic recognised in this run (use --vendor NAME to list a vendor's requirements anyway)\n";
    }
    // Group rows by vendor / edition / product; a product with nothing
    // exercised is one line (its requirements are in `--format json|csv`).
    // 2 + 30 + 1 + 16 + 1 + 13 + 1 + 36 = kTextWidth.
    constexpr size_t kService = 30, kPorts = 16, kVerdict = 13, kWhy = kTextWidth - 2 - kService - kPorts - kVerdict - 3;
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
                o += wrapped("  => ", p.conclusion + ": " + p.detail, 5);
        o += "  " + pad("service", kService) + " " + pad("ports", kPorts) + " " + pad("verdict", kVerdict) + " why\n";
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
                o += trimmed("  " + pad(k < svc.size() ? svc[k] : "", kService) + " " +
                             pad(k < ports.size() ? ports[k] : "", kPorts) + " " +
                             pad(k == 0 ? upper_verdict(v.verdict) : "", kVerdict) + " " + (k < whyl.size() ? whyl[k] : ""));
            }
        }
    }
    if (!quiet_products.empty()) {
        o += "\nnot exercised (no traffic for them in this capture):\n";
        for (const auto& q : quiet_products) o += "  " + q + "\n";
    }
    for (const auto& p : d.products) {
        if (p.conclusion != "cannot be allow-listed") continue;
        o += "\n" + wrapped("", p.vendor + (p.edition.empty() ? "" : " " + p.edition) + " — " + p.product +
                                     ": cannot be allow-listed (" + p.detail + ")", 2);
    }
    char b[768];  // a gap line: two addresses and a name (at most 253 bytes, RFC 1035)
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
    o += "\"id\":" + std::to_string(r.id) + ",\"kind\":" + json_quote(r.kind) + ",\"source\":" + json_quote(r.source) + ",\"sources\":" + json_strings(r.sources) +
         ",\"status\":" + json_quote(r.status) + ",\"tool_version\":" + json_quote(r.tool_version) +
         ",\"catalog_digest\":" + json_quote(r.catalog_digest) + ",\"packets\":" + std::to_string(r.packets) +
         ",\"bytes\":" + std::to_string(r.bytes) + ",\"flows\":" + std::to_string(r.flows) +
         ",\"kernel_dropped\":" + std::to_string(r.kernel_dropped) +
         ",\"flows_evicted_full\":" + std::to_string(r.flows_evicted_full) +
         ",\"damaged_files\":" + std::to_string(r.damaged_files) + ",\"notes\":[";
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
        for (const auto& r : v.reasons) reasons += (reasons.empty() ? "" : ",") + r;  // as in the verdict table
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
