// The reflector. See probe/reflector.hpp.
#include "probe/reflector.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>

#include "probe/address.hpp"
#include "probe/wire.hpp"
#include "util/clock.hpp"

extern char** environ;

namespace callwall::probe {
namespace {

using util::mono_s;

std::string set_text(const std::vector<catalog::PortRange>& rs) {
    std::string s;
    for (const auto& r : rs) {
        if (!s.empty()) s += ", ";
        s += std::to_string(r.lo);
        if (r.hi != r.lo) s += "-" + std::to_string(r.hi);
    }
    return s;
}

// Runs nft; `quiet`: its messages go to /dev/null (deleting a table that may not exist).
int run_nft(const std::vector<std::string>& args, bool quiet = false) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    ::posix_spawn_file_actions_init(&fa);
    if (quiet) ::posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int bound_socket(int type, const SockAddr& sa, std::string* err) {
    const int fd = ::socket(sa.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(fd, sa.get(), sa.len) != 0 || (type == SOCK_STREAM && ::listen(fd, 512) != 0)) {
        *err = std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

struct Client {
    int fd;
    double until;
    // The connection's first bytes, until they show a challenge (or not).
    std::array<uint8_t, 64> head{};
    size_t got = 0;
    bool answered = false;  ///< the token was sent, or the first bytes were no challenge
};

// Reads what a held connection sent; answers the challenge in its first
// bytes with the token, once. False when the connection is to be closed
// (the client closed it, or an error).
bool serve_tcp(Client& c, const std::string& key) {
    uint8_t buf[4096];
    uint8_t* into = c.answered ? buf : c.head.data() + c.got;
    const size_t room = c.answered ? sizeof buf : c.head.size() - c.got;
    const ssize_t n = ::recv(c.fd, into, room, MSG_DONTWAIT);
    if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (c.answered) return true;
    c.got += static_cast<size_t>(n);
    Challenge ch{};
    const ChallengeRead r = read_tcp_challenge(ByteView(c.head.data(), c.got), ch);
    if (r == ChallengeRead::NeedMore && c.got < c.head.size()) return true;
    c.answered = true;
    if (r == ChallengeRead::Found) {
        const auto rec = tcp_token_record(key, ch);
        (void)::send(c.fd, rec.data(), rec.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    return true;
}

void answer_udp(int fd, const ReflectOptions& o, const std::string& nonce) {
    // Bounded: at most 64 datagrams per wake-up, so TCP is served too.
    for (int i = 0; i < 64; ++i) {
        uint8_t buf[2048];
        SockAddr from;
        socklen_t len = sizeof from.ss;
        const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, from.get(), &len);
        if (n <= 0) return;
        from.len = len;
        const auto a = reflector_answer(ByteView(buf, static_cast<size_t>(n)), from.ip(), from.port(), o.key, nonce);
        if (a) (void)::sendto(fd, a->data(), a->size(), 0, from.get(), len);
    }
}

}  // namespace

bool parse_ranges(const std::string& text, std::vector<catalog::PortRange>* out, std::string* error) {
    size_t pos = 0;
    while (pos <= text.size()) {
        const size_t end = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, end - pos);
        unsigned lo = 0, hi = 0;
        char tail = 0;
        const int n = std::sscanf(item.c_str(), "%u-%u%c", &lo, &hi, &tail);
        if (n == 1) hi = lo;
        if ((n != 1 && n != 2) || lo == 0 || hi > 65535 || lo > hi) {
            *error = "not a port or range: '" + item + "'";
            return false;
        }
        out->push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)});
        pos = end + 1;
    }
    return true;
}

namespace {
std::string nft_family(const ReflectOptions& o) { return is_ipv6(o.listen) ? "ip6" : "ip"; }
}  // namespace

std::string nft_ruleset(const ReflectOptions& o) {
    const std::string to = with_port(o.listen, o.redirect_port);
    const std::string daddr = nft_family(o) + " daddr " + o.listen;
    std::string s = "table " + nft_family(o) +
                    " callwall_reflect {\n  chain pre {\n    type nat hook prerouting priority dstnat;\n";
    if (!o.tcp.empty()) s += "    " + daddr + " tcp dport { " + set_text(o.tcp) + " } dnat to " + to + "\n";
    if (!o.udp.empty()) s += "    " + daddr + " udp dport { " + set_text(o.udp) + " } dnat to " + to + "\n";
    return s + "  }\n}\n";
}

int run_reflector(const ReflectOptions& o, const volatile std::sig_atomic_t* stop, std::FILE* log) {
    const std::optional<SockAddr> at = parse_address(o.listen, o.redirect_port);
    if (!at) {
        std::fprintf(log, "callwall reflect: --listen takes an IPv4 or IPv6 address, not '%s'\n", o.listen.c_str());
        return 1;
    }
    const SockAddr& sa = *at;
    std::string err;
    const int tcp = bound_socket(SOCK_STREAM, sa, &err);
    const int udp = tcp < 0 ? -1 : bound_socket(SOCK_DGRAM, sa, &err);
    if (tcp < 0 || udp < 0) {
        std::fprintf(log, "callwall reflect: cannot listen on %s:%u: %s\n", o.listen.c_str(), o.redirect_port,
                     err.c_str());
        if (tcp >= 0) ::close(tcp);
        return 1;
    }
    const std::string rules = nft_ruleset(o);
    if (o.install_nft) {
        char path[] = "/tmp/callwall-reflect-XXXXXX";
        const int fd = ::mkstemp(path);
        const bool written = fd >= 0 && ::write(fd, rules.data(), rules.size()) == static_cast<ssize_t>(rules.size());
        if (fd >= 0) ::close(fd);
        (void)run_nft({"nft", "delete", "table", nft_family(o), "callwall_reflect"},
                      true);  // a stale table of an earlier run
        const int rc = written ? run_nft({"nft", "-f", path}) : -1;
        ::unlink(path);
        if (rc != 0) {
            std::fprintf(log, "callwall reflect: nft -f failed (needs CAP_NET_ADMIN); the rules were:\n%s",
                         rules.c_str());
            ::close(tcp);
            ::close(udp);
            return 1;
        }
    } else {
        std::fprintf(log, "callwall reflect: load these rules (nft -f FILE) so every port reaches the reflector:\n%s",
                     rules.c_str());
    }
    std::fprintf(log, "callwall reflect: answering on %s (tcp %s; udp %s) via port %u\n", o.listen.c_str(),
                 set_text(o.tcp).c_str(), set_text(o.udp).c_str(), o.redirect_port);
    std::fflush(log);

    std::array<uint8_t, 8> nb{};
    const TransactionId r = new_transaction_id();
    std::copy_n(r.begin(), nb.size(), nb.begin());
    std::string nonce;
    for (uint8_t b : nb) {
        static const char* hex = "0123456789abcdef";
        nonce += hex[b >> 4];
        nonce += hex[b & 15];
    }
    std::deque<Client> clients;
    std::vector<pollfd> fds;
    const double t_end = o.duration_s > 0 ? mono_s() + o.duration_s : 0;
    while (!*stop && (t_end == 0 || mono_s() < t_end)) {
        fds.assign({{tcp, POLLIN, 0}, {udp, POLLIN, 0}});
        for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
        (void)::poll(fds.data(), fds.size(), 100);
        const double now = mono_s();
        if (fds[1].revents) answer_udp(udp, o, nonce);
        // Held connections: answer a challenge, read and discard the rest;
        // close on EOF, error or age.
        for (size_t i = 0; i < clients.size(); ++i) {
            bool done = now >= clients[i].until;
            if (fds[2 + i].revents) done = done || !serve_tcp(clients[i], o.key);
            if (done) {
                ::close(clients[i].fd);
                clients[i].fd = -1;
            }
        }
        std::erase_if(clients, [](const Client& c) { return c.fd < 0; });
        for (int i = 0; i < 64 && fds[0].revents; ++i) {
            const int c = ::accept4(tcp, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) break;
            if (clients.size() >= kMaxTcpClients) {
                ::close(clients.front().fd);
                clients.pop_front();
            }
            clients.push_back(Client{c, now + kTcpHoldS});
        }
    }
    for (const auto& c : clients) ::close(c.fd);
    ::close(tcp);
    ::close(udp);
    if (o.install_nft) (void)run_nft({"nft", "delete", "table", nft_family(o), "callwall_reflect"});
    std::fprintf(log, "callwall reflect: stopped\n");
    return 0;
}

}  // namespace callwall::probe
