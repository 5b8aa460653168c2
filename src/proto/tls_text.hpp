// Handshake versions as the database spells them: TLS record/handshake
// versions (RFC 8446 section 4.2.1; RFC 5246, 4346, 2246; SSL 3.0 RFC 6101)
// and QUIC versions (RFC 9000 section 15, RFC 9369, the IETF drafts and
// Google's Q/T versions, classified by proto/quic.hpp).
#pragma once

#include <cstdint>
#include <string>

namespace callwall::proto {

/// "TLS1.3" ... "SSL3.0"; "" for 0 (none offered); "0x%04x" for the rest. `out` is reused.
void tls_version_name(uint16_t v, std::string& out);
/// "QUICv1", "QUICv2", "draft-29", "Q050", "T051"; "0x%08x" for the rest. `out` is reused.
void quic_version_name(uint32_t v, std::string& out);

}  // namespace callwall::proto
