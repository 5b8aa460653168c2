// Private to the QUIC decoder's files (quic.cpp: headers and versions,
// quic_crypto.cpp: Initial keys and packet protection, quic_frames.cpp:
// frames, gQUIC CHLO and the ClientHello assembler).
#pragma once

#include <cstring>
#include <string_view>

#include "proto/quic.hpp"

namespace callwall::proto::quic {

using Code = DecodeErrorCode;

constexpr uint32_t kVersionDraft29 = 0xff00001d;

// Protected packets must leave room for the header-protection sample, taken 4 bytes after the
// start of the packet number whatever its length (RFC 9001 §5.4.2).
constexpr size_t kMinProtectedLength = 4 + kHpSampleLength;

[[nodiscard]] inline bool equal(ByteView a, ByteView b) noexcept {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

[[nodiscard]] inline bool starts_with(ByteView v, std::string_view s) noexcept {
    return v.size() >= s.size() && std::memcmp(v.data(), s.data(), s.size()) == 0;
}

// RFC 9000 §16: two high bits give the length (1, 2, 4, 8 bytes).
inline uint64_t read_varint(Reader& r) noexcept {
    const uint8_t b0 = r.u8();
    if (!r.ok()) return 0;
    const unsigned len = 1u << (b0 >> 6);
    uint64_t v = b0 & 0x3fu;
    for (unsigned i = 1; i < len; ++i) v = (v << 8) | r.u8();
    return r.ok() ? v : 0;
}

// Version-specific layout facts derived from VersionInfo.
// "Known layout": the RFC 9000 long header with Initial token/Length fields (v1, v2,
// drafts 22–34, mvfst 22/27, Google Q050+/T05x which adopted it).
[[nodiscard]] inline bool known_ietf_layout(const VersionInfo& v) noexcept {
    switch (v.family) {
        case VersionFamily::V1:
        case VersionFamily::V2: return true;
        case VersionFamily::IetfDraft:
        case VersionFamily::Mvfst: return v.draft >= 22 && v.draft <= 34;
        case VersionFamily::GoogleQ:
        case VersionFamily::GoogleT: return v.ietf_long_header;
        default: return false;
    }
}

}  // namespace callwall::proto::quic
