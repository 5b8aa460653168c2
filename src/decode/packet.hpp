// Stateless decoding below the application: link, IP, transport, ICMP errors.
//
// Normative references: IEEE 802.3 / 802.1Q / 802.1ad (Ethernet, VLAN, QinQ);
// tcpdump LINKTYPE_LINUX_SLL / LINUX_SLL2 / NULL / RAW / IPV4 / IPV6;
// RFC 791 (IPv4, options, fragments), RFC 8200 (IPv6 and its extension
// header chain), RFC 9293 (TCP), RFC 768 (UDP), RFC 792 / RFC 1812 §4.3.2.3
// (ICMP errors quote the IP header + at least 8 bytes), RFC 4443 (ICMPv6).
//
// Mirror-port encapsulations are removed and the inner packet decoded in
// their place: GRE (RFC 2784/2890) carrying IP or Ethernet (0x6558), ERSPAN
// type I/II (GRE 0x88BE) and type III (GRE 0x22EB), VXLAN (RFC 7348,
// UDP 4789), Geneve (RFC 8926, UDP 6081, options skipped), GTP-U (3GPP TS
// 29.281 §5, UDP 2152: G-PDUs, with their optional fields and extension
// headers), MPLS label stacks (RFC 3032, ethertypes 0x8847/0x8848: IPv4 or
// IPv6 by the first nibble, or an Ethernet pseudowire behind the RFC 4385
// control word) and PPTP's enhanced GRE (RFC 2637 §4.1, version 1,
// carrying PPP), at most kMaxEncapDepth levels deep. Tunnels of IP: IP in
// IP and 6in4 (RFC 2003, RFC 4213: IP protocols 4 and 41, under IPv4 or
// IPv6), EtherIP (RFC 3378, protocol 97), MPLS in IP (RFC 4023, protocol
// 137), GRE in UDP (RFC 8086, UDP 4754), VXLAN-GPE (draft-ietf-nvo3-vxlan-
// gpe, UDP 4790), MPLS in UDP (RFC 7510, UDP 6635), AYIYA (draft-massar-
// v6ops-ayiya, UDP 5072 either way), Teredo (RFC 4380, UDP 3544 either way,
// with its authentication and origin indication headers); MPLS in GRE
// (RFC 4023 §3) and PPP in GRE version 0. A UDP datagram to one of those
// ports that is not the tunnel's (a header that does not check out) stays a
// UDP flow. PPP links: RFC 1661/
// 1662 (LINKTYPE_PPP, PPP_HDLC, with or without the address/control field,
// protocol field compression), Cisco HDLC on PPP_HDLC, PPPoE sessions
// (RFC 2516: ethertype 0x8864, LINKTYPE_PPP_ETHER). NFLOG (LINKTYPE_NFLOG:
// the netlink TLVs walked to NFULA_PAYLOAD, AF_INET/AF_INET6 only). Cisco
// HDLC (LINKTYPE_C_HDLC). IEEE 802.11 (decode/wlan.cpp): LINKTYPE_IEEE802_11,
// behind a radiotap header (LINKTYPE_IEEE802_11_RADIOTAP) or a PPI header
// (LINKTYPE_PPI); data frames with LLC/SNAP, QoS data and the 4-address
// (WDS/mesh) form are decoded; management and control frames are skipped
// (kAnomalyWlanNotData), protected (encrypted) data frames are not decoded
// (kAnomalyWlanProtected), for the run's notes.
// An encapsulation recognised whose content is not decoded (another GRE
// protocol, a Geneve protocol type other than Ethernet/IP, a non-IP G-PDU,
// an MPLS payload that is neither IP nor a control word, PPP control or
// compressed frames in PPTP, too deep) fails the frame and is named in
// PacketMeta::undecoded_in, for the run's notes.
//
// Fragments are decoded as they come (a first fragment up to its transport
// header, a later one as raw payload) and point at their IP packet
// (PacketMeta::frag_ip); reassembly is stateful and lives in
// decode/ip_reassembly.hpp, used by the packet path.
//
// An IPv4 total length of 0 (a TSO/GSO super-frame captured on the sending
// host) is taken as the captured length, as Wireshark does.
//
// Not supported: ESP payloads (encrypted), L2TP; Ethernet
// pseudowires without a control word; Geneve OAM is decoded as data;
// GTPv1-U control messages (echo, error indication, end marker) stay UDP
// flows of the tunnel; checksum verification (captures on the sending host
// carry offloaded checksums).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "bytes/reader.hpp"
#include "bytes/result.hpp"

namespace callwall::decode {

/// libpcap link-layer header types (LINKTYPE_* values as they appear in files).
enum class LinkType : uint32_t {
    Null = 0,  ///< BSD loopback: 4-byte host-endian address family
    Ethernet = 1,
    Ppp = 9,  ///< PPP (RFC 1661), the address/control field optional
    DltRaw = 12,  ///< DLT_RAW as libpcap reports LINKTYPE_RAW on Linux
    DltRawBsd = 14,  ///< DLT_RAW on some BSDs
    PppHdlc = 50,  ///< PPP in HDLC-like framing (RFC 1662), or Cisco HDLC
    PppEther = 51,  ///< PPPoE session header (RFC 2516), then PPP
    Raw = 101,  ///< raw IPv4 or IPv6, version nibble decides
    CiscoHdlc = 104,  ///< Cisco HDLC: address, control, an ethertype
    Ieee80211 = 105,  ///< 802.11 frames, no radio header
    Loop = 108,  ///< OpenBSD loopback: 4-byte network-endian family
    LinuxSll = 113,
    Ieee80211Radiotap = 127,  ///< a radiotap header, then the 802.11 frame
    Ppi = 192,  ///< a Per-Packet Information header, then a frame of the link type it names
    Ipv4 = 228,
    Ipv6 = 229,
    Nflog = 239,  ///< Linux NFLOG: family, version, resource id, netlink TLVs
    LinuxSll2 = 276,
};

[[nodiscard]] bool link_type_supported(uint32_t linktype) noexcept;

/// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes, the rest are zero.
struct IpAddr {
    std::array<uint8_t, 16> bytes{};
    uint8_t family = 0;  ///< 4 or 6; 0 = unset

    /// The defaulted == compared the bytes through a call to memcmp (NameMap
    /// looks up by address on the packet path); the same, as two 8-byte
    /// compares.
    friend bool operator==(const IpAddr& x, const IpAddr& y) noexcept {
        uint64_t a[2], b[2];
        std::memcpy(a, x.bytes.data(), sizeof a);
        std::memcpy(b, y.bytes.data(), sizeof b);
        return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0 && x.family == y.family;
    }
    friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
    [[nodiscard]] static IpAddr v4(uint32_t host_order) noexcept;
    [[nodiscard]] static IpAddr from_bytes(ByteView raw) noexcept;  ///< 4 or 16 bytes
};

/// FNV-1a offset basis, the seed for hash_append().
inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ull;
/// Folds an address (family and all 16 bytes) into an FNV-1a hash: the one
/// address hash of the hash maps keyed by addresses.
[[nodiscard]] inline uint64_t hash_append(uint64_t h, const IpAddr& a) noexcept {
    constexpr uint64_t kFnvPrime = 0x100000001b3ull;
    h = (h ^ a.family) * kFnvPrime;
    for (uint8_t b : a.bytes) h = (h ^ b) * kFnvPrime;
    return h;
}

/// Text form ("192.0.2.1", "2001:db8::1") — not for the packet path.
[[nodiscard]] std::string to_string(const IpAddr& a);
/// The same text without allocation (buffer ≥ 46 bytes; "?" for an address
/// of no family); returns its length.
size_t format_ip(const IpAddr& a, char* buf, size_t cap) noexcept;
/// Parses the text form; false when it is not an address.
[[nodiscard]] bool parse_ip(std::string_view text, IpAddr& out) noexcept;

enum : uint8_t {
    kProtoIcmp = 1,
    kProtoIpip = 4,
    kProtoTcp = 6,
    kProtoUdp = 17,
    kProtoIpv6 = 41,
    kProtoGre = 47,
    kProtoIcmp6 = 58,
    kProtoEtherIp = 97,
    kProtoMplsInIp = 137,
};

/// Encapsulation removed to reach the packet (the outermost one).
enum class Encap : uint8_t {
    None,
    Gre,
    ErspanI,
    ErspanII,
    ErspanIII,
    Vxlan,
    Geneve,
    Gtpu,
    Mpls,
    Pptp,
    IpInIp,  ///< IPv4 or IPv6 in IPv4 or IPv6 (IP protocol 4 or 41)
    EtherIp,
    GreUdp,
    VxlanGpe,
    Ayiya,
    Teredo,
};
inline constexpr int kEncapKinds = 16;
[[nodiscard]] std::string_view to_string(Encap e) noexcept;
/// Tunnels inside tunnels are followed this deep; deeper is refused (a
/// hostile packet must not make us recurse without bound).
inline constexpr int kMaxEncapDepth = 3;

enum TcpFlag : uint8_t {
    kTcpFin = 0x01,
    kTcpSyn = 0x02,
    kTcpRst = 0x04,
    kTcpPsh = 0x08,
    kTcpAck = 0x10,
};

/// Recoverable oddities; the caller counts them, nothing is logged per packet.
enum Anomaly : uint32_t {
    kAnomalyIpv4Options = 1u << 0,
    kAnomalyIpv6ExtHeaders = 1u << 1,
    kAnomalyEthernetPadding = 1u << 2,
    kAnomalyIpLengthBeyondCapture = 1u << 3,  ///< snaplen cut the IP datagram
    kAnomalyIpLengthBelowHeader = 1u << 4,
    kAnomalyTooManyVlanTags = 1u << 5,
    kAnomalyTooManyExtHeaders = 1u << 6,
    kAnomalyUdpLengthMismatch = 1u << 7,
    kAnomalyTcpBadOffset = 1u << 8,
    kAnomalyEncapTooDeep = 1u << 9,
    kAnomalyIpv4ZeroTotalLength = 1u << 10,  ///< total length 0 (TSO super-frame): the captured length was used
    kAnomalyIpv6ZeroPayloadLength = 1u << 11,  ///< payload length 0 (a jumbogram): the captured length was used
    /// 802.11 management or control frame (or a data frame without data:
    /// null function): no IP in it, skipped.
    kAnomalyWlanNotData = 1u << 12,
    /// 802.11 data frame with the Protected bit: encrypted (WEP, WPA2/3),
    /// no key to read it.
    kAnomalyWlanProtected = 1u << 13,
    /// 802.11 A-MSDU of several packets in one frame: not decoded (one
    /// frame hands on one packet).
    kAnomalyWlanAmsdu = 1u << 14,
};

/// The 5-tuple of a packet quoted inside an ICMP/ICMPv6 error. A quoted ICMP
/// echo request/reply is keyed as its flow is: the identifier is the
/// requester's "port" and 0 the responder's (see PacketMeta::sport).
struct QuotedPacket {
    IpAddr src, dst;
    uint8_t proto = 0;
    uint16_t sport = 0, dport = 0;  ///< 0 when the quote is too short to hold them
    bool has_ports = false;  ///< TCP/UDP ports or an echo identifier were quoted
};

/// Everything the flow stage needs from one frame. Views point into the frame
/// and are valid only during the packet callback.
struct PacketMeta {
    // Members are ordered to leave no padding: 192 bytes, three cache lines,
    // which parse_frame overwrites with a reset copy on every packet. Keep it
    // so when adding one (fill a hole, do not open a line).
    // link
    uint16_t vlan_outer = 0, vlan_inner = 0;
    uint8_t vlan_count = 0;
    // network
    IpAddr src, dst;
    uint8_t ip_version = 0;
    uint8_t proto = 0;  ///< IP protocol of the transport (after IPv6 ext headers)
    uint8_t ttl = 0;  ///< IPv4 TTL or IPv6 hop limit
    uint16_t tcp_window = 0;  ///< (transport; here to fill a hole)
    uint32_t ip_total_len = 0;  ///< datagram length per the IP header
    bool is_fragment = false;  ///< any fragment (first or later)
    bool later_fragment = false;  ///< offset != 0: no transport header here
    uint8_t icmp_type = 0, icmp_code = 0;  ///< (ICMP / ICMPv6; here to fill a hole)
    uint32_t frag_id = 0;
    /// Fragments only (empty otherwise): the IP packet from its header to the
    /// datagram's end, clipped to the capture — what IpReassembler reads.
    ByteView frag_ip{};
    // transport
    /// TCP/UDP ports; for an ICMP/ICMPv6 echo request id → 0, for an echo
    /// reply 0 → id, so a ping and its answer are one flow.
    uint16_t sport = 0, dport = 0;
    uint8_t tcp_flags = 0;
    bool icmp_error = false;  ///< destination unreachable, time exceeded, packet too big, parameter problem
    bool snap_truncated = false;  ///< the capture holds fewer bytes than the headers promise
    uint8_t encap_depth = 0;
    uint32_t tcp_seq = 0, tcp_ack = 0;
    ByteView payload{};  ///< L4 payload trimmed to the IP/UDP length, clipped to the capture
    uint32_t payload_wire_len = 0;  ///< payload length per the headers (≥ payload.size())
    // ICMP / ICMPv6 errors
    QuotedPacket quoted{};
    uint32_t anomalies = 0;
    Encap encap = Encap::None;  ///< outermost encapsulation removed
    IpAddr tunnel_src, tunnel_dst;  ///< outer addresses of the outermost tunnel
    /// A failed frame: the encapsulation whose content could not be decoded
    /// (None: the frame failed elsewhere). (In the last byte, a hole.)
    Encap undecoded_in = Encap::None;
};

/// Success or the error of one layer function.
struct LayerStatus {
    bool ok = true;
    DecodeError error{};
    [[nodiscard]] static constexpr LayerStatus fail(DecodeErrorCode c, size_t off) noexcept {
        return {false, make_error(c, off)};
    }
};

/// Decodes one captured frame into `out` (reset first; the packet path keeps
/// one PacketMeta and reuses it). NotThisProtocol: not IP (ARP, LLDP, …);
/// Truncated: the headers needed for the 5-tuple are cut; Malformed: impossible
/// header values; Unsupported: unknown link type. Untagged Ethernet/IPv4/UDP
/// or TCP frames take a fixed-offset fast path that fills the same fields.
[[nodiscard]] LayerStatus parse_frame(uint32_t linktype, ByteView frame, PacketMeta& out) noexcept;
/// The same for the packet path, which needs only success: returns
/// LayerStatus::ok as a plain bool. Returning the struct cost a store-
/// forwarding stall on every packet (GCC built it on the stack byte by byte
/// and read it back whole), about a third of the fast path's time.
[[nodiscard]] bool parse_frame_ok(uint32_t linktype, ByteView frame, PacketMeta& out) noexcept;
/// The same, returning a copy (tests, fuzzers, tools).
[[nodiscard]] Result<PacketMeta> parse_frame(uint32_t linktype, ByteView frame) noexcept;

/// Layer entry points (exposed for tests and the fuzzer). Each fills `out`
/// from the given layer downwards; offsets in errors are relative to the view.
[[nodiscard]] LayerStatus parse_ethernet(ByteView frame, PacketMeta& out) noexcept;
[[nodiscard]] LayerStatus parse_ip(ByteView packet, PacketMeta& out) noexcept;

}  // namespace callwall::decode
