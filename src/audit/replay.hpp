// The sandbox of an audit and the packets replayed through it.
//
// replay() forks a child that makes its own namespaces: user + network
// (unprivileged, as `unshare -U -r -n` does) where the kernel allows it,
// network only when it refuses and we are root. The child's namespace is the
// router; it creates two more network namespaces (client, server) held by
// file descriptors, joins them with veths (the router's ends named as the
// ruleset expects), loads the ruleset, adds a prerouting chain of priority
// -1000 that sets nftrace, runs `nft -a monitor trace`, and replays each
// probe from the client: a TCP handshake to a listener, a UDP datagram
// answered by the server (an inbound probe the other way: from the server
// side to a local port of the client). Follow-up probes, planned from the
// first ones' results, run after them. Nothing is ever created in the caller's
// namespaces; the namespaces die with the child and its helpers (each has
// PR_SET_PDEATHSIG=SIGKILL, and the caller kills the child by its PID).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/ruleset_input.hpp"
#include "catalog/catalog.hpp"

namespace callwall::audit {

/// One replayed exchange between the client (inside) and the server side
/// (outside). Outbound (the default): the client opens it from
/// `client_port` (0: any) to `daddr`:`port` and the server answers.
/// `inbound`: the server side opens it from `daddr`:`port` to the client's
/// local port `client_port`, unsolicited, and the client answers.
struct Probe {
    catalog::Transport transport = catalog::Transport::Tcp;
    std::string daddr;  ///< address of the server side (IPv4, or IPv6 as inet_ntop writes it)
    uint16_t port = 0;  ///< the server side's port
    uint16_t client_port = 0;  ///< the client's local port (0: one of `client_ports`; outbound only)
    bool inbound = false;  ///< the server side sends first
    /// The client's source ports the probe stands for (when client_port is
    /// 0): it leaves from one of them, the next in turn (hi 0: the kernel's choice).
    catalog::PortRange client_ports{0, 0};
    /// Inbound through a port forward: the server side sends to `to`:`to_port`
    /// (the router's public address and published port) and the client
    /// listens at `inside`:`client_port` (the forward's inside server).
    /// Empty/0: straight to the client's address and `client_port`.
    std::string to, inside;
    uint16_t to_port = 0;
    friend bool operator==(const Probe&, const Probe&) = default;
};

/// Whether a probe goes over IPv6 (its server side's address is one).
[[nodiscard]] inline bool over_ipv6(const Probe& p) { return p.daddr.find(':') != std::string::npos; }

enum class ProbeOutcome : uint8_t {
    Passed,  ///< TCP handshake completed / UDP reply received (inbound: the client received it)
    Dropped,  ///< nothing came back
    Rejected,  ///< a TCP reset or an ICMP error came back
    ReplyBlocked,  ///< UDP: the request reached the other side, its reply never came back
};
[[nodiscard]] std::string_view to_string(ProbeOutcome o) noexcept;

/// Where the trace says a probe was decided, for a fix to aim at.
struct Decider {
    std::string table;  ///< "inet filter" (empty: not seen, or no chain decided)
    std::string chain;  ///< "forward"
    int64_t handle = 0;  ///< the rule's handle; 0 for a chain's policy
    int position = 0;  ///< an iptables dump's rule: its position in its chain (1-based), else 0
    bool reply = false;  ///< the server's answer was stopped, not the request
    friend bool operator==(const Decider&, const Decider&) = default;
};

struct ProbeResult {
    Probe probe;
    ProbeOutcome outcome = ProbeOutcome::Dropped;
    std::string how;  ///< "handshake completed", "tcp reset", "icmp type 3 code 3", ...
    std::string decided_by;  ///< the deciding chain and rule (or policy) from the trace
    Decider decider;  ///< the same, as fields
    uint16_t sport = 0;  ///< the client's port the exchange used (0: not known)
    /// The rate limit (an index into rate_limits() of the ruleset) the
    /// request's path passed before it was decided; -1: none.
    int limit = -1;
};

struct SandboxSpec {
    RulesetInput input;  ///< the ruleset as read (replay() writes it into a private directory for nft)
    std::string ruleset_path;  ///< set by replay(): the private copy nft (iptables-nft-restore) reads
    bool iptables = false;  ///< the file is an iptables-save dump: loaded by iptables-nft-restore
    std::string inside = "lan0", outside = "wan0";
    std::string client_addr = "192.168.77.2";  ///< the client, on the inside network
    std::string router_inside = "192.168.77.1";  ///< the router's address on the inside network
    int inside_prefix_len = 24;  ///< the inside network's prefix length
    /// IPv6: the client, the router's inside address and the prefix length,
    /// wired beside the IPv4 ones (neighbours static: no neighbour discovery
    /// a ruleset dropping ICMPv6 could break). Probes to IPv6 servers use them.
    std::string client_addr6 = "fd77:77:77:77::2";
    std::string router_inside6 = "fd77:77:77:77::1";
    int inside_prefix_len6 = 64;
    /// An iptables audit whose main dump (`input`) is ip6tables-save's (loaded
    /// by ip6tables-nft-restore): --ip6tables alone.
    bool ip6tables_main = false;
    /// ip6tables-save's dump beside the iptables one (--iptables with
    /// --ip6tables); empty raw: none.
    RulesetInput input6;
    /// `ipset save` output (--ipset FILE) restored before the dumps, and its
    /// path for messages; empty: no sets.
    std::string ipsets, ipset_path;
    std::vector<std::string> server_addrs;  ///< every probe's daddr (IPv6 ones wired only with IPv6)
    /// Port forwards' addresses: the public ones the router holds beside
    /// its outside address, and the inside servers the client's namespace
    /// holds beside the client's (IPv4).
    std::vector<std::string> public_addrs, inside_servers;
    int probe_timeout_ms = 1200;  ///< how long one batch waits for answers
    int helper_timeout_ms = 60000;  ///< how long one helper (nft, ip, ...) may run, and the trace take to start
    bool user_namespace = true;  ///< false: network namespaces only (needs root)
    std::string patch;  ///< nft commands (`nft -f -`) applied after the ruleset is loaded: a fix under test
    /// End a probe soon after the trace shows it dropped (false: wait out the batch; the reference).
    bool early = true;
    /// Local ports an outbound probe never leaves from when the kernel picks
    /// its port: the inbound entries' local ports, which a ruleset may treat
    /// apart (an answer to such a port is not the outbound entry's answer).
    std::vector<catalog::PortRange> avoid_local_ports;
};

struct ReplayOutput {
    bool ok = false;
    bool lint_failed = false;  ///< the ruleset did not pass `nft -c -f` (`iptables-nft-restore --test`)
    bool too_large = false;  ///< netlink refused the ruleset's size (unprivileged sockets cannot force a larger buffer)
    bool no_filter =
        false;  ///< the ruleset loaded but has no base chain of type filter: nothing in it can stop a packet
    std::string error;  ///< why not ok (nft's message with its line for a lint failure)
    std::string mode;  ///< which namespaces were made, for the run's notes
    std::string listed;  ///< `nft list ruleset` after loading (before tracing)
    std::string iptables_save;  ///< `iptables-nft-save` after loading an iptables dump
    std::string ip6tables_save;  ///< `ip6tables-nft-save` after loading an ip6tables dump
    /// Why the sandbox could not carry IPv6 (a kernel without it); empty: it could.
    std::string ipv6_unavailable;
    std::vector<ProbeResult> results;
};

/// Plans the probes from the listed ruleset (runs in the sandbox child).
using ProbePlanner = std::function<std::vector<Probe>(std::string_view listed_ruleset)>;

/// Plans more probes from what the first ones found (runs in the sandbox
/// child after them; its probes' results follow the first ones').
using FollowUpPlanner =
    std::function<std::vector<Probe>(std::string_view listed_ruleset, const std::vector<ProbeResult>& first)>;

/// Runs the whole sandbox in a child process and returns what it saw.
/// Bounded: the child is killed (by its PID) after `overall_timeout_s`.
[[nodiscard]] ReplayOutput replay(const SandboxSpec& spec, const ProbePlanner& plan,
                                  const FollowUpPlanner& then = nullptr, int overall_timeout_s = 300);

}  // namespace callwall::audit
