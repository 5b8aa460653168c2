// Private to run/shards/shards.cpp and shards_fanout.cpp: the workers and
// what the reading thread hands them (see run/shards/shards.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/analyzer.hpp"
#include "pipeline/shards.hpp"
#include "run/vendor_addresses.hpp"
#include "run/shards/fragment_routes.hpp"
#include "run/shards/shard_merge.hpp"
#include "run/shards/shard_records.hpp"
#include "run/shards/shard_worker.hpp"
#include "run/shards/shards.hpp"

namespace callwall::capture {
class LiveReader;
}  // namespace callwall::capture

namespace callwall::run {

namespace shard {

// What the reader hands a worker: frames (copied: the reader's buffer is
// reused) and the ticks, progress marks, refreshes (a mark before the
// frame's snapshot, then the snapshot) and end every worker gets. A fanout
// worker reads its own frames and gets only the refresh's steps (Pause,
// Sync, Snapshot or SnapshotAll, Resume) and the end (Finish).
enum class In : uint8_t { Frame, Tick, Mark, Sync, Snapshot, SnapshotAll, Finish, Pause, Resume };
struct InRecord {
    int64_t ts_us = 0, clock_us = 0;
    uint64_t index = 0;
    double last_ts = 0;
    uint32_t caplen = 0, wirelen = 0, linktype = 0, offset = 0;
    In kind = In::Frame;
    uint16_t interface = 0;  ///< decode::RawFrame::interface
};
struct InChunk {
    std::vector<InRecord> records;
    std::vector<uint8_t> data;
};
constexpr size_t kChunkRecords = 2048;
constexpr size_t kChunkBytes = size_t{1} << 18;
constexpr size_t kQueuedChunks = 4;  ///< per worker, beside the one it works on
/// Frames between progress marks: each mark lets the merger write what every
/// worker has finished, so rows wait at most this many frames in memory.
constexpr uint64_t kMarkEvery = 8192;

}  // namespace shard

struct Shards::Impl {
    struct Worker {
        std::vector<char> out;  ///< rows and records being written (the decoder's), handed over by publish
        std::unique_ptr<ShardWorker> decoder;  ///< records into out
        // Inbound, under mu: full chunks from the reader, empty ones back.
        std::mutex mu;
        std::condition_variable cv;  ///< the worker waits for a chunk (or, fanout, a control step)
        std::deque<shard::InChunk> full;
        std::vector<shard::InChunk> empty;
        // Outbound, under mu: written buffers for the merger, and spent ones back.
        std::deque<std::vector<char>> written;
        std::vector<std::vector<char>> spent;
        ShardTotals counts;  ///< under mu: the worker's counts at its last mark
        /// Live capture with the catalog's filter: what this worker's DNS
        /// answers found, and how much of it the run's collector has taken.
        std::unique_ptr<VendorAddresses> addresses;
        VendorAddresses::Cursor addresses_taken;
        // Fanout (live capture reading a PACKET_FANOUT group): the reader of
        // this worker's sockets, and the command's steps, under mu.
        capture::LiveReader* reader = nullptr;
        std::deque<shard::InRecord> control;
        std::atomic<bool> control_pending{false};
        /// Under mu: the refresh (Impl::pause_gen) the worker stopped for,
        /// at the key of its latest frame, whose capture time is paused_last_ts.
        uint64_t paused_gen = 0;
        uint64_t paused_key = 0;
        double paused_last_ts = 0;
        std::string error;  ///< under mu: the reader's, once it failed
        std::thread thread;
    };

    Impl(store::Store& store, int64_t run_id) : merger(store, run_id) {}

    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<shard::InChunk> filling;  ///< per worker, the reader's chunk being filled
    FragmentRoutes fragment_routes;  ///< the reader's: where a tunnel's outer fragments go
    shard::Merger merger;
    VendorAddresses* vendor_addresses = nullptr;  ///< the run's collector (ShardInputs::vendor_addresses)
    /// A refresh's TURN peers learnt since the last one: written by the
    /// reader before it hands the snapshot in, read by the workers, left
    /// alone until every worker has marked the end of the snapshot.
    std::vector<decode::IpAddr> snapshot_peers;
    bool snapshot_peers_listed = true;
    std::mutex progress_mu;
    std::condition_variable progress;  ///< a worker handed over rows or took a chunk
    uint64_t since_mark = 0;
    bool finished = false;
    // Fanout.
    const FanoutInput* fanout = nullptr;
    int64_t base_us = 0;  ///< capture time of key 0: when the run began
    std::atomic<int64_t> clock_us{INT64_MIN};  ///< the latest capture time any worker has shown
    uint64_t pause_gen = 0;  ///< refreshes begun

    void run(Worker& w);
    void run_fanout(Worker& w);
    /// Hands the worker's written buffer to the merger, with its counts
    /// (and a fanout worker's frame counts).
    void publish(Worker& w, const FramesRead* frames = nullptr);
    void hand_in(size_t i);
    void add(size_t i, const shard::InRecord& r) {
        shard::InChunk& c = filling[i];
        if (c.records.size() >= shard::kChunkRecords) hand_in(i);
        filling[i].records.push_back(r);
    }
    void to_all(const shard::InRecord& r) {
        for (size_t i = 0; i < workers.size(); ++i) add(i, r);
    }
    /// Fanout: a step for every worker.
    void control_all(const shard::InRecord& r);
    /// Merges what the workers handed over; true if it wrote anything.
    bool pump();
    void wait_for_progress() {
        std::unique_lock lk(progress_mu);
        progress.wait_for(lk, std::chrono::milliseconds(2));
    }
    /// Hands every worker its filling chunk (not fanout), then merges until
    /// every record below `key` is written.
    void write_below(shard::Merger::Key key) {
        if (!fanout)
            for (size_t k = 0; k < workers.size(); ++k) hand_in(k);
        for (;;) {
            pump();
            if (merger.written_below(key)) return;
            wait_for_progress();
        }
    }
    /// The run's collector takes what the workers' found; only while every
    /// worker waits (after a refresh, or once they have ended).
    void take_vendor_addresses() {
        if (!vendor_addresses) return;
        for (auto& w : workers) vendor_addresses->take_from(*w->addresses, w->addresses_taken);
    }
    /// Fanout: a live refresh (see Shards::snapshot).
    uint64_t snapshot_fanout(bool all);
    void stop() noexcept;
};

}  // namespace callwall::run
