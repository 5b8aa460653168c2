// classify_flow never calls blocked what the capture shows answered, or what
// expects no answer (captures/field/*: tests/golden/field_outcomes_test.cpp
// runs the same rules over generated captures).
#include <gtest/gtest.h>

#include "attrib/attrib.hpp"
#include "flow/flow_table.hpp"

namespace callwall::attrib {
namespace {

FlowFacts one_way_udp(const char* client, const char* server, uint16_t cport, uint16_t sport) {
    FlowFacts f;
    f.id = 1;
    f.transport = "udp";
    f.client_ip = client;
    f.server_ip = server;
    f.client_port = cport;
    f.server_port = sport;
    f.first_ts = 100;
    f.last_ts = 104;
    f.packets_c2s = 4;
    f.state = "one-way";
    return f;
}

constexpr double kLater = 110;

TEST(NoFalseBlocked, DirectedBroadcastIsTheSendersNetwork) {
    EXPECT_TRUE(is_directed_broadcast("10.1.0.255", "10.1.0.20"));
    EXPECT_TRUE(is_directed_broadcast("10.1.255.255", "10.1.0.20"));  // a /16
    EXPECT_TRUE(is_directed_broadcast("10.255.255.255", "10.1.0.20"));  // a /8
    EXPECT_FALSE(is_directed_broadcast("198.51.100.255", "10.1.0.20"));  // another network
    EXPECT_FALSE(is_directed_broadcast("10.1.0.127", "10.1.0.20"));  // a /25: the link layer tells
    EXPECT_FALSE(is_directed_broadcast("10.1.0.255", "10.1.0.255"));
    EXPECT_FALSE(is_directed_broadcast("10.1.0.255", "2001:db8::1"));
    EXPECT_FALSE(is_directed_broadcast("not an address", "10.1.0.20"));
}

TEST(NoFalseBlocked, BroadcastsDhcpRepliesNetbiosAndTunnelsExpectNoAnswer) {
    FlowFacts ordinary = one_way_udp("10.1.0.20", "198.51.100.255", 40000, 9999);
    EXPECT_EQ(classify_flow(ordinary, kLater).reason, "no-answer");
    FlowFacts link = one_way_udp("10.1.0.20", "10.1.0.127", 57621, 57621);
    link.link_broadcast = true;
    for (const FlowFacts& f :
         {one_way_udp("10.1.0.20", "10.1.0.255", 17500, 17500), link, one_way_udp("10.5.5.1", "10.5.5.26", 67, 68),
          one_way_udp("192.168.88.240", "192.168.88.148", 137, 137), one_way_udp("10.1.0.5", "10.1.0.6", 49152, 6081),
          one_way_udp("10.1.0.5", "10.1.0.6", 2152, 2152), one_way_udp("10.1.0.5", "10.1.0.6", 50000, 4789)}) {
        const FlowOutcome o = classify_flow(f, kLater);
        EXPECT_EQ(o.outcome, Outcome::Inconclusive) << f.server_ip << ":" << f.server_port << " " << o.reason;
        EXPECT_TRUE(o.reason.find("no answer") != std::string::npos ||
                    o.reason.find("one-way by design") != std::string::npos)
            << o.reason;
    }
}

TEST(NoFalseBlocked, FlowHoldingOnlyAnswersIsTurnedAndObserved) {
    FlowFacts f = one_way_udp("198.51.100.10", "10.1.0.20", 3480, 50000);
    f.roles = flow::kClientAnswered;
    EXPECT_EQ(classify_flow(f, kLater).reason, "no-answer") << "as the flow table guessed it";
    ASSERT_TRUE(needs_orienting(f));
    ASSERT_TRUE(orient_flow(f));
    EXPECT_EQ(f.client_ip, "10.1.0.20");
    EXPECT_EQ(f.roles, flow::kServerAnswered);
    EXPECT_EQ(f.packets_s2c, 4u);
    const FlowOutcome o = classify_flow(f, kLater);
    EXPECT_EQ(o.outcome, Outcome::Observed);
    EXPECT_NE(o.evidence.find("only the answers"), std::string::npos) << o.evidence;
    // A side that asked as well as answered is a peer: not turned.
    FlowFacts peer = one_way_udp("198.51.100.10", "10.1.0.20", 3480, 50000);
    peer.roles = flow::kClientAnswered | flow::kClientAsked;
    EXPECT_FALSE(orient_by_protocol(peer));
}

TEST(NoFalseBlocked, ServerDataWithoutSynAckIsEstablished) {
    FlowFacts f = one_way_udp("10.1.0.20", "192.0.2.80", 51000, 8443);
    f.transport = "tcp";
    f.syn_count = 1;
    f.first_syn_ts = f.last_syn_ts = 100;
    f.packets_s2c = 3;
    f.state = "SF";  // flow::Flow::state with the server's data and no SYN-ACK
    EXPECT_EQ(classify_flow(f, kLater).outcome, Outcome::Observed);
    f.state = "S0";
    f.packets_s2c = 0;
    EXPECT_EQ(classify_flow(f, kLater).reason, "no-answer");
}

TEST(NoFalseBlocked, LoneServerResetWithoutAnAttemptIsNoRefusal) {
    FlowFacts f = one_way_udp("172.16.133.41", "199.204.31.89", 52875, 80);
    f.transport = "tcp";
    f.packets_c2s = 0;
    f.packets_s2c = 1;
    f.rst_ttl = 54;
    f.state = "OTH";
    EXPECT_EQ(classify_flow(f, kLater).outcome, Outcome::Inconclusive);
    f.syn_count = 1;
    f.packets_c2s = 1;
    f.state = "REJ";
    EXPECT_EQ(classify_flow(f, kLater).reason, "reset");
}

TEST(NoFalseBlocked, TimeExceededIsNoRefusal) {
    FlowFacts f = one_way_udp("10.5.5.1", "8.8.8.8", 42518, 33434);
    f.packets_c2s = 1;
    f.icmp_errors = 1;
    f.icmp_type = 11;
    f.icmp_code = 0;
    f.icmp_from = "10.5.5.26";
    EXPECT_EQ(classify_flow(f, kLater).outcome, Outcome::Inconclusive);
    f.icmp_type = 3;  // net unreachable from a router: still a block
    EXPECT_EQ(classify_flow(f, kLater).reason, "icmp-3-0");
    f.icmp_from = "2001:db8::1";
    // ICMPv6 3: time exceeded
    EXPECT_EQ(classify_flow(f, kLater).outcome, Outcome::Inconclusive);
}

TEST(NoFalseBlocked, FarEndSpeakingOnTheFlowAnswersIt) {
    // ndpi__zoom: two Binding requests retransmitted, the server's own
    // protocol comes back on the flow.
    FlowFacts f = one_way_udp("192.168.1.117", "162.255.37.14", 50000, 3478);
    f.stun_requests = 2;
    f.stun_retransmissions = 4;
    f.packets_s2c = 3;
    EXPECT_EQ(classify_flow(f, kLater).outcome, Outcome::Observed);
    // Only the far end's own checks arrive (the strict profile's P2P leg): blocked.
    f.stun_requests = 5;
    f.stun_requests_s2c = 3;
    EXPECT_EQ(classify_flow(f, kLater).reason, "stun-timeout");
}

TEST(NoFalseBlocked, LegWhoseEndsLookAlikeIsJudgedByTheUnansweredSide) {
    // The far end's relay (private, like the inside host) spoke first: its
    // four checks answered, the inside host's one check retransmitted three
    // times and never answered.
    FlowFacts f = one_way_udp("172.16.40.50", "10.1.0.18", 61500, 50300);
    f.packets_c2s = 4;
    f.packets_s2c = 8;
    f.stun_requests = 5;
    f.stun_requests_s2c = 1;
    f.stun_answered = 4;
    f.stun_retransmissions = 3;
    f.stun_retransmissions_s2c = 3;
    f.state = "answered";
    EXPECT_EQ(classify_flow(f, kLater).outcome, Outcome::Observed) << "as recorded, from the relay";
    FlowFacts media = f;
    media.rtp_packets = 40;
    EXPECT_FALSE(needs_orienting(media)) << "media came back: the leg works";
    FlowFacts ours_answered = f;  // the recorded server's checks answered too: nothing to turn
    ours_answered.stun_answered = 5;
    ours_answered.stun_answered_s2c = 1;
    EXPECT_FALSE(needs_orienting(ours_answered));
    FlowFacts publics = f;  // two public ends: the same rule
    publics.client_ip = "198.51.100.7";
    publics.server_ip = "203.0.113.9";
    EXPECT_TRUE(needs_orienting(publics));
    ASSERT_TRUE(needs_orienting(f));
    ASSERT_TRUE(orient_flow(f));
    EXPECT_EQ(f.client_ip, "10.1.0.18");
    EXPECT_EQ(f.stun_requests_s2c, 4u);
    const FlowOutcome o = classify_flow(f, kLater);
    EXPECT_EQ(o.reason, "stun-timeout");
    EXPECT_NE(o.evidence.find("the far end's 4 own request(s) arrived"), std::string::npos) << o.evidence;
}

TEST(NoFalseBlocked, ResolverSilentOnOneQueryIsTheDestination) {
    FlowFacts f = one_way_udp("10.1.0.20", "10.1.0.1", 41003, 53);
    const FlowOutcome dropped = classify_flow(f, kLater);
    EXPECT_NE(dropped.origin.find("firewall"), std::string::npos) << "nothing else from that server";
    ASSERT_TRUE(needs_server_ttls(f));
    const FlowOutcome refused = classify_flow(f, kLater, {64});
    EXPECT_EQ(refused.outcome, Outcome::Blocked);
    EXPECT_TRUE(refused.by_destination);
    EXPECT_EQ(refused.origin.rfind("the destination", 0), 0u) << refused.origin;
}

// A ClientHello refused (a reset or a fatal alert, no ServerHello) after an
// answered handshake: tls-reset only when the refusal's TTL is not the
// server's; with the server's own TTL it is the server's answer (observed);
// with no TTL of the server to compare, inconclusive.
TEST(NoFalseBlocked, AHelloRefusedWithTheServersOwnTtlIsTheServersAnswer) {
    FlowFacts f;
    f.id = 1;
    f.transport = "tcp";
    f.client_ip = "10.1.0.20";
    f.server_ip = "198.51.100.40";
    f.client_port = 52200;
    f.server_port = 443;
    f.first_ts = 100;
    f.last_ts = 100.2;
    f.syn_count = 1;
    f.synack_count = 1;
    f.packets_c2s = 3;
    f.packets_s2c = 2;
    f.state = "RSTR";
    f.app = "tls";
    f.acked_s2c = 0;
    FlowFacts reset = f;
    reset.rst_ttl = 61;
    reset.ttl_first_s2c = 52;
    const FlowOutcome forged = classify_flow(reset, kLater);
    EXPECT_EQ(outcome_column(forged), "blocked:tls-reset") << forged.evidence;
    EXPECT_NE(forged.origin.find("likely an SNI filter"), std::string::npos) << forged.origin;
    reset.rst_ttl = 52;
    EXPECT_EQ(outcome_column(classify_flow(reset, kLater)), "observed");
    reset.ttl_first_s2c = -1;
    const FlowOutcome unknown = classify_flow(reset, kLater);
    EXPECT_EQ(outcome_column(unknown), "inconclusive");
    EXPECT_EQ(unknown.reason, "tls-reset");

    FlowFacts alert = f;
    alert.state = "SF";
    alert.tls_alert = 49;
    alert.server_ttl_min = 52;
    alert.server_ttl_max = 61;
    EXPECT_EQ(outcome_column(classify_flow(alert, kLater)), "blocked:tls-reset");
    alert.server_ttl_max = 52;
    EXPECT_EQ(outcome_column(classify_flow(alert, kLater)), "observed");
}

}  // namespace
}  // namespace callwall::attrib
