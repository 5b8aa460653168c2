// Live attribution: the verdicts of a run still being
// captured, recomputed at each refresh from the flows that changed since the
// last one, not from every flow of the run.
//
// It keeps, across refreshes, each flow's contribution to its entries (what
// EntryAccumulator::add would be given), its kind (matched, catalog gap,
// other), the vendors active by their names, and the hosts with an answered
// STUN request of their own. A refresh re-attributes:
//   - the flows whose rows were written since the last refresh (the caller
//     passes their ids: run::StoreAnalyzer::take_written_ids);
//   - the flows whose result depended on something other than their own
//     row: on the capture's end time (an attempt still within its wait, or,
//     for a flow counted for an entry, a "capture ran N s after" in its
//     evidence), on whether another STUN exchange of the same host
//     succeeded, or on the server's TTLs elsewhere (a RST-only flow counted
//     for an entry: its origin text). Which ones is found by classifying each
//     flow again with that context changed: those whose outcome column (or,
//     when counted, whole outcome) would differ are re-attributed at every
//     refresh;
// and rebuilds every entry's accumulator from the kept contributions in flow
// id order — exactly the order run_attribution adds them in. When the set of
// active vendors grows (it changes which entries a flow matches) it makes a
// whole pass instead, and so when the run starts or stops holding one
// direction only (its silent flows are judged inconclusive while it does);
// when the flow table overflowed (split exchanges are looked for across all
// rows) it runs run_attribution itself.
//
// The verdicts, flow_match, unmatched_flow and outcome rows it writes are the
// ones run_attribution would write at that moment (tests/unit/attrib/
// live_attribution_test.cpp checks this refresh by refresh over every
// committed capture). The final attribution of a run stays run_attribution.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "attrib/stage.hpp"
#include "attrib/attrib.hpp"
#include "attrib/kept_rows.hpp"

namespace callwall::store {
class Store;
class AttributionIo;
}  // namespace callwall::store

namespace callwall::attrib {

class LiveAttribution {
public:
    /// `rows` (not owned; may be null): the run's flow interfaces as its
    /// rows were handed to the store (attrib/kept_rows.hpp).
    explicit LiveAttribution(const catalog::Catalog& c, const KeptRows* rows = nullptr);
    ~LiveAttribution();
    LiveAttribution(const LiveAttribution&) = delete;
    LiveAttribution& operator=(const LiveAttribution&) = delete;

    /// One refresh of run `run_id`: `changed` holds the ids of the flow rows
    /// written since the last refresh (any order, repeats allowed). Writes
    /// the attribution's rows in one transaction and returns the verdicts.
    /// May throw store::StoreError (nothing of this refresh is then written,
    /// and the next refresh makes a whole pass).
    RunVerdicts refresh(store::Store& db, int64_t run_id, const std::vector<uint64_t>& changed);

    /// Flows the last refresh attributed, and whether it was a whole pass.
    [[nodiscard]] uint64_t last_attributed() const noexcept { return last_attributed_; }
    [[nodiscard]] bool last_was_whole() const noexcept { return last_whole_; }

private:
    void reset();
    RunVerdicts whole_pass(store::AttributionIo& io, double capture_end, const stage::DnsFailures& dns_failed,
                           std::set<uint16_t> active);
    RunVerdicts finish(store::AttributionIo& io, const stage::DnsFailures& dns_failed);
    void note_stun_hosts(const FlowFacts& f);
    /// Attributes one flow (as read, not yet oriented), replacing what it
    /// contributed before, and writes its rows.
    void attribute_one(store::AttributionIo& io, const FlowFacts& stored, double capture_end);

    const catalog::Catalog& c_;
    const KeptRows* rows_;
    bool primed_ = false;  ///< a whole pass was made and nothing failed since
    /// Which of the run's interfaces hold one direction only
    /// (store::AttributionIo::for_each_interface_set, read at each refresh).
    OneDirection one_direction_;
    std::set<uint16_t> active_;
    std::set<std::string> stun_hosts_;
    /// Per entry: flow id → the flow's contribution, in id order.
    std::vector<std::map<uint64_t, EntryFlow>> per_entry_;
    /// Flow id → the entries it contributed to (only flows that did).
    std::unordered_map<uint64_t, std::vector<uint32_t>> contributed_;
    std::vector<uint8_t> kind_;  ///< by flow id: bits seen, matched, gap, other (live.cpp)
    uint64_t counts_[4] = {0, 0, 0, 0};  ///< flows with each bit of kind_
    std::unordered_set<uint64_t> volatile_;  ///< flows re-attributed at every refresh
    /// The rows of up to kKeptRows volatile flows as stored (the outcome
    /// column as last written), so a refresh does not read them again: a row
    /// changes only when its flow is written again, and is then read afresh.
    std::unordered_map<uint64_t, FlowFacts> kept_;
    static constexpr size_t kKeptRows = 65536;
    uint64_t outcomes_written_ = 0, last_attributed_ = 0;
    bool last_whole_ = false;
    RunVerdicts scratch_;  ///< attribute_flow's counters and active vendors, per flow
    std::vector<stage::Contribution> counted_;
};

}  // namespace callwall::attrib
