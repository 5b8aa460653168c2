// A record (records/record.hpp) read back from its table through the
// report's typed statements: the SELECT list comes from the record's column
// list, and a column an older database's table lacks is read as its
// default ('' or 0 for a NOT NULL column, else NULL) instead of failing
// the statement, so a reader names no column by hand and reads every
// schema version the same way.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "records/record.hpp"
#include "store/read_query.hpp"
#include "store/read_value.hpp"

namespace callwall::store {

/// The columns `table` has in the database `db` reads.
inline std::set<std::string> table_columns(ReadDb& db, std::string_view table) {
    ReadQuery q = db.prep("SELECT name FROM pragma_table_info(?)");
    q.bind(1, std::string(table));
    std::set<std::string> out;
    while (q.row()) out.insert(q.text(0));
    return out;
}

/// "alias.column, ..." for every column of `t`, in its order; a column the
/// table in `db` lacks as its default.
inline std::string select_list(ReadDb& db, const records::Table& t, std::string_view alias) {
    const std::set<std::string> present = table_columns(db, t.name);
    std::string s;
    for (const records::Column& c : t.columns) {
        if (!s.empty()) s += ", ";
        if (present.count(std::string(c.name))) {
            s += alias;
            s += '.';
            s += c.name;
        } else if (c.sql.find("NOT NULL") == std::string_view::npos) {
            s += "NULL";
        } else {
            s += c.sql.starts_with("TEXT") ? "''" : "0";
        }
    }
    return s;
}

/// The record's fields from the row's columns `first`, `first` + 1, ... (as
/// select_list put them). Text fields view the row: valid until the next row().
template <class Record>
void read_record(const ReadQuery& q, int first, Record& r) {
    std::apply([&](auto&... field) { (read_value(q, first++, field), ...); }, r.fields());
}

}  // namespace callwall::store
