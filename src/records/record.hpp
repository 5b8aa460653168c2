// A record: one row of a table callwall writes, declared once as a list of
// columns. From the list come the record's struct (a field per column), the
// values it binds in column order, the table's CREATE TABLE text and its
// INSERT statement; a writer (the SQLite store, a test's) knows nothing of
// what the columns mean.
//
// A column list is a macro taking X(type, field, "column", "SQL type"):
//   type    the field's C++ type, one a writer binds as it is: int64_t,
//           double, std::string_view, or std::optional of one of them
//           (nullopt is NULL)
//   field   the struct member (the column's name unless C++ reserves it)
//   column  the column's name in the table
//   SQL     its type and constraints, as CREATE TABLE spells them
// A list may add marks of its own after these four (the run's, which
// columns a run's update writes); the macros here ignore them.
// Every table of a run's rows starts with run_id (a writer's, not the
// record's): CREATE TABLE and INSERT put it first. The run table itself
// starts with its id, which SQLite numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>

namespace callwall::records {

struct Column {
    std::string_view name, sql;
};

/// What a table is besides its columns.
struct Table {
    std::string_view name;
    std::span<const Column> columns;
    std::string_view key;  ///< the PRIMARY KEY's columns ("" for none)
    std::string_view verb = "INSERT";  ///< how a row is inserted ("INSERT OR IGNORE": a key seen twice)
    std::string_view after;  ///< SQL that follows the table in the schema (its writer's indexes)
    /// Its rows belong to a run (run_id first); false for the run table
    /// itself, whose first column is its own id.
    bool of_run = true;
};

/// The run table's key, first column of every record's table.
inline constexpr std::string_view kRunIdColumn = "run_id INTEGER NOT NULL REFERENCES run(id)";
/// The run table's own first column: the run's id, numbered by SQLite.
inline constexpr std::string_view kRunKeyColumn = "id INTEGER PRIMARY KEY";

/// The table as the schema creates it: one column a line, run_id (or the
/// run's id) first.
inline std::string create_table_sql(const Table& t) {
    std::string s = "CREATE TABLE IF NOT EXISTS ";
    s += t.name;
    s += " (\n  ";
    s += t.of_run ? kRunIdColumn : kRunKeyColumn;
    for (const Column& c : t.columns) {
        s += ",\n  ";
        s += c.name;
        s += ' ';
        s += c.sql;
    }
    if (!t.key.empty()) {
        s += ",\n  PRIMARY KEY (";
        s += t.key;
        s += ')';
    }
    s += "\n);\n";
    s += t.after;
    return s;
}

/// The table's INSERT statement: run_id (not the run table's own id: SQLite
/// numbers it) and every column, one placeholder each.
inline std::string insert_sql(const Table& t) {
    std::string names(t.of_run ? "run_id" : ""), marks(t.of_run ? "?" : "");
    for (const Column& c : t.columns) {
        names += names.empty() ? "" : ", ";
        names += c.name;
        marks += marks.empty() ? "?" : ",?";
    }
    return std::string(t.verb) + " INTO " + std::string(t.name) + " (" + names + ") VALUES (" + marks + ")";
}

/// An UPDATE of the columns `set` (in that order) of the row whose `key`
/// column is the last placeholder: "UPDATE t SET a=?, b=? WHERE key=?".
inline std::string update_sql(const Table& t, std::span<const std::string_view> set, std::string_view key) {
    std::string s = "UPDATE ";
    s += t.name;
    s += " SET ";
    for (size_t i = 0; i < set.size(); ++i) {
        if (i > 0) s += ", ";
        s += set[i];
        s += "=?";
    }
    s += " WHERE ";
    s += key;
    s += "=?";
    return s;
}

/// Where a column is among a table's values as a writer binds them (run_id
/// is value 0); -1 when the table has no such column.
constexpr int value_index(std::span<const Column> columns, std::string_view name) noexcept {
    for (size_t i = 0; i < columns.size(); ++i)
        if (columns[i].name == name) return static_cast<int>(i) + 1;
    return -1;
}

}  // namespace callwall::records

// The pieces a record's struct is made of (CALLWALL_RECORD below).
#define CALLWALL_RECORD_FIELD(type, field, column, sql, ...) type field{};
#define CALLWALL_RECORD_COLUMN(type, field, column, sql, ...) ::callwall::records::Column{column, sql},
#define CALLWALL_RECORD_TIE(type, field, column, sql, ...) std::tie(field),

/// A record's struct from its column list and its table (name, PRIMARY
/// KEY columns, insert verb, SQL after it and, for the run table, false:
/// records::Table): its fields, kColumns, values() (references to the
/// fields, in column order; fields() the same, to fill them) and table().
#define CALLWALL_RECORD(Name, COLUMNS, table_name, key, verb, after, ...)                                            \
    struct Name {                                                                                                    \
        COLUMNS(CALLWALL_RECORD_FIELD)                                                                               \
        static constexpr ::callwall::records::Column kColumns[] = {COLUMNS(CALLWALL_RECORD_COLUMN)};                 \
        [[nodiscard]] auto values() const noexcept {                                                                 \
            return std::tuple_cat(COLUMNS(CALLWALL_RECORD_TIE) std::tuple<>());                                      \
        }                                                                                                            \
        [[nodiscard]] auto fields() noexcept { return std::tuple_cat(COLUMNS(CALLWALL_RECORD_TIE) std::tuple<>()); } \
        [[nodiscard]] static constexpr ::callwall::records::Table table() noexcept {                                 \
            return {table_name, kColumns, key, verb, after __VA_OPT__(, ) __VA_ARGS__};                              \
        }                                                                                                            \
    }
