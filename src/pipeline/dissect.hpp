// The dissect stage: runs the protocol analyzers on the packets of each flow
// until they have what they need, and keeps per-flow application state.
//
// Analyzers plug in (pipeline/app_analyzer.hpp): each protocol is one file
// pair under src/pipeline/analyzers/ declaring {probe, ports hint, app
// labels, analyzer}, registered by one row in analyzers/registry.cpp. A
// flow's first payload packets are probed against the rows of its transport
// in registry order; ports are hints (DNS is only tried on 53/5353/5355),
// the bytes decide. Once a row accepts, only its analyzer runs:
//   UDP  dns        every message (answers are facts)
//        quic       client Initials until the ClientHello is reassembled, then nothing
//        rtc        STUN/TURN, ChannelData, DTLS, RTP/RTCP demultiplexed per packet
//                   by first byte (RFC 7983 / RFC 9443)
//   TCP  dns-tcp    length-prefixed messages, in order
//        tls        first flight of each side (ClientHello / ServerHello, alerts), then nothing
//        stun-tcp   STUN/TURN framing over TCP (and RFC 4571), ChannelData inside
//        proxy-tls  a SOCKS4/4a/5 or HTTP CONNECT preamble, then TLS
// A flow that matches nothing within kClassifyPackets payload packets is
// given up on and costs a hash lookup and counters from then on.
//
// Analyzers emit facts through a FactSink (facts/fact_sink.hpp) and never
// see the store; StoreSink writes them to the store. Names (SNI, DNS answers,
// TURN peers) are kept on the packet path for attribution: facts/naming.hpp.
//
// Memory: per-flow state lives in a slab parallel to the flow table's; the
// large buffers (TLS/QUIC reassembly, STUN transactions and TCP framing, RTP
// stream statistics, DNS framing, TCP segments held past a hole, proxy
// preambles) come from bounded pools each analyzer owns, lent while a flow
// needs them; an exhausted pool is counted, never grown past its bound. The
// TLS and QUIC handshake pools reclaim the least recently progressed buffer
// instead of refusing, and bound the buffers per client address
// (pipeline/buffer_pool.hpp).
//
// TCP framers (DNS, STUN/TURN, RFC 4571, proxy preambles) get their bytes in
// order from a TcpReassembler per direction (pipeline/tcp_stream.hpp): a
// hole waits for its retransmission within bounds, and a hole given up is
// counted and followed by resynchronisation at the next plausible frame.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "decode/packet.hpp"
#include "flow/flow_table.hpp"
#include "facts/flow_facts.hpp"
#include "facts/naming.hpp"

namespace callwall::facts {
class FactSink;
}

namespace callwall::pipeline {

struct DissectStats {
    uint64_t pool_exhausted = 0;  ///< a flow could not get a buffer (bounded pools full)
    uint64_t dns_messages = 0, dns_malformed = 0;
    uint64_t tls_hellos = 0, quic_hellos = 0;
    uint64_t stun_messages = 0, channel_data = 0;
    uint64_t rtp_packets = 0, rtcp_packets = 0, dtls_records = 0;
    uint64_t names_dropped = 0;  ///< NameTable full: names not interned
    uint64_t addresses_dropped = 0;  ///< NameMap full: DNS answers not mapped
    uint64_t peers_dropped = 0;  ///< TURN peer map full: peers not recorded
    // TCP streams (pipeline/tcp_reassembly.hpp).
    uint64_t tcp_held_segments = 0;  ///< segments held past a hole until it filled
    uint64_t tcp_gaps = 0;  ///< holes given up (bound hit, too far, flow end, snaplen cut)
    uint64_t tcp_gap_bytes = 0;  ///< bytes never delivered to a framer
    uint64_t tcp_resyncs = 0;  ///< framing found again after a gap
    uint64_t proxy_tunnels = 0;  ///< proxy preambles (SOCKS, CONNECT) followed to the tunnel
    uint64_t buffers_reclaimed = 0;  ///< TLS/QUIC handshake buffers taken from a stalled flow
    /// Of those, the flow sides that went on sending their handshake after
    /// losing the buffer: hellos the bound cost (what run.notes reports; the
    /// reclaims themselves depend on how the flows are split across workers).
    uint64_t hellos_cut = 0;
};

class NamingOut;

class Dissector {
public:
    /// Facts go to `sink` (not owned; null: dropped: the store's fact
    /// writer, store/run_writer.hpp), then to `extra` when given (not owned:
    /// the event stream, the vendor addresses).
    explicit Dissector(facts::FactSink* sink, facts::FactSink* extra = nullptr);
    /// Reserves the per-flow array for the flow table's bound (as address
    /// space: util/huge_pages.hpp), so that it grows in place.
    void reserve_flows(uint32_t max_flows);
    /// The run holds up to `flows` flows at once, each of which may need a
    /// decoder's slot (a probe's capture): the pools every such flow needs
    /// are bounded by that many instead of their default, when larger
    /// (AppAnalyzer::size_for_flows).
    void size_for_flows(size_t flows);
    ~Dissector();
    Dissector(const Dissector&) = delete;
    Dissector& operator=(const Dissector&) = delete;

    /// A new flow took slab slot `slot` (FlowTable::index_of).
    void on_flow_created(flow::Flow& f, uint32_t slot) noexcept;
    /// One packet of a flow, after the flow table counted it. Never throws;
    /// a failure is kept and reported by take_error().
    void on_packet(flow::Flow& f, uint32_t slot, flow::Dir dir, const decode::PacketMeta& m, int64_t ts_us) noexcept;
    /// The flow ends: its facts are written, its buffers returned; `info`
    /// receives the flow row's application columns (views valid until the next call).
    void on_flow_end(flow::Flow& f, uint32_t slot, facts::FlowAppInfo& info);
    /// The application columns of a live flow, without ending it (live view,
    /// periodic database updates). Writes the flow's names.
    void snapshot(flow::Flow& f, uint32_t slot, facts::FlowAppInfo& info);

    /// A sharded run's worker: DNS answers and TURN peers go to `out`, and
    /// flows are described without names (no flow_name facts; the row's name
    /// empty): last_name_inputs() says what naming them takes.
    void name_elsewhere(NamingOut* out) noexcept;
    /// With name_elsewhere: the SNI and the proxy's target host of the flow
    /// last ended or snapshot (views valid while the Dissector lives).
    [[nodiscard]] std::pair<std::string_view, std::string_view> last_name_inputs() const noexcept;
    /// Without name_elsewhere: the names the flow last ended or snapshot was
    /// given (its flow_name facts; views valid until the next one).
    [[nodiscard]] const facts::FlowNames& last_names() const noexcept;

    /// The first error hit inside the packet path (out of memory), if any
    /// (then cleared). The fact writer keeps its own (facts::FlowRowSink::take_error).
    std::exception_ptr take_error() noexcept;
    /// Counters, including the drops of the bounded name, address and peer maps.
    [[nodiscard]] DissectStats stats() const noexcept;
    [[nodiscard]] const facts::NameTable& names() const noexcept;
    /// TURN peers learnt since the last call (facts::Naming::take_new_peers):
    /// false when too many to list (every live flow may have been renamed).
    bool take_new_peers(std::vector<decode::IpAddr>& out);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace callwall::pipeline
