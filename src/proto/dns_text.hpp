// DNS values as the database and the event stream spell them: RCODE names
// (RFC 1035 section 4.1.1; RFC 6895 for the registry) and RR type names
// (RFC 1035 section 3.2.2, RFC 3596 for AAAA, RFC 9460 for SVCB/HTTPS).
// Types and codes without a name here are written by number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace callwall::proto::dns {

/// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"; "OTHER" for the rest.
[[nodiscard]] std::string_view rcode_name(uint16_t rc) noexcept;
/// "A", "CNAME", "AAAA", "SVCB", "HTTPS"; "TYPE<n>" (RFC 3597) for the rest. `out` is reused.
void rrtype_name(uint16_t t, std::string& out);

}  // namespace callwall::proto::dns
