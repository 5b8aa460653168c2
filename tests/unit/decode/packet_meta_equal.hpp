// Field-by-field equality of two PacketMeta (the struct holds views, which
// have no operator==): used to prove the fast path and the general path of
// parse_frame agree, in the unit test and in the packet fuzzer.
#pragma once

#include "decode/packet.hpp"

namespace callwall::test {

inline bool same_view(ByteView a, ByteView b) noexcept { return a.data() == b.data() && a.size() == b.size(); }

inline bool same_quote(const decode::QuotedPacket& a, const decode::QuotedPacket& b) noexcept {
    return a.src == b.src && a.dst == b.dst && a.proto == b.proto && a.sport == b.sport && a.dport == b.dport &&
           a.has_ports == b.has_ports;
}

inline bool same_meta(const decode::PacketMeta& a, const decode::PacketMeta& b) noexcept {
    return a.vlan_outer == b.vlan_outer && a.vlan_inner == b.vlan_inner && a.vlan_count == b.vlan_count &&
           a.src == b.src && a.dst == b.dst && a.ip_version == b.ip_version && a.proto == b.proto && a.ttl == b.ttl &&
           a.ip_total_len == b.ip_total_len && a.is_fragment == b.is_fragment && a.later_fragment == b.later_fragment &&
           a.frag_id == b.frag_id && same_view(a.frag_ip, b.frag_ip) && a.sport == b.sport && a.dport == b.dport &&
           a.tcp_flags == b.tcp_flags && a.tcp_seq == b.tcp_seq && a.tcp_ack == b.tcp_ack &&
           a.tcp_window == b.tcp_window && same_view(a.payload, b.payload) &&
           a.payload_wire_len == b.payload_wire_len && a.icmp_type == b.icmp_type && a.icmp_code == b.icmp_code &&
           a.icmp_error == b.icmp_error && same_quote(a.quoted, b.quoted) && a.anomalies == b.anomalies &&
           a.snap_truncated == b.snap_truncated && a.encap == b.encap && a.encap_depth == b.encap_depth &&
           a.tunnel_src == b.tunnel_src && a.tunnel_dst == b.tunnel_dst;
}

}  // namespace callwall::test
