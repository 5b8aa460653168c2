// The admin's own accepts that an earlier drop shadows (no I/O): a rule
// after the deciding drop or reject of a chain that would have let the
// probe through. Moving it above the drop is the one-line fix, and the
// audit says so before proposing rules of its own.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "audit/ruleset_chains.hpp"
#include "catalog/catalog.hpp"

namespace callwall::audit {

/// What a stopped probe was: its transport, the ports that failed (one of
/// each interval), its destination, and the router's interfaces.
struct StoppedProbe {
    catalog::Transport transport = catalog::Transport::Udp;
    std::vector<uint16_t> ports;
    std::string daddr;  ///< IPv4
    std::string inside, outside;
};

/// The accept rules of `chain` (table and name, as ListedChain has them)
/// after its rule number `index` (0-based, the deciding one) that match
/// every port of `p` and nothing that could exclude it: the transport, a
/// destination port or range or list, the way out (iifname/oifname or -i/-o
/// naming the inside and outside interfaces), `ip daddr`/-d prefixes that
/// cover the destination, ct state new, counters, comments and logging. A
/// rule matching anything else (a source, a mark, a set) is not claimed.
/// Each as its text (an iptables dump: its line).
[[nodiscard]] std::vector<std::string> shadowed_accepts(const ListedRuleset& r, std::string_view table,
                                                        std::string_view chain, size_t index, const StoppedProbe& p);

/// The index of the rule whose text (counts left out) is `rule` in that
/// chain; -1 when not found.
[[nodiscard]] int rule_index(const ListedRuleset& r, std::string_view table, std::string_view chain,
                             std::string_view rule);

}  // namespace callwall::audit
