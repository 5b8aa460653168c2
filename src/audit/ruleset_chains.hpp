// The chains of a listed ruleset (`nft [-a] list ruleset`, or an
// iptables-save dump) as rules in order, and what an audit reads from them
// (no I/O): the client's source ports the ruleset can tell apart, and the
// rate limits (limit, meter, quota, ct count, hashlimit, connlimit) a
// probe's packets may meet.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::audit {

struct ListedRule {
    std::string text;  ///< without "# handle N"
    int64_t handle = 0;  ///< 0 when not listed with -a (an iptables dump: its position)
};

struct ListedChain {
    std::string table;  ///< "inet filter" (an iptables dump: "ip filter")
    std::string name;
    std::string hook;  ///< "forward", ...; empty for a user chain
    std::vector<ListedRule> rules;
};

struct ListedRuleset {
    std::vector<ListedChain> chains;
    std::map<std::string, std::string> sets;  ///< "inet filter NAME" -> the set's text (named sets and maps)
};

/// The chains of `nft list ruleset` output (with or without -a).
[[nodiscard]] ListedRuleset parse_listed(std::string_view listed);

/// The chains of an iptables-save dump (tables from "*filter" lines, base
/// chains by their iptables names).
[[nodiscard]] ListedRuleset parse_iptables_dump(std::string_view dump);

/// The cut points inside `client` at which the ruleset may treat the
/// client's source port differently: port numbers of rules that match a
/// source port (the client's requests), and of rules that match a
/// destination port where the answers to the client can reach them (every
/// rule of a base chain before its conntrack accept, `ct state
/// established,related accept`, and of the chains those rules jump to).
/// Over-approximates: between two cuts no rule tells the client's ports apart.
[[nodiscard]] std::vector<uint32_t> client_port_cuts(const ListedRuleset& r, catalog::PortRange client);

/// A rate limit in a rule with a verdict (a `limit ... log` rule decides
/// nothing and is left out).
struct RateLimit {
    std::string table, chain;
    size_t index = 0;  ///< the rule's position in its chain (0-based)
    std::string rule;
    std::string kind;  ///< "limit", "meter", "hashlimit", "quota", "ct count", "connlimit"
    double per_s = 0;  ///< packets (or flows) a second it lets through; 0: not a rate (quota, ct count)
    uint32_t burst = 0;
    uint32_t count = 0;  ///< ct count / connlimit: the connections allowed at once
    bool new_only = false;  ///< the rule counts new flows only (ct state new, --syn, connlimit)
    bool per_client = false;  ///< kept per source address (a meter or set keyed by saddr, hashlimit srcip)
    std::string transport;  ///< "tcp" or "udp" when the rule is only for one; empty: both
    /// "5 new flows/s per client (burst 10)"
    [[nodiscard]] std::string text() const;
};

/// Every rate limit with a verdict in chains a forwarded TCP or UDP packet
/// can pass (rules for ICMP only, and chains of the input and output hooks
/// and the user chains only they jump to, are left out).
[[nodiscard]] std::vector<RateLimit> rate_limits(const ListedRuleset& r);

/// The chains the forward path reaches: base chains of the prerouting,
/// forward and postrouting hooks and every chain they jump or go to.
[[nodiscard]] std::vector<const ListedChain*> forward_path_chains(const ListedRuleset& r);

}  // namespace callwall::audit
