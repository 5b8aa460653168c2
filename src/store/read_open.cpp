// Opening a database to read it. See store/read_open.hpp.
#include "store/read_open.hpp"

#include "store/uri.hpp"

namespace callwall::store {

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

sqlite3* open_reading(const std::string& path, ReadMode mode, std::string* why) {
    sqlite3* db = nullptr;
    const std::string uri = uri_path(path) + (mode == ReadMode::Immutable ? "?immutable=1" : "?mode=ro");
    if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
        *why = sqlite3_errmsg(db);
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

bool first_read_ok(sqlite3* db) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    sqlite3_finalize(st);
    const int primary = rc & 0xFF;
    return !(primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_IOERR ||
             primary == SQLITE_PERM);
}

}  // namespace callwall::store
