#include "audit/audit.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>

#include <unistd.h>

#include "audit/ruleset_text.hpp"
#include "run/verdict_run.hpp"

namespace callwall::audit {

namespace {

bool selected(const catalog::Entry& e, const std::vector<std::string>& vendors) {
    if (vendors.empty()) return true;
    return std::any_of(vendors.begin(), vendors.end(), [&](const std::string& v) {
        catalog::Selection sel;  // as `catalog list --vendor` matches
        sel.vendor = v;
        return sel.matches(e.vendor, e.product, e.edition);
    });
}

// The first --resolve pair that names one of the entry's destinations and
// whose address `usable` takes (the family asked for), else null.
template <class Usable>
const std::pair<std::string, std::string>* resolved(const catalog::Entry& e, const AuditOptions& opt, Usable usable) {
    for (const auto& r : opt.resolve) {
        if (!usable(r.second)) continue;
        for (const auto& d : e.destinations)
            if (d.as_written == r.first || catalog::destination_matches(d, r.first)) return &r;
    }
    return nullptr;
}

// The address for an entry: a --resolve name its destinations match, else `fallback`.
void choose_address(const catalog::Entry& e, const AuditOptions& opt, const std::string& fallback, EntryAudit& a) {
    // An IPv6 address is choose_address6's.
    if (const auto* r = resolved(e, opt, [](const std::string& addr) { return addr.find(':') == std::string::npos; })) {
        a.daddr = r->second;
        a.assumed = r->first + " = " + r->second + " (--resolve)";
        return;
    }
    // The vendor's published ranges: an address inside the first IPv4 one
    // stands for the vendor (the sandbox's servers are IPv4).
    for (const auto& r : e.addresses) {
        if (r.family != catalog::AddressFamily::V4) continue;
        a.daddr = catalog::ip_text(r.family, r.sample());
        a.assumed = "the vendor's published range " + r.text() + " stands for it at " + a.daddr;
        return;
    }
    a.daddr = fallback;
    if (e.any_destination()) return;
    std::string names;
    for (const auto& d : e.destinations) names += (names.empty() ? "" : ", ") + d.as_written;
    a.assumed = names + " assumed at " + fallback +
                " (an address no prefix, range or set element of the ruleset covers: netfilter cannot match names; "
                "--resolve pins one)";
}

// The IPv6 address for an entry: a --resolve name's IPv6 address, the
// vendor's published IPv6 range, else `fallback`.
void choose_address6(const catalog::Entry& e, const AuditOptions& opt, const std::string& fallback, EntryAudit& a) {
    V6Address pinned{};
    if (const auto* r = resolved(e, opt, [&pinned](const std::string& addr) { return parse_ipv6(addr, pinned); })) {
        a.daddr6 = v6_text(pinned);
        a.assumed6 = r->first + " = " + a.daddr6 + " (--resolve)";
        return;
    }
    for (const auto& r : e.addresses) {
        V6Address x{};
        if (r.family != catalog::AddressFamily::V6 || !parse_ipv6(catalog::ip_text(r.family, r.sample()), x)) continue;
        a.daddr6 = v6_text(x);
        a.assumed6 = "the vendor's published range " + r.text() + " stands for it at " + a.daddr6;
        return;
    }
    // Published ranges, none of them IPv6: no IPv6 server to try.
    if (!e.addresses.empty()) {
        a.assumed6 = "not audited over IPv6: the vendor publishes IPv4 ranges only for it";
        return;
    }
    a.daddr6 = fallback;
    if (!e.any_destination()) a.assumed6 = "its names assumed at " + fallback + " over IPv6";
}

bool inbound(const EntryAudit& a) { return a.entry->direction == catalog::Direction::Inbound; }

// The address standing for an entry's destinations in a family.
const std::string& daddr_of(const EntryAudit& a, bool v6) { return v6 ? a.daddr6 : a.daddr; }

// An interval the audit can tell: anything but an unsolicited inbound probe
// that did not arrive (the vendor's SDK may open those ports itself, and its
// answers were not tried).
bool told(const IntervalResult& iv) { return !(iv.result.probe.inbound && iv.result.outcome != ProbeOutcome::Passed); }

// The port an inbound entry's answers are tried from: the first port of the
// same product's outbound entries (same transport, same server address)
// whose request reached the server in the first probes. None: those
// requests are all stopped, and the local ports are probed unsolicited.
struct AnswerPort {
    uint16_t port = 0;  // 0: none
    std::string entry_id;  // whose port it is
    uint16_t unsolicited_from = 0;  // the server side's port for unsolicited probes
};

AnswerPort answer_port(const EntryAudit& in, const std::vector<EntryAudit>& all, std::span<const uint32_t> cuts,
                       const std::vector<ProbeResult>& first, bool v6 = false) {
    AnswerPort out;
    for (const auto& a : all) {
        const catalog::Entry& e = *a.entry;
        if (e.direction != catalog::Direction::Outbound || e.transport != in.entry->transport ||
            e.vendor != in.entry->vendor || e.product != in.entry->product || e.edition != in.entry->edition ||
            daddr_of(a, v6) != daddr_of(in, v6))
            continue;
        for (const auto& r : split_ranges(e.port_set.intervals(), cuts)) {
            if (out.unsolicited_from == 0) out.unsolicited_from = r.lo;
            const auto it = std::find_if(first.begin(), first.end(), [&](const ProbeResult& p) {
                return p.probe.transport == e.transport && p.probe.daddr == daddr_of(a, v6) && p.probe.port == r.lo &&
                       p.probe.client_port == 0 && !p.probe.inbound &&
                       (p.outcome == ProbeOutcome::Passed || p.outcome == ProbeOutcome::ReplyBlocked);
            });
            if (it != first.end()) return AnswerPort{r.lo, e.id, out.unsolicited_from};
        }
    }
    return out;
}

// The probe of an inbound entry's local port `local`: the answer to the
// client's packet from that port when an answer port exists, else an
// unsolicited packet from the server side.
Probe inbound_probe(const EntryAudit& a, uint16_t local, const AnswerPort& ap, bool v6 = false) {
    const std::string& daddr = daddr_of(a, v6);
    if (ap.port != 0) return Probe{a.entry->transport, daddr, ap.port, local, false};
    return Probe{a.entry->transport, daddr, ap.unsolicited_from != 0 ? ap.unsolicited_from : local, local, true};
}

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
        out += std::string(to_string(first.outcome)) + " " + transport + (inbound(a) ? " local " : " ") + ports;
        if (client.hi != 0)
            out += std::string(first.outcome == ProbeOutcome::Passed ? " only" : "") + " from client ports " +
                   catalog::port_range_text(client);
        if (first.outcome != ProbeOutcome::Passed) out += " (" + first.how + ")";
        out += " by " + first.decided_by;
        i = j;
    }
    return out;
}

// Whether the two families' intervals read the same: the same ports, client
// ports and outcomes (the deciding rules may differ: two dumps).
bool families_agree(const std::vector<IntervalResult>& v4, const std::vector<IntervalResult>& v6) {
    return v4.size() == v6.size() && std::equal(v4.begin(), v4.end(), v6.begin(), [](const auto& x, const auto& y) {
               return x.range == y.range && x.client == y.client && x.result.outcome == y.result.outcome &&
                      told(x) == told(y);
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
void fold(EntryAudit& a, const std::vector<RateLimit>& limits, const AnswerPort& ap = {}, bool v4_only_note = false) {
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
        v.why = "audit: IPv4: " + group_lines(a, v4, transport) + "; IPv6: " + group_lines(a, v6, transport);
    else
        v.why = "audit: " + group_lines(a, v4.empty() ? v6 : v4, transport);
    if (inbound(a) && ap.port != 0)
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

// An entry's probe results, one per port interval (outbound: one per
// client interval, or one for them all when they agree), folded into its verdict.
void collect_intervals(EntryAudit& a, const AuditResult& res, std::span<const uint32_t> cuts) {
    auto result_of = [&res](const Probe& want) -> const ProbeResult* {
        const auto it = std::find_if(res.replay.results.begin(), res.replay.results.end(),
                                     [&](const ProbeResult& p) { return p.probe == want; });
        return it == res.replay.results.end() ? nullptr : &*it;
    };
    AnswerPort ap_said;  // the answer port the why speaks of (IPv4's when audited)
    for (const bool v6 : {false, true}) {
        if (!(v6 ? res.audited_v6 : res.audited_v4) || daddr_of(a, v6).empty()) continue;
        const AnswerPort ap = inbound(a) ? answer_port(a, res.entries, cuts, res.replay.results, v6) : AnswerPort{};
        // Both families: IPv6's beside IPv4's, which stay where an IPv4 audit puts them.
        auto& into = v6 && res.audited_v4 ? a.intervals6 : a.intervals;
        if (!v6 || !res.audited_v4) ap_said = ap;
        for (const auto& r : split_ranges(a.entry->port_set.intervals(), cuts)) {
            if (inbound(a)) {
                if (const auto* p = result_of(inbound_probe(a, r.lo, ap, v6))) into.push_back({r, *p, {0, 0}, v6});
                continue;
            }
            // One result per client interval; one for all of them when they agree.
            std::vector<IntervalResult> per_client;
            for (const auto& ci : res.client_intervals) {
                const auto* p = result_of(Probe{a.entry->transport, daddr_of(a, v6), r.lo, 0, false, ci});
                if (!p) continue;
                auto& last = per_client;
                if (!last.empty() && last.back().result.outcome == p->outcome &&
                    last.back().result.decided_by == p->decided_by &&
                    static_cast<uint32_t>(last.back().client.hi) + 1 == ci.lo)
                    last.back().client.hi = ci.hi;
                else
                    last.push_back({r, *p, ci, v6});
            }
            // Parts that all agree (with a gap of avoided ports between them) are one.
            const bool agree = std::all_of(per_client.begin(), per_client.end(), [&](const IntervalResult& x) {
                return x.result.outcome == per_client.front().result.outcome &&
                       x.result.decided_by == per_client.front().result.decided_by;
            });
            if (agree && !per_client.empty()) {
                per_client.resize(1);
                per_client.front().client = {0, 0};
            }
            into.insert(into.end(), per_client.begin(), per_client.end());
        }
    }
    fold(a, res.limits, ap_said, res.audited_v6 && a.daddr6.empty());
}

// The entries audited and the addresses standing for them (the sandbox's
// servers hold every one).
void choose_entries(const catalog::Catalog& c, const AuditOptions& opt, AuditResult& res, SandboxSpec& spec) {
    for (const auto& e : c.entries()) {
        if (!selected(e, opt.vendors)) continue;
        EntryAudit a;
        a.entry = &e;
        choose_address(e, opt, res.fallback, a);
        choose_address6(e, opt, res.fallback6, a);
        for (const std::string* d : {&a.daddr, &a.daddr6})
            if (!d->empty() &&
                std::find(spec.server_addrs.begin(), spec.server_addrs.end(), *d) == spec.server_addrs.end())
                spec.server_addrs.push_back(*d);
        res.entries.push_back(std::move(a));
    }
}

// The sandbox's settings from the options and the interfaces chosen.
void fill_spec(const catalog::Catalog& c, const AuditOptions& opt, const AuditResult& res, SandboxSpec& spec) {
    spec.iptables = opt.iptables;
    spec.ip6tables_main = opt.iptables && opt.ip6tables;
    if (opt.iptables && !opt.ip6tables) spec.input6 = opt.input6;
    spec.patch = opt.patch;
    spec.early = opt.early;
    spec.inside = res.inside;
    spec.outside = res.outside;
    spec.probe_timeout_ms = opt.probe_timeout_ms;
    spec.helper_timeout_ms = opt.helper_timeout_ms;
    spec.avoid_local_ports = c.inbound_local_ports();
}

// The families audited: those the listed ruleset filters (and, for IPv6,
// that the sandbox could carry); the other one's line says why not.
void say_families(const AuditOptions& opt, AuditResult& res) {
    const Families f = filtered_families(res.replay.listed);
    res.audited_v4 = f.v4;
    res.audited_v6 = f.v6 && res.replay.ipv6_unavailable.empty();
    if (f.v6 && !res.audited_v6)
        res.not_audited = "IPv6 not audited: " + res.replay.ipv6_unavailable;
    else if (!f.v6)
        res.not_audited = opt.iptables ? "IPv6 not audited: no ip6tables-save dump given (--ip6tables FILE adds one)"
                                       : "IPv6 not audited: the ruleset filters IPv4 only (no ip6 or inet table with "
                                         "a filter chain)";
    else if (!f.v4)
        res.not_audited = opt.iptables ? "IPv4 not audited: only an ip6tables-save dump given (--iptables FILE adds "
                                         "iptables-save's)"
                                       : "IPv4 not audited: the ruleset filters IPv6 only (no ip or inet table with a "
                                         "filter chain)";
}

}  // namespace

std::vector<catalog::PortRange> client_intervals(std::string_view listed, std::string_view iptables_dump,
                                                 catalog::PortRange client, std::span<const catalog::PortRange> avoid) {
    const ListedRuleset r = iptables_dump.empty() ? parse_listed(listed) : parse_iptables_dump(iptables_dump);
    // Parts wholly inside the inbound entries' local ports are left out (an
    // outbound probe never leaves from them; in the other parts it leaves
    // from a port outside them), unless nothing would be left.
    const auto parts = split_ranges(std::span<const catalog::PortRange>(&client, 1), client_port_cuts(r, client));
    std::vector<catalog::PortRange> out;
    for (const auto& p : parts) {
        uint32_t next = p.lo;  // the first port of p no avoided range covers
        for (bool moved = true; moved && next <= p.hi;) {
            moved = false;
            for (const auto& a : avoid)
                if (a.lo <= next && next <= a.hi) {
                    next = static_cast<uint32_t>(a.hi) + 1;
                    moved = true;
                }
        }
        if (next <= p.hi) out.push_back(p);
    }
    return out.empty() ? parts : out;
}

RulesetInput ruleset_of(const AuditOptions& opt) {
    if (!opt.input.path.empty() || !opt.input.raw.empty()) return opt.input;
    return read_ruleset_input(opt.ruleset_path, !opt.iptables);
}

AuditResult run_audit(const catalog::Catalog& c, const AuditOptions& opt) {
    AuditResult res;
    RulesetInput input = ruleset_of(opt);
    if (!input.ok()) {
        res.replay.error = input.error;
        res.replay.lint_failed = true;
        return res;
    }
    // What the guesses read: the ruleset and every file it includes.
    std::string text = input.raw;
    for (const auto& f : input.includes) text += "\n" + f.text;
    const std::string main_text = text;
    // ip6tables-save's dump beside iptables-save's is read by the guesses too.
    if (opt.iptables && !opt.ip6tables && !opt.input6.raw.empty()) text += "\n" + opt.input6.raw;
    res.ruleset_text = input.raw;
    const auto ifs = choose_interfaces(text, opt.inside, opt.outside);
    res.inside = ifs.inside;
    res.outside = ifs.outside;
    if (!ifs.problem.empty()) {
        res.replay.error = ifs.problem;
        res.interfaces_unsure = true;
        return res;
    }
    SandboxSpec spec;
    if (!choose_client(text, opt, res, spec) || !choose_client6(text, opt, res, spec)) return res;
    const V4Range inside_net{res.inside_lo, res.inside_lo | (~uint32_t{0} >> spec.inside_prefix_len),
                             static_cast<uint8_t>(spec.inside_prefix_len)};
    const std::string fallback = opt.fallback_address.empty()
                                     ? unmentioned_address(text, std::span<const V4Range>(&inside_net, 1))
                                     : opt.fallback_address;
    res.fallback = fallback;
    res.fallback6 = opt.fallback_address6.empty() ? unmentioned_address6(text, res, spec) : opt.fallback_address6;
    res.client_ports = opt.client_ports;
    spec.input = std::move(input);
    fill_spec(c, opt, res, spec);
    choose_entries(c, opt, res, spec);
    // The plan runs in the sandbox, once the ruleset is listed; the same
    // function splits the entries below, so both sides agree on the intervals.
    auto intervals_of = [](const EntryAudit& a, std::span<const uint32_t> cuts) {
        return split_ranges(a.entry->port_set.intervals(), cuts);
    };
    const auto& entries = res.entries;
    // An iptables dump's matches that nft lists only as xt expressions
    // (multiport with ranges, ...) still cut at the numbers the dump writes.
    const std::string dump = opt.iptables ? "\n" + (opt.ip6tables ? iptables_dumps({}, main_text)
                                                                  : iptables_dumps(main_text, opt.input6.raw))
                                          : std::string();
    auto cuts_of = [&dump](std::string_view listed) { return port_cut_points(std::string(listed) + dump); };
    // The client's source ports are a dimension of their own: each outbound
    // interval is probed from each client interval the ruleset can tell apart.
    const catalog::PortRange client_ports = opt.client_ports;
    const auto avoid = spec.avoid_local_ports;
    auto clients_of = [&dump, client_ports, avoid](std::string_view listed) {
        return client_intervals(listed, dump, client_ports, avoid);
    };
    // Each family the ruleset filters, IPv4's probes first.
    const ProbePlanner plan = [&](std::string_view listed) {
        const auto cuts = cuts_of(listed);
        const Families f = filtered_families(listed);
        std::vector<Probe> probes;
        for (const bool v6 : {false, true}) {
            if (!(v6 ? f.v6 : f.v4)) continue;
            for (const auto& ci : clients_of(listed)) {
                for (const auto& a : entries) {
                    if (inbound(a) || daddr_of(a, v6).empty()) continue;
                    for (const auto& r : intervals_of(a, cuts)) {
                        Probe p{a.entry->transport, daddr_of(a, v6), r.lo, 0, false, ci};
                        if (std::find(probes.begin(), probes.end(), p) == probes.end()) probes.push_back(std::move(p));
                    }
                }
            }
        }
        return probes;
    };
    // Inbound entries (local ports the vendor sends to) follow once the
    // outbound probes have shown which of the product's ports get out.
    const FollowUpPlanner then = [&](std::string_view listed, const std::vector<ProbeResult>& first) {
        const auto cuts = cuts_of(listed);
        const Families f = filtered_families(listed);
        std::vector<Probe> probes;
        for (const bool v6 : {false, true}) {
            if (!(v6 ? f.v6 : f.v4)) continue;
            for (const auto& a : entries) {
                if (!inbound(a) || daddr_of(a, v6).empty()) continue;
                const AnswerPort ap = answer_port(a, entries, cuts, first, v6);
                for (const auto& r : intervals_of(a, cuts)) {
                    Probe p = inbound_probe(a, r.lo, ap, v6);
                    if (std::find(probes.begin(), probes.end(), p) == probes.end()) probes.push_back(std::move(p));
                }
            }
        }
        return probes;
    };
    res.replay = replay(spec, plan, then);
    // A user namespace's netlink socket cannot force a buffer above
    // net.core.wmem_max, which a large ruleset needs; root can.
    if (!res.replay.ok && res.replay.too_large && ::geteuid() == 0) {
        spec.user_namespace = false;
        res.replay = replay(spec, plan, then);
    }
    if (!res.replay.ok && res.replay.too_large)
        res.replay.error +=
            "(the ruleset is too large for nft in an unprivileged sandbox: netlink's buffer; run as root)";
    if (!res.replay.ok) return res;
    const auto cuts = cuts_of(res.replay.listed);
    res.client_intervals = clients_of(res.replay.listed);
    res.limits = rate_limits(opt.iptables ? parse_iptables_dump(dump, opt.ip6tables ? "ip6" : "ip")
                                          : parse_listed(res.replay.listed));
    say_families(opt, res);
    for (auto& a : res.entries) collect_intervals(a, res, cuts);
    return res;
}

int64_t write_audit(run::VerdictRun& run, const AuditResult& r, const AuditOptions& opt,
                    const std::string& more_notes) {
    std::vector<run::EntryResult> entries;
    entries.reserve(r.entries.size());
    for (const auto& a : r.entries) entries.push_back({a.entry, &a.verdict});
    run.write_verdicts(entries, conclude(r.entries));
    run.finish(run::Status::Completed,
               "audit of " + opt.ruleset_path +
                   (opt.iptables ? (opt.ip6tables ? " (an ip6tables-save dump)" : " (an iptables-save dump)") : "") +
                   (opt.input6.raw.empty() ? "" : " and " + opt.ip6tables_path + " (an ip6tables-save dump)") + " in " +
                   r.replay.mode + "; client behind " + r.inside + ", servers behind " + r.outside +
                   (r.audited_v6 ? (r.audited_v4 ? "; IPv4 and IPv6 audited" : "; IPv6 audited") : "") +
                   (more_notes.empty() ? "" : "; " + more_notes));
    return run.run_id();
}

}  // namespace callwall::audit
