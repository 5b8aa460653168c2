// Flows, vendor names and vendor DNS answers as event lines. See
// events/event_sink.hpp.
#include "events/event_sink.hpp"

#include <cstdio>

#include "events/record_json.hpp"
#include "util/clock.hpp"

namespace callwall::events {

std::string EventSink::vendor_of(std::string_view name) const {
    std::string out;
    if (!catalog_ || name.empty()) return out;
    const std::span<const std::string> vendors = catalog_->vendors();
    for (uint16_t v : catalog_->vendor_for_host(name).view()) {
        if (v >= vendors.size()) continue;
        if (!out.empty()) out += ',';
        out += vendors[v];
    }
    return out;
}

void EventSink::write_line(const std::string& line) noexcept { log_.write(line); }

void EventSink::dns_answer(const facts::DnsAnswerFact& f) {
    if (!log_.ok()) return;
    const std::string vendor = vendor_of(f.qname);
    if (vendor.empty()) return;
    const records::DnsAnswer& row = answers_.of(f);
    DnsEvent e;
    e.ts = row.ts;
    e.run_id = run_id_;
    e.client = std::string(row.client_ip);
    e.qname = std::string(row.qname);
    e.rrtype = std::string(row.rrtype);
    e.answer = f.has_address ? std::string(row.answer) : std::string(facts::dns_target(f));
    e.ttl = f.ttl_s;
    e.vendor = vendor;
    append_columns(records::DnsAnswer::kColumns, row.values(), kDnsViewedColumns, e.columns);
    write_line(to_json(e));
}

void EventSink::flow_ended(const flow::Flow& f, const facts::FlowRecord& record) noexcept {
    try {
        ++flows_;
        if (!log_.ok()) return;  // the stream closed: nothing more to format
        FlowEvent e;
        e.ts = util::us_to_s(f.first_ts_us);
        e.run_id = run_id_;
        e.flow_id = f.id;
        e.orig_h = f.client_ip;
        e.resp_h = f.server_ip;
        e.orig_p = f.client_port;
        e.resp_p = f.server_port;
        e.proto = f.proto;
        e.service = zeek_service(record.app);
        e.app = std::string(record.app);
        e.duration = util::us_to_s(f.last_ts_us - f.first_ts_us);
        e.orig_pkts = f.packets[flow::kFromClient];
        e.orig_bytes = f.payload_bytes[flow::kFromClient];
        e.orig_ip_bytes = f.bytes[flow::kFromClient];
        e.resp_pkts = f.packets[flow::kFromServer];
        e.resp_bytes = f.payload_bytes[flow::kFromServer];
        e.resp_ip_bytes = f.bytes[flow::kFromServer];
        e.conn_state = std::string(flow::zeek_conn_state(f));
        char history[16];
        e.history.assign(history, flow::history_text(f, history));
        e.name = std::string(record.name);
        e.name_source = std::string(record.name_source);
        append_columns(facts::kFlowColumns, facts::column_values(record), kZeekViewedColumns, e.columns);
        if (f.proto == decode::kProtoIcmp || f.proto == decode::kProtoIcmp6) {
            // Zeek's ICMP "ports" (type and counterpart or code) in place of
            // the echo identifier the flow table keys on.
            const IcmpPorts p = icmp_ports(f.proto, f.first_icmp_type, f.first_icmp_code);
            const bool from_client = f.first_icmp_from_client;
            e.orig_p = from_client ? p.sport : p.dport;
            e.resp_p = from_client ? p.dport : p.sport;
            e.community_id = from_client ? community_id(f.client_ip, p.sport, f.server_ip, p.dport, f.proto)
                                         : community_id(f.server_ip, p.sport, f.client_ip, p.dport, f.proto);
        }
        // The uid: the run, the flow's number, its first packet's time and its tuple.
        char key[96];
        const int key_len = std::snprintf(key, sizeof key, "%lld/%llu/%lld/%u/%u/%u/", static_cast<long long>(run_id_),
                                          static_cast<unsigned long long>(f.id), static_cast<long long>(f.first_ts_us),
                                          unsigned{f.proto}, unsigned{f.client_port}, unsigned{f.server_port});
        std::string uid_key(key, key_len > 0 ? static_cast<size_t>(key_len) : 0);
        uid_key.append(reinterpret_cast<const char*>(f.client_ip.bytes.data()), f.client_ip.bytes.size());
        uid_key.append(reinterpret_cast<const char*>(f.server_ip.bytes.data()), f.server_ip.bytes.size());
        e.uid = flow_uid(uid_key);
        write_line(to_json(e));

        // The server name the flow's own handshake asked for, when it is a vendor's.
        if (record.name_source != "sni" || record.name.empty()) return;
        const std::string vendor = vendor_of(record.name);
        if (vendor.empty()) return;
        NameEvent n;
        n.ts = util::us_to_s(f.first_ts_us);
        n.run_id = run_id_;
        n.flow_id = f.id;
        n.uid = e.uid;
        n.community_id = community_id(f.client_ip, f.client_port, f.server_ip, f.server_port, f.proto);
        n.source = record.app.find("quic") != std::string_view::npos ? "quic" : "sni";
        n.name = std::string(record.name);
        n.vendor = vendor;
        const records::FlowName name{static_cast<int64_t>(f.id), record.name, record.name_source};
        append_columns(records::FlowName::kColumns, name.values(), kNameViewedColumns, n.columns);
        write_line(to_json(n));
    } catch (...) {
        // Out of memory while formatting: the line is lost, the run goes on.
    }
}

}  // namespace callwall::events
