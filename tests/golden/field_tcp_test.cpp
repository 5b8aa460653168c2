// Targeted assertions over the TCP stream regression captures
// (captures/field/, tools/gen_field_tcp.py): what a full golden diff would
// hide, and the stalled-hello flood whose 3600 flows are too many for a
// golden file.
#include <gtest/gtest.h>

#include "golden/run_util.hpp"

namespace callwall::test {
namespace {

struct FieldRun {
    TempDb db;
    pipeline::DissectStats ds;
    explicit FieldRun(const std::string& capture) {
        analyze_files({source_dir() + "/captures/field/" + capture}, db.path(), {}, &ds);
    }
    std::vector<std::string> rows(const std::string& sql) const { return query_rows(db.path(), sql); }
    std::string one(const std::string& sql) const {
        auto r = rows(sql);
        return r.size() == 1 ? r[0] : "<" + std::to_string(r.size()) + " rows>";
    }
};

TEST(FieldTcp, TurnHoleFilledByRetransmissionLosesNothing) {
    FieldRun r("turn_tcp_hole.pcap");
    // The turn_tcp session: 50 ChannelData each way, 5 requests all answered.
    EXPECT_EQ(r.one("SELECT channel_data, stun_requests, stun_answered FROM flow WHERE transport='tcp'"), "100\t5\t5");
    EXPECT_EQ(r.one("SELECT answered FROM stun_message WHERE method='Refresh' AND class='Request'"), "1");
    EXPECT_EQ(r.one("SELECT count(*), sum(packets) FROM rtp_stream WHERE via_turn=1"), "2\t102");
    EXPECT_EQ(r.ds.tcp_gaps, 0u);
    EXPECT_GE(r.ds.tcp_held_segments, 3u);
}

TEST(FieldTcp, DnsHoleFilledByRetransmissionLosesNothing) {
    FieldRun r("dns_tcp_hole.pcap");
    EXPECT_EQ(r.one("SELECT count(*), sum(answered) FROM dns_query"), "5\t5");
    EXPECT_EQ(r.ds.tcp_gaps, 0u);
}

TEST(FieldTcp, GapNeverFilledThenResync) {
    FieldRun r("tcp_gap_resync.pcap");
    EXPECT_EQ(r.one("SELECT answered FROM stun_message WHERE method='Refresh' AND class='Request'"), "1");
    // 100 ChannelData less the ones in lost bytes (1-2 client frames, 1 server frame).
    const auto cd = r.one("SELECT channel_data FROM flow WHERE server_port=3478");
    EXPECT_GE(std::stoi(cd), 90) << cd;
    const std::string dns_of = "SELECT * FROM dns_query WHERE flow_id IN (SELECT id FROM flow WHERE client_port=";
    EXPECT_EQ(r.one("SELECT count(*), sum(answered) FROM (" + dns_of + "44301))"), "5\t3");
    EXPECT_EQ(r.one("SELECT group_concat(qname) FROM (" + dns_of + "44301) AND answered=0 ORDER BY qname)"),
              "q1.calls.sendbird.com,q2.calls.sendbird.com");
    // Junk without a hole: the answer it swallowed is lost, the later ones are found.
    EXPECT_EQ(r.one("SELECT group_concat(qname || '=' || answered) FROM (" + dns_of + "44302) ORDER BY qname)"),
              "q0.calls.sendbird.com=1,q1.calls.sendbird.com=0,q2.calls.sendbird.com=1,q3.calls.sendbird.com=1");
    // ICE-TCP keeps its RFC 4571 framing after the gaps although media, not STUN, follows them.
    EXPECT_EQ(r.one("SELECT count(*), sum(packets), sum(via_turn) FROM rtp_stream WHERE flow_id IN "
                    "(SELECT id FROM flow WHERE server_port=50000)"),
              "2\t57\t0");
    EXPECT_EQ(r.ds.tcp_gaps, 5u);
    EXPECT_EQ(r.ds.tcp_resyncs, 6u);
}

TEST(FieldTcp, TlsAfterProxyPreambles) {
    FieldRun r("tls_proxy_preambles.pcap");
    EXPECT_EQ(r.rows("SELECT sni, server_hello FROM tls_hello ORDER BY ts"),
              (std::vector<std::string>{"api-xyz.calls.sendbird.com\t1", "whereby.com\t1", "abc.calls.sendbird.com\t1",
                                        "edge-1.calls.sendbird.com\t1"}));
    EXPECT_EQ(r.rows("SELECT name FROM flow_name WHERE source='proxy' ORDER BY name"),
              (std::vector<std::string>{"abc.calls.sendbird.com", "api-xyz.calls.sendbird.com", "whereby.com"}));
    EXPECT_EQ(r.ds.proxy_tunnels, 4u);
}

TEST(FieldTcp, IceTcpWithoutTurnIsNotViaTurn) {
    FieldRun r("ice_tcp_direct.pcap");
    EXPECT_EQ(r.one("SELECT count(*), sum(packets), sum(via_turn) FROM rtp_stream"), "2\t60\t0");
    EXPECT_EQ(r.one("SELECT app FROM flow"), "stun+rtp");
}

TEST(FieldTcp, StalledHellosCannotHideACallsSni) {
    FieldRun r("tls_stalled_hellos.pcap");
    EXPECT_EQ(r.rows("SELECT sni FROM tls_hello ORDER BY sni"),
              (std::vector<std::string>{"api-xyz.calls.sendbird.com", "whereby.com"}));
    EXPECT_GT(r.ds.buffers_reclaimed, 0u);
    EXPECT_EQ(r.ds.hellos_cut, 0u);  // no stalled hello went on: the bound cost nothing
}

TEST(FieldTcp, JunkQuicInitialsCannotHideACallsSni) {
    FieldRun r("quic_junk_initials.pcap");
    EXPECT_EQ(r.rows("SELECT sni, protocol FROM tls_hello ORDER BY sni"),
              (std::vector<std::string>{"api-xyz.calls.sendbird.com\tquic", "whereby.com\tquic"}));
    EXPECT_GT(r.ds.buffers_reclaimed, 0u);
    EXPECT_EQ(r.ds.hellos_cut, 0u);
}

// A hello paused while its own address floods the pool loses its buffer and
// then goes on: the bound cost that flow its SNI, and that is what is
// counted (TLS and QUIC, one each) — not the flood's reclaims, nor a stalled
// flow's retransmission of bytes it had already sent.
TEST(FieldTcp, HellosCutByAFloodAreCountedAndOnlyThose) {
    FieldRun r("hellos_cut_by_flood.pcap");
    EXPECT_EQ(r.rows("SELECT sni FROM tls_hello"), std::vector<std::string>{});
    EXPECT_EQ(r.one("SELECT count(*) FROM flow WHERE tls_server_hello = 1"), "1");  // its server side decoded
    // One address's 141 ClientHellos and one server flight over its bound of 128; 41 Initials over 32.
    EXPECT_EQ(r.ds.buffers_reclaimed, 14u + 9u);
    EXPECT_EQ(r.ds.hellos_cut, 2u);
}

}  // namespace
}  // namespace callwall::test
