// Buffer pools for the dissect stage: objects with stable addresses
// (assemblers hold spans into their own slot), allocated in chunks on first
// use up to a bound and recycled through a free list.
//
// ReclaimPool adds what the handshake buffers (TLS first flights, QUIC
// Initials) need so that junk cannot starve a call: when the pool
// is full, the least recently progressed lent slot is reclaimed from its
// owner instead of the new request being refused (a stalled ClientHello
// holds a buffer forever otherwise), and one source address holds at most
// `per_source` slots (at that bound the source's own least recently
// progressed slot is reclaimed). Least-recently-progressed order is an
// intrusive list (O(1) per operation; finding a source's own oldest slot
// walks the list from its head, only when that source is at its bound).
// Sources are counted per hash bucket: two addresses sharing a bucket share a
// bound (rare with kSourceBuckets >> active sources; it only ever tightens).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace callwall::pipeline {

template <class T>
class Pool {
public:
    explicit Pool(size_t cap) : cap_(cap) {}
    /// -1 when the bound is reached.
    int32_t acquire() {
        if (!free_.empty()) {
            const int32_t i = free_.back();
            free_.pop_back();
            return i;
        }
        if (size_ >= cap_) return -1;
        if (size_ % kChunk == 0) {
            // Default-initialised: reassembly buffers are not zero-filled
            // (decoders only ever read the byte ranges they were given).
            chunks_.push_back(std::unique_ptr<T[]>(new T[kChunk]));
            free_.reserve(chunks_.size() * kChunk);
        }
        return static_cast<int32_t>(size_++);
    }
    void release(int32_t i) noexcept {
        at(i).reset();
        free_.push_back(i);  // capacity reserved when the chunk was made
    }
    T& at(int32_t i) noexcept { return chunks_[static_cast<size_t>(i) / kChunk][static_cast<size_t>(i) % kChunk]; }
    [[nodiscard]] bool full() const noexcept { return free_.empty() && size_ >= cap_; }
    [[nodiscard]] size_t capacity() const noexcept { return cap_; }
    /// Raises the bound (never lowers it); chunks are still made on first use.
    void raise_capacity(size_t cap) noexcept { cap_ = std::max(cap_, cap); }

private:
    static constexpr size_t kChunk = 64;
    size_t cap_;
    size_t size_ = 0;
    std::vector<std::unique_ptr<T[]>> chunks_;
    std::vector<int32_t> free_;
};

/// Who holds a lent slot (so a reclaim can tell it): flow slab index + role.
struct SlotOwner {
    uint32_t flow = 0;
    uint8_t role = 0;
};

template <class T>
class ReclaimPool {
public:
    static constexpr size_t kSourceBuckets = 4096;

    ReclaimPool(size_t cap, size_t per_source)
        : pool_(cap), per_source_(per_source), meta_(cap), source_count_(kSourceBuckets, 0) {}

    /// Lends a slot to `owner` on behalf of the source whose address hashes
    /// to `source_hash`. When a slot had to be reclaimed, `*evicted` is set
    /// to its previous owner (which must forget it) and true is stored in
    /// `*reclaimed`. -1 only when the pool cannot lend at all (capacity 0).
    int32_t acquire(uint64_t source_hash, SlotOwner owner, SlotOwner* evicted, bool* reclaimed) {
        *reclaimed = false;
        const uint16_t b = static_cast<uint16_t>(source_hash % kSourceBuckets);
        int32_t i = -1;
        if (per_source_ > 0 && source_count_[b] >= per_source_) {
            for (int32_t k = head_; k >= 0; k = meta_[static_cast<size_t>(k)].next)
                if (meta_[static_cast<size_t>(k)].bucket == b) {
                    i = k;
                    break;
                }
        }
        if (i < 0 && pool_.full()) i = head_;
        if (i >= 0) {
            *evicted = meta_[static_cast<size_t>(i)].owner;
            *reclaimed = true;
            ++reclaimed_;
            forget(i);
            pool_.at(i).reset();
        } else {
            i = pool_.acquire();
            if (i < 0) {
                ++refused_;
                return -1;
            }
        }
        Meta& m = meta_[static_cast<size_t>(i)];
        m.owner = owner;
        m.bucket = b;
        m.lent = true;
        ++source_count_[b];
        link_tail(i);
        return i;
    }
    /// The slot's owner made progress: it becomes the last to be reclaimed.
    void touch(int32_t i) noexcept {
        unlink(i);
        link_tail(i);
    }
    void release(int32_t i) noexcept {
        forget(i);
        pool_.release(i);
    }
    T& at(int32_t i) noexcept { return pool_.at(i); }

    [[nodiscard]] uint64_t reclaimed() const noexcept { return reclaimed_; }
    [[nodiscard]] uint64_t refused() const noexcept { return refused_; }
    [[nodiscard]] size_t lent() const noexcept { return lent_; }

private:
    struct Meta {
        int32_t prev = -1, next = -1;
        SlotOwner owner{};
        uint16_t bucket = 0;
        bool lent = false;
    };
    void forget(int32_t i) noexcept {
        Meta& m = meta_[static_cast<size_t>(i)];
        if (!m.lent) return;
        unlink(i);
        m.lent = false;
        --source_count_[m.bucket];
    }
    void unlink(int32_t i) noexcept {
        Meta& m = meta_[static_cast<size_t>(i)];
        if (m.prev >= 0)
            meta_[static_cast<size_t>(m.prev)].next = m.next;
        else
            head_ = m.next;
        if (m.next >= 0)
            meta_[static_cast<size_t>(m.next)].prev = m.prev;
        else
            tail_ = m.prev;
        m.prev = m.next = -1;
        --lent_;
    }
    void link_tail(int32_t i) noexcept {
        Meta& m = meta_[static_cast<size_t>(i)];
        m.prev = tail_;
        m.next = -1;
        if (tail_ >= 0)
            meta_[static_cast<size_t>(tail_)].next = i;
        else
            head_ = i;
        tail_ = i;
        ++lent_;
    }

    Pool<T> pool_;
    size_t per_source_;
    std::vector<Meta> meta_;  // per slot, sized at construction
    std::vector<uint16_t> source_count_;  // per source bucket
    int32_t head_ = -1, tail_ = -1;  // least .. most recently progressed
    size_t lent_ = 0;
    uint64_t reclaimed_ = 0, refused_ = 0;
};

}  // namespace callwall::pipeline
