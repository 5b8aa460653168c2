// `callwall reflect`: the far end of a probe, on a host outside the firewall.
//
// Without 65,535 sockets: one TCP listener and one UDP socket on
// LISTEN:redirect_port, and an nftables table (`callwall_reflect`) whose
// prerouting chain DNATs every TCP and UDP port of the ranges arriving for
// LISTEN to that port. Conntrack undoes the DNAT on the way back, so each
// answer leaves from the port the probe sent to. With install_nft the
// reflector loads the table itself (`nft -f`) and deletes it when it stops;
// otherwise it prints it for the administrator. Needs CAP_NET_ADMIN for the
// table only.
//
// Answers: a STUN Binding request gets a success with XOR-MAPPED-ADDRESS, an
// Allocate a 401 with REALM and NONCE; both carry the HMAC token
// (probe/wire.hpp). TCP: every connection is accepted, read and closed by the
// reflector after kTcpHoldS or when the client closes; a connection whose
// first bytes are a challenge (a ClientHello's random, or a plain probe's
// challenge message) gets one record with the token for it back, anything
// else gets nothing (the SYN-ACK has no room for a token).
// Bounded: stops on SIGINT/SIGTERM (or after duration_s), at most
// kMaxTcpClients connections are held (the oldest is closed first).
#pragma once

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "callwall/catalog/catalog.hpp"

namespace callwall::probe {

inline constexpr double kTcpHoldS = 2.0;
inline constexpr size_t kMaxTcpClients = 1024;

struct ReflectOptions {
    std::string listen;  ///< IPv4 address
    uint16_t redirect_port = 30999;
    std::vector<catalog::PortRange> tcp, udp;
    std::string key;
    bool install_nft = false;
    double duration_s = 0;  ///< 0: until a signal
};

/// "80,443,1000-2000" -> ranges; false (and *error) on bad syntax.
bool parse_ranges(const std::string& text, std::vector<catalog::PortRange>* out, std::string* error);

/// The nftables ruleset text for the options.
std::string nft_ruleset(const ReflectOptions& o);

/// Runs until *stop or duration; returns 0, or 1 after printing to `log` why it could not start.
int run_reflector(const ReflectOptions& o, const volatile std::sig_atomic_t* stop, std::FILE* log);

}  // namespace callwall::probe
