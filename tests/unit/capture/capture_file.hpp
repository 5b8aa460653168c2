// Synthetic captures for the capture tests.
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"

namespace callwall::capture::test {

/// What a source handed out, frame by frame, and how it ended.
struct Seen {
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<int64_t> ts;
    std::vector<uint32_t> wirelen;
    NextStatus end = NextStatus::Frame;
    std::string error;  ///< the source's error() when it ended in Error, else ""
};

/// Resident size (smaps "Rss:") of this process's mapping of `p`, in bytes;
/// -1 when `p` is not mapped.
inline long resident_bytes_of_mapping(const std::filesystem::path& p) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool in_mapping = false;
    while (std::getline(smaps, line)) {
        if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 16) {
            in_mapping = line.size() >= p.string().size() &&
                         line.compare(line.size() - p.string().size(), std::string::npos, p.string()) == 0;
        } else if (in_mapping && line.rfind("Rss:", 0) == 0) {
            return std::stol(line.substr(4)) * 1024;
        }
    }
    return -1;
}

/// Reads `src` (a PcapSource or a ReadAhead) to its end, 10 M frames at most.
template <class Source>
Seen read_frames(Source& src) {
    Seen s;
    RawFrame f;
    for (size_t guard = 0; guard < 10'000'000; ++guard) {
        const NextStatus st = src.next(f);
        if (st != NextStatus::Frame) {
            s.end = st;
            s.error = st == NextStatus::Error ? src.error() : "";
            break;
        }
        s.bytes.emplace_back(f.bytes.begin(), f.bytes.end());
        s.ts.push_back(f.ts_us);
        s.wirelen.push_back(f.wirelen);
    }
    return s;
}

inline void put32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));  // little-endian file
}

/// Writes `bytes` to a file in the temporary directory named after `stem`,
/// the process id (ctest runs the tests of one fixture in parallel
/// processes) and `seed`; returns its path.
inline std::string write_temp_capture(const std::vector<uint8_t>& bytes, const std::string& stem, uint32_t seed,
                                      const char* extension) {
    const std::filesystem::path p = std::filesystem::temp_directory_path() /
                                    (stem + std::to_string(::getpid()) + "-" + std::to_string(seed) + extension);
    FILE* f = std::fopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return p.string();
}

// A classic pcap (Ethernet, microseconds) of `n` frames with sizes from 0 to
// 9000 bytes, every byte derived from the frame number: a frame handed out
// with the wrong bytes, length or order is caught. `cut` bytes are removed
// from the end (a damaged last record). The file is named after `stem` and
// `seed`: tests that run at the same time use different ones.
inline std::string write_capture(size_t n, size_t cut, uint32_t seed,
                                 const std::string& stem = "callwall-read-ahead-") {
    std::vector<uint8_t> out;
    put32(out, 0xa1b2c3d4);
    out.push_back(2), out.push_back(0), out.push_back(4), out.push_back(0);  // version 2.4
    put32(out, 0);
    put32(out, 0);
    put32(out, 65535);
    put32(out, 1);
    std::mt19937 rng(seed);
    for (size_t i = 0; i < n; ++i) {
        const uint32_t len = (i % 97 == 0) ? 9000 : (i % 89 == 0) ? 0 : 60 + rng() % 1400;
        put32(out, static_cast<uint32_t>(1700000000 + i / 1000));
        put32(out, static_cast<uint32_t>((i * 997) % 1000000));
        put32(out, len);
        put32(out, len + (i % 3));  // sometimes longer on the wire than captured
        for (uint32_t k = 0; k < len; ++k) out.push_back(static_cast<uint8_t>(i * 31 + k));
    }
    out.resize(out.size() - cut);
    return write_temp_capture(out, stem, seed, ".pcap");
}

/// The same frames as write_capture(n, 0, seed) as a pcapng file (little
/// endian: a Section Header Block, one Ethernet interface with microsecond
/// timestamps, an Enhanced Packet Block per frame).
inline std::string write_pcapng_capture(size_t n, uint32_t seed, const std::string& stem = "callwall-read-ahead-") {
    std::vector<uint8_t> out;
    const auto block = [&out](uint32_t type, const std::vector<uint8_t>& body) {
        const auto len = static_cast<uint32_t>(12 + ((body.size() + 3) & ~size_t{3}));
        put32(out, type);
        put32(out, len);
        out.insert(out.end(), body.begin(), body.end());
        while (out.size() % 4) out.push_back(0);
        put32(out, len);
    };
    std::vector<uint8_t> b;
    put32(b, 0x1A2B3C4D);  // byte-order magic
    put32(b, 1);  // version 1.0
    put32(b, 0xFFFFFFFF), put32(b, 0xFFFFFFFF);  // section length not given
    block(0x0A0D0D0A, b);
    b.clear();
    put32(b, 1);  // LINKTYPE_ETHERNET, reserved
    put32(b, 65535);  // snaplen
    block(1, b);
    std::mt19937 rng(seed);
    for (size_t i = 0; i < n; ++i) {
        const uint32_t len = (i % 97 == 0) ? 9000 : (i % 89 == 0) ? 0 : 60 + rng() % 1400;
        const uint64_t ts = uint64_t{1700000000 + i / 1000} * 1000000 + (i * 997) % 1000000;
        b.clear();
        put32(b, 0);  // interface 0
        put32(b, static_cast<uint32_t>(ts >> 32));
        put32(b, static_cast<uint32_t>(ts));
        put32(b, len);
        put32(b, len + (i % 3));
        for (uint32_t k = 0; k < len; ++k) b.push_back(static_cast<uint8_t>(i * 31 + k));
        block(6, b);
    }
    return write_temp_capture(out, stem, seed, ".pcapng");
}

}  // namespace callwall::capture::test
