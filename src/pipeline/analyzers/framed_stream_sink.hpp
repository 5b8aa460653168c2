// The TcpSink of an analyzer that cuts messages out of a TCP direction (DNS
// over TCP, STUN/TURN over TCP): in-order bytes go to the analyzer's framer,
// and a hole marks the direction as looking for the next frame start
// (TcpDelivery::resync), since the framing after it is unknown.
#pragma once

#include <cstdint>

#include "flow/flow_table.hpp"
#include "pipeline/app_analyzer.hpp"
#include "pipeline/tcp_stream.hpp"

namespace callwall::pipeline {

/// `Analyzer` has `bytes(Flow&, FlowApp&, Dir, ByteView, int64_t ts_us)` and a
/// `pool_` of slots with `stream[2]`; `State`, the flow's state, the `slot` it
/// has lent (-1 when none). The analyzer befriends this sink.
template <class Analyzer, class State>
struct FramedStreamSink final : TcpSink {
    FramedStreamSink(Analyzer& an, flow::Flow& fl, FlowApp& ap, flow::Dir dir) : self(an), f(fl), a(ap), d(dir) {}
    void bytes(uint32_t, ByteView data, int64_t ts_us) override { self.bytes(f, a, d, data, ts_us); }
    void gap(uint32_t) override {
        const int32_t slot = flow_state<State>(a).slot;
        if (slot >= 0) self.pool_.at(slot).stream[d].resync = true;
    }
    Analyzer& self;
    flow::Flow& f;
    FlowApp& a;
    flow::Dir d;
};

}  // namespace callwall::pipeline
