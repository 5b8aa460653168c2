// The report's reads: one run's results as report::ReportData. The text,
// JSON, CSV and HTML renderings (src/report) see no SQL. See
// store/report_reader.hpp.
#include "store/report_reader.hpp"

#include "store/conn.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

namespace callwall::store {

using report::EvidenceFlow;
using report::NoSuchRun;
using report::OtherFlowsSummary;
using report::ProductRow;
using report::ReportData;
using report::ReportOptions;
using report::UnmatchedVendorFlow;
using report::VerdictRow;
using report::kMaxEvidence;

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
void describe_status(ReadDb& db, const std::string& db_path, report::RunInfo& r) {
    if (r.status == "failed") {
        if (r.notes.find(kDiskFullNote) != std::string::npos) {
            r.status_detail = "this run " + std::string(kDiskFullNote);
        } else {
            r.status_detail = "this run failed";
            const auto at = r.notes.find("stopped: ");
            if (at != std::string::npos) r.status_detail += " (" + r.notes.substr(at, r.notes.find('\n', at) - at) + ")";
        }
        return;
    }
    if (r.status != "running") return;
    WriterId w;
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
    switch (writer_state(w)) {
        case WriterState::Alive:
            r.still_running = true;
            r.status_detail = "this run is still running (pid " + pid + ")";
            return;
        case WriterState::Gone: {
            r.status_detail = "this run never finished: the process was killed";
            const auto slash = db_path.find_last_of('/');
            const int64_t free = free_bytes(slash == std::string::npos ? "." : db_path.substr(0, slash + 1));
            if (free >= 0 && free < kNearlyFullBytes)
                r.status_detail += " or stopped on a full disk (the disk holding the database has " +
                                   std::to_string(free / 1024) + " KiB free)";
            return;
        }
        case WriterState::OtherBoot:
            r.status_detail = "this run never finished: its process (pid " + pid +
                              ") ran before a reboot or on another machine";
            return;
        case WriterState::Unknown:
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
        report::RunInfo& r = d.run;
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

ReportData load_report(const std::string& db_path, const ReportOptions& opt) {
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

ReportData load_report(Store& db, const ReportOptions& opt) {
    ReadDb reader(db.c_->db, db.path());
    return load_with(reader, db.path(), opt);
}

}  // namespace callwall::store
