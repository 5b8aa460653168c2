// libFuzzer target for callwall::proto::quic: probe, decode, gQUIC CHLO, frame parsing (IETF and
// gQUIC T05x) and the ClientInitialAssembler.
//
// Input: byte 0 selects the mode, the rest is split into chunks (2-byte big-endian length +
// bytes).
//   even: each chunk is a UDP datagram fed as-is (headers, VN, Retry, gQUIC, coalescing);
//   odd:  each chunk is the plaintext frames of a client Initial that the fuzzer seals with
//         the QUIC v1 Initial keys of a fixed DCID, so that the frame parser and the CRYPTO
//         reassembly behind the AEAD are reached (random bytes never authenticate).
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "proto/quic.hpp"

using namespace callwall;
using namespace callwall::proto::quic;

namespace {

constexpr std::array<uint8_t, 8> kDcid = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

// RFC 9001 §5.3/§5.4 sealing of a v1 client Initial (4-byte packet number, ≥ 1200 bytes).
std::vector<uint8_t> seal(Decryptor& d, uint32_t pn, ByteView frames) {
    auto keys = d.derive_initial_keys(1, ByteView{kDcid}, Perspective::Client);
    std::vector<uint8_t> h = {0xc3, 0, 0, 0, 1, static_cast<uint8_t>(kDcid.size())};
    h.insert(h.end(), kDcid.begin(), kDcid.end());
    h.push_back(0);  // SCID length
    h.push_back(0);  // token length
    std::vector<uint8_t> payload(frames.begin(), frames.end());
    if (h.size() + 2 + 4 + payload.size() + 16 < 1200) payload.resize(1200 - h.size() - 22, 0);
    if (payload.size() < 16) payload.resize(16, 0);
    const size_t length = 4 + payload.size() + 16;  // ≤ 16383: 2-byte varint
    h.push_back(static_cast<uint8_t>(0x40 | (length >> 8)));
    h.push_back(static_cast<uint8_t>(length));
    const size_t pn_off = h.size();
    for (int i = 3; i >= 0; --i) h.push_back(static_cast<uint8_t>(pn >> (8 * i)));
    std::array<uint8_t, 12> nonce = keys->iv;
    for (int i = 0; i < 4; ++i) nonce[11 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
    std::vector<uint8_t> pkt = h;
    pkt.resize(h.size() + payload.size() + 16);
    // Explicitly fetched once: the EVP_aes_128_*() shortcuts re-fetch on every init.
    static EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    static EVP_CIPHER* ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    int n = 0;
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, gcm, nullptr, keys->key.data(), nonce.data());
    EVP_EncryptUpdate(c, nullptr, &n, h.data(), static_cast<int>(h.size()));
    EVP_EncryptUpdate(c, pkt.data() + h.size(), &n, payload.data(), static_cast<int>(payload.size()));
    EVP_EncryptFinal_ex(c, pkt.data() + h.size() + n, &n);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, pkt.data() + h.size() + payload.size());
    EVP_CIPHER_CTX_free(c);
    std::array<uint8_t, 32> mask{};
    c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, ecb, nullptr, keys->hp.data(), nullptr);
    EVP_EncryptUpdate(c, mask.data(), &n, pkt.data() + pn_off + 4, 16);
    EVP_CIPHER_CTX_free(c);
    pkt[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; ++i) pkt[pn_off + i] ^= mask[1 + i];
    return pkt;
}

void check(const FeedResult& r) {
    if (r.status == AssemblyStatus::Done && r.kind == HandshakeKind::TlsClientHello) {
        // The hello is a complete handshake message of type 1 inside the lent buffer.
        if (r.client_hello.size() < 4 || r.client_hello[0] != 1) std::abort();
        const size_t len = (size_t{r.client_hello[1]} << 16) | (r.client_hello[2] << 8) | r.client_hello[3];
        if (r.client_hello.size() != 4 + len) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Decryptor decryptor;
    static std::vector<uint8_t> buffer(kRecommendedCryptoBuffer);
    if (size == 0) return 0;
    const bool sealed = (data[0] & 1) != 0;
    ClientInitialAssembler assembler{std::span<uint8_t>{buffer}};
    Reader in{ByteView{data + 1, size - 1}};
    uint32_t pn = 0;
    while (!in.empty()) {
        const uint16_t n = in.u16();
        const ByteView chunk = in.ok() ? in.bytes(std::min<size_t>(n, in.remaining())) : in.rest();
        if (!in.ok()) break;
        if (sealed) {
            (void)parse_initial_frames(chunk);
            (void)parse_gquic_initial_frames(chunk);
            if (chunk.size() > 8000) continue;
            const std::vector<uint8_t> pkt = seal(decryptor, pn++, chunk);
            check(assembler.feed(decryptor, ByteView{pkt}));
            continue;
        }
        (void)probe(chunk);
        (void)matches_short_header(chunk, ByteView{kDcid});
        if (auto d = decode(chunk)) {
            for (const LongHeader& h : d->packets) (void)decode_gquic_chlo(h);
        }
        check(assembler.feed(decryptor, chunk));
    }
    (void)assembler.crypto_prefix();
    return 0;
}
