// Whole pipeline vs the libpcap floor, on the same capture file.
//
// The file comes from CALLWALL_BENCH_PCAP (default /tmp/callwall-bench-1000000.pcap,
// made by `tools/gen_workload.py --packets 1000000 --out ...`; bench/run_bench.sh
// does both). Both benchmarks read the file from the page cache each
// iteration; the ratio of their times is callwall's cost over reading.
#include <benchmark/benchmark.h>
#include <pcap/pcap.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "capture/pcap_source.hpp"
#include "pipeline/analyzer.hpp"
#include "bench_frames.hpp"

namespace {

std::string bench_file() { return callwall::bench::workload_file(); }

void BM_LibpcapFloor(benchmark::State& state) {
    const std::string file = bench_file();
    if (!std::filesystem::exists(file)) {
        state.SkipWithError(("no workload at " + file + " (run bench/run_bench.sh)").c_str());
        return;
    }
    uint64_t packets = 0, bytes = 0;
    for (auto _ : state) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t* p = pcap_open_offline(file.c_str(), err);
        pcap_pkthdr* h;
        const u_char* d;
        uint64_t sum = 0;
        while (pcap_next_ex(p, &h, &d) == 1) {
            ++packets;
            bytes += h->caplen;
            for (uint32_t k = 0; k < h->caplen; k += 64) sum += d[k];
        }
        benchmark::DoNotOptimize(sum);
        pcap_close(p);
    }
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_LibpcapFloor)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

void BM_PipelineNoStore(benchmark::State& state) {
    const std::string file = bench_file();
    if (!std::filesystem::exists(file)) {
        state.SkipWithError(("no workload at " + file + " (run bench/run_bench.sh)").c_str());
        return;
    }
    uint64_t packets = 0, bytes = 0;
    for (auto _ : state) {
        auto src = callwall::capture::PcapSource::open_file(file);
        callwall::pipeline::Analyzer a;
        callwall::decode::RawFrame fr;
        while (src->next(fr) == callwall::capture::NextStatus::Frame) {
            a.process(fr);
            ++packets;
            bytes += fr.caplen;
        }
        a.finish();
        benchmark::DoNotOptimize(a.flows_written());
    }
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_PipelineNoStore)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace
