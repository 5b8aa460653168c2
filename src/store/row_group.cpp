// Rows written a group at a time. See store/row_group.hpp.
#include "store/row_group.hpp"
#include "store/conn.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace callwall::store {

namespace {

std::string_view value_list(std::string_view one_row) {
    const size_t open = one_row.find('(', one_row.rfind("VALUES")), close = one_row.rfind(')');
    return one_row.substr(open, close + 1 - open);
}

}  // namespace

std::string many_rows_sql(std::string_view one_row, int rows) {
    const std::string_view list = value_list(one_row);
    std::string sql(one_row.substr(0, static_cast<size_t>(list.data() - one_row.data())));
    for (int i = 0; i < rows; ++i) {
        if (i) sql += ',';
        sql += list;
    }
    return sql;
}

void Store::RowGroup::prepare(const Store& s, const Conn& c, Slot of, std::string_view one_row) {
    const std::string_view list = value_list(one_row);
    slot = of;
    values = static_cast<int>(std::count(list.begin(), list.end(), '?'));
    if (values * kRows > codec::BoundValues::kMax)
        throw std::logic_error("a row group binds more than BoundValues holds");
    many = c.prepare(s, many_rows_sql(one_row, kRows).c_str());
}

void Store::write_group(RowGroup& g) {
    const RowGroup::ClearOnExit clear{g};  // written, or failed with its batch
    sqlite3_reset(g.many);
    codec::Binder bind{g.many, &g.bound};
    const char* p = g.rows.data();
    for (int r = 0; r < g.count; ++r) p = codec::bind_encoded(p + 2, g.values, bind, 1 + r * g.values);
    Conn::write_row(*this, g.many, Conn::what(g.slot));
}

void Store::flush_groups() {
    for (RowGroup* g : c_->groups()) {
        if (g->count == 0) continue;
        const RowGroup::ClearOnExit clear{*g};
        sqlite3_stmt* st = c_->statement(g->slot);
        codec::Binder bind{st, c_->bound(g->slot)};
        const char* p = g->rows.data();
        for (int r = 0; r < g->count; ++r) {
            sqlite3_reset(st);
            p = codec::bind_encoded(p + 2, g->values, bind, 1);
            Conn::write_row(*this, st, Conn::what(g->slot));
        }
    }
}

}  // namespace callwall::store
