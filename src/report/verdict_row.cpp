// An entry's verdict row from its records. See report/verdict_row.hpp.
#include "report/verdict_row.hpp"

#include <utility>

namespace callwall::report {

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
