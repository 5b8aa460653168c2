// TLS analyzer (RFC 8446 / RFC 5246 over TCP): reassembles the first flight
// of each side (the ClientHello; the server's ServerHello or alert) and, when
// the server's answer is a HelloRetryRequest, the second (the client's new
// ClientHello and the server's answer to it); then ignores the flow. Buffers come from a ReclaimPool: when it is full, or one
// client address holds too many, the least recently progressed flight is
// reclaimed and that side is given up.
//
// Proxied TLS (SOCKS, HTTP CONNECT) reuses this analyzer behind its preamble
// (pipeline/analyzers/proxy_tls.hpp).
#pragma once

#include <array>
#include <optional>

#include "proto/tls.hpp"
#include "pipeline/analyzers/hello_facts.hpp"
#include "pipeline/buffer_pool.hpp"

namespace callwall::pipeline {

/// After a HelloRetryRequest (RFC 8446 §4.1.4): where each direction's second
/// flight starts and what it said. The second ClientHello repeats the first's
/// name and ALPN (§4.1.2 allows only key_share, cookie, early_data, padding
/// and pre_shared_key to change), so only what may differ is kept: small
/// enough that TlsFlow stays within a flow's state bytes behind a proxy too.
struct SecondFlight {
    static constexpr uint8_t kClientNext = 1u << 0;  ///< next_seq[kFromClient] is known
    static constexpr uint8_t kArmed = 1u << 1;  ///< the server asked for a retry: second flights expected
    static constexpr uint8_t kHello = 1u << 2, kHelloFailed = 1u << 3;
    static constexpr uint8_t kServerHello = 1u << 4, kServerFailed = 1u << 5, kEch = 1u << 6;
    uint32_t next_seq[2] = {0, 0};  ///< per direction: the sequence number its second flight starts at
    uint32_t ts_delta_us = 0;  ///< the second ClientHello's time after the first's
    uint16_t version = 0;  ///< offered in the second ClientHello
    uint16_t server_version = 0;  ///< of the ServerHello that answered it
    int16_t alert = -1;  ///< a fatal alert that answered it
    uint8_t bits = 0;
};

/// Per-flow state; kept at offset 0 of every analyzer state that feeds TlsAnalyzer
/// (a reclaimed buffer is taken back through it, whichever analyzer owns the flow).
struct TlsFlow {
    HelloFacts h;
    int32_t client = -1, server = -1;  ///< flight buffers lent per direction
    /// Per direction: where the bytes handed to the flight buffer end
    /// (sequence space), so that a side whose buffer was reclaimed can tell
    /// new bytes from a retransmission.
    uint32_t end[2] = {0, 0};
    uint8_t cut = 0;  ///< bits per direction: kCutLost << d (buffer reclaimed), kCutSeen << d (counted)
    SecondFlight retry;
};
inline constexpr uint8_t kCutLost = 1u << 0, kCutSeen = 1u << 2, kEndKnown = 1u << 4;

/// Where a direction's stream starts: after the SYN, or after a proxy preamble.
struct TlsAnchor {
    bool known = false;
    uint32_t isn = 0;  ///< the sequence number just before the first byte
};

class TlsAnalyzer final : public AppAnalyzer {
public:
    static constexpr size_t kSlots = 2048;  // per direction: a ClientHello or a server's first flight in progress
    // One client address holds at most this many handshake buffers (its own
    // least recently progressed one is reclaimed beyond): a browser opens a few
    // dozen connections at once, a host stalling thousands is junk.
    static constexpr size_t kSlotsPerSource = kSlots / 16;

    explicit TlsAnalyzer(DissectShared& shared) : s_(shared) {}
    void on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) override;
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) override;
    void release(FlowApp& a) noexcept override { release_state(flow_state<TlsFlow>(a)); }
    /// The flow's TLS columns from its flights; at the end (`final`), a
    /// HelloFact per ClientHello (two after a HelloRetryRequest).
    void describe_flights(const flow::Flow& f, const FlowApp& a, const TlsFlow& t, FlowColumns& out, bool final);

    [[nodiscard]] static bool side_done(const HelloFacts& h, flow::Dir d) noexcept {
        return d == flow::kFromClient ? (h.hello || h.hello_failed) : (h.server_hello || h.server_failed);
    }
    /// Nothing more to read in this direction: its first flight is done and
    /// no second one is expected, or that one is done too.
    [[nodiscard]] static bool side_done(const TlsFlow& t, flow::Dir d) noexcept {
        if (!side_done(t.h, d)) return false;
        if ((t.retry.bits & SecondFlight::kArmed) == 0) return true;
        const uint8_t done = d == flow::kFromClient ? SecondFlight::kHello | SecondFlight::kHelloFailed
                                                    : SecondFlight::kServerHello | SecondFlight::kServerFailed;
        return (t.retry.bits & done) != 0;
    }
    /// One piece of a first flight (a segment, or the part of one after a proxy preamble).
    void add(const flow::Flow& f, FlowApp& a, TlsFlow& t, flow::Dir d, uint32_t seq, ByteView payload, int64_t ts_us,
             TlsAnchor anchor);
    void release_state(TlsFlow& t) noexcept;
    /// A side given up after its buffer was reclaimed received bytes past
    /// what it had: the bound cost that flow its hello (counted once per side).
    void note_cut(TlsFlow& t, flow::Dir d, uint32_t seq, size_t len) noexcept;

    void add_stats(DissectStats& out) const noexcept override {
        out.buffers_reclaimed += pool_.reclaimed();
        out.pool_exhausted += pool_.refused();
    }

private:
    struct Slot {
        std::array<uint8_t, proto::tls::kMinFlightBuffer> buf;
        std::optional<proto::tls::ClientHelloAssembler> client;
        std::optional<proto::tls::ServerFlightAssembler> server;
        void reset() noexcept {
            client.reset();
            server.reset();
        }
    };
    static constexpr uint8_t kRoleClient = 0, kRoleServer = 1;
    int32_t lend(const flow::Flow& f, const FlowApp& a, uint8_t role);
    /// A second flight's assembler finished (or failed): its facts into t.retry.
    void on_second_done(TlsFlow& t, flow::Dir d, Slot& s, proto::tls::AssemblyStatus st, int64_t ts_us);
    void on_done(FlowApp& a, TlsFlow& t, flow::Dir d, Slot& s, proto::tls::AssemblyStatus st, int64_t ts_us);

    DissectShared& s_;
    ReclaimPool<Slot> pool_{kSlots, kSlotsPerSource};
};

[[nodiscard]] bool probe_tls(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_tls(DissectShared& shared);

inline constexpr std::string_view kTlsLabels[] = {"tls"};
inline constexpr uint16_t kTlsLabel = 1u << 0;
inline constexpr AnalyzerRow kTlsRow{"tls", L4::Tcp, PortUse::Any, {}, probe_tls, kTlsLabels, make_tls};

}  // namespace callwall::pipeline
