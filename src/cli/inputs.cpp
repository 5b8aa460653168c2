// Opening and ordering an analyze run's files. See cli/inputs.hpp.
#include "cli/inputs.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <numeric>
#include <utility>

#include "cli/commands.hpp"

namespace callwall::cli {
namespace {

/// The files without repeats, in the order given (see open_inputs). Files
/// are the same when device and inode are; what cannot be stat'ed stays in
/// the list and fails to open with its own message.
std::vector<std::string> without_repeats(const std::vector<std::string>& files) {
    std::vector<std::string> unique;
    std::vector<std::pair<dev_t, ino_t>> seen;
    bool stdin_seen = false;
    for (const auto& f : files) {
        if (f == "-") {
            if (stdin_seen) {
                std::fprintf(stderr, "callwall: warning: - (standard input) is named twice; reading it once\n");
                continue;
            }
            stdin_seen = true;
            seen.emplace_back(dev_t(-1), ino_t(-1));
            unique.push_back(f);
            continue;
        }
        struct stat st {};
        if (::stat(f.c_str(), &st) == 0) {
            const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
            bool dup = false;
            for (size_t k = 0; k < seen.size() && !dup; ++k) {
                if (seen[k] != id) continue;
                dup = true;
                std::fprintf(stderr, "callwall: warning: %s is the same file as %s; reading it once\n", f.c_str(),
                             unique[k].c_str());
            }
            if (dup) continue;
            seen.push_back(id);
        } else {
            seen.emplace_back(dev_t(-1), ino_t(-1));  // keeps seen[k] beside unique[k]; matches nothing real
        }
        unique.push_back(f);
    }
    return unique;
}

}  // namespace

int open_inputs(const std::vector<std::string>& given, const std::string& filter, bool keep_order, Inputs& out) {
    const std::vector<std::string> named = without_repeats(given);
    // Every input is opened before the database is touched, so a typo costs nothing.
    std::vector<std::string> files;
    std::vector<std::string> skipped;
    std::vector<std::unique_ptr<capture::PcapSource>> sources;
    uint64_t total_bytes = 0;
    for (const auto& f : named) {
        try {
            std::unique_ptr<capture::PcapSource> src = capture::PcapSource::open_file(f);
            if (!filter.empty()) src->set_filter(filter);
            sources.push_back(std::move(src));
            files.push_back(f);
            struct stat st {};
            if (f != "-" && ::stat(f.c_str(), &st) == 0) total_bytes += static_cast<uint64_t>(st.st_size);
        } catch (const capture::CaptureError& e) {
            if (e.kind() == capture::CaptureErrorKind::Filter) {
                std::fprintf(stderr, "callwall analyze: --filter: %s\n", e.what());
                return kExitUsage;
            }
            // One file of a link type callwall does not read (a capture of
            // another kind of link beside the mirror's): the others are read.
            if (e.kind() == capture::CaptureErrorKind::UnknownLinkType && named.size() > 1) {
                std::fprintf(stderr, "callwall: warning: %s; file skipped, reading the others\n", e.what());
                skipped.push_back(std::string(e.what()) + ": file skipped, its packets are not in this run");
                continue;
            }
            std::fprintf(stderr, "callwall: %s\n", e.what());
            return e.kind() == capture::CaptureErrorKind::Permission ? kExitPermission : kExitInput;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "callwall: none of the %zu files has a link type callwall reads\n", named.size());
        return kExitInput;
    }
    std::vector<size_t> order(files.size());
    std::iota(order.begin(), order.end(), size_t{0});
    if (!keep_order) {
        std::vector<int64_t> first(files.size(), std::numeric_limits<int64_t>::max());
        for (size_t i = 0; i < files.size(); ++i) {
            int64_t ts = 0;
            if (sources[i]->first_ts(ts)) first[i] = ts;
        }
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return first[a] < first[b]; });
    }
    out = Inputs{};
    for (const size_t i : order) {
        out.files.push_back(files[i]);
        out.sources.push_back(std::move(sources[i]));
    }
    out.total_bytes = total_bytes;
    out.skipped = std::move(skipped);
    return kExitOk;
}

std::string format_ts(int64_t ts_us) {
    const int64_t sec = ts_us >= 0 ? ts_us / 1000000 : -((-ts_us + 999999) / 1000000);
    const int64_t usec = ts_us - sec * 1000000;
    const std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    char day[32] = "?";
    if (::gmtime_r(&t, &tm)) std::strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s.%06lld UTC", day, static_cast<long long>(usec));
    return buf;
}

void TimeOrder::file_starts(const std::string& name, capture::PcapSource& src, std::string& notes) {
    int64_t first = 0;
    if (!have_prev_ || !src.first_ts(first) || first >= prev_last_ts_) return;
    const std::string line = "time runs backwards: " + name + " starts at " + format_ts(first) + ", before " +
                             prev_name_ + " ended (" + format_ts(prev_last_ts_) + ")";
    std::fprintf(stderr, "callwall: warning: %s\n", line.c_str());
    notes += line + "\n";
}

void TimeOrder::file_ended(const std::string& name, uint64_t packets, int64_t last_ts_us) {
    if (packets == 0) return;
    have_prev_ = true;
    prev_name_ = name;
    prev_last_ts_ = last_ts_us;
}

}  // namespace callwall::cli
