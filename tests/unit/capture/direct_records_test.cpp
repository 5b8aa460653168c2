// A classic pcap file's records are taken out of blocks of the file
// (PcapSource::read_direct, next_block) instead of through libpcap. They must be exactly
// what libpcap hands out: the same frames (time, lengths, bytes) and, for a
// damaged file, the same end — the same error in the same words after the
// same frames. Checked against libpcap itself over every committed capture
// and over hand-made files with each of libpcap's record checks.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "capture/read_ahead.hpp"
#include "unit/corpus.hpp"

namespace callwall::capture {
namespace {

namespace fs = std::filesystem;

// A time as PcapSource gives it for libpcap's (seconds and microseconds
// each clamped: libpcap passes an out-of-range field through).
int64_t to_us(const timeval& tv) {
    const int64_t sec = std::clamp<int64_t>(tv.tv_sec, -253402300799, 253402300799);
    return sec * 1000000 + std::clamp<int64_t>(tv.tv_usec, 0, 999999);
}

struct Frame {
    int64_t ts_us = 0;
    uint32_t caplen = 0, wirelen = 0;
    std::vector<uint8_t> bytes;
    bool operator==(const Frame&) const = default;
};

// What a reader handed out: its frames, then "end" or the error's text.
struct Reading {
    std::vector<Frame> frames;
    std::string end;
};

Reading through_libpcap(const std::string& path) {
    Reading r;
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!p) {
        r.end = std::string("open: ") + err;
        return r;
    }
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    int rc = 0;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1)
        r.frames.push_back({to_us(h->ts), h->caplen, h->len, std::vector<uint8_t>(d, d + h->caplen)});
    r.end = rc == PCAP_ERROR_BREAK ? "end" : pcap_geterr(p);
    pcap_close(p);
    return r;
}

Reading through_callwall(const std::string& path) {
    Reading r;
    std::unique_ptr<PcapSource> src;
    try {
        src = PcapSource::open_file(path);
    } catch (const CaptureError& e) {
        r.end = std::string("open: ") + e.what();
        return r;
    }
    RawFrame f;
    NextStatus st;
    while ((st = src->next(f)) == NextStatus::Frame)
        r.frames.push_back({f.ts_us, f.caplen, f.wirelen, std::vector<uint8_t>(f.bytes.begin(), f.bytes.end())});
    r.end = st == NextStatus::End ? "end" : src->error();
    return r;
}

// The same through ReadAhead with its reader thread: blocks read into its chunks.
Reading through_read_ahead(const std::string& path) {
    Reading r;
    ReadAhead ra(PcapSource::open_file(path), true);
    RawFrame f;
    NextStatus st;
    while ((st = ra.next(f)) == NextStatus::Frame)
        r.frames.push_back({f.ts_us, f.caplen, f.wirelen, std::vector<uint8_t>(f.bytes.begin(), f.bytes.end())});
    r.end = st == NextStatus::End ? "end" : ra.error();
    return r;
}

void expect_same_reading(const Reading& got, const Reading& want, const std::string& path) {
    ASSERT_EQ(got.frames.size(), want.frames.size()) << path;
    for (size_t i = 0; i < want.frames.size(); ++i) ASSERT_EQ(got.frames[i], want.frames[i]) << path << " frame " << i;
    EXPECT_EQ(got.end, want.end) << path;
}

void expect_same(const std::string& path) { expect_same_reading(through_callwall(path), through_libpcap(path), path); }

// Little-endian classic pcap bytes (this machine's order), built by hand.
struct PcapBytes {
    std::vector<uint8_t> b;
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void u16(uint16_t v) {
        b.push_back(static_cast<uint8_t>(v));
        b.push_back(static_cast<uint8_t>(v >> 8));
    }
    PcapBytes(uint32_t magic, uint32_t snaplen, uint16_t minor = 4) {
        u32(magic);
        u16(2);
        u16(minor);
        u32(0);
        u32(0);
        u32(snaplen);
        u32(1);  // Ethernet
    }
    // A record claiming `caplen` bytes, with `have` of them present.
    void record(int32_t sec, int32_t frac, uint32_t caplen, uint32_t len, uint32_t have) {
        u32(static_cast<uint32_t>(sec));
        u32(static_cast<uint32_t>(frac));
        u32(caplen);
        u32(len);
        for (uint32_t i = 0; i < have; ++i) b.push_back(static_cast<uint8_t>(i * 7 + caplen));
    }
    std::string write(const std::string& name) const {
        const fs::path p =
            fs::temp_directory_path() / ("callwall-direct-" + std::to_string(::getpid()) + "-" + name + ".pcap");
        std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
        return p.string();
    }
};

constexpr uint32_t kUs = 0xa1b2c3d4, kNs = 0xa1b23c4d;

TEST(DirectRecords, EveryCommittedCaptureReadsAsLibpcapReadsIt) {
    const auto all = callwall::test::committed_captures();
    if (all.empty()) GTEST_SKIP() << "no committed captures (source tree not found)";
    size_t classic = 0;
    for (const auto& p : all) {
        if (p.extension() != ".pcap") continue;
        ++classic;
        expect_same(p.string());
    }
    EXPECT_GT(classic, 10u);
}

TEST(DirectRecords, HandMadeFilesMeetLibpcapsChecksInItsWords) {
    struct Case {
        const char* name;
        PcapBytes bytes;
    };
    std::vector<Case> cases;
    {
        PcapBytes b(kUs, 65535);  // plain frames, then a clean end
        b.record(1700000000, 123456, 60, 60, 60);
        b.record(1700000001, 999999, 1514, 1514, 1514);
        b.record(-5, 10, 0, 0, 0);  // a negative time and an empty frame: passed through
        b.record(1700000002, 2500000, 60, 60, 60);  // microseconds over a second: clamped alike
        cases.push_back({"plain", b});
    }
    {
        PcapBytes b(kNs, 65535);  // nanoseconds, scaled down
        b.record(1700000000, 123456789, 60, 90, 60);
        b.record(1700000000, 999999999, 20, 20, 20);
        cases.push_back({"nano", b});
    }
    {
        PcapBytes b(kUs, 65535);  // a record header cut short
        b.record(1, 2, 10, 10, 10);
        b.b.insert(b.b.end(), {1, 2, 3, 4, 5, 6, 7});
        cases.push_back({"short-header", b});
    }
    {
        PcapBytes b(kUs, 65535);  // the captured bytes cut short
        b.record(1, 2, 10, 10, 10);
        b.record(1, 3, 100, 100, 40);
        cases.push_back({"short-body", b});
    }
    {
        PcapBytes b(kUs, 65535);  // longer than any sane snapshot
        b.record(1, 2, 300000, 300000, 0);
        cases.push_back({"over-maximum-over-snaplen", b});
    }
    {
        PcapBytes b(kUs, 400000);  // longer than the maximum, within the file's snaplen
        b.record(1, 2, 300000, 300000, 0);
        cases.push_back({"over-maximum-within-snaplen", b});
    }
    {
        PcapBytes b(kUs, 100);  // longer than the file's snaplen: cut to it, the rest skipped
        b.record(1, 2, 150, 150, 150);
        b.record(1, 3, 50, 50, 50);
        cases.push_back({"over-snaplen", b});
    }
    {
        PcapBytes b(kUs, 100);  // over the snaplen, cut short within it
        b.record(1, 2, 150, 150, 80);
        cases.push_back({"over-snaplen-short", b});
    }
    {
        PcapBytes b(kUs, 100);  // over the snaplen, cut short in what is skipped
        b.record(1, 2, 150, 150, 120);
        cases.push_back({"over-snaplen-short-rest", b});
    }
    {
        PcapBytes b(kUs, 65535, 3);  // version 2.3: libpcap reads it (lengths may be swapped)
        b.record(1, 2, 90, 60, 90);
        cases.push_back({"version-2.3", b});
    }
    {
        PcapBytes b(kUs, 0);  // no snaplen in the header: libpcap takes its maximum
        b.record(1, 2, 70, 70, 70);
        cases.push_back({"snaplen-0", b});
    }
    for (const auto& c : cases) {
        const std::string path = c.bytes.write(c.name);
        SCOPED_TRACE(c.name);
        expect_same(path);
        fs::remove(path);
    }
}

TEST(DirectRecords, OtherByteOrderIsReadByLibpcapAlike) {
    // A big-endian file (swapped on this machine) is left to libpcap: still the same frames.
    PcapBytes b(kUs, 65535);
    b.record(7, 8, 30, 30, 30);
    auto swap32 = [&](size_t at) { std::reverse(b.b.begin() + long(at), b.b.begin() + long(at) + 4); };
    swap32(0);
    std::reverse(b.b.begin() + 4, b.b.begin() + 6);
    std::reverse(b.b.begin() + 6, b.b.begin() + 8);
    for (size_t at : {8, 12, 16, 20, 24, 28, 32, 36}) swap32(at);
    const std::string path = b.write("big-endian");
    const Reading got = through_callwall(path);
    ASSERT_EQ(got.frames.size(), 1u);
    EXPECT_EQ(got.frames[0].ts_us, 7000008);
    expect_same(path);
    fs::remove(path);
}

// Files of many blocks: records cut by a block's end, records of the
// largest size, records over the snapshot whose skipped bytes run past a
// block's end, runs of tiny records (a chunk of ReadAhead fills up before
// its block is read through), and a last record cut short. Read inline (the
// source's own buffer) and through ReadAhead's thread (the chunks' buffers),
// both exactly as libpcap reads them.
TEST(DirectRecords, RecordsAcrossBlocksReadAsLibpcapReadsThem) {
    struct Case {
        const char* name;
        uint32_t snaplen;
        bool damaged_end;
    };
    for (const Case c : {Case{"blocks-mixed", 262144, false}, Case{"blocks-over-snaplen", 65535, false},
                         Case{"blocks-damaged-end", 262144, true}}) {
        SCOPED_TRACE(c.name);
        PcapBytes b(kUs, c.snaplen);
        uint32_t seed = 12345;
        const auto next = [&] {
            seed = seed * 1103515245u + 12345u;
            return seed >> 8;
        };
        int32_t t = 1700000000;
        while (b.b.size() < 6 * PcapSource::kBlockRead) {
            const uint32_t kind = next() % 16;
            uint32_t caplen;
            if (kind == 0)
                caplen = 262144;  // the largest record libpcap reads
            else if (kind == 1)
                caplen = 100000 + next() % 150000;  // over a 65535 snapshot: cut, the rest skipped
            else if (kind < 4)
                caplen = 0;  // a burst of empty records follows
            else
                caplen = 40 + next() % 1500;
            if (kind == 2 || kind == 3) {
                for (int i = 0; i < 9000; ++i) b.record(t, i % 1000000, 0, 60, 0);
                continue;
            }
            b.record(t++, static_cast<int32_t>(next() % 1000000), caplen, caplen + 4, caplen);
        }
        if (c.damaged_end) b.record(t, 0, 5000, 5000, 1200);
        const std::string path = b.write(c.name);
        ASSERT_TRUE(PcapSource::open_file(path)->reads_blocks());
        const Reading want = through_libpcap(path);
        EXPECT_EQ(want.end == "end", !c.damaged_end) << want.end;
        EXPECT_GT(want.frames.size(), 9000u);
        expect_same_reading(through_callwall(path), want, path);
        expect_same_reading(through_read_ahead(path), want, path);
        fs::remove(path);
    }
}

}  // namespace
}  // namespace callwall::capture
