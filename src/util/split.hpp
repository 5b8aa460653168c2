// Splitting a joined column ("443,3478", "a.example,b.example") into its
// parts, for the store's reads and the report's renderings alike, and
// joining a list for a message.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace callwall::util {

/// The parts of `s` between `sep`s, empty ones dropped ("a,,b," -> {"a", "b"}).
[[nodiscard]] inline std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        const size_t end = std::min(s.find(sep, start), s.size());
        if (end > start) out.emplace_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

/// The parts of `v` with `sep` between them ({"a", "b"}, ", " -> "a, b").
[[nodiscard]] inline std::string joined(const std::vector<std::string>& v, std::string_view sep) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += sep;
        s += v[i];
    }
    return s;
}

}  // namespace callwall::util
