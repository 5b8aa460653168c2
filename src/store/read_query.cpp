// Typed reads of a callwall database. See store/read_query.hpp.
#include "store/read_query.hpp"

#include <sys/stat.h>

#include <stdexcept>

#include "store/conn.hpp"
#include "store/ownership.hpp"
#include "store/read_open.hpp"
#include "store/store.hpp"

namespace callwall::store {
namespace {
sqlite3_stmt* stmt(void* st) { return static_cast<sqlite3_stmt*>(st); }
}  // namespace

ReadQuery::~ReadQuery() { sqlite3_finalize(stmt(st_)); }
bool ReadQuery::row() { return sqlite3_step(stmt(st_)) == SQLITE_ROW; }
void ReadQuery::reset() { sqlite3_reset(stmt(st_)); }
ReadQuery& ReadQuery::bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt(st_), i, v);
    return *this;
}
ReadQuery& ReadQuery::bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt(st_), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
std::string ReadQuery::text(int i) const { return std::string(text_view(i)); }
std::string_view ReadQuery::text_view(int i) const {
    // By its length: a name off the wire may hold a NUL, which the report
    // shows escaped instead of ending the name there.
    const auto* t = sqlite3_column_text(stmt(st_), i);
    return t ? std::string_view(reinterpret_cast<const char*>(t),
                                static_cast<size_t>(sqlite3_column_bytes(stmt(st_), i)))
             : std::string_view();
}
bool ReadQuery::is_null(int i) const { return sqlite3_column_type(stmt(st_), i) == SQLITE_NULL; }
int64_t ReadQuery::int64(int i) const { return sqlite3_column_int64(stmt(st_), i); }
int ReadQuery::integer(int i) const { return sqlite3_column_int(stmt(st_), i); }
double ReadQuery::real(int i) const { return sqlite3_column_double(stmt(st_), i); }
int ReadQuery::columns() const { return sqlite3_column_count(stmt(st_)); }
std::string ReadQuery::name(int i) const {
    const char* n = sqlite3_column_name(stmt(st_), i);
    return n ? n : "";
}
ReadQuery::Kind ReadQuery::kind(int i) const {
    switch (sqlite3_column_type(stmt(st_), i)) {
        case SQLITE_INTEGER: return Kind::Integer;
        case SQLITE_FLOAT: return Kind::Real;
        case SQLITE_NULL: return Kind::Null;
        default: return Kind::Text;  // text, or a blob read as its bytes
    }
}

ReadDb::ReadDb(Store& writer) : path_(writer.path()), owned_(false) {
    writer.sync_writes();
    db_ = writer.c_->db;
}

ReadDb::ReadDb(const std::string& path, ReadMode mode) : path_(path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": no such database");
    std::string why;
    db_ = open_reading(path, mode, &why);
    if (!db_) throw std::runtime_error(path + ": cannot open database: " + why);
    // A newer callwall's database is refused by every command, as Store::open
    // refuses it: its tables may mean what this callwall cannot read right.
    int version = 0;
    if (read_int(static_cast<sqlite3*>(db_), "PRAGMA user_version", version) == SQLITE_OK && version > kSchemaVersion) {
        sqlite3_close(static_cast<sqlite3*>(db_));
        db_ = nullptr;
        throw std::runtime_error(path + ": database schema version " + std::to_string(version) +
                                 " is newer than this callwall understands (" + std::to_string(kSchemaVersion) +
                                 "); use a newer callwall or another file");
    }
}

ReadDb::~ReadDb() {
    if (owned_) sqlite3_close(static_cast<sqlite3*>(db_));
}

bool ReadDb::can_read() { return first_read_ok(static_cast<sqlite3*>(db_)); }

ReadQuery ReadDb::prep(const char* sql) {
    auto* db = static_cast<sqlite3*>(db_);
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        if ((rc & 0xFF) == SQLITE_NOTADB) throw std::runtime_error(path_ + ": not a SQLite database");
        throw std::runtime_error(path_ + ": not a callwall database (or an older one): " + sqlite3_errmsg(db));
    }
    return ReadQuery(st);
}

std::string ReadDb::read_settled(const std::string& path, const std::function<void(ReadDb&)>& read) {
    // A closed database: read the file alone, then make sure no writer came
    // (and perhaps went) meanwhile; if one did, look again (store/read_open.hpp).
    for (int attempt = 0; attempt < 3; ++attempt) {
        const FileState before = file_state(path);
        if (!before.exists) throw std::runtime_error(path + ": no such database");
        if (before.wal) break;
        try {
            ReadDb db(path, ReadMode::Immutable);
            read(db);
            if (file_state(path) == before) return "";
        } catch (const std::runtime_error&) {
            if (file_state(path) == before) throw;
        }
    }
    {
        ReadDb db(path, ReadMode::ReadOnly);
        if (db.can_read()) {
            read(db);
            return "";
        }
    }
    ReadDb db(path, ReadMode::Immutable);
    read(db);
    return "read without " + path +
           "-wal (its -wal/-shm files cannot be opened here): the last commits of a running or killed run may be "
           "missing";
}

}  // namespace callwall::store
