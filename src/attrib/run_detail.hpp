// What a report of a run shows beside its verdicts, kept by run_attribution
// during the one pass it makes over the run's flows: the flows a verdict
// rests on (the first few of each outcome per entry), the flows that name a
// vendor no entry matched (catalog gaps), the other flows counted by
// transport, app and port, and which entries the same flows serve. With it
// a command prints its run's answer from memory, as the report would read
// it back from the rows written (report/from_run.hpp).
//
// Memory is bounded by the catalog (a few flows per entry and outcome, the
// entry pairs) and by what the report shows whole: every gap flow, and one
// count per (transport, app, port) group of the other flows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "attrib/attribute.hpp"
#include "facts/flow_facts.hpp"

namespace callwall::attrib {

/// A flow as a report shows it, as its row reads after attribution: sides
/// as recorded (before attribution oriented it), its outcome column as written.
using FlowRow = facts::ShownFlow;

struct RunDetail {
    /// Flows kept per entry and outcome: a report shows the first few of an
    /// entry's evidence flows (EntryVerdict::evidence_flows, blocked first).
    static constexpr size_t kKeptPerOutcome = 5;
    /// The kept flows' rows, by id.
    std::unordered_map<uint64_t, FlowRow> flows;
    /// Per entry (parallel to Catalog::entries()): the kept flows and how
    /// each matched the entry (its flow_match row's evidence).
    std::vector<std::vector<std::pair<uint64_t, Evidence>>> kept;
    /// A flow naming a vendor no entry of it matched, with the vendor's name
    /// it carries; in the order attributed.
    struct GapFlow {
        std::string vendor, name;
        FlowRow flow;
    };
    std::vector<GapFlow> gaps;
    /// TCP/UDP flows no entry counted and no vendor names, by transport,
    /// app and server port (as recorded), each group once.
    struct OtherGroup {
        std::string transport, app;
        uint16_t server_port = 0;
        uint64_t flows = 0;
    };
    std::vector<OtherGroup> other;
    /// Entry index pairs (a, b), a != b, both counted on one flow (both orders).
    std::set<std::pair<uint32_t, uint32_t>> shared;

    /// How entry `entry` matched flow `id`, when kept; null otherwise.
    [[nodiscard]] const Evidence* kept_evidence(uint32_t entry, uint64_t id) const noexcept;
};

/// Fills a RunDetail as run_attribution goes: before_orienting() with each
/// flow as read, then add() with the same flow oriented and its result.
class RunDetailKeeper {
public:
    RunDetailKeeper(RunDetail& out, size_t entries);
    /// The sides of the flow as recorded (orientation may swap them).
    void before_orienting(const FlowFacts& f);
    /// The flow's result; `per_entry` after the result was folded in.
    void add(const FlowFacts& f, const FlowResult& r, const std::vector<EntryAccumulator>& per_entry,
             const catalog::Catalog& c);
    /// The groups of other flows into RunDetail::other.
    void finish();

private:
    [[nodiscard]] FlowRow row_of(const FlowFacts& f, const FlowResult& r) const;
    RunDetail& out_;
    std::string client_ip_, server_ip_;
    uint16_t client_port_ = 0, server_port_ = 0;
    uint64_t packets_c2s_ = 0, packets_s2c_ = 0;
    /// Other flows' counts by (transport, app), then port; the last group
    /// looked up is remembered (flows of one app come in runs).
    std::vector<std::pair<std::pair<std::string, std::string>, std::unordered_map<uint16_t, uint64_t>>> groups_;
    size_t last_group_ = 0;
};

}  // namespace callwall::attrib
