// store::WriteBehind alone (no database): batches reach the writer thread
// whole and in order with the jobs between them, the producer waits (never
// drops) when the queue is full, and the writer's error reaches the producer
// once with what followed it dropped. Also built under ThreadSanitizer
// (write_behind_under_tsan).
#include "store/write_behind.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace callwall::store {
namespace {

using namespace std::chrono_literals;

// Rows are 8-byte integers: n >= 0 a row, -1 a job marker.
void put(WriteBehind& wb, int64_t v) {
    std::vector<char>& b = wb.batch();
    const auto* p = reinterpret_cast<const char*>(&v);
    b.insert(b.end(), p, p + sizeof v);
    wb.row_done();
}

std::vector<int64_t> rows_of(const std::vector<char>& b) {
    std::vector<int64_t> out(b.size() / sizeof(int64_t));
    if (!out.empty()) std::memcpy(out.data(), b.data(), out.size() * sizeof(int64_t));
    return out;
}

TEST(WriteBehindQueue, TheWriterIsNamedAndLeavesTheCommandsSignalsToItsThread) {
    std::string name;
    bool sigint_blocked = false;
    WriteBehind wb([&](const std::vector<char>&) {
        char n[32] = {};
        pthread_getname_np(pthread_self(), n, sizeof n);
        name = n;
        sigset_t mine;
        pthread_sigmask(SIG_BLOCK, nullptr, &mine);
        sigint_blocked = sigismember(&mine, SIGINT) == 1;
    });
    put(wb, 1);
    wb.sync();
    EXPECT_EQ(name, "callwall-store");
    EXPECT_TRUE(sigint_blocked) << "Ctrl-C must reach the command's thread, not the writer";
}

TEST(WriteBehindQueue, RowsAndJobsArriveInOrder) {
    std::vector<int64_t> seen;  // writer thread only, read after sync()
    WriteBehind* self = nullptr;
    WriteBehind wb([&](const std::vector<char>& b) {
        for (const int64_t v : rows_of(b)) {
            if (v == -1)
                self->run_job();
            else
                seen.push_back(v);
        }
    });
    self = &wb;
    // ~40 MiB of rows: many batches, more than the queue holds at once.
    constexpr int64_t kRows = 5'000'000;
    std::vector<int64_t> job_saw;  // the row count each job saw (writer thread)
    for (int64_t i = 0; i < kRows; ++i) {
        put(wb, i);
        if (i % 1'000'000 == 999'999) {
            wb.add_job([&] { job_saw.push_back(static_cast<int64_t>(seen.size())); });
            put(wb, -1);
        }
    }
    wb.sync();
    ASSERT_EQ(seen.size(), static_cast<size_t>(kRows));
    for (int64_t i = 0; i < kRows; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], i);
    EXPECT_EQ(job_saw, (std::vector<int64_t>{1'000'000, 2'000'000, 3'000'000, 4'000'000, 5'000'000}))
        << "each job runs after exactly the rows queued before it";
}

// The writer is held on its first batch: the producer fills the queue, then
// waits for room (waits() counts it) instead of dropping or growing; once
// the writer goes on, every row arrives.
TEST(WriteBehindQueue, AFullQueueMakesTheProducerWait) {
    std::atomic<bool> release{false};
    std::atomic<int64_t> count{0};
    WriteBehind wb([&](const std::vector<char>& b) {
        while (!release.load()) std::this_thread::sleep_for(1ms);
        count += static_cast<int64_t>(rows_of(b).size());
    });
    std::thread releaser([&] {
        // Bounded: 30 s at most, then let it go (the test then fails on waits()).
        for (int i = 0; i < 30000 && wb.waits() == 0; ++i) std::this_thread::sleep_for(1ms);
        release = true;
    });
    const int64_t rows =
        static_cast<int64_t>((WriteBehind::kMaxQueued + 3) * WriteBehind::kBatchBytes / sizeof(int64_t));
    for (int64_t i = 0; i < rows; ++i) put(wb, i);
    wb.sync();
    releaser.join();
    EXPECT_GT(wb.waits(), 0u);
    EXPECT_EQ(count.load(), rows);
}

// The writer fails on a batch: the producer's next call throws that error,
// once; rows queued after the failure are dropped; the queue then works again.
TEST(WriteBehindQueue, TheWritersErrorReachesTheProducerOnce) {
    std::vector<int64_t> seen;
    WriteBehind wb([&](const std::vector<char>& b) {
        for (const int64_t v : rows_of(b)) {
            if (v == 666) throw std::runtime_error("disk full");
            seen.push_back(v);
        }
    });
    put(wb, 1);
    put(wb, 666);
    put(wb, 2);  // after the failing row: never written
    EXPECT_THROW(
        {
            try {
                wb.sync();
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "disk full");
                throw;
            }
        },
        std::runtime_error);
    wb.sync();  // reported once
    put(wb, 3);
    wb.sync();
    EXPECT_EQ(seen, (std::vector<int64_t>{1, 3}));
}

// Rows applied one 8-byte row at a time (WriteBehind::ApplyRows), each with
// the name of the thread that applied it.
struct RowLog {
    std::mutex mu;
    std::vector<int64_t> rows;
    std::vector<std::string> threads;
    size_t most_in_one_call = 0;

    WriteBehind::ApplyRows apply() {
        return [this](const std::vector<char>& b, size_t from, size_t max_rows) {
            char name[32] = {};
            pthread_getname_np(pthread_self(), name, sizeof name);
            std::lock_guard lk(mu);
            size_t n = 0;
            for (; from + sizeof(int64_t) <= b.size() && n < max_rows; from += sizeof(int64_t), ++n) {
                int64_t v;
                std::memcpy(&v, b.data() + from, sizeof v);
                rows.push_back(v);
                threads.emplace_back(name);
            }
            most_in_one_call = std::max(most_in_one_call, n);
            return from;
        };
    }
};

// Names the calling thread for one test, then gives it its name back.
struct ThreadNamed {
    char old[32] = {};
    explicit ThreadNamed(const char* name) {
        pthread_getname_np(pthread_self(), old, sizeof old);
        pthread_setname_np(pthread_self(), name);
    }
    ~ThreadNamed() { pthread_setname_np(pthread_self(), old); }
};

// Lent: the writer thread leaves the queue alone; the lending thread's steps
// apply it, kPumpRows rows at most each, in order, and the lender is woken
// for each batch handed over.
TEST(WriteBehindQueue, ALendingThreadAppliesTheQueueInSteps) {
    RowLog log;
    WriteBehind wb(log.apply());
    std::atomic<int> wakes{0};
    wb.lent([&] { ++wakes; });
    const ThreadNamed named("test-lender");
    // As many batches as a lent queue holds (this thread is the producer too).
    constexpr int64_t kRows = 250 * static_cast<int64_t>(WriteBehind::kMaxQueuedLent);
    for (int64_t i = 0; i < kRows; ++i) {
        put(wb, i);
        if (i % 250 == 249) wb.hand_over_now();
    }
    EXPECT_EQ(wakes.load(), static_cast<int>(WriteBehind::kMaxQueuedLent)) << "one wake per batch handed over";
    std::this_thread::sleep_for(20ms);
    {
        std::lock_guard lk(log.mu);
        EXPECT_TRUE(log.rows.empty()) << "the writer thread applied rows while they were lent";
    }
    int steps = 0;
    while (wb.step() && steps < 10000) ++steps;
    EXPECT_EQ(steps, 8 * static_cast<int>(WriteBehind::kMaxQueuedLent))
        << "batches of 250 rows, at most kPumpRows (32) a step";
    EXPECT_FALSE(wb.step()) << "nothing left";
    wb.returned();
    wb.sync();
    ASSERT_EQ(log.rows.size(), static_cast<size_t>(kRows));
    for (int64_t i = 0; i < kRows; ++i) ASSERT_EQ(log.rows[static_cast<size_t>(i)], i);
    for (const auto& t : log.threads) ASSERT_EQ(t, "test-lender");
    EXPECT_EQ(log.most_in_one_call, WriteBehind::kPumpRows);
}

// Returned mid-batch: the writer thread goes on from the row the last step
// stopped at; every row once, in order.
TEST(WriteBehindQueue, ReturnedMidBatchTheWriterGoesOnFromTheNextRow) {
    RowLog log;
    WriteBehind wb(log.apply());
    wb.lent([] {});
    const ThreadNamed named("test-lender");
    for (int64_t i = 0; i < 100; ++i) put(wb, i);
    wb.hand_over_now();
    ASSERT_TRUE(wb.step());
    wb.returned();
    wb.sync();
    ASSERT_EQ(log.rows.size(), 100u);
    for (int64_t i = 0; i < 100; ++i) ASSERT_EQ(log.rows[static_cast<size_t>(i)], i);
    for (size_t i = 0; i < 100; ++i)
        ASSERT_EQ(log.threads[i], i < WriteBehind::kPumpRows ? "test-lender" : "callwall-store") << "row " << i;
}

// Lent while the writer thread applies a batch: the lender's step finds it
// busy and may go to sleep; once that batch is done and more wait, the
// writer wakes the lender, else a producer waiting for room in the queue
// would wait for ever.
TEST(WriteBehindQueue, LentWhileTheWriterIsBusyTheLenderIsWoken) {
    std::atomic<bool> in_first{false}, release{false};
    RowLog log;
    WriteBehind::ApplyRows rows = log.apply();
    WriteBehind wb([&](const std::vector<char>& b, size_t from, size_t max_rows) {
        if (from == 0 && !release.load()) {
            in_first = true;
            for (int i = 0; i < 30000 && !release.load(); ++i) std::this_thread::sleep_for(1ms);
        }
        return rows(b, from, max_rows);
    });
    put(wb, 1);
    wb.hand_over_now();
    for (int i = 0; i < 30000 && !in_first.load(); ++i) std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(in_first.load());
    std::atomic<int> wakes{0};
    wb.lent([&] { ++wakes; });
    EXPECT_FALSE(wb.step()) << "the writer thread holds the batch";
    put(wb, 2);
    wb.hand_over_now();
    EXPECT_EQ(wakes.load(), 1);
    release = true;
    // The writer ends its batch, sees the next one lent, and wakes the lender.
    for (int i = 0; i < 30000 && wakes.load() < 2; ++i) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(wakes.load(), 2);
    EXPECT_TRUE(wb.step());
    wb.returned();
    wb.sync();
    EXPECT_EQ(log.rows, (std::vector<int64_t>{1, 2}));
}

// While lent, the queue holds kMaxQueuedLent batches before the producer
// waits (the lender applies rows only when idle: the memory waiting stays
// small), and from kBehindBatches on the lender is told it is behind.
TEST(WriteBehindQueue, WhileLentTheQueueIsShortAndTheLenderKnowsWhenItIsBehind) {
    RowLog log;
    WriteBehind wb(log.apply());
    wb.lent([] {});
    EXPECT_FALSE(wb.behind());
    std::atomic<int> handed{0};
    std::thread producer([&] {
        for (int64_t b = 0; b < 5; ++b) {
            put(wb, b);
            wb.hand_over_now();
            ++handed;
        }
    });
    // Bounded: the producer stops after kMaxQueuedLent batches.
    for (int i = 0; i < 30000 && wb.waits() == 0; ++i) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(wb.waits(), 1u);
    EXPECT_EQ(handed.load(), static_cast<int>(WriteBehind::kMaxQueuedLent));
    EXPECT_TRUE(wb.behind());
    {
        std::lock_guard lk(log.mu);
        EXPECT_TRUE(log.rows.empty());
    }
    for (int i = 0; i < 30000 && handed.load() < 5; ++i)
        if (!wb.step()) std::this_thread::sleep_for(1ms);
    producer.join();
    while (wb.step()) {}
    EXPECT_FALSE(wb.behind());
    wb.returned();
    wb.sync();
    EXPECT_EQ(log.rows, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace callwall::store
