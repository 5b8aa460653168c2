// A flow's row from the flow table's record of it and its application
// summary. See facts/flow_facts.hpp.
#include "decode/packet.hpp"
#include "facts/flow_facts.hpp"
#include "flow/flow_table.hpp"
#include "util/clock.hpp"

namespace callwall::facts {
namespace {

std::string_view transport_name(uint8_t proto) noexcept {
    switch (proto) {
        case decode::kProtoTcp: return "tcp";
        case decode::kProtoUdp: return "udp";
        case decode::kProtoIcmp: return "icmp";
        case decode::kProtoIcmp6: return "icmp6";
        default: return "ip";
    }
}

// flow::TcpTrack's ACK facts as the row's acked_s2c. After a SYN the
// client's ACK proves the SYN-ACK (0 bytes past it at least); without a SYN
// only an ACK number that moved on proves anything.
int32_t acked_s2c(const flow::TcpTrack& t) noexcept {
    if (!t.client_acked) return -1;
    const auto n = static_cast<int32_t>(t.ack_max - t.ack_base);
    if (t.syn > 0 || t.synack > 0) return n > 0 ? n : 0;
    return n > 0 ? n : -1;
}

}  // namespace

void record_of(const flow::Flow& f, const FlowAppInfo& app, FlowRecord& out) noexcept {
    using flow::kFromClient;
    using flow::kFromServer;
    const auto text = [](const decode::IpAddr& a, char(&buf)[48]) {
        return std::string_view(buf, decode::format_ip(a, buf, sizeof buf));
    };
    out.id = f.id;
    out.transport = transport_name(f.proto);
    out.client_ip = text(f.client_ip, out.client_ip_text_);
    out.client_port = f.client_port;
    out.server_ip = text(f.server_ip, out.server_ip_text_);
    out.server_port = f.server_port;
    out.initiator_guessed = f.initiator_guessed;
    out.first_ts = util::us_to_s(f.first_ts_us);
    out.last_ts = util::us_to_s(f.last_ts_us);
    out.packets_c2s = f.packets[kFromClient];
    out.bytes_c2s = f.bytes[kFromClient];
    out.packets_s2c = f.packets[kFromServer];
    out.bytes_s2c = f.bytes[kFromServer];
    out.state = flow::to_string(f.state());
    out.syn_count = f.tcp.syn;
    out.synack_count = f.tcp.synack;
    const bool syn = f.tcp.first_syn_us != 0;
    out.first_syn_ts = syn ? util::us_to_s(f.tcp.first_syn_us) : 0;
    out.last_syn_ts = syn ? util::us_to_s(f.tcp.last_syn_us) : 0;
    out.rst_ttl = f.tcp.rst[kFromServer] ? int16_t{f.tcp.rst_ttl} : int16_t{-1};
    const bool answered = f.packets[kFromServer] != 0;
    out.server_ttl_min = answered ? int16_t{f.ttl_min[kFromServer]} : int16_t{-1};
    out.server_ttl_max = answered ? int16_t{f.ttl_max[kFromServer]} : int16_t{-1};
    out.later_fragments = f.later_fragments;
    out.icmp_errors = f.icmp_errors;
    const bool icmp = f.icmp_errors != 0;
    out.icmp_type = icmp ? int16_t{f.icmp_type} : int16_t{-1};
    out.icmp_code = icmp ? int16_t{f.icmp_code} : int16_t{-1};
    out.icmp_from = icmp ? text(f.icmp_from, out.icmp_from_text_) : std::string_view();
    out.app = app.app;
    out.name = app.name;
    out.name_source = app.name_source;
    out.outcome = app.outcome;
    copy_app_facts(app, out);
    out.link_broadcast = f.link_broadcast;
    out.roles = app.roles;
    out.acked_s2c = acked_s2c(f.tcp);
    out.interfaces = f.interfaces;
}

bool FlowFacts::has_protocol_evidence() const noexcept {
    const auto has = [this](std::string_view part) { return app.find(part) != std::string::npos; };
    return has("stun") || has("turn") || has("dtls") || has("rtp") || has("rtcp") || dtls_handshake ||
           rtp_packets > 0 || channel_data > 0;
}

}  // namespace callwall::facts
