// PopulateBehind faults fresh memory in on its own thread, leaving the
// contents as they were (zero); does nothing while none lives; and the
// arrays that grow with the flows ask it for what they grow into next.
#include "util/populate_behind.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "flow/flow_table.hpp"
#include "unit/corpus.hpp"
#include "util/huge_pages.hpp"

namespace callwall::util {
namespace {

// Pages of [p, p + len) the kernel has mapped (mincore), without touching them.
size_t resident_pages(const void* p, size_t len) {
    const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> v((len + page - 1) / page);
    if (mincore(const_cast<void*>(p), len, v.data()) != 0) return SIZE_MAX;
    size_t n = 0;
    for (unsigned char c : v) n += c & 1;
    return n;
}

TEST(PopulateBehind, FaultsRequestedMemoryInOnItsOwnThreadContentsUntouched) {
    PopulateBehind pb;
    if (!PopulateBehind::active()) GTEST_SKIP() << "another PopulateBehind lives in this process";
    const size_t len = 3 * kHugePage;
    auto* p = static_cast<unsigned char*>(huge_allocate(len));
    ASSERT_EQ(resident_pages(p, len), 0u) << "fresh: nothing mapped yet";
    PopulateBehind::request(p + kHugePage, 2 * kHugePage);
    PopulateBehind::drain();
    if (!PopulateBehind::active()) {
        huge_deallocate(p, len);
        GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (Linux 5.14)";
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    EXPECT_EQ(resident_pages(p + kHugePage, 2 * kHugePage), 2 * kHugePage / page) << "the requested range is mapped";
    EXPECT_EQ(resident_pages(p, kHugePage), 0u) << "and nothing before it";
    EXPECT_EQ(PopulateBehind::populated(), 2 * kHugePage);
    for (size_t i = kHugePage; i < len; i += 4096) ASSERT_EQ(p[i], 0) << "contents untouched at " << i;
    huge_deallocate(p, len);
}

TEST(PopulateBehind, IgnoresRequestsWhileNoneLives) {
    ASSERT_FALSE(PopulateBehind::active());
    const size_t len = kHugePage;
    void* p = huge_allocate(len);
    PopulateBehind::request(p, len);
    PopulateBehind::drain();
    EXPECT_EQ(resident_pages(p, len), 0u);
    EXPECT_EQ(PopulateBehind::populated(), 0u);
    huge_deallocate(p, len);
}

// The threads of this process (/proc/self/task): a thread std::thread
// started is listed once its constructor returns (its name, which it sets
// itself, may come later).
size_t threads() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& t : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
}

// One at a time per process: a second (another session in the process)
// starts no thread and takes no requests; the first stays in charge, also
// after the second is gone.
TEST(PopulateBehind, ASecondOneStartsNoThreadAndLeavesTheFirstInCharge) {
    const size_t before = threads();
    PopulateBehind first;
    if (!PopulateBehind::active()) GTEST_SKIP() << "another PopulateBehind lives in this process";
    EXPECT_EQ(threads(), before + 1);
    {
        PopulateBehind second;
        EXPECT_EQ(threads(), before + 1) << "the second started a thread";
    }
    ASSERT_TRUE(PopulateBehind::active()) << "the second's end ended the first's";
    const size_t len = kHugePage;
    void* p = huge_allocate(len);
    PopulateBehind::request(p, len);
    PopulateBehind::drain();
    if (!PopulateBehind::active()) {
        huge_deallocate(p, len);
        GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (Linux 5.14)";
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    EXPECT_EQ(resident_pages(p, len), len / page) << "the first populates";
    huge_deallocate(p, len);
}

// Freed while its requests wait: they are dropped (the memory is unmapped
// under them), and the thread goes on with the next.
TEST(PopulateBehind, ForgetsWhatIsFreedBeforeItIsPopulated) {
    PopulateBehind pb;
    if (!PopulateBehind::active()) GTEST_SKIP() << "another PopulateBehind lives in this process";
    for (int round = 0; round < 20; ++round) {
        const size_t len = 8 * kHugePage;
        void* p = huge_allocate(len);
        for (size_t at = 0; at < len; at += kHugePage) PopulateBehind::request(static_cast<char*>(p) + at, kHugePage);
        huge_deallocate(p, len);  // forget(), then munmap
    }
    void* q = huge_allocate(kHugePage);
    PopulateBehind::request(q, kHugePage);
    PopulateBehind::drain();
    if (PopulateBehind::active()) {
        EXPECT_EQ(resident_pages(q, kHugePage), kHugePage / static_cast<size_t>(sysconf(_SC_PAGESIZE)));
    }
    huge_deallocate(q, kHugePage);
}

// The flow table's slab is reserved for its bound and grows in place: a
// flow never moves, and with a PopulateBehind the slab's next huge page is
// mapped before the table reaches it.
TEST(PopulateBehind, FlowSlabGrowsInPlaceIntoMemoryPopulatedAhead) {
    PopulateBehind pb;
    if (!PopulateBehind::active()) GTEST_SKIP() << "another PopulateBehind lives in this process";
    flow::FlowTableConfig cfg;
    cfg.max_flows = 100000;
    flow::FlowTable t(cfg);
    decode::PacketMeta m;
    m.proto = 17;
    m.src = decode::IpAddr::v4(0x0a000001);
    m.dst = decode::IpAddr::v4(0x0a000002);
    m.dport = 53;
    m.sport = 1;
    const flow::Flow* first = t.update(m, 1).flow;
    for (uint16_t port = 2; port < 8000; ++port) {
        m.sport = port;
        t.update(m, port);
    }
    m.sport = 1;
    EXPECT_EQ(t.update(m, 9000).flow, first) << "the first flow did not move";
    PopulateBehind::drain();
    if (!PopulateBehind::active()) GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE (Linux 5.14)";
    // 8,000 flows of 320 bytes: ~2.4 MB used; the huge page after them asked for too.
    EXPECT_GE(PopulateBehind::populated(), 2 * kHugePage);
}

// Where the address space is bounded (ulimit -v) the slab's reservation for
// the flow bound is refused: the table starts small and doubles, as before,
// instead of failing (an analyze under `ulimit -v 400000` died with
// std::bad_alloc). The child: RLIMIT_AS 160 MiB above what it maps, then
// 20,000 flows in a table with the default bound. Exits 0 when all are there.
[[noreturn]] void slab_in_a_bounded_address_space() {
    size_t mapped = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        unsigned long pages = 0;
        if (std::fscanf(f, "%lu", &pages) == 1) mapped = pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
        std::fclose(f);
    }
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max = mapped + (size_t{160} << 20);
    if (mapped == 0 || setrlimit(RLIMIT_AS, &lim) != 0) std::_Exit(3);
    flow::FlowTableConfig cfg;  // the default bound: 1,048,576 flows, 320 MiB of slab
    flow::FlowTable t(cfg);
    decode::PacketMeta m;
    m.proto = 17;
    m.dst = decode::IpAddr::v4(0x0a000002);
    m.dport = 53;
    for (uint32_t i = 1; i <= 20000; ++i) {
        m.src = decode::IpAddr::v4(0x0a010000 + i);
        m.sport = 40000;
        t.update(m, i);
    }
    std::_Exit(t.live() == 20000 ? 0 : 4);
}

TEST(PopulateBehind, FlowSlabFallsBackWhereTheAddressSpaceIsBounded) {
    if (test::address_sanitizer_build()) GTEST_SKIP() << "AddressSanitizer maps terabytes of shadow: no RLIMIT_AS";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(slab_in_a_bounded_address_space(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace callwall::util
