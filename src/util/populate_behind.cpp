// Fresh memory first touched on a thread of its own. See util/populate_behind.hpp.
#include "util/populate_behind.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "util/huge_pages.hpp"
#include "util/thread_without_signals.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace callwall::util {

namespace {

constexpr size_t kMaxQueued = 64;
constexpr uintptr_t kPage = 4096;

struct Range {
    uintptr_t begin = 0, end = 0;
    [[nodiscard]] bool overlaps(const Range& o) const noexcept { return begin < o.end && o.begin < end; }
};

}  // namespace

struct PopulateBehind::Impl {
    std::mutex mu;
    std::condition_variable work, idle;
    std::deque<Range> queue;
    Range busy;  ///< being populated, outside the lock
    bool stop = false;
    std::atomic<bool> unsupported{false};
    std::atomic<size_t> done{0};
    std::thread thread;

    void loop() noexcept {
        std::unique_lock<std::mutex> lk(mu);
        for (;;) {
            work.wait(lk, [&] { return stop || !queue.empty(); });
            if (stop) return;
            // A huge page at a time, so that forget() waits for one step at most.
            Range& front = queue.front();
            busy = {front.begin, std::min(front.end, (front.begin + kHugePage) & ~(kHugePage - 1))};
            if (busy.end == front.end)
                queue.pop_front();
            else
                front.begin = busy.end;
            lk.unlock();
            const int rc = madvise(reinterpret_cast<void*>(busy.begin), busy.end - busy.begin, MADV_POPULATE_WRITE);
            const int err = errno;
            lk.lock();
            if (rc == 0) {
                done.fetch_add(busy.end - busy.begin, std::memory_order_relaxed);
            } else if (err == EINVAL) {
                unsupported.store(true, std::memory_order_relaxed);  // an older kernel: nothing to gain
                queue.clear();
            }
            busy = {};
            idle.notify_all();
        }
    }
};

namespace {

std::atomic<PopulateBehind::Impl*> g_current{nullptr};

}  // namespace

PopulateBehind::PopulateBehind() : impl_(std::make_unique<Impl>()) {
    Impl* none = nullptr;
    // Another one lives (a second session in the process): this one stays idle, with no thread.
    if (!g_current.compare_exchange_strong(none, impl_.get())) return;
    try {
        impl_->thread = thread_without_signals("callwall-pop", [i = impl_.get()] { i->loop(); });
    } catch (...) {
        Impl* self = impl_.get();
        g_current.compare_exchange_strong(self, nullptr);
        throw;
    }
}

PopulateBehind::~PopulateBehind() {
    Impl* self = impl_.get();
    g_current.compare_exchange_strong(self, nullptr);
    if (!impl_->thread.joinable()) return;
    {
        std::lock_guard<std::mutex> lk(impl_->mu);
        impl_->stop = true;
        impl_->queue.clear();
    }
    impl_->work.notify_all();
    impl_->thread.join();
}

bool PopulateBehind::active() noexcept {
    Impl* i = g_current.load(std::memory_order_acquire);
    return i && !i->unsupported.load(std::memory_order_relaxed);
}

void PopulateBehind::request(const void* p, size_t len) noexcept {
    Impl* i = g_current.load(std::memory_order_acquire);
    if (!i || len == 0 || i->unsupported.load(std::memory_order_relaxed)) return;
    const auto at = reinterpret_cast<uintptr_t>(p);
    const Range r{at & ~(kPage - 1), (at + len + kPage - 1) & ~(kPage - 1)};
    {
        std::lock_guard<std::mutex> lk(i->mu);
        if (i->stop || i->queue.size() >= kMaxQueued) return;
        i->queue.push_back(r);
    }
    i->work.notify_one();
}

void PopulateBehind::forget(const void* p, size_t len) noexcept {
    Impl* i = g_current.load(std::memory_order_acquire);
    if (!i || len == 0) return;
    const auto at = reinterpret_cast<uintptr_t>(p);
    const Range r{at, at + len};
    std::unique_lock<std::mutex> lk(i->mu);
    std::erase_if(i->queue, [&](const Range& q) { return q.overlaps(r); });
    i->idle.wait(lk, [&] { return !i->busy.overlaps(r); });
}

size_t PopulateBehind::populated() noexcept {
    Impl* i = g_current.load(std::memory_order_acquire);
    return i ? i->done.load(std::memory_order_relaxed) : 0;
}

void PopulateBehind::drain() noexcept {
    Impl* i = g_current.load(std::memory_order_acquire);
    if (!i) return;
    std::unique_lock<std::mutex> lk(i->mu);
    i->idle.wait(lk, [&] { return i->queue.empty() && i->busy.end == 0; });
}

}  // namespace callwall::util
