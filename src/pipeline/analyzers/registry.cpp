// The registry: one row per protocol analyzer, in the order the probes are
// tried on a flow's first payload packets (pipeline/app_analyzer.hpp). Ports
// are hints (or, for DNS, a requirement); the bytes decide. Order matters
// where signatures overlap: DNS before anything on its ports, QUIC before
// the media mux (a QUIC long header can look like STUN or RTP), TLS before
// STUN over TCP, TLS before an upgrading protocol's cleartext on its port
// (a direct TLS connection there is TLS from its first byte), and a proxy
// preamble only when nothing else claimed the client's first bytes.
#include <array>

#include "pipeline/analyzers/dns.hpp"
#include "pipeline/analyzers/dns_tcp.hpp"
#include "pipeline/analyzers/proxy_tls.hpp"
#include "pipeline/analyzers/quic.hpp"
#include "pipeline/analyzers/rtc.hpp"
#include "pipeline/analyzers/rtmp.hpp"
#include "pipeline/analyzers/starttls.hpp"
#include "pipeline/analyzers/stun_tcp.hpp"
#include "pipeline/analyzers/tls.hpp"

namespace callwall::pipeline {
namespace {

constexpr AnalyzerRow kRows[] = {
    kDnsRow,  // UDP 53/5353/5355
    kQuicRow,  // UDP
    kRtcRow,  // UDP: STUN/TURN, ChannelData, DTLS, RTP/RTCP
    kDnsTcpRow,  // TCP 53/5353/5355
    kTlsRow,  // TCP
    kStartTlsRow,  // TCP 21/25/110/143/389/587/3306/5222/5269/5432 (required): TLS after a cleartext start
    kStunTcpRow,  // TCP: STUN/TURN, ChannelData, RFC 4571
    kProxyTlsRow,  // TCP: SOCKS / HTTP CONNECT, then TLS
    kRtmpRow,  // TCP 1935/30011-30013 (hint): RTMP handshake
};
static_assert(std::size(kRows) < FlowApp::kUnknown, "row + 1 is a flow's analyzer id");

}  // namespace

std::span<const AnalyzerRow> registry() noexcept { return kRows; }

}  // namespace callwall::pipeline
