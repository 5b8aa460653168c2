// Attribution: one catalog entry's verdict from its matched flows. See attrib/attrib.hpp.
#include "attrib/attrib.hpp"

#include <algorithm>
#include <iterator>

namespace callwall::attrib {

std::string_view to_string(Verdict v) noexcept {
    switch (v) {
        case Verdict::Observed: return "observed";
        case Verdict::Blocked: return "blocked";
        case Verdict::Partial: return "partial";
        case Verdict::Inconclusive: return "inconclusive";
        case Verdict::NotExercised: return "not_exercised";
    }
    return "?";
}

void EntryAccumulator::add(const EntryFlow& ef) {
    auto keep = [](std::vector<uint64_t>& ids, uint64_t id) {
        if (ids.size() < kMaxEvidenceFlows) ids.push_back(id);
    };
    switch (ef.outcome.outcome) {
        case Outcome::Observed:
            ++observed;
            ports_observed.insert(ef.port);
            keep(observed_ids, ef.flow_id);
            break;
        case Outcome::Blocked:
            ++blocked;
            ports_blocked.insert(ef.port);
            reasons.insert(ef.outcome.reason);
            keep(blocked_ids, ef.flow_id);
            if (origin.empty()) {
                origin = ef.outcome.origin;
                first_blocked_evidence = ef.outcome.evidence;
            }
            break;
        case Outcome::Inconclusive:
            ++inconclusive;
            if (ef.outcome.reason == kInterceptedReason) {
                ++intercepted;
                ports_intercepted.insert(ef.port);
            } else if (ef.outcome.reason == kRefusedReason) {
                ++refused;
                ports_refused.insert(ef.port);
            } else if (ef.outcome.reason == kUnansweredReason) {
                ++unanswered;
                ports_unanswered.insert(ef.port);
            } else if (ef.outcome.reason == kOneDirectionReason) {
                ++one_way;
                ports_one_way.insert(ef.port);
            }
            keep(inconclusive_ids, ef.flow_id);
            break;
        case Outcome::Abandoned:
            ++abandoned;
            keep(abandoned_ids, ef.flow_id);
            break;
    }
}

EntryVerdict EntryAccumulator::decide(uint32_t dns_failures, const std::string& dns_failure_detail) const {
    EntryVerdict v;
    v.flows_observed = observed;
    v.flows_blocked = blocked;
    v.flows_inconclusive = inconclusive;
    v.flows_abandoned = abandoned;
    v.ports_observed = ports_observed;
    v.origin = origin;
    // A port counts as blocked only if nothing got through on it.
    std::set<uint16_t> only_blocked;
    for (uint16_t p : ports_blocked)
        if (!ports_observed.count(p)) only_blocked.insert(p);
    v.ports_blocked = only_blocked;
    std::set<std::string> rs = reasons;
    if (dns_failures > 0 && observed == 0) rs.insert("dns-failure");
    v.reasons.assign(rs.begin(), rs.end());
    // "port 443", "ports 1080, 25000", "ports 1024-5348, 5350-65535": words
    // for a reader (the columns keep the lists); three or more consecutive
    // ports read as a range, so a swept range stays one line.
    auto on_ports = [](const std::set<uint16_t>& s) {
        std::string t = s.size() == 1 ? "port " : "ports ";
        bool first = true;
        for (auto it = s.begin(); it != s.end();) {
            auto end = it;
            while (std::next(end) != s.end() && *std::next(end) == *end + 1) ++end;
            const bool run = std::distance(it, end) >= 2;
            for (auto p = it;; ++p) {
                if (!first) t += ", ";
                t += std::to_string(*p);
                first = false;
                if (run) {
                    t += "-" + std::to_string(*end);
                    break;
                }
                if (p == end) break;
            }
            it = std::next(end);
        }
        return t;
    };
    if (observed > 0 && !only_blocked.empty()) {
        v.verdict = Verdict::Partial;
        v.why = "through on " + on_ports(ports_observed) + "; blocked on " + on_ports(only_blocked) + " (" +
                first_blocked_evidence + ")";
    } else if (observed > 0) {
        v.verdict = Verdict::Observed;
        v.why = std::to_string(observed) + " flow(s) got through on " + on_ports(ports_observed);
        if (blocked > 0) v.why += "; " + std::to_string(blocked) + " other attempt(s) on the same port(s) failed";
        v.reasons.clear();  // nothing is blocked: the failures' reasons would read as a block
    } else if (blocked > 0) {
        v.verdict = Verdict::Blocked;
        v.why = first_blocked_evidence;
    } else if (dns_failures > 0) {
        v.verdict = Verdict::Blocked;
        v.why = dns_failure_detail;
        v.origin = "name resolution (a DNS filter, or the name does not exist)";
    } else if (one_way > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = std::to_string(one_way) + " attempt(s) on " + on_ports(ports_one_way) +
                " unanswered in a capture of one direction only (no packet from any server): the capture cannot "
                "show an answer";
        if (inconclusive > one_way)
            v.why += "; " + std::to_string(inconclusive - one_way) + " attempt(s) too short to judge";
    } else if (intercepted > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = std::to_string(intercepted) + " answer(s) on " + on_ports(ports_intercepted) +
                " came from a middlebox on the path, not the reflector (intercepted): the way to the vendor is "
                "not shown open";
        if (inconclusive > intercepted)
            v.why += "; " + std::to_string(inconclusive - intercepted) + " attempt(s) too short to judge";
        v.origin = "a middlebox on the path (a transparent proxy or captive portal) answered for the server";
    } else if (unanswered > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = "no answer on " + on_ports(ports_unanswered) +
                ", where the vendor's server need not answer STUN: a drop and a silent server look the same; "
                "only a reflector tells";
        if (refused > 0) v.why += "; refused by the vendor's server on " + on_ports(ports_refused);
        if (inconclusive > unanswered + refused)
            v.why += "; " + std::to_string(inconclusive - unanswered - refused) + " attempt(s) too short to judge";
    } else if (refused > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = "the vendor's server refused the probe(s) on " + on_ports(ports_refused) +
                " (nothing listens there): the firewall passed them, but only a reflector shows these ports open";
        if (inconclusive > refused)
            v.why += "; " + std::to_string(inconclusive - refused) + " attempt(s) too short to judge";
        v.origin = "the destination itself (nothing listens there), not the firewall";
    } else if (inconclusive > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = std::to_string(inconclusive) + " attempt(s) too short to judge";
    } else if (abandoned > 0) {
        v.verdict = Verdict::Inconclusive;
        v.why = std::to_string(abandoned) +
                " ICE check(s) sent once and abandoned by their agent while another pair of the call succeeded: "
                "not evidence either way";
    } else {
        v.verdict = Verdict::NotExercised;
        v.why = "no traffic for it in the capture";
    }
    if (abandoned > 0 && v.verdict != Verdict::Inconclusive)
        v.why += "; " + std::to_string(abandoned) + " abandoned ICE check(s) not counted";
    if (intercepted > 0 && v.verdict != Verdict::Inconclusive)
        v.why += "; " + std::to_string(intercepted) + " answer(s) on " + on_ports(ports_intercepted) +
                 " came from a middlebox on the path (intercepted), not counted";
    if (unanswered > 0 && v.verdict != Verdict::Inconclusive)
        v.why += "; no answer on " + on_ports(ports_unanswered) +
                 " (the vendor's server need not answer STUN there), not counted";
    if (refused > 0 && v.verdict != Verdict::Inconclusive)
        v.why += "; refused by the vendor's server on " + on_ports(ports_refused) +
                 " (nothing listens there; the firewall passed them), not counted";
    for (const auto* ids : {&blocked_ids, &observed_ids, &inconclusive_ids, &abandoned_ids})
        v.evidence_flows.insert(v.evidence_flows.end(), ids->begin(), ids->end());
    return v;
}

EntryVerdict decide_entry(const std::vector<EntryFlow>& flows, uint32_t dns_failures,
                          const std::string& dns_failure_detail) {
    EntryAccumulator acc;
    for (const auto& ef : flows) acc.add(ef);
    return acc.decide(dns_failures, dns_failure_detail);
}

}  // namespace callwall::attrib
