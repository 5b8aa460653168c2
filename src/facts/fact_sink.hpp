// What the protocol analyzers emit: message facts through a FactSink (one
// call, write(), for a fact of any kind); the application columns of a flow
// are facts/flow_facts.hpp's. Facts are
// values and views valid during the call; turning them into text (addresses,
// record types, versions, transaction ids) is the sink's business, so the
// analyzers never format or allocate for the database (store/store_sink.hpp
// writes them to the store; NullSink drops them).
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

#include "bytes/reader.hpp"
#include "decode/packet.hpp"
#include "facts/flow_facts.hpp"
#include "flow/flow_table.hpp"
#include "proto/rtp.hpp"
#include "proto/stun.hpp"

namespace callwall::facts {

/// A DNS query: answered (with the response's rcode) or still unanswered at the flow's end.
struct DnsQueryFact {
    uint64_t flow_id = 0;
    int64_t ts_us = 0;
    decode::IpAddr client, server;
    std::string_view qname;  ///< interned (lowercase, no trailing dot)
    uint16_t qtype = 0;
    bool answered = false;
    uint16_t rcode = 0;  ///< extended RCODE (answered only)
    uint32_t answers = 0;
};

/// One resource record of a DNS answer section (names as the message spells them).
struct DnsAnswerFact {
    uint64_t flow_id = 0;
    int64_t ts_us = 0;
    decode::IpAddr client, server;
    std::string_view qname;  ///< the record's owner name
    uint16_t rrtype = 0;
    uint32_t ttl_s = 0;
    bool has_address = false;  ///< A / AAAA with an address
    decode::IpAddr address;
    std::string_view target;  ///< CNAME / SVCB / HTTPS target
    uint16_t svc_priority = 0;
    ByteView alpn, ipv4hint, ipv6hint;  ///< SVCB / HTTPS parameters (validated by the decoder)
};

enum class HelloProtocol : uint8_t { Tls, Quic, Gquic };

/// The handshake of a TLS or QUIC flow, at the flow's end.
struct HelloFact {
    uint64_t flow_id = 0;
    int64_t ts_us = 0;
    HelloProtocol protocol = HelloProtocol::Tls;
    std::string_view sni, alpn;  ///< interned; alpn ids joined by ','
    uint16_t tls_version = 0;  ///< offered (TLS)
    uint32_t quic_version = 0;  ///< QUIC / gQUIC
    bool ech = false;
    bool server_hello = false;
    uint16_t server_version = 0;
    int alert = -1;
};

enum class Carrier : uint8_t { Udp, Tcp };

/// One STUN/TURN message.
struct StunFact {
    uint64_t flow_id = 0;
    int64_t ts_us = 0;
    flow::Dir dir = flow::kFromClient;
    proto::stun::Method method{};
    proto::stun::MessageClass msg_class{};
    ByteView transaction_id;
    uint16_t error_code = 0;
    Carrier carried = Carrier::Udp;
    bool answers_request = false;  ///< a response that matched an outstanding request on the flow
};

/// One RTP stream of a flow, at the flow's end.
struct RtpStreamFact {
    uint64_t flow_id = 0;
    flow::Dir dir = flow::kFromClient;
    uint32_t ssrc = 0;
    bool via_turn = false;
    int64_t first_us = 0, last_us = 0;
    const proto::rtp::StreamStats* stats = nullptr;
};

/// A name a flow carries and where it came from ("sni", "dns", ...).
struct FlowNameFact {
    uint64_t flow_id = 0;
    std::string_view name, source;
};

/// Any one fact, as a pointer to it: valid during the call that hands it on.
/// A kind of fact added here reaches the sinks that ask for it (std::visit,
/// std::get_if) and no other.
using Fact = std::variant<const DnsQueryFact*, const DnsAnswerFact*, const HelloFact*, const StunFact*,
                          const RtpStreamFact*, const FlowNameFact*>;

/// Where the analyzers' facts go: one call per fact, whatever its kind.
class FactSink {
public:
    virtual ~FactSink() = default;
    virtual void write(Fact f) = 0;
};

/// Drops every fact (benchmarks, the allocation test, store-less runs).
class NullSink final : public FactSink {
public:
    void write(Fact) override {}
};

/// Hands every fact to two sinks, in order (the store's, then the event stream's).
class TeeSink final : public FactSink {
public:
    TeeSink(FactSink& first, FactSink& second) noexcept : a_(first), b_(second) {}
    void write(Fact f) override {
        a_.write(f);
        b_.write(f);
    }

private:
    FactSink& a_;
    FactSink& b_;
};

}  // namespace callwall::facts
