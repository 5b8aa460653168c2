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

/// Seconds on the monotonic clock.
[[nodiscard]] inline double mono_s() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// Microseconds on the monotonic clock.
[[nodiscard]] inline int64_t mono_us() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

/// Seconds of wall-clock time (CLOCK_REALTIME) since the epoch.
[[nodiscard]] inline double wall_s() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// Microseconds of wall-clock time (CLOCK_REALTIME): a live frame's time is
/// the kernel's receive time on this clock.
[[nodiscard]] inline int64_t wall_us() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace callwall::util
