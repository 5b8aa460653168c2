// Attribution and verdicts. See attrib/attrib.hpp.
#include "callwall/attrib/attrib.hpp"

#include <arpa/inet.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "callwall/store/store.hpp"

namespace callwall::attrib {
namespace {

using catalog::Catalog;
using catalog::Entry;

// Confidence by evidence kind (documented in the README): a flow's own SNI
// names it, and so (a little less surely: the proxy may rewrite it) does the
// host its client asked an explicit proxy for; a DNS answer the same client saw just before names it unless the
// address also served other names; a TURN peer relation is indirect; protocol
// evidence in a destination-ANY range, while that vendor is active by name,
// is circumstantial; a port alone is a hint that decides nothing.
constexpr double kConfidenceSni = 0.95;
constexpr double kConfidenceProxy = 0.9;
constexpr double kConfidenceDns = 0.85;
constexpr double kConfidenceDnsShared = 0.7;
constexpr double kConfidenceTurnPeer = 0.6;
constexpr double kConfidenceProtocolAny = 0.6;
constexpr double kConfidencePortOnly = 0.2;

bool admin_prohibited(int family, int type, int code) {
    if (family == 6) return type == 1 && code == 1;
    return type == 3 && (code == 9 || code == 10 || code == 13);
}

std::string icmp_name(int family, int type, int code) {
    if (family == 6) {
        if (type == 1) {
            static const char* k[] = {"no route", "administratively prohibited", "beyond scope of source",
                                      "address unreachable", "port unreachable", "source address failed policy",
                                      "reject route"};
            return std::string("destination unreachable (") + (code >= 0 && code <= 6 ? k[code] : "code " + std::to_string(code)) + ")";
        }
        if (type == 2) return "packet too big";
        if (type == 3) return "time exceeded";
        return "parameter problem";
    }
    if (type == 3) {
        static const char* k[] = {"net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
                                  "fragmentation needed", "source route failed", "net unknown", "host unknown",
                                  "source host isolated", "net administratively prohibited",
                                  "host administratively prohibited", "net unreachable for TOS",
                                  "host unreachable for TOS", "communication administratively prohibited",
                                  "host precedence violation", "precedence cutoff"};
        return std::string("destination unreachable (") + (code >= 0 && code <= 15 ? k[code] : "code " + std::to_string(code)) + ")";
    }
    if (type == 11) return "time exceeded";
    if (type == 12) return "parameter problem";
    return "type " + std::to_string(type);
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

bool orient_by_inside_host(FlowFacts& f) {
    if (f.transport != "udp" || f.stun_requests_s2c == 0 || !is_inside_address(f.server_ip) || is_inside_address(f.client_ip))
        return false;
    std::swap(f.client_ip, f.server_ip);
    std::swap(f.client_port, f.server_port);
    std::swap(f.packets_c2s, f.packets_s2c);
    const auto flip = [](uint32_t total, uint32_t& s2c) { s2c = total - std::min(s2c, total); };
    flip(f.stun_requests, f.stun_requests_s2c);
    flip(f.stun_answered, f.stun_answered_s2c);
    flip(f.stun_retransmissions, f.stun_retransmissions_s2c);
    f.server_ttl_min = f.server_ttl_max = -1;  // the far end's TTLs were not recorded
    for (auto& n : f.names) {
        if (n.source == "dns-initiator") n.source = "dns";
        else if (n.source == "dns") n.source = "dns-initiator";
    }
    return true;
}

bool FlowFacts::has_protocol_evidence() const noexcept {
    return contains(app, "stun") || contains(app, "turn") || contains(app, "dtls") || contains(app, "rtp") ||
           contains(app, "rtcp") || dtls_handshake || rtp_packets > 0 || channel_data > 0;
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

std::string_view to_string(Evidence e) noexcept {
    switch (e) {
        case Evidence::Sni: return "sni";
        case Evidence::Proxy: return "proxy";
        case Evidence::Dns: return "dns";
        case Evidence::TurnPeer: return "turn-peer";
        case Evidence::Protocol: return "protocol";
        case Evidence::PortOnly: return "port-only";
    }
    return "?";
}

std::string_view to_string(Verdict v) noexcept {
    switch (v) {
        case Verdict::Observed: return "observed";
        case Verdict::Blocked: return "blocked";
        case Verdict::Partial: return "partial";
        case Verdict::Inconclusive: return "inconclusive";
        case Verdict::NotExercised: return "not_exercised";
    }
    return "?";
}

FlowOutcome classify_flow(const FlowFacts& f, double capture_end, const std::set<int>& server_ttls,
                          const FlowContext& ctx) {
    FlowOutcome r;
    const auto split = [&] {
        r.reason = "flow table full: the other direction of this exchange was recorded as another flow";
        r.evidence = r.reason;
        return r;
    };
    // ICMP errors quoting the flow, unless the server answered anyway
    // (an ICMP error after a working exchange is noise, e.g. a late packet).
    if (f.icmp_errors > 0 && f.packets_s2c == 0) {
        r.outcome = Outcome::Blocked;
        r.reason = "icmp-" + std::to_string(f.icmp_type) + "-" + std::to_string(f.icmp_code);
        const std::string what = (f.icmp_family == 6 ? "ICMPv6 " : "ICMP ") + icmp_name(f.icmp_family, f.icmp_type, f.icmp_code);
        r.evidence = what + " from " + f.icmp_from;
        if (admin_prohibited(f.icmp_family, f.icmp_type, f.icmp_code))
            r.origin = "a firewall: " + f.icmp_from + " says administratively prohibited";
        else if (f.icmp_from == f.server_ip)
            r.origin = "the destination itself (" + f.icmp_from + "): the service is not there";
        else
            r.origin = "a router or firewall in between (" + f.icmp_from + ", not the destination)";
        return r;
    }
    if (f.transport == "tcp") {
        if (f.synack_count > 0 || (f.state == "OTH" && f.packets_s2c > 0 && f.packets_c2s > 0)) {
            r.outcome = Outcome::Observed;
            r.evidence = f.synack_count > 0 ? "TCP handshake answered (SYN-ACK)" : "data in both directions (handshake not captured)";
            return r;
        }
        if (f.state == "REJ" || f.rst_ttl >= 0) {
            r.outcome = Outcome::Blocked;
            r.reason = "reset";
            r.evidence = "SYN answered by RST (TTL " + std::to_string(f.rst_ttl) + ")";
            std::set<int> others = server_ttls;
            if (!others.empty() && !others.count(f.rst_ttl)) {
                r.origin = "likely a middlebox: the RST's TTL " + std::to_string(f.rst_ttl) +
                           " differs from the server's other packets (TTL " + std::to_string(*others.begin()) + ")";
            } else if (!others.empty()) {
                r.origin = "the destination (the RST's TTL matches the server's other packets): nothing listens there";
            } else {
                r.origin = "the destination or a firewall rejecting with RST (no other packets from that server to compare TTLs)";
            }
            return r;
        }
        if (ctx.split_by_eviction) return split();
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
    // UDP (and others): an answer in the other direction is an observation,
    // but each side is judged by its own STUN transactions: the client's
    // requests all unanswered while the far end's own checks arrive (and
    // nothing else comes back: no media, no DTLS) is the client's way out
    // being blocked, whatever comes in (RFC 8445 §7.2.5).
    const auto own = [](uint32_t total, uint32_t s2c) { return total - std::min(s2c, total); };
    const uint32_t requests = own(f.stun_requests, f.stun_requests_s2c);
    const uint32_t answered = own(f.stun_answered, f.stun_answered_s2c);
    const uint32_t retransmissions = own(f.stun_retransmissions, f.stun_retransmissions_s2c);
    const bool media = f.rtp_packets > 0 || f.dtls_handshake || f.channel_data > 0;
    const bool ours_unanswered = requests > 0 && answered == 0 && !media;
    if (f.packets_s2c > 0 && !ours_unanswered) {
        r.outcome = Outcome::Observed;
        r.evidence = f.stun_answered > 0 ? "STUN response received" : "UDP answered in the other direction";
        return r;
    }
    const std::string far_end =
        f.packets_s2c > 0 ? "; the far end's " + std::to_string(f.stun_requests_s2c) + " own request(s) arrived" : "";
    if (ctx.split_by_eviction) return split();
    // DHCP, DHCPv6, mDNS, SSDP, LLMNR: sent to a group, answered (if at all)
    // from another address.
    if (is_multicast_or_broadcast(f.server_ip)) {
        r.reason = "multicast/broadcast: no answer expected from " + f.server_ip;
        r.evidence = r.reason;
        return r;
    }
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
            r.origin = "silently dropped (a firewall drop rule, or the server is down)";
            return r;
        }
        if (waited >= kNoAnswerWaitS) {
            r.outcome = Outcome::Abandoned;
            r.reason = "abandoned";
            r.evidence = std::to_string(requests) + " STUN request(s) over " + fmt("%.2f", f.last_ts - f.first_ts) +
                         " s, never retransmitted, no response" + far_end + "; another STUN exchange of " + f.client_ip +
                         " succeeded: an ICE check its agent abandoned (RFC 8445 §7.2.5.3), not a block";
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
        r.origin = "silently dropped (a firewall drop rule, or nothing listens)";
        return r;
    }
    r.reason = "one-way UDP, too little to judge";
    r.evidence = r.reason;
    return r;
}

std::string outcome_column(const FlowOutcome& o) {
    std::string s(to_string(o.outcome));
    if (!o.reason.empty() && o.outcome == Outcome::Blocked) s += ":" + o.reason;
    return s;
}

FlowFacts facts_of(const flow::Flow& f, const store::FlowAppInfo& app) {
    // Column for column what store::Store::add_flow writes and
    // run_attribution reads back (NULLs read as their coalesce defaults).
    using flow::kFromClient;
    using flow::kFromServer;
    auto text_ip = [](const decode::IpAddr& a) {
        char buf[64];
        return std::string(buf, store::format_ip(a, buf, sizeof buf));
    };
    auto seconds = [](int64_t us) { return static_cast<double>(us) / 1e6; };
    FlowFacts r;
    r.id = f.id;
    r.stored_outcome = std::string(app.outcome);
    r.transport = f.proto == decode::kProtoTcp ? "tcp" : f.proto == decode::kProtoUdp ? "udp" : "";
    r.client_ip = text_ip(f.client_ip);
    r.server_ip = text_ip(f.server_ip);
    r.client_port = f.client_port;
    r.server_port = f.server_port;
    r.first_ts = seconds(f.first_ts_us);
    r.last_ts = seconds(f.last_ts_us);
    r.packets_c2s = f.packets[kFromClient];
    r.packets_s2c = f.packets[kFromServer];
    r.state = std::string(flow::to_string(f.state()));
    r.syn_count = f.tcp.syn;
    r.synack_count = f.tcp.synack;
    if (f.tcp.first_syn_us != 0) {
        r.first_syn_ts = seconds(f.tcp.first_syn_us);
        r.last_syn_ts = seconds(f.tcp.last_syn_us);
    }
    r.rst_ttl = f.tcp.rst[kFromServer] ? f.tcp.rst_ttl : -1;
    if (f.packets[kFromServer] != 0) {
        r.server_ttl_min = f.ttl_min[kFromServer];
        r.server_ttl_max = f.ttl_max[kFromServer];
    }
    r.icmp_errors = f.icmp_errors;
    if (f.icmp_errors != 0) {
        r.icmp_type = f.icmp_type;
        r.icmp_code = f.icmp_code;
        r.icmp_from = text_ip(f.icmp_from);
    }
    r.icmp_family = r.icmp_from.find(':') != std::string::npos ? 6 : 4;
    r.app = std::string(app.app);
    r.stun_requests = app.stun_requests;
    r.stun_answered = app.stun_answered;
    r.stun_errors = app.stun_errors;
    r.stun_retransmissions = app.stun_retransmissions;
    r.stun_ice_checks = app.stun_ice_checks;
    r.stun_requests_s2c = app.stun_requests_s2c;
    r.stun_answered_s2c = app.stun_answered_s2c;
    r.stun_retransmissions_s2c = app.stun_retransmissions_s2c;
    r.proxy_port = app.proxy_port;
    r.rtp_packets = app.rtp_packets;
    r.dtls_handshake = app.dtls_handshake;
    r.channel_data = app.channel_data;
    return r;
}

std::string provisional_outcome(const flow::Flow& f, const store::FlowAppInfo& app, double capture_end) {
    if (f.proto != decode::kProtoTcp && f.proto != decode::kProtoUdp) return "";
    FlowFacts facts = facts_of(f, app);
    orient_by_inside_host(facts);
    return outcome_column(classify_flow(facts, capture_end));
}

std::vector<FlowFacts::Name> effective_names(const FlowFacts& f) {
    // A TLS/QUIC SNI names its own flow: other names of the address (DNS
    // answers for other services on a shared address) do not apply.
    // So does the host a client asked its proxy for (the flow's name when
    // there is no SNI).
    std::vector<FlowFacts::Name> own;
    for (const auto& n : f.names)
        if (n.source == "sni") own.push_back(n);
    if (own.empty())
        for (const auto& n : f.names)
            if (n.source == "proxy") own.push_back(n);
    return own.empty() ? f.names : own;
}

std::vector<Match> match_flow(const FlowFacts& f, const Catalog& c, const std::set<uint16_t>& active_vendors) {
    std::vector<Match> out;
    const bool tcp = f.transport == "tcp";
    if (!tcp && f.transport != "udp") return out;
    const catalog::Transport t = tcp ? catalog::Transport::Tcp : catalog::Transport::Udp;
    // Ports: for a name of the server (the flow went out to it), an outbound
    // entry's ports are the server's, an inbound entry's ports are our side's
    // local port (the client's); for a name of the initiator (the vendor
    // opened the flow towards us), an inbound entry's ports are our local
    // port, which is the flow's server port.
    auto port_ok = [&](const Entry& e, uint32_t idx, bool initiator_named) {
        if (initiator_named) {
            return e.direction != catalog::Direction::Outbound && c.entry_has_port(idx, f.server_port);
        }
        switch (e.direction) {
            case catalog::Direction::Outbound: return c.entry_has_port(idx, f.service_port());
            case catalog::Direction::Inbound: return c.entry_has_port(idx, f.client_port);
            case catalog::Direction::Both:
                return c.entry_has_port(idx, f.service_port()) || c.entry_has_port(idx, f.client_port);
        }
        return false;
    };
    auto add = [&](uint32_t idx, Evidence ev, double conf, const std::string& name) {
        for (auto& m : out) {
            if (m.entry != idx) continue;
            if (conf > m.confidence) m = Match{idx, ev, conf, name};
            return;
        }
        out.push_back(Match{idx, ev, conf, name});
    };
    const auto names = effective_names(f);
    size_t dns_names = 0;
    for (const auto& n : names) dns_names += n.source == "dns";
    catalog::HostMatches hm;
    for (const auto& n : names) {
        const bool initiator = n.source == "dns-initiator";
        c.match_host(n.name, hm);
        for (uint32_t idx : hm.view()) {
            const Entry& e = c.entries()[idx];
            if (e.transport != t || !port_ok(e, idx, initiator)) continue;
            if (n.source == "sni") add(idx, Evidence::Sni, kConfidenceSni, n.name);
            else if (n.source == "proxy") add(idx, Evidence::Proxy, kConfidenceProxy, n.name);
            else if (n.source == "dns" || initiator)
                add(idx, Evidence::Dns, dns_names > 1 ? kConfidenceDnsShared : kConfidenceDns, n.name);
            else add(idx, Evidence::TurnPeer, kConfidenceTurnPeer, n.name);
        }
    }
    // Destination-ANY entries: only for flows no name explains, with protocol
    // evidence on the flow, and only for vendors active by name in the capture.
    const bool proto = f.has_protocol_evidence();
    if (proto && out.empty()) {
        c.match_any_destination(t, f.service_port(), hm);
        for (uint32_t idx : hm.view()) {
            const Entry& e = c.entries()[idx];
            if (active_vendors.count(e.vendor_index)) add(idx, Evidence::Protocol, kConfidenceProtocolAny, "");
        }
    }
    // A flow without a name on a named entry's port is only a hint, whatever
    // protocol it carries: with several vendors active, a peer's STUN check
    // on a high port would otherwise count for every vendor whose range
    // covers it (the lab's restrictive profile showed exactly that).
    if (names.empty()) {
        for (uint32_t idx = 0; idx < c.entries().size(); ++idx) {
            const Entry& e = c.entries()[idx];
            if (e.any_destination() || e.transport != t || !active_vendors.count(e.vendor_index) || e.third_party) continue;
            if (!port_ok(e, idx, false)) continue;
            if (f.service_port() != 443 && f.service_port() != 80) add(idx, Evidence::PortOnly, kConfidencePortOnly, "");
        }
    }
    std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) { return a.entry < b.entry; });
    return out;
}

std::vector<Gap> gap_vendors(const FlowFacts& f, const Catalog& c, const std::vector<Match>& matches) {
    std::vector<Gap> out;
    for (const auto& n : effective_names(f)) {
        const catalog::VendorMatches vm = c.vendor_for_host(n.name);
        for (uint16_t v : vm.view()) {
            bool matched = false;
            for (const auto& m : matches)
                matched |= decisive(m.evidence) && c.entries()[m.entry].vendor_index == v;
            const bool listed = std::any_of(out.begin(), out.end(), [v](const Gap& g) { return g.vendor == v; });
            if (!matched && !listed) out.push_back(Gap{v, n.name});
        }
    }
    return out;
}

void EntryAccumulator::add(const EntryFlow& ef) {
    auto keep = [](std::vector<uint64_t>& ids, uint64_t id) {
        if (ids.size() < kMaxEvidenceFlows) ids.push_back(id);
    };
    switch (ef.outcome.outcome) {
        case Outcome::Observed:
            ++observed;
            ports_observed.insert(ef.port);
            keep(observed_ids, ef.flow_id);
            break;
        case Outcome::Blocked:
            ++blocked;
            ports_blocked.insert(ef.port);
            reasons.insert(ef.outcome.reason);
            keep(blocked_ids, ef.flow_id);
            if (origin.empty()) {
                origin = ef.outcome.origin;
                first_blocked_evidence = ef.outcome.evidence;
            }
            break;
        case Outcome::Inconclusive:
            ++inconclusive;
            keep(inconclusive_ids, ef.flow_id);
            break;
        case Outcome::Abandoned:
            ++abandoned;
            keep(abandoned_ids, ef.flow_id);
            break;
    }
}

EntryVerdict EntryAccumulator::decide(uint32_t dns_failures, const std::string& dns_failure_detail) const {
    EntryVerdict v;
    v.flows_observed = observed;
    v.flows_blocked = blocked;
    v.flows_inconclusive = inconclusive;
    v.flows_abandoned = abandoned;
    v.ports_observed = ports_observed;
    v.origin = origin;
    // A port counts as blocked only if nothing got through on it.
    std::set<uint16_t> only_blocked;
    for (uint16_t p : ports_blocked)
        if (!ports_observed.count(p)) only_blocked.insert(p);
    v.ports_blocked = only_blocked;
    std::set<std::string> rs = reasons;
    if (dns_failures > 0 && observed == 0) rs.insert("dns-failure");
    v.reasons.assign(rs.begin(), rs.end());
    // "port 443", "ports 1080, 25000": words for a reader (the columns keep the lists).
    auto on_ports = [](const std::set<uint16_t>& s) {
        std::string t = s.size() == 1 ? "port " : "ports ";
        bool first = true;
        for (uint16_t p : s) {
            t += (first ? "" : ", ") + std::to_string(p);
            first = false;
        }
        return t;
    };
    if (observed > 0 && !only_blocked.empty()) {
        v.verdict = Verdict::Partial;
        v.why = "through on " + on_ports(ports_observed) + "; blocked on " + on_ports(only_blocked) + " (" +
                first_blocked_evidence + ")";
    } else if (observed > 0) {
        v.verdict = Verdict::Observed;
        v.why = std::to_string(observed) + " flow(s) got through on " + on_ports(ports_observed);
        if (blocked > 0) v.why += "; " + std::to_string(blocked) + " other attempt(s) on the same port(s) failed";
        v.reasons.clear();  // nothing is blocked: the failures' reasons would read as a block
    } else if (blocked > 0) {
        v.verdict = Verdict::Blocked;
        v.why = first_blocked_evidence;
    } else if (dns_failures > 0) {
        v.verdict = Verdict::Blocked;
        v.why = dns_failure_detail;
        v.origin = "name resolution (a DNS filter, or the name does not exist)";
    } else if (inconclusive > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = std::to_string(inconclusive) + " attempt(s) too short to judge";
    } else if (abandoned > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = std::to_string(abandoned) +
                " ICE check(s) sent once and abandoned by their agent while another pair of the call succeeded: "
                "not evidence either way";
    } else {
        v.verdict = Verdict::NotExercised;
        v.why = "no traffic for it in the capture";
    }
    if (abandoned > 0 && v.verdict != Verdict::Inconclusive)
        v.why += "; " + std::to_string(abandoned) + " abandoned ICE check(s) not counted";
    for (const auto* ids : {&blocked_ids, &observed_ids, &inconclusive_ids, &abandoned_ids})
        v.evidence_flows.insert(v.evidence_flows.end(), ids->begin(), ids->end());
    return v;
}

EntryVerdict decide_entry(const std::vector<EntryFlow>& flows, uint32_t dns_failures, const std::string& dns_failure_detail) {
    EntryAccumulator acc;
    for (const auto& ef : flows) acc.add(ef);
    return acc.decide(dns_failures, dns_failure_detail);
}

std::vector<ProductConclusion> conclude_products(const Catalog& c, const std::vector<EntryVerdict>& v,
                                                 const std::set<uint16_t>& active_vendors) {
    struct Acc {
        ProductConclusion pc;
        bool any_exercised = false;
        std::vector<std::string> observed, blocked, partial;
        bool udp_blocked = false, udp_observed = false, tcp_observed = false;
        bool prefers_udp = false;
    };
    std::map<std::string, Acc> acc;
    for (uint32_t i = 0; i < c.entries().size(); ++i) {
        const Entry& e = c.entries()[i];
        if (!active_vendors.count(e.vendor_index)) continue;
        const std::string key = e.vendor + "\x1f" + e.edition + "\x1f" + e.product;
        Acc& a = acc[key];
        a.pc.vendor = e.vendor;
        a.pc.product = e.product;
        a.pc.edition = e.edition;
        const auto& doc = c.document_of(e);
        a.prefers_udp = doc.prefers && doc.prefers->preferred == catalog::Transport::Udp;
        const EntryVerdict& ev = v[i];
        const std::string label = e.service + " (" + std::string(catalog::to_string(e.transport)) + ")";
        switch (ev.verdict) {
            case Verdict::Observed:
                a.any_exercised = true;
                a.observed.push_back(label);
                (e.transport == catalog::Transport::Udp ? a.udp_observed : a.tcp_observed) = true;
                break;
            case Verdict::Partial:
                a.any_exercised = true;
                a.partial.push_back(label);
                (e.transport == catalog::Transport::Udp ? a.udp_observed : a.tcp_observed) = true;
                break;
            case Verdict::Blocked:
                a.any_exercised = true;
                if (e.required || true) a.blocked.push_back(label);
                if (e.transport == catalog::Transport::Udp) a.udp_blocked = true;
                break;
            case Verdict::Inconclusive: a.any_exercised = true; break;
            case Verdict::NotExercised: break;
        }
    }
    auto join = [](const std::vector<std::string>& xs) {
        std::string s;
        for (const auto& x : xs) s += (s.empty() ? "" : "; ") + x;
        return s;
    };
    std::vector<ProductConclusion> out;
    for (auto& [key, a] : acc) {
        if (!a.any_exercised) {
            a.pc.conclusion = "not exercised";
            a.pc.detail = "no traffic for this product in the capture";
        } else if (a.blocked.empty() && a.partial.empty()) {
            if (a.observed.empty()) {
                a.pc.conclusion = "inconclusive";
                a.pc.detail = "attempts were too short to judge";
            } else {
                a.pc.conclusion = "ready";
                a.pc.detail = "everything exercised got through: " + join(a.observed);
            }
        } else if (a.observed.empty() && a.partial.empty()) {
            a.pc.conclusion = "broken";
            a.pc.detail = "nothing got through; blocked: " + join(a.blocked);
        } else {
            a.pc.conclusion = "works, degraded";
            std::vector<std::string> parts;
            if (!a.observed.empty()) parts.push_back("in use: " + join(a.observed));
            if (!a.partial.empty()) parts.push_back("partly through: " + join(a.partial));
            if (!a.blocked.empty()) parts.push_back("blocked: " + join(a.blocked));
            std::string d = join(parts);
            if (a.udp_blocked && !a.udp_observed && a.tcp_observed && a.prefers_udp)
                d += " — media falls back to TCP/TLS although the vendor's page prefers UDP for call quality";
            a.pc.detail = d;
        }
        out.push_back(a.pc);
    }
    // Products the vendor says cannot be allow-listed, for active vendors.
    for (const auto& p : c.products()) {
        if (!active_vendors.count(p.vendor_index)) continue;
        out.push_back(ProductConclusion{p.vendor, p.product, p.edition, "cannot be allow-listed", p.advice});
    }
    return out;
}

// ---------------------------------------------------------------------------
// Loading facts and writing results.

namespace {

class Db {
public:
    explicit Db(store::Store& s) : s_(s), db_(s.db()) {}
    sqlite3_stmt* prep(const char* sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK)
            throw store::StoreError(store::StoreErrorKind::Other, s_.path() + ": " + sqlite3_errmsg(db_));
        return st;
    }
    void step_done(sqlite3_stmt* st, const char* what) {
        const int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            const std::string msg = s_.path() + ": " + what + ": " + sqlite3_errmsg(db_);
            if ((rc & 0xFF) == SQLITE_FULL) throw store::StoreError(store::StoreErrorKind::Full, msg);
            throw store::StoreError(store::StoreErrorKind::Other, msg);
        }
        sqlite3_reset(st);
    }
    store::Store& s_;
    sqlite3* db_;
};

std::string col_text(sqlite3_stmt* st, int i) {
    const auto* t = sqlite3_column_text(st, i);
    return t ? reinterpret_cast<const char*>(t) : "";
}

void bind_text(sqlite3_stmt* st, int i, std::string_view s) {
    sqlite3_bind_text(st, i, s.empty() ? "" : s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

std::string ports_text(const Entry& e) {
    std::string s;
    for (const auto& r : e.ports) {
        if (!s.empty()) s += ",";
        s += r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + "-" + std::to_string(r.hi);
    }
    return s;
}

// One matched flow's contribution to an entry, by the entry's direction, or
// none when the flow says nothing about it. An outbound entry is judged on
// the flow's own outcome at the server's port. An inbound entry (local ports
// the vendor sends to) is judged only on traffic the vendor sent to those
// local ports: a flow the vendor opened towards us (its name is the
// initiator's) or the vendor's answers to our local port. Inbound traffic a
// firewall drops never reaches an inside capture, so an inbound entry is
// observed or not exercised; an outbound attempt from a local port in the
// range that failed at its remote port is no evidence about it.
std::optional<EntryFlow> entry_flow(const FlowFacts& f, const FlowOutcome& fo, catalog::Direction dir, bool named_initiator) {
    const FlowOutcome arrived{Outcome::Observed, "", "", "inbound packets from the vendor reached the inside"};
    const bool arrived_unrefused = f.icmp_errors == 0;
    switch (dir) {
        case catalog::Direction::Outbound: return EntryFlow{f.id, f.service_port(), fo};
        case catalog::Direction::Inbound:
            if (named_initiator) {
                if (f.packets_c2s > 0 && arrived_unrefused) return EntryFlow{f.id, f.server_port, arrived};
                return std::nullopt;
            }
            if (f.packets_s2c > 0) return EntryFlow{f.id, f.client_port, arrived};
            return std::nullopt;
        case catalog::Direction::Both:
            // A flow the vendor opened got through inbound whether or not we
            // answered; one we opened is judged like an outbound one.
            if (named_initiator && f.packets_c2s > 0 && arrived_unrefused) return EntryFlow{f.id, f.server_port, arrived};
            return EntryFlow{f.id, f.service_port(), fo};
    }
    return std::nullopt;
}

std::string destinations_text(const Entry& e) {
    std::string s;
    for (const auto& d : e.destinations) s += (s.empty() ? "" : " ") + d.as_written;
    return s;
}

}  // namespace

RunVerdicts run_attribution(store::Store& store, int64_t run_id, const Catalog& c) {
    store.create_reader_indexes();  // commits the open batch too
    Db db(store);
    RunVerdicts out;
    // Capture end.
    double capture_end = 0;
    int64_t evicted_full = 0;
    {
        sqlite3_stmt* st = db.prep("SELECT coalesce(last_ts, 0), flows_evicted_full FROM run WHERE id=?");
        sqlite3_bind_int64(st, 1, run_id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            capture_end = sqlite3_column_double(st, 0);
            evicted_full = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
    }
    // Hosts with a STUN request of their own that was answered: a pair of
    // their call got through, so their single unanswered checks elsewhere
    // were abandoned.
    std::set<std::string> stun_succeeded;
    {
        sqlite3_stmt* st = db.prep(
            "SELECT client_ip FROM flow WHERE run_id=?1 AND stun_answered > stun_answered_s2c "
            "UNION SELECT server_ip FROM flow WHERE run_id=?1 AND stun_answered_s2c > 0");
        sqlite3_bind_int64(st, 1, run_id);
        while (sqlite3_step(st) == SQLITE_ROW) stun_succeeded.insert(col_text(st, 0));
        sqlite3_finalize(st);
    }
    // With a full flow table, an evicted flow's answer comes back as a new
    // flow of the same 5-tuple: rows lacking a direction that another row of
    // their 5-tuple carries cannot say "no answer". Only looked for when the
    // table overflowed (idle-timeout splits are long silences, not answers).
    std::set<uint64_t> split_flows;
    if (evicted_full > 0) {
        sqlite3_stmt* st = db.prep(
            "WITH k AS (SELECT id, transport, packets_c2s > 0 AS c2s, packets_s2c > 0 AS s2c, "
            "client_ip || ' ' || client_port AS a, server_ip || ' ' || server_port AS b FROM flow WHERE run_id=?) "
            "SELECT group_concat(id || ' ' || (a < b) || ' ' || c2s || ' ' || s2c, ',') FROM k "
            "GROUP BY transport, min(a, b), max(a, b) HAVING count(*) > 1");
        sqlite3_bind_int64(st, 1, run_id);
        struct Row {
            uint64_t id;
            int client_low, c2s, s2c;
        };
        std::vector<Row> rows;
        while (sqlite3_step(st) == SQLITE_ROW) {
            rows.clear();
            const std::string g = col_text(st, 0);
            bool low_sends = false, high_sends = false;  // from the lower / higher endpoint, in any row
            for (size_t at = 0; at < g.size();) {
                size_t end = g.find(',', at);
                if (end == std::string::npos) end = g.size();
                Row r{};
                unsigned long long id = 0;
                if (std::sscanf(g.c_str() + at, "%llu %d %d %d", &id, &r.client_low, &r.c2s, &r.s2c) == 4) {
                    r.id = id;
                    rows.push_back(r);
                    (r.client_low ? low_sends : high_sends) |= r.c2s != 0;
                    (r.client_low ? high_sends : low_sends) |= r.s2c != 0;
                }
                at = end + 1;
            }
            for (const Row& r : rows)
                if (!r.s2c && (r.client_low ? high_sends : low_sends)) split_flows.insert(r.id);
        }
        sqlite3_finalize(st);
    }
    // Flows are read a page at a time (ordered by id) with their names, so
    // attribution's memory does not grow with the number of flows in the run.
    // 1024 flows (about 400 KiB) reused page after page: a page of 8192 was
    // 3 MiB of fresh memory, and first touches are costly page faults here.
    constexpr int kPageFlows = 1024;
    auto load_page = [&](uint64_t after_id, std::vector<FlowFacts>& flows) {
        flows.clear();
        flows.reserve(kPageFlows);  // once: growing it page by page cost ~1.5 % of a run (fresh pages zeroed)
        sqlite3_stmt* st = db.prep(
            "SELECT id, transport, client_ip, client_port, server_ip, server_port, first_ts, last_ts, packets_c2s, "
            "packets_s2c, state, syn_count, synack_count, coalesce(first_syn_ts,0), coalesce(last_syn_ts,0), "
            "coalesce(rst_ttl,-1), coalesce(server_ttl_min,-1), coalesce(server_ttl_max,-1), icmp_errors, "
            "coalesce(icmp_type,-1), coalesce(icmp_code,-1), coalesce(icmp_from,''), app, stun_requests, stun_answered, "
            "stun_errors, stun_retransmissions, rtp_packets, dtls_handshake, channel_data, coalesce(outcome,''), "
            "stun_ice_checks, stun_requests_s2c, stun_answered_s2c, stun_retransmissions_s2c, proxy_port "
            "FROM flow WHERE run_id=? AND transport IN ('tcp','udp') AND id > ? ORDER BY id LIMIT ?");
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(after_id));
        sqlite3_bind_int(st, 3, kPageFlows);
        while (sqlite3_step(st) == SQLITE_ROW) {
            FlowFacts& f = flows.emplace_back();
            int i = 0;
            f.id = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
            f.transport = col_text(st, i++);
            f.client_ip = col_text(st, i++);
            f.client_port = static_cast<uint16_t>(sqlite3_column_int(st, i++));
            f.server_ip = col_text(st, i++);
            f.server_port = static_cast<uint16_t>(sqlite3_column_int(st, i++));
            f.first_ts = sqlite3_column_double(st, i++);
            f.last_ts = sqlite3_column_double(st, i++);
            f.packets_c2s = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
            f.packets_s2c = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
            f.state = col_text(st, i++);
            f.syn_count = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.synack_count = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.first_syn_ts = sqlite3_column_double(st, i++);
            f.last_syn_ts = sqlite3_column_double(st, i++);
            f.rst_ttl = sqlite3_column_int(st, i++);
            f.server_ttl_min = sqlite3_column_int(st, i++);
            f.server_ttl_max = sqlite3_column_int(st, i++);
            f.icmp_errors = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.icmp_type = sqlite3_column_int(st, i++);
            f.icmp_code = sqlite3_column_int(st, i++);
            f.icmp_from = col_text(st, i++);
            f.icmp_family = f.icmp_from.find(':') != std::string::npos ? 6 : 4;
            f.app = col_text(st, i++);
            f.stun_requests = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.stun_answered = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.stun_errors = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.stun_retransmissions = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.rtp_packets = static_cast<uint64_t>(sqlite3_column_int64(st, i++));
            f.dtls_handshake = sqlite3_column_int(st, i++) != 0;
            f.channel_data = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.stored_outcome = col_text(st, i++);
            f.stun_ice_checks = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.stun_requests_s2c = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.stun_answered_s2c = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.stun_retransmissions_s2c = static_cast<uint32_t>(sqlite3_column_int(st, i++));
            f.proxy_port = static_cast<uint16_t>(sqlite3_column_int(st, i++));
        }
        sqlite3_finalize(st);
        if (flows.empty()) return;
        st = db.prep("SELECT flow_id, name, source FROM flow_name WHERE run_id=? AND flow_id BETWEEN ? AND ? "
                     "ORDER BY flow_id, source DESC, name");
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(flows.front().id));
        sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(flows.back().id));
        // Both are in id order: one cursor walks the page's flows.
        size_t at = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            const auto id = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
            while (at < flows.size() && flows[at].id < id) ++at;
            if (at < flows.size() && flows[at].id == id) flows[at].names.push_back({col_text(st, 1), col_text(st, 2)});
        }
        sqlite3_finalize(st);
    };
    // Failed DNS queries per name, and vendors active by name. The rows come
    // grouped by name (the dns_query_run index gives that order without a
    // sort), so each name is matched against the catalog once and no row
    // costs an allocation. A name that resolved once has no failures; any
    // other query that got no answer or an error code is one.
    std::map<std::string, std::pair<uint32_t, std::string>> dns_failed;  // qname -> count, detail
    {
        sqlite3_stmt* st =
            db.prep("SELECT qname, answered, coalesce(rcode,''), answers FROM dns_query WHERE run_id=? ORDER BY qname");
        sqlite3_bind_int64(st, 1, run_id);
        std::string name, why;
        bool in_group = false, resolved = false;
        uint32_t failures = 0;
        const auto end_group = [&] {
            if (!in_group) return;
            const catalog::VendorMatches vm = c.vendor_for_host(name);
            for (uint16_t v : vm.view()) out.active_vendors.insert(v);
            if (!resolved && failures > 0) dns_failed[name] = {failures, "query for " + name + ": " + why};
        };
        while (sqlite3_step(st) == SQLITE_ROW) {
            const auto* q = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
            const std::string_view qname = q ? std::string_view(q, static_cast<size_t>(sqlite3_column_bytes(st, 0))) : "";
            if (!in_group || qname != name) {
                end_group();
                name.assign(qname);
                in_group = true;
                resolved = false;
                failures = 0;
            }
            const bool answered = sqlite3_column_int(st, 1) != 0;
            const auto* rc = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
            const std::string_view rcode = rc ? rc : "";
            const bool noerror = rcode == "NOERROR";
            if (answered && noerror) {
                if (sqlite3_column_int(st, 3) > 0) resolved = true;
                continue;  // an empty answer (e.g. no AAAA) is not a failure
            }
            ++failures;
            why = !answered ? "no DNS response" : "DNS " + std::string(rcode);  // the last one is reported
        }
        end_group();
        sqlite3_finalize(st);
    }
    {
        sqlite3_stmt* st = db.prep("SELECT DISTINCT name FROM flow_name WHERE run_id=?");
        sqlite3_bind_int64(st, 1, run_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const catalog::VendorMatches vm = c.vendor_for_host(col_text(st, 0));
            for (uint16_t v : vm.view()) out.active_vendors.insert(v);
        }
        sqlite3_finalize(st);
    }
    // TTLs seen from a server on its flows that completed a handshake or
    // answered: looked up only for flows answered by a RST (forged-RST check).
    sqlite3_stmt* ttl_q = db.prep(
        "SELECT DISTINCT server_ttl_min, server_ttl_max FROM flow WHERE run_id=? AND server_ip=? AND "
        "server_ttl_min IS NOT NULL AND (synack_count > 0 OR (transport='udp' AND packets_s2c > 0))");
    auto server_ttls = [&](const std::string& ip) {
        std::set<int> ttls;
        sqlite3_reset(ttl_q);
        sqlite3_bind_int64(ttl_q, 1, run_id);
        bind_text(ttl_q, 2, ip);
        while (sqlite3_step(ttl_q) == SQLITE_ROW) {
            ttls.insert(sqlite3_column_int(ttl_q, 0));
            ttls.insert(sqlite3_column_int(ttl_q, 1));
        }
        return ttls;
    };

    // Attribute.
    const auto entries = c.entries();
    std::vector<EntryAccumulator> per_entry(entries.size());
    sqlite3_stmt* ins_match = db.prep(
        "INSERT OR REPLACE INTO flow_match (run_id, flow_id, entry_id, evidence, confidence, name, counted) VALUES (?,?,?,?,?,?,?)");
    sqlite3_stmt* upd_outcome = db.prep("UPDATE flow SET outcome=? WHERE run_id=? AND id=?");
    sqlite3_stmt* ins_gap = db.prep("INSERT INTO unmatched_flow (run_id, flow_id, vendor, name) VALUES (?,?,?,?)");
    sqlite3_exec(db.db_, "BEGIN", nullptr, nullptr, nullptr);
    try {
        // Attribution may run many times on a live run: start from a clean slate.
        for (const char* sql : {"DELETE FROM flow_match WHERE run_id=?", "DELETE FROM unmatched_flow WHERE run_id=?",
                                "DELETE FROM verdict WHERE run_id=?"}) {
            sqlite3_stmt* del = db.prep(sql);
            sqlite3_bind_int64(del, 1, run_id);
            db.step_done(del, "clearing earlier attribution");
            sqlite3_finalize(del);
        }
        std::vector<FlowFacts> flows;
        for (uint64_t after = 0;;) {
            load_page(after, flows);
            if (flows.empty()) break;
            after = flows.back().id;
            for (auto& f : flows) {
                ++out.flows;
                orient_by_inside_host(f);
                FlowContext ctx;
                ctx.host_pair_succeeded = stun_succeeded.count(f.client_ip) > 0;
                ctx.split_by_eviction = split_flows.count(f.id) > 0;
                const FlowOutcome fo = classify_flow(
                    f, capture_end, f.rst_ttl >= 0 && f.synack_count == 0 ? server_ttls(f.server_ip) : std::set<int>{}, ctx);
                const auto matches = match_flow(f, c, out.active_vendors);
                bool named_initiator = false;
                for (const auto& n : f.names) named_initiator |= n.source == "dns-initiator";
                bool counted_any = false;
                for (const auto& m : matches) {
                    const Entry& e = entries[m.entry];
                    const std::optional<EntryFlow> ef = entry_flow(f, fo, e.direction, named_initiator);
                    // Third-party names (a CDN on the vendor's list) never show
                    // that the vendor is in use: they count for its entry only
                    // when the vendor is active by its own names.
                    const bool counted = decisive(m.evidence) && ef.has_value() &&
                                         (!e.third_party || out.active_vendors.count(e.vendor_index) > 0);
                    counted_any |= counted;
                    if (counted) per_entry[m.entry].add(*ef);
                    sqlite3_bind_int64(ins_match, 1, run_id);
                    sqlite3_bind_int64(ins_match, 2, static_cast<sqlite3_int64>(f.id));
                    bind_text(ins_match, 3, entries[m.entry].id);
                    bind_text(ins_match, 4, to_string(m.evidence));
                    sqlite3_bind_double(ins_match, 5, m.confidence);
                    bind_text(ins_match, 6, m.name);
                    sqlite3_bind_int(ins_match, 7, counted ? 1 : 0);
                    db.step_done(ins_match, "writing a flow match");
                }
                if (counted_any) ++out.matched_flows;
                const auto gaps = gap_vendors(f, c, matches);
                for (const Gap& g : gaps) {
                    sqlite3_bind_int64(ins_gap, 1, run_id);
                    sqlite3_bind_int64(ins_gap, 2, static_cast<sqlite3_int64>(f.id));
                    bind_text(ins_gap, 3, c.vendors()[g.vendor]);
                    bind_text(ins_gap, 4, g.name);
                    db.step_done(ins_gap, "writing an unmatched flow");
                }
                if (!gaps.empty()) ++out.vendor_gap_flows;
                else if (!counted_any) ++out.other_flows;
                const std::string outcome = outcome_column(fo);
                if (outcome != f.stored_outcome) {  // rewriting a row costs ~2 µs; most stand between passes
                    bind_text(upd_outcome, 1, outcome);
                    sqlite3_bind_int64(upd_outcome, 2, run_id);
                    sqlite3_bind_int64(upd_outcome, 3, static_cast<sqlite3_int64>(f.id));
                    db.step_done(upd_outcome, "writing a flow outcome");
                    ++out.outcomes_written;
                }
            }
        }
        // Verdicts.
        out.entries.resize(entries.size());
        sqlite3_stmt* ins_entry = db.prep(
            "INSERT OR REPLACE INTO catalog_entry (run_id, entry_id, vendor, product, edition, document_date, service, "
            "transport, ports, destinations, direction, required, conditions, source_file, source_section) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        sqlite3_stmt* ins_verdict = db.prep(
            "INSERT OR REPLACE INTO verdict (run_id, entry_id, verdict, reasons, flows_observed, flows_blocked, "
            "flows_inconclusive, ports_observed, ports_blocked, evidence_flows, origin, why) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
        for (uint32_t i = 0; i < entries.size(); ++i) {
            const Entry& e = entries[i];
            uint32_t failures = 0;
            std::string detail;
            catalog::HostMatches hm;
            for (const auto& [q, fd] : dns_failed) {
                c.match_host(q, hm);
                if (std::find(hm.view().begin(), hm.view().end(), i) != hm.view().end()) {
                    failures += fd.first;
                    if (detail.empty()) detail = fd.second;
                }
            }
            EntryVerdict ev = per_entry[i].decide(failures, detail);
            int k = 1;
            sqlite3_bind_int64(ins_entry, k++, run_id);
            bind_text(ins_entry, k++, e.id);
            bind_text(ins_entry, k++, e.vendor);
            bind_text(ins_entry, k++, e.product);
            bind_text(ins_entry, k++, e.edition);
            bind_text(ins_entry, k++, e.document_date);
            bind_text(ins_entry, k++, e.service);
            bind_text(ins_entry, k++, catalog::to_string(e.transport));
            bind_text(ins_entry, k++, ports_text(e));
            bind_text(ins_entry, k++, destinations_text(e));
            bind_text(ins_entry, k++, catalog::to_string(e.direction));
            sqlite3_bind_int(ins_entry, k++, e.required ? 1 : 0);
            bind_text(ins_entry, k++, catalog::describe_conditions(e.conditions));
            bind_text(ins_entry, k++, e.source.file);
            bind_text(ins_entry, k++, e.source.section);
            db.step_done(ins_entry, "writing a catalog entry");
            std::string reasons, po, pb, ids;
            for (const auto& r : ev.reasons) reasons += (reasons.empty() ? "" : ",") + r;
            for (uint16_t p : ev.ports_observed) po += (po.empty() ? "" : ",") + std::to_string(p);
            for (uint16_t p : ev.ports_blocked) pb += (pb.empty() ? "" : ",") + std::to_string(p);
            for (uint64_t id : ev.evidence_flows) ids += (ids.empty() ? "" : ",") + std::to_string(id);
            k = 1;
            sqlite3_bind_int64(ins_verdict, k++, run_id);
            bind_text(ins_verdict, k++, e.id);
            bind_text(ins_verdict, k++, to_string(ev.verdict));
            bind_text(ins_verdict, k++, reasons);
            sqlite3_bind_int(ins_verdict, k++, static_cast<int>(ev.flows_observed));
            sqlite3_bind_int(ins_verdict, k++, static_cast<int>(ev.flows_blocked));
            sqlite3_bind_int(ins_verdict, k++, static_cast<int>(ev.flows_inconclusive));
            bind_text(ins_verdict, k++, po);
            bind_text(ins_verdict, k++, pb);
            bind_text(ins_verdict, k++, ids);
            bind_text(ins_verdict, k++, ev.origin);
            bind_text(ins_verdict, k++, ev.why);
            db.step_done(ins_verdict, "writing a verdict");
            out.entries[i] = std::move(ev);
        }
        sqlite3_finalize(ins_entry);
        sqlite3_finalize(ins_verdict);
        out.products = conclude_products(c, out.entries, out.active_vendors);
        sqlite3_stmt* ins_prod = db.prep(
            "INSERT INTO product_verdict (run_id, vendor, product, edition, conclusion, detail) VALUES (?,?,?,?,?,?)");
        sqlite3_stmt* del_prod = db.prep("DELETE FROM product_verdict WHERE run_id=?");
        sqlite3_bind_int64(del_prod, 1, run_id);
        db.step_done(del_prod, "clearing product verdicts");
        sqlite3_finalize(del_prod);
        for (const auto& p : out.products) {
            sqlite3_bind_int64(ins_prod, 1, run_id);
            bind_text(ins_prod, 2, p.vendor);
            bind_text(ins_prod, 3, p.product);
            bind_text(ins_prod, 4, p.edition);
            bind_text(ins_prod, 5, p.conclusion);
            bind_text(ins_prod, 6, p.detail);
            db.step_done(ins_prod, "writing a product verdict");
        }
        sqlite3_finalize(ins_prod);
        sqlite3_stmt* upd_run = db.prep("UPDATE run SET catalog_digest=? WHERE id=?");
        bind_text(upd_run, 1, c.digest());
        sqlite3_bind_int64(upd_run, 2, run_id);
        db.step_done(upd_run, "writing the catalog digest");
        sqlite3_finalize(upd_run);
    } catch (...) {
        sqlite3_finalize(ttl_q);
        sqlite3_finalize(ins_match);
        sqlite3_finalize(upd_outcome);
        sqlite3_finalize(ins_gap);
        sqlite3_exec(db.db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    sqlite3_finalize(ttl_q);
    sqlite3_finalize(ins_match);
    sqlite3_finalize(upd_outcome);
    sqlite3_finalize(ins_gap);
    if (sqlite3_exec(db.db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        const std::string msg = store.path() + ": committing verdicts: " + sqlite3_errmsg(db.db_);
        sqlite3_exec(db.db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw store::StoreError(store::StoreErrorKind::Other, msg);
    }
    return out;
}

}  // namespace callwall::attrib
