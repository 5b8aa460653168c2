#include "audit/range_groups.hpp"

#include <algorithm>

namespace callwall::audit {

namespace {

using U128 = unsigned __int128;

// An address as a number (IPv4 in the low 32 bits).
U128 range_number(catalog::AddressFamily f, const catalog::AddressBytes& a) {
    U128 v = 0;
    const size_t width = f == catalog::AddressFamily::V4 ? 4 : 16;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | a[i];
    return v;
}

catalog::AddressBytes range_bytes(catalog::AddressFamily f, U128 v) {
    catalog::AddressBytes a{};
    const size_t width = f == catalog::AddressFamily::V4 ? 4 : 16;
    for (size_t i = width; i-- > 0;) {
        a[i] = static_cast<uint8_t>(v & 0xFF);
        v >>= 8;
    }
    return a;
}

U128 range_number6(const V6Address& a) {
    U128 v = 0;
    for (uint8_t b : a) v = (v << 8) | b;
    return v;
}

struct RangeSpan {
    U128 lo = 0, hi = 0;
};

// The groups of one family: `published` (that family's ranges) cut at the
// edges of `rules` (the ruleset's ranges of that family), each part keyed by
// the rules covering it.
std::vector<AddressGroup> group_spans(catalog::AddressFamily f, std::span<const catalog::AddressRange> published,
                                      const std::vector<RangeSpan>& rules, size_t max_groups) {
    std::vector<AddressGroup> out;
    std::vector<std::vector<size_t>> keys;  // per group: the indexes of the rules covering it
    for (const auto& r : published) {
        if (r.family != f) continue;
        const U128 lo = range_number(f, r.lo), hi = range_number(f, r.hi);
        // The cut points inside the range: a rule's first address, and the one after its last.
        std::vector<U128> cuts{lo};
        for (const auto& s : rules) {
            if (s.lo > lo && s.lo <= hi) cuts.push_back(s.lo);
            if (s.hi >= lo && s.hi < hi) cuts.push_back(s.hi + 1);
        }
        std::sort(cuts.begin(), cuts.end());
        cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
        for (size_t i = 0; i < cuts.size(); ++i) {
            const U128 plo = cuts[i], phi = i + 1 < cuts.size() ? cuts[i + 1] - 1 : hi;
            std::vector<size_t> key;
            for (size_t k = 0; k < rules.size(); ++k)
                if (rules[k].lo <= plo && phi <= rules[k].hi) key.push_back(k);
            const bool whole = cuts.size() == 1;
            const std::string name = whole ? r.text()
                                           : catalog::ip_text(f, range_bytes(f, plo)) + "-" +
                                                 catalog::ip_text(f, range_bytes(f, phi)) + " of " + r.text();
            auto it = std::find(keys.begin(), keys.end(), key);
            if (it == keys.end() && out.size() >= max_groups) it = keys.end() - 1;
            if (it != keys.end()) {
                auto& names = out[static_cast<size_t>(it - keys.begin())].ranges;
                if (names.empty() || names.back() != name) names.push_back(name);
                continue;
            }
            // An address inside the part: the one after its first when it
            // holds more than two (not a network's own address), else its first.
            const U128 at = phi - plo >= 2 ? plo + 1 : plo;
            keys.push_back(std::move(key));
            out.push_back({catalog::ip_text(f, range_bytes(f, at)), {name}});
        }
    }
    return out;
}

}  // namespace

std::vector<AddressGroup> group_ranges(std::span<const catalog::AddressRange> published,
                                       std::span<const V4Range> ruleset, size_t max_groups) {
    std::vector<RangeSpan> rules;
    for (const auto& r : ruleset)
        if (!(r.lo == 0 && r.hi == 0xFFFFFFFFu)) rules.push_back({r.lo, r.hi});
    return group_spans(catalog::AddressFamily::V4, published, rules, std::max<size_t>(max_groups, 1));
}

std::vector<AddressGroup> group_ranges6(std::span<const catalog::AddressRange> published,
                                        std::span<const V6Range> ruleset, size_t max_groups) {
    std::vector<RangeSpan> rules;
    for (const auto& r : ruleset) {
        const RangeSpan s{range_number6(r.lo), range_number6(r.hi)};
        if (!(s.lo == 0 && s.hi == ~U128{0})) rules.push_back(s);
    }
    return group_spans(catalog::AddressFamily::V6, published, rules, std::max<size_t>(max_groups, 1));
}

std::string ranges_text(const std::vector<std::string>& ranges) {
    std::string out;
    for (size_t i = 0; i < ranges.size(); ++i)
        out += (i == 0 ? "" : i + 1 == ranges.size() ? " and " : ", ") + ranges[i];
    return out;
}

}  // namespace callwall::audit
