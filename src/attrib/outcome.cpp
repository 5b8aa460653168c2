// Attribution: whether one flow got through (classify_flow and its facts). See attrib/attrib.hpp.
#include "attrib/attrib.hpp"
#include "attrib/flow_row.hpp"
#include "attrib/run_attribution.hpp"
#include "decode/icmp_text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "util/clock.hpp"

namespace callwall::attrib {
namespace {

// Time exceeded (ICMP 11, ICMPv6 3): the hop limit ran out on the way (a
// traceroute's probes, a routing loop). No one refused anything.
bool time_exceeded(int family, int type) { return family == 6 ? type == 3 : type == 11; }

bool admin_prohibited(int family, int type, int code) {
    if (family == 6) return type == 1 && code == 1;
    return type == 3 && (code == 9 || code == 10 || code == 13);
}

// "destination unreachable (port unreachable)", "time exceeded", "type 4".
std::string icmp_name(int family, int type, int code) {
    const bool v6 = family == 6;
    const std::string_view type_text = decode::icmp_type_text(v6, type);
    if (type_text.empty()) return "type " + std::to_string(type);
    if (type != (v6 ? 1 : 3)) return std::string(type_text);
    const std::string_view code_text = decode::unreachable_code_text(v6, code);
    return std::string(type_text) + " (" +
           (code_text.empty() ? "code " + std::to_string(code) : std::string(code_text)) + ")";
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// Two or more STUN requests of one flow spread over at least this long are a
// client that kept trying (RFC 5389 §7.2.1 retransmits after 500 ms; ICE
// agents such as libwebrtc repeat a check with a new transaction id, which is
// not a retransmission but is persistence all the same). Anything less is a
// check its agent let go.
constexpr double kStunPersistS = 0.45;

// Parses an address in its usual notation: 4 or 16 bytes, 0 when not one.
int parse_address(std::string_view ip, unsigned char (&a)[16]) noexcept {
    char buf[INET6_ADDRSTRLEN + 1];
    if (ip.empty() || ip.size() >= sizeof buf) return 0;
    ip.copy(buf, ip.size());
    buf[ip.size()] = 0;
    if (inet_pton(AF_INET, buf, a) == 1) return 4;
    if (inet_pton(AF_INET6, buf, a) == 1) return 16;
    return 0;
}

}  // namespace

bool is_multicast_or_broadcast(std::string_view ip) noexcept {
    unsigned char a[16];
    switch (parse_address(ip, a)) {
        case 4: return (a[0] & 0xF0) == 0xE0 || (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
        case 16: return a[0] == 0xFF;
        default: return false;
    }
}

bool is_inside_address(std::string_view ip) noexcept {
    unsigned char a[16];
    switch (parse_address(ip, a)) {
        case 4:
            return a[0] == 10 || (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168) ||
                   (a[0] == 100 && (a[1] & 0xC0) == 64) || (a[0] == 169 && a[1] == 254) || a[0] == 127;
        case 16: {
            static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
            return (a[0] & 0xFE) == 0xFC || (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) || std::equal(a, a + 16, kLoopback);
        }
        default: return false;
    }
}

bool is_directed_broadcast(std::string_view to, std::string_view from) noexcept {
    unsigned char t[16], s[16];
    if (parse_address(to, t) != 4 || parse_address(from, s) != 4 || t[3] != 255) return false;
    // The host part: the trailing one bits of the address, at least the last
    // octet (networks up to /24: a /25 or longer is told by the link layer
    // alone), at most 24 bits (a /8). The sender shares the network part.
    const uint32_t a = (uint32_t{t[0]} << 24) | (uint32_t{t[1]} << 16) | (uint32_t{t[2]} << 8) | t[3];
    const uint32_t b = (uint32_t{s[0]} << 24) | (uint32_t{s[1]} << 16) | (uint32_t{s[2]} << 8) | s[3];
    int host_bits = 8;
    while (host_bits < 24 && ((a >> host_bits) & 1u)) ++host_bits;
    return a != b && (a >> host_bits) == (b >> host_bits);
}

bool needs_server_ttls(const FlowFacts& f) noexcept {
    if (f.transport == "tcp") return f.rst_ttl >= 0 && f.synack_count == 0;
    return f.transport == "udp" && f.packets_s2c == 0 &&
           (f.server_port == 53 || f.server_port == 5353 || f.server_port == 5355);
}

bool is_tunnel_port(uint16_t port) noexcept {
    switch (port) {
        case 2152:  // GTP-U (3GPP TS 29.281)
        case 4789:  // VXLAN (RFC 7348)
        case 4790:  // VXLAN-GPE (RFC 9631)
        case 6081:  // Geneve (RFC 8926)
        case 8472:  // VXLAN on Linux's default port (before IANA's 4789)
            return true;
        default: return false;
    }
}

namespace {

// A peer-to-peer leg whose two ends the addresses cannot tell apart: the
// recorded server's own STUN requests all went unanswered (and nothing else
// came back: no media, no DTLS) while the recorded client's requests were
// answered. An ICE agent answers every check it receives (RFC 8445 §7.3), so
// the side left without answers is the side whose checks did not get out,
// or whose answers did not get in: seen from a capture beside it, its way
// out is blocked, whatever comes in. Seen from the other side, the capture
// would show that side's own answers (the lab's strict profile, whose
// remote peer is relay-only through a relay in the lab's private cloud:
// captures/lab/strict, captures/scenarios/field_p2p_relay_remote_first).
bool unanswered_side_faces_us(const FlowFacts& f) noexcept {
    const uint32_t client_answered = f.stun_answered - std::min(f.stun_answered_s2c, f.stun_answered);
    const bool media = f.rtp_packets > 0 || f.dtls_handshake || f.channel_data > 0;
    return f.stun_answered_s2c == 0 && client_answered > 0 && !media;
}

// The hops a packet crossed before the capture saw it, by its TTL (IPv6:
// hop limit) below the nearest common initial value (64: Linux, macOS,
// Android, iOS; 128: Windows; 255: network gear and some stacks); -1 when
// the TTL is unknown.
int hops_crossed(int ttl) noexcept {
    if (ttl <= 0) return -1;
    for (const int initial : {64, 128, 255})
        if (ttl <= initial) return initial - ttl;
    return -1;
}

// Which end the capture point sits nearer, by the hops each side's first
// packet crossed: +1 the recorded server, -1 the recorded client, 0 when
// the TTLs cannot tell (unknown, or as many hops each way). The capture
// point is between the inside hosts and the firewall (docs/verdicts.md), so
// the nearer end is the inside host: a far end's relay answering from the
// same private space as the client (the lab's high-ports profile) is one
// hop or more further away than the client beside the capture.
int nearer_end(const FlowFacts& f) noexcept {
    const int client = hops_crossed(f.ttl_first_c2s), server = hops_crossed(f.ttl_first_s2c);
    if (client < 0 || server < 0 || client == server) return 0;
    return server < client ? 1 : -1;
}

}  // namespace

bool faces_inside_host(const FlowFacts& f) noexcept {
    if (f.transport != "udp" || f.stun_requests_s2c == 0) return false;
    const bool server_inside = is_inside_address(f.server_ip);
    if (server_inside != is_inside_address(f.client_ip)) return server_inside;
    if (const int nearer = nearer_end(f); nearer != 0) return nearer > 0;
    return unanswered_side_faces_us(f);
}

bool holds_only_answers(const FlowFacts& f) noexcept {
    return (f.roles & flow::kClientAnswered) && !(f.roles & (flow::kClientAsked | flow::kServerAnswered));
}

namespace {

// The flow seen from the other side: its columns as their lines say
// (facts::turn_columns: endpoints, counters, each side's STUN transactions
// and roles; the far end's TTLs and acknowledgements unknown), and the
// names whose source says which side asked.
void swap_sides(FlowFacts& f) {
    facts::turn_columns(f);
    for (auto& n : f.names) {
        if (n.source == "dns-initiator")
            n.source = "dns";
        else if (n.source == "dns")
            n.source = "dns-initiator";
    }
}

}  // namespace

bool orient_by_inside_host(FlowFacts& f) {
    if (!faces_inside_host(f)) return false;
    swap_sides(f);
    return true;
}

bool orient_by_protocol(FlowFacts& f) {
    if (!holds_only_answers(f)) return false;
    swap_sides(f);
    return true;
}

bool needs_orienting(const FlowFacts& f) noexcept { return holds_only_answers(f) || faces_inside_host(f); }

bool orient_flow(FlowFacts& f) {
    const bool by_protocol = orient_by_protocol(f);
    return orient_by_inside_host(f) || by_protocol;
}

std::string_view to_string(Outcome o) noexcept {
    switch (o) {
        case Outcome::Observed: return "observed";
        case Outcome::Blocked: return "blocked";
        case Outcome::Inconclusive: return "inconclusive";
        case Outcome::Abandoned: return "abandoned";
    }
    return "?";
}

namespace {

// The other direction of the exchange was recorded as another flow.
FlowOutcome split_by_eviction() {
    FlowOutcome r;
    r.reason = "flow table full: the other direction of this exchange was recorded as another flow";
    r.evidence = r.reason;
    return r;
}

// ICMP errors quoting a flow the server never answered.
FlowOutcome icmp_outcome(const FlowFacts& f) {
    FlowOutcome r;
    const std::string what =
        (f.icmp_family() == 6 ? "ICMPv6 " : "ICMP ") + icmp_name(f.icmp_family(), f.icmp_type, f.icmp_code);
    if (time_exceeded(f.icmp_family(), f.icmp_type)) {
        r.reason = what + " from " + f.icmp_from + ": the hop limit ran out on the way (a traceroute), not a refusal";
        r.evidence = r.reason;
        return r;
    }
    r.outcome = Outcome::Blocked;
    r.reason = "icmp-" + std::to_string(f.icmp_type) + "-" + std::to_string(f.icmp_code);
    r.evidence = what + " from " + f.icmp_from;
    if (admin_prohibited(f.icmp_family(), f.icmp_type, f.icmp_code))
        r.origin = "a firewall: " + f.icmp_from + " says administratively prohibited";
    else if (f.icmp_from == f.server_ip) {
        r.origin = "the destination itself (" + f.icmp_from + "): the service is not there";
        r.by_destination = true;
    } else
        r.origin = "a router or firewall in between (" + f.icmp_from + ", not the destination)";
    return r;
}

// Zeek's states of a connection that was established.
bool established(std::string_view state) noexcept {
    return state == "S1" || state == "SF" || state == "S2" || state == "S3" || state == "RSTO" || state == "RSTR";
}

FlowOutcome tcp_outcome(const FlowFacts& f, double capture_end, const std::set<int>& server_ttls,
                        const FlowContext& ctx) {
    FlowOutcome r;
    // A SYN without a SYN-ACK whose state still reads established: the
    // server's data arrived, so the SYN-ACK was lost from the capture, not
    // from the wire (flow::Flow::state).
    const bool synack_not_captured = f.synack_count == 0 && f.syn_count > 0 && established(f.state);
    if (f.synack_count > 0 || synack_not_captured || (f.state == "OTH" && f.packets_s2c > 0 && f.packets_c2s > 0)) {
        r.outcome = Outcome::Observed;
        r.evidence = f.synack_count > 0    ? "TCP handshake answered (SYN-ACK)"
                     : synack_not_captured ? "the server sent data (its SYN-ACK is missing from the capture)"
                                           : "data in both directions (handshake not captured)";
        return r;
    }
    // The client's ACKs prove what the capture lacks: after its SYN, an ACK
    // answers only a SYN-ACK; a higher ACK number, the server's bytes (a
    // capture of the client's side alone, flow::TcpTrack::ack_base).
    if (f.acked_s2c > 0 || (f.acked_s2c == 0 && f.syn_count > 0)) {
        r.outcome = Outcome::Observed;
        r.evidence = f.acked_s2c > 0 ? "the client acknowledged " + std::to_string(f.acked_s2c) +
                                           " byte(s) the server sent (not in the capture)"
                                     : "the client acknowledged the server's SYN-ACK (not in the capture)";
        return r;
    }
    // A reset answers an attempt only when the attempt was captured: a lone
    // RST from the server with no SYN (the capture began mid-connection)
    // ends a connection that was working.
    if (f.state == "REJ" || (f.rst_ttl >= 0 && f.syn_count > 0)) {
        r.outcome = Outcome::Blocked;
        r.reason = "reset";
        r.evidence = "SYN answered by RST (TTL " + std::to_string(f.rst_ttl) + ")";
        const std::set<int>& others = server_ttls;
        if (!others.empty() && !others.count(f.rst_ttl)) {
            r.origin = "likely a middlebox: the RST's TTL " + std::to_string(f.rst_ttl) +
                       " differs from the server's other packets (TTL " + std::to_string(*others.begin()) + ")";
        } else if (!others.empty()) {
            r.origin = "the destination (the RST's TTL matches the server's other packets): nothing listens there";
            r.by_destination = true;
        } else {
            r.origin =
                "the destination or a firewall rejecting with RST (no other packets from that server to compare TTLs)";
        }
        return r;
    }
    if (ctx.split_by_eviction) return split_by_eviction();
    if (f.syn_count > 0) {
        const double waited = capture_end - f.first_syn_ts;
        if (f.syn_count >= 2 || waited >= kNoAnswerWaitS) {
            r.outcome = Outcome::Blocked;
            r.reason = "no-answer";
            r.evidence = std::to_string(f.syn_count) + " SYN(s) over " + fmt("%.1f", f.last_syn_ts - f.first_syn_ts) +
                         " s, no SYN-ACK; capture ran " + fmt("%.1f", waited) + " s after the first";
            r.origin = "silently dropped (a firewall drop rule, or the host is down)";
            return r;
        }
        r.reason = "capture ended " + fmt("%.2f", waited) + " s after the only SYN";
        r.evidence = r.reason;
        return r;
    }
    r.reason = "mid-stream, one direction only";
    r.evidence = r.reason;
    return r;
}

// Why nothing is expected to answer the flow, or "" when something should.
// `probe_flow`: a probe sent it (FlowContext::sent_for), its own STUN
// request on whatever port it probed, which expects its answer.
std::string no_answer_expected(const FlowFacts& f, bool probe_flow) {
    // DHCP, DHCPv6, mDNS, SSDP, LLMNR: sent to a group, answered (if at all)
    // from another address. NetBIOS, Dropbox LAN sync, Spotify: sent to the
    // sender's network's broadcast address.
    if (is_multicast_or_broadcast(f.server_ip)) return "multicast/broadcast: no answer expected from " + f.server_ip;
    if (f.link_broadcast) return "sent to the link-layer broadcast address: no answer expected from " + f.server_ip;
    if (is_directed_broadcast(f.server_ip, f.client_ip))
        return "broadcast to " + f.client_ip + "'s network: no answer expected from " + f.server_ip;
    // A DHCP server's replies to a client (BOOTREPLY, RFC 2131 §4.1; DHCPv6
    // RFC 8415 §7.2): answers, which expect none.
    if ((f.client_port == 67 && f.server_port == 68) || (f.client_port == 547 && f.server_port == 546))
        return "DHCP server's replies (UDP " + std::to_string(f.client_port) + " to " + std::to_string(f.server_port) +
               "): answers expect no answer";
    // NetBIOS name and datagram service between hosts (RFC 1002): a query
    // broadcast is answered on another flow, a unicast response or datagram
    // needs no answer; which one a flow is, callwall does not decode.
    if ((f.server_port == 137 && f.client_port == 137) || (f.server_port == 138 && f.client_port == 138))
        return "NetBIOS (UDP " + std::to_string(f.server_port) +
               "): responses and datagrams expect no answer on their own flow";
    // The outer leg of a tunnel: each direction has its own source port (a
    // hash of the inner flow) or its own tunnel; the inner flows are judged.
    // Not a probe's flow to a tunnel's port: it carries no tunnel, and its
    // request is answered on the flow it went out on.
    if (!probe_flow && (is_tunnel_port(f.server_port) || is_tunnel_port(f.client_port)))
        return "tunnel leg (UDP " + std::to_string(is_tunnel_port(f.server_port) ? f.server_port : f.client_port) +
               "): one-way by design, its inner flows are judged";
    return "";
}

// A name server that answered other flows of the capture but not this one
// chose not to answer (a resolver that ignores SRV or a name it does not
// serve): its own doing, not the path's. `server_ttls` are the TTLs of the
// server's answers elsewhere (empty: none).
bool answers_elsewhere(const FlowFacts& f, const std::set<int>& server_ttls) noexcept {
    return !server_ttls.empty() && (f.server_port == 53 || f.server_port == 5353 || f.server_port == 5355);
}

// UDP (and others).
FlowOutcome udp_outcome(const FlowFacts& f, double capture_end, const std::set<int>& server_ttls,
                        const FlowContext& ctx) {
    FlowOutcome r;
    // An answer in the other direction is an observation,
    // but each side is judged by its own STUN transactions: the client's
    // requests all unanswered while the far end's own checks arrive (and
    // nothing else comes back: no media, no DTLS) is the client's way out
    // being blocked, whatever comes in (RFC 8445 §7.2.5).
    const auto own = [](uint32_t total, uint32_t s2c) { return total - std::min(s2c, total); };
    const uint32_t requests = own(f.stun_requests, f.stun_requests_s2c);
    const uint32_t answered = own(f.stun_answered, f.stun_answered_s2c);
    const uint32_t retransmissions = own(f.stun_retransmissions, f.stun_retransmissions_s2c);
    const bool media = f.rtp_packets > 0 || f.dtls_handshake || f.channel_data > 0;
    // Requests from the far end that only ever repeat transaction ids it
    // never opened (it sent no request of its own) are the client's own
    // requests coming back: an echo. They went out and back on this flow.
    const bool echoed = f.stun_retransmissions_s2c > 0 && f.stun_requests_s2c == 0;
    // A far end that sent no STUN request of its own, only something else (a
    // TURN server's Data indications, a server's own protocol on the STUN
    // port: ndpi__teams, ndpi__zoom), answers on this flow whatever became
    // of our requests. A peer whose own checks arrive is judged by ours.
    const bool far_end_speaks = f.packets_s2c > 0 && f.stun_requests_s2c == 0 && f.stun_retransmissions_s2c == 0;
    const bool ours_unanswered = requests > 0 && answered == 0 && !media && !echoed && !far_end_speaks;
    if (f.packets_s2c > 0 && !ours_unanswered) {
        r.outcome = Outcome::Observed;
        r.evidence = f.stun_answered > 0 ? "STUN response received"
                     : echoed            ? "the client's STUN request(s) came back from the far end (echoed)"
                     : requests > 0 && answered == 0 ? "the far end sent " + std::to_string(f.packets_s2c) +
                                                           " packet(s) on this flow, none a STUN response or request"
                     : (f.roles & flow::kServerAnswered) && f.packets_c2s == 0
                         ? "only the answers were captured (their requests were not): the path works"
                         : "UDP answered in the other direction";
        return r;
    }
    const std::string far_end =
        f.packets_s2c > 0 ? "; the far end's " + std::to_string(f.stun_requests_s2c) + " own request(s) arrived" : "";
    if (ctx.split_by_eviction) return split_by_eviction();
    if (std::string why = no_answer_expected(f, !ctx.sent_for.empty()); !why.empty()) {
        r.reason = std::move(why);
        r.evidence = r.reason;
        return r;
    }
    const bool by_resolver = answers_elsewhere(f, server_ttls);
    const std::string resolver_origin =
        "the destination: " + f.server_ip +
        " answered other queries in the capture but not these (it ignores this query type or name)";
    const double waited = capture_end - f.first_ts;
    if (requests > 0) {
        // Only ICE agents abandon: a client's request to a STUN/TURN server
        // (no ICE attributes) unanswered for seconds is a failure as before.
        const bool ice_only = f.stun_ice_checks > 0 && f.stun_ice_checks >= f.stun_requests;
        const bool persisted = retransmissions > 0 || (requests >= 2 && f.last_ts - f.first_ts >= kStunPersistS);
        if (persisted || (waited >= kNoAnswerWaitS && (!ice_only || !ctx.host_pair_succeeded))) {
            r.outcome = Outcome::Blocked;
            r.reason = "stun-timeout";
            r.evidence = std::to_string(requests) + " STUN request(s), " + std::to_string(retransmissions) +
                         " retransmission(s), no response" + far_end;
            if (!persisted && ice_only)
                r.evidence += "; no STUN exchange of " + f.client_ip + " succeeded in the capture (every pair failed)";
            r.origin = by_resolver ? resolver_origin : "silently dropped (a firewall drop rule, or the server is down)";
            r.by_destination = by_resolver;
            return r;
        }
        if (waited >= kNoAnswerWaitS) {
            r.outcome = Outcome::Abandoned;
            r.reason = "abandoned";
            r.evidence = std::to_string(requests) + " STUN request(s) over " + fmt("%.2f", f.last_ts - f.first_ts) +
                         " s, never retransmitted, no response" + far_end + "; another STUN exchange of " +
                         f.client_ip + " succeeded: an ICE check its agent abandoned (RFC 8445 §7.2.5.3), not a block";
            return r;
        }
        r.reason = "capture ended " + fmt("%.2f", waited) + " s after the only STUN request";
        r.evidence = r.reason;
        return r;
    }
    if (f.packets_c2s >= 2 && waited >= kNoAnswerWaitS) {
        r.outcome = Outcome::Blocked;
        r.reason = "no-answer";
        r.evidence = std::to_string(f.packets_c2s) + " datagrams over " + fmt("%.1f", f.last_ts - f.first_ts) +
                     " s, none answered";
        r.origin = by_resolver ? resolver_origin : "silently dropped (a firewall drop rule, or nothing listens)";
        r.by_destination = by_resolver;
        return r;
    }
    r.reason = "one-way UDP, too little to judge";
    r.evidence = r.reason;
    return r;
}

// TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2, RFC 6066 §3) a
// filter or the server answers a ClientHello with.
std::string alert_name(int16_t a) {
    switch (a) {
        case 40: return "handshake_failure";
        case 47: return "illegal_parameter";
        case 49: return "access_denied";
        case 70: return "protocol_version";
        case 71: return "insufficient_security";
        case 80: return "internal_error";
        case 112: return "unrecognized_name";
        case 120: return "no_application_protocol";
        default: return "alert " + std::to_string(a);
    }
}

// A TCP connection that was answered, whose ClientHello the server side
// answered by a reset, or by a fatal alert, instead of a ServerHello: what
// an SNI filter does to a name it refuses (it lets the handshake through
// and cuts the TLS that names the server). Reset "right after": the client
// acknowledged nothing of the server's past its SYN-ACK (acked_s2c). Who
// sent the reset: its TTL against the server's first packet's (the
// SYN-ACK's), as for an ICMP error's sender: one with the server's own TTL
// is the server's answer, and the flow stays observed.
FlowOutcome tls_refused_outcome(FlowOutcome r, const FlowFacts& f) {
    if (!contains(f.app, "tls") || f.tls_server_hello || f.synack_count == 0) return r;
    const bool alert = f.tls_alert >= 0;
    if (!alert && (f.rst_ttl < 0 || f.acked_s2c > 0)) return r;
    // A refusal with the server's own TTL came from as far as the server: the
    // server itself turning the hello down (a TURN server on 443 that speaks
    // no TLS, a fingerprint it rejects) passed every firewall on the way.
    // Without the server's TTL nothing tells who sent it.
    const bool servers_ttl = alert ? f.server_ttl_min >= 0 && f.server_ttl_min == f.server_ttl_max
                                   : f.ttl_first_s2c >= 0 && f.ttl_first_s2c == f.rst_ttl;
    if (servers_ttl) return r;
    if (alert ? f.server_ttl_min < 0 : f.ttl_first_s2c < 0) {
        r.outcome = Outcome::Inconclusive;
        r.reason = "tls-reset";
        r.evidence =
            "TCP handshake answered, then the ClientHello refused, no ServerHello; no TTL of the server "
            "tells who refused it";
        return r;
    }
    r.outcome = Outcome::Blocked;
    r.reason = "tls-reset";
    const std::string name = f.name_source == "sni" && !f.name.empty() ? " (SNI " + f.name + ")" : "";
    if (alert) {
        r.evidence = "TCP handshake answered, then the ClientHello" + name + " answered by a fatal TLS alert (" +
                     alert_name(f.tls_alert) + ") instead of a ServerHello";
        r.origin = "likely an SNI filter on the path: the packets from " + f.server_ip + " carry TTLs " +
                   std::to_string(f.server_ttl_min) + " to " + std::to_string(f.server_ttl_max) +
                   ", not all the server's";
        return r;
    }
    r.evidence = "TCP handshake answered, then the ClientHello" + name + " answered by a reset (TTL " +
                 std::to_string(f.rst_ttl) + "), no ServerHello";
    r.origin = "likely an SNI filter on the path: the RST's TTL " + std::to_string(f.rst_ttl) +
               " differs from the server's SYN-ACK (TTL " + std::to_string(f.ttl_first_s2c) + ")";
    return r;
}

// Answered, but by something on the path instead of the server (a STUN
// answer or a TCP connection without the reflector's token): not evidence
// that the path to the server is open.
FlowOutcome intercepted_outcome(FlowOutcome r, const FlowContext& ctx) {
    if (!ctx.intercepted || r.outcome != Outcome::Observed) return r;
    r.outcome = Outcome::Inconclusive;
    r.reason = std::string(kInterceptedReason);
    r.origin = "a middlebox on the path (a transparent proxy or captive portal) answered for the server";
    r.evidence = "answered without the reflector's token: intercepted";
    return r;
}

// A probe's port refused by the vendor's server itself: the firewall let it
// through (FlowContext::refusal_is_no_block).
FlowOutcome refused_outcome(FlowOutcome r, const FlowFacts& f, const FlowContext& ctx) {
    if (!ctx.refusal_is_no_block || r.outcome != Outcome::Blocked || !r.by_destination) return r;
    r.outcome = Outcome::Inconclusive;
    r.reason = std::string(kRefusedReason);
    r.origin = "the destination itself: nothing listens on port " + std::to_string(f.server_port) +
               " there, and the firewall passed the probe";
    return r;
}

// A probe's STUN request nobody answered, sent where the vendor's server need
// not answer STUN (FlowContext::silence_is_no_block).
FlowOutcome unanswered_outcome(FlowOutcome r, const FlowFacts& f, const FlowContext& ctx) {
    if (!ctx.silence_is_no_block || r.outcome != Outcome::Blocked ||
        (r.reason != "stun-timeout" && r.reason != "no-answer"))
        return r;
    r.outcome = Outcome::Inconclusive;
    r.reason = std::string(kUnansweredReason);
    r.origin = "no answer on port " + std::to_string(f.server_port) +
               ", where the vendor's server need not answer STUN: a firewall's drop or a server that ignores the "
               "request look the same";
    return r;
}

// A capture of one direction only (FlowContext::one_direction_flows): its
// silence is the capture's, not the path's. Not a probe's flow: the probe
// captures both directions of its own sockets.
FlowOutcome one_direction_outcome(FlowOutcome r, const FlowContext& ctx) {
    if (ctx.one_direction_flows == 0 || !ctx.sent_for.empty() || r.outcome != Outcome::Blocked) return r;
    r.outcome = Outcome::Inconclusive;
    r.reason = std::string(kOneDirectionReason);
    // Without the run's flow count: the flow's evidence is its own, the
    // same at each refresh of a live run as in the run's last attribution.
    r.evidence = "this capture holds one direction only, no packet from any server (" + r.evidence + ")";
    r.origin.clear();
    r.by_destination = false;
    return r;
}

// A probe's flow the capture shows unanswered or refused, whose answer its
// own socket received (FlowContext::answered_at_sender): the capture lost
// packets; the socket's receipt is the evidence.
FlowOutcome answered_at_sender_outcome(FlowOutcome r, const FlowContext& ctx) {
    if (ctx.answered_at_sender.empty() || r.outcome != Outcome::Blocked) return r;
    r.outcome = Outcome::Observed;
    r.evidence = "the probe's socket received the answer (" + ctx.answered_at_sender +
                 "); the capture lost it (it shows: " + r.evidence + ")";
    r.reason.clear();
    r.origin.clear();
    r.by_destination = false;
    return r;
}

}  // namespace

bool shows_far_side(uint64_t packets_s2c, uint16_t icmp_errors, uint8_t roles) noexcept {
    return packets_s2c > 0 || icmp_errors > 0 || (roles & flow::kClientAnswered) != 0;
}

std::string one_direction_note(uint64_t flows) {
    return "this capture holds one direction only: " + std::to_string(flows) + " flows, no packet from any server";
}

FlowOutcome classify_flow(const FlowFacts& f, double capture_end, const std::set<int>& server_ttls,
                          const FlowContext& ctx) {
    // ICMP errors quoting the flow, unless the server answered anyway
    // (an ICMP error after a working exchange is noise, e.g. a late packet).
    if (f.icmp_errors > 0 && f.packets_s2c == 0) return refused_outcome(icmp_outcome(f), f, ctx);
    if (f.transport == "tcp") {
        FlowOutcome t = tcp_outcome(f, capture_end, server_ttls, ctx);
        if (ctx.tls_cut && t.outcome == Outcome::Observed) {
            t.outcome = Outcome::Blocked;
            t.reason = "tls-reset";
            t.evidence = "TCP handshake answered, then the ClientHello answered by a reset";
            t.origin = "an SNI filter on the path (the connection was reset after the ClientHello carrying the name)";
        } else if (t.outcome == Outcome::Observed && ctx.sent_for.empty()) {
            t = tls_refused_outcome(std::move(t), f);
        }
        return answered_at_sender_outcome(
            one_direction_outcome(intercepted_outcome(refused_outcome(t, f, ctx), ctx), ctx), ctx);
    }
    return answered_at_sender_outcome(
        one_direction_outcome(
            intercepted_outcome(unanswered_outcome(udp_outcome(f, capture_end, server_ttls, ctx), f, ctx), ctx), ctx),
        ctx);
}

std::string outcome_column(const FlowOutcome& o) {
    std::string s(to_string(o.outcome));
    if (!o.reason.empty() && o.outcome == Outcome::Blocked) s += ":" + o.reason;
    return s;
}

void facts_of(const facts::FlowRecord& row, FlowFacts& r) {
    // Column for column what the row is written with and run_attribution
    // reads back (NULLs read as their defaults). Every field is set; the
    // strings keep their storage from flow to flow.
    facts::each_read_column(r, row, [](auto& to, const auto& from) { to = from; });
    r.names.clear();
}

void facts_of(const flow::Flow& f, const facts::FlowAppInfo& app, FlowFacts& r) {
    facts::FlowRecord row;
    facts::record_of(f, app, row);
    facts_of(row, r);
}

FlowFacts facts_of(const flow::Flow& f, const facts::FlowAppInfo& app) {
    FlowFacts r;
    facts_of(f, app, r);
    return r;
}

void provisional_outcome(const FlowFacts& facts, double capture_end, std::string& out) {
    out.clear();
    if (!facts.tcp_or_udp()) return;  // not classified
    if (needs_orienting(facts)) {  // rare: oriented on a copy
        FlowFacts oriented = facts;
        orient_flow(oriented);
        out = outcome_column(classify_flow(oriented, capture_end));
        return;
    }
    out = outcome_column(classify_flow(facts, capture_end));
}

}  // namespace callwall::attrib
