// DTLS on a media flow. See pipeline/analyzers/dtls.hpp.
#include "pipeline/analyzers/dtls.hpp"

#include "proto/dtls.hpp"

namespace callwall::pipeline {

void on_dtls(DissectShared& s, FlowApp& a, RtcFlow& r, ByteView payload) noexcept {
    if (!proto::dtls::probe(payload)) return;
    auto d = proto::dtls::decode(payload);
    if (!d) return;
    ++s.stats.dtls_records;
    a.labels |= kDtlsLabel;
    if (d->client_hello || d->server_hello) r.dtls_handshake = true;
}

}  // namespace callwall::pipeline
