#include "audit/ruleset_chains.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

#include "audit/ruleset_text.hpp"

namespace callwall::audit {

namespace {

bool has_word(const std::vector<std::string_view>& w, std::string_view word) {
    return std::find(w.begin(), w.end(), word) != w.end();
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// "... # handle 12" -> 12, the text without it.
int64_t take_handle(std::string_view& line) {
    const size_t h = line.rfind(" # handle ");
    if (h == std::string_view::npos) return 0;
    int64_t v = 0;
    const std::string_view num = text_trim(line.substr(h + 10));
    std::from_chars(num.data(), num.data() + num.size(), v);
    line = text_trim(line.substr(0, h));
    return v;
}

int brace_balance(std::string_view s) {
    int n = 0;
    bool quoted = false;
    for (char c : s) {
        if (c == '"') quoted = !quoted;
        if (quoted) continue;
        if (c == '{') ++n;
        if (c == '}') --n;
    }
    return n;
}

// The chains a rule jumps or goes to: "jump NAME", "goto NAME" (also in a verdict map).
std::vector<std::string> jump_targets(std::string_view rule) {
    std::vector<std::string> out;
    const auto w = text_words(rule);
    for (size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] != "jump" && w[i] != "goto" && w[i] != "-j" && w[i] != "-g" && w[i] != "--jump" && w[i] != "--goto")
            continue;
        std::string_view t = w[i + 1];
        while (!t.empty() && (t.back() == ',' || t.back() == '}')) t.remove_suffix(1);
        if (!t.empty()) out.emplace_back(t);
    }
    return out;
}

// A conntrack accept of answers and nothing else: `ct state established,related accept`
// (`ct state { established, related } counter accept`; iptables:
// `-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `-m state --state ...`).
bool conntrack_accept(std::string_view rule) {
    if (!contains(rule, "established") && !contains(rule, "ESTABLISHED")) return false;
    const auto words = text_words(rule);
    for (size_t i = 0; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (i == 1 && words[0] == "-A") continue;  // the chain's name
        while (!w.empty() && (w.back() == ',' || w.front() == '{'))
            w = w.back() == ',' ? w.substr(0, w.size() - 1) : w.substr(1);
        if (w.empty() || w == "}" || w == "{") continue;
        static constexpr std::string_view kAllowed[] = {"ct",
                                                        "state",
                                                        "established",
                                                        "related",
                                                        "established,related",
                                                        "related,established",
                                                        "counter",
                                                        "accept",
                                                        "-A",
                                                        "-m",
                                                        "conntrack",
                                                        "--ctstate",
                                                        "--state",
                                                        "RELATED,ESTABLISHED",
                                                        "ESTABLISHED,RELATED",
                                                        "ESTABLISHED",
                                                        "-j",
                                                        "ACCEPT",
                                                        "packets",
                                                        "bytes"};
        bool ok = std::find(std::begin(kAllowed), std::end(kAllowed), w) != std::end(kAllowed);
        ok = ok || std::all_of(w.begin(), w.end(), text_digit);
        if (!ok) return false;
    }
    return true;
}

// The chain name of an iptables rule "-A NAME ..." is its second word; the
// rule's verdicts and matches follow. Named sets a rule reads: "@name".
std::vector<std::string> set_refs(std::string_view rule) {
    std::vector<std::string> out;
    for (size_t at = rule.find('@'); at != std::string_view::npos; at = rule.find('@', at + 1)) {
        size_t end = at + 1;
        while (end < rule.size() && (std::isalnum(static_cast<unsigned char>(rule[end])) || rule[end] == '_' ||
                                     rule[end] == '-' || rule[end] == '.'))
            ++end;
        if (end > at + 1) out.emplace_back(rule.substr(at + 1, end - at - 1));
    }
    return out;
}

void add_cuts(std::string_view text, catalog::PortRange client, std::vector<uint32_t>& out) {
    for (uint32_t c : port_cut_points(text))
        if (c > client.lo && c <= client.hi) out.push_back(c);
}

const ListedChain* find_chain(const ListedRuleset& r, const std::string& table, std::string_view name) {
    for (const auto& c : r.chains)
        if (c.table == table && c.name == name) return &c;
    return nullptr;
}

bool port_match(std::string_view rule, std::string_view which) {
    // nft "udp dport", "th sport"; iptables "--dport(s)", "--destination-port(s)".
    if (which == "dport") return contains(rule, "dport") || contains(rule, "destination-port");
    return contains(rule, "sport") || contains(rule, "source-port");
}

// "5/second" (nft), "5/sec", "5/s", "5/min" (iptables) -> per second; false for bytes.
bool parse_rate(std::string_view t, double& per_s) {
    const size_t slash = t.find('/');
    if (slash == std::string_view::npos) return false;
    unsigned n = 0;
    const auto num = t.substr(0, slash);
    if (std::from_chars(num.data(), num.data() + num.size(), n).ec != std::errc() || num.empty()) return false;
    const std::string_view unit = t.substr(slash + 1);
    const double div = unit.rfind("s", 0) == 0   ? 1
                       : unit.rfind("m", 0) == 0 ? 60
                       : unit.rfind("h", 0) == 0 ? 3600
                       : unit.rfind("d", 0) == 0 ? 86400
                       : unit.rfind("w", 0) == 0 ? 604800
                                                 : 0;
    if (div == 0) return false;
    per_s = n / div;
    return true;
}

uint32_t number_after(const std::vector<std::string_view>& w, std::string_view key) {
    for (size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] != key) continue;
        uint32_t v = 0;
        std::from_chars(w[i + 1].data(), w[i + 1].data() + w[i + 1].size(), v);
        return v;
    }
    return 0;
}

bool has_verdict(const std::vector<std::string_view>& w) {
    for (std::string_view v : {"accept", "drop", "reject", "jump", "goto", "queue", "return"})
        if (has_word(w, v)) return true;
    for (size_t i = 0; i + 1 < w.size(); ++i)
        if ((w[i] == "-j" || w[i] == "-g") && w[i + 1] != "LOG" && w[i + 1] != "NFLOG" && w[i + 1] != "ULOG" &&
            w[i + 1] != "MARK" && w[i + 1] != "CONNMARK")
            return true;
    return false;
}

// A limit in one rule (nft or iptables text); false when the rule has none.
bool limit_of(std::string_view rule, RateLimit& l) {
    const auto w = text_words(rule);
    if (!has_verdict(w)) return false;
    if (contains(rule, "icmp") && !contains(rule, "udp") && !contains(rule, "tcp")) return false;
    l.rule = std::string(rule);
    l.new_only = contains(rule, "ct state new") || contains(rule, "--ctstate NEW") || contains(rule, "--state NEW") ||
                 contains(rule, "--syn") || contains(rule, "flags syn") ||
                 contains(rule, "flags & (fin|syn|rst|ack) == syn");
    const bool udp = has_word(w, "udp") || contains(rule, "l4proto udp") || contains(rule, "-p udp");
    const bool tcp = has_word(w, "tcp") || contains(rule, "l4proto tcp") || contains(rule, "-p tcp");
    l.transport = udp && !tcp ? "udp" : tcp && !udp ? "tcp" : "";
    // nft: `limit rate [over] N/unit [burst B packets]`, alone or in a meter
    // or a set update keyed by the source (`{ ip saddr limit rate ... }`).
    for (size_t i = 0; i + 2 < w.size(); ++i) {
        if (w[i] != "limit" || w[i + 1] != "rate") continue;
        size_t k = i + 2;
        if (w[k] == "over" && k + 1 < w.size()) ++k;
        if (k + 1 < w.size() && (w[k + 1].rfind("bytes", 0) == 0 || w[k + 1].find("bytes/") != std::string_view::npos))
            return false;  // a byte rate: a probe's few bytes stay far below it
        if (!parse_rate(w[k], l.per_s)) return false;
        l.burst = number_after(w, "burst");
        const bool keyed = contains(rule, "meter ") || contains(rule, "update @") || contains(rule, "add @");
        l.per_client = keyed && (contains(rule, "{ ip saddr") || contains(rule, "{ ip6 saddr"));
        l.kind = keyed ? "meter" : "limit";
        return true;
    }
    // iptables: -m limit (iptables-nft lists it as a limit), -m hashlimit.
    for (size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] == "--limit" && parse_rate(w[i + 1], l.per_s)) {
            l.kind = "limit";
            l.burst = number_after(w, "--limit-burst");
            return true;
        }
        if ((w[i] == "--hashlimit-upto" || w[i] == "--hashlimit-above" || w[i] == "--hashlimit") &&
            parse_rate(w[i + 1], l.per_s)) {
            l.kind = "hashlimit";
            l.burst = number_after(w, "--hashlimit-burst");
            l.per_client = contains(rule, "srcip");
            return true;
        }
    }
    if (has_word(w, "ct") && has_word(w, "count")) {
        l.kind = "ct count";
        for (size_t i = 0; i + 1 < w.size(); ++i)
            if (w[i] == "count") {
                std::string_view n = w[i + 1] == "over" && i + 2 < w.size() ? w[i + 2] : w[i + 1];
                std::from_chars(n.data(), n.data() + n.size(), l.count);
            }
        l.per_client = contains(rule, "{ ip saddr") || contains(rule, "{ ip6 saddr");
        l.new_only = true;
        return l.count > 0;
    }
    if (has_word(w, "connlimit") || contains(rule, "--connlimit-above") || contains(rule, "--connlimit-upto")) {
        l.kind = "connlimit";
        l.count = std::max(number_after(w, "--connlimit-above"), number_after(w, "--connlimit-upto"));
        l.per_client = !contains(rule, "--connlimit-daddr");
        l.new_only = true;
        return true;
    }
    if (has_word(w, "quota") || contains(rule, "-m quota")) {
        l.kind = "quota";
        return true;
    }
    return false;
}

}  // namespace

ListedRuleset parse_listed(std::string_view listed) {
    ListedRuleset out;
    std::string table;
    ListedChain* chain = nullptr;
    std::string set_name, set_text, pending;
    int depth = 0, set_depth = 0;
    for (std::string_view raw : split_lines(listed)) {
        std::string_view line = text_trim(raw);
        if (line.empty() || line.front() == '#') continue;
        if (!set_name.empty()) {  // inside a named set or map, to its closing brace
            set_text += std::string(line) + "\n";
            set_depth += brace_balance(line);
            if (set_depth <= 0) {
                out.sets[table + " " + set_name] = std::move(set_text);
                set_name.clear();
                set_text.clear();
                --depth;
            }
            continue;
        }
        if (!pending.empty()) {  // a rule written over several lines
            pending += " " + std::string(line);
            if (brace_balance(pending) > 0) continue;
            line = pending;
        }
        std::string_view body = line;
        const int64_t handle = take_handle(body);
        const auto w = text_words(body);
        if (depth == 0 && w.size() >= 3 && w[0] == "table") {
            table = std::string(w[1]) + " " + std::string(w[2]);
            depth = 1;
            continue;
        }
        if (depth == 1 && w.size() >= 2 && w[0] == "chain") {
            out.chains.push_back(ListedChain{table, std::string(w[1]), {}, {}});
            chain = &out.chains.back();
            depth = 2;
            continue;
        }
        if (depth == 1 && w.size() >= 2 && (w[0] == "set" || w[0] == "map" || w[0] == "flowtable")) {
            set_name = std::string(w[1]);
            set_depth = brace_balance(body);
            depth = 2;
            if (set_depth <= 0) {
                out.sets[table + " " + set_name] = "";
                set_name.clear();
                depth = 1;
            }
            continue;
        }
        if (body == "}") {
            depth = std::max(0, depth - 1);
            if (depth < 2) chain = nullptr;
            pending.clear();
            continue;
        }
        if (depth == 2 && chain) {
            if (pending.empty() && brace_balance(body) > 0) {
                pending = std::string(raw);
                continue;
            }
            pending.clear();
            if (w.size() >= 4 && w[0] == "type" && w[2] == "hook") {
                chain->hook = std::string(w[3]);
                continue;
            }
            if (w.size() >= 1 && (w[0] == "policy" || w[0] == "comment" || w[0] == "devices")) continue;
            chain->rules.push_back(ListedRule{std::string(body), handle});
        }
    }
    return out;
}

ListedRuleset parse_iptables_dump(std::string_view dump, std::string_view family) {
    ListedRuleset out;
    std::string table;
    std::string fam(family);
    for (std::string_view raw : split_lines(dump)) {
        const std::string_view line = text_trim(raw);
        if (line.rfind(kIp6tablesHeader, 0) == 0) fam = "ip6";
        if (line.rfind(kIptablesHeader, 0) == 0) fam = "ip";
        if (line.rfind("*", 0) == 0) {
            table = fam + " " + std::string(line.substr(1));
            continue;
        }
        const auto w = text_words(line);
        if (w.size() < 2 || (w[0] != "-A" && w[0] != "--append" && w[0].rfind(":", 0) != 0)) continue;
        const std::string name = w[0].front() == ':' ? std::string(w[0].substr(1)) : std::string(w[1]);
        auto it = std::find_if(out.chains.begin(), out.chains.end(),
                               [&](const ListedChain& c) { return c.table == table && c.name == name; });
        if (it == out.chains.end()) {
            std::string hook;
            for (std::string_view h : {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})
                if (name == h) {
                    hook = std::string(h);
                    std::transform(hook.begin(), hook.end(), hook.begin(), [](char c) { return c - 'A' + 'a'; });
                }
            out.chains.push_back(ListedChain{table, name, hook, {}});
            it = out.chains.end() - 1;
        }
        if (w[0].front() != ':')
            it->rules.push_back(ListedRule{std::string(line), static_cast<int64_t>(it->rules.size() + 1)});
    }
    return out;
}

std::string iptables_dumps(std::string_view v4_dump, std::string_view v6_dump) {
    std::string out(v4_dump);
    if (v6_dump.empty()) return out;
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out + std::string(kIp6tablesHeader) + " (the IPv6 dump)\n" + std::string(v6_dump);
}

Families filtered_families(std::string_view listed) {
    Families f;
    for (const auto& [chain, type] : chain_types(listed)) {
        if (type != "filter") continue;
        const std::string_view family = std::string_view(chain).substr(0, chain.find(' '));
        if (family == "ip" || family == "inet") f.v4 = true;
        if (family == "ip6" || family == "inet") f.v6 = true;
    }
    return f;
}

std::vector<const ListedChain*> forward_path_chains(const ListedRuleset& r) {
    std::vector<const ListedChain*> out;
    for (const auto& c : r.chains)
        if (c.hook == "prerouting" || c.hook == "forward" || c.hook == "postrouting") out.push_back(&c);
    for (size_t i = 0; i < out.size(); ++i)
        for (const auto& rule : out[i]->rules)
            for (const auto& t : jump_targets(rule.text))
                if (const ListedChain* c = find_chain(r, out[i]->table, t);
                    c && std::find(out.begin(), out.end(), c) == out.end())
                    out.push_back(c);
    return out;
}

std::vector<uint32_t> client_port_cuts(const ListedRuleset& r, catalog::PortRange client) {
    std::vector<uint32_t> cuts;
    auto set_cuts = [&](const ListedChain& c, std::string_view rule) {
        add_cuts(rule, client, cuts);
        for (const auto& s : set_refs(rule))
            if (const auto it = r.sets.find(c.table + " " + s); it != r.sets.end()) add_cuts(it->second, client, cuts);
    };
    // The client's requests: any rule matching a source port.
    for (const auto& c : r.chains)
        for (const auto& rule : c.rules)
            if (port_match(rule.text, "sport")) set_cuts(c, rule.text);
    // The answers to it: rules matching a destination port that the answers
    // reach, in each base chain up to its conntrack accept and in the chains
    // those rules jump to.
    std::vector<const ListedChain*> todo;
    for (const auto& c : r.chains)
        if (!c.hook.empty()) todo.push_back(&c);
    std::set<const ListedChain*> seen(todo.begin(), todo.end());
    while (!todo.empty()) {
        const ListedChain* c = todo.back();
        todo.pop_back();
        for (const auto& rule : c->rules) {
            if (conntrack_accept(rule.text)) break;
            if (port_match(rule.text, "dport")) set_cuts(*c, rule.text);
            for (const auto& t : jump_targets(rule.text))
                if (const ListedChain* j = find_chain(r, c->table, t); j && seen.insert(j).second) todo.push_back(j);
        }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    return cuts;
}

std::vector<RateLimit> rate_limits(const ListedRuleset& r) {
    std::vector<RateLimit> out;
    for (const ListedChain* c : forward_path_chains(r)) {
        // After the chain's conntrack accept only a flow's first packet
        // reaches a rule: its limit counts new flows.
        bool after_conntrack = false;
        for (size_t i = 0; i < c->rules.size(); ++i) {
            RateLimit l;
            if (conntrack_accept(c->rules[i].text)) after_conntrack = true;
            if (!limit_of(c->rules[i].text, l)) continue;
            l.new_only = l.new_only || after_conntrack;
            l.table = c->table;
            l.chain = c->name;
            l.index = i;
            out.push_back(std::move(l));
        }
    }
    return out;
}

std::string RateLimit::text() const {
    char buf[64];
    std::string out;
    const std::string who = per_client ? " per client" : " in total";
    if (per_s > 0) {
        std::snprintf(buf, sizeof buf, "%g", per_s);
        out = std::string(buf) + (new_only ? " new flows/s" : " packets/s") + who;
        if (burst > 0) out += " (burst " + std::to_string(burst) + ")";
    } else if (count > 0) {
        out = std::to_string(count) + " connections at once" + who;
    } else {
        out = "a byte quota";
    }
    return out;
}

}  // namespace callwall::audit
