// Packet sources: capture files (.pcap/.pcapng, via libpcap) and live interfaces.
//
// This module is the only code that includes <pcap.h>. Opening can fail with
// CaptureError (startup, exceptions allowed); reading never throws.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "bytes/reader.hpp"
#include "decode/frame.hpp"

namespace callwall::capture {

/// Frame times are clamped to ±year 9999 (9999-12-31T23:59:59Z), whatever a
/// file claims: every time, and every difference of two times, stays
/// representable in int64 microseconds.
inline constexpr int64_t kMaxFrameTsSeconds = 253402300799;

/// A frame's time from a file's seconds and microseconds, each clamped
/// (±kMaxFrameTsSeconds, 0..999999): libpcap passes an out-of-range field
/// through, and a pcapng timestamp (64 bits in units of if_tsresol) can give
/// seconds far beyond what fits in int64 microseconds.
[[gnu::always_inline]] inline int64_t frame_time_us(int64_t sec, int64_t usec) noexcept {
    sec = sec < -kMaxFrameTsSeconds ? -kMaxFrameTsSeconds : sec > kMaxFrameTsSeconds ? kMaxFrameTsSeconds : sec;
    usec = usec < 0 ? 0 : usec > 999999 ? 999999 : usec;
    return sec * 1000000 + usec;
}

/// One frame as read (decode/frame.hpp). `bytes` is borrowed until the next call to next().
using decode::RawFrame;

enum class CaptureErrorKind {
    NotFound,  ///< file or interface does not exist
    NotReadable,  ///< a directory, no read permission, I/O error
    NotACapture,  ///< not pcap/pcapng, or a corrupt header
    UnknownLinkType,  ///< a link type callwall does not decode
    Permission,  ///< no permission to capture on the interface
    Filter,  ///< the BPF filter does not compile
    FanoutRefused,  ///< the kernel refuses a PACKET_FANOUT group (capture/fanout.hpp)
    Other,
};

class CaptureError : public std::runtime_error {
public:
    CaptureError(CaptureErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    [[nodiscard]] CaptureErrorKind kind() const noexcept { return kind_; }

private:
    CaptureErrorKind kind_;
};

struct LiveOptions {
    std::string interface;
    int snaplen = 262144;
    int buffer_size_mb = 64;
    bool promiscuous = true;
    bool immediate = false;  ///< false: TPACKET_V3 blocks, handed over when full or after read_timeout_ms
    int read_timeout_ms = 100;  ///< so next() returns Timeout and the caller can refresh/stop
    std::string filter;  ///< BPF expression; empty = everything
};

struct SourceStats {
    uint64_t kernel_received = 0;
    uint64_t kernel_dropped = 0;
    uint64_t interface_dropped = 0;

    /// Summed over several sources (interfaces, fanout sockets).
    SourceStats& operator+=(const SourceStats& k) noexcept {
        kernel_received += k.kernel_received;
        kernel_dropped += k.kernel_dropped;
        interface_dropped += k.interface_dropped;
        return *this;
    }
};

/// BlockDone: only for a reader that lends the source its blocks
/// (PcapSource::lend_blocks): the block in hand holds no whole record more.
enum class NextStatus { Frame, Timeout, End, Error, BlockDone };

class PcapSource {
public:
    /// Opens a capture file: pcap or pcapng, plain or compressed with gzip,
    /// zstd or xz (told by the magic bytes, not the name; see
    /// capture/decompress.hpp). "-" reads standard input. Throws CaptureError
    /// naming the file.
    static std::unique_ptr<PcapSource> open_file(const std::string& path);
    /// Opens a live interface with the options. Throws CaptureError naming it.
    static std::unique_ptr<PcapSource> open_live(const LiveOptions& options);

    ~PcapSource();
    PcapSource(const PcapSource&) = delete;
    PcapSource& operator=(const PcapSource&) = delete;

    /// Reads the next frame. Error: the file is damaged from here on (a
    /// truncated last record, a bad block); error() says what.
    NextStatus next(RawFrame& frame) noexcept;
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] uint32_t linktype() const noexcept { return linktype_; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    [[nodiscard]] bool live() const noexcept { return live_; }
    /// Kernel counters (live only; zeros for files).
    [[nodiscard]] SourceStats stats() const noexcept;
    /// Makes a blocking next() return End soon; safe from a signal handler.
    void break_loop() noexcept;
    /// A file descriptor for poll() (live only; -1 otherwise).
    [[nodiscard]] int selectable_fd() const noexcept;
    /// Live only: next() returns Timeout at once when no packet is waiting
    /// (several interfaces are then read in turn after poll()).
    void set_nonblocking();
    /// How a live capture's filter replaces the one it has (files: ignored).
    enum class FilterSwap {
        /// The kernel swaps the programs in one step: no packet is lost.
        /// Right after the first filter, the ring's block being filled may
        /// still be checked against the previous one: a change then takes
        /// effect for that block's packets one block later.
        InPlace,
        /// libpcap's way: what the socket holds is dropped and the new filter
        /// applies to every frame read after; packets arriving meanwhile are
        /// lost, counted nowhere. For a socket nothing should be read from yet.
        Drain,
    };
    /// Compiles and installs a BPF filter; throws CaptureError on a bad
    /// expression. Live: the kernel's filter. A file: frames that do not match
    /// are skipped by next() (compiled for each link type the file uses).
    void set_filter(const std::string& expression, FilterSwap swap = FilterSwap::InPlace);
    /// Files: reads the first frame ahead (next() returns it first) and gives
    /// its time; false when the file has no frame (empty, or damaged at once).
    [[nodiscard]] bool first_ts(int64_t& ts_us) noexcept;
    /// Files: the time of the last frame next() returned (0 before any).
    [[nodiscard]] int64_t last_ts() const noexcept { return last_ts_; }

    /// True when next()'s frames point into the file's memory map (a plain
    /// pcapng file on disk): they could outlive the next call.
    [[nodiscard]] bool frames_in_map() const noexcept;

    /// A plain classic pcap file on disk: its records are taken out of
    /// blocks of the file copied into a buffer (MappedFile::read_at), not
    /// through libpcap and not out of the map. The source reads into a
    /// buffer of its own unless a reader lends it buffers (lend_blocks).
    [[nodiscard]] bool reads_blocks() const noexcept;
    /// A block's buffer: room for a block read (kBlockRead) after the
    /// unread tail of the one before, which is at most one record.
    static constexpr size_t kBlockRead = size_t{1} << 19;
    static constexpr size_t kBlockCapacity = kBlockRead + (size_t{1} << 18) + 64;
    /// For a reader that hands reads_blocks() frames to another thread
    /// (capture::ReadAhead): from now on next() returns BlockDone when the
    /// block in hand holds no whole record more, and next_block() gives the
    /// next one; each frame stays valid as long as its block's buffer is
    /// not given again. lend_blocks(false) goes back (no thread could be
    /// started). Call before the first next() on another thread.
    void lend_blocks(bool lend = true) noexcept;
    /// Reads the file's next bytes into `buf` (kBlockCapacity bytes, not
    /// the block in hand): the unread tail of the block in hand first, then
    /// up to kBlockRead bytes of the file. A read that fails, or finds the
    /// file shorter than it was, makes the next record's next() an Error.
    void next_block(uint8_t* buf) noexcept;
    /// For a reader that lends frames_in_map() frames to another thread
    /// (capture::ReadAhead): from now on every frame stays valid, and its
    /// pages mapped, until release_frames_before() passes it; next() only
    /// maps pages ahead. Call before the first next() on another thread;
    /// hold_frames(false) goes back (no thread could be started).
    void hold_frames(bool hold = true) noexcept;
    /// The frames before `p` (a pointer into the map, at or past a frame's
    /// last byte) are no longer read by anyone: their pages may be dropped.
    void release_frames_before(const uint8_t* p) noexcept;

private:
    PcapSource() = default;
    struct Handle;
    std::unique_ptr<Handle> handle_;
    std::string name_;
    std::string error_;
    uint32_t linktype_ = 0;
    bool live_ = false;
    int64_t last_ts_ = 0;
    // The frame first_ts() read ahead, returned by the next next().
    bool peeked_ = false;
    NextStatus peek_status_ = NextStatus::End;
    RawFrame peek_frame_{};

    NextStatus read_frame(RawFrame& frame) noexcept;
    /// read_frame for what PcapBlocks does not read (pcapng, compressed,
    /// live): apart, so that the direct path does not set up its stack frame.
    [[gnu::noinline]] NextStatus read_through_libpcap(RawFrame& frame) noexcept;
    [[nodiscard]] bool passes_filter(const RawFrame& frame) noexcept;
};

}  // namespace callwall::capture
