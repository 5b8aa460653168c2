// The default live capture filter. See catalog/bpf_filter.hpp.
#include "catalog/bpf_filter.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace callwall::catalog {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<PortRange> merged(std::vector<PortRange> v) {
    std::sort(v.begin(), v.end(), [](auto a, auto b) { return a.lo < b.lo || (a.lo == b.lo && a.hi < b.hi); });
    std::vector<PortRange> out;
    for (const auto& r : v) {
        if (!out.empty() && r.lo <= static_cast<uint32_t>(out.back().hi) + 1)
            out.back().hi = std::max(out.back().hi, r.hi);
        else
            out.push_back(r);
    }
    return out;
}

std::string ports_expr(const char* proto, const std::vector<PortRange>& ranges) {
    std::string o;
    for (const auto& r : ranges) {
        if (!o.empty()) o += " or ";
        o += r.lo == r.hi ? std::string(proto) + " port " + std::to_string(r.lo)
                          : std::string(proto) + " portrange " + std::to_string(r.lo) + "-" + std::to_string(r.hi);
    }
    return o;
}

// An address literal as the filter may quote it: digits and dots (IPv4) or
// hex digits and colons with at least one colon (IPv6). The filter text is
// compiled by libpcap, so nothing else may reach it.
bool is_ipv4(const std::string& a) {
    int dots = 0;
    for (char c : a) {
        if (c == '.')
            ++dots;
        else if (c < '0' || c > '9')
            return false;
    }
    return dots == 3 && a.size() >= 7 && a.size() <= 15;
}
bool is_ipv6(const std::string& a) {
    if (a.find(':') == std::string::npos || a.size() > 45) return false;
    return std::all_of(a.begin(), a.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; });
}

}  // namespace

LiveFilter live_filter(const Catalog& c, const std::vector<std::string>& vendors,
                       const std::vector<std::string>& vendor_addresses) {
    std::vector<std::string> wanted;
    for (const auto& v : vendors) wanted.push_back(lower(v));
    std::vector<PortRange> tcp, udp;
    for (const auto& e : c.entries()) {
        if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), lower(e.vendor)) == wanted.end()) continue;
        auto& dst = e.transport == Transport::Tcp ? tcp : udp;
        dst.insert(dst.end(), e.ports.begin(), e.ports.end());
    }
    LiveFilter f;
    std::string inner = "port 53 or icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed or icmp6";
    const std::string t = ports_expr("tcp", merged(tcp));
    const std::string u = ports_expr("udp", merged(udp));
    if (!t.empty()) inner += " or " + t;
    if (!u.empty()) inner += " or " + u;
    // Mirror and mobile tunnels: GRE (ERSPAN, PPTP), VXLAN, Geneve, GTP-U.
    inner += " or proto gre or udp port 4789 or udp port 6081 or udp port 2152";
    std::set<std::string> seen;
    for (const auto& a : vendor_addresses) {
        const bool v4 = is_ipv4(a);
        if ((!v4 && !is_ipv6(a)) || !seen.insert(a).second) continue;
        if (f.addresses == kMaxFilterAddresses) {
            ++f.addresses_left_out;
            continue;
        }
        inner += (v4 ? " or ip host " : " or ip6 host ") + a;
        ++f.addresses;
    }
    // Cisco MetaData (TrustSec SGT inline tagging, ethertype 0x8909), MPLS
    // label stacks (0x8847, 0x8848) and PPPoE sessions (0x8864) hide the IP
    // header from libpcap's offsets: such frames pass whole, bare or under a
    // VLAN tag (the decoder reads through the header).
    const std::string whole = "ether proto 0x8909 or ether proto 0x8847 or ether proto 0x8848 or ether proto 0x8864";
    f.expression = "(" + inner + ") or " + whole + " or (vlan and ((" + inner + ") or " + whole + " or (vlan and (" +
                   inner + "))))";
    return f;
}

}  // namespace callwall::catalog
