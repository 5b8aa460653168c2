// Pure functions over ruleset text and `nft monitor trace` output (no I/O):
// the port cut points a ruleset mentions, a requirement's port ranges split
// on them, interface guesses, and the deciding rule of a traced packet.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/ruleset_addresses.hpp"
#include "catalog/catalog.hpp"

namespace callwall::audit {

/// The lines of `text`, without their '\n' (a final newline adds no empty line).
[[nodiscard]] std::vector<std::string_view> split_lines(std::string_view text);

/// Every port boundary the ruleset text could decide on: a number N written
/// as a word of its own gives N and N+1 (`dport N`, `< N`, `<= N`, set
/// elements, map keys); a range N-M (nft) or N:M (iptables) gives N and M+1.
/// Words that cannot be ports cut nothing: addresses and prefixes
/// (10.1.2.0/24, fd00::1), names with digits (lan0), quoted comments and
/// comment lines (# ...), negative priorities. Over-approximates on purpose (a priority or a mark
/// written as a plain number adds a harmless cut): between two consecutive
/// cuts no port match of the ruleset can tell ports apart.
/// Sorted, unique, values 1..65536.
[[nodiscard]] std::vector<uint32_t> port_cut_points(std::string_view ruleset);

/// `ranges` split at `cuts` into maximal intervals no cut falls inside
/// (a cut c starts a new interval at port c). In ascending order.
[[nodiscard]] std::vector<catalog::PortRange> split_ranges(std::span<const catalog::PortRange> ranges,
                                                           std::span<const uint32_t> cuts);

/// The interface names the ruleset matches with iifname/oifname ("lan0"),
/// or in an iptables-save dump with -i/-o (--in-interface/--out-interface),
/// in order of first appearance, without duplicates or wildcards.
/// nft `define`s (and `redefine`s) are resolved first (`iifname $LAN_IF`).
/// `wildcards`: also "eth*" (nft) and "eth+" (iptables).
[[nodiscard]] std::vector<std::string> interface_names(std::string_view ruleset, bool wildcards = false);

/// nft text with every `$NAME` of a `define NAME = VALUE` replaced by VALUE
/// (a later definition wins; values naming other variables are resolved too).
[[nodiscard]] std::string resolve_defines(std::string_view text);

/// The interfaces an audit uses: `inside`/`outside` as given (empty: to
/// guess), checked against the names the ruleset matches. `problem` says why
/// the audit must stop: a given name the ruleset never matches while it
/// matches others, a variable it does not define, or names the guess cannot
/// place (the words lan/wan/... in a name, or in the name of the variable
/// defined as it, place it; a single leftover name fills the open side).
struct InterfaceChoice {
    std::string inside, outside;
    std::string problem;
    bool guessed = false;
};
[[nodiscard]] InterfaceChoice choose_interfaces(std::string_view ruleset, const std::string& inside,
                                                const std::string& outside);

/// (inside, outside) guessed from those names: a name like lan/int/inside/
/// eth1/br for the inside, wan/ext/outside/eth0/ppp for the outside; a name
/// the guess cannot place fills the side still missing. Defaults lan0/wan0.
[[nodiscard]] std::pair<std::string, std::string> guess_interfaces(std::string_view ruleset);

/// One line of `nft -a monitor trace` that says what a chain did.
struct TraceEvent {
    std::string table;  ///< "inet filter"
    std::string chain;  ///< "forward"
    bool policy = false;  ///< the chain's policy decided, not a rule
    std::string rule;  ///< rule text without "# handle N" (empty for a policy)
    int64_t handle = 0;  ///< 0 for a policy
    std::string verdict;  ///< "accept", "drop", "continue", "jump x", ...
};

/// One traced packet: its header summary and what every chain did.
struct TracedPacket {
    std::string id;
    std::string proto;  ///< "tcp", "udp", "icmp", ...
    std::string saddr, daddr;
    uint16_t sport = 0, dport = 0;
    std::vector<TraceEvent> events;
};

/// Parses `nft -a monitor trace` output; packets in order of first appearance.
/// Events of the table named `own_table` (the one that sets nftrace) are left out.
[[nodiscard]] std::vector<TracedPacket> parse_trace(std::string_view text, std::string_view own_table);

/// The chain types of the listed ruleset: "inet filter forward" -> "filter".
[[nodiscard]] std::map<std::string, std::string> chain_types(std::string_view listed_ruleset);

/// The event that decided the packet: the first drop (rule or policy), else
/// the last accept by a chain that is not of type nat; nullptr when none.
[[nodiscard]] const TraceEvent* deciding_event(const TracedPacket& p, const std::map<std::string, std::string>& types);

/// The iptables-save line of each rule an iptables dump loaded through
/// iptables-nft-restore became: "ip filter LAN_OUT" + handle -> the line
/// ("-A LAN_OUT -p udp -m udp --dport 3478 -j ACCEPT") and its position in
/// its chain (1-based, as `iptables -L --line-numbers` counts). Matched by
/// order: the k-th rule of a chain in `nft -a list ruleset` is the k-th
/// "-A CHAIN" line of the dump's table (iptables-nft keeps that order).
struct IptablesRule {
    std::string line;
    int position = 0;
};
using IptablesRules = std::map<std::pair<std::string, int64_t>, IptablesRule>;
/// `family`: "ip6" for ip6tables-nft-save's dump (its tables are "ip6 filter").
[[nodiscard]] IptablesRules iptables_rules(std::string_view listed_with_handles, std::string_view iptables_save,
                                           std::string_view family = "ip");

/// For a drop after jumps (or gotos) in its table, the way there:
/// " (path: forward -> lan_out (returned) -> policy drop)",
/// " (path: FORWARD -> LAN_OUT (returned) -> LOG_DROP)";
/// empty otherwise.
/// `types` (chain_types): the path starts at the base chain the decision was
/// reached from, not at an earlier hook's.
[[nodiscard]] std::string jump_path(const TracedPacket& p, const TraceEvent& decided,
                                    const std::map<std::string, std::string>* types = nullptr);

/// A rule as the admin wrote it: `counter packets 1 bytes 29` -> `counter`.
[[nodiscard]] std::string rule_without_counts(std::string_view rule);

/// "inet filter forward: rule 'udp dport 5000 reject' (handle 4)" or
/// "inet filter forward: policy drop"; a rule that came from an iptables
/// dump reads "ip filter LAN_OUT: rule '-A LAN_OUT ... -j REJECT' (rule 3 of LAN_OUT)".
[[nodiscard]] std::string describe(const TraceEvent& e, const IptablesRules* iptables = nullptr);

}  // namespace callwall::audit
