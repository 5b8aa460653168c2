// One catalog file parsed: the document, the products and the value getters
// (loader_parts.hpp). An entry's fields: entry_parser.cpp.
#include "catalog/loader_parts.hpp"
#include "util/terminal_text.hpp"

namespace callwall::catalog::loader_detail {

ParsedFile FileParser::parse(std::string_view text) {
    ParsedFile out;
    if (auto bad = prescan(text)) {
        error(bad->line, bad->column, "TOML syntax: " + bad->message);
        return out;
    }
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(file_));
    } catch (const toml::parse_error& e) {
        const auto& b = e.source().begin;
        error(b.line, b.column, "TOML syntax: " + std::string(e.description()));
        return out;
    } catch (const std::exception& e) {
        error(1, 1, std::string("TOML syntax: ") + e.what());
        return out;
    }
    check_keys(root, kRootKeys, "the top level");

    const toml::node* schema = root.get("schema");
    if (!schema) {
        error(1, 1, "missing key 'schema'; expected 'schema = 1' at the top of the file");
    } else if (!schema->is_integer() ||
               (schema->as_integer()->get() != kSchemaVersion && schema->as_integer()->get() != kSchemaVersion2)) {
        error_at(*schema, "unsupported schema " + describe_value(*schema) + "; expected schema = 1 or schema = 2");
    } else {
        schema_ = schema->as_integer()->get();
    }

    const toml::node* doc = root.get("document");
    if (!doc) {
        error(1, 1, "missing table [document]; expected [document] with at least vendor and sources");
        return out;
    }
    if (!doc->is_table()) {
        error_at(*doc, "expected [document] to be a table, got " + std::string(type_name(*doc)));
        return out;
    }
    out.has_document = true;
    parse_document(*doc->as_table(), out.document);

    if (const toml::node* products = root.get("product")) {
        for_each_table(*products, "product", [&](const toml::table& t) {
            if (auto p = parse_product(t, out.document)) out.products.push_back(std::move(*p));
        });
    }
    if (const toml::node* entries = root.get("entry")) {
        for_each_table(*entries, "entry", [&](const toml::table& t) {
            if (auto e = parse_entry(t, out.document, out.products)) out.entries.push_back(std::move(*e));
        });
    }
    if (!root.get("entry") && !root.get("product")) {
        error(1, 1, "the file defines no [[entry]] and no [[product]]; expected at least one");
    }
    mark_shared(*doc->as_table(), out);
    return out;
}

void FileParser::parse_shared(const toml::table& t, Document& d) {
    auto v = get_string_array(t, "shared", "[document]", false);
    if (!v || schema_ < kSchemaVersion2) return;
    {
        const toml::array& arr = *t.get("shared")->as_array();
        for (size_t i = 0; i < v->size(); ++i) {
            std::string reason;
            auto dst = parse_destination((*v)[i], &reason);
            if (!dst) {
                error_at(arr[i], "bad shared name " + quote((*v)[i]) + ": " + reason);
            } else if (dst->kind == DestinationKind::Any) {
                error_at(arr[i], "shared name ANY names no host; expected a name the vendor lists");
            } else if (std::any_of(d.shared.begin(), d.shared.end(),
                                   [&](const Destination& x) { return x.pattern == dst->pattern; })) {
                error_at(arr[i], "shared name " + quote((*v)[i]) + " is listed twice; expected each name once");
            } else {
                d.shared.push_back(std::move(*dst));
            }
        }
    }
}

void FileParser::mark_shared(const toml::table& doc_table, ParsedFile& out) {
    const toml::array* arr = doc_table.get("shared") ? doc_table.get("shared")->as_array() : nullptr;
    if (!arr || schema_ < kSchemaVersion2) return;
    size_t i = 0;
    for (const Destination& s : out.document.shared) {
        bool covers_one = false;
        for (Entry& e : out.entries)
            for (Destination& d : e.destinations)
                if (destination_covers(s, d)) d.shared = covers_one = true;
        // The items parsed in order; a bad item was already an error and left out.
        while (i < arr->size() && !((*arr)[i].is_string() && (*arr)[i].as_string()->get() == s.as_written)) ++i;
        if (!covers_one && i < arr->size())
            error_at((*arr)[i], "shared name " + quote(s.as_written) +
                                    " covers no destination of this document's entries; expected one of its names "
                                    "(or a pattern taking some of them)");
    }
}

void FileParser::error(uint32_t line, uint32_t column, std::string message) {
    diags_.push_back(Diagnostic{file_, line, column, std::move(message)});
}

void FileParser::error_at(const toml::source_region& r, std::string message) {
    error(r.begin.line, r.begin.column, std::move(message));
}

std::string FileParser::describe_value(const toml::node& n) {
    if (auto* i = n.as_integer()) return std::to_string(i->get());
    if (auto* s = n.as_string()) return quote(s->get());
    return std::string(type_name(n));
}

bool FileParser::clean_text(const toml::node& n, std::string_view s, bool lines) {
    if (s.find(kMojibake) != std::string_view::npos) {
        error_at(n,
                 "text looks mis-decoded (the bytes of UTF-8 read as Windows-1252, e.g. "
                 "'\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2' for '\xE2\x80\x99'); expected the intended characters");
        return false;
    }
    // Names reach the text report, the live view and nft comments: no
    // control character (a newline, an escape, a NUL that cuts a CSV field),
    // no C1 control, no bidirectional override. Notes may run over lines.
    bool safe = true;
    for (size_t at = 0; safe && at <= s.size();) {
        size_t end = lines ? s.find('\n', at) : std::string_view::npos;
        if (end == std::string_view::npos) end = s.size();
        safe = util::terminal_safe(s.substr(at, end - at));
        at = end + 1;
    }
    if (!safe) {
        error_at(n, "text holds a control character " + quote(s) +
                        (lines ? "; expected printable text (no tab, escape or NUL)"
                               : "; expected printable text on one line (no newline, tab, escape or NUL)"));
        return false;
    }
    return true;
}

std::optional<std::string> FileParser::get_string(const toml::table& t, std::string_view key, std::string_view where,
                                                  bool required, bool allow_empty) {
    const toml::node* n = t.get(key);
    if (!n) {
        if (required) {
            error_at(t, "missing key " + quote(key) + " in " + std::string(where) + "; expected a string");
        }
        return std::nullopt;
    }
    const auto* s = n->as_string();
    if (!s) {
        error_at(*n, "expected " + quote(key) + " to be a string, got " + std::string(type_name(*n)));
        return std::nullopt;
    }
    if (!allow_empty && s->get().empty()) {
        error_at(*n, quote(key) + " is empty; expected a non-empty string");
        return std::nullopt;
    }
    if (!clean_text(*n, s->get(), key == "notes")) return std::nullopt;
    return s->get();
}

std::optional<bool> FileParser::get_bool(const toml::table& t, std::string_view key, std::string_view where,
                                         bool required) {
    const toml::node* n = t.get(key);
    if (!n) {
        if (required) {
            error_at(t, "missing key " + quote(key) + " in " + std::string(where) + "; expected true or false");
        }
        return std::nullopt;
    }
    const auto* b = n->as_boolean();
    if (!b) {
        error_at(*n, "expected " + quote(key) + " to be true or false, got " + std::string(type_name(*n)));
        return std::nullopt;
    }
    return b->get();
}

std::optional<std::vector<std::string>> FileParser::get_string_array(const toml::table& t, std::string_view key,
                                                                     std::string_view where, bool required) {
    const toml::node* n = t.get(key);
    if (!n) {
        if (required) {
            error_at(t, "missing key " + quote(key) + " in " + std::string(where) + "; expected an array of strings");
        }
        return std::nullopt;
    }
    const toml::array* arr = n->as_array();
    if (!arr) {
        error_at(*n, "expected " + quote(key) + " to be an array of strings, got " + std::string(type_name(*n)));
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const toml::node& el : *arr) {
        const auto* s = el.as_string();
        if (!s) {
            error_at(el,
                     "expected each element of " + quote(key) + " to be a string, got " + std::string(type_name(el)));
            ok = false;
        } else if (s->get().empty()) {
            error_at(el, "empty string in " + quote(key) + "; expected a non-empty string");
            ok = false;
        } else if (!clean_text(el, s->get(), key == "notes")) {
            ok = false;
        } else {
            out.push_back(s->get());
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

const toml::table* FileParser::get_table(const toml::table& t, std::string_view key, std::string_view where,
                                         bool required, std::string_view expected) {
    const toml::node* n = t.get(key);
    if (!n) {
        if (required) {
            error_at(t,
                     "missing key " + quote(key) + " in " + std::string(where) + "; expected " + std::string(expected));
        }
        return nullptr;
    }
    if (!n->is_table()) {
        error_at(*n, "expected " + quote(key) + " to be a table (" + std::string(expected) + "), got " +
                         std::string(type_name(*n)));
        return nullptr;
    }
    return n->as_table();
}

std::optional<Direction> FileParser::parse_direction(const toml::node& n) {
    const auto* s = n.as_string();
    if (s && s->get() == "outbound") return Direction::Outbound;
    if (s && s->get() == "inbound") return Direction::Inbound;
    if (s && s->get() == "both") return Direction::Both;
    error_at(n, "unknown direction " + describe_value(n) + "; expected \"outbound\", \"inbound\" or \"both\"");
    return std::nullopt;
}

std::optional<Transport> FileParser::parse_transport(const toml::node& n) {
    const auto* s = n.as_string();
    if (s && s->get() == "tcp") return Transport::Tcp;
    if (s && s->get() == "udp") return Transport::Udp;
    error_at(n, "unknown transport " + describe_value(n) + "; expected \"tcp\" or \"udp\"");
    return std::nullopt;
}

std::optional<SourceRef> FileParser::parse_source(const toml::table& owner, std::string_view where, const Document& doc,
                                                  std::string_view table_name) {
    const toml::table* t = get_table(owner, "source", where, true,
                                     "a [" + std::string(table_name) + ".source] table with file and section");
    if (!t) return std::nullopt;
    const std::string name = "[" + std::string(table_name) + ".source]";
    check_keys(*t, kSourceKeys, kSourceKeys2, name);
    check_schema2_keys(*t, kSourceKeys2);
    // A web-page document (schema 2, [document] url) has no seed files: the
    // section alone places the entry, with its own url for a second page.
    const bool web_page = !doc.url.empty() && doc.sources.empty();
    std::optional<std::string> file;
    if (web_page) {
        if (const toml::node* f = t->get("file")) {
            error_at(*f, "'file' in " + name +
                             " names a seed file, but [document] gives a url and no sources; expected only "
                             "section (and url for another page)");
            return std::nullopt;
        }
    } else {
        file = get_string(*t, "file", name, true);
    }
    auto section = get_string(*t, "section", name, true);
    auto url = get_string(*t, "url", name, false);
    if (t->get("url") && !url) return std::nullopt;
    if (file && !doc.sources.empty() && std::find(doc.sources.begin(), doc.sources.end(), *file) == doc.sources.end()) {
        error_at(*t->get("file"), "source file " + quote(*file) +
                                      " is not listed in [document] sources; expected one of: " + join(doc.sources));
        return std::nullopt;
    }
    if ((!web_page && !file) || !section) return std::nullopt;
    return SourceRef{file.value_or(""), *section, url.value_or("")};
}

void FileParser::parse_document(const toml::table& t, Document& d) {
    check_keys(t, kDocumentKeys, kDocumentKeys2, "[document]");
    check_schema2_keys(t, kDocumentKeys2);
    d.catalog_file = file_;
    d.schema = static_cast<int>(schema_);
    // A schema-1 file's url (already an error) does not make it a web page.
    if (auto v = get_string(t, "url", "[document]", false); v && schema_ >= kSchemaVersion2) d.url = *v;
    if (auto v = get_string(t, "list_version", "[document]", false)) d.list_version = *v;
    if (auto v = get_bool(t, "undated", "[document]", false)) d.undated = *v;
    if (const toml::node* n = t.get("transcribed")) {
        if (const auto* dt = n->as_date()) {
            const toml::date& x = dt->get();
            char buf[16];
            std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", unsigned{x.year}, unsigned{x.month}, unsigned{x.day});
            d.transcribed = buf;
        } else {
            error_at(*n, "expected 'transcribed' to be a TOML date like 2026-11-26, got " + std::string(type_name(*n)));
        }
    }
    if (!d.url.empty()) {
        if (!t.get("transcribed")) {
            error_at(t,
                     "missing key 'transcribed' in [document]; a document with a url needs the day it was "
                     "transcribed, e.g. transcribed = 2026-11-26");
        }
        const bool dated = t.get("date") != nullptr;
        if (dated && d.undated) {
            error_at(*t.get("undated"), "[document] has both 'date' and undated = true; expected exactly one");
        } else if (!dated && !d.undated) {
            error_at(t,
                     "[document] has a url but neither 'date' nor undated = true; expected the date the page "
                     "shows, or undated = true when it shows none");
        }
    } else if (t.get("undated") || t.get("transcribed")) {
        const toml::node* n = t.get("undated") ? t.get("undated") : t.get("transcribed");
        if (schema_ >= kSchemaVersion2) {
            error_at(*n, "'undated' and 'transcribed' describe a web page; expected 'url' in [document] with them");
        }
    }
    if (auto v = get_string(t, "vendor", "[document]", true)) d.vendor = *v;
    if (auto v = get_string(t, "edition", "[document]", false)) d.edition = *v;
    if (const toml::node* n = t.get("date")) {
        if (const auto* dt = n->as_date()) {
            const toml::date& x = dt->get();
            char buf[16];
            std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", unsigned{x.year}, unsigned{x.month}, unsigned{x.day});
            d.date = buf;
        } else {
            error_at(*n, "expected 'date' to be a TOML date like 2020-09-15, got " + std::string(type_name(*n)));
        }
    }
    if (auto v = get_string(t, "date_as_written", "[document]", false)) d.date_as_written = *v;
    if (auto v = get_string(t, "title", "[document]", false)) d.title = *v;
    if (auto v = get_string_array(t, "sources", "[document]", d.url.empty())) {
        d.sources = *v;
        if (d.sources.empty()) {
            error_at(*t.get("sources"), "'sources' is empty; expected the seed file name(s) of this document");
        }
    }
    if (auto v = get_string(t, "authoritative", "[document]", false)) {
        if (std::find(d.sources.begin(), d.sources.end(), *v) == d.sources.end()) {
            error_at(*t.get("authoritative"),
                     "authoritative source " + quote(*v) + " is not in 'sources'; expected one of: " + join(d.sources));
        }
        d.authoritative = *v;
    } else if (d.sources.size() > 1 && !t.get("authoritative")) {
        error_at(t,
                 "missing key 'authoritative' in [document]; expected the source that wins when "
                 "several sources disagree");
    }
    if (auto v = get_string(t, "reconciliation", "[document]", false)) d.reconciliation = *v;
    if (const toml::node* n = t.get("direction")) {
        if (auto dir = parse_direction(*n)) d.direction = *dir;
    }
    if (auto v = get_bool(t, "direction_assumed", "[document]", false)) d.direction_assumed = *v;
    if (auto v = get_string_array(t, "notes", "[document]", false)) d.notes = *v;
    parse_shared(t, d);
    if (const toml::table* p = get_table(t, "prefers", "[document]", false,
                                         "a [document.prefers] table with transport, quote and section")) {
        check_keys(*p, kPrefersKeys, "[document.prefers]");
        TransportPreference pref;
        bool ok = true;
        if (const toml::node* n = p->get("transport")) {
            if (auto tr = parse_transport(*n))
                pref.preferred = *tr;
            else
                ok = false;
        } else {
            error_at(*p, "missing key 'transport' in [document.prefers]; expected \"tcp\" or \"udp\"");
            ok = false;
        }
        auto quote_text = get_string(*p, "quote", "[document.prefers]", true);
        auto section = get_string(*p, "section", "[document.prefers]", true);
        auto file = get_string(*p, "file", "[document.prefers]", false);
        if (file && std::find(d.sources.begin(), d.sources.end(), *file) == d.sources.end()) {
            error_at(*p->get("file"), "source file " + quote(*file) +
                                          " is not listed in [document] sources; expected one of: " + join(d.sources));
            ok = false;
        }
        if (ok && quote_text && section) {
            pref.quote = *quote_text;
            pref.source.section = *section;
            pref.source.file = file                       ? *file
                               : !d.authoritative.empty() ? d.authoritative
                               : d.sources.empty()        ? std::string()
                                                          : d.sources.front();
            d.prefers = std::move(pref);
        }
    }
}

std::optional<std::string> FileParser::parse_id(const toml::table& t, std::string_view where) {
    auto id = get_string(t, "id", where, true);
    if (id && !valid_id(*id)) {
        error_at(*t.get("id"), "invalid id " + quote(*id) +
                                   "; expected up to 64 lowercase letters, digits, '.', '-' or '_', "
                                   "starting with a letter or digit");
        return std::nullopt;
    }
    return id;
}

std::optional<Product> FileParser::parse_product(const toml::table& t, const Document& doc) {
    auto id = parse_id(t, "[[product]]");
    const std::string where = "[[product]]" + (id ? " " + quote(*id) : std::string());
    check_keys(t, kProductKeys, where);
    Product p;
    bool ok = id.has_value();
    if (id) p.id = *id;
    if (auto v = get_string(t, "product", where, true))
        p.product = *v;
    else
        ok = false;
    if (auto v = get_bool(t, "allowlist_supported", where, true)) {
        if (*v) {
            error_at(*t.get("allowlist_supported"),
                     "allowlist_supported = true in [[product]]; expected false (products with rules are "
                     "described by [[entry]] tables)");
            ok = false;
        }
    } else {
        ok = false;
    }
    if (auto v = get_string(t, "advice", where, true))
        p.advice = *v;
    else
        ok = false;
    if (auto v = get_string(t, "advice_link", where, false)) p.advice_link = *v;
    if (auto v = get_string(t, "notes", where, false)) p.notes = *v;
    if (auto s = parse_source(t, where, doc, "product"))
        p.source = *s;
    else
        ok = false;
    p.vendor = doc.vendor;
    p.edition = doc.edition;
    p.document_date = doc.date;
    p.defined_at = Location{file_, t.source().begin.line, t.source().begin.column};
    if (!ok) return std::nullopt;
    return p;
}

}  // namespace callwall::catalog::loader_detail
