// TLS analyzer (RFC 8446 / RFC 5246 over TCP): reassembles the first flight
// of each side (the ClientHello; the server's ServerHello or alert) and then
// ignores the flow. Buffers come from a ReclaimPool: when it is full, or one
// client address holds too many, the least recently progressed flight is
// reclaimed and that side is given up.
//
// Proxied TLS (SOCKS, HTTP CONNECT) reuses this analyzer behind its preamble
// (pipeline/analyzers/proxy_tls.hpp).
#pragma once

#include <array>
#include <optional>

#include "callwall/proto/tls.hpp"
#include "pipeline/analyzers/hello.hpp"
#include "pipeline/buffer_pool.hpp"

namespace callwall::pipeline {

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

    [[nodiscard]] static bool side_done(const HelloFacts& h, flow::Dir d) noexcept {
        return d == flow::kFromClient ? (h.hello || h.hello_failed) : (h.server_hello || h.server_failed);
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
