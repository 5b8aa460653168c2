// The words for an ICMP or ICMPv6 error's type and Destination Unreachable
// code, for verdicts and reports.
//
// Normative references: RFC 792 and RFC 1812 §5.2.7.1 (ICMP type 3 codes
// 0-15, 11 time exceeded, 12 parameter problem), RFC 4443 §3 (ICMPv6 types
// 1-4, §3.1 the Destination Unreachable codes 0-6).
//
// Not covered: informational types (echo, router and neighbour discovery),
// the codes of time exceeded and parameter problem, and type 4 (source
// quench, deprecated by RFC 6633): those have no words here.
#pragma once

#include <string_view>

namespace callwall::decode {

/// An ICMP error type's name ("destination unreachable", "packet too big",
/// "time exceeded", "parameter problem"); empty for a type without one here.
[[nodiscard]] std::string_view icmp_type_text(bool v6, int type) noexcept;

/// A Destination Unreachable code's words (ICMP type 3, ICMPv6 type 1), such
/// as "port unreachable"; empty for a code without words.
[[nodiscard]] std::string_view unreachable_code_text(bool v6, int code) noexcept;

}  // namespace callwall::decode
