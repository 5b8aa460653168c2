#include "audit/replay_sockets.hpp"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace callwall::audit::sandbox {

int socket_in(int ns, int router, int type, int family) {
    if (::setns(ns, CLONE_NEWNET) != 0) return -1;
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::setns(router, CLONE_NEWNET);
    if (fd >= 0 && family == AF_INET6) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    return fd;
}

// An IPv4 or IPv6 literal and a port (an unreadable literal: an AF_UNSPEC
// address every bind and connect refuses).
probe::SockAddr address(const std::string& ip, uint16_t port) {
    auto a = probe::parse_address(ip, port);
    return a ? *a : probe::SockAddr{};
}

// Asks for ICMP errors on the socket's queue (IP_RECVERR, IPV6_RECVERR).
void receive_errors(int fd, int family) {
    const int one = 1;
    if (family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
    else
        ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
}

// An ICMP error queued on a UDP socket (IP_RECVERR), as text.
std::string icmp_error(int fd) {
    char data[256], control[512];
    iovec iov{data, sizeof data};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    if (::recvmsg(fd, &m, MSG_ERRQUEUE) < 0) return "an error";
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
        const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
        if (!v4 && !v6) continue;
        sock_extended_err e{};
        std::memcpy(&e, CMSG_DATA(c), sizeof e);
        if (e.ee_origin == SO_EE_ORIGIN_ICMP)
            return "icmp type " + std::to_string(e.ee_type) + " code " + std::to_string(e.ee_code);
        if (e.ee_origin == SO_EE_ORIGIN_ICMP6)
            return "icmpv6 type " + std::to_string(e.ee_type) + " code " + std::to_string(e.ee_code);
        return std::strerror(static_cast<int>(e.ee_errno));
    }
    return "an error";
}

// A socket of the client bound to a port of `range`, the next in turn
// after `seq` (outside `avoid` while the range has others): consecutive
// probes leave from different ports, so that none meets the conntrack
// entry of another. -1 with errno set when no port of the range binds.
int bind_in_range(const Namespaces& ns, int type, probe::SockAddr at, catalog::PortRange range,
                  const std::vector<catalog::PortRange>* avoid, uint32_t& seq) {
    const uint32_t size = static_cast<uint32_t>(range.hi) - range.lo + 1;
    auto avoided = [&](uint32_t port) {
        return avoid && std::any_of(avoid->begin(), avoid->end(),
                                    [&](const catalog::PortRange& a) { return a.lo <= port && port <= a.hi; });
    };
    // First outside `avoid` and not in use; then (a range all avoided or
    // all taken) sharing a port with SO_REUSEADDR.
    for (int shared = 0; shared < 2; ++shared) {
        for (uint32_t k = 0; k < std::min<uint32_t>(size, 256); ++k) {
            const uint32_t port = range.lo + (seq++ % size);
            if (!shared && avoided(port)) continue;
            const int fd = socket_in(ns.client, ns.router, type, at.family());
            if (fd < 0) return -1;
            const int one = 1;
            if (shared) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            at.set_port(static_cast<uint16_t>(port));
            if (::bind(fd, at.get(), at.len) == 0) return fd;
            ::close(fd);
        }
    }
    return -1;
}

}  // namespace callwall::audit::sandbox
