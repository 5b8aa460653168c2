// The run's and an entry's verdict rows from their records. See
// report/record_rows.hpp.
#include "report/record_rows.hpp"

#include <utility>

namespace callwall::report {

RunInfo run_info(int64_t id, const records::Run& r) {
    RunInfo i;
    i.id = id;
    i.kind = r.kind;
    i.source = r.source;
    i.status = r.status;
    i.command_line = r.command_line;
    i.tool_version = r.tool_version;
    i.catalog_digest = r.catalog_digest.value_or("");
    i.notes = r.notes;
    i.started_at = r.started_at;
    i.ended_at = r.ended_at.value_or(0);
    i.first_ts = r.first_ts.value_or(0);
    i.last_ts = r.last_ts.value_or(0);
    i.packets = static_cast<uint64_t>(r.packets);
    i.bytes = static_cast<uint64_t>(r.bytes);
    i.truncated_packets = static_cast<uint64_t>(r.truncated_packets);
    i.undecoded_packets = static_cast<uint64_t>(r.undecoded_packets);
    i.kernel_dropped = static_cast<uint64_t>(r.kernel_dropped);
    i.flows = static_cast<uint64_t>(r.flows);
    i.flows_evicted_full = static_cast<uint64_t>(r.flows_evicted_full);
    i.damaged_files = static_cast<uint64_t>(r.damaged_files);
    i.origin = r.origin.value_or("");
    return i;
}

VerdictRow verdict_row(const records::Verdict& v, const records::CatalogEntry& e, VerdictLists lists) {
    VerdictRow r;
    r.entry_id = v.entry_id;
    r.vendor = e.vendor;
    r.edition = e.edition;
    r.product = e.product;
    r.service = e.service;
    r.transport = e.transport;
    r.ports = e.ports;
    r.destinations = e.destinations;
    r.conditions = e.conditions;
    r.required = e.required != 0;
    r.source_file = e.source_file;
    r.source_section = e.source_section;
    r.document_title = e.document_title;
    r.verdict = v.verdict;
    r.reasons = std::move(lists.reasons);
    r.flows_observed = static_cast<uint32_t>(v.flows_observed);
    r.flows_blocked = static_cast<uint32_t>(v.flows_blocked);
    r.flows_inconclusive = static_cast<uint32_t>(v.flows_inconclusive);
    r.ports_observed = std::move(lists.ports_observed);
    r.ports_blocked = std::move(lists.ports_blocked);
    r.origin = v.origin;
    r.why = v.why;
    return r;
}

}  // namespace callwall::report
