// TLS after a cleartext start on one TCP connection: the protocols that
// upgrade in place, what their openings look like, and the client's request
// to upgrade, after which (and the server's go-ahead) the client's next
// bytes are a TLS ClientHello.
//
// References:
//   SMTP STARTTLS       RFC 3207 §4 ("STARTTLS" CRLF; 220 go ahead), ports 25, 587
//   IMAP STARTTLS       RFC 9051 §6.2.1 (tag SP "STARTTLS" CRLF; tag OK), port 143
//   POP3 STLS           RFC 2595 §4 ("STLS" CRLF; +OK), port 110
//   FTP AUTH TLS        RFC 4217 §4 ("AUTH TLS" CRLF, also AUTH SSL / TLS-C / TLS-P; 234), port 21
//   XMPP <starttls/>    RFC 6120 §5.4.2 (<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>; <proceed/>),
//                       ports 5222 (client), 5269 (server to server)
//   LDAP StartTLS       RFC 4511 §4.14 (ExtendedRequest [APPLICATION 23], requestName
//                       1.3.6.1.4.1.1466.20037; ExtendedResponse resultCode 0), port 389
//   PostgreSQL          protocol 3 "SSLRequest": length 8, code 80877103 (0x04D2162F); 'S', port 5432
//   MySQL               Protocol::SSLRequest: a 32-byte packet (sequence 1) with CLIENT_SSL
//                       (0x0800) in its capability flags; no answer, TLS follows, port 3306
// Pure functions over borrowed bytes; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bytes/reader.hpp"

namespace callwall::proto::starttls {

enum class Kind : uint8_t { None, Smtp, Imap, Pop3, Ftp, Xmpp, Ldap, Postgres, Mysql };

/// The protocol a server port is registered for (None: not one of these).
[[nodiscard]] Kind kind_of_port(uint16_t port) noexcept;
[[nodiscard]] std::string_view name(Kind k) noexcept;

/// Does `first`, a connection's first payload (from either side), open a
/// `k` session: a server's greeting or a client's first command? Cheap; it
/// runs on every new flow to one of the ports.
[[nodiscard]] bool opening(Kind k, ByteView first) noexcept;

/// The client's request to upgrade to TLS in `seg` (a segment of the
/// client's cleartext): the offset just past it, 0 when `seg` holds none.
/// A request split across segments is not recognised.
[[nodiscard]] size_t upgrade_request(Kind k, ByteView seg) noexcept;

}  // namespace callwall::proto::starttls
