// Google Benchmark: the whole packet path without reading and without the
// store — pipeline::Analyzer::process(null sinks) plus finish() — on the
// preloaded frames of the generated workload (bench_frames.hpp), in total and
// per kind of traffic.
//
// The kinds come from a labelling pass that runs the same flow table and
// dissector once and takes each flow's application set when it ends:
//   all          every preloaded frame, in capture order
//   rtc          flows with STUN, TURN, RTP/RTCP or DTLS (calls, ICE, TURN)
//   tls          TLS over TCP (handshake and bulk)
//   quic         QUIC / gQUIC
//   dns          DNS over UDP or TCP
//   unclassified flows no decoder claimed (bulk HTTP, blocked SYNs, ...)
//   other        frames that are not a flow's: ICMP errors, non-IP, fragments
// Each kind's frames are replayed through a fresh Analyzer (construction and
// destruction are not timed), in capture order, so each flow sees all its
// packets. items = frames, bytes = captured bytes. Compare BM_AnalyzerPreloaded/all
// with BM_PipelineNoStore (pipeline_bench.cpp): the difference is libpcap.
#include <benchmark/benchmark.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench_frames.hpp"
#include "decode/packet.hpp"
#include "flow/flow_table.hpp"
#include "pipeline/analyzer.hpp"
#include "pipeline/dissect.hpp"

namespace {

namespace cap = callwall::capture;
namespace decode = callwall::decode;
namespace flow = callwall::flow;
namespace pipeline = callwall::pipeline;
namespace facts = callwall::facts;

enum Kind : uint8_t { kAll, kRtc, kTls, kQuic, kDns, kUnclassified, kOther, kKinds };
constexpr std::array<const char*, kKinds> kKindNames = {"all", "rtc", "tls", "quic", "dns", "unclassified", "other"};

Kind kind_of_app(std::string_view app) {
    for (const char* k : {"stun", "turn", "rtp", "rtcp", "dtls"})
        if (app.find(k) != std::string_view::npos) return kRtc;
    if (app.find("quic") != std::string_view::npos) return kQuic;
    if (app.find("tls") != std::string_view::npos) return kTls;
    if (app.find("dns") != std::string_view::npos) return kDns;
    return kUnclassified;
}

struct Buckets {
    std::array<std::vector<cap::RawFrame>, kKinds> frames;
    std::array<uint64_t, kKinds> bytes{};
};

const Buckets& buckets(const callwall::bench::PreloadedFrames& p) {
    static const Buckets b = [&p] {
        // Labelling pass: the analyzer's flow path, remembering which flow
        // each frame went to and what the dissector made of each flow.
        flow::FlowTable table;
        pipeline::Dissector dissector(nullptr);
        std::unordered_map<uint64_t, Kind> kind_of_flow;
        table.set_evict_callback([&](flow::Flow& f) {
            facts::FlowAppInfo info;
            dissector.on_flow_end(f, table.index_of(f), info);
            kind_of_flow[f.id] = kind_of_app(info.app);
        });
        std::vector<uint64_t> flow_of_frame(p.frames.size(), 0);
        int64_t last_expire = 0;
        decode::PacketMeta m;
        for (size_t i = 0; i < p.frames.size(); ++i) {
            const auto& fr = p.frames[i];
            if (!decode::parse_frame(fr.linktype, fr.bytes, m).ok || m.icmp_error || m.later_fragment) continue;
            const auto lk = table.update(m, fr.ts_us);
            const uint32_t slot = table.index_of(*lk.flow);
            if (lk.created) dissector.on_flow_created(*lk.flow, slot);
            dissector.on_packet(*lk.flow, slot, lk.dir, m, fr.ts_us);
            flow_of_frame[i] = lk.flow->id;
            if (fr.ts_us - last_expire >= 1'000'000) {
                table.expire(fr.ts_us);
                last_expire = fr.ts_us;
            }
        }
        table.flush();
        Buckets out;
        for (size_t i = 0; i < p.frames.size(); ++i) {
            const Kind k = flow_of_frame[i] ? kind_of_flow[flow_of_frame[i]] : kOther;
            for (const Kind into : {kAll, k}) {
                out.frames[into].push_back(p.frames[i]);
                out.bytes[into] += p.frames[i].caplen;
            }
        }
        return out;
    }();
    return b;
}

void BM_AnalyzerPreloaded(benchmark::State& state, Kind kind) {
    std::string why;
    const auto* p = callwall::bench::preloaded_frames(&why);
    if (!p) {
        state.SkipWithError(why.c_str());
        return;
    }
    const auto& frames = buckets(*p).frames[kind];
    if (frames.empty()) {
        state.SkipWithError("no frames of this kind in the preloaded part of the workload");
        return;
    }
    std::unique_ptr<pipeline::Analyzer> a;
    uint64_t flows = 0;
    for (auto _ : state) {
        state.PauseTiming();
        a.reset();
        a = std::make_unique<pipeline::Analyzer>();
        state.ResumeTiming();
        for (const auto& fr : frames) a->process(fr);
        a->finish();
        flows = a->flows_written();
    }
    a.reset();  // after the timed loop
    state.counters["frames"] = static_cast<double>(frames.size());
    state.counters["flows"] = static_cast<double>(flows);
    state.counters["share_of_frames"] = static_cast<double>(frames.size()) / static_cast<double>(p->frames.size());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames.size()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buckets(*p).bytes[kind]));
}

[[maybe_unused]] const bool registered = [] {
    for (int k = 0; k < kKinds; ++k)
        benchmark::RegisterBenchmark((std::string("BM_AnalyzerPreloaded/") + kKindNames[k]).c_str(),
                                     BM_AnalyzerPreloaded, static_cast<Kind>(k))
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    return true;
}();

}  // namespace
