#include "audit/ruleset_addresses.hpp"

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

}  // namespace

std::vector<V4Range> ipv4_ranges(std::string_view text) {
    std::vector<V4Range> out;
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '#') {
            const size_t eol = text.find('\n', i);
            i = eol == std::string_view::npos ? text.size() : eol + 1;
            continue;
        }
        if (c == '"') {
            const size_t close = text.find('"', i + 1);
            i = close == std::string_view::npos ? text.size() : close + 1;
            continue;
        }
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

// The IPv4 prefixes after `ip saddr` (nft) or `-s`/`--source` (iptables) in one rule line.
std::vector<V4Range> source_prefixes(std::string_view line) {
    std::vector<V4Range> out;
    for (std::string_view kw :
         {std::string_view("ip saddr "), std::string_view("-s "), std::string_view("--source ")}) {
        for (size_t at = line.find(kw); at != std::string_view::npos; at = line.find(kw, at + 1)) {
            if (kw == "-s " && at > 0 && line[at - 1] != ' ') continue;
            size_t from = at + kw.size();
            while (from < line.size() && (line[from] == ' ' || line[from] == '!' || line[from] == '=')) ++from;
            if (from >= line.size()) continue;
            const size_t end = line[from] == '{' ? line.find('}', from) : line.find(' ', from);
            for (const auto& r : ipv4_ranges(line.substr(from, end == std::string_view::npos ? end : end - from)))
                if (r.len >= 8 && r.len <= 30) out.push_back(r);
        }
    }
    return out;
}

}  // namespace

std::vector<V4Range> inside_networks(std::string_view text, const std::string& inside) {
    const std::string resolved = resolve_defines(text);
    std::vector<V4Range> out;
    auto add = [&out](const V4Range& r) {
        if (std::none_of(out.begin(), out.end(), [&](const V4Range& x) { return x.lo == r.lo && x.hi == r.hi; }))
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
            for (const auto& r : source_prefixes(line)) add(r);
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
        for (const auto& r : ipv4_ranges(l.substr(eq + 1)))
            if (r.len >= 8 && r.len <= 30) add(r);
    }
    return out;
}

bool covered(uint32_t a, std::span<const V4Range> ranges) {
    return std::any_of(ranges.begin(), ranges.end(), [a](const V4Range& r) {
        return r.lo <= a && a <= r.hi && !(r.lo == 0 && r.hi == ~uint32_t{0});
    });
}

}  // namespace callwall::audit
