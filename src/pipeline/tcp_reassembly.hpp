// In-order delivery of one TCP direction to the stream framers (STUN/TURN,
// RFC 4571, DNS over TCP, proxy preambles), with bounded out-of-order
// buffering and resynchronisation after a gap that cannot be filled.
//
// Model: Suricata src/stream-tcp-reassemble.c (segments held past a hole up
// to a depth, first copy wins on overlap by default) and Zeek
// src/analyzer/protocol/tcp/TCP_Reassembler.cc (blocks delivered once the
// hole below them fills; an "undelivered" gap reported to the analyzer,
// which then resynchronises). Written for callwall: fixed-size storage, no
// allocation; it throws only what its sink throws.
//
// Not supported: urgent data, SACK-driven reasoning. A hole is given up
// when the bounds below are hit, when a
// segment arrives more than kTcpMaxHoleSpan past it, when it stays open
// kTcpMaxHoleAgeUs of capture time, or at flow end).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "bytes/reader.hpp"

namespace callwall::pipeline {

// Bytes held past a hole, per direction: one TCP window of a TURN-TCP call
// (audio + video at ~1 Mbit/s is ~12 KiB per 100 ms RTT) until the
// retransmission arrives.
constexpr size_t kTcpOooBytes = 16384;
// Segments held past a hole: distinct pieces (coalesced when adjacent data
// arrives in order behind them is not possible, so pieces = segments).
constexpr size_t kTcpOooSegments = 32;
// A segment this far past the hole cannot be a retransmission-window's worth
// of loss: the hole is given up at once (capture loss, or a snaplen'd burst).
constexpr uint32_t kTcpMaxHoleSpan = 256 * 1024;
// A hole still open this long after the oldest segment held behind it
// arrived is given up: stacks retransmit within an RTO (200 ms - 3 s, RFC
// 6298 §2 gives 1 s initially), so the bytes were lost before the capture
// point, and facts behind them should not wait for the end of the flow.
constexpr int64_t kTcpMaxHoleAgeUs = 3'000'000;

/// Storage for the out-of-order segments of one direction (lent from a pool
/// while a hole is open).
struct TcpOooStore {
    struct Piece {
        uint32_t seq = 0;
        uint16_t len = 0;
        uint16_t off = 0;  // into data
        int64_t ts_us = 0;  // capture time of the segment it came from
    };
    std::array<uint8_t, kTcpOooBytes> data;
    std::array<Piece, kTcpOooSegments> pieces;  // sorted by seq, disjoint
    uint8_t count = 0;
    uint16_t used = 0;  // data bytes appended (holes between pieces included)
    uint16_t live = 0;  // bytes in pieces
    void reset() noexcept { count = 0, used = 0, live = 0; }
    [[nodiscard]] bool empty() const noexcept { return count == 0; }
};

/// What the reassembler hands on, in stream order. The reassembler itself
/// never throws; a sink may (interning a name), and the reassembler's state
/// stays consistent when it does (a piece is removed before it is handed on).
class TcpSink {
public:
    /// In-order bytes starting at sequence number `seq` (views valid during
    /// the call), captured at `ts_us` (held bytes keep their own arrival time).
    virtual void bytes(uint32_t seq, ByteView data, int64_t ts_us) = 0;
    /// `lost` bytes will never be delivered: the stream continues after them.
    virtual void gap(uint32_t lost) = 0;

protected:
    ~TcpSink() = default;
};

/// Per-direction state (a few bytes, kept inline in the flow).
class TcpReassembler {
public:
    struct Stats {
        uint32_t gaps = 0;  ///< holes given up
        uint64_t gap_bytes = 0;  ///< bytes never delivered
        uint32_t queued = 0;  ///< segments held past a hole
        uint32_t overlap_bytes = 0;  ///< bytes dropped because an earlier copy was delivered or held
    };

    /// The SYN of this direction: data starts at isn + 1 (before the first segment).
    void anchor_syn(uint32_t isn) noexcept {
        if (!known_) next_ = isn + 1, known_ = true;
    }
    /// True when a segment at `seq` would have to be held (the caller lends a store).
    [[nodiscard]] bool needs_store(uint32_t seq) const noexcept {
        return known_ && static_cast<int32_t>(seq - next_) > 0;
    }
    /// One segment captured at `ts_us`: `payload` as captured, `wire_len` its length on the wire
    /// (a snaplen cut tail is a gap). `store` may be null (no buffer could be
    /// lent): a segment past a hole then gives the hole up at once. First copy
    /// wins: bytes already delivered or held are never replaced by a later
    /// copy (Suricata's default overlap policy; a retransmission that differs
    /// from the original is an evasion attempt or a broken stack, and the
    /// copy the endpoint most likely acted on is the first).
    void add(uint32_t seq, ByteView payload, uint32_t wire_len, int64_t ts_us, TcpOooStore* store, TcpSink& sink);
    /// End of the stream: holes are given up and everything held is delivered.
    void flush(TcpOooStore* store, TcpSink& sink);

    [[nodiscard]] bool known() const noexcept { return known_; }
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }

private:
    void drain(TcpOooStore& s, TcpSink& sink);
    void skip_to(uint32_t seq, TcpSink& sink);
    bool insert(TcpOooStore& s, uint32_t seq, ByteView payload, int64_t ts_us) noexcept;

    uint32_t next_ = 0;
    bool known_ = false;
    Stats stats_{};
};

// ---------------------------------------------------------------------------
// Resynchronisation after a gap: where in the delivered bytes does the next
// frame plausibly start?

enum class FrameSync : uint8_t {
    StunDirect,  ///< STUN (magic cookie) or ChannelData back to back (RFC 8656 §12.5)
    Rfc4571,  ///< 16-bit length prefix, then STUN/RTP/RTCP/DTLS (RFC 4571, RFC 6544)
    Dns,  ///< 16-bit length prefix, then a DNS header (RFC 1035 §4.2.2)
};

// Frames longer than this are not believed at a resynchronisation point
// (TURN/ICE-TCP frames are MTU-sized; DNS over TCP answers a few KiB).
constexpr size_t kMaxResyncFrame = 8192;
// Chained frames checked behind a candidate before it is believed.
constexpr int kResyncChain = 8;

struct FrameProbe {
    size_t len = 0;  ///< bytes on the wire (0: no frame starts here)
    bool strong = false;  ///< the header alone is convincing (a magic cookie, a full DNS header)
};
/// A frame of kind `k` starting at `at[0]`, judged from its header only.
[[nodiscard]] FrameProbe probe_frame(FrameSync k, ByteView at) noexcept;
/// The offset of the first plausible frame start in `chunk`, or chunk.size()
/// when none: a candidate must be strong, or be followed by further valid
/// frames up to the end of the chunk (or kResyncChain of them).
[[nodiscard]] size_t find_resync(FrameSync k, ByteView chunk) noexcept;

}  // namespace callwall::pipeline
