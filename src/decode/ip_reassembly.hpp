// IPv4 and IPv6 fragment reassembly: bounded, and allocation-free once built.
//
// Normative references: RFC 791 §2.3 and §3.2 (IPv4 fragmentation, the
// reassembly key {source, destination, protocol, identification}), RFC 8200
// §4.5 (IPv6 Fragment header, key {source, destination, identification}, the
// first fragment's headers are the reassembled datagram's, 60 s limit),
// RFC 5722 (an IPv6 fragment overlapping another discards the datagram; exact
// duplicates may be dropped alone, RFC 8200 §4.5), RFC 815 (hole bookkeeping;
// here a bitmap of 8-octet blocks).
//
// A fragment is added with the PacketMeta parse_frame made of it (its
// frag_ip view). When the last hole is filled the datagram is rebuilt from
// the first fragment's header and handed to the release callback decoded as
// one packet. A datagram that cannot complete — timed out, pushed out by a
// newer one when every slot is busy, overlapping (IPv6), longer than 65535
// bytes, or with a fragment cut by the snaplen — is released as what the
// first fragment alone would have given (its header and the contiguous data
// from offset 0, decoded as a first fragment), or, without a first fragment,
// as a count of fragments nobody can attribute. Either way every fragment is
// released exactly once, with its wire bytes.
//
// Bounds: kMaxDatagrams datagrams in progress, kMaxDatagramBytes each,
// kTimeoutUs of capture time (the latest frame time seen: a clock that jumps
// back does not extend or cut the timer). The buffers are allocated once, in
// the constructor.
//
// Not supported: the IPv6 unfragmentable part's extension headers are not
// kept in the rebuilt datagram (nothing after the decode stage reads them);
// overlapping IPv4 fragments are accepted, the later data winning (RFC 791
// leaves it open); checksums are not verified (as in decode/packet.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>

#include "decode/packet.hpp"

namespace callwall::decode {

/// One fragment as read from its IP packet (PacketMeta::frag_ip).
struct FragmentView {
    uint8_t ip_version = 0;
    IpAddr src, dst;
    uint32_t id = 0;
    uint8_t proto = 0;  ///< IPv4 protocol; IPv6: the Fragment header's Next Header
    uint32_t offset = 0;  ///< in bytes
    bool more = false;  ///< MF / M flag
    ByteView header{};  ///< IPv4 header (with options) / the fixed 40-byte IPv6 header
    ByteView data{};  ///< the fragment's data as captured
    uint32_t data_wire_len = 0;  ///< the fragment's data length per its header
};

/// Reads the fragment an IP packet holds; false when it is not a fragment or
/// its headers are cut.
[[nodiscard]] bool parse_fragment(ByteView ip, FragmentView& out) noexcept;

struct ReassemblyStats {
    uint64_t fragments = 0;  ///< fragments added
    uint64_t completed = 0;  ///< datagrams reassembled
    uint64_t timed_out = 0;  ///< released incomplete after kTimeoutUs
    uint64_t evicted = 0;  ///< released incomplete to make room (all slots busy)
    uint64_t overlaps = 0;  ///< IPv6 datagrams discarded for overlapping fragments (RFC 5722)
    uint64_t invalid = 0;  ///< datagrams given up: > 65535 bytes, inconsistent ends, misaligned fragments
    uint64_t cut = 0;  ///< datagrams with a fragment cut by the snaplen
    uint64_t flushed = 0;  ///< released incomplete at the end of the run
    uint64_t duplicates = 0;  ///< exact duplicate fragments ignored
    uint64_t unattributed = 0;  ///< fragments released without their first fragment
};

class IpReassembler {
public:
    /// Datagrams in progress at once; a fragment of a new datagram when all
    /// are busy releases the oldest. 64 covers the fragmented DNS/EDNS
    /// answers of a busy resolver's client, and costs 4 MiB of address
    /// space, touched only as slots are used.
    static constexpr size_t kMaxDatagrams = 64;
    /// IPv4 total length and IPv6 payload length are 16-bit.
    static constexpr uint32_t kMaxDatagramBytes = 65535;
    /// Capture time a datagram may take to complete: Linux's ipfrag_time
    /// (30 s), below RFC 8200's 60 s, so an unfinished datagram's first
    /// fragment reaches its flow before the flow idles out (UDP 120 s).
    static constexpr int64_t kTimeoutUs = 30'000'000;

    struct Released {
        /// The reassembled datagram (complete) or the first fragment's part
        /// (incomplete), decoded; nullptr when there was no first fragment or
        /// it did not decode.
        const PacketMeta* meta = nullptr;
        bool complete = false;
        uint32_t fragments = 0;  ///< fragments this release stands for
        uint64_t wire_bytes = 0;  ///< their IP lengths, summed
        int64_t ts_us = 0;  ///< frame time of the last of them
        int64_t first_ts_us = 0;  ///< frame time of the earliest of them
        uint64_t order = 0;  ///< at()'s sequence when its first fragment was seen
    };
    using ReleaseFn = std::function<void(const Released&)>;

    IpReassembler();
    ~IpReassembler();
    IpReassembler(const IpReassembler&) = delete;
    IpReassembler& operator=(const IpReassembler&) = delete;

    void set_release_callback(ReleaseFn fn) { on_release_ = std::move(fn); }

    /// Adds the fragment `m` (m.is_fragment, m.frag_ip set) seen at `ts_us`.
    /// Releases (through the callback) the datagram it completes and any it
    /// pushes out. A fragment whose headers do not parse is released alone,
    /// unattributed.
    void add(const PacketMeta& m, int64_t ts_us) noexcept;
    /// The clock and sequence of the fragment that follows (optional; see
    /// FlowTable::at): a datagram remembers the sequence of its first
    /// fragment seen, and datagrams released together go in that order.
    void at(int64_t clock_us, uint64_t seq) noexcept {
        clock_us_ = std::max(clock_us_, clock_us);
        seq_ = seq;
    }
    /// Releases datagrams older than kTimeoutUs at capture time `now_us`,
    /// oldest first fragment first.
    void expire(int64_t now_us) noexcept;
    /// Releases every datagram in progress (end of run), oldest first fragment first.
    void flush() noexcept;

    [[nodiscard]] const ReassemblyStats& stats() const noexcept { return stats_; }
    [[nodiscard]] size_t in_progress() const noexcept { return live_; }

private:
    struct Slot;
    enum class Why : uint8_t { Complete, Timeout, Evicted, Flush };
    Slot* find_or_start(const FragmentView& f, const PacketMeta& m) noexcept;
    void release(Slot& s, Why why) noexcept;
    uint8_t* buffer(const Slot& s) noexcept;

    std::unique_ptr<Slot[]> slots_;
    std::unique_ptr<uint8_t[]> buffers_;  ///< kMaxDatagrams × (header room + kMaxDatagramBytes), uninitialised
    size_t live_ = 0;
    int64_t clock_us_ = INT64_MIN;  ///< latest frame time seen
    uint64_t seq_ = 0;  ///< at()'s (without it 0: datagrams released together go in slot order)
    /// Releases the slots `due` says, in order of their first fragments.
    template <class Due>
    void release_in_order(Due due, Why why) noexcept;
    ReassemblyStats stats_;
    PacketMeta out_;  ///< the released packet, reused
    ReleaseFn on_release_;
};

}  // namespace callwall::decode
