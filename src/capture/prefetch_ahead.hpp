// Walking a capture file in memory record by record: where the next record
// starts is known only from the current one's header, so each record is a
// dependent cache miss whenever the hardware prefetcher stops (at each 4 KiB
// page). Prefetching every cache line up to a few KiB past the read position
// keeps the next records' headers and first bytes in the cache
// (docs/performance.md has the gain).
#pragma once

#include <algorithm>
#include <cstdint>

namespace callwall::capture {

/// How far ahead of the read position the lines are fetched.
inline constexpr uint64_t kPrefetchAheadBytes = 4096;

/// Prefetches the lines of `base[0, size)` from `ahead` up to
/// kPrefetchAheadBytes past `pos`, and moves `ahead` there (a line boundary;
/// set back to `pos` if the reader moved past it).
inline void prefetch_ahead(const uint8_t* base, uint64_t size, uint64_t pos, uint64_t& ahead) noexcept {
    const uint64_t want = std::min(pos + kPrefetchAheadBytes, size);
    if (ahead < pos) ahead = pos & ~uint64_t{63};
    for (; ahead < want; ahead += 64) __builtin_prefetch(base + ahead);
}

}  // namespace callwall::capture
