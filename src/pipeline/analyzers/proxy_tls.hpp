// TLS behind a proxy preamble (SOCKS4/4a/5, HTTP CONNECT; the parsers are in
// pipeline/proxy_preamble.hpp): the client's request and the proxy's reply
// are read in stream order, the host asked for becomes the flow's "proxy"
// name, and the tunnelled bytes go to the TLS analyzer, anchored after the
// preamble. A preamble with a hole, too long, or refused gives that side up.
#pragma once

#include "pipeline/analyzers/tls.hpp"
#include "pipeline/proxy_preamble.hpp"

namespace callwall::pipeline {

struct ProxyTlsFlow {
    TlsFlow tls;  ///< first: TlsAnalyzer reclaims buffers through it
    proxy::Kind kind = proxy::Kind::None;
    bool preamble_done[2] = {false, false};
    int32_t slot = -1;  ///< Slot lent while a preamble is read
    uint32_t tls_start[2] = {0, 0};  ///< sequence number of the first tunnelled byte
    uint16_t port = 0;  ///< the port the client asked the proxy for
};

class ProxyTlsAnalyzer final : public AppAnalyzer {
public:
    static constexpr size_t kSlots = 1024;  // proxy preambles being read (2 KiB each)

    explicit ProxyTlsAnalyzer(DissectShared& shared) : s_(shared) {}
    void bind(DissectShared& shared) override;
    void on_start(flow::Flow& f, FlowApp& a, flow::Dir d, ByteView first) override;
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void on_flow_end(flow::Flow& f, FlowApp& a) override;
    void describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) override;
    void release(FlowApp& a) noexcept override;

private:
    struct Slot {
        std::array<std::array<uint8_t, proxy::kMaxPreamble>, 2> buf;
        std::array<uint16_t, 2> len{};
        std::array<TcpStream, 2> stream;
        void reset() noexcept { len = {}, stream = {}; }
    };
    struct Sink;
    void on_segment(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us);
    void bytes(flow::Flow& f, FlowApp& a, flow::Dir d, uint32_t seq, ByteView p, int64_t ts_us);
    void tunnel(flow::Flow& f, FlowApp& a, flow::Dir d, uint32_t seq, ByteView p, int64_t ts_us);
    static void failed(ProxyTlsFlow& p, flow::Dir d) noexcept;

    DissectShared& s_;
    TlsAnalyzer* tls_ = nullptr;
    Pool<Slot> pool_{kSlots};
};

/// A proxy request from the client (tried after every other TCP probe).
[[nodiscard]] bool probe_proxy_tls(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_proxy_tls(DissectShared& shared);

inline constexpr AnalyzerRow kProxyTlsRow{"proxy-tls",     L4::Tcp,    PortUse::Any,  {},
                                          probe_proxy_tls, kTlsLabels, make_proxy_tls};

}  // namespace callwall::pipeline
