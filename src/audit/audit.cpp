#include "audit/audit.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <optional>

#include <unistd.h>

#include "audit/audit_verdict.hpp"
#include "audit/sandbox.hpp"
#include "audit/ruleset_text.hpp"
#include "run/verdict_run.hpp"

namespace callwall::audit {

namespace {

using namespace verdict;

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

// How the address groups stand for the vendor's ranges, for the why.
std::string groups_said(const std::vector<AddressGroup>& groups) {
    if (groups.size() == 1)
        return "the vendor's published " + std::string(groups[0].ranges.size() == 1 ? "range " : "ranges ") +
               ranges_text(groups[0].ranges) + (groups[0].ranges.size() == 1 ? " stands" : " stand") + " for it at " +
               groups[0].address + (groups[0].ranges.size() == 1 ? "" : " (no rule of the ruleset tells them apart)");
    std::string out = "the vendor's published ranges tried at ";
    for (size_t i = 0; i < groups.size(); ++i)
        out += (i == 0 ? "" : ", ") + groups[i].address + " (" + ranges_text(groups[i].ranges) + ")";
    return out;
}

// The address for an entry: a --resolve name its destinations match, else
// the vendor's published ranges (`rules4`: the ruleset's IPv4 ranges, which
// group them), else `fallback`.
void choose_address(const catalog::Entry& e, const AuditOptions& opt, const std::string& fallback,
                    std::span<const V4Range> rules4, EntryAudit& a) {
    // An IPv6 address is choose_address6's.
    if (const auto* r = resolved(e, opt, [](const std::string& addr) { return addr.find(':') == std::string::npos; })) {
        a.daddr = r->second;
        a.assumed = r->first + " = " + r->second + " (--resolve)";
        return;
    }
    // The vendor's published ranges: every one is a destination the vendor
    // uses, so each group the ruleset can tell apart is tried at an address
    // of its own (an inbound entry's answers come from the first).
    a.groups = group_ranges(e.addresses, rules4);
    if (!a.groups.empty()) {
        if (e.direction == catalog::Direction::Inbound) a.groups.resize(1);
        a.daddr = a.groups[0].address;
        a.assumed = groups_said(a.groups);
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
void choose_address6(const catalog::Entry& e, const AuditOptions& opt, const std::string& fallback,
                     std::span<const V6Range> rules6, EntryAudit& a) {
    V6Address pinned{};
    if (const auto* r = resolved(e, opt, [&pinned](const std::string& addr) { return parse_ipv6(addr, pinned); })) {
        a.daddr6 = v6_text(pinned);
        a.assumed6 = r->first + " = " + a.daddr6 + " (--resolve)";
        return;
    }
    a.groups6 = group_ranges6(e.addresses, rules6);
    if (!a.groups6.empty()) {
        if (e.direction == catalog::Direction::Inbound) a.groups6.resize(1);
        a.daddr6 = a.groups6[0].address;
        a.assumed6 = groups_said(a.groups6);
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

// The probe of an inbound server document's port (Jitsi's udp 10000): from
// the internet to the router's public address and the port, where the
// ruleset forwards it (DNAT) to the inside server; straight to the client's
// address where the ruleset forwards nothing (a routed server, and IPv6);
// none where it forwards other ports but not this one (`fw` null).
std::optional<Probe> server_probe(const EntryAudit& a, uint16_t port, const std::vector<PortForward>& forwards,
                                  const std::string& public_addr, bool v6, const PortForward** fw = nullptr) {
    if (v6 || forwards.empty()) return inbound_probe(a, port, AnswerPort{}, v6);
    const PortForward* f = forward_for(forwards, a.entry->transport, port);
    if (fw) *fw = f;
    if (!f) return std::nullopt;
    Probe p{a.entry->transport, daddr_of(a, v6), port, f->inside_port(port), true};
    p.to = f->public_addr.empty() ? public_addr : f->public_addr;
    p.to_port = port;
    p.inside = f->to_addr;
    return p;
}

// How a server document's ports were tried, for its why.
std::string server_tried(const EntryAudit& a, const AuditResult& res) {
    const char* transport = a.entry->transport == catalog::Transport::Tcp ? "tcp" : "udp";
    if (res.forwards.empty())
        return std::string("tried from the internet (") + a.daddr +
               ") straight to the server at the client's address: the ruleset forwards no port (a routed server)";
    std::string said;
    for (const auto& r : a.entry->port_set.intervals()) {
        const PortForward* f = forward_for(res.forwards, a.entry->transport, r.lo);
        said += (said.empty() ? "" : ", ") + std::string(transport) + " " + catalog::port_range_text(r) +
                (f ? " -> " + f->to_addr + ":" + std::to_string(f->inside_port(r.lo)) : std::string(" not forwarded"));
    }
    return std::string("tried from the internet (") + a.daddr +
           ") to the router's public address as its port forwards "
           "(DNAT rules) publish the server: " +
           said;
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
            if (server_doc(a)) {
                const PortForward* fw = nullptr;
                const auto probe = server_probe(a, r.lo, res.forwards, res.public_addr, v6, &fw);
                if (probe) {
                    if (const auto* p = result_of(*probe)) into.push_back({r, *p, {0, 0}, v6, 0, true});
                    continue;
                }
                // The ruleset forwards other ports, not this one: the internet cannot reach it.
                ProbeResult none;
                none.probe = Probe{a.entry->transport, daddr_of(a, v6), r.lo, r.lo, true};
                none.how = "not forwarded";
                none.decided_by = "no port forward: no DNAT rule of the ruleset publishes " +
                                  std::string(a.entry->transport == catalog::Transport::Tcp ? "tcp " : "udp ") +
                                  std::to_string(r.lo) + " to the server";
                into.push_back({r, none, {0, 0}, v6, 0, true});
                continue;
            }
            if (inbound(a)) {
                if (const auto* p = result_of(inbound_probe(a, r.lo, ap, v6))) into.push_back({r, *p, {0, 0}, v6});
                continue;
            }
            // One result per address group and client interval; one for all
            // client intervals when they agree.
            const auto addrs = addresses_of(a, v6);
            for (size_t g = 0; g < addrs.size(); ++g) {
                std::vector<IntervalResult> per_client;
                for (const auto& ci : res.client_intervals) {
                    const auto* p = result_of(Probe{a.entry->transport, addrs[g], r.lo, 0, false, ci});
                    if (!p) continue;
                    auto& last = per_client;
                    if (!last.empty() && last.back().result.outcome == p->outcome &&
                        last.back().result.decided_by == p->decided_by &&
                        static_cast<uint32_t>(last.back().client.hi) + 1 == ci.lo)
                        last.back().client.hi = ci.hi;
                    else
                        last.push_back({r, *p, ci, v6, static_cast<uint16_t>(g)});
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
    }
    if (server_doc(a)) a.tried = server_tried(a, res);
    fold(a, res.limits, ap_said, res.audited_v6 && a.daddr6.empty());
}

// The entries audited and the addresses standing for them (the sandbox's
// servers hold every one).
void choose_entries(const catalog::Catalog& c, const AuditOptions& opt, std::string_view text, AuditResult& res,
                    SandboxSpec& spec) {
    const auto rules4 = ipv4_ranges(text);
    const auto rules6 = ipv6_ranges(text);
    for (const auto& e : c.entries()) {
        if (!selected(e, opt.vendors)) continue;
        EntryAudit a;
        a.entry = &e;
        choose_address(e, opt, res.fallback, rules4, a);
        choose_address6(e, opt, res.fallback6, rules6, a);
        for (const bool v6 : {false, true})
            for (const auto& d : addresses_of(a, v6))
                if (std::find(spec.server_addrs.begin(), spec.server_addrs.end(), d) == spec.server_addrs.end())
                    spec.server_addrs.push_back(d);
        res.entries.push_back(std::move(a));
    }
}

// The ruleset's port forwards: their public addresses on the router, their
// inside servers beside the client.
void publish_forwards(std::string_view text, AuditResult& res, SandboxSpec& spec) {
    res.forwards = port_forwards(text);
    res.public_addr = sandbox::kRouterOutside;
    for (const auto& f : res.forwards) {
        if (!f.public_addr.empty() &&
            std::find(spec.public_addrs.begin(), spec.public_addrs.end(), f.public_addr) == spec.public_addrs.end())
            spec.public_addrs.push_back(f.public_addr);
        if (std::find(spec.inside_servers.begin(), spec.inside_servers.end(), f.to_addr) == spec.inside_servers.end())
            spec.inside_servers.push_back(f.to_addr);
    }
}

// The sandbox's settings from the options and the interfaces chosen.
void fill_spec(const catalog::Catalog& c, const AuditOptions& opt, const AuditResult& res, SandboxSpec& spec) {
    spec.iptables = opt.iptables;
    spec.ip6tables_main = opt.iptables && opt.ip6tables;
    if (opt.iptables && !opt.ip6tables) spec.input6 = opt.input6;
    spec.patch = opt.patch;
    spec.ipsets = opt.ipsets.raw;
    spec.ipset_path = opt.ipset_path;
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

std::vector<std::string> addresses_of(const EntryAudit& a, bool v6) {
    std::vector<std::string> out;
    for (const auto& g : v6 ? a.groups6 : a.groups) out.push_back(g.address);
    if (out.empty() && !daddr_of(a, v6).empty()) out.push_back(daddr_of(a, v6));
    return out;
}

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
    // So are the ipsets' members: addresses the ruleset names through them.
    if (!opt.ipsets.raw.empty()) text += "\n" + opt.ipsets.raw;
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
    publish_forwards(text, res, spec);
    fill_spec(c, opt, res, spec);
    choose_entries(c, opt, text, res, spec);
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
                    if (inbound(a)) continue;
                    for (const auto& d : addresses_of(a, v6))
                        for (const auto& r : intervals_of(a, cuts)) {
                            Probe p{a.entry->transport, d, r.lo, 0, false, ci};
                            if (std::find(probes.begin(), probes.end(), p) == probes.end())
                                probes.push_back(std::move(p));
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
                    const auto p = server_doc(a) ? server_probe(a, r.lo, res.forwards, res.public_addr, v6)
                                                 : std::optional<Probe>(inbound_probe(a, r.lo, ap, v6));
                    if (p && std::find(probes.begin(), probes.end(), *p) == probes.end()) probes.push_back(*p);
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
