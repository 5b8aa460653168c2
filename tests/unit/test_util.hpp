// Helpers shared by the unit tests.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "callwall/bytes/reader.hpp"

namespace callwall::test {

/// Parses a hex string ("0a 0B:ff", whitespace, ':' and '-' ignored) into bytes.
/// Throws on odd length or a non-hex character: fixtures are code, not data.
inline std::vector<uint8_t> hex(std::string_view s) {
    std::vector<uint8_t> out;
    int hi = -1;
    for (char c : s) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else if (c == ' ' || c == '\n' || c == '\t' || c == ':' || c == '-' || c == '\r')
            continue;
        else
            throw std::invalid_argument("hex(): bad character");
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("hex(): odd number of digits");
    return out;
}

inline ByteView view(const std::vector<uint8_t>& v) { return ByteView{v.data(), v.size()}; }

}  // namespace callwall::test
