// Google Benchmark: the flow table (flow::FlowTable::update) at 10k, 100k and
// 1M live flows.
//
//   BM_FlowTableInsert/N   N new UDP flows into an empty table (includes the
//                          slab growing to its high-water mark: the first minutes
//                          of a capture)
//   BM_FlowTableLookup/N   packets of N live flows in random order, half of them
//                          in the reverse direction (hit path: hash, probe, LRU
//                          move, counters); at 1M flows this is cache-miss bound
//   BM_FlowTableChurn/N    a full table (max_flows = N): every packet is a new
//                          flow and evicts the least recently active one (the
//                          steady state of a long capture, eviction included)
// items = packets (table updates). The packet metadata is filled per packet
// from a compact tuple array, as parse_frame would.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "decode/packet.hpp"
#include "flow/flow_table.hpp"

namespace {

namespace flow = callwall::flow;
namespace decode = callwall::decode;

struct Tuple {
    uint32_t client, server;
    uint16_t sport, dport;
};

// N distinct flows: clients in 10.0.0.0/8, servers in a few hundred public
// addresses, ephemeral source ports: the shape of an office mirror port.
std::vector<Tuple> make_tuples(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<Tuple> t(n);
    for (size_t i = 0; i < n; ++i) {
        t[i].client = 0x0A000000u | static_cast<uint32_t>(rng() & 0xFFFFFF);
        t[i].server = 0xCB007100u | static_cast<uint32_t>(rng() % 251);
        // index in the port pair keeps every tuple distinct
        t[i].sport = static_cast<uint16_t>(1024 + (i % 64000));
        t[i].dport = static_cast<uint16_t>(static_cast<uint32_t>(i / 64000) + 3478);
    }
    return t;
}

inline void fill(decode::PacketMeta& m, const Tuple& t, bool reverse) noexcept {
    const uint32_t src = reverse ? t.server : t.client, dst = reverse ? t.client : t.server;
    const uint16_t sp = reverse ? t.dport : t.sport, dp = reverse ? t.sport : t.dport;
    m.src.bytes[0] = static_cast<uint8_t>(src >> 24), m.src.bytes[1] = static_cast<uint8_t>(src >> 16);
    m.src.bytes[2] = static_cast<uint8_t>(src >> 8), m.src.bytes[3] = static_cast<uint8_t>(src);
    m.dst.bytes[0] = static_cast<uint8_t>(dst >> 24), m.dst.bytes[1] = static_cast<uint8_t>(dst >> 16);
    m.dst.bytes[2] = static_cast<uint8_t>(dst >> 8), m.dst.bytes[3] = static_cast<uint8_t>(dst);
    m.sport = sp;
    m.dport = dp;
}

decode::PacketMeta base_meta() {
    decode::PacketMeta m;
    m.src.family = m.dst.family = 4;
    m.ip_version = 4;
    m.proto = decode::kProtoUdp;
    m.ttl = 60;
    m.ip_total_len = 160;
    m.payload_wire_len = 132;
    return m;
}

flow::FlowTableConfig config_for(size_t n) {
    flow::FlowTableConfig cfg;
    cfg.max_flows = std::max<uint32_t>(cfg.max_flows, static_cast<uint32_t>(n));
    return cfg;
}

void BM_FlowTableInsert(benchmark::State& state) {
    const size_t n = static_cast<size_t>(state.range(0));
    const auto tuples = make_tuples(n, 1);
    decode::PacketMeta m = base_meta();
    std::unique_ptr<flow::FlowTable> table;
    for (auto _ : state) {
        state.PauseTiming();
        table.reset();
        table = std::make_unique<flow::FlowTable>(config_for(n));
        state.ResumeTiming();
        int64_t ts = 1'000'000;
        for (const auto& t : tuples) {
            fill(m, t, false);
            auto lk = table->update(m, ts++);
            benchmark::DoNotOptimize(lk);
        }
    }
    if (table && table->live() != n) state.SkipWithError("tuples were not distinct");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_FlowTableInsert)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_FlowTableLookup(benchmark::State& state) {
    const size_t n = static_cast<size_t>(state.range(0));
    const auto tuples = make_tuples(n, 2);
    flow::FlowTable table(config_for(n));
    decode::PacketMeta m = base_meta();
    int64_t ts = 1'000'000;
    for (const auto& t : tuples) {
        fill(m, t, false);
        (void)table.update(m, ts++);
    }
    // A fixed random visiting order, longer than the table so every flow is hit.
    constexpr size_t kOrder = 1u << 21;
    std::vector<uint32_t> order(kOrder);
    std::mt19937 rng(3);
    for (auto& o : order) o = static_cast<uint32_t>(rng() % n);
    size_t i = 0;
    for (auto _ : state) {
        const uint32_t k = order[i & (kOrder - 1)];
        fill(m, tuples[k], (i & 1) != 0);
        auto lk = table.update(m, ts++);
        benchmark::DoNotOptimize(lk);
        ++i;
    }
    if (table.live() != n) state.SkipWithError("lookups created flows");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_FlowTableLookup)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

void BM_FlowTableChurn(benchmark::State& state) {
    const size_t n = static_cast<size_t>(state.range(0));
    // n live flows plus a stream of new ones; the table is bounded at n.
    constexpr size_t kNew = 1u << 21;
    const auto tuples = make_tuples(n + kNew, 4);
    flow::FlowTableConfig cfg;
    cfg.max_flows = static_cast<uint32_t>(n);
    flow::FlowTable table(cfg);
    uint64_t evicted = 0;
    table.set_evict_callback([&evicted](flow::Flow&) { ++evicted; });
    decode::PacketMeta m = base_meta();
    int64_t ts = 1'000'000;
    for (size_t k = 0; k < n; ++k) {
        fill(m, tuples[k], false);
        (void)table.update(m, ts++);
    }
    // New flows cycle through the tuple list; a tuple comes back only after
    // more than n others, so it has been evicted by then and is new again.
    size_t next = n;
    for (auto _ : state) {
        fill(m, tuples[next], false);
        auto lk = table.update(m, ts++);
        benchmark::DoNotOptimize(lk);
        if (++next == tuples.size()) next = 0;
    }
    state.counters["evicted"] = static_cast<double>(evicted);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_FlowTableChurn)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace
