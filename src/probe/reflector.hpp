// `callwall reflect`: the far end of a probe, on a host outside the firewall,
// often on a public address.
//
// Without 65,535 sockets: one TCP listener and one UDP socket on
// LISTEN:redirect_port, and an nftables table (`callwall_reflect_PORT`)
// whose prerouting chain DNATs every TCP and UDP port of the ranges arriving
// for LISTEN to that port (for a wildcard LISTEN, every local address:
// `fib daddr type local ... redirect`). Conntrack undoes the DNAT on the way
// back, so each answer leaves from the port the probe sent to. Ports on
// which a service of this host already listens (its management ports: ssh,
// …) are left out of a range unless named alone (`--tcp 22`).
//
// With install_nft the reflector loads the table itself through libnftables
// with the `owner` flag: the kernel ties it to the reflector's netlink
// socket and removes it when the process ends, however it ends (kill -9
// included). A kernel without owned tables (before Linux 5.12) gets a plain
// table, deleted at a clean stop and by the next start. Without install_nft
// the table is printed for the administrator.
//
// After binding its sockets and loading the table the reflector drops root
// (ReflectOptions::drop_privileges) and every capability, and answers only
// what its guard admits (probe/reflect_guard.hpp): authenticated, fresh,
// never-seen requests within each source's rate, and no answer larger than
// its request. Once a minute it logs what it answered and refused.
//
// Answers: a STUN Binding request gets a success with XOR-MAPPED-ADDRESS, an
// Allocate a 401 with REALM and NONCE; both carry the token (probe/wire.hpp).
// TCP: every connection is accepted and closed by the reflector after
// kTcpHoldS or when the client closes; one whose first bytes are an
// authenticated challenge (a ClientHello's random, or a plain probe's
// challenge message) gets one record with the token back, anything else
// gets nothing and is closed (the SYN-ACK has no room for a token).
// Bounded: stops on SIGINT/SIGTERM (or after duration_s), at most
// kMaxTcpClients connections are held (the oldest is closed first).
#pragma once

#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "probe/reflect_guard.hpp"

namespace callwall::probe {

inline constexpr double kTcpHoldS = 2.0;
inline constexpr size_t kMaxTcpClients = 1024;

struct ReflectOptions {
    std::string listen;  ///< IPv4 or IPv6 address; 0.0.0.0 or :: for every local address of the family
    uint16_t redirect_port = 30999;
    std::vector<catalog::PortRange> tcp, udp;
    std::string key;
    bool install_nft = false;
    double duration_s = 0;  ///< 0: until a signal
    GuardLimits limits;
    double summary_every_s = 60;  ///< how often the answered/refused counts are logged
    bool quiet = false;  ///< log only refusals and errors
    /// Called once the sockets are bound and the table is loaded: drops
    /// root; returns "" or why it could not. Every capability is dropped
    /// after it either way.
    std::function<std::string()> drop_privileges;
};

/// "80,443,1000-2000" -> ranges; false (and *error) on bad syntax.
bool parse_ranges(const std::string& text, std::vector<catalog::PortRange>* out, std::string* error);

/// The ports of this host (in this network namespace) on which a socket of
/// `ipproto` (IPPROTO_TCP: listening; IPPROTO_UDP: bound) would receive
/// what is sent to `listen`; read from /proc/net.
std::vector<uint16_t> local_service_ports(int ipproto, const std::string& listen);

/// `ranges` less the `services` ports that lie inside a range of more than
/// one port (a port named alone stays), and less nothing else; the ports
/// left out in *left_out.
std::vector<catalog::PortRange> without_services(const std::vector<catalog::PortRange>& ranges,
                                                 const std::vector<uint16_t>& services,
                                                 std::vector<uint16_t>* left_out);

/// The nftables ruleset text for the options; `owned` adds the owner flag.
std::string nft_ruleset(const ReflectOptions& o, bool owned = false);

/// True for 0.0.0.0 and ::.
bool is_wildcard(const std::string& listen);

/// Runs until *stop or duration; returns 0, or 1 after printing to `log` why it could not start.
int run_reflector(const ReflectOptions& o, const volatile std::sig_atomic_t* stop, std::FILE* log);

}  // namespace callwall::probe
