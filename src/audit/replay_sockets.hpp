// The sockets of an audit's probes, in the sandbox's namespaces (replay.cpp
// runs the probes): opened in a namespace, addressed in either family, bound
// to a client port of a range, and the ICMP (ICMPv6) error queued on them
// read as text. Private to src/audit; runs in the forked child only.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "audit/sandbox.hpp"
#include "catalog/catalog.hpp"
#include "probe/address.hpp"

namespace callwall::audit::sandbox {

/// A socket of `type` and `family` (AF_INET, AF_INET6: IPv6 only) opened in
/// namespace `ns`, non-blocking; the caller is back in `router` after. -1: refused.
int socket_in(int ns, int router, int type, int family = AF_INET);

/// An IPv4 or IPv6 literal and a port (an unreadable literal: an AF_UNSPEC
/// address every bind and connect refuses).
probe::SockAddr address(const std::string& ip, uint16_t port);

/// Asks for ICMP errors on the socket's queue (IP_RECVERR, IPV6_RECVERR).
void receive_errors(int fd, int family);

/// The ICMP or ICMPv6 error queued on a socket, as text ("icmp type 3 code
/// 3", "icmpv6 type 1 code 4"), else the error it carries, else "an error".
std::string icmp_error(int fd);

/// A socket of the client bound to a port of `range`, the next in turn
/// after `seq` (outside `avoid` while the range has others): consecutive
/// probes leave from different ports, so that none meets the conntrack
/// entry of another. -1 with errno set when no port of the range binds.
int bind_in_range(const Namespaces& ns, int type, probe::SockAddr at, catalog::PortRange range,
                  const std::vector<catalog::PortRange>* avoid, uint32_t& seq);

}  // namespace callwall::audit::sandbox
