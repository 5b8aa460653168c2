// `catalog import`: a vendor's machine-readable list to a schema-2 catalog
// file. See src/catalog/import.hpp.
#include "catalog/import.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

namespace callwall::catalog {

namespace {

using nlohmann::json;

// A TOML basic string.
std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string toml_strings(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_string(v[i]);
    return s + "]";
}

std::string toml_ports(const std::vector<PortRange>& ports) {
    std::string s = "[";
    for (size_t i = 0; i < ports.size(); ++i) {
        s += i ? ", " : "";
        s += ports[i].lo == ports[i].hi ? std::to_string(ports[i].lo)
                                        : "[" + std::to_string(ports[i].lo) + ", " + std::to_string(ports[i].hi) + "]";
    }
    return s + "]";
}

// "80,443,3478-3481" -> ranges; false on anything else.
bool parse_port_list(std::string_view text, std::vector<PortRange>& out) {
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find(',', i);
        if (j == std::string_view::npos) j = text.size();
        std::string_view item = text.substr(i, j - i);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        const size_t dash = item.find('-');
        unsigned lo = 0, hi = 0;
        auto num = [](std::string_view s, unsigned& v) {
            const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            return ec == std::errc() && p == s.data() + s.size() && v >= 1 && v <= 65535;
        };
        if (dash == std::string_view::npos) {
            if (!num(item, lo)) return false;
            hi = lo;
        } else if (!num(item.substr(0, dash), lo) || !num(item.substr(dash + 1), hi) || lo > hi) {
            return false;
        }
        out.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)});
        i = j + 1;
    }
    return !out.empty();
}

std::string id_part(std::string_view s) {
    std::string out;
    for (char c : s) {
        const char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        out += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) ? l : '-';
    }
    return out;
}

std::string document(const ImportOptions& o, std::string_view title, std::string_view vendor, std::string_view url,
                     std::string_view version, const std::vector<std::string>& notes) {
    std::string s = "# Written by `callwall catalog import --format " + o.format +
                    "` from the vendor's machine-readable list;\n# edit the list, not this file.\nschema = 2\n\n";
    s +=
        "[document]\nvendor = " + toml_string(vendor) +
        (o.edition.empty() ? std::string() : "\nedition = " + toml_string(o.edition)) +
        "\ntitle = " + toml_string(o.title.empty() ? title : o.title) + "\nurl = " + toml_string(url) +
        (o.date.empty() ? std::string("\nundated = true") : "\ndate = " + o.date) + "\ntranscribed = " + o.transcribed +
        (version.empty() ? std::string() : "\nlist_version = " + toml_string(version)) + "\ndirection = \"outbound\"\n";
    if (!notes.empty()) s += "notes = " + toml_strings(notes) + "\n";
    return s;
}

struct EntryText {
    std::string id, product, service, section, tier, notes;
    Transport transport = Transport::Tcp;
    std::vector<PortRange> ports;
    std::vector<std::string> names, addresses;
    bool required = true;
};

std::string entry_text(const EntryText& e) {
    std::string s = "\n[[entry]]\nid = " + toml_string(e.id) + "\nproduct = " + toml_string(e.product) +
                    "\nservice = " + toml_string(e.service) +
                    "\ntransport = " + (e.transport == Transport::Tcp ? "\"tcp\"" : "\"udp\"") +
                    "\nports = " + toml_ports(e.ports) + "\n";
    if (!e.names.empty()) s += "destinations = " + toml_strings(e.names) + "\n";
    if (!e.addresses.empty()) s += "addresses = " + toml_strings(e.addresses) + "\n";
    if (!e.tier.empty()) s += "tier = " + toml_string(e.tier) + "\n";
    s += std::string("required = ") + (e.required ? "true" : "false") + "\n";
    if (!e.notes.empty()) s += "notes = " + toml_string(e.notes) + "\n";
    return s + "[entry.source]\nsection = " + toml_string(e.section) + "\n";
}

// The names and address items of a list that the catalog accepts; the rest
// go to `skipped`, with the reason.
void keep_valid(const std::string& where, std::vector<std::string>& names, std::vector<std::string>& addrs,
                std::vector<std::string>& skipped) {
    std::vector<std::string> good;
    for (const std::string& n : names) {
        std::string why;
        if (parse_destination(n, &why))
            good.push_back(n);
        else
            skipped.push_back(where + ": name '" + n + "': " + why);
    }
    names = good;
    std::vector<AddressRange> ranges;
    std::vector<std::string> kept;
    for (const std::string& a : addrs) {
        std::string why;
        auto r = parse_address_range(a, &why);
        if (!r) {
            skipped.push_back(where + ": address '" + a + "': " + why);
            continue;
        }
        if (std::any_of(ranges.begin(), ranges.end(), [&](const AddressRange& x) { return x.overlaps(*r); })) {
            skipped.push_back(where + ": address '" + a + "' overlaps an earlier one of the same set");
            continue;
        }
        ranges.push_back(*r);
        kept.push_back(a);
    }
    addrs = kept;
}

ImportResult import_o365(const json& j, const ImportOptions& o) {
    ImportResult res;
    if (!j.is_array()) {
        res.error = "expected the endpoints web service's JSON array of endpoint sets";
        return res;
    }
    if (o.list_version.empty()) {
        res.error =
            "the endpoints JSON carries no version: give --list-version (the web service's endpoints/version, "
            "e.g. 2026103000)";
        return res;
    }
    const std::string vendor = o.vendor.empty() ? "Microsoft 365" : o.vendor;
    const std::string prefix = o.id_prefix.empty() ? "o365" : o.id_prefix;
    const std::string url = o.url.empty() ? "https://learn.microsoft.com/en-us/microsoft-365/enterprise/"
                                            "urls-and-ip-address-ranges"
                                          : o.url;
    std::string body;
    for (const json& set : j) {
        if (!set.is_object() || !set.contains("id")) continue;
        const std::string area = set.value("serviceArea", "");
        if (!o.service.empty() && area != o.service) continue;
        const std::string sid = std::to_string(set.value("id", 0));
        const std::string where = "ID " + sid;
        std::vector<std::string> names = set.value("urls", std::vector<std::string>{});
        std::vector<std::string> addrs = set.value("ips", std::vector<std::string>{});
        keep_valid(where, names, addrs, res.skipped);
        if (names.empty() && addrs.empty()) {
            res.skipped.push_back(where + ": no names or addresses the catalog can hold");
            continue;
        }
        std::string category = set.value("category", "");
        std::transform(category.begin(), category.end(), category.begin(),
                       [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
        for (const auto& [key, transport] : {std::pair{"tcpPorts", Transport::Tcp}, {"udpPorts", Transport::Udp}}) {
            const std::string ports = set.value(key, "");
            if (ports.empty()) continue;
            EntryText e;
            if (!parse_port_list(ports, e.ports)) {
                res.skipped.push_back(where + ": " + key + " '" + ports + "' is not a port list");
                continue;
            }
            e.transport = transport;
            e.id = prefix + ".id" + sid + (transport == Transport::Tcp ? ".tcp" : ".udp");
            e.product = set.value("serviceAreaDisplayName", area.empty() ? vendor : area);
            e.service = where + (category.empty() ? "" : " (" + set.value("category", "") + ")");
            e.section = set.value("serviceAreaDisplayName", area) + " > " + where;
            if (category == "optimize" || category == "allow" || category == "default") e.tier = category;
            e.required = set.value("required", true);
            e.notes = set.value("notes", "");
            e.names = names;
            e.addresses = addrs;
            body += entry_text(e);
            ++res.entries;
        }
    }
    if (res.entries == 0) {
        res.error = "no endpoint set of the list" + (o.service.empty() ? "" : " in service area '" + o.service + "'") +
                    " has ports and names or addresses";
        return res;
    }
    res.toml = document(o, "Microsoft 365 URLs and IP address ranges (endpoints web service)", vendor, url,
                        o.list_version, {}) +
               body;
    return res;
}

ImportResult import_aws(const json& j, const ImportOptions& o) {
    ImportResult res;
    if (!j.is_object() || !j.contains("prefixes")) {
        res.error = "expected AWS ip-ranges.json (an object with syncToken, createDate and prefixes)";
        return res;
    }
    if (o.ports.empty()) {
        res.error = "ip-ranges.json has no ports: give --transport and --ports from the vendor's page";
        return res;
    }
    const std::string service = o.service.empty() ? "CHIME_MEETINGS" : o.service;
    std::vector<std::string> addrs;
    for (const char* list : {"prefixes", "ipv6_prefixes"}) {
        const char* key = std::string_view(list) == "prefixes" ? "ip_prefix" : "ipv6_prefix";
        if (!j.contains(list) || !j[list].is_array()) continue;
        for (const json& p : j[list]) {
            if (!p.is_object() || p.value("service", "") != service) continue;
            const std::string a = p.value(key, "");
            if (!a.empty() && std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
        }
    }
    std::vector<std::string> none;
    keep_valid(service, none, addrs, res.skipped);
    if (addrs.empty()) {
        res.error = "no prefix of service '" + service + "' in the list";
        return res;
    }
    const std::string version =
        !o.list_version.empty() ? o.list_version : j.value("syncToken", "") + " (" + j.value("createDate", "") + ")";
    const std::string vendor = o.vendor.empty() ? "Amazon Chime SDK" : o.vendor;
    const std::string prefix = o.id_prefix.empty() ? "aws-" + id_part(service) : o.id_prefix;
    const std::string url = o.url.empty() ? "https://ip-ranges.amazonaws.com/ip-ranges.json" : o.url;
    std::string body;
    for (const auto& [transport, ports] : o.ports) {
        EntryText e;
        e.transport = transport;
        e.ports = ports;
        e.id = prefix + (transport == Transport::Tcp ? ".tcp" : ".udp");
        e.product = vendor;
        e.service = service + " prefixes (" + std::string(to_string(transport)) + ")";
        e.section = "ip-ranges.json > service " + service;
        e.addresses = addrs;
        body += entry_text(e);
        ++res.entries;
    }
    res.toml = document(o, "AWS IP address ranges (" + service + ")", vendor, url, version,
                        {"Ports are not in ip-ranges.json; they are the vendor page's."}) +
               body;
    return res;
}

// The result, or an error when the file it wrote does not load.
ImportResult checked(ImportResult res) {
    LoadResult check = load_string("import.toml", res.toml);
    if (!check.ok()) {
        res.error = "the written catalog does not load: " +
                    (check.diagnostics.empty() ? std::string("?") : check.diagnostics.front().to_string());
        res.toml.clear();
    }
    return res;
}

// One list line without its comment and surrounding blanks.
std::string_view trimmed_line(std::string_view line) {
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
    while (!line.empty() && blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && blank(line.back())) line.remove_suffix(1);
    return line;
}

// A list item as the catalog writes it: "a-b" without blanks around the
// dash; a bare address as a one-address prefix.
std::string list_item(std::string_view item) {
    std::string s;
    for (char c : item)
        if (c != ' ' && c != '\t') s += c;
    if (s.find('/') == std::string::npos && s.find('-') == std::string::npos) {
        if (const auto ip = parse_ip(s)) s += ip->first == AddressFamily::V4 ? "/32" : "/128";
    }
    return s;
}

ImportResult import_cidr_list(std::string_view text, const ImportOptions& o) {
    ImportResult res;
    if (o.vendor.empty() || o.url.empty()) {
        res.error = "a cidr-list names no vendor or page: give --vendor and --url (the page the list belongs to)";
        return res;
    }
    if (o.ports.empty()) {
        res.error = "a cidr-list has no ports: give --ports from the vendor's page";
        return res;
    }
    if (!o.date.empty() && (o.date.size() != 10 || o.date[4] != '-' || o.date[7] != '-')) {
        res.error = "the page date '" + o.date + "' is not YYYY-MM-DD";
        return res;
    }
    std::vector<std::string> addrs;
    size_t line_no = 0;
    for (size_t at = 0; at < text.size();) {
        size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        ++line_no;
        const std::string_view line = trimmed_line(text.substr(at, end - at));
        at = end + 1;
        if (line.empty()) continue;
        const std::string item = list_item(line);
        std::string why;
        if (!parse_address_range(item, &why)) {
            res.error = "'" + std::string(line) + "' is not a prefix, address or start-end range: " + why;
            res.error_line = line_no;
            return res;
        }
        if (std::find(addrs.begin(), addrs.end(), item) != addrs.end()) {
            res.skipped.push_back("line " + std::to_string(line_no) + ": '" + item + "' again");
            continue;
        }
        addrs.push_back(item);
    }
    std::vector<std::string> none;
    keep_valid("the list", none, addrs, res.skipped);
    if (addrs.empty()) {
        res.error = "the list holds no prefix or range";
        return res;
    }
    const std::string prefix = o.id_prefix.empty() ? id_part(o.vendor) + ".ranges" : o.id_prefix;
    std::string body;
    for (const auto& [transport, ports] : o.ports) {
        EntryText e;
        e.transport = transport;
        e.ports = ports;
        e.id = prefix + (transport == Transport::Tcp ? ".tcp" : ".udp");
        e.product = o.vendor;
        e.service = "published ranges (" + std::string(to_string(transport)) + ")";
        e.section = "the published list of ranges";
        e.addresses = addrs;
        body += entry_text(e);
        ++res.entries;
    }
    res.toml = document(o, o.vendor + " published IP address ranges", o.vendor, o.url, o.list_version,
                        {"Ports are not in the list; they are the vendor page's."}) +
               body;
    return res;
}

}  // namespace

ImportResult import_list(std::string_view text, const ImportOptions& opt) {
    ImportResult res;
    if (opt.transcribed.size() != 10 || opt.transcribed[4] != '-' || opt.transcribed[7] != '-') {
        res.error = "the import date '" + opt.transcribed + "' is not YYYY-MM-DD";
        return res;
    }
    if (opt.format == "cidr-list") {
        res = import_cidr_list(text, opt);
        return res.error.empty() ? checked(std::move(res)) : res;
    }
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        res.error = "not JSON";
        return res;
    }
    if (opt.format == "o365")
        res = import_o365(j, opt);
    else if (opt.format == "aws-ip-ranges")
        res = import_aws(j, opt);
    else
        res.error = "unknown format '" + opt.format + "'; expected o365, aws-ip-ranges or cidr-list";
    if (!res.error.empty()) return res;
    return checked(std::move(res));
}

}  // namespace callwall::catalog
