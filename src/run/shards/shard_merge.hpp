// Private to run/shards/shards.cpp: the merger, which writes the workers'
// records into the store in the order one thread would have written them
// (see run/shards/shards.hpp and run/shards/shard_records.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "facts/naming.hpp"
#include "run/shards/shard_records.hpp"
#include "store/store.hpp"

namespace callwall::run::shard {

class Merger {
public:
    Merger(store::Store& store, int64_t run_id) : store_(store), run_id_(run_id) {}

    /// The number of workers (once, first).
    void streams(size_t n) { streams_.resize(n); }
    /// A buffer worker `i` handed over (whole records; the last one a watermark or its end).
    void take(size_t i, std::vector<char> buf) { streams_[i].queued.push_back(std::move(buf)); }
    /// Writes every record whose turn has come; true if it wrote any. May
    /// throw StoreError (then it writes nothing more, and drops what comes).
    bool merge();
    /// Buffers of worker `i` fully written, for it to reuse.
    std::vector<std::vector<char>> spent(size_t i) { return std::exchange(streams_[i].spent, {}); }
    /// Every worker's end has been read.
    [[nodiscard]] bool done() const noexcept;
    [[nodiscard]] uint64_t created() const noexcept { return created_; }
    [[nodiscard]] const facts::Naming& naming() const noexcept { return naming_; }

    using Key = std::pair<uint64_t, uint64_t>;
    /// After merge(): every record with a key below `key` has been written
    /// (each worker has ended, or marked `key` or brought a key past it).
    [[nodiscard]] bool written_below(Key key);
    /// TURN peers learnt since the last call (facts::Naming::take_new_peers).
    bool take_new_peers(std::vector<decode::IpAddr>& out) { return naming_.take_new_peers(out); }
    /// From now on, the run's id of every flow row written is appended to `*ids` (a live run).
    void track_written(std::vector<uint64_t>* ids) noexcept { written_ids_ = ids; }
    /// Snapshot rows written so far.
    [[nodiscard]] uint64_t snapshots() const noexcept { return snapshots_; }

private:
    struct Stream {
        std::vector<std::vector<char>> queued;  ///< handed over, not yet read (front first)
        size_t next = 0;  ///< the queued buffer being read
        size_t pos = 0;  ///< in it
        Key mark{0, 0};  ///< nothing more will come with a key below this
        bool ended = false;
        std::unordered_map<uint64_t, uint64_t> ids;  ///< the worker's flow id → the run's, while the flow lives
        std::vector<std::vector<char>> spent;
    };
    /// Skips watermarks and spent buffers; true when the stream's next record is a key.
    bool peek(Stream& s, Key& key);
    /// Writes the records of the stream's next key.
    void write_segment(Stream& s);
    /// One record (not a key, watermark or end) at `p`; returns its size.
    size_t write_record(Stream& s, char* p, size_t avail);
    /// A flow's row (its end, or a snapshot of a flow that lives on when `live`).
    void flow_row(Stream& s, const char* p, const char*& end, bool live);

    store::Store& store_;
    int64_t run_id_;
    std::vector<Stream> streams_;
    facts::Naming naming_;
    facts::FlowNames names_;
    std::vector<Key> keys_;  ///< merge()'s, per stream: its next key
    std::vector<char> known_;  ///< merge()'s, per stream: whether it has one
    uint64_t created_ = 0;
    uint64_t snapshots_ = 0;
    std::vector<uint64_t>* written_ids_ = nullptr;
    bool failed_ = false;
};

}  // namespace callwall::run::shard
