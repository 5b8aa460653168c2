#include "audit/shadowed.hpp"

#include <algorithm>

#include "audit/ruleset_addresses.hpp"
#include "audit/ruleset_text.hpp"

namespace callwall::audit {

namespace {

bool sh_port(std::string_view s, uint32_t& out) {
    if (s.empty() || s.size() > 5) return false;
    out = 0;
    for (char c : s) {
        if (!text_digit(c)) return false;
        out = out * 10 + static_cast<uint32_t>(c - '0');
    }
    return out >= 1 && out <= 65535;
}

// Whether `item` ("443", "10000-20000", "3478:3479") holds `port`.
bool item_holds(std::string_view item, uint16_t port) {
    const size_t sep = item.find_first_of("-:");
    uint32_t lo = 0, hi = 0;
    if (sep == std::string_view::npos) return sh_port(item, lo) && lo == port;
    return sh_port(item.substr(0, sep), lo) && sh_port(item.substr(sep + 1), hi) && lo <= port && port <= hi;
}

std::string sh_unquoted(std::string_view w) {
    if (w.size() >= 2 && w.front() == '"' && w.back() == '"') w = w.substr(1, w.size() - 2);
    return std::string(w);
}

bool sh_covers(std::string_view prefix, const std::string& daddr) {
    uint32_t a = 0;
    if (!parse_ipv4(daddr, a)) return false;
    const auto r = ipv4_ranges(prefix);
    return r.size() == 1 && covered(a, r);
}

// Whether the rule lets every port of `p` through and matches nothing else
// that could exclude it.
bool lets_through(std::string_view rule, const StoppedProbe& p) {
    std::string spaced;
    for (char c : rule) {
        if (c == '{' || c == '}' || c == ',') {
            spaced += ' ';
            if (c != ',') spaced += c;
            spaced += ' ';
        } else {
            spaced += c;
        }
    }
    const auto w = text_words(spaced);
    const std::string proto = p.transport == catalog::Transport::Tcp ? "tcp" : "udp";
    bool accept = false, transport = false;
    std::vector<std::string_view> ports;  // the dport items
    for (size_t i = 0; i < w.size(); ++i) {
        const std::string_view x = w[i];
        const std::string_view next = i + 1 < w.size() ? w[i + 1] : std::string_view{};
        if (x == "comment" || x == "--comment" || x == "prefix" || x == "--log-prefix") {
            ++i;  // its quoted text (one word or several)
            if (!next.empty() && next.front() == '"')
                while (i < w.size() && !(w[i].size() > 1 && w[i].back() == '"')) ++i;
            continue;
        }
        if (x == "accept" || (x == "-j" && next == "ACCEPT")) {
            accept = true;
            i += x == "-j";
            continue;
        }
        if (x == "drop" || x == "reject" || x == "jump" || x == "goto" || x == "return" || x == "-j" || x == "-g")
            return false;
        if ((x == "tcp" || x == "udp") && (next == "dport" || next.empty() || next == "accept")) {
            if (x != proto) return false;
            transport = true;
            continue;
        }
        if (x == "-p" || x == "--protocol" || x == "-m") {
            if (x != "-m" && next != proto) return false;
            if (x != "-m" && next == proto) transport = true;
            if (x == "-m" && next != proto && next != "multiport" && next != "comment" && next != "conntrack" &&
                next != "state")
                return false;
            ++i;
            continue;
        }
        if (x == "dport" || x == "--dport" || x == "--dports" || x == "--destination-port") {
            if (next == "{") {
                for (size_t j = i + 2; j < w.size() && w[j] != "}"; ++j) ports.push_back(w[j]);
                while (i < w.size() && w[i] != "}") ++i;
            } else {
                ports.push_back(next);  // an iptables list: split below
                ++i;
            }
            continue;
        }
        if (x == "iifname" || x == "-i") {
            if (sh_unquoted(next) != p.inside) return false;
            ++i;
            continue;
        }
        if (x == "oifname" || x == "-o") {
            if (sh_unquoted(next) != p.outside) return false;
            ++i;
            continue;
        }
        if ((x == "daddr" && i > 0 && w[i - 1] == "ip") || x == "-d") {
            if (!sh_covers(next, p.daddr)) return false;
            ++i;
            continue;
        }
        if (x == "ip" && next == "daddr") continue;
        if (x == "ct" || x == "state" || x == "new" || x == "--ctstate" || x == "--state" || x == "NEW" ||
            x == "counter" || x == "log" || x == "-A" || x == "packets" || x == "bytes")
            continue;
        if (i == 1 && w[0] == "-A") continue;  // the chain's name
        if (text_digit(x.front())) continue;  // counter values
        return false;  // anything else: not claimed
    }
    if (!accept || !transport || ports.empty()) return false;
    for (const uint16_t port : p.ports) {
        bool held = false;
        for (std::string_view item : ports) {
            while (!item.empty() && !held) {
                const size_t comma = item.find(',');
                held = item_holds(item.substr(0, comma), port);
                item = comma == std::string_view::npos ? std::string_view{} : item.substr(comma + 1);
            }
            if (held) break;
        }
        if (!held) return false;
    }
    return true;
}

const ListedChain* sh_chain(const ListedRuleset& r, std::string_view table, std::string_view chain) {
    for (const auto& c : r.chains)
        if (c.table == table && c.name == chain) return &c;
    return nullptr;
}

}  // namespace

std::vector<std::string> shadowed_accepts(const ListedRuleset& r, std::string_view table, std::string_view chain,
                                          size_t index, const StoppedProbe& p) {
    std::vector<std::string> out;
    const ListedChain* c = sh_chain(r, table, chain);
    if (!c || p.ports.empty()) return out;
    for (size_t i = index + 1; i < c->rules.size(); ++i)
        if (lets_through(c->rules[i].text, p)) out.push_back(rule_without_counts(c->rules[i].text));
    return out;
}

int rule_index(const ListedRuleset& r, std::string_view table, std::string_view chain, std::string_view rule) {
    const ListedChain* c = sh_chain(r, table, chain);
    if (!c) return -1;
    for (size_t i = 0; i < c->rules.size(); ++i)
        if (rule_without_counts(c->rules[i].text) == rule) return static_cast<int>(i);
    return -1;
}

}  // namespace callwall::audit
