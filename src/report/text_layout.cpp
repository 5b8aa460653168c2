// The text report's layout. See report/text_layout.hpp.
#include "report/text_layout.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace callwall::report::text {

namespace {
bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
}  // namespace

size_t columns(std::string_view s) {
    size_t n = 0;
    for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

std::vector<std::string> wrap(std::string_view s, size_t width) {
    std::vector<std::string> lines;
    std::string line;
    size_t line_cols = 0;
    for (size_t at = 0; at < s.size();) {
        while (at < s.size() && blank(s[at])) ++at;
        if (at == s.size()) break;
        size_t end = at;
        while (end < s.size() && !blank(s[end])) ++end;
        const std::string_view word = s.substr(at, end - at);
        const size_t cols = columns(word);
        at = end;
        if (line.empty()) {
            line = word;
            line_cols = cols;
        } else if (line_cols + 1 + cols <= width) {
            line += ' ';
            line += word;
            line_cols += 1 + cols;
        } else {
            lines.push_back(std::move(line));
            line = word;
            line_cols = cols;
        }
        // A token as wide as the column or wider fills its line alone.
        if (line_cols >= width) {
            lines.push_back(std::move(line));
            line.clear();
            line_cols = 0;
        }
    }
    if (!line.empty()) lines.push_back(std::move(line));
    if (lines.empty()) lines.emplace_back();
    for (auto& l : lines) std::replace(l.begin(), l.end(), kNoBreak, ' ');
    return lines;
}

std::string wrapped(const std::string& first, std::string_view text, size_t indent) {
    const size_t lead = std::max(columns(first), indent);
    const auto lines = wrap(text, kWidth > lead + 20 ? kWidth - lead : 20);
    std::string o = first + lines[0] + "\n";
    for (size_t i = 1; i < lines.size(); ++i) o += std::string(indent, ' ') + lines[i] + "\n";
    return o;
}

std::string pad(const std::string& s, size_t w) {
    const size_t n = columns(s);
    return n >= w ? s : s + std::string(w - n, ' ');
}

std::string trimmed(std::string row) {
    while (!row.empty() && row.back() == ' ') row.pop_back();
    return row + "\n";
}

std::string iso_time(double ts) {
    if (ts <= 0) return "-";
    const time_t t = static_cast<time_t>(ts);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char b[40];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", b, static_cast<int>((ts - static_cast<double>(t)) * 1000));
    return out;
}

}  // namespace callwall::report::text
