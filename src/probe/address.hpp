// IPv4 and IPv6 socket addresses for the probe and the reflector: a literal
// ("192.0.2.7", "2001:db8::7") to a sockaddr and back. See address.cpp.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "bytes/reader.hpp"

namespace callwall::probe {

/// A socket address of either family.
struct SockAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;

    [[nodiscard]] int family() const noexcept { return ss.ss_family; }
    [[nodiscard]] const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&ss); }
    [[nodiscard]] sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&ss); }
    [[nodiscard]] uint16_t port() const noexcept;
    void set_port(uint16_t port) noexcept;
    /// The address bytes: 4 (IPv4) or 16 (IPv6).
    [[nodiscard]] ByteView ip() const noexcept;
    /// The address as text, without the port.
    [[nodiscard]] std::string text() const;
};

/// An IPv4 or IPv6 literal and a port; nullopt for anything else (names
/// are resolved elsewhere).
std::optional<SockAddr> parse_address(const std::string& literal, uint16_t port = 0);
/// The wildcard address of a family (AF_INET or AF_INET6), port 0.
SockAddr any_address(int family);
/// True for an IPv6 literal.
bool is_ipv6(const std::string& literal);
/// "192.0.2.7:443", "[2001:db8::7]:443" (RFC 3986 §3.2.2 brackets).
std::string with_port(const std::string& literal, uint16_t port);

}  // namespace callwall::probe
