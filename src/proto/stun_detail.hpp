// Private to the STUN decoder's files (stun.cpp, stun_stream.cpp,
// stun_track.cpp).
#pragma once

#include <cstddef>

namespace callwall::proto::stun {

/// A length rounded up to the next multiple of 4 (STUN attributes and
/// ChannelData over TCP are padded to 4 bytes).
constexpr size_t pad4(size_t n) noexcept { return (n + 3u) & ~size_t{3}; }

}  // namespace callwall::proto::stun
