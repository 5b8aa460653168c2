// The per-flow state and app labels of a real-time media flow: STUN/TURN,
// ChannelData, DTLS and RTP/RTCP multiplexed on one 5-tuple (RFC 7983,
// RFC 9443), over UDP (pipeline/analyzers/rtc.hpp) or TCP
// (pipeline/analyzers/stun_tcp.hpp). The parts that handle each protocol:
// pipeline/analyzers/stun.hpp, rtp.hpp, dtls.hpp.
#pragma once

#include <cstdint>
#include <string_view>

namespace callwall::pipeline {

struct RtcFlow {
    int32_t stun = -1;  ///< StunTurn slot: transactions, ChannelData validation
    int32_t rtp = -1;  ///< RtpMedia slot: confirmers and stream statistics
    uint16_t packets = 0;  ///< UDP datagrams seen (for the give-up)
    uint32_t channel_data = 0;
    uint64_t rtcp_packets = 0;
    bool dtls_handshake = false;
    /// The STUN slot's ChannelData validator holds an unconfirmed candidate:
    /// only then must a datagram of another kind break its streak (most
    /// datagrams are RTP, and the slot is not touched for them).
    bool channel_candidates = false;
};

inline constexpr std::string_view kRtcLabels[] = {"stun", "turn", "ms-turn", "dtls", "rtp", "rtcp"};
inline constexpr uint16_t kStunLabel = 1u << 0;
inline constexpr uint16_t kTurnLabel = 1u
                                       << 1;  ///< TURN methods (Allocate, ChannelBind, Send/Data, ...) or ChannelData
inline constexpr uint16_t kMsTurnLabel = 1u << 2;
inline constexpr uint16_t kDtlsLabel = 1u << 3;
inline constexpr uint16_t kRtpLabel = 1u << 4;
inline constexpr uint16_t kRtcpLabel = 1u << 5;

}  // namespace callwall::pipeline
