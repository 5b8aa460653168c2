// `catalog export`: allow-lists for nftables (`nft -f`) and iptables-restore.
//
// A packet filter matches addresses and ports, not names, so the rules cover
// transport and ports only; each rule carries the vendor's destination names,
// conditions and source as comments for the firewall team.
#include <set>

#include "callwall/catalog/catalog.hpp"

namespace callwall::catalog {

namespace {

constexpr size_t kCommentWidth = 96;       // wrap of '#' comment lines
constexpr size_t kMultiportMaxSlots = 15;  // xt_multiport: 15 ports, a range takes 2
constexpr std::string_view kIptOut = "CALLWALL-OUTBOUND";
constexpr std::string_view kIptIn = "CALLWALL-INBOUND";

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

std::string range_text(const PortRange& r, char sep) {
    return r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + sep + std::to_string(r.hi);
}

std::string title_of(const Entry& e) {
    std::string s = e.vendor + " " + e.product;
    if (!e.edition.empty())
        s += " (edition " + e.edition + (e.document_date.empty() ? "" : ", " + e.document_date) + ")";
    return s;
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

// The comment block above an entry's rule(s).
void entry_comments(std::string& out, std::string_view indent, const Entry& e) {
    out += std::string(indent) + "# ---- " + e.id + ": " + clean(title_of(e)) + "\n";
    comment(out, indent, "service", e.service);
    for (size_t i = 0; i < e.destinations.size(); ++i) {
        comment(out, indent, i == 0 ? "destinations" : "", describe_destination(e.destinations[i]));
    }
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
            s += "; the set holds the vendor's recommended default " + range_text(*c.local_config->recommended, '-') +
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
    comment(out, indent, "source", e.source.file + ", \"" + e.source.section + "\"");
}

struct Selected {
    std::vector<const Entry*> entries;
    std::vector<const Product*> products;
};

Selected select(const Catalog& c, const Selection& sel) {
    Selected s;
    for (const Entry& e : c.entries()) {
        if (sel.matches(e.vendor, e.product, e.edition)) s.entries.push_back(&e);
    }
    for (const Product& p : c.products()) {
        if (sel.matches(p.vendor, p.product, p.edition)) s.products.push_back(&p);
    }
    return s;
}

void header(std::string& out, const Catalog& c, const ExportOptions& opt, const Selected& s, bool nft) {
    if (nft) out += "#!/usr/sbin/nft -f\n";
    out += std::string("# callwall catalog export --format ") + (nft ? "nft" : "iptables") + "\n";
    out += "# catalog sha256:" + c.digest() + "\n";
    const Selection& sel = opt.selection;
    out += "# selection: vendor=" + (sel.vendor.empty() ? std::string("all") : clean(sel.vendor)) +
           ", product=" + (sel.product.empty() ? std::string("all") : clean(sel.product)) +
           ", edition=" + (sel.edition.empty() ? std::string("all") : clean(sel.edition)) + "; " +
           std::to_string(s.entries.size()) + " entries\n";
    out += "#\n";
    std::vector<std::string> text;
    if (nft) {
        text = {
            "A packet filter cannot match host names: these rules allow transport and ports only, and the vendor's "
            "destination names are given as comments. Narrow each rule to the addresses those names resolve to "
            "(e.g. add 'ip daddr @vendor_addrs' kept current by a DNS-aware tool) or accept the ports towards any "
            "address.",
            "The chains are regular chains. nft cannot jump between tables, so load this file into the table that "
            "holds your policy ('callwall catalog export --nft-table NAME' writes 'table inet NAME'; loading it adds "
            "to an existing table) and jump from your base chain (here called forward), e.g.",
            "  nft add rule inet " + opt.nft_table + " forward iifname \"lan0\" jump callwall_outbound",
            "  nft add rule inet " + opt.nft_table + " forward oifname \"lan0\" jump callwall_inbound",
            "Replies are expected to pass your 'ct state established,related accept' rule.",
        };
    } else {
        text = {
            "A packet filter cannot match host names: these rules allow transport and ports only, and the vendor's "
            "destination names are given as comments. Narrow each rule with -d (or an ipset kept current by a "
            "DNS-aware tool) or accept the ports towards any address.",
            "Load without flushing your rules, for IPv4 and IPv6:",
            "  iptables-restore --noflush FILE && ip6tables-restore --noflush FILE",
            "then send the clients' traffic through the chains, e.g.",
            "  iptables -A FORWARD -i lan0 -j " + std::string(kIptOut) + "; iptables -A FORWARD -o lan0 -j " +
                std::string(kIptIn),
            "Replies are expected to pass your '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT' rule.",
        };
    }
    for (const std::string& para : text) {
        if (para.starts_with("  ")) {
            out += "#" + clean(para) + "\n";
        } else {
            for (const std::string& l : wrap(clean(para), kCommentWidth)) out += "# " + l + "\n";
        }
    }
    if (!s.products.empty()) {
        out +=
            "#\n# NOT ALLOW-LISTABLE: the vendor says these products cannot be allowed by ports and names; no rules\n"
            "# are emitted for them.\n";
        for (const Product* p : s.products) {
            std::string t = p->vendor + " " + p->product;
            if (!p->edition.empty()) t += " (edition " + p->edition + ")";
            out += "#   " + clean(t) + " [" + p->id + "]\n";
            for (const std::string& l : wrap(clean("vendor advice: " + p->advice), kCommentWidth - 6)) {
                out += "#     " + l + "\n";
            }
            if (!p->advice_link.empty()) out += "#     link: " + clean(p->advice_link) + "\n";
            out += "#     source: " + clean(p->source.file + ", \"" + p->source.section + "\"") + "\n";
        }
    }
    out += "\n";
}

std::string nft_name(std::string_view id) {
    std::string s;
    for (char c : id) s.push_back((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
    return s;
}

std::string render_nft(const Catalog& c, const ExportOptions& opt) {
    const Selected s = select(c, opt.selection);
    std::string out;
    header(out, c, opt, s, true);
    if (s.entries.empty()) {
        out += "# no catalog entries match the selection: nothing to allow\n";
        return out;
    }
    std::set<std::string> used;
    std::vector<std::string> set_names;
    for (const Entry* e : s.entries) {
        std::string name = "ports_" + nft_name(e->id);
        for (int k = 2; used.count(name); ++k) name = "ports_" + nft_name(e->id) + "_" + std::to_string(k);
        used.insert(name);
        set_names.push_back(name);
    }
    out += "table inet " + opt.nft_table + " {\n";
    for (size_t i = 0; i < s.entries.size(); ++i) {
        const Entry& e = *s.entries[i];
        out += "    # " + e.id + ": " + std::string(to_string(e.transport)) + " ports of " + clean(title_of(e)) + "\n";
        out +=
            "    set " + set_names[i] + " {\n        type inet_service\n        flags interval\n        elements = { ";
        const auto iv = e.port_set.intervals();
        for (size_t k = 0; k < iv.size(); ++k) out += (k ? ", " : "") + range_text(iv[k], '-');
        out += " }\n    }\n\n";
    }
    for (const bool inbound : {false, true}) {
        out += std::string("    chain ") + (inbound ? "callwall_inbound" : "callwall_outbound") + " {\n";
        bool any = false;
        for (size_t i = 0; i < s.entries.size(); ++i) {
            const Entry& e = *s.entries[i];
            const bool wanted = e.direction == Direction::Both ||
                                (inbound ? e.direction == Direction::Inbound : e.direction == Direction::Outbound);
            if (!wanted) continue;
            if (any) out += "\n";
            any = true;
            entry_comments(out, "        ", e);
            out += "        " + std::string(to_string(e.transport)) + " dport @" + set_names[i] + " accept comment \"" +
                   e.id + "\"\n";
        }
        if (!any) out += "        # no entries in this direction\n";
        out += "    }\n";
        if (!inbound) out += "\n";
    }
    out += "}\n";
    return out;
}

std::string render_iptables(const Catalog& c, const ExportOptions& opt) {
    const Selected s = select(c, opt.selection);
    std::string out;
    header(out, c, opt, s, false);
    if (s.entries.empty()) {
        out += "# no catalog entries match the selection: nothing to allow\n";
        return out;
    }
    out += "*filter\n";
    out += ":" + std::string(kIptOut) + " - [0:0]\n";
    out += ":" + std::string(kIptIn) + " - [0:0]\n";
    for (const bool inbound : {false, true}) {
        const std::string_view chain = inbound ? kIptIn : kIptOut;
        for (const Entry* ep : s.entries) {
            const Entry& e = *ep;
            const bool wanted = e.direction == Direction::Both ||
                                (inbound ? e.direction == Direction::Inbound : e.direction == Direction::Outbound);
            if (!wanted) continue;
            out += "\n";
            entry_comments(out, "", e);
            // multiport takes at most 15 slots; a range takes two.
            std::vector<std::string> chunk;
            size_t slots = 0;
            auto flush = [&] {
                if (chunk.empty()) return;
                std::string ports;
                for (size_t k = 0; k < chunk.size(); ++k) ports += (k ? "," : "") + chunk[k];
                out += "-A " + std::string(chain) + " -p " + std::string(to_string(e.transport)) +
                       " -m multiport --dports " + ports + " -m comment --comment \"" + e.id + "\" -j ACCEPT\n";
                chunk.clear();
                slots = 0;
            };
            for (const PortRange& r : e.port_set.intervals()) {
                const size_t need = r.lo == r.hi ? 1 : 2;
                if (slots + need > kMultiportMaxSlots) flush();
                chunk.push_back(range_text(r, ':'));
                slots += need;
            }
            flush();
        }
    }
    out += "COMMIT\n";
    return out;
}

}  // namespace

std::string render_export(const Catalog& c, const ExportOptions& opt) {
    return opt.format == ExportFormat::Nft ? render_nft(c, opt) : render_iptables(c, opt);
}

}  // namespace callwall::catalog
