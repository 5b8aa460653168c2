// What the packet path knows of flow-hash sharding (analyze --workers N,
// capture --workers N): the address pair a frame is sharded by, which live
// capture's fanout program (capture/fanout.hpp) follows in the kernel too.
// The reading thread's side, the workers and the merger that writes their
// rows into the store are run/shards/'s.
#pragma once

#include <cstdint>
#include <utility>

#include "decode/packet.hpp"

namespace callwall::pipeline {

/// The addresses a frame is sharded by (worker_of hashes them as an
/// unordered pair): the pair an ICMP error quotes when it is not a fragment
/// and its quote shows an address, else the frame's own (a fragment's too:
/// a later fragment has no ports). Live capture's fanout program
/// (capture/fanout.hpp) follows the same rule in the kernel.
[[nodiscard]] inline std::pair<const decode::IpAddr*, const decode::IpAddr*> shard_pair(
    const decode::PacketMeta& m) noexcept {
    const bool quoted = m.icmp_error && !m.is_fragment && m.quoted.src.family != 0;
    return quoted ? std::pair{&m.quoted.src, &m.quoted.dst} : std::pair{&m.src, &m.dst};
}

}  // namespace callwall::pipeline
