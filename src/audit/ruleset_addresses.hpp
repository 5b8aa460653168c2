// IPv4 and IPv6 addresses in ruleset text (no I/O): every address, prefix
// and range a ruleset writes, whether one of them covers an address, and the
// inside network its rules and masquerades name. Read by the audit to put the
// client where the ruleset's LAN-scoped rules expect it and vendors' stand-in
// addresses where nothing in the ruleset singles them out.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callwall::audit {

/// Ruleset text's small pieces: an ASCII digit; `s` without surrounding
/// whitespace; the words of a line split at spaces.
[[nodiscard]] bool text_digit(char c);
[[nodiscard]] std::string_view text_trim(std::string_view s);
[[nodiscard]] std::vector<std::string_view> text_words(std::string_view s);

/// An IPv4 range the ruleset names: a prefix (len its length), an address
/// (len 32) or a range a.b.c.d-e.f.g.h (len 0).
struct V4Range {
    uint32_t lo = 0, hi = 0;
    uint8_t len = 0;
};

/// Every IPv4 address, prefix and range written in the text (rules, sets,
/// defines; not comments or quoted strings).
[[nodiscard]] std::vector<V4Range> ipv4_ranges(std::string_view text);

/// Whether an address lies in one of `ranges` (0.0.0.0/0 left out: it singles nothing out).
[[nodiscard]] bool covered(uint32_t address, std::span<const V4Range> ranges);

[[nodiscard]] bool parse_ipv4(std::string_view text, uint32_t& address);
[[nodiscard]] std::string v4_text(uint32_t address);

/// The networks behind the inside interface, as the ruleset names them: the
/// source prefixes (/8 to /30) of rules on the inside interface (iifname,
/// -i) and of masquerade/SNAT rules, then prefixes defined under a name
/// saying so (define LAN_NET = ...). In order of appearance.
[[nodiscard]] std::vector<V4Range> inside_networks(std::string_view ruleset, const std::string& inside);

/// An IPv6 address, network byte order.
using V6Address = std::array<uint8_t, 16>;

/// An IPv6 range the ruleset names: a prefix (len its length), an address
/// (len 128) or a range a::1-a::9 (len 0).
struct V6Range {
    V6Address lo{}, hi{};
    uint8_t len = 0;
};

/// Every IPv6 address, prefix and range written in the text (rules, sets,
/// defines, iptables -s/-d; not comments or quoted strings). A word counts
/// when inet_pton reads it as IPv6 (two colons at least: no port range
/// 3478:3479, no time of day 09:12:01, no MAC address).
[[nodiscard]] std::vector<V6Range> ipv6_ranges(std::string_view text);

/// Whether an address lies in one of `ranges` (::/0 left out).
[[nodiscard]] bool covered(const V6Address& address, std::span<const V6Range> ranges);

[[nodiscard]] bool parse_ipv6(std::string_view text, V6Address& address);
/// The address as the kernel and nft print it (RFC 5952: lower case, `::` compressed).
[[nodiscard]] std::string v6_text(const V6Address& address);
/// `address` plus `n` (in its last 32 bits; no carry beyond them).
[[nodiscard]] V6Address v6_plus(V6Address address, uint32_t n);

/// The IPv6 networks behind the inside interface, as inside_networks finds
/// the IPv4 ones (`ip6 saddr`, an ip6tables dump's -s; lengths /8 to /126).
[[nodiscard]] std::vector<V6Range> inside_networks6(std::string_view ruleset, const std::string& inside);

}  // namespace callwall::audit
