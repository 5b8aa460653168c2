// Reading a capture file on a second core.
//
// ReadAhead wraps a file PcapSource. With a reader thread, that thread calls
// libpcap (the kernel copy and the record parsing that the floor benchmark
// measures) and copies each frame into one of a small fixed ring of chunks;
// the analysing thread takes whole chunks and walks their frames. The two
// threads meet once per few chunks (256 KiB each), not once per packet: a
// reader that filled the ring sleeps until half of it is free. Memory is
// bounded by the ring (kChunks chunks) whatever the file's size; the ring is
// small so the bytes are still in cache when the analyser reaches them.
// Without a thread, next() forwards to the source: the same interface, one
// core.
//
// A plain classic pcap file on disk is read in blocks straight into the
// chunks' buffers (PcapSource::reads_blocks, lend_blocks): each chunk holds
// a block of the file, and its frames are where they lie in it (a record
// cut by a block's end is copied to the next block's start).
//
// A plain pcapng file on disk is read out of its memory map
// (PcapSource::frames_in_map): then the reader thread copies nothing. It
// only walks the records and lends each frame where it lies in the map; the
// map's pages behind a chunk are dropped (by the reader, off the analyser's
// path) when the analyser has given the chunk back and the reader refills it
// (PcapSource::hold_frames / release_frames_before), so the lent bytes stay
// mapped while they are read and memory stays bounded by the ring (kChunks
// chunks of at most kLentBytes of the file).
//
// The reader leaves the frames' headers to the analyser: decoded there into
// one PacketMeta that stays in its cache, they cost less than decoded here
// into an array of them that the other core must then fetch line by line
// (docs/performance.md).
//
// While its ring is full the reader does lent work instead of sleeping
// (lend_idle_time, util/idle_work.hpp: the store's queued rows, a step at a
// time), so a file analysis keeps two busy threads on two CPUs; it gives the
// work back when it ends.
//
// Frames come out in file order with the same bytes, timestamps, lengths and
// link types as PcapSource::next() gives, followed by the same End or Error
// (the error text travels with it). tests/unit/capture/read_ahead_test.cpp
// checks this frame for frame against the plain source.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/pcap_source.hpp"
#include "util/idle_work.hpp"

namespace callwall::capture {

class ReadAhead {
public:
    static constexpr size_t kChunkBytes = size_t{1} << 18;
    static constexpr size_t kChunkRecords = 4096;  ///< frames per chunk at most
    /// Eight: room for the reader to lose its core for a while (busy 2 M,
    /// default threads: futex calls ~5,000 -> ~1,400-1,900, context
    /// switches ~2,500 -> ~750-1,100 against four chunks woken one by one).
    static constexpr size_t kChunks = 8;
    /// A full ring's reader waits for this many free chunks before it reads on.
    static constexpr size_t kRefill = kChunks / 2;
    /// Lending: a chunk ends once its frames span this much of the map.
    static constexpr size_t kLentBytes = size_t{1} << 19;

    /// Takes the source. `threaded`: start the reader thread (falls back to
    /// reading inline when the thread cannot be started).
    ReadAhead(std::unique_ptr<PcapSource> source, bool threaded);
    ~ReadAhead();  ///< stops the reader thread and waits for it
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    /// The next frame, as PcapSource::next(); `frame.bytes` is valid until the
    /// next call. After End or Error every further call returns the same.
    /// Inline: a frame of the chunk in hand is a few loads and stores, on the
    /// decoding thread's path for every packet.
    NextStatus next(RawFrame& frame) noexcept {
        if (current_ && pos_ < current_->count) {  // never with inline_ (current_ stays null)
            hand_out(frame);
            return NextStatus::Frame;
        }
        return next_slow(frame);
    }
    [[nodiscard]] const std::string& name() const noexcept { return source_->name(); }
    /// What went wrong once next() returned Error.
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    [[nodiscard]] bool threaded() const noexcept { return thread_.joinable(); }
    /// The reading thread does `work` (util/idle_work.hpp: the store's
    /// writes) while its ring is full, a step at a time, instead of sleeping
    /// beside a third thread; it gives the work back when it ends (the file's
    /// end, an error, or the destructor). Call once, before next(); without a
    /// reading thread nothing happens. `work` must outlive this ReadAhead.
    void lend_idle_time(util::IdleWork* work);

    /// True when `path` may be read on another thread: a regular file. A
    /// pipe or FIFO is read inline, because a reader blocked in its read could
    /// not be stopped at exit (Ctrl-C must end the run).
    [[nodiscard]] static bool can_read_ahead(const std::string& path) noexcept;

private:
    /// One frame in a chunk. The headers sit in their own array, apart from
    /// the bytes, so the analyser walks them sequentially and can prefetch a
    /// frame's first bytes a few frames ahead (they were written on the
    /// other core and would otherwise be a cross-core miss each).
    struct Record {
        int64_t ts_us;
        uint32_t caplen, wirelen, linktype;
        uint16_t interface;  ///< RawFrame::interface (in the padding after linktype)
        const uint8_t* bytes;  ///< in the chunk's data, or in the map when lending
    };
    /// A cache line (or two) of its own: the reader counts the frames of the
    /// chunk it fills while the analyser reads the count of the one before.
    struct alignas(64) Chunk {
        Record* records = nullptr;  ///< kChunkRecords of them, in ring_
        uint8_t* data = nullptr;  ///< in ring_; not when lending
        size_t count = 0;  ///< records filled
        size_t used = 0;  ///< bytes of data filled (not when lending)
        NextStatus end = NextStatus::Frame;  ///< End/Error: the stream ends after this chunk's frames
    };

    /// Frames ahead of the one returned whose first bytes are prefetched.
    static constexpr size_t kPrefetchDistance = 8;

    /// Hands out the record at pos_ of current_ (there is one) and moves on.
    void hand_out(RawFrame& frame) noexcept {
        const Chunk& c = *current_;
        const size_t pos = pos_++;
        const Record& r = c.records[pos];
        if (pos + kPrefetchDistance < c.count) {
            const uint8_t* ahead = c.records[pos + kPrefetchDistance].bytes;
            __builtin_prefetch(ahead);
            __builtin_prefetch(ahead + 64);
            // The record headers further on (written on the other core too).
            if (pos + 4 * kPrefetchDistance < c.count) __builtin_prefetch(&c.records[pos + 4 * kPrefetchDistance]);
        }
        frame.ts_us = r.ts_us;
        frame.caplen = r.caplen;
        frame.wirelen = r.wirelen;
        frame.linktype = r.linktype;
        frame.interface = r.interface;
        frame.bytes = ByteView{r.bytes, r.caplen};
    }
    /// next() past the chunk in hand: the next chunk, the end, or reading inline.
    NextStatus next_slow(RawFrame& frame) noexcept;
    /// next_slow with a reading thread: the next chunk's frames (waits for
    /// it). Apart, so that the one-thread path (a call per frame) does not
    /// set up the locking's stack frame.
    [[gnu::noinline]] NextStatus next_chunk(RawFrame& frame) noexcept;
    void read_loop() noexcept;
    /// The reader's part of read_loop until it returns; read_loop gives the lent work back after.
    void read_chunks() noexcept;
    /// Puts `frame` in `c` (a copy, or lent); false when it belongs to the next chunk.
    bool add(Chunk& c, const RawFrame& frame) noexcept;
    /// Fills `c` with the source's frames, copied or lent (not blocks_): `frame`
    /// is one read but left for this chunk when `carried`, and is left in turn
    /// when it does not fit. False when the reader was stopped.
    bool fill_from_source(Chunk& c, RawFrame& frame, bool& carried) noexcept;
    /// Fills `c` with the records of the file's next block, read into its buffer (blocks_).
    void fill_from_blocks(Chunk& c) noexcept;
    /// Appends `frame`'s record, its bytes at `bytes`.
    static void put(Chunk& c, const RawFrame& frame, const uint8_t* bytes) noexcept;

    std::unique_ptr<PcapSource> source_;
    std::string error_;  ///< set by the reader before it publishes the last chunk
    std::vector<Chunk> chunks_;  ///< used in strict rotation: chunk i % kChunks
    /// Every chunk's records and bytes (7 MiB), one block on huge pages: the
    /// reader's first pass over 4 KiB pages faulted on each (a busy run takes
    /// ~900 faults fewer so, ~12 µs each in a virtual machine) while the
    /// analyser waited for its first chunks (docs/performance.md).
    struct Ring {
        void* at = nullptr;
        size_t bytes = 0;
        Ring() = default;
        Ring(const Ring&) = delete;
        Ring& operator=(const Ring&) = delete;
        ~Ring();
    } ring_;
    /// Maps ring_ and points the chunks into it.
    void map_ring();

    bool lend_ = false;  ///< frames are lent from the map, not copied (set before the thread starts)
    /// Frames lie in the chunk's buffer, a block of the file the source read
    /// into it (PcapSource::reads_blocks; set before the thread starts).
    bool blocks_ = false;
    std::mutex mu_;
    std::condition_variable cv_;
    uint64_t produced_ = 0;  ///< chunks filled by the reader (guarded by mu_)
    uint64_t consumed_ = 0;  ///< chunks given back by the analyser (guarded by mu_)
    /// The reader found the ring full and waits until kRefill chunks are free
    /// (guarded by mu_): only then does a chunk given back wake it. Woken per
    /// chunk given back (a ring of 4), the reader was woken thousands of times
    /// a busy run, each wake-up costing the analyser a futex call and an
    /// inter-processor interrupt, and the analyser still found the ring empty
    /// hundreds of times, when the reader had
    /// lost its core to the store's writer.
    bool reader_waits_ = false;
    /// Work the reader does while its ring is full (lend_idle_time; set under mu_).
    util::IdleWork* idle_ = nullptr;
    bool idle_arrived_ = false;  ///< the work's owner has more (its wake; under mu_)
    bool reader_ended_ = false;  ///< read_loop returned: nothing more is lent (under mu_)
    std::atomic<bool> stop_{false};
    std::thread thread_;

    // Analysing side: a cache line of its own, apart from what the reader
    // writes (the ring's counters, the lock) and reads on every frame (stop_).
    alignas(64) bool inline_ = true;  ///< no reader thread: next() forwards to the source
    const Chunk* current_ = nullptr;
    size_t pos_ = 0;  ///< next record of current_
    NextStatus done_ = NextStatus::Frame;  ///< sticky End/Error once reached
};

}  // namespace callwall::capture
