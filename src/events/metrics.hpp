// `capture --metrics FILE`: the run's counters and verdict counts in the
// Prometheus text exposition format, for node_exporter's textfile collector
// (or anything that scrapes such a file). The file is replaced whole at each
// refresh (written beside it, then renamed), so a scrape never reads half.
// The command refuses a FILE that exists and is not such a file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace callwall::events {

/// What one refresh knows.
struct MetricsSnapshot {
    int64_t run_id = 0;
    uint64_t packets = 0, bytes = 0;
    uint64_t kernel_received = 0, kernel_dropped = 0, interface_dropped = 0;
    uint64_t flows = 0;  ///< flows created in the run
    uint64_t live_flows = 0;  ///< flows in the table now
    double refreshed_at = 0;  ///< seconds since the epoch
    /// Requirements per vendor and verdict (the verdict names of the
    /// database: observed, blocked, partial, inconclusive, not_exercised),
    /// every vendor with every verdict so a series never disappears.
    struct VendorVerdicts {
        std::string vendor;
        uint32_t observed = 0, blocked = 0, partial = 0, inconclusive = 0, not_exercised = 0;
    };
    std::vector<VendorVerdicts> vendors;
    bool attributed = false;  ///< false until the first attribution: no verdict series yet
};

/// The exposition text (HELP and TYPE lines, one sample per line, label
/// values escaped as the format requires).
[[nodiscard]] std::string metrics_text(const MetricsSnapshot& m);

/// Writes `text` to a new temporary file beside `path` (mode 0644) and
/// renames it over `path`. Returns "" or what failed, naming the file.
[[nodiscard]] std::string replace_file(const std::string& path, const std::string& text);

}  // namespace callwall::events
