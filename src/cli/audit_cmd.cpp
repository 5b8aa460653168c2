// callwall audit (--nft FILE | --iptables FILE [--ip6tables FILE] | --ip6tables FILE) [--vendor V...] [--inside IF] [--outside IF] [--resolve NAME=ADDR...] --db FILE
#include <arpa/inet.h>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <iostream>
#include <string_view>

#include "audit/audit.hpp"
#include "audit/fix.hpp"
#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "run/verdict_run.hpp"
#include "store/store.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

namespace {

bool parse_resolve(const std::vector<std::string>& in, audit::AuditOptions& opt) {
    for (const auto& r : in) {
        const size_t eq = r.find('=');
        in_addr a{};
        in6_addr a6{};
        if (eq == std::string::npos || eq == 0 ||
            (::inet_pton(AF_INET, r.c_str() + eq + 1, &a) != 1 &&
             ::inet_pton(AF_INET6, r.c_str() + eq + 1, &a6) != 1)) {
            std::fprintf(stderr, "callwall audit: --resolve takes NAME=ADDRESS (IPv4 or IPv6), not '%s'\n", r.c_str());
            return false;
        }
        opt.resolve.emplace_back(r.substr(0, eq), r.substr(eq + 1));
    }
    return true;
}

// "LO-HI" (1-65535, LO <= HI) or one port.
bool parse_port_range(const std::string& text, catalog::PortRange& out) {
    unsigned lo = 0, hi = 0;
    char dash = 0, extra = 0;
    const int n = std::sscanf(text.c_str(), "%u%c%u%c", &lo, &dash, &hi, &extra);
    if (n == 1) hi = lo;
    if (!(n == 1 || (n == 3 && dash == '-')) || lo == 0 || hi > 65535 || lo > hi) return false;
    out = {static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
    return true;
}

bool valid_ifname(const std::string& n) {
    return n.empty() || (n.size() < 16 && n.find_first_of(" /\t\n*") == std::string::npos);
}

// The text output's width: every line of it fits in 100 columns (but a
// single word longer than that, and the fix's commands, kept whole to copy).
constexpr size_t kColumns = 100;

// `text` in lines of at most kColumns, the first starting with `first`,
// the others with `rest`; cut at spaces.
void print_wrapped(std::string_view text, std::string_view first, std::string_view rest) {
    std::string line(first);
    bool empty = true;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view word = text.substr(pos, end - pos);
        pos = end + 1;
        if (word.empty()) continue;
        if (!empty && line.size() + 1 + word.size() > kColumns) {
            std::printf("%s\n", line.c_str());
            line = rest;
            empty = true;
        }
        if (!empty) line += ' ';
        line += word;
        empty = false;
    }
    if (!empty) std::printf("%s\n", line.c_str());
}

// An entry's why as the text output shows it: one clause a line (cut at
// "; "), without the "audit: " lead and without the note of the address its
// names were assumed at (said once per vendor).
void print_why(const audit::EntryAudit& a, bool note_said, const std::string& note) {
    std::string_view why = a.verdict.why;
    if (why.rfind("audit: ", 0) == 0) why.remove_prefix(7);
    const std::string tail = "; " + note;
    if (note_said && !note.empty() && why.size() >= tail.size() && why.substr(why.size() - tail.size()) == tail)
        why.remove_suffix(tail.size());
    size_t pos = 0;
    while (pos <= why.size()) {
        size_t end = why.find("; ", pos);
        if (end == std::string_view::npos) end = why.size();
        print_wrapped(why.substr(pos, end - pos), "           ", "             ");
        pos = end + 2;
    }
}

void print_result(const audit::AuditResult& r, int64_t run, const std::string& db_path) {
    print_wrapped("sandbox: " + r.replay.mode + "; " + std::to_string(r.replay.results.size()) + " probes", "", "  ");
    // IPv6 alone (--ip6tables alone): the IPv4 addresses were not used.
    const bool v6_only = r.audited_v6 && !r.audited_v4;
    if (!v6_only)
        print_wrapped(
            "client: " + r.client + " on " + r.inside_net + " behind " + r.inside + " (from " + r.inside_from + ")", "",
            "  ");
    std::string split;
    for (const auto& ci : r.client_intervals) split += (split.empty() ? "" : ", ") + catalog::port_range_text(ci);
    print_wrapped("client ports: " + catalog::port_range_text(r.client_ports) +
                      (r.client_intervals.size() > 1 ? ", told apart by the ruleset: " + split
                                                     : " (the ruleset does not tell them apart)"),
                  "", "  ");
    if (!v6_only)
        print_wrapped("servers: behind " + r.outside + "; vendor names stand at " + r.fallback +
                          " unless --resolve pins them (no prefix of the ruleset covers it)",
                      "", "  ");
    // IPv6: the addresses it was audited with, or, once, that it was not.
    if (r.audited_v6)
        print_wrapped("IPv6: client " + r.client6 + " on " + r.inside_net6 + " (from " + r.inside_from6 +
                          "); vendor names stand at " + r.fallback6 +
                          " unless the vendor publishes IPv6 ranges or --resolve pins them; neighbours are static "
                          "(no neighbour discovery needed)",
                      "", "  ");
    if (!r.not_audited.empty()) print_wrapped(r.not_audited, "", "  ");
    // The names each vendor's entries were assumed at, said once per vendor.
    const std::string& fallback = v6_only ? r.fallback6 : r.fallback;
    auto daddr = [v6_only](const audit::EntryAudit& a) -> const std::string& { return v6_only ? a.daddr6 : a.daddr; };
    auto note = [v6_only](const audit::EntryAudit& a) -> const std::string& {
        return v6_only ? a.assumed6 : a.assumed;
    };
    std::vector<std::string> vendors_said;
    for (const auto& a : r.entries) {
        const std::string& vendor = a.entry->vendor;
        if (std::find(vendors_said.begin(), vendors_said.end(), vendor) != vendors_said.end()) continue;
        vendors_said.push_back(vendor);
        std::string names;
        for (const auto& b : r.entries) {
            if (b.entry->vendor != vendor || note(b).empty() || daddr(b) != fallback) continue;
            for (const auto& d : b.entry->destinations)
                if (names.find(d.as_written) == std::string::npos) names += (names.empty() ? "" : ", ") + d.as_written;
        }
        if (!names.empty())
            print_wrapped(vendor + ": " + names + " assumed at " + fallback +
                              " (netfilter cannot match names; --resolve NAME=ADDR pins one)",
                          "", "  ");
    }
    for (const auto& a : r.entries) {
        const auto v = a.verdict.verdict;
        // The database's word, as a reader writes it ("not exercised").
        std::string word = v == attrib::Verdict::Observed ? "passes" : std::string(attrib::to_string(v));
        std::replace(word.begin(), word.end(), '_', ' ');
        std::printf("%-10s %s\n", word.c_str(), a.entry->id.c_str());
        print_why(a, daddr(a) == fallback, note(a));
    }
    std::printf("written as run %lld: callwall report --db %s --run %lld\n", static_cast<long long>(run),
                db_path.c_str(), static_cast<long long>(run));
}

// The fix as the user reads it: where each rule goes, the rule, and what
// the re-run of the patched ruleset showed.
void print_fix(const audit::Fix& f, bool iptables, bool ip6tables, const std::string& fix_out) {
    if (f.rules.empty() && f.unfixable.empty() && f.shadowed.empty()) return;
    std::printf("\n");
    // The admin's own accepts an earlier drop shadows: the one-line fix, said first.
    for (const auto& s : f.shadowed) print_wrapped("shadowed: " + s, "", "  ");
    print_wrapped(
        "fix: " + std::to_string(f.rules.size()) + " rule" + (f.rules.size() == 1 ? "" : "s") + " to add" +
            (iptables ? std::string(" to the dump (") + (ip6tables ? "ip6tables-save" : "iptables-save") +
                            " lines; the sets are the ipsets of 'callwall catalog export "
                            "--format iptables')"
                      : " after loading the ruleset (nft commands; the sets are those of 'callwall catalog export', "
                        "filled by dnsmasq)"),
        "", "  ");
    // The commands themselves stay whole, to be copied.
    for (const auto& d : f.declarations) std::printf("  %s\n", d.c_str());
    for (const auto& r : f.rules) {
        print_wrapped(r.entry_id + (r.entry_id.empty() ? "" : ": ") + r.where, "  # ", "  #   ");
        std::printf("  %s\n", r.rule.c_str());
    }
    for (const auto& u : f.unfixable) print_wrapped("no rule proposed for " + u, "  ", "    ");
    const std::string rounds = std::to_string(f.rounds) + " round" + (f.rounds == 1 ? "" : "s");
    if (!f.rerun_error.empty()) {
        print_wrapped("re-run of the patched ruleset failed: " + f.rerun_error, "", "  ");
    } else if (f.verified && f.still_failing.empty()) {
        print_wrapped(
            "re-run of the patched ruleset (" + rounds + ", in a new sandbox): every audited requirement passes", "",
            "  ");
    } else if (f.verified) {
        std::printf("re-run of the patched ruleset (%s): still failing:\n", rounds.c_str());
        for (const auto& s : f.still_failing) print_wrapped(s, "  ", "    ");
    }
    if (!fix_out.empty())
        std::printf("the %s written to %s\n", iptables ? "patched dump is" : "fix's commands are", fix_out.c_str());
}

// Reads the ruleset once: a pipe (`<(cat f)`, /dev/stdin, "-") gives its
// bytes only once, and these very bytes are what nft loads. `ip6`: the file
// is ip6tables-save's dump.
int read_one(const std::string& path, bool nft, bool ip6, audit::RulesetInput& in) {
    in = audit::read_ruleset_input(path, nft);
    if (!in.ok()) {
        std::fprintf(stderr, "callwall audit: %s\n", in.error.c_str());
        return kExitInput;
    }
    if (const auto hint = audit::format_hint(in.raw, nft, ip6); !hint.empty()) {
        std::fprintf(stderr, "callwall audit: %s: %s\n", path.c_str(), hint.c_str());
        return kExitUsage;
    }
    return kExitOk;
}

int read_input(const std::string& ruleset, audit::AuditOptions& opt) {
    if (const int code = read_one(ruleset, !opt.iptables, opt.ip6tables, opt.input); code != kExitOk) return code;
    if (!opt.ipset_path.empty()) {
        // `ipset save` output: read as a dump is (bounded, no includes).
        opt.ipsets = audit::read_ruleset_input(opt.ipset_path, false);
        if (!opt.ipsets.ok()) {
            std::fprintf(stderr, "callwall audit: %s\n", opt.ipsets.error.c_str());
            return kExitInput;
        }
    }
    if (opt.ip6tables_path.empty()) return kExitOk;
    return read_one(opt.ip6tables_path, false, true, opt.input6);
}

// The ruleset files: --nft, or the dumps (--iptables, --ip6tables, or
// both: IPv4's is the main one). False (said) when they do not go together.
bool choose_rulesets(const std::string& nft, const std::string& iptables, const std::string& ip6tables,
                     const std::string& db_path, audit::AuditOptions& opt) {
    const bool dumps = !iptables.empty() || !ip6tables.empty();
    if (nft.empty() == !dumps || db_path.empty()) {
        // (--ip6tables stands for --iptables here: the help says so.)
        std::fprintf(stderr, "callwall audit: one of --nft FILE or --iptables FILE, and --db FILE, are required\n");
        return false;
    }
    if (!iptables.empty() && iptables == ip6tables) {
        std::fprintf(stderr, "callwall audit: --iptables and --ip6tables take two files (each tool's own dump)\n");
        return false;
    }
    opt.ruleset_path = !nft.empty() ? nft : !iptables.empty() ? iptables : ip6tables;
    opt.iptables = dumps;
    opt.ip6tables = iptables.empty() && !ip6tables.empty();
    if (!iptables.empty()) opt.ip6tables_path = ip6tables;
    return true;
}

std::string fix_notes(const audit::Fix& f) {
    const std::string shadowed =
        f.shadowed.empty()
            ? ""
            : std::to_string(f.shadowed.size()) + " of the ruleset's own accept(s) shadowed by an earlier drop; ";
    if (f.rules.empty()) return shadowed.empty() ? std::string() : "fix: " + shadowed.substr(0, shadowed.size() - 2);
    std::string n = "fix: " + shadowed + std::to_string(f.rules.size()) + " rule(s) proposed; ";
    if (!f.rerun_error.empty()) return n + "re-run failed";
    if (f.verified && f.still_failing.empty()) return n + "re-run: every audited requirement passes";
    return n + "re-run: " + std::to_string(f.still_failing.size()) + " requirement(s) still failing";
}

// The audit's run of kind "audit" in the database (run::VerdictRun), then
// its result printed unless `quiet`. False after a one-line message when the
// database failed (the run then marked failed if it still takes a write).
bool record_audit(const std::string& db_path, const std::string& command_line, const catalog::Catalog& cat,
                  const audit::AuditOptions& opt, const audit::AuditResult& result, const std::string& notes,
                  bool quiet) {
    try {
        run::VerdictRunOptions ro;
        ro.db_path = db_path;
        ro.kind = "audit";
        ro.sources = {opt.ruleset_path};
        ro.command_line = command_line;
        ro.catalog = &cat;
        run::VerdictRun run(std::move(ro));
        try {
            audit::write_audit(run, result, opt, notes);
        } catch (const store::StoreError& e) {
            run.fail(e);
            throw;
        }
        if (!quiet) print_result(result, run.run_id(), db_path);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "callwall audit: database error: %s\n", e.what());
        return false;
    }
    return true;
}

void print_audit_help(const po::options_description& opts) {
    std::cout
        << opts
        << "\nexamples:\n  callwall audit --nft /etc/nftables.conf --vendor whereby --db audit.sqlite\n"
           "  callwall audit --iptables rules.v4 --vendor agora --fix-out rules.v4.fixed --db audit.sqlite\n"
           "  callwall audit --iptables rules.v4 --ip6tables rules.v6 --vendor whereby --db audit.sqlite\n"
        << "\nExit codes: 0 ok, 2 usage, 3 ruleset refused by nft -c (iptables-nft-restore --test), 4 catalog, 5 database,\n"
           "6 no sandbox (namespaces or nftables not usable here), 7 --fix-out not written, 10 --fail-on matched, 70 internal error.\n";
}

}  // namespace

int run_audit(int argc, char** argv) {
    po::options_description opts(
        "callwall audit (--nft FILE | --iptables FILE [--ip6tables FILE] | --ip6tables FILE) --db FILE [options]\n\n"
        "Replays every requirement of the chosen vendors through the kernel's netfilter loaded\n"
        "with the ruleset, in a throw-away sandbox of network namespaces (unprivileged where user\n"
        "namespaces are allowed), names the rule that decided each, and writes a run of kind\n"
        "'audit' that 'callwall report' shows.\n\noptions");
    std::string nft, iptables, ip6tables, ipset, db_path, inside, outside, fix_out, fail_on, client_ports;
    std::vector<std::string> vendors, resolve, inside_nets;
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("nft", po::value(&nft)->value_name("FILE"), "nftables ruleset file (as for nft -f; '-': standard input)")
        ("iptables", po::value(&iptables)->value_name("FILE"),
         "iptables-save dump (loaded by iptables-nft-restore; '-': standard input)")
        ("ip6tables", po::value(&ip6tables)->value_name("FILE"),
         "ip6tables-save dump (loaded by ip6tables-nft-restore), alone or beside --iptables: audits IPv6")
        ("ipset", po::value(&ipset)->value_name("FILE"),
         "'ipset save' output of the sets the dumps match (-m set --match-set), loaded beside them")
        ("vendor", po::value(&vendors)->composing()->value_name("NAME"), "only this vendor (repeatable; default all)")
        ("inside", po::value(&inside)->value_name("IFACE"), "the router's interface toward the clients (default: guessed)")
        ("outside", po::value(&outside)->value_name("IFACE"), "the router's interface toward the servers (default: guessed)")
        ("resolve", po::value(&resolve)->composing()->value_name("NAME=ADDR"),
         "the IPv4 or IPv6 address standing for NAME (repeatable; one of each family)")
        ("inside-net", po::value(&inside_nets)->composing()->value_name("CIDR"), "the clients' IPv4 or IPv6 network "
         "(repeatable; default: the ruleset's source prefixes on the inside interface and its masquerade rules, "
         "else 192.168.77.0/24 and fd77:77:77:77::/64); the client stands at its first address the ruleset does "
         "not single out")
        ("client-ports", po::value(&client_ports)->value_name("LO-HI"),
         "the clients' ephemeral source ports (default 32768-60999, Linux's; Windows and macOS use "
         "49152-65535); split where the ruleset tells them apart, each part audited")
        ("fail-on", po::value(&fail_on)->value_name("blocked|partial"), "exit 10 when a requirement is blocked (or partial)")
        ("patient", "wait out every batch of probes instead of ending a probe once the trace shows it dropped "
                    "(slower; the reference the early ending is checked against)")
        ("no-fix", "do not propose a fix for what the ruleset blocks (nor re-run the audit with it)")
        ("fix-optional", "fix the vendors' optional entries too (default: required ones only)")
        ("fix-out", po::value(&fix_out)->value_name("FILE"),
         "write the fix to FILE: the nft commands to load after the ruleset, or the patched iptables-save dump")
        ("db", po::value(&db_path)->value_name("FILE"), "the database (required)")
        ("quiet,q", "print nothing but errors (the verdicts are in the database; --fail-on still decides the exit)");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall audit: %s (try 'callwall audit --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        print_audit_help(opts);
        return kExitOk;
    }
    if (!fail_on.empty() && fail_on != "blocked" && fail_on != "partial") {
        std::fprintf(stderr, "callwall audit: --fail-on takes 'blocked' or 'partial', not '%s'\n", fail_on.c_str());
        return kExitUsage;
    }
    audit::AuditOptions opt;
    if (!choose_rulesets(nft, iptables, ip6tables, db_path, opt)) return kExitUsage;
    if (!ipset.empty() && !opt.iptables) {
        std::fprintf(stderr,
                     "callwall audit: --ipset goes with --iptables or --ip6tables (nft rulesets hold their sets)\n");
        return kExitUsage;
    }
    opt.ipset_path = ipset;
    const std::string& ruleset = opt.ruleset_path;
    const bool quiet = vm.count("quiet") > 0;
    opt.early = !vm.count("patient");
    opt.fix_optional = vm.count("fix-optional") > 0;
    opt.vendors = vendors;
    opt.inside_nets = inside_nets;
    opt.inside = inside;
    opt.outside = outside;
    if (!valid_ifname(inside) || !valid_ifname(outside) || (!inside.empty() && inside == outside)) {
        std::fprintf(stderr,
                     "callwall audit: --inside/--outside take two different interface names (< 16 characters)\n");
        return kExitUsage;
    }
    if (!parse_resolve(resolve, opt)) return kExitUsage;
    if (!client_ports.empty() && !parse_port_range(client_ports, opt.client_ports)) {
        std::fprintf(stderr, "callwall audit: --client-ports takes LO-HI (1-65535), not '%s'\n", client_ports.c_str());
        return kExitUsage;
    }
    if (const int code = read_input(ruleset, opt); code != kExitOk) return code;
    const auto cat = load_catalog({}, false);
    if (!cat) return kExitCatalog;
    if (const auto bad = unknown_vendors(*cat, vendors); !bad.empty()) {
        std::fprintf(stderr, "callwall audit: %s\n", bad.c_str());
        return kExitUsage;
    }
    const bool fix = !vm.count("no-fix");
    if (!fix_out.empty() && (!fix || same_file(fix_out, ruleset) || same_file(fix_out, db_path))) {
        std::fprintf(stderr,
                     "callwall audit: --fix-out takes a file of its own (not the ruleset, not the database) "
                     "and cannot go with --no-fix\n");
        return kExitUsage;
    }
    const auto result = audit::run_audit(*cat, opt);
    if (!result.replay.ok) {
        std::fprintf(stderr, "callwall audit: %s\n", result.replay.error.c_str());
        if (result.interfaces_unsure) return kExitUsage;
        return result.replay.lint_failed || result.replay.no_filter ? kExitInput : kExitPermission;
    }
    audit::Fix proposed;
    if (fix) proposed = audit::fix_and_verify(*cat, opt, result);
    if (!record_audit(db_path, join_command_line(argc, argv), *cat, opt, result, fix_notes(proposed), quiet))
        return kExitDatabase;
    const bool write_fix = !fix_out.empty() && !proposed.rules.empty();
    if (write_fix && !write_output_file(fix_out, proposed.user_text, "audit", db_path)) return kExitOutput;
    if (!quiet) {
        print_fix(proposed, opt.iptables, opt.ip6tables, write_fix ? fix_out : std::string());
        if (!fix_out.empty() && !write_fix) std::printf("no rule to add: %s not written\n", fix_out.c_str());
    }
    if (fail_on.empty()) return kExitOk;
    std::vector<std::string> verdicts;
    for (const auto& a : result.entries) verdicts.emplace_back(attrib::to_string(a.verdict.verdict));
    return fail_on_matches(verdicts, fail_on) ? kExitFailOn : kExitOk;
}

}  // namespace callwall::cli
