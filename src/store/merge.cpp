// Copying the runs of another callwall database into this one (`callwall
// merge`: several sensors' databases in one). See store/whole_runs.hpp.
#include <sqlite3.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/conn.hpp"
#include "store/ownership.hpp"
#include "store/read_open.hpp"
#include "store/run_tables.hpp"
#include "store/schema.hpp"
#include "store/statement.hpp"
#include "store/whole_runs.hpp"

namespace callwall::store {
namespace {

struct CloseDb {
    void operator()(sqlite3* db) const noexcept { sqlite3_close(db); }
};
struct Finalize {
    void operator()(sqlite3_stmt* st) const noexcept { sqlite3_finalize(st); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;
using Stmt = std::unique_ptr<sqlite3_stmt, Finalize>;

[[noreturn]] void refuse(StoreErrorKind kind, const std::string& path, const std::string& why) {
    throw StoreError(kind, path + ": " + why);
}

Stmt prepare(sqlite3* db, const std::string& path, const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
        const std::string why = sqlite3_errmsg(db);
        sqlite3_finalize(st);
        refuse(StoreErrorKind::Other, path, "cannot read it: " + why);
    }
    return Stmt(st);
}

// The columns of `table` in a database, in order ("" when it has none).
std::vector<std::string> columns(sqlite3* db, const std::string& path, const std::string& table) {
    std::vector<std::string> out;
    Stmt st = prepare(db, path, "SELECT name FROM pragma_table_info('" + table + "')");
    while (sqlite3_step(st.get()) == SQLITE_ROW)
        out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)));
    return out;
}

// The source, opened as `report` opens a database (store/read_open.hpp), so
// that nothing is left beside it: in `mode`, and when mode=ro cannot open its
// -wal/-shm here (a read-only directory, another user's files) as immutable=1
// with `without_wal` set. Refused unless it is callwall's and no newer than
// this callwall. Its schema version into `version`.
Db open_source(const std::string& path, ReadMode mode, int& version, bool& without_wal) {
    std::string why;
    Db db(open_reading(path, mode, &why));
    without_wal = false;
    if (db && mode == ReadMode::ReadOnly && !first_read_ok(db.get())) {
        db.reset(open_reading(path, ReadMode::Immutable, &why));
        without_wal = true;
    }
    if (!db) refuse(StoreErrorKind::CannotOpen, path, "cannot open it: " + why);
    sqlite3* raw = db.get();
    int read_rc = SQLITE_OK;
    const FileContents c = read_contents(raw, read_rc);
    if ((read_rc & 0xFF) == SQLITE_NOTADB) refuse(StoreErrorKind::NotADatabase, path, "not a SQLite database");
    if (read_rc != SQLITE_OK)
        refuse(StoreErrorKind::CannotOpen, path, std::string("cannot read it: ") + sqlite3_errstr(read_rc));
    if (c.objects.empty()) refuse(StoreErrorKind::NotOurs, path, "an empty database: no runs to merge");
    if (const std::string why = not_ours_reason(c); !why.empty())
        refuse(StoreErrorKind::NotOurs, path, "not a callwall database (" + why + ")");
    if (c.user_version > kSchemaVersion)
        refuse(StoreErrorKind::NewerSchema, path,
               "database schema version " + std::to_string(c.user_version) +
                   " is newer than this callwall understands (" + std::to_string(kSchemaVersion) + ")");
    version = c.user_version;
    return db;
}

// Copies a table's rows of one source run into this database under the run's
// new id: the columns both have (an older source lacks some; they take their
// defaults), values as they are, the run id column `key` rewritten and our
// column `extra` (which the source may lack) set. Prepared once per table,
// used for every run.
class TableCopy {
public:
    TableCopy(sqlite3* src, const std::string& src_path, sqlite3* dst, const std::string& dst_path,
              const std::string& table, const std::string& key, const std::string& extra = "")
        : src_(src), dst_(dst), src_path_(src_path), dst_path_(dst_path), table_(table) {
        const std::vector<std::string> theirs = columns(src, src_path, table);
        if (theirs.empty()) return;  // a table the source's version did not have
        const std::vector<std::string> ours = columns(dst, dst_path, table);
        const std::set<std::string> have(ours.begin(), ours.end());
        std::string select, list, marks;
        for (const auto& c : theirs) {
            if (!have.count(c) || c == extra) continue;
            if (c == key) key_col_ = static_cast<int>(both_);
            select += (select.empty() ? "\"" : ", \"") + c + "\"";
            ++both_;
        }
        list = select;
        for (int i = 0; i < both_; ++i) marks += i ? ", ?" : "?";
        if (!extra.empty()) {
            list += ", \"" + extra + "\"";
            marks += ", ?";
        }
        read_ = prepare(src, src_path, "SELECT " + select + " FROM \"" + table + "\" WHERE \"" + key + "\" = ?1");
        write_ = prepare(dst, dst_path, "INSERT INTO \"" + table + "\" (" + list + ") VALUES (" + marks + ")");
    }

    /// Copies run `from`'s rows as run `to`'s; the number of rows.
    size_t copy(int64_t from, int64_t to, const std::string& extra_value = "") {
        if (!read_) return 0;
        sqlite3_reset(read_.get());
        sqlite3_bind_int64(read_.get(), 1, from);
        size_t n = 0;
        int rc = SQLITE_OK;
        while ((rc = sqlite3_step(read_.get())) == SQLITE_ROW) {
            for (int i = 0; i < both_; ++i) {
                if (i == key_col_)
                    sqlite3_bind_int64(write_.get(), i + 1, to);
                else
                    sqlite3_bind_value(write_.get(), i + 1, sqlite3_column_value(read_.get(), i));
            }
            if (sqlite3_bind_parameter_count(write_.get()) > both_)
                sqlite3_bind_text(write_.get(), both_ + 1, extra_value.c_str(), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(write_.get()) != SQLITE_DONE)
                refuse(StoreErrorKind::Other, dst_path_, "copying " + table_ + ": " + sqlite3_errmsg(dst_));
            sqlite3_reset(write_.get());
            ++n;
        }
        if (rc != SQLITE_DONE)
            refuse(StoreErrorKind::Other, src_path_, "reading " + table_ + ": " + sqlite3_errmsg(src_));
        return n;
    }

private:
    sqlite3* src_;
    sqlite3* dst_;
    std::string src_path_, dst_path_, table_;
    Stmt read_, write_;
    int both_ = 0;  ///< columns read from the source
    int key_col_ = -1;  ///< which of them is the run id
};

// merge_from's one attempt: reads the source in `mode` and copies its runs
// in one transaction, committed only if `unchanged()` still holds after the
// copy (else rolled back: false).
bool copy_runs(Store& into, const std::string& src_path, const std::string& origin, ReadMode mode,
               std::vector<MergedRun>& runs, bool* read_without_wal, const std::function<bool()>& unchanged);

}  // namespace

void check_merge_source(const std::string& src_path) {
    int version = 0;
    bool without_wal = false;
    open_source(src_path, file_state(src_path).wal ? ReadMode::ReadOnly : ReadMode::Immutable, version, without_wal);
}

std::vector<MergedRun> merge_from(Store& into, const std::string& src_path, const std::string& origin,
                                  bool* read_without_wal) {
    // A source without a -wal is read unlocked (immutable=1), then looked at
    // again: if a writer came meanwhile the copy is rolled back and made
    // again through SQLite's locks, as `report` does (read_open.hpp).
    for (int attempt = 0;; ++attempt) {
        const FileState before = file_state(src_path);
        const bool unlocked = !before.wal && attempt < 2;
        std::vector<MergedRun> runs;
        if (copy_runs(into, src_path, origin, unlocked ? ReadMode::Immutable : ReadMode::ReadOnly, runs,
                      read_without_wal, [&] { return !unlocked || file_state(src_path) == before; }))
            return runs;
    }
}

namespace {

bool copy_runs(Store& into, const std::string& src_path, const std::string& origin, ReadMode mode,
               std::vector<MergedRun>& runs, bool* read_without_wal, const std::function<bool()>& unchanged) {
    int version = 0;
    bool without_wal = false;
    Db src = open_source(src_path, mode, version, without_wal);
    if (read_without_wal) *read_without_wal = without_wal;
    // One read transaction: a capture still writing to the source adds rows
    // after this snapshot, not between the tables copied from it.
    if (sqlite3_exec(src.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
        refuse(StoreErrorKind::CannotOpen, src_path, std::string("cannot read it: ") + sqlite3_errmsg(src.get()));
    sqlite3* const db = WholeRunsAccess::committed(into);
    const std::string& path = into.path();
    {
        Stmt st = prepare(src.get(), src_path, "SELECT id, kind, source, status FROM run ORDER BY id");
        while (sqlite3_step(st.get()) == SQLITE_ROW) {
            MergedRun r;
            r.from_id = sqlite3_column_int64(st.get(), 0);
            const auto text = [&](int col) {
                const auto* t = sqlite3_column_text(st.get(), col);
                return std::string(t ? reinterpret_cast<const char*>(t) : "");
            };
            r.kind = text(1);
            r.source = text(2);
            r.status = text(3);
            runs.push_back(std::move(r));
        }
    }
    WholeRunsAccess::exec(into, "BEGIN IMMEDIATE");
    try {
        TableCopy run_row(src.get(), src_path, db, path, "run", "id", "origin");
        std::vector<TableCopy> children;
        for (const std::string_view table : kRunTables)
            children.emplace_back(src.get(), src_path, db, path, std::string(table), "run_id");
        for (auto& r : runs) {
            {
                Statement next(db, path, "SELECT coalesce(max(id), 0) + 1 FROM run");
                next.row("numbering a merged run");
                r.to_id = next.int64(0);
                next.reset();
            }
            // The run row first (the others reference it), saying where it came from.
            if (run_row.copy(r.from_id, r.to_id, origin + " run " + std::to_string(r.from_id)) != 1)
                refuse(StoreErrorKind::Other, src_path, "run " + std::to_string(r.from_id) + " vanished");
            for (auto& t : children) t.copy(r.from_id, r.to_id);
            if (version <= 2) {  // its verdict lists were comma-joined (see migrate)
                Statement up(db, path, (std::string(kVerdictListsToJson) + " AND run_id = ?").c_str());
                up.bind(1, r.to_id).run("rewriting a merged run's verdict lists");
            }
        }
        if (!unchanged()) {  // a writer came while the source was read unlocked
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            return false;
        }
        WholeRunsAccess::exec(into, "COMMIT");
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    into.create_reader_indexes();
    return true;
}

}  // namespace

}  // namespace callwall::store
