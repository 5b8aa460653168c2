// capture --metrics FILE (Prometheus text format). Used by capture_cmd.cpp.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "attrib/attrib.hpp"
#include "catalog/catalog.hpp"
#include "events/metrics.hpp"
#include "run/session.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"

namespace callwall::cli {

// --metrics FILE: the run's counters and verdict counts, replaced at each
// refresh and at each run's end. Write errors are kept (the capture goes on)
// and reported when it ends.
class MetricsFile {
public:
    MetricsFile(std::string path, const catalog::Catalog& cat, const std::vector<std::string>& vendors)
        : path_(std::move(path)), cat_(cat) {
        for (const std::string& k : cat.vendors()) {
            const bool chosen =
                vendors.empty() || std::any_of(vendors.begin(), vendors.end(), [&](const std::string& v) {
                    catalog::Selection sel;  // matched as --vendor matches
                    sel.vendor = v;
                    return sel.matches(k, "", "");
                });
            if (chosen) chosen_.push_back(k);
        }
    }

    void write(run::Session& s) {
        events::MetricsSnapshot m;
        const store::RunTotals& t = s.totals();
        m.run_id = s.run_id();
        m.packets = t.packets;
        m.bytes = t.bytes;
        m.kernel_received = t.kernel_received;
        m.kernel_dropped = t.kernel_dropped;
        m.interface_dropped = t.interface_dropped;
        const run::RunCounts c = s.counts();
        m.flows = c.flows_created;
        m.live_flows = c.live_flows;
        m.refreshed_at = util::wall_s();
        if (const attrib::RunVerdicts* v = s.last_verdicts()) {
            m.attributed = true;
            for (const std::string& vendor : chosen_) {
                events::MetricsSnapshot::VendorVerdicts row;
                row.vendor = vendor;
                const auto entries = cat_.entries();
                for (size_t i = 0; i < entries.size() && i < v->entries.size(); ++i) {
                    if (entries[i].vendor != vendor) continue;
                    switch (v->entries[i].verdict) {
                        case attrib::Verdict::Observed: ++row.observed; break;
                        case attrib::Verdict::Blocked: ++row.blocked; break;
                        case attrib::Verdict::Partial: ++row.partial; break;
                        case attrib::Verdict::Inconclusive: ++row.inconclusive; break;
                        case attrib::Verdict::NotExercised: ++row.not_exercised; break;
                    }
                }
                m.vendors.push_back(std::move(row));
            }
        }
        const std::string err = events::replace_file(path_, events::metrics_text(m));
        if (!err.empty() && error_.empty()) error_ = err;
    }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

    /// Written once at the start, as the user the capture runs as: a file it
    /// cannot write is found now, not when the run ends. False after one
    /// line on stderr, with the run finished as failed.
    bool first_write(run::Session& s) {
        write(s);
        if (error_.empty()) return true;
        std::fprintf(stderr, "callwall capture: --metrics: cannot write %s\n", error_.c_str());
        try {
            s.note("--metrics: cannot write " + error_ + "\n");
            s.finish(run::Status::Failed, "error");
        } catch (...) {}
        return false;
    }

private:
    std::string path_;
    const catalog::Catalog& cat_;
    std::vector<std::string> chosen_;
    std::string error_;
};

}  // namespace callwall::cli
