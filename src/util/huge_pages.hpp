// Large arrays on transparent huge pages.
//
// The first touch of a 4 KiB page is a page fault, and in a virtual machine
// a fault is dear: the analysing thread of a busy run spent an eighth of its
// time in faults filling the flow slab, the dissectors' per-flow state and
// the kept flows (docs/performance.md).
// Debian's kernels give transparent huge pages only where a mapping asks for
// them (`madvise` mode), and glibc's heap does not ask unless told by an
// environment variable (GLIBC_TUNABLES=glibc.malloc.hugetlb=1). So a block of
// kHugeFrom or more is mapped here on its own, rounded up to whole huge pages
// (kHugePage), aligned and marked MADV_HUGEPAGE: it faults once per 2 MiB.
// Smaller blocks come from the heap as before. Where huge pages are off (or
// none is free) the kernel maps 4 KiB pages: the same memory, the faults as
// before.
//
// Why from 256 KiB and not from 2 MiB: a std::vector doubles, and every step
// is new memory to fault; the steps under 2 MiB of a flow-sized array added
// up to ~900 faults each in a busy 2 M run, under 256 KiB they add up to
// ~128. Memory: a huge page is resident as a whole once touched, so an array
// holds at most one partly used huge page more than with 4 KiB pages (under
// 2 MiB, one huge page for what it uses).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "util/populate_behind.hpp"

namespace callwall::util {

inline constexpr size_t kHugePage = size_t{2} << 20;
/// Blocks from this size on are mapped on huge pages.
inline constexpr size_t kHugeFrom = size_t{256} << 10;

/// `bytes` (at least kHugeFrom) of zeroed memory, kHugePage-aligned, asked to
/// be backed by huge pages. Throws std::bad_alloc when it cannot be mapped.
[[nodiscard]] void* huge_allocate(size_t bytes);
/// Unmaps what huge_allocate(bytes) gave.
void huge_deallocate(void* p, size_t bytes) noexcept;

/// std::allocator, but blocks of kHugeFrom or more come from huge_allocate().
template <class T>
struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() noexcept = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly

    [[nodiscard]] T* allocate(size_t n) {
        if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
        if (n * sizeof(T) < kHugeFrom) return std::allocator<T>().allocate(n);
        static_assert(alignof(T) <= kHugePage);
        return static_cast<T*>(huge_allocate(n * sizeof(T)));
    }
    void deallocate(T* p, size_t n) noexcept {
        if (n * sizeof(T) < kHugeFrom)
            std::allocator<T>().deallocate(p, n);
        else
            huge_deallocate(p, n * sizeof(T));
    }
    friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) noexcept { return true; }
};

template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

/// A HugeVector that grows in place (its capacity reserved up front) asks
/// PopulateBehind for the next huge page of its capacity once its size
/// comes within a huge page of what was asked for: call after_growth()
/// after it grows. Nothing while no PopulateBehind is active.
class PopulateAhead {
public:
    template <class T>
    void after_growth(const HugeVector<T>& v) noexcept {
        const auto* base = reinterpret_cast<const char*>(v.data());
        if (base != base_) {  // moved (or first seen): what was asked for was the old block's
            base_ = base;
            asked_ = 0;
        }
        const size_t used = v.size() * sizeof(T), cap = v.capacity() * sizeof(T);
        if (used + kHugePage <= asked_ || asked_ >= cap || cap < kHugeFrom || !PopulateBehind::active()) return;
        const size_t n = std::min(kHugePage, cap - asked_);
        PopulateBehind::request(base_ + asked_, n);
        asked_ += n;
    }

private:
    const char* base_ = nullptr;
    size_t asked_ = 0;  ///< bytes of the block asked for
};

/// An append-only array of trivially copyable T in blocks of kHugePage from
/// huge_allocate(): growing never moves an element nor holds two copies (a
/// std::deque's blocks are 512 bytes: one heap block per few records).
template <class T>
class HugeChunks {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
    static_assert(sizeof(T) <= kHugePage);

public:
    static constexpr size_t kPerChunk = kHugePage / sizeof(T);

    HugeChunks() = default;
    ~HugeChunks() { clear(); }
    HugeChunks(const HugeChunks&) = delete;
    HugeChunks& operator=(const HugeChunks&) = delete;

    void push_back(const T& v) {
        if (size_ == chunks_.size() * kPerChunk) {
            // Room first: a throw then leaves no block taken and lost.
            if (chunks_.size() == chunks_.capacity()) chunks_.reserve(std::max<size_t>(4, 2 * chunks_.size()));
            T* block = spare_ ? std::exchange(spare_, nullptr) : static_cast<T*>(huge_allocate(kHugePage));
            chunks_.push_back(block);
            // The next block, populated behind while this one fills (with a
            // second core). Optional: without it the next block is mapped then.
            if (PopulateBehind::active()) {
                try {
                    spare_ = static_cast<T*>(huge_allocate(kHugePage));
                    PopulateBehind::request(spare_, kHugePage);
                } catch (const std::bad_alloc&) {
                    spare_ = nullptr;
                }
            }
        }
        std::construct_at(&chunks_[size_ / kPerChunk][size_ % kPerChunk], v);
        ++size_;
    }
    [[nodiscard]] T& operator[](size_t i) noexcept { return chunks_[i / kPerChunk][i % kPerChunk]; }
    [[nodiscard]] const T& operator[](size_t i) const noexcept { return chunks_[i / kPerChunk][i % kPerChunk]; }
    [[nodiscard]] const T& back() const noexcept { return (*this)[size_ - 1]; }
    [[nodiscard]] size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    /// Empties it and gives its memory back.
    void clear() noexcept {
        for (T* c : chunks_) huge_deallocate(c, kHugePage);
        if (spare_) huge_deallocate(std::exchange(spare_, nullptr), kHugePage);
        chunks_.clear();
        chunks_.shrink_to_fit();
        size_ = 0;
    }

private:
    std::vector<T*> chunks_;
    T* spare_ = nullptr;  ///< the next block, asked to be populated
    size_t size_ = 0;
};

}  // namespace callwall::util
