// Escaping a report for the terminal: see report/text_safe.hpp.
#include "report/text_safe.hpp"

#include <type_traits>

#include "util/terminal_text.hpp"

namespace callwall::report {

namespace {

void safe(std::string& s) {
    if (!util::terminal_safe(s)) s = util::terminal_text(s);
}

void safe_lines(std::string& s) { s = util::terminal_lines(s); }

void safe(std::vector<std::string>& v) {
    for (auto& s : v) safe(s);
}

void safe(RunInfo& r) {
    for (std::string* s : {&r.kind, &r.source, &r.status, &r.command_line, &r.tool_version, &r.catalog_digest,
                           &r.origin, &r.status_detail})
        safe(*s);
    safe_lines(r.notes);
    safe(r.sources);
}

// Every text column of the flow.
void safe(facts::ShownFlow& f) {
    facts::each_shown_column(f, [](auto& column) {
        if constexpr (std::is_same_v<std::decay_t<decltype(column)>, std::string>) safe(column);
    });
}

void safe(EvidenceFlow& f) {
    safe(static_cast<facts::ShownFlow&>(f));
    safe(f.evidence_kind);
}

void safe(VerdictRow& v) {
    for (std::string* s : {&v.entry_id, &v.vendor, &v.edition, &v.product, &v.service, &v.transport, &v.ports,
                           &v.destinations, &v.conditions, &v.source_file, &v.source_section, &v.document_title,
                           &v.verdict, &v.ports_observed, &v.ports_blocked, &v.origin, &v.why})
        safe(*s);
    safe(v.reasons);
    safe(v.shared_with);
    for (auto& f : v.evidence) safe(f);
}

}  // namespace

ReportData text_safe(const ReportData& d) {
    ReportData o = d;
    safe(o.db_path);
    safe(o.read_warning);
    safe(o.run);
    for (auto& v : o.verdicts) safe(v);
    for (auto& p : o.products)
        for (std::string* s : {&p.vendor, &p.product, &p.edition, &p.conclusion, &p.detail}) safe(*s);
    for (auto& u : o.vendor_gaps) {
        safe(u.vendor);
        safe(u.name);
        safe(u.flow);
    }
    for (auto& g : o.other_summary) {
        safe(g.transport);
        safe(g.app);
    }
    for (auto& a : o.allow_lists) {
        safe(a.format);
        safe_lines(a.text);
    }
    return o;
}

}  // namespace callwall::report
