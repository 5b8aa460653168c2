// MappedFile hands stdio exactly the file's bytes; keeps only about two
// release windows of the map resident however big the file; turns a file
// truncated under it into a read error instead of a SIGBUS, while a SIGBUS
// anywhere else still ends the process; and is not used for what is not a
// regular file. PcapSource reads the same frames through it as through fopen.
#include "capture/mapped_file.hpp"
#include "capture/pcap_source.hpp"
#include "unit/capture/capture_file.hpp"
#include "util/huge_pages.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace callwall::capture {
namespace {

namespace fs = std::filesystem;
using test::resident_bytes_of_mapping;

fs::path temp(const std::string& name) { return fs::temp_directory_path() / ("callwall-mapped-" + name); }

std::vector<uint8_t> write_bytes(const fs::path& p, size_t n, uint32_t seed) {
    std::vector<uint8_t> bytes(n);
    std::mt19937 rng(seed);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(n));
    return bytes;
}

std::vector<uint8_t> read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(MappedFile, StreamHandsOutExactlyTheFilesBytes) {
    const fs::path p = temp("exact");
    const auto bytes = write_bytes(p, 7 * 1024 * 1024 + 123, 1);  // several release windows, an odd tail
    auto m = MappedFile::open(p.string());
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->size(), bytes.size());
    FILE* f = m->stream();
    ASSERT_NE(f, nullptr);
    std::vector<uint8_t> got;
    std::mt19937 rng(2);
    std::vector<uint8_t> buf(200000);
    for (int reads = 0; reads < 1000000; ++reads) {  // bounded: ~150 reads end the file
        const size_t want = 1 + rng() % buf.size();
        const size_t n = std::fread(buf.data(), 1, want, f);
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        if (n < want) break;
    }
    EXPECT_TRUE(std::feof(f));
    EXPECT_FALSE(std::ferror(f));
    EXPECT_FALSE(m->shrank());
    EXPECT_EQ(got, bytes);
    std::fclose(f);
    m.reset();
    EXPECT_EQ(resident_bytes_of_mapping(p), -1) << "unmapped when destroyed";
    fs::remove(p);
}

TEST(MappedFile, ResidentMemoryStaysNearTheReleaseWindow) {
    const fs::path p = temp("resident");
    write_bytes(p, 24 * 1024 * 1024, 3);
    auto m = MappedFile::open(p.string());
    ASSERT_NE(m, nullptr);
    FILE* f = m->stream();
    ASSERT_NE(f, nullptr);
    std::vector<char> buf(4096);
    long peak = 0;
    for (size_t read = 0; std::fread(buf.data(), 1, buf.size(), f) == buf.size(); read += buf.size())
        if (read % (1024 * 1024) == 0) peak = std::max(peak, resident_bytes_of_mapping(p));
    EXPECT_TRUE(std::feof(f));
    EXPECT_GT(peak, 0) << "the mapping was found and read";
    // One window not yet released, one mapped ahead, the page rounding, and
    // stdio's buffer ahead.
    EXPECT_LE(peak, static_cast<long>(2 * MappedFile::kReleaseWindow + 256 * 1024)) << "of a 24 MiB file";
    std::fclose(f);
    fs::remove(p);
}

// Whether this process maps the page at `addr` (/proc/self/pagemap's
// "present" bit); -1 when pagemap cannot be read here.
int page_mapped(const void* addr) {
    const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    uint64_t entry = 0;
    const auto at = static_cast<off_t>(reinterpret_cast<uintptr_t>(addr) / 4096 * sizeof entry);
    const bool ok = ::pread(fd, &entry, sizeof entry, at) == static_cast<ssize_t>(sizeof entry);
    ::close(fd);
    return ok ? static_cast<int>(entry >> 63) : -1;
}

TEST(MappedFile, PagesAreDroppedUpToAHugePageBoundaryOnly) {
    // A huge folio of the page cache is mapped whole: dropping part of it
    // would split the mapping first. So release_before stops at the last
    // 2 MiB boundary of the address space before the position it is given.
    if (sysconf(_SC_PAGESIZE) != 4096) GTEST_SKIP() << "the pagemap arithmetic here assumes 4 KiB pages";
    const fs::path p = temp("boundary");
    write_bytes(p, 12 * 1024 * 1024, 5);
    auto m = MappedFile::open(p.string());
    ASSERT_NE(m, nullptr);
    const uint8_t* base = m->data();
    volatile uint8_t sum = 0;
    for (size_t off = 0; off < m->size(); off += 4096) sum = sum + base[off];  // every page mapped
    if (page_mapped(base) != 1) GTEST_SKIP() << "/proc/self/pagemap does not say which pages are mapped here";
    constexpr uint64_t kHuge = util::kHugePage;
    const auto addr = reinterpret_cast<uintptr_t>(base);
    // The first boundary at least a release window into the file, and a
    // position 1 MiB and a bit past it.
    const uint64_t boundary = ((addr + MappedFile::kReleaseWindow + kHuge - 1) & ~(kHuge - 1)) - addr;
    const uint64_t pos = boundary + (1 << 20) + 123;
    ASSERT_LT(pos, m->size());
    m->release_before(pos);
    EXPECT_EQ(page_mapped(base), 0) << "the start is dropped";
    EXPECT_EQ(page_mapped(base + boundary - 4096), 0) << "up to the boundary";
    EXPECT_EQ(page_mapped(base + boundary), 1) << "not past it";
    EXPECT_EQ(page_mapped(base + (pos & ~uint64_t{4095}) - 4096), 1) << "not up to the position's page";
    // A position past the next boundary drops up to that one.
    m->release_before(boundary + kHuge + 4096 * 3);
    EXPECT_EQ(page_mapped(base + boundary + kHuge - 4096), 0);
    EXPECT_EQ(page_mapped(base + boundary + kHuge), 1);
    m.reset();
    fs::remove(p);
}

TEST(MappedFile, FileTruncatedWhileReadIsAReadErrorNotACrash) {
    const fs::path p = temp("shrinks");
    const auto bytes = write_bytes(p, 8 * 1024 * 1024, 4);
    auto m = MappedFile::open(p.string());
    ASSERT_NE(m, nullptr);
    FILE* f = m->stream();
    ASSERT_NE(f, nullptr);
    std::vector<uint8_t> buf(1024 * 1024);
    ASSERT_EQ(std::fread(buf.data(), 1, buf.size(), f), buf.size());
    EXPECT_TRUE(std::equal(buf.begin(), buf.end(), bytes.begin()));
    ASSERT_EQ(::truncate(p.c_str(), 4096), 0);  // another process rewrites the file
    size_t n = 0;
    for (int i = 0; i < 16 && (n = std::fread(buf.data(), 1, buf.size(), f)) == buf.size(); ++i) {}
    EXPECT_LT(n, buf.size());
    EXPECT_TRUE(std::ferror(f));
    EXPECT_TRUE(m->shrank());
    std::fclose(f);
    fs::remove(p);
}

TEST(MappedFile, SourceReportsAFileTruncatedWhileRead) {
    const std::string path = test::write_capture(8000, 0, 1, "callwall-mapped-source-");  // ~6 MB
    auto src = PcapSource::open_file(path);
    RawFrame frame;
    for (int i = 0; i < 100; ++i) ASSERT_EQ(src->next(frame), NextStatus::Frame);
    ASSERT_EQ(::truncate(path.c_str(), 100000), 0);
    NextStatus st = NextStatus::Frame;
    for (int i = 0; i < 8000 && st == NextStatus::Frame; ++i) st = src->next(frame);
    EXPECT_EQ(st, NextStatus::Error);
    EXPECT_EQ(src->error(), "the file was truncated while it was being read");
    fs::remove(path);
}

TEST(MappedFile, ASigbusElsewhereStillEndsTheProcess) {
    const fs::path p = temp("foreign");
    write_bytes(p, 64 * 1024, 5);
    auto m = MappedFile::open(p.string());  // installs the handler
    ASSERT_NE(m, nullptr);
    EXPECT_DEATH(
        {
            // A map that is not a MappedFile's, truncated under it: its fault is not repaired.
            const int fd = ::open(p.c_str(), O_RDWR);
            auto* other = static_cast<volatile const uint8_t*>(mmap(nullptr, 65536, PROT_READ, MAP_SHARED, fd, 0));
            if (ftruncate(fd, 0) != 0) _exit(0);
            std::printf("%d\n", other[32768]);
            _exit(0);
        },
        "");
    EXPECT_DEATH(raise(SIGBUS), "") << "a SIGBUS sent, not a fault, is not swallowed";
    fs::remove(p);
}

TEST(MappedFile, BeyondTheLimitFilesAreNotMappedAndEntriesAreReused) {
    // analyze opens every file of a run first: more than kMaxMaps of them must
    // fall back to fopen (nullptr here), not overrun the handler's table.
    const fs::path p = temp("many");
    write_bytes(p, 4096, 6);
    std::vector<std::unique_ptr<MappedFile>> open;
    for (int i = 0; i < MappedFile::kMaxMaps + 10; ++i) open.push_back(MappedFile::open(p.string()));
    int mapped = 0;
    for (const auto& m : open) mapped += m != nullptr;
    EXPECT_EQ(mapped, MappedFile::kMaxMaps);
    for (int i = MappedFile::kMaxMaps; i < MappedFile::kMaxMaps + 10; ++i) EXPECT_EQ(open[i], nullptr);
    open.clear();
    auto again = MappedFile::open(p.string());
    ASSERT_NE(again, nullptr) << "entries are freed with their maps";
    FILE* f = again->stream();
    ASSERT_NE(f, nullptr);
    std::vector<uint8_t> buf(8192);
    EXPECT_EQ(std::fread(buf.data(), 1, buf.size(), f), 4096u);
    EXPECT_FALSE(again->shrank());
    std::fclose(f);
    fs::remove(p);
}

TEST(MappedFile, OnlyForNonEmptyRegularFiles) {
    EXPECT_EQ(MappedFile::open("/no/such/file.pcap"), nullptr);
    EXPECT_EQ(MappedFile::open(fs::temp_directory_path().string()), nullptr);
    const fs::path empty = temp("empty");
    std::ofstream(empty).close();
    EXPECT_EQ(MappedFile::open(empty.string()), nullptr);
    fs::remove(empty);
    const fs::path fifo = temp("fifo");
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(MappedFile::open(fifo.string()), nullptr) << "and returns at once: nothing opened the FIFO";
    fs::remove(fifo);
}

TEST(MappedFile, SourceReadsTheSameFramesMappedAsThroughAPipe) {
    // The regular file is mapped; the same bytes through a FIFO take the fopen
    // path. Every frame must come out the same, and the damaged tail the same.
    const std::string path = test::write_capture(3000, 57, 2, "callwall-mapped-source-");
    const fs::path fifo = temp("pipe");
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::thread writer([&] {
        const auto bytes = read_all(path);
        std::ofstream(fifo, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    });
    auto piped = PcapSource::open_file(fifo.string());
    auto mapped = PcapSource::open_file(path);
    RawFrame a, b;
    NextStatus sa = NextStatus::Frame, sb = NextStatus::Frame;
    size_t frames = 0;
    for (; frames < 10000; ++frames) {  // bounded: 3000 frames
        sa = mapped->next(a);
        sb = piped->next(b);
        ASSERT_EQ(sa, sb) << "frame " << frames;
        if (sa != NextStatus::Frame) break;
        ASSERT_EQ(a.ts_us, b.ts_us);
        ASSERT_EQ(a.wirelen, b.wirelen);
        ASSERT_TRUE(std::equal(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end())) << "frame " << frames;
    }
    EXPECT_EQ(sa, NextStatus::Error) << "the last record is cut";
    EXPECT_EQ(mapped->error(), piped->error());
    EXPECT_GE(frames, 2999u);
    piped.reset();  // the writer may still be blocked on a full pipe: closing our end frees it
    writer.join();
    fs::remove(fifo);
    fs::remove(path);
}

}  // namespace
}  // namespace callwall::capture
