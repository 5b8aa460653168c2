// Pieces of packet decoding shared by the files of src/decode/ (packet.cpp,
// tunnels.cpp, icmp.cpp, ip_reassembly.cpp): not part of the public decode API.
#pragma once

#include "bytes/reader.hpp"
#include "decode/packet.hpp"

namespace callwall::decode::detail {

// IPv6 extension headers before the transport: RFC 8200 §4.1 recommends each
// appears at most once (twice for destination options), so ~8 is generous.
inline constexpr int kMaxExtHeaders = 8;

// An ICMP (v6: ICMPv6) header at `r`: type and code; for an error (RFC 792
// destination unreachable, time exceeded, parameter problem, source quench;
// RFC 4443 §2.1 types 1-4) the quoted packet's addresses, protocol and
// ports; for an echo the identifier as the requester's port. The payload is
// the rest of the message.
[[nodiscard]] LayerStatus parse_icmp(Reader r, bool v6, PacketMeta& out) noexcept;

inline constexpr uint16_t kEtherIpv4 = 0x0800;
inline constexpr uint16_t kEtherIpv6 = 0x86DD;
inline constexpr uint16_t kEtherArp = 0x0806;
inline constexpr uint16_t kEtherCiscoMetadata = 0x8909;
inline constexpr uint16_t kGreTransparentEthernet = 0x6558;
inline constexpr uint16_t kEtherMpls = 0x8847;
inline constexpr uint16_t kEtherMplsMulticast = 0x8848;
inline constexpr uint16_t kPppIpv4 = 0x0021;
inline constexpr uint16_t kPppIpv6 = 0x0057;
inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr uint16_t kGenevePort = 6081;
inline constexpr uint16_t kGtpuPort = 2152;
inline constexpr uint16_t kTeredoPort = 3544;  // RFC 4380 §4: the server's port; relays use it too
inline constexpr uint16_t kGreUdpPort = 4754;  // RFC 8086 §3.1
inline constexpr uint16_t kVxlanGpePort = 4790;
inline constexpr uint16_t kAyiyaPort = 5072;
inline constexpr uint16_t kMplsUdpPort = 6635;  // RFC 7510 §3

// The tunnels and link layers of tunnels.cpp. Those called on a UDP
// datagram (parse_vxlan, parse_geneve, parse_gtpu) leave `out` as it is
// when the payload is not theirs; every one names the encapsulation it
// could not read in out.undecoded_in.

/// parse_ip on the rest of `r`; error offsets count from the start of `r`'s view plus `base`.
[[nodiscard]] LayerStatus parse_ip_at(Reader& r, size_t base, PacketMeta& out) noexcept;
/// A PPP header (address/control optional, protocol field compression) at
/// `r`, left at the IP packet. NotThisProtocol: PPP's control protocols;
/// Unsupported: another network-layer protocol.
[[nodiscard]] LayerStatus ppp_to_ip(Reader& r) noexcept;
/// An MPLS label stack at `r` and what follows its bottom.
[[nodiscard]] LayerStatus parse_mpls(Reader& r, size_t base, PacketMeta& out) noexcept;
/// GRE (versions 0 and 1) at `r`, IP protocol 47 of an unfragmented packet
/// (`kind` Gre), or the payload of a GRE-in-UDP datagram (GreUdp: version 0 only).
[[nodiscard]] LayerStatus parse_gre(Reader r, PacketMeta& out, Encap kind = Encap::Gre) noexcept;
/// IP protocols 4, 41 (IP in IP), 97 (EtherIP) and 137 (MPLS in IP) at `r`:
/// the tunnelled packet; any other protocol leaves `out` as it is.
[[nodiscard]] LayerStatus parse_ip_tunnel(Reader r, PacketMeta& out) noexcept;
/// The UDP tunnels by port (GRE in UDP, VXLAN-GPE, MPLS in UDP, AYIYA,
/// Teredo): the inner packet when the payload's header checks out,
/// otherwise `out` as it is (a UDP datagram to that port).
[[nodiscard]] LayerStatus parse_udp_tunnel(PacketMeta& out) noexcept;
[[nodiscard]] LayerStatus parse_vxlan(PacketMeta& out) noexcept;
[[nodiscard]] LayerStatus parse_geneve(PacketMeta& out) noexcept;
[[nodiscard]] LayerStatus parse_gtpu(PacketMeta& out) noexcept;
/// An ethertype's packet at `r` (VLAN tags, PPPoE, MPLS, IP), as after an
/// Ethernet header; error offsets count from `base`.
[[nodiscard]] LayerStatus parse_ethertype(uint16_t type, Reader& r, size_t base, PacketMeta& out) noexcept;
/// An 802.11 frame (decode/wlan.cpp); `data_pad`: the MAC header is padded to 4 bytes.
[[nodiscard]] LayerStatus parse_wlan(ByteView frame, bool data_pad, PacketMeta& out) noexcept;
/// A radiotap header and the 802.11 frame after it.
[[nodiscard]] LayerStatus parse_radiotap(ByteView frame, PacketMeta& out) noexcept;
/// A LINKTYPE_NFLOG record.
[[nodiscard]] LayerStatus parse_nflog(ByteView frame, PacketMeta& out) noexcept;

}  // namespace callwall::decode::detail
