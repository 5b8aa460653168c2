// A probe's local port outside the ports it must not use. See local_port.cpp.
#pragma once

#include <netinet/in.h>

#include <functional>
#include <span>
#include <string>

#include "callwall/catalog/catalog.hpp"
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
/// The same for an IPv4 address (the audit's sandbox).
[[nodiscard]] int bind_outside(const std::function<int()>& open, const sockaddr_in& at,
                               std::span<const catalog::PortRange> avoid, std::string* err);

}  // namespace callwall::probe
