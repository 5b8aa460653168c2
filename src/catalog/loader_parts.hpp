// The catalog loader's parts, private to src/catalog: the key lists and
// small text helpers, the toml++ guard (prescan.cpp) and the parser of one
// file (file_parser.cpp: the document, products and value getters;
// entry_parser.cpp: an entry's fields). loader.cpp builds the catalog.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

#include "catalog/catalog.hpp"
#include "util/terminal_text.hpp"

namespace callwall::catalog::loader_detail {

inline constexpr int64_t kSchemaVersion = 1;
inline constexpr int64_t kSchemaVersion2 = 2;  // address destinations, tiers, fallbacks, web-page provenance
inline constexpr std::string_view kBundledCatalogSubdir = "share/callwall/catalog";
// What one catalog file may hold: far more than any vendor publishes (the
// longest lists are thousands of prefixes), room for a million names; a
// larger file is a mistake, or an attempt to exhaust the loader.
inline constexpr uintmax_t kMaxFileBytes = 64u << 20;
inline constexpr size_t kMaxIdLength = 64;  // ids go into nft comments (max 128 bytes) with room to spare

// UTF-8 text decoded as Windows-1252 turns ’ into "â€™": refuse to carry that on.
inline constexpr std::string_view kMojibake = "\xC3\xA2\xE2\x82\xAC";

inline constexpr std::string_view kRootKeys[] = {"schema", "document", "product", "entry"};
inline constexpr std::string_view kDocumentKeys[] = {
    "vendor",        "edition",        "date",      "date_as_written",   "title",   "sources",
    "authoritative", "reconciliation", "direction", "direction_assumed", "prefers", "notes"};
// Keys a file may use only with schema = 2.
inline constexpr std::string_view kDocumentKeys2[] = {"url", "undated", "transcribed", "list_version", "shared"};
inline constexpr std::string_view kPrefersKeys[] = {"transport", "quote", "file", "section"};
inline constexpr std::string_view kProductKeys[] = {"id",     "product", "allowlist_supported", "advice", "advice_link",
                                                    "source", "notes"};
inline constexpr std::string_view kEntryKeys[] = {
    "id",          "product",      "service",    "transport", "ports",      "destinations", "direction", "required",
    "third_party", "any_fallback", "conditions", "source",    "provenance", "assumed",      "notes",     "probe_hosts"};
inline constexpr std::string_view kEntryKeys2[] = {"addresses", "source_ports", "tier", "fallback"};
inline constexpr std::string_view kSourceKeys[] = {"file", "section"};
inline constexpr std::string_view kSourceKeys2[] = {"url"};
inline constexpr std::string_view kFallbackKeys[] = {"chain", "order", "label"};
inline constexpr std::string_view kTiers[] = {"required", "recommended", "optional", "optimize", "allow", "default"};
inline constexpr std::string_view kConditionKeys[] = {"sdk_version", "feature", "local_config"};
inline constexpr std::string_view kSdkKeys[] = {"text", "min", "below"};
inline constexpr std::string_view kLocalConfigKeys[] = {"key", "recommended", "text"};
// Fields an entry's provenance/assumed lists may name.
inline constexpr std::string_view kProvenanceFields[] = {
    "service", "transport", "ports", "destinations", "direction", "required", "conditions", "third_party", "notes"};
// Fields a multi-source document must give provenance for (unless assumed).
inline constexpr std::string_view kProvenanceRequired[] = {"service", "transport", "ports", "destinations"};

template <size_t N>
inline std::string join(const std::string_view (&keys)[N]) {
    std::string s;
    for (size_t i = 0; i < N; ++i) {
        if (i) s += ", ";
        s += keys[i];
    }
    return s;
}

inline std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) s += ", ";
        s += v[i];
    }
    return s;
}

template <size_t N>
inline bool contains(const std::string_view (&keys)[N], std::string_view k) {
    return std::find(std::begin(keys), std::end(keys), k) != std::end(keys);
}

inline std::string_view type_name(const toml::node& n) {
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

inline bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxIdLength) return false;
    auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!ok_first(id.front())) return false;
    return std::all_of(id.begin(), id.end(), [&](char c) { return ok_first(c) || c == '.' || c == '-' || c == '_'; });
}

inline bool valid_version(std::string_view v) {
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

inline bool version_less(std::string_view a, std::string_view b) {
    SdkVersionCondition probe;
    probe.below = std::string(b);
    return probe.applies_to(a);
}

// A value in a message: quoted, with control bytes (a NUL, an escape
// sequence, a C1 control) and bytes that are not UTF-8 written as \xnn
// (util::terminal_text) so that they never reach the terminal raw, and cut
// after kMaxQuoted bytes (a 1 MB name is not echoed whole).
inline constexpr size_t kMaxQuoted = 300;  // a legal name (253) and then some
inline std::string quote(std::string_view s) {
    const std::string out = "'" + util::terminal_text(s.substr(0, kMaxQuoted));
    if (s.size() > kMaxQuoted) return out + "...' (" + std::to_string(s.size()) + " bytes)";
    return out + "'";
}

inline std::string port_range_text(int64_t lo, int64_t hi) {
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

std::optional<PrescanError> prescan(std::string_view t);

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
    ParsedFile parse(std::string_view text);

private:
    void error(uint32_t line, uint32_t column, std::string message);
    void error_at(const toml::source_region& r, std::string message);
    void error_at(const toml::node& n, std::string message) { error_at(n.source(), std::move(message)); }
    std::string describe_value(const toml::node& n);
    // Keys of schema 1 (`allowed`) and of schema 2 (`allowed2`): a schema-2
    // key is no unknown key (check_schema2_keys reports its use in a
    // schema-1 file), and a schema-1 file's message lists schema-1 keys only.
    template <size_t N, size_t M>
    void check_keys(const toml::table& t, const std::string_view (&allowed)[N], const std::string_view (&allowed2)[M],
                    std::string_view where) {
        for (auto&& [k, v] : t) {
            (void)v;
            if (contains(allowed, k.str()) || contains(allowed2, k.str())) continue;
            error_at(k.source(), "unknown key " + quote(k.str()) + " in " + std::string(where) +
                                     "; expected one of: " + join(allowed) +
                                     (schema_ >= kSchemaVersion2 ? ", " + join(allowed2) : std::string()));
        }
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
    // `lines`: newlines allowed (notes).
    bool clean_text(const toml::node& n, std::string_view s, bool lines);
    // String getter: missing (if required), wrong type and empty are errors.
    std::optional<std::string> get_string(const toml::table& t, std::string_view key, std::string_view where,
                                          bool required, bool allow_empty = false);
    std::optional<bool> get_bool(const toml::table& t, std::string_view key, std::string_view where, bool required);
    std::optional<std::vector<std::string>> get_string_array(const toml::table& t, std::string_view key,
                                                             std::string_view where, bool required);
    const toml::table* get_table(const toml::table& t, std::string_view key, std::string_view where, bool required,
                                 std::string_view expected);
    std::optional<Direction> parse_direction(const toml::node& n);
    std::optional<Transport> parse_transport(const toml::node& n);
    std::optional<SourceRef> parse_source(const toml::table& owner, std::string_view where, const Document& doc,
                                          std::string_view table_name);
    void parse_document(const toml::table& t, Document& d);
    // The document's `shared` names, parsed (schema 2).
    void parse_shared(const toml::table& t, Document& d);
    // The document's `shared` names: each must cover a destination of the
    // file's entries; the destinations they cover are marked shared.
    void mark_shared(const toml::table& doc_table, ParsedFile& out);
    std::optional<std::string> parse_id(const toml::table& t, std::string_view where);
    std::optional<Product> parse_product(const toml::table& t, const Document& doc);
    // One port: an integer 1..65535.
    std::optional<uint16_t> parse_port(const toml::node& n);
    std::optional<std::vector<PortRange>> parse_ports(const toml::table& t, std::string_view where,
                                                      std::string_view key = "ports");
    // Schema 2: addresses, source_ports, tier, fallback.
    std::optional<std::vector<AddressRange>> parse_addresses(const toml::table& t);
    bool parse_schema2_entry(const toml::table& t, std::string_view where, Entry& e);
    // Keys of `keys2` used in a schema-1 file: an error each ("needs schema = 2").
    template <size_t N>
    void check_schema2_keys(const toml::table& t, const std::string_view (&keys2)[N]) {
        if (schema_ >= kSchemaVersion2) return;
        for (auto&& [k, v] : t) {
            (void)v;
            if (contains(keys2, k.str())) {
                error_at(k.source(), "key " + quote(k.str()) + " needs schema = 2 (this file says schema = 1)");
            }
        }
    }
    std::optional<std::vector<Destination>> parse_destinations(const toml::table& t, std::string_view where);
    // probe_hosts: concrete names for `callwall probe`, each one a name (no
    // wildcard) that one of the entry's destinations matches.
    bool parse_probe_hosts(const toml::table& t, Entry& e);
    bool parse_conditions(const toml::table& t, std::string_view where, Entry& e);
    std::optional<std::vector<std::string>> parse_field_list(const toml::table& t, std::string_view key,
                                                             std::string_view where);
    bool parse_provenance(const toml::table& t, std::string_view where, const Document& doc, Entry& e);
    std::optional<Entry> parse_entry(const toml::table& t, const Document& doc, const std::vector<Product>& products);

    std::string file_;
    std::vector<Diagnostic>& diags_;
    int64_t schema_ = kSchemaVersion;
};

}  // namespace callwall::catalog::loader_detail
