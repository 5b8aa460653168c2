// The store's side of the packet path's sinks (facts/flow_sink.hpp): the
// facts written by the store's fact writer (store/store_sink.hpp) and the
// flow and ICMP error rows, all as rows of one run. The run session (or a
// shard worker, into its recording Store) makes one per run and hands its
// sinks() to pipeline::Analyzer.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>

#include "facts/fact_sink.hpp"
#include "facts/flow_sink.hpp"
#include "store/store.hpp"

namespace callwall::store {

class RunWriter final : public facts::FlowRowSink {
public:
    /// `per_message_rows` false: no dns_answer, tls_hello or stun_message
    /// rows (StoreSink); the caller does not hand it ICMP errors then either.
    RunWriter(Store& store, int64_t run_id, bool per_message_rows = true);
    RunWriter(const RunWriter&) = delete;
    RunWriter& operator=(const RunWriter&) = delete;

    /// This writer's facts and rows, for pipeline::Analyzer.
    [[nodiscard]] facts::RunSinks sinks() noexcept { return {facts_.get(), this}; }

    void flow_row(const facts::FlowEnd& e) override;
    void icmp_error(const facts::IcmpErrorFact& e) override;
    std::exception_ptr take_error() noexcept override;

private:
    Store& store_;
    int64_t run_id_;
    std::exception_ptr error_;  ///< the fact writer's first error (it writes nothing more then)
    std::unique_ptr<facts::FactSink> facts_;  ///< the store's fact writer (make_fact_writer)
};

}  // namespace callwall::store
