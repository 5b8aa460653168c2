// The handshake facts TLS and QUIC flows share: the client's hello (SNI,
// ALPN, offered version, ECH) and the server's answer (ServerHello version,
// fatal alert), emitted as one HelloFact at the flow's end.
#pragma once

#include <cstdint>

#include "proto/tls.hpp"
#include "pipeline/app_analyzer.hpp"

namespace callwall::pipeline {

struct HelloFacts {
    bool hello = false;  ///< the client's hello was decoded
    bool hello_failed = false, server_hello = false, server_failed = false;
    bool ech = false;
    facts::HelloProtocol protocol = facts::HelloProtocol::Tls;
    int16_t alert = -1;  ///< fatal alert description from the server
    uint16_t version = 0, server_version = 0;
    uint32_t alpn = 0;  ///< interned, ids joined by ','
    uint32_t quic_version = 0;
    int64_t ts_us = 0;
};

/// A ClientHello (TLS, or the one inside QUIC Initials): SNI to the flow, the rest to `h`.
void record_client_hello(DissectShared& s, FlowApp& a, HelloFacts& h, const proto::tls::ClientHello& ch,
                         facts::HelloProtocol protocol, int64_t ts_us);
/// At the flow's end: the HelloFact, when the client's hello was decoded.
void emit_hello(DissectShared& s, const flow::Flow& f, const FlowApp& a, const HelloFacts& h);

}  // namespace callwall::pipeline
