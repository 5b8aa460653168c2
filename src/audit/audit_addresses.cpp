// Where the audit's packets come from and go to: the client's address on
// the inside network (IPv4 and IPv6) and the stand-in addresses of vendor
// names, chosen where nothing in the ruleset singles them out (audit.hpp).
#include <algorithm>
#include <cstdlib>

#include "audit/audit.hpp"

namespace callwall::audit {

std::string unmentioned_address(std::string_view text, std::span<const V4Range> also_avoid) {
    // Documentation addresses first (they say "made up"); then ordinary
    // public addresses, for rulesets whose bogon lists name all three.
    static constexpr const char* kCandidates[] = {"203.0.113.10",  "198.51.100.10", "192.0.2.10",  "23.192.10.10",
                                                  "51.158.10.10",  "62.210.10.10",  "77.88.10.10", "91.198.10.10",
                                                  "151.101.10.10", "185.199.10.10"};
    auto ranges = ipv4_ranges(text);
    ranges.insert(ranges.end(), also_avoid.begin(), also_avoid.end());
    for (const char* c : kCandidates) {
        uint32_t a = 0;
        if (parse_ipv4(c, a) && !covered(a, ranges)) return c;
    }
    return kCandidates[0];
}

std::string unmentioned_address6(std::string_view text, std::span<const V6Range> also_avoid) {
    // Documentation addresses first (2001:db8::/32, 3fff::/20), then
    // ordinary public ones, for rulesets whose bogon lists name both.
    static constexpr const char* kCandidates[] = {"2001:db8:113::10",   "3fff:113::10",     "2001:db8:51:100::10",
                                                  "2a00:1450:4010::10", "2a04:4e42:10::10", "2606:4700:10::10",
                                                  "2620:fe:10::10",     "2a02:6b8:10::10"};
    auto ranges = ipv6_ranges(text);
    ranges.insert(ranges.end(), also_avoid.begin(), also_avoid.end());
    for (const char* c : kCandidates) {
        V6Address a{};
        if (parse_ipv6(c, a) && !covered(a, ranges)) return c;
    }
    return kCandidates[0];
}

std::string unmentioned_address6(std::string_view text, const AuditResult& res, const SandboxSpec& spec) {
    V6Range inside{};
    if (!parse_ipv6(res.inside_net6.substr(0, res.inside_net6.find('/')), inside.lo)) return unmentioned_address6(text);
    for (size_t i = 0; i < 16; ++i) {
        const int bits = std::clamp(spec.inside_prefix_len6 - static_cast<int>(i) * 8, 0, 8);
        inside.hi[i] = static_cast<uint8_t>(inside.lo[i] | (0xFF >> bits));
    }
    inside.len = static_cast<uint8_t>(spec.inside_prefix_len6);
    return unmentioned_address6(text, std::span<const V6Range>(&inside, 1));
}

bool choose_client6(std::string_view text, const AuditOptions& opt, AuditResult& res, SandboxSpec& spec) {
    std::vector<V6Range> nets;
    for (const auto& n : opt.inside_nets) {
        if (n.find(':') == std::string::npos) continue;  // an IPv4 one: choose_client's
        const auto r = ipv6_ranges(n);
        if (r.size() != 1 || r[0].len < 8 || r[0].len > 126 || n.find('/') == std::string::npos) {
            res.replay.error = "--inside-net takes an IPv6 network A:B::/LEN (LEN 8 to 126), not '" + n + "'";
            res.interfaces_unsure = true;
            return false;
        }
        nets.push_back(r[0]);
    }
    res.inside_from6 = "--inside-net";
    if (nets.empty()) {
        nets = inside_networks6(text, res.inside);
        res.inside_from6 = "the ruleset's IPv6 source prefixes on " + res.inside + " and its masquerade rules";
    }
    if (nets.empty()) {
        V6Range d;
        (void)parse_ipv6("fd77:77:77:77::", d.lo);
        d.hi = d.lo;
        for (size_t i = 8; i < 16; ++i) d.hi[i] = 0xFF;
        d.len = 64;
        nets.push_back(d);
        res.inside_from6 = "the default: the ruleset names no IPv6 inside network; --inside-net sets one";
    }
    // The router at the network's first address, the client at the next
    // one no narrower prefix of the ruleset singles out.
    const V6Range net = nets.front();
    std::vector<V6Range> narrower;
    for (const auto& r : ipv6_ranges(text))
        if (r.len > net.len || r.len == 0) narrower.push_back(r);
    V6Address client = v6_plus(net.lo, 2);
    for (uint32_t k = 2; k < 1024; ++k) {
        const V6Address a = v6_plus(net.lo, k);
        if (net.hi < a) break;
        if (!covered(a, narrower)) {
            client = a;
            break;
        }
    }
    spec.router_inside6 = v6_text(v6_plus(net.lo, 1));
    spec.client_addr6 = v6_text(client);
    spec.inside_prefix_len6 = net.len;
    res.client6 = spec.client_addr6;
    res.inside_net6 = v6_text(net.lo) + "/" + std::to_string(net.len);
    return true;
}

bool choose_client(std::string_view text, const AuditOptions& opt, AuditResult& res, SandboxSpec& spec) {
    std::vector<V4Range> nets;
    for (const auto& n : opt.inside_nets) {
        if (n.find(':') != std::string::npos) continue;  // an IPv6 one: choose_client6's
        const size_t slash = n.find('/');
        uint32_t a = 0;
        const int len = slash == std::string::npos ? -1 : std::atoi(n.c_str() + slash + 1);
        if (!parse_ipv4(n.substr(0, slash), a) || len < 8 || len > 30) {
            res.replay.error = "--inside-net takes an IPv4 network A.B.C.D/LEN (LEN 8 to 30), not '" + n + "'";
            res.interfaces_unsure = true;
            return false;
        }
        const uint32_t mask = ~uint32_t{0} << (32 - len);
        nets.push_back({a & mask, (a & mask) | ~mask, static_cast<uint8_t>(len)});
    }
    res.inside_from = "--inside-net";
    if (nets.empty()) {
        nets = inside_networks(text, res.inside);
        res.inside_from = "the ruleset's source prefixes on " + res.inside + " and its masquerade rules";
    }
    if (nets.empty()) {
        nets.push_back({0xC0A84D00u, 0xC0A84DFFu, 24});  // 192.168.77.0/24
        res.inside_from = "the default: the ruleset names no inside network; --inside-net sets one";
    }
    // The router at the network's first address, the client at the next
    // one no narrower prefix of the ruleset singles out.
    const V4Range net = nets.front();
    const auto named = ipv4_ranges(text);
    std::vector<V4Range> narrower;
    for (const auto& r : named)
        if (r.len > net.len || r.len == 0) narrower.push_back(r);
    uint32_t client = net.lo + 2;
    for (uint32_t a = net.lo + 2; a < net.hi && a < net.lo + 1024; ++a) {
        if (!covered(a, narrower)) {
            client = a;
            break;
        }
    }
    spec.router_inside = v4_text(net.lo + 1);
    spec.client_addr = v4_text(client);
    spec.inside_prefix_len = net.len;
    res.client = spec.client_addr;
    res.inside_lo = net.lo;
    res.inside_net = v4_text(net.lo) + "/" + std::to_string(net.len);
    return true;
}

}  // namespace callwall::audit
