// Attribution's side of writing a flow's row. See run/row_hook.hpp.
#include "run/row_hook.hpp"

#include "attrib/kept_flows.hpp"
#include "attrib/flow_row.hpp"

namespace callwall::run {

void RowHook::outcome(facts::FlowRecord& row, facts::FlowAppInfo& info, double capture_end) {
    if (!outcome_) return;
    attrib::facts_of(row, facts_);
    outcome_(facts_, capture_end, outcome_buf_);
    info.outcome = outcome_buf_;
    row.outcome = outcome_buf_;
    facts_.outcome = outcome_buf_;  // the facts as the row is written with the outcome
}

void RowHook::written(const facts::FlowRecord& row, const facts::FlowNames& names) {
    if (!kept_) return;
    if (!outcome_) attrib::facts_of(row, facts_);  // else outcome() made them
    kept_->add(facts_, names);
}

void RowHook::unseen_rows() noexcept {
    if (kept_) kept_->abandon();
}

std::unique_ptr<RowHook> RowHook::for_worker() const {
    if (!outcome_) return nullptr;
    return std::make_unique<RowHook>(outcome_);
}

}  // namespace callwall::run
