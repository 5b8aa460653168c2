// In-order delivery of TCP directions to the analyzers that frame a stream
// (DNS over TCP, STUN/TURN over TCP, proxy preambles). A TcpStream lives in
// the slot of the framer it feeds, so flows that need none pay nothing; the
// segments held past a hole borrow a TcpOooStore from one bounded pool shared
// by every analyzer (TcpDelivery). A hole given up is counted and followed by
// resynchronisation at the next plausible frame (pipeline/tcp_reassembly.hpp).
#pragma once

#include <array>
#include <cstdint>

#include "decode/packet.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/dissect.hpp"
#include "pipeline/buffer_pool.hpp"
#include "pipeline/tcp_reassembly.hpp"

namespace callwall::pipeline {

/// One TCP direction being delivered in order; the owner returns `ooo`
/// (TcpDelivery::release) before the slot holding it is reset.
struct TcpStream {
    TcpReassembler r;
    int32_t ooo = -1;  ///< TcpOooStore lent while a hole is open
    bool resync = false;  ///< after a gap: looking for the next frame start
    bool dead = false;  ///< resynchronisation budget spent: direction given up
    uint32_t resync_scanned = 0;  ///< bytes scanned since the gap
};

class TcpDelivery {
public:
    // TCP directions with a hole open (16 KiB each).
    static constexpr size_t kOooSlots = 1024;
    // After a gap, bytes scanned for a frame start before a direction is given
    // up for good (a flow that only looked like STUN/DNS at first).
    static constexpr uint32_t kResyncBudget = 64 * 1024;

    explicit TcpDelivery(DissectStats& stats) noexcept : stats_(stats) {}

    /// Hands this segment's new bytes (and any held ones it unblocks) to `sink` in stream order.
    void add(const flow::Flow& f, TcpStream& st, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us,
             TcpSink& sink);
    /// The flow ends: holes still open are given up and held bytes delivered.
    void flush(TcpStream& st, TcpSink& sink);
    /// After a gap: drops the bytes before the next plausible frame start.
    /// True when `p` now starts one (the framer restarts there).
    bool resync(TcpStream& st, FrameSync k, ByteView& p) noexcept;
    /// Returns the held-segment stores of both directions.
    void release(std::array<TcpStream, 2>& streams) noexcept;
    /// The held segments of a direction, handed over whole (the TLS assembler keeps order itself).
    [[nodiscard]] TcpOooStore* held(TcpStream& st) noexcept { return st.ooo >= 0 ? &pool_.at(st.ooo) : nullptr; }
    void drop_held(TcpStream& st) noexcept;
    [[nodiscard]] Pool<TcpOooStore>& pool() noexcept { return pool_; }

private:
    void count(const TcpReassembler::Stats& before, const TcpReassembler::Stats& after) noexcept;

    DissectStats& stats_;
    Pool<TcpOooStore> pool_{kOooSlots};
};

}  // namespace callwall::pipeline
