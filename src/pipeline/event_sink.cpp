// Flows, vendor names and vendor DNS answers as event lines. See
// pipeline/event_sink.hpp.
#include "pipeline/event_sink.hpp"

#include "pipeline/store_sink.hpp"
#include "util/clock.hpp"

namespace callwall::pipeline {

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

void EventSink::write(const std::string& line) noexcept { log_.write(line); }

void EventSink::dns_answer(const DnsAnswerFact& f) {
    const std::string vendor = vendor_of(f.qname);
    if (vendor.empty()) return;
    events::DnsEvent e;
    e.ts = util::us_to_s(f.ts_us);
    e.run_id = run_id_;
    e.client = decode::to_string(f.client);
    e.qname = std::string(f.qname);
    rrtype_name(f.rrtype, e.rrtype);
    if (f.has_address)
        e.answer = decode::to_string(f.address);
    else
        e.answer = std::string(f.target);
    e.ttl = f.ttl_s;
    e.vendor = vendor;
    write(to_json(e));
}

void EventSink::flow_ended(const flow::Flow& f, const store::FlowAppInfo& app) noexcept {
    try {
        ++flows_;
        events::FlowEvent e;
        e.ts = util::us_to_s(f.first_ts_us);
        e.run_id = run_id_;
        e.flow_id = f.id;
        e.orig_h = f.client_ip;
        e.resp_h = f.server_ip;
        e.orig_p = f.client_port;
        e.resp_p = f.server_port;
        e.proto = f.proto;
        e.service = std::string(app.app);
        e.duration = util::us_to_s(f.last_ts_us - f.first_ts_us);
        e.orig_pkts = f.packets[flow::kFromClient];
        e.orig_bytes = f.bytes[flow::kFromClient];
        e.resp_pkts = f.packets[flow::kFromServer];
        e.resp_bytes = f.bytes[flow::kFromServer];
        e.conn_state = std::string(flow::to_string(f.state()));
        e.name = std::string(app.name);
        e.name_source = std::string(app.name_source);
        write(to_json(e));

        // The server name the flow's own handshake asked for, when it is a vendor's.
        if (app.name_source != "sni" || app.name.empty()) return;
        const std::string vendor = vendor_of(app.name);
        if (vendor.empty()) return;
        events::NameEvent n;
        n.ts = util::us_to_s(f.first_ts_us);
        n.run_id = run_id_;
        n.flow_id = f.id;
        n.community_id = events::community_id(f.client_ip, f.client_port, f.server_ip, f.server_port, f.proto);
        n.source = app.app.find("quic") != std::string_view::npos ? "quic" : "sni";
        n.name = std::string(app.name);
        n.vendor = vendor;
        write(to_json(n));
    } catch (...) {
        // Out of memory while formatting: the line is lost, the run goes on.
    }
}

}  // namespace callwall::pipeline
