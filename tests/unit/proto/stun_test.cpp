// Unit tests for proto/stun: STUN/TURN messages, ChannelData, MS multiplexed
// TURN, stream framing, transaction tracking and the ChannelData validator.
#include "proto/stun.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "unit/test_util.hpp"

#if __has_include(<nlohmann/json.hpp>)
#include <nlohmann/json.hpp>
#define CALLWALL_HAVE_JSON 1
#endif

namespace callwall::proto::stun {
namespace {

using callwall::test::hex;
using callwall::test::view;
using Bytes = std::vector<uint8_t>;

std::string to_hex(ByteView v) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (uint8_t b : v) {
        s += d[b >> 4];
        s += d[b & 15];
    }
    return s;
}

std::string addr_text(const Address& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.addr.data(), buf, sizeof buf);
    return buf;
}

Address v4(const char* text, uint16_t port) {
    Address a;
    a.family = 4;
    a.port = port;
    inet_pton(AF_INET, text, a.addr.data());
    return a;
}
Address v6(const char* text, uint16_t port) {
    Address a;
    a.family = 6;
    a.port = port;
    inet_pton(AF_INET6, text, a.addr.data());
    return a;
}

std::filesystem::path fixture_dir() {
#ifdef CALLWALL_SOURCE_DIR
    return std::filesystem::path(CALLWALL_SOURCE_DIR) / "tests/unit/proto/fixtures";
#else
    return std::filesystem::path(__FILE__).parent_path() / "fixtures";
#endif
}

// --- fixtures ---------------------------------------------------------------

// ndpi__stun.pcap frame 16: Binding request, no attributes.
const char* kMinimalBinding = "000100002112a44253486b6846386f6477677956";

// RFC 5769 §2.1 sample request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME
// with 0x20 padding, MESSAGE-INTEGRITY, FINGERPRINT).
const char* kRfc5769Request =
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e20746573742063"
    "6c69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a68"
    "367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e5"
    "7a3bcf";
// RFC 5769 §2.2 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const char* kRfc5769V4Response =
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f72"
    "20002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06b"
    "e7d780280004c07d4c96";
// RFC 5769 §2.3 IPv6 response: XOR-MAPPED-ADDRESS
// [2001:db8:1234:5678:11:2233:4455:6677]:32853.
const char* kRfc5769V6Response =
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f72"
    "2000200014"
    "0002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4b"
    "e67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c";

// ndpi__stun.pcap frame 70 (udp:2, Facebook relay): Allocate success with
// XOR-MAPPED-ADDRESS, XOR-RELAYED-ADDRESS, LIFETIME 900, MESSAGE-INTEGRITY.
const char* kAllocateSuccess =
    "010300382112a442357a556a4d58487665772b730020000800010a887c3d4643001600"
    "080001f30f3e1ff274000d000400000384000800140e9d914ca92cddc797948099cb28"
    "5bc6309ab653";

// ndpi__stun.pcap frame 67: Allocate request (REQUESTED-TRANSPORT UDP) and
// frame 68: its 401 error response (ERROR-CODE, NONCE, REALM turner.facebook).
const char* kAllocateRequest = "000300082112a442414b37515079504b396575560019000411000000";
const char* kAllocate401 =
    "011300542112a442414b37515079504b396575560009001000000401756e617574686f"
    "72697a656400150028626230333164363163636331626538326532343031343433356564"
    "353266323666626136323438330014000f7475726e65722e66616365626f6f6b00";

// arkime__stun-ice-testcall.pcap frame 32: Binding error 401 with a valid
// FINGERPRINT (tshark: crc32.status good).
const char* kBinding401Fingerprint =
    "0111001c2112a4423c0812b8e084865e7023eca60009001000000401554e415554484f52"
    "495a454480280004afafe160";
// ndpi__stun.pcap frame 195 (udp:4): Binding request (Zoom-style USERNAME,
// ICE-CONTROLLING, MESSAGE-INTEGRITY) whose FINGERPRINT tshark also reports
// as bad (crc32.status 0).
const char* kBindingBadFingerprint =
    "000100882112a442384421d1f4a243e1d63a5f9a0006004945303444393433462d433237"
    "312d433936412d433237442d4443424430393737383638303a32303430463745432d3346"
    "42462d363146372d314143322d41414435443436313041384500000000250000002400046e"
    "7f00ff802a00089663f5787b57f2d400080014ae2f3329490275937e5e79985322cf8c9f5e"
    "1f3980280004f1444a1b";

// ndpi__stun_google_meet.pcapng frame 216: Binding success, IPv6
// XOR-MAPPED-ADDRESS [2001:b07:a3d:c112:48a1:1094:1227:281e], FINGERPRINT.
const char* kMeetV6Success =
    "010100382112a4426b4f6933493237343870764100200014000293160113af456172a8"
    "21019327a02a575e5f000800145aa3f076b27187c2cd59830e28a183d875f5c40a8028"
    "00044b6055df";

// Built for this test (RFC 8656 §18.3 layout, txid 01..0c): CreatePermission
// request with XOR-PEER-ADDRESS [2001:db8::1]:49152 and 192.0.2.7:3478, and
// a FINGERPRINT computed with zlib.crc32.
const char* kCreatePermissionV6 =
    "0008002c2112a4420102030405060708090a0b0c001200140002e1120113a9fa010203"
    "0405060708090a0b0d0012000800012c84e112a645802800040141a3e1";

// ndpi__stun.pcap frame 104: ChannelBind request, CHANNEL-NUMBER 0x4003.
const char* kChannelBind =
    "000900802112a442767238746a326f6e34504847000c0004400300000012000800010e82"
    "98b82f43000600104d6632683948693561504d52706c46310014000f7475726e65722e66"
    "616365626f6f6b00001500286262303331643631636363316265383265323430313434"
    "3335656435326632366662613632343833000800"
    "14c4a0a285ef11240f8d097e4c68"
    "6826445f24deab";

// ndpi__stun.pcap frame 113: ChannelData 0x4003 carrying an SRTCP RR.
const char* kChannelData = "4003001680c9000100000001800000031ff01345009e4583923d";

// ndpi__stun_classic.pcap frames 1 and 2: classic RFC 3489 Binding
// request (CHANGE-REQUEST) and response (MAPPED-ADDRESS 172.16.63.224:55050).
const char* kClassicRequest = "000100089429ef88294dd52632c72931cb8dbb4c0003000400000000";
const char* kClassicResponse = "0101000c9429ef88294dd52632c72931cb8dbb4c000100080001d70aac103fe0";
// ndpi__zoom_p2p.pcapng frame 8: Zoom's classic request with attribute 0x0101.
const char* kZoomClassic =
    "00010018fca5c232b3da5b2065219f418e9b3e1a01010014313233343536373839303132"
    "3334353637383900";

// --- decode: minimal and real messages ---------------------------------------

TEST(StunDecode, MinimalBindingRequest) {
    const Bytes b = hex(kMinimalBinding);
    ASSERT_TRUE(probe(view(b)));
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->variant, Variant::Rfc5389);
    EXPECT_EQ(r->method, Method::Binding);
    EXPECT_EQ(r->msg_class, MessageClass::Request);
    EXPECT_EQ(r->length, 0);
    EXPECT_EQ(to_hex(r->transaction_id), "53486b6846386f6477677956");
    EXPECT_EQ(r->attribute_count, 0);
    EXPECT_FALSE(r->fingerprint);
    EXPECT_EQ(r->anomalies, 0u);
    EXPECT_EQ(r->size, 20u);
}

TEST(StunDecode, Rfc5769SampleRequest) {
    const Bytes b = hex(kRfc5769Request);
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->method, Method::Binding);
    EXPECT_EQ(as_text(r->software), "STUN test client");
    EXPECT_EQ(as_text(r->username), "evtj:h6vY");
    EXPECT_TRUE(r->message_integrity);
    EXPECT_TRUE(r->fingerprint);
    EXPECT_TRUE(r->fingerprint_ok);
    // USERNAME is padded with spaces: allowed by RFC 5389, MBZ in RFC 8489.
    EXPECT_TRUE(r->has(Anomaly::NonZeroPadding));
    ASSERT_EQ(r->attribute_types.size(), 6u);
    EXPECT_EQ(r->attribute_types[0], attr::kSoftware);
    EXPECT_EQ(r->attribute_types[5], attr::kFingerprint);
}

TEST(StunDecode, Rfc5769XorMappedIpv4AndIpv6) {
    const Bytes b4 = hex(kRfc5769V4Response);
    const auto r4 = decode(view(b4));
    ASSERT_TRUE(r4.ok());
    EXPECT_EQ(r4->msg_class, MessageClass::SuccessResponse);
    ASSERT_TRUE(r4->xor_mapped_address);
    EXPECT_EQ(*r4->xor_mapped_address, v4("192.0.2.1", 32853));
    EXPECT_TRUE(r4->fingerprint_ok);

    const Bytes b6 = hex(kRfc5769V6Response);
    const auto r6 = decode(view(b6));
    ASSERT_TRUE(r6.ok());
    ASSERT_TRUE(r6->xor_mapped_address);
    EXPECT_EQ(*r6->xor_mapped_address, v6("2001:db8:1234:5678:11:2233:4455:6677", 32853));
    EXPECT_TRUE(r6->fingerprint_ok);
}

TEST(StunDecode, RealAllocateSuccess) {
    const Bytes b = hex(kAllocateSuccess);
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->method, Method::Allocate);
    EXPECT_EQ(r->msg_class, MessageClass::SuccessResponse);
    ASSERT_TRUE(r->xor_mapped_address);
    // Values as tshark prints them (truth.json frame 70).
    EXPECT_EQ(addr_text(*r->xor_mapped_address), "93.47.226.1");
    EXPECT_EQ(r->xor_mapped_address->port, 11162);
    ASSERT_EQ(r->xor_relayed_addresses.size(), 1u);
    EXPECT_EQ(addr_text(r->xor_relayed_addresses[0]), "31.13.86.54");
    EXPECT_EQ(r->xor_relayed_addresses[0].port, 53789);
    ASSERT_TRUE(r->lifetime_s);
    EXPECT_EQ(*r->lifetime_s, 900u);
    EXPECT_TRUE(r->message_integrity);
    EXPECT_FALSE(r->fingerprint);
}

TEST(StunDecode, ErrorCode401WithRealmAndNonce) {
    const Bytes b = hex(kAllocate401);
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->msg_class, MessageClass::ErrorResponse);
    ASSERT_TRUE(r->error_code);
    EXPECT_EQ(r->error_code->code, 401);
    EXPECT_EQ(as_text(r->error_code->reason), "unauthorized");
    EXPECT_EQ(as_text(r->realm), "turner.facebook");
    EXPECT_EQ(r->nonce.size(), 40u);
}

TEST(StunDecode, FingerprintOnRealMessages) {
    const Bytes good = hex(kBinding401Fingerprint);
    const auto g = decode(view(good));
    ASSERT_TRUE(g.ok());
    EXPECT_TRUE(g->fingerprint);
    EXPECT_TRUE(g->fingerprint_ok);
    EXPECT_EQ(g->error_code->code, 401);

    const Bytes bad = hex(kBindingBadFingerprint);
    const auto x = decode(view(bad));
    ASSERT_TRUE(x.ok());
    EXPECT_TRUE(x->fingerprint);
    EXPECT_FALSE(x->fingerprint_ok);  // agrees with tshark
    EXPECT_TRUE(x->has(Anomaly::FingerprintMismatch));

    // Flipping any covered byte breaks the CRC.
    Bytes flipped = good;
    flipped[12] ^= 0x01;
    const auto f = decode(view(flipped));
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->fingerprint_ok);
}

TEST(StunDecode, Crc32MatchesZlibCheckValue) {
    const char* s = "123456789";
    EXPECT_EQ(crc32(ByteView{reinterpret_cast<const uint8_t*>(s), 9}), 0xCBF43926u);
    // Incremental use gives the same value.
    const auto p = reinterpret_cast<const uint8_t*>(s);
    EXPECT_EQ(crc32(ByteView{p + 4, 5}, crc32(ByteView{p, 4})), 0xCBF43926u);
}

TEST(StunDecode, Ipv6XorMappedFromGoogleMeet) {
    const Bytes b = hex(kMeetV6Success);
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->xor_mapped_address);
    EXPECT_EQ(r->xor_mapped_address->family, 6);
    EXPECT_EQ(addr_text(*r->xor_mapped_address), "2001:b07:a3d:c112:48a1:1094:1227:281e");
    EXPECT_TRUE(r->fingerprint_ok);
}

TEST(StunDecode, XorPeerAddressIpv6DeXor) {
    const Bytes b = hex(kCreatePermissionV6);
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->method, Method::CreatePermission);
    ASSERT_EQ(r->xor_peer_addresses.size(), 2u);
    EXPECT_EQ(r->xor_peer_addresses[0], v6("2001:db8::1", 49152));
    EXPECT_EQ(r->xor_peer_addresses[1], v4("192.0.2.7", 3478));
    EXPECT_TRUE(r->fingerprint_ok);
    // The IPv6 key includes the transaction id: change it and the address
    // changes (while the IPv4 one does not).
    Bytes other = b;
    other[19] ^= 0xFF;
    const auto o = decode(view(other));
    ASSERT_TRUE(o.ok());
    EXPECT_NE(o->xor_peer_addresses[0], v6("2001:db8::1", 49152));
    EXPECT_EQ(o->xor_peer_addresses[1], v4("192.0.2.7", 3478));
}

TEST(StunDecode, ChannelBindCarriesChannelNumber) {
    const Bytes b = hex(kChannelBind);
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->method, Method::ChannelBind);
    ASSERT_TRUE(r->channel_number);
    EXPECT_EQ(*r->channel_number, 0x4003);
    ASSERT_EQ(r->xor_peer_addresses.size(), 1u);
}

TEST(StunDecode, ClassicRfc3489) {
    const Bytes req = hex(kClassicRequest);
    const auto q = decode(view(req));
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->variant, Variant::Classic3489);
    EXPECT_EQ(q->transaction_id.size(), 16u);
    EXPECT_EQ(to_hex(q->transaction_id), "9429ef88294dd52632c72931cb8dbb4c");

    const Bytes resp = hex(kClassicResponse);
    const auto p = decode(view(resp));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->msg_class, MessageClass::SuccessResponse);
    ASSERT_TRUE(p->mapped_address);
    EXPECT_EQ(*p->mapped_address, v4("172.16.63.224", 55050));

    const Bytes zoom = hex(kZoomClassic);
    EXPECT_TRUE(probe(view(zoom)));
    const auto z = decode(view(zoom));
    ASSERT_TRUE(z.ok());
    EXPECT_EQ(z->variant, Variant::Classic3489);
    EXPECT_EQ(z->attribute_types[0], 0x0101);
}

// Legacy [MS-TURN] Data Indication, written from the format (not copied from
// a capture): type 0x0115, length 36, a 128-bit transaction id, no RFC 5389
// cookie; MAGIC-COOKIE 0x72C64BC6 first, REMOTE-ADDRESS (0x0012, in the
// clear) 198.51.100.7:16400, DATA holding 12 bytes of an RTP header. What
// ndpi__teams.pcap's relay sends (frames 1416-1439, tshark: "Data Indication").
const char* kMsLegacyDataIndication =
    "01150024"
    "00112233445566778899aabbccddeeff"
    "000f000472c64bc6"
    "0012 0008 0001 4010 c6336407"
    "0013 000c 80600001000000a011223344";

TEST(StunDecode, LegacyMsTurnDataIndicationIsDataNotAnError) {
    const Bytes b = hex(kMsLegacyDataIndication);
    ASSERT_TRUE(probe(view(b)));
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->method, Method::Data);
    EXPECT_EQ(r->msg_class, MessageClass::Indication);
    EXPECT_EQ(r->variant, Variant::MsTurn);
    EXPECT_EQ(to_hex(r->transaction_id), "00112233445566778899aabbccddeeff");
    ASSERT_EQ(r->xor_peer_addresses.size(), 1u);
    EXPECT_EQ(r->xor_peer_addresses[0], v4("198.51.100.7", 16400)) << "REMOTE-ADDRESS is not XOR-ed";
    ASSERT_TRUE(r->data);
    EXPECT_EQ(to_hex(*r->data), "80600001000000a011223344");
    EXPECT_FALSE(r->error_code);
    // A tracker sees an indication: nothing answered, nothing refused.
    std::array<PendingTransaction, 4> slots{};
    TransactionTracker t(slots);
    EXPECT_EQ(t.on_message(*r, 1).event, TrackEvent::Indication);
    EXPECT_EQ(t.stats().requests + t.stats().unmatched_responses, 0u);
    // Every prefix: truncated or not mine; never a crash.
    for (size_t k = 0; k < b.size(); ++k) {
        const auto p = decode(ByteView{b.data(), k});
        ASSERT_FALSE(p.ok()) << k;
        EXPECT_TRUE(p.code() == DecodeErrorCode::Truncated || p.code() == DecodeErrorCode::NotThisProtocol) << k;
    }
    // Without MAGIC-COOKIE as its first attribute, or with another value, or
    // a length that does not end at the datagram's end: not STUN at all.
    Bytes no_cookie = b;
    no_cookie[21] = 0x10;  // attribute 0x0010
    EXPECT_EQ(decode(view(no_cookie)).code(), DecodeErrorCode::NotThisProtocol);
    Bytes other_value = b;
    other_value[27] ^= 1;
    EXPECT_EQ(decode(view(other_value)).code(), DecodeErrorCode::NotThisProtocol);
    Bytes longer = b;
    longer.insert(longer.end(), {0, 0, 0, 0});
    EXPECT_EQ(decode(view(longer)).code(), DecodeErrorCode::NotThisProtocol);
    Bytes bad_walk = b;
    bad_walk[31] = 0x09;  // REMOTE-ADDRESS length 9: the walk no longer ends exactly
    EXPECT_EQ(decode(view(bad_walk)).code(), DecodeErrorCode::NotThisProtocol);
}

// --- every prefix, wrong lengths, adversarial ----------------------------------

TEST(StunDecode, EveryPrefixIsTruncatedOrNotMine) {
    for (const char* fx : {kRfc5769Request, kAllocateSuccess, kAllocate401, kMeetV6Success, kCreatePermissionV6,
                           kChannelBind, kClassicResponse, kZoomClassic}) {
        const Bytes b = hex(fx);
        for (size_t k = 0; k < b.size(); ++k) {
            const auto r = decode(ByteView{b.data(), k});
            ASSERT_FALSE(r.ok()) << fx << " prefix " << k;
            EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol)
                << fx << " prefix " << k << " " << to_string(r.code());
        }
        EXPECT_TRUE(decode(view(b)).ok());
    }
}

TEST(StunDecode, WrongLengths) {
    const Bytes base = hex(kAllocateSuccess);
    // Longer than the datagram: Truncated.
    Bytes longer = base;
    longer[3] = static_cast<uint8_t>(longer[3] + 4);
    EXPECT_EQ(decode(view(longer)).code(), DecodeErrorCode::Truncated);
    // Shorter: the last attribute now runs past the message: Malformed.
    Bytes shorter = base;
    shorter[3] = static_cast<uint8_t>(shorter[3] - 4);
    EXPECT_EQ(decode(view(shorter)).code(), DecodeErrorCode::Malformed);
    // Extra bytes after a complete message: decoded, flagged.
    Bytes trailing = base;
    trailing.insert(trailing.end(), {0, 0, 0, 0});
    const auto t = decode(view(trailing));
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(t->has(Anomaly::TrailingBytes));
    EXPECT_FALSE(probe(ByteView{trailing.data(), 19}));
    // Classic: length must match the datagram exactly, else not STUN at all.
    Bytes classic = hex(kClassicResponse);
    classic.push_back(0);
    EXPECT_EQ(decode(view(classic)).code(), DecodeErrorCode::NotThisProtocol);
}

TEST(StunDecode, ZeroLengthAttributes) {
    // Binding request: USERNAME (len 0), USE-CANDIDATE (len 0),
    // XOR-MAPPED-ADDRESS (len 0, invalid), DATA (len 0).
    const Bytes b =
        hex("000100102112a442000000000000000000000001"
            "00060000"
            "00250000"
            "00200000"
            "00130000");
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->attribute_count, 4);
    EXPECT_TRUE(r->username.empty());
    EXPECT_FALSE(r->xor_mapped_address);
    EXPECT_TRUE(r->has(Anomaly::BadAttributeLength));
    ASSERT_TRUE(r->data);
    EXPECT_TRUE(r->data->empty());
}

TEST(StunDecode, OverlongAttributeIsMalformed) {
    // SOFTWARE claims 0xFFFF bytes inside an 8-byte message.
    const Bytes b =
        hex("000100082112a442000000000000000000000001"
            "8022ffff41414141");
    EXPECT_EQ(decode(view(b)).code(), DecodeErrorCode::Malformed);
    // Attribute header cut by the message length.
    const Bytes c =
        hex("000100022112a442000000000000000000000001"
            "8022");
    EXPECT_EQ(decode(view(c)).code(), DecodeErrorCode::Malformed);
    // Attribute length inside the message but its padding outside, and no
    // unpadded reading fits either.
    const Bytes d =
        hex("000100082112a442000000000000000000000001"
            "0006000541414141");
    EXPECT_EQ(decode(view(d)).code(), DecodeErrorCode::Malformed);
}

TEST(StunDecode, UnpaddedAttributesAccepted) {
    // MS-TURN style: USERNAME of 5 bytes without padding, then LIFETIME.
    const Bytes b =
        hex("000300112112a442000000000000000000000001"
            "000600054142434445"
            "000d000400000258");
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->has(Anomaly::UnpaddedAttributes));
    EXPECT_TRUE(r->has(Anomaly::LengthNotMultipleOf4));
    EXPECT_EQ(as_text(r->username), "ABCDE");
    EXPECT_EQ(*r->lifetime_s, 600u);
}

TEST(StunDecode, MsTurnSwapsRealmAndNonce) {
    // MAGIC-COOKIE attribute, then 0x0014 (NONCE in MS-TURN) and 0x0015 (REALM).
    const Bytes b =
        hex("000300182112a442000000000000000000000001"
            "000f000472c64bc6"
            "001400026e6e0000"
            "001500027272"
            "0000");
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->variant, Variant::MsTurn);
    EXPECT_EQ(as_text(r->realm), "rr");
    EXPECT_EQ(as_text(r->nonce), "nn");
}

TEST(StunDecode, OrderingAnomaliesAndDuplicates) {
    // USERNAME, MESSAGE-INTEGRITY, USERNAME again, FINGERPRINT, LIFETIME.
    Bytes b =
        hex("000100382112a442000000000000000000000001"
            "0006000461616161"
            "00080014"
            "0000000000000000000000000000000000000000"
            "0006000462626262"
            "8028000400000000"
            "000d000400000001");
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->has(Anomaly::AttributeAfterIntegrity));
    EXPECT_TRUE(r->has(Anomaly::AttributeAfterFingerprint));
    EXPECT_TRUE(r->has(Anomaly::DuplicateAttribute));
    EXPECT_TRUE(r->has(Anomaly::FingerprintMismatch));
    EXPECT_EQ(as_text(r->username), "aaaa");
}

TEST(StunDecode, ListsOverflowWithoutFailing) {
    // 40 PRIORITY attributes and 10 XOR-PEER-ADDRESS attributes.
    Bytes b = hex("000800002112a442000000000000000000000001");
    for (int i = 0; i < 40; ++i) {
        const Bytes a = hex("0024000400000001");
        b.insert(b.end(), a.begin(), a.end());
    }
    for (int i = 0; i < 10; ++i) {
        const Bytes a = hex("0012000800011234e112a643");
        b.insert(b.end(), a.begin(), a.end());
    }
    const size_t len = b.size() - 20;
    b[2] = static_cast<uint8_t>(len >> 8);
    b[3] = static_cast<uint8_t>(len);
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->attribute_count, 50);
    EXPECT_TRUE(r->attribute_types.overflowed());
    EXPECT_EQ(r->xor_peer_addresses.size(), kMaxPeerAddresses);
    EXPECT_TRUE(r->xor_peer_addresses.overflowed());
}

TEST(StunDecode, BadAddressFamily) {
    const Bytes b =
        hex("010100102112a442000000000000000000000001"
            "0020000c00031234e112a64300000000");
    const auto r = decode(view(b));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->xor_mapped_address);
    EXPECT_TRUE(r->has(Anomaly::BadAddressFamily));
}

// --- heuristic accept / reject --------------------------------------------------

TEST(StunProbe, AcceptList) {
    for (const char* fx : {kMinimalBinding, kRfc5769Request, kAllocateSuccess, kAllocate401, kMeetV6Success,
                           kClassicRequest, kClassicResponse, kZoomClassic}) {
        EXPECT_TRUE(probe(view(hex(fx)))) << fx;
    }
}

TEST(StunProbe, RejectList) {
    const char* reject[] = {
        // DNS query for example.com with transaction id 0x0001 (first byte in
        // STUN's range): classic checks must refuse it.
        "000101000001000000000000076578616d706c6503636f6d0000010001",
        // DNS response id 0x0101.
        "01018180000100010000000007657861"
        "6d706c6503636f6d0000010001c00c000100010000012c00045db8d822",
        // QUIC v1 Initial header.
        "c300000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11",
        // RTP (g729, ndpi__stun_classic.pcap frame 4).
        "8012ae1604e9fa383aa6d922c4532097ca1bd297ab78d2acb2c3ebe25cc55cda",
        // DTLS ClientHello record header.
        "16feff00000000000000000080010000740000000000000074fefd",
        // TURN ChannelData.
        kChannelData,
        // Classic-looking type and length but the attribute walk overruns.
        "000100089429ef88294dd52632c72931cb8dbb4c0003000800000000",
        // Classic-looking but unknown type 0x0003.
        "000300009429ef88294dd52632c72931cb8dbb4c",
    };
    for (const char* fx : reject) {
        EXPECT_FALSE(probe(view(hex(fx)))) << fx;
        EXPECT_FALSE(decode(view(hex(fx))).ok()) << fx;
    }
}

TEST(StunProbe, RandomDatagramsAreNotStun) {
    std::mt19937 rng(1234);
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes b(24 + 4 * (rng() % 16));
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        b[0] = static_cast<uint8_t>(b[0] & 0x03);  // STUN's first-byte range
        if (i % 2 == 0) {  // plausible classic type + length
            b[0] = 0x00;
            b[1] = 0x01;
            b[2] = 0;
            b[3] = static_cast<uint8_t>(b.size() - 20);
        }
        accepted += probe(view(b)) ? 1 : 0;
    }
    // Even with type and length right, the attribute walk must land exactly
    // on the end (~2^-16 per attribute header). A bare 20-byte classic
    // Binding request "0001 0000 <id>" is accepted by design (2^-32 by chance).
    EXPECT_LE(accepted, 2);
}

// --- ChannelData and MS multiplexed TURN ----------------------------------------

TEST(ChannelData, RealFrame) {
    const Bytes b = hex(kChannelData);
    const auto r = decode_channel_data(view(b), false);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, ChannelKind::Rfc);
    EXPECT_EQ(r->channel, 0x4003);
    EXPECT_EQ(r->length, 0x16);
    EXPECT_EQ(r->payload.size(), 0x16u);
    EXPECT_EQ(r->payload[0], 0x80);
    EXPECT_EQ(r->size, b.size());
    EXPECT_FALSE(decode(view(b)).ok());
}

TEST(ChannelData, PaddingUdpAndTcp) {
    // 3 bytes of data: unpadded and padded are both fine over UDP.
    EXPECT_TRUE(decode_channel_data(view(hex("40000003616263")), false).ok());
    EXPECT_TRUE(decode_channel_data(view(hex("4000000361626300")), false).ok());
    // Over TCP the padding is mandatory and the next frame may follow.
    EXPECT_EQ(decode_channel_data(view(hex("40000003616263")), true).code(), DecodeErrorCode::Truncated);
    const auto t = decode_channel_data(view(hex("4000000361626300"
                                                "40010000")),
                                       true);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->size, 8u);
    // More than the padding over UDP: the length lies.
    EXPECT_EQ(decode_channel_data(view(hex("400000036162630000000000")), false).code(), DecodeErrorCode::Malformed);
}

TEST(ChannelData, LyingLengthAndPrefixes) {
    // Length says 0x100 bytes, 4 present.
    EXPECT_EQ(decode_channel_data(view(hex("4001010041414141")), false).code(), DecodeErrorCode::Truncated);
    const Bytes b = hex(kChannelData);
    for (size_t k = 0; k < b.size(); ++k) {
        const auto r = decode_channel_data(ByteView{b.data(), k}, false);
        ASSERT_FALSE(r.ok());
        EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol);
    }
    // Not ChannelData at all.
    EXPECT_EQ(decode_channel_data(view(hex(kMinimalBinding)), false).code(), DecodeErrorCode::NotThisProtocol);
    EXPECT_EQ(decode_channel_data(view(hex("8012ae16")), false).code(), DecodeErrorCode::NotThisProtocol);
}

TEST(ChannelData, ReservedRangeFlagged) {
    const auto r = decode_channel_data(view(hex("7fff0000")), false);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE((r->anomalies & bit(Anomaly::ReservedChannel)) != 0);
}

TEST(ChannelData, MsMultiplexedTurn) {
    // 0xFF10, length 12: 8-byte session id + 4 bytes of data.
    const Bytes b =
        hex("ff10000c"
            "0102030405060708"
            "80c90001");
    const auto r = decode_channel_data(view(b), false);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, ChannelKind::MsMultiplexed);
    EXPECT_EQ(r->channel, kMsMultiplexedChannel);
    EXPECT_EQ(to_hex(r->session_id), "0102030405060708");
    EXPECT_EQ(to_hex(r->payload), "80c90001");
    // Shorter than a session id: malformed; other 0xFFxx: not this.
    EXPECT_EQ(decode_channel_data(view(hex("ff1000020102")), false).code(), DecodeErrorCode::Malformed);
    EXPECT_EQ(decode_channel_data(view(hex("ff11000c0102030405060708")), false).code(),
              DecodeErrorCode::NotThisProtocol);
}

// --- stream framing ---------------------------------------------------------------

struct Collected {
    std::vector<std::pair<FrameKind, Bytes>> frames;
};

void drain(StreamFramer& f, Collected& out) {
    while (auto fr = f.next()) out.frames.emplace_back(fr->kind, Bytes(fr->bytes.begin(), fr->bytes.end()));
}

TEST(StreamFramer, TwoMessagesInOneSegmentAndOneSplitAcrossThree) {
    const Bytes a = hex(kAllocateRequest);
    const Bytes b = hex(kAllocate401);
    const Bytes c = hex(kAllocateSuccess);
    std::array<uint8_t, 512> buf{};
    StreamFramer f(buf);
    Collected out;

    Bytes seg1 = a;
    seg1.insert(seg1.end(), b.begin(), b.end());
    f.feed(view(seg1));
    drain(f, out);
    ASSERT_EQ(out.frames.size(), 2u);
    EXPECT_EQ(out.frames[0].second, a);
    EXPECT_EQ(out.frames[1].second, b);
    EXPECT_EQ(f.framing(), StreamFraming::Direct);

    // c split 5 / 30 / rest.
    f.feed(ByteView{c.data(), 5});
    drain(f, out);
    EXPECT_EQ(out.frames.size(), 2u);
    f.feed(ByteView{c.data() + 5, 30});
    drain(f, out);
    EXPECT_EQ(out.frames.size(), 2u);
    f.feed(ByteView{c.data() + 35, c.size() - 35});
    drain(f, out);
    ASSERT_EQ(out.frames.size(), 3u);
    EXPECT_EQ(out.frames[2].first, FrameKind::Stun);
    EXPECT_EQ(out.frames[2].second, c);
    EXPECT_TRUE(decode(view(out.frames[2].second)).ok());
    EXPECT_FALSE(f.gave_up());
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(StreamFramer, ChannelDataAndStunInterleavedByteByByte) {
    const Bytes a = hex(kAllocateRequest);
    const Bytes cd =
        hex("40010005"
            "6162636465"
            "000000");  // padded to 12
    const Bytes cd0 = hex("40020000");  // empty payload
    const Bytes b = hex(kAllocate401);
    Bytes stream;
    for (const Bytes* p : {&a, &cd, &cd0, &b, &cd}) stream.insert(stream.end(), p->begin(), p->end());
    std::array<uint8_t, 256> buf{};
    StreamFramer f(buf);
    Collected out;
    for (uint8_t byte : stream) {
        f.feed(ByteView{&byte, 1});
        drain(f, out);
    }
    ASSERT_EQ(out.frames.size(), 5u);
    EXPECT_EQ(out.frames[1].first, FrameKind::ChannelData);
    EXPECT_EQ(out.frames[1].second, cd);
    EXPECT_EQ(out.frames[2].second, cd0);
    EXPECT_EQ(out.frames[3].second, b);
    const auto d = decode_channel_data(view(out.frames[4].second), true);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(as_text(d->payload), "abcde");
}

TEST(StreamFramer, Rfc4571FramingFromIceTcp) {
    // ndpi__stun.pcap tcp:0 frame 3 (RFC 4571 length 0x68 then a Binding request).
    const Bytes seg =
        hex("0068000100542112a442f3439453b698fb2950bb06ed000600092f7049303a546f4564"
            "000000002400046e6bfcff80290008000000000004c2d18054000132000000807000040"
            "000000300080014fe92876ad46d7b797d42eb8d79a805faf31d72d1802800040200fc47");
    std::array<uint8_t, 256> buf{};
    StreamFramer f(buf);
    Collected out;
    f.feed(view(seg));
    drain(f, out);
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(f.framing(), StreamFraming::Rfc4571);
    EXPECT_EQ(out.frames[0].first, FrameKind::Stun);
    const auto m = decode(view(out.frames[0].second));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(as_text(m->username), "/pI0:ToEd");
    EXPECT_TRUE(m->fingerprint_ok);
    // A media packet in the same framing is passed through as such.
    const Bytes media = hex("000c8012ae1604e9fa383aa6d922");
    f.feed(view(media));
    drain(f, out);
    ASSERT_EQ(out.frames.size(), 2u);
    EXPECT_EQ(out.frames[1].first, FrameKind::Rfc4571Payload);
}

TEST(StreamFramer, GivesUpOnNonStunStreams) {
    for (const char* fx :
         {"160301020001000100fe", "474554202f20485454502f312e310d0a", "000100002112a443000000000000000000000000"}) {
        std::array<uint8_t, 64> buf{};
        StreamFramer f(buf);
        const Bytes first = hex(fx);
        f.feed(view(first));
        EXPECT_FALSE(f.next().has_value());
        EXPECT_TRUE(f.gave_up()) << fx;
        EXPECT_EQ(f.give_up_reason(), GiveUpReason::NotStunFramed);
        const Bytes later = hex(kMinimalBinding);
        f.feed(view(later));
        EXPECT_FALSE(f.next().has_value());  // sticky
    }
    // Valid first message, then garbage at the next boundary.
    std::array<uint8_t, 64> buf{};
    StreamFramer f(buf);
    Bytes s = hex(kMinimalBinding);
    const Bytes junk = hex("deadbeefdeadbeef");
    s.insert(s.end(), junk.begin(), junk.end());
    f.feed(view(s));
    EXPECT_TRUE(f.next().has_value());
    EXPECT_FALSE(f.next().has_value());
    EXPECT_TRUE(f.gave_up());
    // STUN length not a multiple of 4.
    StreamFramer g(buf);
    const Bytes odd = hex("000100052112a442000000000000000000000001");
    g.feed(view(odd));
    EXPECT_FALSE(g.next().has_value());
    EXPECT_EQ(g.give_up_reason(), GiveUpReason::BadLength);
}

TEST(StreamFramer, OversizeFrameSkippedKeepsSync) {
    // A 600-byte ChannelData split over two feeds with a 64-byte buffer,
    // followed by a Binding request: the big frame is skipped, sync kept.
    Bytes big = hex("40000254");
    big.resize(4 + 596, 0xAB);
    const Bytes after = hex(kMinimalBinding);
    Bytes s = big;
    s.insert(s.end(), after.begin(), after.end());
    std::array<uint8_t, 64> buf{};
    StreamFramer f(buf);
    Collected out;
    f.feed(ByteView{s.data(), 100});
    drain(f, out);
    f.feed(ByteView{s.data() + 100, s.size() - 100});
    drain(f, out);
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0].second, after);
    EXPECT_EQ(f.oversize_skipped(), 1u);
    // The same frame inside one segment is returned zero-copy regardless.
    StreamFramer g(buf);
    Collected out2;
    g.feed(view(s));
    drain(g, out2);
    EXPECT_EQ(out2.frames.size(), 2u);
}

TEST(StreamFramer, TooSmallBufferGivesUp) {
    std::array<uint8_t, 8> buf{};
    StreamFramer f(buf);
    const Bytes m = hex(kMinimalBinding);
    f.feed(view(m));
    EXPECT_FALSE(f.next().has_value());
    EXPECT_EQ(f.give_up_reason(), GiveUpReason::BufferFull);
}

TEST(StreamFramer, RandomSplitsMatchWholeStream) {
    const Bytes a = hex(kAllocateRequest);
    const Bytes b = hex(kAllocate401);
    const Bytes cd =
        hex("40010005"
            "6162636465"
            "000000");
    Bytes stream;
    for (int i = 0; i < 20; ++i) {
        for (const Bytes* p : {&a, &cd, &b}) stream.insert(stream.end(), p->begin(), p->end());
    }
    std::mt19937 rng(7);
    for (int trial = 0; trial < 50; ++trial) {
        std::array<uint8_t, 128> buf{};
        StreamFramer f(buf);
        Collected out;
        size_t at = 0;
        while (at < stream.size()) {
            const size_t n = std::min<size_t>(1 + rng() % 150, stream.size() - at);
            f.feed(ByteView{stream.data() + at, n});
            drain(f, out);
            at += n;
        }
        ASSERT_EQ(out.frames.size(), 60u) << trial;
        for (size_t i = 0; i < out.frames.size(); ++i) {
            const Bytes* want = i % 3 == 0 ? &a : i % 3 == 1 ? &cd : &b;
            ASSERT_EQ(out.frames[i].second, *want) << trial << " " << i;
        }
    }
}

// --- transaction tracker ------------------------------------------------------------

Message msg(const char* fx, Bytes& store) {
    store = hex(fx);
    auto r = decode(view(store));
    EXPECT_TRUE(r.ok()) << fx;
    return *r;
}

TEST(TransactionTracker, AnsweredUnansweredAndError401) {
    std::array<PendingTransaction, 8> slots{};
    TransactionTracker t(slots);
    Bytes s1, s2, s3, s4, s5;
    // ndpi__stun.pcap frames 16 (request) and 18 (success, same txid).
    const auto req = msg(kMinimalBinding, s1);
    const auto ok = msg("0101000c2112a44253486b6846386f64776779560020000800017d527c3d45a3", s2);
    EXPECT_EQ(t.on_message(req, 1000).event, TrackEvent::Request);
    EXPECT_EQ(t.on_message(req, 1500).event, TrackEvent::Retransmission);
    const auto a = t.on_message(ok, 21000);
    EXPECT_EQ(a.event, TrackEvent::Answered);
    EXPECT_EQ(a.rtt_us, 20000u);
    EXPECT_EQ(t.on_message(ok, 22000).event, TrackEvent::DuplicateResponse);

    // Allocate request (frame 67) answered by 401 (frame 68).
    const auto alloc = msg(kAllocateRequest, s3);
    const auto e401 = msg(kAllocate401, s4);
    EXPECT_EQ(t.on_message(alloc, 30000).event, TrackEvent::Request);
    const auto e = t.on_message(e401, 40000);
    EXPECT_EQ(e.event, TrackEvent::ErrorAnswered);
    EXPECT_EQ(e.error_code, 401);

    // A request that never gets an answer.
    const auto lonely = msg(kCreatePermissionV6, s5);
    EXPECT_EQ(t.on_message(lonely, 50000).event, TrackEvent::Request);
    EXPECT_EQ(t.outstanding(), 1u);
    t.expire(50000 + 39'000'000, 40'000'000);
    EXPECT_EQ(t.outstanding(), 1u);
    t.expire(50000 + 40'000'000, 40'000'000);
    EXPECT_EQ(t.outstanding(), 0u);

    const auto& st = t.stats();
    EXPECT_EQ(st.requests, 3u);
    EXPECT_EQ(st.retransmissions, 1u);
    EXPECT_EQ(st.answered, 1u);
    EXPECT_EQ(st.error_answered, 1u);
    EXPECT_EQ(st.duplicate_responses, 1u);
    EXPECT_EQ(st.unanswered, 1u);
    EXPECT_EQ(st.unanswered_by_method[static_cast<size_t>(Method::CreatePermission)], 1u);
    EXPECT_EQ(st.errors_by_method[static_cast<size_t>(Method::Allocate)], 1u);
    ASSERT_EQ(st.error_codes.size(), 1u);
    EXPECT_EQ(st.error_codes[0].code, 401);
    EXPECT_EQ(st.error_codes[0].count, 1u);
}

// Zoom's 3478 answers each classic Binding Request with a type 0x0002
// message carrying the request's 128-bit id (ndpi__zoom.pcap frames 34, 60):
// an answer, not the far end's own request.
TEST(TransactionTracker, OtherMethodWithOurIdAnswersOurRequest) {
    std::array<PendingTransaction, 4> slots{};
    TransactionTracker t(slots);
    Bytes s1, s2, s3;
    const auto req = msg(kClassicRequest, s1);
    const auto answer = msg("000200009429ef88294dd52632c72931cb8dbb4c", s2);
    EXPECT_EQ(t.on_message(req, 1000).event, TrackEvent::Request);
    EXPECT_EQ(t.on_message(req, 11000).event, TrackEvent::Retransmission);
    const auto a = t.on_message(answer, 61000);
    EXPECT_EQ(a.event, TrackEvent::Answered);
    EXPECT_EQ(a.rtt_us, 60000u);
    EXPECT_EQ(t.on_message(answer, 62000).event, TrackEvent::DuplicateResponse);
    // Another id is a request of its own.
    const auto other = msg("00020000aaaaef88294dd52632c72931cb8dbb4c", s3);
    EXPECT_EQ(t.on_message(other, 63000).event, TrackEvent::Request);
    t.finish();
    EXPECT_EQ(t.stats().requests, 2u);
    EXPECT_EQ(t.stats().answered, 1u);
    EXPECT_EQ(t.stats().unanswered, 1u);
}

TEST(TransactionTracker, UnmatchedResponseAndFinish) {
    std::array<PendingTransaction, 4> slots{};
    TransactionTracker t(slots);
    Bytes s1, s2;
    // A 403 whose request predates the capture (ndpi__stun.pcap frame 73).
    const auto forbidden =
        msg("0118005c2112a44246622f5231503570504d59640009001500000403466f7262696464656e"
            "204164647265737300000000150028633130333164363132343263336137336264306431"
            "373037643333396134666265386433616434650014000f7475726e65722e66616365626f"
            "6f6b00",
            s1);
    const auto r = t.on_message(forbidden, 1);
    EXPECT_EQ(r.event, TrackEvent::UnmatchedResponse);
    EXPECT_EQ(r.error_code, 403);
    EXPECT_EQ(t.on_message(msg(kAllocateRequest, s2), 2).event, TrackEvent::Request);
    t.finish();
    EXPECT_EQ(t.stats().unmatched_responses, 1u);
    EXPECT_EQ(t.stats().unanswered, 1u);
    EXPECT_EQ(t.stats().unanswered_by_method[static_cast<size_t>(Method::Allocate)], 1u);
    EXPECT_EQ(t.stats().error_codes[0].code, 403);
}

TEST(TransactionTracker, EvictionIsCounted) {
    std::array<PendingTransaction, 2> slots{};
    TransactionTracker t(slots);
    Bytes b = hex(kMinimalBinding);
    for (uint8_t i = 0; i < 5; ++i) {
        b[19] = i;
        const auto m = decode(view(b));
        ASSERT_TRUE(m.ok());
        EXPECT_EQ(t.on_message(*m, i).event, TrackEvent::Request);
    }
    EXPECT_EQ(t.stats().evicted, 3u);
    EXPECT_EQ(t.outstanding(), 2u);
    // Indications are ignored.
    Bytes ind = hex("001600002112a442000000000000000000000009");
    EXPECT_EQ(t.on_message(*decode(view(ind)), 9).event, TrackEvent::Indication);
}

// --- ChannelData validator -----------------------------------------------------------

TEST(ChannelValidator, BoundChannelAcceptedAtOnce) {
    ChannelValidator v;
    Bytes s;
    v.on_message(msg(kChannelBind, s));
    EXPECT_TRUE(v.is_accepted(0x4003));
    EXPECT_EQ(v.on_datagram(view(hex(kChannelData))), ChannelVerdict::Accepted);
}

TEST(ChannelValidator, UnboundNeedsConsistentPackets) {
    ChannelValidator v;
    const Bytes cd = hex(kChannelData);
    EXPECT_EQ(v.on_datagram(view(cd)), ChannelVerdict::Candidate);
    EXPECT_EQ(v.on_datagram(view(cd)), ChannelVerdict::Candidate);
    EXPECT_EQ(v.on_datagram(view(cd)), ChannelVerdict::Accepted);  // N = 3
    EXPECT_EQ(v.on_datagram(view(cd)), ChannelVerdict::Accepted);

    // A lying length in between resets the streak.
    ChannelValidator w;
    EXPECT_EQ(w.on_datagram(view(cd)), ChannelVerdict::Candidate);
    EXPECT_EQ(w.on_datagram(view(cd)), ChannelVerdict::Candidate);
    EXPECT_EQ(w.on_datagram(view(hex("4003009941414141"))), ChannelVerdict::Rejected);
    EXPECT_EQ(w.on_datagram(view(cd)), ChannelVerdict::Candidate);
    w.on_other_datagram();
    EXPECT_EQ(w.on_datagram(view(cd)), ChannelVerdict::Candidate);
    EXPECT_FALSE(w.is_accepted(0x4003));

    // Unbound channels outside 0x4000-0x4FFF are refused.
    ChannelValidator x;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(x.on_datagram(view(hex("6001000141000000"))), ChannelVerdict::Rejected);
}

TEST(ChannelValidator, RandomDatagramsNeverConfirm) {
    std::mt19937 rng(99);
    ChannelValidator v;
    for (int i = 0; i < 5000; ++i) {
        Bytes b(8 + rng() % 200);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        b[0] = static_cast<uint8_t>(0x40 | (b[0] & 0x0F));
        EXPECT_NE(v.on_datagram(view(b)), ChannelVerdict::Accepted);
    }
}

// --- robustness -----------------------------------------------------------------------

TEST(StunRobustness, RandomInputNeverCrashes) {
    std::mt19937 rng(42);
    std::array<uint8_t, 96> buf{};
    StreamFramer f(buf);
    for (int i = 0; i < 20000; ++i) {
        Bytes b(rng() % 80);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        if (!b.empty() && i % 3 == 0) b[0] &= 0x03;
        if (b.size() >= 8 && i % 2 == 0) {
            b[4] = 0x21;
            b[5] = 0x12;
            b[6] = 0xa4;
            b[7] = 0x42;
        }
        (void)decode(view(b));
        (void)probe(view(b));
        (void)decode_channel_data(view(b), i % 2 == 0);
        f.feed(view(b));
        while (f.next()) {}
        if (f.gave_up()) f = StreamFramer(buf);
    }
}

// --- conformance with tshark on the public captures -----------------------------------

struct FixtureRow {
    std::string capture;
    int frame = 0;
    std::string transport, kind, stream, crc_status;
    Bytes payload;
};

std::vector<FixtureRow> load_stun_fixture() {
    std::vector<FixtureRow> rows;
    std::ifstream in(fixture_dir() / "stun_messages.tsv");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        FixtureRow r;
        std::string frame, payload;
        std::getline(ss, r.capture, '\t');
        std::getline(ss, frame, '\t');
        std::getline(ss, r.transport, '\t');
        std::getline(ss, r.kind, '\t');
        std::getline(ss, r.stream, '\t');
        std::getline(ss, r.crc_status, '\t');
        std::getline(ss, payload, '\t');
        r.frame = std::stoi(frame);
        r.payload = hex(payload);
        rows.push_back(std::move(r));
    }
    return rows;
}

TEST(StunConformance, FixtureDecodesWithoutSharedDir) {
    // Runs everywhere: every fixture message/ChannelData decodes, and TCP
    // streams frame without giving up.
    const auto rows = load_stun_fixture();
    ASSERT_GT(rows.size(), 250u);
    for (const auto& r : rows) {
        if (r.kind == "stun") {
            const auto m = decode(view(r.payload));
            ASSERT_TRUE(m.ok()) << r.capture << " frame " << r.frame;
            EXPECT_FALSE(m->has(Anomaly::TrailingBytes)) << r.capture << " " << r.frame;
            if (r.crc_status != "-") {
                EXPECT_TRUE(m->fingerprint);
                EXPECT_EQ(m->fingerprint_ok, r.crc_status == "1") << r.capture << " " << r.frame;
            }
        } else if (r.kind == "cd") {
            EXPECT_TRUE(decode_channel_data(view(r.payload), false).ok()) << r.capture << " " << r.frame;
        }
    }
}

#ifdef CALLWALL_HAVE_JSON
std::filesystem::path shared_public() {
#ifdef CALLWALL_SHARED_DIR
    return std::filesystem::path(CALLWALL_SHARED_DIR) / "captures/public";
#else
    return {};
#endif
}

nlohmann::json load_truth(const std::string& capture) {
    std::ifstream in(shared_public() / (capture + ".truth.json"));
    return nlohmann::json::parse(in);
}

std::string class_name(MessageClass c) { return std::string(to_string(c)); }

TEST(StunConformance, MatchesTsharkOnPublicCaptures) {
#ifndef CALLWALL_SHARED_DIR
    GTEST_SKIP() << "CALLWALL_SHARED_DIR not defined";
#endif
    if (!std::filesystem::is_directory(shared_public())) GTEST_SKIP() << "no " << shared_public();
    const auto rows = load_stun_fixture();
    std::map<std::string, nlohmann::json> truth;
    int compared = 0;
    for (const auto& r : rows) {
        if (r.transport != "udp") continue;
        if (!truth.count(r.capture)) truth[r.capture] = load_truth(r.capture);
        const auto& s = truth[r.capture]["stun"];
        if (r.kind == "cd") {
            for (const auto& c : s["channeldata"]) {
                if (c["frame"] != r.frame) continue;
                const auto d = decode_channel_data(view(r.payload), false);
                ASSERT_TRUE(d.ok());
                EXPECT_EQ(d->channel, std::stoi(c["channel"].get<std::string>(), nullptr, 16));
                EXPECT_EQ(d->length, c["length"].get<int>());
                ++compared;
            }
            continue;
        }
        const nlohmann::json* tm = nullptr;
        for (const auto& m : s["messages"]) {
            if (m["frame"] == r.frame) tm = &m;
        }
        ASSERT_NE(tm, nullptr) << r.capture << " " << r.frame;
        const auto m = decode(view(r.payload));
        ASSERT_TRUE(m.ok()) << r.capture << " " << r.frame;
        const std::string where = r.capture + " frame " + std::to_string(r.frame);
        EXPECT_EQ(to_hex(m->transaction_id), (*tm)["transaction_id"].get<std::string>()) << where;
        if (tm->contains("classic_rfc3489")) {
            EXPECT_EQ(m->variant, Variant::Classic3489) << where;
            ++compared;
            continue;
        }
        EXPECT_NE(m->variant, Variant::Classic3489) << where;
        std::string method(to_string(m->method));
        if ((*tm)["method_name"] != "Unknown") {
            EXPECT_EQ(method, (*tm)["method_name"]) << where;
        }
        EXPECT_EQ(class_name(m->msg_class), (*tm)["class"]) << where;
        // The oracle's attribute list omits some unknown types (WhatsApp's
        // 0x4000 in stun_wa_call / wa_voice) although tshark walks them, so
        // compare as "every attribute the oracle names is ours, in order".
        EXPECT_GE(m->attribute_count, (*tm)["attributes"].size()) << where;
        {
            size_t j = 0;
            for (const auto& name : (*tm)["attributes"]) {
                const std::string n = name;
                while (j < m->attribute_types.size()) {
                    const std::string mine(attribute_name(m->attribute_types[j]));
                    char num[8];
                    std::snprintf(num, sizeof num, "0x%04x", m->attribute_types[j]);
                    ++j;
                    if (mine == n || num == n) break;
                    if (j == m->attribute_types.size()) ADD_FAILURE() << where << " missing " << n;
                }
            }
        }
        if (tm->contains("username")) {
            EXPECT_EQ(as_text(m->username), (*tm)["username"]) << where;
        }
        if (tm->contains("realm")) {
            EXPECT_EQ(as_text(m->realm), (*tm)["realm"]) << where;
        }
        if (tm->contains("software")) {
            EXPECT_EQ(as_text(m->software), (*tm)["software"]) << where;
        }
        if (tm->contains("error_code")) {
            ASSERT_TRUE(m->error_code) << where;
            EXPECT_EQ(m->error_code->code, (*tm)["error_code"].get<int>()) << where;
        }
        if (tm->contains("lifetime")) {
            ASSERT_TRUE(m->lifetime_s) << where;
            EXPECT_EQ(std::to_string(*m->lifetime_s), (*tm)["lifetime"]) << where;
        }
        if (tm->contains("channel_number")) {
            ASSERT_TRUE(m->channel_number) << where;
            EXPECT_EQ(*m->channel_number, std::stoi((*tm)["channel_number"].get<std::string>(), nullptr, 16));
        }
        if (tm->contains("addresses")) {
            size_t peer = 0, relayed = 0;
            for (const auto& a : (*tm)["addresses"]) {
                const std::string kind = a["attribute"];
                const Address* got = nullptr;
                if (kind == "XOR-MAPPED-ADDRESS" && m->xor_mapped_address) got = &*m->xor_mapped_address;
                if (kind == "MAPPED-ADDRESS" && m->mapped_address) got = &*m->mapped_address;
                if (kind == "XOR-PEER-ADDRESS" && peer < m->xor_peer_addresses.size()) {
                    got = &m->xor_peer_addresses[peer++];
                }
                if (kind == "XOR-RELAYED-ADDRESS" && relayed < m->xor_relayed_addresses.size()) {
                    got = &m->xor_relayed_addresses[relayed++];
                }
                if (kind != "XOR-MAPPED-ADDRESS" && kind != "MAPPED-ADDRESS" && kind != "XOR-PEER-ADDRESS" &&
                    kind != "XOR-RELAYED-ADDRESS") {
                    continue;  // RESPONSE-ORIGIN, OTHER-ADDRESS: not decoded
                }
                ASSERT_NE(got, nullptr) << where << " " << kind;
                EXPECT_EQ(addr_text(*got), a["address"].get<std::string>()) << where << " " << kind;
                EXPECT_EQ(got->port, a["port"].get<int>()) << where << " " << kind;
            }
        }
        ++compared;
    }
    EXPECT_GT(compared, 250);
}

TEST(StunConformance, TcpStreamsFrameLikeTshark) {
#ifndef CALLWALL_SHARED_DIR
    GTEST_SKIP() << "CALLWALL_SHARED_DIR not defined";
#endif
    if (!std::filesystem::is_directory(shared_public())) GTEST_SKIP() << "no " << shared_public();
    const auto rows = load_stun_fixture();
    for (const size_t chunk : {size_t{0}, size_t{1}, size_t{7}}) {
        // Per (capture, stream:srcport) framer; per (capture, stream) the
        // decoded transaction ids in order.
        std::map<std::string, std::unique_ptr<std::array<uint8_t, 2048>>> bufs;
        std::map<std::string, std::unique_ptr<StreamFramer>> framers;
        std::map<std::string, std::vector<std::string>> ids_by_flow;
        std::map<std::string, std::vector<std::string>> framing_by_flow;
        for (const auto& r : rows) {
            if (r.transport != "tcp") continue;
            const std::string key = r.capture + "|" + r.stream;
            const std::string flow = r.capture + "|tcp:" + r.stream.substr(0, r.stream.find(':'));
            auto& fr = framers[key];
            if (!fr) {
                bufs[key] = std::make_unique<std::array<uint8_t, 2048>>();
                fr = std::make_unique<StreamFramer>(*bufs[key]);
            }
            const auto consume = [&](ByteView seg) {
                fr->feed(seg);
                while (auto f = fr->next()) {
                    if (f->kind != FrameKind::Stun) continue;
                    const auto m = decode(f->bytes);
                    ASSERT_TRUE(m.ok()) << key;
                    ids_by_flow[flow].push_back(to_hex(m->transaction_id));
                }
            };
            if (chunk == 0) {
                consume(view(r.payload));
            } else {
                for (size_t at = 0; at < r.payload.size(); at += chunk) {
                    consume(ByteView{r.payload.data() + at, std::min(chunk, r.payload.size() - at)});
                }
            }
            EXPECT_FALSE(fr->gave_up()) << key;
        }
        ASSERT_EQ(ids_by_flow.size(), 4u);  // turn tcp:0, stun tcp:0/1, multiple tcp:0
        for (const auto& [flow, ids] : ids_by_flow) {
            const std::string capture = flow.substr(0, flow.find('|'));
            const std::string flow_id = flow.substr(flow.find('|') + 1);
            const auto t = load_truth(capture);
            std::multiset<std::string> want;
            for (const auto& m : t["stun"]["messages"]) {
                if (m["flow"] == flow_id) want.insert(m["transaction_id"].get<std::string>());
            }
            const std::multiset<std::string> got(ids.begin(), ids.end());
            EXPECT_EQ(got, want) << flow << " chunk " << chunk;
        }
    }
}
#endif  // CALLWALL_HAVE_JSON

}  // namespace
}  // namespace callwall::proto::stun
