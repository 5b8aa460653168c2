// Address destinations (schema 2): IP text, CIDR prefixes and start-end
// ranges, and the catalog's address lookup.
#include <arpa/inet.h>
#include <endian.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "catalog/catalog.hpp"
#include "catalog/export_parts.hpp"

namespace callwall::catalog {

namespace {

constexpr size_t kMaxIpText = 45;  // INET6_ADDRSTRLEN - 1: the longest IPv6 text (with an IPv4 tail)

size_t family_bytes(AddressFamily f) noexcept { return f == AddressFamily::V4 ? 4 : 16; }

// The bytes' order (memcmp's), as two big-endian halves: the address
// look-up compares several times per flow, and a call to memcmp costs more
// than the comparison.
uint64_t half(const AddressBytes& a, size_t at) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, a.data() + at, sizeof v);
    return be64toh(v);
}

int compare(const AddressBytes& a, const AddressBytes& b) noexcept {
    const uint64_t a0 = half(a, 0), b0 = half(b, 0);
    if (a0 != b0) return a0 < b0 ? -1 : 1;
    const uint64_t a1 = half(a, 8), b1 = half(b, 8);
    return a1 == b1 ? 0 : a1 < b1 ? -1 : 1;
}

// a with the bits after `prefix` cleared (mask) or set (fill).
AddressBytes with_host_bits(const AddressBytes& a, size_t width, int prefix, bool set) noexcept {
    AddressBytes out = a;
    for (size_t i = 0; i < width; ++i) {
        const int bits_before = static_cast<int>(i) * 8;
        uint8_t keep = 0;
        if (prefix >= bits_before + 8) {
            keep = 0xff;
        } else if (prefix > bits_before) {
            keep = static_cast<uint8_t>(0xff << (8 - (prefix - bits_before)));
        }
        out[i] = set ? static_cast<uint8_t>(a[i] | static_cast<uint8_t>(~keep)) : static_cast<uint8_t>(a[i] & keep);
    }
    return out;
}

// a + 1 (big-endian; the caller knows it does not overflow).
AddressBytes next(AddressBytes a, size_t width) noexcept {
    for (size_t i = width; i-- > 0;) {
        if (++a[i] != 0) break;
    }
    return a;
}

// A dotted quad as inet_pton(AF_INET) reads it: four decimal parts of 0-255,
// without a leading zero. Anything else is false, and left to inet_pton:
// this only spares the copy and the call for the text it accepts (each
// flow's addresses are parsed for every address lookup attribution makes).
bool parse_dotted_quad(std::string_view t, AddressBytes& a) noexcept {
    size_t i = 0;
    for (size_t part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= t.size() || t[i] != '.') return false;
            ++i;
        }
        const size_t start = i;
        unsigned v = 0;
        while (i < t.size() && i - start < 3 && t[i] >= '0' && t[i] <= '9') v = v * 10 + unsigned(t[i++] - '0');
        if (i == start || v > 255 || (t[start] == '0' && i - start > 1)) return false;
        a[part] = static_cast<uint8_t>(v);
    }
    return i == t.size();
}

}  // namespace

std::optional<std::pair<AddressFamily, AddressBytes>> parse_ip(std::string_view text) noexcept {
    if (text.empty() || text.size() > kMaxIpText) return std::nullopt;
    if (AddressBytes a{}; parse_dotted_quad(text, a)) return std::pair{AddressFamily::V4, a};
    char buf[kMaxIpText + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    AddressBytes a{};
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, a.data()) != 1) return std::nullopt;
        return std::pair{AddressFamily::V4, a};
    }
    if (inet_pton(AF_INET6, buf, a.data()) != 1) return std::nullopt;
    return std::pair{AddressFamily::V6, a};
}

std::string ip_text(AddressFamily f, const AddressBytes& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(f == AddressFamily::V4 ? AF_INET : AF_INET6, a.data(), buf, sizeof buf)) return {};
    return buf;
}

std::string AddressRange::text() const {
    if (prefix >= 0) return ip_text(family, lo) + "/" + std::to_string(prefix);
    if (compare(lo, hi) == 0) return ip_text(family, lo);
    return ip_text(family, lo) + "-" + ip_text(family, hi);
}

bool AddressRange::contains(AddressFamily f, const AddressBytes& a) const noexcept {
    return f == family && compare(lo, a) <= 0 && compare(a, hi) <= 0;
}

bool AddressRange::overlaps(const AddressRange& o) const noexcept {
    return family == o.family && compare(lo, o.hi) <= 0 && compare(o.lo, hi) <= 0;
}

AddressBytes AddressRange::sample() const noexcept {
    const size_t width = family_bytes(family);
    const AddressBytes second = next(lo, width);
    if (compare(lo, hi) == 0 || compare(second, hi) == 0) return lo;
    return second;
}

std::optional<AddressRange> parse_address_range(std::string_view text, std::string* reason) {
    auto fail = [&](std::string why) -> std::optional<AddressRange> {
        if (reason) *reason = std::move(why);
        return std::nullopt;
    };
    AddressRange r;
    r.as_written = std::string(text);
    if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
        const auto ip = parse_ip(text.substr(0, slash));
        if (!ip) return fail("'" + std::string(text.substr(0, slash)) + "' is not an IPv4 or IPv6 address");
        const std::string_view len_text = text.substr(slash + 1);
        int len = -1;
        const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
        const int max_len = ip->first == AddressFamily::V4 ? 32 : 128;
        if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() || len < 0 ||
            len > max_len || (len_text.size() > 1 && len_text[0] == '0')) {
            return fail("prefix length '" + std::string(len_text) + "' is not a number from 0 to " +
                        std::to_string(max_len));
        }
        if (len == 0) return fail("a /0 prefix is every address; expected the vendor's own ranges");
        const size_t width = family_bytes(ip->first);
        r.family = ip->first;
        r.prefix = len;
        r.lo = with_host_bits(ip->second, width, len, false);
        r.hi = with_host_bits(ip->second, width, len, true);
        if (compare(r.lo, ip->second) != 0) {
            return fail("host bits set; expected '" + ip_text(r.family, r.lo) + "/" + std::to_string(len) + "'");
        }
        return r;
    }
    if (const size_t dash = text.find('-'); dash != std::string_view::npos) {
        const auto a = parse_ip(text.substr(0, dash));
        const auto b = parse_ip(text.substr(dash + 1));
        if (!a) return fail("range start '" + std::string(text.substr(0, dash)) + "' is not an IPv4 or IPv6 address");
        if (!b) return fail("range end '" + std::string(text.substr(dash + 1)) + "' is not an IPv4 or IPv6 address");
        if (a->first != b->first) return fail("range start and end are of different families");
        if (compare(a->second, b->second) > 0) return fail("range start is after its end");
        r.family = a->first;
        r.lo = a->second;
        r.hi = b->second;
        return r;
    }
    if (parse_ip(text)) {
        return fail("a single address needs its prefix length; expected '" + std::string(text) +
                    (text.find(':') == std::string_view::npos ? "/32'" : "/128'"));
    }
    return fail("not an address prefix or range");
}

namespace export_detail {

// The CIDR prefixes that make up a range (hash:net holds prefixes; a CIDR
// item is itself), smallest number of them, in order.
std::vector<std::string> cidrs_of(const AddressRange& r) {
    if (r.prefix >= 0) return {r.text()};
    const size_t width = r.family == AddressFamily::V4 ? 4 : 16;
    const int bits = static_cast<int>(width * 8);
    auto fill = [&](AddressBytes a, int host_bits) {  // a with its last host_bits bits set
        for (int b = 0; b < host_bits; ++b) {
            const int bit = bits - 1 - b;
            a[static_cast<size_t>(bit / 8)] |= static_cast<uint8_t>(0x80 >> (bit % 8));
        }
        return a;
    };
    std::vector<std::string> out;
    AddressBytes lo = r.lo;
    for (;;) {
        int k = 0;  // trailing zero bits of lo
        while (k < bits && !(lo[static_cast<size_t>((bits - 1 - k) / 8)] & (0x80 >> ((bits - 1 - k) % 8)))) ++k;
        while (k > 0 && fill(lo, k) > r.hi) --k;
        out.push_back(ip_text(r.family, lo) + "/" + std::to_string(bits - k));
        const AddressBytes last = fill(lo, k);
        if (last >= r.hi) break;
        lo = last;
        for (size_t i = width; i-- > 0;) {  // lo = last + 1
            if (++lo[i] != 0) break;
        }
    }
    return out;
}

}  // namespace export_detail

void Catalog::match_address(std::string_view ip, HostMatches& out) const noexcept {
    out.clear();
    const auto a = parse_ip(ip);
    if (!a) return;
    // Last item with (family, lo) <= (family, a): every item holding a is at
    // or before it; walk back while the running max_hi still reaches a.
    auto it = std::upper_bound(address_index_.begin(), address_index_.end(), *a,
                               [](const std::pair<AddressFamily, AddressBytes>& k, const AddressItem& x) {
                                   if (k.first != x.family) return k.first < x.family;
                                   return compare(k.second, x.lo) < 0;
                               });
    while (it != address_index_.begin()) {
        --it;
        if (it->family != a->first || compare(it->max_hi, a->second) < 0) break;
        if (compare(a->second, it->hi) > 0) continue;
        bool seen = false;
        for (uint32_t k = 0; k < out.count; ++k) seen |= out.entries[k] == it->entry;
        if (seen) continue;
        if (out.count < kMaxHostMatches) {
            out.entries[out.count++] = it->entry;
        } else {
            out.overflowed = true;
        }
    }
    std::sort(out.entries.begin(), out.entries.begin() + out.count);
}

}  // namespace callwall::catalog
