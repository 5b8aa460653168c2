// QUIC Initial packet protection (RFC 9001 §5): initial secrets, keys and
// header protection, and opening an Initial packet (see quic.hpp).

// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but still shipped in every 3.x
// build with deprecated APIs (Debian's included). They keep the hash state on the stack;
// EVP_DigestInit_ex2 allocates a provider context on every call in OpenSSL 3.0.22 (measured:
// one malloc per init, also with EVP_MD_CTX_copy_ex and EVP_MAC HMAC), which would put a heap
// allocation on the packet path of every new flow.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "proto/quic.hpp"
#include "proto/quic_detail.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace callwall::proto::quic {
namespace {

// RFC 9001 §5.2 and the drafts' §5.2; RFC 9369 §3.3.1.
constexpr std::array<uint8_t, 20> kSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                             0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr std::array<uint8_t, 20> kSaltV2 = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                             0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
constexpr std::array<uint8_t, 20> kSaltDraft29 = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                                  0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
constexpr std::array<uint8_t, 20> kSaltDraft23 = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                                                  0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
constexpr std::array<uint8_t, 20> kSaltDraft22 = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                                                  0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
// Google QUIC T050/T051 (TLS handshake, IETF long header): Chromium's own Initial salts, as
// listed in Wireshark packet-quic.c quic_derive_initial_secrets().
constexpr std::array<uint8_t, 20> kSaltT050 = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                                               0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
constexpr std::array<uint8_t, 20> kSaltT051 = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                               0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Key derivation: HKDF (RFC 5869) with HMAC-SHA-256, HKDF-Expand-Label (RFC 8446 §7.1).

namespace {

using Secret = std::array<uint8_t, 32>;

void hmac_sha256(ByteView key, ByteView msg, uint8_t* out) noexcept {
    std::array<uint8_t, 64> k0{};  // block-sized key
    if (key.size() > k0.size()) {
        SHA256(key.data(), key.size(), k0.data());
    } else if (!key.empty()) {
        std::memcpy(k0.data(), key.data(), key.size());
    }
    std::array<uint8_t, 64> pad{};
    std::array<uint8_t, 32> inner{};
    SHA256_CTX c;
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = k0[i] ^ 0x36;
    SHA256_Init(&c);
    SHA256_Update(&c, pad.data(), pad.size());
    if (!msg.empty()) SHA256_Update(&c, msg.data(), msg.size());
    SHA256_Final(inner.data(), &c);
    for (size_t i = 0; i < pad.size(); ++i) pad[i] = k0[i] ^ 0x5c;
    SHA256_Init(&c);
    SHA256_Update(&c, pad.data(), pad.size());
    SHA256_Update(&c, inner.data(), inner.size());
    SHA256_Final(out, &c);
}

// HKDF-Expand-Label(secret, label, "", out.size()) for out.size() ≤ 32 (one HMAC block):
//   struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
void expand_label(const Secret& secret, std::string_view label, std::span<uint8_t> out) noexcept {
    constexpr std::string_view kPrefix = "tls13 ";
    std::array<uint8_t, 2 + 1 + 32 + 1 + 1> info{};  // labels used here are ≤ 16 bytes
    size_t n = 0;
    info[n++] = static_cast<uint8_t>(out.size() >> 8);
    info[n++] = static_cast<uint8_t>(out.size());
    info[n++] = static_cast<uint8_t>(kPrefix.size() + label.size());
    std::memcpy(info.data() + n, kPrefix.data(), kPrefix.size());
    n += kPrefix.size();
    std::memcpy(info.data() + n, label.data(), label.size());
    n += label.size();
    info[n++] = 0;  // empty context
    info[n++] = 1;  // HKDF-Expand counter T(1)
    Secret t{};
    hmac_sha256(ByteView{secret.data(), secret.size()}, ByteView{info.data(), n}, t.data());
    std::memcpy(out.data(), t.data(), out.size());
}

[[nodiscard]] const std::array<uint8_t, 20>* salt_for(const VersionInfo& v) noexcept {
    if (!v.initial_decryptable) return nullptr;
    if (v.family == VersionFamily::V2) return &kSaltV2;
    if (v.family == VersionFamily::Reserved) return &kSaltV1;
    if (v.family == VersionFamily::GoogleT) return v.gquic == 50 ? &kSaltT050 : &kSaltT051;
    if (v.draft >= 33) return &kSaltV1;
    if (v.draft >= 29) return &kSaltDraft29;
    if (v.draft >= 23) return &kSaltDraft23;
    if (v.draft == 22) return &kSaltDraft22;
    return nullptr;
}

}  // namespace

struct Decryptor::State {
    EVP_CIPHER* ecb = nullptr;
    EVP_CIPHER* gcm = nullptr;
    EVP_CIPHER_CTX* ecb_ctx = nullptr;
    EVP_CIPHER_CTX* gcm_ctx = nullptr;
    uint8_t* scratch = nullptr;
    bool ok = false;
};

Decryptor::Decryptor() noexcept {
    state_ = new (std::nothrow) State{};
    if (state_ == nullptr) return;
    State& s = *state_;
    s.scratch = new (std::nothrow) uint8_t[kMaxUdpPayload];
    s.ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    s.gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    s.ecb_ctx = EVP_CIPHER_CTX_new();
    s.gcm_ctx = EVP_CIPHER_CTX_new();
    if (s.scratch == nullptr || s.ecb == nullptr || s.gcm == nullptr || s.ecb_ctx == nullptr || s.gcm_ctx == nullptr) {
        return;
    }
    // Bind the ciphers now: later inits pass only a key/IV and re-key in place (no malloc).
    const std::array<uint8_t, 16> zero_key{};
    const std::array<uint8_t, 12> zero_iv{};
    s.ok = EVP_EncryptInit_ex2(s.ecb_ctx, s.ecb, zero_key.data(), nullptr, nullptr) == 1 &&
           EVP_CIPHER_CTX_set_padding(s.ecb_ctx, 0) == 1 &&
           EVP_DecryptInit_ex2(s.gcm_ctx, s.gcm, zero_key.data(), zero_iv.data(), nullptr) == 1;
}

Decryptor::~Decryptor() {
    if (state_ == nullptr) return;
    EVP_CIPHER_CTX_free(state_->ecb_ctx);
    EVP_CIPHER_CTX_free(state_->gcm_ctx);
    EVP_CIPHER_free(state_->ecb);
    EVP_CIPHER_free(state_->gcm);
    delete[] state_->scratch;
    delete state_;
}

bool Decryptor::ok() const noexcept { return state_ != nullptr && state_->ok; }

std::span<uint8_t> Decryptor::scratch() noexcept {
    if (!ok()) return {};
    return {state_->scratch, kMaxUdpPayload};
}

// RFC 9001 §5.2:
//   initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
//   client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32)
//   server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32)
//   key = HKDF-Expand-Label(secret, "quic key", "", 16)   (v2: "quicv2 key")
//   iv  = HKDF-Expand-Label(secret, "quic iv", "", 12)    (v2: "quicv2 iv")
//   hp  = HKDF-Expand-Label(secret, "quic hp", "", 16)    (v2: "quicv2 hp")
Result<InitialKeys> Decryptor::derive_initial_keys(uint32_t version, ByteView client_dcid, Perspective side) noexcept {
    const VersionInfo v = classify_version(version);
    const auto* salt = salt_for(v);
    if (salt == nullptr) return make_error(Code::Unsupported, 0);
    if (client_dcid.size() > kMaxInvariantCidLength) return make_error(Code::Malformed, 0);
    Secret initial{};
    hmac_sha256(ByteView{salt->data(), salt->size()}, client_dcid, initial.data());
    Secret secret{};
    expand_label(initial, side == Perspective::Client ? "client in" : "server in", secret);
    const bool v2 = v.family == VersionFamily::V2;
    InitialKeys k;
    expand_label(secret, v2 ? "quicv2 key" : "quic key", k.key);
    expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k.iv);
    expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k.hp);
    return k;
}

// RFC 9001 §5.4.1 (header protection, long header):
//   sample = packet[pn_offset + 4 .. pn_offset + 4 + 16]
//   mask = AES-ECB(hp_key, sample)
//   first_byte ^= mask[0] & 0x0f
//   packet_number ^= mask[1 .. 1 + pn_length]
// §5.3: nonce = iv XOR left-padded packet number; AAD = unprotected header.
Result<Opened> Decryptor::open(const LongHeader& hdr, const InitialKeys& keys, std::span<uint8_t> out) noexcept {
    if (!ok()) return make_error(Code::Unsupported, 0);
    const bool reserved_initial = hdr.version.family == VersionFamily::Reserved && hdr.type == PacketType::Initial;
    if ((!known_ietf_layout(hdr.version) && !reserved_initial) ||
        (hdr.type != PacketType::Initial && hdr.type != PacketType::ZeroRtt && hdr.type != PacketType::Handshake)) {
        return make_error(Code::Unsupported, 0);
    }
    const ByteView pkt = hdr.packet;
    const size_t pn_off = hdr.pn_offset;
    if (pn_off > pkt.size() || pkt.size() - pn_off < kMinProtectedLength) {
        return make_error(Code::Truncated, pkt.size());
    }
    if (out.size() < pkt.size()) return make_error(Code::Unsupported, 0);  // caller's buffer

    State& s = *state_;
    std::array<uint8_t, 32> mask{};  // ECB output of one block (+ room for OpenSSL's block)
    int outl = 0;
    if (EVP_EncryptInit_ex2(s.ecb_ctx, nullptr, keys.hp.data(), nullptr, nullptr) != 1 ||
        EVP_EncryptUpdate(s.ecb_ctx, mask.data(), &outl, pkt.data() + pn_off + 4, static_cast<int>(kHpSampleLength)) !=
            1 ||
        outl != static_cast<int>(kHpSampleLength)) {
        return make_error(Code::Unsupported, pn_off);
    }

    Opened o;
    o.first_byte = static_cast<uint8_t>(pkt[0] ^ (mask[0] & 0x0fu));
    o.pn_length = static_cast<uint8_t>((o.first_byte & 0x3u) + 1);
    if ((o.first_byte & 0x0cu) != 0) o.anomalies |= bit(Anomaly::ReservedBitsSet);
    const size_t hdr_len = pn_off + o.pn_length;
    // pkt.size() ≥ pn_off + 20 ≥ hdr_len + 16: room for the tag.
    const size_t ct_len = pkt.size() - hdr_len - kAeadTagLength;

    std::memcpy(out.data(), pkt.data(), pn_off);
    out[0] = o.first_byte;
    for (size_t i = 0; i < o.pn_length; ++i) {
        out[pn_off + i] = static_cast<uint8_t>(pkt[pn_off + i] ^ mask[1 + i]);
        o.packet_number = (o.packet_number << 8) | out[pn_off + i];
    }

    std::array<uint8_t, 12> nonce = keys.iv;
    for (size_t i = 0; i < 8; ++i) {
        nonce[nonce.size() - 1 - i] ^= static_cast<uint8_t>(o.packet_number >> (8 * i));
    }
    std::array<uint8_t, kAeadTagLength> tag{};
    std::memcpy(tag.data(), pkt.data() + hdr_len + ct_len, tag.size());

    int n = 0;
    int fin = 0;
    if (EVP_DecryptInit_ex2(s.gcm_ctx, nullptr, keys.key.data(), nonce.data(), nullptr) != 1 ||
        EVP_DecryptUpdate(s.gcm_ctx, nullptr, &n, out.data(), static_cast<int>(hdr_len)) != 1 ||
        EVP_DecryptUpdate(s.gcm_ctx, out.data() + hdr_len, &n, pkt.data() + hdr_len, static_cast<int>(ct_len)) != 1 ||
        EVP_CIPHER_CTX_ctrl(s.gcm_ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()), tag.data()) != 1 ||
        EVP_DecryptFinal_ex(s.gcm_ctx, out.data() + hdr_len + n, &fin) != 1) {
        return make_error(Code::Malformed, hdr_len);  // authentication failed
    }
    o.header = ByteView{out.data(), hdr_len};
    o.payload = ByteView{out.data() + hdr_len, ct_len};
    return o;
}

}  // namespace callwall::proto::quic
