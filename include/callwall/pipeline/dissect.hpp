// The dissect stage: runs the application decoders on the packets of each
// flow until they have what they need, keeps per-flow application state, and
// turns decoder results into facts (store rows, the DNS name map, TURN peers).
//
// Registry (STYLE §4): classification is a fixed table of {probe, port hints}
// per transport, tried in order on a flow's first payload packets; ports are
// hints (DNS is only tried on 53/5353, everything else on any port), the
// bytes decide. Once a flow is classified, only that protocol's handler runs:
//   UDP  Dns   every message (answers are facts)
//        Quic  client Initials until the ClientHello is reassembled, then nothing
//        Rtc   STUN/TURN, ChannelData, DTLS, RTP/RTCP demultiplexed per packet
//              by first byte (RFC 7983 / RFC 9443)
//   TCP  Dns   length-prefixed messages, in order
//        Tls   first flight of each side (ClientHello / ServerHello, alerts), then nothing;
//              after a SOCKS4/4a/5 or HTTP CONNECT preamble when the flow starts with one
//        Stun  STUN/TURN framing over TCP (and RFC 4571), ChannelData inside
// A flow that matches nothing within kClassifyPackets payload packets is
// given up on and costs a hash lookup and counters from then on.
//
// Memory: per-flow state lives in a slab parallel to the flow table's; the
// large buffers (TLS/QUIC reassembly, STUN transactions and TCP framing, RTP
// stream statistics, DNS framing, TCP segments held past a hole, proxy
// preambles) come from bounded pools lent while a flow needs them; an
// exhausted pool is counted, never grown past its bound. The TLS and QUIC
// handshake pools reclaim the least recently progressed buffer instead of
// refusing, and bound the buffers per client address (pipeline/buffer_pool.hpp).
//
// TCP framers (DNS, STUN/TURN, RFC 4571, proxy preambles) get their bytes in
// order from a TcpReassembler per direction (pipeline/tcp_reassembly.hpp): a
// hole waits for its retransmission within bounds, and a hole given up is
// counted and followed by resynchronisation at the next plausible frame.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "callwall/decode/packet.hpp"
#include "callwall/flow/flow_table.hpp"
#include "callwall/store/store.hpp"

namespace callwall::pipeline {

/// Application protocols seen on a flow (a set: WebRTC multiplexes several).
enum AppBit : uint16_t {
    kAppDns = 1u << 0,
    kAppTls = 1u << 1,
    kAppQuic = 1u << 2,
    kAppStun = 1u << 3,
    kAppTurn = 1u << 4,  ///< TURN methods (Allocate, ChannelBind, Send/Data, ...) or ChannelData
    kAppRtp = 1u << 5,
    kAppRtcp = 1u << 6,
    kAppDtls = 1u << 7,
    kAppGquic = 1u << 8,
    kAppMsTurn = 1u << 9,
};
/// "dns", "tls", "quic", "stun+turn+rtp", ... ("" for none).
[[nodiscard]] std::string app_text(uint16_t bits);

/// Interned names (SNI, DNS names), so flows carry a 32-bit id. Bounded:
/// beyond kMaxNames new names are counted and not interned.
class NameTable {
public:
    static constexpr uint32_t kMaxNames = 1u << 20;
    /// 0 when the table is full or the name is empty. Lowercases, drops a trailing dot.
    uint32_t intern(std::string_view name);
    [[nodiscard]] std::string_view get(uint32_t id) const noexcept;
    [[nodiscard]] uint64_t dropped() const noexcept { return dropped_; }

private:
    struct StringHash {  // lets a name be looked up by view, without a copy
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
    std::vector<const std::string*> names_{nullptr};
    uint64_t dropped_ = 0;
};

/// Address → names, per client, from DNS answers (CNAME chains included), with
/// the time each was first seen. Bounded: beyond kMaxEntries addresses new ones
/// are counted and dropped.
class NameMap {
public:
    static constexpr size_t kMaxEntries = 1u << 20;
    static constexpr size_t kNamesPerAddress = 8;
    void add(const decode::IpAddr& client, const decode::IpAddr& address, uint32_t name, int64_t ts_us);
    /// Names `client` had resolved to `address` at or before `at_us`; returns the count written.
    size_t lookup(const decode::IpAddr& client, const decode::IpAddr& address, int64_t at_us, uint32_t* out,
                  size_t cap) const noexcept;
    [[nodiscard]] uint64_t dropped() const noexcept { return dropped_; }

private:
    struct Key {
        decode::IpAddr client, address;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const noexcept;
    };
    struct Named {
        uint32_t name = 0;
        int64_t ts_us = 0;
    };
    struct Names {
        Named items[kNamesPerAddress];
        uint8_t count = 0;
    };
    std::unordered_map<Key, Names, KeyHash> map_;
    uint64_t dropped_ = 0;
};

struct DissectStats {
    uint64_t pool_exhausted = 0;   ///< a flow could not get a buffer (bounded pools full)
    uint64_t dns_messages = 0, dns_malformed = 0;
    uint64_t tls_hellos = 0, quic_hellos = 0;
    uint64_t stun_messages = 0, channel_data = 0;
    uint64_t rtp_packets = 0, rtcp_packets = 0, dtls_records = 0;
    uint64_t names_dropped = 0;     ///< NameTable full: names not interned
    uint64_t addresses_dropped = 0; ///< NameMap full: DNS answers not mapped
    uint64_t peers_dropped = 0;     ///< TURN peer map full: peers not recorded
    // TCP streams (pipeline/tcp_reassembly.hpp).
    uint64_t tcp_held_segments = 0; ///< segments held past a hole until it filled
    uint64_t tcp_gaps = 0;          ///< holes given up (bound hit, too far, flow end, snaplen cut)
    uint64_t tcp_gap_bytes = 0;     ///< bytes never delivered to a framer
    uint64_t tcp_resyncs = 0;       ///< framing found again after a gap
    uint64_t proxy_tunnels = 0;     ///< proxy preambles (SOCKS, CONNECT) followed to the tunnel
    uint64_t buffers_reclaimed = 0; ///< TLS/QUIC handshake buffers taken from a stalled flow
};

class Dissector {
public:
    Dissector(store::Store* store, int64_t run_id);
    ~Dissector();
    Dissector(const Dissector&) = delete;
    Dissector& operator=(const Dissector&) = delete;

    /// A new flow took slab slot `slot` (FlowTable::index_of).
    void on_flow_created(flow::Flow& f, uint32_t slot) noexcept;
    /// One packet of a flow, after the flow table counted it. Never throws;
    /// a store failure is kept and reported by take_error().
    void on_packet(flow::Flow& f, uint32_t slot, flow::Dir dir, const decode::PacketMeta& m, int64_t ts_us) noexcept;
    /// The flow ends: its facts are written, its buffers returned; `info`
    /// receives the flow row's application columns (views valid until the next call).
    void on_flow_end(flow::Flow& f, uint32_t slot, store::FlowAppInfo& info);
    /// The application columns of a live flow, without ending it (live view,
    /// periodic database updates). Writes the flow's names.
    void snapshot(flow::Flow& f, uint32_t slot, store::FlowAppInfo& info);

    /// The first store error hit inside the packet path, if any (then cleared).
    std::exception_ptr take_error() noexcept;
    /// Counters, including the drops of the bounded name, address and peer maps.
    [[nodiscard]] DissectStats stats() const noexcept;
    [[nodiscard]] const NameTable& names() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace callwall::pipeline
