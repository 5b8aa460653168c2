// A run's report from memory. See report/from_run.hpp; each step mirrors the
// read of the same part in report/load.cpp (order, filters, bounds).
#include "report/from_run.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "attrib/result_records.hpp"
#include "report/other_flows.hpp"
#include "report/vendor_filter.hpp"
#include "report/record_rows.hpp"
#include "store/store.hpp"

namespace callwall::report {
namespace {

// The order the report lists products and requirements in: vendor, edition
// descending, product (then entry id), as text compares in the database.
template <class Row>
bool report_order(const Row& a, const Row& b) {
    if (a.vendor != b.vendor) return a.vendor < b.vendor;
    if (a.edition != b.edition) return a.edition > b.edition;
    return a.product < b.product;
}

std::string comma_joined(const std::set<uint16_t>& ports) {
    std::string out;
    for (const uint16_t p : ports) out += (out.empty() ? "" : ",") + std::to_string(p);
    return out;
}

EvidenceFlow evidence_flow(const attrib::FlowRow& f, attrib::Evidence kind) {
    return EvidenceFlow{f, std::string(attrib::to_string(kind))};
}

// The entry's row from the records attribution writes for it, as the
// report read back from them gives it.
VerdictRow entry_row(const catalog::Catalog& c, const catalog::Entry& e, const attrib::EntryVerdict& v) {
    const attrib::EntryRecords records(e, c.documents()[e.document].title, v);
    return verdict_row(records.verdict(), records.entry(),
                       {v.reasons, comma_joined(v.ports_observed), comma_joined(v.ports_blocked)});
}

// The largest groups of other flows, ties by transport, app and port.
void other_flows(const attrib::RunDetail& detail, ReportData& d) {
    std::vector<OtherFlowsSummary> groups;
    groups.reserve(detail.other.size());
    for (const auto& g : detail.other) groups.push_back(OtherFlowsSummary{g.transport, g.app, g.server_port, g.flows});
    set_other_flows(std::move(groups), d);
}

}  // namespace

void describe_failed(RunInfo& r) {
    if (r.status != "failed") return;
    if (r.notes.find(store::kDiskFullNote) != std::string::npos) {
        r.status_detail = "this run " + std::string(store::kDiskFullNote);
        return;
    }
    r.status_detail = "this run failed";
    const auto at = r.notes.find("stopped: ");
    if (at != std::string::npos) r.status_detail += " (" + r.notes.substr(at, r.notes.find('\n', at) - at) + ")";
}

std::optional<ReportData> from_run(const RunInMemory& in, const ReportOptions& opt) {
    const catalog::Catalog& c = *in.catalog;
    const attrib::RunVerdicts& rv = *in.verdicts;
    const attrib::RunDetail& detail = *in.detail;
    const auto entries = c.entries();
    if (rv.entries.size() != entries.size()) return std::nullopt;
    ReportData d;
    d.db_path = in.db_path;
    d.run = in.run;
    if (d.run.sources.empty()) d.run.sources.push_back(d.run.source);
    describe_failed(d.run);
    const VendorFilter vf(opt);

    std::set<std::string> seen;
    std::vector<ProductRow> products;
    for (const auto& p : rv.products) {
        products.push_back(ProductRow{p.vendor, p.product, p.edition, p.conclusion, p.detail});
        seen.insert(p.vendor);
    }
    std::stable_sort(products.begin(), products.end(), report_order<ProductRow>);
    for (auto& p : products)
        if (vf.wanted(p.vendor, true)) d.products.push_back(std::move(p));

    std::vector<uint32_t> order(entries.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        const catalog::Entry& x = entries[a];
        const catalog::Entry& y = entries[b];
        if (report_order(x, y)) return true;
        if (report_order(y, x)) return false;
        return x.id < y.id;
    });
    for (const uint32_t i : order) {
        const catalog::Entry& e = entries[i];
        if (!vf.wanted(e.vendor, seen.count(e.vendor) > 0)) continue;
        // The vendor's other editions: judged, not shown (as load() reads them).
        if (!opt.all_entries && seen.count(e.vendor) &&
            e.document != c.judging_document(static_cast<uint16_t>(e.vendor_index))) {
            d.unshown.push_back(VerdictRow{.entry_id = e.id,
                                           .vendor = e.vendor,
                                           .edition = e.edition,
                                           .product = e.product,
                                           .service = e.service});
            continue;
        }
        const attrib::EntryVerdict& v = rv.entries[i];
        VerdictRow row = entry_row(c, e, v);
        for (size_t k = 0; k < v.evidence_flows.size() && k < kMaxEvidence; ++k) {
            const uint64_t id = v.evidence_flows[k];
            const attrib::Evidence* kind = detail.kept_evidence(i, id);
            const auto f = detail.flows.find(id);
            if (!kind || f == detail.flows.end()) return std::nullopt;  // not kept: only the rows tell
            row.evidence.push_back(evidence_flow(f->second, *kind));
        }
        // The pairs are ordered by their first entry: this entry's are one run.
        for (auto it = detail.shared.lower_bound({i, 0}); it != detail.shared.end() && it->first == i; ++it)
            row.shared_with.push_back(entries[it->second].id);
        std::sort(row.shared_with.begin(), row.shared_with.end());
        d.verdicts.push_back(std::move(row));
    }

    for (const auto& g : detail.gaps) {
        if (!vf.wanted(g.vendor, true)) continue;
        d.vendor_gaps.push_back(UnmatchedVendorFlow{g.vendor, g.name, g.flow});
    }
    std::stable_sort(d.vendor_gaps.begin(), d.vendor_gaps.end(),
                     [](const UnmatchedVendorFlow& a, const UnmatchedVendorFlow& b) {
                         return std::tie(a.vendor, a.flow.id) < std::tie(b.vendor, b.flow.id);
                     });
    other_flows(detail, d);
    d.allow_lists = in.allow_lists;
    std::stable_sort(d.allow_lists.begin(), d.allow_lists.end(),
                     [](const AllowList& a, const AllowList& b) { return a.format < b.format; });
    return d;
}

}  // namespace callwall::report
