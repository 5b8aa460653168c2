#include "audit/ruleset_text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace callwall::audit {

namespace {

uint16_t to_port(std::string_view s) {
    unsigned v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && v <= 65535 ? static_cast<uint16_t>(v) : 0;
}

bool contains_any(std::string_view name, std::initializer_list<std::string_view> parts) {
    return std::any_of(parts.begin(), parts.end(),
                       [&](std::string_view p) { return name.find(p) != std::string_view::npos; });
}

// The names after one iifname/oifname keyword at `pos` (just past it):
// quoted, or a bare word (`iifname lan0`); wildcards ("eth*") only when asked.
void names_after(std::string_view t, size_t pos, std::vector<std::string>& out, bool wildcards = false) {
    while (pos < t.size() && (t[pos] == ' ' || t[pos] == '!' || t[pos] == '=')) ++pos;
    // A verdict map or map keyed by the name: `iifname vmap { "lan0" : jump a, ... }`.
    for (std::string_view kw : {std::string_view("vmap "), std::string_view("map ")}) {
        if (t.substr(pos, kw.size()) == kw) {
            pos += kw.size();
            while (pos < t.size() && t[pos] == ' ') ++pos;
        }
    }
    const bool set = pos < t.size() && t[pos] == '{';
    const size_t end = set ? t.find('}', pos) : t.find_first_of(" \n;", pos);
    if (!set && pos < t.size() && t[pos] != '"' && t[pos] != '$' && t[pos] != '@') {
        std::string name(t.substr(pos, end == std::string_view::npos ? t.size() - pos : end - pos));
        if (!name.empty() && (wildcards || name.find('*') == std::string::npos) &&
            std::find(out.begin(), out.end(), name) == out.end() && name != "vmap" && name != "map")
            out.push_back(std::move(name));
        return;
    }
    const std::string_view span = t.substr(pos, end == std::string_view::npos ? t.size() - pos : end - pos);
    size_t i = 0;
    while ((i = span.find('"', i)) != std::string_view::npos) {
        const size_t close = span.find('"', i + 1);
        if (close == std::string_view::npos) break;
        std::string name(span.substr(i + 1, close - i - 1));
        if (!name.empty() && (wildcards || name.find('*') == std::string::npos) &&
            std::find(out.begin(), out.end(), name) == out.end())
            out.push_back(std::move(name));
        i = close + 1;
        if (!set) break;
    }
}

void parse_packet(std::string_view rest, TracedPacket& p) {
    const auto w = text_words(rest);
    for (size_t i = 0; i + 2 < w.size(); ++i) {
        if (w[i] == "ip" || w[i] == "ip6") {
            if (w[i + 1] == "saddr") p.saddr = std::string(w[i + 2]);
            if (w[i + 1] == "daddr") p.daddr = std::string(w[i + 2]);
            if (w[i + 1] == "protocol" || w[i + 1] == "nexthdr") p.proto = std::string(w[i + 2]);
        }
        if ((w[i] == "tcp" || w[i] == "udp") && w[i + 1] == "sport") p.sport = to_port(w[i + 2]);
        if ((w[i] == "tcp" || w[i] == "udp") && w[i + 1] == "dport") p.dport = to_port(w[i + 2]);
    }
}

// A rule as the admin wrote it: `counter packets 1 bytes 29` -> `counter`
// (the live counts change with every run, the admin's text does not).
std::string without_counts(std::string_view rule) {
    std::string out;
    constexpr std::string_view kCounter = "counter packets ";
    size_t at = 0;
    for (size_t c = rule.find(kCounter); c != std::string_view::npos; c = rule.find(kCounter, at)) {
        size_t i = c + kCounter.size();
        while (i < rule.size() && text_digit(rule[i])) ++i;
        if (rule.substr(i, 7) != " bytes ") {
            out.append(rule.substr(at, i - at));
            at = i;
            continue;
        }
        i += 7;
        while (i < rule.size() && text_digit(rule[i])) ++i;
        out.append(rule.substr(at, c - at));
        out += "counter";
        at = i;
    }
    out.append(rule.substr(at));
    return out;
}

TraceEvent parse_rule(std::string_view rest) {
    TraceEvent e;
    const size_t v = rest.rfind(" (verdict ");
    std::string_view text = rest.substr(0, v);
    if (v != std::string_view::npos) {
        std::string_view verdict = rest.substr(v + 10);
        const size_t close = verdict.rfind(')');
        e.verdict = std::string(text_trim(verdict.substr(0, close)));
    }
    const size_t h = text.rfind(" # handle ");
    if (h != std::string_view::npos) {
        const std::string_view num = text_trim(text.substr(h + 10));
        std::from_chars(num.data(), num.data() + num.size(), e.handle);
        text = text.substr(0, h);
    }
    e.rule = without_counts(text_trim(text));
    return e;
}

}  // namespace

std::string rule_without_counts(std::string_view rule) { return without_counts(rule); }

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> out;
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        out.push_back(text.substr(pos, eol - pos));
        pos = eol + 1;
    }
    return out;
}

std::string resolve_defines(std::string_view text) {
    // define NAME = VALUE (to the end of the line, or a { ... } set over
    // several lines); redefine the same; a later definition wins.
    std::vector<std::pair<std::string, std::string>> defs;
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text_trim(text.substr(pos, eol - pos));
        size_t next = eol + 1;
        for (std::string_view kw : {std::string_view("define "), std::string_view("redefine ")}) {
            if (line.rfind(kw, 0) != 0) continue;
            std::string_view rest = text_trim(line.substr(kw.size()));
            const size_t eq = rest.find('=');
            if (eq == std::string_view::npos) break;
            const std::string name(text_trim(rest.substr(0, eq)));
            std::string_view value = text_trim(rest.substr(eq + 1));
            if (!value.empty() && value.front() == '{' && value.find('}') == std::string_view::npos) {
                // A set over several lines: to its closing brace.
                const size_t start = static_cast<size_t>(value.data() - text.data());
                const size_t close = text.find('}', start);
                if (close == std::string_view::npos) break;
                value = text.substr(start, close + 1 - start);
                const size_t after = text.find('\n', close);
                next = after == std::string_view::npos ? text.size() : after + 1;
            }
            const size_t hash = value.find(" #");
            if (hash != std::string_view::npos && value.front() != '{') value = text_trim(value.substr(0, hash));
            auto it = std::find_if(defs.begin(), defs.end(), [&](const auto& d) { return d.first == name; });
            if (it == defs.end())
                defs.emplace_back(name, std::string(value));
            else
                it->second = std::string(value);
            break;
        }
        pos = next;
    }
    if (defs.empty()) return std::string(text);
    // Values may name other variables: substitute a few rounds.
    std::string out(text);
    for (int round = 0; round < 4; ++round) {
        bool changed = false;
        std::string next;
        for (size_t i = 0; i < out.size();) {
            if (out[i] != '$') {
                next += out[i++];
                continue;
            }
            size_t j = i + 1;
            while (j < out.size() && (std::isalnum(static_cast<unsigned char>(out[j])) || out[j] == '_')) ++j;
            const std::string name = out.substr(i + 1, j - i - 1);
            auto it = std::find_if(defs.begin(), defs.end(), [&](const auto& d) { return d.first == name; });
            if (it == defs.end()) {
                next.append(out, i, j - i);
            } else {
                next += it->second;
                changed = true;
            }
            i = j;
        }
        out = std::move(next);
        if (!changed) break;
    }
    return out;
}

std::vector<uint32_t> port_cut_points(std::string_view ruleset) {
    std::vector<uint32_t> cuts;
    auto number = [](std::string_view t, uint32_t& v) {
        if (t.empty() || t.size() > 5) return false;
        v = 0;
        for (char c : t) {
            if (!text_digit(c)) return false;
            v = v * 10 + static_cast<uint32_t>(c - '0');
        }
        return v <= 65535;
    };
    auto cut = [&cuts](uint32_t v) {
        if (v > 0) cuts.push_back(v);
    };
    size_t i = 0;
    while (i < ruleset.size()) {
        const char c = ruleset[i];
        if (c == '#') {  // a comment line (a source file's, iptables-save's header)
            const size_t eol = ruleset.find('\n', i);
            i = eol == std::string_view::npos ? ruleset.size() : eol + 1;
            continue;
        }
        if (c == '"') {  // a comment or a name: its numbers are not ports
            const size_t close = ruleset.find('"', i + 1);
            i = close == std::string_view::npos ? ruleset.size() : close + 1;
            continue;
        }
        if (std::isspace(static_cast<unsigned char>(c)) ||
            std::string_view("{},;()[]=<>!").find(c) != std::string_view::npos) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < ruleset.size() && !std::isspace(static_cast<unsigned char>(ruleset[j])) &&
               std::string_view("{},;()[]=<>!\"").find(ruleset[j]) == std::string_view::npos)
            ++j;
        const std::string_view t = ruleset.substr(i, j - i);
        i = j;
        // N; a range N-M (nft) or N:M, N:, :M (iptables). Anything else
        // (addresses, prefixes, names like lan0, negative priorities, hex
        // marks) is not a port.
        uint32_t lo = 0, hi = 0;
        if (number(t, lo)) {
            cut(lo);
            cut(lo + 1);
            continue;
        }
        const size_t sep = t.find_first_of("-:");
        if (sep == std::string_view::npos || t.find_first_of("-:", sep + 1) != std::string_view::npos) continue;
        const std::string_view left = t.substr(0, sep), right = t.substr(sep + 1);
        const bool has_lo = number(left, lo), has_hi = number(right, hi);
        if (has_lo && has_hi) {
            cut(lo);
            cut(hi + 1);
        } else if (t[sep] == ':' && has_lo && right.empty()) {
            cut(lo);
        } else if (t[sep] == ':' && has_hi && left.empty()) {
            cut(hi + 1);
        }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    return cuts;
}

std::vector<catalog::PortRange> split_ranges(std::span<const catalog::PortRange> ranges,
                                             std::span<const uint32_t> cuts) {
    std::vector<catalog::PortRange> out;
    for (const auto& r : ranges) {
        uint32_t start = r.lo;
        auto it = std::upper_bound(cuts.begin(), cuts.end(), start);
        for (; it != cuts.end() && *it <= r.hi; ++it) {
            out.push_back({static_cast<uint16_t>(start), static_cast<uint16_t>(*it - 1)});
            start = *it;
        }
        out.push_back({static_cast<uint16_t>(start), r.hi});
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.lo < b.lo || (a.lo == b.lo && a.hi < b.hi); });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> interface_names(std::string_view text, bool wildcards) {
    const std::string resolved = resolve_defines(text);
    const std::string_view ruleset = resolved;
    std::vector<std::string> out;
    // iptables-save: "-i lan0", "! -o wan0", "--in-interface lan0"; a name
    // ending in '+' is a wildcard.
    for (const std::string_view raw : split_lines(ruleset)) {
        const std::string_view line = text_trim(raw);
        if (line.rfind("-A ", 0) != 0 && line.rfind("-I ", 0) != 0) continue;
        const auto w = text_words(line);
        for (size_t i = 0; i + 1 < w.size(); ++i) {
            if (w[i] != "-i" && w[i] != "-o" && w[i] != "--in-interface" && w[i] != "--out-interface") continue;
            std::string name(w[i + 1]);
            if (!name.empty() && (wildcards || name.back() != '+') &&
                std::find(out.begin(), out.end(), name) == out.end())
                out.push_back(std::move(name));
        }
    }
    for (std::string_view key : {std::string_view("iifname"), std::string_view("oifname")}) {
        size_t pos = 0;
        while ((pos = ruleset.find(key, pos)) != std::string_view::npos) {
            pos += key.size();
            names_after(ruleset, pos, out, wildcards);
        }
    }
    return out;
}

std::pair<std::string, std::string> guess_interfaces(std::string_view ruleset) {
    std::string inside, outside;
    std::vector<std::string> unplaced;
    for (const auto& n : interface_names(ruleset)) {
        if (n == "lo") continue;
        if (inside.empty() && contains_any(n, {"lan", "int", "inside", "eth1", "br", "priv"}))
            inside = n;
        else if (outside.empty() && contains_any(n, {"wan", "ext", "outside", "eth0", "ppp", "uplink", "pub"}))
            outside = n;
        else
            unplaced.push_back(n);
    }
    for (const auto& n : unplaced) {
        if (inside.empty() && n != outside)
            inside = n;
        else if (outside.empty() && n != inside)
            outside = n;
    }
    if (inside.empty()) inside = outside == "lan0" ? "lan1" : "lan0";
    if (outside.empty()) outside = inside == "wan0" ? "wan1" : "wan0";
    return {inside, outside};
}

namespace {

// Which side a name (with the names of the variables defined as it) reads as:
// 1 inside, 2 outside, 0 neither or both.
int side_of(const std::string& name, const std::vector<std::string>& variables) {
    std::string words = name;
    for (const auto& v : variables) words += " " + v;
    std::transform(words.begin(), words.end(), words.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool in = contains_any(words, {"lan", "internal", "inside", "eth1", "br", "priv", "trust", "office"});
    const bool out = contains_any(words, {"wan", "ext", "outside", "eth0", "ppp", "uplink", "pub", "internet"});
    return in == out ? 0 : in ? 1 : 2;
}

// The variables defined as each interface name: "enp2s0" -> {"LAN_IF"}.
std::map<std::string, std::vector<std::string>> variables_of(std::string_view text) {
    std::map<std::string, std::vector<std::string>> out;
    for (const std::string_view raw : split_lines(text)) {
        std::string_view l = text_trim(raw);
        if (l.rfind("define ", 0) != 0 && l.rfind("redefine ", 0) != 0) continue;
        l = text_trim(l.substr(l.find(' ')));
        const size_t eq = l.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string var(text_trim(l.substr(0, eq)));
        std::string_view v = text_trim(l.substr(eq + 1));
        size_t i = 0;
        while ((i = v.find('"', i)) != std::string_view::npos) {
            const size_t close = v.find('"', i + 1);
            if (close == std::string_view::npos) break;
            out[std::string(v.substr(i + 1, close - i - 1))].push_back(var);
            i = close + 1;
        }
        if (v.find('"') == std::string_view::npos && !v.empty() && v.find_first_of(" {/") == std::string_view::npos)
            out[std::string(v)].push_back(var);
    }
    return out;
}

bool name_matches(const std::string& pattern, const std::string& name) {
    if (pattern == name) return true;
    if (!pattern.empty() && (pattern.back() == '*' || pattern.back() == '+'))
        return name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
    return false;
}

std::string listed(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

InterfaceChoice choose_interfaces(std::string_view ruleset, const std::string& inside, const std::string& outside) {
    InterfaceChoice c{inside, outside, {}, false};
    const auto vars = variables_of(ruleset);
    const std::string resolved = resolve_defines(ruleset);
    for (std::string_view kw : {std::string_view("iifname $"), std::string_view("oifname $")}) {
        const size_t at = resolved.find(kw);
        if (at == std::string::npos) continue;
        const size_t end = resolved.find_first_of(" ;\n}", at + kw.size());
        c.problem = "the ruleset matches interfaces by a variable it does not define (" +
                    resolved.substr(at + kw.size() - 1, end - (at + kw.size() - 1)) +
                    "): say which interface faces the clients and which the servers with --inside IFACE --outside "
                    "IFACE";
        return c;
    }
    std::vector<std::string> names;
    for (auto& n : interface_names(ruleset, true))
        if (n != "lo") names.push_back(std::move(n));
    auto used = [&](const std::string& x) {
        return std::any_of(names.begin(), names.end(), [&](const std::string& p) { return name_matches(p, x); });
    };
    auto covered = [&](const std::string& n) {
        return (!c.inside.empty() && name_matches(n, c.inside)) || (!c.outside.empty() && name_matches(n, c.outside));
    };
    // A given name the ruleset never matches is wrong when the ruleset names
    // another interface of that side (by its words or its variable's), or
    // when it matches neither given name but names some: not when it only
    // ever names the other side, or other interfaces (a DMZ) beside a used one.
    const bool none_used = (inside.empty() || !used(inside)) && (outside.empty() || !used(outside));
    auto other_of_side = [&](int side) {
        return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
            if (covered(n)) return false;
            const auto it = vars.find(n);
            const int s = side_of(n, it == vars.end() ? std::vector<std::string>{} : it->second);
            return s == side || (s == 0 && none_used);
        });
    };
    for (const auto* given : {&inside, &outside}) {
        if (given->empty() || used(*given) || !other_of_side(given == &inside ? 1 : 2)) continue;
        c.problem = std::string(given == &inside ? "--inside " : "--outside ") + *given +
                    ": the ruleset matches no interface of that name; it names " + listed(names) +
                    " (give the names the ruleset uses: the audit cannot judge a firewall the ruleset does not "
                    "describe)";
        return c;
    }
    if (!c.inside.empty() && !c.outside.empty()) return c;
    // Guess the missing sides from the names left, and say when unsure.
    std::vector<std::string> left, unplaced;
    for (const auto& n : names)
        if (!covered(n) && n.find_first_of("*+") == std::string::npos) left.push_back(n);
    bool inside_by_name = !c.inside.empty(), outside_by_name = !c.outside.empty();
    for (const auto& n : left) {
        const auto it = vars.find(n);
        const int side = side_of(n, it == vars.end() ? std::vector<std::string>{} : it->second);
        if (side == 1 && c.inside.empty()) {
            c.inside = n;
        } else if (side == 2 && c.outside.empty()) {
            c.outside = n;
        } else if (side == 0) {
            unplaced.push_back(n);
        }
    }
    inside_by_name = inside_by_name || !c.inside.empty();
    outside_by_name = outside_by_name || !c.outside.empty();
    // One name the patterns cannot place, one side open: that side's.
    if (unplaced.size() == 1 && (c.inside.empty() != c.outside.empty())) {
        (c.inside.empty() ? c.inside : c.outside) = unplaced[0];
        unplaced.clear();
    }
    if (!unplaced.empty() && (c.inside.empty() || c.outside.empty())) {
        c.problem = "cannot tell which interface faces the clients and which the servers: the ruleset names " +
                    listed(names) + " (say --inside IFACE --outside IFACE)";
        return c;
    }
    c.guessed = !(inside_by_name && outside_by_name) || inside.empty() || outside.empty();
    if (c.inside.empty()) c.inside = c.outside == "lan0" ? "lan1" : "lan0";
    if (c.outside.empty()) c.outside = c.inside == "wan0" ? "wan1" : "wan0";
    return c;
}

std::vector<TracedPacket> parse_trace(std::string_view text, std::string_view own_table) {
    std::vector<TracedPacket> packets;
    std::map<std::string, size_t, std::less<>> by_id;
    for (const std::string_view raw : split_lines(text)) {
        const std::string_view line = text_trim(raw);
        if (line.rfind("trace id ", 0) != 0) continue;
        // trace id ID FAMILY TABLE CHAIN REST
        const auto w = text_words(line.substr(0, std::min<size_t>(line.size(), 400)));
        if (w.size() < 7) continue;
        const std::string_view id = w[2];
        const std::string table = std::string(w[3]) + " " + std::string(w[4]);
        const std::string_view chain = w[5];
        const size_t rest_at = static_cast<size_t>(w[6].data() - line.data());
        const std::string_view rest = line.substr(rest_at);
        // The kernel derives trace ids from the packet buffer's address, so
        // an id comes back for later packets: the tracing table's chain runs
        // first on every packet, and its "packet:" line starts a new one.
        const bool packet_line = rest.rfind("packet:", 0) == 0;
        auto it = by_id.find(id);
        if (it == by_id.end() || (packet_line && w[4] == own_table)) {
            packets.push_back(TracedPacket{.id = std::string(id)});
            if (it == by_id.end()) it = by_id.emplace(std::string(id), 0).first;
            it->second = packets.size() - 1;
        }
        TracedPacket& p = packets[it->second];
        if (packet_line) {
            if (p.proto.empty()) parse_packet(rest.substr(7), p);
            continue;
        }
        if (w[4] == own_table) continue;
        TraceEvent e;
        if (rest.rfind("rule ", 0) == 0) {
            e = parse_rule(rest.substr(5));
        } else if (rest.rfind("policy ", 0) == 0) {
            e.policy = true;
            e.verdict = std::string(text_trim(rest.substr(7)));
        } else {
            continue;  // "verdict continue" and the like: no decision
        }
        e.table = table;
        e.chain = std::string(chain);
        p.events.push_back(std::move(e));
    }
    return packets;
}

namespace {

// Whether a rule rewrites addresses (masquerade, snat, dnat, redirect): a
// NAT rule, whatever chain holds it.
// (`ct status dnat` matches a forwarded flow: not a NAT statement.)
bool nat_statement(std::string_view rule) {
    const auto w = text_words(rule);
    for (size_t i = 0; i < w.size(); ++i) {
        if (i > 0 && (w[i - 1] == "status" || w[i - 1] == "--ctstate" || w[i - 1] == "--ctstatus")) continue;
        if (w[i] == "masquerade" || w[i] == "snat" || w[i] == "dnat" || w[i] == "redirect" || w[i] == "MASQUERADE" ||
            w[i] == "SNAT" || w[i] == "DNAT" || w[i] == "REDIRECT")
            return true;
    }
    return false;
}

}  // namespace

std::map<std::string, std::string> chain_types(std::string_view listed) {
    std::map<std::string, std::string> types;
    std::string table, chain;
    for (const std::string_view line : split_lines(listed)) {
        const auto w = text_words(text_trim(line));
        if (w.size() >= 3 && w[0] == "table") table = std::string(w[1]) + " " + std::string(w[2]);
        if (w.size() >= 2 && w[0] == "chain") chain = std::string(w[1]);
        if (w.size() >= 4 && w[0] == "type" && w[2] == "hook") types[table + " " + chain] = std::string(w[1]);
    }
    return types;
}

const TraceEvent* deciding_event(const TracedPacket& p, const std::map<std::string, std::string>& types) {
    // A rule's accept says more than a later base chain's policy accept
    // (each base chain must accept; the policy of a chain with no matching
    // rule only lets the packet on).
    // The deciding rule is a filter rule: a NAT chain's accept (a base
    // chain of type nat, or a user chain it jumped to, as firewalld's
    // nat_POST_public_allow holding the masquerade) decides nothing.
    const TraceEvent* rule_accept = nullptr;
    const TraceEvent* policy_accept = nullptr;
    std::string_view base_type;  // the type of the base chain the events are in
    for (const auto& e : p.events) {
        if (e.verdict == "drop") return &e;
        const auto t = types.find(e.table + " " + e.chain);
        if (t != types.end()) base_type = t->second;
        if (e.verdict != "accept") continue;
        if (base_type == "nat") continue;
        if (!e.policy && nat_statement(e.rule)) continue;
        (e.policy ? policy_accept : rule_accept) = &e;
    }
    return rule_accept ? rule_accept : policy_accept;
}

IptablesRules iptables_rules(std::string_view listed, std::string_view save, std::string_view family) {
    // Handles of each chain's rules, in listed order.
    std::map<std::string, std::vector<int64_t>> handles;
    std::string table, chain;
    for (const std::string_view raw : split_lines(listed)) {
        const std::string_view line = text_trim(raw);
        const auto w = text_words(line);
        if (w.empty()) continue;
        if (w[0] == "table" && w.size() >= 3) {
            table = std::string(w[1]) + " " + std::string(w[2]);
            chain.clear();
        } else if (w[0] == "chain" && w.size() >= 2) {
            chain = std::string(w[1]);
        } else if (w[0] == "}") {
            chain.clear();
        } else if (!chain.empty() && w[0] != "type" && w[0] != "policy") {
            const size_t h = line.rfind("# handle ");
            if (h == std::string_view::npos) continue;
            int64_t handle = 0;
            const std::string_view num = line.substr(h + 9);
            std::from_chars(num.data(), num.data() + num.size(), handle);
            handles[table + " " + chain].push_back(handle);
        }
    }
    IptablesRules out;
    std::map<std::string, int> seen;  // "ip filter CHAIN" -> rules so far
    std::string save_table;
    for (const std::string_view raw : split_lines(save)) {
        const std::string_view line = text_trim(raw);
        if (line.size() > 1 && line[0] == '*') {
            save_table = std::string(family) + " " + std::string(text_trim(line.substr(1)));
            continue;
        }
        if (line.rfind("-A ", 0) != 0) continue;
        const auto w = text_words(line);
        if (w.size() < 2) continue;
        const std::string key = save_table + " " + std::string(w[1]);
        const int k = seen[key]++;
        const auto it = handles.find(key);
        if (it == handles.end() || static_cast<size_t>(k) >= it->second.size()) continue;
        out[{key, it->second[static_cast<size_t>(k)]}] = IptablesRule{std::string(line), k + 1};
    }
    return out;
}

std::string jump_path(const TracedPacket& p, const TraceEvent& decided,
                      const std::map<std::string, std::string>* types) {
    if (decided.verdict != "drop") return {};
    // The chains entered, in order; a chain left by a return before the
    // next jump (or the decision) is marked so.
    std::vector<std::string> names, shown;
    std::vector<size_t> stack;
    auto unwind_to = [&](const std::string& chain) {
        while (stack.size() > 1 && names[stack.back()] != chain) {
            shown[stack.back()] += " (returned)";
            stack.pop_back();
        }
    };
    std::string base;  // the base chain the events are in
    for (const auto& e : p.events) {
        if (&e == &decided) break;
        // The path is that of the base chain the decision was reached from
        // (a prerouting chain's jumps before it are another hook's).
        if (types && types->count(e.table + " " + e.chain) && e.table + " " + e.chain != base) {
            base = e.table + " " + e.chain;
            names.clear();
            shown.clear();
            stack.clear();
        }
        if (e.table != decided.table) continue;
        if (e.verdict.rfind("jump ", 0) != 0 && e.verdict.rfind("goto ", 0) != 0) continue;
        if (names.empty()) {
            names.push_back(e.chain);
            shown.push_back(e.chain);
            stack.push_back(0);
        }
        unwind_to(e.chain);
        names.push_back(e.verdict.substr(5));
        shown.push_back(names.back());
        stack.push_back(names.size() - 1);
    }
    if (names.empty()) return {};
    unwind_to(decided.chain);
    std::string out = " (path: ";
    for (size_t i = 0; i < shown.size(); ++i) out += (i ? " -> " : "") + shown[i];
    if (decided.policy) out += " -> policy " + decided.verdict;
    return out + ")";
}

std::string describe(const TraceEvent& e, const IptablesRules* iptables) {
    if (e.policy) return e.table + " " + e.chain + ": policy " + e.verdict;
    if (iptables) {
        const auto it = iptables->find({e.table + " " + e.chain, e.handle});
        if (it != iptables->end())
            return e.table + " " + e.chain + ": rule '" + it->second.line + "' (rule " +
                   std::to_string(it->second.position) + " of " + e.chain + ")";
    }
    return e.table + " " + e.chain + ": rule '" + e.rule + "' (handle " + std::to_string(e.handle) + ")";
}

}  // namespace callwall::audit
