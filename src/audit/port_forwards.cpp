#include "audit/port_forwards.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "audit/ruleset_addresses.hpp"

namespace callwall::audit {

namespace {

bool fw_port(std::string_view s, uint16_t& out) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return false;
    out = static_cast<uint16_t>(v);
    return true;
}

// "443", "10000-20000" (nft) or "10000:20000" (iptables) into `out`.
bool fw_range(std::string_view s, std::vector<catalog::PortRange>& out) {
    const size_t sep = s.find_first_of("-:");
    uint16_t lo = 0, hi = 0;
    if (sep == std::string_view::npos) {
        if (!fw_port(s, lo)) return false;
        out.push_back({lo, lo});
        return true;
    }
    if (!fw_port(s.substr(0, sep), lo) || !fw_port(s.substr(sep + 1), hi) || lo > hi) return false;
    out.push_back({lo, hi});
    return true;
}

// "ADDR" or "ADDR:PORT" (an IPv4 address; a port range keeps its first).
bool fw_target(std::string_view s, PortForward& f) {
    const size_t colon = s.find(':');
    uint32_t a = 0;
    if (!parse_ipv4(s.substr(0, colon), a)) return false;
    f.to_addr = v4_text(a);
    if (colon != std::string_view::npos) {
        std::string_view port = s.substr(colon + 1);
        port = port.substr(0, port.find('-'));
        if (!fw_port(port, f.to_port)) return false;
    }
    return true;
}

std::string fw_resolved(std::string_view line, const std::map<std::string, std::string>& defines) {
    std::string out(line);
    for (const auto& [name, value] : defines)
        for (size_t at = out.find("$" + name); at != std::string::npos; at = out.find("$" + name, at + value.size())) {
            const size_t end = at + 1 + name.size();
            if (end < out.size() && (std::isalnum(static_cast<unsigned char>(out[end])) || out[end] == '_')) {
                at = end;
                continue;
            }
            out.replace(at, end - at, value);
        }
    return out;
}

// The elements of every named map (`map NAME { type ... ; elements = { K : V,
// ... } }`, over several lines as `nft list ruleset` prints it), by name.
std::map<std::string, std::string> named_map_elements(std::string_view text) {
    std::map<std::string, std::string> out;
    size_t at = 0;
    while ((at = text.find("map ", at)) != std::string_view::npos) {
        const bool word_start = at == 0 || std::isspace(static_cast<unsigned char>(text[at - 1]));
        const size_t open = text.find('{', at);
        at += 4;
        if (!word_start || open == std::string_view::npos) continue;
        const auto head = text_words(text.substr(at, open - at));
        // `... dport map { ...` (anonymous), `map @NAME` (a use), or something else.
        if (head.size() != 1 || head[0].starts_with("@")) continue;
        // The block's end: its braces balanced.
        size_t end = open, depth = 0;
        for (; end < text.size(); ++end) {
            if (text[end] == '{') ++depth;
            if (text[end] == '}' && --depth == 0) break;
        }
        if (end >= text.size()) break;
        const std::string_view block = text.substr(open + 1, end - open - 1);
        if (const size_t el = block.find("elements"); el != std::string_view::npos) {
            const size_t l = block.find('{', el), r = block.find('}', el);
            if (l != std::string_view::npos && r != std::string_view::npos && l < r)
                out[std::string(head[0])] = std::string(block.substr(l + 1, r - l - 1));
        }
        at = end;
    }
    return out;
}

// A map's elements ("22 : 10.0.0.9, 80-81 : 10.0.0.10 . 8080"): one forward
// per element of `base`, its ports the key, its inside server the value (an
// IPv4 address, with a port after " . " where the map gives one).
bool map_forwards(std::string_view elements, const PortForward& base, std::vector<PortForward>& out) {
    bool any = false;
    while (!elements.empty()) {
        const size_t comma = elements.find(',');
        const std::string_view element = text_trim(elements.substr(0, comma));
        elements = comma == std::string_view::npos ? std::string_view{} : elements.substr(comma + 1);
        const size_t colon = element.find(':');
        if (element.empty() || colon == std::string_view::npos) continue;
        PortForward f = base;
        f.ports.clear();
        if (!fw_range(text_trim(element.substr(0, colon)), f.ports)) continue;
        const auto value = text_words(element.substr(colon + 1));
        uint32_t a = 0;
        if (value.empty() || !parse_ipv4(value[0], a)) continue;
        f.to_addr = v4_text(a);
        f.to_port = 0;
        if (value.size() == 3 && value[1] == "." && !fw_port(value[2], f.to_port)) continue;
        if (value.size() != 1 && value.size() != 3) continue;
        out.push_back(std::move(f));
        any = true;
    }
    return any;
}

// An nft rule that forwards through a map (`dnat ip to tcp dport map { 443 :
// 192.168.1.10, 10000 : 192.168.1.10 . 10000 }`, or `map @NAME`): the
// forwards of its elements, into `out`.
bool nft_map_forwards(const std::vector<std::string_view>& w, const std::map<std::string, std::string>& maps,
                      std::vector<PortForward>& out) {
    const auto dnat = std::find(w.begin(), w.end(), "dnat");
    if (dnat == w.end()) return false;
    const auto to = std::find(dnat, w.end(), "to");
    if (w.end() - to < 5 || (to[1] != "tcp" && to[1] != "udp") || to[2] != "dport" || to[3] != "map") return false;
    PortForward base;
    base.transport = to[1] == "tcp" ? catalog::Transport::Tcp : catalog::Transport::Udp;
    for (auto i = w.begin(); i + 1 < dnat; ++i) {
        uint32_t a = 0;
        if (*i == "daddr" && i > w.begin() && i[-1] == "ip" && parse_ipv4(i[1], a)) base.public_addr = v4_text(a);
    }
    std::string elements;
    if (to[4] == "{") {
        for (auto i = to + 5; i < w.end() && *i != "}"; ++i) elements += std::string(*i) + " ";
    } else if (to[4].starts_with("@")) {
        const auto m = maps.find(std::string(to[4].substr(1)));
        if (m == maps.end()) return false;
        elements = m->second;
    } else {
        return false;
    }
    return map_forwards(elements, base, out);
}

// An nft rule's forward, when it is one.
bool nft_forward(const std::vector<std::string_view>& w, PortForward& f, std::vector<catalog::Transport>& ts) {
    const auto dnat = std::find(w.begin(), w.end(), "dnat");
    if (dnat == w.end()) return false;
    auto to = std::find(dnat, w.end(), "to");
    if (to == w.end() || to + 1 == w.end() || !fw_target(*(to + 1), f)) return false;
    for (size_t i = 0; i + 1 < w.size() && w.begin() + static_cast<std::ptrdiff_t>(i) < dnat; ++i) {
        if ((w[i] == "tcp" || w[i] == "udp") && w[i + 1] == "dport") {
            ts.push_back(w[i] == "tcp" ? catalog::Transport::Tcp : catalog::Transport::Udp);
        } else if (w[i] == "l4proto" || w[i] == "protocol") {
            for (size_t j = i + 1; j < w.size() && j < i + 6; ++j) {
                if (w[j].substr(0, 3) == "tcp") ts.push_back(catalog::Transport::Tcp);
                if (w[j].substr(0, 3) == "udp") ts.push_back(catalog::Transport::Udp);
                if (w[j] != "{" && w[j].back() != ',') break;
            }
        } else if ((w[i] == "daddr") && i > 0 && w[i - 1] == "ip") {
            uint32_t a = 0;
            if (parse_ipv4(w[i + 1], a)) f.public_addr = v4_text(a);
        }
        if (w[i] != "dport") continue;
        // dport N | N-M | { a, b-c }
        if (w[i + 1] == "{") {
            for (size_t j = i + 2; j < w.size() && w[j] != "}"; ++j) {
                std::string_view item = w[j];
                if (!item.empty() && item.back() == ',') item.remove_suffix(1);
                if (!fw_range(item, f.ports)) return false;
            }
        } else if (!fw_range(w[i + 1], f.ports)) {
            return false;  // a set reference or map: not read
        }
    }
    return !ts.empty();
}

// An iptables-save line's forward (-j DNAT --to-destination ...).
bool iptables_forward(const std::vector<std::string_view>& w, PortForward& f, std::vector<catalog::Transport>& ts) {
    if (std::find(w.begin(), w.end(), "DNAT") == w.end()) return false;
    bool target = false;
    for (size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] == "-p" || w[i] == "--protocol") {
            if (w[i + 1] == "tcp") ts.push_back(catalog::Transport::Tcp);
            if (w[i + 1] == "udp") ts.push_back(catalog::Transport::Udp);
        } else if (w[i] == "--dport" || w[i] == "--destination-port") {
            if (!fw_range(w[i + 1], f.ports)) return false;
        } else if (w[i] == "--dports" || w[i] == "--destination-ports") {
            std::string_view list = w[i + 1];
            while (!list.empty()) {
                const size_t comma = list.find(',');
                if (!fw_range(list.substr(0, comma), f.ports)) return false;
                list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            }
        } else if (w[i] == "-d" || w[i] == "--destination") {
            uint32_t a = 0;
            std::string_view d = w[i + 1];
            if (parse_ipv4(d.substr(0, d.find('/')), a) &&
                (d.find('/') == std::string_view::npos || d.ends_with("/32")))
                f.public_addr = v4_text(a);
        } else if (w[i] == "--to-destination" || w[i] == "--to") {
            target = fw_target(w[i + 1], f);
        }
    }
    return target && !ts.empty();
}

}  // namespace

std::vector<PortForward> port_forwards(std::string_view text) {
    const std::map<std::string, std::string> maps = named_map_elements(text);
    std::map<std::string, std::string> defines;
    std::vector<PortForward> out;
    size_t at = 0;
    while (at <= text.size()) {
        const size_t nl = text.find('\n', at);
        std::string_view line = text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
        at = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = text_trim(line);
        if (line.rfind("define ", 0) == 0) {
            const auto w = text_words(line);
            if (w.size() >= 4 && w[2] == "=") {
                std::string v(w[3]);
                if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
                defines[std::string(w[1])] = v;
            }
            continue;
        }
        if (line.find("dnat") == std::string_view::npos && line.find("DNAT") == std::string_view::npos) continue;
        const std::string expanded = fw_resolved(line, defines);
        // Braces and commas as words of their own ("{443," -> "{", "443,").
        std::string spaced;
        for (char c : expanded) {
            if (c == '{' || c == '}') {
                spaced += ' ';
                spaced += c;
                spaced += ' ';
            } else {
                spaced += c == ';' ? ' ' : c;
            }
        }
        const auto w = text_words(spaced);
        if (line.rfind("-A ", 0) != 0) {
            std::vector<PortForward> mapped;
            if (nft_map_forwards(w, maps, mapped)) {
                for (auto& m : mapped) {
                    m.rule = std::string(line);
                    out.push_back(std::move(m));
                }
                continue;
            }
        }
        PortForward f;
        std::vector<catalog::Transport> ts;
        const bool ok = line.rfind("-A ", 0) == 0 ? iptables_forward(w, f, ts) : nft_forward(w, f, ts);
        if (!ok) continue;
        f.rule = std::string(line);
        std::sort(ts.begin(), ts.end());
        ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
        for (const auto t : ts) {
            PortForward one = f;
            one.transport = t;
            out.push_back(std::move(one));
        }
    }
    return out;
}

const PortForward* forward_for(const std::vector<PortForward>& forwards, catalog::Transport transport, uint16_t port) {
    for (const auto& f : forwards) {
        if (f.transport != transport) continue;
        if (f.ports.empty()) return &f;
        for (const auto& r : f.ports)
            if (r.lo <= port && port <= r.hi) return &f;
    }
    return nullptr;
}

}  // namespace callwall::audit
