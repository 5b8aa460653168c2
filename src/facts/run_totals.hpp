// What a run counted while its packets were read: its row's totals (the
// store writes them in the run table; the commands print them).
#pragma once

#include <cstdint>
#include <string>

namespace callwall::facts {

/// What counting a run's frames gives, before they are decoded
/// (pipeline/frame_count.hpp).
struct FrameTotals {
    uint64_t packets = 0, bytes = 0;
    uint64_t truncated_packets = 0;  ///< caplen < wire length
    uint64_t undecoded_packets = 0;  ///< not IP, or headers unreadable
    double first_ts = 0, last_ts = 0;  ///< capture time of the first and last packet
};

struct RunTotals : FrameTotals {
    uint64_t orphan_fragments = 0;  ///< later IP fragments whose first fragment was not seen
    uint64_t damaged_files = 0;  ///< files whose reading stopped on an error
    uint64_t kernel_received = 0, kernel_dropped = 0, interface_dropped = 0;
    uint64_t flows = 0;
    uint64_t flows_evicted_full = 0;
    std::string notes;  ///< damage and warnings, one per line
};

}  // namespace callwall::facts
