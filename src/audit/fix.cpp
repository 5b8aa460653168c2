#include "audit/fix.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "audit/ruleset_text.hpp"
#include "audit/shadowed.hpp"

namespace callwall::audit {

namespace {

constexpr std::string_view kReplyPrefix = "the reply, by ";

bool failed(const EntryAudit& a) {
    return a.verdict.verdict == attrib::Verdict::Blocked || a.verdict.verdict == attrib::Verdict::Partial;
}

// A failing entry the fix is for: required ones, optional ones when asked.
bool to_fix(const EntryAudit& a, bool optional_too) { return failed(a) && (a.entry->required || optional_too); }

// The failing intervals of an entry, grouped by what decided them (in the
// order first seen), adjacent ranges merged.
struct Group {
    Decider by;
    std::string decided_by;
    std::vector<catalog::PortRange> ports;
    std::vector<std::string> addrs;  ///< the addresses probed (one per address group of the vendor's ranges)
};

std::vector<Group> failing_groups(const EntryAudit& a) {
    std::vector<Group> out;
    for (const auto& iv : a.intervals) {
        // Passed, or an unsolicited inbound probe (it never fails an entry).
        // IPv6's stops are said, not fixed (the fix's rules match IPv4 addresses).
        if (iv.result.outcome == ProbeOutcome::Passed || iv.result.probe.inbound || iv.v6) continue;
        auto it = std::find_if(out.begin(), out.end(), [&](const Group& g) { return g.by == iv.result.decider; });
        if (it == out.end()) it = out.insert(out.end(), Group{iv.result.decider, iv.result.decided_by, {}, {}});
        if (std::find(it->addrs.begin(), it->addrs.end(), iv.result.probe.daddr) == it->addrs.end())
            it->addrs.push_back(iv.result.probe.daddr);
        // The same ports from another client interval: written once.
        if (std::find_if(it->ports.begin(), it->ports.end(), [&](const catalog::PortRange& p) {
                return p.lo <= iv.range.lo && iv.range.hi <= p.hi;
            }) != it->ports.end())
            continue;
        if (!it->ports.empty() && static_cast<uint32_t>(it->ports.back().hi) + 1 == iv.range.lo)
            it->ports.back().hi = iv.range.hi;
        else
            it->ports.push_back(iv.range);
    }
    return out;
}

std::string nft_ports(const std::vector<catalog::PortRange>& ports) {
    if (ports.size() == 1) return catalog::port_range_text(ports[0]);
    std::string out = "{ ";
    for (size_t i = 0; i < ports.size(); ++i) out += (i ? ", " : "") + catalog::port_range_text(ports[i]);
    return out + " }";
}

std::string where_text(const Group& g) {
    std::string rule = g.decided_by;
    if (rule.rfind(kReplyPrefix, 0) == 0) rule = rule.substr(kReplyPrefix.size());
    const std::string chain = g.by.table + " " + g.by.chain;
    if (g.by.reply) return chain + ", at its top (the answers were stopped by " + rule + ")";
    if (g.by.handle == 0) return chain + ", at its end (before its " + rule.substr(rule.find(": ") + 2) + ")";
    return chain + ", before " + rule.substr(rule.find(": ") + 2);
}

// One iptables line to insert: where, and the texts for the user and for the sandbox.
struct Insertion {
    std::string table, chain;
    int position = 0;  // 0: at the end
    std::string user, test;
};

// Everything added so far, across rounds.
struct Patch {
    bool iptables = false;
    std::string dump_user, dump_test;  // iptables: the patched dumps
    std::string nft_user, nft_test;  // nft: commands after the ruleset
    std::set<std::string> declared, elements, conntrack, attempted;
};

// An entry stopped over IPv6 where IPv4 is not: the fix's rules (IPv4
// addresses) do not serve that; said once per entry.
void note_ipv6_stops(const EntryAudit& a, Fix& fix) {
    const catalog::Entry& e = *a.entry;
    auto v4_passes = [&a](uint16_t port) {
        return std::any_of(a.intervals.begin(), a.intervals.end(), [port](const IntervalResult& iv) {
            return !iv.v6 && iv.range.lo <= port && port <= iv.range.hi && iv.result.outcome == ProbeOutcome::Passed;
        });
    };
    auto stopped6 = [&](const IntervalResult& iv) {
        return iv.v6 && iv.result.outcome != ProbeOutcome::Passed && !iv.result.probe.inbound &&
               (v4_passes(iv.range.lo) || a.intervals6.empty());
    };
    if (std::any_of(a.intervals.begin(), a.intervals.end(), stopped6) ||
        std::any_of(a.intervals6.begin(), a.intervals6.end(), stopped6)) {
        // IPv6 audited alone (an ip6tables dump by itself): there is no IPv4 to compare with.
        const bool v6_alone = std::all_of(a.intervals.begin(), a.intervals.end(), [](const auto& iv) { return iv.v6; });
        const std::string note =
            e.id + (v6_alone ? ": stopped over IPv6 (the fix proposes IPv4 rules only: no ip6tables or ip6 rule is "
                               "proposed yet)"
                             : ": what IPv6 stops and IPv4 does not (the fix proposes IPv4 rules only)");
        if (std::find(fix.unfixable.begin(), fix.unfixable.end(), note) == fix.unfixable.end())
            fix.unfixable.push_back(note);
    }
}

// The admin's own accepts after the rule that stopped `g` that would have
// let it through: said, once each, in `fix.shadowed`.
void note_shadowed(const AuditResult& r, const EntryAudit& a, const Group& g, const ListedRuleset& listed, Fix& fix) {
    if (g.by.reply || g.by.handle == 0 || g.addrs.empty()) return;
    int index = g.by.position - 1;
    if (g.by.position == 0) {
        // nft: the deciding rule by its text, "...: rule 'TEXT' (handle N)".
        const size_t b = g.decided_by.find(": rule '");
        const size_t e = g.decided_by.rfind("' (handle ");
        if (b == std::string::npos || e == std::string::npos || e < b + 8) return;
        index = rule_index(listed, g.by.table, g.by.chain, g.decided_by.substr(b + 8, e - b - 8));
    }
    if (index < 0) return;
    StoppedProbe p{a.entry->transport, {}, g.addrs.front(), r.inside, r.outside};
    for (const auto& range : g.ports) p.ports.push_back(range.lo);
    for (const auto& rule : shadowed_accepts(listed, g.by.table, g.by.chain, static_cast<size_t>(index), p)) {
        const std::string note = a.entry->id + ": the ruleset's own rule '" + rule + "' would let it through, but " +
                                 where_text(g).substr(where_text(g).find(", before ") + 9) + " comes first in " +
                                 g.by.table + " " + g.by.chain +
                                 " and stops it: moving that rule above it is the one-line fix";
        if (std::find(fix.shadowed.begin(), fix.shadowed.end(), note) == fix.shadowed.end())
            fix.shadowed.push_back(note);
    }
}

// Adds the rules for the failing entries of `r` to `patch` and `fix`;
// returns how many rules were new. Every rule is scoped to the way out
// (inside interface in, outside interface out): nothing it accepts comes
// from the outside; answers come back by the conntrack rule.
size_t propose(const AuditResult& r, bool optional_too, Patch& patch, Fix& fix) {
    size_t added = 0;
    std::vector<Insertion> inserts;
    const std::string nft_way = "iifname \"" + r.inside + "\" oifname \"" + r.outside + "\" ";
    const std::string ipt_way = " -i " + r.inside + " -o " + r.outside;
    const ListedRuleset listed = patch.iptables ? parse_iptables_dump(r.ruleset_text) : parse_listed(r.replay.listed);
    for (const auto& a : r.entries) {
        if (!failed(a)) continue;
        const catalog::Entry& e = *a.entry;
        if (!to_fix(a, optional_too)) {
            const std::string note = e.id + ": optional (the vendor presents it as optional); --fix-optional adds it";
            if (std::find(fix.unfixable.begin(), fix.unfixable.end(), note) == fix.unfixable.end())
                fix.unfixable.push_back(note);
            continue;
        }
        note_ipv6_stops(a, fix);
        const char* proto = e.transport == catalog::Transport::Tcp ? "tcp" : "udp";
        const bool any = e.any_destination();
        const std::string set = catalog::address_set_name(e);
        for (const auto& g : failing_groups(a)) {
            note_shadowed(r, a, g, listed, fix);
            const std::string family = g.by.table.substr(0, g.by.table.find(' '));
            if (g.by.table.empty() || (family != "ip" && family != "inet")) {
                const std::string why = g.by.table.empty()
                                            ? "the trace shows no chain that decided (" + g.decided_by + ")"
                                            : "decided in a table of family " + family;
                const std::string note = e.id + ": " + why;
                if (std::find(fix.unfixable.begin(), fix.unfixable.end(), note) == fix.unfixable.end())
                    fix.unfixable.push_back(note);
                continue;
            }
            // An inbound entry's ports are the client's own: a rule that stops
            // the client's packets from them matches source ports, and the
            // export writes none.
            if (e.direction == catalog::Direction::Inbound && !g.by.reply) {
                const std::string note = e.id + ": the client's packets from its local ports are stopped by " +
                                         g.decided_by + " (the export has no source-port rule to add)";
                if (std::find(fix.unfixable.begin(), fix.unfixable.end(), note) == fix.unfixable.end())
                    fix.unfixable.push_back(note);
                continue;
            }
            const std::string key = e.id + "|" + g.by.table + "|" + g.by.chain + "|" + std::to_string(g.by.handle) +
                                    "|" + (g.by.reply ? "r" : "q");
            if (!patch.attempted.insert(key).second) continue;  // tried before and still stopped here
            const std::string chain = g.by.table + " " + g.by.chain;
            if (g.by.reply) {
                if (!patch.conntrack.insert(chain).second) continue;
                ++added;
                if (patch.iptables) {
                    const std::string line =
                        "-A " + g.by.chain + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT";
                    inserts.push_back({g.by.table, g.by.chain, 1, line, line});
                    fix.rules.push_back({"", where_text(g) + ", as its rule 1", line});
                } else {
                    const std::string cmd = "insert rule " + chain + " ct state established,related accept\n";
                    patch.nft_user += cmd;
                    patch.nft_test += cmd;
                    fix.rules.push_back({"", where_text(g), cmd.substr(0, cmd.size() - 1)});
                }
                continue;
            }
            const std::string comment = "callwall fix: " + e.id;
            if (patch.iptables) {
                for (const auto& list : catalog::multiport_lists(g.ports)) {
                    const std::string head =
                        "-A " + g.by.chain + ipt_way + " -p " + proto + " -m multiport --dports " + list;
                    const std::string tail = " -m comment --comment \"" + comment + "\" -j ACCEPT";
                    const std::string user = head + (any ? "" : " -m set --match-set " + set + " dst") + tail;
                    std::string dsts;
                    for (const auto& d : g.addrs) dsts += (dsts.empty() ? "" : ",") + d + "/32";
                    const std::string test = head + (any ? "" : " -d " + dsts) + tail;
                    inserts.push_back({g.by.table, g.by.chain, g.by.handle == 0 ? 0 : g.by.position, user, test});
                    fix.rules.push_back({e.id, where_text(g), user});
                    ++added;
                }
                continue;
            }
            const std::string rule = nft_way + proto + " dport " + nft_ports(g.ports) +
                                     (any ? "" : " ip daddr @" + set + "_v4") + " accept comment \"" + comment + "\"";
            const std::string cmd = g.by.handle == 0 ? "add rule " + chain + " " + rule + "\n"
                                                     : "insert rule " + chain + " position " +
                                                           std::to_string(g.by.handle) + " " + rule + "\n";
            if (!any) {
                const std::string decl = "add set " + g.by.table + " " + set + "_v4 { type ipv4_addr; }\n";
                if (patch.declared.insert(g.by.table + " " + set).second) {
                    patch.nft_user += decl;
                    patch.nft_test += decl;
                    fix.declarations.push_back(decl.substr(0, decl.size() - 1));
                }
                // In the sandbox the set holds the address standing for the
                // entry's names, as dnsmasq would once a client resolved them.
                // (one address per group of the vendor's ranges that failed).
                for (const auto& d : g.addrs)
                    if (patch.elements.insert(g.by.table + " " + set + " " + d).second)
                        patch.nft_test += "add element " + g.by.table + " " + set + "_v4 { " + d + " }\n";
            }
            patch.nft_user += cmd;
            patch.nft_test += cmd;
            fix.rules.push_back({e.id, where_text(g), cmd.substr(0, cmd.size() - 1)});
            ++added;
        }
    }
    // Positions count the rules before this round's insertions: insert the
    // later positions first (appends at the end touch no position).
    std::stable_sort(inserts.begin(), inserts.end(), [](const Insertion& x, const Insertion& y) {
        const int px = x.position == 0 ? 1 << 30 : x.position, py = y.position == 0 ? 1 << 30 : y.position;
        return px > py;
    });
    for (const auto& in : inserts) {
        patch.dump_user = insert_iptables_line(patch.dump_user, in.table, in.chain, in.position, in.user);
        patch.dump_test = insert_iptables_line(patch.dump_test, in.table, in.chain, in.position, in.test);
    }
    return added;
}

// The audit of the ruleset with the patch, in a new sandbox.
AuditResult rerun(const catalog::Catalog& c, const AuditOptions& opt, const AuditResult& first, const Patch& patch) {
    AuditOptions o = opt;
    o.inside = first.inside;
    o.outside = first.outside;
    o.fallback_address = first.fallback;
    o.fallback_address6 = first.fallback6;
    if (!patch.iptables) {
        o.patch = patch.nft_test;
        return run_audit(c, o);
    }
    o.input = ruleset_from_text(patch.dump_test, "patched.rules", false);
    return run_audit(c, o);
}

}  // namespace

std::string insert_iptables_line(std::string_view dump, std::string_view table, std::string_view chain, int position,
                                 std::string_view line) {
    const std::vector<std::string_view> lines = split_lines(dump);
    const std::string prefix = "-A " + std::string(chain) + " ";
    std::string current;
    size_t at = lines.size();  // where the line goes
    int seen = 0;
    bool in_table = false;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string_view l = lines[i];
        if (!l.empty() && l[0] == '*') {
            current = "ip " + std::string(l.substr(1));
            in_table = current == table;
            continue;
        }
        if (!in_table) continue;
        if (l.rfind(prefix, 0) == 0) {
            if (++seen == position) {
                at = i;
                break;
            }
            at = i + 1;  // after the chain's last rule so far
        } else if (l == "COMMIT") {
            if (seen == 0) at = i;
            break;
        }
    }
    if (at == lines.size() && seen == 0) return std::string(dump);  // no such table
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i == at) out.append(line).append("\n");
        out.append(lines[i]);
        if (i + 1 < lines.size() || dump.ends_with('\n')) out += '\n';
    }
    return out;
}

Fix fix_and_verify(const catalog::Catalog& c, const AuditOptions& opt, const AuditResult& first, int max_rounds) {
    Fix fix;
    Patch patch;
    patch.iptables = opt.iptables;
    if (patch.iptables) patch.dump_user = patch.dump_test = first.ruleset_text;
    const AuditResult* latest = &first;
    while (fix.rounds < max_rounds) {
        if (propose(*latest, opt.fix_optional, patch, fix) == 0) break;
        fix.rerun = rerun(c, opt, first, patch);
        ++fix.rounds;
        if (!fix.rerun.replay.ok) {
            fix.rerun_error = fix.rerun.replay.error;
            break;
        }
        fix.verified = true;
        latest = &fix.rerun;
        if (std::none_of(latest->entries.begin(), latest->entries.end(),
                         [&](const EntryAudit& a) { return to_fix(a, opt.fix_optional); }))
            break;
    }
    fix.user_text = patch.iptables ? patch.dump_user : patch.nft_user;
    fix.test_text = patch.iptables ? patch.dump_test : patch.nft_test;
    if (fix.verified && fix.rerun_error.empty()) {
        for (const auto& a : fix.rerun.entries)
            if (to_fix(a, opt.fix_optional))
                fix.still_failing.push_back(a.entry->id + ": " + std::string(attrib::to_string(a.verdict.verdict)) +
                                            " (" + a.verdict.why + ")");
    }
    return fix;
}

}  // namespace callwall::audit
