// Sending probes. See probe/sender.hpp.
#include "probe/sender.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>

#include "probe/address.hpp"
#include "probe/local_port.hpp"
#include "probe/wire.hpp"
#include "util/clock.hpp"

namespace callwall::probe {
namespace {

std::string seconds(double s) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f s", s);
    return b;
}

enum class Phase : uint8_t { Connecting, AwaitServer, Udp, Done };

struct Active {
    size_t index = 0;
    int fd = -1;
    Phase phase = Phase::Done;
    double deadline = 0;  // TCP: give up; UDP: next send or give up
    TransactionId tid{};
    std::vector<uint8_t> request;
    // TCP with a key: the challenge sent and what has come back so far.
    Challenge challenge{};
    std::array<uint8_t, kTcpAnswerSize> answer{};
    size_t answered = 0;
};

int open_socket(const Probe& p, bool udp, const std::vector<catalog::PortRange>& avoid, uint16_t* cursor,
                std::string* err) {
    const std::optional<SockAddr> to = parse_address(p.addr, p.port);
    if (!to) {
        *err = "not an IPv4 or IPv6 address: " + p.addr;
        return -1;
    }
    const int family = to->family();
    const auto open = [udp, family] {
        return ::socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    };
    // A swept port's socket takes the next local port in turn (bind_next).
    const int fd = p.swept ? bind_next(open, any_address(family), avoid, cursor, err)
                           : bind_outside(open, any_address(family), avoid, err);
    if (fd < 0) return -1;
    if (::connect(fd, to->get(), to->len) != 0 && errno != EINPROGRESS) {
        *err = std::string("connect: ") + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads what is waiting, then closes with a FIN (unread data would make
// close() send a RST, which is not polite).
void close_politely(int fd) {
    uint8_t buf[4096];
    for (int i = 0; i < 64 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; ++i) {}
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
}

void finish(Active& a, ProbeResult& r, std::string seen, std::string detail, bool polite = true) {
    r.seen = std::move(seen);
    r.detail = std::move(detail);
    if (a.fd >= 0) {
        if (polite)
            close_politely(a.fd);
        else
            ::close(a.fd);
    }
    a.fd = -1;
    a.phase = Phase::Done;
}

// A UDP probe's request: the same transaction every time; through a
// reflector each send carries an AuthBlock of its own (probe/wire.hpp), so
// a copy of any of them is refused as a replay.
// A send the kernel refuses (no buffer space, a full neighbour queue) never
// reaches the wire nor the capture: counted, so that its silence is not
// read as the path's.
void send_request(Active& a, const Probe& p, const SendOptions& o, ProbeResult& r) {
    a.request = stun_request(a.tid, p.kind == ProbeKind::TurnAllocate, o.key, p.port);
    if (::send(a.fd, a.request.data(), a.request.size(), 0) < 0) {
        ++r.send_failures;
        r.send_error = std::strerror(errno);
    }
}

void start(Active& a, const Probe& p, ProbeResult& r, double now, const SendOptions& o, uint16_t* cursor) {
    r.start_s = now;
    const bool udp = transport_of(p.kind) == "udp";
    std::string err;
    a.fd = open_socket(p, udp, o.avoid_local_ports, cursor, &err);
    if (a.fd < 0) {
        finish(a, r, "error", err);
        return;
    }
    SockAddr self;
    socklen_t self_len = sizeof self.ss;
    if (::getsockname(a.fd, self.get(), &self_len) == 0) r.local_port = self.port();
    r.sends = 1;
    if (!udp) {
        a.phase = Phase::Connecting;
        a.deadline = now + kTcpWaitS;
        return;
    }
    a.tid = new_transaction_id();
    send_request(a, p, o, r);
    a.phase = Phase::Udp;
    a.deadline = r.start_s + (p.swept && !p.confirming ? kSweepScheduleS[1] : kStunScheduleS[1]);
}

// Something other than the reflector answered (or stayed silent after) the
// TCP handshake of a probe sent with a key: the connection ended at a
// middlebox, so it shows nothing about the way to the reflector.
void intercepted_tcp(Active& a, const Probe& p, ProbeResult& r, const std::string& what, bool polite = true) {
    r.intercepted = true;
    finish(a, r, "intercepted",
           "TCP handshake answered, then " + what +
               (p.kind == ProbeKind::Tls ? " after the ClientHello (SNI " + p.host + ")" : "") +
               ": something on the path accepted the connection, not the reflector",
           polite);
}

// With a key: the reflector's token record, read as it arrives.
void await_token(Active& a, const Probe& p, ProbeResult& r, const SendOptions& o, short revents, double now) {
    if (revents == 0) {
        if (now >= a.deadline) intercepted_tcp(a, p, r, "no reflector token in " + seconds(kTlsWaitS));
        return;
    }
    const ssize_t n = ::recv(a.fd, a.answer.data() + a.answered, a.answer.size() - a.answered, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n == 0) return intercepted_tcp(a, p, r, "closed without the reflector's token");
    if (n < 0) {
        // A TLS probe reset after its ClientHello is an SNI filter's mark
        // (blocked, as without a key); a plain probe's challenge carries no
        // name, so a reset there says nothing about the vendor's traffic.
        if (p.kind == ProbeKind::Tls)
            return finish(a, r, "tls-reset",
                          std::string("after the ClientHello (SNI ") + p.host + "): " + std::strerror(errno), false);
        return intercepted_tcp(
            a, p, r, std::string("reset (") + std::strerror(errno) + ") without the reflector's token", false);
    }
    a.answered += static_cast<size_t>(n);
    switch (read_tcp_answer(ByteView(a.answer.data(), a.answered), o.key, a.challenge)) {
        case TcpAnswer::NeedMore:
            if (now >= a.deadline) intercepted_tcp(a, p, r, "part of a reflector record and no more");
            return;
        case TcpAnswer::Valid:
            return finish(a, r, "connected",
                          p.kind == ProbeKind::Tls
                              ? "TLS: the reflector's token answered the ClientHello (SNI " + p.host + ")"
                              : "TCP handshake completed, reflector token valid");
        case TcpAnswer::WrongToken: return intercepted_tcp(a, p, r, "a wrong reflector token");
        case TcpAnswer::Other:
            return intercepted_tcp(a, p, r,
                                   a.answer[0] == 22   ? "a TLS handshake the reflector never sends (a TLS proxy)"
                                   : a.answer[0] == 21 ? "a TLS alert instead of the reflector's token"
                                                       : "bytes that are not the reflector's token");
    }
}

void on_tcp(Active& a, const Probe& p, ProbeResult& r, const SendOptions& o, short revents, double now) {
    if (a.phase == Phase::Connecting) {
        if (revents == 0) {
            if (now >= a.deadline)
                finish(a, r, "no-answer", "no SYN-ACK in " + std::to_string(int(kTcpWaitS)) + " s", false);
            return;
        }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        ::getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr == ECONNREFUSED) return finish(a, r, "refused", "connection refused (RST)", false);
        if (soerr != 0) return finish(a, r, "error", std::strerror(soerr), false);
        if (p.kind == ProbeKind::Tcp && o.key.empty()) return finish(a, r, "connected", "TCP handshake completed");
        // With a key, the first bytes carry a challenge the reflector answers
        // with its token: a plain probe's challenge message, a TLS probe's
        // ClientHello random.
        std::vector<uint8_t> first;
        if (o.key.empty()) {
            first = client_hello(p.host);
        } else {
            a.challenge = new_challenge(o.key, p.port);
            first = p.kind == ProbeKind::Tcp ? tcp_challenge_message(a.challenge) : client_hello(p.host, &a.challenge);
        }
        (void)::send(a.fd, first.data(), first.size(), MSG_NOSIGNAL);
        a.phase = Phase::AwaitServer;
        a.deadline = now + kTlsWaitS;
        return;
    }
    if (!o.key.empty()) return await_token(a, p, r, o, revents, now);
    // AwaitServer without a key: what came back after the ClientHello.
    if (revents == 0) {
        if (now >= a.deadline) finish(a, r, "connected", "TLS: no answer to the ClientHello (SNI " + p.host + ")");
        return;
    }
    uint8_t buf[1];
    const ssize_t n = ::recv(a.fd, buf, 1, MSG_PEEK);
    if (n > 0 && buf[0] == 22) return finish(a, r, "tls-answered", "TLS: the server answered the ClientHello");
    if (n > 0 && buf[0] == 21)
        return finish(a, r, "tls-alert", "TLS: alert after the ClientHello (SNI " + p.host + ")");
    if (n > 0) return finish(a, r, "connected", "TLS: non-TLS bytes after the ClientHello");
    if (n == 0) return finish(a, r, "tls-closed", "closed after the ClientHello (SNI " + p.host + ")");
    finish(a, r, "tls-reset", std::string("after the ClientHello (SNI ") + p.host + "): " + std::strerror(errno),
           false);
}

void on_udp(Active& a, const Probe& p, const SendOptions& o, ProbeResult& r, short revents, double now) {
    if (revents != 0) {
        uint8_t buf[2048];
        const ssize_t n = ::recv(a.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == ECONNREFUSED) return finish(a, r, "unreachable", "ICMP port unreachable");
        if (n > 0) {
            const StunAnswer ans = read_stun_answer(ByteView(buf, static_cast<size_t>(n)), a.tid, o.key);
            if (ans.stun) {
                std::string what = ans.success ? "STUN success" : "STUN error " + std::to_string(ans.error_code);
                if (ans.realm_and_nonce) what += " with REALM and NONCE";
                if (!o.key.empty() && !ans.token_valid) {
                    r.intercepted = true;
                    return finish(a, r, "intercepted",
                                  what + (ans.token_present ? ", wrong reflector token" : ", no reflector token") +
                                      ": answered by something on the path, not the reflector");
                }
                return finish(a, r, "stun-answered", what + (o.key.empty() ? "" : ", reflector token valid"));
            }
            // Our own request back, byte for byte: an echo service (the
            // reflector never echoes, so through one it is something on the path).
            if (static_cast<size_t>(n) == a.request.size() && std::equal(a.request.begin(), a.request.end(), buf)) {
                if (o.key.empty())
                    return finish(a, r, "echoed", "the request came back unchanged (an echo, not STUN): out and back");
                r.intercepted = true;
                return finish(a, r, "intercepted",
                              "the request came back unchanged: an echo on the path, not the reflector");
            }
        }
    }
    if (now < a.deadline) return;
    const std::span<const double> schedule =
        p.swept && !p.confirming ? std::span<const double>(kSweepScheduleS) : std::span<const double>(kStunScheduleS);
    if (r.sends < schedule.size()) {
        send_request(a, p, o, r);
        ++r.sends;
        a.deadline = r.start_s + (r.sends < schedule.size() ? schedule[r.sends] : schedule.back() + kUdpWaitAfterLastS);
        return;
    }
    finish(a, r, "no-answer",
           std::to_string(r.sends) + " requests" +
               (r.send_failures > 0 ? " (" + std::to_string(r.send_failures) +
                                          " refused by this machine's kernel: " + r.send_error + ")"
                                    : "") +
               ", no response");
}

}  // namespace

std::string confirm_unanswered(Plan& plan, std::vector<ProbeResult>& results, SendOptions o,
                               const volatile std::sig_atomic_t* stop) {
    std::vector<Probe> again;
    for (size_t i = 0; i < results.size() && i < plan.probes.size(); ++i)
        if (plan.probes[i].swept && results[i].seen == "no-answer") again.push_back(plan.probes[i]);
    if (again.empty() || (stop && *stop)) return {};
    if (again.size() > kConfirmAtMost)
        return "probe: " + std::to_string(again.size()) +
               " swept ports got no answer: too many to send again (at most " + std::to_string(kConfirmAtMost) +
               "), the sweep's silence stands\n";
    for (auto& p : again) p.confirming = true;
    o.rate_per_s = std::min(o.rate_per_s, kConfirmRatePerS);
    std::vector<ProbeResult> second = send_probes(again, o, stop);
    size_t answered = 0;
    for (const auto& r : second) answered += r.seen != "no-answer" && r.seen != "not-sent";
    plan.probes.insert(plan.probes.end(), again.begin(), again.end());
    results.insert(results.end(), second.begin(), second.end());
    return "probe: " + std::to_string(again.size()) +
           " swept port(s) got no answer and were sent again with the full STUN schedule: " + std::to_string(answered) +
           " answered then\n";
}

std::vector<ProbeResult> send_probes(const std::vector<Probe>& probes, const SendOptions& o,
                                     const volatile std::sig_atomic_t* stop) {
    std::vector<ProbeResult> results(probes.size());
    std::vector<Active> active;
    const size_t max_active = std::max<size_t>(o.max_active, 1);
    active.reserve(std::min<size_t>(max_active, 65536));
    std::vector<pollfd> fds;
    const double rate = std::max(o.rate_per_s, 0.01);
    // The next start: 1/rate after the last one was due. A loop held up (a
    // busy machine, a full set of slots) catches up at most kCatchUpS of
    // starts (the poll's millisecond), never a burst of a whole stall's:
    // a burst is what a firewall's or the reflector's rate limit drops.
    constexpr double kCatchUpS = 0.005;
    double next_at = util::mono_s();
    size_t next = 0;
    // A sweep's local ports, in turn from a random start (bind_next).
    uint16_t cursor = static_cast<uint16_t>(1024 + new_transaction_id()[0] * 250);
    // Bounded: every probe ends by its own deadline, and no new one starts after a stop.
    while (next < probes.size() || !active.empty()) {
        double now = util::mono_s();
        if (stop && *stop) {
            for (auto& a : active) finish(a, results[a.index], "interrupted", "stopped by a signal", false);
            active.clear();
            break;
        }
        if (next < probes.size() && active.size() < max_active && now >= next_at) {
            next_at = std::max(next_at, now - kCatchUpS) + 1.0 / rate;
            Active a;
            a.index = next;
            start(a, probes[next], results[next], now, o, &cursor);
            ++next;
            if (a.phase != Phase::Done) active.push_back(std::move(a));
            continue;
        }
        double wake = now + 0.05;
        if (next < probes.size()) wake = std::min(wake, next_at);
        fds.clear();
        for (const auto& a : active) {
            wake = std::min(wake, a.deadline);
            fds.push_back({a.fd, static_cast<short>(a.phase == Phase::Connecting ? POLLOUT : POLLIN), 0});
        }
        const int timeout_ms = std::clamp(static_cast<int>((wake - now) * 1000.0) + 1, 0, 50);
        (void)::poll(fds.data(), fds.size(), timeout_ms);
        now = util::mono_s();
        for (size_t i = 0; i < active.size(); ++i) {
            Active& a = active[i];
            const Probe& p = probes[a.index];
            if (a.phase == Phase::Udp)
                on_udp(a, p, o, results[a.index], fds[i].revents, now);
            else
                on_tcp(a, p, results[a.index], o, fds[i].revents, now);
        }
        active.erase(
            std::remove_if(active.begin(), active.end(), [](const Active& a) { return a.phase == Phase::Done; }),
            active.end());
    }
    for (size_t i = next; i < probes.size(); ++i) results[i].seen = "not-sent";
    return results;
}

}  // namespace callwall::probe
