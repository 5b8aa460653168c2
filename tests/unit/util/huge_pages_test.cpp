// util/huge_pages.*: large blocks mapped on their own, aligned and asked to
// be backed by huge pages; small ones from the heap; the containers built on
// them keep every element.
#include "util/huge_pages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace callwall::util {
namespace {

/// The VmFlags of the mapping holding `p` in /proc/self/smaps ("" when not found).
std::string vm_flags_of(const void* p) {
    std::ifstream smaps("/proc/self/smaps");
    const auto at = reinterpret_cast<uintptr_t>(p);
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        unsigned long lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
            inside = lo <= at && at < hi;
            continue;
        }
        if (inside && line.rfind("VmFlags:", 0) == 0) return line.substr(8);
    }
    return "";
}

bool kernel_has_huge_pages() {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    return f.good();
}

TEST(HugePages, LargeBlocksAlignedOnHugePagesAndAskedForThemSmallOnesFromTheHeap) {
    if (!kernel_has_huge_pages()) GTEST_SKIP() << "no transparent huge pages in this kernel: nothing to ask for";
    HugePageAllocator<uint64_t> alloc;
    const size_t small = kHugeFrom / sizeof(uint64_t) - 1, large = kHugeFrom / sizeof(uint64_t);
    uint64_t* s = alloc.allocate(small);
    uint64_t* l = alloc.allocate(large);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(l) % kHugePage, 0u);
    l[0] = 1;
    l[large - 1] = 2;
    s[small - 1] = 3;
    EXPECT_NE(vm_flags_of(l).find(" hg"), std::string::npos) << vm_flags_of(l);
    EXPECT_EQ(vm_flags_of(s).find(" hg"), std::string::npos) << vm_flags_of(s);
    alloc.deallocate(s, small);
    alloc.deallocate(l, large);
}

TEST(HugePages, TheRoundedUpTailIsMappedAndZeroed) {
    // 3 MiB + 1 byte: mapped as two huge pages, all of it zeroed memory.
    const size_t bytes = 3 * (size_t{1} << 20) + 1;
    auto* p = static_cast<unsigned char*>(huge_allocate(bytes));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHugePage, 0u);
    for (size_t i = 0; i < 2 * kHugePage; i += 4096) ASSERT_EQ(p[i], 0) << i;
    EXPECT_EQ(p[2 * kHugePage - 1], 0);
    p[2 * kHugePage - 1] = 7;
    huge_deallocate(p, bytes);
}

TEST(HugePages, AVectorKeepsItsElementsAcrossTheThreshold) {
    HugeVector<uint64_t> v;
    const uint64_t n =
        3 * kHugePage / sizeof(uint64_t) + 17;  // heap blocks, then huge ones, then a reallocation among them
    for (uint64_t i = 0; i < n; ++i) v.push_back(i * 2654435761u);
    ASSERT_EQ(v.size(), n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePage, 0u);
    for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(v[i], i * 2654435761u) << i;
    v.resize(10);
    v.shrink_to_fit();  // back to a heap block
    ASSERT_EQ(v.size(), 10u);
    for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(v[i], i * 2654435761u);
}

struct Row {
    uint64_t id;
    char text[40];
};

TEST(HugePages, ChunksKeepEveryRecordAcrossBlocksAndCanBeRefilled) {
    HugeChunks<Row> rows;
    EXPECT_TRUE(rows.empty());
    const size_t n = 3 * HugeChunks<Row>::kPerChunk + 5;
    for (int round = 0; round < 2; ++round) {
        const Row* first = nullptr;
        for (size_t i = 0; i < n; ++i) {
            Row r{i + round, {}};
            std::snprintf(r.text, sizeof r.text, "row %zu", i);
            rows.push_back(r);
            ASSERT_EQ(rows.back().id, i + round);
            if (i == 0) first = &rows[0];
        }
        EXPECT_EQ(&rows[0], first);  // blocks added, no record moved
        ASSERT_EQ(rows.size(), n);
        for (size_t i = 0; i < n; ++i) {
            ASSERT_EQ(rows[i].id, i + round) << i;
            ASSERT_EQ(std::string(rows[i].text), "row " + std::to_string(i)) << i;
        }
        rows.clear();
        EXPECT_TRUE(rows.empty());
        EXPECT_EQ(rows.size(), 0u);
    }
}

}  // namespace
}  // namespace callwall::util
