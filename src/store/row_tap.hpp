// What a run keeps of the rows it hands the store, seen as they are handed
// over: the store shows a tap (Store::tap_rows) every flow row and DNS
// question on the thread that hands it, before it is queued or written,
// and says when rows of those kinds arrived already encoded (a sharded
// run's merger), which the tap then did not see. Attribution's kept rows
// (attrib/kept_rows.hpp) are the tap: the DNS questions counted per name
// and the interfaces of the flows written, taken from memory instead of
// read back from the tables.
#pragma once

#include <cstdint>

#include "facts/flow_facts.hpp"
#include "records/messages.hpp"

namespace callwall::store {

class RowTap {
public:
    virtual ~RowTap() = default;
    /// A flow's row (Store::add_flow, Store::replace_flow).
    virtual void flow_row(int64_t run_id, const facts::FlowRecord& row) = 0;
    /// A DNS question (Store::add_dns_query, Store::add_dns_question).
    virtual void dns_question(int64_t run_id, const records::DnsQuery& q) = 0;
    /// Rows of these kinds arrived encoded (Store::put_encoded): not shown.
    virtual void rows_unseen(bool flows, bool dns_questions) noexcept = 0;
};

}  // namespace callwall::store
