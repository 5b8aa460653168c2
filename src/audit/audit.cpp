#include "audit/audit.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include "audit/ruleset_text.hpp"
#include "store/attribution_io.hpp"
#include "store/store.hpp"

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

// The address for an entry: a --resolve name its destinations match, else `fallback`.
void choose_address(const catalog::Entry& e, const AuditOptions& opt, const std::string& fallback, EntryAudit& a) {
    for (const auto& [name, addr] : opt.resolve) {
        for (const auto& d : e.destinations) {
            if (d.as_written == name || catalog::destination_matches(d, name)) {
                a.daddr = addr;
                a.assumed = name + " = " + addr + " (--resolve)";
                return;
            }
        }
    }
    a.daddr = fallback;
    if (e.any_destination()) return;
    std::string names;
    for (const auto& d : e.destinations) names += (names.empty() ? "" : ", ") + d.as_written;
    a.assumed =
        names + " assumed at " + fallback +
        " (a documentation address the ruleset does not name: netfilter cannot match names; --resolve pins one)";
}

// Consecutive intervals with the same outcome and deciding rule, as one line
// each; adjacent ranges are written as one ("10000-20000").
std::string group_lines(const EntryAudit& a, const char* transport) {
    std::string out;
    size_t i = 0;
    while (i < a.intervals.size()) {
        const auto& first = a.intervals[i].result;
        std::string ports;
        catalog::PortRange run = a.intervals[i].range;
        size_t j = i + 1;
        for (; j < a.intervals.size(); ++j) {
            const auto& r = a.intervals[j].result;
            if (r.outcome != first.outcome || r.decided_by != first.decided_by) break;
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
        out += std::string(to_string(first.outcome)) + " " + transport + " " + ports;
        if (first.outcome != ProbeOutcome::Passed) out += " (" + first.how + ")";
        out += " by " + first.decided_by;
        i = j;
    }
    return out;
}

void fold(EntryAudit& a) {
    auto& v = a.verdict;
    bool any_pass = false, any_fail = false;
    std::vector<std::string> reasons;
    for (const auto& iv : a.intervals) {
        if (iv.result.outcome == ProbeOutcome::Passed) {
            any_pass = true;
            ++v.flows_observed;
            v.ports_observed.insert(iv.range.lo);
            continue;
        }
        any_fail = true;
        ++v.flows_blocked;
        v.ports_blocked.insert(iv.range.lo);
        if (v.origin.empty()) v.origin = "ruleset: " + iv.result.decided_by;
        const std::string reason = std::string(to_string(iv.result.outcome));
        if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(reason);
    }
    v.reasons = reasons;
    v.verdict = any_pass && any_fail ? attrib::Verdict::Partial
                : any_pass           ? attrib::Verdict::Observed
                : any_fail           ? attrib::Verdict::Blocked
                                     : attrib::Verdict::NotExercised;
    const char* transport = a.entry->transport == catalog::Transport::Tcp ? "tcp" : "udp";
    v.why = "audit: " + group_lines(a, transport);
    if (!a.assumed.empty()) v.why += "; " + a.assumed;
}

// One conclusion per product audited, from its required entries: every one
// passes -> "ready"; one blocked -> "broken"; else (partial) "works, degraded".
std::vector<attrib::ProductConclusion> conclude(const std::vector<EntryAudit>& entries) {
    std::vector<attrib::ProductConclusion> out;
    std::vector<std::array<int, 3>> counts;  // passing, blocked, required
    for (const auto& a : entries) {
        const auto& e = *a.entry;
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) {
            return p.vendor == e.vendor && p.product == e.product && p.edition == e.edition;
        });
        if (it == out.end()) {
            out.push_back({e.vendor, e.product, e.edition, "", ""});
            counts.push_back({0, 0, 0});
            it = out.end() - 1;
        }
        auto& c = counts[static_cast<size_t>(it - out.begin())];
        if (!e.required) continue;
        ++c[2];
        if (a.verdict.verdict == attrib::Verdict::Observed) ++c[0];
        if (a.verdict.verdict == attrib::Verdict::Blocked) ++c[1];
    }
    for (size_t i = 0; i < out.size(); ++i) {
        const auto& c = counts[i];
        out[i].conclusion = c[2] == 0      ? "not exercised"
                            : c[1] > 0     ? "broken"
                            : c[0] == c[2] ? "ready"
                                           : "works, degraded";
        out[i].detail = "audit: " + std::to_string(c[0]) + " of " + std::to_string(c[2]) +
                        " required requirements pass the ruleset, " + std::to_string(c[1]) + " blocked";
    }
    return out;
}

}  // namespace

std::string read_ruleset(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string unmentioned_address(std::string_view text) {
    for (const char* prefix : {"203.0.113.", "198.51.100.", "192.0.2."}) {
        if (text.find(prefix) == std::string_view::npos) return std::string(prefix) + "10";
    }
    return "203.0.113.10";
}

AuditResult run_audit(const catalog::Catalog& c, const AuditOptions& opt) {
    AuditResult res;
    const std::string text = read_ruleset(opt.ruleset_path);
    const auto guess = guess_interfaces(text);
    res.inside = opt.inside.empty() ? guess.first : opt.inside;
    res.outside = opt.outside.empty() ? guess.second : opt.outside;
    const std::string fallback = opt.fallback_address.empty() ? unmentioned_address(text) : opt.fallback_address;
    res.fallback = fallback;
    SandboxSpec spec;
    spec.ruleset_path = opt.ruleset_path;
    spec.iptables = opt.iptables;
    spec.patch = opt.patch;
    spec.early = opt.early;
    spec.inside = res.inside;
    spec.outside = res.outside;
    spec.probe_timeout_ms = opt.probe_timeout_ms;
    for (const auto& e : c.entries()) {
        if (!selected(e, opt.vendors)) continue;
        EntryAudit a;
        a.entry = &e;
        choose_address(e, opt, fallback, a);
        if (std::find(spec.server_addrs.begin(), spec.server_addrs.end(), a.daddr) == spec.server_addrs.end())
            spec.server_addrs.push_back(a.daddr);
        res.entries.push_back(std::move(a));
    }
    // The plan runs in the sandbox, once the ruleset is listed; the same
    // function splits the entries below, so both sides agree on the intervals.
    auto intervals_of = [](const EntryAudit& a, std::span<const uint32_t> cuts) {
        return split_ranges(a.entry->port_set.intervals(), cuts);
    };
    const auto& entries = res.entries;
    // An iptables dump's matches that nft lists only as xt expressions
    // (multiport with ranges, ...) still cut at the numbers the dump writes.
    const std::string dump = opt.iptables ? "\n" + text : std::string();
    auto cuts_of = [&dump](std::string_view listed) { return port_cut_points(std::string(listed) + dump); };
    const ProbePlanner plan = [&](std::string_view listed) {
        const auto cuts = cuts_of(listed);
        std::vector<Probe> probes;
        for (const auto& a : entries) {
            if (a.entry->direction == catalog::Direction::Inbound) continue;
            for (const auto& r : intervals_of(a, cuts)) {
                Probe p{a.entry->transport, a.daddr, r.lo};
                if (std::find(probes.begin(), probes.end(), p) == probes.end()) probes.push_back(std::move(p));
            }
        }
        return probes;
    };
    res.replay = replay(spec, plan);
    // A user namespace's netlink socket cannot force a buffer above
    // net.core.wmem_max, which a large ruleset needs; root can.
    if (!res.replay.ok && res.replay.too_large && ::geteuid() == 0) {
        spec.user_namespace = false;
        res.replay = replay(spec, plan);
    }
    if (!res.replay.ok && res.replay.too_large)
        res.replay.error +=
            "(the ruleset is too large for nft in an unprivileged sandbox: netlink's buffer; run as root)";
    if (!res.replay.ok) return res;
    const auto cuts = cuts_of(res.replay.listed);
    for (auto& a : res.entries) {
        if (a.entry->direction == catalog::Direction::Inbound) {
            a.verdict.why = "audit: inbound requirements are not replayed yet";
            continue;
        }
        for (const auto& r : intervals_of(a, cuts)) {
            const auto it =
                std::find_if(res.replay.results.begin(), res.replay.results.end(), [&](const ProbeResult& p) {
                    return p.probe.transport == a.entry->transport && p.probe.daddr == a.daddr && p.probe.port == r.lo;
                });
            if (it != res.replay.results.end()) a.intervals.push_back({r, *it});
        }
        fold(a);
    }
    return res;
}

int64_t write_audit(store::Store& db, const catalog::Catalog& c, const AuditResult& r, const AuditOptions& opt,
                    const std::string& command_line, const std::string& more_notes) {
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    store::RunInfo info;
    info.kind = "audit";
    info.source = opt.ruleset_path;
    info.sources = {opt.ruleset_path};
    info.command_line = command_line;
    info.catalog_digest = c.digest();
    info.started_at = now;
    const int64_t run = db.begin_run(info);
    {
        store::AttributionIo io(db, run);
        io.begin_writing();
        for (const auto& a : r.entries) io.write_entry(*a.entry, a.verdict);
        io.write_products(conclude(r.entries));
        io.write_catalog_digest(c.digest());
        io.commit();
    }
    store::RunTotals totals;
    totals.notes = "audit of " + opt.ruleset_path + (opt.iptables ? " (an iptables-save dump)" : "") + " in " +
                   r.replay.mode + "; client behind " + r.inside + ", servers behind " + r.outside +
                   (more_notes.empty() ? "" : "; " + more_notes);
    db.update_run(run, totals, store::RunStatus::Completed, now);
    db.flush();
    return run;
}

}  // namespace callwall::audit
