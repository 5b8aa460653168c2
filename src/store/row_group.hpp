// Private to the store module: rows of one table written kRows at a time,
// by one INSERT of kRows value lists, instead of one statement each.
//
// A statement's step costs much the same whether it inserts one row or
// many (opening the table's cursors, the transaction and foreign-key
// checks, halting), so fewer statements for the same rows take less time
// (docs/performance.md has the measurements).
// Rows wait here encoded (store/row_codec.hpp), in the order they were
// given, and reach the connection when the group is full or before
// anything that could see them: a commit (Store::commit_batch), a caller
// that uses the connection itself (Store::sync_writes), a row that writes
// the same table another way (Store::touches_groups). Only for tables
// whose rows nothing else reads or updates while they wait.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "store/row_codec.hpp"
#include "store/store.hpp"

namespace callwall::store {

/// `one_row`, a single-row INSERT ("... VALUES (?,?)"), with `rows` value
/// lists: one statement for that many rows.
[[nodiscard]] std::string many_rows_sql(std::string_view one_row, int rows);

struct Store::RowGroup {
    static constexpr int kRows = 16;
    Slot slot{};
    int values = 0;  ///< per row
    sqlite3_stmt* many = nullptr;  ///< the INSERT of kRows rows (finalised by ~Store)
    codec::BoundValues bound;  ///< what `many` holds bound
    std::vector<char> rows;  ///< the rows waiting, encoded
    int count = 0;

    /// Prepares `many` from `one_row`, the single-row INSERT of `slot`'s
    /// rows ("... VALUES (?,?)"): the same with kRows value lists.
    void prepare(const Store& s, const Conn& c, Slot of, std::string_view one_row);
    void add(const char* row, size_t n) {
        rows.insert(rows.end(), row, row + n);
        ++count;
    }
    [[nodiscard]] bool full() const noexcept { return count == kRows; }
    void clear() noexcept {
        rows.clear();
        count = 0;
    }
    /// Empties the group when the writing of its rows ends, written or failed.
    struct ClearOnExit {
        RowGroup& g;
        ~ClearOnExit() { g.clear(); }
    };
};

}  // namespace callwall::store
