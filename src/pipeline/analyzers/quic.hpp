// QUIC analyzer (RFC 9000 / RFC 9001 Initials, QUIC v2 RFC 9369, IETF
// drafts, Google QUIC Q0xx/T0xx): the client's Initial packets are decrypted
// and their CRYPTO frames reassembled until the TLS ClientHello (or a gQUIC
// CHLO) is whole, then the flow is ignored. Buffers come from a ReclaimPool
// like TLS's (pipeline/analyzers/tls.hpp).
#pragma once

#include <array>
#include <optional>

#include "proto/quic.hpp"
#include "pipeline/analyzers/hello_facts.hpp"
#include "pipeline/buffer_pool.hpp"

namespace callwall::pipeline {

struct QuicFlow {
    HelloFacts h;
    int32_t slot = -1;  ///< Initial reassembly buffer lent until the hello is decoded
    bool lost = false;  ///< the buffer was reclaimed before the hello was whole
    bool lost_counted = false;  ///< ... and the client sent more afterwards (counted once)
};

class QuicAnalyzer final : public AppAnalyzer {
public:
    static constexpr size_t kSlots = 512;
    static constexpr size_t kSlotsPerSource = kSlots / 16;  // as TlsAnalyzer::kSlotsPerSource

    explicit QuicAnalyzer(DissectShared& shared) : s_(shared) {}
    void on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) override;
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) override;
    void release(FlowApp& a) noexcept override;

    void add_stats(DissectStats& out) const noexcept override {
        out.buffers_reclaimed += pool_.reclaimed();
        out.pool_exhausted += pool_.refused();
    }

private:
    struct Slot {
        std::array<uint8_t, proto::quic::kRecommendedCryptoBuffer> buf;
        std::optional<proto::quic::ClientInitialAssembler> assembler;
        void reset() noexcept { assembler.reset(); }
    };
    int32_t lend(const flow::Flow& f, const FlowApp& a);
    void on_done(FlowApp& a, QuicFlow& q, const proto::quic::FeedResult& r, int64_t ts_us);

    DissectShared& s_;
    ReclaimPool<Slot> pool_{kSlots, kSlotsPerSource};
    proto::quic::Decryptor decryptor_;
};

/// Long headers may clear the fixed bit (RFC 9287) and gQUIC Q043 starts
/// with 0x09: proto::quic::probe decides, not the first byte.
[[nodiscard]] bool probe_quic(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_quic(DissectShared& shared);

inline constexpr std::string_view kQuicLabels[] = {"quic", "gquic"};
inline constexpr uint16_t kQuicLabel = 1u << 0, kGquicLabel = 1u << 1;
inline constexpr AnalyzerRow kQuicRow{"quic", L4::Udp, PortUse::Any, {}, probe_quic, kQuicLabels, make_quic};

}  // namespace callwall::pipeline
