// DTLS on a media flow (RFC 6347 / RFC 9147; DTLS-SRTP RFC 5764): records
// are counted and a ClientHello or ServerHello marks the flow's handshake.
// DTLS shares its 5-tuple with STUN and RTP (RFC 7983), so it is a part of
// the media analyzers rather than a registry row of its own.
#pragma once

#include "pipeline/analyzers/rtc_flow.hpp"
#include "pipeline/app_analyzer.hpp"

namespace callwall::pipeline {

/// One datagram (or relayed payload) whose first byte says DTLS.
void on_dtls(DissectShared& s, FlowApp& a, RtcFlow& r, ByteView payload) noexcept;

}  // namespace callwall::pipeline
