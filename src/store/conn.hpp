// Private to the store module: the connection behind a Store and the
// writer's prepared statements (they outlive any one call, so they are raw
// handles finalised by ~Store; statements made for one job use Statement).
#pragma once

#include <sqlite3.h>

#include <string_view>

#include "store/store.hpp"

namespace callwall::store {

struct Store::Conn {
    sqlite3* db = nullptr;
    sqlite3_stmt *ins_run = nullptr, *upd_run = nullptr, *ins_flow = nullptr, *ins_icmp = nullptr,
                 *ins_flow_name = nullptr, *ins_dns_answer = nullptr, *ins_dns_query = nullptr, *ins_tls = nullptr,
                 *ins_stun = nullptr, *upd_stun = nullptr, *ins_rtp = nullptr;

    sqlite3_stmt* prepare(const Store& s, const char* sql) const {
        sqlite3_stmt* st = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
        if (rc != SQLITE_OK) s.fail(rc, "preparing a statement");
        return st;
    }
    static void write_row(const Store& s, sqlite3_stmt* st, std::string_view what) {
        const int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) s.fail(rc, what);
    }
};

}  // namespace callwall::store
