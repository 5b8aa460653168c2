// The writer thread. See store/write_behind.hpp.
#include "store/write_behind.hpp"

#include <utility>

#include "util/thread_without_signals.hpp"

namespace callwall::store {

WriteBehind::WriteBehind(std::function<void(const std::vector<char>&)> apply) : apply_(std::move(apply)) {
    cur_.reserve(kBatchBytes + (64 << 10));
    thread_ = util::thread_without_signals("callwall-store", [this] { run(); });
    writer_id_ = thread_.get_id();
}

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
    }
    cv_.notify_all();
    thread_.join();
}

void WriteBehind::hand_over() {
    std::unique_lock lk(mu_);
    if (queue_.size() >= kMaxQueued) {
        ++waits_;
        cv_.wait(lk, [&] { return queue_.size() < kMaxQueued || failed_; });
    }
    if (failed_) {
        lk.unlock();
        cur_.clear();
        take_error();
        return;
    }
    queue_.push_back(std::move(cur_));
    if (!spare_.empty()) {
        cur_ = std::move(spare_.back());
        spare_.pop_back();
    } else {
        cur_ = std::vector<char>();
        cur_.reserve(kBatchBytes + (64 << 10));
    }
    lk.unlock();
    cv_.notify_all();
}

void WriteBehind::sync() {
    if (!cur_.empty()) hand_over();
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return (queue_.empty() && !busy_) || failed_; });
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

void WriteBehind::run() {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stop_ with nothing left
        std::vector<char> b = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
        lk.unlock();
        std::exception_ptr err;
        try {
            apply_(b);
        } catch (...) {
            err = std::current_exception();
        }
        b.clear();
        lk.lock();
        busy_ = false;
        spare_.push_back(std::move(b));
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
            jobs_.clear();  // their markers were in the dropped batches
        }
        cv_.notify_all();
    }
}

}  // namespace callwall::store
