// Handshake versions as text. See proto/tls_text.hpp.
#include "proto/tls_text.hpp"

#include <cstdio>

#include "proto/quic.hpp"

namespace callwall::proto {

void tls_version_name(uint16_t v, std::string& out) {
    switch (v) {
        case 0x0304: out = "TLS1.3"; return;
        case 0x0303: out = "TLS1.2"; return;
        case 0x0302: out = "TLS1.1"; return;
        case 0x0301: out = "TLS1.0"; return;
        case 0x0300: out = "SSL3.0"; return;
        case 0: out.clear(); return;
        default: {
            char b[16];
            std::snprintf(b, sizeof b, "0x%04x", v);
            out = b;
            return;
        }
    }
}

void quic_version_name(uint32_t v, std::string& out) {
    const quic::VersionInfo vi = quic::classify_version(v);
    char b[24];
    switch (vi.family) {
        case quic::VersionFamily::V1: out = "QUICv1"; return;
        case quic::VersionFamily::V2: out = "QUICv2"; return;
        case quic::VersionFamily::IetfDraft: std::snprintf(b, sizeof b, "draft-%u", vi.draft); break;
        case quic::VersionFamily::GoogleQ: std::snprintf(b, sizeof b, "Q%03u", vi.gquic); break;
        case quic::VersionFamily::GoogleT: std::snprintf(b, sizeof b, "T%03u", vi.gquic); break;
        default: std::snprintf(b, sizeof b, "0x%08x", v); break;
    }
    out = b;
}

}  // namespace callwall::proto
