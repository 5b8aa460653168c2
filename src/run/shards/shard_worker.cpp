// One decoding worker of a sharded run. See run/shards/shard_worker.hpp.
#include "run/shards/shard_worker.hpp"

#include "run/row_hook.hpp"
#include "store/run_writer.hpp"
#include "store/store.hpp"

namespace callwall::run {

ShardWorker::ShardWorker(std::vector<char>& out, int64_t run_id, const pipeline::AnalyzerConfig& cfg,
                         const RowHook* run_hook)
    : recorder_(store::Store::recorder(out)),
      sinks_(std::make_unique<store::RunWriter>(*recorder_, run_id, cfg.per_message_rows)),
      writer_(out),
      hook_(run_hook ? run_hook->for_worker() : nullptr) {
    facts::RunSinks sinks = sinks_->sinks();
    sinks.rows = this;
    analyzer_ = std::make_unique<pipeline::Analyzer>(sinks, cfg);
    analyzer_->work_for(*this, writer_);
}

ShardWorker::~ShardWorker() = default;

template <class F>
void ShardWorker::record(F&& write) noexcept {
    try {
        write();
    } catch (...) {
        // Out of memory growing the buffer: the run fails at its end (Shards::finish).
        if (!error_) error_ = std::current_exception();
    }
}

bool ShardWorker::frame(const decode::RawFrame& f, uint64_t index, int64_t clock_us, uint64_t seq) noexcept {
    record([&] { writer_.key(index, shard::kPacketPhase); });
    return analyzer_->process_at(f, clock_us, seq);
}

void ShardWorker::tick(uint64_t index, int64_t clock_us, double last_ts, uint64_t seq) noexcept {
    tick_index_ = index;
    analyzer_->expire_at(clock_us, seq, last_ts);
}

void ShardWorker::snapshot(uint64_t index, double last_ts, bool all, const std::vector<decode::IpAddr>& peers,
                           bool peers_listed) noexcept {
    record([&] {
        writer_.key(index, shard::kSnapshotPhase);
        analyzer_->totals().last_ts = last_ts;
        analyzer_->write_live(all, peers, peers_listed);
    });
}

void ShardWorker::finish(double last_ts, uint64_t seq) noexcept {
    ending_ = true;  // after every packet's and tick's records
    analyzer_->finish_at(seq, last_ts);
    record([&] { writer_.end(); });
}

void ShardWorker::drain() {
    if (error_) std::rethrow_exception(error_);
    analyzer_->drain();
}

void ShardWorker::flow_created(uint64_t id) noexcept {
    record([&] { writer_.created(id); });
}

void ShardWorker::datagram_released(uint64_t order) noexcept {
    record([&] { writer_.key(tick_key(), shard::kReleasePhase | order); });
}

void ShardWorker::flow_ending(uint64_t lru_seq) noexcept {
    record([&] { writer_.key(tick_key(), shard::kEvictPhase | lru_seq); });
}

void ShardWorker::flow_row(const facts::FlowEnd& e) {
    if (hook_) hook_->outcome(e.record, e.app, e.capture_end);
    writer_.flow_row(e.flow, e.app, e.sni, e.proxy, e.live);
}

void ShardWorker::icmp_error(const facts::IcmpErrorFact& e) { sinks_->icmp_error(e); }

std::exception_ptr ShardWorker::take_error() noexcept { return sinks_->take_error(); }

}  // namespace callwall::run
