// Proxy preambles before TLS on a TCP connection: the client's request to a
// SOCKS or HTTP proxy and the proxy's reply, after which the connection
// carries the tunnelled protocol (a TLS ClientHello) end to end.
//
// References:
//   SOCKS4 (Ying-Da Lee, "SOCKS: A protocol for TCP proxy across firewalls")
//   SOCKS4a (Ying-Da Lee, "SOCKS 4A: A Simple Extension to SOCKS 4 Protocol")
//   SOCKS5 RFC 1928 §3-§6; username/password sub-negotiation RFC 1929 §2
//   HTTP CONNECT RFC 9110 §9.3.6 (request-target in authority-form, §7.1 of RFC 9112)
//
//   SOCKS5   client: VER=5 NMETHODS METHODS...   [RFC 1929: 1 ULEN UNAME PLEN PASSWD]
//                    VER=5 CMD=1 RSV=0 ATYP DST.ADDR DST.PORT
//            server: VER=5 METHOD                [RFC 1929: 1 STATUS]
//                    VER=5 REP RSV=0 ATYP BND.ADDR BND.PORT
//   SOCKS4   client: VN=4 CD=1 DSTPORT(2) DSTIP(4) USERID NUL [4a: DSTIP=0.0.0.x, HOST NUL]
//            server: VN=0 CD=90 DSTPORT(2) DSTIP(4)
//   CONNECT  client: "CONNECT host:port HTTP/1.1" CRLF headers CRLF CRLF
//            server: "HTTP/1.1 200 ..." CRLF headers CRLF CRLF
//
// Not supported: SOCKS5 GSSAPI (method 1) and other authentication methods
// than none/username-password, BIND and UDP ASSOCIATE, CONNECT over HTTP/2,
// HTTP proxy authentication round trips (a 407 then a second CONNECT).
// Pure functions over borrowed bytes; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bytes/reader.hpp"

namespace callwall::pipeline::proxy {

enum class Kind : uint8_t { None, Socks4, Socks5, HttpConnect };

/// A preamble longer than this is not one we follow (CONNECT headers stay
/// well under it; SOCKS messages are at most 2+255+255 or 7+255 bytes).
constexpr size_t kMaxPreamble = 1024;

/// The kind of proxy request a client's first payload starts, or None.
/// Strict: the first segment must be exactly a greeting/request (or be
/// followed by the next message of the same exchange), since this runs on
/// any port.
[[nodiscard]] Kind probe(ByteView first) noexcept;

enum class Status : uint8_t { NeedMore, Done, Failed };

struct Parsed {
    Status status = Status::NeedMore;
    size_t length = 0;  ///< Done: bytes of preamble (the tunnel starts after them)
    std::string_view target;  ///< client side: the requested host name (empty for an address)
    uint16_t target_port = 0;  ///< client side: the requested port (0 when the request gives none)
};

/// The client's side of the exchange, from the first byte of its stream.
[[nodiscard]] Parsed parse_request(Kind k, ByteView stream) noexcept;
/// The proxy's side; Failed when it refused (SOCKS error, HTTP non-2xx).
[[nodiscard]] Parsed parse_reply(Kind k, ByteView stream) noexcept;

}  // namespace callwall::pipeline::proxy
