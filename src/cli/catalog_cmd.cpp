// `callwall catalog list|show|check|export|import`.
#include <boost/program_options.hpp>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/listing.hpp"
#include "catalog/import.hpp"
#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "util/terminal_text.hpp"

namespace callwall::cli {

namespace {

namespace po = boost::program_options;
namespace cat = callwall::catalog;

constexpr std::string_view kUsage =
    "usage: callwall catalog list   [--vendor V] [--product P] [--edition E] [--format text|json]\n"
    "       callwall catalog show   ID\n"
    "       callwall catalog check  [DIR|FILE ...]\n"
    "       callwall catalog export [--format nft|iptables|dnsmasq-nftset|dnsmasq-ipset]\n"
    "                               [--vendor V] [--product P] [--edition E] [--nft-table NAME]\n"
    "                               [--required-only] [--include-any] [--entry ID]...\n"
    "       callwall catalog import --format o365|aws-ip-ranges|cidr-list FILE [--list-version V]\n"
    "                               [--service S] [--ports TRANSPORT:PORTS]... [--vendor V] [--url U]\n"
    "                               [--page-date YYYY-MM-DD] [--output FILE.toml]\n"
    "\n"
    "The bundled catalog is loaded first (CALLWALL_CATALOG_DIR overrides where it is); each --catalog\n"
    "DIR adds its *.toml files, and a file named like an earlier one replaces it. 'check DIR' checks\n"
    "the catalog as it would load with DIR added; add --no-bundled-catalog to check DIR alone.\n"
    "\n"
    "Exit codes: 0 ok, 2 usage (bad option, unknown id, selection matches nothing),\n"
    "4 catalog invalid (every error is listed as file:line:column: error: message), 7 standard output\n"
    "not written.\n";

// One line, as every command reports a usage error.
// What each subcommand does, with an example, for `catalog SUBCOMMAND --help`.
std::string_view sub_help(std::string_view sub) {
    if (sub == "list")
        return "usage: callwall catalog list [--vendor V] [--product P] [--edition E] [--format text|json]\n\n"
               "Lists the catalog's requirements (one line each, or a JSON array), then each file with its page\n"
               "date or list version and its age today (\"page dated 2026-03-16\", \"256 days old\").\n\n"
               "example: callwall catalog list --vendor whereby --format json\n";
    if (sub == "show")
        return "usage: callwall catalog show ID\n\n"
               "Shows one requirement or product: ports, destinations, conditions, its source and what was assumed.\n\n"
               "example: callwall catalog show agora-2018.recording.udp-downstream\n";
    if (sub == "check")
        return "usage: callwall catalog check [DIR|FILE ...]\n\n"
               "Checks the catalog as it would load with these paths added; every error as file:line:column.\n\n"
               "example: callwall catalog check ~/my-catalog            (with the bundled files)\n"
               "         callwall catalog check --no-bundled-catalog ~/my-catalog   (alone)\n";
    if (sub == "export")
        return "usage: callwall catalog export [--format nft|iptables|dnsmasq-nftset|dnsmasq-ipset] [--vendor V]\n"
               "                               [--product P] [--edition E] [--nft-table NAME] [--required-only]\n"
               "                               [--include-any] [--entry ID]...\n\n"
               "Writes an allow-list: rules per requirement towards per-vendor address sets, and the dnsmasq lines\n"
               "that fill those sets when the vendor's names are resolved.\n"
               "  nft:      an nft -f file; load it with 'nft -f FILE' (again: same result).\n"
               "  iptables: a shell script that creates the ipsets ('ipset -exist restore') and loads the rules\n"
               "            with 'iptables-restore --noflush' and 'ip6tables-restore --noflush'; load it with\n"
               "            'sh FILE' as root (again: same result).\n\n"
               "example: callwall catalog export --vendor whereby --required-only > whereby.nft\n"
               "         callwall catalog export --vendor whereby --format iptables > whereby.sh && sh whereby.sh\n"
               "         callwall catalog export --vendor whereby --format dnsmasq-nftset > /etc/dnsmasq.d/callwall.conf\n";
    if (sub == "import")
        return "usage: callwall catalog import --format o365|aws-ip-ranges|cidr-list FILE [--list-version V]\n"
               "                               [--service S] [--ports TRANSPORT:PORTS]... [--vendor V] [--edition E]\n"
               "                               [--id-prefix P] [--url U] [--title T] [--page-date YYYY-MM-DD]\n"
               "                               [--transcribed YYYY-MM-DD] [--output FILE.toml]\n\n"
               "Writes a schema-2 catalog file from a vendor's machine-readable list read from FILE (no network\n"
               "access): Microsoft 365's endpoints web service JSON (o365; --service Skype for Teams; the JSON has\n"
               "no version: give --list-version), AWS ip-ranges.json (aws-ip-ranges; --service, default\n"
               "CHIME_MEETINGS; the list has no ports: give them from the vendor's page with --ports), or a plain\n"
               "list of ranges as Zoom, Webex and others publish (cidr-list: one IPv4/IPv6 prefix, address or\n"
               "start-end range a line, '#' comments and blank lines skipped; --vendor, --url and --ports\n"
               "required; a line that is none of these is an error naming FILE:LINE). The file carries the list's\n"
               "version (--page-date: the page's date); what the catalog cannot hold is listed on standard error.\n\n"
               "example: callwall catalog import --format o365 endpoints.json --service Skype --list-version "
               "2026103000 -o teams.toml\n"
               "         callwall catalog import --format aws-ip-ranges ip-ranges.json --ports udp:3478 "
               "--ports tcp:443\n"
               "         callwall catalog import --format cidr-list ZoomMeetings.txt --vendor Zoom --url "
               "https://support.zoom.com/hc/en/article?id=zm_kb&sysparm_article=KB0060548 --ports udp:3478,3479,8801-8810 "
               "--ports tcp:443,8801,8802 -o zoom_ranges.toml\n";
    return {};
}

int usage_error(const std::string& message) {
    std::cerr << "callwall catalog: " << message << " (try 'callwall catalog --help')\n";
    return kExitUsage;
}

bool valid_nft_identifier(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!alpha(s[0])) return false;
    for (char c : s) {
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    }
    return true;
}

// Loads the catalog or prints every diagnostic. Returns nullopt on failure.
std::optional<cat::Catalog> load_catalog(const std::vector<std::filesystem::path>& paths, size_t& errors) {
    cat::LoadResult r = cat::load(paths);
    errors = r.diagnostics.size();
    for (const cat::Diagnostic& d : r.diagnostics) std::cerr << d.to_string() << "\n";
    if (!r.ok()) {
        std::cerr << "callwall catalog: " << errors << (errors == 1 ? " error" : " errors")
                  << "; the catalog is invalid\n";
        return std::nullopt;
    }
    return std::move(r.catalog);
}

// Explains an empty selection: which vendors exist, and the products and
// editions of the selected vendor (of every vendor when it names none or
// an unknown one).
std::string known_names(const cat::Catalog& c, const cat::Selection& sel) {
    std::string s = "known vendors:";
    for (const std::string& v : c.vendors()) s += " '" + v + "'";
    if (!sel.edition.empty()) {
        const cat::Selection vendor_only{sel.vendor, {}, {}};
        const bool vendor_known =
            !sel.vendor.empty() && std::any_of(c.vendors().begin(), c.vendors().end(),
                                               [&](const std::string& v) { return vendor_only.matches(v, {}, {}); });
        std::vector<std::string> editions;
        for (const cat::Document& d : c.documents()) {
            if (vendor_known ? !vendor_only.matches(d.vendor, {}, {}) : d.edition.empty()) continue;
            const std::string e = d.edition.empty() ? "(none: leave --edition out)" : "'" + d.edition + "'";
            editions.push_back(vendor_known ? e : e + " of " + d.vendor);
        }
        std::sort(editions.begin(), editions.end());
        editions.erase(std::unique(editions.begin(), editions.end()), editions.end());
        s += vendor_known ? "; editions of '" + sel.vendor + "':" : "; known editions:";
        for (const std::string& e : editions) s += " " + e;
    }
    if (!sel.product.empty()) {
        std::vector<std::string> products;
        for (const cat::Entry& e : c.entries()) products.push_back(e.product);
        for (const cat::Product& p : c.products()) products.push_back(p.product);
        std::sort(products.begin(), products.end());
        products.erase(std::unique(products.begin(), products.end()), products.end());
        s += "; known products:";
        for (const std::string& p : products) s += " '" + p + "'";
    }
    return s;
}

bool selection_matches_anything(const cat::Catalog& c, const cat::Selection& sel) {
    for (const cat::Entry& e : c.entries()) {
        if (sel.matches(e.vendor, e.product, e.edition)) return true;
    }
    for (const cat::Product& p : c.products()) {
        if (sel.matches(p.vendor, p.product, p.edition)) return true;
    }
    return false;
}

/// `catalog check`: loads the files and says what they hold.
int catalog_check(const std::vector<std::filesystem::path>& paths) {
    if (paths.empty()) return usage_error("nothing to check: give a DIR or drop --no-bundled-catalog");
    size_t errors = 0;
    auto c = load_catalog(paths, errors);
    if (!c) return kExitCatalog;
    // A service the report can only name by an id ("ID 26", "26", the
    // entry's own id) reads as nothing to an admin: a warning, not an error.
    size_t warnings = 0;
    for (const cat::Entry& e : c->entries()) {
        std::string_view svc = e.service;
        if (svc.substr(0, 3) == "ID ") svc.remove_prefix(3);
        const bool only_id =
            e.service == e.id ||
            (!svc.empty() && std::all_of(svc.begin(), svc.end(), [](char ch) { return ch >= '0' && ch <= '9'; }));
        if (!only_id) continue;
        ++warnings;
        std::cerr << e.defined_at.file << ":" << e.defined_at.line << ":" << e.defined_at.column << ": warning: entry '"
                  << e.id << "' is named only by an id ('" << util::terminal_text(e.service)
                  << "'); expected the page's words for what it is for\n";
    }
    std::cout << "catalog OK: " << c->files().size() << " files, " << c->entries().size() << " entries, "
              << c->products().size() << " products that cannot be allow-listed; sha256:" << c->digest()
              << (warnings ? "; " + std::to_string(warnings) + " warning(s)" : std::string()) << "\n";
    for (const cat::LoadedFile& f : c->files()) std::cout << "  " << f.path << "\n";
    return kExitOk;
}

/// `catalog export`'s options into `eo`; the usage error's exit code when one is wrong.
std::optional<int> read_export_options(const po::variables_map& vm, const std::string& format,
                                       const cat::Selection& sel, cat::ExportOptions& eo) {
    if (!format.empty() && format != "nft" && format != "iptables" && format != "dnsmasq-nftset" &&
        format != "dnsmasq-ipset") {
        return usage_error("unknown --format '" + format +
                           "' for export; expected nft, iptables, dnsmasq-nftset or dnsmasq-ipset");
    }
    eo.format = format == "iptables"         ? cat::ExportFormat::Iptables
                : format == "dnsmasq-nftset" ? cat::ExportFormat::DnsmasqNftset
                : format == "dnsmasq-ipset"  ? cat::ExportFormat::DnsmasqIpset
                                             : cat::ExportFormat::Nft;
    eo.required_only = vm.count("required-only") > 0;
    eo.include_any = vm.count("include-any") > 0;
    if (vm.count("entry")) eo.only_entries = vm["entry"].as<std::vector<std::string>>();
    eo.selection = sel;
    eo.nft_table = vm["nft-table"].as<std::string>();
    if (!valid_nft_identifier(eo.nft_table)) {
        return usage_error("invalid --nft-table '" + eo.nft_table +
                           "'; expected a letter or '_' followed by letters, digits or '_'");
    }
    return std::nullopt;
}

/// `catalog show ID`; an unknown id is a usage error naming the ids that contain it.
int catalog_show(const cat::Catalog& c, const std::string& id) {
    auto text = cat::render_show(c, id);
    if (!text) {
        std::string hint;
        for (const cat::Entry& e : c.entries()) {
            if (e.id.find(id) != std::string::npos) hint += " " + e.id;
        }
        for (const cat::Product& p : c.products()) {
            if (p.id.find(id) != std::string::npos) hint += " " + p.id;
        }
        return usage_error("unknown id '" + id + "'" +
                           (hint.empty() ? "; see 'callwall catalog list'" : "; did you mean:" + hint));
    }
    // A catalog file's strings are not vouched for: escaped for the terminal.
    return write_stdout(util::terminal_lines(*text), "catalog") ? kExitOk : kExitOutput;
}

// Today's date (UTC), YYYY-MM-DD.
std::string today_utc() {
    char day[16];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
    return day;
}

/// `catalog import`'s own options.
po::options_description import_options() {
    po::options_description o("Options of 'import'");
    // clang-format off
    o.add_options()
        ("list-version", po::value<std::string>()->value_name("V"), "import: the list's version")
        ("service", po::value<std::string>()->value_name("S"),
         "import: o365 serviceArea (Skype for Teams) or AWS service (default CHIME_MEETINGS)")
        ("ports", po::value<std::vector<std::string>>()->composing()->value_name("T:P"),
         "import aws-ip-ranges: a transport and its ports, e.g. udp:3478 or tcp:443,3478-3481 (repeatable)")
        ("id-prefix", po::value<std::string>()->value_name("P"), "import: entry id prefix")
        ("url", po::value<std::string>()->value_name("U"), "import: the page the list belongs to")
        ("title", po::value<std::string>()->value_name("T"), "import: the page's title")
        ("page-date", po::value<std::string>()->value_name("DATE"),
         "import: the date the page shows (YYYY-MM-DD; default: undated)")
        ("transcribed", po::value<std::string>()->value_name("DATE"), "import: the date written (default today)")
        ("output,o", po::value<std::string>()->value_name("FILE"), "import: write here instead of stdout");
    // clang-format on
    return o;
}

// "udp:3478,5000-5010" -> the transport and its port ranges.
bool parse_transport_ports(const std::string& text, std::pair<cat::Transport, std::vector<cat::PortRange>>& out) {
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return false;
    const std::string t = text.substr(0, colon);
    if (t != "udp" && t != "tcp") return false;
    out.first = t == "udp" ? cat::Transport::Udp : cat::Transport::Tcp;
    std::stringstream ss(text.substr(colon + 1));
    for (std::string item; std::getline(ss, item, ',');) {
        unsigned lo = 0, hi = 0;
        char dash = 0;
        std::istringstream is(item);
        if (!(is >> lo)) return false;
        hi = lo;
        if (is >> dash && (dash != '-' || !(is >> hi))) return false;
        if (lo < 1 || hi > 65535 || lo > hi) return false;
        out.second.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)});
    }
    return !out.second.empty();
}

/// `catalog import --format F FILE`.
int catalog_import(const po::variables_map& vm, const std::string& format, const std::vector<std::string>& args) {
    if (args.size() != 1) return usage_error("'import' takes exactly one FILE (the list, read locally)");
    if (format != "o365" && format != "aws-ip-ranges" && format != "cidr-list")
        return usage_error("'import' needs --format o365, aws-ip-ranges or cidr-list");
    cat::ImportOptions o;
    o.format = format;
    auto opt = [&](const char* key, std::string& to) {
        if (vm.count(key)) to = vm[key].as<std::string>();
    };
    opt("vendor", o.vendor);
    opt("edition", o.edition);
    opt("title", o.title);
    opt("page-date", o.date);
    opt("list-version", o.list_version);
    opt("service", o.service);
    opt("id-prefix", o.id_prefix);
    opt("url", o.url);
    opt("transcribed", o.transcribed);
    if (o.transcribed.empty()) o.transcribed = today_utc();
    if (vm.count("ports"))
        for (const std::string& p : vm["ports"].as<std::vector<std::string>>()) {
            std::pair<cat::Transport, std::vector<cat::PortRange>> tp;
            if (!parse_transport_ports(p, tp))
                return usage_error("invalid --ports '" + p + "'; expected udp:3478 or tcp:443,3478-3481");
            o.ports.push_back(std::move(tp));
        }
    // A plain list names nothing but ranges: the rest comes from the vendor's page.
    if (format == "cidr-list" && (o.vendor.empty() || o.url.empty() || o.ports.empty()))
        return usage_error(
            "'import --format cidr-list' needs --vendor, --url (the page the list belongs to) and "
            "--ports (from that page)");
    std::ifstream in(args.front(), std::ios::binary);
    if (!in) return usage_error("cannot read '" + args.front() + "'");
    std::ostringstream text;
    text << in.rdbuf();
    const cat::ImportResult r = cat::import_list(text.str(), o);
    for (const std::string& s : r.skipped) std::cerr << "callwall catalog import: left out: " << s << "\n";
    if (!r.error.empty()) {
        // As the catalog's diagnostics: FILE:LINE: error: message.
        std::cerr << "callwall catalog import: " << args.front()
                  << (r.error_line ? ":" + std::to_string(r.error_line) : std::string()) << ": error: " << r.error
                  << "\n";
        return kExitCatalog;
    }
    if (vm.count("output")) {
        std::ofstream out(vm["output"].as<std::string>(), std::ios::binary);
        if (!(out << r.toml) || !out.flush()) return kExitOutput;
        std::cerr << "callwall catalog import: " << r.entries << (r.entries == 1 ? " entry" : " entries")
                  << " written to " << vm["output"].as<std::string>() << "\n";
        return kExitOk;
    }
    return write_stdout(r.toml, "catalog") ? kExitOk : kExitOutput;
}

}  // namespace

int run_catalog(int argc, char** argv) {
    try {
        po::options_description visible("Options");
        // clang-format off
        // clang-format off
        visible.add_options()
            ("help,h", "show this help")
            ("catalog", po::value<std::vector<std::string>>()->composing()->value_name("DIR"),
             "DIR or FILE: add catalog files (repeatable)")
            ("no-bundled-catalog", "do not load the bundled catalog (as for analyze and capture)")
            ("vendor", po::value<std::string>()->value_name("NAME"), "only this vendor (case-insensitive)")
            ("product", po::value<std::string>()->value_name("NAME"), "only this product/SDK (case-insensitive)")
            ("edition", po::value<std::string>()->value_name("E"), "only this document edition, e.g. 2018")
            ("format", po::value<std::string>()->value_name("FORMAT"),
             "list: text (default) or json; export: nft (default), iptables, or the dnsmasq lines that fill "
             "their address sets: dnsmasq-nftset, dnsmasq-ipset")
            ("nft-table", po::value<std::string>()->default_value("filter")->value_name("NAME"),
             "export: the inet table of your policy, which the nft output adds to (Debian's is filter)")
            ("required-only", "export: leave out entries the vendor presents as optional")
            ("include-any", "export: keep entries whose destination is ANY (opens their ports to every address)")
            ("entry", po::value<std::vector<std::string>>()->composing()->value_name("ID"),
             "export: only this entry (repeatable), e.g. what a probe found blocked");
        // clang-format on
        visible.add(import_options());
        po::options_description hidden;
        // clang-format off
        hidden.add_options()
            ("no-bundled", "the earlier name of --no-bundled-catalog")
            ("command", po::value<std::string>())
            ("args", po::value<std::vector<std::string>>());
        // clang-format on
        // clang-format on
        po::options_description all;
        all.add(visible).add(hidden);
        po::positional_options_description pos;
        pos.add("command", 1).add("args", -1);

        po::variables_map vm;
        // argv[0] is "catalog"; command_line_parser skips it like a program name.
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);

        if (vm.count("help")) {
            // `catalog SUBCOMMAND --help` describes that subcommand alone.
            const std::string sub = vm.count("command") ? vm["command"].as<std::string>() : "";
            const std::string_view text = sub_help(sub);
            std::cout << (text.empty() ? kUsage : text) << "\n" << visible;
            return kExitOk;
        }
        if (!vm.count("command")) return usage_error("missing command: list, show, check, export or import");
        const std::string command = vm["command"].as<std::string>();
        const std::vector<std::string> args =
            vm.count("args") ? vm["args"].as<std::vector<std::string>>() : std::vector<std::string>{};

        cat::Selection sel;
        if (vm.count("vendor")) sel.vendor = vm["vendor"].as<std::string>();
        if (vm.count("product")) sel.product = vm["product"].as<std::string>();
        if (vm.count("edition")) sel.edition = vm["edition"].as<std::string>();
        const bool has_selection = !sel.vendor.empty() || !sel.product.empty() || !sel.edition.empty();
        const std::string format = vm.count("format") ? vm["format"].as<std::string>() : std::string();

        std::vector<std::filesystem::path> paths;
        if (!vm.count("no-bundled") && !vm.count("no-bundled-catalog")) paths.push_back(cat::bundled_catalog_dir());
        if (vm.count("catalog")) {
            for (const std::string& d : vm["catalog"].as<std::vector<std::string>>()) paths.emplace_back(d);
        }

        if (command == "import") return catalog_import(vm, format, args);
        if (command == "check") {
            if (has_selection || !format.empty())
                return usage_error("'check' takes no --vendor/--product/--edition/--format");
            for (const std::string& a : args) paths.emplace_back(a);
            return catalog_check(paths);
        }

        if (command != "list" && command != "show" && command != "export") {
            return usage_error("unknown command '" + command + "'; expected list, show, check, export or import");
        }
        if (command == "show") {
            if (args.size() != 1) return usage_error("'show' takes exactly one ID");
            if (has_selection || !format.empty())
                return usage_error("'show' takes no --vendor/--product/--edition/--format");
        } else if (!args.empty()) {
            return usage_error("unexpected argument '" + args.front() + "' for '" + command + "'");
        }

        if (command != "export" && vm.count("entry")) return usage_error("--entry is an option of 'export'");
        if (command == "list" && !format.empty() && format != "text" && format != "json") {
            return usage_error("unknown --format '" + format + "' for list; expected text or json");
        }
        cat::ExportOptions eo;
        if (command == "export") {
            if (const std::optional<int> bad = read_export_options(vm, format, sel, eo)) return *bad;
        }

        size_t errors = 0;
        auto c = load_catalog(paths, errors);
        if (!c) return kExitCatalog;
        for (const std::string& id : eo.only_entries)
            if (!c->find_entry(id))
                return usage_error("unknown entry '" + id + "' for --entry; see 'callwall catalog list'");

        if (command == "show") return catalog_show(*c, args.front());
        if (has_selection && !selection_matches_anything(*c, sel)) {
            return usage_error("no catalog entries match the selection; " + known_names(*c, sel));
        }
        const std::string out = command == "list"
                                    ? (format == "json" ? cat::render_json(*c, sel)
                                                        : util::terminal_lines(cat::render_text(*c, sel, today_utc())))
                                    : cat::render_export(*c, eo);
        return write_stdout(out, "catalog") ? kExitOk : kExitOutput;
    } catch (const po::error& e) {
        return usage_error(e.what());
    } catch (const std::exception& e) {
        std::cerr << "callwall catalog: internal error: " << e.what() << "\n";
        return kExitInternal;
    }
}

}  // namespace callwall::cli
