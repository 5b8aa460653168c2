// The writer thread. See store/write_behind.hpp.
#include "store/write_behind.hpp"

#include <utility>

#include "util/thread_without_signals.hpp"

namespace callwall::store {

WriteBehind::WriteBehind(ApplyRows apply) : apply_(std::move(apply)) {
    cur_.reserve(kBatchBytes + (64 << 10));
    thread_ = util::thread_without_signals("callwall-store", [this] { run(); });
    writer_id_ = thread_.get_id();
}

WriteBehind::WriteBehind(std::function<void(const std::vector<char>&)> apply)
    : WriteBehind(ApplyRows([whole = std::move(apply)](const std::vector<char>& b, size_t, size_t) {
          whole(b);
          return b.size();
      })) {}

void WriteBehind::add_job(std::function<void()> job) {
    std::lock_guard lk(mu_);
    jobs_.push_back(std::move(job));
}

void WriteBehind::run_job() {
    std::function<void()> job;
    {
        std::lock_guard lk(mu_);
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
    }
    job();
}

WriteBehind::~WriteBehind() {
    try {
        if (!cur_.empty()) hand_over();
    } catch (...) {}
    {
        std::lock_guard lk(mu_);
        stop_ = true;
        lent_ = false;  // a lender still attached would be a bug of its owner: the thread finishes the queue
        wake_ = nullptr;
    }
    cv_.notify_all();
    thread_.join();
}

void WriteBehind::hand_over() {
    std::unique_lock lk(mu_);
    const auto room = [&] { return queue_.size() < (lent_ ? kMaxQueuedLent : kMaxQueued); };
    if (!room()) {
        ++waits_;
        cv_.wait(lk, [&] { return room() || failed_; });
    }
    if (failed_) {
        lk.unlock();
        cur_.clear();
        take_error();
        return;
    }
    queue_.push_back(std::move(cur_));
    queued_.store(queue_.size(), std::memory_order_relaxed);
    if (!spare_.empty()) {
        cur_ = std::move(spare_.back());
        spare_.pop_back();
    } else {
        cur_ = std::vector<char>();
        cur_.reserve(kBatchBytes + (64 << 10));
    }
    // The lender is told outside the lock: its wake takes a lock of its own
    // (and the lender calls step(), which takes this one, without it held).
    std::function<void()> wake = lent_ ? wake_ : nullptr;
    lk.unlock();
    cv_.notify_all();
    if (wake) wake();
}

void WriteBehind::sync() {
    if (!cur_.empty()) hand_over();
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return (!has_work() && !busy_) || failed_; });
    if (failed_) {
        // Wait for the thread to be idle: the caller is about to use the database.
        cv_.wait(lk, [&] { return !busy_; });
        lk.unlock();
        take_error();
    }
}

void WriteBehind::take_error() {
    std::exception_ptr e;
    {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return !busy_; });
        e = std::exchange(error_, nullptr);
        failed_ = false;
        // Rows and jobs queued after the failure are not written, as a
        // synchronous writer would have stopped at the failing row.
        cur_.clear();
        jobs_.clear();
    }
    if (e) std::rethrow_exception(e);
}

void WriteBehind::apply_some(std::unique_lock<std::mutex>& lk, size_t max_rows) {
    if (!in_hand_) {
        batch_ = std::move(queue_.front());
        queue_.pop_front();
        queued_.store(queue_.size(), std::memory_order_relaxed);
        batch_at_ = 0;
        in_hand_ = true;
    }
    busy_ = true;
    lk.unlock();
    std::exception_ptr err;
    size_t at = batch_at_;
    try {
        at = apply_(batch_, at, max_rows);
    } catch (...) {
        err = std::current_exception();
    }
    lk.lock();
    busy_ = false;
    batch_at_ = at;
    if (err || at >= batch_.size()) {
        batch_.clear();
        spare_.push_back(std::move(batch_));
        batch_ = std::vector<char>();
        in_hand_ = false;
    }
    if (err) {
        error_ = err;
        failed_ = true;
        // What was queued after the failing batch is not written, as a
        // synchronous writer would not have got that far.
        for (auto& q : queue_) {
            q.clear();
            spare_.push_back(std::move(q));
        }
        queue_.clear();
        queued_.store(0, std::memory_order_relaxed);
        jobs_.clear();  // their markers were in the dropped batches
    }
    cv_.notify_all();
}

void WriteBehind::run() {
    std::unique_lock lk(mu_);
    for (;;) {
        // busy_: a lender's step still applying (the destructor took the queue back meanwhile).
        cv_.wait(lk, [&] { return !busy_ && (stop_ || (!lent_ && has_work())); });
        if (!has_work()) return;  // stop_ with nothing left
        apply_some(lk, SIZE_MAX);
        if (lent_ && has_work() && wake_) {
            // Lent while this thread applied: the lender's step() found it busy
            // and may be asleep, with the producer waiting for room in the queue.
            const std::function<void()> wake = wake_;
            lk.unlock();
            wake();
            lk.lock();
        }
    }
}

void WriteBehind::lent(std::function<void()> wake) {
    std::lock_guard lk(mu_);
    wake_ = std::move(wake);
    lent_ = true;
}

bool WriteBehind::step() noexcept {
    std::unique_lock lk(mu_);
    // The writer thread may still be finishing what it took before the loan.
    if (!lent_ || busy_ || failed_ || !has_work()) return false;
    applying_ = this;
    apply_some(lk, kPumpRows);
    applying_ = nullptr;
    return true;
}

void WriteBehind::returned() noexcept {
    {
        std::lock_guard lk(mu_);
        lent_ = false;
        wake_ = nullptr;
    }
    cv_.notify_all();  // the writer thread takes the queue back
}

}  // namespace callwall::store
