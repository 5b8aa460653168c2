// Host-name text rules shared by the catalog's matchers (model.cpp's
// matches(), domain_index.cpp's DomainIndex::lookup), kept in one place so
// the two cannot drift apart.
#pragma once

#include <cstddef>

namespace callwall::catalog {

/// Longer than any legal DNS name (253 in dotted text form): a host this
/// long matches nothing.
inline constexpr size_t kMaxHostLength = 255;

/// ASCII lower case, as DNS compares names (RFC 4343); other bytes unchanged.
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace callwall::catalog
