// Private to report/: the other flows' summary a report shows, the same
// whether the groups were read back (load.cpp) or kept by the run
// (from_run.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <utility>
#include <vector>

#include "report/report.hpp"

namespace callwall::report {

/// Sets d.other_flows to the flows of all `groups` and d.other_summary to
/// the largest kOtherFlowGroupsShown of them, ties by transport, app and
/// port (each group is one of those triples).
inline void set_other_flows(std::vector<OtherFlowsSummary> groups, ReportData& d) {
    d.other_flows = 0;
    for (const auto& g : groups) d.other_flows += g.flows;
    const auto larger = [](const OtherFlowsSummary& a, const OtherFlowsSummary& b) {
        if (a.flows != b.flows) return a.flows > b.flows;
        return std::tie(a.transport, a.app, a.server_port) < std::tie(b.transport, b.app, b.server_port);
    };
    const size_t n = std::min(groups.size(), kOtherFlowGroupsShown);
    std::partial_sort(groups.begin(), groups.begin() + static_cast<std::ptrdiff_t>(n), groups.end(), larger);
    groups.resize(n);
    d.other_summary = std::move(groups);
}

}  // namespace callwall::report
