// Live capture split across sockets by the kernel (PACKET_FANOUT), as
// Suricata and Zeek read a busy interface with several workers.
//
// A fanout group is a set of packet sockets on one interface; the kernel
// hands each packet to exactly one of them. Which one is ours to choose
// (PACKET_FANOUT_CBPF): the kernel's own flow hash (PACKET_FANOUT_HASH) keeps
// the two directions of a 5-tuple together but not what a worker needs
// together — every fragment of a datagram (a later fragment has no ports) and
// every ICMP error with the flow it quotes (the proof that a firewall said
// no). So the group runs fanout_program(): a classic BPF program returning a
// hash of the unordered address pair, the pair quoted by an ICMP or ICMPv6
// error where run::Shards::worker_of takes it (an error that is not a
// fragment, whose quote shows an IPv4 or IPv6 header's addresses within the
// error's datagram), through any VLAN
// tags left in the frame, PPPoE and IPv6 extension headers as the decoder
// walks them. The kernel takes the returned value modulo the group's size.
// Through a tunnel (GRE, ERSPAN types I to III, VXLAN on port 4789,
// VXLAN-GPE on 4790, GRE in UDP on 4754, IP in IP and 6in4, EtherIP, and
// an MPLS label stack inside GRE, as the decoder recognises them) the program goes on to the inner packet and
// hashes its pair, so a remote mirror's traffic is spread as a local one's
// is. One tunnel deep: a tunnel inside a tunnel (the decoder goes three
// deep) is hashed by the pair of the packet around the innermost one —
// the same for both directions and every fragment of the innermost flow,
// so it still stays on one socket, but not on the one
// run::Shards::worker_of would pick for it. Geneve, GTP-U, PPTP, AYIYA,
// Teredo and MPLS outside GRE are not walked: hashed by the tunnel's pair,
// which keeps an inner flow on one socket when its tunnel is one pair both
// ways; MPLS frames are no IP to the program and all go to the first
// socket.
//
// The program reads relative to the network header (SKF_NET_OFF) and the
// frame's ethertype from the kernel (SKF_AD_PROTOCOL): fanout runs before a
// received packet's link header is pushed back, so offsets from the start of
// the data would differ between received and sent packets.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"

namespace callwall::capture {

/// The fanout program (built once; jumps checked when it is built).
const std::vector<sock_filter>& fanout_program();

/// Opens `sockets` (≥ 1) live sources on `options.interface` in one fanout
/// group running fanout_program(), non-blocking, `options.filter` installed
/// on each once every socket has joined (until then each drops everything,
/// so no packet reaches a socket outside the group's split). Throws
/// CaptureError naming the interface when a socket cannot be opened, of
/// kind FanoutRefused when the kernel refuses the group (no
/// PACKET_FANOUT_CBPF before Linux 4.2, or a sandbox's seccomp profile).
std::vector<std::unique_ptr<PcapSource>> open_fanout(const LiveOptions& options, int sockets);

}  // namespace callwall::capture
