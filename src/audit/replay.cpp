#include "audit/replay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "audit/ruleset_text.hpp"

namespace callwall::audit {

std::string_view to_string(ProbeOutcome o) noexcept {
    switch (o) {
        case ProbeOutcome::Passed: return "passes";
        case ProbeOutcome::Dropped: return "dropped";
        case ProbeOutcome::Rejected: return "rejected";
        case ProbeOutcome::ReplyBlocked: return "reply blocked";
    }
    return "?";
}

namespace {

constexpr std::string_view kTraceTable = "callwall_audit_trace";
constexpr const char* kNotSeen = "not seen by the trace";
constexpr const char* kRouterInside = "192.168.77.1";
constexpr const char* kRouterOutside = "100.64.77.1";
constexpr const char* kServerLink = "100.64.77.2";
constexpr size_t kBatch = 64;  // probes in flight at once (two sockets each); more overruns nft monitor's socket

using Clock = std::chrono::steady_clock;

int ms_since(Clock::time_point t) {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// ---- the child's side: commands ----

struct Namespaces {
    int router = -1, client = -1, server = -1;
};

[[noreturn]] void exec_tool(const std::string& tool, std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
        const std::string path = dir + tool;
        ::execv(path.c_str(), argv.data());
    }
    ::execvp(tool.c_str(), argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", tool.c_str(), std::strerror(errno));
    ::_exit(127);
}

// Starts `args` in namespace `ns` (-1: the router's), stdout+stderr into a pipe.
pid_t spawn(int ns, std::vector<std::string> args, int& out_fd, int in_fd = -1) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (ns >= 0 && ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
        ::dup2(p[1], 1);
        ::dup2(p[1], 2);
        if (in_fd >= 0) ::dup2(in_fd, 0);
        const std::string tool = args[0];
        exec_tool(tool, args);
    }
    ::close(p[1]);
    out_fd = p[0];
    return pid;
}

// Runs a command to its end; returns its exit status (-1: not run), output in `out`.
int run(int ns, std::vector<std::string> args, std::string& out, std::string_view input = {}) {
    int in[2] = {-1, -1};
    if (!input.empty() && ::pipe2(in, O_CLOEXEC) != 0) return -1;
    int fd = -1;
    const pid_t pid = spawn(ns, std::move(args), fd, in[0]);
    if (in[0] >= 0) {
        ::close(in[0]);
        // Batches here are a few kB, below the pipe's capacity.
        [[maybe_unused]] auto w = ::write(in[1], input.data(), input.size());
        ::close(in[1]);
    }
    if (pid < 0) return -1;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool write_file(const char* path, const std::string& text) {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

bool enter_namespaces(bool user_namespace, std::string& mode, std::string& error) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (user_namespace && ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
        write_file("/proc/self/setgroups", "deny");
        if (!write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
            !write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n")) {
            error = std::string("cannot map our user into the new user namespace: ") + std::strerror(errno);
            return false;
        }
        mode = "user and network namespaces (unprivileged)";
        return true;
    }
    const int user_errno = user_namespace ? errno : 0;
    if (::unshare(CLONE_NEWNET) == 0) {
        mode = user_namespace ? std::string("network namespaces as root (user namespaces refused: ") +
                                    std::strerror(user_errno) + ")"
                              : std::string("network namespaces as root");
        return true;
    }
    error = std::string("cannot make a sandbox: user namespaces refused (") + std::strerror(user_errno) +
            "; see /proc/sys/user/max_user_namespaces and kernel.unprivileged_userns_clone) and network "
            "namespaces need root (" +
            std::strerror(errno) + ")";
    return false;
}

bool make_peer_namespaces(Namespaces& ns, std::string& error) {
    // Not O_CLOEXEC: `ip link set DEV netns /proc/self/fd/N` reads them.
    ns.router = ::open("/proc/self/ns/net", O_RDONLY);
    for (int* slot : {&ns.client, &ns.server}) {
        if (::unshare(CLONE_NEWNET) != 0) {
            error = std::string("cannot make a network namespace: ") + std::strerror(errno);
            return false;
        }
        *slot = ::open("/proc/self/ns/net", O_RDONLY);
        if (::setns(ns.router, CLONE_NEWNET) != 0) {
            error = std::string("cannot return to the router namespace: ") + std::strerror(errno);
            return false;
        }
    }
    return ns.router >= 0 && ns.client >= 0 && ns.server >= 0;
}

bool wire(const SandboxSpec& spec, const Namespaces& ns, std::string& error) {
    const std::string c = std::to_string(ns.client), s = std::to_string(ns.server);
    const std::string router =
        "link set lo up\n"
        "link add " +
        spec.inside +
        " type veth peer name cw-c\n"
        "link set cw-c netns /proc/self/fd/" +
        c +
        "\n"
        "link add " +
        spec.outside +
        " type veth peer name cw-s\n"
        "link set cw-s netns /proc/self/fd/" +
        s +
        "\n"
        "addr add " +
        kRouterInside + "/24 dev " + spec.inside +
        "\n"
        "addr add " +
        kRouterOutside + "/30 dev " + spec.outside +
        "\n"
        "link set " +
        spec.inside + " up\nlink set " + spec.outside +
        " up\n"
        "route add default via " +
        kServerLink + "\n";
    const std::string client = "link set lo up\naddr add " + spec.client_addr +
                               "/24 dev cw-c\nlink set cw-c up\n"
                               "route add default via " +
                               kRouterInside + "\n";
    std::string server = "link set lo up\naddr add " + std::string(kServerLink) + "/30 dev cw-s\n";
    for (const auto& a : spec.server_addrs) server += "addr add " + a + "/32 dev cw-s\n";
    server += "link set cw-s up\nroute add default via " + std::string(kRouterOutside) + "\n";
    std::string out;
    if (run(-1, {"ip", "-batch", "-"}, out, router) != 0 || run(ns.client, {"ip", "-batch", "-"}, out, client) != 0 ||
        run(ns.server, {"ip", "-batch", "-"}, out, server) != 0) {
        error = "cannot wire the sandbox: " + out;
        return false;
    }
    if (!write_file("/proc/sys/net/ipv4/ip_forward", "1\n")) {
        error = std::string("cannot enable forwarding in the router namespace: ") + std::strerror(errno);
        return false;
    }
    // The router answers every reject: ICMP errors are rate-limited by default
    // (per destination and globally, 1000/s with a burst of 50), which would
    // turn most rejects of a large audit into silent drops. Per namespace
    // since Linux 4.x/6.x; where the write is refused the limits stay.
    write_file("/proc/sys/net/ipv4/icmp_ratemask", "0\n");
    write_file("/proc/sys/net/ipv4/icmp_ratelimit", "0\n");
    write_file("/proc/sys/net/ipv4/icmp_msgs_per_sec", "1000000\n");
    return true;
}

// An iptables-save dump: `iptables-nft-restore --test` says what is wrong
// and where ("line 7 failed"), then it is loaded as nftables rules (so the
// trace sees them), and the dump as loaded is kept to name rules by their
// iptables line.
bool load_iptables(const SandboxSpec& spec, ReplayOutput& r, IptablesRules& names) {
    std::string out;
    if (run(-1, {"iptables-nft-restore", "--test", spec.ruleset_path}, out) != 0) {
        r.lint_failed = true;
        r.error = "iptables-nft-restore --test " + spec.ruleset_path + " refused the dump:\n" + out;
        if (out.find("cannot run") != std::string::npos) {
            r.lint_failed = false;
            r.error = "iptables-nft-restore is not installed (Debian's iptables package): " + out;
        }
        return false;
    }
    out.clear();
    if (run(-1, {"iptables-nft-restore", spec.ruleset_path}, out) != 0) {
        r.error = "iptables-nft-restore " + spec.ruleset_path + " failed in the sandbox:\n" + out;
        return false;
    }
    std::string with_handles;
    if (run(-1, {"nft", "list", "ruleset"}, r.listed) != 0 ||
        run(-1, {"nft", "-a", "list", "ruleset"}, with_handles) != 0 ||
        run(-1, {"iptables-nft-save"}, r.iptables_save) != 0) {
        r.error = "cannot list the loaded dump: " + r.listed + with_handles + r.iptables_save;
        return false;
    }
    names = iptables_rules(with_handles, r.iptables_save);
    return true;
}

bool add_trace_table(ReplayOutput& r) {
    const std::string trace = "table inet " + std::string(kTraceTable) +
                              " {\n chain trace_prerouting {\n"
                              "  type filter hook prerouting priority -1000; policy accept;\n"
                              "  meta nftrace set 1\n }\n}\n";
    std::string out;
    if (run(-1, {"nft", "-f", "-"}, out, trace) != 0) {
        r.error = "cannot add the tracing chain: " + out;
        return false;
    }
    return true;
}

bool load_ruleset(const SandboxSpec& spec, ReplayOutput& r, IptablesRules& names) {
    if (spec.iptables) return load_iptables(spec, r, names) && add_trace_table(r);
    std::string out;
    if (run(-1, {"nft", "-c", "-f", spec.ruleset_path}, out) != 0) {
        r.too_large = out.find("Message too long") != std::string::npos;
        r.lint_failed = !r.too_large;
        r.error = "nft -c -f " + spec.ruleset_path + " refused the ruleset:\n" + out;
        return false;
    }
    out.clear();
    if (run(-1, {"nft", "-f", spec.ruleset_path}, out) != 0) {
        r.too_large = out.find("Message too long") != std::string::npos;
        r.error = "nft -f " + spec.ruleset_path + " failed in the sandbox:\n" + out;
        return false;
    }
    if (run(-1, {"nft", "list", "ruleset"}, r.listed) != 0) {
        r.error = "nft list ruleset failed: " + r.listed;
        return false;
    }
    return add_trace_table(r);
}

// ---- the child's side: probes ----

int socket_in(int ns, int router, int type) {
    if (::setns(ns, CLONE_NEWNET) != 0) return -1;
    const int fd = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::setns(router, CLONE_NEWNET);
    return fd;
}

sockaddr_in address(const std::string& ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    return a;
}

struct Monitor {
    pid_t pid = -1;
    int fd = -1;
    std::string text;
    void drain() {
        char buf[65536];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    }
};

// What the trace already says about a batch: a probe whose request (or
// answer) it shows dropped is not waited for to the end of the batch, only
// long enough for a reject's ICMP error or reset to come back.
struct Watch {
    Monitor* monitor = nullptr;
    const std::map<std::string, std::string>* types = nullptr;
    std::string client;
};

constexpr int kGraceMs = 200;  // after the trace shows a reject: for its ICMP error or reset to arrive
constexpr int kTraceEveryMs = 10;  // how often a batch reads the trace

struct Live {
    ProbeResult* r = nullptr;
    int client = -1, server = -1;
    bool arrived = false, done = false;
    int stopped_at_ms = -1;  // when the trace showed it dropped (ms into the batch)
    int grace_ms = 0;  // how long after that it may still be answered (a reject's error)
};

void finish(Live& l, ProbeOutcome o, std::string how) {
    l.r->outcome = o;
    l.r->how = std::move(how);
    l.done = true;
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
        if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR) continue;
        sock_extended_err e{};
        std::memcpy(&e, CMSG_DATA(c), sizeof e);
        if (e.ee_origin == SO_EE_ORIGIN_ICMP)
            return "icmp type " + std::to_string(e.ee_type) + " code " + std::to_string(e.ee_code);
        return std::strerror(static_cast<int>(e.ee_errno));
    }
    return "an error";
}

void open_probe(const Namespaces& ns, Live& l) {
    const Probe& p = l.r->probe;
    const bool tcp = p.transport == catalog::Transport::Tcp;
    const sockaddr_in to = address(p.daddr, p.port);
    const int one = 1;
    l.server = socket_in(ns.server, ns.router, tcp ? SOCK_STREAM : SOCK_DGRAM);
    ::setsockopt(l.server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(l.server, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 ||
        (tcp && ::listen(l.server, 8) != 0)) {
        finish(l, ProbeOutcome::Dropped, std::string("server side could not listen: ") + std::strerror(errno));
        return;
    }
    l.client = socket_in(ns.client, ns.router, tcp ? SOCK_STREAM : SOCK_DGRAM);
    ::setsockopt(l.client, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
    const int rc = ::connect(l.client, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (rc != 0 && errno != EINPROGRESS) {
        finish(l, ProbeOutcome::Rejected, std::string("connect: ") + std::strerror(errno));
        return;
    }
    if (!tcp) [[maybe_unused]]
        auto n = ::send(l.client, "callwall-audit", 14, 0);
}

void on_client(Live& l, short revents) {
    if (l.r->probe.transport == catalog::Transport::Tcp) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(l.client, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0 && (revents & POLLOUT)) {
            finish(l, ProbeOutcome::Passed, "handshake completed");
            return;
        }
        if (err == 0) return;
        // An ICMP error is queued with its type and code (IP_RECVERR); a
        // reset queues nothing. Both read ECONNREFUSED for a port unreachable.
        const std::string icmp = icmp_error(l.client);
        if (icmp.rfind("icmp type ", 0) == 0)
            finish(l, ProbeOutcome::Rejected, icmp);
        else if (err == ECONNREFUSED)
            finish(l, ProbeOutcome::Rejected, "tcp reset");
        else
            finish(l, ProbeOutcome::Rejected, std::string("error: ") + std::strerror(err));
        return;
    }
    if (revents & POLLERR) {
        finish(l, ProbeOutcome::Rejected, icmp_error(l.client));
        return;
    }
    char buf[64];
    if (::recv(l.client, buf, sizeof buf, 0) >= 0) finish(l, ProbeOutcome::Passed, "reply received");
}

void on_server_udp(Live& l) {
    char buf[64];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(l.server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    l.arrived = true;
    [[maybe_unused]] auto s =
        ::sendto(l.server, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
}

// Nothing came back in time (or within the grace after the trace showed a drop).
void finish_silent(Live& l) {
    if (l.r->probe.transport == catalog::Transport::Tcp)
        finish(l, ProbeOutcome::Dropped, "no answer to the SYN");
    else if (l.arrived)
        finish(l, ProbeOutcome::ReplyBlocked, "request reached the server, its reply did not come back");
    else
        finish(l, ProbeOutcome::Dropped, "no answer");
}

// Marks the probes whose request or answer the trace (since `from`) shows dropped.
void scan_trace(const Watch& w, size_t from, std::vector<Live>& live, int now_ms) {
    w.monitor->drain();
    if (from >= w.monitor->text.size()) return;
    for (const auto& p : parse_trace(std::string_view(w.monitor->text).substr(from), kTraceTable)) {
        const TraceEvent* e = deciding_event(p, *w.types);
        if (!e || e->verdict != "drop") continue;
        for (auto& l : live) {
            if (l.done || l.stopped_at_ms >= 0) continue;
            const Probe& pr = l.r->probe;
            if (p.proto != (pr.transport == catalog::Transport::Tcp ? "tcp" : "udp")) continue;
            const bool request = p.saddr == w.client && p.daddr == pr.daddr && p.dport == pr.port;
            const bool answer = p.saddr == pr.daddr && p.sport == pr.port && p.daddr == w.client;
            if (!request && !answer) continue;
            l.stopped_at_ms = now_ms;
            // A reject sends its ICMP error or reset as it drops; a plain drop sends nothing.
            l.grace_ms = !e->policy && e->rule.find("reject") != std::string::npos ? kGraceMs : 0;
        }
    }
}

void run_batch(const Namespaces& ns, std::span<ProbeResult> batch, int timeout_ms, const Watch& w) {
    const size_t trace_from = w.monitor ? (w.monitor->drain(), w.monitor->text.size()) : 0;
    std::vector<Live> live(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
        live[i].r = &batch[i];
        open_probe(ns, live[i]);
    }
    const auto start = Clock::now();
    int scanned_at = -kTraceEveryMs;
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owner;  // (probe, is the server socket)
    while (ms_since(start) < timeout_ms) {
        const int now = ms_since(start);
        if (w.monitor && now - scanned_at >= kTraceEveryMs) {
            scan_trace(w, trace_from, live, now);
            scanned_at = now;
        }
        for (auto& l : live)
            if (!l.done && l.stopped_at_ms >= 0 && now >= l.stopped_at_ms + l.grace_ms) finish_silent(l);
        fds.clear();
        owner.clear();
        for (size_t i = 0; i < live.size(); ++i) {
            if (live[i].done) continue;
            const bool tcp = live[i].r->probe.transport == catalog::Transport::Tcp;
            fds.push_back({live[i].client, static_cast<short>(tcp ? POLLOUT : POLLIN), 0});
            owner.emplace_back(i, false);
            if (!tcp) {
                fds.push_back({live[i].server, POLLIN, 0});
                owner.emplace_back(i, true);
            }
        }
        if (fds.empty()) break;
        int wait = timeout_ms - now;
        if (w.monitor) wait = std::min(wait, kTraceEveryMs);
        if (::poll(fds.data(), fds.size(), std::max(1, wait)) <= 0) continue;
        for (size_t k = 0; k < fds.size(); ++k) {
            if (fds[k].revents == 0) continue;
            Live& l = live[owner[k].first];
            if (l.done) continue;
            if (owner[k].second)
                on_server_udp(l);
            else
                on_client(l, fds[k].revents);
        }
    }
    for (auto& l : live) {
        if (!l.done) finish_silent(l);
        if (l.client >= 0) ::close(l.client);
        if (l.server >= 0) ::close(l.server);
    }
}

// ---- the child's side: tracing ----

bool start_monitor(const SandboxSpec& spec, const Namespaces& ns, Monitor& m, std::string& error) {
    m.pid = spawn(-1, {"nft", "-a", "monitor", "trace"}, m.fd);
    if (m.pid < 0) {
        error = "cannot start nft monitor trace";
        return false;
    }
    ::fcntl(m.fd, F_SETFL, O_NONBLOCK);
    // Ready once a canary (UDP to the server link's port 9) shows up in the trace.
    const int canary = socket_in(ns.client, ns.router, SOCK_DGRAM);
    const sockaddr_in to = address(kServerLink, 9);
    const std::string needle = "ip saddr " + spec.client_addr + " ip daddr " + kServerLink;
    const auto start = Clock::now();
    while (ms_since(start) < 5000 && m.text.find(needle) == std::string::npos) {
        [[maybe_unused]] auto n = ::sendto(canary, "x", 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        m.drain();
    }
    ::close(canary);
    if (m.text.find(needle) == std::string::npos) {
        error = "nft monitor trace showed no packet within 5 s: " + m.text.substr(0, 300);
        return false;
    }
    return true;
}

// The deciding event of the first traced packet of the probe's request
// (`reply` false) or of its answer from the server side (`reply` true).
std::string decision(const std::vector<TracedPacket>& packets, const std::map<std::string, std::string>& types,
                     const IptablesRules& names, const std::string& client, const Probe& probe, bool reply,
                     bool& accepted, Decider& by) {
    const bool tcp = probe.transport == catalog::Transport::Tcp;
    for (const auto& p : packets) {
        if (p.proto != (tcp ? "tcp" : "udp")) continue;
        const bool match = reply ? (p.saddr == probe.daddr && p.sport == probe.port)
                                 : (p.saddr == client && p.daddr == probe.daddr && p.dport == probe.port);
        if (!match) continue;
        const TraceEvent* e = deciding_event(p, types);
        accepted = !e || e->verdict == "accept";
        by = Decider{};
        if (e) {
            by = Decider{.table = e->table, .chain = e->chain, .handle = e->policy ? 0 : e->handle, .reply = reply};
            const auto it = e->policy ? names.end() : names.find({e->table + " " + e->chain, e->handle});
            if (it != names.end()) by.position = it->second.position;
        }
        return e ? describe(*e, &names) : "no chain decided (no base chain on this path)";
    }
    accepted = false;
    return "";
}

void attach_decisions(const SandboxSpec& spec, const IptablesRules& names, const std::string& trace, ReplayOutput& r) {
    const auto packets = parse_trace(trace, kTraceTable);
    const auto types = chain_types(r.listed);
    for (auto& res : r.results) {
        bool accepted = false;
        res.decided_by = decision(packets, types, names, spec.client_addr, res.probe, false, accepted, res.decider);
        // The request went through yet nothing came back: the answer was stopped.
        if (res.outcome != ProbeOutcome::Passed && accepted) {
            bool reply_accepted = false;
            Decider back_by;
            const std::string back =
                decision(packets, types, names, spec.client_addr, res.probe, true, reply_accepted, back_by);
            if (!back.empty() && !reply_accepted) {
                res.decided_by = "the reply, by " + back;
                res.decider = back_by;
                if (res.outcome == ProbeOutcome::Dropped) res.outcome = ProbeOutcome::ReplyBlocked;
            }
        }
        if (res.decided_by.empty()) res.decided_by = kNotSeen;
    }
}

// Probes whose packets the trace lost (nft monitor's socket overran under a
// burst) are sent again, a few at a time, so each gets its deciding rule:
// those the trace never showed, and those it showed without the drop that
// stopped them (part of their lines lost).
void reprobe_untraced(const SandboxSpec& spec, const IptablesRules& names, const Namespaces& ns, Monitor& m,
                      ReplayOutput& r) {
    constexpr size_t kSmallBatch = 8;
    std::vector<size_t> redo;
    for (size_t i = 0; i < r.results.size(); ++i)
        if (r.results[i].decided_by == kNotSeen ||
            (r.results[i].outcome != ProbeOutcome::Passed && r.results[i].decider.table.empty()))
            redo.push_back(i);
    if (redo.empty()) return;
    ReplayOutput again;
    again.listed = r.listed;
    for (size_t i : redo) again.results.push_back(ProbeResult{.probe = r.results[i].probe});
    m.text.clear();
    const auto types = chain_types(r.listed);
    const Watch w{spec.early ? &m : nullptr, &types, spec.client_addr};
    for (size_t i = 0; i < again.results.size(); i += kSmallBatch) {
        run_batch(ns, std::span(again.results).subspan(i, std::min(kSmallBatch, again.results.size() - i)),
                  spec.probe_timeout_ms, w);
        m.drain();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    m.drain();
    attach_decisions(spec, names, m.text, again);
    for (size_t k = 0; k < redo.size(); ++k) r.results[redo[k]] = std::move(again.results[k]);
}

void sandbox_main(const SandboxSpec& spec, const ProbePlanner& plan, ReplayOutput& r) {
    Namespaces ns;
    IptablesRules names;
    if (!enter_namespaces(spec.user_namespace, r.mode, r.error) || !make_peer_namespaces(ns, r.error) ||
        !wire(spec, ns, r.error) || !load_ruleset(spec, r, names))
        return;
    if (!spec.patch.empty()) {
        std::string out;
        if (run(-1, {"nft", "-f", "-"}, out, spec.patch) != 0) {
            r.error = "nft refused the fix:\n" + out + "the fix was:\n" + spec.patch;
            return;
        }
    }
    for (auto& p : plan(r.listed)) r.results.push_back(ProbeResult{.probe = std::move(p)});
    Monitor m;
    if (!start_monitor(spec, ns, m, r.error)) {
        if (m.pid > 0) ::kill(m.pid, SIGKILL);
        return;
    }
    const auto types = chain_types(r.listed);
    const Watch w{spec.early ? &m : nullptr, &types, spec.client_addr};
    for (size_t i = 0; i < r.results.size(); i += kBatch) {
        run_batch(ns, std::span(r.results).subspan(i, std::min(kBatch, r.results.size() - i)), spec.probe_timeout_ms,
                  w);
        m.drain();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    m.drain();
    attach_decisions(spec, names, m.text, r);
    reprobe_untraced(spec, names, ns, m, r);
    ::kill(m.pid, SIGTERM);
    ::waitpid(m.pid, nullptr, 0);
    r.ok = true;
}

// ---- between child and parent: length-prefixed fields ----

void put(std::string& out, std::string_view s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
}

bool get(std::string_view& in, std::string& s) {
    const size_t colon = in.find(':');
    if (colon == std::string_view::npos) return false;
    size_t n = 0;
    for (char c : in.substr(0, colon)) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (in.size() < colon + 1 + n) return false;
    s.assign(in.substr(colon + 1, n));
    in.remove_prefix(colon + 1 + n);
    return true;
}

std::string encode(const ReplayOutput& r) {
    std::string out;
    put(out, r.ok ? "1" : "0");
    put(out, r.lint_failed ? "1" : "0");
    put(out, r.too_large ? "1" : "0");
    put(out, r.error);
    put(out, r.mode);
    put(out, r.listed);
    put(out, r.iptables_save);
    for (const auto& p : r.results) {
        put(out, p.probe.transport == catalog::Transport::Tcp ? "tcp" : "udp");
        put(out, p.probe.daddr);
        put(out, std::to_string(p.probe.port));
        put(out, std::to_string(static_cast<int>(p.outcome)));
        put(out, p.how);
        put(out, p.decided_by);
        put(out, p.decider.table);
        put(out, p.decider.chain);
        put(out, std::to_string(p.decider.handle));
        put(out, std::to_string(p.decider.position));
        put(out, p.decider.reply ? "1" : "0");
    }
    return out;
}

bool decode(std::string_view in, ReplayOutput& r) {
    std::string ok, lint, large, f[11];
    if (!get(in, ok) || !get(in, lint) || !get(in, large) || !get(in, r.error) || !get(in, r.mode) ||
        !get(in, r.listed) || !get(in, r.iptables_save))
        return false;
    r.ok = ok == "1";
    r.lint_failed = lint == "1";
    r.too_large = large == "1";
    while (!in.empty()) {
        for (auto& s : f)
            if (!get(in, s)) return false;
        ProbeResult p;
        p.probe.transport = f[0] == "tcp" ? catalog::Transport::Tcp : catalog::Transport::Udp;
        p.probe.daddr = f[1];
        p.probe.port = static_cast<uint16_t>(std::stoul(f[2]));
        p.outcome = static_cast<ProbeOutcome>(std::stoi(f[3]));
        p.how = f[4];
        p.decided_by = f[5];
        p.decider.table = f[6];
        p.decider.chain = f[7];
        p.decider.handle = std::stoll(f[8]);
        p.decider.position = std::stoi(f[9]);
        p.decider.reply = f[10] == "1";
        r.results.push_back(std::move(p));
    }
    return true;
}

}  // namespace

ReplayOutput replay(const SandboxSpec& spec, const ProbePlanner& plan, int overall_timeout_s) {
    ReplayOutput r;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        r.error = std::string("pipe: ") + std::strerror(errno);
        return r;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        r.error = std::string("fork: ") + std::strerror(errno);
        return r;
    }
    if (child == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::close(p[0]);
        ReplayOutput mine;
        sandbox_main(spec, plan, mine);
        const std::string out = encode(mine);
        size_t off = 0;
        while (off < out.size()) {
            const ssize_t n = ::write(p[1], out.data() + off, out.size() - off);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    ::close(p[1]);
    std::string data;
    const auto start = Clock::now();
    pollfd pfd{p[0], POLLIN, 0};
    bool timed_out = false;
    for (;;) {
        const int left = overall_timeout_s * 1000 - ms_since(start);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (::poll(&pfd, 1, left) <= 0) continue;
        char buf[65536];
        const ssize_t n = ::read(p[0], buf, sizeof buf);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    if (timed_out) ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    if (timed_out) {
        r.error = "the sandbox did not finish within " + std::to_string(overall_timeout_s) + " s (killed)";
        return r;
    }
    if (!decode(data, r)) r.error = "the sandbox ended without a complete answer";
    return r;
}

}  // namespace callwall::audit
