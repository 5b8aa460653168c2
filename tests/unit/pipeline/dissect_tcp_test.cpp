// The dissect stage's TCP paths, driven segment by segment (no capture file):
// in-order delivery across a filled hole, resync after a lost segment, and
// ICE-TCP media that is not relayed (pipeline/dissect.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "pipeline/dissect.hpp"
#include "golden/run_util.hpp"
#include "store/run_writer.hpp"

namespace callwall::pipeline {
namespace {

using Bytes = std::vector<uint8_t>;

// (Built in place: gcc 12's -Warray-bounds misreads vector::insert after a
// two-byte initializer list.)
Bytes rfc4571(const Bytes& m) {
    Bytes o(2 + m.size());
    o[0] = static_cast<uint8_t>(m.size() >> 8);
    o[1] = static_cast<uint8_t>(m.size());
    std::copy(m.begin(), m.end(), o.begin() + 2);
    return o;
}
// STUN header only (RFC 8489 §5): type, length 0, cookie, transaction id.
Bytes stun(uint16_t type, uint8_t tid) {
    Bytes m = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 0, 0x21, 0x12, 0xA4, 0x42};
    for (int i = 0; i < 12; ++i) m.push_back(static_cast<uint8_t>(tid + i));
    return m;
}
Bytes rtp(uint16_t seq, uint32_t ssrc) {
    const uint32_t ts = seq * 960u;
    Bytes m = {0x80,
               111,
               static_cast<uint8_t>(seq >> 8),
               static_cast<uint8_t>(seq),
               static_cast<uint8_t>(ts >> 24),
               static_cast<uint8_t>(ts >> 16),
               static_cast<uint8_t>(ts >> 8),
               static_cast<uint8_t>(ts),
               static_cast<uint8_t>(ssrc >> 24),
               static_cast<uint8_t>(ssrc >> 16),
               static_cast<uint8_t>(ssrc >> 8),
               static_cast<uint8_t>(ssrc)};
    for (int i = 0; i < 60; ++i) m.push_back(static_cast<uint8_t>(seq * 7 + i));
    return m;
}

struct TcpHarness {
    test::TempDb db;
    std::unique_ptr<store::Store> st = store::Store::open(db.path());
    int64_t run = st->begin_run(store::RunInfo{"analyze", "unit", "unit", "", 0});
    store::RunWriter writer{*st, run};
    Dissector d{writer.sinks().facts};
    flow::Flow f;
    uint32_t next[2] = {1001, 5001};
    int64_t ts_us = 1'767'225'600'000'000;

    TcpHarness() {
        f.proto = decode::kProtoTcp;
        f.id = 1;
        f.client_ip = decode::IpAddr::v4(0x0A01000A);
        f.server_ip = decode::IpAddr::v4(0xCB00715A);
        f.client_port = 9;
        f.server_port = 50000;
        f.tcp.isn[0] = 1000, f.tcp.isn[1] = 5000;
        f.tcp.isn_known[0] = f.tcp.isn_known[1] = true;
        d.on_flow_created(f, 0);
    }
    // The next segment of a direction (its sequence number), sent now or kept for later.
    std::pair<uint32_t, Bytes> take(flow::Dir dir, const Bytes& b) {
        const uint32_t seq = next[dir];
        next[dir] += static_cast<uint32_t>(b.size());
        return {seq, b};
    }
    void send(flow::Dir dir, const std::pair<uint32_t, Bytes>& s) {
        decode::PacketMeta m;
        m.proto = decode::kProtoTcp;
        m.tcp_seq = s.first;
        m.payload = ByteView(s.second);
        m.payload_wire_len = static_cast<uint32_t>(s.second.size());
        ts_us += 20'000;
        f.last_ts_us = ts_us;
        d.on_packet(f, 0, dir, m, ts_us);
    }
    std::vector<std::string> end_and_query(facts::FlowAppInfo& info, const std::string& sql) {
        d.on_flow_end(f, 0, info);
        st->flush();
        return test::query_rows(db.path(), sql);
    }
};

TEST(DissectTcp, IceTcpMediaIsDirectNotRelayed) {
    TcpHarness h;
    h.send(flow::kFromClient, h.take(flow::kFromClient, rfc4571(stun(0x0001, 1))));
    h.send(flow::kFromServer, h.take(flow::kFromServer, rfc4571(stun(0x0101, 1))));
    for (uint16_t i = 0; i < 20; ++i)
        h.send(flow::kFromClient, h.take(flow::kFromClient, rfc4571(rtp(100 + i, 0xAABBCCDD))));
    facts::FlowAppInfo info;
    const auto rows = h.end_and_query(info, "SELECT packets, via_turn FROM rtp_stream");
    EXPECT_EQ(info.stun_answered, 1u);
    EXPECT_EQ(rows, (std::vector<std::string>{"20\t0"}));
}

TEST(DissectTcp, HoleFilledLaterLosesNoFrame) {
    TcpHarness h;
    h.send(flow::kFromClient, h.take(flow::kFromClient, rfc4571(stun(0x0001, 1))));
    std::vector<std::pair<uint32_t, Bytes>> segs;
    for (uint16_t i = 0; i < 20; ++i) segs.push_back(h.take(flow::kFromClient, rfc4571(rtp(100 + i, 7))));
    for (size_t i = 0; i < segs.size(); ++i)
        if (i != 5) h.send(flow::kFromClient, segs[i]);
    h.send(flow::kFromServer, h.take(flow::kFromServer, rfc4571(stun(0x0101, 1))));
    h.send(flow::kFromClient, segs[5]);  // the retransmission, after 14 later segments
    facts::FlowAppInfo info;
    const auto rows = h.end_and_query(info, "SELECT packets, lost FROM rtp_stream");
    EXPECT_EQ(info.stun_answered, 1u);
    EXPECT_EQ(rows, (std::vector<std::string>{"20\t0"}));
    EXPECT_EQ(h.d.stats().tcp_gaps, 0u);
}

TEST(DissectTcp, LostSegmentThenResyncKeepsDecoding) {
    TcpHarness h;
    h.send(flow::kFromClient, h.take(flow::kFromClient, rfc4571(stun(0x0001, 1))));
    for (uint16_t i = 0; i < 20; ++i) {
        auto s = h.take(flow::kFromClient, rfc4571(rtp(100 + i, 7)));
        if (i != 5) h.send(flow::kFromClient, s);  // 5 never arrives
    }
    facts::FlowAppInfo info;
    const auto rows = h.end_and_query(info, "SELECT packets, lost FROM rtp_stream");
    EXPECT_EQ(rows, (std::vector<std::string>{"19\t1"}));
    EXPECT_EQ(h.d.stats().tcp_gaps, 1u);
    EXPECT_EQ(h.d.stats().tcp_resyncs, 1u);
}

}  // namespace
}  // namespace callwall::pipeline
