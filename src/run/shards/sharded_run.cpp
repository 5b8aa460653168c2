// The reading thread's side of a sharded run. See run/shards/sharded_run.hpp.
#include "run/shards/sharded_run.hpp"

#include <algorithm>
#include <utility>

#include "pipeline/analyzer.hpp"
#include "pipeline/run_notes.hpp"

namespace callwall::run {

ShardedRun::ShardedRun(std::unique_ptr<Shards> workers)
    : workers_(std::move(workers)), workers_read_(workers_->workers_read()) {}

ShardedRun::~ShardedRun() = default;

void ShardedRun::process(const decode::RawFrame& frame) noexcept {
    facts::RunTotals& t = totals_;
    const decode::PacketMeta* m = count_.take(frame, t, meta_);
    if (!m) return;
    const int64_t clock_us = count_.clock_us;
    try {
        workers_->dispatch(frame, *m, t.packets, clock_us);
        if (clock_us - last_expire_us_ >= pipeline::kExpireIntervalUs) {
            workers_->tick(t.packets, clock_us, t.last_ts);
            last_expire_us_ = clock_us;
        }
    } catch (...) {
        if (!deferred_error_) deferred_error_ = std::current_exception();
    }
}

uint64_t ShardedRun::snapshot(bool all) {
    drain();
    const uint64_t written = workers_->snapshot(totals_.packets, totals_.last_ts, all);
    pull_totals();
    totals_.flows = workers_->flows_created();
    return written;
}

void ShardedRun::drain() {
    if (deferred_error_) std::rethrow_exception(std::exchange(deferred_error_, nullptr));
}

void ShardedRun::finish() {
    drain();
    workers_->finish(totals_.packets, totals_.last_ts);
    pull_totals();  // fanout: the workers counted the frames
    pipeline::note_input(totals_.notes, count_.clock_back_jumps, count_.clock_back_max_us, count_.undecoded);
    const ShardTotals st = workers_->totals();
    pipeline::note_fragments(totals_.notes, st.reassembly);
    totals_.orphan_fragments += st.orphan_fragments;
    flows_written_ = st.flows_written;
    std::copy(std::begin(st.state_counts), std::end(st.state_counts), state_counts_);
    totals_.flows = st.flows.created;
    totals_.flows_evicted_full = st.flows.evicted_full;
}

void ShardedRun::pull_totals() {
    if (!workers_read_) return;
    const FramesRead f = workers_->totals().frames;
    static_cast<facts::FrameTotals&>(totals_) = f.totals;
    count_ = f.count;
}

std::string ShardedRun::wait_for_workers(int ms) {
    if (!workers_read_) return "";
    workers_->pump_for(ms);
    pull_totals();
    return workers_->error();
}

flow::FlowTableStats ShardedRun::flow_stats() const {
    flow::FlowTableStats st = workers_->totals().flows;
    st.created = workers_->flows_created();
    return st;
}

size_t ShardedRun::live_flows() const { return workers_->totals().live_flows; }

pipeline::DissectStats ShardedRun::dissect_stats() const { return workers_->totals().dissect; }

}  // namespace callwall::run
