// The capture files of an analyze run: opened, filtered and put in the order
// they are read, and the check that time does not run backwards across them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"

namespace callwall::cli {

struct Inputs {
    std::vector<std::string> files;  ///< in the order they are read; "-" is standard input
    std::vector<std::unique_ptr<capture::PcapSource>> sources;  ///< beside files
    uint64_t total_bytes = 0;  ///< on disk (compressed files count their compressed size)
    /// Files skipped for a link type callwall does not read, one note line each (no newline).
    std::vector<std::string> skipped;
};

/// Opens `files` for analyze. The same file named twice (a.pcap a.pcap,
/// ./a.pcap, a link to it; "-" twice) is read once, with a warning. With a
/// non-empty `filter`, every source skips the frames it does not match.
/// Unless `keep_order`, the files are read in the order of their first
/// packet's time (tcpdump -C's cap.pcap, cap.pcap1, ..., cap.pcap10 sort
/// wrongly as text); files without a packet come last, in the order given.
/// Of several files, one of a link type callwall does not read is skipped
/// with a warning on stderr (and a line in `skipped`, for the run's notes);
/// the others are read. Returns kExitOk, or after one line on stderr
/// kExitUsage (a bad filter), kExitInput (also: no file left to read) or
/// kExitPermission.
int open_inputs(const std::vector<std::string>& files, const std::string& filter, bool keep_order, Inputs& out);

/// Follows time across the files in the order read: when a file's first
/// packet is older than the last packet of the file read before it, a
/// warning on stderr and a line in the run's notes say so.
class TimeOrder {
public:
    /// Before reading `src` (named `name`). Reads its first frame ahead.
    void file_starts(const std::string& name, capture::PcapSource& src, std::string& notes);
    /// After reading a file: `packets` frames, the last at `last_ts_us`.
    void file_ended(const std::string& name, uint64_t packets, int64_t last_ts_us);

private:
    bool have_prev_ = false;
    std::string prev_name_;
    int64_t prev_last_ts_ = 0;
};

/// "2024-05-01 12:00:00.123456 UTC".
std::string format_ts(int64_t ts_us);

}  // namespace callwall::cli
