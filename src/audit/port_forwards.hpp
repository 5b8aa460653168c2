// The port forwards a ruleset publishes (no I/O): its DNAT rules, as nft
// rulesets (`tcp dport 443 dnat ip to 192.168.1.10:8443`, firewalld's
// `meta nfproto ipv4 tcp dport 443 dnat ip to ...`) and iptables dumps
// (`-j DNAT --to-destination 192.168.1.10:443`, ufw's before.rules) write
// them. An inbound server document (Jitsi, 3CX) is audited as the internet
// reaches the server: to the router's public address and a forwarded port.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::audit {

struct PortForward {
    catalog::Transport transport = catalog::Transport::Tcp;
    std::vector<catalog::PortRange> ports;  ///< the published ports (empty: every port)
    std::string public_addr;  ///< the rule's `ip daddr`/`-d` (empty: any of the router's)
    std::string to_addr;  ///< the inside server
    uint16_t to_port = 0;  ///< the port it is forwarded to (0: the same port)
    std::string rule;  ///< the rule as written, for the why
    /// The port `p` (one of `ports`) arrives at on the inside server.
    [[nodiscard]] uint16_t inside_port(uint16_t p) const { return to_port != 0 ? to_port : p; }
};

/// Every IPv4 port forward in `text` (an nft ruleset with its includes, or
/// an iptables-save dump): a DNAT rule to one address, with or without a
/// port, naming its transport (tcp, udp, or both through `meta l4proto`).
/// `define`d variables are resolved. A DNAT through a map of ports (an
/// anonymous one, or a named map's elements) gives one forward per
/// element. DNAT to ranges of addresses, and IPv6 DNAT, are left out.
[[nodiscard]] std::vector<PortForward> port_forwards(std::string_view text);

/// The forward publishing `port` over `transport`, else null.
[[nodiscard]] const PortForward* forward_for(const std::vector<PortForward>& forwards, catalog::Transport transport,
                                             uint16_t port);

}  // namespace callwall::audit
