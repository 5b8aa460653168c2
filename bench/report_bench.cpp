// The text report wraps long text in linear time: one huge token (a name off
// the wire, a hostile run note) of 256 KiB to 4 MiB, rendered whole. Google
// Benchmark fits the times to O(N); a quadratic wrap shows as a big-O other
// than N and a per-byte time that grows with the size.
//
//   build/release/callwall_bench --benchmark_filter=BM_TextReportHugeToken
#include <benchmark/benchmark.h>

#include <string>

#include "report/report.hpp"

namespace {

namespace rep = callwall::report;

rep::ReportData one_verdict_with(std::string why) {
    rep::ReportData d;
    d.run.id = 1;
    d.run.status = "completed";
    rep::VerdictRow v;
    v.entry_id = "e";
    v.vendor = "V";
    v.service = "S";
    v.transport = "tcp";
    v.ports = "443";
    v.verdict = "observed";
    v.why = std::move(why);
    d.verdicts.push_back(std::move(v));
    return d;
}

void BM_TextReportHugeToken(benchmark::State& state) {
    const auto d = one_verdict_with(std::string(static_cast<size_t>(state.range(0)), '@'));
    for (auto _ : state) {
        std::string text = rep::render_text(d);
        benchmark::DoNotOptimize(text);
    }
    state.SetComplexityN(state.range(0));
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TextReportHugeToken)->RangeMultiplier(4)->Range(256 << 10, 4 << 20)->Complexity(benchmark::oN);

}  // namespace
