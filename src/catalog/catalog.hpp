// Vendor firewall-requirement catalog: data model, TOML loader and validation,
// immutable host/port indexes, and the text/JSON/firewall renderings.
//
// Sources: one TOML file per vendor document edition (catalog/*.toml, schema in
// catalog/README.md), each entry naming the seed document and section it came
// from (shared/seeds/).
//
// Domain semantics (DESIGN.md "Catalog"): matching is ASCII case-insensitive and
// ignores one trailing dot; "*.x.com" matches names strictly below x.com (not
// x.com itself); ".x.com" matches x.com and every name below it; a bare name
// matches only itself; "ANY" is any address and is never name-matched.
//
// Address destinations (schema 2): IPv4/IPv6 CIDR prefixes and start-end
// ranges beside (or instead of) names; an entry with both is one requirement
// satisfied by either. Not supported: internationalised names other than as
// already-encoded A-labels.
//
// Loading allocates and may throw std::bad_alloc; everything after load is
// immutable, and the per-flow queries (match_host, entry_has_port,
// vendor_for_host, match_any_destination) are noexcept and allocation-free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callwall::catalog {

/// Layer-4 protocol of a requirement.
enum class Transport : uint8_t { Tcp, Udp };

/// How a destination pattern matches names.
enum class DestinationKind : uint8_t {
    Wildcard,  ///< "*.x.com": any name strictly below x.com, never x.com itself
    Suffix,  ///< ".x.com": x.com and any name below it
    Exact,  ///< "host.x.com": that name only
    Any,  ///< "ANY": any address; matchable only by protocol evidence
};

/// Who opens the connection. For Outbound the ports are the remote (destination)
/// ports; for Inbound they are local ports on the client that the vendor's
/// servers send to (Agora 2018 Recording "simplex downstream ports").
enum class Direction : uint8_t { Outbound, Inbound, Both };

/// "tcp" / "udp".
[[nodiscard]] std::string_view to_string(Transport t) noexcept;
/// "wildcard" / "suffix" / "exact" / "any".
[[nodiscard]] std::string_view to_string(DestinationKind k) noexcept;
/// "outbound" / "inbound" / "both".
[[nodiscard]] std::string_view to_string(Direction d) noexcept;

/// An inclusive port range; a single port has lo == hi.
struct PortRange {
    uint16_t lo = 0;
    uint16_t hi = 0;
    friend bool operator==(const PortRange&, const PortRange&) = default;
};

/// An immutable set of ports stored as sorted, disjoint, non-adjacent intervals
/// (overlapping and adjacent input ranges are merged).
class PortSet {
public:
    PortSet() = default;
    /// Builds the set; input ranges must have lo <= hi (the loader guarantees it).
    explicit PortSet(std::span<const PortRange> ranges);

    /// True if port lies in one of the intervals. Binary search, no allocation.
    [[nodiscard]] bool contains(uint16_t port) const noexcept;
    /// The merged intervals in ascending order.
    [[nodiscard]] std::span<const PortRange> intervals() const noexcept { return intervals_; }
    /// Number of distinct ports in the set.
    [[nodiscard]] uint32_t port_count() const noexcept;
    [[nodiscard]] bool empty() const noexcept { return intervals_.empty(); }

private:
    std::vector<PortRange> intervals_;
};

/// One destination of an entry.
struct Destination {
    DestinationKind kind = DestinationKind::Exact;
    /// Normalized: lowercase, no trailing dot, prefix kept ("*.x.com", ".x.com",
    /// "host.x.com", "ANY").
    std::string pattern;
    /// Exactly as written in the catalog file.
    std::string as_written;
    /// Covered by its document's `shared` list: a name general web use
    /// shares (a vendor's company-wide or a CDN's host). It matches its
    /// entry, but never shows the vendor in use on its own.
    bool shared = false;

    /// The name the pattern is anchored at ("x.com" for "*.x.com" and ".x.com";
    /// empty for ANY).
    [[nodiscard]] std::string_view base() const noexcept;
};

/// Parses a destination as written. On failure returns std::nullopt and sets
/// *reason (if given) to why, e.g. "'*' must be the whole leftmost label".
[[nodiscard]] std::optional<Destination> parse_destination(std::string_view text, std::string* reason = nullptr);

/// Reference implementation of the domain semantics for one pattern (a direct
/// comparison, not the index). Used as the test oracle and by `show`.
[[nodiscard]] bool destination_matches(const Destination& d, std::string_view host) noexcept;

/// Vendor SDK version constraint: min is inclusive ("2.9.0 or later"), below is
/// exclusive ("before 2.9.0"); an empty bound is open.
struct SdkVersionCondition {
    std::string text;  ///< the vendor's wording, e.g. "2.9.0 or later"
    std::string min;  ///< inclusive lower bound, dotted numbers, or empty
    std::string below;  ///< exclusive upper bound, dotted numbers, or empty

    /// True if version (dotted numbers, up to 4 parts) satisfies the bounds;
    /// false for an unparsable version.
    [[nodiscard]] bool applies_to(std::string_view version) const noexcept;
};

/// A requirement that depends on the site's local configuration, e.g. Agora
/// Recording's lowUdpPort..highUdpPort. The entry's ports hold the recommended
/// default.
struct LocalConfigCondition {
    std::string key;  ///< e.g. "lowUdpPort..highUdpPort"
    std::optional<PortRange> recommended;  ///< vendor's recommended default, if any
    std::string text;  ///< the vendor's advice in short
};

/// When an entry applies. All present conditions must hold.
struct Conditions {
    std::optional<SdkVersionCondition> sdk_version;
    std::string feature;  ///< optional feature that needs it (e.g. "RTMP converter"); empty = none
    std::optional<LocalConfigCondition> local_config;

    [[nodiscard]] bool empty() const noexcept { return !sdk_version && feature.empty() && !local_config; }
};

/// Where a requirement comes from: the seed document's file name and section
/// (headings joined by " > "; several places separated by "; ").
struct SourceRef {
    std::string file;  ///< seed file; empty for a web-page document (schema 2)
    std::string section;
    std::string url;  ///< schema 2: a second page of the same edition; empty: the document's
};

/// IPv4 or IPv6.
enum class AddressFamily : uint8_t { V4, V6 };

/// An address as 16 big-endian bytes; IPv4 uses the first 4 (the rest zero).
using AddressBytes = std::array<uint8_t, 16>;

/// Parses "192.0.2.1" or "2001:db8::1" (no brackets, no zone, no prefix).
/// noexcept and allocation-free: attribution calls it per flow.
[[nodiscard]] std::optional<std::pair<AddressFamily, AddressBytes>> parse_ip(std::string_view text) noexcept;
/// The usual text of an address ("52.112.0.1", "2603:1063::1").
[[nodiscard]] std::string ip_text(AddressFamily f, const AddressBytes& a);

/// One item of an entry's `addresses` (schema 2): a CIDR prefix or an
/// inclusive start-end range, one family.
struct AddressRange {
    AddressFamily family = AddressFamily::V4;
    AddressBytes lo{}, hi{};  ///< first and last address, inclusive
    int prefix = -1;  ///< the prefix length when written as CIDR; -1 for start-end
    std::string as_written;

    /// "52.112.0.0/14" or "10.1.0.5-10.1.0.9" (addresses in their usual text).
    [[nodiscard]] std::string text() const;
    [[nodiscard]] bool contains(AddressFamily f, const AddressBytes& a) const noexcept;
    /// An address inside the range to stand for the vendor (probe, audit):
    /// the first address after the network address when the range holds
    /// more than two, else the first.
    [[nodiscard]] AddressBytes sample() const noexcept;
    [[nodiscard]] bool overlaps(const AddressRange& o) const noexcept;
};

/// Parses an `addresses` item as written. On failure returns std::nullopt
/// and sets *reason (if given), e.g. "host bits set: expected '52.112.0.0/14'".
[[nodiscard]] std::optional<AddressRange> parse_address_range(std::string_view text, std::string* reason = nullptr);

/// Schema 2: where an entry sits in the vendor's ordered fallbacks.
struct Fallback {
    std::string chain;  ///< entries sharing a chain are alternatives tried in order
    uint32_t order = 1;  ///< 1 = the vendor's first choice
    std::string label;  ///< how the conclusion names this step ("TURN/TLS")
};

/// A position in a catalog file (1-based; line 0 means "the file as a whole").
struct Location {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
};

/// For documents reconciled from several sources (Whereby 001 + 004): which
/// source files support one field of an entry.
struct FieldProvenance {
    std::string field;  ///< "service", "ports", "destinations", ...
    std::vector<std::string> files;  ///< seed file names
};

/// One requirement: one transport, a port set, a destination list.
struct Entry {
    std::string id;  ///< stable, unique across the catalog
    std::string vendor;
    std::string product;  ///< product/SDK as the vendor names it
    std::string edition;  ///< document edition, e.g. "2020"; empty if the document has none
    std::string document_date;  ///< ISO date of the document, empty if undated
    std::string service;  ///< the service as the vendor names it
    Transport transport = Transport::Tcp;
    std::vector<PortRange> ports;  ///< as written (order kept)
    PortSet port_set;  ///< merged index of ports
    std::vector<Destination> destinations;
    Direction direction = Direction::Outbound;
    bool required = true;  ///< false: the vendor presents it as optional
    bool third_party = false;  ///< names belong to third parties (not evidence the vendor is active)
    bool any_fallback = false;  ///< vendor allows ANY destination if names cannot be used
    Conditions conditions;
    SourceRef source;
    std::vector<FieldProvenance> provenance;  ///< per-field sources (multi-source documents)
    std::vector<std::string> assumed;  ///< fields the source does not state (catalog's assumption)
    std::string notes;
    /// Concrete names `callwall probe` may use for wildcard destinations
    /// (each one matches a destination of the entry; empty: none known).
    std::vector<std::string> probe_hosts;
    /// Schema 2: address destinations, disjoint, as written. With names, the
    /// entry is satisfied by either ("these names or these ranges").
    std::vector<AddressRange> addresses;
    /// Schema 2: the client source ports the vendor constrains (empty: any).
    std::vector<PortRange> source_ports;
    PortSet source_port_set;  ///< merged index of source_ports
    /// Schema 2: the vendor's word for the tier: required, recommended,
    /// optional, optimize, allow or default; empty when not given.
    std::string tier;
    std::optional<Fallback> fallback;  ///< schema 2: place in an ordered fallback chain
    uint32_t document = 0;  ///< index into Catalog::documents()
    uint16_t vendor_index = 0;  ///< index into Catalog::vendors()
    Location defined_at;  ///< catalog file and line of the [[entry]]

    /// True if any destination is ANY (then it has no names).
    [[nodiscard]] bool any_destination() const noexcept;
    /// True if host matches the entry only through shared destinations
    /// (Destination::shared): the name says nothing about who is in use.
    /// False when no destination matches it. noexcept, allocation-free.
    [[nodiscard]] bool shared_only(std::string_view host) const noexcept;
    /// True if the entry names hosts (not ANY, not range-only).
    [[nodiscard]] bool has_names() const noexcept { return !destinations.empty() && !any_destination(); }
    /// True if source_ports is empty or holds port.
    [[nodiscard]] bool source_port_allowed(uint16_t port) const noexcept {
        return source_ports.empty() || source_port_set.contains(port);
    }
};

/// A product the vendor says cannot be allow-listed (e.g. Agora 2020 RTC Native:
/// "use the cloud proxy"). Recorded as a fact, never as an empty rule.
struct Product {
    std::string id;
    std::string vendor;
    std::string product;
    std::string edition;
    std::string document_date;
    bool allowlist_supported = false;
    std::string advice;  ///< the vendor's advice, e.g. use the cloud proxy
    std::string advice_link;  ///< link as written in the document, may be empty
    SourceRef source;
    std::string notes;
    uint32_t document = 0;
    uint16_t vendor_index = 0;
    Location defined_at;
};

/// The vendor's stated transport preference ("UDP is the preferred protocol").
struct TransportPreference {
    Transport preferred = Transport::Udp;
    std::string quote;  ///< the vendor's sentence
    SourceRef source;
};

/// One vendor document edition = one catalog file.
struct Document {
    std::string catalog_file;  ///< path of the TOML file as loaded
    std::string vendor;
    std::string edition;
    std::string date;  ///< ISO date or empty
    std::string date_as_written;  ///< e.g. "Tue Sep 15 2020 10:32:32 GMT+0800 (CST)"
    std::string title;
    std::vector<std::string> sources;  ///< seed files this edition is built from
    std::string authoritative;  ///< for several sources: the one that wins
    std::string reconciliation;  ///< how the sources were reconciled
    Direction direction = Direction::Outbound;  ///< default for entries
    bool direction_assumed = false;  ///< the document does not state a direction
    std::optional<TransportPreference> prefers;
    std::vector<std::string> notes;
    int schema = 1;  ///< the file's schema
    /// Schema 2, web-page provenance: the page's URL (empty for a seed-file
    /// document), the day it was transcribed (ISO), whether the page shows
    /// no date, and the version of the machine-readable list it came from.
    std::string url;
    std::string transcribed;
    bool undated = false;
    std::string list_version;
    /// Schema 2: the names of this document that general web use shares
    /// (`shared`, patterns as destinations are written): each covers at
    /// least one destination of the document, which it marks shared.
    std::vector<Destination> shared;
};

/// How new a document is, for choosing among a vendor's editions: its date
/// (the page's), else the day an undated page was transcribed (it was
/// current then), then its list_version; a seed copy with neither is the
/// oldest. Larger is newer; equal ranks keep the first loaded.
[[nodiscard]] std::pair<std::string, std::string> edition_rank(const Document& d);

/// Whether every name `d` matches is also matched by `s` (both non-ANY):
/// the loader's test of which destinations a document's `shared` list marks.
[[nodiscard]] bool destination_covers(const Destination& s, const Destination& d) noexcept;

/// A loader finding: file:line:column and what was expected.
struct Diagnostic {
    std::string file;
    uint32_t line = 0;  ///< 0: about the file/directory as a whole
    uint32_t column = 0;
    std::string message;

    /// "file:line:column: error: message" (or "file: error: message" when line is 0).
    [[nodiscard]] std::string to_string() const;
};

/// Capacity of HostMatches. Sized for the whole bundled catalog naming one host
/// (about 20 entries for x.agora.io) with room for user files.
inline constexpr size_t kMaxHostMatches = 64;

/// Result of Catalog::match_host / match_any_destination: distinct entry
/// indices in ascending order. On overflow the first kMaxHostMatches entries
/// found are kept (the trie is walked from the top-level domain down, so the
/// broadest patterns come first), `overflowed` is set, and the caller must treat
/// the list as incomplete.
struct HostMatches {
    std::array<uint32_t, kMaxHostMatches> entries{};
    uint32_t count = 0;
    bool overflowed = false;

    [[nodiscard]] std::span<const uint32_t> view() const& noexcept { return {entries.data(), count}; }
    /// On a temporary, returns the matches by value, so that a range-for over
    /// `f().view()` does not iterate a destroyed object.
    [[nodiscard]] HostMatches view() && noexcept { return *this; }
    [[nodiscard]] const uint32_t* begin() const noexcept { return entries.data(); }
    [[nodiscard]] const uint32_t* end() const noexcept { return entries.data() + count; }
    [[nodiscard]] size_t size() const noexcept { return count; }
    [[nodiscard]] bool empty() const noexcept { return count == 0; }
    [[nodiscard]] uint32_t operator[](size_t i) const noexcept { return entries[i]; }
    void clear() noexcept {
        count = 0;
        overflowed = false;
    }
};

/// Capacity of VendorMatches.
inline constexpr size_t kMaxVendorMatches = 8;

/// Vendors (indices into Catalog::vendors()) that own a name, ascending.
struct VendorMatches {
    std::array<uint16_t, kMaxVendorMatches> vendors{};
    uint32_t count = 0;
    bool overflowed = false;

    [[nodiscard]] std::span<const uint16_t> view() const& noexcept { return {vendors.data(), count}; }
    /// On a temporary, returns the matches by value, so that
    /// `for (uint16_t v : catalog.vendor_for_host(h).view())` does not iterate a
    /// destroyed object (a span into the temporary would dangle).
    [[nodiscard]] VendorMatches view() && noexcept { return *this; }
    [[nodiscard]] const uint16_t* begin() const noexcept { return vendors.data(); }
    [[nodiscard]] const uint16_t* end() const noexcept { return vendors.data() + count; }
    [[nodiscard]] size_t size() const noexcept { return count; }
    [[nodiscard]] bool empty() const noexcept { return count == 0; }
    [[nodiscard]] uint16_t operator[](size_t i) const noexcept { return vendors[i]; }
};

/// Reversed-label trie from names to uint32 values. Build with add(), then
/// freeze(); lookups walk the host's labels right to left, one hash probe per
/// label, and never allocate.
class DomainIndex {
public:
    /// Adds a pattern. base is the normalized anchor name (lowercase, no trailing
    /// dot, no "*." / "." prefix); kind must not be Any. Throws std::logic_error
    /// after freeze().
    void add(DestinationKind kind, std::string_view base, uint32_t value);
    /// Builds the lookup table. Idempotent.
    void freeze();

    /// Writes the distinct values whose patterns match host into out (in trie
    /// order, broadest first) and returns how many were written; sets
    /// overflowed if more matched than out can hold. Hosts with empty labels
    /// ("a..b", ".a") match nothing.
    size_t lookup(std::string_view host, std::span<uint32_t> out, bool& overflowed) const noexcept;

private:
    struct Node {
        uint32_t exact_begin = 0, exact_count = 0;
        uint32_t suffix_begin = 0, suffix_count = 0;
        uint32_t wild_begin = 0, wild_count = 0;
    };
    struct Slot {
        uint64_t hash = 0;
        uint32_t parent = UINT32_MAX;  // UINT32_MAX: empty slot
        uint32_t child = 0;
        uint32_t label_offset = 0;
        uint32_t label_length = 0;
    };
    [[nodiscard]] uint32_t find_child(uint32_t parent, std::string_view label) const noexcept;
    void insert_slot(const Slot& s);

    bool frozen_ = false;
    std::vector<Node> nodes_;
    std::vector<Slot> slots_;
    uint64_t slot_mask_ = 0;
    std::string labels_;
    std::vector<uint32_t> values_;
    size_t edge_count_ = 0;
    // Build state, released by freeze(): the values added, as (node, list,
    // value), grouped by node then.
    struct PendingValue {
        uint32_t node;
        uint32_t list;
        uint32_t value;
    };
    std::vector<PendingValue> pending_;
};

/// A catalog file as loaded.
struct LoadedFile {
    std::string path;  ///< as used in diagnostics
    std::string name;  ///< file name; a later directory's file of the same name replaces it
};

class Catalog;

/// Filter for listings and exports: empty fields match everything; vendor and
/// product compare case-insensitively with the whole name, edition exactly.
struct Selection {
    std::string vendor;
    std::string product;
    std::string edition;

    [[nodiscard]] bool matches(std::string_view vendor_name, std::string_view product_name,
                               std::string_view edition_name) const noexcept;
};

/// The loaded catalog. Immutable; build it with load(), load_sources() or
/// load_string(). Copyable and movable (indexes hold offsets, not pointers).
class Catalog {
public:
    /// An empty, valid catalog.
    Catalog() = default;

    [[nodiscard]] std::span<const Entry> entries() const noexcept { return entries_; }
    [[nodiscard]] std::span<const Product> products() const noexcept { return products_; }
    [[nodiscard]] std::span<const Document> documents() const noexcept { return documents_; }
    /// Distinct vendor names, sorted.
    [[nodiscard]] std::span<const std::string> vendors() const noexcept { return vendors_; }
    [[nodiscard]] std::span<const LoadedFile> files() const noexcept { return files_; }

    [[nodiscard]] const Entry* find_entry(std::string_view id) const noexcept;
    [[nodiscard]] const Product* find_product(std::string_view id) const noexcept;
    [[nodiscard]] std::optional<uint32_t> entry_index(std::string_view id) const noexcept;
    [[nodiscard]] std::optional<uint16_t> vendor_index(std::string_view vendor) const noexcept;
    [[nodiscard]] const Document& document_of(const Entry& e) const noexcept { return documents_[e.document]; }

    /// Entries with a (non-ANY) destination matching host. Clears out first.
    void match_host(std::string_view host, HostMatches& out) const noexcept;
    /// True if entry idx lists port. False for an out-of-range idx.
    [[nodiscard]] bool entry_has_port(uint32_t idx, uint16_t port) const noexcept;
    /// Vendors whose own names cover host (not third-party, not shared):
    /// "vendor active by name".
    [[nodiscard]] VendorMatches vendor_for_host(std::string_view host) const noexcept;
    /// Entries whose destination is ANY, for one transport, ascending.
    [[nodiscard]] std::span<const uint32_t> any_destination_entries(Transport t) const noexcept;
    /// Entries of transport t that a port alone may hint at (attribution's
    /// port-only evidence: the vendor's own, not third-party, with named
    /// destinations, not ANY) and that list `port`; ascending.
    [[nodiscard]] std::span<const uint32_t> port_hint_entries(Transport t, uint16_t port) const noexcept;
    /// ANY-destination entries of transport t that list port. Clears out first.
    void match_any_destination(Transport t, uint16_t port, HostMatches& out) const noexcept;
    /// Entries (any transport) with an `addresses` item holding ip (text as
    /// stored: "52.112.0.1", "2603:1063::1"), ascending. Clears out first;
    /// an unparsable ip matches nothing. noexcept, allocation-free.
    void match_address(std::string_view ip, HostMatches& out) const noexcept;
    /// Whether any loaded entry has address destinations.
    [[nodiscard]] bool has_addresses() const noexcept { return !address_index_.empty(); }
    /// True if any loaded document of this vendor states that UDP is preferred.
    [[nodiscard]] bool prefers_udp(uint16_t vendor_index) const noexcept;
    /// Every inbound entry's local port intervals, in entry order (both
    /// transports). A probe never sends from them: an answer arriving there
    /// would read as evidence for an entry it did not exercise.
    [[nodiscard]] std::vector<PortRange> inbound_local_ports() const;

    /// The document (index into documents()) whose answer stands for the
    /// vendor when several editions of it are loaded: the one chosen with
    /// choose_edition, else the newest (edition_rank). Every edition's
    /// entries are judged; only this one's products are concluded.
    [[nodiscard]] uint32_t judging_document(uint16_t vendor_index) const noexcept;
    /// Makes the edition named `name` judge its vendor (`--edition NAME`):
    /// a document's edition, or its catalog file's name with or without
    /// ".toml" (for a document without an edition). Returns "" when done,
    /// else the one-line reason (unknown, or naming editions of two vendors).
    [[nodiscard]] std::string choose_edition(std::string_view name);

    /// SHA-256 (lowercase hex) of the loaded files' contents in load order.
    [[nodiscard]] const std::string& digest() const noexcept { return digest_; }

private:
    friend class CatalogBuilder;

    std::vector<Entry> entries_;
    std::vector<Product> products_;
    std::vector<Document> documents_;
    std::vector<std::string> vendors_;
    std::vector<LoadedFile> files_;
    std::vector<std::pair<std::string, uint32_t>> entry_ids_;  // sorted
    std::vector<std::pair<std::string, uint32_t>> product_ids_;  // sorted
    std::array<std::vector<uint32_t>, 2> any_entries_;  // by Transport
    /// The port-hint entries by port, for one transport: the ports cut into
    /// segments at every bound of those entries' intervals (within a
    /// segment every port is listed by the same entries), each segment's
    /// entries ascending, one after another in `entries`. Every unnamed
    /// flow asks it: a look-up instead of a walk over every hint entry.
    struct PortHintIndex {
        std::vector<uint32_t> starts;  ///< each segment's first port, ascending; starts[0] == 0
        std::vector<uint32_t> offsets;  ///< segment i's entries: entries[offsets[i], offsets[i + 1])
        std::vector<uint32_t> entries;
    };
    std::array<PortHintIndex, 2> port_hints_;  // by Transport
    std::vector<uint8_t> vendor_prefers_udp_;
    /// Every entry's address items, sorted by (family, lo); max_hi is the
    /// largest hi of the items up to and including this one (same family),
    /// so a lookup walks back from the last lo <= ip while max_hi >= ip.
    struct AddressItem {
        AddressFamily family = AddressFamily::V4;
        AddressBytes lo{}, hi{}, max_hi{};
        uint32_t entry = 0;
    };
    std::vector<AddressItem> address_index_;
    DomainIndex entry_index_;
    DomainIndex vendor_index_;
    std::vector<uint32_t> judging_document_;  // by vendor index
    std::string digest_;
};

/// Loader output: a catalog when there were no errors, and every diagnostic
/// (sorted by file load order, line, column) otherwise.
struct LoadResult {
    std::optional<Catalog> catalog;
    std::vector<Diagnostic> diagnostics;

    [[nodiscard]] bool ok() const noexcept { return catalog.has_value(); }
};

/// A catalog file given as text (tests, fuzzing).
struct SourceText {
    std::string name;  ///< used as the file name in diagnostics
    std::string text;
};

/// Loads directories (every *.toml inside, by file name) and files. Files are
/// loaded in file-name order; a file whose name equals one from an earlier path
/// replaces it ("--catalog DIR adds or replaces").
[[nodiscard]] LoadResult load(std::span<const std::filesystem::path> paths);
/// Loads TOML texts as if they were files, in the order given.
[[nodiscard]] LoadResult load_sources(std::span<const SourceText> sources);
/// Loads one TOML text.
[[nodiscard]] LoadResult load_string(std::string_view name, std::string_view text);

/// Where the bundled catalog is looked for, in order: $CALLWALL_CATALOG_DIR
/// alone when it is set and not empty; otherwise, relative to the running
/// executable (/proc/self/exe), <exe_dir>/../share/callwall/catalog (the
/// installed layout: bin/callwall beside share/) and then
/// <exe_dir>/share/callwall/catalog (the build tree, where CMake links it to
/// the source catalog).
[[nodiscard]] std::vector<std::filesystem::path> bundled_catalog_candidates();
/// The bundled catalog directory: $CALLWALL_CATALOG_DIR as given if set, else
/// the first of bundled_catalog_candidates() that is a directory (symlinks
/// resolved), else the first candidate (which load() reports as not found,
/// naming every place tried).
[[nodiscard]] std::filesystem::path bundled_catalog_dir();
/// load()'s message when bundled_catalog_dir() does not exist: the places tried.
[[nodiscard]] std::string bundled_not_found_message();

/// Human-readable conditions, e.g. "SDK 2.9.0 or later; feature: RTMP converter";
/// "-" when there are none.
[[nodiscard]] std::string describe_conditions(const Conditions& c);
/// An entry's ports as a run records them: "443", "3478-3481", comma-joined.
[[nodiscard]] std::string ports_text(const Entry& e);
/// An entry's destinations as written, space-joined: its names, then its
/// addresses (catalog schema 2).
[[nodiscard]] std::string destinations_text(const Entry& e);

/// `catalog list --format json`: an array of entries as in DESIGN.md
/// ("Interfaces others rely on"), plus products that cannot be allow-listed as
/// objects with "allowlist_supported": false (see catalog/README.md).
[[nodiscard]] std::string render_json(const Catalog& c, const Selection& sel = {});
/// `catalog list`: a table per document edition, for a firewall team.
[[nodiscard]] std::string render_text(const Catalog& c, const Selection& sel = {});
/// `catalog show ID`: everything about one entry or product; nullopt if unknown.
[[nodiscard]] std::optional<std::string> render_show(const Catalog& c, std::string_view id);

/// Nft and Iptables are allow-lists; the dnsmasq formats fill their address
/// sets as clients resolve the vendors' names (dnsmasq `nftset=` / `ipset=`).
enum class ExportFormat : uint8_t { Nft, Iptables, DnsmasqNftset, DnsmasqIpset };

/// Options of `catalog export`.
struct ExportOptions {
    ExportFormat format = ExportFormat::Nft;
    Selection selection;
    /// Table (family inet) the nft output adds its sets and chains to. nft cannot
    /// jump between tables, so this is the table of the policy; "filter" is the
    /// table of Debian's stock /etc/nftables.conf.
    std::string nft_table = "filter";
    bool required_only = false;  ///< leave out entries the vendor presents as optional
    bool include_any = false;  ///< keep entries whose destination is ANY (ports open to every address)
    /// Non-empty: only these entries (by id) of the selection, e.g. what a
    /// probe found blocked (`catalog export --entry ID`).
    std::vector<std::string> only_entries;
    /// By entry id: open only these ports of the entry, not all its ranges
    /// (what a probe found blocked in a range it swept).
    std::map<std::string, std::vector<PortRange>> only_ports;
};

/// An allow-list for the selected products: nftables sets/rules or
/// iptables-restore rules that accept the entries' ports towards the vendor's
/// address sets (named per vendor, filled by dnsmasq), or the dnsmasq lines
/// that fill those sets. Names, conditions and sources are comments.
[[nodiscard]] std::string render_export(const Catalog& c, const ExportOptions& opt);

/// "443" or "10000-20000" (`sep` '-'); iptables writes "10000:20000" (`sep` ':').
[[nodiscard]] std::string port_range_text(const PortRange& r, char sep = '-');

/// The port lists of iptables' multiport match for `ranges` ("80,443,8000:8100"),
/// each within the match's 15 slots (a range takes two), in order.
[[nodiscard]] std::vector<std::string> multiport_lists(std::span<const PortRange> ranges);

/// The base name of the address set `render_export` matches an entry's
/// destinations with: "callwall_whereby" (+ "_v4"/"_v6" for nft; as is for an
/// ipset), "callwall_whereby_third_party" for third-party names.
[[nodiscard]] std::string address_set_name(const Entry& e);

/// JSON string literal with quotes, written by nlohmann-json (RFC 8259
/// escaping). Bytes that are not UTF-8 (a name off the wire) become U+FFFD,
/// so the text is always valid JSON; json_field keeps those bytes beside it.
[[nodiscard]] std::string json_quote(std::string_view s);

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
/// code points past U+10FFFF).
[[nodiscard]] bool valid_utf8(std::string_view s) noexcept;

/// `s` with every byte outside printable ASCII, and the backslash, written as
/// \xHH (Zeek's escaping of raw bytes in its logs): "\xc3(" for c3 28.
[[nodiscard]] std::string escape_bytes(std::string_view s);

/// `"key":"value"` for a text that may come off the wire: when `value` is
/// not UTF-8, followed by `,"key_raw":"..."` with its bytes as escape_bytes
/// writes them (the first string has U+FFFD in their place).
[[nodiscard]] std::string json_field(std::string_view key, std::string_view value);

}  // namespace callwall::catalog
