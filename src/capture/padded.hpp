// The room a copied frame takes in a reading thread's chunk (read_ahead.cpp,
// live_reader.cpp): its bytes rounded up to 8, so the next frame's record
// starts aligned.
#pragma once

#include <cstddef>
#include <cstdint>

namespace callwall::capture {

[[nodiscard]] constexpr size_t padded(uint32_t caplen) noexcept { return (size_t{caplen} + 7) & ~size_t{7}; }

}  // namespace callwall::capture
