// Verdict lines: only the entries whose verdict changed. See run/verdict_changes.hpp.
#include "run/verdict_changes.hpp"

#include "attrib/result_records.hpp"
#include "events/record_json.hpp"

namespace callwall::run {

std::vector<events::VerdictEvent> VerdictChanges::update(const attrib::RunVerdicts& v, double capture_ts) {
    std::vector<events::VerdictEvent> out;
    const auto entries = catalog_.entries();
    const bool first = last_.empty();
    if (first) last_.assign(entries.size(), attrib::Verdict::NotExercised);
    for (size_t i = 0; i < entries.size() && i < v.entries.size(); ++i) {
        const attrib::EntryVerdict& ev = v.entries[i];
        if (ev.verdict == last_[i]) continue;
        events::VerdictEvent e;
        e.ts = capture_ts;
        e.run_id = run_id_;
        e.entry_id = entries[i].id;
        e.vendor = entries[i].vendor;
        e.product = entries[i].product;
        e.service = entries[i].service;
        e.verdict = std::string(attrib::to_string(ev.verdict));
        e.previous = first ? "" : std::string(attrib::to_string(last_[i]));
        const attrib::EntryRecords rows(entries[i], "", ev);
        events::append_columns(records::Verdict::kColumns, rows.verdict().values(), events::kVerdictViewedColumns,
                               e.columns, events::kVerdictJsonColumns);
        out.push_back(std::move(e));
        last_[i] = ev.verdict;
    }
    return out;
}

}  // namespace callwall::run
