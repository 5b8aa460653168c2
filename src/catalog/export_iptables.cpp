// `catalog export --format iptables`: a POSIX shell script that loads the
// allow-list in one step, `sh FILE` as root:
//
//   1. `ipset -exist restore` of the sets the rules match: per vendor a
//      list:set of a hash:ip for IPv4 and one for IPv6 (filled by dnsmasq,
//      created here, never flushed), and per entry with published ranges a
//      list:set of two hash:net (flushed and filled here);
//   2. the rules, as iptables-restore input, given to
//      `iptables-restore --noflush` and `ip6tables-restore --noflush`: the
//      chains CALLWALL-OUTBOUND and CALLWALL-INBOUND are declared, which
//      empties them, and filled; the admin's own rules are not touched.
//
// Both parts are here-documents with quoted delimiters (no expansion), so the
// rules stay plain iptables-restore text an admin can take out for
// netfilter-persistent (/etc/iptables/ipsets, rules.v4, rules.v6). Running
// the script again leaves the same sets and rules: create -exist, the range
// sets flushed before they are filled, the chains emptied by their
// declaration. A list:set holds both families, so one rule text serves
// iptables and ip6tables.
#include <algorithm>

#include "catalog/catalog.hpp"
#include "catalog/export_parts.hpp"

namespace callwall::catalog::export_detail {

namespace {

constexpr std::string_view kIpsetEnd = "CALLWALL_IPSETS";
constexpr std::string_view kRulesEnd = "CALLWALL_RULES";

// `ipset restore` lines: a list:set NAME of NAME_v4 and NAME_v6 of `type`.
void ipset_pair(std::string& out, const std::string& n, std::string_view type) {
    out += "create " + n + "_v4 " + std::string(type) + " family inet\n";
    out += "create " + n + "_v6 " + std::string(type) + " family inet6\n";
    out += "create " + n + " list:set\n";
    out += "add " + n + " " + n + "_v4\n";
    out += "add " + n + " " + n + "_v6\n";
}

// The `ipset restore` input: the vendors' name sets (created, never
// flushed: dnsmasq's additions survive a reload), then each entry's range
// sets (emptied and filled again).
std::string ipset_restore_text(const Selected& s) {
    std::string out;
    for (const VendorNames& v : s.vendors) {
        out += "# " + clean(v.vendor) + (v.third_party ? " (third-party names)" : "") +
               ": filled by dnsmasq from the names\n";
        ipset_pair(out, v.set, "hash:ip");
    }
    std::vector<std::string> done;  // an entry's sets once, though it may appear in both chains
    for (const Entry* e : s.entries) {
        if (e->addresses.empty()) continue;
        const std::string n = entry_net_set(*e);
        if (std::find(done.begin(), done.end(), n) != done.end()) continue;
        done.push_back(n);
        out += "# " + e->id + ": the vendor's published ranges\n";
        ipset_pair(out, n, "hash:net");
        out += "flush " + n + "_v4\nflush " + n + "_v6\n";
        for (const AddressRange& r : e->addresses)
            for (const std::string& cidr : cidrs_of(r))
                out += "add " + n + (r.family == AddressFamily::V4 ? "_v4 " : "_v6 ") + cidr + "\n";
    }
    return out;
}

// The iptables-restore input: the two chains, declared (so emptied) and filled.
std::string rules_text(const Selected& s) {
    std::string out = "*filter\n";
    out += ":" + std::string(kIptOut) + " - [0:0]\n";
    out += ":" + std::string(kIptIn) + " - [0:0]\n";
    for (const bool inbound : {false, true}) {
        const std::string_view chain = inbound ? kIptIn : kIptOut;
        for (const Entry* ep : s.entries) {
            const Entry& e = *ep;
            if (!in_chain(e, inbound)) continue;
            out += "\n";
            entry_comments(out, "", e);
            std::vector<std::string> addrs;
            if (has_any_destination(e)) addrs.emplace_back();
            if (e.has_names()) addrs.push_back(" -m set --match-set " + vendor_set(e) + (inbound ? " src" : " dst"));
            if (!e.addresses.empty())
                addrs.push_back(" -m set --match-set " + entry_net_set(e) + (inbound ? " src" : " dst"));
            for (const std::string& addr : addrs)
                for (const std::string& ports : multiport_lists(e.port_set.intervals()))
                    out += "-A " + std::string(chain) + " -p " + std::string(to_string(e.transport)) +
                           " -m multiport --dports " + ports + addr + " -m comment --comment \"" + e.id +
                           "\" -j ACCEPT\n";
        }
    }
    return out + "COMMIT\n";
}

}  // namespace

void iptables_header(std::string& out, const ExportOptions& opt) {
    paragraphs(
        out,
        {
            "A shell script: run it as root, in one step, to create the ipsets and load the rules for IPv4 and "
            "IPv6 without flushing your own rules:",
            "  sh FILE",
            "It runs 'ipset -exist restore' on its first part (the sets) and then 'iptables-restore --noflush' and "
            "'ip6tables-restore --noflush' on its second part (the chains " +
                std::string(kIptOut) + " and " + std::string(kIptIn) +
                ", emptied and filled again). Running it again leaves the same sets and rules.",
            "Each rule accepts an entry's ports towards the addresses in its vendor's ipset (callwall_<vendor>, a "
            "list:set of callwall_<vendor>_v4 and callwall_<vendor>_v6, so one rule serves iptables and ip6tables). "
            "A packet filter cannot resolve names: the vendor sets start empty and dnsmasq adds each address it "
            "resolves for the vendor's names, given the lines of",
            "  " + command_for(opt, "dnsmasq-ipset") + " >/etc/dnsmasq.d/callwall.conf",
            "and the clients must use that dnsmasq as their resolver; running the script again keeps what dnsmasq "
            "added. Then send the clients' traffic through the chains, e.g.",
            "  iptables -A FORWARD -i lan0 -j " + std::string(kIptOut) + "; iptables -A FORWARD -o lan0 -j " +
                std::string(kIptIn),
            "(ip6tables likewise). Replies are expected to pass your '-m conntrack --ctstate ESTABLISHED,RELATED -j "
            "ACCEPT' rule. Needs ipset, iptables (iptables-restore) and ip6tables; for netfilter-persistent, the "
            "two parts are the contents of /etc/iptables/ipsets and of rules.v4 and rules.v6.",
        });
}

std::string render_iptables(const Catalog& c, const ExportOptions& opt) {
    const Selected s = select(c, opt);
    std::string out;
    header(out, c, opt, s);
    if (s.entries.empty()) {
        out += "# no catalog entries left in the selection: nothing to allow\n";
        return out;
    }
    out += "set -e\n";
    out += "for tool in ipset iptables-restore ip6tables-restore; do\n";
    out += "    command -v \"$tool\" >/dev/null || { echo \"$0: $tool is not installed\" >&2; exit 1; }\n";
    out += "done\n\n";
    out += "# 1. The sets ('ipset -exist restore' input: creating one again is harmless).\n";
    out += "ipset -exist restore <<'" + std::string(kIpsetEnd) + "'\n";
    out += ipset_restore_text(s);
    out += std::string(kIpsetEnd) + "\n\n";
    out += "# 2. The rules (iptables-restore input), for IPv4 and IPv6.\n";
    out += "callwall_rules() {\n";
    out += "    cat <<'" + std::string(kRulesEnd) + "'\n";
    out += rules_text(s);
    out += std::string(kRulesEnd) + "\n}\n";
    out += "callwall_rules | iptables-restore --noflush\n";
    out += "callwall_rules | ip6tables-restore --noflush\n";
    return out;
}

}  // namespace callwall::catalog::export_detail
