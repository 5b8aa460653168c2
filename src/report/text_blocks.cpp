// The text report's verdict blocks: the vendors' overview, then per product
// its conclusion and the rows that decide it. See report/text_parts.hpp.
#include "report/html_parts.hpp"
#include "report/text_layout.hpp"
#include "report/text_parts.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace callwall::report {

namespace {

using text::pad;
using text::trimmed;
using text::wrap;
using text::wrapped;

// A row's table cells: 2 + 13 + 1 + 56 + 1 + 27 = text::kWidth; the row's
// why goes under its service and ports, 84 columns wide, where the longest
// tokens (an IPv6 address, a name, an entry id under -v) fit whole.
constexpr size_t kVerdictCol = 13, kServiceCol = 56, kPortsCol = text::kWidth - 2 - kVerdictCol - kServiceCol - 2;
constexpr size_t kWhyIndent = 2 + kVerdictCol + 1;

// The verdict column's word: an audit's `observed` means the ruleset passes it.
std::string verdict_word(const std::string& v, bool audit) {
    if (v == "not_exercised") return "not exercised";
    if (audit && v == "observed") return "passes";
    return v;
}

// The order that decides a product's answer: what stops it first.
int verdict_rank(const std::string& v) {
    if (v == "blocked") return 0;
    if (v == "partial") return 1;
    if (v == "inconclusive") return 2;
    if (v == "observed") return 3;
    return 4;
}

// `s` with "ID 12" (Microsoft's row numbers in service names) glued, so
// that a line never ends between "ID" and its number.
std::string ids_glued(std::string s) {
    for (size_t at = 0; (at = s.find("ID ", at)) != std::string::npos; at += 3)
        if (at + 3 < s.size() && s[at + 3] >= '0' && s[at + 3] <= '9' &&
            (at == 0 || s[at - 1] == ' ' || s[at - 1] == '('))
            s[at + 2] = text::kNoBreak;
    return s;
}

// "A", "A and B", "A, B and C".
std::string and_joined(const std::vector<std::string>& xs) {
    std::string o;
    for (size_t i = 0; i < xs.size(); ++i) o += (i == 0 ? "" : i + 1 == xs.size() ? " and " : ", ") + xs[i];
    return o;
}

// The rows of the report by entry id, for naming the entries a row's flows
// also serve; `unshown`: those of a vendor's editions that did not judge.
struct RowIndex {
    std::map<std::string_view, const VerdictRow*> rows;
    std::set<std::string_view> unshown;
};

// Another entry as the reader knows it: its service, then the block it is
// in when that is not this row's (another edition, product or vendor); its
// id when the report does not hold it (a vendor left out by --vendor).
// `ids`: -v, where the id follows.
std::string entry_named(const RowIndex& index, const VerdictRow& here, const std::string& id, bool ids) {
    const auto it = index.rows.find(id);
    if (it == index.rows.end()) return id;
    std::string o = service_of(*it->second, here);
    if (ids) o += " [" + id + "]";
    return o;
}

// One requirement's row: verdict, service and ports on its first line(s),
// then what the verdict rests on, wrapped under the service.
void text_row(const VerdictRow& v, const RowIndex& rows, bool audit, bool ids, std::string& o) {
    const auto svc = wrap(ids_glued(v.service) + (v.required ? "" : " (optional)"), kServiceCol);
    const auto ports = wrap(v.transport + " " + ports_spaced(v.ports), kPortsCol);
    const size_t n = std::max(svc.size(), ports.size());
    for (size_t k = 0; k < n; ++k)
        o += trimmed("  " + pad(k == 0 ? verdict_word(v.verdict, audit) : "", kVerdictCol) + " " +
                     pad(k < svc.size() ? svc[k] : "", kServiceCol) + " " + (k < ports.size() ? ports[k] : ""));
    std::string why = v.why;
    if (!v.reasons.empty()) why = "[" + reasons_joined(v) + "] " + why;
    if (!v.origin.empty()) why += "; likely origin: " + v.origin;
    if (!v.conditions.empty() && v.conditions != "-") why += " (if " + v.conditions + ")";
    if (!v.shared_with.empty()) {
        std::vector<std::string> named;
        // The same flows in an edition that did not judge are that
        // edition's business (its answer is in the block's first line);
        // named with -v only.
        for (const auto& id : v.shared_with)
            if (ids || !rows.unshown.count(id)) named.push_back(entry_named(rows, v, id, ids));
        if (!named.empty()) why += "; also serves " + and_joined(named);
    }
    if (ids) why += "; entry " + v.entry_id;
    if (why.find_first_not_of(' ') != std::string::npos)
        o += wrapped(std::string(kWhyIndent, ' '), ids_glued(why), kWhyIndent);
}

// The flows behind one requirement's verdict, a line or two each, under its
// row: flow id, 5-tuple, packets each way, state, outcome, app, name (and
// how it is known), how the flow matched, ICMP said no, and how long.
void text_evidence(const VerdictRow& v, std::string& o) {
    const std::string lead(kWhyIndent, ' ');
    if (v.evidence.empty()) {
        if (v.verdict == "blocked" || v.verdict == "partial")
            o += lead + "(no flow behind this verdict: the reason above is the evidence)\n";
        return;
    }
    for (const EvidenceFlow& f : v.evidence) {
        std::string line = "flow " + std::to_string(f.id) + ": " + html::five_tuple(f) + ", " +
                           std::to_string(f.packets_c2s) + "/" + std::to_string(f.packets_s2c) + " packets";
        for (const std::string* part : {&f.state, &f.outcome, &f.app})
            if (!part->empty()) line += ", " + *part;
        if (!f.name.empty()) line += ", " + f.name + (f.name_source.empty() ? "" : " (" + f.name_source + ")");
        if (!f.evidence_kind.empty()) line += ", matched by " + f.evidence_kind;
        if (const std::string icmp = html::icmp_text(f); !icmp.empty()) line += ", " + icmp;
        line += ", " + text::iso_time(f.first_ts) + " for " + html::seconds_text(f.last_ts - f.first_ts);
        o += wrapped(lead, line, kWhyIndent + 2);
    }
    if (const uint64_t more = html::flows_not_shown(v); more > 0)
        o += wrapped(lead,
                     "and " + std::to_string(more) + " more flow(s) counted in the verdict (" +
                         std::to_string(v.flows_observed) + " observed, " + std::to_string(v.flows_blocked) +
                         " blocked, " + std::to_string(v.flows_inconclusive) + " inconclusive in all)",
                     kWhyIndent + 2);
}

// The rows of one product in the order that decides its answer (stable:
// catalog order within a rank).
std::vector<const VerdictRow*> deciding_order(const std::vector<VerdictRow>& all, size_t begin, size_t end) {
    std::vector<const VerdictRow*> rows;
    for (size_t i = begin; i < end; ++i) rows.push_back(&all[i]);
    std::stable_sort(rows.begin(), rows.end(), [](const VerdictRow* a, const VerdictRow* b) {
        const int ra = verdict_rank(a->verdict), rb = verdict_rank(b->verdict);
        if (ra != rb) return ra < rb;
        return a->required && !b->required;
    });
    return rows;
}

// "not exercised: 7 (A, B, and 5 more: --all lists them)": the services of
// the rows not exercised, each once, required first, in at most
// kFoldLines lines; the names that do not fit are counted.
constexpr size_t kFoldLines = 2;
std::string folded_lines(const std::vector<const VerdictRow*>& quiet) {
    std::vector<std::string> names;
    for (const bool required : {true, false})
        for (const VerdictRow* v : quiet)
            if (v->required == required && std::find(names.begin(), names.end(), v->service) == names.end())
                names.push_back(v->service);
    const std::string head = "not exercised: " + std::to_string(quiet.size()) + " (";
    for (size_t shown = names.size();; --shown) {
        std::string line = head;
        for (size_t i = 0; i < shown; ++i) line += names[i] + (i + 1 < shown ? ", " : "");
        if (shown < names.size())
            line += (shown ? ", and " : "") + std::to_string(names.size() - shown) + " more: --all lists them";
        std::string o = wrapped("  ", ids_glued(line + ")"), 4);
        if (shown == 0 || std::count(o.begin(), o.end(), '\n') <= static_cast<std::ptrdiff_t>(kFoldLines)) return o;
    }
}

// A product's rows: [begin, end) of the report's verdicts.
struct Block {
    size_t begin = 0, end = 0;
    bool exercised = false;
};

std::vector<Block> blocks_of(const std::vector<VerdictRow>& rows) {
    std::vector<Block> out;
    for (size_t i = 0; i < rows.size();) {
        Block b;
        b.begin = i;
        while (i < rows.size() && same_product(rows[i], rows[b.begin]))
            b.exercised |= rows[i++].verdict != "not_exercised";
        b.end = i;
        out.push_back(b);
    }
    return out;
}

const ProductRow* conclusion_of(const ReportData& d, const VerdictRow& first) {
    for (const auto& p : d.products)
        if (p.vendor == first.vendor && p.product == first.product && p.edition == first.edition) return &p;
    return nullptr;
}

// Worst first: the conclusion a vendor's overview line gives.
int conclusion_rank(const std::string& c) {
    if (c == "broken") return 0;
    if (c == "works, degraded") return 1;
    if (c == "inconclusive") return 2;
    if (c == "ready") return 3;
    return 4;
}

// When the blocks hold more than one vendor: one line each, its conclusion
// (its worst product's) and the first thing to fix, if any.
void vendor_overview(const ReportData& d, const std::vector<Block>& blocks, bool audit, std::string& o) {
    struct Vendor {
        std::string name;
        std::vector<const Block*> blocks;
    };
    std::vector<Vendor> vendors;
    for (const Block& b : blocks) {
        if (!b.exercised) continue;
        const std::string& name = d.verdicts[b.begin].vendor;
        if (vendors.empty() || vendors.back().name != name) vendors.push_back(Vendor{name, {}});
        vendors.back().blocks.push_back(&b);
    }
    if (vendors.size() < 2) return;
    size_t name_cols = 0;
    for (const auto& v : vendors) name_cols = std::max(name_cols, text::columns(v.name));
    name_cols = std::min<size_t>(name_cols, 24);
    o += "\nvendors in this run:\n";
    for (const auto& v : vendors) {
        const Block* worst = v.blocks.front();
        std::string conclusion = "no conclusion";
        int worst_rank = 5;
        for (const Block* b : v.blocks) {
            const ProductRow* p = conclusion_of(d, d.verdicts[b->begin]);
            const int r = p ? conclusion_rank(p->conclusion) : 4;
            if (r < worst_rank) {
                worst_rank = r;
                worst = b;
                conclusion = p ? p->conclusion : conclusion;
            }
        }
        const VerdictRow& head = d.verdicts[worst->begin];
        std::string line = conclusion;
        if (v.blocks.size() > 1) line += " (" + head.product + (head.edition.empty() ? "" : ", " + head.edition) + ")";
        // The first row to fix: the worst product's first blocked or partial
        // row in deciding order; the count of the vendor's others.
        const VerdictRow* fix = nullptr;
        for (const VerdictRow* r : deciding_order(d.verdicts, worst->begin, worst->end))
            if (r->verdict == "blocked" || r->verdict == "partial") {
                fix = r;
                break;
            }
        size_t others = 0;
        for (const Block* b : v.blocks)
            for (size_t i = b->begin; i < b->end; ++i)
                others +=
                    &d.verdicts[i] != fix && (d.verdicts[i].verdict == "blocked" || d.verdicts[i].verdict == "partial");
        if (fix)
            line += "; to fix: " + fix->service + ", " + fix->transport + " " + ports_spaced(fix->ports) + " " +
                    verdict_word(fix->verdict, audit) + (others ? " (and " + std::to_string(others) + " more)" : "");
        o += wrapped("  " + pad(v.name, name_cols) + "  ", ids_glued(line), 2 + name_cols + 2);
    }
}

}  // namespace

void text_blocks(const ReportData& d, const TextOptions& opt, bool audit, std::string& o) {
    RowIndex index;
    for (const auto& v : d.verdicts) index.rows.emplace(v.entry_id, &v);
    for (const auto& v : d.unshown) {
        index.rows.emplace(v.entry_id, &v);
        index.unshown.insert(v.entry_id);
    }
    const auto blocks = blocks_of(d.verdicts);
    vendor_overview(d, blocks, audit, o);
    // A product with nothing exercised is one line (its requirements are in
    // `--format json|csv`).
    std::vector<std::string> quiet_products;
    for (const Block& b : blocks) {
        const VerdictRow& first = d.verdicts[b.begin];
        const std::string g = product_label(first.vendor, first.edition, first.product);
        if (!b.exercised) {
            quiet_products.push_back(g);
            continue;
        }
        o += "\n" + g + "\n";
        if (const ProductRow* p = conclusion_of(d, first))
            o += wrapped("  => ", ids_glued(p->conclusion + ": " + p->detail), 5);
        o += trimmed("  " + pad("verdict", kVerdictCol) + " " + pad("service", kServiceCol) + " ports");
        std::vector<const VerdictRow*> rows;
        if (opt.all_rows)
            for (size_t i = b.begin; i < b.end; ++i) rows.push_back(&d.verdicts[i]);
        else
            rows = deciding_order(d.verdicts, b.begin, b.end);
        std::vector<const VerdictRow*> quiet;
        for (const VerdictRow* v : rows) {
            if (!opt.all_rows && v->verdict == "not_exercised") {
                quiet.push_back(v);
                continue;
            }
            text_row(*v, index, audit, opt.evidence, o);
            if (opt.evidence) text_evidence(*v, o);
        }
        if (!quiet.empty()) o += folded_lines(quiet);
    }
    if (!quiet_products.empty()) {
        o += audit ? "\nnot exercised (not replayed by this audit):\n"
                   : "\nnot exercised (no traffic for them in this capture):\n";
        for (const auto& q : quiet_products) o += "  " + q + "\n";
    }
}

}  // namespace callwall::report
