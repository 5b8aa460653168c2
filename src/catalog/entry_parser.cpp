// One [[entry]] of a catalog file: ports, destinations, probe hosts,
// conditions, provenance (loader_parts.hpp).
#include <unordered_map>

#include "catalog/loader_parts.hpp"
#include "catalog/public_suffix.hpp"

namespace callwall::catalog::loader_detail {

std::optional<uint16_t> FileParser::parse_port(const toml::node& n) {
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

std::optional<std::vector<PortRange>> FileParser::parse_ports(const toml::table& t, std::string_view where,
                                                              std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) {
        error_at(t, "missing key " + quote(key) + " in " + std::string(where) +
                        "; expected an array of ports and [low, high] ranges");
        return std::nullopt;
    }
    const toml::array* arr = n->as_array();
    if (!arr) {
        error_at(*n, "expected " + quote(key) + " to be an array of ports and [low, high] ranges, got " +
                         std::string(type_name(*n)));
        return std::nullopt;
    }
    if (arr->empty()) {
        error_at(*n, quote(key) + " is empty; expected at least one port or [low, high] range");
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
                error_at(
                    el, "reversed port range " + port_range_text(*lo, *hi) + "; expected [low, high] with low <= high");
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

namespace {

// "" or why a pattern anchored at a public suffix is refused: "*.co.uk" would
// match every site under co.uk (and an export would open them all). A
// hosting platform's suffix (the list's PRIVATE section: "*.cloudfront.net")
// is allowed for a third_party entry, whose names never count as the
// vendor's and go to third-party sets of their own.
std::string public_suffix_problem(const Destination& d, const toml::table& t) {
    if (d.kind != DestinationKind::Wildcard && d.kind != DestinationKind::Suffix) return "";
    const PublicSuffixList* psl = PublicSuffixList::system();
    if (!psl) return "";  // no list installed: not checked
    const auto section = psl->public_suffix(d.base());
    if (section == PublicSuffixList::Section::None) return "";
    const toml::node* tp = t.get("third_party");
    const bool third_party = tp && tp->value<bool>().value_or(false);
    if (section == PublicSuffixList::Section::Private && third_party) return "";
    return " is anchored at " + quote(d.base()) + ", a public suffix (" +
           (section == PublicSuffixList::Section::Private ? "a hosting platform's, " : "") +
           "Public Suffix List): it would match every site registered under it; expected a vendor's own domain"
           " such as '*.vendor." +
           std::string(d.base()) + "'" +
           (section == PublicSuffixList::Section::Private ? " (or third_party = true)" : "");
}

}  // namespace

std::optional<std::vector<Destination>> FileParser::parse_destinations(const toml::table& t, std::string_view where) {
    const toml::node* n = t.get("destinations");
    if (!n) {
        error_at(t, "missing key 'destinations' in " + std::string(where) +
                        "; expected an array of names (\"*.x.com\", \".x.com\", \"host.x.com\") or [\"ANY\"]" +
                        (schema_ >= kSchemaVersion2 ? ", or 'addresses'" : ""));
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
    // Reserved whole: `seen` holds views of the patterns in `out`, which
    // never moves.
    std::vector<Destination> out;
    out.reserve(arr->size());
    std::vector<const toml::node*> nodes;
    nodes.reserve(arr->size());
    std::unordered_map<std::string_view, size_t> seen;  // pattern -> its index in `out`
    seen.reserve(arr->size());
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
        if (const std::string why = public_suffix_problem(*d, t); !why.empty()) {
            error_at(el, "destination " + quote(s->get()) + why);
            ok = false;
            continue;
        }
        // Looked up by pattern, not compared with every earlier one: a list
        // of 200,000 names is checked in well under a second.
        out.push_back(std::move(*d));
        if (const auto [at, fresh] = seen.try_emplace(out.back().pattern, out.size() - 1); !fresh) {
            error_at(el, "duplicate destination " + quote(s->get()) + " (same as " + quote(out[at->second].as_written) +
                             "); expected each destination once");
            ok = false;
        }
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

std::optional<std::vector<AddressRange>> FileParser::parse_addresses(const toml::table& t) {
    const toml::node* n = t.get("addresses");
    const toml::array* arr = n->as_array();
    if (!arr) {
        error_at(*n, "expected 'addresses' to be an array of CIDR prefixes or start-end ranges, got " +
                         std::string(type_name(*n)));
        return std::nullopt;
    }
    if (arr->empty()) {
        error_at(*n,
                 "'addresses' is empty; expected at least one prefix (\"52.112.0.0/14\") or range "
                 "(\"10.1.0.5-10.1.0.9\")");
        return std::nullopt;
    }
    std::vector<AddressRange> out;
    std::vector<const toml::node*> nodes;
    bool ok = true;
    for (const toml::node& el : *arr) {
        const auto* s = el.as_string();
        if (!s) {
            error_at(el, "expected each address to be a string, got " + std::string(type_name(el)));
            ok = false;
            continue;
        }
        std::string reason;
        auto r = parse_address_range(s->get(), &reason);
        if (!r) {
            // A reason that already says what was expected is not followed by the general form.
            error_at(el, "malformed address " + quote(s->get()) + ": " + reason +
                             (reason.find("expected") != std::string::npos
                                  ? ""
                                  : "; expected a CIDR prefix such as '52.112.0.0/14' or '2603:1063::/38', or a "
                                    "range such as '10.1.0.5-10.1.0.9'"));
            ok = false;
            continue;
        }
        out.push_back(std::move(*r));
        nodes.push_back(&el);
    }
    // Overlaps: in (family, lo) order, an item overlaps an earlier one when
    // its lo is at or below the largest hi so far. Reported at the item
    // written later, naming the other.
    std::vector<size_t> order(out.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto key_less = [&](size_t a, size_t b) {
        if (out[a].family != out[b].family) return out[a].family < out[b].family;
        return out[a].lo < out[b].lo;
    };
    std::stable_sort(order.begin(), order.end(), key_less);
    size_t widest = SIZE_MAX;  // the item with the largest hi so far in this family
    for (size_t k = 0; k < order.size(); ++k) {
        const size_t i = order[k];
        if (widest != SIZE_MAX && out[widest].family == out[i].family && out[widest].overlaps(out[i])) {
            const size_t later = std::max(i, widest), other = std::min(i, widest);
            error_at(*nodes[later], "address " + quote(out[later].as_written) + " overlaps " +
                                        quote(out[other].as_written) +
                                        " in the same entry; expected disjoint prefixes and ranges (merge them)");
            ok = false;
        }
        if (widest == SIZE_MAX || out[widest].family != out[i].family || out[widest].hi < out[i].hi) widest = i;
    }
    if (!ok) return std::nullopt;
    return out;
}

bool FileParser::parse_schema2_entry(const toml::table& t, std::string_view where, Entry& e) {
    if (schema_ < kSchemaVersion2) return true;  // check_schema2_keys reported any use
    bool ok = true;
    if (t.get("source_ports")) {
        if (auto p = parse_ports(t, where, "source_ports")) {
            e.source_ports = std::move(*p);
            e.source_port_set = PortSet(e.source_ports);
        } else {
            ok = false;
        }
    }
    if (const toml::node* n = t.get("tier")) {
        const auto* s = n->as_string();
        if (!s || !contains(kTiers, s->get())) {
            error_at(*n, "unknown tier " + describe_value(*n) + "; expected one of: " + join(kTiers));
            ok = false;
        } else {
            e.tier = s->get();
        }
    }
    if (const toml::table* f = get_table(t, "fallback", where, false, "chain, order and label")) {
        check_keys(*f, kFallbackKeys, "[entry.fallback]");
        Fallback fb;
        auto chain = get_string(*f, "chain", "[entry.fallback]", true);
        auto label = get_string(*f, "label", "[entry.fallback]", true);
        const toml::node* o = f->get("order");
        if (!o) {
            error_at(*f,
                     "missing key 'order' in [entry.fallback]; expected 1 for the vendor's first choice, 2 for "
                     "the next, ...");
            ok = false;
        } else if (!o->is_integer() || o->as_integer()->get() < 1 || o->as_integer()->get() > 100) {
            error_at(*o, "bad fallback order " + describe_value(*o) + "; expected an integer from 1 to 100");
            ok = false;
        } else {
            fb.order = static_cast<uint32_t>(o->as_integer()->get());
        }
        if (chain && !valid_id(*chain)) {
            error_at(*f->get("chain"), "invalid chain " + quote(*chain) +
                                           "; expected lowercase letters, digits, '.', '-' or '_' like an id");
            chain.reset();
        }
        if (!chain || !label) ok = false;
        if (ok) {
            fb.chain = *chain;
            fb.label = *label;
            e.fallback = std::move(fb);
        }
    } else if (t.get("fallback")) {
        ok = false;
    }
    return ok;
}

bool FileParser::parse_probe_hosts(const toml::table& t, Entry& e) {
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

bool FileParser::parse_conditions(const toml::table& t, std::string_view where, Entry& e) {
    const toml::table* c = get_table(t, "conditions", where, false, "sdk_version, feature and/or local_config");
    if (!c) return !t.get("conditions");
    check_keys(*c, kConditionKeys, "[entry.conditions]");
    bool ok = true;
    if (const toml::table* s = get_table(*c, "sdk_version", "[entry.conditions]", false, "text and min and/or below")) {
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

std::optional<std::vector<std::string>> FileParser::parse_field_list(const toml::table& t, std::string_view key,
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

bool FileParser::parse_provenance(const toml::table& t, std::string_view where, const Document& doc, Entry& e) {
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

std::optional<Entry> FileParser::parse_entry(const toml::table& t, const Document& doc,
                                             const std::vector<Product>& products) {
    auto id = parse_id(t, "[[entry]]");
    const std::string where = "[[entry]]" + (id ? " " + quote(*id) : std::string());
    check_keys(t, kEntryKeys, kEntryKeys2, where);
    check_schema2_keys(t, kEntryKeys2);
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
                                                std::to_string(p.defined_at.column) + "; expected no [[entry]] for it");
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
    const bool has_addresses = schema_ >= kSchemaVersion2 && t.get("addresses");
    if (has_addresses) {
        if (auto a = parse_addresses(t))
            e.addresses = std::move(*a);
        else
            ok = false;
    }
    if (t.get("destinations") || !has_addresses) {
        if (auto d = parse_destinations(t, where))
            e.destinations = std::move(*d);
        else
            ok = false;
    }
    if (has_addresses && e.any_destination()) {
        error_at(*t.get("destinations"),
                 "'ANY' cannot be combined with 'addresses'; expected names and/or addresses, or [\"ANY\"] alone");
        ok = false;
    }
    if (!parse_schema2_entry(t, where, e)) ok = false;
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

}  // namespace callwall::catalog::loader_detail
