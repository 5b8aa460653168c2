// Private to the library: attribution's side of the store. facts_of and
// provisional_outcome turn a live flow into the facts its row is written
// with; run_attribution reads a run's facts through the store, attributes
// them (attribute() in attrib/attribute.hpp) and writes the result.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "attrib/attrib.hpp"
#include "flow/flow_table.hpp"
#include "store/store.hpp"

namespace callwall::attrib {

class KeptFlows;

/// The facts a flow's row is written with (its names aside: they are rows of
/// their own), taken from the flow itself: what run_attribution reads back.
[[nodiscard]] FlowFacts facts_of(const flow::Flow& f, const facts::FlowAppInfo& app);
/// The same into `out`, every field set, its strings' storage reused (the
/// packet path's end of a flow allocates nothing once warm).
void facts_of(const flow::Flow& f, const facts::FlowAppInfo& app, FlowFacts& out);

/// The outcome column to write with a flow's row when the flow ends, so that
/// the first attribution pass finds most outcomes already right and rewrites
/// only the others: classify_flow on the flow's own facts (facts_of), with
/// the capture's end so far, into `out`. Attribution still decides and
/// rewrites any that differ (the capture went on after the flow ended). ""
/// for flows attribution does not classify (neither TCP nor UDP).
void provisional_outcome(const FlowFacts& facts, double capture_end, std::string& out);

/// Loads the run's facts from the store, attributes, and writes the results.
/// Throws store::StoreError on database failure.
/// `cancelled` (optional) is asked between pages of flows; when it says
/// true, nothing is written (the transaction rolls back) and
/// AttributionCancelled is thrown.
/// `hook` (optional) adds what the command knows to each flow's context.
/// `kept` (optional): the run's flows kept as their rows were written; when
/// complete, they are attributed instead of the rows read back.
/// `entry_hook` (optional) adds what the command knows to each verdict;
/// `outcome_hook` (optional) is told each flow's outcome.
RunVerdicts run_attribution(store::Store& db, int64_t run_id, const catalog::Catalog& c,
                            const std::function<bool()>& cancelled = {}, const FlowContextHook& hook = {},
                            KeptFlows* kept = nullptr, const EntryVerdictHook& entry_hook = {},
                            const FlowOutcomeHook& outcome_hook = {});

/// run_attribution was told to stop (Ctrl-C); the database is as before it.
class AttributionCancelled : public std::runtime_error {
public:
    AttributionCancelled() : std::runtime_error("attribution interrupted") {}
};

}  // namespace callwall::attrib
