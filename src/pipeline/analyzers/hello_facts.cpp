// Handshake facts of TLS and QUIC flows. See pipeline/analyzers/hello_facts.hpp.
#include "pipeline/analyzers/hello_facts.hpp"

namespace callwall::pipeline {

void record_client_hello(DissectShared& s, FlowApp& a, HelloFacts& h, const proto::tls::ClientHello& ch,
                         facts::HelloProtocol protocol, int64_t ts_us) {
    h.hello = true;
    h.protocol = protocol;
    h.ts_us = ts_us;
    a.sni = s.naming.intern(as_text(ch.server_name));
    s.scratch.clear();
    for (ByteView p : ch.alpn) {
        if (!s.scratch.empty()) s.scratch += ',';
        s.scratch += as_text(p);
    }
    h.alpn = s.naming.intern(s.scratch);
    h.version = ch.offered_version();
    h.ech = ch.ech;
}

void emit_hello(DissectShared& s, const flow::Flow& f, const FlowApp& a, const HelloFacts& h) {
    if (!h.hello) return;
    facts::HelloFact row;
    row.flow_id = f.id;
    row.ts_us = h.ts_us;
    row.protocol = h.protocol;
    row.sni = s.naming.get(a.sni);
    row.alpn = s.naming.get(h.alpn);
    row.tls_version = h.version;
    row.quic_version = h.quic_version;
    row.ech = h.ech;
    row.server_hello = h.server_hello;
    row.server_version = h.server_version;
    row.alert = h.alert;
    s.sink->write(&row);
}

}  // namespace callwall::pipeline
