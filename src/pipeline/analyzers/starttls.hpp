// TLS after a cleartext start (proto/starttls.hpp): SMTP, IMAP, POP3, FTP,
// XMPP, LDAP, PostgreSQL and MySQL connections on their ports. The analyzer
// reads no cleartext beyond looking for the client's upgrade request in each
// of its segments (the app column's "starttls"; MySQL's ClientHello may
// follow it in the same segment). The client's first segment that opens a
// TLS handshake record starts its TLS stream, and the server's first one
// after that starts the server's: each is handed to the TLS analyzer
// anchored there (the ClientHello gives the flow's SNI and its tls_hello
// row). State per flow is a few counters next to TlsFlow: no
// buffer, no pool; the flight buffers are the TLS analyzer's.
//
// Limits: a request split across two segments, or a ClientHello whose first
// segment comes after a later one (reordered), is not followed.
#pragma once

#include "pipeline/analyzers/tls.hpp"
#include "proto/starttls.hpp"

namespace callwall::pipeline {

struct StartTlsFlow {
    TlsFlow tls;  ///< first: TlsAnalyzer reclaims buffers through it
    proto::starttls::Kind kind = proto::starttls::Kind::None;
    bool asked = false;  ///< the client's upgrade request was seen
    uint8_t phase[2] = {0, 0};  ///< per direction: kClear, kTls, kGaveUp
    uint16_t clear[2] = {0, 0};  ///< cleartext payload bytes seen per direction (up to the bound)
    uint32_t tls_start[2] = {0, 0};  ///< sequence number of each side's first TLS byte
};

class StartTlsAnalyzer final : public AppAnalyzer {
public:
    static constexpr uint8_t kClear = 0, kTls = 1, kGaveUp = 2;
    // Cleartext payload bytes a side may send before its TLS starts; beyond
    // that the connection is taken as staying in clear and left alone. The
    // longest cleartext before an upgrade seen in practice is a few KiB (an
    // FTP server's multi-line welcome banner, XMPP stream features, an SMTP
    // server's EHLO reply with a long banner); 16 KiB leaves room while
    // bounding the per-segment search on a connection that never upgrades.
    static constexpr uint16_t kMaxCleartextBytes = 16 * 1024;

    explicit StartTlsAnalyzer(DissectShared& shared) : s_(shared) {}
    void bind(DissectShared& shared) override;
    void on_start(flow::Flow& f, FlowApp& a, flow::Dir d, ByteView first) override;
    void on_payload(flow::Flow& f, FlowApp& a, flow::Dir d, const decode::PacketMeta& m, int64_t ts_us) override;
    void describe(flow::Flow& f, FlowApp& a, FlowColumns& out, bool final) override;
    void release(FlowApp& a) noexcept override;

private:
    void start_tls(flow::Flow& f, FlowApp& a, flow::Dir d, uint32_t seq, ByteView p, int64_t ts_us);
    DissectShared& s_;
    TlsAnalyzer* tls_ = nullptr;
};

/// A connection to one of the upgrading protocols' ports whose first payload opens that protocol.
[[nodiscard]] bool probe_starttls(const ProbeInput& in) noexcept;
std::unique_ptr<AppAnalyzer> make_starttls(DissectShared& shared);

inline constexpr std::string_view kStartTlsLabels[] = {"tls", "starttls"};
inline constexpr uint16_t kStartTlsAsked = 1u << 1;  ///< labels[1]: the client asked to upgrade
inline constexpr PortRange kStartTlsPorts[] = {{21, 21},   {25, 25},     {110, 110},   {143, 143},   {389, 389},
                                               {587, 587}, {3306, 3306}, {5222, 5222}, {5269, 5269}, {5432, 5432}};
inline constexpr AnalyzerRow kStartTlsRow{"starttls",     L4::Tcp,         PortUse::Required, kStartTlsPorts,
                                          probe_starttls, kStartTlsLabels, make_starttls};

}  // namespace callwall::pipeline
