// `catalog list` (text table, JSON) and `catalog show` renderings.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>

#include "catalog/catalog.hpp"
#include "catalog/listing.hpp"

namespace callwall::catalog {

namespace {

constexpr size_t kPortsWidth = 26;  // text table column widths (wrapping)
constexpr size_t kConditionsWidth = 34;

// Display width: UTF-8 code points (the catalog text is UTF-8; no wide glyphs).
size_t display_width(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

std::string pad(std::string_view s, size_t width) {
    std::string out(s);
    for (size_t w = display_width(s); w < width; ++w) out.push_back(' ');
    return out;
}

// Joins tokens with ", " into lines no wider than width (a token is never split).
std::vector<std::string> wrap_tokens(const std::vector<std::string>& tokens, size_t width) {
    std::vector<std::string> lines;
    std::string cur;
    for (size_t i = 0; i < tokens.size(); ++i) {
        std::string tok = tokens[i] + (i + 1 < tokens.size() ? "," : "");
        if (!cur.empty() && display_width(cur) + 1 + display_width(tok) > width) {
            lines.push_back(cur);
            cur.clear();
        }
        if (!cur.empty()) cur += ' ';
        cur += tok;
    }
    if (!cur.empty()) lines.push_back(cur);
    return lines;
}

std::vector<std::string> wrap_words(std::string_view text, size_t width) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        size_t j = i;
        while (j < text.size() && text[j] != ' ') ++j;
        if (j > i) words.emplace_back(text.substr(i, j - i));
        i = j;
    }
    std::vector<std::string> lines;
    std::string cur;
    for (const std::string& w : words) {
        if (!cur.empty() && display_width(cur) + 1 + display_width(w) > width) {
            lines.push_back(cur);
            cur.clear();
        }
        if (!cur.empty()) cur += ' ';
        cur += w;
    }
    if (!cur.empty()) lines.push_back(cur);
    return lines;
}

std::vector<std::string> port_tokens(const PortSet& set) {
    std::vector<std::string> t;
    for (const PortRange& r : set.intervals()) t.push_back(port_range_text(r));
    return t;
}

std::string short_direction(Direction d) {
    switch (d) {
        case Direction::Outbound: return "out";
        case Direction::Inbound: return "in";
        case Direction::Both: return "both";
    }
    return "?";
}

std::string join_strings(const std::vector<std::string>& v, std::string_view sep) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += sep;
        s += v[i];
    }
    return s;
}

std::string explain_destination(const Destination& d) {
    switch (d.kind) {
        case DestinationKind::Wildcard:
            return "any name below " + std::string(d.base()) + ", not " + std::string(d.base()) + " itself";
        case DestinationKind::Suffix: return std::string(d.base()) + " and any name below it";
        case DestinationKind::Exact: return "this name only";
        case DestinationKind::Any: return "any address; only protocol evidence can match it";
    }
    return {};
}

// A table whose cells may span several lines.
class TextTable {
public:
    explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::vector<std::string>> row) { rows_.push_back(std::move(row)); }

    std::string render(std::string_view indent) const {
        std::vector<size_t> width(headers_.size());
        for (size_t c = 0; c < headers_.size(); ++c) width[c] = display_width(headers_[c]);
        for (const auto& row : rows_) {
            for (size_t c = 0; c < row.size(); ++c) {
                for (const std::string& line : row[c]) width[c] = std::max(width[c], display_width(line));
            }
        }
        std::string out;
        auto emit_line = [&](const std::vector<std::string>& cells) {
            std::string line(indent);
            for (size_t c = 0; c < cells.size(); ++c) {
                line += c + 1 < cells.size() ? pad(cells[c], width[c]) + "  " : cells[c];
            }
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out += line + "\n";
        };
        emit_line(headers_);
        std::vector<std::string> rule;
        for (size_t w : width) rule.push_back(std::string(w, '-'));
        emit_line(rule);
        for (const auto& row : rows_) {
            size_t height = 1;
            for (const auto& cell : row) height = std::max(height, cell.size());
            for (size_t l = 0; l < height; ++l) {
                std::vector<std::string> cells;
                for (const auto& cell : row) cells.push_back(l < cell.size() ? cell[l] : std::string());
                emit_line(cells);
            }
        }
        return out;
    }

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::vector<std::string>>> rows_;
};

// The day number (days since 1970-01-01) of an ISO date's first ten
// characters, or nullopt when they are not a valid YYYY-MM-DD.
std::optional<long> day_number(std::string_view iso) {
    if (iso.size() < 10 || iso[4] != '-' || iso[7] != '-') return std::nullopt;
    auto num = [&](size_t at, size_t len, int& v) {
        const auto [p, ec] = std::from_chars(iso.data() + at, iso.data() + at + len, v);
        return ec == std::errc() && p == iso.data() + at + len;
    };
    int y = 0, m = 0, d = 0;
    if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                          std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    return static_cast<long>(std::chrono::sys_days(ymd).time_since_epoch().count());
}

// "256 days old" from `date` to `today` (both ISO); empty when either is not a date.
// The day a list version names, ISO: Microsoft's "2022072800" (YYYYMMDDNN)
// or a "YYYY-MM-DD" inside it (AWS's "1764000000 (2026-11-20-21-13-07)");
// empty when it names none.
std::string list_version_day(std::string_view v) {
    if (v.size() >= 8 && std::all_of(v.begin(), v.begin() + 8, [](char c) { return c >= '0' && c <= '9'; })) {
        const std::string iso =
            std::string(v.substr(0, 4)) + "-" + std::string(v.substr(4, 2)) + "-" + std::string(v.substr(6, 2));
        if (day_number(iso)) return iso;
    }
    for (size_t i = 0; i + 10 <= v.size(); ++i) {
        if (day_number(v.substr(i, 10))) return std::string(v.substr(i, 10));
    }
    return {};
}

std::string age_text(std::string_view date, std::string_view today) {
    const auto from = day_number(date), to = day_number(today);
    if (!from || !to) return {};
    const long days = *to - *from;
    if (days < 0) return "dated after today (" + std::string(today) + ")";
    return std::to_string(days) + (days == 1 ? " day old" : " days old");
}

// What dates a document and the day its age counts from: the page's (or
// seed document's) date; else the day its list version names; else the day
// it was transcribed.
struct Dating {
    std::string what;  // "page dated 2026-03-16", "list version 2022072800 of 2022-07-28", ...
    std::string day;  // ISO; empty: none known
};

Dating dating(const Document& d) {
    const std::string kind = d.url.empty() ? "document" : "page";
    Dating out;
    if (!d.date.empty()) {
        out.what = kind + " dated " + d.date;
        out.day = d.date;
    }
    if (!d.list_version.empty()) {
        const std::string lv = list_version_day(d.list_version);
        out.what += (out.what.empty() ? "" : ", ") + std::string("list version ") + d.list_version +
                    (lv.empty() || d.list_version.find(lv) != std::string::npos ? "" : " of " + lv);
        if (out.day.empty()) out.day = lv;
    }
    if (out.what.empty()) {
        out.what = "undated " + kind + (d.transcribed.empty() ? "" : ", transcribed " + d.transcribed);
        out.day = d.transcribed;
    }
    return out;
}

std::string document_heading(const Document& d, std::string_view today) {
    std::string s = d.vendor;
    if (!d.edition.empty()) s += ", edition " + d.edition;
    const Dating dt = dating(d);
    const std::string age = age_text(dt.day, today);
    return s + " (" + dt.what + (age.empty() ? "" : ", " + age) + ")";
}

// The file table of `catalog list`: each file's page date or list version and its age.
std::string files_table(const std::vector<const Document*>& docs, std::string_view today) {
    TextTable t({"CATALOG FILE", "VENDOR", "EDITION", "DATED BY", "AGE"});
    for (const Document* d : docs) {
        const Dating dt = dating(*d);
        const std::string age = age_text(dt.day, today);
        t.add({{std::filesystem::path(d->catalog_file).filename().string()},
               {d->vendor},
               {d->edition.empty() ? "-" : d->edition},
               {dt.what},
               {age.empty() ? "-" : age}});
    }
    return t.render("   ");
}

std::string json_bool(bool b) { return b ? "true" : "false"; }

std::string json_or_null(std::string_view s) { return s.empty() ? "null" : json_quote(s); }

std::string json_strings(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += ",";
        s += json_quote(v[i]);
    }
    return s + "]";
}

std::string json_conditions(const Conditions& c) {
    std::vector<std::string> parts;
    if (c.sdk_version) {
        parts.push_back("\"sdk_version\":{\"text\":" + json_quote(c.sdk_version->text) + ",\"min\":" +
                        json_or_null(c.sdk_version->min) + ",\"below\":" + json_or_null(c.sdk_version->below) + "}");
    }
    if (!c.feature.empty()) parts.push_back("\"feature\":" + json_quote(c.feature));
    if (c.local_config) {
        std::string s = "\"local_config\":{\"key\":" + json_quote(c.local_config->key) + ",\"recommended\":";
        if (c.local_config->recommended) {
            s += "[" + std::to_string(c.local_config->recommended->lo) + "," +
                 std::to_string(c.local_config->recommended->hi) + "]";
        } else {
            s += "null";
        }
        s += ",\"text\":" + json_or_null(c.local_config->text) + "}";
        parts.push_back(std::move(s));
    }
    return "{" + join_strings(parts, ",") + "}";
}

// Every object of `catalog list --format json` has the same keys, in the
// same order; what does not apply is null (a value) or empty (a list).

// {"file", "section", "url"}: a seed document's file (url null), or a web
// page's url (file null): the entry's own page when it names one.
std::string json_source(const SourceRef& s, const Document& doc) {
    const std::string url = !s.url.empty() ? s.url : doc.url;
    return "{\"file\":" + json_or_null(s.file) + ",\"section\":" + json_quote(s.section) +
           ",\"url\":" + json_or_null(url) + "}";
}

std::string json_port_pairs(const std::vector<PortRange>& ports) {
    std::string s = "[";
    for (size_t i = 0; i < ports.size(); ++i) {
        if (i) s += ",";
        s += "[" + std::to_string(ports[i].lo) + "," + std::to_string(ports[i].hi) + "]";
    }
    return s + "]";
}

// The document an object comes from: the same keys for seed files and pages.
std::string json_document(const Document& doc) {
    return "{\"catalog_file\":" + json_quote(doc.catalog_file) + ",\"url\":" + json_or_null(doc.url) +
           ",\"title\":" + json_or_null(doc.title) + ",\"date\":" + json_or_null(doc.date) +
           ",\"undated\":" + json_bool(doc.date.empty()) + ",\"transcribed\":" + json_or_null(doc.transcribed) +
           ",\"list_version\":" + json_or_null(doc.list_version) + ",\"sources\":" + json_strings(doc.sources) + "}";
}

// "tier optimize", "client source ports 50000-50059", "fallback teams.media #2 (TURN/TLS)".
std::vector<std::string> schema2_remarks(const Entry& e) {
    std::vector<std::string> out;
    if (!e.tier.empty()) out.push_back("tier: " + e.tier);
    if (!e.source_ports.empty()) {
        std::vector<std::string> p;
        for (const PortRange& r : e.source_ports) p.push_back(port_range_text(r));
        out.push_back("client source ports " + join_strings(p, ", "));
    }
    if (e.fallback) {
        out.push_back("fallback " + e.fallback->chain + " #" + std::to_string(e.fallback->order) + " (" +
                      e.fallback->label + ")");
    }
    return out;
}

std::string json_entry(const Entry& e, const Document& doc) {
    std::string s = "{";
    s += "\"id\":" + json_quote(e.id);
    s += ",\"vendor\":" + json_quote(e.vendor);
    s += ",\"product\":" + json_quote(e.product);
    s += ",\"edition\":" + json_or_null(e.edition);
    s += ",\"document_date\":" + json_or_null(e.document_date);
    s += ",\"service\":" + json_quote(e.service);
    s += ",\"transport\":" + json_quote(to_string(e.transport));
    s += ",\"ports\":" + json_port_pairs(e.ports);
    s += ",\"destinations\":[";
    for (size_t i = 0; i < e.destinations.size(); ++i) {
        if (i) s += ",";
        s += json_quote(e.destinations[i].pattern);
    }
    s += "],\"addresses\":[";
    for (size_t i = 0; i < e.addresses.size(); ++i) s += (i ? "," : "") + json_quote(e.addresses[i].text());
    s += "],\"source_ports\":" + json_port_pairs(e.source_ports);
    s += ",\"direction\":" + json_quote(to_string(e.direction));
    s += ",\"required\":" + json_bool(e.required);
    s += ",\"tier\":" + json_or_null(e.tier);
    s += ",\"fallback\":";
    s += e.fallback
             ? "{\"chain\":" + json_quote(e.fallback->chain) + ",\"order\":" + std::to_string(e.fallback->order) +
                   ",\"label\":" + json_quote(e.fallback->label) + "}"
             : std::string("null");
    s += ",\"allowlist_supported\":true";
    s += ",\"third_party\":" + json_bool(e.third_party);
    s += ",\"any_fallback\":" + json_bool(e.any_fallback);
    s += ",\"conditions\":" + json_conditions(e.conditions);
    s += ",\"source\":" + json_source(e.source, doc);
    s += ",\"provenance\":{";
    for (size_t i = 0; i < e.provenance.size(); ++i) {
        if (i) s += ",";
        s += json_quote(e.provenance[i].field) + ":" + json_strings(e.provenance[i].files);
    }
    s += "},\"assumed\":" + json_strings(e.assumed);
    s += ",\"notes\":" + json_or_null(e.notes);
    s += ",\"probe_hosts\":" + json_strings(e.probe_hosts);
    s += ",\"advice\":null,\"advice_link\":null";
    s += ",\"document\":" + json_document(doc);
    return s + "}";
}

// A product that cannot be allow-listed: the entry's keys, with null or
// empty where a rule's fields would be, and the vendor's advice.
std::string json_product(const Product& p, const Document& doc) {
    std::string s = "{";
    s += "\"id\":" + json_quote(p.id);
    s += ",\"vendor\":" + json_quote(p.vendor);
    s += ",\"product\":" + json_quote(p.product);
    s += ",\"edition\":" + json_or_null(p.edition);
    s += ",\"document_date\":" + json_or_null(p.document_date);
    s += ",\"service\":null,\"transport\":null,\"ports\":[],\"destinations\":[],\"addresses\":[]";
    s += ",\"source_ports\":[],\"direction\":null,\"required\":null,\"tier\":null,\"fallback\":null";
    s += ",\"allowlist_supported\":false,\"third_party\":null,\"any_fallback\":null,\"conditions\":{}";
    s += ",\"source\":" + json_source(p.source, doc);
    s += ",\"provenance\":{},\"assumed\":[]";
    s += ",\"notes\":" + json_or_null(p.notes);
    s += ",\"probe_hosts\":[]";
    s += ",\"advice\":" + json_quote(p.advice);
    s += ",\"advice_link\":" + json_or_null(p.advice_link);
    s += ",\"document\":" + json_document(doc);
    return s + "}";
}

// `catalog show`'s field lines: "key:" padded to 16 columns, and the
// continuation lines under the value.
std::string show_line(std::string_view key, std::string_view value) {
    return pad(std::string(key) + ":", 16) + std::string(value) + "\n";
}
std::string show_more(std::string_view value) { return std::string(16, ' ') + std::string(value) + "\n"; }

// Where an entry comes from: its seed file, or its web page with the page's
// title and date. An entry from a second page of the edition gets that
// page; the document's title and date are the first page's, said as such.
std::string show_source(const Entry& e, const Document& doc) {
    if (doc.url.empty()) return show_line("source", e.source.file);
    std::string s;
    if (!e.source.url.empty() && e.source.url != doc.url) {
        s += show_line("source", e.source.url);
        s += show_more("(a second page of this edition; its title and date are not recorded)");
        s += show_more("the edition's page: " + doc.url);
        s += show_more((doc.title.empty() ? std::string() : "\"" + doc.title + "\", ") +
                       (doc.date.empty() ? std::string("undated") : "dated " + doc.date));
    } else {
        s += show_line("source", doc.url);
        if (!doc.title.empty()) s += show_more("page \"" + doc.title + "\"");
        s += show_more(doc.date.empty() ? std::string("undated page") : "page dated " + doc.date);
    }
    return s + show_more("transcribed " + doc.transcribed +
                         (doc.list_version.empty() ? std::string() : ", list version " + doc.list_version));
}

}  // namespace

std::string port_range_text(const PortRange& r, char sep) {
    return r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + sep + std::to_string(r.hi);
}

std::string render_json(const Catalog& c, const Selection& sel) {
    std::vector<std::string> items;
    for (uint32_t d = 0; d < c.documents().size(); ++d) {
        for (const Entry& e : c.entries()) {
            if (e.document == d && sel.matches(e.vendor, e.product, e.edition))
                items.push_back(json_entry(e, c.document_of(e)));
        }
        for (const Product& p : c.products()) {
            if (p.document == d && sel.matches(p.vendor, p.product, p.edition))
                items.push_back(json_product(p, c.documents()[d]));
        }
    }
    if (items.empty()) return "[]\n";
    std::string out = "[\n";
    for (size_t i = 0; i < items.size(); ++i) out += "  " + items[i] + (i + 1 < items.size() ? ",\n" : "\n");
    return out + "]\n";
}

std::string render_text(const Catalog& c, const Selection& sel) { return render_text(c, sel, std::string_view()); }

std::string render_text(const Catalog& c, const Selection& sel, std::string_view today) {
    std::string out;
    size_t shown_entries = 0, shown_products = 0;
    std::vector<const Document*> shown_docs;
    for (uint32_t d = 0; d < c.documents().size(); ++d) {
        const Document& doc = c.documents()[d];
        std::vector<const Entry*> entries;
        std::vector<const Product*> products;
        for (const Entry& e : c.entries()) {
            if (e.document == d && sel.matches(e.vendor, e.product, e.edition)) entries.push_back(&e);
        }
        for (const Product& p : c.products()) {
            if (p.document == d && sel.matches(p.vendor, p.product, p.edition)) products.push_back(&p);
        }
        if (entries.empty() && products.empty()) continue;
        shown_entries += entries.size();
        shown_products += products.size();
        shown_docs.push_back(&doc);

        out += "== " + document_heading(doc, today) + "\n";
        if (!doc.url.empty()) {
            out += "   page: " + doc.url + (doc.title.empty() ? "" : " (\"" + doc.title + "\")") + "\n";
            out += "   transcribed " + doc.transcribed;
            if (!doc.list_version.empty()) out += " from list version " + doc.list_version;
            out += "; catalog file: " + doc.catalog_file + "\n";
        } else {
            out += "   source: " + join_strings(doc.sources, " + ");
            if (!doc.authoritative.empty() && doc.sources.size() > 1)
                out += " (authoritative: " + doc.authoritative + ")";
            out += "; catalog file: " + doc.catalog_file + "\n";
        }
        if (doc.prefers) {
            out += "   vendor prefers " + std::string(to_string(doc.prefers->preferred)) + ": \"" + doc.prefers->quote +
                   "\"\n";
        }
        if (doc.direction_assumed) {
            out += "   direction: not stated by the document; " + std::string(to_string(doc.direction)) +
                   " (clients to the vendor) assumed\n";
        }
        out += "\n";
        if (!entries.empty()) {
            TextTable t({"ID", "PRODUCT", "PROTO", "PORTS", "DESTINATIONS", "DIR", "REQUIRED", "CONDITIONS / REMARKS"});
            for (const Entry* e : entries) {
                std::vector<std::string> dests;
                for (const Destination& x : e->destinations) {
                    dests.push_back(x.kind == DestinationKind::Any ? "ANY (any address)" : x.pattern);
                }
                for (size_t i = 0; i < e->addresses.size(); ++i) {
                    const bool either = i == 0 && !e->destinations.empty();
                    dests.push_back((either ? "or " : "") + e->addresses[i].text());
                }
                std::vector<std::string> cond = schema2_remarks(*e);
                if (!e->conditions.empty()) {
                    for (auto& l : wrap_words(describe_conditions(e->conditions), kConditionsWidth)) cond.push_back(l);
                }
                if (e->any_fallback) cond.push_back("vendor: ANY if FQDN unsupported");
                if (e->third_party) cond.push_back("third-party names");
                std::vector<std::string> assumed;
                for (const std::string& a : e->assumed) {
                    // A document-wide assumption is said once in the heading.
                    if (!(a == "direction" && doc.direction_assumed && e->direction == doc.direction))
                        assumed.push_back(a);
                }
                if (!assumed.empty()) {
                    for (auto& l : wrap_words("assumed: " + join_strings(assumed, ", "), kConditionsWidth)) {
                        cond.push_back(l);
                    }
                }
                if (cond.empty()) cond.push_back("-");
                t.add({{e->id},
                       {e->product},
                       {std::string(to_string(e->transport))},
                       wrap_tokens(port_tokens(e->port_set), kPortsWidth),
                       dests,
                       {short_direction(e->direction)},
                       {e->required ? "yes" : "optional"},
                       cond});
            }
            out += t.render("   ");
        }
        for (const Product* p : products) {
            out += "\n   NOT ALLOW-LISTABLE: " + p->product + " [" + p->id + "]\n";
            for (const std::string& l : wrap_words("vendor advice: " + p->advice, 90)) out += "     " + l + "\n";
            if (!p->advice_link.empty()) out += "     link: " + p->advice_link + "\n";
        }
        out += "\n";
    }
    if (shown_entries + shown_products == 0) return "no catalog entries match the selection\n";
    out += "Catalog files: what dates each" +
           (today.empty() ? std::string() : ", and its age on " + std::string(today)) +
           " (a page's date; else its list's version; else the day it was transcribed)\n";
    out += files_table(shown_docs, today) + "\n";
    out += std::to_string(shown_entries) + " entries, " + std::to_string(shown_products) +
           " products that cannot be allow-listed; catalog sha256:" + c.digest() + "\n";
    out +=
        "Names: *.x.com = any name below x.com but not x.com; .x.com = x.com and any name below it; "
        "a bare name = that name only; ANY = any address.\n";
    out +=
        "DIR out = clients connect to these destination ports; in = the vendor's servers send to these local "
        "ports. 'catalog show ID' gives sources and notes.\n";
    return out;
}

std::optional<std::string> render_show(const Catalog& c, std::string_view id) {
    const auto line = show_line;
    const auto more = show_more;
    auto multiline = [&](std::string_view key, std::string_view text) {
        std::string s;
        auto lines = wrap_words(text, 80);
        for (size_t i = 0; i < lines.size(); ++i) s += i == 0 ? line(key, lines[i]) : more(lines[i]);
        return s;
    };
    if (const Entry* e = c.find_entry(id)) {
        const Document& doc = c.document_of(*e);
        std::string s;
        s += line("id", e->id);
        s += line("vendor", e->vendor);
        s += line("product", e->product);
        s += line("edition", (e->edition.empty() ? std::string("-") : e->edition) +
                                 (e->document_date.empty() ? " (undated document)"
                                                           : " (document dated " + e->document_date + ")"));
        s += line("service", e->service);
        s += line("transport", to_string(e->transport));
        std::string ports;
        for (size_t i = 0; i < e->ports.size(); ++i) ports += (i ? ", " : "") + port_range_text(e->ports[i]);
        s += line("ports", ports);
        for (size_t i = 0; i < e->destinations.size(); ++i) {
            const Destination& d = e->destinations[i];
            const std::string v = pad(d.pattern, 30) + " (" + explain_destination(d) + ")";
            s += i == 0 ? line("destinations", v) : more(v);
        }
        for (size_t i = 0; i < e->addresses.size(); ++i) {
            const AddressRange& r = e->addresses[i];
            const std::string v = i == 0 && !e->destinations.empty()
                                      ? pad(r.text(), 30) + " (or these addresses instead of the names)"
                                      : r.text();
            s += i == 0 ? line("addresses", v) : more(v);
        }
        if (!e->source_ports.empty()) {
            std::string p;
            for (size_t i = 0; i < e->source_ports.size(); ++i)
                p += (i ? ", " : "") + port_range_text(e->source_ports[i]);
            s += line("source ports", p + " (the client's, as the vendor constrains them)");
        }
        s += line("direction", to_string(e->direction));
        s += line("required", e->required ? "yes" : "no (optional)");
        if (!e->tier.empty()) s += line("tier", e->tier + " (the vendor's word)");
        if (e->fallback) {
            s += line("fallback chain", e->fallback->chain + ", step " + std::to_string(e->fallback->order) + ": " +
                                            e->fallback->label +
                                            (e->fallback->order == 1 ? " (the vendor's first choice)" : ""));
        }
        s += multiline("conditions", describe_conditions(e->conditions));
        if (e->conditions.local_config && !e->conditions.local_config->text.empty()) {
            for (const auto& l : wrap_words(e->conditions.local_config->text, 80)) s += more(l);
        }
        if (e->any_fallback) s += line("fallback", "the vendor allows ANY destination if FQDNs cannot be used");
        if (e->third_party) s += line("third party", "yes: these names do not show that the vendor is in use");
        s += show_source(*e, doc);
        s += more("section \"" + e->source.section + "\"");
        for (size_t i = 0; i < e->provenance.size(); ++i) {
            const std::string v = pad(e->provenance[i].field, 13) + join_strings(e->provenance[i].files, " + ");
            s += i == 0 ? line("provenance", v) : more(v);
        }
        if (!e->assumed.empty()) {
            s += line("assumed", join_strings(e->assumed, ", ") + " (not stated by the source)");
        }
        if (!e->notes.empty()) s += multiline("notes", e->notes);
        if (!e->probe_hosts.empty())
            s += line("probe hosts",
                      join_strings(e->probe_hosts, ", ") + " (names callwall probe uses for the wildcards)");
        if (doc.prefers)
            s += multiline("vendor prefers",
                           std::string(to_string(doc.prefers->preferred)) + ": \"" + doc.prefers->quote + "\"");
        if (e->has_names())
            s += line("export sets",
                      address_set_name(*e) + "_v4, " + address_set_name(*e) + "_v6 (filled by dnsmasq from the names)");
        if (!e->addresses.empty())
            s += e->has_names()
                     ? more(range_set_name(*e) + "_v4, " + range_set_name(*e) + "_v6 (the ranges)")
                     : line("export sets", range_set_name(*e) + "_v4, " + range_set_name(*e) + "_v6 (the ranges)");
        s += line("defined at", e->defined_at.file + ":" + std::to_string(e->defined_at.line));
        return s;
    }
    if (const Product* p = c.find_product(id)) {
        std::string s;
        s += line("id", p->id);
        s += line("vendor", p->vendor);
        s += line("product", p->product);
        s += line("edition", (p->edition.empty() ? std::string("-") : p->edition) +
                                 (p->document_date.empty() ? "" : " (document dated " + p->document_date + ")"));
        s += line("allow-list", "NOT SUPPORTED by the vendor");
        s += multiline("advice", p->advice);
        if (!p->advice_link.empty()) s += line("link", p->advice_link);
        s += line("source", p->source.file);
        s += more("section \"" + p->source.section + "\"");
        if (!p->notes.empty()) s += multiline("notes", p->notes);
        s += line("defined at", p->defined_at.file + ":" + std::to_string(p->defined_at.line));
        return s;
    }
    return std::nullopt;
}

}  // namespace callwall::catalog
