// Frames of the generated workload, preloaded into memory once per process
// (STYLE §8) so the stage benchmarks measure the stage, not the disk or libpcap.
//
// The file is CALLWALL_BENCH_PCAP, else /tmp/callwall-bench-1000000.pcap
// (bench/run_bench.sh and bench/compare.sh make it), else
// /tmp/callwall-bench-1m.pcap. The first CALLWALL_BENCH_PRELOAD frames
// (default 200000, about 130 MB of the default mix) are copied into one
// buffer; the RawFrame views point into it and stay valid for the process.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"

namespace callwall::bench {

struct PreloadedFrames {
    std::string file;
    std::vector<uint8_t> data;
    std::vector<decode::RawFrame> frames;  ///< views into `data`
    uint64_t bytes = 0;  ///< sum of caplen
};

inline std::string workload_file() {
    if (const char* f = std::getenv("CALLWALL_BENCH_PCAP")) return f;
    for (const char* f : {"/tmp/callwall-bench-1000000.pcap", "/tmp/callwall-bench-1m.pcap"})
        if (std::filesystem::exists(f)) return f;
    return "/tmp/callwall-bench-1000000.pcap";
}

inline size_t preload_limit() {
    if (const char* n = std::getenv("CALLWALL_BENCH_PRELOAD")) return std::strtoull(n, nullptr, 10);
    return 200000;
}

/// Loads once; returns nullptr (and the reason in `why`) when there is no workload.
inline const PreloadedFrames* preloaded_frames(std::string* why = nullptr) {
    static const PreloadedFrames* cached = []() -> const PreloadedFrames* {
        auto* p = new PreloadedFrames;  // lives for the process
        p->file = workload_file();
        if (!std::filesystem::exists(p->file)) return p;
        try {
            auto src = capture::PcapSource::open_file(p->file);
            decode::RawFrame fr;
            std::vector<size_t> offsets;
            const size_t limit = preload_limit();
            while (p->frames.size() < limit && src->next(fr) == capture::NextStatus::Frame) {
                offsets.push_back(p->data.size());
                p->data.insert(p->data.end(), fr.bytes.begin(), fr.bytes.end());
                p->frames.push_back(fr);
                p->bytes += fr.caplen;
            }
            for (size_t i = 0; i < p->frames.size(); ++i)
                p->frames[i].bytes = ByteView(p->data.data() + offsets[i], p->frames[i].caplen);
        } catch (const std::exception&) {
            p->frames.clear();
        }
        return p;
    }();
    if (cached->frames.empty()) {
        if (why) *why = "no workload at " + cached->file + " (run bench/run_bench.sh or bench/compare.sh)";
        return nullptr;
    }
    return cached;
}

}  // namespace callwall::bench
