// A packet Analyzer wired to a run of a store. See run/store_analyzer.hpp.
#include "run/store_analyzer.hpp"

#include "run/flow_ends.hpp"
#include "run/shards/sharded_run.hpp"
#include "run/shards/shards.hpp"
#include "store/run_writer.hpp"

namespace callwall::run {

StoreAnalyzer::StoreAnalyzer(store::Store* store, int64_t run_id, const pipeline::AnalyzerConfig& cfg, RowWiring wiring,
                             ShardInputs shards) {
    if (store) writer_ = std::make_unique<store::RunWriter>(*store, run_id, cfg.per_message_rows);
    facts::RunSinks sinks = writer_ ? writer_->sinks() : facts::RunSinks{};
    if (writer_ || wiring.hook || wiring.observer) {
        ends_ = std::make_unique<FlowEnds>(writer_.get(), wiring.hook, wiring.observer);
        sinks.rows = ends_.get();
    }
    if ((cfg.workers > 1 || shards.fanout) && store) {
        sharded_ = std::make_unique<ShardedRun>(
            std::make_unique<Shards>(*store, run_id, cfg, cfg.workers, wiring.hook, shards));
        if (ends_) ends_->rows_unseen();  // the merger writes the rows
        return;
    }
    analyzer_ = std::make_unique<pipeline::Analyzer>(sinks, cfg);
    if (!writer_ && ends_) ends_->rows_unseen();  // no row is written: nothing to keep
}

StoreAnalyzer::~StoreAnalyzer() = default;

void StoreAnalyzer::track_written() noexcept {
    if (!ends_) return;
    ends_->track_written();
    if (sharded_) sharded_->workers().track_written(ends_->written_ids());
}

void StoreAnalyzer::take_written_ids(std::vector<uint64_t>& out) {
    if (ends_)
        ends_->take_written_ids(out);
    else
        out.clear();
}

void StoreAnalyzer::process_sharded(const decode::RawFrame& frame) noexcept { sharded_->process(frame); }

facts::RunTotals& StoreAnalyzer::totals() noexcept { return sharded_ ? sharded_->totals() : analyzer_->totals(); }

void StoreAnalyzer::snapshot() {
    if (sharded_)
        sharded_->snapshot(true);
    else
        analyzer_->snapshot();
}

uint64_t StoreAnalyzer::snapshot_changed() {
    return sharded_ ? sharded_->snapshot(false) : analyzer_->snapshot_changed();
}

void StoreAnalyzer::finish() {
    if (sharded_)
        sharded_->finish();
    else
        analyzer_->finish();
}

void StoreAnalyzer::drain() {
    if (sharded_)
        sharded_->drain();
    else
        analyzer_->drain();
}

std::string StoreAnalyzer::wait_for_workers(int ms) { return sharded_ ? sharded_->wait_for_workers(ms) : ""; }

flow::FlowTableStats StoreAnalyzer::flow_stats() const {
    return sharded_ ? sharded_->flow_stats() : analyzer_->flows().stats();
}

size_t StoreAnalyzer::live_flows() const { return sharded_ ? sharded_->live_flows() : analyzer_->flows().live(); }

pipeline::DissectStats StoreAnalyzer::dissect_stats() const {
    return sharded_ ? sharded_->dissect_stats() : analyzer_->dissector().stats();
}

uint64_t StoreAnalyzer::flows_written() const noexcept {
    return sharded_ ? sharded_->flows_written() : analyzer_->flows_written();
}

const uint64_t* StoreAnalyzer::state_counts() const noexcept {
    return sharded_ ? sharded_->state_counts() : analyzer_->state_counts();
}

}  // namespace callwall::run
