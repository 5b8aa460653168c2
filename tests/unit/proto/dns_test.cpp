// Unit tests for the DNS decoder and the DNS-over-TCP framer.
#include "proto/dns.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "unit/test_util.hpp"

namespace callwall::proto::dns {
namespace {

using callwall::test::hex;
using callwall::test::view;

// ndpi__viber.pcap frame 3 (UDP payload): response for graph.facebook.com A with a CNAME
// chain (api.facebook.com → star.c10r.facebook.com → 31.13.86.8), 2 NS, 2 additional A.
const std::vector<uint8_t> kViberResponse =
    hex("e183818000010003000200020567726170680866616365626f6f6b03636f6d0000010001c00c0005000100000afd0006"
        "03617069c012c0300005000100000370000c04737461720463313072c012c042000100010000002200041f0d5608c047"
        "0002000100000a1500070162026e73c047c0470002000100000a1500040161c06cc07d0001000100000a15000445abef"
        "0bc06a0001000100000a15000445abff0b");

// ndpi__viber.pcap frame 2: the matching query.
const std::vector<uint8_t> kViberQuery =
    hex("e183010000010000000000000567726170680866616365626f6f6b03636f6d0000010001");

// tcpdump__dns_tcp.pcap frame 4 (TCP payload, 2-byte length prefix included): query for
// www.tcpdump.org A with an EDNS OPT + cookie.
const std::vector<uint8_t> kTcpQuery =
    hex("0038431901200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a"
        "00088f06be7d691442f0");

// tcpdump__dns_tcp.pcap frame 6 (TCP payload, length prefix included): 2 A, 2 NS, 5 additional
// (A/AAAA glue and OPT with UDP size 4096).
const std::vector<uint8_t> kTcpResponse =
    hex("00e0431985000001000200020005037777770774637064756d70036f72670000010001c00c000100010000003c0004c0"
        "8b2e42c00c000100010000003c0004c6c75868c01000020001000151800012036e69630973616e64656c6d616e026361"
        "00c0100002000100015180001203736e7308636f6f7065726978036e657400c04d000100010000012c0004d157f912c0"
        "4d001c00010000012c00102607f0b0000f000000000000babef00dc06b0001000100001c200004616b850fc06b001c00"
        "0100001c20001026003c0300000000f03c91fffe96e8ef0000291000000000000000");

// suricata-verify dns-udp-eve-log-answer-only google.com-a-aaaa-mx.pcap frame 4: AAAA answer.
const std::vector<uint8_t> kAaaaResponse =
    hex("8d708180000100010000000106676f6f676c6503636f6d00001c0001c00c001c00010000012b00102607f8b0400f0801"
        "000000000000200e0000290200000000000000");

// ndpi__dns_invert_query.pcapng frames 1 and 2: inverse query (opcode 1) and its NOTIMP answer.
const std::vector<uint8_t> kInverseQuery =
    hex("77fc09000000000100000000033231360235380332303201340000010001000000000000");
const std::vector<uint8_t> kInverseResponse = hex("77fc89840000000000000000");

ByteView body(const std::vector<uint8_t>& tcp) { return view(tcp).subspan(2); }

// Small builder for hand-made messages.
struct Builder {
    std::vector<uint8_t> b;
    Builder& u8(uint8_t v) {
        b.push_back(v);
        return *this;
    }
    Builder& u16(uint16_t v) {
        b.push_back(static_cast<uint8_t>(v >> 8));
        b.push_back(static_cast<uint8_t>(v));
        return *this;
    }
    Builder& u32(uint32_t v) {
        u16(static_cast<uint16_t>(v >> 16));
        return u16(static_cast<uint16_t>(v));
    }
    Builder& raw(const std::vector<uint8_t>& v) {
        b.insert(b.end(), v.begin(), v.end());
        return *this;
    }
    Builder& name(std::string_view dotted) {  // uncompressed, root-terminated
        while (!dotted.empty()) {
            const size_t dot = dotted.find('.');
            const std::string_view label = dotted.substr(0, dot);
            u8(static_cast<uint8_t>(label.size()));
            b.insert(b.end(), label.begin(), label.end());
            dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        }
        return u8(0);
    }
    Builder& ptr(uint16_t off) { return u16(static_cast<uint16_t>(0xC000 | off)); }
    Builder& header(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0, uint16_t ar = 0) {
        return u16(0x1234).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }
    Builder& rr_fixed(uint16_t type, uint16_t rdlength, uint32_t ttl = 60) {
        return u16(type).u16(1).u32(ttl).u16(rdlength);
    }
    ByteView v() const { return ByteView{b.data(), b.size()}; }
};

std::string addr4(ByteView a) {
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." + std::to_string(a[3]);
}

// ---------------------------------------------------------------------------------------------
// Minimal and real messages

TEST(DnsDecode, MinimalQuery) {
    Builder m;
    m.header(0x0100, 1, 0).name("a").u16(rrtype::kA).u16(1);
    EXPECT_TRUE(probe(m.v()));
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->header.id, 0x1234);
    EXPECT_FALSE(r->header.qr);
    EXPECT_TRUE(r->header.rd);
    ASSERT_TRUE(r->has_question);
    EXPECT_EQ(r->name(r->question.qname), "a");
    EXPECT_EQ(r->question.qtype, rrtype::kA);
    EXPECT_EQ(r->question.qclass, 1);
    EXPECT_TRUE(r->answers.empty());
    EXPECT_EQ(r->anomalies, 0u);
    EXPECT_EQ(r->length, m.b.size());
}

TEST(DnsDecode, RootQuestionIsEmptyName) {
    Builder m;
    m.header(0x0100, 1, 0).u8(0).u16(rrtype::kNs).u16(1);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->name(r->question.qname), "");
}

TEST(DnsDecode, RealResponseWithCnameChain) {
    const auto r = decode(view(kViberResponse));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    const Message& m = *r;
    EXPECT_EQ(m.header.id, 0xe183);
    EXPECT_TRUE(m.header.qr);
    EXPECT_EQ(m.header.opcode, opcode::kQuery);
    EXPECT_TRUE(m.header.rd);
    EXPECT_TRUE(m.header.ra);
    EXPECT_FALSE(m.header.aa);
    EXPECT_EQ(m.header.rcode, 0);
    EXPECT_EQ(m.header.qdcount, 1);
    EXPECT_EQ(m.header.ancount, 3);
    EXPECT_EQ(m.header.nscount, 2);
    EXPECT_EQ(m.header.arcount, 2);
    EXPECT_EQ(m.name(m.question.qname), "graph.facebook.com");
    EXPECT_EQ(m.question.qtype, rrtype::kA);
    ASSERT_EQ(m.answers.size(), 3u);
    EXPECT_FALSE(m.answers.overflowed());
    EXPECT_FALSE(m.answers_truncated);

    EXPECT_EQ(m.name(m.answers[0].name), "graph.facebook.com");
    EXPECT_EQ(m.answers[0].type, rrtype::kCname);
    EXPECT_EQ(m.answers[0].ttl_s, 2813u);
    EXPECT_EQ(m.name(m.answers[0].target), "api.facebook.com");

    EXPECT_EQ(m.name(m.answers[1].name), "api.facebook.com");
    EXPECT_EQ(m.answers[1].ttl_s, 880u);
    EXPECT_EQ(m.name(m.answers[1].target), "star.c10r.facebook.com");

    EXPECT_EQ(m.name(m.answers[2].name), "star.c10r.facebook.com");
    EXPECT_EQ(m.answers[2].type, rrtype::kA);
    EXPECT_EQ(m.answers[2].ttl_s, 34u);
    ASSERT_EQ(m.answers[2].address.size(), 4u);
    EXPECT_EQ(addr4(m.answers[2].address), "31.13.86.8");

    EXPECT_EQ(m.anomalies, 0u);
    EXPECT_FALSE(m.has_edns);
    EXPECT_EQ(m.length, kViberResponse.size());
    // Owner names that point at earlier names reuse their text: 18 + 16 + 22 bytes in all.
    EXPECT_EQ(m.name_arena_used, 56u);
}

TEST(DnsDecode, RealResponseOverTcpWithEdns) {
    const auto r = decode(body(kTcpResponse));
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_EQ(r->name(r->question.qname), "www.tcpdump.org");
    EXPECT_TRUE(r->header.aa);
    ASSERT_EQ(r->answers.size(), 2u);
    EXPECT_EQ(addr4(r->answers[0].address), "192.139.46.66");
    EXPECT_EQ(addr4(r->answers[1].address), "198.199.88.104");
    EXPECT_TRUE(r->has_edns);
    EXPECT_EQ(r->edns_udp_payload_size, 4096);
    EXPECT_EQ(r->edns_version, 0);
    EXPECT_EQ(r->extended_rcode, 0);
    EXPECT_EQ(r->anomalies, 0u);
}

TEST(DnsDecode, RealAaaaAnswer) {
    const auto r = decode(view(kAaaaResponse));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->answers.size(), 1u);
    EXPECT_EQ(r->answers[0].type, rrtype::kAaaa);
    EXPECT_EQ(r->answers[0].ttl_s, 299u);
    const auto expected = hex("2607f8b0400f0801000000000000200e");
    ASSERT_EQ(r->answers[0].address.size(), 16u);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), r->answers[0].address.begin()));
    EXPECT_TRUE(r->has_edns);
    EXPECT_EQ(r->edns_udp_payload_size, 512);
}

TEST(DnsDecode, InverseQueryWithEmptyARdataStopsAnswers) {
    // ndpi__dns_invert_query frame 1: the inverse-query "answer" is an A record with RDLENGTH 0,
    // which cannot be an address: the message decodes, the answer is dropped and flagged.
    const auto r = decode(view(kInverseQuery));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->header.opcode, opcode::kIQuery);
    EXPECT_FALSE(r->has_question);
    EXPECT_TRUE(r->answers.empty());
    EXPECT_TRUE(r->answers_truncated);
    const auto resp = decode(view(kInverseResponse));
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->header.rcode, 4);
    EXPECT_EQ(resp->length, 12u);
}

// RFC 9460 Appendix D test vectors, wrapped in responses: ServiceMode HTTPS with alpn, ech and
// both hints; SVCB "16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn
// ipv4hint=192.0.2.1" (D.2, figure 7); AliasMode "0 foo.example.com." (D.1).
TEST(DnsDecode, HttpsAndSvcbRecords) {
    Builder m;
    m.header(0x8180, 1, 3).name("example.com").u16(rrtype::kHttps).u16(1);
    const std::vector<uint8_t> service =
        hex("0001 00"  // priority 1, target "."
            "0001 0006 02683302 6832"  // alpn h3,h2
            "0004 0008 c0000201 c0000202"  // ipv4hint 192.0.2.1, 192.0.2.2
            "0005 0004 deadbeef"  // ech (opaque here)
            "0006 0010 20010db8000000000000000000000001");  // ipv6hint 2001:db8::1
    m.ptr(12).rr_fixed(rrtype::kHttps, static_cast<uint16_t>(service.size()), 300).raw(service);
    const std::vector<uint8_t> svcb =
        hex("0010 03666f6f076578616d706c65036f726700"
            "0000 0004 00010004"
            "0001 0009 02683205 68332d3139"
            "0004 0004 c0000201");
    m.ptr(12).rr_fixed(rrtype::kSvcb, static_cast<uint16_t>(svcb.size())).raw(svcb);
    const std::vector<uint8_t> alias = hex("0000 03666f6f076578616d706c6503636f6d00");
    m.ptr(12).rr_fixed(rrtype::kHttps, static_cast<uint16_t>(alias.size())).raw(alias);

    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    ASSERT_EQ(r->answers.size(), 3u);
    EXPECT_EQ(r->anomalies, 0u);

    const Answer& s = r->answers[0];
    EXPECT_EQ(s.type, rrtype::kHttps);
    EXPECT_EQ(s.svc_priority, 1);
    EXPECT_EQ(r->name(s.target), "");
    EXPECT_TRUE(s.has_ech);
    EXPECT_FALSE(s.no_default_alpn);
    const auto ids = alpn_ids(s.alpn);
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(as_text(ids[0]), "h3");
    EXPECT_EQ(as_text(ids[1]), "h2");
    ASSERT_EQ(s.ipv4hint.size(), 8u);
    EXPECT_EQ(addr4(s.ipv4hint.subspan(4)), "192.0.2.2");
    ASSERT_EQ(s.ipv6hint.size(), 16u);
    EXPECT_EQ(s.ipv6hint[15], 1);

    const Answer& v = r->answers[1];
    EXPECT_EQ(v.type, rrtype::kSvcb);
    EXPECT_EQ(v.svc_priority, 16);
    EXPECT_EQ(r->name(v.target), "foo.example.org");
    const auto ids2 = alpn_ids(v.alpn);
    ASSERT_EQ(ids2.size(), 2u);
    EXPECT_EQ(as_text(ids2[1]), "h3-19");
    EXPECT_EQ(addr4(v.ipv4hint), "192.0.2.1");
    EXPECT_FALSE(v.has_ech);

    const Answer& a = r->answers[2];
    EXPECT_EQ(a.svc_priority, 0);
    EXPECT_EQ(r->name(a.target), "foo.example.com");
    EXPECT_TRUE(a.alpn.empty());
}

TEST(DnsDecode, SvcParamOddities) {
    // Keys out of order, an ipv4hint of 5 bytes and an empty alpn: flagged, record kept.
    Builder m;
    m.header(0x8180, 1, 1).name("x.example").u16(rrtype::kHttps).u16(1);
    const std::vector<uint8_t> rdata = hex("0001 00  0004 0005 c000020101  0001 0000");
    m.ptr(12).rr_fixed(rrtype::kHttps, static_cast<uint16_t>(rdata.size())).raw(rdata);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->answers.size(), 1u);
    EXPECT_TRUE(r->anomalies & bit(Anomaly::SvcParamsUnordered));
    EXPECT_TRUE(r->anomalies & bit(Anomaly::SvcParamMalformed));
    EXPECT_TRUE(r->answers[0].ipv4hint.empty());
    EXPECT_TRUE(r->answers[0].alpn.empty());
}

TEST(DnsDecode, SvcParamLengthPastRdataIsMalformedAnswer) {
    Builder m;
    m.header(0x8180, 1, 1).name("x.example").u16(rrtype::kHttps).u16(1);
    const std::vector<uint8_t> rdata = hex("0001 00 0001 0010 026832");  // says 16, has 3
    m.ptr(12).rr_fixed(rrtype::kHttps, static_cast<uint16_t>(rdata.size())).raw(rdata);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->answers.empty());
    EXPECT_TRUE(r->answers_truncated);
}

// ---------------------------------------------------------------------------------------------
// Prefixes and wrong lengths

TEST(DnsDecode, EveryPrefixOfRealMessagesIsTruncated) {
    for (const auto* msg : {&kViberResponse, &kViberQuery, &kAaaaResponse}) {
        for (size_t n = 0; n < msg->size(); ++n) {
            const auto r = decode(view(*msg).first(n));
            ASSERT_FALSE(r.ok()) << "prefix " << n;
            EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol)
                << "prefix " << n << ": " << to_string(r.code());
        }
    }
    const ByteView tcp = body(kTcpResponse);
    for (size_t n = 0; n < tcp.size(); ++n) {
        const auto r = decode(tcp.first(n));
        ASSERT_FALSE(r.ok()) << "prefix " << n;
        EXPECT_TRUE(r.code() == DecodeErrorCode::Truncated || r.code() == DecodeErrorCode::NotThisProtocol);
    }
}

TEST(DnsDecode, CountsLargerThanMessageAreTruncated) {
    auto msg = kViberResponse;
    msg[7] = 4;  // ANCOUNT 3 → 4: the authority records are read as answers, then bytes run out
    const auto r = decode(view(msg));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Truncated);
}

TEST(DnsDecode, RdlengthPastEndIsTruncated) {
    Builder m;
    m.header(0x8180, 1, 1).name("a.b").u16(rrtype::kA).u16(1);
    m.ptr(12).rr_fixed(rrtype::kA, 8).u32(0x01020304);  // says 8, 4 present
    const auto r = decode(m.v());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Truncated);
}

TEST(DnsDecode, ARecordOfWrongLengthStopsAnswers) {
    Builder m;
    m.header(0x8180, 1, 2).name("a.b").u16(rrtype::kA).u16(1);
    m.ptr(12).rr_fixed(rrtype::kA, 4).u32(0x01020304);
    m.ptr(12).rr_fixed(rrtype::kA, 5).u32(0x05060708).u8(9);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->answers.size(), 1u);
    EXPECT_EQ(addr4(r->answers[0].address), "1.2.3.4");
    EXPECT_TRUE(r->answers_truncated);
}

TEST(DnsDecode, CnameShorterThanRdlengthStopsAnswers) {
    Builder m;
    m.header(0x8180, 1, 1).name("a.b").u16(rrtype::kCname).u16(1);
    m.ptr(12).rr_fixed(rrtype::kCname, 6).name("c.d").u8(0);  // name is 5 bytes, RDLENGTH 6
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->answers.empty());
    EXPECT_TRUE(r->answers_truncated);
}

TEST(DnsDecode, CnameRunningPastRdataStopsAnswers) {
    Builder m;
    m.header(0x8180, 1, 1).name("a.b").u16(rrtype::kCname).u16(1);
    m.ptr(12).rr_fixed(rrtype::kCname, 3).name("c.d");  // RDLENGTH 3 cuts the name
    m.u32(0);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->answers_truncated);
}

TEST(DnsDecode, TrailingBytesAreAnAnomaly) {
    auto msg = kViberQuery;
    msg.push_back(0);
    msg.push_back(0);
    const auto r = decode(view(msg));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->anomalies & bit(Anomaly::TrailingBytes));
    EXPECT_EQ(r->length, kViberQuery.size());
}

TEST(DnsDecode, ShortHeaderAndEmpty) {
    EXPECT_EQ(decode(ByteView{}).code(), DecodeErrorCode::NotThisProtocol);
    EXPECT_EQ(decode(view(kViberQuery).first(11)).code(), DecodeErrorCode::Truncated);
}

// ---------------------------------------------------------------------------------------------
// Adversarial names

TEST(DnsNames, SelfPointerInQuestionIsMalformed) {
    Builder m;
    m.header(0x0100, 1, 0).ptr(12).u16(1).u16(1);
    const auto r = decode(m.v());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), DecodeErrorCode::Malformed);
}

TEST(DnsNames, LoopThroughALabelIsMalformed) {
    Builder m;  // "\x01a" then a pointer back to the same name's start
    m.header(0x0100, 1, 0).u8(1).u8('a').ptr(12).u16(1).u16(1);
    EXPECT_EQ(decode(m.v()).code(), DecodeErrorCode::Malformed);
}

TEST(DnsNames, ForwardPointerInAnswerStopsAnswers) {
    Builder m;
    m.header(0x8180, 1, 2).name("a.b").u16(1).u16(1);
    const size_t first = m.b.size();
    m.ptr(static_cast<uint16_t>(first + 14 + 2)).rr_fixed(rrtype::kA, 4).u32(1);  // → 2nd owner
    m.name("c.d").rr_fixed(rrtype::kA, 4).u32(2);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->answers.empty());
    EXPECT_TRUE(r->answers_truncated);
}

TEST(DnsNames, TwoPointersLoopingStopsAnswers) {
    // The question's QCLASS bytes are a pointer forward to the answer's owner, which points
    // back at them: X → Y → X.
    Builder m;
    m.header(0x8180, 1, 1).name("a.b").u16(1);
    const auto y = static_cast<uint16_t>(m.b.size());
    const auto x = static_cast<uint16_t>(y + 2);
    m.ptr(x);  // QCLASS = 0xC000 | X
    m.ptr(y).rr_fixed(rrtype::kA, 4).u32(1);  // owner at X → Y
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->answers.empty());
    EXPECT_TRUE(r->answers_truncated);
}

TEST(DnsNames, ChainOfOwnerPointersUsesTheNameCache) {
    // Owner names each pointing at the previous one: the last needs 17 hops to reach a label.
    Builder m;
    const uint16_t answers = kMaxPointerHops + 2;
    m.header(0x8180, 1, answers).name("a").u16(1).u16(1);
    uint16_t prev = 12;
    for (uint16_t i = 0; i < answers; ++i) {
        const auto here = static_cast<uint16_t>(m.b.size());
        m.ptr(prev).rr_fixed(rrtype::kA, 4).u32(i);
        prev = here;
    }
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    // Each owner's target was decoded just before (name cache), so every name costs one hop
    // although the chain is longer than kMaxPointerHops; the next test walks a real chain.
    EXPECT_EQ(r->answers.size(), size_t{answers});
    EXPECT_FALSE(r->answers_truncated);
    for (const Answer& a : r->answers) EXPECT_EQ(r->name(a.name), "a");
}

TEST(DnsNames, PointerChainWithoutCacheHitsHopLimit) {
    // One name built from a chain of pointers to pointers inside a single TXT RDATA (never
    // decoded as names), then a question-less answer whose owner enters the chain at its end.
    Builder m;
    m.header(0x8180, 0, 2);
    m.name("a").rr_fixed(rrtype::kTxt, 2 * (kMaxPointerHops + 1));
    const auto root = static_cast<uint16_t>(12);
    auto at = static_cast<uint16_t>(m.b.size());
    m.ptr(root);
    for (size_t i = 0; i < kMaxPointerHops; ++i) {
        m.ptr(at);
        at = static_cast<uint16_t>(at + 2);
    }
    m.ptr(at).rr_fixed(rrtype::kA, 4).u32(7);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->answers.size(), 1u);  // the TXT record
    EXPECT_TRUE(r->answers_truncated);
}

TEST(DnsNames, LabelOf64BytesIsMalformed) {
    Builder m;
    m.header(0x0100, 1, 0).u8(64);
    for (int i = 0; i < 64; ++i) m.u8('x');
    m.u8(0).u16(1).u16(1);
    EXPECT_FALSE(probe(m.v()));
    EXPECT_EQ(decode(m.v()).code(), DecodeErrorCode::Malformed);
}

TEST(DnsNames, ExtendedLabelTypeIsMalformed) {
    Builder m;
    m.header(0x0100, 1, 0).u8(0x80).u8(0).u16(1).u16(1);
    EXPECT_EQ(decode(m.v()).code(), DecodeErrorCode::Malformed);
}

TEST(DnsNames, OverlongNameIsCutAndFlagged) {
    std::string label(63, 'x');
    const std::string name = label + "." + label + "." + label + "." + label + "." + label;
    Builder m;
    m.header(0x0100, 1, 0).name(name).u16(1).u16(1);
    EXPECT_FALSE(probe(m.v()));  // not something a resolver sends
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->anomalies & bit(Anomaly::NameTooLong));
    EXPECT_TRUE(r->question.qname.truncated);
    EXPECT_EQ(r->name(r->question.qname), label + "." + label + "." + label);
    EXPECT_EQ(r->question.qtype, 1);  // decoding went on after the name
}

TEST(DnsNames, LongestLegalNameIsKept) {
    // 3 × 63 + 61 characters in 4 labels = 253 characters, 255 wire octets.
    const std::string l63(63, 'a');
    const std::string name = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
    Builder m;
    m.header(0x0100, 1, 0).name(name).u16(1).u16(1);
    EXPECT_TRUE(probe(m.v()));
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->question.qname.truncated);
    EXPECT_EQ(r->name(r->question.qname).size(), kMaxNameTextLength);
    EXPECT_EQ(r->anomalies, 0u);
}

TEST(DnsNames, OddBytesAreKeptAndADotInALabelIsMasked) {
    Builder m;
    m.header(0x0100, 1, 0).u8(3).u8('a').u8('.').u8('b').u8(4).u8('c').u8(0x01).u8(0xff).u8('m');
    m.u8(0).u16(1).u16(1);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->name(r->question.qname), std::string_view("a?b.c\x01\xffm"));
    EXPECT_TRUE(r->anomalies & bit(Anomaly::NameOddChars));
}

TEST(DnsNames, ArenaOverflowCutsNamesButKeepsAnswers) {
    // 12 answers, each with a distinct 200-character CNAME target: 2400 bytes > 2 KiB arena.
    Builder m;
    const uint16_t n = 12;
    m.header(0x8180, 1, n).name("q").u16(rrtype::kCname).u16(1);
    for (uint16_t i = 0; i < n; ++i) {
        const std::string target = std::string(63, static_cast<char>('a' + i)) + "." + std::string(63, 'y') + "." +
                                   std::string(63, 'z') + ".c" + std::to_string(i % 10) + "x";
        Builder t;
        t.name(target);
        m.ptr(12).rr_fixed(rrtype::kCname, static_cast<uint16_t>(t.b.size())).raw(t.b);
    }
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->answers.size(), n);
    EXPECT_TRUE(r->anomalies & bit(Anomaly::NameArenaFull));
    EXPECT_FALSE(r->answers[0].target.truncated);
    EXPECT_TRUE(r->answers[n - 1].target.truncated);
    EXPECT_LE(r->name_arena_used, kNameArenaBytes);
}

TEST(DnsDecode, AnswersBeyondCapacityAreCountedAndWalked) {
    Builder m;
    const uint16_t n = kMaxAnswers + 8;
    m.header(0x8180, 1, n).name("many.example").u16(1).u16(1);
    for (uint16_t i = 0; i < n; ++i) m.ptr(12).rr_fixed(rrtype::kA, 4).u32(i);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->answers.size(), kMaxAnswers);
    EXPECT_TRUE(r->answers.overflowed());
    EXPECT_FALSE(r->answers_truncated);
    EXPECT_EQ(r->length, m.b.size());
}

TEST(DnsDecode, MultipleQuestionsKeepTheFirst) {
    Builder m;
    m.header(0x0100, 2, 0).name("one").u16(1).u16(1).name("two").u16(28).u16(1);
    EXPECT_FALSE(probe(m.v()));
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->name(r->question.qname), "one");
    EXPECT_TRUE(r->anomalies & bit(Anomaly::MultipleQuestions));
}

TEST(DnsDecode, BrokenAdditionalSectionKeepsAnswers) {
    Builder m;
    m.header(0x8180, 1, 1, 0, 1).name("a.b").u16(1).u16(1);
    m.ptr(12).rr_fixed(rrtype::kA, 4).u32(0x0a000001);
    m.u8(0x40).u8(0).rr_fixed(rrtype::kA, 0);  // extended label type in the additional owner
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->answers.size(), 1u);
    EXPECT_TRUE(r->anomalies & bit(Anomaly::ExtraSectionMalformed));
}

TEST(DnsDecode, ExtendedRcodeFromOpt) {
    Builder m;  // BADVERS (16) = OPT upper bits 1, header RCODE 0
    m.header(0x8180, 1, 0, 0, 1).name("a").u16(1).u16(1);
    m.u8(0).u16(rrtype::kOpt).u16(1232).u32(0x01008000).u16(0);
    const auto r = decode(m.v());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->has_edns);
    EXPECT_EQ(r->extended_rcode, 16);
    EXPECT_TRUE(r->edns_do);
    EXPECT_EQ(r->edns_udp_payload_size, 1232);
}

// ---------------------------------------------------------------------------------------------
// probe(): heuristic accept / reject lists

TEST(DnsProbe, AcceptsRealMessages) {
    EXPECT_TRUE(probe(view(kViberQuery)));
    EXPECT_TRUE(probe(view(kViberResponse)));
    EXPECT_TRUE(probe(body(kTcpQuery)));
    EXPECT_TRUE(probe(body(kTcpResponse)));
    EXPECT_TRUE(probe(view(kAaaaResponse)));
    EXPECT_TRUE(probe(view(kInverseQuery)));
    EXPECT_TRUE(probe(view(kInverseResponse)));
    EXPECT_TRUE(probe_tcp(view(kTcpQuery)));
    EXPECT_TRUE(probe_tcp(view(kTcpResponse)));
    EXPECT_TRUE(probe_tcp(view(kTcpResponse).first(40)));  // first segment of a split response
}

TEST(DnsProbe, RejectsOtherProtocolsAndNoise) {
    const std::vector<std::vector<uint8_t>> reject = {
        // ndpi__stun.pcap frame 3: STUN Binding Request.
        hex("000100002112a442 5348 6b68 4638 6f64 7767 7956"),
        // ndpi__rtp.pcapng frame 1: RTP (PT 34), first 32 bytes.
        hex("80220110 0009e886 00001646 00700000 0000836a 0e033ffc 05cc8e21 d3df8bc0"),
        // ndpi__quic-29.pcap frame 1: QUIC Initial, first 40 bytes.
        hex("c2ff00001d12f36e07bf0b7088ef28c71d488acaaff39ffc1143944eda18beb7e548b38d375bf3c2"),
        // ndpi__doq.pcapng frame 4: QUIC that tshark's DNS heuristic mis-dissects as DNS.
        hex("e0ff00002008bbd9e39c87930fed084e2fe3b9882631f94043a4b6f3ea156bdd5421420821f23792"),
        // A TLS ClientHello record header and an HTTP request.
        hex("16030102000100 01fc0303d820986a1fb4dc3a70fac91f"),
        std::vector<uint8_t>{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1'},
        // All zeros (QDCOUNT 0 query) and all ones.
        std::vector<uint8_t>(32, 0x00),
        std::vector<uint8_t>(32, 0xff),
        // Query with an answer record (not how stub resolvers ask).
        hex("e183010000010001000000000567726170680866616365626f6f6b03636f6d0000010001"
            "c00c000100010000003c00040a000001"),
        // Query with unknown opcode 3.
        hex("e183190000010000000000000567726170680866616365626f6f6b03636f6d0000010001"),
        // QCLASS 7 (unassigned).
        hex("e183010000010000000000000567726170680866616365626f6f6b03636f6d0000010007"),
        // QTYPE 0.
        hex("e183010000010000000000000567726170680866616365626f6f6b03636f6d0000000001"),
        // Name running off the end.
        hex("e1830100000100000000000005677261706808666163"),
        // Response announcing more records than bytes left.
        hex("e18381800001 0009 0000 0000 0567726170680866616365626f6f6b03636f6d0000010001"
            "c00c000100010000003c00040a000001"),
    };
    for (size_t i = 0; i < reject.size(); ++i) {
        EXPECT_FALSE(probe(view(reject[i]))) << "reject list item " << i;
    }
    // Length prefix smaller than a header, and a non-DNS TCP start.
    EXPECT_FALSE(probe_tcp(hex("0005 0102030405")));
    EXPECT_FALSE(probe_tcp(hex("160301020001000001fc0303")));
}

TEST(DnsProbe, RejectsRandomData) {
    // Deterministic xorshift noise: 20000 buffers of 12..512 bytes.
    uint64_t s = 0x9E3779B97F4A7C15ull;
    auto next = [&s] {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    };
    std::vector<uint8_t> buf;
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        buf.resize(12 + next() % 500);
        for (auto& b : buf) b = static_cast<uint8_t>(next());
        accepted += probe(view(buf)) ? 1 : 0;
        (void)decode(view(buf));  // must not crash either
    }
    EXPECT_EQ(accepted, 0);
}

// ---------------------------------------------------------------------------------------------
// Multicast DNS (RFC 6762)

// An mDNS announcement as macOS/Avahi send it (RFC 6762 §6, §10.2): ID 0, QR|AA, no question,
// A and AAAA records of class 0x8001 (IN + cache-flush), the AAAA owner compressed to the A's.
// Hand-made in the layout of ndpi__mdns.pcap frame 2 (addresses changed to documentation ones).
std::vector<uint8_t> mdns_announcement() {
    Builder m;
    m.u16(0x0000).u16(0x8400).u16(0).u16(2).u16(0).u16(0);
    m.name("printer-3.local").u16(rrtype::kA).u16(0x8001).u32(120).u16(4).u32(0xC0000205);
    m.ptr(12).u16(rrtype::kAaaa).u16(0x8001).u32(120).u16(16);
    m.u32(0x20010db8).u32(0).u32(0).u32(0x00000205);
    return m.b;
}

TEST(DnsMdns, CacheFlushAnswersCarryTheirAddress) {
    const std::vector<uint8_t> msg = mdns_announcement();
    const auto r = decode(view(msg), Dialect::Mdns);
    ASSERT_TRUE(r.ok()) << to_string(r.code());
    EXPECT_FALSE(r->has_question);
    ASSERT_EQ(r->answers.size(), 2u);
    const Answer& a = r->answers[0];
    EXPECT_EQ(r->name(a.name), "printer-3.local");
    EXPECT_EQ(a.rrclass, 1);
    EXPECT_TRUE(a.cache_flush);
    ASSERT_EQ(a.address.size(), 4u);
    EXPECT_EQ(addr4(a.address), "192.0.2.5");
    const Answer& aaaa = r->answers[1];
    EXPECT_EQ(r->name(aaaa.name), "printer-3.local");
    EXPECT_EQ(aaaa.rrclass, 1);
    EXPECT_TRUE(aaaa.cache_flush);
    ASSERT_EQ(aaaa.address.size(), 16u);
    EXPECT_EQ(aaaa.address[0], 0x20);
    EXPECT_EQ(aaaa.address[15], 0x05);
    EXPECT_FALSE(r->answers_truncated);
    EXPECT_EQ(r->length, msg.size());
}

TEST(DnsMdns, UnicastDnsKeepsTheClassWhole) {
    // Outside mDNS 0x8001 is an unassigned class: the record is kept without an address, as
    // before (records of other classes are not decoded).
    const std::vector<uint8_t> msg = mdns_announcement();
    const auto r = decode(view(msg));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->answers.size(), 2u);
    EXPECT_EQ(r->answers[0].rrclass, 0x8001);
    EXPECT_FALSE(r->answers[0].cache_flush);
    EXPECT_TRUE(r->answers[0].address.empty());
}

TEST(DnsMdns, OtherClassesWithTheFlagStayUndecoded) {
    // CHAOS (3) with the cache-flush bit: 15-bit class 3, not IN: no address.
    Builder m;
    m.u16(0).u16(0x8400).u16(0).u16(1).u16(0).u16(0);
    m.name("x.local").u16(rrtype::kA).u16(0x8003).u32(120).u16(4).u32(0xC0000206);
    const auto r = decode(m.v(), Dialect::Mdns);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->answers.size(), 1u);
    EXPECT_EQ(r->answers[0].rrclass, 3);
    EXPECT_TRUE(r->answers[0].cache_flush);
    EXPECT_TRUE(r->answers[0].address.empty());
}

TEST(DnsMdns, QuestionUnicastResponseBit) {
    Builder m;
    m.u16(0).u16(0x0000).u16(1).u16(0).u16(0).u16(0);
    m.name("_googlecast._tcp.local").u16(rrtype::kPtr).u16(0x8001);
    const auto r = decode(m.v(), Dialect::Mdns);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->question.qclass, 1);
    EXPECT_TRUE(r->question.unicast_response);
    const auto plain = decode(m.v());
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->question.qclass, 0x8001);
    EXPECT_FALSE(plain->question.unicast_response);
}

TEST(DnsMdns, EveryPrefixIsTruncated) {
    const std::vector<uint8_t> msg = mdns_announcement();
    for (size_t n = 1; n < msg.size(); ++n) {
        const auto r = decode(view(msg).first(n), Dialect::Mdns);
        ASSERT_FALSE(r.ok()) << n;
        EXPECT_EQ(r.code(), DecodeErrorCode::Truncated) << n;
        // probe() is a plausibility check: only prefixes cut before the first record's end or
        // without 11 bytes per further record are rejected.
        if (n < 12 + 17 + 10 + 4) {
            EXPECT_FALSE(probe(view(msg).first(n), Dialect::Mdns)) << n;
        }
    }
}

TEST(DnsMdns, ProbeAcceptsAnnouncementsAndKnownAnswerQueries) {
    const std::vector<uint8_t> announcement = mdns_announcement();
    // A response without a question is not unicast DNS...
    EXPECT_FALSE(probe(view(announcement)));
    // ...but is how mDNS answers (RFC 6762 §6).
    EXPECT_TRUE(probe(view(announcement), Dialect::Mdns));
    // Query with two questions and a known answer (RFC 6762 §7.1), QU bit set.
    Builder q;
    q.u16(0).u16(0).u16(2).u16(1).u16(0).u16(0);
    q.name("_airplay._tcp.local").u16(rrtype::kPtr).u16(0x8001);
    q.name("_raop._tcp.local").u16(rrtype::kPtr).u16(0x0001);
    q.ptr(12).u16(rrtype::kPtr).u16(1).u32(4500).u16(2).ptr(12);
    EXPECT_FALSE(probe(q.v()));
    EXPECT_TRUE(probe(q.v(), Dialect::Mdns));
    const auto r = decode(q.v(), Dialect::Mdns);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->answers.size(), 1u);
}

TEST(DnsMdns, ProbeRejects) {
    const std::vector<uint8_t> good = mdns_announcement();
    std::vector<uint8_t> op = good;
    op[2] |= 0x28;  // opcode 5
    std::vector<uint8_t> rcode = good;
    rcode[3] |= 0x03;
    std::vector<uint8_t> empty = good;
    empty[7] = 0;  // ANCOUNT 0: nothing announced
    std::vector<uint8_t> klass = good;
    klass[12 + 17 + 3] = 0x07;  // first record's class 0x8007
    std::vector<uint8_t> counts = good;
    counts[7] = 9;  // 9 answers announced in 2 records' bytes
    for (const auto* m : {&op, &rcode, &empty, &klass, &counts}) {
        EXPECT_FALSE(probe(view(*m), Dialect::Mdns));
    }
    EXPECT_FALSE(probe(hex("000100002112a4425348 6b684638 6f647767 7956"), Dialect::Mdns));
    uint64_t s = 0x2545F4914F6CDD1Dull;
    std::vector<uint8_t> buf;
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        buf.resize(12 + s % 500);
        for (auto& b : buf) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            b = static_cast<uint8_t>(s);
        }
        accepted += probe(view(buf), Dialect::Mdns) ? 1 : 0;
        (void)decode(view(buf), Dialect::Mdns);
    }
    EXPECT_EQ(accepted, 0);
}

// ---------------------------------------------------------------------------------------------
// TcpFramer

struct Collected {
    std::vector<std::vector<uint8_t>> messages;
    std::vector<const uint8_t*> data;
};

TEST(DnsTcpFramer, TwoMessagesInOneSegmentAreHandedOverInPlace) {
    std::vector<uint8_t> segment = kTcpQuery;
    segment.insert(segment.end(), kTcpResponse.begin(), kTcpResponse.end());
    TcpFramer f;
    Collected c;
    f.feed(view(segment), [&](ByteView m) {
        c.messages.emplace_back(m.begin(), m.end());
        c.data.push_back(m.data());
    });
    ASSERT_EQ(c.messages.size(), 2u);
    EXPECT_EQ(c.data[0], segment.data() + 2);  // zero-copy
    EXPECT_EQ(c.data[1], segment.data() + kTcpQuery.size() + 2);
    const auto q = decode(view(c.messages[0]));
    const auto r = decode(view(c.messages[1]));
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(q->header.qr);
    EXPECT_EQ(r->answers.size(), 2u);
    EXPECT_EQ(f.stats().messages, 2u);
    EXPECT_TRUE(f.at_boundary());
}

TEST(DnsTcpFramer, MessageSplitOverThreeSegments) {
    // Cut inside the length prefix and in the middle of the body.
    const ByteView all = view(kTcpResponse);
    TcpFramer f;
    Collected c;
    auto sink = [&](ByteView m) { c.messages.emplace_back(m.begin(), m.end()); };
    f.feed(all.first(1), sink);
    EXPECT_TRUE(c.messages.empty());
    EXPECT_FALSE(f.at_boundary());
    f.feed(all.subspan(1, 120), sink);
    EXPECT_TRUE(c.messages.empty());
    f.feed(all.subspan(121), sink);
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].size(), kTcpResponse.size() - 2);
    EXPECT_TRUE(std::equal(c.messages[0].begin(), c.messages[0].end(), kTcpResponse.begin() + 2));
    const auto r = decode(view(c.messages[0]));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(addr4(r->answers[1].address), "198.199.88.104");
}

TEST(DnsTcpFramer, ByteAtATime) {
    std::vector<uint8_t> stream = kTcpQuery;
    stream.insert(stream.end(), kTcpResponse.begin(), kTcpResponse.end());
    TcpFramer f;
    Collected c;
    for (const uint8_t b : stream) {
        f.feed(ByteView{&b, 1}, [&](ByteView m) { c.messages.emplace_back(m.begin(), m.end()); });
    }
    ASSERT_EQ(c.messages.size(), 2u);
    EXPECT_TRUE(decode(view(c.messages[0])).ok());
    EXPECT_TRUE(decode(view(c.messages[1])).ok());
}

TEST(DnsTcpFramer, OversizeSplitMessageIsSkippedAndCounted) {
    std::vector<uint8_t> stream;
    const size_t big = kTcpFramerBufferBytes + 100;
    stream.push_back(static_cast<uint8_t>(big >> 8));
    stream.push_back(static_cast<uint8_t>(big));
    stream.resize(stream.size() + big, 0xAB);
    stream.insert(stream.end(), kTcpQuery.begin(), kTcpQuery.end());
    TcpFramer f;
    Collected c;
    auto sink = [&](ByteView m) { c.messages.emplace_back(m.begin(), m.end()); };
    f.feed(view(stream).first(1000), sink);
    f.feed(view(stream).subspan(1000), sink);
    ASSERT_EQ(c.messages.size(), 1u);  // only the query after it
    EXPECT_TRUE(decode(view(c.messages[0])).ok());
    EXPECT_EQ(f.stats().oversize_messages, 1u);
    EXPECT_EQ(f.stats().bytes_skipped, big);
}

TEST(DnsTcpFramer, OversizeMessageInOneSegmentIsDelivered) {
    std::vector<uint8_t> stream;
    const size_t big = kTcpFramerBufferBytes * 2;
    stream.push_back(static_cast<uint8_t>(big >> 8));
    stream.push_back(static_cast<uint8_t>(big));
    stream.resize(stream.size() + big, 0);
    TcpFramer f;
    size_t seen = 0;
    f.feed(view(stream), [&](ByteView m) { seen = m.size(); });
    EXPECT_EQ(seen, big);
    EXPECT_EQ(f.stats().oversize_messages, 0u);
}

TEST(DnsTcpFramer, EmptyMessageAndGap) {
    TcpFramer f;
    int n = 0;
    auto sink = [&](ByteView) { ++n; };
    f.feed(hex("0000"), sink);
    EXPECT_EQ(f.stats().empty_messages, 1u);
    f.feed(view(kTcpQuery).first(10), sink);
    f.gap();
    EXPECT_FALSE(f.in_sync());
    f.feed(view(kTcpQuery), sink);  // boundaries unknown: skipped
    EXPECT_EQ(n, 0);
    EXPECT_EQ(f.stats().bytes_skipped, kTcpQuery.size());
    f.reset();
    f.feed(view(kTcpQuery), sink);
    EXPECT_EQ(n, 1);
}

// ---------------------------------------------------------------------------------------------
// decode_into: one Message reused for message after message (the packet path)

// Every field of a decoded message, names as text, views as (offset in `wire`, length).
std::string describe(const Message& m, ByteView wire) {
    const auto at = [&](ByteView v) {
        return v.data() ? std::to_string(v.data() - wire.data()) + "+" + std::to_string(v.size()) : std::string("-");
    };
    const auto name = [&](NameRef r) {
        return "'" + std::string(m.name(r)) + "'" + std::to_string(r.offset) + (r.truncated ? "T" : "");
    };
    const Header& h = m.header;
    std::string s = "id " + std::to_string(h.id) + " qr " + std::to_string(h.qr) + " op " + std::to_string(h.opcode) +
                    " flags " + std::to_string(h.aa) + std::to_string(h.tc) + std::to_string(h.rd) +
                    std::to_string(h.ra) + std::to_string(h.z) + std::to_string(h.ad) + std::to_string(h.cd) +
                    " rcode " + std::to_string(h.rcode) + " counts " + std::to_string(h.qdcount) + "/" +
                    std::to_string(h.ancount) + "/" + std::to_string(h.nscount) + "/" + std::to_string(h.arcount);
    s += " q " + std::to_string(m.has_question) + " " + name(m.question.qname) + " " +
         std::to_string(m.question.qtype) + " " + std::to_string(m.question.qclass) + " " +
         std::to_string(m.question.unicast_response);
    s += " answers " + std::to_string(m.answers.size()) + (m.answers.overflowed() ? "+" : "");
    for (const Answer& a : m.answers) {
        s += " [" + name(a.name) + " " + std::to_string(a.type) + " " + std::to_string(a.rrclass) + " " +
             std::to_string(a.cache_flush) + " " + std::to_string(a.ttl_s) + " " + at(a.rdata) + " " + at(a.address) +
             " " + name(a.target) + " " + std::to_string(a.svc_priority) + " " + std::to_string(a.port) + " " +
             std::to_string(a.no_default_alpn) + std::to_string(a.has_ech) + " " + at(a.alpn) + " " + at(a.ipv4hint) +
             " " + at(a.ipv6hint) + "]";
    }
    s += " cut " + std::to_string(m.answers_truncated) + " edns " + std::to_string(m.has_edns) + " " +
         std::to_string(m.edns_udp_payload_size) + " " + std::to_string(m.edns_version) + " " +
         std::to_string(m.edns_do) + " xrcode " + std::to_string(m.extended_rcode) + " len " +
         std::to_string(m.length) + " anomalies " + std::to_string(m.anomalies) + " arena " +
         std::to_string(m.name_arena_used);
    return s;
}

TEST(DnsDecode, IntoAReusedMessageGivesWhatAFreshDecodeGives) {
    const std::vector<std::vector<uint8_t>> bases = {
        kViberResponse,
        kViberQuery,
        std::vector<uint8_t>(kTcpQuery.begin() + 2, kTcpQuery.end()),
        std::vector<uint8_t>(kTcpResponse.begin() + 2, kTcpResponse.end()),
        kAaaaResponse,
        kInverseQuery,
        kInverseResponse,
    };
    // The bases, then mutations of them (bytes flipped, cut, a count raised)
    // in random order, so that small messages follow big ones in the reused
    // Message and whatever a big one left behind would show.
    std::vector<std::vector<uint8_t>> cases = bases;
    std::mt19937 rng(20261125);
    for (int i = 0; i < 30000; ++i) {
        std::vector<uint8_t> b = bases[rng() % bases.size()];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits && !b.empty(); ++k) {
            switch (rng() % 3) {
                case 0: b[rng() % b.size()] = static_cast<uint8_t>(rng()); break;
                case 1: b.resize(rng() % (b.size() + 1)); break;
                default:
                    if (b.size() >= 12) b[5 + 2 * (rng() % 4)] = static_cast<uint8_t>(rng() % 40);  // a count
            }
        }
        cases.push_back(std::move(b));
    }
    Message reused;
    size_t decoded = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const ByteView wire = view(cases[i]);
        const Dialect d = i % 5 == 4 ? Dialect::Mdns : Dialect::Dns;
        const auto fresh = decode(wire, d);
        DecodeError err{};
        const bool ok = decode_into(wire, d, reused, &err);
        ASSERT_EQ(ok, fresh.ok()) << "case " << i;
        if (!ok) {
            EXPECT_EQ(err.code, fresh.error().code) << "case " << i;
            EXPECT_EQ(err.offset, fresh.error().offset) << "case " << i;
            continue;
        }
        ++decoded;
        ASSERT_EQ(describe(reused, wire), describe(*fresh, wire)) << "case " << i;
    }
    EXPECT_GT(decoded, 2000u) << "the mutations must keep many messages decodable";
    EXPECT_LT(decoded, cases.size()) << "and break some";
}

}  // namespace
}  // namespace callwall::proto::dns
