// Attribution's side of writing a flow's row, as the run session wires it
// (run/flow_ends.hpp; a decoding worker's: run/shards/shard_worker.hpp): the outcome column written with the row
// (attrib::provisional_outcome, so the first attribution pass rewrites only
// the rows the capture's later frames change) and the flows kept in memory
// for the run's attribution (attrib::KeptFlows).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "attrib/attrib.hpp"
#include "facts/flow_facts.hpp"
#include "facts/naming.hpp"
#include "flow/flow_table.hpp"

namespace callwall::attrib {
class KeptFlows;
}

namespace callwall::run {

class RowHook final {
public:
    /// The outcome column, given the facts the row is written with
    /// (attrib::facts_of) and the capture's end so far.
    using OutcomeFn = std::function<void(const attrib::FlowFacts&, double capture_end, std::string& outcome)>;

    /// `outcome` unset: rows are written with a blank outcome (the first
    /// attribution pass writes every one). `kept` (not owned; null: none):
    /// each ending flow's facts as its row is written, for the run's
    /// attribution to take instead of reading the rows back; abandoned once
    /// a row is written that it does not see (workers, a live snapshot).
    explicit RowHook(OutcomeFn outcome, attrib::KeptFlows* kept = nullptr)
        : outcome_(std::move(outcome)), kept_(kept) {}

    /// Before a row is written: may set the outcome of `info` and `row` (a
    /// view into storage this hook owns, valid until its next call);
    /// `capture_end`: the capture time of the run's latest frame.
    void outcome(facts::FlowRecord& row, facts::FlowAppInfo& info, double capture_end);
    /// An ending flow's row was written by this thread (after outcome), with
    /// the names its flow_name rows were written with.
    void written(const facts::FlowRecord& row, const facts::FlowNames& names);
    /// A row was written that written() does not see (a live refresh's, or
    /// rows the shards' merger writes): nothing is kept any more.
    void unseen_rows() noexcept;
    /// The hook a decoding worker takes: its own scratch, the outcome alone
    /// (its rows are written by the merger). Null: none.
    [[nodiscard]] std::unique_ptr<RowHook> for_worker() const;

private:
    OutcomeFn outcome_;
    attrib::KeptFlows* kept_;
    std::string outcome_buf_;  ///< the outcome of the row being written
    /// The facts of the row being written (its columns attribution reads), for the outcome
    /// and the kept flows alike; reused from flow to flow (no allocation once warm).
    attrib::FlowFacts facts_;
};

}  // namespace callwall::run
