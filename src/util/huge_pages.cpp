#include "util/huge_pages.hpp"
#include "util/populate_behind.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace callwall::util {

namespace {

size_t round_up(size_t bytes) noexcept { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

}  // namespace

void* huge_allocate(size_t bytes) {
    if (bytes > SIZE_MAX - 2 * kHugePage) throw std::bad_alloc();
    const size_t len = round_up(bytes);
    // Mapped one huge page longer, then trimmed at both ends to an aligned
    // range: only an aligned 2 MiB range can be one huge page.
    // MAP_NORESERVE: a capacity reserved up front (the flow table's slab
    // for its bound) is address space, not memory, until it is touched.
    void* raw =
        mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = round_up(start);
    if (aligned > start) munmap(raw, aligned - start);
    const uintptr_t end = start + len + kHugePage;
    if (end > aligned + len) munmap(reinterpret_cast<void*>(aligned + len), end - (aligned + len));
    auto* p = reinterpret_cast<void*>(aligned);
    madvise(p, len, MADV_HUGEPAGE);  // a hint: refused (THP off, an old kernel), 4 KiB pages serve as before
    return p;
}

void huge_deallocate(void* p, size_t bytes) noexcept {
    if (!p) return;
    PopulateBehind::forget(p, round_up(bytes));
    munmap(p, round_up(bytes));
}

}  // namespace callwall::util
