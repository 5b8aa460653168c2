// Private to the store module: the connection behind a Store and the
// writer's prepared statements (they outlive any one call, so they are raw
// handles finalised by ~Store; statements made for one job use Statement).
#pragma once

#include <sqlite3.h>

#include <array>
#include <string_view>

#include "store/row_codec.hpp"
#include "store/row_group.hpp"
#include "store/store.hpp"

namespace callwall::store {

struct Store::Conn {
    sqlite3* db = nullptr;
    sqlite3_stmt *ins_run = nullptr, *upd_run = nullptr, *ins_flow = nullptr, *ins_flow_again = nullptr,
                 *ins_icmp = nullptr, *ins_flow_name = nullptr, *ins_dns_answer = nullptr, *ins_dns_query = nullptr,
                 *ins_tls = nullptr, *ins_stun = nullptr, *upd_stun = nullptr, *ins_rtp = nullptr,
                 *ups_dns_name = nullptr;
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
            case Slot::UpdateRun: return upd_run;
            case Slot::Flow: return ins_flow;
            case Slot::IcmpError: return ins_icmp;
            case Slot::FlowName: return ins_flow_name;
            case Slot::DnsAnswer: return ins_dns_answer;
            case Slot::DnsQuery: return ins_dns_query;
            case Slot::DnsQuestion: return nullptr;  // counted (DnsNames), no row of its own
            case Slot::TlsHello: return ins_tls;
            case Slot::StunMessage: return ins_stun;
            case Slot::StunAnswered: return upd_stun;
            case Slot::RtpStream: return ins_rtp;
            case Slot::FlowAgain: return ins_flow_again;
            case Slot::Commit:
            case Slot::Job: break;
        }
        return nullptr;
    }
    [[nodiscard]] static std::string_view what(Slot slot) noexcept {
        switch (slot) {
            case Slot::UpdateRun: return "updating the run";
            case Slot::Flow:
            case Slot::FlowAgain: return "writing a flow";
            case Slot::IcmpError: return "writing an ICMP error";
            case Slot::FlowName: return "writing a flow name";
            case Slot::DnsAnswer: return "writing a DNS answer";
            case Slot::DnsQuery: return "writing a DNS query";
            case Slot::DnsQuestion: return "counting a DNS question";
            case Slot::TlsHello: return "writing a TLS hello";
            case Slot::StunMessage: return "writing a STUN message";
            case Slot::StunAnswered: return "updating a STUN request";
            case Slot::RtpStream: return "writing an RTP stream";
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

}  // namespace callwall::store
