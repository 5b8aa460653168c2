#include "store/statement.hpp"

namespace callwall::store {

void throw_sqlite(sqlite3* db, const std::string& path, int rc, std::string_view what) {
    std::string msg = path + ": ";
    if (!what.empty()) msg.append(what).append(": ");
    msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw StoreError((rc & 0xFF) == SQLITE_FULL ? StoreErrorKind::Full : StoreErrorKind::Other, msg);
}

Statement::Statement(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
    const int rc = sqlite3_prepare_v2(db_, sql, -1, &st_, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st_);  // NULL after a failed prepare; harmless
        throw_sqlite(db_, path_, rc, "");
    }
}

void Statement::check_bind(int rc, int i) {
    if (rc != SQLITE_OK) throw_sqlite(db_, path_, rc, "binding parameter " + std::to_string(i));
}

Statement& Statement::bind(int i, int64_t v) {
    check_bind(sqlite3_bind_int64(st_, i, v), i);
    return *this;
}

Statement& Statement::bind(int i, double v) {
    check_bind(sqlite3_bind_double(st_, i, v), i);
    return *this;
}

Statement& Statement::bind(int i, std::string_view v) {
    check_bind(sqlite3_bind_text(st_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT), i);
    return *this;
}

bool Statement::row(std::string_view what) {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(st_);
    if (rc != SQLITE_DONE) throw_sqlite(db_, path_, rc, what);
    return false;
}

void Statement::run(std::string_view what) {
    const int rc = sqlite3_step(st_);
    sqlite3_reset(st_);
    if (rc != SQLITE_DONE) throw_sqlite(db_, path_, rc, what);
}

std::string_view Statement::text(int col) const noexcept {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return t ? std::string_view(t, static_cast<size_t>(sqlite3_column_bytes(st_, col))) : std::string_view();
}

Transaction::Transaction(sqlite3* db, const std::string& path) : db_(db), path_(path) {
    const int rc = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db_, path_, rc, "beginning a transaction");
}

Transaction::~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit(std::string_view what) {
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) {
        open_ = false;
        return;
    }
    std::string msg = path_ + ": ";
    msg.append(what).append(": ").append(sqlite3_errmsg(db_));
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    open_ = false;
    throw StoreError(StoreErrorKind::Other, msg);
}

}  // namespace callwall::store
