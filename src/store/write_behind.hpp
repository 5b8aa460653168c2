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
//
// Lent (util::IdleWork): while another thread lends its idle time (the file
// reader's, capture::ReadAhead::lend_idle_time), the writer thread leaves the
// queue alone and that thread applies it, kPumpRows rows per step(), between
// the chunks it reads; the order of rows, commits and jobs is the queue's
// either way. returned() gives the queue back to the writer thread, which
// goes on from the row the last step stopped at.
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

#include "util/idle_work.hpp"

namespace callwall::store {

class WriteBehind final : public util::IdleWork {
public:
    /// A batch is handed over once it holds this many bytes.
    static constexpr size_t kBatchBytes = 1 << 20;
    /// Batches queued at most (beside the one being applied): 8 MiB.
    static constexpr size_t kMaxQueued = 8;
    /// The same while lent: the lender applies rows only in its idle time,
    /// and a producer that waits makes it idle sooner (its ring fills); the
    /// memory waiting stays near the batch in hand.
    static constexpr size_t kMaxQueuedLent = 3;

    /// Rows applied at most by one step() of a lending thread (a flow's row
    /// costs ~2 µs: a step stays well under the ~350 µs of decoding that the
    /// reader's ring still holds when it has to read on).
    static constexpr size_t kPumpRows = 32;
    /// Batches queued from which a lending thread is behind() (each is 1 MiB
    /// of memory waiting).
    static constexpr size_t kBehindBatches = 2;

    /// Applies the rows of `batch` from byte `from` on, at most `max_rows`
    /// of them, in order; returns where the next one starts (batch.size()
    /// once all are applied).
    using ApplyRows = std::function<size_t(const std::vector<char>& batch, size_t from, size_t max_rows)>;
    /// `apply` runs on the writer thread, or on a lending thread, one call at a time, in order.
    explicit WriteBehind(ApplyRows apply);
    /// The same with whole batches (`apply` applies one and returns): a step() applies a batch.
    explicit WriteBehind(std::function<void(const std::vector<char>&)> apply);
    /// Applies what is queued (errors are dropped: the owner syncs first to see them) and stops the thread.
    ~WriteBehind() override;
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
    /// The calling thread applies the rows: the writer thread, or a lending thread inside step().
    [[nodiscard]] bool on_writer_thread() const noexcept {
        return std::this_thread::get_id() == writer_id_ || applying_ == this;
    }

    // util::IdleWork: another thread's idle time applies the queue.
    void lent(std::function<void()> wake) override;
    bool step() noexcept override;
    void returned() noexcept override;
    [[nodiscard]] bool behind() const noexcept override {
        return queued_.load(std::memory_order_relaxed) >= kBehindBatches;
    }

private:
    void hand_over();
    void take_error();
    void run();
    /// A batch is in hand or queued (under mu_).
    [[nodiscard]] bool has_work() const noexcept { return in_hand_ || !queue_.empty(); }
    /// Applies up to `max_rows` rows of the batch in hand (taking the next one
    /// first if none is): `lk` holds mu_, released meanwhile; busy_ is false.
    void apply_some(std::unique_lock<std::mutex>& lk, size_t max_rows);

    ApplyRows apply_;
    std::vector<char> cur_;
    std::vector<char> batch_;  ///< the batch in hand, taken from the queue (whoever is busy_ applies it)
    size_t batch_at_ = 0;  ///< where its next row starts
    bool in_hand_ = false;  ///< batch_ holds rows not yet applied (under mu_)
    bool lent_ = false;  ///< a lending thread applies the queue: the writer thread waits (under mu_)
    std::function<void()> wake_;  ///< the lender's, called when a batch is handed over (under mu_)
    /// The WriteBehind whose rows this thread applies inside step(), if any.
    static inline thread_local const WriteBehind* applying_ = nullptr;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::vector<char>> queue_;  ///< handed over, not yet applied
    std::atomic<size_t> queued_{0};  ///< queue_.size(), for behind() without the lock
    std::vector<std::vector<char>> spare_;  ///< applied, cleared, capacity kept
    bool busy_ = false;  ///< a thread is applying rows of the batch in hand
    bool stop_ = false;
    std::atomic<bool> failed_{false};  ///< error_ is set (the producer's cheap check per row)
    std::exception_ptr error_;
    std::deque<std::function<void()>> jobs_;  ///< added, not yet run (under mu_)
    std::atomic<size_t> waits_{0};
    std::thread thread_;
    std::thread::id writer_id_;
};

}  // namespace callwall::store
