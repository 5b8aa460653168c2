// The dissecting layer on its own (pipeline/app_analyzer.hpp, dissect.hpp):
// the registry's rows, which row each first payload is dispatched to, each
// analyzer's probe accept/reject lists, and the facts a Dissector emits
// through a FactSink for small hand-built exchanges.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "pipeline/dissect.hpp"
#include "pipeline/analyzers/dns.hpp"
#include "pipeline/analyzers/dns_tcp.hpp"
#include "pipeline/analyzers/proxy_tls.hpp"
#include "pipeline/analyzers/quic.hpp"
#include "pipeline/analyzers/rtc.hpp"
#include "pipeline/analyzers/stun_tcp.hpp"
#include "pipeline/analyzers/tls.hpp"
#include "pipeline/app_analyzer.hpp"
#include "unit/proto/fixtures.hpp"
#include "unit/test_util.hpp"

namespace callwall::pipeline {
namespace {

using Bytes = std::vector<uint8_t>;
using test::hex;

// DNS query and answer for example.com A (RFC 1035 §4.1), id 0x1234.
const Bytes kDnsQuery = hex("1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001");
const Bytes kDnsAnswer =
    hex("1234 8180 0001 0001 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001"
        "c00c 0001 0001 0000003c 0004 c0000207");
// STUN Binding request and success response (RFC 8489 §5), no attributes.
const Bytes kStunRequest = hex("0001 0000 2112a442 000102030405060708090a0b");
const Bytes kStunResponse = hex("0101 0000 2112a442 000102030405060708090a0b");
// RTP version 2, PT 111 (Opus), seq 1, ts 960, SSRC 0x11223344.
const Bytes kRtp = hex("806f 0001 000003c0 11223344 00000000000000000000");
const Bytes kDtlsCcs = hex("14 fefd 0000 000000000001 0001 01");
const Bytes kConnect = [] {
    const std::string s = "CONNECT media.example.com:443 HTTP/1.1\r\nHost: media.example.com:443\r\n\r\n";
    return Bytes(s.begin(), s.end());
}();
Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
const Bytes kJunk = hex("ffeeddccbbaa99887766554433221100");

flow::Flow make_flow(uint8_t proto, uint16_t server_port, uint64_t id = 1) {
    flow::Flow f;
    f.proto = proto;
    f.id = id;
    f.client_ip = decode::IpAddr::v4(0x0A000002);
    f.server_ip = decode::IpAddr::v4(0xC0000207);
    f.client_port = 50000;
    f.server_port = server_port;
    return f;
}

std::string dispatched(const flow::Flow& f, const Bytes& payload, flow::Dir d = flow::kFromClient) {
    const int row = classify(registry(), f, d, ByteView(payload));
    return row < 0 ? "" : std::string(registry()[static_cast<size_t>(row)].name);
}

TEST(Registry, RowsAreUniqueAndComplete) {
    std::set<std::string_view> names;
    for (const AnalyzerRow& row : registry()) {
        EXPECT_TRUE(names.insert(row.name).second) << row.name;
        EXPECT_NE(row.probe, nullptr) << row.name;
        EXPECT_NE(row.make, nullptr) << row.name;
        EXPECT_FALSE(row.labels.empty()) << row.name;
        EXPECT_LE(row.labels.size(), 16u) << row.name;  // FlowApp::labels bits
        if (row.port_use != PortUse::Any) {
            EXPECT_FALSE(row.ports.empty()) << row.name;
        }
    }
    EXPECT_GE(registry().size(), 7u);
}

TEST(Registry, UdpDispatch) {
    const flow::Flow dns = make_flow(decode::kProtoUdp, 53);
    EXPECT_EQ(dispatched(dns, kDnsQuery), "dns");
    EXPECT_EQ(dispatched(make_flow(decode::kProtoUdp, 5353), kDnsQuery), "dns");
    // DNS is tried on its ports only: the same bytes elsewhere are nothing of ours.
    EXPECT_EQ(dispatched(make_flow(decode::kProtoUdp, 4000), kDnsQuery), "");
    const flow::Flow udp = make_flow(decode::kProtoUdp, 3478);
    EXPECT_EQ(dispatched(udp, hex(test::fixtures::kChromiumV1Initial)), "quic");
    EXPECT_EQ(dispatched(udp, kStunRequest), "rtc");
    EXPECT_EQ(dispatched(udp, kRtp), "rtc");
    EXPECT_EQ(dispatched(udp, kDtlsCcs), "rtc");
    EXPECT_EQ(dispatched(udp, hex("4000 0004 deadbeef")), "rtc");  // ChannelData candidate
    EXPECT_EQ(dispatched(udp, kJunk), "");
    // A TCP-only signature is not tried on UDP.
    EXPECT_EQ(dispatched(udp, hex(test::fixtures::kTlsEchClientRecord)), "");
}

TEST(Registry, TcpDispatch) {
    EXPECT_EQ(dispatched(make_flow(decode::kProtoTcp, 53), cat(hex("001d"), kDnsQuery)), "dns-tcp");
    const flow::Flow tcp = make_flow(decode::kProtoTcp, 443);
    EXPECT_EQ(dispatched(tcp, hex(test::fixtures::kTlsEchClientRecord)), "tls");
    EXPECT_EQ(dispatched(tcp, kStunRequest), "stun-tcp");
    EXPECT_EQ(dispatched(tcp, cat(hex("0014"), kStunRequest)), "stun-tcp");  // RFC 4571
    EXPECT_EQ(dispatched(tcp, hex("4000 0004 deadbeef")), "stun-tcp");  // one padded ChannelData frame
    EXPECT_EQ(dispatched(tcp, hex("4000 0004 deadbeef 00")), "");  // not exactly one frame
    EXPECT_EQ(dispatched(tcp, kConnect), "proxy-tls");
    EXPECT_EQ(dispatched(tcp, kConnect, flow::kFromServer), "");  // a proxy request comes from the client
    EXPECT_EQ(dispatched(tcp, kJunk), "");
    EXPECT_EQ(dispatched(tcp, hex(test::fixtures::kChromiumV1Initial)), "");
}

ProbeInput input(const flow::Flow& f, const Bytes& b, bool hinted = false, flow::Dir d = flow::kFromClient) {
    return ProbeInput{f, d, ByteView(b), hinted};
}

TEST(Probes, AcceptAndRejectLists) {
    const flow::Flow udp = make_flow(decode::kProtoUdp, 53), tcp = make_flow(decode::kProtoTcp, 53);
    struct Case {
        const char* what;
        bool (*probe)(const ProbeInput&) noexcept;
        const flow::Flow& flow;
        std::vector<Bytes> accept, reject;
    };
    const Case cases[] = {
        {"dns", probe_dns, udp, {kDnsQuery, kDnsAnswer}, {kJunk, kStunRequest, {}, hex("1234")}},
        {"dns-tcp", probe_dns_tcp, tcp, {cat(hex("001d"), kDnsQuery)}, {kDnsQuery, hex("0000"), kJunk}},
        {"quic", probe_quic, udp, {hex(test::fixtures::kChromiumV1Initial)}, {kStunRequest, kRtp, kJunk, {}}},
        {"rtc", probe_rtc, udp, {kStunRequest, kStunResponse, kRtp, kDtlsCcs}, {kJunk, {}, hex("40")}},
        {"tls", probe_tls, tcp, {hex(test::fixtures::kTlsEchClientRecord)}, {kJunk, kStunRequest, hex("1603")}},
        {"stun-tcp", probe_stun_tcp, tcp, {kStunRequest, cat(hex("0014"), kStunRequest)}, {kJunk, kDtlsCcs, {}}},
        {"proxy-tls",
         probe_proxy_tls,
         tcp,
         {kConnect, hex("050100")},
         {kJunk, hex(test::fixtures::kTlsEchClientRecord)}},
    };
    for (const Case& c : cases) {
        for (const Bytes& b : c.accept) EXPECT_TRUE(c.probe(input(c.flow, b))) << c.what << " rejects " << b.size();
        for (const Bytes& b : c.reject) EXPECT_FALSE(c.probe(input(c.flow, b))) << c.what << " accepts " << b.size();
    }
}

// ---- the Dissector with a recording sink ----

struct Recorded : facts::FactSink {
    std::vector<facts::DnsQueryFact> queries;
    std::vector<facts::DnsAnswerFact> answers;
    std::vector<facts::StunFact> stun;
    std::vector<facts::HelloFact> hellos;
    std::vector<facts::RtpStreamFact> rtp;
    std::vector<std::pair<std::string, std::string>> names;
    std::vector<std::string> qnames;
    void write(facts::Fact f) override {
        std::visit([this](const auto* x) { add(*x); }, f);
    }
    void add(const facts::DnsQueryFact& f) { queries.push_back(f), qnames.emplace_back(f.qname); }
    void add(const facts::DnsAnswerFact& f) { answers.push_back(f); }
    void add(const facts::HelloFact& f) { hellos.push_back(f); }
    void add(const facts::StunFact& f) { stun.push_back(f); }
    void add(const facts::RtpStreamFact& f) { rtp.push_back(f); }
    void add(const facts::FlowNameFact& f) { names.emplace_back(std::string(f.name), std::string(f.source)); }
};

struct RegistryHarness {
    Recorded sink;
    Dissector d{&sink};
    int64_t ts_us = 1'767'225'600'000'000;

    void send(flow::Flow& f, uint32_t slot, flow::Dir dir, const Bytes& payload) {
        decode::PacketMeta m;
        m.proto = f.proto;
        m.payload = ByteView(payload);
        m.payload_wire_len = static_cast<uint32_t>(payload.size());
        ts_us += 1000;
        if (f.first_ts_us == 0) f.first_ts_us = ts_us;
        f.last_ts_us = ts_us;
        d.on_packet(f, slot, dir, m, ts_us);
    }
    std::string end(flow::Flow& f, uint32_t slot, facts::FlowAppInfo& info) {
        d.on_flow_end(f, slot, info);
        return std::string(info.app);
    }
};

TEST(Dissector, DnsAnswerNamesALaterFlow) {
    RegistryHarness h;
    flow::Flow dns = make_flow(decode::kProtoUdp, 53, 1);
    h.d.on_flow_created(dns, 0);
    h.send(dns, 0, flow::kFromClient, kDnsQuery);
    h.send(dns, 0, flow::kFromServer, kDnsAnswer);
    facts::FlowAppInfo info;
    EXPECT_EQ(h.end(dns, 0, info), "dns");
    ASSERT_EQ(h.sink.queries.size(), 1u);
    EXPECT_TRUE(h.sink.queries[0].answered);
    EXPECT_EQ(h.sink.qnames[0], "example.com");
    EXPECT_EQ(h.sink.queries[0].answers, 1u);
    ASSERT_EQ(h.sink.answers.size(), 1u);
    EXPECT_TRUE(h.sink.answers[0].has_address);
    EXPECT_EQ(h.sink.answers[0].address, decode::IpAddr::v4(0xC0000207));
    EXPECT_EQ(h.sink.answers[0].ttl_s, 60u);

    // The client then talks to the answered address: the flow is named after the query.
    flow::Flow media = make_flow(decode::kProtoTcp, 8443, 2);
    h.d.on_flow_created(media, 1);
    media.first_ts_us = h.ts_us + 1000;
    EXPECT_EQ(h.end(media, 1, info), "");
    EXPECT_EQ(info.name, "example.com");
    EXPECT_EQ(info.name_source, "dns");
    ASSERT_FALSE(h.sink.names.empty());
    EXPECT_EQ(h.sink.names.back(), (std::pair<std::string, std::string>{"example.com", "dns"}));
}

TEST(Dissector, UnansweredQueryIsEmittedAtTheFlowsEnd) {
    RegistryHarness h;
    flow::Flow dns = make_flow(decode::kProtoUdp, 53, 1);
    h.d.on_flow_created(dns, 0);
    h.send(dns, 0, flow::kFromClient, kDnsQuery);
    h.send(dns, 0, flow::kFromClient, kDnsQuery);  // a retransmission: one query
    EXPECT_TRUE(h.sink.queries.empty());
    facts::FlowAppInfo info;
    h.end(dns, 0, info);
    ASSERT_EQ(h.sink.queries.size(), 1u);
    EXPECT_FALSE(h.sink.queries[0].answered);
    EXPECT_EQ(h.sink.queries[0].qtype, 1);
}

TEST(Dissector, StunTransactionAndMediaLabels) {
    RegistryHarness h;
    flow::Flow f = make_flow(decode::kProtoUdp, 3478, 7);
    h.d.on_flow_created(f, 0);
    h.send(f, 0, flow::kFromClient, kStunRequest);
    h.send(f, 0, flow::kFromServer, kStunResponse);
    h.send(f, 0, flow::kFromClient, kDtlsCcs);
    facts::FlowAppInfo info;
    EXPECT_EQ(h.end(f, 0, info), "stun+dtls");
    ASSERT_EQ(h.sink.stun.size(), 2u);
    EXPECT_FALSE(h.sink.stun[0].answers_request);
    EXPECT_TRUE(h.sink.stun[1].answers_request);
    EXPECT_EQ(h.sink.stun[1].dir, flow::kFromServer);
    EXPECT_EQ(h.sink.stun[0].transaction_id.size(), 12u);
    EXPECT_EQ(info.stun_requests, 1u);
    EXPECT_EQ(info.stun_answered, 1u);
    EXPECT_EQ(h.d.stats().stun_messages, 2u);
    EXPECT_EQ(h.d.stats().dtls_records, 1u);
}

// ChannelData on a channel no ChannelBind was seen for counts once three
// arrive in a row; an RTP datagram in between breaks the streak (the
// analyzer tells the validator only while a candidate is pending, so this is
// the path that must still do it).
TEST(Dissector, ChannelDataStreakBrokenByAnRtpDatagram) {
    // Channel 0x4003 carrying 22 bytes of RTCP (as in the STUN tests).
    const Bytes cd = hex("4003001680c9000100000001800000031ff01345009e4583923d");
    const auto channel_data_counted = [&](bool rtp_between) {
        RegistryHarness h;
        flow::Flow f = make_flow(decode::kProtoUdp, 3478, 11);
        h.d.on_flow_created(f, 0);
        h.send(f, 0, flow::kFromClient, kStunRequest);
        h.send(f, 0, flow::kFromClient, cd);
        h.send(f, 0, flow::kFromClient, cd);
        if (rtp_between) h.send(f, 0, flow::kFromClient, kRtp);
        h.send(f, 0, flow::kFromClient, cd);
        h.send(f, 0, flow::kFromClient, cd);
        facts::FlowAppInfo info;
        h.end(f, 0, info);
        return info.channel_data;
    };
    // Four in a row: the third confirms the channel, the third and fourth count.
    EXPECT_EQ(channel_data_counted(false), 2u);
    // Two, RTP, two: never three in a row.
    EXPECT_EQ(channel_data_counted(true), 0u);
}

TEST(Dissector, FlowGivenUpAfterEightUnknownPayloads) {
    RegistryHarness h;
    // TCP: a proxy preamble after eight unknown segments is too late.
    flow::Flow t = make_flow(decode::kProtoTcp, 8080, 9);
    h.d.on_flow_created(t, 0);
    for (int i = 0; i < 8; ++i) h.send(t, 0, flow::kFromClient, kJunk);
    h.send(t, 0, flow::kFromClient, kConnect);
    facts::FlowAppInfo info;
    EXPECT_EQ(h.end(t, 0, info), "");

    // UDP: after eight, only the media row is still offered the flow (an
    // app's own opening exchange before its media): a DNS message is too
    // late, a STUN request is not.
    flow::Flow f = make_flow(decode::kProtoUdp, 3478, 10);
    h.d.on_flow_created(f, 0);
    for (int i = 0; i < 8; ++i) h.send(f, 0, flow::kFromClient, kJunk);
    h.send(f, 0, flow::kFromClient, kDnsQuery);
    h.send(f, 0, flow::kFromClient, kStunRequest);
    EXPECT_EQ(h.end(f, 0, info), "stun");
    EXPECT_EQ(h.sink.stun.size(), 1u);

    // ... up to 64 payload packets: then the flow is nothing of ours.
    flow::Flow g = make_flow(decode::kProtoUdp, 3478, 11);
    h.d.on_flow_created(g, 0);
    for (int i = 0; i < 64; ++i) h.send(g, 0, flow::kFromClient, kJunk);
    h.send(g, 0, flow::kFromClient, kStunRequest);
    EXPECT_EQ(h.end(g, 0, info), "");
    EXPECT_EQ(h.sink.stun.size(), 1u);

    // The slot is reused by the next flow, which starts undecided again.
    flow::Flow k = make_flow(decode::kProtoUdp, 3478, 12);
    h.d.on_flow_created(k, 0);
    h.send(k, 0, flow::kFromClient, kStunRequest);
    EXPECT_EQ(h.end(k, 0, info), "stun");
}

}  // namespace
}  // namespace callwall::pipeline
