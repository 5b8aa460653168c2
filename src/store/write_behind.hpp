// Private to the store module: the writer thread behind Store::write_behind.
// The thread that decodes encodes each row into a batch (plain bytes, see
// store.cpp); a full batch goes to a bounded queue that one thread of its own
// applies to the database in order, so the decoding thread never waits for
// SQLite unless the queue is full (back-pressure, not loss) or it asks for
// the database itself (sync). Buffers are recycled: no allocation once warm.
//
// Errors: the first exception the apply function throws is kept, the rest of
// the queued rows and jobs are dropped (what a synchronous writer would not
// have written either), and it is rethrown once to the producer, by its next
// batch() or sync(). After that the queue accepts batches again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace callwall::store {

class WriteBehind {
public:
    /// A batch is handed over once it holds this many bytes.
    static constexpr size_t kBatchBytes = 1 << 20;
    /// Batches queued at most (beside the one being applied): 8 MiB.
    static constexpr size_t kMaxQueued = 8;

    /// `apply` runs on the writer thread, one whole batch per call, in order.
    explicit WriteBehind(std::function<void(const std::vector<char>&)> apply);
    /// Applies what is queued (errors are dropped: the owner syncs first to see them) and stops the thread.
    ~WriteBehind();
    WriteBehind(const WriteBehind&) = delete;
    WriteBehind& operator=(const WriteBehind&) = delete;

    /// The batch being filled (producer side). Rethrows a pending error first.
    std::vector<char>& batch() {
        if (failed_) take_error();
        return cur_;
    }
    /// Hands the batch over when it is full; waits while the queue is full.
    void row_done() {
        if (cur_.size() >= kBatchBytes) hand_over();
    }
    /// Hands over what is filled at once (a commit the caller wants soon).
    void hand_over_now() {
        if (!cur_.empty()) hand_over();
    }
    /// Hands over what is filled and waits until every batch is applied;
    /// rethrows the writer's error, if any. After it returns the database
    /// belongs to the caller until the next batch is handed over.
    void sync();

    /// Times the producer waited for room in the queue (back-pressure).
    [[nodiscard]] size_t waits() const noexcept { return waits_.load(std::memory_order_relaxed); }

    /// Jobs (Store::defer): the producer adds one here and a marker to the
    /// batch; the writer thread runs them in marker order (run_job()).
    void add_job(std::function<void()> job);
    void run_job();
    [[nodiscard]] bool on_writer_thread() const noexcept { return std::this_thread::get_id() == writer_id_; }

private:
    void hand_over();
    void take_error();
    void run();

    std::function<void(const std::vector<char>&)> apply_;
    std::vector<char> cur_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::vector<char>> queue_;  ///< handed over, not yet applied
    std::vector<std::vector<char>> spare_;  ///< applied, cleared, capacity kept
    bool busy_ = false;  ///< the thread is applying a batch
    bool stop_ = false;
    std::atomic<bool> failed_{false};  ///< error_ is set (the producer's cheap check per row)
    std::exception_ptr error_;
    std::deque<std::function<void()>> jobs_;  ///< added, not yet run (under mu_)
    std::atomic<size_t> waits_{0};
    std::thread thread_;
    std::thread::id writer_id_;
};

}  // namespace callwall::store
