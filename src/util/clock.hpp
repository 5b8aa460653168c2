// Clock readings for what callwall times itself (waits, deadlines, pacing),
// shared so each module does not keep a copy of its own (copies in
// anonymous namespaces collide in the unity build of the asan preset).
#pragma once

#include <time.h>

#include <cstdint>

namespace callwall::util {

/// Microseconds as seconds (capture times are kept in microseconds, the
/// database and the events hold seconds).
[[nodiscard]] constexpr double us_to_s(int64_t us) noexcept { return static_cast<double>(us) / 1e6; }

namespace clock_detail {
[[nodiscard]] inline timespec read(clockid_t clock) noexcept {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return ts;
}
[[nodiscard]] inline double seconds(const timespec& ts) noexcept {
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
[[nodiscard]] inline int64_t micros(const timespec& ts) noexcept {
    return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}
}  // namespace clock_detail

/// Seconds on the monotonic clock.
[[nodiscard]] inline double mono_s() noexcept { return clock_detail::seconds(clock_detail::read(CLOCK_MONOTONIC)); }

/// Microseconds on the monotonic clock.
[[nodiscard]] inline int64_t mono_us() noexcept { return clock_detail::micros(clock_detail::read(CLOCK_MONOTONIC)); }

/// Seconds of wall-clock time (CLOCK_REALTIME) since the epoch.
[[nodiscard]] inline double wall_s() noexcept { return clock_detail::seconds(clock_detail::read(CLOCK_REALTIME)); }

/// Microseconds of wall-clock time (CLOCK_REALTIME): a live frame's time is
/// the kernel's receive time on this clock.
[[nodiscard]] inline int64_t wall_us() noexcept { return clock_detail::micros(clock_detail::read(CLOCK_REALTIME)); }

}  // namespace callwall::util
