// The RTMP analyzer (pipeline/analyzers/rtmp.hpp): probe accept/reject
// lists, its place in the registry (after TLS, so RTMPS stays TLS), and the
// app label a Dissector gives a handshake, kept or dropped on the server's S0.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/dissect.hpp"
#include "pipeline/analyzers/rtmp.hpp"
#include "pipeline/app_analyzer.hpp"
#include "unit/proto/fixtures.hpp"
#include "unit/test_util.hpp"

namespace callwall::pipeline {
namespace {

using Bytes = std::vector<uint8_t>;

// C0 (version 3) + C1 (time 0, zero 0, 1528 pattern bytes), cut to `n` bytes.
Bytes c0c1(size_t n = 1 + kRtmpHandshakeLen, uint8_t version = kRtmpVersion) {
    Bytes b(1 + kRtmpHandshakeLen, 0);
    b[0] = version;
    for (size_t i = 9; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 7);
    b.resize(n);
    return b;
}

flow::Flow tcp_flow(uint16_t server_port) {
    flow::Flow f;
    f.proto = decode::kProtoTcp;
    f.id = 1;
    f.client_ip = decode::IpAddr::v4(0x0A01000A);
    f.server_ip = decode::IpAddr::v4(0xCB00713D);
    f.client_port = 45100;
    f.server_port = server_port;
    return f;
}

bool probe(uint16_t port, const Bytes& b, flow::Dir d = flow::kFromClient) {
    const flow::Flow f = tcp_flow(port);
    const bool hinted = in_ranges(kRtmpRow.ports, f.server_port) || in_ranges(kRtmpRow.ports, f.client_port);
    return probe_rtmp(ProbeInput{f, d, ByteView(b), hinted});
}

TEST(Rtmp, ProbeAcceptsTheClientHandshake) {
    EXPECT_TRUE(probe(30011, c0c1()));
    EXPECT_TRUE(probe(443, c0c1()));  // C0+C1 whole: any port
    EXPECT_TRUE(probe(30012, c0c1(1460)));  // cut by the MSS, on a hinted port
    EXPECT_TRUE(probe(30013, c0c1(9)));  // C0 + time + zero
    EXPECT_TRUE(probe(1935, c0c1(1000)));
}

TEST(Rtmp, ProbeRejects) {
    EXPECT_FALSE(probe(443, c0c1(1460)));  // a cut handshake off its ports
    EXPECT_FALSE(probe(30011, c0c1(8)));  // too short to tell
    EXPECT_FALSE(probe(30011, c0c1(1 + kRtmpHandshakeLen, 6)));  // RTMPE
    EXPECT_FALSE(probe(30011, c0c1(1 + kRtmpHandshakeLen, 0)));
    EXPECT_FALSE(probe(30011, c0c1(), flow::kFromServer));  // S0+S1: the server never speaks first
    Bytes longer = c0c1();
    longer.push_back(0);
    EXPECT_FALSE(probe(30011, longer));  // the client waits for S1 before C2
    EXPECT_FALSE(probe(30011, {}));
    EXPECT_FALSE(probe(30011, test::hex("030000")));
}

std::string dispatched(uint16_t port, const Bytes& b) {
    const int row = classify(registry(), tcp_flow(port), flow::kFromClient, ByteView(b));
    return row < 0 ? "" : std::string(registry()[static_cast<size_t>(row)].name);
}

TEST(Rtmp, RegistryDispatch) {
    EXPECT_EQ(dispatched(30011, c0c1(1460)), "rtmp");
    EXPECT_EQ(dispatched(30011, test::hex(test::fixtures::kTlsEchClientRecord)), "tls");  // RTMPS
    EXPECT_EQ(dispatched(80, c0c1(1460)), "");
    const flow::Flow udp = [] {
        flow::Flow f = tcp_flow(30011);
        f.proto = decode::kProtoUdp;
        return f;
    }();
    const Bytes hs = c0c1();
    const int row = classify(registry(), udp, flow::kFromClient, ByteView(hs));
    EXPECT_TRUE(row < 0 || registry()[static_cast<size_t>(row)].name != "rtmp");  // TCP only
}

struct Exchange {
    Dissector d{static_cast<facts::FactSink*>(nullptr)};
    flow::Flow f = tcp_flow(30011);
    int64_t ts_us = 1'767'225'600'000'000;
    Exchange() { d.on_flow_created(f, 0); }
    void send(flow::Dir dir, const Bytes& b) {
        decode::PacketMeta m;
        m.proto = decode::kProtoTcp;
        m.payload = ByteView(b);
        m.payload_wire_len = static_cast<uint32_t>(b.size());
        ts_us += 1000;
        d.on_packet(f, 0, dir, m, ts_us);
    }
    std::string app() {
        facts::FlowAppInfo info;
        d.on_flow_end(f, 0, info);
        return std::string(info.app);
    }
};

TEST(Rtmp, HandshakeLabelsTheFlow) {
    Exchange r;
    r.send(flow::kFromClient, c0c1(1460));
    r.send(flow::kFromClient, Bytes(77, 0x5a));
    Bytes s0s1s2(1 + 2 * kRtmpHandshakeLen, 0);
    s0s1s2[0] = kRtmpVersion;
    r.send(flow::kFromServer, s0s1s2);
    EXPECT_EQ(r.app(), "rtmp");
}

TEST(Rtmp, UnansweredHandshakeKeepsTheLabel) {
    Exchange r;  // a firewall dropping the server's side: the client's attempt is what shows
    r.send(flow::kFromClient, c0c1());
    EXPECT_EQ(r.app(), "rtmp");
}

TEST(Rtmp, ServerAnsweringAnotherVersionDropsTheLabel) {
    Exchange r;
    r.send(flow::kFromClient, c0c1());
    r.send(flow::kFromServer, test::hex("06 00000000"));
    EXPECT_EQ(r.app(), "");
}

}  // namespace
}  // namespace callwall::pipeline
