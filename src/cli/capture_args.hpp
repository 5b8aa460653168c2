// The command line of `callwall capture`. See cli/capture_args.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "run/live_export.hpp"

namespace callwall::cli {

/// `callwall capture`'s options, checked.
struct CaptureArgs {
    capture::LiveOptions live;
    std::vector<std::string> interfaces, vendors, catalog_dirs, editions;
    std::string db_path, user = "nobody", events_path, metrics_path;
    double duration_s = 0, status_every_s = 10, refresh_s = 1;
    int64_t count = 0;
    int workers = 1;  ///< decoding workers (--workers)
    std::string rotate, keep;
    std::vector<run::ExportSpec> exports;  ///< --export RECORD:FORMAT:FILE, in order
    double rotate_s = 0, keep_s = 0;  ///< from --rotate / --keep (0: none)
    uint64_t rotate_bytes = 0, keep_runs = 0;
    bool no_bundled = false, no_filter = false, filter_given = false, show_filter = false, quiet = false,
         detail = false;
    bool verbose = false;  ///< -v: the final report lists the flows behind each verdict
    bool all_rows = false;  ///< --all: the final report lists every requirement's row, in catalog order
};

/// The command line into `a`; an exit code when the command ends here (help,
/// usage error, after its message).
[[nodiscard]] std::optional<int> parse_capture_args(int argc, char** argv, CaptureArgs& a);

/// "90s", "10m", "1h", "7d" (a bare number is seconds) into seconds; false
/// when it is none of those.
[[nodiscard]] bool parse_seconds(const std::string& text, double& out);

/// "500MB", "2GB", "64kB" (of captured packets) into bytes; false when it is
/// not a size.
[[nodiscard]] bool parse_bytes(const std::string& text, uint64_t& out);

}  // namespace callwall::cli
