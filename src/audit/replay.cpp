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

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "audit/pace.hpp"
#include "audit/replay_codec.hpp"
#include "audit/replay_sockets.hpp"
#include "audit/ruleset_chains.hpp"
#include "audit/ruleset_text.hpp"
#include "audit/sandbox.hpp"
#include "probe/local_port.hpp"

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

using namespace sandbox;

// The child's progress, for the parent to say what was slow when it has to
// kill it (-1: not in the child).
int g_stage_fd = -1;
void stage(const std::string& what) {
    if (g_stage_fd < 0) return;
    const std::string line = what + "\n";
    [[maybe_unused]] auto n = ::write(g_stage_fd, line.data(), line.size());
}

constexpr const char* kNotSeen = "not seen by the trace";
// A traced packet no chain of the ruleset decided: no base chain on its
// path, or the trace lost the lines after its first (sent again to tell).
constexpr std::string_view kNoChain = "no chain decided";
constexpr size_t kBatch = 64;  // probes in flight at once (two sockets each); more overruns nft monitor's socket

using Clock = std::chrono::steady_clock;

int ms_since(Clock::time_point t) {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// ---- the child's side: probes ----

// The client's address in each family: a probe's is that of its server side.
struct Clients {
    std::string v4, v6;
    [[nodiscard]] const std::string& of(const Probe& p) const { return over_ipv6(p) ? v6 : v4; }
};

Clients clients_of(const SandboxSpec& spec) { return Clients{spec.client_addr, spec.client_addr6}; }

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
    Clients clients;
    const std::vector<catalog::PortRange>* avoid = nullptr;  ///< SandboxSpec::avoid_local_ports
    /// The trace to read during the batch without ending probes early
    /// (--patient): its pipe must not fill, or nft monitor's socket overruns
    /// and the trace loses packets.
    Monitor* drain = nullptr;
};

constexpr int kGraceMs = 200;  // after the trace shows a reject: for its ICMP error or reset to arrive
constexpr int kTraceEveryMs = 10;  // how often a batch reads the trace

// One probe in flight. The initiator opens the exchange (the client's
// socket, or the server side's for an inbound probe); the responder listens
// and answers (UDP: echoes the datagram).
struct Live {
    ProbeResult* r = nullptr;
    int initiator = -1, responder = -1;
    bool opened = false, arrived = false, done = false;
    int opened_at_ms = 0;  // ms into the batch
    int stopped_at_ms = -1;  // when the trace showed it dropped (ms into the batch)
    int grace_ms = 0;  // how long after that it may still be answered (a reject's error)
};

void finish(Live& l, ProbeOutcome o, std::string how) {
    l.r->outcome = o;
    l.r->how = std::move(how);
    l.done = true;
}

uint32_t g_port_seq = 0;  // the child's turn through each probe's client port range

void open_probe(const Namespaces& ns, const Clients& clients, const std::vector<catalog::PortRange>* avoid, Live& l) {
    l.opened = true;
    const Probe& p = l.r->probe;
    const bool tcp = p.transport == catalog::Transport::Tcp;
    const int type = tcp ? SOCK_STREAM : SOCK_DGRAM;
    const int family = over_ipv6(p) ? AF_INET6 : AF_INET;
    const probe::SockAddr server_at = address(p.daddr, p.port);
    const probe::SockAddr client_at = address(p.inside.empty() ? clients.of(p) : p.inside, p.client_port);
    const probe::SockAddr& listen_at = p.inbound ? client_at : server_at;
    // Through a port forward the server side sends to the public address and port.
    const probe::SockAddr forward_at =
        address(p.to.empty() ? clients.of(p) : p.to, p.to_port ? p.to_port : p.client_port);
    const probe::SockAddr& send_to = p.inbound && !p.to.empty() ? forward_at : listen_at;
    const probe::SockAddr& open_from = p.inbound ? server_at : client_at;
    const int one = 1;
    l.responder = socket_in(p.inbound ? ns.client : ns.server, ns.router, type, family);
    ::setsockopt(l.responder, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(l.responder, listen_at.get(), listen_at.len) != 0 || (tcp && ::listen(l.responder, 8) != 0)) {
        finish(l, ProbeOutcome::Dropped,
               std::string(p.inbound ? "client" : "server side") + " could not listen: " + std::strerror(errno));
        return;
    }
    // An inbound probe leaves from the server's address and port; an
    // outbound one from the client's port when the probe names one, else
    // from one the kernel picks outside the inbound entries' local ports.
    if (!p.inbound && p.client_port == 0 && p.client_ports.hi != 0) {
        l.initiator = bind_in_range(ns, type, client_at, p.client_ports, avoid, g_port_seq);
        if (l.initiator < 0) {
            finish(l, ProbeOutcome::Dropped,
                   "could not bind the sender to a client port in " + catalog::port_range_text(p.client_ports) + ": " +
                       std::strerror(errno));
            return;
        }
    } else if (!p.inbound && p.client_port == 0 && avoid && !avoid->empty()) {
        std::string err;
        l.initiator =
            probe::bind_outside([&] { return socket_in(ns.client, ns.router, type, family); }, client_at, *avoid, &err);
        if (l.initiator < 0) {
            finish(l, ProbeOutcome::Dropped, "could not bind the sender: " + err);
            return;
        }
    } else {
        l.initiator = socket_in(p.inbound ? ns.server : ns.client, ns.router, type, family);
    }
    receive_errors(l.initiator, family);
    if (p.inbound || p.client_port != 0) {
        ::setsockopt(l.initiator, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(l.initiator, open_from.get(), open_from.len) != 0) {
            finish(l, ProbeOutcome::Dropped, std::string("could not bind the sender: ") + std::strerror(errno));
            return;
        }
    }
    const int rc = ::connect(l.initiator, send_to.get(), send_to.len);
    const int connect_errno = errno;
    probe::SockAddr local;
    local.len = sizeof local.ss;
    if (p.inbound)
        l.r->sport = p.client_port;
    else if (::getsockname(l.initiator, local.get(), &local.len) == 0)
        l.r->sport = local.port();
    if (rc != 0 && connect_errno != EINPROGRESS) {
        finish(l, ProbeOutcome::Rejected, std::string("connect: ") + std::strerror(connect_errno));
        return;
    }
    if (!tcp) [[maybe_unused]]
        auto n = ::send(l.initiator, "callwall-audit", 14, 0);
}

void on_initiator(Live& l, short revents) {
    if (l.r->probe.transport == catalog::Transport::Tcp) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(l.initiator, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0 && (revents & POLLOUT)) {
            finish(l, ProbeOutcome::Passed, "handshake completed");
            return;
        }
        if (err == 0) return;
        // An ICMP error is queued with its type and code (IP_RECVERR); a
        // reset queues nothing. Both read ECONNREFUSED for a port unreachable.
        const std::string icmp = icmp_error(l.initiator);
        if (icmp.rfind("icmp type ", 0) == 0)
            finish(l, ProbeOutcome::Rejected, icmp);
        else if (err == ECONNREFUSED)
            finish(l, ProbeOutcome::Rejected, "tcp reset");
        else
            finish(l, ProbeOutcome::Rejected, std::string("error: ") + std::strerror(err));
        return;
    }
    if (revents & POLLERR) {
        finish(l, ProbeOutcome::Rejected, icmp_error(l.initiator));
        return;
    }
    char buf[64];
    if (::recv(l.initiator, buf, sizeof buf, 0) >= 0) finish(l, ProbeOutcome::Passed, "reply received");
}

// The responder echoes a UDP datagram. For an inbound probe its arrival at
// the client is what the requirement asks: passed.
void on_responder_udp(Live& l) {
    char buf[64];
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(l.responder, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    l.arrived = true;
    [[maybe_unused]] auto s =
        ::sendto(l.responder, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    if (l.r->probe.inbound) finish(l, ProbeOutcome::Passed, "arrived unsolicited at the client's port");
}

// Consecutive probes cut into batches of at most `max` in which no address
// and port is bound twice: the kernel would hand a datagram for one probe
// to another's socket. (Probes from several local ports of the client to
// one server port follow each other in separate batches.)
std::vector<std::span<ProbeResult>> batches(std::span<ProbeResult> all, size_t max, const Clients& clients) {
    std::vector<std::span<ProbeResult>> out;
    std::vector<std::string> bound;
    size_t start = 0;
    for (size_t i = 0; i < all.size(); ++i) {
        const Probe& p = all[i].probe;
        const std::string proto = p.transport == catalog::Transport::Tcp ? "tcp " : "udp ";
        std::vector<std::string> keys{proto + p.daddr + ":" + std::to_string(p.port)};
        if (p.client_port != 0) keys.push_back(proto + clients.of(p) + ":" + std::to_string(p.client_port));
        const bool clash = std::any_of(keys.begin(), keys.end(), [&](const std::string& k) {
            return std::find(bound.begin(), bound.end(), k) != bound.end();
        });
        if (i > start && (clash || i - start == max)) {
            out.push_back(all.subspan(start, i - start));
            start = i;
            bound.clear();
        }
        bound.insert(bound.end(), keys.begin(), keys.end());
    }
    if (start < all.size()) out.push_back(all.subspan(start));
    return out;
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

// Whether a traced packet is the probe's opening packet (`reply` false) or
// the answer to it. The answer is matched without its destination address
// (a NAT may show it before it is undone), and on the client's port only
// when the probe names one.
bool packet_of(const TracedPacket& p, const ProbeResult& r, const Clients& clients, bool reply, bool check_to) {
    const Probe& pr = r.probe;
    const std::string& client = pr.inside.empty() ? clients.of(pr) : pr.inside;
    if (p.proto != (pr.transport == catalog::Transport::Tcp ? "tcp" : "udp")) return false;
    const uint16_t cport = pr.client_port != 0 ? pr.client_port : r.sport;
    // Client-to-server packets: the opening of an outbound probe, the answer of an inbound one.
    if (reply == pr.inbound)
        return p.saddr == client && (cport == 0 || p.sport == cport) && p.daddr == pr.daddr && p.dport == pr.port;
    // Through a port forward: before the DNAT it is addressed to the public address and port.
    return p.saddr == pr.daddr && p.sport == pr.port && (!check_to || p.daddr == client || p.daddr == pr.to) &&
           (cport == 0 || p.dport == cport || (pr.to_port != 0 && p.dport == pr.to_port));
}

// Marks the probes whose request or answer the trace (since `from`) shows dropped.
void scan_trace(const Watch& w, size_t from, std::vector<Live>& live, int now_ms) {
    w.monitor->drain();
    if (from >= w.monitor->text.size()) return;
    for (const auto& p : parse_trace(std::string_view(w.monitor->text).substr(from), kTraceTable)) {
        const TraceEvent* e = deciding_event(p, *w.types);
        if (!e || e->verdict != "drop") continue;
        for (auto& l : live) {
            if (!l.opened || l.done || l.stopped_at_ms >= 0) continue;
            if (!packet_of(p, *l.r, w.clients, false, true) && !packet_of(p, *l.r, w.clients, true, true)) continue;
            l.stopped_at_ms = now_ms;
            // A reject sends its ICMP error or reset as it drops; a plain drop sends
            // nothing. (iptables-nft may list its target as `xt target "REJECT"`.)
            const bool reject = !e->policy && (e->rule.find("reject") != std::string::npos ||
                                               e->rule.find("REJECT") != std::string::npos);
            l.grace_ms = reject ? kGraceMs : 0;
        }
    }
}

// Opens the batch's probes (as the pace allows) and waits for each at
// most `timeout_ms` from its opening.
void run_batch(const Namespaces& ns, std::span<ProbeResult> batch, int timeout_ms, const Watch& w, Pace& pace) {
    const size_t trace_from = w.monitor ? (w.monitor->drain(), w.monitor->text.size()) : 0;
    std::vector<Live> live(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) live[i].r = &batch[i];
    const auto start = Clock::now();
    size_t next = 0;  // the next probe to open
    int scanned_at = -kTraceEveryMs;
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owner;  // (probe, is the responder)
    for (;;) {
        int next_open_ms = 0;  // how long until the next probe may open
        while (next < live.size()) {
            const bool tcp = live[next].r->probe.transport == catalog::Transport::Tcp;
            next_open_ms = pace.wait_ms(tcp);
            if (next_open_ms > 0) break;
            live[next].opened_at_ms = ms_since(start);
            open_probe(ns, w.clients, w.avoid, live[next]);
            pace.open(tcp);
            ++next;
        }
        const int now = ms_since(start);
        if (w.monitor && now - scanned_at >= kTraceEveryMs) {
            scan_trace(w, trace_from, live, now);
            scanned_at = now;
        } else if (w.drain && now - scanned_at >= kTraceEveryMs) {
            w.drain->drain();
            scanned_at = now;
        }
        int wait = next < live.size() ? next_open_ms : timeout_ms;
        for (size_t i = 0; i < next; ++i) {
            Live& l = live[i];
            if (!l.done && l.stopped_at_ms >= 0 && now >= l.stopped_at_ms + l.grace_ms) finish_silent(l);
            if (!l.done && now - l.opened_at_ms >= timeout_ms) finish_silent(l);
            if (!l.done) wait = std::min(wait, l.opened_at_ms + timeout_ms - now);
        }
        fds.clear();
        owner.clear();
        for (size_t i = 0; i < next; ++i) {
            if (live[i].done) continue;
            const bool tcp = live[i].r->probe.transport == catalog::Transport::Tcp;
            fds.push_back({live[i].initiator, static_cast<short>(tcp ? POLLOUT : POLLIN), 0});
            owner.emplace_back(i, false);
            if (!tcp) {
                fds.push_back({live[i].responder, POLLIN, 0});
                owner.emplace_back(i, true);
            }
        }
        if (fds.empty() && next == live.size()) break;
        if (w.monitor || w.drain) wait = std::min(wait, kTraceEveryMs);
        if (::poll(fds.data(), fds.size(), std::max(1, wait)) <= 0) continue;
        for (size_t k = 0; k < fds.size(); ++k) {
            if (fds[k].revents == 0) continue;
            Live& l = live[owner[k].first];
            if (l.done) continue;
            if (owner[k].second)
                on_responder_udp(l);
            else
                on_initiator(l, fds[k].revents);
        }
    }
    for (auto& l : live) {
        if (l.initiator >= 0) ::close(l.initiator);
        if (l.responder >= 0) ::close(l.responder);
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
    const probe::SockAddr to = address(kServerLink, 9);
    const std::string needle = "ip saddr " + spec.client_addr + " ip daddr " + kServerLink;
    const auto start = Clock::now();
    // nft monitor reads the whole ruleset before it prints a trace: seconds
    // for tens of thousands of rules.
    while (ms_since(start) < spec.helper_timeout_ms && m.text.find(needle) == std::string::npos) {
        [[maybe_unused]] auto n = ::sendto(canary, "x", 1, 0, to.get(), to.len);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        m.drain();
    }
    ::close(canary);
    stage("nft monitor trace ready after " + std::to_string(ms_since(start)) + " ms");
    if (m.text.find(needle) == std::string::npos) {
        error = "nft monitor trace showed no packet within " + std::to_string(spec.helper_timeout_ms / 1000) +
                " s (the slow step: starting the trace" + (m.text.empty() ? "" : ": " + m.text.substr(0, 300)) + ")";
        return false;
    }
    return true;
}

// The deciding event of the first traced packet of the probe's request
// (`reply` false) or of the answer to it (`reply` true).
std::string decision(const std::vector<TracedPacket>& packets, const std::map<std::string, std::string>& types,
                     const IptablesRules& names, const Clients& client, const ProbeResult& probe, bool reply,
                     bool& accepted, Decider& by) {
    for (const auto& p : packets) {
        if (!packet_of(p, probe, client, reply, false)) continue;
        const TraceEvent* e = deciding_event(p, types);
        accepted = !e || e->verdict == "accept";
        by = Decider{};
        if (e) {
            by = Decider{.table = e->table, .chain = e->chain, .handle = e->policy ? 0 : e->handle, .reply = reply};
            const auto it = e->policy ? names.end() : names.find({e->table + " " + e->chain, e->handle});
            if (it != names.end()) by.position = it->second.position;
        }
        return e ? describe(*e, &names) + jump_path(p, *e, &types)
                 : std::string(kNoChain) + " (no base chain on this path)";
    }
    accepted = false;
    return "";
}

void attach_decisions(const SandboxSpec& spec, const IptablesRules& names, const std::string& trace, ReplayOutput& r,
                      const Limits& limits) {
    const auto packets = parse_trace(trace, kTraceTable);
    const auto types = chain_types(r.listed);
    const Clients clients = clients_of(spec);
    for (auto& res : r.results) {
        bool accepted = false;
        res.decided_by = decision(packets, types, names, clients, res, false, accepted, res.decider);
        res.limit = limit_on_path(
            packets, [&](const TracedPacket& p) { return packet_of(p, res, clients, false, false); },
            res.probe.transport == catalog::Transport::Tcp ? "tcp" : "udp", limits);
        // The request went through yet nothing came back: the answer was stopped.
        if (res.outcome != ProbeOutcome::Passed && accepted) {
            bool reply_accepted = false;
            Decider back_by;
            const std::string back = decision(packets, types, names, clients, res, true, reply_accepted, back_by);
            if (!back.empty() && !reply_accepted) {
                res.decided_by = "the reply, by " + back;
                res.decider = back_by;
                if (res.outcome == ProbeOutcome::Dropped) res.outcome = ProbeOutcome::ReplyBlocked;
            }
        }
        // A probe from a named local port stands for the answers to it (an
        // inbound requirement's): what let the answer in decided it.
        if (res.outcome == ProbeOutcome::Passed && res.probe.client_port != 0 && !res.probe.inbound) {
            bool reply_accepted = false;
            Decider back_by;
            const std::string back = decision(packets, types, names, clients, res, true, reply_accepted, back_by);
            if (!back.empty()) {
                res.decided_by = back;
                res.decider = back_by;
            }
        }
        if (res.decided_by.empty()) res.decided_by = kNotSeen;
    }
}

// Runs `r`'s probes in batches of at most `batch_size` with the trace
// watched (read afresh), then gives each its deciding rule from the trace.
void probe_and_decide(const SandboxSpec& spec, const IptablesRules& names, const Namespaces& ns, Monitor& m,
                      ReplayOutput& r, size_t batch_size, Limits& limits) {
    m.drain();
    m.text.clear();
    const auto types = chain_types(r.listed);
    const Watch w{spec.early ? &m : nullptr, &types, clients_of(spec), &spec.avoid_local_ports, &m};
    if (limits.pace.at_once != 0) batch_size = std::min(batch_size, limits.pace.at_once);
    const auto all = batches(r.results, batch_size, clients_of(spec));
    size_t done = 0;
    for (auto batch : all) {
        stage("replaying batch " + std::to_string(++done) + " of " + std::to_string(all.size()) + " (" +
              std::to_string(r.results.size()) + " probes)");
        run_batch(ns, batch, spec.probe_timeout_ms, w, limits.pace);
        if (limits.pace.flush_conntrack) flush_conntrack();
        m.drain();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    m.drain();
    stage("reading the trace of " + std::to_string(r.results.size()) + " probes");
    attach_decisions(spec, names, m.text, r, limits);
}

// Probes whose packets the trace lost (nft monitor's socket overran under a
// burst) are sent again, a few at a time, so each gets its deciding rule:
// those the trace never showed, and those it showed without the drop that
// stopped them (part of their lines lost).
void reprobe_untraced(const SandboxSpec& spec, const IptablesRules& names, const Namespaces& ns, Monitor& m,
                      ReplayOutput& r, Limits& limits) {
    constexpr size_t kSmallBatch = 8;
    std::vector<size_t> redo;
    for (size_t i = 0; i < r.results.size(); ++i)
        if (r.results[i].decided_by == kNotSeen || r.results[i].decided_by.rfind(kNoChain, 0) == 0 ||
            (r.results[i].outcome != ProbeOutcome::Passed && r.results[i].decider.table.empty()))
            redo.push_back(i);
    if (redo.empty()) return;
    ReplayOutput again;
    again.listed = r.listed;
    for (size_t i : redo) again.results.push_back(ProbeResult{.probe = r.results[i].probe});
    probe_and_decide(spec, names, ns, m, again, kSmallBatch, limits);
    // The new result, unless the trace lost it this time and had not before.
    for (size_t k = 0; k < redo.size(); ++k)
        if (again.results[k].decided_by != kNotSeen || r.results[redo[k]].decided_by == kNotSeen)
            r.results[redo[k]] = std::move(again.results[k]);
}

// Runs `results`' probes in batches with the trace watched, then gives each
// its deciding rule, and sends again those the trace lost.
void run_probes(const SandboxSpec& spec, const IptablesRules& names, const Namespaces& ns, Monitor& m, ReplayOutput& r,
                Limits& limits) {
    probe_and_decide(spec, names, ns, m, r, kBatch, limits);
    reprobe_untraced(spec, names, ns, m, r, limits);
}

void sandbox_main(const SandboxSpec& spec, const ProbePlanner& plan, const FollowUpPlanner& then, ReplayOutput& r) {
    Namespaces ns;
    IptablesRules names;
    stage("making the namespaces");
    if (!enter_namespaces(spec.user_namespace, r.mode, r.error) || !make_peer_namespaces(ns, r.error) ||
        !wire(spec, ns, r.error, r.ipv6_unavailable))
        return;
    stage(std::string("loading the ruleset (") +
          (spec.iptables ? (spec.ip6tables_main ? "ip6tables-nft-restore" : "iptables-nft-restore") : "nft -f") + ", " +
          std::to_string(spec.input.text.size()) + " bytes)");
    if (!load_ruleset(spec, r, names)) return;
    if (!spec.patch.empty()) {
        stage("loading the fix under test");
        std::string out;
        if (run(-1, {"nft", "-f", "-"}, out, spec.patch) != 0) {
            r.error = "nft refused the fix:\n" + out + "the fix was:\n" + spec.patch;
            return;
        }
    }
    Limits limits;
    limits.chains = spec.iptables ? parse_iptables_dump(iptables_dumps(spec.input.raw, spec.input6.raw),
                                                        spec.ip6tables_main ? "ip6" : "ip")
                                  : parse_listed(r.listed);
    limits.list = rate_limits(limits.chains);
    limits.pace = pace_of(limits.list);
    limits.names = &names;
    stage("planning the probes");
    // IPv6 probes need IPv6 wired (a kernel without it: IPv4 alone, and the output says so).
    for (auto& p : plan(r.listed))
        if (r.ipv6_unavailable.empty() || !over_ipv6(p)) r.results.push_back(ProbeResult{.probe = std::move(p)});
    stage("starting nft monitor trace");
    Monitor m;
    if (!start_monitor(spec, ns, m, r.error)) {
        if (m.pid > 0) ::kill(m.pid, SIGKILL);
        return;
    }
    run_probes(spec, names, ns, m, r, limits);
    if (then) {
        ReplayOutput more;
        more.listed = r.listed;
        for (auto& p : then(r.listed, r.results))
            if (r.ipv6_unavailable.empty() || !over_ipv6(p)) more.results.push_back(ProbeResult{.probe = std::move(p)});
        if (!more.results.empty()) run_probes(spec, names, ns, m, more, limits);
        for (auto& res : more.results) r.results.push_back(std::move(res));
    }
    ::kill(m.pid, SIGTERM);
    ::waitpid(m.pid, nullptr, 0);
    r.ok = true;
}

}  // namespace

ReplayOutput replay(const SandboxSpec& given, const ProbePlanner& plan, const FollowUpPlanner& then,
                    int overall_timeout_s) {
    ReplayOutput r;
    RulesetCopy copy;
    if (!copy.write(given.input, r.error)) return r;
    SandboxSpec spec = given;
    spec.ruleset_path = copy.main();
    int p[2], st[2];
    if (::pipe2(p, O_CLOEXEC) != 0 || ::pipe2(st, O_CLOEXEC | O_NONBLOCK) != 0) {
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
        ::close(st[0]);
        g_stage_fd = st[1];
        ReplayOutput mine;
        sandbox_main(spec, plan, then, mine);
        const std::string out = encode_replay(mine);
        size_t off = 0;
        while (off < out.size()) {
            const ssize_t n = ::write(p[1], out.data() + off, out.size() - off);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    ::close(p[1]);
    ::close(st[1]);
    std::string data, stages;
    const auto start = Clock::now();
    bool timed_out = false;
    char buf[65536];
    for (;;) {
        const int left = overall_timeout_s * 1000 - ms_since(start);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd[2] = {{p[0], POLLIN, 0}, {st[0], POLLIN, 0}};
        if (::poll(pfd, 2, left) <= 0) continue;
        if (pfd[1].revents) {
            const ssize_t n = ::read(st[0], buf, sizeof buf);
            if (n > 0) stages.append(buf, static_cast<size_t>(n));
            if (n == 0) st[0] = (::close(st[0]), -1);
        }
        if (!pfd[0].revents) continue;
        const ssize_t n = ::read(p[0], buf, sizeof buf);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    if (st[0] >= 0) ::close(st[0]);
    if (timed_out) ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    // The last stage the child reported: what was slow, or where it died.
    while (!stages.empty() && stages.back() == '\n') stages.pop_back();
    const std::string stage = stages.substr(stages.rfind('\n') == std::string::npos ? 0 : stages.rfind('\n') + 1);
    if (timed_out) {
        r.error = "the sandbox did not finish within " + std::to_string(overall_timeout_s) + " s (killed" +
                  (stage.empty() ? std::string(")") : " while " + stage + ")");
        return r;
    }
    if (!decode_replay(data, r)) {
        r.error = "the sandbox ended without a complete answer (" +
                  (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                       : "exit status " + std::to_string(WEXITSTATUS(status))) +
                  (stage.empty() ? std::string(")") : ", while " + stage + ")");
        return r;
    }
    r.error = copy.user_paths(r.error, given.input);
    r.mode = copy.user_paths(r.mode, given.input);
    return r;
}

}  // namespace callwall::audit
