// Attribution and verdict rules on hand-made flow facts against the bundled
// catalog: each outcome and reason, each evidence kind, the inconclusive
// case, destination-ANY entries never matched by port alone, overlaps.
#include "attrib/attrib.hpp"
#include "attrib/run_attribution.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "store/store.hpp"
#include "golden/run_util.hpp"
#include "unit/corpus.hpp"

namespace callwall::attrib {
namespace {

using test::bundled_catalog;

FlowFacts tcp_flow(uint16_t port) {
    FlowFacts f;
    f.id = 1;
    f.transport = "tcp";
    f.client_ip = "10.0.0.5";
    f.server_ip = "198.51.100.7";
    f.client_port = 50000;
    f.server_port = port;
    f.first_ts = 100;
    f.last_ts = 101;
    f.first_syn_ts = 100;
    f.last_syn_ts = 100;
    f.syn_count = 1;
    f.packets_c2s = 1;
    f.state = "S0";
    return f;
}

FlowFacts udp_flow(uint16_t port) {
    FlowFacts f = tcp_flow(port);
    f.transport = "udp";
    f.syn_count = 0;
    f.first_syn_ts = f.last_syn_ts = 0;
    f.state = "one-way";
    return f;
}

std::vector<std::string> ids(const std::vector<Match>& ms) {
    std::vector<std::string> out;
    for (const auto& m : ms) out.push_back(bundled_catalog().entries()[m.entry].id);
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

uint16_t vendor(const char* name) { return *bundled_catalog().vendor_index(name); }

// ---- flow outcomes ----

TEST(ClassifyFlow, HandshakeIsObserved) {
    FlowFacts f = tcp_flow(443);
    f.synack_count = 1;
    f.packets_s2c = 3;
    f.state = "SF";
    EXPECT_EQ(classify_flow(f, 200).outcome, Outcome::Observed);
}

TEST(ClassifyFlow, RetransmittedSynIsNoAnswer) {
    FlowFacts f = tcp_flow(443);
    f.syn_count = 3;
    f.last_syn_ts = 103;
    const auto o = classify_flow(f, 103.5);
    EXPECT_EQ(o.outcome, Outcome::Blocked);
    EXPECT_EQ(o.reason, "no-answer");
    EXPECT_NE(o.origin.find("silently dropped"), std::string::npos);
}

TEST(ClassifyFlow, SingleSynWithLongCaptureIsNoAnswer) {
    FlowFacts f = tcp_flow(443);
    EXPECT_EQ(classify_flow(f, 100 + kNoAnswerWaitS).outcome, Outcome::Blocked);
}

TEST(ClassifyFlow, SynFiftyMillisecondsBeforeTheEndIsInconclusive) {
    FlowFacts f = tcp_flow(443);
    const auto o = classify_flow(f, 100.05);
    EXPECT_EQ(o.outcome, Outcome::Inconclusive);
    EXPECT_NE(o.reason.find("0.05 s after the only SYN"), std::string::npos) << o.reason;
}

TEST(ClassifyFlow, RstAnsweringTheSynIsReset) {
    FlowFacts f = tcp_flow(443);
    f.state = "REJ";
    f.rst_ttl = 64;
    f.packets_s2c = 1;
    auto o = classify_flow(f, 200);
    EXPECT_EQ(o.outcome, Outcome::Blocked);
    EXPECT_EQ(o.reason, "reset");
    // The server's other flows arrive with TTL 52: a RST with TTL 64 was forged on the way.
    o = classify_flow(f, 200, {52});
    EXPECT_NE(o.origin.find("likely a middlebox"), std::string::npos) << o.origin;
    o = classify_flow(f, 200, {64});
    EXPECT_NE(o.origin.find("the destination"), std::string::npos) << o.origin;
}

TEST(ClassifyFlow, IcmpAdminProhibitedFromARouterIsAFirewall) {
    FlowFacts f = udp_flow(3478);
    f.icmp_errors = 1;
    f.icmp_type = 3;
    f.icmp_code = 13;
    f.icmp_from = "192.0.2.1";
    const auto o = classify_flow(f, 200);
    EXPECT_EQ(o.outcome, Outcome::Blocked);
    EXPECT_EQ(o.reason, "icmp-3-13");
    EXPECT_NE(o.origin.find("firewall"), std::string::npos) << o.origin;
}

TEST(ClassifyFlow, PortUnreachableFromTheDestinationMeansNoService) {
    FlowFacts f = udp_flow(3478);
    f.icmp_errors = 1;
    f.icmp_type = 3;
    f.icmp_code = 3;
    f.icmp_from = f.server_ip;
    const auto o = classify_flow(f, 200);
    EXPECT_EQ(o.reason, "icmp-3-3");
    EXPECT_NE(o.origin.find("destination itself"), std::string::npos) << o.origin;
}

// A probe sent to the vendor's own server (no reflector) on a port it chose
// from the entry's range: the server's own refusal shows the firewall passed
// it. Only the destination's refusal: a router's error, an administrative
// prohibition or a RST that is not the server's stays a block.
TEST(ClassifyFlow, AProbesPortTheVendorsServerRefusesIsNoBlock) {
    FlowContext probe;
    probe.refusal_is_no_block = true;
    FlowFacts f = udp_flow(5325);
    f.icmp_errors = 1;
    f.icmp_type = 3;
    f.icmp_code = 3;
    f.icmp_from = f.server_ip;
    auto o = classify_flow(f, 200, {}, probe);
    EXPECT_EQ(o.outcome, Outcome::Inconclusive);
    EXPECT_EQ(o.reason, kRefusedReason);
    EXPECT_NE(o.origin.find("nothing listens on port 5325 there, and the firewall passed the probe"), std::string::npos)
        << o.origin;
    EXPECT_EQ(classify_flow(f, 200).reason, "icmp-3-3") << "a client's own flow: still blocked";
    FlowFacts router = f;
    router.icmp_from = "10.0.0.1";
    EXPECT_EQ(classify_flow(router, 200, {}, probe).reason, "icmp-3-3");
    FlowFacts prohibited = f;
    prohibited.icmp_code = 13;
    EXPECT_EQ(classify_flow(prohibited, 200, {}, probe).reason, "icmp-3-13");
    // TCP: a RST with the TTL of the server's other packets is the server's.
    FlowFacts t = tcp_flow(5866);
    t.state = "REJ";
    t.rst_ttl = 63;
    t.packets_s2c = 1;
    EXPECT_EQ(classify_flow(t, 200, {63}, probe).reason, kRefusedReason);
    EXPECT_EQ(classify_flow(t, 200, {50}, probe).reason, "reset") << "another TTL: a middlebox";
    EXPECT_EQ(classify_flow(t, 200, {}, probe).reason, "reset") << "nothing to compare: could be a firewall";
}

// A probe's STUN request to the vendor's own server where it need not answer
// STUN (Agora's media ports): silence proves nothing. A router's ICMP error
// is still an answer, and so is anything that came back.
TEST(ClassifyFlow, ProbeSilenceWhereNoStunAnswerIsExpectedIsNoBlock) {
    FlowContext probe;
    probe.silence_is_no_block = true;
    FlowFacts f = udp_flow(4000);
    f.packets_c2s = 4;
    f.stun_requests = 1;
    f.stun_retransmissions = 3;
    f.last_ts = f.first_ts + 3.5;
    ASSERT_EQ(classify_flow(f, 110).reason, "stun-timeout") << "a client's own request: blocked as before";
    auto o = classify_flow(f, 110, {}, probe);
    EXPECT_EQ(o.outcome, Outcome::Inconclusive);
    EXPECT_EQ(o.reason, kUnansweredReason);
    EXPECT_NE(o.origin.find("need not answer STUN"), std::string::npos) << o.origin;
    FlowFacts rejected = f;
    rejected.icmp_errors = 1;
    rejected.icmp_type = 3;
    rejected.icmp_code = 13;
    rejected.icmp_from = "10.0.0.1";
    EXPECT_EQ(classify_flow(rejected, 110, {}, probe).reason, "icmp-3-13");
    FlowFacts answered = f;
    answered.packets_s2c = 1;
    answered.stun_answered = 1;
    EXPECT_EQ(classify_flow(answered, 110, {}, probe).outcome, Outcome::Observed);
}

// Which interfaces hold one direction: each on its own; a flow seen on two
// is judged one-sided only when both are; 0 (not known) reads as the first.
TEST(OneDirection, EachInterfaceIsJudgedOnItsOwn) {
    OneDirection one;
    one.add(1, true);
    one.add(0, false);
    EXPECT_EQ(one.one_sided(), 0u);
    EXPECT_TRUE(one.notes().empty());
    one.add(2, false, 3);
    one.add(4, false);
    one.add(6, false);
    EXPECT_EQ(one.one_sided(), 6u);
    EXPECT_EQ(one.flows(), 5u);
    EXPECT_EQ(one.flows_for(2), 4u);
    EXPECT_EQ(one.flows_for(6), 5u);
    EXPECT_EQ(one.flows_for(3), 0u) << "seen also where answers show";
    EXPECT_EQ(one.flows_for(0), 0u);
    EXPECT_EQ(one.notes(), (std::vector<std::string>{
                               "interface 1 of this capture holds one direction only: 4 flows, no packet from any "
                               "server (the others show both)",
                               "interface 2 of this capture holds one direction only: 2 flows, no packet from any "
                               "server (the others show both)"}));
    // Every interface one-sided: the capture's own note, each flow once.
    OneDirection all;
    all.add(1, false, 2);
    all.add(2, false);
    all.add(3, false);
    EXPECT_EQ(all.notes(), std::vector<std::string>{one_direction_note(4)});
    // A tap's halves: a flow seen on both shows the far side for both.
    OneDirection tap;
    tap.add(3, true);
    tap.add(1, false);
    EXPECT_EQ(tap.one_sided(), 0u);
}

// A probe's socket got the reflector's answer the capture lost (a loaded
// machine's capture drops what it cannot read in time): the capture's
// silence is its own, the flow observed on the socket's evidence. A socket
// that got nothing leaves the capture's verdict as it was.
TEST(ClassifyFlow, AnAnswerTheProbesSocketReceivedOutweighsACaptureThatLostIt) {
    FlowFacts f = udp_flow(20644);
    f.packets_c2s = 1;
    f.stun_requests = 1;
    f.last_ts = f.first_ts;
    FlowContext probe;
    probe.sent_for = {"whereby.turn-sfu-highport.udp"};
    ASSERT_EQ(classify_flow(f, 110, {}, probe).outcome, Outcome::Blocked) << "the socket got nothing: blocked";
    probe.answered_at_sender = "STUN success, reflector token valid";
    const auto o = classify_flow(f, 110, {}, probe);
    EXPECT_EQ(o.outcome, Outcome::Observed);
    EXPECT_TRUE(o.reason.empty()) << o.reason;
    EXPECT_NE(o.evidence.find("the probe's socket received the answer (STUN success, reflector token valid); the "
                              "capture lost it"),
              std::string::npos)
        << o.evidence;
    // A TCP probe whose SYN-ACK the capture lost reads the same.
    FlowFacts t = tcp_flow(443);
    t.syn_count = 2;
    t.last_syn_ts = t.first_syn_ts + 1;
    ASSERT_EQ(classify_flow(t, 200, {}, FlowContext{}).outcome, Outcome::Blocked);
    probe.answered_at_sender = "TCP handshake completed, reflector token valid";
    EXPECT_EQ(classify_flow(t, 200, {}, probe).outcome, Outcome::Observed);
}

// A probe's STUN request to a tunnel's port (VXLAN 4789, GTP-U 2152, ...)
// is no tunnel's one-way outer leg: it reads by its STUN answer, or its
// absence. A capture's own flow to such a port stays a tunnel leg.
TEST(ClassifyFlow, AProbesFlowToATunnelPortReadsByItsStunAnswer) {
    FlowContext probe;
    probe.sent_for = {"sendbird.p2p.udp"};
    for (const uint16_t port : {2152, 4789, 4790, 6081, 8472}) {
        SCOPED_TRACE(port);
        FlowFacts f = udp_flow(port);
        f.packets_c2s = 2;
        f.stun_requests = 1;
        f.stun_retransmissions = 1;
        f.last_ts = f.first_ts + 0.5;
        f.app = "stun";
        const auto leg = classify_flow(f, 110);
        EXPECT_EQ(leg.outcome, Outcome::Inconclusive);
        EXPECT_EQ(leg.reason.rfind("tunnel leg", 0), 0u) << leg.reason;
        const auto o = classify_flow(f, 110, {}, probe);
        EXPECT_EQ(o.outcome, Outcome::Blocked) << o.reason;
        EXPECT_EQ(o.reason, "stun-timeout");
        FlowFacts answered = f;
        answered.packets_s2c = 1;
        answered.stun_answered = 1;
        EXPECT_EQ(classify_flow(answered, 110, {}, probe).outcome, Outcome::Observed);
    }
}

TEST(ClassifyFlow, Icmpv6AdminProhibited) {
    FlowFacts f = udp_flow(3478);
    f.icmp_errors = 1;
    f.icmp_type = 1;
    f.icmp_code = 1;
    f.icmp_from = "2001:db8::1";
    const auto o = classify_flow(f, 200);
    EXPECT_EQ(o.reason, "icmp-1-1");
    EXPECT_NE(o.origin.find("administratively prohibited"), std::string::npos) << o.origin;
}

TEST(ClassifyFlow, StunRetransmittedWithoutAnswerIsStunTimeout) {
    FlowFacts f = udp_flow(3478);
    f.stun_requests = 4;
    f.stun_retransmissions = 3;
    f.packets_c2s = 4;
    const auto o = classify_flow(f, 100.5);
    EXPECT_EQ(o.outcome, Outcome::Blocked);
    EXPECT_EQ(o.reason, "stun-timeout");
}

TEST(ClassifyFlow, SingleStunRequestAtTheEndIsInconclusive) {
    FlowFacts f = udp_flow(3478);
    f.stun_requests = 1;
    EXPECT_EQ(classify_flow(f, 100.2).outcome, Outcome::Inconclusive);
}

// ---- field truth: abandoned ICE checks, multicast, eviction splits ----

FlowFacts ice_checks(uint32_t requests, double span_s) {
    FlowFacts f = udp_flow(53210);
    f.stun_requests = f.stun_ice_checks = f.packets_c2s = requests;
    f.last_ts = f.first_ts + span_s;
    return f;
}

TEST(ClassifyFlow, IceCheckSentOnceIsAbandonedWhileAnotherPairSucceeded) {
    const auto o = classify_flow(ice_checks(1, 0), 110);
    EXPECT_EQ(o.outcome, Outcome::Abandoned);
    EXPECT_EQ(outcome_column(o), "abandoned");
    EXPECT_NE(o.evidence.find("abandoned"), std::string::npos);
}

TEST(ClassifyFlow, IceChecksSentOnceBlockWhenNoPairOfTheHostSucceeded) {
    FlowContext ctx;
    ctx.host_pair_succeeded = false;
    const auto o = classify_flow(ice_checks(1, 0), 110, {}, ctx);
    EXPECT_EQ(o.outcome, Outcome::Blocked);
    EXPECT_EQ(o.reason, "stun-timeout");
    EXPECT_NE(o.evidence.find("every pair failed"), std::string::npos) << o.evidence;
    // Still too early to say: the capture ended right after the check.
    EXPECT_EQ(classify_flow(ice_checks(1, 0), 100.2, {}, ctx).outcome, Outcome::Inconclusive);
}

TEST(ClassifyFlow, IceChecksRepeatedOverTimeArePersistence) {
    // libwebrtc repeats a check with new transaction ids: persistence, not
    // a retransmission, and blocked whatever the other pairs did.
    EXPECT_EQ(classify_flow(ice_checks(3, 1.5), 110).outcome, Outcome::Blocked);
    // Two checks a few milliseconds apart, then silence: let go.
    EXPECT_EQ(classify_flow(ice_checks(2, 0.05), 110).outcome, Outcome::Abandoned);
    FlowFacts retx = ice_checks(1, 0.5);
    retx.stun_retransmissions = 1;
    EXPECT_EQ(classify_flow(retx, 110).outcome, Outcome::Blocked);
}

TEST(ClassifyFlow, RequestToAStunServerIsNeverAbandoned) {
    // A Binding or Allocate request without ICE attributes (a client asking
    // its STUN/TURN server) unanswered for seconds failed, as before.
    FlowFacts f = ice_checks(1, 0);
    f.stun_ice_checks = 0;
    const auto o = classify_flow(f, 110);
    EXPECT_EQ(o.outcome, Outcome::Blocked);
    EXPECT_EQ(o.reason, "stun-timeout");
}

TEST(ClassifyFlow, MulticastAndBroadcastExpectNoAnswer) {
    for (const char* group : {"255.255.255.255", "224.0.0.251", "239.255.255.250", "ff02::1:2", "ff02::fb"}) {
        FlowFacts f = udp_flow(5353);
        f.server_ip = group;
        f.packets_c2s = 5;
        f.last_ts = f.first_ts + 8;
        const auto o = classify_flow(f, 200);
        EXPECT_EQ(o.outcome, Outcome::Inconclusive) << group;
        EXPECT_NE(o.reason.find("no answer expected"), std::string::npos) << group;
    }
    for (const char* unicast : {"198.51.100.7", "10.0.0.255", "2001:db8::ff", "fe80::1", "", "not-an-address"})
        EXPECT_FALSE(is_multicast_or_broadcast(unicast)) << unicast;
    EXPECT_TRUE(is_multicast_or_broadcast("ff05::1:3"));
}

TEST(ClassifyFlow, ExchangeSplitByEvictionIsUnknowableNotBlocked) {
    FlowContext ctx;
    ctx.split_by_eviction = true;
    FlowFacts udp = udp_flow(443);
    udp.stun_requests = 1;
    EXPECT_EQ(classify_flow(udp, 200, {}, ctx).outcome, Outcome::Inconclusive);
    FlowFacts tcp = tcp_flow(443);
    tcp.syn_count = 3;
    EXPECT_EQ(classify_flow(tcp, 200, {}, ctx).outcome, Outcome::Inconclusive);
    // An answer seen on this very row still counts.
    udp.packets_s2c = 1;
    udp.stun_answered = 1;
    EXPECT_EQ(classify_flow(udp, 200, {}, ctx).outcome, Outcome::Observed);
}

TEST(ClassifyFlow, AnAnswerFromAMiddleboxIsInconclusive) {
    FlowFacts f = udp_flow(3478);
    f.stun_requests = 1;
    f.stun_answered = 1;
    f.packets_c2s = 1;
    f.packets_s2c = 1;
    FlowContext ctx;
    EXPECT_EQ(classify_flow(f, 200, {}, ctx).outcome, Outcome::Observed);
    ctx.intercepted = true;
    const auto o = classify_flow(f, 200, {}, ctx);
    EXPECT_EQ(o.outcome, Outcome::Inconclusive);
    EXPECT_EQ(o.reason, kInterceptedReason);
    EXPECT_NE(o.origin.find("middlebox"), std::string::npos) << o.origin;
    // A probe that got no answer at all stays what its silence says.
    FlowFacts silent = udp_flow(3478);
    silent.stun_requests = 4;
    silent.stun_retransmissions = 3;
    silent.packets_c2s = 4;
    EXPECT_EQ(classify_flow(silent, 200, {}, ctx).outcome, Outcome::Blocked);
}

TEST(ClassifyFlow, ATlsConnectionCutAfterTheClientHelloIsBlocked) {
    FlowFacts f = tcp_flow(443);
    f.syn_count = 1;
    f.synack_count = 1;
    f.rst_ttl = 64;
    FlowContext ctx;
    EXPECT_EQ(classify_flow(f, 200, {}, ctx).outcome, Outcome::Observed);  // a handshake alone passes
    ctx.tls_cut = true;
    const auto o = classify_flow(f, 200, {}, ctx);
    EXPECT_EQ(o.outcome, Outcome::Blocked);
    EXPECT_EQ(o.reason, "tls-reset");
    EXPECT_NE(o.origin.find("SNI filter"), std::string::npos) << o.origin;
    // A SYN nobody answered stays what its silence says.
    FlowFacts silent = tcp_flow(443);
    silent.syn_count = 3;
    EXPECT_EQ(classify_flow(silent, 200, {}, ctx).reason, "no-answer");
}

// A peer-to-peer leg whose far end spoke first.
FlowFacts remote_first_leg() {
    FlowFacts f = udp_flow(50200);  // as the flow table saw it: the far end opened it
    f.client_ip = "203.0.113.95";
    f.client_port = 61000;
    f.server_ip = "10.1.0.16";
    f.server_port = 50200;
    f.packets_c2s = 8;  // the far end's checks
    f.packets_s2c = 12;  // our answers to them, and our own checks
    f.stun_requests = 8;  // 4 from each side
    f.stun_ice_checks = 8;
    f.stun_answered = 4;  // we answered all of theirs
    f.stun_retransmissions = 3;
    f.stun_requests_s2c = 4;  // ours: none answered, three retransmitted
    f.stun_answered_s2c = 0;
    f.stun_retransmissions_s2c = 3;
    f.last_ts = f.first_ts + 4;
    f.names = {{"peer.calls.example", "dns-initiator"}};
    return f;
}

TEST(OrientByInsideHost, FarEndSpeakingFirstIsTurnedToTheInsideHost) {
    FlowFacts f = remote_first_leg();
    ASSERT_TRUE(orient_by_inside_host(f));
    EXPECT_EQ(f.client_ip, "10.1.0.16");
    EXPECT_EQ(f.client_port, 50200);
    EXPECT_EQ(f.server_ip, "203.0.113.95");
    EXPECT_EQ(f.server_port, 61000);
    EXPECT_EQ(f.packets_c2s, 12u);
    EXPECT_EQ(f.stun_requests_s2c, 4u);  // now the far end's
    EXPECT_EQ(f.stun_answered_s2c, 4u);
    EXPECT_EQ(f.stun_retransmissions_s2c, 0u);
    EXPECT_EQ(f.names[0].source, "dns");  // the far end's name names the server now
    // Inside to outside, or no STUN of the inside host's own: left as seen.
    FlowFacts normal = remote_first_leg();
    ASSERT_TRUE(orient_by_inside_host(normal));
    EXPECT_FALSE(orient_by_inside_host(normal));
    // Both inside (a far end's relay in a lab's private cloud): the
    // addresses cannot tell, the side left without answers is the inside
    // host; once both sides' checks were answered, nothing to turn.
    FlowFacts lab = remote_first_leg();
    lab.client_ip = "10.77.100.90";
    ASSERT_TRUE(orient_by_inside_host(lab));
    EXPECT_EQ(lab.client_ip, "10.1.0.16");
    FlowFacts lab_answered = remote_first_leg();
    lab_answered.client_ip = "10.77.100.90";
    lab_answered.stun_answered = 8;
    lab_answered.stun_answered_s2c = 4;
    EXPECT_FALSE(orient_by_inside_host(lab_answered));
    FlowFacts silent = remote_first_leg();
    silent.stun_requests_s2c = 0;
    EXPECT_FALSE(orient_by_inside_host(silent));
}

// Both ends private and every check answered (the lab's high-ports
// profile: the far end's relay in the same private space spoke first):
// the end nearer the capture point by its TTL is the inside host; the
// TTLs decide before the unanswered side does, and equal hop counts leave
// the flow to it.
TEST(OrientByInsideHost, TheEndBesideTheCapturePointIsTheInsideHost) {
    FlowFacts relay_first = remote_first_leg();
    relay_first.client_ip = "10.77.100.112";
    relay_first.stun_answered = 8;
    relay_first.stun_answered_s2c = 4;
    relay_first.ttl_first_c2s = 63;  // the relay's, one router away
    relay_first.ttl_first_s2c = 64;  // the client's, beside the capture
    FlowFacts f = relay_first;
    ASSERT_TRUE(orient_by_inside_host(f));
    EXPECT_EQ(f.client_ip, "10.1.0.16");
    EXPECT_EQ(f.ttl_first_c2s, 64);
    EXPECT_FALSE(orient_by_inside_host(f)) << "once turned, the nearer end is the client";
    // A Windows client (128) beside the capture, the relay (64) behind two routers.
    FlowFacts windows = relay_first;
    windows.ttl_first_c2s = 62;
    windows.ttl_first_s2c = 128;
    EXPECT_TRUE(orient_by_inside_host(windows));
    // The far end nearer: the capture is beside it, left as seen.
    FlowFacts far_nearer = relay_first;
    far_nearer.ttl_first_c2s = 64;
    far_nearer.ttl_first_s2c = 61;
    EXPECT_FALSE(orient_by_inside_host(far_nearer));
    // Equal hops, or a TTL unknown: the TTLs cannot tell, all was answered.
    FlowFacts same = relay_first;
    same.ttl_first_c2s = 64;
    EXPECT_FALSE(orient_by_inside_host(same));
    FlowFacts unknown = relay_first;
    unknown.ttl_first_c2s = -1;
    EXPECT_FALSE(orient_by_inside_host(unknown));
    // Public and private ends: the addresses decide, whatever the TTLs say.
    FlowFacts addressed = remote_first_leg();
    addressed.ttl_first_c2s = 64;
    addressed.ttl_first_s2c = 60;
    EXPECT_TRUE(orient_by_inside_host(addressed));
}

TEST(ClassifyFlow, OurChecksUnansweredAreBlockedWhateverComesIn) {
    FlowFacts f = remote_first_leg();
    orient_by_inside_host(f);
    const auto o = classify_flow(f, 110);
    EXPECT_EQ(o.outcome, Outcome::Blocked) << o.evidence;
    EXPECT_EQ(o.reason, "stun-timeout");
    EXPECT_NE(o.evidence.find("far end's 4 own request(s) arrived"), std::string::npos) << o.evidence;
    // Media in the flow is an exchange, whatever the checks did.
    f.rtp_packets = 100;
    EXPECT_EQ(classify_flow(f, 110).outcome, Outcome::Observed);
    // Our checks answered: observed as always.
    FlowFacts ok = remote_first_leg();
    ok.stun_answered_s2c = 4;
    ok.stun_answered = 8;
    orient_by_inside_host(ok);
    EXPECT_EQ(classify_flow(ok, 110).outcome, Outcome::Observed);
}

// A far end that echoes every datagram sends the client's own STUN requests
// back (the lab's stand-in for Agora's UDP protocol does): the tracker sees
// them as retransmissions from the server of transactions only the client
// opened. They went out and came back: observed, not a STUN timeout.
TEST(ClassifyFlow, OurOwnRequestsEchoedBackAreAnExchange) {
    FlowFacts f = udp_flow(8000);
    f.packets_c2s = 4;
    f.packets_s2c = 4;
    f.stun_requests = 1;
    f.stun_retransmissions = 7;  // ours: 3; the echoes: 4
    f.stun_retransmissions_s2c = 4;
    f.last_ts = f.first_ts + 3.5;
    const auto o = classify_flow(f, 110);
    EXPECT_EQ(o.outcome, Outcome::Observed) << o.evidence;
    EXPECT_NE(o.evidence.find("echoed"), std::string::npos) << o.evidence;
    // A far end that also sent a request of its own: its repeats cannot be
    // told from echoes, and our requests stay unanswered, as before.
    f.stun_requests = 2;
    f.stun_requests_s2c = 1;
    EXPECT_EQ(classify_flow(f, 110).reason, "stun-timeout");
    // Nothing came back at all: a timeout.
    FlowFacts silent = udp_flow(8000);
    silent.packets_c2s = 4;
    silent.stun_requests = 1;
    silent.stun_retransmissions = 3;
    silent.last_ts = silent.first_ts + 3.5;
    EXPECT_EQ(classify_flow(silent, 110).reason, "stun-timeout");
}

TEST(InsideAddress, Ranges) {
    for (const char* in : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.1.1",
                           "127.0.0.1", "fd00::1", "fc12::1", "fe80::1", "::1"})
        EXPECT_TRUE(is_inside_address(in)) << in;
    for (const char* out :
         {"172.32.0.1", "172.15.0.1", "100.128.0.1", "198.51.100.7", "8.8.8.8", "2001:db8::1", "fec0::1", "", "x"})
        EXPECT_FALSE(is_inside_address(out)) << out;
}

TEST(ClassifyFlow, AnsweredUdpIsObserved) {
    FlowFacts f = udp_flow(3478);
    f.packets_s2c = 2;
    EXPECT_EQ(classify_flow(f, 200).outcome, Outcome::Observed);
}

// ---- matching and evidence kinds ----

TEST(MatchFlow, SniNamesTheFlow) {
    FlowFacts f = tcp_flow(443);
    f.names = {{"abc.calls.sendbird.com", "sni"}};
    const auto ms = match_flow(f, bundled_catalog(), {});
    ASSERT_EQ(ids(ms), std::vector<std::string>{"sendbird-calls.signal.tcp"});
    EXPECT_EQ(ms[0].evidence, Evidence::Sni);
}

// A TLS tunnel through a SOCKS or HTTP CONNECT proxy goes to the proxy's
// port; the requirement is about the port the client asked the proxy for,
// and the host it asked for names the flow.
TEST(MatchFlow, ProxyTargetNamesTheFlowAtItsPort) {
    FlowFacts f = tcp_flow(3128);
    f.names = {{"api-1.calls.sendbird.com", "proxy"}, {"proxy.corp.example", "dns"}};
    f.proxy_port = 443;
    const std::set<uint16_t> active{vendor("Sendbird")};
    const auto ms = match_flow(f, bundled_catalog(), active);
    ASSERT_TRUE(has(ids(ms), "sendbird-calls.signal.tcp"));
    for (const auto& m : ms) EXPECT_EQ(m.evidence, Evidence::Proxy);
    EXPECT_EQ(f.service_port(), 443);
    f.proxy_port = 0;  // without the target port, the proxy's own port decides nothing
    EXPECT_FALSE(has(ids(match_flow(f, bundled_catalog(), active)), "sendbird-calls.signal.tcp"));
}

TEST(MatchFlow, DnsNameAndWrongPort) {
    FlowFacts f = udp_flow(5349);
    f.names = {{"media.calls.sendbird.com", "dns"}};
    auto ms = match_flow(f, bundled_catalog(), {});
    ASSERT_EQ(ids(ms), std::vector<std::string>{"sendbird-calls.media-direct-call.udp"});
    EXPECT_EQ(ms[0].evidence, Evidence::Dns);
    // The same name on a port no entry lists: no match, a catalog gap for Sendbird.
    f.server_port = 5350;
    ms = match_flow(f, bundled_catalog(), {});
    EXPECT_TRUE(ms.empty());
    const auto gaps = gap_vendors(f, bundled_catalog(), ms);
    ASSERT_EQ(gaps.size(), 1u);
    EXPECT_EQ(gaps[0].vendor, vendor("Sendbird"));
}

TEST(MatchFlow, WildcardDoesNotMatchTheBareName) {
    FlowFacts f = tcp_flow(443);
    f.names = {{"calls.sendbird.com", "sni"}};
    EXPECT_TRUE(match_flow(f, bundled_catalog(), {}).empty());
}

TEST(MatchFlow, TurnPeerEvidence) {
    FlowFacts f = udp_flow(443);
    f.names = {{"eu.turn.whereby.com", "turn-peer"}};
    const auto ms = match_flow(f, bundled_catalog(), {});
    ASSERT_FALSE(ms.empty());
    EXPECT_EQ(ms[0].evidence, Evidence::TurnPeer);
}

TEST(MatchFlow, DestinationAnyNeedsProtocolEvidenceAndAnActiveVendor) {
    FlowFacts f = udp_flow(40000);
    // Port alone: nothing, even with Sendbird active.
    EXPECT_FALSE(has(ids(match_flow(f, bundled_catalog(), {vendor("Sendbird")})), "sendbird-calls.p2p-stun.udp"));
    // STUN on the flow but Sendbird not active by name: nothing.
    f.app = "stun";
    f.stun_requests = 1;
    EXPECT_FALSE(has(ids(match_flow(f, bundled_catalog(), {})), "sendbird-calls.p2p-stun.udp"));
    // STUN and Sendbird active: matched with protocol evidence.
    const auto ms = match_flow(f, bundled_catalog(), {vendor("Sendbird")});
    ASSERT_TRUE(has(ids(ms), "sendbird-calls.p2p-stun.udp"));
    for (const auto& m : ms) {
        if (bundled_catalog().entries()[m.entry].id == "sendbird-calls.p2p-stun.udp") {
            EXPECT_EQ(m.evidence, Evidence::Protocol);
        }
    }
}

TEST(MatchFlow, OneFlowServesTwoAgoraEditions) {
    FlowFacts f = tcp_flow(443);
    f.names = {{"webrtc2-1.agora.io", "sni"}};
    const auto got = ids(match_flow(f, bundled_catalog(), {}));
    bool e2018 = false, e2020 = false;
    for (const auto& id : got) {
        e2018 |= id.rfind("agora-2018.", 0) == 0;
        e2020 |= id.rfind("agora-2020.", 0) == 0;
    }
    EXPECT_TRUE(e2018 && e2020) << ::testing::PrintToString(got);
}

TEST(MatchFlow, UnnamedTcp443IsNeverPortOnly) {
    FlowFacts f = tcp_flow(443);
    EXPECT_TRUE(match_flow(f, bundled_catalog(), {vendor("Whereby")}).empty());
}

// ---- entry verdicts ----

FlowOutcome outcome(Outcome o, const char* reason = "") { return FlowOutcome{o, reason, "", ""}; }

TEST(DecideEntry, PartialIsPerPort) {
    const auto v =
        decide_entry({{1, 5866, outcome(Outcome::Observed)}, {2, 5867, outcome(Outcome::Blocked, "no-answer")}}, 0, "");
    EXPECT_EQ(v.verdict, Verdict::Partial);
    EXPECT_EQ(v.reasons, std::vector<std::string>{"no-answer"});
    EXPECT_EQ(v.ports_blocked, std::set<uint16_t>{5867});
}

TEST(DecideEntry, FailureOnAPortThatAlsoWorkedIsObserved) {
    const auto v =
        decide_entry({{1, 443, outcome(Outcome::Observed)}, {2, 443, outcome(Outcome::Blocked, "reset")}}, 0, "");
    EXPECT_EQ(v.verdict, Verdict::Observed);
    EXPECT_EQ(v.flows_blocked, 1u);
    // A port is never listed as both observed and blocked, and an observed
    // verdict carries no blocked reason.
    EXPECT_EQ(v.ports_observed, std::set<uint16_t>{443});
    EXPECT_TRUE(v.ports_blocked.empty());
    EXPECT_TRUE(v.reasons.empty());
    const auto p = decide_entry({{1, 443, outcome(Outcome::Observed)},
                                 {2, 443, outcome(Outcome::Blocked, "reset")},
                                 {3, 80, outcome(Outcome::Blocked, "reset")}},
                                0, "");
    EXPECT_EQ(p.verdict, Verdict::Partial);
    EXPECT_EQ(p.ports_blocked, std::set<uint16_t>{80});
    EXPECT_EQ(p.why.substr(0, p.why.find(" (")), "through on port 443; blocked on port 80");
    const auto two =
        decide_entry({{1, 1080, outcome(Outcome::Observed)}, {2, 25000, outcome(Outcome::Observed)}}, 0, "");
    EXPECT_EQ(two.why, "2 flow(s) got through on ports 1080, 25000");
}

TEST(DecideEntry, AbandonedChecksNeverDecide) {
    const auto with_media =
        decide_entry({{1, 53210, outcome(Outcome::Observed)}, {2, 50001, outcome(Outcome::Abandoned)}}, 0, "");
    EXPECT_EQ(with_media.verdict, Verdict::Observed);
    EXPECT_EQ(with_media.flows_abandoned, 1u);
    EXPECT_TRUE(with_media.ports_blocked.empty());
    EXPECT_NE(with_media.why.find("1 abandoned ICE check(s) not counted"), std::string::npos);
    const auto alone = decide_entry({{2, 50001, outcome(Outcome::Abandoned)}}, 0, "");
    EXPECT_EQ(alone.verdict, Verdict::Inconclusive);
    EXPECT_TRUE(alone.reasons.empty());
    EXPECT_EQ(alone.evidence_flows, std::vector<uint64_t>{2});
}

TEST(DecideEntry, InterceptedAnswersNeverShowTheWayOpen) {
    const FlowOutcome intercepted{Outcome::Inconclusive, std::string(kInterceptedReason), "a middlebox", ""};
    const auto alone = decide_entry({{1, 3478, intercepted}, {2, 443, intercepted}}, 0, "");
    EXPECT_EQ(alone.verdict, Verdict::Inconclusive);
    EXPECT_EQ(alone.why,
              "2 answer(s) on ports 443, 3478 came from a middlebox on the path, not the reflector (intercepted): "
              "the way to the vendor is not shown open");
    EXPECT_NE(alone.origin.find("middlebox"), std::string::npos);
    EXPECT_TRUE(alone.ports_observed.empty());
    const auto mixed = decide_entry({{1, 443, outcome(Outcome::Observed)}, {2, 3478, intercepted}}, 0, "");
    EXPECT_EQ(mixed.verdict, Verdict::Observed);
    EXPECT_EQ(mixed.ports_observed, std::set<uint16_t>{443});
    EXPECT_NE(mixed.why.find("; 1 answer(s) on port 3478 came from a middlebox on the path (intercepted), not counted"),
              std::string::npos)
        << mixed.why;
}

TEST(DecideEntry, PortsTheVendorsServerRefusedNeverReadBlocked) {
    const FlowOutcome refused{Outcome::Inconclusive, std::string(kRefusedReason), "the destination itself", ""};
    const auto alone = decide_entry({{1, 1024, refused}, {2, 5325, refused}}, 0, "");
    EXPECT_EQ(alone.verdict, Verdict::Inconclusive);
    EXPECT_EQ(alone.why,
              "the vendor's server refused the probe(s) on ports 1024, 5325 (nothing listens there): the firewall "
              "passed them, but only a reflector shows these ports open");
    EXPECT_TRUE(alone.ports_blocked.empty());
    EXPECT_TRUE(alone.reasons.empty());
    const auto mixed = decide_entry({{1, 3478, outcome(Outcome::Observed)}, {2, 5325, refused}}, 0, "");
    EXPECT_EQ(mixed.verdict, Verdict::Observed);
    EXPECT_NE(mixed.why.find("; refused by the vendor's server on port 5325 (nothing listens there; the firewall "
                             "passed them), not counted"),
              std::string::npos)
        << mixed.why;
}

TEST(DecideEntry, SilenceThatProvesNothingIsNeverABlock) {
    const FlowOutcome silent{Outcome::Inconclusive, std::string(kUnansweredReason), "", ""};
    const auto alone = decide_entry({{1, 8000, silent}, {2, 25000, silent}}, 0, "");
    EXPECT_EQ(alone.verdict, Verdict::Inconclusive);
    EXPECT_EQ(alone.why,
              "no answer on ports 8000, 25000, where the vendor's server need not answer STUN: a drop and a silent "
              "server look the same; only a reflector tells");
    const auto with_block = decide_entry({{1, 8000, silent}, {2, 1080, outcome(Outcome::Blocked, "icmp-3-3")}}, 0, "");
    EXPECT_EQ(with_block.verdict, Verdict::Blocked);
    EXPECT_EQ(with_block.ports_blocked, std::set<uint16_t>{1080});
    EXPECT_NE(with_block.why.find("; no answer on port 8000 (the vendor's server need not answer STUN there), not "
                                  "counted"),
              std::string::npos)
        << with_block.why;
}

TEST(DecideEntry, AllBlockedAndReasons) {
    const auto v = decide_entry(
        {{1, 443, outcome(Outcome::Blocked, "reset")}, {2, 80, outcome(Outcome::Blocked, "icmp-3-13")}}, 0, "");
    EXPECT_EQ(v.verdict, Verdict::Blocked);
    EXPECT_EQ(v.reasons, (std::vector<std::string>{"icmp-3-13", "reset"}));
    EXPECT_EQ(v.evidence_flows, (std::vector<uint64_t>{1, 2}));
}

TEST(DecideEntry, DnsFailureAloneBlocks) {
    const auto v = decide_entry({}, 2, "query for x.calls.sendbird.com: DNS NXDOMAIN");
    EXPECT_EQ(v.verdict, Verdict::Blocked);
    EXPECT_EQ(v.reasons, std::vector<std::string>{"dns-failure"});
}

TEST(DecideEntry, InconclusiveAndNotExercised) {
    EXPECT_EQ(decide_entry({{1, 443, outcome(Outcome::Inconclusive)}}, 0, "").verdict, Verdict::Inconclusive);
    EXPECT_EQ(decide_entry({}, 0, "").verdict, Verdict::NotExercised);
}

// ---- product conclusions ----

TEST(ConcludeProducts, DegradedWhenUdpBlockedAndTcpWorks) {
    const auto& c = bundled_catalog();
    std::vector<EntryVerdict> v(c.entries().size());
    const auto sig = *c.entry_index("sendbird-calls.signal.tcp");
    const auto media = *c.entry_index("sendbird-calls.media-direct-call.udp");
    v[sig].verdict = Verdict::Observed;
    v[media].verdict = Verdict::Blocked;
    const auto ps = conclude_products(c, v, {vendor("Sendbird")});
    ASSERT_FALSE(ps.empty());
    EXPECT_EQ(ps[0].conclusion, "works, degraded");
    v[sig].verdict = Verdict::Blocked;
    EXPECT_EQ(conclude_products(c, v, {vendor("Sendbird")})[0].conclusion, "broken");
    v[sig].verdict = Verdict::Observed;
    v[media].verdict = Verdict::Observed;
    EXPECT_EQ(conclude_products(c, v, {vendor("Sendbird")})[0].conclusion, "ready");
}

// ---- run_attribution's DNS pass, over stored queries ----

struct Query {
    const char* name;
    bool answered;
    const char* rcode;
    uint32_t answers;
};

// Stores the queries (in the given order) as one run with no flows, attributes
// it, and returns the verdict of the Sendbird entry the names fall under.
EntryVerdict dns_only_verdict(const std::vector<Query>& queries, RunVerdicts* all = nullptr) {
    test::TempDb db;
    auto s = store::Store::open(db.path());
    const int64_t run = s->begin_run(store::RunInfo{"analyze", "x.pcap", "x", "", 1.0});
    double ts = 100;
    for (const auto& q : queries) {
        records::DnsQuery row;
        row.flow_id = 1;
        row.ts = ts++;
        row.client_ip = "10.0.0.5";
        row.server_ip = "10.0.0.53";
        row.qname = q.name;
        row.qtype = 1;
        row.answered = q.answered;
        if (q.answered) row.rcode = q.rcode;
        row.answers = q.answers;
        s->add_dns_query(run, row);
    }
    s->flush();
    RunVerdicts v = run_attribution(*s, run, bundled_catalog());
    catalog::HostMatches hm;
    bundled_catalog().match_host("probe.calls.sendbird.com", hm);
    EXPECT_FALSE(hm.view().empty());
    EntryVerdict e = hm.view().empty() ? EntryVerdict{} : v.entries[hm.view()[0]];
    if (all) *all = std::move(v);
    return e;
}

// Queries for a name that never resolved are failures: each unanswered one
// and each answered with an error code; the last one's reason is reported.
// Rows of several names interleave: the pass groups them by name.
TEST(RunAttributionDns, FailuresOfANameThatNeverResolvedBlock) {
    RunVerdicts all;
    const EntryVerdict v = dns_only_verdict({{"a.calls.sendbird.com", false, "", 0},
                                             {"b.calls.sendbird.com", true, "NOERROR", 2},
                                             {"a.calls.sendbird.com", true, "SERVFAIL", 0},
                                             {"b.calls.sendbird.com", false, "", 0},
                                             {"a.calls.sendbird.com", true, "NXDOMAIN", 0}},
                                            &all);
    EXPECT_EQ(v.verdict, Verdict::Blocked);
    EXPECT_EQ(v.reasons, std::vector<std::string>{"dns-failure"});
    EXPECT_EQ(v.why, "query for a.calls.sendbird.com: DNS NXDOMAIN");
    EXPECT_TRUE(all.active_vendors.count(vendor("Sendbird")));
    // The same name failing last without any answer.
    EXPECT_EQ(
        dns_only_verdict({{"a.calls.sendbird.com", true, "NXDOMAIN", 0}, {"a.calls.sendbird.com", false, "", 0}}).why,
        "query for a.calls.sendbird.com: no DNS response");
}

// A name that resolved once has no failures, whatever its other queries got;
// an empty NOERROR answer (no record of that type) is not a failure either.
TEST(RunAttributionDns, ResolvedOnceOrEmptyAnswersAreNotFailures) {
    RunVerdicts all;
    const EntryVerdict v = dns_only_verdict({{"b.calls.sendbird.com", false, "", 0},
                                             {"b.calls.sendbird.com", true, "NOERROR", 1},
                                             {"c.calls.sendbird.com", true, "NOERROR", 0},
                                             {"b.calls.sendbird.com", true, "SERVFAIL", 0}},
                                            &all);
    EXPECT_EQ(v.verdict, Verdict::NotExercised);
    EXPECT_TRUE(v.reasons.empty());
    EXPECT_TRUE(all.active_vendors.count(vendor("Sendbird"))) << "names seen make their vendor active";
}

}  // namespace
}  // namespace callwall::attrib
