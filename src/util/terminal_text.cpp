// Escaping for the terminal: see util/terminal_text.hpp.
#include "util/terminal_text.hpp"

namespace callwall::util {

Utf8Step utf8_step(std::string_view s, size_t at) noexcept {
    if (at >= s.size()) return {};
    const auto c = static_cast<unsigned char>(s[at]);
    if (c < 0x80) return {1, c};
    size_t more = 0;
    char32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
        more = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        more = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        more = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return {};
    }
    if (s.size() - at <= more) return {};
    for (size_t k = 1; k <= more; ++k) {
        const auto cc = static_cast<unsigned char>(s[at + k]);
        if ((cc & 0xC0) != 0x80) return {};
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
    return {more + 1, cp};
}

bool unsafe_on_terminal(char32_t cp) noexcept {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

namespace {

void append_hex(std::string& out, unsigned char b) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
}

void append_escaped(std::string& out, std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const Utf8Step st = utf8_step(s, i);
        if (st.length == 0) {
            append_hex(out, static_cast<unsigned char>(s[i]));
            ++i;
            continue;
        }
        if (unsafe_on_terminal(st.code_point))
            for (size_t k = 0; k < st.length; ++k) append_hex(out, static_cast<unsigned char>(s[i + k]));
        else
            out.append(s.substr(i, st.length));
        i += st.length;
    }
}

}  // namespace

bool terminal_safe(std::string_view s) noexcept {
    for (size_t i = 0; i < s.size();) {
        const Utf8Step st = utf8_step(s, i);
        if (st.length == 0 || unsafe_on_terminal(st.code_point)) return false;
        i += st.length;
    }
    return true;
}

std::string terminal_text(std::string_view s) {
    if (terminal_safe(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 16);
    append_escaped(out, s);
    return out;
}

std::string terminal_lines(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t at = 0; at <= s.size();) {
        size_t end = s.find('\n', at);
        if (end == std::string_view::npos) end = s.size();
        append_escaped(out, s.substr(at, end - at));
        if (end < s.size()) out += '\n';
        at = end + 1;
    }
    return out;
}

}  // namespace callwall::util
