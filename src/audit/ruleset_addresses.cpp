#include "audit/ruleset_addresses.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "audit/ruleset_text.hpp"

namespace callwall::audit {

bool text_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view text_trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> text_words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        const size_t b = i;
        while (i < s.size() && s[i] != ' ') ++i;
        if (i > b) out.push_back(s.substr(b, i - b));
    }
    return out;
}

namespace {

bool has_any(std::string_view name, std::initializer_list<std::string_view> parts) {
    return std::any_of(parts.begin(), parts.end(),
                       [&](std::string_view p) { return name.find(p) != std::string_view::npos; });
}

}  // namespace

namespace {

bool parse_v4(std::string_view s, uint32_t& out) {
    uint32_t v = 0;
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t j = i;
        uint32_t octet = 0;
        while (j < s.size() && text_digit(s[j]) && j - i < 3) octet = octet * 10 + static_cast<uint32_t>(s[j++] - '0');
        if (j == i || octet > 255) return false;
        v = (v << 8) | octet;
        ++parts;
        i = j;
        if (parts < 4) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
    }
    if (i != s.size()) return false;
    out = v;
    return true;
}

// A comment (to the end of its line) or a quoted string (a rule's comment,
// an interface name) starting at `i`: moves `i` past it. Neither holds an
// address the ruleset matches on.
bool skip_comment_or_string(std::string_view text, size_t& i) {
    if (text[i] == '#') {
        const size_t eol = text.find('\n', i);
        i = eol == std::string_view::npos ? text.size() : eol + 1;
        return true;
    }
    if (text[i] == '"') {
        const size_t close = text.find('"', i + 1);
        i = close == std::string_view::npos ? text.size() : close + 1;
        return true;
    }
    return false;
}

}  // namespace

std::vector<V4Range> ipv4_ranges(std::string_view text) {
    std::vector<V4Range> out;
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (skip_comment_or_string(text, i)) continue;
        if (!text_digit(c) || (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.' ||
                                         text[i - 1] == ':'))) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < text.size() && (text_digit(text[j]) || text[j] == '.' || text[j] == '/' || text[j] == '-')) ++j;
        std::string_view t = text.substr(i, j - i);
        i = j;
        while (!t.empty() && (t.back() == '.' || t.back() == '-' || t.back() == '/')) t.remove_suffix(1);
        uint32_t a = 0, b = 0;
        const size_t slash = t.find('/'), dash = t.find('-');
        if (slash != std::string_view::npos) {
            unsigned len = 0;
            const auto lenv = t.substr(slash + 1);
            const auto r = std::from_chars(lenv.data(), lenv.data() + lenv.size(), len);
            if (!parse_v4(t.substr(0, slash), a) || r.ec != std::errc() || r.ptr != lenv.data() + lenv.size() ||
                len > 32)
                continue;
            const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
            out.push_back({a & mask, (a & mask) | ~mask, static_cast<uint8_t>(len)});
        } else if (dash != std::string_view::npos) {
            if (!parse_v4(t.substr(0, dash), a) || !parse_v4(t.substr(dash + 1), b) || b < a) continue;
            out.push_back({a, b, 0});
        } else if (parse_v4(t, a)) {
            out.push_back({a, a, 32});
        }
    }
    return out;
}

std::string v4_text(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
}

bool parse_ipv4(std::string_view s, uint32_t& out) { return parse_v4(s, out); }

namespace {

// The prefixes after `ip saddr` / `ip6 saddr` (nft) or `-s`/`--source`
// (iptables) in one rule line, of lengths min_len to max_len.
template <typename Range, typename Parse>
std::vector<Range> source_prefixes(std::string_view line, Parse parse, int min_len, int max_len) {
    std::vector<Range> out;
    for (std::string_view kw : {std::string_view("ip saddr "), std::string_view("ip6 saddr "), std::string_view("-s "),
                                std::string_view("--source ")}) {
        for (size_t at = line.find(kw); at != std::string_view::npos; at = line.find(kw, at + 1)) {
            if (kw == "-s " && at > 0 && line[at - 1] != ' ') continue;
            size_t from = at + kw.size();
            while (from < line.size() && (line[from] == ' ' || line[from] == '!' || line[from] == '=')) ++from;
            if (from >= line.size()) continue;
            const size_t end = line[from] == '{' ? line.find('}', from) : line.find(' ', from);
            for (const auto& r : parse(line.substr(from, end == std::string_view::npos ? end : end - from)))
                if (r.len >= min_len && r.len <= max_len) out.push_back(r);
        }
    }
    return out;
}

template <typename Range, typename Parse>
std::vector<Range> inside_networks_of(std::string_view text, const std::string& inside, Parse parse, int min_len,
                                      int max_len) {
    const std::string resolved = resolve_defines(text);
    std::vector<Range> out;
    auto add = [&out](const Range& r) {
        if (std::none_of(out.begin(), out.end(), [&](const Range& x) { return x.lo == r.lo && x.hi == r.hi; }))
            out.push_back(r);
    };
    const std::string quoted = "\"" + inside + "\"";
    for (const std::string_view raw : split_lines(resolved)) {
        const std::string_view line = text_trim(raw);
        if (line.empty() || line[0] == '#') continue;
        const auto w = text_words(line);
        bool on_inside = false, nat = false;
        for (size_t i = 0; i < w.size(); ++i) {
            if ((w[i] == "iifname" || w[i] == "-i" || w[i] == "--in-interface") && i + 1 < w.size() &&
                (w[i + 1] == inside || w[i + 1] == quoted))
                on_inside = true;
            if (w[i] == "masquerade" || w[i] == "snat" || w[i] == "MASQUERADE" || w[i] == "SNAT") nat = true;
        }
        if (on_inside || nat)
            for (const auto& r : source_prefixes<Range>(line, parse, min_len, max_len)) add(r);
    }
    // A network defined under a name that says so (define LAN_NET = ...).
    for (const std::string_view raw : split_lines(text)) {
        std::string_view l = text_trim(raw);
        if (l.rfind("define ", 0) != 0) continue;
        const size_t eq = l.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(l.substr(7, eq - 7));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!has_any(name, {"lan", "inside", "internal", "priv", "trust", "office", "home", "client"})) continue;
        for (const auto& r : parse(l.substr(eq + 1)))
            if (r.len >= min_len && r.len <= max_len) add(r);
    }
    return out;
}

}  // namespace

std::vector<V4Range> inside_networks(std::string_view text, const std::string& inside) {
    return inside_networks_of<V4Range>(text, inside, ipv4_ranges, 8, 30);
}

std::vector<V6Range> inside_networks6(std::string_view text, const std::string& inside) {
    return inside_networks_of<V6Range>(text, inside, ipv6_ranges, 8, 126);
}

bool covered(uint32_t a, std::span<const V4Range> ranges) {
    return std::any_of(ranges.begin(), ranges.end(), [a](const V4Range& r) {
        return r.lo <= a && a <= r.hi && !(r.lo == 0 && r.hi == ~uint32_t{0});
    });
}

bool parse_ipv6(std::string_view s, V6Address& out) {
    if (s.size() < 2 || s.size() > 45 || std::count(s.begin(), s.end(), ':') < 2) return false;
    const std::string z(s);
    in6_addr a{};
    if (::inet_pton(AF_INET6, z.c_str(), &a) != 1) return false;
    std::copy(std::begin(a.s6_addr), std::end(a.s6_addr), out.begin());
    return true;
}

std::string v6_text(const V6Address& a) {
    in6_addr x{};
    std::copy(a.begin(), a.end(), std::begin(x.s6_addr));
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET6, &x, buf, sizeof buf);
    return buf;
}

V6Address v6_plus(V6Address a, uint32_t n) {
    uint32_t low = (uint32_t{a[12]} << 24) | (uint32_t{a[13]} << 16) | (uint32_t{a[14]} << 8) | a[15];
    low += n;
    for (int i = 0; i < 4; ++i) a[static_cast<size_t>(15 - i)] = static_cast<uint8_t>(low >> (8 * i));
    return a;
}

namespace {

bool v6_word_char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }

}  // namespace

std::vector<V6Range> ipv6_ranges(std::string_view text) {
    std::vector<V6Range> out;
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (skip_comment_or_string(text, i)) continue;
        // A word of hex digits, colons and dots that starts a word.
        if (!v6_word_char(c) ||
            (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.' ||
                       text[i - 1] == ':' || text[i - 1] == '_' || text[i - 1] == '$' || text[i - 1] == '@'))) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < text.size() && v6_word_char(text[j])) ++j;
        const std::string_view first = text.substr(i, j - i);
        // Part of a longer word (an identifier with hex letters): not an address.
        if (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) {
            while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
            i = j;
            continue;
        }
        i = j;
        V6Address a{}, b{};
        if (!parse_ipv6(first, a)) continue;
        if (i < text.size() && text[i] == '/') {
            size_t k = i + 1;
            unsigned len = 0;
            while (k < text.size() && text_digit(text[k]) && k - i <= 3)
                len = len * 10 + static_cast<unsigned>(text[k++] - '0');
            if (k == i + 1 || len > 128) continue;
            i = k;
            V6Range r;
            for (size_t byte = 0; byte < 16; ++byte) {
                const int bits = std::clamp(static_cast<int>(len) - static_cast<int>(byte) * 8, 0, 8);
                const uint8_t mask = static_cast<uint8_t>(bits == 0 ? 0 : 0xFF << (8 - bits));
                r.lo[byte] = a[byte] & mask;
                r.hi[byte] = static_cast<uint8_t>(r.lo[byte] | static_cast<uint8_t>(~mask));
            }
            r.len = static_cast<uint8_t>(len);
            out.push_back(r);
            continue;
        }
        if (i + 1 < text.size() && text[i] == '-' && v6_word_char(text[i + 1])) {
            size_t k = i + 1;
            while (k < text.size() && v6_word_char(text[k])) ++k;
            if (parse_ipv6(text.substr(i + 1, k - i - 1), b) && !(b < a)) {
                out.push_back({a, b, 0});
                i = k;
                continue;
            }
        }
        out.push_back({a, a, 128});
    }
    return out;
}

bool covered(const V6Address& a, std::span<const V6Range> ranges) {
    constexpr V6Address kNone{};
    V6Address all;
    all.fill(0xFF);
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const V6Range& r) { return !(a < r.lo) && !(r.hi < a) && !(r.lo == kNone && r.hi == all); });
}

}  // namespace callwall::audit
