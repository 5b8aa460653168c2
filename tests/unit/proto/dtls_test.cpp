// DTLS record walk and handshake facts (proto/dtls.hpp): a minimal record, a
// ClientHello shaped like a browser's WebRTC one (use_srtp, ALPN "webrtc",
// extended_master_secret, supported_groups; the record and handshake
// headers as RFC 6347 §4.1/§4.2.2 lay them out), every prefix of it, wrong
// lengths, and adversarial datagrams.
#include "proto/dtls.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "unit/test_util.hpp"

namespace callwall::proto::dtls {
namespace {

using callwall::test::hex;
using Bytes = std::vector<uint8_t>;
using E = DecodeErrorCode;

void put16(Bytes& b, size_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
void put24(Bytes& b, size_t v) {
    b.push_back(static_cast<uint8_t>(v >> 16));
    put16(b, v & 0xFFFF);
}
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

// RFC 6347 §4.1 record: type, version, epoch 0, sequence number `seq`, length, fragment.
Bytes record(uint8_t type, const Bytes& fragment, uint16_t version = kVersion12, uint8_t seq = 0) {
    Bytes r = {type};
    put16(r, version);
    put16(r, 0);  // epoch
    for (int i = 0; i < 5; ++i) r.push_back(0);
    r.push_back(seq);
    put16(r, fragment.size());
    append(r, fragment);
    return r;
}
// RFC 6347 §4.2.2 handshake message, unfragmented unless told otherwise.
Bytes handshake(uint8_t msg_type, const Bytes& body, size_t fragment_offset = 0) {
    Bytes h = {msg_type};
    put24(h, body.size() + fragment_offset);
    put16(h, 0);  // message_seq
    put24(h, fragment_offset);
    put24(h, body.size());
    append(h, body);
    return h;
}
// A ClientHello body as Chrome sends it for DTLS-SRTP (values abridged).
Bytes client_hello_body(const Bytes& cookie = {}, bool with_sni = false) {
    Bytes b;
    put16(b, kVersion12);
    for (int i = 0; i < 32; ++i) b.push_back(static_cast<uint8_t>(0xA0 + i));  // random
    b.push_back(0);  // session_id
    b.push_back(static_cast<uint8_t>(cookie.size()));
    append(b, cookie);
    append(b, hex("0004 c02b c02f"));  // two cipher suites
    append(b, hex("01 00"));  // compression: null
    Bytes ext;
    append(ext, hex("000e 0005 0002 0001 00"));  // use_srtp: SRTP_AES128_CM_HMAC_SHA1_80
    append(ext, hex("0010 0009 0007 06 776562727463"));  // ALPN "webrtc"
    append(ext, hex("0017 0000"));  // extended_master_secret
    append(ext, hex("000a 0004 0002 001d"));  // supported_groups: x25519
    if (with_sni) append(ext, hex("0000 000f 000d 00 000a 6578616d706c652e6f72"));  // "example.or"
    put16(b, ext.size());
    append(b, ext);
    return b;
}
Bytes client_hello_record() {
    return record(content_type::kHandshake, handshake(handshake_type::kClientHello, client_hello_body()));
}

TEST(Dtls, MinimalChangeCipherSpecRecord) {
    const Bytes b = hex("14 fefd 0000 000000000001 0001 01");
    EXPECT_TRUE(probe(b));
    const auto d = decode(b);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->record_count, 1);
    EXPECT_EQ(d->version, kVersion12);
    ASSERT_EQ(d->records.size(), 1u);
    EXPECT_EQ(d->records[0].content_type, content_type::kChangeCipherSpec);
    EXPECT_EQ(d->records[0].sequence_number, 1u);
    EXPECT_EQ(d->records[0].fragment.size(), 1u);
    EXPECT_FALSE(d->handshake);
    EXPECT_FALSE(d->client_hello);
    EXPECT_EQ(d->anomalies, 0u);
}

TEST(Dtls, WebRtcClientHello) {
    const Bytes b = client_hello_record();
    EXPECT_TRUE(probe(b));
    const auto d = decode(b);
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->handshake);
    EXPECT_TRUE(d->client_hello);
    EXPECT_FALSE(d->server_hello);
    ASSERT_TRUE(d->client_hello_info);
    const ClientHello& ch = *d->client_hello_info;
    EXPECT_EQ(ch.client_version, kVersion12);
    EXPECT_EQ(ch.random.size(), 32u);
    EXPECT_TRUE(ch.cookie.empty());
    EXPECT_EQ(ch.cipher_suite_count, 2);
    EXPECT_EQ(ch.extension_count, 4);
    EXPECT_TRUE(ch.use_srtp);
    EXPECT_EQ(as_text(ch.first_alpn), "webrtc");
    EXPECT_TRUE(ch.server_name.empty());
    EXPECT_EQ(d->anomalies, 0u);
}

TEST(Dtls, SecondClientHelloCarriesTheCookieAndServerName) {
    const Bytes b =
        record(content_type::kHandshake,
               handshake(handshake_type::kClientHello, client_hello_body(hex("0102030405060708"), true)), kVersion10);
    const auto d = decode(b);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->version, kVersion10);
    ASSERT_TRUE(d->client_hello_info);
    EXPECT_EQ(d->client_hello_info->cookie.size(), 8u);
    EXPECT_EQ(as_text(d->client_hello_info->server_name), "example.or");
    EXPECT_EQ(d->client_hello_info->extension_count, 5);
}

TEST(Dtls, ServerFlightAndHelloVerifyRequest) {
    Bytes flight = record(content_type::kHandshake, handshake(handshake_type::kServerHello, hex("fefd")));
    append(flight, record(content_type::kHandshake, handshake(11, hex("000000")), kVersion12, 1));  // Certificate
    const auto d = decode(flight);
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->server_hello);
    EXPECT_FALSE(d->client_hello);
    EXPECT_EQ(d->record_count, 2);

    const auto hvr =
        decode(record(content_type::kHandshake, handshake(handshake_type::kHelloVerifyRequest, hex("fefd 00"))));
    ASSERT_TRUE(hvr.ok());
    EXPECT_TRUE(hvr->hello_verify_request);
}

TEST(Dtls, EveryPrefixIsTruncatedOrNotThisProtocol) {
    const Bytes b = client_hello_record();
    for (size_t n = 0; n < b.size(); ++n) {
        const ByteView prefix(b.data(), n);
        EXPECT_FALSE(probe(prefix)) << n;
        const auto d = decode(prefix);
        ASSERT_FALSE(d.ok()) << n;
        EXPECT_EQ(d.code(), n == 0 ? E::NotThisProtocol : E::Truncated) << n;
    }
}

TEST(Dtls, WrongLengths) {
    // Record length one past the datagram.
    Bytes b = client_hello_record();
    b[12] = static_cast<uint8_t>(b[12] + 1);
    EXPECT_FALSE(probe(b));
    EXPECT_EQ(decode(b).code(), E::Truncated);

    // Record length one short: the handshake body no longer fits, so no
    // ClientHello is seen, and the byte left over is walked as a record.
    b = client_hello_record();
    b[12] = static_cast<uint8_t>(b[12] - 1);
    auto d = decode(b);
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->client_hello);
    EXPECT_NE(d->anomalies, 0u);

    // Handshake length larger than the fragment (a fragmented ClientHello):
    // present, but not parsed.
    d = decode(record(content_type::kHandshake, handshake(handshake_type::kClientHello, client_hello_body(), 100)));
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->client_hello);
    EXPECT_FALSE(d->client_hello_info);

    // An extension whose length runs past the extensions block.
    Bytes body = client_hello_body();
    body[body.size() - 5] = 0x40;  // supported_groups length low byte (0004 → 0040)
    d = decode(record(content_type::kHandshake, handshake(handshake_type::kClientHello, body)));
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->client_hello);
    EXPECT_FALSE(d->client_hello_info);
    EXPECT_TRUE(d->anomalies & bit(Anomaly::BadClientHello));
}

TEST(Dtls, LaterRecordsThatDoNotWalkAreAnomaliesNotErrors) {
    Bytes b = record(content_type::kChangeCipherSpec, hex("01"));
    append(b, hex("16 fefd 0000"));  // a second header cut short
    auto d = decode(b);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->record_count, 1);
    EXPECT_TRUE(d->anomalies & bit(Anomaly::TruncatedRecord));

    b = record(content_type::kChangeCipherSpec, hex("01"));
    append(b, record(content_type::kAlert, hex("0228"), 0x0303));  // TLS, not DTLS, version
    d = decode(b);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->record_count, 1);
    EXPECT_TRUE(d->anomalies & bit(Anomaly::BadRecord));
}

TEST(Dtls, Adversarial) {
    // Not DTLS: empty, TLS record versions, RTP/STUN first bytes.
    EXPECT_EQ(decode({}).code(), E::NotThisProtocol);
    EXPECT_EQ(decode(hex("17 0303 0005 0000000000")).code(), E::NotThisProtocol);
    EXPECT_EQ(decode(hex("80 6f 0001")).code(), E::NotThisProtocol);
    EXPECT_EQ(decode(hex("00 01 0000 2112a442")).code(), E::NotThisProtocol);
    EXPECT_FALSE(probe(hex("17 0303 0000 0000000000 0000")));

    // Many zero-length records: the list is bounded, every record counted.
    Bytes many;
    for (int i = 0; i < 40; ++i) append(many, record(content_type::kApplicationData, {}));
    auto d = decode(many);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->record_count, 40);
    EXPECT_EQ(d->records.size(), kMaxRecords);
    EXPECT_TRUE(d->records.overflowed());

    // Zero-length handshake fragment and a handshake header with no body.
    d = decode(record(content_type::kHandshake, {}));
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->handshake);
    EXPECT_FALSE(d->client_hello);
    d = decode(record(content_type::kHandshake, hex("01 ffffff 0000 000000 ffffff")));
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->client_hello);

    // DTLS 1.3 unified header (0 0 1 C S L E E): a first record needs the
    // length bit and no connection id; a later one with a CID ends the walk.
    EXPECT_EQ(decode(hex("3c 0001 0002 aabb")).code(), E::NotThisProtocol);  // C=1
    EXPECT_EQ(decode(hex("20 01 aabb")).code(), E::NotThisProtocol);  // L=0
    Bytes cid = record(content_type::kChangeCipherSpec, hex("01"));
    append(cid, hex("3c 0001 0002 aabb"));
    d = decode(cid);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->record_count, 1);
    EXPECT_TRUE(d->dtls13_ciphertext);
    EXPECT_TRUE(d->anomalies & bit(Anomaly::CidCiphertext));
    d = decode(hex("2c 0001 0002 aabb"));  // S=1, L=1, no CID
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->record_count, 1);
    EXPECT_EQ(d->records[0].fragment.size(), 2u);
    EXPECT_EQ(decode(hex("2c 0001 0009 aabb")).code(), E::Truncated);
}

}  // namespace
}  // namespace callwall::proto::dtls
