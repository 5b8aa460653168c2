// Live attribution: a refresh re-attributes the flows that changed. See attrib/live.hpp.
#include "attrib/live.hpp"

#include <algorithm>

#include "attrib/result_records.hpp"
#include "attrib/run_attribution.hpp"
#include "store/attribution_io.hpp"

namespace callwall::attrib {
namespace {

// Far beyond every wait classify_flow applies to the capture's end: a flow
// whose outcome is the same then as now does not depend on the end.
constexpr double kLongAfterS = 1e6;

// A flow's kinds, as attribute_flow counts them (a flow with a counted match
// may be a catalog gap too).
constexpr uint8_t kSeen = 1, kMatched = 2, kGap = 4, kOther = 8;

bool same(const FlowOutcome& a, const FlowOutcome& b) {
    return a.outcome == b.outcome && a.reason == b.reason && a.origin == b.origin && a.evidence == b.evidence;
}

}  // namespace

LiveAttribution::LiveAttribution(const catalog::Catalog& c, const KeptRows* rows) : c_(c), rows_(rows) { reset(); }
LiveAttribution::~LiveAttribution() = default;

void LiveAttribution::reset() {
    primed_ = false;
    active_.clear();
    scratch_.address_vendors.clear();
    stun_hosts_.clear();
    per_entry_.assign(c_.entries().size(), {});
    contributed_.clear();
    kind_.clear();
    std::fill(std::begin(counts_), std::end(counts_), 0);
    volatile_.clear();
    kept_.clear();
}

void LiveAttribution::note_stun_hosts(const FlowFacts& f) {
    // As AttributionIo::stun_answered_hosts reads them (the rows as stored).
    if (f.stun_answered > f.stun_answered_s2c) stun_hosts_.insert(f.client_ip);
    if (f.stun_answered_s2c > 0) stun_hosts_.insert(f.server_ip);
}

RunVerdicts LiveAttribution::refresh(store::Store& db, int64_t run_id, const std::vector<uint64_t>& changed) {
    double capture_end = 0;
    int64_t evicted_full = 0;
    store::AttributionIo io(db, run_id);
    io.read_run(capture_end, evicted_full);
    // Exchanges split by eviction are looked for across every row of the
    // run: the whole stage, every time.
    if (evicted_full > 0) {
        reset();
        RunVerdicts v = run_attribution(db, run_id, c_, {}, {}, nullptr, rows_);
        last_whole_ = true;
        last_attributed_ = v.flows;
        return v;
    }
    try {
        // Active vendors and failed names come from every DNS question, as in
        // run_attribution (both only grow during a run, so starting from the
        // last refresh's set changes nothing).
        std::set<uint16_t> active = active_;
        stage::DnsFold dns(c_, active);
        io.for_each_dns_name([&](std::string_view qname, bool resolved, uint32_t failed, std::string_view last_rcode) {
            dns.add_name(qname, resolved, failed, last_rcode);
        });
        const stage::DnsFailures dns_failed = dns.finish();
        // A capture that holds one direction only judges its silent flows
        // (and unanswered names) inconclusive: every flow again when that
        // starts or stops, as attribute() judges them.
        OneDirection one_direction;
        io.for_each_interface_set(rows_ ? rows_->interfaces_written(run_id) : std::nullopt,
                                  [&](uint32_t interfaces, bool far_side, uint64_t flows) {
                                      one_direction.add(interfaces, far_side, flows);
                                  });
        const bool turned = one_direction.one_sided() != one_direction_.one_sided();
        one_direction_ = std::move(one_direction);
        if (!primed_ || turned) return whole_pass(io, capture_end, dns_failed, std::move(active));

        std::vector<uint64_t> written(changed);
        std::sort(written.begin(), written.end());
        written.erase(std::unique(written.begin(), written.end()), written.end());
        const auto was_written = [&](uint64_t id) { return std::binary_search(written.begin(), written.end(), id); };
        // Read: the rows written since, and the volatile flows' rows not kept
        // (reading one costs ~13 us at a million flows).
        std::vector<uint64_t> ids = written;
        for (const uint64_t id : volatile_)
            if (!was_written(id) && !kept_.count(id)) ids.push_back(id);
        std::sort(ids.begin(), ids.end());
        std::vector<FlowFacts> flows;
        io.read_flows(ids, flows);
        const size_t read = flows.size();
        for (const auto& [id, facts] : kept_)
            if (!was_written(id)) flows.push_back(facts);
        if (flows.size() != read)
            std::sort(flows.begin(), flows.end(), [](const FlowFacts& a, const FlowFacts& b) { return a.id < b.id; });
        for (const auto& f : flows)
            for (const auto& n : f.names) stage::note_flow_name(c_, n.name, active);
        // A newly active vendor changes which entries any flow matches.
        if (active != active_) return whole_pass(io, capture_end, dns_failed, std::move(active));
        // Every changed flow's STUN answers count before any flow is judged.
        for (const auto& f : flows) note_stun_hosts(f);
        io.begin_rewriting();
        outcomes_written_ = 0;
        scratch_.active_vendors = active_;
        for (const auto& f : flows) {
            io.clear_flow(f.id);
            attribute_one(io, f, capture_end);
        }
        last_whole_ = false;
        last_attributed_ = flows.size();
        return finish(io, dns_failed);
    } catch (...) {
        reset();  // what was kept may not match the database any more
        throw;
    }
}

RunVerdicts LiveAttribution::whole_pass(store::AttributionIo& io, double capture_end,
                                        const stage::DnsFailures& dns_failed, std::set<uint16_t> active) {
    reset();
    io.for_each_flow_name([&](std::string_view name) { stage::note_flow_name(c_, name, active); });
    active_ = std::move(active);
    stun_hosts_ = io.stun_answered_hosts();
    io.begin_writing();
    outcomes_written_ = 0;
    scratch_.active_vendors = active_;
    uint64_t n = 0;
    std::vector<FlowFacts> flows;
    for (uint64_t after = 0;;) {
        io.read_flow_page(after, 1024, flows);
        if (flows.empty()) break;
        after = flows.back().id;
        for (const auto& f : flows) attribute_one(io, f, capture_end);
        n += flows.size();
    }
    RunVerdicts v = finish(io, dns_failed);
    primed_ = true;
    last_whole_ = true;
    last_attributed_ = n;
    return v;
}

void LiveAttribution::attribute_one(store::AttributionIo& io, const FlowFacts& stored, double capture_end) {
    const uint64_t id = stored.id;
    if (id >= kind_.size()) kind_.resize(std::max<size_t>(id + 1, kind_.size() * 2), 0);
    // What the flow contributed before goes.
    if (const uint8_t k = kind_[id]) {
        for (int b = 0; b < 4; ++b) counts_[b] -= (k >> b) & 1u;
        if (auto it = contributed_.find(id); it != contributed_.end()) {
            for (uint32_t e : it->second) per_entry_[e].erase(id);
            contributed_.erase(it);
        }
    }
    FlowFacts f = stored;
    orient_flow(f);
    FlowContext ctx;
    ctx.host_pair_succeeded = stun_hosts_.count(f.client_ip) > 0;
    ctx.one_direction_flows = one_direction_.flows_for(f.interfaces);
    const bool rst_only = needs_server_ttls(f);  // judged against the server's TTLs elsewhere
    const std::set<int> ttls = rst_only ? io.server_ttls(f.server_ip) : std::set<int>{};
    const FlowOutcome fo = classify_flow(f, capture_end, ttls, ctx);
    scratch_.matched_flows = scratch_.vendor_gap_flows = scratch_.other_flows = 0;
    counted_.clear();
    const FlowResult r = stage::attribute_flow(f, fo, c_, nullptr, &counted_, scratch_);
    // Does what the flow leaves depend on more than its own row? Without a
    // counted match that is only its outcome column; with one, the whole
    // outcome (an entry keeps the first blocked flow's origin and evidence).
    const auto differs = [&](const FlowOutcome& o) {
        return counted_.empty() ? outcome_column(o) != r.outcome_column : !same(o, fo);
    };
    FlowContext other_pair = ctx;
    other_pair.host_pair_succeeded = !ctx.host_pair_succeeded;
    const bool depends = (rst_only && !counted_.empty()) ||
                         differs(classify_flow(f, capture_end + kLongAfterS, ttls, ctx)) ||
                         differs(classify_flow(f, capture_end, ttls, other_pair));
    if (depends) {
        volatile_.insert(id);
        if (kept_.size() < kKeptRows || kept_.count(id)) {
            FlowFacts& kept = kept_.insert_or_assign(id, stored).first->second;
            kept.outcome = r.outcome_column;  // written below when it differs
        }
    } else {
        volatile_.erase(id);
        kept_.erase(id);
    }
    const uint8_t k =
        static_cast<uint8_t>(kSeen | (scratch_.matched_flows ? kMatched : 0) | (scratch_.vendor_gap_flows ? kGap : 0) |
                             (scratch_.other_flows ? kOther : 0));
    kind_[id] = k;
    for (int b = 0; b < 4; ++b) counts_[b] += (k >> b) & 1u;
    if (!counted_.empty()) {
        std::vector<uint32_t>& entries = contributed_[id];
        for (auto& [e, ef] : counted_) {
            per_entry_[e].insert_or_assign(id, std::move(ef));
            entries.push_back(e);
        }
    }
    for (const auto& m : r.matches) io.write(match_record(f.id, c_, m.match, m.counted));
    for (const Gap& g : r.gaps) io.write(gap_record(f.id, c_, g));
    if (r.outcome_column != f.outcome) {
        io.write_flow_outcome(f.id, r.outcome_column);
        ++outcomes_written_;
    }
}

RunVerdicts LiveAttribution::finish(store::AttributionIo& io, const stage::DnsFailures& dns_failed) {
    RunVerdicts out;
    out.active_vendors = active_;
    out.address_vendors = scratch_.address_vendors;
    out.flows = counts_[0];
    out.matched_flows = counts_[1];
    out.vendor_gap_flows = counts_[2];
    out.other_flows = counts_[3];
    out.one_direction = one_direction_;
    // Each entry's flows in id order: the order run_attribution adds them in
    // (the first blocked flow's origin and the evidence ids depend on it).
    std::vector<EntryAccumulator> acc(per_entry_.size());
    for (size_t e = 0; e < per_entry_.size(); ++e)
        for (const auto& [id, ef] : per_entry_[e]) acc[e].add(ef);
    stage::decide(c_, acc, dns_failed, out);
    write_verdicts(io, c_, out.entries, out.products);
    io.commit();
    out.outcomes_written = outcomes_written_;
    return out;
}

}  // namespace callwall::attrib
