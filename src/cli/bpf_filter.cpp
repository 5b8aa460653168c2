#include "cli/bpf_filter.hpp"

#include <algorithm>
#include <cctype>

namespace callwall::cli {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<catalog::PortRange> merged(std::vector<catalog::PortRange> v) {
    std::sort(v.begin(), v.end(), [](auto a, auto b) { return a.lo < b.lo || (a.lo == b.lo && a.hi < b.hi); });
    std::vector<catalog::PortRange> out;
    for (const auto& r : v) {
        if (!out.empty() && r.lo <= static_cast<uint32_t>(out.back().hi) + 1) out.back().hi = std::max(out.back().hi, r.hi);
        else out.push_back(r);
    }
    return out;
}

std::string ports_expr(const char* proto, const std::vector<catalog::PortRange>& ranges) {
    std::string o;
    for (const auto& r : ranges) {
        if (!o.empty()) o += " or ";
        o += r.lo == r.hi ? std::string(proto) + " port " + std::to_string(r.lo)
                          : std::string(proto) + " portrange " + std::to_string(r.lo) + "-" + std::to_string(r.hi);
    }
    return o;
}

}  // namespace

std::string catalog_bpf_filter(const catalog::Catalog& c, const std::vector<std::string>& vendors) {
    std::vector<std::string> wanted;
    for (const auto& v : vendors) wanted.push_back(lower(v));
    std::vector<catalog::PortRange> tcp, udp;
    for (const auto& e : c.entries()) {
        if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), lower(e.vendor)) == wanted.end()) continue;
        auto& dst = e.transport == catalog::Transport::Tcp ? tcp : udp;
        dst.insert(dst.end(), e.ports.begin(), e.ports.end());
    }
    std::string inner = "port 53 or icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed or icmp6";
    const std::string t = ports_expr("tcp", merged(tcp));
    const std::string u = ports_expr("udp", merged(udp));
    if (!t.empty()) inner += " or " + t;
    if (!u.empty()) inner += " or " + u;
    const std::string tunnels = "proto gre or udp port 4789";
    return "(" + inner + " or " + tunnels + ") or (vlan and (" + inner + " or " + tunnels + "))";
}

}  // namespace callwall::cli
