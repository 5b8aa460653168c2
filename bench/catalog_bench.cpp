// Catalog lookups per second: the bundled catalog plus 10,000 synthetic user
// entries (100 files x 100 entries, three destination patterns each), queried
// with a mix of bundled hits, synthetic hits and misses.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"

namespace {

namespace cat = callwall::catalog;

constexpr int kSyntheticFiles = 100;
constexpr int kEntriesPerFile = 100;  // 10,000 user entries in all
constexpr size_t kHostCount = 4096;  // power of two: cycle with a mask

std::vector<cat::SourceText> catalog_sources() {
    std::vector<cat::SourceText> sources;
    for (const auto& de : std::filesystem::directory_iterator(cat::bundled_catalog_dir())) {
        if (de.path().extension() != ".toml") continue;
        std::ifstream in(de.path(), std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        sources.push_back({de.path().string(), ss.str()});
    }
    for (int f = 0; f < kSyntheticFiles; ++f) {
        std::string t =
            "schema = 1\n[document]\nvendor = \"User vendor " + std::to_string(f) + "\"\nsources = [\"user.txt\"]\n";
        for (int e = 0; e < kEntriesPerFile; ++e) {
            const int i = f * kEntriesPerFile + e;
            const std::string n = std::to_string(i);
            t += "[[entry]]\nid = \"user" + std::to_string(f) + ".e" + n +
                 "\"\nproduct = \"App\"\nservice = \"S\"\n"
                 "transport = \"" +
                 (i % 2 ? "udp" : "tcp") + "\"\nports = [443, [" + std::to_string(10000 + i % 1000) + ", " +
                 std::to_string(20000 + i % 1000) + "]]\ndestinations = [\"*.svc" + n + ".tenant" +
                 std::to_string(i % 97) + ".example\", \".cdn" + n + ".example.net\", \"host" + n +
                 ".example.org\"]\nrequired = true\nsource = { file = \"user.txt\", section = \"S\" }\n";
        }
        sources.push_back({"user" + std::to_string(f) + ".toml", t});
    }
    return sources;
}

const cat::Catalog& catalog() {
    static const cat::Catalog* c = [] {
        const auto sources = catalog_sources();
        cat::LoadResult r = cat::load_sources(sources);
        if (!r.ok()) {
            for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
            std::abort();
        }
        return new cat::Catalog(std::move(*r.catalog));
    }();
    return *c;
}

// A third bundled hits, a third synthetic hits, a third misses.
const std::vector<std::string>& hosts() {
    static const std::vector<std::string> h = [] {
        const std::vector<std::string> bundled = {
            "ap-web-1.agora.io",       "edge-12.edge.agoraio.cn", "vocs3.agora.io",       "eu-1.calls.sendbird.com",
            "x1.turn.svc.whereby.com", "turnserver.appearin.net", "a1b2.sfu.whereby.com", "o123.sentry.io"};
        const std::vector<std::string> misses = {
            "www.google.com", "a.b.c.d.e.example.org",   "cdn.example.net",         "calls.sendbird.com",
            "whereby.com",    "upload.video.google.com", "x.agora.io.evil.example", "localhost"};
        std::mt19937 rng(42);
        std::vector<std::string> out;
        for (size_t i = 0; i < kHostCount; ++i) {
            const int n = static_cast<int>(rng() % (kSyntheticFiles * kEntriesPerFile));
            switch (i % 3) {
                case 0: out.push_back(bundled[rng() % bundled.size()]); break;
                case 1:
                    out.push_back(rng() % 2 ? "node" + std::to_string(i) + ".svc" + std::to_string(n) + ".tenant" +
                                                  std::to_string(n % 97) + ".Example."
                                            : "host" + std::to_string(n) + ".example.org");
                    break;
                default: out.push_back(misses[rng() % misses.size()]);
            }
        }
        return out;
    }();
    return h;
}

void BM_MatchHost(benchmark::State& state) {
    const cat::Catalog& c = catalog();
    const auto& h = hosts();
    cat::HostMatches m;
    size_t i = 0, found = 0;
    for (auto _ : state) {
        c.match_host(h[i++ & (kHostCount - 1)], m);
        found += m.count;
        benchmark::DoNotOptimize(m);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["entries"] = static_cast<double>(c.entries().size());
    state.counters["matches_per_lookup"] = static_cast<double>(found) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_MatchHost);

void BM_VendorForHost(benchmark::State& state) {
    const cat::Catalog& c = catalog();
    const auto& h = hosts();
    size_t i = 0;
    for (auto _ : state) {
        cat::VendorMatches v = c.vendor_for_host(h[i++ & (kHostCount - 1)]);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_VendorForHost);

// Baseline for comparison: every pattern of every entry tested per host, which
// the trie replaces.
void BM_LinearScanBaseline(benchmark::State& state) {
    const cat::Catalog& c = catalog();
    const auto& h = hosts();
    size_t i = 0;
    for (auto _ : state) {
        const std::string& host = h[i++ & (kHostCount - 1)];
        uint32_t n = 0;
        for (const cat::Entry& e : c.entries()) {
            for (const cat::Destination& d : e.destinations) {
                if (cat::destination_matches(d, host)) {
                    ++n;
                    break;
                }
            }
        }
        benchmark::DoNotOptimize(n);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LinearScanBaseline);

void BM_EntryHasPort(benchmark::State& state) {
    const cat::Catalog& c = catalog();
    const auto n = static_cast<uint32_t>(c.entries().size());
    uint32_t idx = 0;
    uint16_t port = 1;
    for (auto _ : state) {
        benchmark::DoNotOptimize(c.entry_has_port(idx, port));
        idx = idx + 1 == n ? 0 : idx + 1;
        port = static_cast<uint16_t>(port * 31 + 7);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EntryHasPort);

void BM_LoadCatalog(benchmark::State& state) {
    const auto sources = catalog_sources();
    for (auto _ : state) {
        cat::LoadResult r = cat::load_sources(sources);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kSyntheticFiles * kEntriesPerFile);
}
BENCHMARK(BM_LoadCatalog)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
