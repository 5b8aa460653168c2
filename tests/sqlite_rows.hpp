// A prepared statement's rows as text, the form the tests compare database
// contents in (golden/run_util.hpp, robustness/robustness_util.hpp).
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callwall::test {

/// Prepares the one statement `sql` holds into `*st`: SQLITE_OK, or an
/// error code with `why` saying what (SQLite's message, or that SQL follows
/// the first statement: prepare compiles only the first, so a second would
/// be skipped without a word and a check written in it would pass unrun).
inline int prepare_one(sqlite3* db, const std::string& sql, sqlite3_stmt** st, std::string& why) {
    const char* tail = nullptr;
    *st = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, st, &tail);
    if (rc != SQLITE_OK) {
        why = sqlite3_errmsg(db);
        return rc;
    }
    if (tail && std::string_view(tail).find_first_not_of(" \t\n;") != std::string_view::npos) {
        sqlite3_finalize(*st);
        *st = nullptr;
        why = "more than one statement (run each on its own): " + std::string(tail);
        return SQLITE_MISUSE;
    }
    return SQLITE_OK;
}

/// Steps `st` to its end, appending each row to `out` as its columns'
/// text joined by tabs ("NULL" for NULL). Returns SQLITE_DONE when every row
/// was read, otherwise the code of the step that failed (the connection's
/// sqlite3_errmsg says why).
inline int append_rows(sqlite3_stmt* st, std::vector<std::string>& out) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        std::string line;
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
            if (i) line += '\t';
            const auto* t = sqlite3_column_text(st, i);
            line += t ? reinterpret_cast<const char*>(t) : "NULL";
        }
        out.push_back(std::move(line));
    }
    return rc;
}

}  // namespace callwall::test
