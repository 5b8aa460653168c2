// QUIC Initial benchmarks: header decode, key derivation + decryption + frame parsing, and the
// per-flow assembler, on a real 1250-byte Chromium 115 client Initial (zeek__chromium-115…
// -api-cirrus-com.pcap frame 1: QUIC v1, 70-byte token, ClientHello in 9 out-of-order CRYPTO
// frames). The datagram is preloaded; no allocation happens inside the timed loops.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "proto/quic.hpp"
#include "unit/proto/fixtures.hpp"
#include "unit/test_util.hpp"

namespace {

using namespace callwall;
using namespace callwall::proto::quic;

const std::vector<uint8_t>& datagram() {
    static const std::vector<uint8_t> d = callwall::test::hex(callwall::test::fixtures::kChromiumV1Initial);
    return d;
}

Decryptor& decryptor() {
    static Decryptor d;
    return d;
}

void finish(benchmark::State& state, size_t bytes_per_item) {
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes_per_item));
}

// probe() + decode(): what every UDP datagram of an unknown flow pays.
void BM_QuicProbeDecode(benchmark::State& state) {
    const ByteView d{datagram()};
    for (auto _ : state) {
        bool p = probe(d);
        auto r = decode(d);
        benchmark::DoNotOptimize(p);
        benchmark::DoNotOptimize(r);
    }
    finish(state, d.size());
}
BENCHMARK(BM_QuicProbeDecode);

// HKDF: initial secret, client secret, key, iv, hp (once per flow / connection attempt).
void BM_QuicDeriveInitialKeys(benchmark::State& state) {
    auto h = decode_long_header(ByteView{datagram()});
    for (auto _ : state) {
        auto k = decryptor().derive_initial_keys(1, h->dcid, Perspective::Client);
        benchmark::DoNotOptimize(k);
    }
    finish(state, 0);
}
BENCHMARK(BM_QuicDeriveInitialKeys);

// Header-protection removal + AES-128-GCM over 1.2 KB, keys already derived.
void BM_QuicOpenInitial(benchmark::State& state) {
    const ByteView d{datagram()};
    auto h = decode_long_header(d);
    auto k = decryptor().derive_initial_keys(1, h->dcid, Perspective::Client);
    std::vector<uint8_t> out(d.size());
    for (auto _ : state) {
        auto o = decryptor().open(*h, *k, out);
        if (!o) state.SkipWithError("open failed");
        benchmark::DoNotOptimize(o);
    }
    finish(state, d.size());
}
BENCHMARK(BM_QuicOpenInitial);

// The Initial path of a new flow: decode + derive keys + decrypt + parse frames.
void BM_QuicInitialDecryptParse(benchmark::State& state) {
    const ByteView d{datagram()};
    std::vector<uint8_t> out(d.size());
    for (auto _ : state) {
        auto dg = decode(d);
        const LongHeader& h = dg->packets[0];
        auto k = decryptor().derive_initial_keys(h.version.version, h.dcid, Perspective::Client);
        auto o = decryptor().open(h, *k, out);
        auto f = parse_initial_frames(o->payload);
        if (!f || f->crypto.size() != 9) state.SkipWithError("unexpected frames");
        benchmark::DoNotOptimize(f);
    }
    finish(state, d.size());
}
BENCHMARK(BM_QuicInitialDecryptParse);

// Whole per-flow path: a fresh assembler fed the datagram until the ClientHello is out
// (decode, derive, decrypt, parse, reassemble 9 CRYPTO frames, completion check).
void BM_QuicAssemblerClientHello(benchmark::State& state) {
    const ByteView d{datagram()};
    std::vector<uint8_t> buffer(kRecommendedCryptoBuffer);
    for (auto _ : state) {
        ClientInitialAssembler a{std::span<uint8_t>{buffer}};
        const FeedResult r = a.feed(decryptor(), d);
        if (r.status != AssemblyStatus::Done) state.SkipWithError("not done");
        benchmark::DoNotOptimize(r);
    }
    finish(state, d.size());
}
BENCHMARK(BM_QuicAssemblerClientHello);

}  // namespace
