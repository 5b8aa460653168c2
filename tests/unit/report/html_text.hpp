// Shared by the HTML report tests.
#pragma once

#include <cstddef>
#include <string>

namespace callwall::report::test {

/// How many times `needle` occurs in `hay`, without overlaps.
inline size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
    return n;
}

}  // namespace callwall::report::test
