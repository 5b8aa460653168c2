// What a report shows beside the verdicts, kept during attribution. See
// attrib/run_detail.hpp.
#include "attrib/run_detail.hpp"

#include <algorithm>

namespace callwall::attrib {

const Evidence* RunDetail::kept_evidence(uint32_t entry, uint64_t id) const noexcept {
    if (entry >= kept.size()) return nullptr;
    for (const auto& [flow, evidence] : kept[entry])
        if (flow == id) return &evidence;
    return nullptr;
}

RunDetailKeeper::RunDetailKeeper(RunDetail& out, size_t entries) : out_(out) {
    out_ = RunDetail{};
    out_.kept.resize(entries);
}

void RunDetailKeeper::before_orienting(const FlowFacts& f) {
    client_ip_.assign(f.client_ip);
    server_ip_.assign(f.server_ip);
    client_port_ = f.client_port;
    server_port_ = f.server_port;
    packets_c2s_ = f.packets_c2s;
    packets_s2c_ = f.packets_s2c;
}

FlowRow RunDetailKeeper::row_of(const FlowFacts& f, const FlowResult& r) const {
    FlowRow row;
    facts::each_shown_column(row, f, [](auto& to, const auto& from) { to = from; });
    // The sides as recorded, before attribution oriented them; the outcome as written.
    row.client_ip = client_ip_;
    row.server_ip = server_ip_;
    row.client_port = client_port_;
    row.server_port = server_port_;
    row.packets_c2s = packets_c2s_;
    row.packets_s2c = packets_s2c_;
    row.outcome = r.outcome_column;
    return row;
}

void RunDetailKeeper::add(const FlowFacts& f, const FlowResult& r, const std::vector<EntryAccumulator>& per_entry,
                          const catalog::Catalog& c) {
    bool counted_any = false, keep_row = false;
    for (const auto& m : r.matches) {
        if (!m.counted) continue;
        counted_any = true;
        // Kept when the flow is among the first of its outcome's ids (the
        // accumulator keeps them in the order added, up to a bound).
        const EntryAccumulator& acc = per_entry[m.match.entry];
        for (const auto* ids : {&acc.blocked_ids, &acc.observed_ids, &acc.inconclusive_ids, &acc.abandoned_ids})
            if (!ids->empty() && ids->back() == f.id && ids->size() <= RunDetail::kKeptPerOutcome) {
                out_.kept[m.match.entry].emplace_back(f.id, m.match.evidence);
                keep_row = true;
                break;
            }
    }
    if (counted_any)
        for (const auto& a : r.matches)
            for (const auto& b : r.matches)
                if (a.counted && b.counted && a.match.entry != b.match.entry)
                    out_.shared.emplace(a.match.entry, b.match.entry);
    if (keep_row && !out_.flows.count(f.id)) out_.flows.emplace(f.id, row_of(f, r));
    if (!r.gaps.empty()) {
        const FlowRow row = row_of(f, r);
        for (const Gap& g : r.gaps) out_.gaps.push_back({c.vendors()[g.vendor], g.name, row});
        return;
    }
    if (counted_any) return;
    // An other flow: counted in its group (server port as recorded).
    if (last_group_ >= groups_.size() || groups_[last_group_].first.first != f.transport ||
        groups_[last_group_].first.second != f.app) {
        const auto it = std::find_if(groups_.begin(), groups_.end(), [&](const auto& g) {
            return g.first.first == f.transport && g.first.second == f.app;
        });
        last_group_ = static_cast<size_t>(it - groups_.begin());
        if (it == groups_.end()) groups_.push_back({{f.transport, f.app}, {}});
    }
    ++groups_[last_group_].second[server_port_];
}

void RunDetailKeeper::finish() {
    out_.other.clear();
    for (const auto& [key, ports] : groups_)
        for (const auto& [port, n] : ports) out_.other.push_back({key.first, key.second, port, n});
}

}  // namespace callwall::attrib
