// QUIC Initial benchmarks: header decode, key derivation + decryption + frame parsing, and the
// per-flow assembler, on a real 1250-byte Chromium 115 client Initial (zeek__chromium-115…
// -api-cirrus-com.pcap frame 1: QUIC v1, 70-byte token, ClientHello in 9 out-of-order CRYPTO
// frames). The datagram is preloaded; no allocation happens inside the timed loops.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "callwall/proto/quic.hpp"
#include "unit/test_util.hpp"

namespace {

using namespace callwall;
using namespace callwall::proto::quic;

// zeek__chromium-115.0.5790.110-api-cirrus-com.pcap, frame 1 (tshark -e udp.payload).
const char* const kChromiumInitial =
    "c0000000010895412c47018cdfe8004046006e2385e694b43534cc4506131c629fc029f854dad8927dbf2545"
    "a59d323e2d507b2bad115094ecccaa094e76cb0782e728d7cd8153197fe90e58048434b9b3a16cd4581ddf44"
    "89d7ba28eea7972516afab349ac3886fbd6c060b11021ea4218be2963df82cb9298c8094e9fe22d3b9c93ca3"
    "9e13d88a550f8a364f6b7207cbdf854c692922857793d8b942bf08e0ff79140c9156f10acb0505b154ce4ce2"
    "b2b1ef4dc7bf55bfa59da71008bef7926851e9e43d25c025287fe4e43064eb21bea4740827e6aea6a2a2e576"
    "328cf7dd7099a6b1cb13f80515cf34dc11953bceff3058b3d0185db75cf8ac4856cccc6c523be67edd515a90"
    "521994ae829430b2300111a1ca12d74caed8ac0c42c1b42f12ee95e8edf905a3feaae08087c7ddedfd01c079"
    "ba4e73c8c46b67fad96bf49d2355c2f98a19832e3ce981d8fb8019bd3769b6ccafbcc75b8eeff0b75a304ccf"
    "2b5215a3c1b47df45ae3ce613773390017e19705e96e198fb4365ec07cac463214e38c5d7b43861200dd760b"
    "af3508f47b1ed3ef6e6041943a5a8f8384ec7ab84364c118b774f23d48640051236f7b465399b982e5aa793e"
    "72bb76c40ec762682caa658967dad360b551cadcf3dce30fbb798d40e844a7de1125c5610b190c40dab8455f"
    "7fe41a3716b30754697e1aa522ce1b5f9f4b23487ae43739ed6059881d8a6fa5dc07c0a0de85b766626ea551"
    "72d8330719228e44e0e7ba876890f0b2f10752efc2a6a035f0222967c24929148086604350fffa795aa20430"
    "3385c8bbb31a780b87550f3ed6643d8ca6fe87eb2cedd34d148e01f36475595f21db340cfac48a6dac342310"
    "c107fdc9446f0439d65e20c692ddd4385a053bb11330bc9d144300d87a7ba2c7c32ef2437d6580df2ea3b0f8"
    "beba4fd541c0c9f0c597fb9386291780bcc69a45e9c1079f55840e552234133882677a430d75d1e48b404975"
    "c7abdf3eb76eeebb73d3af9962b45b5071c3096c73a3e90e2c563b7cccb53e95686bbc61db2a5f722d8cbd5d"
    "960f29d511c71ab6aa6db57b14218ebbca305a4fff4a050473a3dde6d6a822f238a168df69f4b612b68d7f7d"
    "bd80e0ba46be41a91ab062525bbd310af8b54830f2571782b565b6cf9de46efbf0c0a812d211a2095d51af57"
    "89ccbc42509f9af182e74aa833897f0665a881cef92692f6a59fd183b67c63f8b1f4765a6a7cbfd6a7126ed6"
    "d198923b5ba945337d09653108efe3ab9a4ab77709e196bd4ea5eb5ebcd50c6acd1b12428977e563fc709292"
    "69d5339ae66ac2d8d4101e73b313ae29736b614c31dc62f047be12c52b4f3ea96275c7cfd3e4089ed37188be"
    "7ece4d94f417b224663d59071779e0e3ae13ad7a6d8bb6f197993de6182571750470b2385dc4a6fee2b4f940"
    "8053edc24407b5d4ca1c8d2b246ddb69a45c20c4d43f2129554be3d45d542f8127abe81160f0b46f5ce22c13"
    "f59b37e0cbb3f36e765f56bc73ce174f1bbebc46a161aaed714a309245f73de0c5f9beea5201da0a912b30ed"
    "0212efe108e18595c56695c07a6934a12b9916dce3ebcd8b690e2dd7eca1a4d9612c4e513dda1dd36876b49f"
    "c9808b455d3541988706788c2788011cfd0e0e08251c7ebd4cdff0f0fb06be319bd35c7922477d53d32e8c18"
    "3880c74eb76d609220df6fd27ea0651589e749ad4e01420ebcc2f3752cbf4a5cb9391156c5ce6114d1739b5c"
    "a4f1c2eeb49f544ffe31456c994584d2bd4b";



const std::vector<uint8_t>& datagram() {
    static const std::vector<uint8_t> d = callwall::test::hex(kChromiumInitial);
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
