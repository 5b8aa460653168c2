// The packet path allocates nothing once warm (STYLE §7, allocation guard):
// every committed capture (captures/*.pcap*, captures/scenarios/*.pcap) is
// loaded into memory and run twice through a store-less Analyzer (facts go
// to a null sink); the second pass, with every pool, name and map already
// holding what the capture needs, must not call operator new at all inside
// Analyzer::process.
//
// The counting operator new below replaces the global one for the whole test
// program; it only counts while a thread asks it to. To find an allocation
// this test reports: CALLWALL_ALLOC_TRAP=1 under gdb stops at the first one
// of a second pass (then `bt`).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "pipeline/analyzer.hpp"
#include "golden/run_util.hpp"

namespace {
thread_local bool g_counting = false;
bool g_trap = false;
std::atomic<uint64_t> g_allocations{0};

void* counted_alloc(std::size_t n) {
    if (g_counting) g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (g_counting && g_trap) __builtin_trap();
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
// The nothrow forms too: otherwise the library's new(std::nothrow) memory would
// come from the runtime's allocator and be freed by the delete above
// (AddressSanitizer: alloc-dealloc-mismatch).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace callwall::pipeline {
namespace {

namespace fs = std::filesystem;

struct Frames {
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<decode::RawFrame> frames;  ///< views into `bytes`
};

Frames load(const std::string& path) {
    Frames out;
    auto src = capture::PcapSource::open_file(path);
    decode::RawFrame fr;
    while (src->next(fr) == capture::NextStatus::Frame) {
        out.bytes.emplace_back(fr.bytes.begin(), fr.bytes.end());
        out.frames.push_back(fr);
    }
    for (size_t i = 0; i < out.frames.size(); ++i) out.frames[i].bytes = ByteView(out.bytes[i]);
    return out;
}

std::vector<std::string> captures() {
    std::vector<std::string> files;
    const fs::path root = fs::path(test::source_dir()) / "captures";
    for (const fs::path& dir : {root, root / "scenarios"}) {
        if (!fs::is_directory(dir)) continue;
        for (const auto& e : fs::directory_iterator(dir)) {
            const std::string ext = e.path().extension().string();
            if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) files.push_back(e.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

// Allocations inside Analyzer::process over one pass of `f`.
uint64_t pass(Analyzer& a, const Frames& f) {
    const uint64_t before = g_allocations.load();
    for (const auto& fr : f.frames) {
        g_counting = true;
        a.process(fr);
        g_counting = false;
    }
    return g_allocations.load() - before;
}

TEST(Allocation, CounterSeesAllocations) {
    const uint64_t before = g_allocations.load();
    g_counting = true;
    auto* v = new std::vector<int>(100);
    g_counting = false;
    delete v;
    EXPECT_GE(g_allocations.load() - before, 2u);  // the vector and its elements
}

TEST(Allocation, PacketPathAllocatesNothingOnceWarm) {
    const auto files = captures();
    if (files.empty()) GTEST_SKIP() << "no captures under " << test::source_dir() << "/captures";
    uint64_t frames = 0, warm_up = 0;
    for (const auto& path : files) {
        const Frames f = load(path);
        Analyzer a;
        warm_up += pass(a, f);
        g_trap = std::getenv("CALLWALL_ALLOC_TRAP") != nullptr;
        EXPECT_EQ(pass(a, f), 0u) << path << ": allocations on the second pass";
        g_trap = false;
        frames += f.frames.size();
        a.finish();
    }
    EXPECT_GT(frames, 1000u);  // the captures were read
    EXPECT_GT(warm_up, 0u);  // and the counter saw the first pass fill the pools
}

}  // namespace
}  // namespace callwall::pipeline
