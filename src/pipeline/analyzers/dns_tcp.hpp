// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): two-byte length-prefixed
// messages, in stream order (pipeline/tcp_stream.hpp), handed to the DNS
// analyzer (pipeline/analyzers/dns.hpp). A message that does not decode
// means the framing is wrong (a resynchronisation on a false header, junk
// in the stream): the direction looks for the next plausible header.
#pragma once

#include "pipeline/analyzers/dns.hpp"
#include "pipeline/analyzers/framed_stream_sink.hpp"

namespace callwall::pipeline {

struct DnsTcpFlow {
    DnsFlow dns;  ///< the DNS analyzer's per-flow state
    int32_t slot = -1;  ///< Slot lent while the flow is framed
};

class DnsTcpAnalyzer final : public AppAnalyzer {
public:
    // DNS-over-TCP connections being framed (8 KiB each).
    static constexpr size_t kSlots = 1024;

    explicit DnsTcpAnalyzer(DissectShared& shared) : s_(shared) {}
    void bind(DissectShared& shared) override;
    void on_start(flow::Flow&, FlowApp& a, flow::Dir, ByteView) override { start_state<DnsTcpFlow>(a); }
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void on_flow_end(flow::Flow& f, FlowApp& a) override;
    void describe(flow::Flow& f, FlowApp& a, FlowColumns&, bool final) override {
        if (final) dns_->flush_pending(f, flow_state<DnsTcpFlow>(a).dns);
    }
    void release(FlowApp& a) noexcept override;

private:
    struct Slot {
        std::array<proto::dns::TcpFramer, 2> framer;
        std::array<TcpStream, 2> stream;
        void reset() noexcept {
            framer[0].reset();
            framer[1].reset();
            stream = {};
        }
    };
    using Sink = FramedStreamSink<DnsTcpAnalyzer, DnsTcpFlow>;
    friend Sink;
    void bytes(flow::Flow& f, FlowApp& a, flow::Dir d, ByteView p, int64_t ts_us);

    DissectShared& s_;
    DnsAnalyzer* dns_ = nullptr;
    Pool<Slot> pool_{kSlots};
};

[[nodiscard]] bool probe_dns_tcp(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_dns_tcp(DissectShared& shared);

inline constexpr AnalyzerRow kDnsTcpRow{"dns-tcp",     L4::Tcp,    PortUse::Required, kDnsPorts,
                                        probe_dns_tcp, kDnsLabels, make_dns_tcp};

}  // namespace callwall::pipeline
