// Private to the store module: one prepared statement that finalises itself,
// and a transaction guard whose BEGIN is checked and which rolls back unless
// committed. Every bind and step is checked; a failure throws StoreError
// naming the database path and what was being done.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "store/store.hpp"

namespace callwall::store {

/// Throws the StoreError for `rc` (Full for a full disk, else Other):
/// "PATH: WHAT: sqlite's message".
[[noreturn]] void throw_sqlite(sqlite3* db, const std::string& path, int rc, std::string_view what);

class Statement {
public:
    /// Prepares `sql`; throws StoreError when it does not compile.
    Statement(sqlite3* db, const std::string& path, const char* sql);
    ~Statement() { sqlite3_finalize(st_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    /// Binds parameter `i` (1-based). Text is copied (SQLITE_TRANSIENT).
    Statement& bind(int i, int64_t v);
    Statement& bind(int i, uint64_t v) { return bind(i, static_cast<int64_t>(v)); }
    Statement& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
    Statement& bind(int i, uint32_t v) { return bind(i, static_cast<int64_t>(v)); }
    Statement& bind(int i, double v);
    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    /// NULL for nullopt.
    template <class T>
    Statement& bind(int i, const std::optional<T>& v) {
        if (v) return bind(i, *v);
        check_bind(sqlite3_bind_null(st_, i), i);
        return *this;
    }
    /// A record (records/record.hpp) after run_id, as its insert_sql() takes
    /// them, from parameter `first` on (a later row of a many-row INSERT).
    template <class Record>
    Statement& bind_record(int64_t run_id, const Record& r, int first = 1) {
        bind(first, run_id);
        int i = first + 1;
        std::apply([&](const auto&... values) { (bind(i++, values), ...); }, r.values());
        return *this;
    }

    /// Steps a query: true with a row to read, false when done (the statement
    /// is then reset for another use). Throws on an error.
    bool row(std::string_view what = "reading");
    /// Steps a statement that returns no rows, then resets it (bindings kept
    /// until rebound). Throws StoreError naming `what` on anything but DONE.
    void run(std::string_view what);
    /// Resets after an abandoned query (rows left unread).
    void reset() noexcept { sqlite3_reset(st_); }

    [[nodiscard]] int64_t int64(int col) const noexcept { return sqlite3_column_int64(st_, col); }
    [[nodiscard]] int integer(int col) const noexcept { return sqlite3_column_int(st_, col); }
    [[nodiscard]] double real(int col) const noexcept { return sqlite3_column_double(st_, col); }
    /// Text of a column ("" for NULL), valid until the next step or reset.
    [[nodiscard]] std::string_view text(int col) const noexcept;

private:
    void check_bind(int rc, int i);

    sqlite3* db_;
    const std::string& path_;
    sqlite3_stmt* st_ = nullptr;
};

/// BEGIN in the constructor (checked); ROLLBACK in the destructor unless
/// commit() succeeded.
class Transaction {
public:
    Transaction(sqlite3* db, const std::string& path);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    /// COMMIT; on failure rolls back and throws StoreError naming `what`.
    void commit(std::string_view what);

private:
    sqlite3* db_;
    const std::string& path_;
    bool open_ = true;
};

}  // namespace callwall::store
