// Reading a callwall database through typed statements, SQLite's API kept
// inside the store: what `report` reads (report/load.cpp), from a database
// file (read-only, leaving nothing behind: store/read_open.hpp) or through
// the writer's own connection (a live capture's view).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace callwall::store {

class Store;
enum class ReadMode;  // store/read_open.hpp

/// One prepared statement, read row by row, finalised when it goes. A read
/// error ends the rows: a report shows what could be read.
class ReadQuery {
public:
    ReadQuery(ReadQuery&& o) noexcept : st_(o.st_) { o.st_ = nullptr; }
    ReadQuery& operator=(ReadQuery&&) = delete;
    ReadQuery(const ReadQuery&) = delete;
    ReadQuery& operator=(const ReadQuery&) = delete;
    ~ReadQuery();
    /// The next row; false at the end (or on a read error).
    bool row();
    void reset();
    ReadQuery& bind(int i, int64_t v);
    ReadQuery& bind(int i, const std::string& v);
    /// The column's text, all of its bytes (a NUL included; "" for NULL).
    [[nodiscard]] std::string text(int i) const;
    /// The same without a copy: valid until the next row() or reset().
    [[nodiscard]] std::string_view text_view(int i) const;
    /// The column is NULL.
    [[nodiscard]] bool is_null(int i) const;
    [[nodiscard]] int64_t int64(int i) const;
    [[nodiscard]] uint64_t u64(int i) const { return static_cast<uint64_t>(int64(i)); }
    [[nodiscard]] int integer(int i) const;
    [[nodiscard]] double real(int i) const;
    /// The row's columns: how many, each one's name, and its value's kind.
    enum class Kind { Null, Integer, Real, Text };
    [[nodiscard]] int columns() const;
    [[nodiscard]] std::string name(int i) const;
    [[nodiscard]] Kind kind(int i) const;

private:
    friend class ReadDb;
    explicit ReadQuery(void* st) : st_(st) {}
    void* st_;  ///< sqlite3_stmt
};

class ReadDb {
public:
    /// Reads the database file `path` without leaving anything behind:
    /// `read` is called with a reader, again when a writer changed the file
    /// meanwhile (its result then replaced). Returns "" or a warning when
    /// the file was read without its -wal (the last commits of a running or
    /// killed run may be missing). Throws std::runtime_error with a
    /// one-line message (no such database, cannot open it), or what `read`
    /// throws.
    static std::string read_settled(const std::string& path, const std::function<void(ReadDb&)>& read);
    /// Borrows the writer's connection, after its queued writes are done.
    explicit ReadDb(Store& writer);
    ~ReadDb();
    ReadDb(const ReadDb&) = delete;
    ReadDb& operator=(const ReadDb&) = delete;
    /// Throws std::runtime_error: not a SQLite database, or not a callwall
    /// database (or an older one) when the statement does not prepare.
    [[nodiscard]] ReadQuery prep(const char* sql);
    [[nodiscard]] ReadQuery prep(const std::string& sql) { return prep(sql.c_str()); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    ReadDb(const std::string& path, ReadMode mode);
    /// A first read works (the -wal and -shm can be used).
    bool can_read();
    std::string path_;
    void* db_ = nullptr;  ///< sqlite3
    bool owned_ = true;
};

}  // namespace callwall::store
