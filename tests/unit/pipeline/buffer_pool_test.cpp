// Reclaiming handshake buffer pools (pipeline/buffer_pool.hpp).
#include "pipeline/buffer_pool.hpp"

#include <gtest/gtest.h>

namespace callwall::pipeline {
namespace {

struct Buf {
    int value = 0;
    void reset() noexcept { value = 0; }
};

struct Lender {
    ReclaimPool<Buf> pool;
    SlotOwner evicted{};
    bool reclaimed = false;
    Lender(size_t cap, size_t per_source) : pool(cap, per_source) {}
    int32_t get(uint64_t source, uint32_t flow) {
        return pool.acquire(source, SlotOwner{flow, 0}, &evicted, &reclaimed);
    }
};

TEST(ReclaimPool, FullPoolReclaimsLeastRecentlyProgressed) {
    Lender l(4, 0);
    int32_t s[4];
    for (uint32_t i = 0; i < 4; ++i) s[i] = l.get(i, i);
    l.pool.touch(s[0]);  // flow 0 progressed: flow 1 is now the oldest
    const int32_t n = l.get(9, 100);
    ASSERT_GE(n, 0);
    EXPECT_TRUE(l.reclaimed);
    EXPECT_EQ(l.evicted.flow, 1u);
    EXPECT_EQ(n, s[1]);
    EXPECT_EQ(l.pool.reclaimed(), 1u);
    EXPECT_EQ(l.pool.lent(), 4u);
}

TEST(ReclaimPool, SourceBoundReclaimsItsOwnOldest) {
    Lender l(100, 3);
    const int32_t other = l.get(7, 50);
    int32_t mine[3];
    for (uint32_t i = 0; i < 3; ++i) mine[i] = l.get(1, i);
    const int32_t again = l.get(1, 10);
    EXPECT_TRUE(l.reclaimed);
    EXPECT_EQ(l.evicted.flow, 0u);  // its own oldest, not the other source's older slot
    EXPECT_EQ(again, mine[0]);
    (void)other;
    EXPECT_EQ(l.pool.lent(), 4u);
}

TEST(ReclaimPool, ReleaseFreesTheSourceBound) {
    Lender l(100, 2);
    const int32_t a = l.get(1, 0);
    l.get(1, 1);
    l.pool.release(a);
    l.get(1, 2);
    EXPECT_FALSE(l.reclaimed);
    EXPECT_EQ(l.pool.reclaimed(), 0u);
}

// The field case: thousands of stalled hellos from a few sources, then a
// real one from another host always gets a buffer.
TEST(ReclaimPool, StalledFloodCannotStarveANewFlow) {
    Lender l(2048, 128);
    for (uint32_t i = 0; i < 5000; ++i) ASSERT_GE(l.get(i % 5, i), 0);
    EXPECT_LE(l.pool.lent(), 5u * 128);
    const int32_t real = l.get(42, 9999);
    EXPECT_GE(real, 0);
    EXPECT_GT(l.pool.reclaimed(), 0u);
    EXPECT_EQ(l.pool.refused(), 0u);
}

TEST(ReclaimPool, ZeroCapacityRefuses) {
    Lender l(0, 0);
    EXPECT_EQ(l.get(1, 1), -1);
    EXPECT_EQ(l.pool.refused(), 1u);
}

}  // namespace
}  // namespace callwall::pipeline
