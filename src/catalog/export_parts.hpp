// `catalog export`'s parts shared between its files (export.cpp: selection,
// header, comments, nft and dnsmasq; export_iptables.cpp: the iptables
// script) and the address code. Private to src/catalog.
#pragma once
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::catalog::export_detail {

inline constexpr size_t kCommentWidth = 96;  // wrap of '#' comment lines
inline constexpr std::string_view kIptOut = "CALLWALL-OUTBOUND";
inline constexpr std::string_view kIptIn = "CALLWALL-INBOUND";

/// The CIDR prefixes that make up an address item, fewest, in order: a
/// prefix is itself, a start-end range is split (an ipset hash:net holds
/// prefixes only).
[[nodiscard]] std::vector<std::string> cidrs_of(const AddressRange& r);

/// An entry of the selection that gets no rules, and why.
struct LeftOut {
    const Entry* entry;
    std::string reason;
};

/// The names a vendor's sets are filled from, by dnsmasq domain (the base).
struct VendorNames {
    std::string vendor;
    std::string set;  ///< without "_v4" / "_v6"
    bool third_party = false;
    std::map<std::string, std::vector<const Destination*>> by_domain;
};

/// What an export holds.
struct Selected {
    std::vector<const Entry*> entries;
    std::deque<Entry> narrowed;  ///< entries cut to ExportOptions::only_ports, pointed to by `entries`
    std::vector<const Product*> products;
    std::vector<LeftOut> left_out;
    std::vector<VendorNames> vendors;  ///< address sets of the named entries, catalog order
};

[[nodiscard]] Selected select(const Catalog& c, const ExportOptions& opt);
/// Comment lines stay single lines: control characters become spaces.
[[nodiscard]] std::string clean(std::string_view s);
/// '#' comment paragraphs; one starting with two blanks is a command, kept whole.
void paragraphs(std::string& out, const std::vector<std::string>& text);
/// The comment block above an entry's rule(s).
void entry_comments(std::string& out, std::string_view indent, const Entry& e);
/// The file's header: the command, selection, how to load it, what was left out.
void header(std::string& out, const Catalog& c, const ExportOptions& opt, const Selected& s);
/// The iptables script's part of the header (how to load it).
void iptables_header(std::string& out, const ExportOptions& opt);
/// The command line that reproduces this export in another format.
[[nodiscard]] std::string command_for(const ExportOptions& opt, std::string_view format);
[[nodiscard]] std::string vendor_set(const Entry& e);
[[nodiscard]] std::string entry_net_set(const Entry& e);
[[nodiscard]] bool has_any_destination(const Entry& e);
/// Whether an entry's rules go to the inbound (or outbound) chain.
[[nodiscard]] bool in_chain(const Entry& e, bool inbound);
[[nodiscard]] std::string render_iptables(const Catalog& c, const ExportOptions& opt);

}  // namespace callwall::catalog::export_detail
