// The kernel filter a live capture installs by default: only what can matter
// for the catalog's verdicts passes.
#pragma once

#include <string>
#include <vector>

#include "callwall/catalog/catalog.hpp"

namespace callwall::cli {

/// DNS, ICMP/ICMPv6 errors, the TCP and UDP ports of the selected vendors'
/// entries (destination-ANY ranges included), and mirror-port tunnels (GRE,
/// VXLAN) — for untagged and VLAN-tagged frames. Empty `vendors` = all.
std::string catalog_bpf_filter(const catalog::Catalog& c, const std::vector<std::string>& vendors);

}  // namespace callwall::cli
