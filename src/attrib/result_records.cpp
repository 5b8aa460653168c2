// Attribution's results as records. See attrib/result_records.hpp.
#include "attrib/result_records.hpp"

#include <type_traits>

namespace callwall::attrib {
namespace {

// A verdict's list as the JSON array the verdict table holds (schema
// version 3): numbers as they are, text quoted.
template <class T>
std::string json_array(const T& items) {
    std::string s = "[";
    for (const auto& v : items) {
        if (s.size() > 1) s += ",";
        if constexpr (std::is_arithmetic_v<typename T::value_type>)
            s += std::to_string(v);
        else
            s += catalog::json_quote(v);
    }
    return s + "]";
}

}  // namespace

records::FlowMatch match_record(uint64_t flow_id, const catalog::Catalog& c, const Match& m, bool counted) noexcept {
    return {static_cast<int64_t>(flow_id),
            c.entries()[m.entry].id,
            to_string(m.evidence),
            m.confidence,
            m.name,
            counted ? 1 : 0};
}

records::UnmatchedFlow gap_record(uint64_t flow_id, const catalog::Catalog& c, const Gap& g) noexcept {
    return {static_cast<int64_t>(flow_id), c.vendors()[g.vendor], g.name};
}

EntryRecords::EntryRecords(const catalog::Entry& e, std::string_view document_title, const EntryVerdict& v)
    : ports_(catalog::ports_text(e)),
      destinations_(catalog::destinations_text(e)),
      conditions_(catalog::describe_conditions(e.conditions)),
      reasons_(json_array(v.reasons)),
      observed_(json_array(v.ports_observed)),
      blocked_(json_array(v.ports_blocked)),
      evidence_(json_array(v.evidence_flows)),
      entry_{e.id,
             e.vendor,
             e.product,
             e.edition,
             e.document_date,
             e.service,
             catalog::to_string(e.transport),
             ports_,
             destinations_,
             catalog::to_string(e.direction),
             e.required ? 1 : 0,
             conditions_,
             e.source.file,
             e.source.section,
             document_title},
      verdict_{e.id,
               to_string(v.verdict),
               reasons_,
               static_cast<int64_t>(v.flows_observed),
               static_cast<int64_t>(v.flows_blocked),
               static_cast<int64_t>(v.flows_inconclusive),
               observed_,
               blocked_,
               evidence_,
               v.origin,
               v.why} {}

std::vector<records::ProductVerdict> product_records(std::span<const ProductConclusion> products) {
    std::vector<records::ProductVerdict> out;
    out.reserve(products.size());
    for (const ProductConclusion& p : products) out.push_back({p.vendor, p.product, p.edition, p.conclusion, p.detail});
    return out;
}

}  // namespace callwall::attrib
