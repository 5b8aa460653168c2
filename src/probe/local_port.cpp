// Local ports outside the inbound entries' ranges. See probe/local_port.hpp.
#include "probe/local_port.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "flow/flow_table.hpp"

namespace callwall::probe {

int bind_outside(const std::function<int()>& open, const sockaddr_in& at, std::span<const catalog::PortRange> avoid,
                 std::string* err) {
    SockAddr a;
    std::memcpy(&a.ss, &at, sizeof at);
    a.len = sizeof at;
    return bind_outside(open, a, avoid, err);
}

int bind_outside(const std::function<int()>& open, const SockAddr& at, std::span<const catalog::PortRange> avoid,
                 std::string* err) {
    constexpr int kTries = 32;
    err->clear();
    std::vector<int> held;
    int fd = -1;
    for (int i = 0; i < kTries && fd < 0; ++i) {
        const int s = open();
        if (s < 0) {
            *err = std::string("socket: ") + std::strerror(errno);
            break;
        }
        SockAddr bound = at;
        bound.set_port(0);
        socklen_t len = sizeof bound.ss;
        if (::bind(s, bound.get(), bound.len) != 0 || ::getsockname(s, bound.get(), &len) != 0) {
            *err = std::string("bind: ") + std::strerror(errno);
            ::close(s);
            break;
        }
        const uint16_t port = bound.port();
        if (std::any_of(avoid.begin(), avoid.end(),
                        [&](const catalog::PortRange& r) { return r.lo <= port && port <= r.hi; }))
            held.push_back(s);
        else
            fd = s;
    }
    for (const int s : held) ::close(s);
    if (fd < 0 && err->empty()) *err = "no local port outside the inbound entries' ranges";
    return fd;
}

int bind_next(const std::function<int()>& open, const SockAddr& at, std::span<const catalog::PortRange> avoid,
              uint16_t* cursor, std::string* err) {
    constexpr int kTries = 256;  // ports in use or in `avoid` skipped before giving up
    err->clear();
    const int s = open();
    if (s < 0) {
        *err = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    for (int i = 0; i < kTries; ++i) {
        uint16_t port = *cursor < 1024 ? 1024 : *cursor;
        *cursor = port == 65535 ? 1024 : static_cast<uint16_t>(port + 1);
        // A port the flow table takes for a server's would turn the flow round.
        if (flow::well_known_service_port(port)) continue;
        const auto in = std::find_if(avoid.begin(), avoid.end(),
                                     [&](const catalog::PortRange& r) { return r.lo <= port && port <= r.hi; });
        if (in != avoid.end()) {
            *cursor = in->hi == 65535 ? 1024 : static_cast<uint16_t>(in->hi + 1);
            continue;
        }
        SockAddr bound = at;
        bound.set_port(port);
        if (::bind(s, bound.get(), bound.len) == 0) return s;
        if (errno != EADDRINUSE) {
            *err = std::string("bind: ") + std::strerror(errno);
            break;
        }
    }
    if (err->empty()) *err = "no free local port in " + std::to_string(kTries) + " tries";
    ::close(s);
    return -1;
}

}  // namespace callwall::probe
