// store::WriteBehind alone (no database): batches reach the writer thread
// whole and in order with the jobs between them, the producer waits (never
// drops) when the queue is full, and the writer's error reaches the producer
// once with what followed it dropped. Also built under ThreadSanitizer
// (write_behind_under_tsan).
#include "store/write_behind.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
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

}  // namespace
}  // namespace callwall::store
