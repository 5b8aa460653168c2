// Pieces of packet decoding shared by the files of src/decode/ (packet.cpp,
// icmp.cpp, ip_reassembly.cpp): not part of the public decode API.
#pragma once

#include "callwall/bytes/reader.hpp"
#include "callwall/decode/packet.hpp"

namespace callwall::decode::detail {

// IPv6 extension headers before the transport: RFC 8200 §4.1 recommends each
// appears at most once (twice for destination options), so ~8 is generous.
inline constexpr int kMaxExtHeaders = 8;

// An ICMP (v6: ICMPv6) header at `r`: type and code; for an error (RFC 792
// destination unreachable, time exceeded, parameter problem, source quench;
// RFC 4443 §2.1 types 1-4) the quoted packet's addresses, protocol and
// ports; for an echo the identifier as the requester's port. The payload is
// the rest of the message.
[[nodiscard]] LayerStatus parse_icmp(Reader r, bool v6, PacketMeta& out) noexcept;

}  // namespace callwall::decode::detail
