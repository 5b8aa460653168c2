// The kernel filter a live capture installs by default: only what can matter
// for the catalog's verdicts passes.
//
// What passes: DNS (port 53), ICMP errors and ICMPv6, the TCP and UDP ports of
// the selected vendors' entries (destination-ANY ranges included),
// mirror-port tunnels (GRE, VXLAN), and every packet to or from an address
// that a vendor name resolved to during the run (so a vendor's traffic on a
// port the catalog does not list is seen as the catalog gap it is).
//
// Each of these in untagged frames, under one VLAN tag and under two (QinQ,
// 802.1ad outer + 802.1Q inner). libpcap's `vlan` keyword moves the offsets
// of everything after it, across `or` too, so the tagged variants nest:
// `(X) or (vlan and ((X) or (vlan and (X))))`; appending `or (vlan and vlan
// and (X))` instead would look for the doubly tagged header 12 bytes in.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::catalog {

/// Vendor addresses a filter holds at most. An IPv6 address costs about 18
/// classic-BPF instructions per tag depth (three depths), an IPv4 one about
/// 6; the kernel takes at most 4096 (BPF_MAXINSNS) and the catalog's ports
/// take about 700, so 48 IPv6 addresses leave room for the catalog to grow
/// (test LiveFilter.FullFilterFitsTheKernelsInstructionLimit).
inline constexpr size_t kMaxFilterAddresses = 48;

struct LiveFilter {
    std::string expression;
    size_t addresses = 0;  ///< vendor addresses in the expression
    size_t addresses_left_out = 0;  ///< beyond kMaxFilterAddresses (not valid addresses are not counted)
};

/// The filter for the entries of `vendors` (case-insensitive; empty = all)
/// plus the `vendor_addresses` (IPv4 or IPv6 literals; anything else is
/// ignored, duplicates count once, the first kMaxFilterAddresses are kept).
[[nodiscard]] LiveFilter live_filter(const Catalog& c, const std::vector<std::string>& vendors,
                                     const std::vector<std::string>& vendor_addresses = {});

}  // namespace callwall::catalog
