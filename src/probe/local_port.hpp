// A probe's local port outside the ports it must not use. See local_port.cpp.
#pragma once

#include <netinet/in.h>

#include <functional>
#include <span>
#include <string>

#include "catalog/catalog.hpp"
#include "probe/address.hpp"

namespace callwall::probe {

// Binds a socket from `open` to `at`'s address on a port of the kernel's
// choosing outside `avoid` (an inbound entry's local ports: an answered
// probe there would read as evidence for an entry it did not exercise).
// Sockets the kernel gives a port inside are held until one outside comes,
// so it does not offer the same port again, then closed. Returns the bound
// socket, or -1 with `err` set (a failed socket or bind, or no port outside
// in a few tries). `open` returns a fresh socket or -1 with errno set; the
// probe opens its own, the audit's opens in the client's namespace.
[[nodiscard]] int bind_outside(const std::function<int()>& open, const SockAddr& at,
                               std::span<const catalog::PortRange> avoid, std::string* err);
/// Binds a socket from `open` to `at`'s address on the next free port after
/// *cursor (1024-65535, wrapping, outside `avoid` and never a port the flow
/// table takes for a server's), and moves the cursor past it. A sweep takes its ports this way, in turn, so that no port comes
/// back before every other one was used: the reflector's DNAT sends every
/// probe to one port, so two flows from one local port within the time a
/// NAT keeps a mapping (30 s for UDP) would share a reply tuple, and the
/// second would be dropped on the reflector's host — a block nobody made.
[[nodiscard]] int bind_next(const std::function<int()>& open, const SockAddr& at,
                            std::span<const catalog::PortRange> avoid, uint16_t* cursor, std::string* err);
/// The same for an IPv4 address (the audit's sandbox).
[[nodiscard]] int bind_outside(const std::function<int()>& open, const sockaddr_in& at,
                               std::span<const catalog::PortRange> avoid, std::string* err);

}  // namespace callwall::probe
