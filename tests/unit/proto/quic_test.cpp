// Unit tests for callwall::proto::quic: RFC 9001 / RFC 9369 Appendix A vectors, real Initials
// from the shared public captures (embedded hex, capture + frame noted), reassembly across
// packets and out-of-order CRYPTO frames, gQUIC CHLO, prefixes, wrong lengths, adversarial
// packets built with a test-only sealer, and a capture-driven run over the pcaps themselves
// (CALLWALL_SHARED_DIR).
#include "proto/quic.hpp"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "unit/proto/fixtures.hpp"
#include "unit/test_util.hpp"

#if __has_include("proto/tls.hpp")
#include "proto/tls.hpp"
#define CALLWALL_QUIC_TEST_HAS_TLS 1
#endif

namespace callwall::proto::quic {
namespace {

using callwall::test::hex;
using callwall::test::view;
using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------------------------
// OpenSSL allocation counter: installed before main() so that the no-allocation test can check
// that deriving keys and opening packets never reach malloc after the Decryptor is built. If
// another translation unit touched OpenSSL first, installation fails and that test skips.

long g_openssl_allocs = 0;
void* count_malloc(size_t n, const char*, int) {
    ++g_openssl_allocs;
    return std::malloc(n);
}
void* count_realloc(void* p, size_t n, const char*, int) {
    ++g_openssl_allocs;
    return std::realloc(p, n);
}
void count_free(void* p, const char*, int) { std::free(p); }
const bool g_alloc_hook_installed = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) == 1;

// ---------------------------------------------------------------------------------------------
// Helpers

std::string text(ByteView v) { return std::string(as_text(v)); }

bool contains(ByteView hay, std::string_view needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// Test-only walk of a ClientHello to its server_name (RFC 8446 §4.1.2, RFC 6066 §3), so that
// these tests do not depend on the TLS decoder. Returns nullopt without a server_name.
std::optional<std::string> sni_of(ByteView ch) {
    Reader r{ch};
    if (r.u8() != 1) return std::nullopt;
    Reader body = r.sub(r.u24());
    body.skip(2 + 32);
    body.skip(body.u8());
    body.skip(body.u16());
    body.skip(body.u8());
    Reader exts = body.sub(body.u16());
    while (exts.ok() && !exts.empty()) {
        const uint16_t type = exts.u16();
        Reader ext = exts.sub(exts.u16());
        if (type != 0) continue;
        Reader list = ext.sub(ext.u16());
        if (list.u8() != 0) return std::nullopt;
        const ByteView name = list.bytes(list.u16());
        if (!list.ok()) return std::nullopt;
        return text(name);
    }
    return std::nullopt;
}

struct Lent {
    std::vector<uint8_t> buffer = std::vector<uint8_t>(kRecommendedCryptoBuffer);
    ClientInitialAssembler assembler{std::span<uint8_t>{buffer}};
};

Decryptor& decryptor() {
    static Decryptor d;
    return d;
}

// Test-only sealer: builds a protected client Initial (RFC 9001 §5.3, §5.4) around `frames`,
// padded with PADDING frames to a `datagram`-byte packet. 4-byte packet number.
// `key_version`: derive the keys of another version than the one written in the header (a
// reserved version carrying a v1 Initial).
Bytes seal_initial(uint32_t version, ByteView dcid, ByteView scid, uint32_t pn, ByteView frames, size_t datagram = 1200,
                   ByteView key_dcid = {}, uint32_t key_version = 0) {
    auto keys = decryptor().derive_initial_keys(key_version != 0 ? key_version : version,
                                                key_dcid.empty() ? dcid : key_dcid, Perspective::Client);
    EXPECT_TRUE(keys.ok());
    const uint8_t type_bits = version == 0x6b3343cf ? 1 : 0;
    Bytes h;
    h.push_back(static_cast<uint8_t>(0xc0 | (type_bits << 4) | 0x03));
    for (int i = 3; i >= 0; --i) h.push_back(static_cast<uint8_t>(version >> (8 * i)));
    h.push_back(static_cast<uint8_t>(dcid.size()));
    h.insert(h.end(), dcid.begin(), dcid.end());
    h.push_back(static_cast<uint8_t>(scid.size()));
    h.insert(h.end(), scid.begin(), scid.end());
    h.push_back(0);  // token length
    const size_t fixed = h.size() + 2 + 4 + 16;
    Bytes payload(frames.begin(), frames.end());
    if (fixed + payload.size() < datagram) payload.resize(datagram - fixed, 0);
    const size_t length = 4 + payload.size() + 16;
    h.push_back(static_cast<uint8_t>(0x40 | (length >> 8)));
    h.push_back(static_cast<uint8_t>(length));
    const size_t pn_offset = h.size();
    for (int i = 3; i >= 0; --i) h.push_back(static_cast<uint8_t>(pn >> (8 * i)));

    std::array<uint8_t, 12> nonce = keys->iv;
    for (int i = 0; i < 4; ++i) nonce[11 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
    Bytes ct(payload.size() + 16);
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int n = 0;
    EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, keys->key.data(), nonce.data());
    EVP_EncryptUpdate(c, nullptr, &n, h.data(), static_cast<int>(h.size()));
    EVP_EncryptUpdate(c, ct.data(), &n, payload.data(), static_cast<int>(payload.size()));
    EVP_EncryptFinal_ex(c, ct.data() + n, &n);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, ct.data() + payload.size());
    EVP_CIPHER_CTX_free(c);

    Bytes pkt = h;
    pkt.insert(pkt.end(), ct.begin(), ct.end());
    std::array<uint8_t, 32> mask{};
    c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, keys->hp.data(), nullptr);
    EVP_EncryptUpdate(c, mask.data(), &n, pkt.data() + pn_offset + 4, 16);
    EVP_CIPHER_CTX_free(c);
    pkt[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; ++i) pkt[pn_offset + i] ^= mask[1 + i];
    return pkt;
}

Bytes crypto_frame(uint64_t offset, ByteView data) {
    Bytes f{0x06};
    const auto varint = [&f](uint64_t v) {
        if (v < 64) {
            f.push_back(static_cast<uint8_t>(v));
        } else if (v < 16384) {
            f.push_back(static_cast<uint8_t>(0x40 | (v >> 8)));
            f.push_back(static_cast<uint8_t>(v));
        } else {
            f.push_back(static_cast<uint8_t>(0xc0 | (v >> 56)));
            for (int i = 6; i >= 0; --i) f.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
    };
    varint(offset);
    varint(data.size());
    f.insert(f.end(), data.begin(), data.end());
    return f;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// A synthetic ClientHello handshake message whose body is `body_len` bytes of a pattern.
Bytes fake_client_hello(uint32_t body_len) {
    Bytes m{0x01, static_cast<uint8_t>(body_len >> 16), static_cast<uint8_t>(body_len >> 8),
            static_cast<uint8_t>(body_len)};
    for (uint32_t i = 0; i < body_len; ++i) m.push_back(static_cast<uint8_t>(i * 7 + 3));
    return m;
}

const Bytes kRfcDcid = hex("8394c8f03e515708");

// ---------------------------------------------------------------------------------------------
// RFC 9001 Appendix A (QUIC v1) and RFC 9369 Appendix A (QUIC v2) vectors.

// RFC 9001 §A.2 and RFC 9369 §A.2: unprotected client Initial payload (CRYPTO frame carrying a
// ClientHello for example.com), padded with zeros to 1162 bytes.
const char* const kRfcClientCryptoFrame =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

// RFC 9001 §A.2: the protected client Initial (1200 bytes).
const char* const kRfc9001ClientInitial =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

// RFC 9001 §A.3: the protected server Initial (ACK + CRYPTO carrying a ServerHello).
const char* const kRfc9001ServerInitial =
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

// RFC 9001 §A.3 / RFC 9369 §A.3: the server Initial's unprotected payload.
const char* const kRfcServerPayload =
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
    "020304";

// RFC 9001 §A.4: Retry.
const char* const kRfc9001Retry =
    "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f"
    "0f2496ba";

// RFC 9369 §A.2: the protected QUIC v2 client Initial (1200 bytes).
const char* const kRfc9369ClientInitial =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

// RFC 9369 §A.3: the protected QUIC v2 server Initial.
const char* const kRfc9369ServerInitial =
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";

// RFC 9369 §A.4: QUIC v2 Retry.
const char* const kRfc9369Retry =
    "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d9555436"
    "65dcc7b6";

// ---------------------------------------------------------------------------------------------
// Real datagrams from /work/shared/captures/public (UDP payloads).

// zeek__chromium-115 (api.cirrus-ci.com) frame 1, the client Initial: tests/unit/proto/fixtures.hpp.
using test::fixtures::kChromiumV1Initial;

// zeek__chromium-115.0.5790.110-api-cirrus-com.pcap, frame 2 (1250 bytes):
// server Initial + Handshake coalesced, followed by a short-header packet.
const char* const kChromiumV1ServerInitial =
    "c9000000010008d5412c47018cdfe80043a2f4646202349801ce34096c36d7c14c2e8175748a03fdfbfa941a"
    "38d10a87fa0b6690b9308231aae447373fd91c20bac13dfa8e8ace06f7ba9d3e810a568626fa3098be59c550"
    "d55f916088e01c958eefb1265e5c9f6d7c3e0796b557ca663ea8b947ca65da674ab7248a045f2eb2b2efb089"
    "85263a463689f7d78d32bf4bebc1152fa1e77a46593e02928833d69fedb18e618a858e9d12736525a658a08a"
    "0fbfcf8fdb9da7daf36aeddfe6f2a7f94625c93415111d636696b162939410e9e49bb8220e9f7ce21b4d119b"
    "1925fdccaaebb50c8e709fbaeba2e98afa39972159e9f820e86959c79b693ecaae31b1c2b13517e0dfd1900b"
    "c9575d52bcdcd872ebddbd049aead3d80773e1f0fc2130202cad96500cf547f2700cc79409ed83ae3f1ac00a"
    "888a43880f18bdb839a9c7f993d411115230937151a75c8f4bfa1c897eb911b63500a7dadded0ae1016b2632"
    "b4fba0110850db59e1a0f2307b2b380b928393d3e74132d3258ab1112945d94cd6d38c39fa4dcccb9f960a92"
    "b700e3dcc9d9b3aa9f89392f9f29cb7cd0058c674435d2869f3a1d20b49913e2154d76b747ddf38fca78b7f8"
    "cad5ac86d7988b5c453ad2c06631cdd79ebde842ced4f5d929c32cc596f2089e605714ad7e72ecc91e52e782"
    "220abee20b56ea3a6ba0a684979cd3556814a49a42ac24c96f477c510c61910204f7ed9d2ab41717501c7c8e"
    "a752fc92e945534b63d42bd56cff96aed805f4fc9c0f939d9eaed3e16a89a6ed6d4f62615e02e16ba50cc51f"
    "3731caaac944f951b3b971dc104f7456630830341f6601791481a1452b9c3c5d61731ddf6df94c57bda33951"
    "f2283cea51dd19e2bf34261b7fda41bd9f9d585f150ecf43636314d5d56cfb7af84d1b3d2d7da1bfeeca242c"
    "e669860419decd07ce4903e066511e2165338aa1b626d2c46c523795695f35a063fd55af0b1c6687c5052f64"
    "b0c2129ec7c5f4219b504a9272bad646178abbd11ce827396224fe2bb70e998b9abc82b01a26dff624fa7df7"
    "8dd1e99eabc1f3ea8c4e197bf52c80cbfc2502f57836f5d2325094c145e3a3003ffb9b8bdb98bf641843776d"
    "67027e636cc3c8a3d52a79d6fa45a1cb7525e9fe7afd13939d28bdafc7649cd89f5672b534ca2fbad0505a84"
    "872dccb49988e53c4a623ccbc8ff5a54a722737bbe889508b20e4ece6b24704718ff5c418faef486955b2de1"
    "cb5e5e84963c1860cc31581bf0c8379b2d67679ff232fff5f76da219dd4b1eeaf052ca3f8b4938f68dbb6d02"
    "ebb01a122097367ce3a68e32206bf1f9c4af5ee06948897ee0000000010008d5412c47018cdfe840dddc8be3"
    "e016bc01407ec12056704ad2e16385f72911f9f61c358ad0f2dc45e079fad898b22ff9c5c225257a30809a1f"
    "d6bab00a6a34b430ce2c111a192361a726c5b81812e681d67c7d90460e513e17243535446c53fb9d67f8ab96"
    "4db7d8be194c406506a2ee403e1963497dd9bc8a6b49ff47fd7a7f53c05a0e2e6bc7b5eb8a1b0d696fa37986"
    "d528af15617c31173b39745cae5be83f6e7635c30a3ef4c0c5e6564cf677926defccf7b2d8ca2712616617db"
    "cb0769e44881c2d5ac06ed313dd492ac1b3eedf78758863920e535ce51bbc03f2eb33371db036db815b05873"
    "86ebabcdf6f74e42723e6b79d4ff41e94bf5b8ce01d951ac91da509e5040dcc66ffb4619e6d268a39a901e53"
    "65151fca32e1eaeccd6fb97d3059594520ca";

// zeek__chromium-115.0.5790.110-api-cirrus-com.pcap, frame 3 (165 bytes):
// client Handshake packet addressed to the server-chosen CID d5412c47018cdfe8.
const char* const kChromiumV1ClientHandshake =
    "e40000000108d5412c47018cdfe800404711753410f5fb44bdc9c0d717f68b8d5fa8b0a3e434565dc122a8a9"
    "6a286518ea1ffcf18799684914abc9b8fbd4d4dfad27524a504fa3300ddb776a9d73726ec3470f4cb3a13c69"
    "4dd5412c47018cdfe80337cedfd01aed4f6edd73634be8e61b5c79fe361c058f1361ca7daa945152c9048043"
    "834f6bc08eb252d6d84f2d5b77aef897690edb800dfc9f70b318ecae865128ad9b";

// zeek__chromium-115.0.5790.110-api-cirrus-com.pcap, frame 4 (297 bytes):
// client 1-RTT short-header packet (first byte 0x53, like TURN ChannelData's 0x40-0x7f range).
const char* const kChromiumV1ClientShortHeader =
    "53d5412c47018cdfe8503a6676796b2ab9f604d966c7544db688938febcf45150cc82a383caa86bee48295cd"
    "5e1e75ffad9cae821c0e5dd52594df556d094a570c4bfbefe6e61daebd539b3e0d777902d371f73aa3ed195c"
    "2f709f875703d30da7d2ca4bab311fac465b8caf5def098c4bb5365911e922ae5a541f9349b440737bdd9d91"
    "362bd593394e0b0607f788f34eeea4d27871bed904911c42979a85acef90d6c2d093b550a6e2c12403f2579a"
    "bb0d082ef495e76241307c29577ef3a371760b0ff560157e7d5d896a8e3add7f07657a60ba140a3908e149bf"
    "313d9cfd895970525aff2f7251187baba995880859f2271f5f8c23a9e0321193045211dbe60bf64528a6fce4"
    "104c6c5e1512b24190c192b0a83b1135a1b726f3086c6e1c26a27ea23bdde53349";

// ndpi__quic-v2.pcapng, frame 1 (1232 bytes):
// QUIC v2 (0x6b3343cf) client Initial. SNI test.
const char* const kQuicV2Initial =
    "d66b3343cf080726272642fc2eb20811fffdea452422b832a196c2fa15ec4a99b399b9116eb2c5ef23306542"
    "3a33ac16db1be7c47541e1dbc9337bc0326b173b40bfcb11d25b647d0e8141c89fd5d4fe0ae06a3a4962392c"
    "9e91c2e1b3920ae3f12a7128aed5573623691908c9962a936cabe187e5acf4e4047e6fe88834c87e48cab633"
    "6dcf659934dffc133e0b4672e74e81a0d801d41fd6abdb6e04c27d9c831771e2c8fe0e025fe22818a653f609"
    "bbf7f500392b83579bdb2ef50507795f7bf7a63c939e9c6b8292d9fafbfd0daff19350ccb31c473981ddcff3"
    "5e2d44465427a3ce8f5f91da78c35e9479bf6d372b5ac20129844c77052541040d4f2f1567dddd86ebe0b18e"
    "fcde66d1098ee7a330ec771df5edc99baaa853ef72b0a49b685d976f83600e5bbed12fb1c123e189b90a7585"
    "bf3e3bc42ef017d060cb4638a4e693cc9e04916be5ea6bf5f0b46aaa166619dc465a0ddb25b89226216b70dc"
    "49014284ee512ca3ba354cdd26fdc3a36e5e41693069e7fa89fb45d8c687802c8362440d78ab2c727e7827af"
    "5663be939dd4888ace2214195d0e8861f7dfbcc0c3c886c03ee2424d960192010158c016737b5a6edaf09f13"
    "f65d830e476c41a07c7e6badfc1ff2e2a70b0f1ad551ef429e0ef6b0d85b0834c08ffdef70af1745ad61b833"
    "81339680ae39b9c92e5cdb8475f5efd7b76b3f7877126431960b60a5a61b3a12ee1e5f1eea7958b16d0c4859"
    "9bf4f6bee36b3343cf080726272642fc2eb20811fffdea452422b842a36e46d441f8c3f756c608d417943fb7"
    "7a8fdc13b99403e5bb94d6a809d67cdfbffe00d687862536d8dcbb9a0d94a3aa080c8fe40379d52d3f982a52"
    "1af9900d8034fb0ae504b28073dc59a189c126ab9fe636588d1034f9dc00ebb01e8729d663404e00f0e38e90"
    "2af72e2b92387dcab96bea2b445b8f3f6c2bafb3fc01aa152bf874c8d4b3b46bfbf5b6167a139ca4cda71a91"
    "7762b3013a7b6e7bcb9fe6fc13b3213636dd97389174e56d63302a1fde2f20938e20c7bc6bdfe8890528b53c"
    "72f1f346d5a8d964a46f2f49ea554eb3754a8788caeed7fc6e49acd25302f3f8e53b1173264a443e665bc09d"
    "3a73f183ed3deb90974a6c993cd0aa6fae24e23fef2e493416d858f981dda4632e306b7544ec9fb65c144bae"
    "b456c895baf6e310f611537be8e07e4ebddec383c455fe882539b08fa0073a7e66cc5ee81f836dfec3ef43d7"
    "7dc30b260ebe17f1c13eb609897cba3648ebe0a7dae509fddfddf290e69d7a25ac5db1920dd5806c6165fe49"
    "05fccdd96355636883c977d68d987672c1d96c6efae19bfa7494f89b66d61e0980847448463834485b075158"
    "33ed34ae181adfb4ec769836a626d4efa240c6f1f010a1f142c9f948edde0a0840b66c9e248698f456397ed4"
    "dc6c3e3ec5bac71812ad41e36531e8ba62faf269cbbce55ae5e3201d443f3504ea9727787ad20ff0b8e73eda"
    "0d7c522fd467beec602f7a536da1c248262305d26efe21f17ddb9b5409fe19145aa3df1629d5a381c8303528"
    "4fc949410a7c1d66e727cd2e96b0c2664754dfa7c7c465be6555e462bf83b9404a4f266b0df00373f8de23b9"
    "0c28c92a9c33e7a65aa6258cb1d5b26ec1f74c05430d67c0122e19c0f5b066e16727145c0047e77b8113d41e"
    "73456795f5c6db66d4caaab7d25c18a72a163d75b9ec4569146cb20de5ac44b365b03452be4c05734b28603c";

// ndpi__quic-29.pcap, frame 1 (1252 bytes):
// draft-29 client Initial. SNI localhost.
const char* const kDraft29Initial =
    "c2ff00001d12f36e07bf0b7088ef28c71d488acaaff39ffc1143944eda18beb7e548b38d375bf3c2a3bc0044"
    "b743b590a797856cfe3b435db160a5ce8ae47c38a73c65dfb3e7fc034e2681da0ca59a6a5f5e85969d6f66e1"
    "c7e8dbdb824eba947a841c0e536314a8ce65386ba7e42b7da0efcc5f933f699b755027e43545c9cdd31b0f72"
    "73a78d6a0ce2c6201462ba012c562fd43601e7872d9a4514085dfc0be2eb3f95d23f665cb374043900dd88db"
    "e158a531faf9dec890f60ddbf539fdf5de821122dc9e5d59f62f129a7364633f83d1021a1d3a9583ae7901eb"
    "abbc1ce17152fe10f4753c6a7965fd96ad711b4dfe4cf3145cdfe58a185f06ed8b29c485fc910d8a7d3486b9"
    "694e678070e8780218f04a808e46730c166ba4910def45ca760c5b674f71db8f2f9228bf0583ec9bc8308d2f"
    "99f8d303529e419dd4aa25a9fa2d876e881292d454361023073e27c801e46415f1ac6088dc1c42c726f7776e"
    "322e4398dc2c3435d46336f40ab0d0231d94267419950524fa0e058b5b5a407e000af332fee5d5fa5d0bce4b"
    "13a91868d4aea72fe4c67e2ad0577d9e53a297873317b9e9e348665104f9cee50e20c7b9ec6e1a93497b8cb3"
    "cf1609e33dcb89e7e6e1647831a84a2ee983e255e6915287084c45a4138ec555d2785dcb4dec2316adbb6b55"
    "347288aa06e632a38a9443cbe1409d6a5663976c414e152adcb89e17625e973269acc23224c1973019949fbd"
    "bd5cf2528da05594dd4f5026c900898e60b3620fb0ab836ac44e610f1e01565158ed59487d3f8b39765e33ef"
    "a7b08389698ec96925b68bed638bb8c6bf0bd9fa5eb10792539e2b2a9d44dd17c1919110224e0db91c1b291f"
    "0b56aeafcfa3896abf30d960cdc989a0a1e42f146ef2bd249c834fcbc41aee4b66ee2fc96fb30ac084cba1ed"
    "626f9397ecb4c011fd4d8ba1c9b2bd9382ff32479b28091041e64fbc13701ec0569e618ae381647b8eea966d"
    "744c53c926e623bf7b365a4c69a1faad005d2ab4692fa198c1e8133078330b07396345df8ca5ca602b1e91ec"
    "b30f8ece9d7c4a3247ffbee1f3193e66799ca87d2f636898a9c982723f43b723923f3ee06ec3a53abfe4288f"
    "0a7efaf046ec583af7d5e39f95bb20daae4ad1c02a05bbee496aeb70a116593f696dc85cb21f82178b3cf9e5"
    "20e852689afebd2010590d10074d85a7dd51a571cc67b44a16ec7a7131f21b4a732dd4fe9b7cd7872bd00302"
    "ed4b6936652a48e398afa06e3c9eb3b975086b74498c04e6e0c4d227998ce9fe353da7f7a4c98e5eb7e37846"
    "b19186328b291155f3e83271ebc8ec72c9001912dfb6e9c02b859cadb9b4315c9951b7faf075dc92b0074a5e"
    "5937f81bc178c7c02ffa916fda88c36141d63c3616e825070ac1331b380795c0a175286ccb18a348a80f1c44"
    "8061d53d562c2a9e8b793c81dfc2edbc4a3605f361e246c3fb1c1802825ab71ed01f0617c5ce460bb5855bfa"
    "33077fb2e068fe81bd83d52ad093fed868f81101e4658cc86de0b4d1191dd152c9cde739a7cb0e97b935a09d"
    "89c509c3a96aba73c120ad5ad2bfcc74f02e3a84297f8b374e2bb1afc0611069490e3a42f402b8844441e878"
    "2149445b4ff3902ac22749721f2d6cafbbba040f3746d492586228d7e74370a1ef68ba7f42bc0f1f30dceb9b"
    "e8a064ed6b2612d1412228d10e0c1be6b563b6222e27217eea17a0cb6596eb17f789643b34c3235b131edb7d"
    "63e58b4c8033c14d56c501168acf1667abf61903";

// ndpi__quic-27.pcap, frame 1 (1330 bytes):
// draft-27 client Initial. SNI play.google.com.
const char* const kDraft27Initial =
    "c5ff00001b087ba7750a8f3bf556000045204135bf2bc44c63bafbf561efbe85b73da26d03538367c121bfdd"
    "479b43329efbf0a1311e9feb92231e200fa0b0005d13a62ea689149060f528e28b918da48635b3b8cb985a9a"
    "9408863f67902ce5b9ae0c435b2730b40a120ceef5788f53d54abb1019861ef9cf99e4811424c0c1ba61acff"
    "6e30b3f201cd7b512c028a464396dd9719531f897cdeda295ae6205c948a4cfe7a888db643514633742df8c9"
    "86ebe7856b51edf70d0a69bac2b94334dfa92fb76d125e366bdf563869badc06a0dba9fb4cbbac90c2c29c60"
    "7231b47422a03232c73a649cdd3397a47c925ac53c62b661ccbb6d777093651339599f9689b804203f3f63de"
    "3f8e61b06f0783dcf7e8dcfa707db9bab7ec0222d63cc8129143e1f9bf98de763ccffcb8eb46d9636a384670"
    "965de872608ee7a202268401d8fb7f1d13f728c2c4f54898bb4b1df5cfa39e7cc40c17554f37a734fdc5abf3"
    "7edcd5a7df6f626fc653f920d5561f9c7e07d6aa4c95396273f43a43c88b9c234627d2c886d99815fba70268"
    "b239b00346c53807a8f81e8257de27fe9ae72c29da7ef0ddee80b8cce2ec14bce17b5f20020e9099fc6dffe5"
    "7e49ff329992a0cf518bee96e32c48e8fc07d5a5316b5b19eae9e448eaa252253678d8a260d329e1c8c59651"
    "05a269fd0387c6a5955a5f8c947f4a59a2e0f94b89d6d903ff3ee849bf87d5a3c89c2074ab820e7d8e768c2e"
    "4cd2c032354082458449b6518cfea3343fcc0cfef7295f8188ae530befb8f13fa754e52ad3513697012bfc8f"
    "ddf7ee779589ee5d194f74d633de23489b4c43cee639a9e494c0894aed593fce3cb1a5ebe02a0ebbe3da22d8"
    "23a31f1dfe782e5d1e489c0ac5ccdd3b26a38db916fb017898334172b1ecf88cbe34bb3ce0a3e441a107cac8"
    "0fe5fc9d121e0ea73cad2938db783ae30531bd29c51662605aaf6abc1e93c57253d57cc273960ce61b5ca688"
    "f3a60490e0a90dd950cda0f39e61b7a83bb7308c8a8d0bac31c6d2a0d3406c86c069ce0021cc17869194d047"
    "1cf5e30f4016160e484c2fe6b86d5bb559c70913112a37096dcc200799277788f7c8bc85e6320345228d844e"
    "80738f285e997f5fc417ee277f45d4dd31313e23d2262e9dde7e8c2c2da08cb662047beec9783f075d2fc31d"
    "8ec27100bb4092714c4c65b75a59d49f15c5943f4629fc72b3bbb02519017fcc026393733ac29a560ac667d9"
    "0b29bf5412da125b3520efef9611a121acc9e1e73eba76804cbb1ba40f20a65dc0e9f03f9ada618fa0769264"
    "2675be0f0c19232c695407d4c0fe158276ef28900e36125a5e7ca2ecee2698be3f5e1a36e91f80ad648b27f3"
    "58581da9b42a2c6c2e7143d35593d86de3585e3fa77d97012100217d9f1aa848978da44fbf55d20594ff31c5"
    "617e1dd5da84d11d10bc32e068147969d27f010482417df4b87c5006cacf88301495ee341747ff08a2db5c3b"
    "5fbd08378b4132237297096db6904909c9cb42594d3ae95aaca7a3223390cf090c36d100f62f7f16253af317"
    "1603ee09827b5030a1015f0fa82a4e7ad2dd38f486de464c3f2fb04619d287b38cc3fc5ee04c0a30a513c853"
    "a0cc60472694290a09e33b807a7fad32eb446b69b8f3ebb98c72442658c68c70b82c7656311dfdd3abd775ef"
    "b37428354a11d8d752ff073e6f2aba652010a24fdbe5dd960d8ceea10656ca4bc54fff283a82c2d0f408a015"
    "31f1b2d37e56eb1b8986e8f0926041611c0c6cb6748f46659a8f98000541e2401102019eb6fdeb995cfda1f1"
    "3f0a1266d04a5a576800c884db6a309d07b33f76e8090e7de9796196afda4cb923f2e75d474f7a5dd794b8ec"
    "c0508ede10f740f620ab";

// ndpi__quic_frags_ch_in_multiple_packets.pcapng, frame 1 (1232 bytes):
// v1 client Initial carrying CRYPTO [0, 1182).
const char* const kFragsInitial1 =
    "c30000000108e0ea07d1045fdfdf085bb4b299cb9dcac40044b6b9cce1dff4908dedd93e453b7453113bc0dc"
    "71a19ab6f09d099af923d83e7f22618b8774a6905bc4a8bd7d3e5787673ec7983bee154d266575e89f813f15"
    "350401d38b5addc13264c0e9291b5e816e1d7a4928e473d46c48a274d99240eb8fde91fff12a0bf71eed4c14"
    "3383638bdd4a42aa30275f5ea9140750f95fd16ea2757b2cd615d6f00507761ee0b1fc88f5e75051448d979f"
    "fcfe003078ad51785833aeb739b5d0ef2c876b2c2c57b663230a11e4858643b65b131c01ab4d036950e2a257"
    "237d8ada4ca01b8582ed0f016f485314c1bf9b2c049fbcb8d79d4e493e276540cabc39587155a3b85faa4d5b"
    "296bf887edcd94bb23e1a5362f2231f441e654c59cd98524c57a3d8b5b01653f6605ce91b08894b005a88b31"
    "8fb9ffbd038a80259aac950bb48534b026e3eedf51cfc226c7f47fc1436cf1a3304178af87f9fb42d5647f78"
    "532e16774b6c4ac00e988c63c703188602d5566ad5b7b4c1471668b4bb0c3001392a06380b7ec9ec0282bef8"
    "74e2f5c98f5cf7510558189878f19f63d831fad9af3f0d05d2ef871479ab20a1723ffdf72acaa1bff9d12790"
    "4cb2425f5fe74562c13cd4cea841c2bd351d96a907c74104875274e2dc53fc6eef7db9078804e8c6eb66beb0"
    "e8363b0a1ace81cd955b0a317a1b19a38d6b58166c390348c8fccbbfd2740518a9fb0ec626663173edee6dee"
    "a0c5d6b3f56f929f8dc2b1b44842b85b0a01c66972df2c6df761c694e17fba961669643211ae97c796278d93"
    "41381c77ef996ea74d79307291ca51cfcb5ade7e5a8b875afc4c9f8c7e95d403bd7d7ed79f3b095dd7330c01"
    "64cd916b36ad1211d6d51277393fb10b78227bab669a731076e5ec78599cf95d89693e7faba31153f4e5c18d"
    "11abb12d27cf996f3197a88baee23c42c7da0c9a2ebacfae6e5f0dea20d34e794c475c9c9ca405b0e437b857"
    "3695478970ca0cca1aa967c782f7254bde223fa839bca1ec5e7a36a4dee42e14570d2b5ce2b9bea0ca69fad2"
    "383be489e2134e0c74dc1da950d296f512eed4f86d6d7519b98d2088f9e03df2a08cc116c1b81a87922fc939"
    "ef79a2fab04a9ff637ebde416bb32f86356fceca8ae40e746923c4687f31b0d6d2f188394f821d67f6b1f247"
    "5a5175bcbd0677ffac31c47936b1a2d3f45a10298201c21daff2149102cd5aacf5a4bb8b6c960dc25f4b8d00"
    "1729d43f55062a125efee5315e287ba97b61790ec55f122402156fddc3e809103bd427ecd84fc47b2d5f54a4"
    "56e653095bd3eb88973b1a85adcb1ef4a4e759b0af075e24043e260a25a4a2a0dd1caf6f010eba4c51fba725"
    "15a7f0f88b9975264edb883086e11721b2f8443ac619c3f80ff484b24d58d1cc5cbbbf91f501a2ea402504c2"
    "71fb0286881a7aa803e9ee5e49808de4f4fdf97a46377f867f83f125f0ec4e3b11632f6925cb5f68f0b786a8"
    "723a340a7c2c76adba6f802f4f311541c898ed2c9c469e425402e1b797a5056a4515be8b19fb933ade551cb3"
    "7f7eaf7aae883039caeecd009f00fe2f3b941c641becb599dc835ec6810c27dc2b76713ffb2865c638afed10"
    "09a48a6312b74e77224dbb954f67a68097baa04d7b24568c28bffea0da80de5cbe4a7cb9dcb1eddc39c65737"
    "d64069d22694f6c35c468a2972f654df0322ec77e7ef981b6e1f6d25a7c3ebb3b66055420631dfe9592455fe";

// ndpi__quic_frags_ch_in_multiple_packets.pcapng, frame 2 (1232 bytes):
// v1 client Initial carrying CRYPTO [1182, 1578): completes a 1578-byte ClientHello without
// server_name (ALPN list only).
const char* const kFragsInitial2 =
    "c80000000108e0ea07d1045fdfdf085bb4b299cb9dcac40044b6743ffa9c06bb24575ed08f4b89eaed25fa82"
    "b0f12dfb9efc45a30439c5b1a1c2fef0b23c9ba9627f7907de2e21cdf945001727376c69b2f6a4c5d3e5283f"
    "245ba7e87014c3bb0d96f7adab9a5d1b9a0a137bcaffd483cc95d3ce07af120f5708b2b9def98a28d900a7ca"
    "483cbe6e3fce76c82c560ee7df4d20e1de3be6a1ccaea8fc91ef02b2d9a9964264532dc8e1618d66b4dfc027"
    "b420ba092644f9153bf4a83876fcbdfc154e5379401237d4f827d15fbeeeb43f8631e3ae00ea1f9f42ed4bd4"
    "e0dbbff6aa03c674ce981a0770af782cfa08d7fcb8fa17b167c7b5781c1a85c460631acfedd5935ab47e2703"
    "c3f62529505bf1a3c4888268155a2fda6cce8c3702a661308d2d7a3ad31e07b5a37f04224fec8d525ff2d285"
    "fd1cc9ed4e7f58a6b81292adeb92f21479feda58692cee3e577cdb27529afb33010d06af2a8e27f654fa3af1"
    "4774edfc0691c395c1ecb010e62822db8ae4d151daf278940836c7a94012b1926f7a39030db63a3263ea95f6"
    "1a2029a290a58c2f850c16e93bb1f0f26348bfa7cbcbbafb9a770c1dbe735f8b099e892273aefb67e2328951"
    "d73325ea90a04008364a0ec356d50590c9551f84501aa19bb69b69466738f534925b029adce9b5186f19d8c6"
    "202c1edf189a82a1042a0150c01fffbde6f3d760c4099101414ba485bb021311e997c1ee7805ef29203203ad"
    "836539cf8c16c50d1a065279ac375c3aaeffc490a993f7c28e9d6fe46b6dd3f07a50c865b4dd00bea897732b"
    "682081c29f3b0b33ea177dcf728f8c3d3a5004841ea7dc674bb761be7f30bba6a58f0ba30e1802ecf88f5acf"
    "b11fb2fc442459e1da60b17ff34c09a7dc9beffda9fab6ec65aec3fcfcfdc1d6188f4727ad7621ae0f47607b"
    "8f67dc0a0df192e6f6088a165844631b10c6c670580b74e00d95b4eba9ea7ba9e61a22ee5bb38dabb6ff7119"
    "800be3dcb3c53909263ee86e99345838378663a8d06d062ae30de43dc32ec77a0807a4b6d81cfd1c9018658f"
    "7f539d06b18e67cf3ab1595261f548e773bcc0ba75630098d50985cdd3e949ebed8b32765d8bc527e630df38"
    "abd6ac01c43e1b867b680e0f9a106c2a23288dc97807088d7724e429257b616e94408faf1693836e5417519a"
    "6b3ab49b1117af4930bfd8f81fc1507de856648234b89c4961e38af3704831bf77b41ea404b5c0d606c0d993"
    "cd643f3c28f98fd09dc3aea69ba4436566abc439bfa1293d344305ad8ef128aec87ae6efacf59de960c3749f"
    "41a2fa7937384788abb05524b1fddd1ed40e9b535162e5d7d411cad8e26095acb42daebccbfd4aae85949d9f"
    "5a7288ecb4308d18fdb9db0782ba274e2b5d9ea712da75114fcd9124b2cfef901aec1af2ffbe981660c9145d"
    "1d7932ff2392ad31b16e63629103ff05739a3b79e5af1794ed2aae3a1a3aa1f3069000fd9bd9e70f4e090695"
    "c36ecca69c1b869135200293d1a7e347360f9a021c17d105efdb59d3d463891a4819fe43a4dbdada6b951eaf"
    "3c473f8dff64d9f0a9c5464b67a4d3115d6b0ca88bba72be3d0655ae029e04e652e2472c74a05d76058285cb"
    "2333f2e7131d118919165c4a453e0feafbc699f1c194bed9665f345a61c09ef54b0388a73fd37a350ea0a44b"
    "9a7d03078810bc459eebee9ffb360496f3f37e7548420fb069d2e39098151b624b727668b614586f1117db25";

// suricata-verify__quic-frag__input.pcap, frame 1 (1252 bytes):
// v1 client Initial carrying CRYPTO [0, 1209).
const char* const kSuricataFrag1 =
    "cf00000001098942fad183b691ec0b0366ac2c0044ce3e5a2aa9bcc7459a1a9fb2ef237e6e94e8460d95bdf1"
    "f24f5000adf1c1b40ebed62bf5d423cd265dec600bb8118d3622d2da496b6d62fcb065289e5e5af1e837025e"
    "d4b050344ef41396e2feadf9c334c0af1aaea599ad5c4148b9a421f9ba3ac49ffa06aa4db521bae08e87eaf1"
    "3bf8b228e1cdea7ef68e0bcc89e71f95fa98e82a8d52a667a227cf25d9f0dadeea7deb7af736355f2be31d4e"
    "a3aea2999711c86d80d3e9f4027e76f04bf7a6865a163ab67c238fe5ed0b854ecfc926068d2b0522d5fa9de0"
    "a664bc391b7e3af2768778b2efddac4a11ebddf33216859f5a34782eff062fc6eb9d5d8cde0f29e730a814dd"
    "b4a848dac28a8d2569c5c988b4e75f6dd6c1623b3a22a7ddead4503ff3198f8c6ce84c6c36cbca116e7df820"
    "87cf8aef6afb9767ce4ef72e6848d8a317c3194854d04277ef3d27db6f2fcaa550eb249e4e35915ba2898eae"
    "8ab92f779931a8b86dec7ab94b2c85d8651842d957d708512f033b2e66a95d867c3fcdd7ed879c2875888395"
    "d4ba5af340522de70269041c49b6c5426c7b64bace6a1422713bbdcb2211f34ece610c6cbf939c4263fac8fd"
    "1afe43c239fbf6e88ed51100dad468218c0c3c7479b4a8fae16dcc232a3d84d3c686b0bd27f94e9d6d3bb6c5"
    "b8eebd591fe5e4725349943a751be3f4dc841616ae93b14f7d3ddcc0267c1af1003d0777ec2a897540e75429"
    "84af696728b9c97711e354a9d579cca2eed8dc09b21e285399ac4cbef2d2f761285ec77ad6649b836a730d74"
    "019a4d228117321eacc9ffea3ba40ed79bc068f11c111ca6125157127afa68af5d0122f90b57e1e168dfa9ad"
    "c0020c7872170b956c16059b18a380e6e2d928bfca8569ac52cf05941a24c5c93028bdf95efcead2477797bb"
    "0b7459aeefea499090a49787d91985fc69060f16d2e30fcd2259b49ffa8dcf6be64b896a1aafcbac1ff31a12"
    "51059eaa2af00b0594982eff42617947a15e6eee58463b7fc0551f1285d39b7059e0057e7a996996e920c05f"
    "38c5199f7ed17818fbea57cc82801937cf1cb4e17444cf4498c15f5cf97a8bb92e6069bf0451ec1d4d18181f"
    "b0ed5f61b56bfeb1b5091aa52ac84bfc2ff4599f38fb84b860df80b33c000aa8e40686e41ebec1c1d62fa8aa"
    "955210ac336bc6f05f3063ac48c91511136610c76308bde03ab50bab702c24d2b85d64b2b380945807bc858f"
    "2d5ba057e6ebb70e3e3bba39b671fb666c4d4f5c49b3a20de49807e04dbf95374afab858cc9190eb21812f7d"
    "49634ae8a222d87ea0d9402fb8ebe62044a59b08fc020e93d51b5c70e5172be241a23b1a279a2cc5d52eb41b"
    "cb782e18fb2f092418dfb0f72bb4f21d25c12261c6079e4f109d9ff580d16c7652a594b5fc7030c7527eae6b"
    "8e4b23b71be97d425dd20dc805172f7b2d44c556540c67bdb7be38cb1cc3af86f9b58c7b0170cc81eb00f060"
    "e56ea00e63805a2d948632a0a252d8ec86c56a01c25dcdc271420d2424e953e9fb447fa4c567bf8f24fcd6ae"
    "74815771f9cee208b50b2e33a0ce5833c98f752df576f6cfbcd171a2e6eb99d574e638ac7e676b0c98498abd"
    "872f60a37752110fe2b4215fb28ebe8236fdb17630411352119b67f9dfc668b0ff67662389cf487c11cc0e80"
    "92e3cdde0a2110a4c08270c12fc99035d58e4d05df13c7c21a379ca7e1874d95e5b2cc53728c95512ed7e5bf"
    "12f5063e0f28195d85dfc12eceefbc5169745ceb";

// suricata-verify__quic-frag__input.pcap, frame 2 (1252 bytes):
// v1 client Initial carrying CRYPTO [1209, 1854), then 563 bytes of another packet. SNI
// token.services.mozilla.com.
const char* const kSuricataFrag2 =
    "cf00000001098942fad183b691ec0b0366ac2c00429b58fa88138ce41832fd333c039d18cc7950b471a1a156"
    "1c10c476ac5d0b8ffedeb12dfad4c90c6e62fb6687d92e0b11719dc57c95198cfe6b29379f8b7ae17797ff85"
    "f1fe94577c3ba676edfe5fc900875d4158f7eb114d78268d96dbc06499372aac58f37f85c00be11c942729d6"
    "e8bbda62397cbd77600f2c0e7979633e40e34b72d9bc04c9abe17a9680f052f7592c34e2fb18cb1f4d38704c"
    "993c4e7c679d8fc843fe2064b71ad0ac2c7ebf5d637f12cfb967500fde85e6e19781b52768d8d89156375862"
    "dc022d13441e9e2db32ccdc4c5a938c66b3e43e04f23852c3c01608ef4e4794417ce1c3b19c925860c03a1a1"
    "994fb107e5b2f4010a439017d79da9333ec7a0d35f0544d4a1cd3f0ce6553c6340fcff8aac83813670d34275"
    "3dafe46d5faedf6e8c7080cc15721a9877ef5a26d8c6a2ea5d5dd2a8003fd8be763d1261f0dfe9b4f4e2d1a8"
    "488afdb86418e9e7f980ff0592d67f27064eaf85b4ab4478f424d3c646b9c2473c30a739e469c00d02cbdc3d"
    "6d184ac558d0d2b53f9d8f69209d9f82a96c21b6a8942159e1f4a879c1b52c082990dafa4a2fe4be9bde4eaf"
    "f0252277a925b98c2ee8e73bf14ab598c8c8e08ece5e2a1c39fd1939f67dd414e1087406e89ce3c4413af767"
    "254ed68e827e01abea64b15500993c61783cdc55f473fc4004baa931e7ff893f2d2556ac2517fdd127ac8ca3"
    "b5157f0df356d78027c6e1a2ab5cec0446b553298c154e60e09d0413e96dc3260add3c4b51c0b32fd7a07b8d"
    "eb1dad91e0a35fb1d91e223bff0f282cb1ca116a705e1fb06432cfd2de33f93aec0aefb27a4a593be1832753"
    "b0f38250aba8a314c9034532c2ce8a827de099b49a4ee1b5debe8ad1e248497bb5cd26f8c774f2a4bb6e3d2b"
    "d1a82e500fcf8658ec165ccf53c7b58d838862dec4d90f504d6a546b37000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000";

// ndpi__quic_q46.pcap, frame 1 (1350 bytes):
// gQUIC Q046 clear-text CHLO. SNI play.google.com.
const char* const kGQuicQ46Chlo =
    "c35130343650eacfe6e706df272d0000000460da58929f6839d0860efc58a4010400040043484c4f1a000000"
    "50414400b6010000534e4900c501000053544b00fd010000534e4f0031020000564552003502000043435300"
    "450200004e4f4e43650200004145414469020000554149449402000053434944a402000054434944a8020000"
    "50444d44ac020000534d484cb00200004943534cb40200004e4f4e50d402000050554253f40200004d494453"
    "f802000053434c53fc0200004b45585300030000584c4354080300004353435408030000434f50540c030000"
    "434352541c0300004952545420030000434643572403000053464357280300002d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d"
    "2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d706c61792e676f6f676c652e636f"
    "6d4c5e5068944a6933684a92766f2570fe7da347f4978830146b14570b20e5687d77a18191be698b87951f9f"
    "057eaa43fcac12ea97a3f47158690860d7272a2eeea760f9d9c1c96240913498f82521f327d8398311748158"
    "21e3ba64a1101b3be1396c6c19d9246d09348e835d5130343601e8816092921ae87eed8086a21582915cf619"
    "d1303030303030303020d56a5d1448a1930b3a731a0987572712e76fe4414553474368726f6d652f37342e30"
    "2e333732392e31353720416e64726f696420382e302e303b20424e442d4c3231a99d8b89310f3e52396ceb51"
    "976b16c30000000058353039010000001e0000003ee7e131018f4a678dd6022e606e840669dfd7658f4d82c0"
    "b2bc0be57a7db88a6619ba2c6ec79409e3e783ea192948625f0e7f7e5c117227ad6b146d2dd8c92b64000000"
    "010000004332353533f8a7f05a47764a4e53545033f8a7f05a47764a67f8adc58015e3ff7bb800000000f000"
    "0000600000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000";

// tcpdump__quic_vn.pcap, frame 2 (23 bytes):
// server Version Negotiation listing 0x00000001 and 0x1a2a3a4a.
const char* const kVersionNegotiation = "f50000000000089d5728481287a3b4000000011a2a3a4a";

// tcpdump__quic_retry.pcap, frame 2 (159 bytes):
// server Retry with a 128-byte token.
const char* const kRetryV1 =
    "ff000000010008e1051eaa7adfb2304560cfe26e2d3ded33fc90c079b4521a8f14c16fe05c7aedfcdd1fcc59"
    "7a8ee829347d305442fb17a25cc93df7746f1a7de323462823b33d7c17ebac994cdbb6a85215f10316c399fc"
    "999a17dddde6e9950e1c0a33dee64eceaf3e72d0d29a183ec83b03e7ca5431f0ce5fdca7c168045429abeb5e"
    "fa231155110752106aaba8f67ccb6438caacb0bb5656f40504ed4b";

// ndpi__quic_0RTT.pcap, frame 3 (77 bytes):
// v1 0-RTT packet, sent before the client Initial of frame 5.
const char* const kZeroRttBeforeInitial =
    "dc000000010865b9ee23b37344d600403c3a11326026d9da5b80f3a6cdcc730162d31f159d5c0eed124b3420"
    "5506a896366cdfbbda0be365fc81b367717b9163696f1f6adbe29daa19f9b17b66";

// ---------------------------------------------------------------------------------------------
// API shape

static_assert(noexcept(probe(ByteView{})));
static_assert(noexcept(decode(ByteView{})));
static_assert(noexcept(decode_long_header(ByteView{})));
static_assert(noexcept(parse_initial_frames(ByteView{})));
static_assert(noexcept(decode_gquic_chlo(LongHeader{})));
static_assert(noexcept(std::declval<ClientInitialAssembler&>().feed(std::declval<Decryptor&>(), ByteView{})));
static_assert(noexcept(std::declval<Decryptor&>().open(LongHeader{}, InitialKeys{}, std::span<uint8_t>{})));

// ---------------------------------------------------------------------------------------------
// Versions

TEST(QuicVersion, Classification) {
    struct Case {
        uint32_t version;
        VersionFamily family;
        uint8_t draft;
        bool decryptable;
    };
    const Case cases[] = {
        {0x00000000, VersionFamily::Negotiation, 0, false},
        {0x00000001, VersionFamily::V1, 34, true},
        {0x6b3343cf, VersionFamily::V2, 0, true},
        {0xff000016, VersionFamily::IetfDraft, 22, true},
        {0xff000017, VersionFamily::IetfDraft, 23, true},
        {0xff00001b, VersionFamily::IetfDraft, 27, true},
        {0xff00001c, VersionFamily::IetfDraft, 28, true},
        {0xff00001d, VersionFamily::IetfDraft, 29, true},
        {0xff000020, VersionFamily::IetfDraft, 32, true},
        {0xff000022, VersionFamily::IetfDraft, 34, true},
        {0xff000015, VersionFamily::IetfDraft, 21, false},
        {0xfaceb001, VersionFamily::Mvfst, 22, true},
        {0xfaceb002, VersionFamily::Mvfst, 27, true},
        {0x51303436, VersionFamily::GoogleQ, 0, false},
        {0x51303530, VersionFamily::GoogleQ, 0, false},
        {0x54303530, VersionFamily::GoogleT, 0, true},  // own salt (Wireshark)
        {0x54303531, VersionFamily::GoogleT, 0, true},
        {0x54303532, VersionFamily::GoogleT, 0, false},  // no salt known
        {0x1a2a3a4a, VersionFamily::Reserved, 0, true},  // v1 keys tried, AEAD decides
        {0xfafafafa, VersionFamily::Reserved, 0, true},
        {0x12345678, VersionFamily::Unknown, 0, false},
        {0x709a50c4, VersionFamily::Unknown, 0, false},  // pre-RFC v2 draft number: not kept
    };
    for (const Case& c : cases) {
        const VersionInfo v = classify_version(c.version);
        EXPECT_EQ(v.family, c.family) << std::hex << c.version;
        EXPECT_EQ(v.draft, c.draft) << std::hex << c.version;
        EXPECT_EQ(v.initial_decryptable, c.decryptable) << std::hex << c.version;
    }
    EXPECT_EQ(classify_version(0x51303436).gquic, 46);
    EXPECT_FALSE(classify_version(0x51303436).ietf_long_header);
    EXPECT_TRUE(classify_version(0x51303530).ietf_long_header);
}

// ---------------------------------------------------------------------------------------------
// RFC 9001 Appendix A

TEST(QuicRfc9001, ClientAndServerInitialKeys) {
    auto c = decryptor().derive_initial_keys(1, view(kRfcDcid), Perspective::Client);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(Bytes(c->key.begin(), c->key.end()), hex("1f369613dd76d5467730efcbe3b1a22d"));
    EXPECT_EQ(Bytes(c->iv.begin(), c->iv.end()), hex("fa044b2f42a3fd3b46fb255c"));
    EXPECT_EQ(Bytes(c->hp.begin(), c->hp.end()), hex("9f50449e04a0e810283a1e9933adedd2"));
    auto s = decryptor().derive_initial_keys(1, view(kRfcDcid), Perspective::Server);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(Bytes(s->key.begin(), s->key.end()), hex("cf3a5331653c364c88f0f379b6067e37"));
    EXPECT_EQ(Bytes(s->iv.begin(), s->iv.end()), hex("0ac1493ca1905853b0bba03e"));
    EXPECT_EQ(Bytes(s->hp.begin(), s->hp.end()), hex("c206b8d9b9f0f37644430b490eeaa314"));
}

TEST(QuicRfc9001, ClientInitialHeaderProtectionAndPayload) {
    const Bytes pkt = hex(kRfc9001ClientInitial);
    ASSERT_EQ(pkt.size(), 1200u);
    ASSERT_TRUE(probe(view(pkt)));
    auto d = decode(view(pkt));
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->packets.size(), 1u);
    const LongHeader& h = d->packets[0];
    EXPECT_EQ(h.type, PacketType::Initial);
    EXPECT_EQ(h.version.family, VersionFamily::V1);
    EXPECT_EQ(Bytes(h.dcid.begin(), h.dcid.end()), kRfcDcid);
    EXPECT_TRUE(h.scid.empty());
    EXPECT_TRUE(h.token.empty());
    EXPECT_EQ(h.length, 0x049eu);
    EXPECT_EQ(h.pn_offset, 18u);
    EXPECT_EQ(h.packet.size(), 1200u);
    EXPECT_TRUE(d->trailing.empty());

    auto keys = decryptor().derive_initial_keys(1, h.dcid, Perspective::Client);
    ASSERT_TRUE(keys.ok());
    std::vector<uint8_t> out(pkt.size());
    auto o = decryptor().open(h, *keys, out);
    ASSERT_TRUE(o.ok());
    // §A.2: sample d1b1c98d…, mask 437b9aec36 → first byte c3, packet number 00000002.
    EXPECT_EQ(o->first_byte, 0xc3);
    EXPECT_EQ(o->pn_length, 4);
    EXPECT_EQ(o->packet_number, 2u);
    EXPECT_EQ(Bytes(o->header.begin(), o->header.end()), hex("c300000001088394c8f03e5157080000449e00000002"));
    Bytes expected = hex(kRfcClientCryptoFrame);
    expected.resize(1162, 0);
    EXPECT_EQ(Bytes(o->payload.begin(), o->payload.end()), expected);
    EXPECT_EQ(o->anomalies, 0u);

    auto f = parse_initial_frames(o->payload);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->crypto.size(), 1u);
    EXPECT_EQ(f->crypto[0].offset, 0u);
    EXPECT_EQ(f->crypto[0].data.size(), 241u);
    EXPECT_EQ(f->padding_bytes, 1162u - 245u);
    EXPECT_FALSE(f->stopped_on_unknown);
}

TEST(QuicRfc9001, AssemblerYieldsExampleComClientHello) {
    Lent l;
    const Bytes pkt = hex(kRfc9001ClientInitial);
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(r.kind, HandshakeKind::TlsClientHello);
    EXPECT_EQ(r.version, 1u);
    EXPECT_EQ(r.initials_opened, 1);
    ASSERT_EQ(r.client_hello.size(), 241u);
    EXPECT_EQ(r.client_hello[0], 0x01);
    EXPECT_EQ(sni_of(r.client_hello), "example.com");
    EXPECT_EQ(Bytes(l.assembler.original_dcid().begin(), l.assembler.original_dcid().end()), kRfcDcid);
}

TEST(QuicRfc9001, ServerInitialDecryptsWithServerKeys) {
    const Bytes pkt = hex(kRfc9001ServerInitial);
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::Initial);
    EXPECT_TRUE(h->dcid.empty());
    EXPECT_EQ(Bytes(h->scid.begin(), h->scid.end()), hex("f067a5502a4262b5"));
    // Server keys derive from the client's original DCID (RFC 9001 §5.2).
    auto keys = decryptor().derive_initial_keys(1, view(kRfcDcid), Perspective::Server);
    ASSERT_TRUE(keys.ok());
    std::vector<uint8_t> out(pkt.size());
    auto o = decryptor().open(*h, *keys, out);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->packet_number, 1u);
    EXPECT_EQ(Bytes(o->header.begin(), o->header.end()), hex("c1000000010008f067a5502a4262b50040750001"));
    EXPECT_EQ(Bytes(o->payload.begin(), o->payload.end()), hex(kRfcServerPayload));
    auto f = parse_initial_frames(o->payload);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->ack_frames, 1);
    ASSERT_EQ(f->crypto.size(), 1u);
    EXPECT_EQ(f->crypto[0].data[0], 0x02);  // ServerHello
    // The client keys do not open it.
    auto ck = decryptor().derive_initial_keys(1, view(kRfcDcid), Perspective::Client);
    EXPECT_EQ(decryptor().open(*h, *ck, out).code(), DecodeErrorCode::Malformed);
}

TEST(QuicRfc9001, Retry) {
    const Bytes pkt = hex(kRfc9001Retry);
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::Retry);
    EXPECT_EQ(text(h->token), "token");
    EXPECT_EQ(Bytes(h->retry_integrity_tag.begin(), h->retry_integrity_tag.end()),
              hex("04a265ba2eff4d829058fb3f0f2496ba"));
    EXPECT_EQ(Bytes(h->scid.begin(), h->scid.end()), hex("f067a5502a4262b5"));
}

// ---------------------------------------------------------------------------------------------
// RFC 9369 Appendix A (QUIC v2)

TEST(QuicRfc9369, ClientAndServerInitialKeys) {
    auto c = decryptor().derive_initial_keys(0x6b3343cf, view(kRfcDcid), Perspective::Client);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(Bytes(c->key.begin(), c->key.end()), hex("8b1a0bc121284290a29e0971b5cd045d"));
    EXPECT_EQ(Bytes(c->iv.begin(), c->iv.end()), hex("91f73e2351d8fa91660e909f"));
    EXPECT_EQ(Bytes(c->hp.begin(), c->hp.end()), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    auto s = decryptor().derive_initial_keys(0x6b3343cf, view(kRfcDcid), Perspective::Server);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(Bytes(s->key.begin(), s->key.end()), hex("82db637861d55e1d011f19ea71d5d2a7"));
    EXPECT_EQ(Bytes(s->iv.begin(), s->iv.end()), hex("dd13c276499c0249d3310652"));
    EXPECT_EQ(Bytes(s->hp.begin(), s->hp.end()), hex("edf6d05c83121201b436e16877593c3a"));
}

TEST(QuicRfc9369, ClientInitialDecrypts) {
    const Bytes pkt = hex(kRfc9369ClientInitial);
    ASSERT_EQ(pkt.size(), 1200u);
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::Initial);  // type bits 0b01 in v2
    EXPECT_EQ(h->version.family, VersionFamily::V2);
    auto keys = decryptor().derive_initial_keys(0x6b3343cf, h->dcid, Perspective::Client);
    std::vector<uint8_t> out(pkt.size());
    auto o = decryptor().open(*h, *keys, out);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->first_byte, 0xd3);
    EXPECT_EQ(o->packet_number, 2u);
    EXPECT_EQ(Bytes(o->header.begin(), o->header.end()), hex("d36b3343cf088394c8f03e5157080000449e00000002"));
    Bytes expected = hex(kRfcClientCryptoFrame);
    expected.resize(1162, 0);
    EXPECT_EQ(Bytes(o->payload.begin(), o->payload.end()), expected);

    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(r.version, 0x6b3343cfu);
    EXPECT_EQ(sni_of(r.client_hello), "example.com");
}

TEST(QuicRfc9369, ServerInitialDecrypts) {
    const Bytes pkt = hex(kRfc9369ServerInitial);
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::Initial);
    auto keys = decryptor().derive_initial_keys(0x6b3343cf, view(kRfcDcid), Perspective::Server);
    std::vector<uint8_t> out(pkt.size());
    auto o = decryptor().open(*h, *keys, out);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(Bytes(o->header.begin(), o->header.end()), hex("d16b3343cf0008f067a5502a4262b50040750001"));
    EXPECT_EQ(Bytes(o->payload.begin(), o->payload.end()), hex(kRfcServerPayload));
}

TEST(QuicRfc9369, RetryUsesV2TypeBits) {
    const Bytes pkt = hex(kRfc9369Retry);
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::Retry);  // 0b00 is Retry in v2 (Initial in v1)
    EXPECT_EQ(text(h->token), "token");
    EXPECT_EQ(Bytes(h->retry_integrity_tag.begin(), h->retry_integrity_tag.end()),
              hex("c8646ce8bfe33952d955543665dcc7b6"));
}

TEST(QuicSealer, ReproducesRfc9001ClientInitial) {
    // Validates the test-only sealer used by the adversarial tests below.
    Bytes frames = hex(kRfcClientCryptoFrame);
    const Bytes sealed = seal_initial(1, view(kRfcDcid), {}, 2, view(frames), 1200);
    EXPECT_EQ(sealed, hex(kRfc9001ClientInitial));
}

// ---------------------------------------------------------------------------------------------
// Real captures (embedded datagrams)

struct SniCase {
    const char* name;
    const char* datagram;
    uint32_t version;
    const char* sni;
};

class QuicRealInitial : public ::testing::TestWithParam<SniCase> {};

TEST_P(QuicRealInitial, SingleDatagramYieldsSni) {
    const SniCase& c = GetParam();
    const Bytes pkt = hex(c.datagram);
    EXPECT_TRUE(probe(view(pkt)));
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    ASSERT_EQ(r.status, AssemblyStatus::Done) << to_string(r.error.code);
    EXPECT_EQ(r.kind, HandshakeKind::TlsClientHello);
    EXPECT_EQ(r.version, c.version);
    EXPECT_EQ(l.assembler.version(), c.version);
    ASSERT_GE(r.client_hello.size(), 4u);
    EXPECT_EQ(r.client_hello[0], 0x01);
    EXPECT_TRUE(contains(r.client_hello, c.sni));
    EXPECT_EQ(sni_of(r.client_hello), c.sni);
    EXPECT_EQ(l.assembler.anomalies() & bit(Anomaly::CryptoConflict), 0u);
    // Sticky: feeding again changes nothing.
    const FeedResult again = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(again.status, AssemblyStatus::Done);
    EXPECT_EQ(again.client_hello.data(), r.client_hello.data());
}

INSTANTIATE_TEST_SUITE_P(Captures, QuicRealInitial,
                         ::testing::Values(SniCase{"chromium_v1", kChromiumV1Initial, 0x00000001, "api.cirrus-ci.com"},
                                           SniCase{"ndpi_quic_v2", kQuicV2Initial, 0x6b3343cf, "test"},
                                           SniCase{"ndpi_draft29", kDraft29Initial, 0xff00001d, "localhost"},
                                           SniCase{"ndpi_draft27", kDraft27Initial, 0xff00001b, "play.google.com"}),
                         [](const ::testing::TestParamInfo<SniCase>& i) { return std::string(i.param.name); });

TEST(QuicReal, ChromiumHeaderFieldsAndScatteredCryptoFrames) {
    const Bytes pkt = hex(kChromiumV1Initial);
    auto d = decode(view(pkt));
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->packets.size(), 1u);
    const LongHeader& h = d->packets[0];
    EXPECT_EQ(Bytes(h.dcid.begin(), h.dcid.end()), hex("95412c47018cdfe8"));
    EXPECT_EQ(h.token.size(), 70u);
    EXPECT_EQ(h.packet.size(), 1250u);
    auto keys = decryptor().derive_initial_keys(1, h.dcid, Perspective::Client);
    std::vector<uint8_t> out(pkt.size());
    auto o = decryptor().open(h, *keys, out);
    ASSERT_TRUE(o.ok());
    auto f = parse_initial_frames(o->payload);
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->crypto.size(), 9u);  // Chromium "chaos protection"
    EXPECT_NE(f->crypto[0].offset, 0u);  // not in order
    uint64_t total = 0;
    for (const CryptoFrame& c : f->crypto) total += c.data.size();
    EXPECT_EQ(total, 574u);
}

TEST(QuicReal, QuicV2InitialCoalescedWithZeroRtt) {
    const Bytes pkt = hex(kQuicV2Initial);
    auto d = decode(view(pkt));
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->packets.size(), 2u);
    EXPECT_EQ(d->packets[0].type, PacketType::Initial);  // v2 type bits 0b01
    EXPECT_EQ(d->packets[0].token.size(), 50u);
    EXPECT_EQ(d->packets[0].packet.size(), 532u);
    EXPECT_EQ(d->packets[1].type, PacketType::ZeroRtt);  // v2 type bits 0b10
    EXPECT_EQ(d->packets[1].packet.size(), 700u);
    auto keys = decryptor().derive_initial_keys(0x6b3343cf, d->packets[0].dcid, Perspective::Client);
    std::vector<uint8_t> out(pkt.size());
    auto o = decryptor().open(d->packets[0], *keys, out);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->pn_length, 4);
    EXPECT_EQ(o->packet_number, 66029u);  // quic-go does not start at 0
}

TEST(QuicReal, ServerInitialOfChromiumFlowOpensWithServerKeys) {
    // Frame 2 answers frame 1: server keys come from the client's DCID of frame 1.
    const Bytes pkt = hex(kChromiumV1ServerInitial);
    auto d = decode(view(pkt));
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->packets.size(), 2u);
    EXPECT_EQ(d->packets[0].type, PacketType::Initial);
    EXPECT_EQ(d->packets[1].type, PacketType::Handshake);
    EXPECT_EQ(d->trailing.size(), 64u);  // coalesced short-header packet
    auto keys = decryptor().derive_initial_keys(1, view(hex("95412c47018cdfe8")), Perspective::Server);
    std::vector<uint8_t> out(pkt.size());
    auto o = decryptor().open(d->packets[0], *keys, out);
    ASSERT_TRUE(o.ok());
    auto f = parse_initial_frames(o->payload);
    ASSERT_TRUE(f.ok());
    ASSERT_FALSE(f->crypto.empty());
    EXPECT_EQ(f->crypto[0].offset, 0u);
    EXPECT_EQ(f->crypto[0].data[0], 0x02);  // ServerHello
}

TEST(QuicReal, ShortHeaderPacketsFollowTheConnectionIds) {
    // The flow layer keeps short-header QUIC apart from TURN ChannelData with the CIDs the
    // long headers announced.
    Lent l;
    const Bytes initial = hex(kChromiumV1Initial);
    const Bytes handshake = hex(kChromiumV1ClientHandshake);
    const Bytes short_header = hex(kChromiumV1ClientShortHeader);
    EXPECT_FALSE(probe(view(short_header)));
    EXPECT_EQ(l.assembler.feed(decryptor(), view(initial)).status, AssemblyStatus::Done);
    EXPECT_EQ(Bytes(l.assembler.last_dcid().begin(), l.assembler.last_dcid().end()), hex("95412c47018cdfe8"));
    // After Done the assembler ignores datagrams; a fresh one tracks the CIDs of frame 3.
    Lent m;
    const FeedResult r = m.assembler.feed(decryptor(), view(handshake));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_EQ(Bytes(m.assembler.last_dcid().begin(), m.assembler.last_dcid().end()), hex("d5412c47018cdfe8"));
    EXPECT_TRUE(m.assembler.client_scid().empty());
    EXPECT_TRUE(matches_short_header(view(short_header), m.assembler.last_dcid()));
}

TEST(QuicReal, ClientHelloOverTwoInitialsNoSni) {
    const Bytes p1 = hex(kFragsInitial1);
    const Bytes p2 = hex(kFragsInitial2);
    {
        Lent l;
        FeedResult r = l.assembler.feed(decryptor(), view(p1));
        EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
        EXPECT_EQ(l.assembler.crypto_prefix().size(), 1182u);
        EXPECT_TRUE(r.client_hello.empty());
        r = l.assembler.feed(decryptor(), view(p2));
        ASSERT_EQ(r.status, AssemblyStatus::Done);
        EXPECT_EQ(r.client_hello.size(), 1578u);
        EXPECT_EQ(l.assembler.initials_opened(), 2u);
        EXPECT_EQ(sni_of(r.client_hello), std::nullopt);
        EXPECT_TRUE(contains(r.client_hello, "hq-interop"));
        EXPECT_TRUE(contains(r.client_hello, "h3-34"));
    }
    {  // reversed arrival
        Lent l;
        EXPECT_EQ(l.assembler.feed(decryptor(), view(p2)).status, AssemblyStatus::NeedMore);
        EXPECT_TRUE(l.assembler.crypto_prefix().empty());
        const FeedResult r = l.assembler.feed(decryptor(), view(p1));
        ASSERT_EQ(r.status, AssemblyStatus::Done);
        EXPECT_EQ(r.client_hello.size(), 1578u);
    }
}

TEST(QuicReal, SuricataFragmentedClientHello) {
    const Bytes p1 = hex(kSuricataFrag1);
    const Bytes p2 = hex(kSuricataFrag2);
    for (const bool reversed : {false, true}) {
        Lent l;
        const FeedResult a = l.assembler.feed(decryptor(), view(reversed ? p2 : p1));
        EXPECT_EQ(a.status, AssemblyStatus::NeedMore);
        const FeedResult b = l.assembler.feed(decryptor(), view(reversed ? p1 : p2));
        ASSERT_EQ(b.status, AssemblyStatus::Done) << reversed;
        EXPECT_EQ(b.client_hello.size(), 1854u);
        EXPECT_EQ(sni_of(b.client_hello), "token.services.mozilla.com");
    }
    auto d = decode(view(p2));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->trailing.size(), 563u);
}

TEST(QuicReal, ZeroRttBeforeInitialIsIgnored) {
    const Bytes pkt = hex(kZeroRttBeforeInitial);
    EXPECT_TRUE(probe(view(pkt)));
    auto d = decode(view(pkt));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->packets[0].type, PacketType::ZeroRtt);
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_EQ(r.initials_opened, 0);
}

TEST(QuicReal, VersionNegotiation) {
    const Bytes pkt = hex(kVersionNegotiation);
    EXPECT_TRUE(probe(view(pkt)));
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::VersionNegotiation);
    EXPECT_TRUE(h->dcid.empty());
    EXPECT_EQ(Bytes(h->scid.begin(), h->scid.end()), hex("9d5728481287a3b4"));
    ASSERT_EQ(h->supported_versions.size(), 2u);
    EXPECT_EQ(h->supported_versions[0], 1u);
    EXPECT_EQ(h->supported_versions[1], 0x1a2a3a4au);
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_TRUE(r.saw_version_negotiation);
}

TEST(QuicReal, RetryFromServer) {
    const Bytes pkt = hex(kRetryV1);
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::Retry);
    EXPECT_EQ(h->token.size(), 128u);
    EXPECT_EQ(h->retry_integrity_tag.size(), 16u);
    Lent l;
    EXPECT_TRUE(l.assembler.feed(decryptor(), view(pkt)).saw_retry);
}

TEST(QuicReal, GQuicQ046ClearTextChlo) {
    const Bytes pkt = hex(kGQuicQ46Chlo);
    EXPECT_TRUE(probe(view(pkt)));
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->version.family, VersionFamily::GoogleQ);
    EXPECT_EQ(h->version.gquic, 46);
    EXPECT_EQ(h->type, PacketType::Initial);
    EXPECT_EQ(Bytes(h->dcid.begin(), h->dcid.end()), hex("eacfe6e706df272d"));
    EXPECT_EQ(h->gquic_pn_length, 4);
    auto c = decode_gquic_chlo(*h);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->version, 0x51303436u);
    EXPECT_EQ(text(c->sni), "play.google.com");
    EXPECT_TRUE(contains(c->uaid, "Chrome/74"));
    EXPECT_EQ(c->tag_count, 26);
    EXPECT_FALSE(c->truncated);
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(r.kind, HandshakeKind::GQuicChlo);
    EXPECT_EQ(text(r.gquic_sni), "play.google.com");
    EXPECT_EQ(l.assembler.version(), 0x51303436u);
}

TEST(QuicGQuic, LegacyQ043PublicHeaderChlo) {
    // Synthetic Q043 client packet (layout per Chromium "QUIC Wire Layout"): flags 0x09
    // (version + 8-byte CID, 1-byte packet number), CID, "Q043", pn, 12-byte hash, STREAM frame
    // 0xa0 (data length present, no offset, 1-byte stream id) on stream 1 with a 2-tag CHLO.
    const Bytes chlo =
        concat({hex("43484c4f 0200 0000"), hex("534e4900 0b000000"), hex("56455200 0f000000"),
                Bytes{'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'}, Bytes{'Q', '0', '4', '3'}});
    const Bytes pkt = concat({hex("09 0102030405060708 51303433 01"), Bytes(12, 0xee), hex("a0 01"),
                              Bytes{0, static_cast<uint8_t>(chlo.size())}, chlo, Bytes(40, 0)});
    EXPECT_TRUE(probe(view(pkt)));
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::GQuicLegacy);
    EXPECT_EQ(h->version.gquic, 43);
    auto c = decode_gquic_chlo(*h);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(text(c->sni), "example.com");
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(text(r.gquic_sni), "example.com");
}

// Legacy-header gQUIC client packet (flags 0x09, CID, version, 1-byte packet number, 12-byte
// hash) around a STREAM frame 0xa0 on stream 1 whose 2-byte data length is written
// little-endian (`le`) or big-endian; `private_flags` adds the ≤ Q033 byte after the hash.
Bytes gquic_legacy_chlo(const char* version, bool le, bool private_flags = false) {
    const Bytes chlo = concat({hex("43484c4f 0200 0000"), hex("534e4900 10000000"), hex("56455200 14000000"),
                               Bytes{'m', 'e', 'e', 't', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g'},
                               Bytes(version, version + 4)});
    const auto n = static_cast<uint8_t>(chlo.size());
    return concat({hex("09 0102030405060708"), Bytes(version, version + 4), hex("01"), Bytes(12, 0xee),
                   private_flags ? hex("00") : Bytes{}, hex("a0 01"), le ? Bytes{n, 0} : Bytes{0, n}, chlo,
                   Bytes(300, 0)});
}

TEST(QuicGQuic, Q035ToQ038StreamFieldsAreLittleEndian) {
    // Wireshark packet-gquic.c: integers little-endian before Q039 (gquic_info->encoding).
    for (const char* v : {"Q035", "Q036", "Q037", "Q038"}) {
        const Bytes pkt = gquic_legacy_chlo(v, /*le=*/true);
        EXPECT_TRUE(probe(view(pkt))) << v;
        auto h = decode_long_header(view(pkt));
        ASSERT_TRUE(h.ok()) << v;
        auto c = decode_gquic_chlo(*h);
        ASSERT_TRUE(c.ok()) << v << " " << to_string(c.code());
        EXPECT_EQ(text(c->sni), "meet.example.org") << v;
        Lent l;
        const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
        EXPECT_EQ(r.status, AssemblyStatus::Done) << v;
        EXPECT_EQ(text(r.gquic_sni), "meet.example.org") << v;
    }
    // From Q039 on the same field is big-endian.
    for (const char* v : {"Q039", "Q043"}) {
        const Bytes pkt = gquic_legacy_chlo(v, /*le=*/false);  // the header's views point into it
        auto h = decode_long_header(view(pkt));
        ASSERT_TRUE(h.ok());
        auto c = decode_gquic_chlo(*h);
        ASSERT_TRUE(c.ok()) << v;
        EXPECT_EQ(text(c->sni), "meet.example.org") << v;
    }
    // Q033: a private-flags byte follows the hash.
    const Bytes q33 = gquic_legacy_chlo("Q033", /*le=*/true, /*private_flags=*/true);
    auto h33 = decode_long_header(view(q33));
    ASSERT_TRUE(h33.ok());
    auto c33 = decode_gquic_chlo(*h33);
    ASSERT_TRUE(c33.ok());
    EXPECT_EQ(text(c33->sni), "meet.example.org");
}

TEST(QuicGQuic, AClientsNonceFlagIsNoNonce) {
    // A Q039 client's CHLO with public flags 0x0d (version, CID, and 0x04):
    // the diversification nonce is the server's alone, none follows here.
    Bytes pkt = gquic_legacy_chlo("Q039", /*le=*/false);
    pkt[0] = 0x0d;
    EXPECT_TRUE(probe(view(pkt)));
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    auto c = decode_gquic_chlo(*h);
    ASSERT_TRUE(c.ok()) << to_string(c.code());
    EXPECT_EQ(text(c->sni), "meet.example.org");
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(text(r.gquic_sni), "meet.example.org");
}

TEST(QuicGQuic, EveryPrefixOfALittleEndianChloIsSafe) {
    const Bytes pkt = gquic_legacy_chlo("Q035", true);
    for (size_t n = 0; n < pkt.size(); ++n) {
        const ByteView prefix = view(pkt).first(n);
        auto h = decode_long_header(prefix);
        if (!h.ok()) {
            EXPECT_TRUE(h.code() == DecodeErrorCode::Truncated || h.code() == DecodeErrorCode::NotThisProtocol) << n;
            continue;
        }
        auto c = decode_gquic_chlo(*h);
        if (c.ok()) {
            EXPECT_TRUE(c->sni.empty() || c->truncated || text(c->sni) == "meet.example.org") << n;
        } else {
            EXPECT_TRUE(c.code() == DecodeErrorCode::Truncated || c.code() == DecodeErrorCode::NotThisProtocol)
                << n << " " << to_string(c.code());
        }
        Lent l;
        (void)l.assembler.feed(decryptor(), prefix);
    }
}

TEST(QuicGQuic, Q050IsRecognisedNotDecrypted) {
    // Q050 adopted the 8-bit CID lengths; its Initial payload is encrypted.
    Bytes pkt = concat({hex("c3 51303530 08 0102030405060708 00 00 4020 00000001"), Bytes(60, 0x55)});
    EXPECT_TRUE(probe(view(pkt)));
    auto h = decode_long_header(view(pkt));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->version.family, VersionFamily::GoogleQ);
    EXPECT_EQ(decode_gquic_chlo(*h).code(), DecodeErrorCode::Unsupported);
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(r.status, AssemblyStatus::Failed);
    EXPECT_EQ(r.error.code, DecodeErrorCode::Unsupported);
}

// ---------------------------------------------------------------------------------------------
// probe(): accept / reject lists

TEST(QuicProbe, AcceptsQuicRejectsOtherUdp) {
    for (const char* accepted :
         {kRfc9001ClientInitial, kRfc9001ServerInitial, kRfc9001Retry, kRfc9369ClientInitial, kRfc9369Retry,
          kChromiumV1Initial, kChromiumV1ServerInitial, kQuicV2Initial, kDraft29Initial, kDraft27Initial, kGQuicQ46Chlo,
          kVersionNegotiation, kRetryV1, kZeroRttBeforeInitial}) {
        EXPECT_TRUE(probe(view(hex(accepted)))) << std::string(accepted).substr(0, 16);
    }
    const char* const rejected[] = {
        // STUN Binding Request (RFC 5769 §2.1 header)
        "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74",
        // TURN ChannelData 0x4001, 4 bytes (same first-bit pattern as a QUIC short header)
        "4001000401020304",
        // RTP v2, PT 111
        "806f1234000000010a0b0c0d000102030405060708090a0b0c0d0e0f",
        // DNS query for example.com
        "abcd01000001000000000000076578616d706c6503636f6d0000010001",
        // DTLS 1.2 ClientHello record header
        "16fefd0000000000000000006c010000600000000000000060fefd",
        // QUIC short header (1-RTT): not recognisable without flow state
        "4395412c47018cdfe8aabbccddeeff00112233445566778899aabbccdd",
        // long-header bit with an unknown version
        "c01234567808aaaaaaaaaaaaaaaa0000",
        // too short to hold a version
        "c0000000",
        // v1 long header whose DCID length exceeds 20
        "c00000000115aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0000",
        "",
    };
    for (const char* r : rejected) EXPECT_FALSE(probe(view(hex(r)))) << r;
}

TEST(QuicProbe, ShortHeaderNeedsTheFlowsConnectionId) {
    const Bytes cid = hex("95412c47018cdfe8");
    const Bytes pkt = concat({hex("43"), cid, Bytes(30, 0x11)});
    EXPECT_FALSE(probe(view(pkt)));
    EXPECT_TRUE(matches_short_header(view(pkt), view(cid)));
    EXPECT_FALSE(matches_short_header(view(pkt), view(hex("95412c47018cdfe9"))));
    EXPECT_FALSE(matches_short_header(view(hex("4001000401020304")), view(cid)));
    EXPECT_FALSE(matches_short_header(view(pkt), {}));  // zero-length CIDs cannot be matched
}

// ---------------------------------------------------------------------------------------------
// Prefixes, wrong lengths, adversarial input

TEST(QuicRobustness, EveryPrefixOfARealInitialIsTruncatedOrNotMine) {
    // Initial packets only: Retry and Version Negotiation have no Length field and run to the
    // end of the datagram, so their prefixes are (shorter) valid packets.
    for (const char* fixture :
         {kChromiumV1Initial, kRfc9001ClientInitial, kQuicV2Initial, kDraft27Initial, kFragsInitial1}) {
        const Bytes pkt = hex(fixture);
        auto whole = decode(view(pkt));
        ASSERT_TRUE(whole.ok());
        const size_t first_len = whole->packets[0].packet.size();
        for (size_t n = 0; n < pkt.size(); ++n) {
            const ByteView prefix{pkt.data(), n};
            (void)probe(prefix);
            auto d = decode(prefix);
            if (n >= first_len) {  // cut inside a coalesced packet: the first one stands
                ASSERT_TRUE(d.ok()) << n;
                EXPECT_EQ(d->anomalies & bit(Anomaly::TrailingUndecodable) ? 1u : 0u, n > first_len ? 1u : 0u) << n;
                continue;
            }
            ASSERT_FALSE(d.ok()) << n;
            EXPECT_TRUE(d.code() == DecodeErrorCode::Truncated || d.code() == DecodeErrorCode::NotThisProtocol)
                << n << " " << to_string(d.code());
            Lent l;
            const FeedResult r = l.assembler.feed(decryptor(), prefix);
            EXPECT_TRUE(r.status == AssemblyStatus::NeedMore || r.status == AssemblyStatus::NotQuic) << n;
        }
    }
}

TEST(QuicRobustness, EveryPrefixOfTheGQuicChloIsSafe) {
    // gQUIC Q046 has no Length field: a prefix is a well-formed shorter packet. The CHLO
    // decoder must then report Truncated/NotThisProtocol, or a truncated tag table whose SNI
    // is either absent or complete.
    const Bytes pkt = hex(kGQuicQ46Chlo);
    for (size_t n = 0; n < pkt.size(); ++n) {
        auto h = decode_long_header(ByteView{pkt.data(), n});
        if (!h) {
            EXPECT_TRUE(h.code() == DecodeErrorCode::Truncated || h.code() == DecodeErrorCode::NotThisProtocol) << n;
            continue;
        }
        auto c = decode_gquic_chlo(*h);
        if (c) {
            EXPECT_TRUE(c->sni.empty() || text(c->sni) == "play.google.com") << n;
        } else {
            EXPECT_TRUE(c.code() == DecodeErrorCode::Truncated || c.code() == DecodeErrorCode::NotThisProtocol) << n;
        }
    }
}

TEST(QuicRobustness, WrongLengthField) {
    Bytes pkt = hex(kRfc9001ClientInitial);
    // Length (offset 16, 2-byte varint 0x449e = 1182). Longer than the datagram: Truncated.
    pkt[16] = 0x44;
    pkt[17] = 0x9f;
    EXPECT_EQ(decode(view(pkt)).code(), DecodeErrorCode::Truncated);
    // Too short to hold a packet number and the header-protection sample: Malformed.
    pkt[16] = 0x40;
    pkt[17] = 0x13;
    EXPECT_EQ(decode(view(pkt)).code(), DecodeErrorCode::Malformed);
    // Shorter but plausible: header decodes, the rest becomes trailing, authentication fails.
    pkt[16] = 0x43;
    pkt[17] = 0xe8;  // 1000
    auto d = decode(view(pkt));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->packets[0].packet.size(), 18u + 1000u);
    auto keys = decryptor().derive_initial_keys(1, view(kRfcDcid), Perspective::Client);
    std::vector<uint8_t> out(pkt.size());
    EXPECT_EQ(decryptor().open(d->packets[0], *keys, out).code(), DecodeErrorCode::Malformed);
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_EQ(l.assembler.decrypt_failures(), 1u);
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::DecryptFailed), 0u);
    // 8-byte varint far beyond the datagram.
    Bytes huge = concat({hex("c000000001088394c8f03e51570800 00 ffffffffffffffff"), Bytes(40, 1)});
    EXPECT_EQ(decode(view(huge)).code(), DecodeErrorCode::Truncated);
    // Token length beyond the datagram.
    Bytes token = concat({hex("c000000001088394c8f03e51570800 7fff"), Bytes(40, 1)});
    EXPECT_EQ(decode(view(token)).code(), DecodeErrorCode::Truncated);
}

TEST(QuicRobustness, ConnectionIdLength255) {
    // Known version: CIDs are ≤ 20 bytes (RFC 9000 §17.2).
    Bytes v1 = concat({hex("c000000001ff"), Bytes(300, 0xab)});
    EXPECT_EQ(decode(view(v1)).code(), DecodeErrorCode::Malformed);
    EXPECT_FALSE(probe(view(v1)));
    Bytes scid = concat({hex("c00000000100ff"), Bytes(300, 0xab)});
    EXPECT_EQ(decode(view(scid)).code(), DecodeErrorCode::Malformed);
    // Reserved version: the invariants allow 255 (RFC 8999 §5.1).
    Bytes grease = concat({hex("c01a2a3a4aff"), Bytes(255, 0xab), hex("00"), Bytes(20, 0)});
    auto h = decode_long_header(view(grease));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->dcid.size(), 255u);
    EXPECT_EQ(h->type, PacketType::Unknown);
    EXPECT_TRUE(probe(view(grease)));
    // … and declared 255 with fewer bytes present is Truncated.
    Bytes short_grease = concat({hex("c01a2a3a4aff"), Bytes(100, 0xab)});
    EXPECT_EQ(decode(view(short_grease)).code(), DecodeErrorCode::Truncated);
}

TEST(QuicRobustness, OldDraftsAreRecognisedButUnsupported) {
    Bytes d21 = concat({hex("c3ff00001555"), Bytes(40, 0)});
    EXPECT_TRUE(probe(view(d21)));
    EXPECT_EQ(decode(view(d21)).code(), DecodeErrorCode::Unsupported);
}

TEST(QuicFrames, AdversarialFrameFields) {
    // CRYPTO offset + length beyond 2^62 − 1.
    EXPECT_EQ(parse_initial_frames(view(hex("06 ffffffffffffffff 01 aa"))).code(), DecodeErrorCode::Malformed);
    // CRYPTO length beyond the plaintext.
    EXPECT_EQ(parse_initial_frames(view(hex("06 00 10 aabb"))).code(), DecodeErrorCode::Truncated);
    // ACK whose range count cannot fit.
    EXPECT_EQ(parse_initial_frames(view(hex("02 00 00 bfffffff 00 0000"))).code(), DecodeErrorCode::Truncated);
    // ACK with ECN counts, PING, CONNECTION_CLOSE with a reason.
    const Bytes mixed = hex("03 05 00 01 00 01 01 01 02 03 01 1c 0a 06 03 626164 0000");
    auto f = parse_initial_frames(view(mixed));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->ack_frames, 1);
    EXPECT_EQ(f->ping_frames, 1);
    EXPECT_TRUE(f->connection_close);
    EXPECT_EQ(f->close_error_code, 0x0au);
    EXPECT_EQ(text(f->close_reason), "bad");
    EXPECT_EQ(f->padding_bytes, 2u);
    // CONNECTION_CLOSE reason beyond the plaintext.
    EXPECT_EQ(parse_initial_frames(view(hex("1d 00 20 aa"))).code(), DecodeErrorCode::Truncated);
    // A STREAM frame is not allowed in Initial: parsing stops, earlier frames are kept.
    const Bytes stream = hex("06 00 02 0102 08 00 01 ff");
    auto s = parse_initial_frames(view(stream));
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s->stopped_on_unknown);
    EXPECT_EQ(s->unknown_frame_type, 0x08u);
    EXPECT_EQ(s->crypto.size(), 1u);
    EXPECT_NE(s->anomalies & bit(Anomaly::UnknownFrame), 0u);
    // Every prefix of a frame sequence is Truncated or fine.
    const Bytes seq = hex("06 4001 4010 " + std::string(32, 'a') + " 02 00 00 01 00 0101");
    for (size_t n = 0; n < seq.size(); ++n) {
        auto p = parse_initial_frames(ByteView{seq.data(), n});
        EXPECT_TRUE(p.ok() || p.code() == DecodeErrorCode::Truncated) << n;
    }
}

TEST(QuicAssembler, OutOfOrderAndOverlappingCryptoFrames) {
    const Bytes ch = fake_client_hello(2500);  // spans two packets
    const Bytes dcid = hex("0011223344556677");
    const ByteView c{ch};
    // Packet A: [1500, 2504) then [700, 1600) (overlap 1500..1600, same bytes).
    const Bytes a = concat({crypto_frame(1500, c.subspan(1500)), crypto_frame(700, c.subspan(700, 900))});
    // Packet B: [0, 800) (overlap 700..800).
    const Bytes b = crypto_frame(0, c.first(800));
    Lent l;
    FeedResult r = l.assembler.feed(decryptor(), view(seal_initial(1, view(dcid), {}, 0, view(a))));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_EQ(r.initials_opened, 1);
    r = l.assembler.feed(decryptor(), view(seal_initial(1, view(dcid), {}, 1, view(b))));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(Bytes(r.client_hello.begin(), r.client_hello.end()), ch);
    EXPECT_EQ(l.assembler.anomalies() & bit(Anomaly::CryptoConflict), 0u);
}

TEST(QuicAssembler, ConflictingOverlapKeepsFirstCopy) {
    const Bytes ch = fake_client_hello(300);
    Bytes evil(ch.begin() + 100, ch.begin() + 200);
    for (uint8_t& x : evil) x ^= 0xff;
    const Bytes dcid = hex("a1a2a3a4a5a6a7a8");
    const ByteView c{ch};
    const Bytes frames = concat({crypto_frame(100, c.subspan(100, 100)), crypto_frame(100, view(evil)),
                                 crypto_frame(0, c.first(100)), crypto_frame(200, c.subspan(200))});
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(seal_initial(1, view(dcid), {}, 0, view(frames))));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(Bytes(r.client_hello.begin(), r.client_hello.end()), ch);
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::CryptoConflict), 0u);
}

TEST(QuicAssembler, HugeOffsetsAndTooManyHoles) {
    const Bytes dcid = hex("b1b2b3b4b5b6b7b8");
    const Bytes one = hex("01");
    Bytes frames = crypto_frame(uint64_t{1} << 40, view(one));  // far beyond the buffer
    for (uint64_t i = 0; i < kMaxCryptoRanges + 4; ++i) {
        frames = concat({frames, crypto_frame(100 + 10 * i, view(one))});  // a hole each
    }
    Lent l;
    FeedResult r = l.assembler.feed(decryptor(), view(seal_initial(1, view(dcid), {}, 0, view(frames))));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::CryptoBeyondBuffer), 0u);
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::CryptoRangesOverflow), 0u);
    // The held ranges still complete into a ClientHello once the gaps are filled.
    const Bytes ch = fake_client_hello(400);
    Bytes fill = crypto_frame(0, view(ch));
    r = l.assembler.feed(decryptor(), view(seal_initial(1, view(dcid), {}, 1, view(fill))));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    // First copy wins: the one-byte frames at 100, 110, … hold 0x01 where ch differs.
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::CryptoConflict), 0u);
}

TEST(QuicAssembler, FirstMessageNotClientHelloFails) {
    const Bytes dcid = hex("c1c2c3c4c5c6c7c8");
    const Bytes sh = hex("020000040303aabb");
    const Bytes frames = crypto_frame(0, view(sh));
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(seal_initial(1, view(dcid), {}, 0, view(frames))));
    EXPECT_EQ(r.status, AssemblyStatus::Failed);
    EXPECT_EQ(r.error.code, DecodeErrorCode::Malformed);
}

TEST(QuicAssembler, ClientHelloLargerThanBufferFails) {
    std::vector<uint8_t> small(1024);
    ClientInitialAssembler a{std::span<uint8_t>{small}};
    const Bytes dcid = hex("d1d2d3d4d5d6d7d8");
    const Bytes ch = fake_client_hello(2000);
    const Bytes frames = crypto_frame(0, ByteView{ch}.first(900));
    const FeedResult r = a.feed(decryptor(), view(seal_initial(1, view(dcid), {}, 0, view(frames))));
    EXPECT_EQ(r.status, AssemblyStatus::Failed);
    EXPECT_EQ(r.error.code, DecodeErrorCode::Unsupported);
}

TEST(QuicAssembler, LaterInitialWithServerChosenDcidKeepsOriginalKeys) {
    // RFC 9001 §5.2: after the server's first Initial the client addresses the server's CID but
    // keeps the keys of its original DCID.
    const Bytes odcid = hex("e1e2e3e4e5e6e7e8");
    const Bytes server_cid = hex("f1f2f3f4");
    const Bytes ch = fake_client_hello(1500);
    const ByteView c{ch};
    const Bytes f1 = crypto_frame(0, c.first(1000));
    const Bytes f2 = crypto_frame(1000, c.subspan(1000));
    Lent l;
    EXPECT_EQ(l.assembler.feed(decryptor(), view(seal_initial(1, view(odcid), {}, 0, view(f1)))).status,
              AssemblyStatus::NeedMore);
    const FeedResult r =
        l.assembler.feed(decryptor(), view(seal_initial(1, view(server_cid), {}, 1, view(f2), 1200, view(odcid))));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(Bytes(l.assembler.original_dcid().begin(), l.assembler.original_dcid().end()), odcid);
    EXPECT_EQ(l.assembler.anomalies() & bit(Anomaly::ConnectionRestarted), 0u);
}

TEST(QuicAssembler, NewAttemptAfterRetryRestartsReassembly) {
    const Bytes first_dcid = hex("0102030405060708");
    const Bytes retry_dcid = hex("1112131415161718191a");
    const Bytes ch = fake_client_hello(1500);
    const ByteView c{ch};
    const Bytes part = crypto_frame(0, c.first(1000));
    const Bytes whole1 = crypto_frame(0, c.first(1100));
    const Bytes whole2 = crypto_frame(1100, c.subspan(1100));
    Lent l;
    (void)l.assembler.feed(decryptor(), view(seal_initial(1, view(first_dcid), {}, 0, view(part))));
    EXPECT_EQ(l.assembler.crypto_prefix().size(), 1000u);
    // New attempt: keys from the new DCID; old CRYPTO bytes are dropped.
    FeedResult r = l.assembler.feed(decryptor(), view(seal_initial(1, view(retry_dcid), {}, 1, view(whole1))));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::ConnectionRestarted), 0u);
    EXPECT_EQ(l.assembler.crypto_prefix().size(), 1100u);
    r = l.assembler.feed(decryptor(), view(seal_initial(1, view(retry_dcid), {}, 2, view(whole2))));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(Bytes(l.assembler.original_dcid().begin(), l.assembler.original_dcid().end()), retry_dcid);
}

TEST(QuicAssembler, CoalescedInitialAndZeroRtt) {
    const Bytes dcid = hex("2122232425262728");
    const Bytes ch = fake_client_hello(200);
    const Bytes frames = crypto_frame(0, view(ch));
    Bytes initial = seal_initial(1, view(dcid), {}, 0, view(frames), 400);
    // A 0-RTT packet with the same DCID after it (payload opaque), then zero padding.
    Bytes zero_rtt = concat({hex("d0 00000001 08"), dcid, hex("00 4020"), Bytes(32, 0x77)});
    Bytes datagram = concat({initial, zero_rtt, Bytes(800, 0)});
    auto d = decode(view(datagram));
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->packets.size(), 2u);
    EXPECT_EQ(d->packets[1].type, PacketType::ZeroRtt);
    EXPECT_EQ(d->trailing.size(), 800u);
    EXPECT_EQ(d->anomalies, 0u);
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(datagram));
    EXPECT_EQ(r.packets, 2);
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_EQ(r.client_hello.size(), ch.size());
}

TEST(QuicAssembler, NotQuicOnlyBeforeTheFlowShowedQuic) {
    Lent l;
    const Bytes stun = hex("000100002112a442b7e7a701bc34d686fa87dfae");
    EXPECT_EQ(l.assembler.feed(decryptor(), view(stun)).status, AssemblyStatus::NotQuic);
    const Bytes chromium = hex(kChromiumV1Initial);
    const Bytes frags = hex(kFragsInitial1);
    EXPECT_EQ(l.assembler.feed(decryptor(), view(frags)).status, AssemblyStatus::NeedMore);
    // Now a short-header datagram is just "more".
    EXPECT_EQ(l.assembler.feed(decryptor(), view(hex("43aabbccdd"))).status, AssemblyStatus::NeedMore);
    // An Initial with another DCID that opens with its own keys is a new attempt (as after a
    // Retry): reassembly restarts.
    const FeedResult r = l.assembler.feed(decryptor(), view(chromium));
    EXPECT_EQ(r.status, AssemblyStatus::Done);
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::ConnectionRestarted), 0u);
    l.assembler.reset();
    EXPECT_EQ(l.assembler.status(), AssemblyStatus::NeedMore);
    EXPECT_EQ(l.assembler.anomalies(), 0u);
    EXPECT_TRUE(l.assembler.crypto_prefix().empty());
}

TEST(QuicAssembler, ReservedVersionWaitsForNegotiation) {
    // tcpdump__quic_vn.pcap frame 1 pattern: an Initial with version 0x1a2a3a4a whose payload
    // is not a v1 Initial: v1 keys are tried, the tag fails, the flow waits for the retry.
    Bytes grease = concat({hex("c71a2a3a4a08 9d5728481287a3b4 00 00 449e"), Bytes(1200, 0x5a)});
    auto h = decode_long_header(view(grease));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->type, PacketType::Initial);  // v1 layout fits
    EXPECT_EQ(h->packet.size(), 6u + 8 + 1 + 1 + 2 + 0x049e);
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(grease));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_EQ(r.error.code, DecodeErrorCode::Malformed);  // authentication failed
    EXPECT_EQ(l.assembler.decrypt_failures(), 1u);
    EXPECT_EQ(l.assembler.initials_opened(), 0u);
    // A reserved-version packet that is no v1 Initial stays Unknown (type bits 01).
    Bytes other = concat({hex("d71a2a3a4a08 9d5728481287a3b4 00 00 449e"), Bytes(1200, 0x5a)});
    auto o = decode_long_header(view(other));
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->type, PacketType::Unknown);
    Lent l2;
    EXPECT_EQ(l2.assembler.feed(decryptor(), view(other)).error.code, DecodeErrorCode::Unsupported);
}

// Google QUIC T05x Initial frames: the IETF CRYPTO frame of kRfcClientCryptoFrame with the gQUIC
// CRYPTO type 0x08 (same varint offset/length layout).
Bytes gquic_crypto_frames() {
    Bytes f = hex(kRfcClientCryptoFrame);
    f[0] = 0x08;
    return f;
}

TEST(QuicReserved, GreaseVersionInitialOpensWithV1Keys) {
    // Wireshark (packet-quic.c quic_draft_version) maps 0x?a?a?a?a to v1 and decrypts such
    // Initials; a client probing Version Negotiation sends its v1 Initial under that number.
    const Bytes frames = hex(kRfcClientCryptoFrame);
    const Bytes pkt =
        seal_initial(0x1a2a3a4a, view(kRfcDcid), hex("0102"), 0, view(frames), 1200, {}, /*key_version=*/1);
    EXPECT_TRUE(probe(view(pkt)));
    auto d = decode(view(pkt));
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->packets.size(), 1u);
    EXPECT_EQ(d->packets[0].type, PacketType::Initial);
    EXPECT_EQ(d->packets[0].packet.size(), pkt.size());
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    ASSERT_EQ(r.status, AssemblyStatus::Done) << to_string(r.error.code);
    EXPECT_EQ(r.version, 0x1a2a3a4au);  // the version as seen
    EXPECT_EQ(l.assembler.version(), 0x1a2a3a4au);
    EXPECT_EQ(sni_of(r.client_hello), "example.com");

    // tshark 4.0 maps reserved versions to draft-29 instead (salt afbfec28…): found as well.
    const Bytes d29 = seal_initial(0xfafafafa, view(kRfcDcid), {}, 0, view(frames), 1200, {},
                                   /*key_version=*/0xff00001d);
    Lent l29;
    const FeedResult r29 = l29.assembler.feed(decryptor(), view(d29));
    ASSERT_EQ(r29.status, AssemblyStatus::Done) << to_string(r29.error.code);
    EXPECT_EQ(r29.version, 0xfafafafau);
    EXPECT_EQ(sni_of(r29.client_hello), "example.com");
}

TEST(QuicGoogleT, InitialKeysUseTheT05xSalts) {
    // Expected values computed with tools/gen_captures.py quic_initial_keys() (Python hmac +
    // the salts of Wireshark packet-quic.c), DCID of RFC 9001 Appendix A.
    struct Case {
        uint32_t version;
        const char* key;
        const char* iv;
        const char* hp;
    };
    for (const Case& c : {Case{0x54303530, "80ab8e0313d2c851aaff5405824a916a", "aedd2abe20b9eff2116e4429",
                               "d3a731204b1c81e9644f91bd062633a9"},
                          Case{0x54303531, "e66b805440a16d39f1889b2726d1cc5c", "efdd37eda34f2f7080bb140c",
                               "34ebf45dc367d3502a9fe09cfd3fd9f6"}}) {
        auto k = decryptor().derive_initial_keys(c.version, view(kRfcDcid), Perspective::Client);
        ASSERT_TRUE(k.ok()) << std::hex << c.version;
        EXPECT_EQ(Bytes(k->key.begin(), k->key.end()), hex(c.key));
        EXPECT_EQ(Bytes(k->iv.begin(), k->iv.end()), hex(c.iv));
        EXPECT_EQ(Bytes(k->hp.begin(), k->hp.end()), hex(c.hp));
    }
    EXPECT_EQ(decryptor().derive_initial_keys(0x51303530, view(kRfcDcid), Perspective::Client).code(),
              DecodeErrorCode::Unsupported);  // Q050: not handled
}

TEST(QuicGoogleT, T050AndT051InitialsYieldTheClientHello) {
    for (uint32_t version : {0x54303530u, 0x54303531u}) {
        const Bytes frames = concat({hex("07"), gquic_crypto_frames()});  // PING, CRYPTO
        const Bytes pkt = seal_initial(version, view(kRfcDcid), hex("0a0b0c0d"), 0, view(frames));
        EXPECT_TRUE(probe(view(pkt)));
        Lent l;
        const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
        ASSERT_EQ(r.status, AssemblyStatus::Done) << std::hex << version;
        EXPECT_EQ(r.kind, HandshakeKind::TlsClientHello);
        EXPECT_EQ(r.version, version);
        EXPECT_EQ(sni_of(r.client_hello), "example.com");
        EXPECT_EQ(l.assembler.initials_opened(), 1u);
    }
}

TEST(QuicGoogleT, IetfFrameTypesAreNotGQuicOnes) {
    // In a T050 Initial 0x06 is gQUIC STOP_WAITING, not CRYPTO: parsing stops, no hello.
    const Bytes frames = hex(kRfcClientCryptoFrame);
    const Bytes pkt = seal_initial(0x54303530, view(kRfcDcid), {}, 0, view(frames));
    Lent l;
    const FeedResult r = l.assembler.feed(decryptor(), view(pkt));
    EXPECT_EQ(r.status, AssemblyStatus::NeedMore);
    EXPECT_NE(l.assembler.anomalies() & bit(Anomaly::UnknownFrame), 0u);
}

TEST(QuicGoogleT, GQuicFrameParser) {
    const Bytes crypto = gquic_crypto_frames();
    // PING, CRYPTO, then PADDING that swallows the rest (even non-zero bytes).
    const Bytes plain = concat({hex("07"), crypto, hex("00 00 00 ff 01")});
    auto f = parse_gquic_initial_frames(view(plain));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->ping_frames, 1u);
    ASSERT_EQ(f->crypto.size(), 1u);
    EXPECT_EQ(f->crypto[0].offset, 0u);
    EXPECT_EQ(f->crypto[0].data.size(), crypto.size() - 4);  // type + 1-byte offset + 2-byte length
    EXPECT_EQ(f->padding_bytes, 5u);
    EXPECT_FALSE(f->stopped_on_unknown);
    // Every prefix: Truncated inside the CRYPTO frame, never a crash or an overread.
    for (size_t n = 0; n <= plain.size(); ++n) {
        auto p = parse_gquic_initial_frames(view(plain).first(n));
        if (n > 1 && n < 1 + crypto.size()) {
            EXPECT_EQ(p.code(), DecodeErrorCode::Truncated) << n;
        } else {
            EXPECT_TRUE(p.ok()) << n;
        }
    }
    // An ACK (0x40) stops parsing; a CRYPTO length past the end is Truncated; a huge offset is
    // Malformed.
    auto ack = parse_gquic_initial_frames(hex("40 01 02"));
    ASSERT_TRUE(ack.ok());
    EXPECT_TRUE(ack->stopped_on_unknown);
    EXPECT_EQ(ack->unknown_frame_type, 0x40u);
    EXPECT_EQ(parse_gquic_initial_frames(hex("08 00 44 00 01 02")).code(), DecodeErrorCode::Truncated);
    EXPECT_EQ(parse_gquic_initial_frames(hex("08 ff ff ff ff ff ff ff ff 01 aa")).code(), DecodeErrorCode::Malformed);
}

TEST(QuicRobustness, EveryPrefixOfGreaseAndT05xInitialsIsSafe) {
    const Bytes ietf = hex(kRfcClientCryptoFrame);
    const Bytes gq = gquic_crypto_frames();
    const std::vector<Bytes> pkts = {
        seal_initial(0x1a2a3a4a, view(kRfcDcid), {}, 0, view(ietf), 1200, {}, 1),
        seal_initial(0x54303530, view(kRfcDcid), {}, 0, view(gq)),
        seal_initial(0x54303531, view(kRfcDcid), {}, 0, view(gq)),
    };
    for (const Bytes& pkt : pkts) {
        for (size_t n = 0; n < pkt.size(); ++n) {
            const ByteView prefix = view(pkt).first(n);
            auto h = decode_long_header(prefix);
            if (!h.ok()) {
                EXPECT_TRUE(h.code() == DecodeErrorCode::Truncated || h.code() == DecodeErrorCode::NotThisProtocol)
                    << n << " " << to_string(h.code());
            } else {
                // Reserved versions fall back to the invariants when the v1 Length does not fit.
                EXPECT_EQ(h->version.family, VersionFamily::Reserved) << n;
                EXPECT_EQ(h->type, PacketType::Unknown) << n;
            }
            Lent l;
            const FeedResult r = l.assembler.feed(decryptor(), prefix);
            EXPECT_NE(r.status, AssemblyStatus::Done) << n;
        }
    }
}

TEST(QuicDecryptor, NoOpenSslAllocationAfterConstruction) {
    if (!g_alloc_hook_installed) GTEST_SKIP() << "OpenSSL was used before the hook could be set";
    {  // the hook sees OpenSSL's allocations: building a Decryptor makes some
        const long at_start = g_openssl_allocs;
        Decryptor fresh;
        EXPECT_TRUE(fresh.ok());
        EXPECT_GT(g_openssl_allocs, at_start);
    }
    Decryptor& d = decryptor();
    ASSERT_TRUE(d.ok());
    const Bytes chromium = hex(kChromiumV1Initial);
    const Bytes p1 = hex(kSuricataFrag1);
    const Bytes p2 = hex(kSuricataFrag2);
    Lent warm;
    (void)warm.assembler.feed(d, view(chromium));  // warm-up (lazy OpenSSL init, if any)
    const long before = g_openssl_allocs;
    for (int i = 0; i < 20; ++i) {
        Lent l;
        (void)l.assembler.feed(d, view(chromium));
        Lent s;
        (void)s.assembler.feed(d, view(p1));
        (void)s.assembler.feed(d, view(p2));
        EXPECT_EQ(s.assembler.status(), AssemblyStatus::Done);
    }
    EXPECT_EQ(g_openssl_allocs - before, 0);
}

#ifdef CALLWALL_QUIC_TEST_HAS_TLS
TEST(QuicTls, ReassembledClientHelloDecodesToSni) {
    Lent l;
    const Bytes p1 = hex(kSuricataFrag1);
    const Bytes p2 = hex(kSuricataFrag2);
    (void)l.assembler.feed(decryptor(), view(p1));
    const FeedResult r = l.assembler.feed(decryptor(), view(p2));
    ASSERT_EQ(r.status, AssemblyStatus::Done);
    auto ch = tls::decode_client_hello(r.client_hello);
    ASSERT_TRUE(ch.ok()) << to_string(ch.code());
    EXPECT_EQ(text(ch->server_name), "token.services.mozilla.com");
    ASSERT_FALSE(ch->alpn.empty());
    EXPECT_EQ(text(ch->alpn[0]), "h3");
    EXPECT_TRUE(ch->tls13);

    Lent v2;
    const Bytes pv2 = hex(kQuicV2Initial);
    const FeedResult r2 = v2.assembler.feed(decryptor(), view(pv2));
    ASSERT_EQ(r2.status, AssemblyStatus::Done);
    auto ch2 = tls::decode_client_hello(r2.client_hello);
    ASSERT_TRUE(ch2.ok());
    EXPECT_EQ(text(ch2->server_name), "test");
}
#endif

// ---------------------------------------------------------------------------------------------
// Capture-driven: every UDP datagram of the public QUIC captures, per flow, client side.
// A minimal pcap/pcapng reader keeps this test free of libpcap.

struct UdpDatagram {
    uint32_t frame = 0;
    std::string src;  // "addr:port" (address bytes in hex)
    std::string dst;
    Bytes payload;
};

bool read_file(const std::string& path, Bytes& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

std::string endpoint(ByteView addr, uint16_t port) {
    std::string s;
    static const char* digits = "0123456789abcdef";
    for (uint8_t b : addr) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s + ":" + std::to_string(port);
}

// Link layer → IPv4/IPv6 → UDP (no IP fragments, no IPv6 extension headers).
void parse_frame(uint32_t frame, uint32_t linktype, ByteView data, bool loop_le, std::vector<UdpDatagram>& out) {
    Reader r{data};
    uint16_t ethertype = 0;
    switch (linktype) {
        case 1:  // Ethernet
            r.skip(12);
            ethertype = r.u16();
            while (ethertype == 0x8100 || ethertype == 0x88a8) {
                r.skip(2);
                ethertype = r.u16();
            }
            break;
        case 113:  // Linux cooked v1
            r.skip(14);
            ethertype = r.u16();
            break;
        case 0: {  // BSD loopback: address family in the capturing host's byte order
            const ByteView fam = r.bytes(4);
            if (!r.ok()) return;
            const uint32_t f = loop_le ? fam[0] | (fam[1] << 8) : (fam[2] << 8) | fam[3];
            ethertype = f == 2 ? 0x0800 : (f == 24 || f == 28 || f == 30) ? 0x86dd : 0;
            break;
        }
        case 101:
        case 12:  // raw IP
            ethertype = (load_u8(data, 0) >> 4) == 6 ? 0x86dd : 0x0800;
            break;
        default: return;
    }
    ByteView src, dst;
    Reader l4;
    if (ethertype == 0x0800) {
        const uint8_t vihl = r.u8();
        r.skip(1);
        const uint16_t total = r.u16();
        r.skip(2);
        const uint16_t frag = r.u16();
        r.skip(1);
        const uint8_t proto = r.u8();
        r.skip(2);
        src = r.bytes(4);
        dst = r.bytes(4);
        r.skip(((vihl & 15u) * 4u) - 20u);
        if (!r.ok() || proto != 17 || (frag & 0x3fff) != 0 || total < (vihl & 15u) * 4u) return;
        l4 = r.sub(std::min<size_t>(total - (vihl & 15u) * 4u, r.remaining()));
    } else if (ethertype == 0x86dd) {
        r.skip(4);
        const uint16_t plen = r.u16();
        const uint8_t next = r.u8();
        r.skip(1);
        src = r.bytes(16);
        dst = r.bytes(16);
        if (!r.ok() || next != 17) return;
        l4 = r.sub(std::min<size_t>(plen, r.remaining()));
    } else {
        return;
    }
    const uint16_t sport = l4.u16();
    const uint16_t dport = l4.u16();
    const uint16_t ulen = l4.u16();
    l4.skip(2);
    if (!l4.ok() || ulen < 8) return;
    const ByteView payload = l4.bytes(std::min<size_t>(ulen - 8u, l4.remaining()));
    out.push_back({frame, endpoint(src, sport), endpoint(dst, dport), Bytes(payload.begin(), payload.end())});
}

std::vector<UdpDatagram> read_capture(const std::string& path) {
    std::vector<UdpDatagram> out;
    Bytes f;
    if (!read_file(path, f) || f.size() < 24) return out;
    const auto u32 = [&f](size_t off, bool le) -> uint32_t {
        if (off + 4 > f.size()) return 0;
        return le ? f[off] | (f[off + 1] << 8) | (f[off + 2] << 16) | (uint32_t{f[off + 3]} << 24)
                  : (uint32_t{f[off]} << 24) | (f[off + 1] << 16) | (f[off + 2] << 8) | f[off + 3];
    };
    const auto u16 = [&f](size_t off, bool le) -> uint32_t {
        if (off + 2 > f.size()) return 0;
        return le ? f[off] | (f[off + 1] << 8) : (f[off] << 8) | f[off + 1];
    };
    uint32_t frame = 0;
    const uint32_t magic = u32(0, true);
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d || magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
        const bool le = magic == 0xa1b2c3d4 || magic == 0xa1b23c4d;
        const uint32_t linktype = u32(20, le);
        size_t off = 24;
        while (off + 16 <= f.size()) {
            const uint32_t incl = u32(off + 8, le);
            off += 16;
            if (incl > f.size() - off) break;
            parse_frame(++frame, linktype, ByteView{f.data() + off, incl}, le, out);
            off += incl;
        }
    } else if (magic == 0x0a0d0d0a) {
        bool le = true;
        std::vector<uint32_t> linktypes;
        size_t off = 0;
        while (off + 12 <= f.size()) {
            const uint32_t type = u32(off, le);
            if (type == 0x0a0d0d0a) {
                le = u32(off + 8, true) == 0x1a2b3c4d;
                linktypes.clear();
            }
            const uint32_t len = u32(off + 4, le);
            if (len < 12 || len > f.size() - off) break;
            if (type == 1) {
                linktypes.push_back(u16(off + 8, le));
            } else if (type == 6 && len >= 32) {
                const uint32_t iface = u32(off + 8, le);
                const uint32_t cap = u32(off + 20, le);
                if (iface < linktypes.size() && cap <= len - 32) {
                    parse_frame(++frame, linktypes[iface], ByteView{f.data() + off + 28, cap}, le, out);
                } else {
                    ++frame;
                }
            } else if (type == 3 && !linktypes.empty()) {
                parse_frame(++frame, linktypes[0], ByteView{f.data() + off + 12, len - 16}, le, out);
            }
            off += len;
        }
    }
    return out;
}

std::string shared_dir() {
#ifdef CALLWALL_SHARED_DIR
    return CALLWALL_SHARED_DIR;
#else
    return {};
#endif
}

struct CaptureExpectation {
    const char* file;
    // ClientHellos found, one entry per flow: the SNI, or "-" for a hello without one.
    std::multiset<std::string> tls_snis;
    // gQUIC CHLOs found: the SNI tag, or "-" without one.
    std::multiset<std::string> gquic_snis;
};

// Expected values follow each capture's .truth.json (tshark 4.0.17), except where noted.
const CaptureExpectation kCaptureExpectations[] = {
    {"ndpi__quic-v2.pcapng", {"test"}, {}},
    {"ndpi__quic-29.pcap", {"localhost"}, {}},  // tshark: 2 hellos in one flow (after Retry)
    {"ndpi__quic-27.pcap", {"play.google.com"}, {}},
    {"zeek__chromium-115.0.5790.110-api-cirrus-com.pcap", {"api.cirrus-ci.com"}, {}},
    {"ndpi__quic_frags_ch_in_multiple_packets.pcapng", {"-"}, {}},
    {"suricata-verify__quic-frag__input.pcap", {"token.services.mozilla.com"}, {}},
    {"ndpi__quic_0RTT.pcap", {"abcd", "ssl.gstatic.com"}, {}},
    {"ndpi__quic_q46.pcap", {}, {"play.google.com"}},
    {"ndpi__snapchat_call.pcapng", {}, {"-"}},  // Q046 CHLO without SNI (nDPI: Missing SNI)
    {"tcpdump__quic_retry.pcap", {"localhost"}, {}},
    // tshark decrypts no hello here; the v1 Initial after Version Negotiation opens fine.
    {"tcpdump__quic_vn.pcap", {"localhost"}, {}},
    {"ndpi__quic_crypto_aes_auth_size.pcap", {"app-analytics-v2.snapchat.com", "gcp.api.snapchat.com"}, {}},
    {"ndpi__google_meet.pcapng", {"meet.google.com"}, {}},
    {"ndpi__doq.pcapng", {"-"}, {}},
    {"zeek__curl-8.1.2-dev-http3-www-google-de.pcap", {"www.google.de"}, {}},
};

class QuicCapture : public ::testing::TestWithParam<CaptureExpectation> {};

TEST_P(QuicCapture, ClientHellosPerFlow) {
    const std::string dir = shared_dir();
    if (dir.empty()) GTEST_SKIP() << "CALLWALL_SHARED_DIR not defined";
    const std::string path = dir + "/captures/public/" + GetParam().file;
    if (!std::ifstream(path)) GTEST_SKIP() << path << " not present";
    const std::vector<UdpDatagram> datagrams = read_capture(path);
    ASSERT_FALSE(datagrams.empty()) << path;

    struct Flow {
        std::string client;
        std::unique_ptr<Lent> lent = std::make_unique<Lent>();
        bool finished = false;
    };
    std::map<std::string, Flow> flows;
    std::multiset<std::string> tls_snis, gquic_snis;
    for (const UdpDatagram& d : datagrams) {
        const std::string key = std::min(d.src, d.dst) + "|" + std::max(d.src, d.dst);
        auto it = flows.find(key);
        if (it == flows.end()) {
            if (!probe(view(d.payload))) continue;  // the flow starts with its first QUIC packet
            it = flows.emplace(key, Flow{d.src}).first;
        }
        Flow& f = it->second;
        if (f.finished || d.src != f.client) continue;
        const FeedResult r = f.lent->assembler.feed(decryptor(), view(d.payload));
        if (r.status == AssemblyStatus::Done) {
            f.finished = true;
            if (r.kind == HandshakeKind::GQuicChlo) {
                gquic_snis.insert(r.gquic_sni.empty() ? "-" : text(r.gquic_sni));
            } else {
                tls_snis.insert(sni_of(r.client_hello).value_or("-"));
#ifdef CALLWALL_QUIC_TEST_HAS_TLS
                auto ch = tls::decode_client_hello(r.client_hello);
                EXPECT_TRUE(ch.ok()) << "frame " << d.frame;
                if (ch) {
                    EXPECT_EQ(text(ch->server_name), sni_of(r.client_hello).value_or(""));
                }
#endif
            }
        } else if (r.status == AssemblyStatus::Failed) {
            f.finished = true;
            ADD_FAILURE() << GetParam().file << " frame " << d.frame << " failed: " << to_string(r.error.code);
        }
    }
    EXPECT_EQ(tls_snis, GetParam().tls_snis);
    EXPECT_EQ(gquic_snis, GetParam().gquic_snis);
}

INSTANTIATE_TEST_SUITE_P(Public, QuicCapture, ::testing::ValuesIn(kCaptureExpectations),
                         [](const ::testing::TestParamInfo<CaptureExpectation>& i) {
                             std::string n = i.param.file;
                             for (char& c : n) {
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             }
                             return n;
                         });

// No datagram of these non-QUIC captures (STUN/TURN, RTP, DNS, calling apps) may probe as QUIC.
TEST(QuicCaptureProbe, NonQuicCapturesNeverProbe) {
    const std::string dir = shared_dir();
    if (dir.empty()) GTEST_SKIP() << "CALLWALL_SHARED_DIR not defined";
    size_t checked = 0;
    for (const char* file :
         {"ndpi__stun.pcap", "ndpi__stun_google_meet.pcapng", "ndpi__stun_wa_call.pcapng", "ndpi__stun_zoom.pcapng",
          "ndpi__stun_msteams_unidir.pcapng", "ndpi__rtp.pcapng", "ndpi__zoom2.pcap", "ndpi__zoom_p2p.pcapng",
          "ndpi__wa_voice.pcap", "ndpi__telegram_videocall.pcapng", "ndpi__skype-conference-call.pcap",
          "ndpi__discord.pcap", "ndpi__viber.pcap", "ndpi__signal.pcap", "ndpi__FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
          "arkime__stun-ice-testcall.pcap", "arkime__dns-wiresharkrepo.pcap", "zeek__dns-edns-ecs.pcap"}) {
        const std::string path = dir + "/captures/public/" + file;
        if (!std::ifstream(path)) continue;
        for (const UdpDatagram& d : read_capture(path)) {
            ++checked;
            EXPECT_FALSE(probe(view(d.payload))) << file << " frame " << d.frame;
        }
    }
    if (checked == 0) GTEST_SKIP() << "no capture present under " << dir;
    EXPECT_GT(checked, 4000u);
}

}  // namespace
}  // namespace callwall::proto::quic
