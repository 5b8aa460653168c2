// Unit tests for proto/rtp (demux, RTP, RTCP/SRTCP, Confirmer, StreamStats)
// and proto/dtls (record walk, ClientHello facts).
#include "proto/rtp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "proto/dtls.hpp"
#include "proto/stun.hpp"
#include "unit/test_util.hpp"

#if __has_include(<nlohmann/json.hpp>)
#include <nlohmann/json.hpp>
#define CALLWALL_HAVE_JSON 1
#endif

namespace callwall::proto::rtp {
namespace {

using callwall::test::hex;
using callwall::test::view;
using Bytes = std::vector<uint8_t>;

std::filesystem::path fixture_dir() {
#ifdef CALLWALL_SOURCE_DIR
    return std::filesystem::path(CALLWALL_SOURCE_DIR) / "tests/unit/proto/fixtures";
#else
    return std::filesystem::path(__FILE__).parent_path() / "fixtures";
#endif
}

// ndpi__stun_classic.pcap frames 3-8: G.729 (PT 18) RTP, SSRC 0x3aa6d922;
// frame 3 has the marker bit (talk-spurt start).
const char* kG729[] = {
    "8092ae1504e9f9983aa6d92292d8852000fad4afbd2c19c8c2835fb215692dd6",
    "8012ae1604e9fa383aa6d922c4532097ca1bd297ab78d2acb2c3ebe25cc55cda",
    "8012ae1704e9fad83aa6d922f87abcea7ac0ab244e915ebb72d17bea8eae69ff",
    "8012ae1804e9fb783aa6d92219cfb3e08f63c94861127963c75270b20e7cac19",
    "8012ae1904e9fc183aa6d922f62d7407f93f5418644130bbbb1d055361a51296",
    "8012ae1a04e9fcb83aa6d9222b7af2494058969dbcec2e8205f1323a5ca2a890",
};

// ndpi__stun.pcap frame 189: SRTP (PT 111, marker) with an RFC 8285
// one-byte header extension (0xBEDE, 2 words).
const char* kSrtpWithExtension =
    "90ef6a8f33dff2b1d3f9fd82bede0002224e126f10ff00007f64438570f0a62a293eaf3a"
    "3ca24f4421eca13dc3c0d702dbb7a1fa41d54fc3fdca3238be39a3b52b42";

// ndpi__rtcp_multiple_pkts_in_the_same_datagram.pcap frames 1 (SR + SDES)
// and 2 (RR + SDES).
const char* kRtcpSrSdes =
    "81c8000c5d931534dd3ac1704d614df800007d00000000c800007d00000000000000000100"
    "00000000000000000000000000000081ca000e5d931534010835643933313533340725467265"
    "655357495443482e6f7267202d2d20436f6d6520746f20436c7565436f6e2e636f6d000000";
const char* kRtcpRrSdes =
    "81c9000701932db400000000010000010000bec200000001000000000000000081ca000e01"
    "932db40107313933326462340725467265655357495443482e6f7267202d2d20436f6d6520"
    "746f20436c7565436f6e2e636f6d00000000";

// ndpi__stun.pcap frame 181: SRTCP, XR (207) then E|index 0x80000001 and a
// 10-byte HMAC-SHA1-80 tag; frame 186: SRTCP RR with encrypted rest.
const char* kSrtcpXr = "80cf00048aa09df23c26e2627191282b4e53c96880000001b8313faad50eb26b05a5";
const char* kSrtcpRr =
    "80c90001d3f9fd822f540a533efc065dead9d90ab6503007e3595a97012c2b543a4ffcdc8f"
    "456220da8058666e49fd75e6250947a22ba69a52fd72778bb7f7a72ba4810b800000016f30"
    "0a2c5741626135ed";

// ndpi__stun.pcap frame 164: DTLS 1.0 record with a ClientHello (offers
// DTLS 1.2, use_srtp); frame 198: ClientHello with ALPN "webrtc","c-webrtc";
// frame 166 is the server flight (ServerHello, Certificate,
// ServerKeyExchange, CertificateRequest, ServerHelloDone); kDtlsServerHello
// keeps its first (ServerHello) and last (ServerHelloDone) records.
const char* kDtlsClientHello =
    "16feff0000000000000000008c010000800000000000000080fefdd57d7295a4ee3554ac"
    "b5d888a0861f48831f7f9585e1621ed1f3e84edd8653cf00000016c02bc02fcca9cca8c0"
    "09c013c00ac014009c002f00350100004000170000ff01000100000a00080006001d0017"
    "0018000b0002010000230000000d00140012040308040401050308050501080606010201"
    "000e00050002000100";
const char* kDtlsClientHelloAlpn =
    "16feff000000000000000100b0010000a400000000000000a4fefdfc338fd99f2c1b3e32"
    "19703866514ef73387a590ed0a4ae2ecf926fff707dd9300000010c02bc02fcca9cca8c0"
    "0ac009c013c0140100006a00170000ff01000100000a00080006001d00170018000b0002"
    "01000010001200100677656272746308632d776562727463000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202001c00024000000e000b0008"
    "000700080001000200";
const char* kDtlsServerHello =
    "16fefd00000000000000000050020000440000000000000044fefd6239d8810e5e1b62df"
    "66ac95cb1a198bee82b4e4ec630b1d24260c2913955c6700c02f00001c00170000ff0100"
    "0100000b0002010000230000000e00050002000100"
    "16fefd0000000000000004000c0e0000000004000000000000";

std::vector<Bytes> g729() {
    std::vector<Bytes> v;
    for (const char* h : kG729) v.push_back(hex(h));
    return v;
}

// --- demultiplexing ------------------------------------------------------------

TEST(RtpDemux, FirstByteRanges) {
    EXPECT_EQ(classify_first_byte(uint8_t{0}), FirstByteClass::Stun);
    EXPECT_EQ(classify_first_byte(uint8_t{3}), FirstByteClass::Stun);
    EXPECT_EQ(classify_first_byte(uint8_t{4}), FirstByteClass::Unknown);
    EXPECT_EQ(classify_first_byte(uint8_t{15}), FirstByteClass::Unknown);
    EXPECT_EQ(classify_first_byte(uint8_t{16}), FirstByteClass::Zrtp);
    EXPECT_EQ(classify_first_byte(uint8_t{19}), FirstByteClass::Zrtp);
    EXPECT_EQ(classify_first_byte(uint8_t{20}), FirstByteClass::Dtls);
    EXPECT_EQ(classify_first_byte(uint8_t{63}), FirstByteClass::Dtls);
    EXPECT_EQ(classify_first_byte(uint8_t{64}), FirstByteClass::TurnChannel);
    EXPECT_EQ(classify_first_byte(uint8_t{79}), FirstByteClass::TurnChannel);
    EXPECT_EQ(classify_first_byte(uint8_t{80}), FirstByteClass::Quic);
    EXPECT_EQ(classify_first_byte(uint8_t{127}), FirstByteClass::Quic);
    EXPECT_EQ(classify_first_byte(uint8_t{128}), FirstByteClass::RtpRtcp);
    EXPECT_EQ(classify_first_byte(uint8_t{191}), FirstByteClass::RtpRtcp);
    EXPECT_EQ(classify_first_byte(uint8_t{192}), FirstByteClass::Quic);
    EXPECT_EQ(classify_first_byte(uint8_t{255}), FirstByteClass::Quic);
    EXPECT_EQ(classify_first_byte(ByteView{}), FirstByteClass::Unknown);
}

TEST(RtpDemux, RtcpVersusRtp) {
    EXPECT_TRUE(looks_like_rtcp(view(hex(kRtcpSrSdes))));
    EXPECT_TRUE(looks_like_rtcp(view(hex(kSrtcpXr))));
    EXPECT_FALSE(looks_like_rtcp(view(hex(kG729[0]))));  // marker + PT 18
    // Marker + PT 72..79 is RTCP 200..207 (RFC 5761 §4).
    for (int pt = 72; pt <= 79; ++pt) {
        Bytes b = hex(kG729[1]);
        b[1] = static_cast<uint8_t>(0x80 | pt);
        EXPECT_TRUE(looks_like_rtcp(view(b)));
        EXPECT_EQ(decode(view(b)).code(), DecodeErrorCode::NotThisProtocol);
    }
}

// --- RTP header -------------------------------------------------------------------

TEST(RtpDecode, MinimalHeader) {
    const Bytes b =
        hex("80000001"
            "00000002"
            "00000003");
    ASSERT_TRUE(probe(view(b)));
    const auto h = decode(view(b));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->version, 2);
    EXPECT_EQ(h->sequence_number, 1);
    EXPECT_EQ(h->timestamp, 2u);
    EXPECT_EQ(h->ssrc, 3u);
    EXPECT_EQ(h->header_len, 12u);
    EXPECT_TRUE(h->payload.empty());
    EXPECT_TRUE((h->anomalies & bit(RtpAnomaly::EmptyPayload)) != 0);
}

// decode_fields (the packet path's decoder) accepts exactly what decode
// accepts, with the same values: crafted edges (each length around the
// fixed header, the CSRC list and the extension; RTCP's type bytes; every
// version) and random datagrams biased towards version 2.
bool fields_agree(const Bytes& b, std::string& why) {
    const auto full = decode(view(b));
    HeaderFields f;
    const bool lean = decode_fields(view(b), f);
    if (full.ok() != lean) {
        why = std::string("decode ") + (full.ok() ? "accepts" : "refuses") + ", decode_fields " +
              (lean ? "accepts" : "refuses");
        return false;
    }
    if (!lean) return true;
    if (f.sequence_number != full->sequence_number || f.timestamp != full->timestamp || f.ssrc != full->ssrc ||
        f.payload_type != full->payload_type || f.marker != full->marker) {
        why = "values differ";
        return false;
    }
    return true;
}

TEST(RtpDecode, FieldsAcceptWhatTheFullDecoderAcceptsWithTheSameValues) {
    std::vector<Bytes> cases;
    Bytes base(12, 0);
    base[0] = 0x80;
    base[1] = 0xE0;  // marker, payload type 96
    for (size_t i = 2; i < 12; ++i) base[i] = static_cast<uint8_t>(0x11 * i);
    for (size_t n = 0; n <= 12; ++n) cases.emplace_back(base.begin(), base.begin() + static_cast<ptrdiff_t>(n));
    for (int version = 0; version < 4; ++version) {
        Bytes b = base;
        b[0] = static_cast<uint8_t>(version << 6);
        cases.push_back(b);
    }
    for (int type = 188; type <= 227; ++type) {  // RTCP's 192..223 and either side
        Bytes b = base;
        b[1] = static_cast<uint8_t>(type);
        cases.push_back(b);
    }
    for (int cc = 0; cc <= 15; ++cc) {
        for (int extra = -1; extra <= 1; ++extra) {  // the CSRC list one short, exact, one over
            Bytes b = base;
            b[0] = static_cast<uint8_t>(0x80 | cc);
            const int len = 12 + 4 * cc + extra;
            if (len < 0) continue;
            b.resize(static_cast<size_t>(len), 0x5A);
            cases.push_back(b);
        }
    }
    for (int words = 0; words <= 3; ++words) {
        for (int cut = -5; cut <= 1; ++cut) {  // the extension header and its words, cut anywhere
            Bytes b = base;
            b[0] = 0x91;  // X, one CSRC
            b.resize(16, 0x22);
            b.push_back(0xBE);
            b.push_back(0xDE);
            b.push_back(0);
            b.push_back(static_cast<uint8_t>(words));
            b.resize(static_cast<size_t>(static_cast<int>(b.size()) + 4 * words + cut), 0x33);
            cases.push_back(b);
        }
    }
    for (const uint8_t pad : {0, 1, 4, 200}) {  // padding never decides acceptance
        Bytes b = base;
        b[0] = 0xA0;
        b.resize(20, 0);
        b.back() = pad;
        cases.push_back(b);
    }
    std::mt19937 rng(20261125);
    for (int i = 0; i < 200000; ++i) {
        Bytes b(rng() % 48);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        if (!b.empty() && rng() % 2) b[0] = static_cast<uint8_t>(0x80 | (b[0] & 0x3F));
        cases.push_back(std::move(b));
    }
    size_t accepted = 0;
    for (const Bytes& b : cases) {
        std::string why;
        ASSERT_TRUE(fields_agree(b, why)) << why << " on " << b.size() << " bytes, first " << (b.empty() ? -1 : b[0]);
        HeaderFields f;
        accepted += decode_fields(view(b), f) ? 1 : 0;
    }
    EXPECT_GT(accepted, 1000u) << "the cases must exercise acceptance too";
    EXPECT_LT(accepted, cases.size() / 2) << "and refusal";
}

TEST(RtpDecode, RealG729Packet) {
    const Bytes b = hex(kG729[0]);
    const auto h = decode(view(b));
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(h->marker);
    EXPECT_EQ(h->payload_type, 18);
    EXPECT_EQ(h->sequence_number, 0xae15);
    EXPECT_EQ(h->timestamp, 0x04e9f998u);
    EXPECT_EQ(h->ssrc, 0x3aa6d922u);
    EXPECT_EQ(h->payload.size(), 20u);  // 2 x 10-byte G.729 frames
    EXPECT_EQ(h->anomalies, 0u);
}

TEST(RtpDecode, SrtpWithHeaderExtension) {
    const Bytes b = hex(kSrtpWithExtension);
    const auto h = decode(view(b));
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(h->extension);
    EXPECT_TRUE(h->marker);
    EXPECT_EQ(h->payload_type, 111);
    EXPECT_EQ(h->extension_profile, 0xBEDE);
    EXPECT_EQ(h->extension_data.size(), 8u);
    EXPECT_EQ(h->header_len, 24u);
    EXPECT_EQ(h->payload.size(), b.size() - 24);
}

TEST(RtpDecode, EveryPrefix) {
    for (const char* fx : {kG729[0], kSrtpWithExtension}) {
        const Bytes b = hex(fx);
        const auto full = decode(view(b));
        ASSERT_TRUE(full.ok());
        for (size_t k = 0; k < b.size(); ++k) {
            const auto r = decode(ByteView{b.data(), k});
            if (k < full->header_len) {
                ASSERT_FALSE(r.ok()) << k;
                EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol);
            } else {
                // No payload length field: a shorter payload is still RTP.
                ASSERT_TRUE(r.ok()) << k;
                EXPECT_EQ(r->payload.size(), k - full->header_len);
            }
        }
    }
}

TEST(RtpDecode, CsrcAndExtensionBounds) {
    // CC = 15 but no CSRC bytes.
    EXPECT_EQ(decode(view(hex("8f000001000000020000000300"))).code(), DecodeErrorCode::Truncated);
    // CC = 2 with both CSRCs.
    const auto c = decode(view(hex("82000001000000020000000311111111222222224141")));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->csrcs.size(), 8u);
    EXPECT_EQ(c->payload.size(), 2u);
    // Extension header missing, and extension length 0xFFFF words.
    EXPECT_EQ(decode(view(hex("900000010000000200000003"))).code(), DecodeErrorCode::Truncated);
    EXPECT_EQ(decode(view(hex("900000010000000200000003bedeffff00000000"))).code(), DecodeErrorCode::Truncated);
    // Zero-length extension is fine.
    const auto z = decode(view(hex("900000010000000200000003bede000041")));
    ASSERT_TRUE(z.ok());
    EXPECT_TRUE(z->extension_data.empty());
    EXPECT_EQ(z->payload.size(), 1u);
}

TEST(RtpDecode, Padding) {
    const auto ok =
        decode(view(hex("a00000010000000200000003"
                        "4142"
                        "000003")));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->padding_length, 3);
    EXPECT_EQ(ok->payload.size(), 2u);
    // Pad count 0 or beyond the payload (SRTP: the tag's last byte): kept.
    for (const char* fx : {"a00000010000000200000003"
                           "414200",
                           "a00000010000000200000003"
                           "4142ff"}) {
        const auto r = decode(view(hex(fx)));
        ASSERT_TRUE(r.ok());
        EXPECT_TRUE((r->anomalies & bit(RtpAnomaly::BadPadding)) != 0);
        EXPECT_EQ(r->payload.size(), 3u);
    }
}

TEST(RtpDecode, NotRtp) {
    EXPECT_EQ(decode(ByteView{}).code(), DecodeErrorCode::NotThisProtocol);
    EXPECT_EQ(decode(view(hex("000100002112a44253486b6846386f6477677956"))).code(), DecodeErrorCode::NotThisProtocol);
    EXPECT_EQ(decode(view(hex("400000010000000200000003"))).code(), DecodeErrorCode::NotThisProtocol);
    EXPECT_EQ(decode(view(hex(kRtcpRrSdes))).code(), DecodeErrorCode::NotThisProtocol);
    EXPECT_FALSE(probe(view(hex("8000"))));
}

// --- RTCP -------------------------------------------------------------------------

TEST(RtcpDecode, RealCompounds) {
    const auto sr = decode_rtcp(view(hex(kRtcpSrSdes)));
    ASSERT_TRUE(sr.ok());
    ASSERT_EQ(sr->packets.size(), 2u);
    EXPECT_EQ(sr->packets[0].type, rtcp_type::kSr);
    EXPECT_EQ(sr->packets[0].count, 1);
    EXPECT_EQ(sr->packets[0].ssrc, 0x5d931534u);
    EXPECT_EQ(sr->packets[1].type, rtcp_type::kSdes);
    EXPECT_FALSE(sr->srtcp);
    EXPECT_EQ(sr->anomalies, 0u);

    const Bytes rrb = hex(kRtcpRrSdes);
    const auto rr = decode_rtcp(view(rrb));
    ASSERT_TRUE(rr.ok());
    ASSERT_EQ(rr->packets.size(), 2u);
    EXPECT_EQ(rr->packets[0].type, rtcp_type::kRr);
    EXPECT_EQ(rr->size, rrb.size());
    EXPECT_TRUE(probe_rtcp(view(rrb)));
}

TEST(RtcpDecode, SrtcpTrailerTolerated) {
    const Bytes xrb = hex(kSrtcpXr);
    const auto xr = decode_rtcp(view(xrb));
    ASSERT_TRUE(xr.ok());
    ASSERT_EQ(xr->packets.size(), 1u);
    EXPECT_EQ(xr->packets[0].type, rtcp_type::kXr);
    EXPECT_TRUE(xr->srtcp);
    EXPECT_EQ(xr->srtcp_trailer.size(), 14u);  // E|index + 80-bit tag
    EXPECT_EQ(xr->srtcp_trailer[0], 0x80);  // E bit
    EXPECT_TRUE((xr->anomalies & bit(RtcpAnomaly::FirstNotSrRr)) != 0);

    const Bytes rrb = hex(kSrtcpRr);
    const auto rr = decode_rtcp(view(rrb));
    ASSERT_TRUE(rr.ok());
    EXPECT_EQ(rr->packets[0].type, rtcp_type::kRr);
    EXPECT_EQ(rr->packets[0].ssrc, 0xd3f9fd82u);
    EXPECT_TRUE(rr->srtcp);
}

TEST(RtcpDecode, WrongLengthsAndPrefixes) {
    // First packet's length runs past the datagram.
    EXPECT_EQ(decode_rtcp(view(hex("80c900ff00000001"))).code(), DecodeErrorCode::Truncated);
    // SR without sender info.
    EXPECT_EQ(decode_rtcp(view(hex("80c8000100000001"))).code(), DecodeErrorCode::Malformed);
    // RR claiming 2 report blocks in 8 bytes.
    EXPECT_EQ(decode_rtcp(view(hex("82c9000100000001"))).code(), DecodeErrorCode::Malformed);
    // 1..3 stray bytes after a valid packet: not SRTCP, flagged.
    const auto t =
        decode_rtcp(view(hex("80c9000100000001"
                             "0000")));
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(t->srtcp);
    EXPECT_TRUE((t->anomalies & bit(RtcpAnomaly::TrailingBytes)) != 0);
    // Not RTCP.
    EXPECT_EQ(decode_rtcp(view(hex(kG729[1]))).code(), DecodeErrorCode::NotThisProtocol);
    EXPECT_EQ(decode_rtcp(view(hex("40c9000100000001"))).code(), DecodeErrorCode::NotThisProtocol);

    const Bytes b = hex(kRtcpSrSdes);
    for (size_t k = 0; k < 52; ++k) {  // inside the first packet (SR, 52 bytes)
        const auto r = decode_rtcp(ByteView{b.data(), k});
        ASSERT_FALSE(r.ok()) << k;
        EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol);
    }
}

TEST(RtcpDecode, PaddingNotLastAndUnknownType) {
    const auto r =
        decode_rtcp(view(hex("a0c9000100000001"
                             "80d0000100000002")));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE((r->anomalies & bit(RtcpAnomaly::PaddingNotLast)) != 0);
    EXPECT_TRUE((r->anomalies & bit(RtcpAnomaly::UnknownType)) != 0);  // 208
    EXPECT_EQ(r->packet_count, 2);
}

// --- Confirmer -----------------------------------------------------------------------

TEST(RtpConfirmer, RealStreamConfirmsOnFourthPacket) {
    Confirmer c;
    // The classic STUN exchange before the media is neutral.
    const Bytes stun1 = hex("000100089429ef88294dd52632c72931cb8dbb4c0003000400000000");
    EXPECT_EQ(c.on_payload(view(stun1)), Verdict::Candidate);
    const auto pkts = g729();
    EXPECT_EQ(c.on_payload(view(pkts[0])), Verdict::Candidate);
    EXPECT_EQ(c.on_payload(view(pkts[1])), Verdict::Candidate);
    EXPECT_EQ(c.on_payload(view(pkts[2])), Verdict::Candidate);
    EXPECT_EQ(c.on_payload(view(pkts[3])), Verdict::Confirmed);
    EXPECT_EQ(c.ssrc(), 0x3aa6d922u);
    EXPECT_EQ(c.payload_type(), 18);
    // Sticky.
    EXPECT_EQ(c.on_payload(view(hex("deadbeef"))), Verdict::Confirmed);
}

TEST(RtpConfirmer, OneRtpLookingPacketIsNotEnough) {
    std::mt19937 rng(5);
    for (int trial = 0; trial < 200; ++trial) {
        Confirmer c;
        const auto pkts = g729();
        EXPECT_EQ(c.on_payload(view(pkts[trial % pkts.size()])), Verdict::Candidate);
        // Followed by random version-2 datagrams (tshark's rtp_udp would call
        // each of them RTP): never confirmed, rejected after the give-up.
        Verdict v = Verdict::Candidate;
        for (int i = 0; i < 40; ++i) {
            Bytes b(12 + rng() % 200);
            for (auto& x : b) x = static_cast<uint8_t>(rng());
            b[0] = static_cast<uint8_t>(0x80 | (b[0] & 0x3F));
            v = c.on_payload(view(b));
            ASSERT_NE(v, Verdict::Confirmed) << trial << " " << i;
        }
        EXPECT_EQ(v, Verdict::Rejected);
    }
}

TEST(RtpConfirmer, DnsAndQuicAreNotRtp) {
    // DNS query ids 0x8xxx put the first byte in RTP's range.
    Confirmer dns;
    std::mt19937 rng(11);
    for (int i = 0; i < 40; ++i) {
        Bytes q = hex("8abc01000001000000000000076578616d706c6503636f6d0000010001");
        q[0] = static_cast<uint8_t>(0x80 | (rng() & 0x3F));
        q[1] = static_cast<uint8_t>(rng());
        EXPECT_NE(dns.on_payload(view(q)), Verdict::Confirmed);
    }
    EXPECT_EQ(dns.verdict(), Verdict::Rejected);
    // QUIC long/short headers: foreign to an RTC 5-tuple.
    Confirmer quic;
    const Bytes initial = hex("c300000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11");
    const Bytes short_hdr = hex("5f8394c8f03e51570800d1b1c98dd7689fb8ec11");
    for (int i = 0; i < 4; ++i) {
        quic.on_payload(view(initial));
        quic.on_payload(view(short_hdr));
    }
    EXPECT_EQ(quic.verdict(), Verdict::Rejected);
}

TEST(RtpConfirmer, ProprietaryRelayFramingIsNeutral) {
    // WhatsApp's relay messages (first byte 0x08, ndpi__stun_wa_call.pcapng
    // udp:5 frame 446) precede its RTP on the same 5-tuple.
    Confirmer c;
    const Bytes wa = hex("080100002112a4423d4dfb65296240094ddef949");
    for (int i = 0; i < 100; ++i) EXPECT_EQ(c.on_payload(view(wa)), Verdict::Candidate);
    Verdict v = Verdict::Candidate;
    for (const auto& p : g729()) v = c.on_payload(view(p));
    EXPECT_EQ(v, Verdict::Confirmed);
    // ... but the wait is bounded.
    Confirmer d;
    for (int i = 0; i < Confirmer::kMaxPackets; ++i) d.on_payload(view(wa));
    EXPECT_EQ(d.verdict(), Verdict::Rejected);
}

TEST(RtpConfirmer, TolerantOfLossReorderAndBundle) {
    Confirmer c;
    auto pkt = [](uint32_t ssrc, uint16_t seq, uint32_t ts, uint8_t pt) {
        Bytes b = hex("800000000000000000000000aabbccdd");
        b[1] = pt;
        b[2] = static_cast<uint8_t>(seq >> 8);
        b[3] = static_cast<uint8_t>(seq);
        for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
        for (int i = 0; i < 4; ++i) b[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
        return b;
    };
    // Audio and video SSRCs interleaved (BUNDLE); audio loses one packet and
    // has one reordered; video repeats timestamps within a frame.
    const std::vector<Bytes> seq = {
        pkt(1, 100, 1000, 111), pkt(2, 7, 90000, 96), pkt(1, 102, 1960, 111), pkt(2, 8, 90000, 96),
        pkt(1, 101, 1000, 111), pkt(2, 9, 93000, 96), pkt(1, 103, 2920, 111),
    };
    Verdict v = Verdict::Candidate;
    for (const auto& b : seq) v = c.on_payload(view(b));
    EXPECT_EQ(v, Verdict::Candidate);
    v = c.on_payload(view(pkt(2, 10, 93000, 96)));
    EXPECT_EQ(v, Verdict::Confirmed);
    EXPECT_EQ(c.ssrc(), 2u);
}

TEST(RtpConfirmer, RtpInsideTurnDataIndications) {
    // ndpi__stun_dtls_rtp_unidir.pcapng frames 35-43: SRTP carried in TURN
    // Send/Data indications' DATA attribute (two SSRCs, 4 packets each).
    std::ifstream in(fixture_dir() / "stun_messages.tsv");
    std::string line;
    Confirmer c;
    int fed = 0;
    while (std::getline(in, line)) {
        if (line.rfind("ndpi__stun_dtls_rtp_unidir.pcapng\t", 0) != 0) continue;
        std::istringstream ss(line);
        std::string f[7];
        for (auto& x : f) std::getline(ss, x, '\t');
        const int frame = std::stoi(f[1]);
        if (frame < 35 || frame > 43) continue;
        const Bytes b = hex(f[6]);
        const auto m = stun::decode(view(b));
        ASSERT_TRUE(m.ok());
        ASSERT_TRUE(m->data);
        c.on_payload(*m->data);
        ++fed;
    }
    EXPECT_EQ(fed, 9);  // 8 RTP + frame 36, whose DATA is SRTCP (neutral)
    EXPECT_EQ(c.verdict(), Verdict::Confirmed);
}

// --- StreamStats ---------------------------------------------------------------------

struct Gen {
    uint64_t t_us = 1'000'000;
    uint16_t seq = 1000;
    uint32_t ts = 5000;
    uint8_t pt = 0;
    uint32_t ts_step = 160;
    uint64_t t_step_us = 20'000;
    PacketSample next(int64_t jitter_us = 0) {
        PacketSample p{static_cast<uint64_t>(static_cast<int64_t>(t_us) + jitter_us), seq, ts, pt, false};
        t_us += t_step_us;
        ++seq;
        ts += ts_step;
        return p;
    }
};

TEST(StreamStats, PerfectStream) {
    for (auto mode : {JitterMode::Wireshark, JitterMode::Rfc3550}) {
        StreamStats s(mode);
        Gen g;
        for (int i = 0; i < 100; ++i) s.add(g.next());
        EXPECT_EQ(s.packets(), 100u);
        EXPECT_EQ(s.expected(), 100u);
        EXPECT_EQ(s.lost(), 0);
        EXPECT_EQ(s.reordered(), 0u);
        EXPECT_EQ(s.duplicates(), 0u);
        EXPECT_EQ(s.clock_rate_hz(), 8000u);
        EXPECT_NEAR(s.max_jitter_ms(), 0.0, 1e-9);
        EXPECT_EQ(s.jitter_samples(), 99u);
    }
}

TEST(StreamStats, LossReorderDuplicate) {
    StreamStats s;
    Gen g;
    std::vector<PacketSample> v;
    for (int i = 0; i < 50; ++i) v.push_back(g.next());
    v.erase(v.begin() + 10);  // lose seq 1010
    std::swap(v[20], v[21]);  // reorder
    v.insert(v.begin() + 30, v[29]);  // duplicate
    for (const auto& p : v) s.add(p);
    EXPECT_EQ(s.expected(), 50u);
    EXPECT_EQ(s.received(), 50u);  // 49 distinct + 1 duplicate
    EXPECT_EQ(s.lost(), 0);  // RFC 3550 A.3: duplicates offset losses
    EXPECT_EQ(s.reordered(), 1u);
    EXPECT_EQ(s.duplicates(), 1u);

    StreamStats only_loss;
    Gen h;
    for (int i = 0; i < 50; ++i) {
        const auto p = h.next();
        if (i != 10 && i != 11) only_loss.add(p);
    }
    EXPECT_EQ(only_loss.lost(), 2);
}

TEST(StreamStats, SequenceWrap) {
    StreamStats s;
    Gen g;
    g.seq = 65530;
    for (int i = 0; i < 20; ++i) s.add(g.next());
    EXPECT_EQ(s.seq_cycles(), 1u);
    EXPECT_EQ(s.expected(), 20u);
    EXPECT_EQ(s.lost(), 0);
    EXPECT_EQ(s.extended_max_seq(), 65536u + 13);
}

TEST(StreamStats, BigJumpRestartAndStray) {
    StreamStats s;
    Gen g;
    for (int i = 0; i < 100; ++i) s.add(g.next());
    // A lone packet far ahead is stray (not counted) ...
    PacketSample stray = g.next();
    stray.seq = static_cast<uint16_t>(stray.seq + 20000);
    s.add(stray);
    EXPECT_EQ(s.stray(), 1u);
    for (int i = 0; i < 10; ++i) s.add(g.next());
    EXPECT_EQ(s.lost(), 1);  // the stray's own slot in the normal sequence
    // ... two sequential ones restart the sequence there.
    g.seq = static_cast<uint16_t>(g.seq + 30000);
    for (int i = 0; i < 10; ++i) s.add(g.next());
    EXPECT_EQ(s.seq_restarts(), 1u);
    EXPECT_EQ(s.stray(), 1u);
    EXPECT_EQ(s.expected(), 111u + 10u);
    EXPECT_EQ(s.lost(), 1);
    // Restart right at the wrap: stray 0xFFFF, then 0 continues it.
    StreamStats z;
    Gen a;
    a.seq = 30000;
    for (int i = 0; i < 5; ++i) z.add(a.next());
    a.seq = 0xFFFF;
    for (int i = 0; i < 3; ++i) z.add(a.next());  // 0xFFFF, 0, 1
    EXPECT_EQ(z.seq_restarts(), 1u);
    EXPECT_EQ(z.expected(), 8u);
    EXPECT_EQ(z.lost(), 0);
}

TEST(StreamStats, JitterMatchesRfc3550Recurrence) {
    // Arrival offsets of +/-2 ms around a perfect 20 ms clock.
    const int64_t offs[] = {0, 2000, -2000, 1000, 0, -1000, 3000, 0, 0, 500};
    for (auto mode : {JitterMode::Wireshark, JitterMode::Rfc3550}) {
        StreamStats s(mode);
        Gen g;
        double j = 0, maxj = 0;
        for (size_t i = 0; i < std::size(offs); ++i) {
            s.add(g.next(offs[i]));
            if (i > 0) {
                const double d = std::fabs((offs[i] - offs[i - 1]) / 1000.0);
                j += (d - j) / 16;
                maxj = std::max(maxj, j);
            }
        }
        EXPECT_NEAR(s.jitter_ms(), j, 1e-9);
        EXPECT_NEAR(s.max_jitter_ms(), maxj, 1e-9);
        EXPECT_GT(s.mean_jitter_ms(), 0.0);
        EXPECT_LE(s.min_jitter_ms(), s.mean_jitter_ms());
    }
}

TEST(StreamStats, MarkerAndComfortNoiseNotMaxCandidates) {
    StreamStats s;
    Gen g;
    s.add(g.next());
    auto p = g.next(5000);  // 5 ms late with the marker set
    p.marker = true;
    s.add(p);
    EXPECT_GT(s.jitter_ms(), 0.0);
    EXPECT_EQ(s.max_jitter_ms(), 0.0);
    EXPECT_EQ(s.jitter_samples(), 0u);
}

TEST(StreamStats, DynamicPayloadClockRules) {
    // Opus-like: dynamic PT, distinct timestamps: 48 kHz.
    StreamStats audio;
    Gen a;
    a.pt = 111;
    a.ts_step = 960;
    for (int i = 0; i < 10; ++i) audio.add(a.next(i % 2 ? 1000 : 0));
    EXPECT_EQ(audio.clock_rate_hz(), 48000u);
    EXPECT_FALSE(audio.video_inferred());
    EXPECT_GT(audio.max_jitter_ms(), 0.0);
    EXPECT_LT(audio.max_jitter_ms(), 1.0);  // |D| is 1 ms at the right clock

    // Video: two consecutive packets with one timestamp: 90 kHz, restarted.
    StreamStats video;
    Gen v;
    v.pt = 96;
    v.ts_step = 3000;
    v.t_step_us = 33'333;
    for (int i = 0; i < 5; ++i) {
        auto p = v.next();
        video.add(p);
        p.seq = v.seq++;
        p.arrival_us += 1000;
        video.add(p);  // second packet of the frame
    }
    EXPECT_TRUE(video.video_inferred());
    EXPECT_EQ(video.clock_rate_hz(), 90000u);
    EXPECT_LT(video.max_jitter_ms(), 1.0);

    // Static primary: dynamic packets are auxiliary (no clock).
    StreamStats pcma(JitterMode::Rfc3550);
    Gen p;
    p.pt = 8;
    for (int i = 0; i < 20; ++i) {
        auto s = p.next();
        if (i == 10) {
            s.payload_type = 101;  // RFC 4733 event: timestamp stays at event start
            s.timestamp -= 480;
        }
        pcma.add(s);
    }
    EXPECT_EQ(pcma.payload_type(), 8);
    EXPECT_NEAR(pcma.max_jitter_ms(), 0.0, 1e-9);
    EXPECT_EQ(pcma.payload_type_changes(), 2u);

    // Signalled clock overrides.
    StreamStats sig;
    sig.set_clock_rate(16000);
    EXPECT_EQ(sig.clock_rate_hz(), 16000u);
}

TEST(StreamStats, PayloadTypeIsTheDominantOne) {
    // Comfort noise (PT 13) opens the stream (a muted start), then Opus (PT 111) carries it:
    // the stream's type is 111, not the first one seen.
    StreamStats s;
    Gen g;
    g.pt = 13;
    for (int i = 0; i < 3; ++i) s.add(g.next());
    g.pt = 111;
    for (int i = 0; i < 50; ++i) s.add(g.next());
    g.pt = 13;
    for (int i = 0; i < 2; ++i) s.add(g.next());
    EXPECT_EQ(s.payload_type(), 111);
    EXPECT_EQ(s.first_payload_type(), 13);
    EXPECT_EQ(s.payload_type_changes(), 2u);

    // PCMU with a few RFC 4733 events in the middle.
    StreamStats pcmu;
    Gen u;
    for (int i = 0; i < 30; ++i) {
        u.pt = (i >= 10 && i < 16) ? 101 : 0;
        pcmu.add(u.next());
    }
    EXPECT_EQ(pcmu.payload_type(), 0);
}

TEST(StreamStats, PayloadTypeTiesGoToTheFirstSeen) {
    StreamStats s;
    Gen g;
    g.pt = 8;
    for (int i = 0; i < 5; ++i) s.add(g.next());
    g.pt = 0;
    for (int i = 0; i < 5; ++i) s.add(g.next());
    EXPECT_EQ(s.payload_type(), 8);
    s.add(g.next());  // one more PCMU: now the majority
    EXPECT_EQ(s.payload_type(), 0);

    StreamStats empty;
    EXPECT_EQ(empty.payload_type(), 0);
}

TEST(StreamStats, PayloadTypeCountersAreBounded) {
    // More distinct types than counters: each of six types once, then PT 96 dominates. The
    // late type still wins; the counters never grow past kPayloadTypeSlots.
    StreamStats s;
    Gen g;
    for (uint8_t pt : {0, 8, 9, 13, 18, 101}) {
        g.pt = pt;
        s.add(g.next());
    }
    g.pt = 96;
    for (int i = 0; i < 4; ++i) s.add(g.next());
    EXPECT_EQ(s.payload_type(), 96);

    // Adversarial: 128 types round-robin, then a run of 0. Only the run's type can win.
    StreamStats r;
    Gen h;
    for (int round = 0; round < 3; ++round) {
        for (int pt = 0; pt < 128; ++pt) {
            h.pt = static_cast<uint8_t>(pt);
            r.add(h.next());
        }
    }
    h.pt = 0;
    for (int i = 0; i < 200; ++i) r.add(h.next());
    EXPECT_EQ(r.payload_type(), 0);
}

TEST(StreamStats, WiresharkModeQuirks) {
    // Timestamp below the first one: "wrong timestamp", no jitter update.
    StreamStats s(JitterMode::Wireshark);
    Gen g;
    for (int i = 0; i < 5; ++i) s.add(g.next());
    const double before = s.jitter_ms();
    auto back = g.next();
    back.timestamp = 1;  // below the first (5000)
    s.add(back);
    EXPECT_EQ(s.jitter_ms(), before);
    // Rfc3550 mode: a 10 s timestamp jump is a discontinuity (|D| > 2 s):
    // re-anchored, no jitter sample.
    StreamStats r(JitterMode::Rfc3550);
    Gen h;
    for (int i = 0; i < 5; ++i) r.add(h.next());
    auto jump = h.next();
    jump.timestamp += 8000 * 10;  // 10 s ahead: discontinuity
    r.add(jump);
    EXPECT_EQ(r.timestamp_discontinuities(), 1u);
    EXPECT_EQ(r.jitter_ms(), 0.0);
}

// --- conformance with tshark's rtp,streams --------------------------------------------

struct Stream {
    std::string capture, key;
    uint32_t ssrc = 0;
    StreamStats wireshark{JitterMode::Wireshark};
    StreamStats rfc{JitterMode::Rfc3550};
};

std::vector<Stream> load_streams() {
    std::vector<Stream> streams;
    std::map<std::string, size_t> index;
    std::ifstream in(fixture_dir() / "rtp_streams.tsv");
    std::string line, capture;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line[0] == '@') {
            capture = line.substr(2);
            continue;
        }
        std::istringstream ss(line);
        std::string f[9];
        for (auto& x : f) std::getline(ss, x, '\t');
        const std::string id = capture + "|" + f[2] + "|" + f[3];
        auto it = index.find(id);
        if (it == index.end()) {
            it = index.emplace(id, streams.size()).first;
            streams.emplace_back();
            streams.back().capture = capture;
            streams.back().key = f[2];
            streams.back().ssrc = static_cast<uint32_t>(std::stoul(f[3], nullptr, 16));
        }
        PacketSample p;
        p.arrival_us = std::stoull(f[1]);
        p.seq = static_cast<uint16_t>(std::stoul(f[4]));
        p.timestamp = static_cast<uint32_t>(std::stoul(f[5]));
        p.payload_type = static_cast<uint8_t>(std::stoul(f[6]));
        p.marker = f[7] == "1";
        streams[it->second].wireshark.add(p);
        streams[it->second].rfc.add(p);
    }
    return streams;
}

TEST(RtpConformance, FixtureLoads) {
    const auto streams = load_streams();
    ASSERT_EQ(streams.size(), 9u);
}

#ifdef CALLWALL_HAVE_JSON
TEST(RtpConformance, LossAndMaxJitterMatchTshark) {
#ifndef CALLWALL_SHARED_DIR
    GTEST_SKIP() << "CALLWALL_SHARED_DIR not defined";
#else
    const auto dir = std::filesystem::path(CALLWALL_SHARED_DIR) / "captures/public";
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no " << dir;
    const auto streams = load_streams();
    int static_compared = 0;
    for (const auto& s : streams) {
        std::ifstream in(dir / (s.capture + ".truth.json"));
        const auto truth = nlohmann::json::parse(in);
        const nlohmann::json* t = nullptr;
        for (const auto& ts : truth["rtp"]["streams"]) {
            const std::string key = ts["src"].get<std::string>() + ":" + std::to_string(ts["sport"].get<int>()) + ">" +
                                    ts["dst"].get<std::string>() + ":" + std::to_string(ts["dport"].get<int>());
            if (key == s.key && std::stoul(ts["ssrc"].get<std::string>(), nullptr, 16) == s.ssrc) t = &ts;
        }
        ASSERT_NE(t, nullptr) << s.capture << " " << s.key;
        const std::string where = s.capture + " " + s.key + " " + (*t)["ssrc"].get<std::string>();
        EXPECT_EQ(static_cast<int64_t>(s.wireshark.packets()), (*t)["packets"].get<int64_t>()) << where;
        EXPECT_EQ(s.wireshark.lost(), (*t)["lost"].get<int64_t>()) << where;
        const double want = (*t)["max_jitter_ms"].get<double>();
        std::printf(
            "[ jitter ] %-40s %-44s %s pt=%3u lost=%lld (tshark %lld) max_jitter wireshark=%.3f rfc3550=%.3f "
            "tshark=%.3f\n",
            s.capture.c_str(), s.key.c_str(), (*t)["ssrc"].get<std::string>().c_str(), s.wireshark.payload_type(),
            static_cast<long long>(s.wireshark.lost()), static_cast<long long>((*t)["lost"].get<int64_t>()),
            s.wireshark.max_jitter_ms(), s.rfc.max_jitter_ms(), want);
        if (s.wireshark.first_payload_type() >= 96) continue;  // tshark: no clock without SDP
        ++static_compared;
        EXPECT_NEAR(s.wireshark.max_jitter_ms(), want, 0.05 * want + 1e-3) << where;
        // RFC 3550 mode differs only where tshark's reference handling does
        // (DTMF packets in FAX-Call 0x17d90134: 1.253 vs 1.343 ms).
        EXPECT_NEAR(s.rfc.max_jitter_ms(), want, 0.10 * want + 1e-3) << where;
    }
    EXPECT_EQ(static_compared, 5);
#endif
}
#endif

}  // namespace
}  // namespace callwall::proto::rtp

// --- DTLS -----------------------------------------------------------------------------

namespace callwall::proto::dtls {
namespace {

using callwall::test::hex;
using callwall::test::view;
using Bytes = std::vector<uint8_t>;

TEST(DtlsDecode, ClientHelloWithUseSrtp) {
    const Bytes b = hex(rtp::kDtlsClientHello);
    ASSERT_TRUE(probe(view(b)));
    const auto d = decode(view(b));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->version, kVersion10);
    EXPECT_TRUE(d->handshake);
    EXPECT_TRUE(d->client_hello);
    EXPECT_FALSE(d->server_hello);
    ASSERT_TRUE(d->client_hello_info);
    EXPECT_EQ(d->client_hello_info->client_version, kVersion12);
    EXPECT_TRUE(d->client_hello_info->use_srtp);
    EXPECT_TRUE(d->client_hello_info->cookie.empty());
    EXPECT_EQ(d->client_hello_info->cipher_suite_count, 11);
    EXPECT_TRUE(d->client_hello_info->first_alpn.empty());
    EXPECT_EQ(d->anomalies, 0u);
}

TEST(DtlsDecode, ClientHelloAlpnWebrtc) {
    const Bytes b = hex(rtp::kDtlsClientHelloAlpn);
    const auto d = decode(view(b));
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->client_hello_info);
    EXPECT_EQ(as_text(d->client_hello_info->first_alpn), "webrtc");
    EXPECT_TRUE(d->client_hello_info->use_srtp);
}

TEST(DtlsDecode, ServerFlight) {
    const Bytes b = hex(rtp::kDtlsServerHello);
    const auto d = decode(view(b));
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->server_hello);
    EXPECT_FALSE(d->client_hello);
    EXPECT_EQ(d->record_count, 2);
    EXPECT_EQ(d->version, kVersion12);
    EXPECT_EQ(d->records[1].epoch, 0);
}

TEST(DtlsDecode, PrefixesAndRejects) {
    const Bytes b = hex(rtp::kDtlsClientHello);
    for (size_t k = 0; k < b.size(); ++k) {
        const auto r = decode(ByteView{b.data(), k});
        ASSERT_FALSE(r.ok()) << k;
        EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol);
    }
    for (const char* fx :
         {rtp::kG729[0], "000100002112a44253486b6846386f6477677956", "1603010200010001fc0303", "4003001680c9"}) {
        EXPECT_FALSE(probe(view(hex(fx)))) << fx;
        EXPECT_FALSE(decode(view(hex(fx))).ok()) << fx;
    }
    // Second record truncated: first one kept, flagged.
    Bytes two = hex(rtp::kDtlsServerHello);
    two.erase(two.end() - 3, two.end());
    const auto t = decode(view(two));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->record_count, 1);
    EXPECT_TRUE((t->anomalies & bit(Anomaly::TruncatedRecord)) != 0);
}

TEST(DtlsDecode, Dtls13UnifiedHeader) {
    // 0x2c: 001 C=0 S=1 L=1 EE=00: 16-bit seq, 16-bit length.
    const auto d = decode(view(hex("2c0001000441424344")));
    ASSERT_TRUE(d.ok());
    EXPECT_TRUE(d->dtls13_ciphertext);
    EXPECT_EQ(d->records[0].fragment.size(), 4u);
    // Without the length bit a datagram cannot be checked: not claimed.
    EXPECT_FALSE(decode(view(hex("2800014142"))).ok());
}

TEST(DtlsRobustness, RandomInputNeverCrashes) {
    std::mt19937 rng(3);
    for (int i = 0; i < 20000; ++i) {
        Bytes b(rng() % 120);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        if (!b.empty()) b[0] = static_cast<uint8_t>(20 + b[0] % 44);
        if (b.size() > 2 && i % 2) {
            b[1] = 0xfe;
            b[2] = 0xfd;
        }
        (void)decode(view(b));
        (void)probe(view(b));
        (void)rtp::decode(view(b));
        (void)rtp::decode_rtcp(view(b));
    }
}

}  // namespace
}  // namespace callwall::proto::dtls
