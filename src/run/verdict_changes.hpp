// A run's verdict lines for the event stream: only the entries whose
// verdict changed since the last attribution pass.
#pragma once

#include <cstdint>
#include <vector>

#include "attrib/attrib.hpp"
#include "catalog/catalog.hpp"
#include "events/events.hpp"

namespace callwall::run {

/// Remembers each entry's last verdict and, from the verdicts of an
/// attribution pass, gives one VerdictEvent per entry whose verdict changed
/// (the first time: every entry that is not not_exercised). A live capture
/// is attributed on every refresh; only changes are lines.
class VerdictChanges {
public:
    VerdictChanges(const catalog::Catalog& c, int64_t run_id) : catalog_(c), run_id_(run_id) {}
    /// `capture_ts`: the capture time of the run's last packet so far.
    [[nodiscard]] std::vector<events::VerdictEvent> update(const attrib::RunVerdicts& v, double capture_ts);

private:
    const catalog::Catalog& catalog_;
    int64_t run_id_;
    std::vector<attrib::Verdict> last_;  ///< parallel to the catalog's entries; empty before the first pass
};

}  // namespace callwall::run
