// ReadAhead hands out exactly what PcapSource::next() gives — bytes,
// timestamps, lengths, link type, then the same End or Error text — with
// and without its reader thread, across many chunk boundaries and ring
// wrap-arounds, reading a plain pcap file in blocks into its ring, lending a
// pcapng file's frames out of its map or copying a compressed one's; and it
// can be destroyed mid-file without hanging.
#include "capture/read_ahead.hpp"
#include "unit/capture/capture_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <filesystem>
#include <string>
#include <vector>

namespace callwall::capture {
namespace {

namespace fs = std::filesystem;
using test::read_frames;
using test::resident_bytes_of_mapping;
using test::Seen;
using test::write_capture;
using test::write_pcapng_capture;

// Writes `from` gzip-compressed to `to`; false when either cannot be opened.
bool gzip_file(const std::string& from, const std::string& to) {
    FILE* in = std::fopen(from.c_str(), "rb");
    gzFile out = gzopen(to.c_str(), "wb1");
    if (!in || !out) {
        if (in) std::fclose(in);
        if (out) gzclose(out);
        return false;
    }
    std::vector<char> buf(1 << 16);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), in)) > 0) gzwrite(out, buf.data(), static_cast<unsigned>(n));
    std::fclose(in);
    return gzclose(out) == Z_OK;
}

Seen read_plain(const std::string& path) {
    auto src = PcapSource::open_file(path);
    return read_frames(*src);
}

Seen read_ahead(const std::string& path, bool threaded) {
    ReadAhead ra(PcapSource::open_file(path), threaded);
    EXPECT_EQ(ra.threaded(), threaded);
    Seen s;
    RawFrame f;
    NextStatus st;
    while ((st = ra.next(f)) == NextStatus::Frame) {
        EXPECT_EQ(f.linktype, 1u);
        EXPECT_EQ(f.caplen, f.bytes.size());
        s.bytes.emplace_back(f.bytes.begin(), f.bytes.end());
        s.ts.push_back(f.ts_us);
        s.wirelen.push_back(f.wirelen);
    }
    s.end = st;
    s.error = st == NextStatus::Error ? ra.error() : "";
    EXPECT_EQ(ra.next(f), st) << "the end is sticky";
    return s;
}

void expect_same(const Seen& a, const Seen& b) {
    ASSERT_EQ(a.bytes.size(), b.bytes.size());
    for (size_t i = 0; i < a.bytes.size(); ++i) {
        ASSERT_EQ(a.bytes[i], b.bytes[i]) << "frame " << i;
        ASSERT_EQ(a.ts[i], b.ts[i]) << "frame " << i;
        ASSERT_EQ(a.wirelen[i], b.wirelen[i]) << "frame " << i;
    }
    EXPECT_EQ(a.end, b.end);
    EXPECT_EQ(a.error, b.error);
}

TEST(ReadAhead, SameFramesAsThePlainSourceAcrossManyChunks) {
    // ~20k frames, ~15 MB: dozens of chunks, the 4-chunk ring wraps many times,
    // and both the byte limit and the record limit of a chunk are reached.
    const std::string path = write_capture(20000, 0, 1);
    const Seen plain = read_plain(path);
    ASSERT_EQ(plain.bytes.size(), 20000u);
    ASSERT_EQ(plain.end, NextStatus::End);
    expect_same(read_ahead(path, true), plain);
    expect_same(read_ahead(path, false), plain);
    fs::remove(path);
}

// A plain classic pcap file on disk: the reader thread reads it in blocks
// straight into its chunks' buffers, so each frame's bytes follow the
// previous one's and its 16-byte record header except where a block starts,
// the frames are those the plain source gives, and the file's map is not
// read (its resident pages stay at the few the header's read mapped).
TEST(ReadAhead, ReadsAPlainPcapFileInBlocksIntoItsRingNotOutOfTheMap) {
    const std::string path = write_capture(30000, 0, 6);  // ~22 MB
    const auto size = fs::file_size(path);
    {
        auto plain = PcapSource::open_file(path);
        EXPECT_TRUE(plain->reads_blocks());
        EXPECT_FALSE(plain->frames_in_map());
    }
    const Seen plain = read_plain(path);
    ASSERT_EQ(plain.bytes.size(), 30000u);
    ReadAhead ra(PcapSource::open_file(path), true);
    ASSERT_TRUE(ra.threaded());
    RawFrame f;
    const uint8_t* after_previous = nullptr;
    size_t frames = 0, adjacent = 0;
    long peak = 0;
    while (ra.next(f) == NextStatus::Frame) {
        if (after_previous && f.bytes.data() == after_previous + 16) ++adjacent;
        after_previous = f.bytes.data() + f.caplen;
        EXPECT_TRUE(std::equal(f.bytes.begin(), f.bytes.end(), plain.bytes[frames].begin(), plain.bytes[frames].end()))
            << "frame " << frames;
        if (++frames % 500 == 0) peak = std::max(peak, resident_bytes_of_mapping(path));
    }
    EXPECT_EQ(frames, 30000u);
    // A block starts at most every kBlockRead bytes of the file.
    EXPECT_GE(adjacent + size / PcapSource::kBlockRead + 1, frames - 1) << "frames lie in place in their block";
    EXPECT_LT(adjacent, frames - 1) << "more than one block";
    EXPECT_LE(peak, static_cast<long>(3 * (size_t{2} << 20))) << "the map is not read for the records";
    fs::remove(path);
}

// A pcapng file on disk is read in place too (PcapngReader over the map):
// lent, and the same frames as the plain source and as the same frames in a
// classic pcap file.
TEST(ReadAhead, LendsAPcapngFilesFramesToo) {
    const std::string ng = write_pcapng_capture(20000, 8);
    const std::string classic = write_capture(20000, 0, 8);
    EXPECT_TRUE(PcapSource::open_file(ng)->frames_in_map());
    const Seen plain = read_plain(ng);
    ASSERT_EQ(plain.bytes.size(), 20000u);
    ASSERT_EQ(plain.end, NextStatus::End);
    expect_same(plain, read_plain(classic));
    expect_same(read_ahead(ng, true), plain);
    fs::remove(ng);
    fs::remove(classic);
}

// A compressed file is decompressed into a stream: its frames are copied
// into the ring, and come out the same as the plain file's.
TEST(ReadAhead, CopiesTheFramesOfACompressedFile) {
    const std::string path = write_capture(20000, 0, 7);
    const std::string gz = path + ".gz";
    ASSERT_TRUE(gzip_file(path, gz));
    EXPECT_FALSE(PcapSource::open_file(gz)->frames_in_map());
    const Seen plain = read_plain(path);
    ASSERT_EQ(plain.bytes.size(), 20000u);
    expect_same(read_ahead(gz, true), plain);
    fs::remove(path);
    fs::remove(gz);
}

TEST(ReadAhead, DamagedLastRecordEndsWithTheSameError) {
    const std::string path = write_capture(5000, 100, 2);
    const Seen plain = read_plain(path);
    ASSERT_EQ(plain.end, NextStatus::Error);
    ASSERT_FALSE(plain.error.empty());
    expect_same(read_ahead(path, true), plain);
    expect_same(read_ahead(path, false), plain);
    fs::remove(path);
}

TEST(ReadAhead, EmptyCaptureEndsAtOnce) {
    const std::string path = write_capture(0, 0, 3);
    ReadAhead ra(PcapSource::open_file(path), true);
    RawFrame f;
    EXPECT_EQ(ra.next(f), NextStatus::End);
    fs::remove(path);
}

// Work counted in units: each step() does one, on whatever thread calls it.
struct CountedWork final : util::IdleWork {
    std::mutex mu;
    int pending = 0, done = 0, lent_calls = 0, returned_calls = 0;
    std::set<std::string> threads;  ///< names of the threads that stepped with work
    std::function<void()> wake;

    void lent(std::function<void()> w) override {
        std::lock_guard lk(mu);
        wake = std::move(w);
        ++lent_calls;
    }
    bool step() noexcept override {
        char name[32] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        std::lock_guard lk(mu);
        if (pending == 0) return false;
        threads.insert(name);
        --pending;
        ++done;
        return true;
    }
    void returned() noexcept override {
        std::lock_guard lk(mu);
        wake = nullptr;
        ++returned_calls;
    }
    bool behind() const noexcept override { return false; }
    void add(int n) {
        std::function<void()> w;
        {
            std::lock_guard lk(mu);
            pending += n;
            w = wake;
        }
        if (w) w();
    }
    int done_now() {
        std::lock_guard lk(mu);
        return done;
    }
};

// The reading thread, its ring full, does the lent work (and only it does),
// woken when work arrives; the frames are the same; at the file's end the
// work is given back, once, and no later work is stepped.
TEST(ReadAhead, DoesLentWorkWhileItsRingIsFullAndGivesItBackAtTheEnd) {
    const std::string path = write_capture(30000, 0, 6);  // ~42 chunks: the ring fills
    CountedWork work;
    Seen got;
    {
        ReadAhead ra(PcapSource::open_file(path), true);
        ASSERT_TRUE(ra.threaded());
        ra.lend_idle_time(&work);
        EXPECT_EQ(work.lent_calls, 1);
        // Nothing taken yet: the ring fills, the reader then has time.
        work.add(500);
        for (int i = 0; i < 10000 && work.done_now() < 500; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ(work.done_now(), 500);
        RawFrame f;
        NextStatus st;
        while ((st = ra.next(f)) == NextStatus::Frame) {
            got.bytes.emplace_back(f.bytes.begin(), f.bytes.end());
            got.ts.push_back(f.ts_us);
            got.wirelen.push_back(f.wirelen);
        }
        got.end = st;
        // The reader has ended (the last chunk was handed out): the work is back.
        for (int i = 0; i < 10000; ++i) {
            {
                std::lock_guard lk(work.mu);
                if (work.returned_calls) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        work.add(7);  // its owner's now: not stepped by the reader
    }
    EXPECT_EQ(work.returned_calls, 1);
    EXPECT_EQ(work.done, 500);
    EXPECT_EQ(work.threads, (std::set<std::string>{"callwall-read"}));
    expect_same(got, read_plain(path));
    fs::remove(path);
}

// Without a reading thread nothing is lent, and a ReadAhead destroyed
// mid-file gives the work back too.
TEST(ReadAhead, LendsNothingInlineAndGivesTheWorkBackWhenStopped) {
    const std::string path = write_capture(20000, 0, 4);
    {
        CountedWork work;
        ReadAhead ra(PcapSource::open_file(path), false);
        ra.lend_idle_time(&work);
        EXPECT_EQ(work.lent_calls, 0);
    }
    CountedWork work;
    {
        ReadAhead ra(PcapSource::open_file(path), true);
        ra.lend_idle_time(&work);
        RawFrame f;
        ASSERT_EQ(ra.next(f), NextStatus::Frame);
    }
    EXPECT_EQ(work.lent_calls, 1);
    EXPECT_EQ(work.returned_calls, 1);
    fs::remove(path);
}

TEST(ReadAhead, StopsCleanlyWhenDestroyedMidFile) {
    const std::string path = write_capture(20000, 0, 4);
    for (int taken : {0, 1, 5000}) {  // the reader is blocked on a full ring, or still filling it
        ReadAhead ra(PcapSource::open_file(path), true);
        RawFrame f;
        for (int i = 0; i < taken; ++i) ASSERT_EQ(ra.next(f), NextStatus::Frame);
    }  // the destructor joins the reader: a hang here fails the test by its timeout
    fs::remove(path);
}

TEST(ReadAhead, ThreadOnlyForRegularFiles) {
    const std::string path = write_capture(1, 0, 5);
    EXPECT_TRUE(ReadAhead::can_read_ahead(path));
    const fs::path fifo = fs::temp_directory_path() / ("callwall-read-ahead-fifo-" + std::to_string(::getpid()));
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_FALSE(ReadAhead::can_read_ahead(fifo.string()));  // a pipe's read could block the exit
    fs::remove(fifo);
    EXPECT_FALSE(ReadAhead::can_read_ahead("/no/such/file.pcap"));
    fs::remove(path);
}

}  // namespace
}  // namespace callwall::capture
