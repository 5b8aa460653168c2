// Socket addresses. See probe/address.hpp.
#include "probe/address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace callwall::probe {

uint16_t SockAddr::port() const noexcept {
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

void SockAddr::set_port(uint16_t port) noexcept {
    if (family() == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
    else
        reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
}

ByteView SockAddr::ip() const noexcept {
    if (family() == AF_INET6)
        return {reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr), 16};
    return {reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr), 4};
}

std::string SockAddr::text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family(), ip().data(), buf, sizeof buf);
    return buf;
}

std::optional<SockAddr> parse_address(const std::string& literal, uint16_t port) {
    SockAddr a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    if (::inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        a.len = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        a.len = sizeof(sockaddr_in6);
    } else {
        return std::nullopt;
    }
    a.set_port(port);
    return a;
}

SockAddr any_address(int family) {
    SockAddr a;
    a.ss.ss_family = static_cast<sa_family_t>(family);
    a.len = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    return a;
}

bool is_ipv6(const std::string& literal) {
    in6_addr a{};
    return ::inet_pton(AF_INET6, literal.c_str(), &a) == 1;
}

std::string with_port(const std::string& literal, uint16_t port) {
    return (is_ipv6(literal) ? "[" + literal + "]" : literal) + ":" + std::to_string(port);
}

}  // namespace callwall::probe
