// Reading live interfaces on a thread that does nothing else.
//
// A live run's refresh (writing the flows that changed, attributing) takes
// time during which nobody reads the kernel's ring: the ring fills and the
// kernel drops, and a dropped answer is a false "no answer" — a false
// "blocked". The LiveReader's thread polls the interfaces and copies each
// frame into a ring of chunks (kChunks × kChunkBytes, 32 MiB), handing a
// chunk over when it is full, or after a read pass when the loop has taken
// every chunk before it (the loop then waits at most one poll interval);
// the capture loop takes whole chunks and walks their frames. While the loop
// refreshes, the thread keeps draining the kernel into the ring; only when
// the ring is full does it stop reading, and the kernel's ring (and its drop
// counter) takes over as before. Nothing is dropped in between: every frame
// the thread read is returned by next(), in the order read.
//
// Once started, the thread makes every libpcap call on the handles: the
// kernel counters are read by it every 100 ms (stats()), and a new filter is
// installed by it between two reads (set_filter()).
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

namespace callwall::capture {

class LiveReader {
public:
    static constexpr size_t kChunkBytes = size_t{1} << 19;  ///< 512 KiB of frame bytes per chunk
    static constexpr size_t kChunkRecords = 4096;  ///< frames per chunk at most
    static constexpr size_t kChunks = 64;  ///< 32 MiB in all
    /// Longest the thread waits in poll() before looking at stop, filter and counters.
    static constexpr int kPollMs = 50;
    /// After stop(): the frames the kernel still holds are read until a poll
    /// of kDrainPollMs brings none (longer than a source's 100 ms read
    /// timeout, which retires a TPACKET_V3 block), for kDrainMs at most.
    static constexpr int kDrainPollMs = 150;
    static constexpr int kDrainMs = 400;

    /// Starts the thread over `sources` (non-blocking live sources, not owned:
    /// they must outlive the reader). Throws std::system_error when the thread
    /// cannot be started.
    explicit LiveReader(std::vector<PcapSource*> sources);
    /// Start::Later: the thread starts at start() (capture --workers builds
    /// its readers before dropping privileges, and starts them after);
    /// until then next() finds nothing.
    enum class Start : uint8_t { Now, Later };
    LiveReader(std::vector<PcapSource*> sources, Start when);
    /// Starts the thread (once; not after stop()). Throws std::system_error
    /// when it cannot be started.
    void start();
    ~LiveReader();  ///< stops the thread and waits for it
    LiveReader(const LiveReader&) = delete;
    LiveReader& operator=(const LiveReader&) = delete;

    /// The next frame read; when none is buffered, waits up to `timeout_ms`
    /// for one and returns Timeout. `frame.bytes` is valid until the next
    /// call. After stop(), the frames still buffered, then End. Error when a
    /// source failed (error() says which and why), after the frames read before.
    NextStatus next(RawFrame& frame, int timeout_ms) noexcept;

    /// Stops reading (within kPollMs, then kDrainMs at most to take what the
    /// kernel still holds); next() still returns what was read.
    void stop() noexcept;

    /// stop() has been called.
    [[nodiscard]] bool stopped() const noexcept { return stop_.load(std::memory_order_relaxed); }

    /// Kernel counters summed over the sources, as the thread last read them
    /// (at most ~100 ms old; exact once next() returned End).
    [[nodiscard]] SourceStats stats() const;

    /// Installs `expression` as every source's kernel filter, on the reader's
    /// thread, and waits for it. Returns "" or the first source's error.
    std::string set_filter(const std::string& expression);

    /// "IFACE: reason" once next() returned Error.
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

    /// Times the thread found every chunk taken (the loop had fallen behind
    /// by 32 MiB) and left frames in the kernel's ring until one came back.
    [[nodiscard]] uint64_t ring_full() const noexcept { return ring_full_.load(std::memory_order_relaxed); }

private:
    struct Record {
        int64_t ts_us;
        uint32_t caplen, wirelen, linktype, offset;
        uint16_t interface;  ///< RawFrame::interface: the source's index
    };
    struct Chunk {
        std::unique_ptr<Record[]> records;
        std::unique_ptr<uint8_t[]> data;
        size_t count = 0;  ///< records filled
        size_t used = 0;  ///< bytes of data filled
    };

    void read_loop() noexcept;
    /// Reader: the next chunk to fill, waiting while all are taken; null when stopping.
    Chunk* acquire();
    /// Reader: hands the chunk being filled to the loop.
    void publish();
    /// Reader: the filter and counter chores between reads.
    void chores(double& last_stats);
    void read_stats();

    std::vector<PcapSource*> sources_;
    std::vector<Chunk> chunks_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    uint64_t produced_ = 0;  ///< chunks published (guarded by mu_)
    uint64_t consumed_ = 0;  ///< chunks given back (guarded by mu_)
    bool finished_ = false;  ///< the thread has exited; nothing more will be published (guarded by mu_)
    bool started_ = false;  ///< start() (or stop() before it) was called (guarded by mu_)
    std::string error_;  ///< written by the thread before finished_
    SourceStats stats_{};  ///< guarded by mu_
    std::string filter_;  ///< requested filter (guarded by mu_)
    uint64_t filter_asked_ = 0, filter_done_ = 0;  ///< guarded by mu_
    std::string filter_error_;  ///< guarded by mu_
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> ring_full_{0};
    std::thread thread_;

    // Reader side.
    Chunk* filling_ = nullptr;

    // Loop side.
    const Chunk* current_ = nullptr;
    size_t pos_ = 0;
    NextStatus done_ = NextStatus::Frame;  ///< sticky End/Error once reached
};

}  // namespace callwall::capture
