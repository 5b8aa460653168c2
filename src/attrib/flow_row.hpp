// Private to the library: the facts a flow's row is written with, taken
// from the live flow as it ends (facts_of), and the outcome column written
// beside them (provisional_outcome). They are what run_attribution
// (attrib/run_attribution.hpp) reads back, or finds kept in memory.
#pragma once

#include <string>

#include "attrib/attrib.hpp"
#include "flow/flow_table.hpp"
#include "facts/flow_facts.hpp"

namespace callwall::attrib {

/// The facts a flow's row is written with (its names aside: they are rows of
/// their own), taken from the flow itself: what run_attribution reads back.
[[nodiscard]] FlowFacts facts_of(const flow::Flow& f, const facts::FlowAppInfo& app);
/// The same into `out`, every field set, its strings' storage reused (the
/// packet path's end of a flow allocates nothing once warm).
void facts_of(const flow::Flow& f, const facts::FlowAppInfo& app, FlowFacts& out);
/// The same from the row already built (facts::record_of).
void facts_of(const facts::FlowRecord& row, FlowFacts& out);

/// The outcome column to write with a flow's row when the flow ends, so that
/// the first attribution pass finds most outcomes already right and rewrites
/// only the others: classify_flow on the flow's own facts (facts_of), with
/// the capture's end so far, into `out`. Attribution still decides and
/// rewrites any that differ (the capture went on after the flow ended). ""
/// for flows attribution does not classify (neither TCP nor UDP).
void provisional_outcome(const FlowFacts& facts, double capture_end, std::string& out);

}  // namespace callwall::attrib
