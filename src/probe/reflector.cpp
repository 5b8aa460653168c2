// The reflector. See probe/reflector.hpp.
#include "probe/reflector.hpp"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <sstream>

#include "probe/address.hpp"
#include "probe/wire.hpp"
#include "util/clock.hpp"

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

int bound_socket(int type, const SockAddr& sa, std::string* err) {
    const int fd = ::socket(sa.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    // A sweep's datagrams arrive at up to a few thousand a second: room for
    // a second's worth while the loop serves TCP (FORCE: past rmem_max, as
    // root; otherwise as much as rmem_max allows).
    const int rcvbuf = 4 << 20;
    if (fd >= 0 && type == SOCK_DGRAM && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
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
    std::array<uint8_t, 16> source{};  ///< the peer's address bytes
    size_t source_len = 0;
    uint16_t port = 0;  ///< the port the probe connected to, before the DNAT
    // The connection's first bytes, until they show a challenge (or not).
    std::array<uint8_t, 64> head{};
    size_t got = 0;
    bool decided = false;  ///< the first bytes were judged (answered or refused)
};

// The port a TCP connection was sent to before the DNAT: conntrack's
// original destination (SO_ORIGINAL_DST, IP6T_SO_ORIGINAL_DST: both 80);
// without a DNAT, the socket's own port.
uint16_t original_port(int fd, int family) {
    constexpr int kSoOriginalDst = 80;
    SockAddr a;
    socklen_t len = sizeof a.ss;
    if (::getsockopt(fd, family == AF_INET6 ? SOL_IPV6 : SOL_IP, kSoOriginalDst, a.get(), &len) == 0) {
        a.len = len;
        return a.port();
    }
    len = sizeof a.ss;
    return ::getsockname(fd, a.get(), &len) == 0 ? a.port() : 0;
}

// Reads what a held connection sent; answers an authenticated challenge in
// its first bytes with the token, once. Anything else gets nothing: the
// connection is held and what comes is read and dropped until kTcpHoldS
// (closing at once, with the client's bytes unread, would send a reset,
// which a TLS probe reads as an SNI filter's). False when the connection is
// to be closed (the client closed it, or an error).
bool serve_tcp(Client& c, ReflectGuard& guard, double now) {
    uint8_t buf[4096];
    uint8_t* into = c.decided ? buf : c.head.data() + c.got;
    const size_t room = c.decided ? sizeof buf : c.head.size() - c.got;
    const ssize_t n = ::recv(c.fd, into, room, MSG_DONTWAIT);
    if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (c.decided) return true;
    c.got += static_cast<size_t>(n);
    Challenge ch{};
    const ChallengeRead r = read_tcp_challenge(ByteView(c.head.data(), c.got), ch);
    if (r == ChallengeRead::NeedMore && c.got < c.head.size()) return true;
    c.decided = true;
    if (r != ChallengeRead::Found) {
        guard.count(Refusal::Unauthenticated);
        return true;
    }
    if (guard.admit(AuthScope::Tcp, c.port, ByteView(), ch, ByteView(c.source.data(), c.source_len), now,
                    unix_now_s()) != Refusal::None)
        return true;
    const auto rec = tcp_token_record(guard.key(), ch);
    (void)::send(c.fd, rec.data(), rec.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return true;
}

void answer_udp(int fd, ReflectGuard& guard, const std::string& nonce) {
    // Bounded: at most 64 datagrams per wake-up, so TCP is served too.
    for (int i = 0; i < 64; ++i) {
        uint8_t buf[2048];
        SockAddr from;
        socklen_t len = sizeof from.ss;
        const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, from.get(), &len);
        if (n <= 0) return;
        from.len = len;
        const auto a = guard.answer_stun(ByteView(buf, static_cast<size_t>(n)), from.ip(), from.port(), nonce,
                                         util::mono_s(), unix_now_s());
        if (a) (void)::sendto(fd, a->data(), a->size(), 0, from.get(), len);
    }
}

// The redirect table through libnftables. The context's netlink socket
// stays open for the reflector's life: an `owner` table belongs to it and
// goes when it closes, however the process ends.
class RedirectTable {
public:
    RedirectTable() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
        if (ctx_) {
            nft_ctx_buffer_output(ctx_);
            nft_ctx_buffer_error(ctx_);
        }
    }
    ~RedirectTable() {
        if (ctx_ && !owned_ && !delete_cmd_.empty()) (void)nft_run_cmd_from_buffer(ctx_, delete_cmd_.c_str());
        if (ctx_) nft_ctx_free(ctx_);
    }
    RedirectTable(const RedirectTable&) = delete;
    RedirectTable& operator=(const RedirectTable&) = delete;

    /// Loads the table: owned when the kernel can, else plain (with a
    /// warning in *note). "" or nft's error.
    std::string load(const ReflectOptions& o, const std::string& family, const std::string& name, std::string* note) {
        if (!ctx_) return "cannot make an nftables context";
        delete_cmd_ = "delete table " + family + " " + name;
        // A plain table of an earlier run (killed, or of an older callwall)
        // is removed first; an owned one of a live reflector is not ours to
        // remove, and the load below then fails and says so.
        (void)nft_run_cmd_from_buffer(ctx_, delete_cmd_.c_str());
        (void)nft_run_cmd_from_buffer(ctx_, ("delete table " + family + " callwall_reflect").c_str());
        const std::string owned = nft_ruleset(o, true);
        if (nft_run_cmd_from_buffer(ctx_, owned.c_str()) == 0) {
            owned_ = true;
            return "";
        }
        const std::string owned_error = nft_ctx_get_error_buffer(ctx_);
        const std::string plain = nft_ruleset(o, false);
        if (nft_run_cmd_from_buffer(ctx_, plain.c_str()) == 0) {
            *note = "this kernel cannot tie the table to the process (" + first_line(owned_error) +
                    "): a reflector killed with SIGKILL leaves it loaded until its next start";
            return "";
        }
        delete_cmd_.clear();
        return first_line(nft_ctx_get_error_buffer(ctx_));
    }

private:
    static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
    nft_ctx* ctx_;
    std::string delete_cmd_;
    bool owned_ = false;
};

// Drops every capability (effective, permitted, inheritable, ambient) and
// forbids regaining any through exec. "" or what failed.
std::string drop_capabilities() {
    (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2] = {};
    if (::syscall(SYS_capset, &h, d) != 0) return std::string("capset: ") + std::strerror(errno);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("no_new_privs: ") + std::strerror(errno);
    return "";
}

// The process's effective capability mask, as /proc/self/status says.
std::string effective_capabilities() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("CapEff:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 7));
    return "?";
}

// The address bytes of a /proc/net/{tcp,udp}[6] "local_address" field: the
// kernel prints each 32-bit word of the address in host order.
std::optional<std::array<uint8_t, 16>> proc_net_address(const std::string& hex, size_t* len) {
    if (hex.size() != 8 && hex.size() != 32) return std::nullopt;
    std::array<uint8_t, 16> a{};
    *len = hex.size() / 2;
    for (size_t w = 0; w < hex.size() / 8; ++w) {
        uint32_t v = 0;
        if (std::sscanf(hex.substr(w * 8, 8).c_str(), "%8x", &v) != 1) return std::nullopt;
        std::memcpy(a.data() + w * 4, &v, 4);  // host order, as the kernel printed it
    }
    return a;
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

bool is_wildcard(const std::string& listen) {
    const auto a = parse_address(listen);
    if (!a) return false;
    const ByteView ip = a->ip();
    return std::all_of(ip.begin(), ip.end(), [](uint8_t b) { return b == 0; });
}

std::vector<uint16_t> local_service_ports(int ipproto, const std::string& listen) {
    const auto want = parse_address(listen);
    if (!want) return {};
    const bool any = is_wildcard(listen);
    const bool v6 = want->family() == AF_INET6;
    std::vector<uint16_t> ports;
    const std::string base = ipproto == IPPROTO_TCP ? "/proc/net/tcp" : "/proc/net/udp";
    for (const std::string& file : {base, base + "6"}) {
        std::ifstream in(file);
        std::string line;
        std::getline(in, line);  // the header
        for (int guard = 0; guard < 1'000'000 && std::getline(in, line); ++guard) {
            std::istringstream f(line);
            std::string slot, local, remote, state;
            if (!(f >> slot >> local >> remote >> state)) continue;
            const size_t colon = local.find(':');
            if (colon == std::string::npos) continue;
            // TCP: listening sockets (state 0A); UDP: every bound socket.
            if (ipproto == IPPROTO_TCP && state != "0A") continue;
            size_t len = 0;
            const auto addr = proc_net_address(local.substr(0, colon), &len);
            unsigned port = 0;
            if (!addr || std::sscanf(local.c_str() + colon + 1, "%4x", &port) != 1 || port == 0) continue;
            const bool wildcard = std::all_of(addr->begin(), addr->begin() + static_cast<std::ptrdiff_t>(len),
                                              [](uint8_t b) { return b == 0; });
            // A socket on :: also takes IPv4 unless it is IPv6-only, which
            // /proc does not say: counted as a service on both.
            const bool family_ok = (len == 16) == v6 || (len == 16 && wildcard);
            const bool same =
                len == want->ip().size() &&
                std::equal(addr->begin(), addr->begin() + static_cast<std::ptrdiff_t>(len), want->ip().begin());
            if (family_ok && (any || wildcard || same)) ports.push_back(static_cast<uint16_t>(port));
        }
    }
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    return ports;
}

std::vector<catalog::PortRange> without_services(const std::vector<catalog::PortRange>& ranges,
                                                 const std::vector<uint16_t>& services,
                                                 std::vector<uint16_t>* left_out) {
    std::vector<catalog::PortRange> out;
    for (const auto& r : ranges) {
        if (r.lo == r.hi) {  // named alone: the operator means it
            out.push_back(r);
            continue;
        }
        uint32_t lo = r.lo;
        for (const uint16_t p : services) {
            if (p < r.lo || p > r.hi) continue;
            const bool named = std::any_of(ranges.begin(), ranges.end(),
                                           [p](const catalog::PortRange& x) { return x.lo == p && x.hi == p; });
            if (named) continue;
            if (left_out) left_out->push_back(p);
            if (p > lo) out.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(p - 1)});
            lo = uint32_t{p} + 1;
        }
        if (lo <= r.hi) out.push_back({static_cast<uint16_t>(lo), r.hi});
    }
    if (left_out) {
        std::sort(left_out->begin(), left_out->end());
        left_out->erase(std::unique(left_out->begin(), left_out->end()), left_out->end());
    }
    return out;
}

namespace {
// The connection-mark bit that grants a reflected connection its next
// SYN-ACK, and the mask that clears it.
constexpr const char* kSynAckGrantMark = "0x00400000";
constexpr const char* kSynAckKeepMask = "0xffbfffff";
std::string nft_family(const ReflectOptions& o) { return is_ipv6(o.listen) ? "ip6" : "ip"; }
std::string table_name(const ReflectOptions& o) { return "callwall_reflect_" + std::to_string(o.redirect_port); }
}  // namespace

std::string nft_ruleset(const ReflectOptions& o, bool owned) {
    // A wildcard address: every local address of the family, redirected to
    // the address the packet came in on; otherwise the one address.
    const bool any = is_wildcard(o.listen);
    const std::string match = any ? "fib daddr type local" : nft_family(o) + " daddr " + o.listen;
    const std::string to =
        any ? "redirect to :" + std::to_string(o.redirect_port) : "dnat to " + with_port(o.listen, o.redirect_port);
    std::string s = "table " + nft_family(o) + " " + table_name(o) + " {\n";
    if (owned) s += "  flags owner\n";
    s += "  chain pre {\n    type nat hook prerouting priority dstnat;\n";
    if (!o.tcp.empty()) s += "    " + match + " tcp dport { " + set_text(o.tcp) + " } " + to + "\n";
    if (!o.udp.empty()) s += "    " + match + " udp dport { " + set_text(o.udp) + " } " + to + "\n";
    s += "  }\n";
    if (!o.tcp.empty()) {
        // One SYN-ACK per SYN: the kernel retransmits an unanswered SYN-ACK up
        // to tcp_synack_retries times (5: six packets for one spoofed SYN),
        // which made the reflector an amplifier for a forged source. Each SYN
        // (a client's retransmission included) sets a bit of its connection's
        // mark; a SYN-ACK goes out only by clearing it, so the timer's
        // retransmissions, which no SYN asked for, are dropped. The rest of
        // the mark is left as other rulesets set it.
        const std::string bit = kSynAckGrantMark;
        s += "  chain syn_in {\n    type filter hook prerouting priority mangle;\n";
        s += "    " + match + " tcp dport { " + set_text(o.tcp) +
             " } tcp flags & (syn | ack) == syn ct mark set ct mark | " + bit + "\n  }\n";
        s += "  chain synack_out {\n    type filter hook output priority filter;\n";
        const std::string synack =
            "tcp sport " + std::to_string(o.redirect_port) + " tcp flags & (syn | ack) == syn | ack";
        s += "    " + synack + " ct mark & " + bit + " == " + bit + " ct mark set ct mark & " + kSynAckKeepMask +
             " accept\n";
        s += "    " + synack + " ct state != untracked drop\n  }\n";
    }
    return s + "}\n";
}

namespace {

// Leaves the host's own services out of the ranges, loads the table,
// drops root and every capability; false after saying why on `log`.
bool set_up(ReflectOptions& o, RedirectTable& table, std::FILE* log) {
    // The host's own services stay where they are: a range never captures
    // a port something else here listens on, unless named alone.
    for (const auto& [proto, ranges, name] : {std::tuple{IPPROTO_TCP, &o.tcp, "tcp"}, {IPPROTO_UDP, &o.udp, "udp"}}) {
        std::vector<uint16_t> services = local_service_ports(proto, o.listen), left_out;
        std::erase(services, o.redirect_port);
        *ranges = without_services(*ranges, services, &left_out);
        for (const uint16_t p : left_out)
            std::fprintf(log,
                         "callwall reflect: %s port %u left alone: a service of this host listens there (name it "
                         "alone, --%s %u, to reflect it)\n",
                         name, p, name, p);
    }
    if (o.install_nft) {
        std::string note;
        if (const std::string e = table.load(o, nft_family(o), table_name(o), &note); !e.empty()) {
            std::fprintf(log, "callwall reflect: cannot load the redirect table (needs CAP_NET_ADMIN): %s\n",
                         e.c_str());
            return false;
        }
        if (!note.empty()) std::fprintf(log, "callwall reflect: warning: %s\n", note.c_str());
    } else {
        std::fprintf(log, "callwall reflect: load these rules (nft -f FILE) so every port reaches the reflector:\n%s",
                     nft_ruleset(o).c_str());
    }
    // Root is needed no more: the sockets are bound and the table loaded.
    if (o.drop_privileges)
        if (const std::string e = o.drop_privileges(); !e.empty()) {
            std::fprintf(log, "callwall reflect: %s\n", e.c_str());
            return false;
        }
    if (const std::string e = drop_capabilities(); !e.empty()) {
        std::fprintf(log, "callwall reflect: cannot drop capabilities: %s\n", e.c_str());
        return false;
    }
    std::fprintf(log, "callwall reflect: answering on %s (tcp %s; udp %s) via port %u, as uid %u, capabilities %s\n",
                 o.listen.c_str(), set_text(o.tcp).c_str(), set_text(o.udp).c_str(), o.redirect_port,
                 static_cast<unsigned>(::getuid()), effective_capabilities().c_str());
    std::fflush(log);
    return true;
}

}  // namespace

int run_reflector(const ReflectOptions& given, const volatile std::sig_atomic_t* stop, std::FILE* log) {
    const std::optional<SockAddr> at = parse_address(given.listen, given.redirect_port);
    if (!at) {
        std::fprintf(log, "callwall reflect: --listen takes an IPv4 or IPv6 address, not '%s'\n", given.listen.c_str());
        return 1;
    }
    const SockAddr& sa = *at;
    std::string err;
    const int tcp = bound_socket(SOCK_STREAM, sa, &err);
    const int udp = tcp < 0 ? -1 : bound_socket(SOCK_DGRAM, sa, &err);
    if (tcp < 0 || udp < 0) {
        std::fprintf(log, "callwall reflect: cannot listen on %s: %s\n",
                     with_port(given.listen, given.redirect_port).c_str(), err.c_str());
        if (tcp >= 0) ::close(tcp);
        return 1;
    }
    const auto close_sockets = [&] {
        ::close(tcp);
        ::close(udp);
    };
    ReflectOptions o = given;
    RedirectTable table;
    if (!set_up(o, table, log)) {
        close_sockets();
        return 1;
    }
    std::array<uint8_t, 8> nb{};
    const TransactionId r = new_transaction_id();
    std::copy_n(r.begin(), nb.size(), nb.begin());
    std::string nonce;
    for (uint8_t b : nb) {
        static const char* hex = "0123456789abcdef";
        nonce += hex[b >> 4];
        nonce += hex[b & 15];
    }
    ReflectGuard guard(o.key, o.limits);
    const auto summary = [&](double period_s) {
        const GuardCounts c = guard.take_counts();
        if (c.refused() == 0 && (o.quiet || c.answered == 0)) return;
        std::fprintf(log, "callwall reflect: last %.0f s: %s\n", period_s, to_string(c).c_str());
        std::fflush(log);
    };
    std::deque<Client> clients;
    std::vector<pollfd> fds;
    const double t_start = mono_s();
    const double t_end = o.duration_s > 0 ? t_start + o.duration_s : 0;
    double last_summary = t_start;
    while (!*stop && (t_end == 0 || mono_s() < t_end)) {
        fds.assign({{tcp, POLLIN, 0}, {udp, POLLIN, 0}});
        for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
        (void)::poll(fds.data(), fds.size(), 100);
        const double now = mono_s();
        if (fds[1].revents) answer_udp(udp, guard, nonce);
        // Held connections: answer a challenge, read and discard the rest;
        // close on EOF, error, refusal or age.
        for (size_t i = 0; i < clients.size(); ++i) {
            bool done = now >= clients[i].until;
            if (fds[2 + i].revents) done = done || !serve_tcp(clients[i], guard, now);
            if (done) {
                ::close(clients[i].fd);
                clients[i].fd = -1;
            }
        }
        std::erase_if(clients, [](const Client& c) { return c.fd < 0; });
        for (int i = 0; i < 64 && fds[0].revents; ++i) {
            SockAddr peer;
            socklen_t len = sizeof peer.ss;
            const int c = ::accept4(tcp, peer.get(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) break;
            peer.len = len;
            if (clients.size() >= kMaxTcpClients) {
                ::close(clients.front().fd);
                clients.pop_front();
            }
            Client cl{c, now + kTcpHoldS};
            cl.source_len = std::min<size_t>(peer.ip().size(), cl.source.size());
            std::copy_n(peer.ip().begin(), cl.source_len, cl.source.begin());
            cl.port = original_port(c, sa.family());
            clients.push_back(cl);
        }
        if (now - last_summary >= o.summary_every_s) {
            summary(now - last_summary);
            last_summary = now;
        }
    }
    summary(mono_s() - last_summary);
    for (const auto& c : clients) ::close(c.fd);
    close_sockets();
    std::fprintf(log, "callwall reflect: stopped\n");
    return 0;
}

}  // namespace callwall::probe
