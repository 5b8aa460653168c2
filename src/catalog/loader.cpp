// Catalog loader: TOML (toml++) → validated Entry/Product/Document values →
// immutable indexes. Every problem becomes a Diagnostic with file:line:column
// and what was expected; loading goes on after an error so that one run lists
// them all. Schema: catalog/README.md.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <toml++/toml.h>

#include "callwall/catalog/catalog.hpp"

namespace callwall::catalog {

namespace {

constexpr int64_t kSchemaVersion = 1;
constexpr std::string_view kBundledCatalogSubdir = "share/callwall/catalog";
constexpr size_t kMaxIdLength = 64;  // ids go into nft comments (max 128 bytes) with room to spare

// UTF-8 text decoded as Windows-1252 turns ’ into "â€™": refuse to carry that on.
constexpr std::string_view kMojibake = "\xC3\xA2\xE2\x82\xAC";

constexpr std::string_view kRootKeys[] = {"schema", "document", "product", "entry"};
constexpr std::string_view kDocumentKeys[] = {"vendor",    "edition",           "date",          "date_as_written",
                                              "title",     "sources",           "authoritative", "reconciliation",
                                              "direction", "direction_assumed", "prefers",       "notes"};
constexpr std::string_view kPrefersKeys[] = {"transport", "quote", "file", "section"};
constexpr std::string_view kProductKeys[] = {"id",     "product", "allowlist_supported", "advice", "advice_link",
                                             "source", "notes"};
constexpr std::string_view kEntryKeys[] = {
    "id",          "product",      "service",    "transport", "ports",      "destinations", "direction", "required",
    "third_party", "any_fallback", "conditions", "source",    "provenance", "assumed",      "notes",     "probe_hosts"};
constexpr std::string_view kSourceKeys[] = {"file", "section"};
constexpr std::string_view kConditionKeys[] = {"sdk_version", "feature", "local_config"};
constexpr std::string_view kSdkKeys[] = {"text", "min", "below"};
constexpr std::string_view kLocalConfigKeys[] = {"key", "recommended", "text"};
// Fields an entry's provenance/assumed lists may name.
constexpr std::string_view kProvenanceFields[] = {"service",  "transport",  "ports",       "destinations", "direction",
                                                  "required", "conditions", "third_party", "notes"};
// Fields a multi-source document must give provenance for (unless assumed).
constexpr std::string_view kProvenanceRequired[] = {"service", "transport", "ports", "destinations"};

template <size_t N>
std::string join(const std::string_view (&keys)[N]) {
    std::string s;
    for (size_t i = 0; i < N; ++i) {
        if (i) s += ", ";
        s += keys[i];
    }
    return s;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += ", ";
        s += v[i];
    }
    return s;
}

template <size_t N>
bool contains(const std::string_view (&keys)[N], std::string_view k) {
    return std::find(std::begin(keys), std::end(keys), k) != std::end(keys);
}

std::string_view type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxIdLength) return false;
    auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!ok_first(id.front())) return false;
    return std::all_of(id.begin(), id.end(), [&](char c) { return ok_first(c) || c == '.' || c == '-' || c == '_'; });
}

bool valid_version(std::string_view v) {
    if (v.empty()) return false;
    size_t parts = 1;
    bool digit_seen = false;
    for (char c : v) {
        if (c == '.') {
            if (!digit_seen) return false;
            digit_seen = false;
            ++parts;
        } else if (c >= '0' && c <= '9') {
            digit_seen = true;
        } else {
            return false;
        }
    }
    return digit_seen && parts <= 4;
}

bool version_less(std::string_view a, std::string_view b) {
    SdkVersionCondition probe;
    probe.below = std::string(b);
    return probe.applies_to(a);
}

// A value in a message: quoted, with control bytes (a NUL, an escape
// sequence) written as \xNN so that they never reach the terminal raw.
std::string quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", u);
            out += hex;
        } else {
            out += c;
        }
    }
    return out + "'";
}

std::string port_range_text(int64_t lo, int64_t hi) {
    return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

// Guard for toml++ 3.3 (Debian bookworm). Two of its parser paths are
// undefined behaviour on some inputs, both found by tests/fuzz/catalog_fuzz.cpp
// and both known upstream:
//   - a table header whose name starts with a character that cannot start a key
//     ("[&x]", "[\n"): an assume/assert in parse_key (marzer/tomlplusplus #294);
//   - some non-ASCII code points where the parser tests for whitespace: outside
//     strings and comments, or first after a line-ending backslash in a
//     multi-line basic string: TOML_UNREACHABLE in
//     is_non_ascii_horizontal_whitespace (#190, #295).
// A small lexer finds these shapes first. All but the line-ending-backslash
// case are invalid TOML anyway; that one is valid but vanishingly rare in a
// catalog, and rejecting it with a clear message beats undefined behaviour.
struct PrescanError {
    uint32_t line = 0;
    uint32_t column = 0;
    std::string message;
};

constexpr bool is_bare_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::optional<PrescanError> prescan(std::string_view t) {
    enum class State { Normal, Comment, Basic, Literal, MlBasic, MlLiteral };
    State state = State::Normal;
    uint32_t line = 1, column = 1;
    int depth = 0;  // [ and { nesting outside strings: a '[' at depth 0 first on a line opens a table header
    bool line_start = true;
    size_t i = 0;
    // Columns count code points, as toml++ does.
    auto position_of = [&](size_t target) {
        uint32_t l = line, c = column;
        for (size_t k = i; k < target && k < t.size(); ++k) {
            if (t[k] == '\n') {
                ++l;
                c = 1;
            } else if ((static_cast<unsigned char>(t[k]) & 0xC0) != 0x80) {
                ++c;
            }
        }
        return std::pair{l, c};
    };
    auto advance = [&](size_t n) {
        for (size_t k = 0; k < n && i < t.size(); ++k, ++i) {
            if (t[i] == '\n') {
                ++line;
                column = 1;
            } else if ((static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) {
                ++column;
            }
        }
    };
    auto fail = [&](size_t at, std::string message) {
        auto [l, c] = position_of(at);
        return PrescanError{l, c, std::move(message)};
    };
    if (t.substr(0, 3) == "\xEF\xBB\xBF")
        return fail(0,
                    "the file starts with a UTF-8 byte order mark (BOM); expected UTF-8 without a BOM (save the "
                    "file again without it)");
    while (i < t.size()) {
        const char c = t[i];
        switch (state) {
            case State::Normal:
                if (c == '\n') {
                    line_start = true;
                    advance(1);
                } else if (c == ' ' || c == '\t' || c == '\r') {
                    advance(1);
                } else if (c == '#') {
                    state = State::Comment;
                    advance(1);
                } else if (static_cast<unsigned char>(c) >= 0x80) {
                    return fail(i,
                                "non-ASCII character outside a quoted string or comment; expected it only inside "
                                "quotes or after '#'");
                } else if (c == '"' || c == '\'') {
                    const bool multi = t.substr(i, 3) == std::string(3, c);
                    state = c == '"' ? (multi ? State::MlBasic : State::Basic)
                                     : (multi ? State::MlLiteral : State::Literal);
                    line_start = false;
                    advance(multi ? 3 : 1);
                } else if (c == '[' && line_start && depth == 0) {
                    size_t j = i + 1;
                    if (j < t.size() && t[j] == '[') ++j;
                    while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
                    if (j < t.size() && !is_bare_key_char(t[j]) && t[j] != '"' && t[j] != '\'' && t[j] != ']' &&
                        t[j] != '[') {
                        return fail(j, "expected a table name (a bare key or a quoted string) after '['");
                    }
                    ++depth;
                    line_start = false;
                    advance(1);
                } else {
                    if (c == '[' || c == '{') ++depth;
                    if ((c == ']' || c == '}') && depth > 0) --depth;
                    line_start = false;
                    advance(1);
                }
                break;
            case State::Comment:
                if (c == '\n')
                    state = State::Normal;  // the newline itself is handled in Normal
                else
                    advance(1);
                break;
            case State::Basic:
            case State::Literal:
                if (c == '\n' || (state == State::Basic ? c == '"' : c == '\'')) state = State::Normal;
                if (c == '\n') break;
                advance(state == State::Basic && c == '\\' ? 2 : 1);
                break;
            case State::MlBasic:
            case State::MlLiteral: {
                const char q = state == State::MlBasic ? '"' : '\'';
                if (t.substr(i, 3) == std::string(3, q)) {
                    size_t run = 0;
                    while (i + run < t.size() && t[i + run] == q && run < 5) ++run;
                    state = State::Normal;
                    line_start = false;
                    advance(run);
                } else if (state == State::MlBasic && c == '\\') {
                    size_t j = i + 1;
                    while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r')) ++j;
                    if (j < t.size() &&
                        t[j] == '\n') {  // line-ending backslash: whitespace up to the next text is trimmed
                        while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n')) ++j;
                        if (j < t.size() && static_cast<unsigned char>(t[j]) >= 0x80) {
                            return fail(j,
                                        "non-ASCII character first after a line-ending backslash in a multi-line "
                                        "string (toml++ 3.3 mishandles it); expected an ASCII character first");
                        }
                        advance(j - i);
                    } else {
                        advance(2);
                    }
                } else {
                    advance(1);
                }
                break;
            }
        }
    }
    return std::nullopt;
}

// Parsed pieces of one file before indexes are built.
struct ParsedFile {
    Document document;
    std::vector<Entry> entries;
    std::vector<Product> products;
    bool has_document = false;
};

class FileParser {
public:
    FileParser(std::string file, std::vector<Diagnostic>& diags) : file_(std::move(file)), diags_(diags) {}

    ParsedFile parse(std::string_view text) {
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
        } else if (!schema->is_integer() || schema->as_integer()->get() != kSchemaVersion) {
            error_at(*schema, "unsupported schema " + describe_value(*schema) + "; expected schema = 1");
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
        return out;
    }

    size_t error_count() const { return errors_; }

private:
    void error(uint32_t line, uint32_t column, std::string message) {
        diags_.push_back(Diagnostic{file_, line, column, std::move(message)});
        ++errors_;
    }
    void error_at(const toml::source_region& r, std::string message) {
        error(r.begin.line, r.begin.column, std::move(message));
    }
    void error_at(const toml::node& n, std::string message) { error_at(n.source(), std::move(message)); }

    std::string describe_value(const toml::node& n) {
        if (auto* i = n.as_integer()) return std::to_string(i->get());
        if (auto* s = n.as_string()) return quote(s->get());
        return std::string(type_name(n));
    }

    template <size_t N>
    void check_keys(const toml::table& t, const std::string_view (&allowed)[N], std::string_view where) {
        for (auto&& [k, v] : t) {
            (void)v;
            if (!contains(allowed, k.str())) {
                error_at(k.source(), "unknown key " + quote(k.str()) + " in " + std::string(where) +
                                         "; expected one of: " + join(allowed));
            }
        }
    }

    template <class F>
    void for_each_table(const toml::node& n, std::string_view name, F&& f) {
        const toml::array* arr = n.as_array();
        if (!arr) {
            error_at(n, "expected [[" + std::string(name) + "]] tables (an array of tables), got " +
                            std::string(type_name(n)));
            return;
        }
        for (const toml::node& el : *arr) {
            if (const toml::table* t = el.as_table()) {
                f(*t);
            } else {
                error_at(el,
                         "expected each " + std::string(name) + " to be a table, got " + std::string(type_name(el)));
            }
        }
    }

    // Checks text for mojibake; returns false (after an error) if found.
    bool clean_text(const toml::node& n, std::string_view s) {
        if (s.find(kMojibake) != std::string_view::npos) {
            error_at(n,
                     "text looks mis-decoded (the bytes of UTF-8 read as Windows-1252, e.g. "
                     "'\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2' for '\xE2\x80\x99'); expected the intended characters");
            return false;
        }
        return true;
    }

    // String getter: missing (if required), wrong type and empty are errors.
    std::optional<std::string> get_string(const toml::table& t, std::string_view key, std::string_view where,
                                          bool required, bool allow_empty = false) {
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
        if (!clean_text(*n, s->get())) return std::nullopt;
        return s->get();
    }

    std::optional<bool> get_bool(const toml::table& t, std::string_view key, std::string_view where, bool required) {
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

    std::optional<std::vector<std::string>> get_string_array(const toml::table& t, std::string_view key,
                                                             std::string_view where, bool required) {
        const toml::node* n = t.get(key);
        if (!n) {
            if (required) {
                error_at(t,
                         "missing key " + quote(key) + " in " + std::string(where) + "; expected an array of strings");
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
                error_at(el, "expected each element of " + quote(key) + " to be a string, got " +
                                 std::string(type_name(el)));
                ok = false;
            } else if (s->get().empty()) {
                error_at(el, "empty string in " + quote(key) + "; expected a non-empty string");
                ok = false;
            } else if (!clean_text(el, s->get())) {
                ok = false;
            } else {
                out.push_back(s->get());
            }
        }
        if (!ok) return std::nullopt;
        return out;
    }

    const toml::table* get_table(const toml::table& t, std::string_view key, std::string_view where, bool required,
                                 std::string_view expected) {
        const toml::node* n = t.get(key);
        if (!n) {
            if (required) {
                error_at(t, "missing key " + quote(key) + " in " + std::string(where) + "; expected " +
                                std::string(expected));
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

    std::optional<Direction> parse_direction(const toml::node& n) {
        const auto* s = n.as_string();
        if (s && s->get() == "outbound") return Direction::Outbound;
        if (s && s->get() == "inbound") return Direction::Inbound;
        if (s && s->get() == "both") return Direction::Both;
        error_at(n, "unknown direction " + describe_value(n) + "; expected \"outbound\", \"inbound\" or \"both\"");
        return std::nullopt;
    }

    std::optional<Transport> parse_transport(const toml::node& n) {
        const auto* s = n.as_string();
        if (s && s->get() == "tcp") return Transport::Tcp;
        if (s && s->get() == "udp") return Transport::Udp;
        error_at(n, "unknown transport " + describe_value(n) + "; expected \"tcp\" or \"udp\"");
        return std::nullopt;
    }

    std::optional<SourceRef> parse_source(const toml::table& owner, std::string_view where, const Document& doc,
                                          std::string_view table_name) {
        const toml::table* t = get_table(owner, "source", where, true,
                                         "a [" + std::string(table_name) + ".source] table with file and section");
        if (!t) return std::nullopt;
        check_keys(*t, kSourceKeys, "[" + std::string(table_name) + ".source]");
        auto file = get_string(*t, "file", "[" + std::string(table_name) + ".source]", true);
        auto section = get_string(*t, "section", "[" + std::string(table_name) + ".source]", true);
        if (file && !doc.sources.empty() &&
            std::find(doc.sources.begin(), doc.sources.end(), *file) == doc.sources.end()) {
            error_at(*t->get("file"),
                     "source file " + quote(*file) +
                         " is not listed in [document] sources; expected one of: " + join(doc.sources));
            return std::nullopt;
        }
        if (!file || !section) return std::nullopt;
        return SourceRef{*file, *section};
    }

    void parse_document(const toml::table& t, Document& d) {
        check_keys(t, kDocumentKeys, "[document]");
        d.catalog_file = file_;
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
        if (auto v = get_string_array(t, "sources", "[document]", true)) {
            d.sources = *v;
            if (d.sources.empty()) {
                error_at(*t.get("sources"), "'sources' is empty; expected the seed file name(s) of this document");
            }
        }
        if (auto v = get_string(t, "authoritative", "[document]", false)) {
            if (std::find(d.sources.begin(), d.sources.end(), *v) == d.sources.end()) {
                error_at(*t.get("authoritative"), "authoritative source " + quote(*v) +
                                                      " is not in 'sources'; expected one of: " + join(d.sources));
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
                error_at(*p->get("file"),
                         "source file " + quote(*file) +
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

    std::optional<std::string> parse_id(const toml::table& t, std::string_view where) {
        auto id = get_string(t, "id", where, true);
        if (id && !valid_id(*id)) {
            error_at(*t.get("id"), "invalid id " + quote(*id) +
                                       "; expected up to 64 lowercase letters, digits, '.', '-' or '_', "
                                       "starting with a letter or digit");
            return std::nullopt;
        }
        return id;
    }

    std::optional<Product> parse_product(const toml::table& t, const Document& doc) {
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

    // One port: an integer 1..65535.
    std::optional<uint16_t> parse_port(const toml::node& n) {
        const auto* i = n.as_integer();
        if (!i) {
            error_at(n, "expected a port (an integer from 1 to 65535), got " + std::string(type_name(n)));
            return std::nullopt;
        }
        const int64_t v = i->get();
        if (v < 1 || v > 65535) {
            error_at(n, "port " + std::to_string(v) + " is out of range; expected an integer from 1 to 65535");
            return std::nullopt;
        }
        return static_cast<uint16_t>(v);
    }

    std::optional<std::vector<PortRange>> parse_ports(const toml::table& t, std::string_view where) {
        const toml::node* n = t.get("ports");
        if (!n) {
            error_at(t, "missing key 'ports' in " + std::string(where) +
                            "; expected an array of ports and [low, high] ranges");
            return std::nullopt;
        }
        const toml::array* arr = n->as_array();
        if (!arr) {
            error_at(*n, "expected 'ports' to be an array of ports and [low, high] ranges, got " +
                             std::string(type_name(*n)));
            return std::nullopt;
        }
        if (arr->empty()) {
            error_at(*n, "'ports' is empty; expected at least one port or [low, high] range");
            return std::nullopt;
        }
        std::vector<PortRange> out;
        bool ok = true;
        for (const toml::node& el : *arr) {
            if (el.is_integer()) {
                if (auto p = parse_port(el))
                    out.push_back({*p, *p});
                else
                    ok = false;
            } else if (const toml::array* r = el.as_array()) {
                if (r->size() != 2) {
                    error_at(el, "a port range needs exactly 2 elements, got " + std::to_string(r->size()) +
                                     "; expected [low, high]");
                    ok = false;
                    continue;
                }
                auto lo = parse_port(*r->get(0));
                auto hi = parse_port(*r->get(1));
                if (!lo || !hi) {
                    ok = false;
                    continue;
                }
                if (*lo > *hi) {
                    error_at(el, "reversed port range " + port_range_text(*lo, *hi) +
                                     "; expected [low, high] with low <= high");
                    ok = false;
                    continue;
                }
                out.push_back({*lo, *hi});
            } else {
                error_at(el, "expected a port (an integer from 1 to 65535) or a range [low, high], got " +
                                 std::string(type_name(el)));
                ok = false;
            }
        }
        if (!ok) return std::nullopt;
        return out;
    }

    std::optional<std::vector<Destination>> parse_destinations(const toml::table& t, std::string_view where) {
        const toml::node* n = t.get("destinations");
        if (!n) {
            error_at(t, "missing key 'destinations' in " + std::string(where) +
                            "; expected an array of names (\"*.x.com\", \".x.com\", \"host.x.com\") or [\"ANY\"]");
            return std::nullopt;
        }
        const toml::array* arr = n->as_array();
        if (!arr) {
            error_at(*n, "expected 'destinations' to be an array of strings, got " + std::string(type_name(*n)));
            return std::nullopt;
        }
        if (arr->empty()) {
            error_at(*n, "'destinations' is empty; expected at least one name, or [\"ANY\"]");
            return std::nullopt;
        }
        std::vector<Destination> out;
        std::vector<const toml::node*> nodes;
        bool ok = true;
        for (const toml::node& el : *arr) {
            const auto* s = el.as_string();
            if (!s) {
                error_at(el, "expected each destination to be a string, got " + std::string(type_name(el)));
                ok = false;
                continue;
            }
            std::string reason;
            auto d = parse_destination(s->get(), &reason);
            if (!d) {
                error_at(el, "malformed destination " + quote(s->get()) + ": " + reason +
                                 "; expected '*.example.com', '.example.com', 'host.example.com' or 'ANY'");
                ok = false;
                continue;
            }
            for (size_t i = 0; i < out.size(); ++i) {
                if (out[i].pattern == d->pattern) {
                    error_at(el, "duplicate destination " + quote(s->get()) + " (same as " + quote(out[i].as_written) +
                                     "); expected each destination once");
                    ok = false;
                }
            }
            out.push_back(std::move(*d));
            nodes.push_back(&el);
        }
        if (ok && out.size() > 1) {
            for (size_t i = 0; i < out.size(); ++i) {
                if (out[i].kind == DestinationKind::Any) {
                    error_at(*nodes[i],
                             "'ANY' cannot be combined with names in one entry; expected either "
                             "[\"ANY\"] or a list of names");
                    ok = false;
                }
            }
        }
        if (!ok) return std::nullopt;
        return out;
    }

    // probe_hosts: concrete names for `callwall probe`, each one a name (no
    // wildcard) that one of the entry's destinations matches.
    bool parse_probe_hosts(const toml::table& t, Entry& e) {
        const toml::node* n = t.get("probe_hosts");
        if (!n) return true;
        const toml::array* arr = n->as_array();
        if (!arr) {
            error_at(*n, "expected 'probe_hosts' to be an array of host names, got " + std::string(type_name(*n)));
            return false;
        }
        bool ok = true;
        for (const toml::node& el : *arr) {
            const auto* s = el.as_string();
            if (!s) {
                error_at(el, "expected each probe host to be a string, got " + std::string(type_name(el)));
                ok = false;
                continue;
            }
            std::string reason;
            const auto d = parse_destination(s->get(), &reason);
            if (!d || d->kind != DestinationKind::Exact) {
                error_at(el, "malformed probe host " + quote(s->get()) +
                                 "; expected a host name such as 'a.turn.example.com' (no wildcard)");
                ok = false;
                continue;
            }
            const std::string host(d->pattern);
            if (std::none_of(e.destinations.begin(), e.destinations.end(),
                             [&](const Destination& x) { return destination_matches(x, host); })) {
                error_at(el, "probe host " + quote(s->get()) +
                                 " matches none of the entry's destinations; expected a name under one of them");
                ok = false;
                continue;
            }
            if (std::find(e.probe_hosts.begin(), e.probe_hosts.end(), host) != e.probe_hosts.end()) {
                error_at(el, "duplicate probe host " + quote(s->get()) + "; expected each once");
                ok = false;
                continue;
            }
            e.probe_hosts.push_back(host);
        }
        return ok;
    }

    bool parse_conditions(const toml::table& t, std::string_view where, Entry& e) {
        const toml::table* c = get_table(t, "conditions", where, false, "sdk_version, feature and/or local_config");
        if (!c) return !t.get("conditions");
        check_keys(*c, kConditionKeys, "[entry.conditions]");
        bool ok = true;
        if (const toml::table* s =
                get_table(*c, "sdk_version", "[entry.conditions]", false, "text and min and/or below")) {
            check_keys(*s, kSdkKeys, "[entry.conditions.sdk_version]");
            SdkVersionCondition v;
            auto text = get_string(*s, "text", "[entry.conditions.sdk_version]", true);
            auto min = get_string(*s, "min", "[entry.conditions.sdk_version]", false);
            auto below = get_string(*s, "below", "[entry.conditions.sdk_version]", false);
            if (!text) ok = false;
            if (min && !valid_version(*min)) {
                error_at(*s->get("min"), "invalid version " + quote(*min) + "; expected dotted numbers like 2.9.0");
                ok = false;
            }
            if (below && !valid_version(*below)) {
                error_at(*s->get("below"), "invalid version " + quote(*below) + "; expected dotted numbers like 2.9.0");
                ok = false;
            }
            if (!s->get("min") && !s->get("below")) {
                error_at(*s,
                         "[entry.conditions.sdk_version] has neither 'min' nor 'below'; expected at least one "
                         "bound");
                ok = false;
            }
            if (ok && min && below && !version_less(*min, *below)) {
                error_at(*s->get("below"),
                         "version range is empty (min " + *min + ", below " + *below + "); expected min < below");
                ok = false;
            }
            if (ok) {
                v.text = *text;
                v.min = min.value_or("");
                v.below = below.value_or("");
                e.conditions.sdk_version = std::move(v);
            }
        } else if (c->get("sdk_version")) {
            ok = false;
        }
        if (const toml::node* f = c->get("feature")) {
            if (auto v = get_string(*c, "feature", "[entry.conditions]", false))
                e.conditions.feature = *v;
            else
                ok = false;
            (void)f;
        }
        if (const toml::table* l =
                get_table(*c, "local_config", "[entry.conditions]", false, "key, recommended and text")) {
            check_keys(*l, kLocalConfigKeys, "[entry.conditions.local_config]");
            LocalConfigCondition lc;
            auto key = get_string(*l, "key", "[entry.conditions.local_config]", true);
            if (key)
                lc.key = *key;
            else
                ok = false;
            if (auto v = get_string(*l, "text", "[entry.conditions.local_config]", false)) lc.text = *v;
            if (const toml::node* r = l->get("recommended")) {
                const toml::array* arr = r->as_array();
                if (!arr || arr->size() != 2) {
                    error_at(*r, "expected 'recommended' to be a port range [low, high]");
                    ok = false;
                } else {
                    auto lo = parse_port(*arr->get(0));
                    auto hi = parse_port(*arr->get(1));
                    if (lo && hi && *lo > *hi) {
                        error_at(*r, "reversed port range " + port_range_text(*lo, *hi) +
                                         "; expected [low, high] with low <= high");
                        ok = false;
                    } else if (lo && hi) {
                        lc.recommended = PortRange{*lo, *hi};
                    } else {
                        ok = false;
                    }
                }
            }
            if (ok) e.conditions.local_config = std::move(lc);
        } else if (c->get("local_config")) {
            ok = false;
        }
        return ok;
    }

    std::optional<std::vector<std::string>> parse_field_list(const toml::table& t, std::string_view key,
                                                             std::string_view where) {
        auto list = get_string_array(t, key, where, false);
        if (!list) return list;
        const toml::array& arr = *t.get(key)->as_array();
        bool ok = true;
        for (size_t i = 0; i < list->size(); ++i) {
            if (!contains(kProvenanceFields, (*list)[i])) {
                error_at(*arr.get(i), "unknown field " + quote((*list)[i]) + " in " + quote(key) +
                                          "; expected one of: " + join(kProvenanceFields));
                ok = false;
            }
        }
        if (!ok) return std::nullopt;
        return list;
    }

    bool parse_provenance(const toml::table& t, std::string_view where, const Document& doc, Entry& e) {
        bool ok = true;
        const toml::table* p = get_table(t, "provenance", where, false, "field = [source files]");
        if (!p && t.get("provenance")) return false;
        if (p) {
            for (auto&& [k, v] : *p) {
                if (!contains(kProvenanceFields, k.str())) {
                    error_at(k.source(), "unknown key " + quote(k.str()) +
                                             " in [entry.provenance]; expected one of: " + join(kProvenanceFields));
                    ok = false;
                    continue;
                }
                auto files = get_string_array(*p, k.str(), "[entry.provenance]", true);
                if (!files) {
                    ok = false;
                    continue;
                }
                if (files->empty()) {
                    error_at(v, "provenance of " + quote(k.str()) + " is empty; expected the source file(s)");
                    ok = false;
                    continue;
                }
                const toml::array& arr = *v.as_array();
                for (size_t i = 0; i < files->size(); ++i) {
                    if (std::find(doc.sources.begin(), doc.sources.end(), (*files)[i]) == doc.sources.end()) {
                        error_at(*arr.get(i),
                                 "source file " + quote((*files)[i]) +
                                     " is not listed in [document] sources; expected one of: " + join(doc.sources));
                        ok = false;
                    }
                }
                e.provenance.push_back(FieldProvenance{std::string(k.str()), *files});
            }
        }
        if (doc.sources.size() > 1) {
            for (std::string_view f : kProvenanceRequired) {
                const bool has = std::any_of(e.provenance.begin(), e.provenance.end(),
                                             [&](const FieldProvenance& fp) { return fp.field == f; });
                const bool assumed = std::find(e.assumed.begin(), e.assumed.end(), f) != e.assumed.end();
                if (!has && !assumed) {
                    error_at(p ? p->source() : t.source(),
                             "missing provenance for " + quote(f) + " in " + std::string(where) +
                                 "; the document has several sources, expected [entry.provenance] " + std::string(f) +
                                 " = [source files]");
                    ok = false;
                }
            }
        }
        for (const FieldProvenance& fp : e.provenance) {
            if (std::find(e.assumed.begin(), e.assumed.end(), fp.field) != e.assumed.end()) {
                error_at(p->source(),
                         "field " + quote(fp.field) + " is both assumed and sourced; expected one or the other");
                ok = false;
            }
        }
        return ok;
    }

    std::optional<Entry> parse_entry(const toml::table& t, const Document& doc, const std::vector<Product>& products) {
        auto id = parse_id(t, "[[entry]]");
        const std::string where = "[[entry]]" + (id ? " " + quote(*id) : std::string());
        check_keys(t, kEntryKeys, where);
        Entry e;
        bool ok = id.has_value();
        if (id) e.id = *id;
        e.vendor = doc.vendor;
        e.edition = doc.edition;
        e.document_date = doc.date;
        e.defined_at = Location{file_, t.source().begin.line, t.source().begin.column};
        if (auto v = get_string(t, "product", where, true)) {
            e.product = *v;
            for (const Product& p : products) {
                if (p.product == *v) {
                    error_at(*t.get("product"), "product " + quote(*v) + " is recorded as not allow-listable at " +
                                                    p.defined_at.file + ":" + std::to_string(p.defined_at.line) + ":" +
                                                    std::to_string(p.defined_at.column) +
                                                    "; expected no [[entry]] for it");
                    ok = false;
                }
            }
        } else {
            ok = false;
        }
        if (auto v = get_string(t, "service", where, true))
            e.service = *v;
        else
            ok = false;
        if (const toml::node* n = t.get("transport")) {
            if (auto tr = parse_transport(*n))
                e.transport = *tr;
            else
                ok = false;
        } else {
            error_at(t, "missing key 'transport' in " + where + "; expected \"tcp\" or \"udp\"");
            ok = false;
        }
        if (auto ports = parse_ports(t, where))
            e.ports = std::move(*ports);
        else
            ok = false;
        if (auto d = parse_destinations(t, where))
            e.destinations = std::move(*d);
        else
            ok = false;
        if (const toml::node* n = t.get("direction")) {
            if (auto dir = parse_direction(*n))
                e.direction = *dir;
            else
                ok = false;
        } else {
            e.direction = doc.direction;
        }
        if (auto v = get_bool(t, "required", where, true))
            e.required = *v;
        else
            ok = false;
        if (auto v = get_bool(t, "third_party", where, false))
            e.third_party = *v;
        else if (t.get("third_party"))
            ok = false;
        if (auto v = get_bool(t, "any_fallback", where, false))
            e.any_fallback = *v;
        else if (t.get("any_fallback"))
            ok = false;
        if (auto v = get_string(t, "notes", where, false))
            e.notes = *v;
        else if (t.get("notes"))
            ok = false;
        if (!parse_conditions(t, where, e)) ok = false;
        if (!parse_probe_hosts(t, e)) ok = false;
        if (auto s = parse_source(t, where, doc, "entry"))
            e.source = *s;
        else
            ok = false;
        if (auto a = parse_field_list(t, "assumed", where))
            e.assumed = *a;
        else if (t.get("assumed"))
            ok = false;
        if (!t.get("direction") && doc.direction_assumed &&
            std::find(e.assumed.begin(), e.assumed.end(), "direction") == e.assumed.end()) {
            e.assumed.emplace_back("direction");
        }
        if (!parse_provenance(t, where, doc, e)) ok = false;
        if (ok && e.conditions.local_config && e.conditions.local_config->recommended) {
            const PortRange r = *e.conditions.local_config->recommended;
            const PortSet set(e.ports);
            bool covered = false;
            for (const PortRange& iv : set.intervals()) covered |= iv.lo <= r.lo && r.hi <= iv.hi;
            if (!covered) {
                error_at(*t.get("conditions")->as_table()->get("local_config")->as_table()->get("recommended"),
                         "recommended range " + port_range_text(r.lo, r.hi) +
                             " is not among the entry's ports; expected 'ports' to hold the recommended default");
                ok = false;
            }
        }
        if (!ok) return std::nullopt;
        return e;
    }

    std::string file_;
    std::vector<Diagnostic>& diags_;
    size_t errors_ = 0;
};

std::string sha256_hex(const std::vector<SourceText>& sources) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
    for (const SourceText& s : sources) {
        ok = ok && EVP_DigestUpdate(ctx, s.text.data(), s.text.size()) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) throw std::runtime_error("SHA-256 failed (OpenSSL)");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(kHex[md[i] >> 4]);
        out.push_back(kHex[md[i] & 0xf]);
    }
    return out;
}

std::string base_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

}  // namespace

class CatalogBuilder {
public:
    static LoadResult build(std::vector<SourceText> sources, std::vector<Diagnostic> diags) {
        LoadResult result;
        Catalog cat;
        std::vector<ParsedFile> parsed;
        for (const SourceText& s : sources) {
            FileParser fp(s.name, diags);
            parsed.push_back(fp.parse(s.text));
            cat.files_.push_back(LoadedFile{s.name, base_name(s.name)});
        }
        // Ids are unique across files (entries and products share one namespace).
        // A clash between a user's file and a bundled one is the user's to
        // fix: it is reported in the user's file, whichever loaded first.
        const std::string bundled_prefix = (bundled_catalog_dir() / "").string();
        const auto bundled = [&](const std::string& file) { return file.rfind(bundled_prefix, 0) == 0; };
        std::map<std::string, Location, std::less<>> seen;
        auto check_id = [&](const std::string& id, const Location& at) {
            auto [it, inserted] = seen.emplace(id, at);
            if (inserted) return;
            Location here = at, other = it->second;
            if (bundled(here.file) && !bundled(other.file)) std::swap(here, other);
            const std::string there =
                other.file + ":" + std::to_string(other.line) + ":" + std::to_string(other.column);
            diags.push_back(Diagnostic{
                here.file, here.line, here.column,
                bundled(other.file) && !bundled(here.file)
                    ? "duplicate id " + quote(id) + "; the bundled catalog defines it at " + there +
                          ", expected ids to be unique (choose another id, or give your file the bundled file's "
                          "name to replace it)"
                    : "duplicate id " + quote(id) + "; first defined at " + there + ", expected ids to be unique"});
        };
        for (const ParsedFile& pf : parsed) {
            for (const Product& p : pf.products) check_id(p.id, p.defined_at);
            for (const Entry& e : pf.entries) check_id(e.id, e.defined_at);
        }

        if (!diags.empty()) {
            std::map<std::string, size_t> order;
            for (size_t i = 0; i < sources.size(); ++i) order.emplace(sources[i].name, i + 1);
            auto rank = [&](const Diagnostic& d) {
                auto it = order.find(d.file);
                return it == order.end() ? size_t{0} : it->second;
            };
            std::stable_sort(diags.begin(), diags.end(), [&](const Diagnostic& a, const Diagnostic& b) {
                const size_t ra = rank(a), rb = rank(b);
                if (ra != rb) return ra < rb;
                if (a.line != b.line) return a.line < b.line;
                return a.column < b.column;
            });
            result.diagnostics = std::move(diags);
            return result;
        }

        for (ParsedFile& pf : parsed) {
            const auto doc_index = static_cast<uint32_t>(cat.documents_.size());
            cat.documents_.push_back(std::move(pf.document));
            for (Product& p : pf.products) {
                p.document = doc_index;
                cat.products_.push_back(std::move(p));
            }
            for (Entry& e : pf.entries) {
                e.document = doc_index;
                e.port_set = PortSet(e.ports);
                cat.entries_.push_back(std::move(e));
            }
        }
        for (const Document& d : cat.documents_) cat.vendors_.push_back(d.vendor);
        std::sort(cat.vendors_.begin(), cat.vendors_.end());
        cat.vendors_.erase(std::unique(cat.vendors_.begin(), cat.vendors_.end()), cat.vendors_.end());
        auto vidx = [&](const std::string& v) {
            return static_cast<uint16_t>(std::lower_bound(cat.vendors_.begin(), cat.vendors_.end(), v) -
                                         cat.vendors_.begin());
        };
        cat.vendor_prefers_udp_.assign(cat.vendors_.size(), 0);
        for (const Document& d : cat.documents_) {
            if (d.prefers && d.prefers->preferred == Transport::Udp) cat.vendor_prefers_udp_[vidx(d.vendor)] = 1;
        }
        for (size_t i = 0; i < cat.products_.size(); ++i) {
            cat.products_[i].vendor_index = vidx(cat.products_[i].vendor);
            cat.product_ids_.emplace_back(cat.products_[i].id, static_cast<uint32_t>(i));
        }
        for (size_t i = 0; i < cat.entries_.size(); ++i) {
            Entry& e = cat.entries_[i];
            const auto idx = static_cast<uint32_t>(i);
            e.vendor_index = vidx(e.vendor);
            cat.entry_ids_.emplace_back(e.id, idx);
            for (const Destination& d : e.destinations) {
                if (d.kind == DestinationKind::Any) {
                    cat.any_entries_[static_cast<size_t>(e.transport)].push_back(idx);
                    continue;
                }
                cat.entry_index_.add(d.kind, d.base(), idx);
                if (!e.third_party) cat.vendor_index_.add(d.kind, d.base(), e.vendor_index);
            }
        }
        cat.entry_index_.freeze();
        cat.vendor_index_.freeze();
        std::sort(cat.entry_ids_.begin(), cat.entry_ids_.end());
        std::sort(cat.product_ids_.begin(), cat.product_ids_.end());
        cat.digest_ = sha256_hex(sources);
        result.catalog = std::move(cat);
        return result;
    }
};

LoadResult load_sources(std::span<const SourceText> sources) {
    return CatalogBuilder::build(std::vector<SourceText>(sources.begin(), sources.end()), {});
}

LoadResult load_string(std::string_view name, std::string_view text) {
    std::vector<SourceText> v{SourceText{std::string(name), std::string(text)}};
    return CatalogBuilder::build(std::move(v), {});
}

LoadResult load(std::span<const std::filesystem::path> paths) {
    namespace fs = std::filesystem;
    std::vector<Diagnostic> diags;
    std::map<std::string, fs::path> by_name;  // file name → path; later paths replace earlier ones
    for (const fs::path& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            size_t found = 0;
            fs::directory_iterator it(p, ec);
            if (ec) {
                diags.push_back(Diagnostic{p.string(), 0, 0, "cannot read directory: " + ec.message()});
                continue;
            }
            for (const fs::directory_entry& de : it) {
                std::error_code ec2;
                if (de.path().extension() == ".toml" && de.is_regular_file(ec2)) {
                    by_name[de.path().filename().string()] = de.path();
                    ++found;
                }
            }
            if (found == 0) {
                diags.push_back(
                    Diagnostic{p.string(), 0, 0, "no *.toml files in this directory; expected catalog files"});
            }
        } else if (fs::is_regular_file(p, ec)) {
            by_name[p.filename().string()] = p;
        } else if (p == bundled_catalog_dir()) {
            diags.push_back(Diagnostic{p.string(), 0, 0, bundled_not_found_message()});
        } else {
            diags.push_back(
                Diagnostic{p.string(), 0, 0, "no such file or directory; expected a catalog directory or .toml file"});
        }
    }
    std::vector<SourceText> sources;
    for (const auto& [name, path] : by_name) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            diags.push_back(Diagnostic{path.string(), 0, 0, "cannot open file for reading"});
            continue;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        sources.push_back(SourceText{path.string(), ss.str()});
    }
    return CatalogBuilder::build(std::move(sources), std::move(diags));
}

std::vector<std::filesystem::path> bundled_catalog_candidates() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("CALLWALL_CATALOG_DIR"); env && *env) return {fs::path(env)};
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec || exe.empty()) return {};
    const fs::path exe_dir = exe.parent_path();
    return {(exe_dir / ".." / kBundledCatalogSubdir).lexically_normal(), exe_dir / kBundledCatalogSubdir};
}

std::filesystem::path bundled_catalog_dir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("CALLWALL_CATALOG_DIR"); env && *env) return env;
    const std::vector<fs::path> candidates = bundled_catalog_candidates();
    for (const fs::path& c : candidates) {
        std::error_code ec;
        if (!fs::is_directory(c, ec)) continue;
        // Resolved so that diagnostics and catalog file names read the same
        // whether the catalog was reached through the build tree's link.
        const fs::path resolved = fs::canonical(c, ec);
        return ec ? c : resolved;
    }
    return candidates.empty() ? fs::path("share/callwall/catalog") : candidates.front();
}

std::string bundled_not_found_message() {
    if (const char* env = std::getenv("CALLWALL_CATALOG_DIR"); env && *env) {
        return "no such directory: CALLWALL_CATALOG_DIR names the bundled catalog's directory";
    }
    std::string tried;
    for (const auto& c : bundled_catalog_candidates()) tried += (tried.empty() ? "" : ", ") + c.string();
    if (tried.empty()) tried = "nothing (/proc/self/exe is unreadable)";
    return "bundled catalog not found; looked in " + tried +
           " (the catalog is installed in share/callwall/catalog beside the binary's bin/; "
           "set CALLWALL_CATALOG_DIR to its directory, or give --catalog DIR with --no-bundled-catalog)";
}

}  // namespace callwall::catalog
