// Unit tests for the TLS first-flight decoder and assemblers.
#include "proto/tls.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "unit/proto/fixtures.hpp"
#include "unit/test_util.hpp"

namespace callwall::proto::tls {
namespace {

using callwall::test::hex;
using callwall::test::view;

// arkime__tls-alpn-h2.pcap frame 4 (TCP payload): TLS 1.2 ClientHello, SNI www.cloudflare.com,
// ALPN h2,http/1.1, 5 extensions, no supported_versions.
const std::vector<uint8_t> kAlpnClientRecord =
    hex("16030100e8010000e40303858226c04fbaeddef4246093b4cfdab38f9dcfef145360e417686575cac49c7000005cc030"
        "c02cc028c024c014c00a009f006b0039cca9cca8ccaaff8500c400880081009d003d003500c00084c02fc02bc027c023"
        "c013c009009e0067003300be0045009c003c002f00ba0041c011c00700050004c012c0080016000a00ff0100005f0000"
        "001700150000127777772e636c6f7564666c6172652e636f6d000b00020100000a00080006001d00170018000d001c00"
        "1a06010603efef0501050304010403eeeeeded03010303020102030010000e000c02683208687474702f312e31");

// zeek__tls13-ech.pcap frame 7 (TCP payload): Chrome ClientHello with ECH (outer SNI
// cloudflare-ech.com), GREASE, supported_versions 8a8a,0304,0303, 19 extensions.
const std::vector<uint8_t> kEchClientRecord = hex(test::fixtures::kTlsEchClientRecord);

// arkime__tls-split-client-hello.pcap frames 4 (1392 bytes) + 5 (337 bytes), concatenated: one
// 1724-byte record whose ClientHello (clients2.google.com) spans two TCP segments.
const std::vector<uint8_t> kSplitClientStream =
    hex("16030106bc010006b8030379c4ac065e1d80d1350600264f5b3ea2be8d7509a5b84b2fe55a74a5b86af85120da4a3599"
        "da1bc634b855913b42c9764934b861fbdf7e32c97c246205e4fc809200201a1a130113021303c02bc02fc02cc030cca9"
        "cca8c013c014009c009d002f00350100064f1a1a0000000d001200100403080404010503080505010806060100120000"
        "002d00020101001b0003020002fe0d00ba00000100014a0020cb670d956823e8f0910d73f44a9ffaf21acd68eba119cf"
        "2cfb949f41aaa98d450090a9d05d030d813edf3f8bf61e6296c367d19fdf7ad909f5aacef6a5df3bb8b775bd04e3fb4a"
        "7c2146350c9050ed077f052eb1973ecb38b32513a1d8ee0903ff293ed96c819c0f3204a345dfb2f2c291f3fd2054705c"
        "ea237a5b041d76c8f36a3bee0f9b59f04fdd116ae6636966c5bd8509406c2317cc46adf3730b3310b4d88d0d5f7fe6b4"
        "ad183ad8834ae6fb17cb8e002b0007069a9a03040303003304ef04ed3a3a00010011ec04c0ef37818f932f8f646b26e7"
        "0c85f431954969ec0036d58b4ec8fa6d10a2b2e1f2b7c31c7ab0fb541a68b3d607498da951ee6a197d0c88930ac56d68"
        "43be57b10ba293df889ea173a4eac752df86312a230284298413675420f21fe32c3d354b1538779275a17d27da09036b"
        "68f1b7ae9f6c74a941b940075915d85f64a1a81d55c363aba766c08a5a44ab4bf755f61c2e896b4c6cb5770307997e80"
        "8bd58520597321d0b45055bb0c48ba23928553114421c0989d55f45fa9425903288a2139099165219b35cc48442d15a2"
        "69b366bd1b85b6ed1bc1dd76af52a1b13b156aad298633e0a6ac494b331b3d6714c94d6a2cd5d423e713c29d38c2f9b1"
        "2bffaa466483253f82705b7045b29c6569e93efe45cd16348efea19fe560c89c9311b0fca5e605b7b54bbeabd7c6df1b"
        "8c877a9717d4183f5a18b7390127184fb090437941a4f4416ac3811555c5bc365c0685225da5d8b9b4870afe83b115b4"
        "1f1b83b00ff952c7d5abadc1302e5857e493b5a57b88596bc52d1c0bd46661312204edd2ad9ed554106a7c6093bb8a34"
        "6718520fb00a34c18262e44b1104d36a71c9b14f315b767a2a23e9abe1f87e88c3617548482c9c13a7174f18530a2667"
        "8e50a05d8ab35f651a8213973df098c3e0741d86164080dc06602914618b328b89a6bccc375be202e3886577725f5c31"
        "c7f928cf6a7bcb2d28b697978c6b48ae82f777ebd14b19c57949d43e7bc7cf5648104f840f370064b9a16deee2c69931"
        "1368965f8fa6060dc8b2823262fc479b07ea965abc95e03c745a42b75c9195bae067b1e711d7d641ea62c2aed720fa6c"
        "4c6b3647fc3111f6270b8cf5b45b0286d82773b9064fd1c71cf2f421555397c4cbcd09336c3054ab5783231495675e73"
        "1dd5ab86f9f0845bdcaecbd060c6854616e74e31599051b65c99e91376d1a593b9194873307c502f6154311370c84621"
        "0f5c1497e3c9957bf63e2495a69f51857d163a1cc92e3b89c887656e8f3c63b51b398ea76c447b23229c892b0b5436e0"
        "12f2a8995a93633e86276824561d009c55c4636edc2eadbb74ebea1bc60b8710cc80f4615fbb8a2b0d58c5e54a888182"
        "28385875221cba75982d54ab12c7109de4732b2311bb7f61317481ce5a6090bd48c303d5613a0a7c3eb465043b1058b1"
        "05dda4924e697ebac00316201bf359527675990c1abe9823ae67222280b65172756cfb4947ce46876c722ed07bad0f99"
        "140d564753f4187151678e463e32d53ac9db198afa8ce7584afb6864a1e94353007c86b743aa7533fcbb1593db368d19"
        "47b53681a2884d711bcdb18919c9acaa0cd5ca8e06c00f7a60eea9b6ef517af302118fd0890433cdc616100927a64fd5"
        "42d6633d4b15c8843a7ef249c53b5c2ead5216559178066b93a4564d10b550070c0d7f724a39397aa99b5f908b21c92a"
        "b7aa601c6ec030ed741a93010a4df357da5caec5393f19b6a43bc28eac110ede597653a343f25a6efa853623d36cc1c3"
        "38c5a777160bb8f1e60a36116dedf68c3c951feb5722c1372e68b5b310c03b45b000af8999d417b3aa74abece85974a3"
        "0d19f040cd1911411b741c60657711b2868a97df68544d0a7682a9012a06bb8ed12767184014edaf45491bc86e2ed71a"
        "8aaf81baecfa07ed2556cc89bb0256eaa2c1c4f99d8d416c1ed2cec99bcedfc24e3f715d4d28e5e51a2d9a868ca4391f"
        "3505f7677e001d0020d8a47011d55ff37f7286201bd839c4da25f58495dc4b70dc6e25dff220da122500000018001600"
        "0013636c69656e7473322e676f6f676c652e636f6d000b0002010000230000000500050100000000001700000010000e"
        "000c02683208687474702f312e31000a000c000a3a3a11ec001d00170018ff01000100446900050003026832baba0001"
        "00");
constexpr size_t kSplitFirstSegment = 1392;

// arkime__tls-alpn-h2.pcap frame 6, first record: TLS 1.2 ServerHello choosing h2, suite
// cca9, with the TLS 1.3 downgrade sentinel in its random.
const std::vector<uint8_t> kAlpnServerRecord =
    hex("16030300640200006003035f0236c07f47bfb12dc2da706ecb3fe7f9eeac9968cc2ddf444f574e4752440120b89ff1ab"
        "695278c69b8a73f76242ef755e0b13dc6d459aaaa784fec9c2dfce34cca900001800000000ff01000100000b00020100"
        "001000050003026832");

// zeek__tls13-ech.pcap frame 9, first record: TLS 1.3 ServerHello (x25519, TLS_AES_128_GCM).
const std::vector<uint8_t> kEchServerRecord =
    hex("160303007a020000760303cd86afb4bb270220f3b7c330c6fc84b3ada6a00d98b285a5022de6f5ced70efc207c77f968"
        "ecbeda040598f47af5265fb5f0f5ef3279f08b43d03c31a57ce0c630130100002e002b0002030400330024001d00200f"
        "f6e1452d32666a0036d0071dbfceaddc648e2d5aa6fd1c530c3f15f823271f");

// zeek__chrome-1250-tls-x25519-kyber.pcap frame 6, first record: ServerHello with the
// X25519Kyber768Draft00 (0x6399) key share, 1215 bytes.
const std::vector<uint8_t> kKyberServerRecord =
    hex("16030304ba020004b603039b737b84a215142d46181d2f70736cbae61f2cae5691c9118c3a9c6b33c51a3a20c72b78a5"
        "6497f6e8e86debee9ec616ade6851b0ce90cda4658d36cbed28cafed130100046e00330464639904602bca9ddcfb6896"
        "5070938f7db0fe7c6856624696b82fff67b438689b5a27df4b0983fe3014b2dec516304a05a9086b7d7728bf9ad92a1e"
        "5b35aeae304874f05e465bbcb6b12a6181f9afa9f7e5e01289e75de385ada1a33d6d92083ccc5b0ab81b3f32c09856bb"
        "c793e6ba3d10fa7b37bd34b63ef4af6256bb5dd0ed3b3bce3c90fb551f1170dc67d79401b69aafa27260bcce04441c7c"
        "151ee42300d50a4688d6bfaab7170a1cde6112109ceca6a47961537ffc8374a6fd9e019c0099d02b75eb216edab7ecda"
        "76bb4cef962d3590cc65f2a0f4f7e421ba91381685735181e832d1d64ae2e3132ce1154e7e2b7bce7aa6fb5e86d38805"
        "e63e751a3ae7bf2392807bdbeede6c4682d99de4bb128ad9b7cd7d861caac238598bce720f2993009b7cb19d0a4d2f00"
        "c8f39319a0dc44d69aae1db1e3d6faa18cc511ec40dbcb5b15ace75637d1107898af95666775ff5987ff2c534d172501"
        "1da154332a34fc311c6d138f5f780fa8d674ac7174e4388a61541f4f71c0a21e35c79303b267e726868adb8e3eddb5ef"
        "99781678e45732553f69dbce02c73392acc54a3a889600eba0124ff46a562722541bc065d5e3efe7e81a64957b219cd9"
        "074465c99df42d33d6b36c84367dd73afcbe2747dba96dea08f22fa0ced99ca0ed1ef5d61c5833365b28a56a9036ffcf"
        "dc6cd7cd789270385e9170176dd5cba53226693b0ed0fb8d5130def97d67d5596d479d699525db0070bc00bf7c9ce5b3"
        "4b2f9067b6e0a38ce24e027446c6ee53d18a88f762f0003bdc184294294bfc3f3b5f8c392a122289e04933730e6bf3d5"
        "e46fc79539020c2371162735634b00fde8e4c2b207a15f7b6c938200c5101affc5fefebf255d90eac5ffdf4918545aec"
        "d346640959f33a1beb59ed7cb6306e545a2a2a9035badf63605a5cdf4bc16a06c243571c1c13648b12f7a9d003ca1c71"
        "4d3504f925bf89fa657f5fc617e84a595f574dd6b170a08ddc3a9466305aec9d47439b4d3e9dbc16890dc8d8c1580e0b"
        "23edbdfe35cde0ec237204f1cd2cefb8341b27797a4a1d4e804164fd5749cc980e3213b34540e82d765dfc6f74702b94"
        "bad32f20b91aa3ed19c6a8b5de6258daca5b9817dbaa4f25803db3b04dd36e9fe148513674064d710dfa13323dd36ed9"
        "336e43aeb1364c6915cc25ea310ced8f40c5d1ae564a2734ffd37d3279e44fdb1278d1f7dcbddd81a395422aa47c12a9"
        "8cc42cfa1b69a9d5b06b5e9342c7e6b4400792c97093088285f668b0c728f270f76669328e3a7e64bfa8d69afcf9ba97"
        "ff83e2d39fb5f78b7b8c0aacf2f790697f8065b4d515f60b35ef2b72ca339a5629a727cd63e831027abfccff0416ff23"
        "a8338e644127d4de18e7b3a182e67903ffec74618a1368d39e6d8cbb397be2158dc3ad7f6de77b22c3a65d4eb433ff7e"
        "e0375db0a044d1cb96c996e1c675b38f32669d6b795058129856b9a7e8a13a2e2b2fd69519818b20922c735681243a00"
        "50cac35283ddc6c4e2bad53093ec10b4a0e2f320d517aed4d9cf8de96e2771b1501b0fa02adeed5d8e5a0fcf6b4dc504"
        "8b713303db897f0a5d002b00020304");

ByteView handshake_of(const std::vector<uint8_t>& record) { return view(record).subspan(kRecordHeaderLength); }

// --- builders --------------------------------------------------------------------------------

void put16(std::vector<uint8_t>& b, size_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
void put24(std::vector<uint8_t>& b, size_t v) {
    b.push_back(static_cast<uint8_t>(v >> 16));
    put16(b, v & 0xffff);
}
void append(std::vector<uint8_t>& b, const std::vector<uint8_t>& v) { b.insert(b.end(), v.begin(), v.end()); }

std::vector<uint8_t> ext(uint16_t type, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> e;
    put16(e, type);
    put16(e, data.size());
    append(e, data);
    return e;
}

std::vector<uint8_t> sni_ext(std::string_view host) {
    std::vector<uint8_t> d;
    put16(d, host.size() + 3);
    d.push_back(0);
    put16(d, host.size());
    d.insert(d.end(), host.begin(), host.end());
    return ext(extension::kServerName, d);
}

// A ClientHello handshake message: TLS 1.2 legacy version, zero random, no session id, one
// suite, null compression, then `extensions` (omitted entirely when `with_extensions` false).
std::vector<uint8_t> client_hello(const std::vector<uint8_t>& extensions, bool with_extensions = true) {
    std::vector<uint8_t> body = {0x03, 0x03};
    body.resize(body.size() + 32, 0);
    body.push_back(0);  // session id
    put16(body, 2);
    put16(body, 0x1301);
    body.push_back(1);
    body.push_back(0);
    if (with_extensions) {
        put16(body, extensions.size());
        append(body, extensions);
    }
    std::vector<uint8_t> hs = {handshake_type::kClientHello};
    put24(hs, body.size());
    append(hs, body);
    return hs;
}

// Wraps a handshake message into records whose fragment sizes are `sizes` (the last one takes
// the rest).
std::vector<uint8_t> records(ByteView hs, std::vector<size_t> sizes = {}) {
    std::vector<uint8_t> out;
    size_t pos = 0;
    for (size_t i = 0; pos < hs.size(); ++i) {
        const size_t n = i < sizes.size() ? std::min(sizes[i], hs.size() - pos) : hs.size() - pos;
        out.push_back(content_type::kHandshake);
        out.push_back(3);
        out.push_back(1);
        put16(out, n);
        out.insert(out.end(), hs.begin() + static_cast<std::ptrdiff_t>(pos),
                   hs.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
    }
    return out;
}

std::string text(ByteView v) { return std::string(as_text(v)); }

// Decodes a built message and keeps its bytes alive for the rest of the test program, so the
// views in the result stay valid.
Result<ClientHello> decode_kept(std::vector<uint8_t> hs) {
    static std::deque<std::vector<uint8_t>> kept;
    kept.push_back(std::move(hs));
    return decode_client_hello(view(kept.back()));
}

struct Segment {
    size_t begin;
    size_t end;
};

// Feeds stream[seg.begin, seg.end) at isn + 1 + begin.
AssemblyStatus feed(FlightAssembler& a, const std::vector<uint8_t>& stream, uint32_t isn, Segment seg) {
    return a.add_segment(static_cast<uint32_t>(isn + 1 + seg.begin),
                         view(stream).subspan(seg.begin, seg.end - seg.begin));
}

// ---------------------------------------------------------------------------------------------
// ClientHello: minimal and real

TEST(TlsClientHello, MinimalWithoutExtensions) {
    const auto hs = client_hello({}, false);
    const auto r = decode_client_hello(view(hs));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->legacy_version, version::kTls12);
    EXPECT_EQ(r->extension_count, 0);
    EXPECT_TRUE(r->server_name.empty());
    EXPECT_EQ(r->cipher_suites.size(), 2u);
    EXPECT_EQ(r->length, hs.size());
    EXPECT_EQ(r->offered_version(), version::kTls12);
    EXPECT_EQ(r->anomalies, 0u);
}

TEST(TlsClientHello, MinimalWithSni) {
    const auto hs = client_hello(sni_ext("a.example"));
    const auto r = decode_client_hello(view(hs));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(text(r->server_name), "a.example");
    EXPECT_EQ(r->extension_count, 1);
    EXPECT_EQ(r->anomalies, 0u);
}

TEST(TlsClientHello, RealTls12WithAlpnH2) {
    const auto r = decode_client_hello(handshake_of(kAlpnClientRecord));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->legacy_version, version::kTls12);
    EXPECT_EQ(text(r->server_name), "www.cloudflare.com");
    ASSERT_EQ(r->alpn.size(), 2u);
    EXPECT_EQ(text(r->alpn[0]), "h2");
    EXPECT_EQ(text(r->alpn[1]), "http/1.1");
    EXPECT_FALSE(r->supported_versions_present);
    EXPECT_FALSE(r->tls13);
    EXPECT_FALSE(r->ech);
    EXPECT_EQ(r->extension_count, 5);
    ASSERT_EQ(r->extension_types.size(), 5u);
    EXPECT_EQ(r->extension_types[0], extension::kServerName);
    EXPECT_EQ(r->extension_types[4], extension::kAlpn);
    EXPECT_EQ(r->length, 232u);
    EXPECT_EQ(r->anomalies, 0u);
    // The same through the record layer, without copying.
    const auto s = decode_record_stream(view(kAlpnClientRecord));
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->server_name.data(), r->server_name.data());  // both views into the record
}

TEST(TlsClientHello, RealEchOuterHello) {
    const auto r = decode_record_stream(view(kEchClientRecord));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(text(r->server_name), "cloudflare-ech.com");  // the outer (public) name
    EXPECT_TRUE(r->ech);
    EXPECT_EQ(r->ech_type, 0);
    EXPECT_FALSE(r->esni);
    EXPECT_TRUE(r->supported_versions_present);
    EXPECT_EQ(r->highest_version, version::kTls13);  // 0x8a8a is GREASE
    EXPECT_TRUE(r->tls13);
    EXPECT_EQ(r->offered_version(), version::kTls13);
    ASSERT_EQ(r->alpn.size(), 2u);
    EXPECT_EQ(text(r->alpn[0]), "h2");
    EXPECT_EQ(r->extension_count, 19);
    EXPECT_EQ(r->extension_types[0], 0xdada);  // GREASE first, as Chrome sends it
    EXPECT_EQ(r->session_id.size(), 32u);
    EXPECT_EQ(r->anomalies, 0u);
}

// ---------------------------------------------------------------------------------------------
// Prefixes and wrong lengths

TEST(TlsClientHello, EveryPrefixIsTruncated) {
    for (const auto* rec : {&kAlpnClientRecord, &kEchClientRecord}) {
        const ByteView hs = handshake_of(*rec);
        for (size_t n = 0; n < hs.size(); ++n) {
            const auto r = decode_client_hello(hs.first(n));
            ASSERT_FALSE(r.ok()) << n;
            EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol)
                << n << " " << to_string(r.code());
        }
        for (size_t n = 0; n < rec->size(); ++n) {
            const auto r = decode_record_stream(view(*rec).first(n));
            ASSERT_FALSE(r.ok()) << n;
            EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol)
                << n << " " << to_string(r.code());
        }
    }
    for (size_t n = 0; n < kSplitClientStream.size(); ++n) {
        const auto r = decode_record_stream(view(kSplitClientStream).first(n));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.code(), DecodeErrorCode::Truncated) << n;
    }
}

TEST(TlsClientHello, LongerThanGivenIsTruncated) {
    auto hs = client_hello(sni_ext("a.example"));
    hs[3] = static_cast<uint8_t>(hs[3] + 1);  // length one more than present
    const auto r = decode_client_hello(view(hs));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Truncated);
    EXPECT_EQ(handshake_message_length(view(hs)), hs.size() + 1);
    EXPECT_EQ(handshake_message_length(view(hs).first(3)), 0u);
}

TEST(TlsClientHello, BytesAfterTheMessageAreIgnored) {
    auto hs = client_hello(sni_ext("a.example"));
    const size_t len = hs.size();
    hs.push_back(0x0b);  // e.g. the next handshake message
    const auto r = decode_client_hello(view(hs));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->length, len);
}

TEST(TlsClientHello, HandshakeLengthTooShortForFieldsIsMalformed) {
    const std::vector<uint8_t> hs = {1, 0, 0, 10, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(decode_client_hello(view(hs)).code(), DecodeErrorCode::Malformed);
}

TEST(TlsClientHello, ExtensionsBlockLongerThanMessageIsMalformed) {
    auto hs = client_hello(sni_ext("a.example"));
    const size_t ext_len_at = 4 + 2 + 32 + 1 + 2 + 2 + 1 + 1;
    hs[ext_len_at + 1] = static_cast<uint8_t>(hs[ext_len_at + 1] + 5);
    EXPECT_EQ(decode_client_hello(view(hs)).code(), DecodeErrorCode::Malformed);
}

TEST(TlsClientHello, ExtensionLongerThanBlockIsMalformed) {
    std::vector<uint8_t> e = {0x00, 0x10, 0xff, 0xff, 0x00, 0x02};  // ALPN says 65535 bytes
    EXPECT_EQ(decode_kept(client_hello(e)).code(), DecodeErrorCode::Malformed);
    std::vector<uint8_t> half = {0x00};  // one byte: not even an extension header
    EXPECT_EQ(decode_kept(client_hello(half)).code(), DecodeErrorCode::Malformed);
}

TEST(TlsClientHello, ImpossibleFixedFieldsAreMalformed) {
    auto sid = client_hello({}, false);
    sid[4 + 2 + 32] = 33;  // session id > 32
    EXPECT_EQ(decode_client_hello(view(sid)).code(), DecodeErrorCode::Malformed);
    auto odd = client_hello({}, false);
    odd[4 + 2 + 32 + 1 + 1] = 3;  // cipher_suites length 3
    EXPECT_EQ(decode_client_hello(view(odd)).code(), DecodeErrorCode::Malformed);
    auto nocomp = client_hello({}, false);
    nocomp[4 + 2 + 32 + 1 + 2 + 2] = 0;  // no compression methods
    EXPECT_EQ(decode_client_hello(view(nocomp)).code(), DecodeErrorCode::Malformed);
}

TEST(TlsClientHello, TrailingBytesInBodyAreAnAnomaly) {
    auto hs = client_hello(sni_ext("a.example"));
    hs.push_back(0xAA);
    hs[3] = static_cast<uint8_t>(hs[3] + 1);
    const auto r = decode_client_hello(view(hs));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->anomalies & bit(Anomaly::TrailingBytes));
    EXPECT_EQ(text(r->server_name), "a.example");
}

TEST(TlsClientHello, NotAClientHello) {
    EXPECT_EQ(decode_client_hello(handshake_of(kEchServerRecord)).code(), DecodeErrorCode::NotThisProtocol);
    auto dtls = client_hello({}, false);
    dtls[4] = 0xfe;
    dtls[5] = 0xfd;
    EXPECT_EQ(decode_client_hello(view(dtls)).code(), DecodeErrorCode::NotThisProtocol);
}

// ---------------------------------------------------------------------------------------------
// Adversarial extensions

TEST(TlsExtensions, ZeroLengthSniAndAlpn) {
    std::vector<uint8_t> e = ext(extension::kServerName, {});
    append(e, ext(extension::kAlpn, {}));
    append(e, ext(extension::kSupportedVersions, {}));
    append(e, ext(23, {}));  // extended_master_secret: legitimately empty
    const auto r = decode_kept(client_hello(e));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->server_name.empty());
    EXPECT_TRUE(r->alpn.empty());
    EXPECT_TRUE(r->anomalies & bit(Anomaly::SniEmpty));
    EXPECT_TRUE(r->anomalies & bit(Anomaly::AlpnMalformed));
    EXPECT_TRUE(r->anomalies & bit(Anomaly::SupportedVersionsMalformed));
    EXPECT_FALSE(r->supported_versions_present);
    EXPECT_EQ(r->extension_count, 4);
}

TEST(TlsExtensions, SniListLengthMismatchAndEmptyHostName) {
    const auto bad_list = decode_kept(client_hello(ext(extension::kServerName, hex("0010 00 0003 616263"))));
    ASSERT_TRUE(bad_list.ok());
    EXPECT_TRUE(bad_list->server_name.empty());
    EXPECT_TRUE(bad_list->anomalies & bit(Anomaly::SniMalformed));

    const auto empty_name = decode_kept(client_hello(ext(extension::kServerName, hex("0003 00 0000"))));
    ASSERT_TRUE(empty_name.ok());
    EXPECT_TRUE(empty_name->server_name.empty());
    EXPECT_TRUE(empty_name->anomalies & bit(Anomaly::SniEmpty));

    const auto overlong = decode_kept(client_hello(ext(extension::kServerName, hex("0006 00 0009 616263"))));
    ASSERT_TRUE(overlong.ok());
    EXPECT_TRUE(overlong->server_name.empty());
    EXPECT_TRUE(overlong->anomalies & bit(Anomaly::SniMalformed));
}

TEST(TlsExtensions, TwoHostNamesAndOddCharacters) {
    const auto r =
        decode_kept(client_hello(ext(extension::kServerName, hex("000e 00 0004 610a6263 00 0004 77787978"))));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->server_name.size(), 4u);
    EXPECT_TRUE(r->anomalies & bit(Anomaly::SniMultiple));
    EXPECT_TRUE(r->anomalies & bit(Anomaly::SniOddChars));
}

TEST(TlsExtensions, AlpnWithEmptyNameAndOverflow) {
    const auto empty = decode_kept(client_hello(ext(extension::kAlpn, hex("0004 02683200"))));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->anomalies & bit(Anomaly::AlpnMalformed));
    std::vector<uint8_t> list;
    for (int i = 0; i < 10; ++i) {
        list.push_back(2);
        list.push_back('p');
        list.push_back(static_cast<uint8_t>('0' + i));
    }
    std::vector<uint8_t> data;
    put16(data, list.size());
    append(data, list);
    const auto many = decode_kept(client_hello(ext(extension::kAlpn, data)));
    ASSERT_TRUE(many.ok());
    EXPECT_EQ(many->alpn.size(), kMaxAlpn);
    EXPECT_TRUE(many->alpn.overflowed());
    EXPECT_EQ(many->anomalies, 0u);
}

TEST(TlsExtensions, DuplicateExtension) {
    std::vector<uint8_t> e = sni_ext("first.example");
    append(e, sni_ext("second.example"));
    const auto r = decode_kept(client_hello(e));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->anomalies & bit(Anomaly::DuplicateExtension));
    EXPECT_EQ(text(r->server_name), "first.example");
}

TEST(TlsExtensions, SupportedVersionsRanking) {
    auto highest = [](const std::vector<uint8_t>& list) {
        const auto r = decode_kept(client_hello(ext(extension::kSupportedVersions, list)));
        EXPECT_TRUE(r.ok());
        return std::make_pair(r->highest_version, r->tls13);
    };
    EXPECT_EQ(highest(hex("04 7f1c 0303")), std::make_pair(uint16_t{0x7f1c}, true));
    EXPECT_EQ(highest(hex("04 7f1c 0304")), std::make_pair(uint16_t{0x0304}, true));
    EXPECT_EQ(highest(hex("06 0a0a 0302 0303")), std::make_pair(uint16_t{0x0303}, false));
    EXPECT_EQ(highest(hex("02 fafa")), std::make_pair(uint16_t{0}, false));  // GREASE only
    const auto odd = decode_kept(client_hello(ext(extension::kSupportedVersions, hex("03 030403"))));
    ASSERT_TRUE(odd.ok());
    EXPECT_TRUE(odd->anomalies & bit(Anomaly::SupportedVersionsMalformed));
}

TEST(TlsExtensions, EsniAndEchInner) {
    std::vector<uint8_t> e = ext(extension::kEncryptedServerName, hex("1301 001d"));
    append(e, ext(extension::kEncryptedClientHello, hex("01")));
    const auto r = decode_kept(client_hello(e));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->esni);
    EXPECT_TRUE(r->ech);
    EXPECT_EQ(r->ech_type, 1);
}

TEST(TlsExtensions, GreaseDetection) {
    EXPECT_TRUE(is_grease(0x0a0a));
    EXPECT_TRUE(is_grease(0xfafa));
    EXPECT_FALSE(is_grease(0x0a1a));
    EXPECT_FALSE(is_grease(0x0304));
}

// An SSLv2-compatible ClientHello (RFC 5246 E.2) offering TLS 1.0: length 0x22 with the top
// bit set, msg_type 1, version 3.1, 3 cipher specs (3 bytes each), no session id, a 16-byte
// challenge. (Made by hand; captures/field/tls_sslv2_hello.pcap has the same layout, which
// tshark 4.0 reads as "SSLv2 Record Layer: Client Hello", version TLS 1.0.)
const auto kSslv2Hello = hex("8022 01 0301 0009 0000 0010 000035 00002f 000005 000102030405060708090a0b0c0d0e0f");

TEST(TlsRecords, Sslv2HelloIsDecoded) {
    EXPECT_TRUE(probe(view(kSslv2Hello)));
    const auto r = decode_record_stream(view(kSslv2Hello));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->legacy_version, 0x0301);
    EXPECT_EQ(r->offered_version(), 0x0301);
    EXPECT_EQ(r->random.size(), 16u);
    EXPECT_TRUE(r->server_name.empty());
    EXPECT_TRUE(r->session_id.empty());
    EXPECT_EQ(r->length, 0x22u);
    EXPECT_TRUE(r->anomalies & bit(Anomaly::Sslv2Hello));
    // Every prefix: not a hello yet (cut), never a wrong one.
    for (size_t n = 0; n < kSslv2Hello.size(); ++n) {
        const auto p = decode_record_stream(view(kSslv2Hello).first(n));
        EXPECT_FALSE(p.ok()) << n;
        EXPECT_TRUE(p.code() == DecodeErrorCode::Truncated || p.code() == DecodeErrorCode::NotThisProtocol) << n;
    }
    // Impossible fields: cipher specs not a multiple of 3, a challenge of 8 bytes.
    auto bad = kSslv2Hello;
    bad[6] = 0x08;
    EXPECT_EQ(decode_record_stream(view(bad)).code(), DecodeErrorCode::Malformed);
    bad = kSslv2Hello;
    bad[10] = 0x08;
    EXPECT_EQ(decode_record_stream(view(bad)).code(), DecodeErrorCode::Malformed);
    // The SSLv2 protocol itself (version 0x0002) and a version-3 record are not taken for one.
    bad = kSslv2Hello;
    bad[3] = 0x00;
    bad[4] = 0x02;
    EXPECT_FALSE(probe(view(bad)));
}

TEST(TlsAssembler, Sslv2HelloInTwoSegments) {
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    const uint32_t isn = 1000;
    a.anchor_syn(isn - 1);
    EXPECT_EQ(a.add_segment(isn, view(kSslv2Hello).first(20)), AssemblyStatus::NeedMore);
    EXPECT_EQ(a.add_segment(isn + 20, view(kSslv2Hello).subspan(20)), AssemblyStatus::Done);
    const auto r = a.client_hello();
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->legacy_version, 0x0301);
    EXPECT_EQ(r->random[15], 0x0f);
}

// ---------------------------------------------------------------------------------------------
// Server side

TEST(TlsServer, RealTls12ServerHelloWithAlpn) {
    const auto f = decode_server_flight(view(kAlpnServerRecord));
    ASSERT_TRUE(f.ok()) << to_string(f.code());
    ASSERT_TRUE(f->has_server_hello);
    EXPECT_FALSE(f->has_alert);
    const ServerHello& sh = f->server_hello;
    EXPECT_EQ(sh.legacy_version, version::kTls12);
    EXPECT_EQ(sh.selected_version, 0);
    EXPECT_EQ(sh.version(), version::kTls12);
    EXPECT_EQ(sh.cipher_suite, 0xcca9);
    EXPECT_EQ(text(sh.alpn), "h2");
    EXPECT_TRUE(sh.downgrade_sentinel);  // "DOWNGRD\x01": the server also speaks TLS 1.3
    EXPECT_FALSE(sh.hello_retry_request);
    EXPECT_EQ(sh.extension_count, 4);
    EXPECT_EQ(sh.anomalies, 0u);
}

TEST(TlsServer, RealTls13ServerHello) {
    const auto f = decode_server_flight(view(kEchServerRecord));
    ASSERT_TRUE(f.ok());
    const ServerHello& sh = f->server_hello;
    EXPECT_EQ(sh.legacy_version, version::kTls12);
    EXPECT_EQ(sh.selected_version, version::kTls13);
    EXPECT_EQ(sh.version(), version::kTls13);
    EXPECT_EQ(sh.cipher_suite, 0x1301);
    EXPECT_EQ(sh.key_share_group, 0x001d);
    EXPECT_FALSE(sh.downgrade_sentinel);
    EXPECT_TRUE(sh.alpn.empty());  // encrypted in TLS 1.3
}

TEST(TlsServer, RealPostQuantumServerHello) {
    const auto f = decode_server_flight(view(kKyberServerRecord));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->server_hello.key_share_group, 0x6399);
    EXPECT_EQ(f->server_hello.version(), version::kTls13);
    EXPECT_EQ(f->server_hello.length, 1210u);
}

TEST(TlsServer, EveryPrefixIsTruncated) {
    for (const auto* rec : {&kAlpnServerRecord, &kEchServerRecord}) {
        for (size_t n = 0; n < rec->size(); ++n) {
            const auto r = decode_server_flight(view(*rec).first(n));
            ASSERT_FALSE(r.ok());
            EXPECT_EQ(r.code(), DecodeErrorCode::Truncated) << n;
            const auto sh = decode_server_hello(handshake_of(*rec).first(n < 5 ? 0 : n - 5));
            EXPECT_TRUE(sh.code() == DecodeErrorCode::Truncated) << n;
        }
    }
}

TEST(TlsServer, HelloRetryRequest) {
    std::vector<uint8_t> body = {0x03, 0x03};
    append(body, hex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C"));
    body.push_back(0);
    put16(body, 0x1301);
    body.push_back(0);
    std::vector<uint8_t> e = ext(extension::kSupportedVersions, hex("0304"));
    append(e, ext(extension::kKeyShare, hex("11ec")));  // HRR: selected_group only
    put16(body, e.size());
    append(body, e);
    std::vector<uint8_t> hs = {handshake_type::kServerHello};
    put24(hs, body.size());
    append(hs, body);
    const auto r = decode_server_hello(view(hs));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->hello_retry_request);
    EXPECT_EQ(r->key_share_group, 0x11ec);
    EXPECT_EQ(r->selected_version, version::kTls13);
}

TEST(TlsServer, Draft18ServerHelloWithoutSessionId) {
    // TLS 1.3 draft-18 layout (arkime__tls13 frame 6): version 7f12, random, suite, extensions.
    std::vector<uint8_t> body = {0x7f, 0x12};
    body.resize(body.size() + 32, 0x11);
    put16(body, 0x1301);
    put16(body, 0);
    std::vector<uint8_t> hs = {handshake_type::kServerHello};
    put24(hs, body.size());
    append(hs, body);
    const auto r = decode_server_hello(view(hs));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->version(), 0x7f12);
    EXPECT_EQ(r->cipher_suite, 0x1301);
}

TEST(TlsServer, FatalAndWarningAlerts) {
    const auto fatal = decode_server_flight(hex("1503030002 0228"));  // handshake_failure
    ASSERT_TRUE(fatal.ok());
    EXPECT_TRUE(fatal->has_alert);
    EXPECT_TRUE(fatal->fatal_alert());
    EXPECT_EQ(fatal->alert_description, 40);
    EXPECT_FALSE(fatal->has_server_hello);
    const auto warn = decode_server_flight(hex("1503010002 0100"));  // close_notify
    ASSERT_TRUE(warn.ok());
    EXPECT_FALSE(warn->fatal_alert());
    EXPECT_EQ(decode_server_flight(hex("15030300")).code(), DecodeErrorCode::Truncated);
    // A longer (encrypted) alert cannot start a flight: a connection seen mid-stream.
    EXPECT_EQ(decode_server_flight(hex("1503030012 aabbccddeeff00112233445566778899aabb")).code(),
              DecodeErrorCode::NotThisProtocol);
}

// ---------------------------------------------------------------------------------------------
// probe(): accept / reject lists

TEST(TlsProbe, AcceptAndReject) {
    for (const auto* rec : {&kAlpnClientRecord, &kEchClientRecord, &kSplitClientStream, &kAlpnServerRecord,
                            &kEchServerRecord, &kKyberServerRecord}) {
        EXPECT_TRUE(probe(view(*rec)));
        EXPECT_TRUE(probe(view(*rec).first(5)));  // only the record header arrived
    }
    EXPECT_TRUE(probe(hex("1503030002 0228")));
    const std::vector<std::vector<uint8_t>> reject = {
        std::vector<uint8_t>{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1'},
        std::vector<uint8_t>{'S', 'S', 'H', '-', '2', '.', '0', '-', 'O', 'p', 'e', 'n'},
        hex("1703030013 4de77592f8743e39d2243466c61c8f"),  // application data (ndpi__signal f357)
        hex("1503030012 843a5504722b9ee5066cee0dfeb164"),  // encrypted alert (ndpi__signal f157)
        hex("0038431901200001000000000001037777770774"),  // DNS over TCP (tcpdump__dns_tcp f4)
        hex("1603050040 01000040"),  // record version 3.5
        hex("1603030040 0b000040"),  // Certificate first
        hex("1603030000"),  // empty record
        hex("1603014001 01003ffd"),  // record over 2^14
        hex("1603010020 0100000a 0303"),  // hello body under 38 bytes
        hex("1603010200 010001fc 0203"),  // hello version 2.3
        hex("0001000021 12a442"),  // STUN
    };
    for (size_t i = 0; i < reject.size(); ++i) EXPECT_FALSE(probe(view(reject[i]))) << i;
}

// ---------------------------------------------------------------------------------------------
// Assembler

constexpr uint32_t kIsnNearWrap = 0xFFFFFF00u;  // data crosses 2^32 after 255 bytes

TEST(TlsAssembler, ThreeSegmentsOutOfOrderWithRetransmission) {
    const auto& s = kSplitClientStream;
    const Segment a{0, 600}, b{600, kSplitFirstSegment}, c{kSplitFirstSegment, s.size()};
    std::vector<uint8_t> buffer(kMinFlightBuffer, 0xEE);  // garbage: must never be parsed
    ClientHelloAssembler asm_(buffer);
    asm_.anchor_syn(kIsnNearWrap);
    EXPECT_EQ(feed(asm_, s, kIsnNearWrap, c), AssemblyStatus::NeedMore);
    EXPECT_EQ(asm_.contiguous_bytes(), 0u);
    EXPECT_EQ(feed(asm_, s, kIsnNearWrap, a), AssemblyStatus::NeedMore);
    EXPECT_EQ(asm_.contiguous_bytes(), 600u);
    EXPECT_EQ(feed(asm_, s, kIsnNearWrap, a), AssemblyStatus::NeedMore);  // retransmission
    EXPECT_EQ(feed(asm_, s, kIsnNearWrap, {500, 700}), AssemblyStatus::NeedMore);  // overlap
    EXPECT_EQ(asm_.client_hello().code(), DecodeErrorCode::Truncated);
    EXPECT_EQ(feed(asm_, s, kIsnNearWrap, b), AssemblyStatus::Done);
    const auto r = asm_.client_hello();
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(text(r->server_name), "clients2.google.com");
    EXPECT_TRUE(r->tls13);
    EXPECT_TRUE(r->ech);
    EXPECT_EQ(r->length, 1724u);  // record length = handshake length here
    EXPECT_EQ(asm_.stats().segments, 5u);
    EXPECT_EQ(asm_.stats().retransmitted_bytes, 600u + 200u);
    EXPECT_EQ(asm_.anomalies(), 0u);
    // The server_name view points into the lent buffer.
    EXPECT_GE(r->server_name.data(), buffer.data());
    EXPECT_LT(r->server_name.data(), buffer.data() + buffer.size());
    // Later segments change nothing.
    EXPECT_EQ(feed(asm_, s, kIsnNearWrap, a), AssemblyStatus::Done);
}

TEST(TlsAssembler, WithoutSynAnEarlierSegmentMovesTheStart) {
    const auto& s = kSplitClientStream;
    const uint32_t isn = 0x7ffffff0u;
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    EXPECT_EQ(feed(a, s, isn, {700, 1400}), AssemblyStatus::NeedMore);  // taken as the start
    EXPECT_EQ(feed(a, s, isn, {0, 700}), AssemblyStatus::NeedMore);  // earlier: rebase
    EXPECT_EQ(feed(a, s, isn, {1400, s.size()}), AssemblyStatus::Done);
    const auto r = a.client_hello();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(text(r->server_name), "clients2.google.com");
}

TEST(TlsAssembler, HelloAcrossTwoRecords) {
    const ByteView hs = handshake_of(kEchClientRecord);
    const auto stream = records(hs, {300});
    EXPECT_EQ(decode_record_stream(view(stream)).code(), DecodeErrorCode::Truncated);
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(1000);
    EXPECT_EQ(feed(a, stream, 1000, {0, stream.size()}), AssemblyStatus::Done);
    const auto r = a.client_hello();
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(text(r->server_name), "cloudflare-ech.com");
    EXPECT_TRUE(r->ech);
    ASSERT_EQ(a.handshake().size(), hs.size());
    EXPECT_TRUE(std::equal(hs.begin(), hs.end(), a.handshake().begin()));
}

TEST(TlsAssembler, ThreeRecordsOverSegmentsCutElsewhere) {
    const ByteView hs = handshake_of(kEchClientRecord);
    const auto stream = records(hs, {2, 250});  // the handshake header itself is split
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(42);
    EXPECT_EQ(feed(a, stream, 42, {400, stream.size()}), AssemblyStatus::NeedMore);
    EXPECT_EQ(feed(a, stream, 42, {3, 400}), AssemblyStatus::NeedMore);
    EXPECT_EQ(feed(a, stream, 42, {0, 3}), AssemblyStatus::Done);
    const auto r = a.client_hello();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(text(r->server_name), "cloudflare-ech.com");
    EXPECT_TRUE(std::equal(hs.begin(), hs.end(), a.handshake().begin()));
}

TEST(TlsAssembler, ConflictingRetransmissionKeepsFirstCopy) {
    const auto& s = kSplitClientStream;
    auto forged = s;
    for (size_t i = 100; i < 200; ++i) forged[i] ^= 0x5a;
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(7);
    feed(a, s, 7, {0, 300});
    feed(a, forged, 7, {0, 1000});
    EXPECT_TRUE(a.anomalies() & bit(Anomaly::OverlapConflict));
    EXPECT_EQ(feed(a, s, 7, {1000, s.size()}), AssemblyStatus::Done);
    ASSERT_TRUE(a.client_hello().ok());
    EXPECT_TRUE(std::equal(s.begin() + 5, s.end(), a.handshake().begin()));
}

TEST(TlsAssembler, HelloLargerThanBufferFails) {
    std::vector<uint8_t> buffer(1024);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(0);
    EXPECT_EQ(feed(a, kSplitClientStream, 0, {0, 1000}), AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::Unsupported);
    EXPECT_EQ(a.client_hello().code(), DecodeErrorCode::Unsupported);
}

TEST(TlsAssembler, LargeHelloInNineSegmentsShuffled) {
    // A 12 KB ClientHello (padding extension), in one record, cut in 9 segments.
    std::vector<uint8_t> e = sni_ext("big.example");
    append(e, ext(extension::kPadding, std::vector<uint8_t>(12000, 0)));
    const auto hs = client_hello(e);
    const auto stream = records(view(hs));
    std::vector<Segment> segs;
    for (size_t i = 0; i < 9; ++i) {
        segs.push_back({stream.size() * i / 9, stream.size() * (i + 1) / 9});
    }
    const std::vector<size_t> order = {4, 8, 1, 6, 2, 7, 3, 5, 0};
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(0xFFFFF000u);
    for (size_t k = 0; k < order.size(); ++k) {
        const auto st = feed(a, stream, 0xFFFFF000u, segs[order[k]]);
        EXPECT_EQ(st, k + 1 == order.size() ? AssemblyStatus::Done : AssemblyStatus::NeedMore) << k;
    }
    const auto r = a.client_hello();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(text(r->server_name), "big.example");
    EXPECT_EQ(r->length, hs.size());
}

TEST(TlsAssembler, TooManyHolesDropSegmentsUntilRetransmitted) {
    const auto& s = kSplitClientStream;
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(0);
    // Segments 1, 3, 5, …, 19 of 100 bytes each: ten disjoint ranges.
    for (size_t i = 1; i < 20; i += 2) feed(a, s, 0, {i * 80, i * 80 + 40});
    EXPECT_TRUE(a.anomalies() & bit(Anomaly::RangeOverflow));
    EXPECT_EQ(a.stats().dropped_segments, 2u);
    EXPECT_EQ(feed(a, s, 0, {0, s.size()}), AssemblyStatus::Done);  // full retransmission
    EXPECT_TRUE(a.client_hello().ok());
}

TEST(TlsAssembler, BytesBeyondTheBufferAndBeforeTheStart) {
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(100);
    feed(a, kSplitClientStream, 100, {0, 10});
    EXPECT_EQ(a.add_segment(101 + kMinFlightBuffer + 5, hex("0102")), AssemblyStatus::NeedMore);
    EXPECT_TRUE(a.anomalies() & bit(Anomaly::BeyondBuffer));
    EXPECT_EQ(a.add_segment(90, hex("0102")), AssemblyStatus::NeedMore);  // before the SYN
    EXPECT_TRUE(a.anomalies() & bit(Anomaly::BeforeStart));
    EXPECT_EQ(a.contiguous_bytes(), 10u);
}

TEST(TlsAssembler, NotTlsFailsAtOnceWhenAnchored) {
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(5);
    const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(a.add_segment(6, ByteView{reinterpret_cast<const uint8_t*>(get.data()), get.size()}),
              AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::NotThisProtocol);
}

TEST(TlsAssembler, MidStreamApplicationDataFailsAtOnce) {
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    EXPECT_EQ(a.add_segment(1234, hex("1703030013 4de77592f8743e39d2243466c61c8f aabbccdd")), AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::NotThisProtocol);
}

TEST(TlsAssembler, UnanchoredNoiseGivesUpAfterPatience) {
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    const auto noise = hex("00112233445566778899");
    AssemblyStatus st = AssemblyStatus::NeedMore;
    uint32_t seq = 1000;
    for (uint32_t i = 0; i < kUnanchoredPatience && st == AssemblyStatus::NeedMore; ++i) {
        st = a.add_segment(seq, view(noise));
        seq += static_cast<uint32_t>(noise.size());
    }
    EXPECT_EQ(st, AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::NotThisProtocol);
}

TEST(TlsAssembler, EveryPrefixAsOneSegmentNeedsMore) {
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    for (size_t n = 1; n < kSplitClientStream.size(); n += 7) {
        ClientHelloAssembler a(buffer);
        a.anchor_syn(9);
        EXPECT_EQ(feed(a, kSplitClientStream, 9, {0, n}), AssemblyStatus::NeedMore) << n;
    }
}

TEST(TlsAssembler, InterleavedChangeCipherSpecIsMalformed) {
    const ByteView hs = handshake_of(kEchClientRecord);
    auto stream = records(hs.first(100));
    append(stream, hex("1403030001 01"));
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(0);
    EXPECT_EQ(feed(a, stream, 0, {0, stream.size()}), AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::Malformed);
}

TEST(TlsAssembler, LastSynBeforeDataWins) {
    // ndpi__tls_multiple_synack_different_seq: several SYN-ACKs with different ISNs.
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ServerFlightAssembler a(buffer);
    a.anchor_syn(238755595u);
    a.anchor_syn(2829651200u);
    EXPECT_EQ(feed(a, kEchServerRecord, 2829651200u, {0, kEchServerRecord.size()}), AssemblyStatus::Done);
    ASSERT_TRUE(a.server_flight().ok());
    a.anchor_syn(1);  // after data: ignored
    EXPECT_EQ(a.status(), AssemblyStatus::Done);
}

TEST(TlsAssembler, ServerHelloInTwoSegmentsAndAlert) {
    const auto& s = kKyberServerRecord;
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ServerFlightAssembler a(buffer);
    a.anchor_syn(77);
    EXPECT_EQ(feed(a, s, 77, {700, s.size()}), AssemblyStatus::NeedMore);
    EXPECT_EQ(a.server_flight().code(), DecodeErrorCode::Truncated);
    EXPECT_EQ(feed(a, s, 77, {0, 700}), AssemblyStatus::Done);
    const auto f = a.server_flight();
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->server_hello.key_share_group, 0x6399);

    ServerFlightAssembler b(buffer);
    b.anchor_syn(0);
    EXPECT_EQ(b.add_segment(1, hex("15030300")), AssemblyStatus::NeedMore);
    EXPECT_EQ(b.add_segment(5, hex("02 0228")), AssemblyStatus::Done);
    const auto g = b.server_flight();
    ASSERT_TRUE(g.ok());
    EXPECT_TRUE(g->fatal_alert());
    EXPECT_EQ(g->alert_description, 40);
    EXPECT_TRUE(b.handshake().empty());
}

TEST(TlsAssembler, ClientAssemblerRejectsServerFlight) {
    std::vector<uint8_t> buffer(kMinFlightBuffer);
    ClientHelloAssembler a(buffer);
    a.anchor_syn(0);
    EXPECT_EQ(feed(a, kEchServerRecord, 0, {0, kEchServerRecord.size()}), AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::NotThisProtocol);
}

TEST(TlsAssembler, TinyBufferFailsUpFront) {
    std::vector<uint8_t> buffer(4);
    ClientHelloAssembler a(buffer);
    EXPECT_EQ(a.status(), AssemblyStatus::Failed);
    EXPECT_EQ(a.add_segment(0, view(kAlpnClientRecord)), AssemblyStatus::Failed);
}

}  // namespace
}  // namespace callwall::proto::tls
