// `catalog export`: allow-lists for nftables (`nft -f`) and iptables-restore,
// and the dnsmasq lines that keep their address sets current.
//
// A packet filter matches addresses and ports, not names. Each rule accepts an
// entry's ports towards the addresses in its vendor's sets (callwall_<vendor>_v4
// and _v6, an nft set or an ipset); dnsmasq adds the addresses it resolves for
// the vendor's names (`nftset=`, `ipset=`). Entries whose destination is ANY
// have no names: they are left out unless asked for, because they open their
// ports towards every address. Names, conditions and sources are comments.
//
// The nft file is loaded into the table of the policy (nft cannot jump between
// tables) and can be loaded again: it declares its chains and port sets, flushes
// them, then fills them. It never flushes the vendor address sets (dnsmasq's
// work) nor anything else in the table.
#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "catalog/catalog.hpp"
#include "catalog/listing.hpp"
#include "catalog/export_parts.hpp"

namespace callwall::catalog {

namespace export_detail {

namespace {
constexpr size_t kMultiportMaxSlots = 15;  // xt_multiport: 15 ports, a range takes 2
}  // namespace

// Comment lines must stay single lines: control characters become spaces.
std::string clean(std::string_view s) {
    std::string out;
    for (char c : s) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
    return out;
}

std::vector<std::string> wrap(std::string_view text, size_t width) {
    std::vector<std::string> lines;
    std::string cur;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        size_t j = i;
        while (j < text.size() && text[j] != ' ') ++j;
        if (j == i) break;
        const std::string_view w = text.substr(i, j - i);
        if (!cur.empty() && cur.size() + 1 + w.size() > width) {
            lines.push_back(cur);
            cur.clear();
        }
        if (!cur.empty()) cur += ' ';
        cur += w;
        i = j;
    }
    if (!cur.empty()) lines.push_back(cur);
    return lines;
}

// "# key:  value" with continuation lines aligned under the value.
void comment(std::string& out, std::string_view indent, std::string_view key, std::string_view value) {
    const std::string label = key.empty() ? std::string() : std::string(key) + ":";
    const std::string lead = label + std::string(label.size() < 14 ? 14 - label.size() : 1, ' ');
    const auto lines = wrap(clean(value), kCommentWidth - lead.size());
    for (size_t i = 0; i < lines.size(); ++i) {
        out += std::string(indent) + "# " + (i == 0 ? lead : std::string(lead.size(), ' ')) + lines[i] + "\n";
    }
    if (lines.empty()) out += std::string(indent) + "# " + label + "\n";
}

// "vendor Whereby, product "Whereby (browser)", edition 2020 of 2020-05-01": product
// names often repeat the vendor's, so each part is labelled.
std::string title_of(std::string_view vendor, std::string_view product, std::string_view edition,
                     std::string_view date) {
    std::string s = "vendor " + std::string(vendor) + ", product \"" + std::string(product) + "\"";
    if (!edition.empty()) s += ", edition " + std::string(edition) + (date.empty() ? "" : " of " + std::string(date));
    return s;
}

std::string title_of(const Entry& e) { return title_of(e.vendor, e.product, e.edition, e.document_date); }

bool has_any_destination(const Entry& e) {
    return std::any_of(e.destinations.begin(), e.destinations.end(),
                       [](const Destination& d) { return d.kind == DestinationKind::Any; });
}

std::string describe_destination(const Destination& d) {
    switch (d.kind) {
        case DestinationKind::Wildcard:
            return d.pattern + "  (names below " + std::string(d.base()) + ", not " + std::string(d.base()) +
                   " itself)";
        case DestinationKind::Suffix: return d.pattern + "  (" + std::string(d.base()) + " and every name below it)";
        case DestinationKind::Exact: return d.pattern + "  (this name only)";
        case DestinationKind::Any: return "ANY address: this rule opens the ports towards every address";
    }
    return d.pattern;
}

std::string nft_name(std::string_view id) {
    std::string s;
    for (char c : id) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        s.push_back((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
    }
    return s;
}

// The address sets of an entry: "callwall_whereby" + "_v4" / "_v6". Third-party
// names (CDNs, analytics) get sets of their own, so that the vendor's media
// ports are not opened towards every address of a shared CDN.
//
// ipset names hold at most 31 characters (IPSET_MAXNAMELEN 32 with the NUL), so
// with "_v4" the base has 28. A longer base keeps its first 23 characters plus a
// 16-bit FNV-1a hash of the whole name, so that vendors sharing a long prefix
// stay apart. nft allows longer names; both use the same ones.
constexpr size_t kSetBaseMax = 28;

std::string short_set_name(const std::string& s);

std::string vendor_set(const Entry& e) {
    return short_set_name("callwall_" + nft_name(e.vendor) + (e.third_party ? "_third_party" : ""));
}

// A name of at most kSetBaseMax characters for `s` (an ipset's limit with
// "_v4"): longer ones keep a prefix and a 16-bit FNV-1a hash of the whole.
std::string short_set_name(const std::string& s) {
    if (s.size() <= kSetBaseMax) return s;
    uint32_t h = 2166136261u;
    for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string tail = "_";
    for (int shift = 12; shift >= 0; shift -= 4) tail += kHex[(h >> shift) & 0xf];
    return s.substr(0, kSetBaseMax - tail.size()) + tail;
}

// An entry's own address set (schema 2 `addresses`): "callwall_net_<id>"
// + "_v4"/"_v6"; filled by the export itself, not by dnsmasq.
std::string entry_net_set(const Entry& e) { return short_set_name("callwall_net_" + nft_name(e.id)); }

bool has_family(const Entry& e, AddressFamily f) {
    return std::any_of(e.addresses.begin(), e.addresses.end(), [f](const AddressRange& r) { return r.family == f; });
}

std::string address_list(const Entry& e) {
    std::string s;
    for (const AddressRange& r : e.addresses) s += (s.empty() ? "" : ", ") + r.text();
    return s;
}

// The comment block above an entry's rule(s).
void entry_comments(std::string& out, std::string_view indent, const Entry& e) {
    out += std::string(indent) + "# ---- " + e.id + "\n";
    comment(out, indent, "vendor", e.vendor);
    std::string product = e.product;
    if (!e.edition.empty())
        product += ", edition " + e.edition + (e.document_date.empty() ? "" : " of " + e.document_date);
    comment(out, indent, "product", product);
    comment(out, indent, "service", e.service);
    for (size_t i = 0; i < e.destinations.size(); ++i) {
        comment(out, indent, i == 0 ? "destinations" : "", describe_destination(e.destinations[i]));
    }
    if (has_any_destination(e)) {
        comment(out, indent, "", "(included because of --include-any)");
    } else if (e.has_names()) {
        comment(
            out, indent, "addresses",
            "the sets " + vendor_set(e) + "_v4 and " + vendor_set(e) + "_v6, filled with what these names resolve to");
    }
    if (!e.addresses.empty()) {
        comment(out, indent, e.has_names() ? "or ranges" : "ranges",
                address_list(e) + " (the vendor's published ranges, in the set(s) " + entry_net_set(e) +
                    "_v4/_v6 this file fills" + (e.has_names() ? "; either the names or the ranges will do" : "") +
                    ")");
    }
    if (!e.source_ports.empty()) {
        std::string p;
        for (const PortRange& r : e.source_ports) p += (p.empty() ? "" : ", ") + port_range_text(r);
        comment(out, indent, "source ports",
                "the vendor's clients send from " + p + "; the rule does not require it (NAT may change them)");
    }
    if (!e.tier.empty()) comment(out, indent, "tier", e.tier + " (the vendor's word)");
    if (e.any_fallback)
        comment(out, indent, "", "(the vendor says: if you cannot use these names, set the destination to ANY)");
    if (e.third_party) comment(out, indent, "", "(third-party services, not the vendor's own servers)");
    if (e.direction == Direction::Inbound) {
        comment(out, indent, "direction", "inbound: the vendor's servers send to these LOCAL ports on the client");
    } else if (e.direction == Direction::Both) {
        comment(out, indent, "direction", "both directions");
    }
    const Conditions& c = e.conditions;
    if (c.empty()) {
        comment(out, indent, "condition", "none: always needed by this product");
    }
    if (c.sdk_version) {
        std::string bounds;
        if (!c.sdk_version->min.empty()) bounds += ">= " + c.sdk_version->min;
        if (!c.sdk_version->below.empty()) bounds += (bounds.empty() ? "< " : ", < ") + c.sdk_version->below;
        comment(out, indent, "condition",
                "only for SDK version " + c.sdk_version->text + " (" + bounds +
                    "); leave this rule out if no client runs such a version");
    }
    if (!c.feature.empty()) {
        comment(out, indent, "condition", "only when the feature \"" + c.feature + "\" is used");
    }
    if (c.local_config) {
        std::string s = "ports depend on local configuration " + c.local_config->key;
        if (c.local_config->recommended) {
            s += "; the set holds the vendor's recommended default " + port_range_text(*c.local_config->recommended) +
                 ": replace it with your configured range";
        }
        comment(out, indent, "condition", s);
        if (!c.local_config->text.empty()) comment(out, indent, "", c.local_config->text);
    }
    comment(out, indent, "required", e.required ? "yes" : "no: optional (the vendor presents it as optional)");
    if (!e.assumed.empty()) {
        std::string a;
        for (size_t i = 0; i < e.assumed.size(); ++i) a += (i ? ", " : "") + e.assumed[i];
        comment(out, indent, "assumed", a + " (not stated by the source; see 'callwall catalog show " + e.id + "')");
    }
    comment(out, indent, "source",
            (e.source.file.empty() ? (e.source.url.empty() ? std::string("the document's page") : e.source.url)
                                   : e.source.file) +
                ", \"" + e.source.section + "\"");
}

Selected select(const Catalog& c, const ExportOptions& opt) {
    Selected s;
    for (const Entry& e : c.entries()) {
        if (!opt.selection.matches(e.vendor, e.product, e.edition)) continue;
        if (!opt.only_entries.empty() &&
            std::find(opt.only_entries.begin(), opt.only_entries.end(), e.id) == opt.only_entries.end())
            continue;
        if (opt.required_only && !e.required) {
            s.left_out.push_back({&e, "optional (--required-only)"});
        } else if (has_any_destination(e) && !opt.include_any) {
            s.left_out.push_back({&e,
                                  "destination ANY: it would open its ports towards every address "
                                  "(--include-any keeps it)"});
        } else if (const auto narrow = opt.only_ports.find(e.id); narrow != opt.only_ports.end()) {
            Entry& cut = s.narrowed.emplace_back(e);
            cut.ports = narrow->second;
            cut.port_set = PortSet(cut.ports);
            s.entries.push_back(&cut);
        } else {
            s.entries.push_back(&e);
        }
    }
    for (const Entry* e : s.entries) {
        if (!e->has_names()) continue;  // ANY, or ranges only: no names to resolve
        const std::string set = vendor_set(*e);
        auto v = std::find_if(s.vendors.begin(), s.vendors.end(), [&](const VendorNames& n) { return n.set == set; });
        if (v == s.vendors.end())
            v = s.vendors.insert(s.vendors.end(), VendorNames{e->vendor, set, e->third_party, {}});
        for (const Destination& d : e->destinations) {
            auto& ds = v->by_domain[std::string(d.base())];
            if (std::none_of(ds.begin(), ds.end(), [&](const Destination* x) { return x->pattern == d.pattern; }))
                ds.push_back(&d);
        }
    }
    // Named entries are exactly what is asked for: no products besides them.
    for (const Product& p : c.products()) {
        if (opt.only_entries.empty() && opt.selection.matches(p.vendor, p.product, p.edition)) s.products.push_back(&p);
    }
    return s;
}

void paragraphs(std::string& out, const std::vector<std::string>& text) {
    for (const std::string& para : text) {
        if (para.starts_with("  ")) {
            out += "#" + clean(para) + "\n";
        } else {
            for (const std::string& l : wrap(clean(para), kCommentWidth)) out += "# " + l + "\n";
        }
    }
}

std::string_view format_name(ExportFormat f) {
    switch (f) {
        case ExportFormat::Nft: return "nft";
        case ExportFormat::Iptables: return "iptables";
        case ExportFormat::DnsmasqNftset: return "dnsmasq-nftset";
        case ExportFormat::DnsmasqIpset: return "dnsmasq-ipset";
    }
    return "nft";
}

// The command line that reproduces this export in another format.
std::string command_for(const ExportOptions& opt, std::string_view format) {
    std::string s = "callwall catalog export --format " + std::string(format);
    const Selection& sel = opt.selection;
    if (!sel.vendor.empty()) s += " --vendor '" + clean(sel.vendor) + "'";
    if (!sel.product.empty()) s += " --product '" + clean(sel.product) + "'";
    if (!sel.edition.empty()) s += " --edition '" + clean(sel.edition) + "'";
    if (format.find("nft") != std::string_view::npos && opt.nft_table != "filter") s += " --nft-table " + opt.nft_table;
    if (opt.required_only) s += " --required-only";
    if (opt.include_any) s += " --include-any";
    for (const std::string& id : opt.only_entries) s += " --entry " + clean(id);
    return s;
}

void header(std::string& out, const Catalog& c, const ExportOptions& opt, const Selected& s) {
    if (opt.format == ExportFormat::Nft) out += "#!/usr/sbin/nft -f\n";
    if (opt.format == ExportFormat::Iptables) out += "#!/bin/sh\n";
    out += "# " + command_for(opt, format_name(opt.format)) + "\n";
    out += "# catalog sha256:" + c.digest() + "\n";
    const Selection& sel = opt.selection;
    out += "# selection: vendor=" + (sel.vendor.empty() ? std::string("all") : clean(sel.vendor)) +
           ", product=" + (sel.product.empty() ? std::string("all") : clean(sel.product)) +
           ", edition=" + (sel.edition.empty() ? std::string("all") : clean(sel.edition)) +
           (opt.only_entries.empty() ? std::string() : ", only the entries named by --entry") + "; " +
           std::to_string(s.entries.size()) + " entries";
    if (!s.left_out.empty()) out += ", " + std::to_string(s.left_out.size()) + " left out (listed below)";
    out += "\n#\n";
    const std::string t = opt.nft_table;
    switch (opt.format) {
        case ExportFormat::Nft:
            paragraphs(
                out,
                {
                    "Each rule accepts an entry's ports towards the addresses in its vendor's sets (callwall_<vendor>_v4, "
                    "callwall_<vendor>_v6). A packet filter cannot resolve names: the sets start empty and dnsmasq adds "
                    "each address it resolves for the vendor's names, given the lines of",
                    "  " + command_for(opt, "dnsmasq-nftset") + " >/etc/dnsmasq.d/callwall.conf",
                    "and the clients must use that dnsmasq as their resolver. Loading this file again keeps the addresses "
                    "already in the sets and replaces its chains and port sets; nothing else in the table is touched.",
                    "nft cannot jump between tables: this file adds to table inet " + t +
                        ", which must be the table of your policy (Debian's stock /etc/nftables.conf is table inet filter "
                        "with base chains input, forward and output; --nft-table NAME for another table). Load it, then "
                        "jump to its chains once from your base chains. On a router whose clients are behind lan0:",
                    "  nft -f FILE",
                    "  nft add rule inet " + t + " forward iifname \"lan0\" jump callwall_outbound",
                    "  nft add rule inet " + t + " forward oifname \"lan0\" jump callwall_inbound",
                    "For clients on this host:",
                    "  nft add rule inet " + t + " output jump callwall_outbound",
                    "  nft add rule inet " + t + " input jump callwall_inbound",
                    "Replies are expected to pass your 'ct state established,related accept' rule.",
                });
            break;
        case ExportFormat::Iptables: iptables_header(out, opt); break;
        case ExportFormat::DnsmasqNftset:
        case ExportFormat::DnsmasqIpset: {
            const bool ns = opt.format == ExportFormat::DnsmasqNftset;
            paragraphs(
                out,
                {
                    std::string("dnsmasq configuration: each address dnsmasq resolves for a vendor's names is added to "
                                "the vendor's ") +
                        (ns ? "nft sets in table inet " + t + " (dnsmasq 2.87 or later, built with nftset)"
                            : "ipsets (IPv4 addresses go to the _v4 set, IPv6 to the _v6 set)") +
                        ". The sets are those of",
                    "  " + command_for(opt, ns ? "nft" : "iptables"),
                    "which must be loaded first. Put this file in /etc/dnsmasq.d/ and make the clients resolve through "
                    "this dnsmasq: addresses they resolve elsewhere never reach the sets.",
                    "dnsmasq matches a domain and every name below it. Where the catalog names less (a wildcard "
                    "'*.x.com' does not include x.com itself; an exact name does not include the names below it), the "
                    "set also receives those addresses: each such line says so.",
                });
            break;
        }
    }
    if (std::any_of(s.entries.begin(), s.entries.end(), [](const Entry* e) { return !e->addresses.empty(); })) {
        paragraphs(out, {"Entries with address ranges the vendor publishes also accept towards their own interval sets "
                         "(in iptables ipsets hash:net), NAME_v4 and NAME_v6, where NAME is callwall_net_ and the "
                         "entry's id with every character other than a-z and 0-9 made _; a NAME longer than 28 "
                         "characters keeps its first 23 and _ with 4 hex digits of a hash. Each entry's comments "
                         "give its sets' names ('callwall catalog show ID' too). This file fills them, and loading it "
                         "again replaces their contents; dnsmasq does not touch them."});
    }
    if (!s.left_out.empty()) {
        out += "#\n# LEFT OUT: no rules for these entries of the selection.\n";
        for (const LeftOut& l : s.left_out) out += "#   " + l.entry->id + ": " + clean(l.reason) + "\n";
    }
    if (!s.products.empty()) {
        out +=
            "#\n# NOT ALLOW-LISTABLE: the vendor says these products cannot be allowed by ports and names; no rules\n"
            "# are emitted for them.\n";
        for (const Product* p : s.products) {
            out += "#   " + clean(title_of(p->vendor, p->product, p->edition, {})) + " [" + p->id + "]\n";
            for (const std::string& l : wrap(clean("vendor advice: " + p->advice), kCommentWidth - 6)) {
                out += "#     " + l + "\n";
            }
            if (!p->advice_link.empty()) out += "#     link: " + clean(p->advice_link) + "\n";
            const std::string from = !p->source.file.empty()  ? p->source.file
                                     : !p->source.url.empty() ? p->source.url
                                                              : c.documents()[p->document].url;
            out += "#     source: " + clean(from + ", \"" + p->source.section + "\"") + "\n";
        }
    }
    out += "\n";
}

bool in_chain(const Entry& e, bool inbound) {
    return e.direction == Direction::Both ||
           (inbound ? e.direction == Direction::Inbound : e.direction == Direction::Outbound);
}

std::string render_nft(const Catalog& c, const ExportOptions& opt) {
    const Selected s = select(c, opt);
    std::string out;
    header(out, c, opt, s);
    if (s.entries.empty()) {
        out += "# no catalog entries left in the selection: nothing to allow\n";
        return out;
    }
    std::set<std::string> used;
    std::vector<std::string> set_names, net_names;
    for (const Entry* e : s.entries) {
        const std::string base = "callwall_ports_" + nft_name(e->id);
        std::string name = base;
        for (int k = 2; used.count(name); ++k) name = base + "_" + std::to_string(k);
        used.insert(name);
        set_names.push_back(name);
        const std::string net_base = entry_net_set(*e);
        std::string net = net_base;
        for (int k = 2; used.count(net); ++k) net = net_base + "_" + std::to_string(k);
        used.insert(net);
        net_names.push_back(net);
    }
    const std::string t = opt.nft_table;
    out +=
        "# Declare what this file owns, then empty its chains and port sets: loading it again replaces them\n"
        "# instead of adding copies. The vendor address sets are declared, never flushed.\n";
    out += "table inet " + t + " {\n";
    for (const VendorNames& v : s.vendors) {
        out += "    # addresses of " + clean(v.vendor) + "'s " + (v.third_party ? "third-party " : "") +
               "names, added by dnsmasq (nftset=)\n";
        out += "    set " + v.set + "_v4 {\n        type ipv4_addr\n    }\n";
        out += "    set " + v.set + "_v6 {\n        type ipv6_addr\n    }\n";
    }
    for (const std::string& n : set_names)
        out += "    set " + n + " {\n        type inet_service\n        flags interval\n    }\n";
    // The entries' own address sets (published ranges): this file's, flushed and refilled.
    std::vector<std::string> net_sets;  // "name_v4" / "name_v6" with their type, declared once
    for (size_t i = 0; i < s.entries.size(); ++i) {
        const Entry& e = *s.entries[i];
        for (const AddressFamily f : {AddressFamily::V4, AddressFamily::V6}) {
            if (!has_family(e, f)) continue;
            const std::string n = net_names[i] + (f == AddressFamily::V4 ? "_v4" : "_v6");
            out += "    set " + n + " {\n        type " + (f == AddressFamily::V4 ? "ipv4_addr" : "ipv6_addr") +
                   "\n        flags interval\n    }\n";
            net_sets.push_back(n);
        }
    }
    out += "    chain callwall_outbound {\n    }\n    chain callwall_inbound {\n    }\n}\n";
    out += "flush chain inet " + t + " callwall_outbound\n";
    out += "flush chain inet " + t + " callwall_inbound\n";
    for (const std::string& n : set_names) out += "flush set inet " + t + " " + n + "\n";
    for (const std::string& n : net_sets) out += "flush set inet " + t + " " + n + "\n";
    out += "\ntable inet " + t + " {\n";
    for (size_t i = 0; i < s.entries.size(); ++i) {
        const Entry& e = *s.entries[i];
        out += "    # " + e.id + ": " + std::string(to_string(e.transport)) + " ports; " + clean(title_of(e)) + "\n";
        out +=
            "    set " + set_names[i] + " {\n        type inet_service\n        flags interval\n        elements = { ";
        const auto iv = e.port_set.intervals();
        for (size_t k = 0; k < iv.size(); ++k) out += (k ? ", " : "") + port_range_text(iv[k]);
        out += " }\n    }\n\n";
        for (const AddressFamily f : {AddressFamily::V4, AddressFamily::V6}) {
            if (!has_family(e, f)) continue;
            out += "    # " + e.id + ": the vendor's published " + (f == AddressFamily::V4 ? "IPv4" : "IPv6") +
                   " ranges\n";
            out += "    set " + net_names[i] + (f == AddressFamily::V4 ? "_v4" : "_v6") + " {\n        type " +
                   (f == AddressFamily::V4 ? "ipv4_addr" : "ipv6_addr") +
                   "\n        flags interval\n        elements = { ";
            bool first = true;
            for (const AddressRange& r : e.addresses) {
                if (r.family != f) continue;
                out += (first ? "" : ", ") + r.text();
                first = false;
            }
            out += " }\n    }\n\n";
        }
    }
    for (const bool inbound : {false, true}) {
        out += std::string("    chain ") + (inbound ? "callwall_inbound" : "callwall_outbound") + " {\n";
        bool any = false;
        for (size_t i = 0; i < s.entries.size(); ++i) {
            const Entry& e = *s.entries[i];
            if (!in_chain(e, inbound)) continue;
            if (any) out += "\n";
            any = true;
            entry_comments(out, "        ", e);
            const std::string match = "        " + std::string(to_string(e.transport)) + " dport @" + set_names[i];
            const std::string verdict = " accept comment \"" + e.id + "\"\n";
            // Inbound: the vendor's servers are the senders.
            const std::string dir = inbound ? " saddr @" : " daddr @";
            if (has_any_destination(e)) {
                out += match + verdict;
            } else if (e.has_names()) {
                out += match + " ip" + dir + vendor_set(e) + "_v4" + verdict;
                out += match + " ip6" + dir + vendor_set(e) + "_v6" + verdict;
            }
            if (has_family(e, AddressFamily::V4)) out += match + " ip" + dir + net_names[i] + "_v4" + verdict;
            if (has_family(e, AddressFamily::V6)) out += match + " ip6" + dir + net_names[i] + "_v6" + verdict;
        }
        if (!any) out += "        # no entries in this direction\n";
        out += "    }\n";
        if (!inbound) out += "\n";
    }
    out += "}\n";
    return out;
}

// nftset=/ipset= lines: one per domain, with what dnsmasq matches beyond the catalog.
std::string render_dnsmasq(const Catalog& c, const ExportOptions& opt) {
    const Selected s = select(c, opt);
    std::string out;
    header(out, c, opt, s);
    if (s.vendors.empty()) {
        out += "# no named destinations left in the selection: nothing to resolve\n";
        return out;
    }
    const bool ns = opt.format == ExportFormat::DnsmasqNftset;
    for (const Entry* e : s.entries) {
        if (e->addresses.empty()) continue;
        out += "# " + e->id + ": published ranges " + clean(address_list(*e)) + " are in the " +
               (ns ? "nft" : "iptables") + " file's own set " + entry_net_set(*e) + "_v4/_v6, not filled by dnsmasq\n";
    }
    for (const VendorNames& v : s.vendors) {
        const std::string& n = v.set;
        out += "# " + clean(v.vendor) + (v.third_party ? " (third-party names)" : "") + ": sets " + n + "_v4, " + n +
               "_v6\n";
        for (const auto& [domain, dests] : v.by_domain) {
            bool suffix = false, wildcard = false, exact = false;
            std::string from;
            for (const Destination* d : dests) {
                from += (from.empty() ? "" : ", ") + d->pattern;
                suffix |= d->kind == DestinationKind::Suffix;
                wildcard |= d->kind == DestinationKind::Wildcard;
                exact |= d->kind == DestinationKind::Exact;
            }
            // "*.x.com" together with "x.com" is ".x.com": what dnsmasq matches.
            if (suffix || (wildcard && exact)) {
                out += "# " + from + "\n";
            } else if (wildcard) {
                out += "# " + from + " (broader: also " + domain + " itself)\n";
            } else {
                out += "# " + from + " (broader: also every name below " + domain + ")\n";
            }
            if (ns) {
                out += "nftset=/" + domain + "/4#inet#" + opt.nft_table + "#" + n + "_v4,6#inet#" + opt.nft_table +
                       "#" + n + "_v6\n";
            } else {
                out += "ipset=/" + domain + "/" + n + "_v4," + n + "_v6\n";
            }
        }
    }
    return out;
}

}  // namespace export_detail

using namespace export_detail;

std::string address_set_name(const Entry& e) { return vendor_set(e); }

std::string range_set_name(const Entry& e) { return entry_net_set(e); }

std::vector<std::string> multiport_lists(std::span<const PortRange> ranges) {
    std::vector<std::string> out;
    std::string cur;
    size_t slots = 0;
    for (const PortRange& r : ranges) {
        const size_t need = r.lo == r.hi ? 1 : 2;
        if (slots + need > kMultiportMaxSlots) {
            out.push_back(std::move(cur));
            cur.clear();
            slots = 0;
        }
        cur += (cur.empty() ? "" : ",") + port_range_text(r, ':');
        slots += need;
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

std::string render_export(const Catalog& c, const ExportOptions& opt) {
    switch (opt.format) {
        case ExportFormat::Nft: return render_nft(c, opt);
        case ExportFormat::Iptables: return render_iptables(c, opt);
        case ExportFormat::DnsmasqNftset:
        case ExportFormat::DnsmasqIpset: return render_dnsmasq(c, opt);
    }
    return render_nft(c, opt);
}

}  // namespace callwall::catalog
