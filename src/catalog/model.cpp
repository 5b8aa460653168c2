// Catalog value types: port sets, destination patterns, version conditions,
// diagnostics, selections.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "catalog/catalog.hpp"
#include "catalog/host_text.hpp"
#include "util/terminal_text.hpp"

namespace callwall::catalog {

namespace {

constexpr size_t kMaxNameLength = 253;  // RFC 1035 2.3.4, dotted text form
constexpr size_t kMaxLabelLength = 63;  // RFC 1035 2.3.4
constexpr size_t kMaxVersionParts = 4;  // "1.2.3.4": enough for every SDK numbering seen

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

// Strips one trailing dot; returns false for names with an empty label.
bool normalize_host_view(std::string_view& host) noexcept {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty() || host.size() > kMaxHostLength || host.front() == '.') return false;
    for (size_t i = 1; i < host.size(); ++i) {
        if (host[i] == '.' && host[i - 1] == '.') return false;
    }
    return host.back() != '.';
}

bool valid_label_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Validates a base name (no prefix, no trailing dot). Returns an empty string
// when valid, otherwise the reason.
std::string check_base_name(std::string_view name) {
    if (name.empty()) return "the name is empty";
    if (name.size() > kMaxNameLength) return "the name is longer than 253 characters";
    size_t labels = 0;
    bool last_all_digits = false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        const std::string_view label = name.substr(start, dot - start);
        if (label.empty()) return "it has an empty label";
        if (label.size() > kMaxLabelLength) return "a label is longer than 63 characters";
        for (char c : label) {
            if (c == '*') return "'*' is only allowed as the whole leftmost label, as in '*.example.com'";
            const auto u = static_cast<unsigned char>(c);
            if (u >= 0x80)
                return "it has non-ASCII characters: write an internationalized name in its ASCII (punycode) form, "
                       "e.g. 'xn--bcher-kva.example' for 'b\xC3\xBC"
                       "cher.example'";
            if (u < 0x20 || u == 0x7F) {
                char hex[64];
                std::snprintf(hex, sizeof hex, "control character 0x%02X (letters, digits, '-' and '_' only)", u);
                return hex;
            }
            if (!valid_label_char(c)) {
                return std::string("invalid character '") + c + "' (letters, digits, '-' and '_' only)";
            }
        }
        if (label.front() == '-' || label.back() == '-') return "a label starts or ends with '-'";
        last_all_digits = std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
        ++labels;
        start = dot + 1;
    }
    if (last_all_digits) return "IP addresses are not supported, only names or ANY";
    if (labels < 2) return "it needs at least two labels (a top-level domain alone is too broad)";
    return {};
}

bool parse_version(std::string_view text, std::array<uint32_t, kMaxVersionParts>& out) noexcept {
    out.fill(0);
    if (text.empty()) return false;
    size_t part = 0;
    size_t start = 0;
    while (true) {
        if (part == kMaxVersionParts) return false;
        size_t dot = text.find('.', start);
        if (dot == std::string_view::npos) dot = text.size();
        const std::string_view digits = text.substr(start, dot - start);
        if (digits.empty() || digits.size() > 9) return false;
        uint32_t v = 0;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (ec != std::errc{} || ptr != digits.data() + digits.size()) return false;
        out[part++] = v;
        if (dot == text.size()) return true;
        start = dot + 1;
    }
}

}  // namespace

std::string_view to_string(Transport t) noexcept { return t == Transport::Tcp ? "tcp" : "udp"; }

std::string_view to_string(DestinationKind k) noexcept {
    switch (k) {
        case DestinationKind::Wildcard: return "wildcard";
        case DestinationKind::Suffix: return "suffix";
        case DestinationKind::Exact: return "exact";
        case DestinationKind::Any: return "any";
    }
    return "?";
}

std::string_view to_string(Direction d) noexcept {
    switch (d) {
        case Direction::Outbound: return "outbound";
        case Direction::Inbound: return "inbound";
        case Direction::Both: return "both";
    }
    return "?";
}

PortSet::PortSet(std::span<const PortRange> ranges) : intervals_(ranges.begin(), ranges.end()) {
    std::sort(intervals_.begin(), intervals_.end(),
              [](const PortRange& a, const PortRange& b) { return a.lo < b.lo || (a.lo == b.lo && a.hi < b.hi); });
    std::vector<PortRange> merged;
    merged.reserve(intervals_.size());
    for (const PortRange& r : intervals_) {
        // Merge overlapping and adjacent intervals; widen to avoid 65535 + 1 wrapping.
        if (!merged.empty() && uint32_t{r.lo} <= uint32_t{merged.back().hi} + 1) {
            merged.back().hi = std::max(merged.back().hi, r.hi);
        } else {
            merged.push_back(r);
        }
    }
    intervals_ = std::move(merged);
}

bool PortSet::contains(uint16_t port) const noexcept {
    // First interval whose lo is greater than port; the one before it is the candidate.
    auto it = std::upper_bound(intervals_.begin(), intervals_.end(), port,
                               [](uint16_t p, const PortRange& r) { return p < r.lo; });
    if (it == intervals_.begin()) return false;
    --it;
    return port <= it->hi;
}

uint32_t PortSet::port_count() const noexcept {
    uint32_t n = 0;
    for (const PortRange& r : intervals_) n += uint32_t{r.hi} - r.lo + 1;
    return n;
}

std::string_view Destination::base() const noexcept {
    std::string_view p = pattern;
    switch (kind) {
        case DestinationKind::Wildcard: return p.substr(2);
        case DestinationKind::Suffix: return p.substr(1);
        case DestinationKind::Exact: return p;
        case DestinationKind::Any: return {};
    }
    return {};
}

std::optional<Destination> parse_destination(std::string_view text, std::string* reason) {
    auto fail = [&](std::string why) -> std::optional<Destination> {
        if (reason) *reason = std::move(why);
        return std::nullopt;
    };
    if (text.empty()) return fail("the destination is empty");
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return fail("it contains whitespace");
    }
    Destination d;
    d.as_written = std::string(text);
    if (text == "ANY") {
        d.kind = DestinationKind::Any;
        d.pattern = "ANY";
        return d;
    }
    if (iequals(text, "any") || iequals(text, "any.")) return fail("write ANY in capitals for any address");

    std::string_view rest = text;
    if (rest.size() > 1 && rest.back() == '.') rest.remove_suffix(1);
    std::string prefix;
    if (rest.starts_with("*.")) {
        d.kind = DestinationKind::Wildcard;
        prefix = "*.";
        rest.remove_prefix(2);
    } else if (rest.starts_with("*")) {
        return fail("'*' must be the whole leftmost label, as in '*.example.com'");
    } else if (rest.starts_with(".")) {
        d.kind = DestinationKind::Suffix;
        prefix = ".";
        rest.remove_prefix(1);
    } else {
        d.kind = DestinationKind::Exact;
    }
    if (std::string why = check_base_name(rest); !why.empty()) return fail(std::move(why));
    d.pattern = prefix;
    for (char c : rest) d.pattern.push_back(ascii_lower(c));
    return d;
}

bool destination_matches(const Destination& d, std::string_view host) noexcept {
    if (d.kind == DestinationKind::Any) return false;
    if (!normalize_host_view(host)) return false;
    const std::string_view base = d.base();
    const bool below = host.size() > base.size() && host[host.size() - base.size() - 1] == '.' &&
                       iequals(host.substr(host.size() - base.size()), base);
    switch (d.kind) {
        case DestinationKind::Exact: return iequals(host, base);
        case DestinationKind::Suffix: return iequals(host, base) || below;
        case DestinationKind::Wildcard: return below;
        case DestinationKind::Any: return false;
    }
    return false;
}

namespace {
// name is base itself or a name below it (both normalized).
bool at_or_below(std::string_view name, std::string_view base) noexcept {
    if (iequals(name, base)) return true;
    return name.size() > base.size() && name[name.size() - base.size() - 1] == '.' &&
           iequals(name.substr(name.size() - base.size()), base);
}
}  // namespace

bool destination_covers(const Destination& s, const Destination& d) noexcept {
    if (s.kind == DestinationKind::Any || d.kind == DestinationKind::Any) return false;
    const std::string_view sb = s.base(), db = d.base();
    switch (d.kind) {
        case DestinationKind::Exact: return destination_matches(s, db);
        // Names strictly below db: s must take every one of them.
        case DestinationKind::Wildcard: return s.kind != DestinationKind::Exact && at_or_below(db, sb);
        // db and the names below it.
        case DestinationKind::Suffix:
            if (s.kind == DestinationKind::Suffix) return at_or_below(db, sb);
            return s.kind == DestinationKind::Wildcard && at_or_below(db, sb) && !iequals(db, sb);
        case DestinationKind::Any: return false;
    }
    return false;
}

bool Entry::shared_only(std::string_view host) const noexcept {
    bool shared_match = false;
    for (const Destination& d : destinations) {
        if (!destination_matches(d, host)) continue;
        if (!d.shared) return false;
        shared_match = true;
    }
    return shared_match;
}

bool SdkVersionCondition::applies_to(std::string_view version) const noexcept {
    std::array<uint32_t, kMaxVersionParts> v{}, bound{};
    if (!parse_version(version, v)) return false;
    if (!min.empty()) {
        if (!parse_version(min, bound) || v < bound) return false;
    }
    if (!below.empty()) {
        if (!parse_version(below, bound) || !(v < bound)) return false;
    }
    return true;
}

bool Entry::any_destination() const noexcept {
    return std::any_of(destinations.begin(), destinations.end(),
                       [](const Destination& d) { return d.kind == DestinationKind::Any; });
}

std::string Diagnostic::to_string() const {
    std::string s = file;
    if (line != 0) {
        s += ':' + std::to_string(line) + ':' + std::to_string(column);
    }
    s += ": error: ";
    s += message;
    return s;
}

bool Selection::matches(std::string_view vendor_name, std::string_view product_name,
                        std::string_view edition_name) const noexcept {
    if (!vendor.empty() && !iequals(vendor, vendor_name)) return false;
    if (!product.empty() && !iequals(product, product_name)) return false;
    if (!edition.empty() && edition != edition_name) return false;
    return true;
}

std::string ports_text(const Entry& e) {
    std::string s;
    for (const auto& r : e.ports) {
        if (!s.empty()) s += ",";
        s += r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + "-" + std::to_string(r.hi);
    }
    return s;
}

std::string destinations_text(const Entry& e) {
    std::string s;
    for (const auto& d : e.destinations) s += (s.empty() ? "" : " ") + d.as_written;
    // Address destinations (catalog schema 2) follow the names, as written.
    for (const auto& a : e.addresses) s += (s.empty() ? "" : " ") + a.as_written;
    return s;
}

std::string describe_conditions(const Conditions& c) {
    std::string out;
    auto add = [&](const std::string& s) {
        if (!out.empty()) out += "; ";
        out += s;
    };
    if (c.sdk_version) {
        std::string s = "SDK version " + c.sdk_version->text;
        std::string bounds;
        if (!c.sdk_version->min.empty()) bounds += ">= " + c.sdk_version->min;
        if (!c.sdk_version->below.empty()) {
            if (!bounds.empty()) bounds += ", ";
            bounds += "< " + c.sdk_version->below;
        }
        if (!bounds.empty()) s += " (" + bounds + ")";
        add(s);
    }
    if (!c.feature.empty()) add("feature: " + c.feature);
    if (c.local_config) {
        std::string s = "local config " + c.local_config->key;
        if (c.local_config->recommended) {
            s += " (recommended " + std::to_string(c.local_config->recommended->lo) + "-" +
                 std::to_string(c.local_config->recommended->hi) + ")";
        }
        add(s);
    }
    return out.empty() ? "-" : out;
}

std::string json_quote(std::string_view s) {
    // Strict by default: nlohmann-json throws on bytes that are not UTF-8;
    // `replace` writes U+FFFD for them instead (json_field keeps the bytes).
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool valid_utf8(std::string_view s) noexcept {
    for (size_t i = 0; i < s.size();) {
        const size_t n = util::utf8_step(s, i).length;
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string escape_bytes(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(ch);
        } else {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        }
    }
    return out;
}

std::string json_field(std::string_view key, std::string_view value) {
    std::string out = json_quote(key) + ":" + json_quote(value);
    if (!valid_utf8(value)) out += "," + json_quote(std::string(key) + "_raw") + ":" + json_quote(escape_bytes(value));
    return out;
}

}  // namespace callwall::catalog
