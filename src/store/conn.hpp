// Private to the store module: the connection behind a Store and the
// writer's prepared statements (they outlive any one call, so they are raw
// handles finalised by ~Store; statements made for one job use Statement).
#pragma once

#include <sqlite3.h>

#include <array>
#include <string_view>
#include <vector>

#include "store/row_codec.hpp"
#include "store/row_group.hpp"
#include "store/store.hpp"

namespace callwall::store {

/// What the work on whole runs (store/whole_runs.hpp) takes of a Store: its
/// connection, once the rows written before are committed, and its helpers.
struct WholeRunsAccess {
    /// The connection, every row given before committed.
    [[nodiscard]] static sqlite3* committed(Store& s);
    static void exec(Store& s, const char* sql) { s.exec(sql); }
};

struct Store::Conn {
    sqlite3* db = nullptr;
    sqlite3_stmt *ins_run = nullptr, *upd_run = nullptr, *ins_flow = nullptr, *ins_flow_again = nullptr,
                 *ins_dns_query = nullptr, *upd_stun = nullptr, *ups_dns_name = nullptr;
    /// Each decoder record's INSERT (records/messages.hpp), by its slot.
#define CALLWALL_CONN_STATEMENT(Record, what) sqlite3_stmt* ins_##Record = nullptr;
    CALLWALL_MESSAGE_RECORDS(CALLWALL_CONN_STATEMENT)
#undef CALLWALL_CONN_STATEMENT
    /// Every statement, for finalising.
    [[nodiscard]] std::vector<sqlite3_stmt*> statements() const {
        std::vector<sqlite3_stmt*> all = {ins_run,       ins_flow_again, ins_flow,    upd_run,
                                          ins_dns_query, upd_stun,       ups_dns_name};
#define CALLWALL_CONN_STATEMENT(Record, what) all.push_back(ins_##Record);
        CALLWALL_MESSAGE_RECORDS(CALLWALL_CONN_STATEMENT)
#undef CALLWALL_CONN_STATEMENT
        return all;
    }
    /// What the flow statements hold bound: only put() and apply_row bind them.
    codec::BoundValues flow_bound, flow_again_bound;
    [[nodiscard]] codec::BoundValues* bound(Slot slot) noexcept {
        return slot == Slot::Flow ? &flow_bound : slot == Slot::FlowAgain ? &flow_again_bound : nullptr;
    }
    /// The rows of Slot::Flow and Slot::FlowName wait in groups (store/row_group.hpp).
    RowGroup flow_group, name_group;
    [[nodiscard]] RowGroup* group(Slot slot) noexcept {
        return slot == Slot::Flow ? &flow_group : slot == Slot::FlowName ? &name_group : nullptr;
    }
    /// Every group: what flushing, rolling back and closing go through.
    [[nodiscard]] std::array<RowGroup*, 2> groups() noexcept { return {&flow_group, &name_group}; }

    sqlite3_stmt* prepare(const Store& s, const char* sql) const {
        sqlite3_stmt* st = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
        if (rc != SQLITE_OK) s.fail(rc, "preparing a statement");
        return st;
    }
    /// The prepared statement of a row slot, and what a failure of it says.
    [[nodiscard]] sqlite3_stmt* statement(Slot slot) const noexcept {
        switch (slot) {
#define CALLWALL_CONN_STATEMENT(Record, what) \
    case Slot::Record: return ins_##Record;
            CALLWALL_MESSAGE_RECORDS(CALLWALL_CONN_STATEMENT)
#undef CALLWALL_CONN_STATEMENT
            case Slot::UpdateRun: return upd_run;
            case Slot::Flow: return ins_flow;
            case Slot::DnsQuery: return ins_dns_query;
            case Slot::DnsQuestion: return nullptr;  // counted (DnsNames), no row of its own
            case Slot::StunAnswered: return upd_stun;
            case Slot::FlowAgain: return ins_flow_again;
            case Slot::Commit:
            case Slot::Job: break;
        }
        return nullptr;
    }
    [[nodiscard]] static std::string_view what(Slot slot) noexcept {
        switch (slot) {
#define CALLWALL_CONN_WHAT(Record, what) \
    case Slot::Record: return what;
            CALLWALL_MESSAGE_RECORDS(CALLWALL_CONN_WHAT)
#undef CALLWALL_CONN_WHAT
            case Slot::UpdateRun: return "updating the run";
            case Slot::Flow:
            case Slot::FlowAgain: return "writing a flow";
            case Slot::DnsQuery: return "writing a DNS query";
            case Slot::DnsQuestion: return "counting a DNS question";
            case Slot::StunAnswered: return "updating a STUN request";
            case Slot::Commit: return "committing";
            case Slot::Job: break;
        }
        return "a deferred job";
    }
    static void write_row(const Store& s, sqlite3_stmt* st, std::string_view what) {
        const int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) s.fail(rc, what);
    }
};

inline sqlite3* WholeRunsAccess::committed(Store& s) {
    s.commit_now();
    return s.c_->db;
}

}  // namespace callwall::store
