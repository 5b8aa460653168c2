#include "audit/audit_verdict.hpp"

#include <algorithm>
#include <array>

namespace callwall::audit::verdict {

namespace {

// Consecutive intervals with the same outcome and deciding rule, as one line
// each; adjacent ranges are written as one ("10000-20000").
std::string group_lines(const EntryAudit& in, const std::vector<IntervalResult>& intervals, const char* transport) {
    // Ports from every client port first, then each client interval's own.
    EntryAudit a;
    a.entry = in.entry;
    a.intervals = intervals;
    std::stable_sort(a.intervals.begin(), a.intervals.end(),
                     [](const IntervalResult& x, const IntervalResult& y) { return x.client.lo < y.client.lo; });
    std::string out;
    size_t i = 0;
    while (i < a.intervals.size()) {
        const auto& first = a.intervals[i].result;
        std::string ports;
        catalog::PortRange run = a.intervals[i].range;
        size_t j = i + 1;
        const catalog::PortRange client = a.intervals[i].client;
        for (; j < a.intervals.size(); ++j) {
            const auto& r = a.intervals[j].result;
            if (r.outcome != first.outcome || r.decided_by != first.decided_by || !(a.intervals[j].client == client))
                break;
            const auto& next = a.intervals[j].range;
            if (static_cast<uint32_t>(run.hi) + 1 == next.lo) {
                run.hi = next.hi;
                continue;
            }
            ports += catalog::port_range_text(run) + ",";
            run = next;
        }
        ports += catalog::port_range_text(run);
        if (!out.empty()) out += "; ";
        out += std::string(to_string(first.outcome)) + " " + transport +
               (inbound(a) && !server_doc(a) ? " local " : " ") + ports;
        if (client.hi != 0)
            out += std::string(first.outcome == ProbeOutcome::Passed ? " only" : "") + " from client ports " +
                   catalog::port_range_text(client);
        if (first.outcome != ProbeOutcome::Passed) out += " (" + first.how + ")";
        out += " by " + first.decided_by;
        i = j;
    }
    return out;
}

// group_lines of an entry with several address groups in a family: one
// part per group, groups that read the same joined ("to A and B: ...").
std::string group_lines_to(const EntryAudit& a, const std::vector<IntervalResult>& intervals, const char* transport) {
    const bool v6 = !intervals.empty() && intervals.front().v6;
    const auto& groups = v6 ? a.groups6 : a.groups;
    if (groups.size() < 2) return group_lines(a, intervals, transport);
    std::vector<std::pair<std::string, std::vector<std::string>>> parts;  // line, the ranges it holds for
    for (size_t g = 0; g < groups.size(); ++g) {
        std::vector<IntervalResult> mine;
        for (const auto& iv : intervals)
            if (iv.group == g) mine.push_back(iv);
        if (mine.empty()) continue;
        const std::string line = group_lines(a, mine, transport);
        auto it = std::find_if(parts.begin(), parts.end(), [&](const auto& p) { return p.first == line; });
        if (it == parts.end()) it = parts.insert(parts.end(), {line, {}});
        it->second.insert(it->second.end(), groups[g].ranges.begin(), groups[g].ranges.end());
    }
    if (parts.size() == 1) return parts[0].first + " (to every published range)";
    std::string out;
    for (const auto& [line, ranges] : parts) out += (out.empty() ? "to " : "; to ") + ranges_text(ranges) + ": " + line;
    return out;
}

// Whether the two families' intervals read the same: the same ports, client
// ports and outcomes (the deciding rules may differ: two dumps).
bool families_agree(const std::vector<IntervalResult>& v4, const std::vector<IntervalResult>& v6) {
    return v4.size() == v6.size() && std::equal(v4.begin(), v4.end(), v6.begin(), [](const auto& x, const auto& y) {
               return x.range == y.range && x.client == y.client && x.group == y.group &&
                      x.result.outcome == y.result.outcome && told(x) == told(y);
           });
}

// The verdict of a set of intervals: what passed, what failed, what the
// audit cannot tell.
attrib::Verdict verdict_of(bool any_pass, bool any_fail, bool any_untold) {
    // A port the audit cannot tell keeps a passing entry from reading "passes".
    return any_pass && any_fail ? attrib::Verdict::Partial
           : any_fail           ? attrib::Verdict::Blocked
           : any_untold         ? attrib::Verdict::Inconclusive
           : any_pass           ? attrib::Verdict::Observed
                                : attrib::Verdict::NotExercised;
}

// With both families audited, the requirement's verdict is IPv4's: a client
// whose IPv6 path is stopped falls back to IPv4 (Happy Eyeballs for TCP, ICE
// trying every candidate for media), so IPv6's stops degrade nothing IPv4
// serves; they are shown beside it. One exception: blocked over IPv4 yet
// passing over IPv6 reads partial (it works for clients with IPv6 only).
}  // namespace

void fold(EntryAudit& a, const std::vector<RateLimit>& limits, const AnswerPort& ap, bool v4_only_note) {
    auto& v = a.verdict;
    bool any_pass = false, any_fail = false, any_untold = false;
    std::vector<std::string> reasons;
    // Both families audited and reading differently: the why and the
    // reasons say which family each part is from.
    std::vector<IntervalResult> all = a.intervals, v4, v6;
    all.insert(all.end(), a.intervals6.begin(), a.intervals6.end());
    for (const auto& iv : all) (iv.v6 ? v6 : v4).push_back(iv);
    const bool apart = !v4.empty() && !v6.empty() && !families_agree(v4, v6);
    bool v6_counts = v4.empty();  // whether IPv6's intervals make the verdict
    if (!v4.empty() && !v6.empty()) {
        bool pass4 = false, fail4 = false, pass6 = false;
        for (const auto& iv : v4) {
            if (!told(iv)) continue;
            (iv.result.outcome == ProbeOutcome::Passed ? pass4 : fail4) = true;
        }
        for (const auto& iv : v6) pass6 = pass6 || (told(iv) && iv.result.outcome == ProbeOutcome::Passed);
        v6_counts = fail4 && !pass4 && pass6;
    }
    for (const auto& iv : all) {
        if (iv.v6 && !v6_counts) continue;
        if (!told(iv)) {
            any_untold = true;
            ++v.flows_inconclusive;
            continue;
        }
        if (iv.result.outcome == ProbeOutcome::Passed) {
            any_pass = true;
            ++v.flows_observed;
            v.ports_observed.insert(iv.range.lo);
            continue;
        }
        any_fail = true;
        ++v.flows_blocked;
        v.ports_blocked.insert(iv.range.lo);
        if (v.origin.empty())
            v.origin = std::string(apart ? (iv.v6 ? "ruleset, over IPv6: " : "ruleset, over IPv4: ") : "ruleset: ") +
                       iv.result.decided_by;
        const std::string reason =
            std::string(to_string(iv.result.outcome)) + (apart ? (iv.v6 ? " over IPv6" : " over IPv4") : "");
        if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(reason);
    }
    // A range-only requirement the ruleset does not let through: a ruleset
    // that allows the vendor's names cannot serve it.
    if (any_fail && !a.entry->addresses.empty() && !a.entry->has_names())
        reasons.push_back(std::string(kNoNamesReason));
    v.reasons = reasons;
    v.verdict = verdict_of(any_pass, any_fail, any_untold);
    const char* transport = a.entry->transport == catalog::Transport::Tcp ? "tcp" : "udp";
    if (apart)
        v.why = "audit: IPv4: " + group_lines_to(a, v4, transport) + "; IPv6: " + group_lines_to(a, v6, transport);
    else
        v.why = "audit: " + group_lines_to(a, v4.empty() ? v6 : v4, transport);
    if (server_doc(a))
        v.why += "; " + a.tried;
    else if (inbound(a) && ap.port != 0)
        v.why += std::string("; the local ports were tried as answers to the client's packets from them to ") +
                 transport + " " + std::to_string(ap.port) + " (" + ap.entry_id + ", whose packets get out)";
    else if (inbound(a))
        v.why += std::string("; the local ports were tried unsolicited from ") + transport + " " +
                 std::to_string(a.intervals.empty() ? 0 : a.intervals.front().result.probe.port) + ": no outbound " +
                 transport +
                 " requirement of this product gets out, so answers to the client's own packets could not be tried" +
                 (any_untold ? " (where the unsolicited ones are stopped, the audit cannot tell)" : "");
    // A pass under a rate limit holds at the pace the replay kept.
    for (const auto& iv : all) {
        const int k = iv.result.limit;
        if (iv.result.outcome != ProbeOutcome::Passed || k < 0 || static_cast<size_t>(k) >= limits.size()) continue;
        const RateLimit& l = limits[static_cast<size_t>(k)];
        v.why += "; passes at up to " + l.text() + " (" + l.kind + " in " + l.table + " " + l.chain + ")";
        break;
    }
    if (v4_only_note) v.why += "; " + a.assumed6;
    // Where the names stood: IPv4's address, IPv6's when IPv6 alone was audited.
    const std::string& assumed = v4.empty() && !v6.empty() ? a.assumed6 : a.assumed;
    if (!assumed.empty()) v.why += "; " + assumed;
    if (any_fail && !a.entry->addresses.empty() && !a.entry->has_names()) v.why += "; " + std::string(kNoNamesReason);
}

// One conclusion per product audited, from its required entries: every one
// passes -> "ready"; one blocked -> "broken"; one partial -> "works,
// degraded"; else (some the audit cannot tell) "inconclusive".
std::vector<attrib::ProductConclusion> conclude(const std::vector<EntryAudit>& entries) {
    std::vector<attrib::ProductConclusion> out;
    std::vector<std::array<int, 5>> counts;  // passing, blocked, required, partial, not told
    for (const auto& a : entries) {
        const auto& e = *a.entry;
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) {
            return p.vendor == e.vendor && p.product == e.product && p.edition == e.edition;
        });
        if (it == out.end()) {
            out.push_back({e.vendor, e.product, e.edition, "", ""});
            counts.push_back({0, 0, 0, 0, 0});
            it = out.end() - 1;
        }
        auto& c = counts[static_cast<size_t>(it - out.begin())];
        if (!e.required) continue;
        ++c[2];
        if (a.verdict.verdict == attrib::Verdict::Observed) ++c[0];
        if (a.verdict.verdict == attrib::Verdict::Blocked) ++c[1];
        if (a.verdict.verdict == attrib::Verdict::Partial) ++c[3];
        if (a.verdict.verdict == attrib::Verdict::Inconclusive || a.verdict.verdict == attrib::Verdict::NotExercised)
            ++c[4];
    }
    for (size_t i = 0; i < out.size(); ++i) {
        const auto& c = counts[i];
        out[i].conclusion = c[2] == 0      ? "not exercised"
                            : c[1] > 0     ? "broken"
                            : c[3] > 0     ? "works, degraded"
                            : c[0] == c[2] ? "ready"
                                           : "inconclusive";
        out[i].detail = "audit: " + std::to_string(c[0]) + " of " + std::to_string(c[2]) +
                        " required requirements pass the ruleset, " + std::to_string(c[1]) + " blocked" +
                        (c[4] > 0 ? ", " + std::to_string(c[4]) + " cannot be told" : "");
    }
    return out;
}

}  // namespace callwall::audit::verdict
