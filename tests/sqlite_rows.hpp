// A prepared statement's rows as text, the form the tests compare database
// contents in (golden/run_util.hpp, robustness/robustness_util.hpp).
#pragma once

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

namespace callwall::test {

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
