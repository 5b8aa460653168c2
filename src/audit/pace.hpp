// How an audit's replay keeps under the ruleset's rate limits (private
// to src/audit, used by the sandbox child): the pace of new flows, the
// conntrack flush between batches, and which limit a probe's path met.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "audit/ruleset_chains.hpp"
#include "audit/ruleset_text.hpp"

namespace callwall::audit {

using PaceClock = std::chrono::steady_clock;

// How new flows are opened under the ruleset's rate limits (pace_of):
// no faster than half the lowest rate a limit on the forward path allows
// (a limit counting every packet, not only new flows, counts up to four
// of a probe's), after half its burst; no more flows at once than half a
// connection count allows, with the conntrack table emptied between
// batches (a UDP flow's entry would count for 30 s). An audit's own
// burst never reads as a block.
struct Pace {
    int every_ms[2] = {0, 0};  // [udp, tcp]: least time between two new flows (0: no limit)
    int free[2] = {-1, -1};  // flows opened before the pace applies (-1: no limit said)
    size_t at_once = 0;  // most probes in flight (0: kBatch)
    bool flush_conntrack = false;
    int opened[2] = {0, 0};
    PaceClock::time_point last[2];
    int wait_ms(bool tcp) const {
        const int k = tcp ? 1 : 0;
        if (every_ms[k] == 0 || opened[k] < free[k] || opened[k] == 0) return 0;
        return std::max(
            0, every_ms[k] -
                   static_cast<int>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(PaceClock::now() - last[k]).count()));
    }
    void open(bool tcp) {
        const int k = tcp ? 1 : 0;
        ++opened[k];
        last[k] = PaceClock::now();
    }
};

/// The pace `limits` set (none: every flow at once).
[[nodiscard]] Pace pace_of(const std::vector<RateLimit>& limits);

/// Empties the router's conntrack table (ctnetlink's delete without a
/// tuple), so that the flows of a finished batch no longer count for a
/// `ct count` or connlimit. False when refused.
bool flush_conntrack();

// The ruleset's rate limits and the pace they set; index_of finds a traced
// rule's position in its chain, to tell whether a limit came before it.
struct Limits {
    ListedRuleset chains;  // the listed ruleset (an iptables dump: the dump)
    std::vector<RateLimit> list;
    Pace pace;
    const IptablesRules* names = nullptr;
    [[nodiscard]] int index_of(const TraceEvent& e, const std::string& table, const std::string& chain) const;
};

/// The first rate limit (an index into `limits.list`) the request packet
/// of a probe (`is_request` says which traced packet it is) met on its way:
/// a limit in a chain the trace shows it in, for its transport (`proto`),
/// unless a rule before the limit decided the packet in that chain; -1: none.
[[nodiscard]] int limit_on_path(const std::vector<TracedPacket>& packets,
                                const std::function<bool(const TracedPacket&)>& is_request, const std::string& proto,
                                const Limits& limits);

}  // namespace callwall::audit
