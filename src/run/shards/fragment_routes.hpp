// Private to run/shards/shards.cpp: the worker of each fragment of a
// tunnel's fragmented outer IPv4 datagram.
//
// A GRE/ERSPAN or UDP (VXLAN, Geneve, GTP-U) mirror whose outer packets are
// fragmented: a fragment shows only the tunnel's pair, while the tunnel's
// whole packets go to the worker of the pair inside them (shard_pair). Were
// the fragments sharded by the tunnel's pair, the datagrams they make up
// would join their inner flows on another worker than the whole packets do,
// and the flow be counted twice. So a datagram's worker is chosen once, at
// the first of its fragments seen: when that is the first fragment (offset
// 0) and what it holds decodes down to the packet inside, the worker of
// that packet; otherwise the tunnel pair's. Every other fragment of the
// datagram (same source, destination, protocol and identification) follows,
// so the datagram is reassembled whole on one worker — the one its inner
// flow lives on. Not covered: a datagram whose first fragment comes after
// another of its fragments (it stays on the tunnel pair's worker, its inner
// packet counted there); IPv6 outer fragments (sharded by their pair).
//
// Bounds: kRoutes datagrams remembered, the oldest forgotten first; a
// scratch copy of one datagram, allocated once.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "decode/ip_reassembly.hpp"
#include "decode/packet.hpp"

namespace callwall::run {

class FragmentRoutes {
public:
    /// Datagrams remembered: four times what one reassembler keeps in progress.
    static constexpr size_t kRoutes = 4 * decode::IpReassembler::kMaxDatagrams;

    FragmentRoutes() : scratch_(decode::IpReassembler::kMaxDatagramBytes) {}

    /// Whether fragment `m` is one this routes: IPv4, GRE or UDP.
    [[nodiscard]] static bool applies(const decode::PacketMeta& m) noexcept {
        return m.is_fragment && m.ip_version == 4 && (m.proto == decode::kProtoGre || m.proto == decode::kProtoUdp);
    }

    /// The worker of fragment `m` (applies(m)); `outer` is the tunnel
    /// pair's, `worker_of` gives the worker of a decoded inner packet.
    template <class WorkerOf>
    size_t worker(const decode::PacketMeta& m, size_t outer, WorkerOf&& worker_of) noexcept {
        decode::FragmentView f;
        if (!decode::parse_fragment(m.frag_ip, f)) return outer;
        for (const Route& r : routes_)
            if (r.used && r.id == f.id && r.proto == f.proto && r.src == f.src && r.dst == f.dst) return r.worker;
        size_t w = outer;
        decode::PacketMeta inner;
        if (f.offset == 0 && decode_first(m.frag_ip, inner)) w = worker_of(inner);
        routes_[next_++ % kRoutes] = Route{f.src, f.dst, f.id, f.proto, true, w};
        return w;
    }

private:
    // The first fragment decoded as if it were the whole datagram: the IPv4
    // header's fragment fields cleared and its length cut to what the
    // fragment holds (the tunnel's headers and the inner packet's are there;
    // the inner packet's own lengths then run past the end, as with a
    // snaplen, which the decoder takes).
    bool decode_first(ByteView ip, decode::PacketMeta& inner) noexcept {
        if (ip.size() < 20 || ip.size() > scratch_.size()) return false;
        std::memcpy(scratch_.data(), ip.data(), ip.size());
        scratch_[2] = static_cast<uint8_t>(ip.size() >> 8);
        scratch_[3] = static_cast<uint8_t>(ip.size());
        scratch_[6] &= 0x40;  // keep DF; clear MF and the offset
        scratch_[7] = 0;
        const ByteView whole(scratch_.data(), ip.size());
        return decode::parse_ip(whole, inner).ok && !inner.is_fragment && inner.encap != decode::Encap::None;
    }

    struct Route {
        decode::IpAddr src, dst;
        uint32_t id = 0;
        uint8_t proto = 0;
        bool used = false;
        size_t worker = 0;
    };
    std::array<Route, kRoutes> routes_{};
    size_t next_ = 0;
    std::vector<uint8_t> scratch_;
};

}  // namespace callwall::run
