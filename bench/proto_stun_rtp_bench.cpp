// Google Benchmark: STUN/TURN, RTP/RTCP and DTLS decoders plus the per-flow
// state machines (stream framer, Confirmer, StreamStats) on real messages
// from the public captures (no main; linked with benchmark_main). Frames are
// preloaded; items = messages (or packets), bytes = their bytes.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "proto/dtls.hpp"
#include "proto/rtp.hpp"
#include "proto/stun.hpp"
#include "unit/test_util.hpp"

namespace {

using callwall::ByteView;
namespace stun = callwall::proto::stun;
namespace rtp = callwall::proto::rtp;
namespace dtls = callwall::proto::dtls;

ByteView view(const std::vector<uint8_t>& v) { return ByteView{v.data(), v.size()}; }

// ndpi__stun.pcap frame 70: Allocate success (XOR-MAPPED, XOR-RELAYED, LIFETIME, MI).
const std::vector<uint8_t> kAllocateSuccess = callwall::test::hex(
    "010300382112a442357a556a4d58487665772b730020000800010a887c3d4643001600080001f30f3e1ff274000d0004"
    "00000384000800140e9d914ca92cddc797948099cb285bc6309ab653");
// ndpi__stun.pcap frame 195: ICE Binding request with USERNAME, PRIORITY,
// ICE-CONTROLLING, MESSAGE-INTEGRITY and FINGERPRINT (CRC over 148 bytes).
const std::vector<uint8_t> kIceBinding = callwall::test::hex(
    "000100882112a442384421d1f4a243e1d63a5f9a0006004945303444393433462d433237312d433936412d433237442d"
    "4443424430393737383638303a32303430463745432d334642462d363146372d314143322d4141443544343631304138"
    "4500000000250000002400046e7f00ff802a00089663f5787b57f2d400080014ae2f3329490275937e5e79985322cf8c"
    "9f5e1f3980280004f1444a1b");
// ndpi__stun.pcap frame 113: ChannelData 0x4003 with an SRTCP RR.
const std::vector<uint8_t> kChannelData = callwall::test::hex("4003001680c9000100000001800000031ff01345009e4583923d");
// ndpi__stun.pcap frame 189: SRTP with a one-byte header extension.
const std::vector<uint8_t> kSrtp = callwall::test::hex(
    "90ef6a8f33dff2b1d3f9fd82bede0002224e126f10ff00007f64438570f0a62a293eaf3a3ca24f4421eca13dc3c0d702"
    "dbb7a1fa41d54fc3fdca3238be39a3b52b42");
// ndpi__rtcp_multiple_pkts_in_the_same_datagram.pcap frame 1: SR + SDES.
const std::vector<uint8_t> kRtcp = callwall::test::hex(
    "81c8000c5d931534dd3ac1704d614df800007d00000000c800007d000000000000000001000000000000000000000000"
    "0000000081ca000e5d931534010835643933313533340725467265655357495443482e6f7267202d2d20436f6d652074"
    "6f20436c7565436f6e2e636f6d000000");
// ndpi__stun.pcap frame 198: DTLS ClientHello with use_srtp and ALPN webrtc.
const std::vector<uint8_t> kDtlsClientHello = callwall::test::hex(
    "16feff000000000000000100b0010000a400000000000000a4fefdfc338fd99f2c1b3e3219703866514ef73387a590ed"
    "0a4ae2ecf926fff707dd9300000010c02bc02fcca9cca8c00ac009c013c0140100006a00170000ff01000100000a0008"
    "0006001d00170018000b000201000010001200100677656272746308632d776562727463000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202001c00024000000e000b0008000700080001000200");
// ndpi__stun.pcap tcp:1 frames 143 and 145: TURN over TCP (Allocate + 401).
const std::vector<uint8_t> kTurnTcp = callwall::test::hex(
    "000300082112a442704d5356786253396b724e440019000411000000"
    "011300642112a442704d5356786253396b724e440009001000000401556e617574686f72697a65640015001063626364"
    "6363636637333533613731300014000d617070732d686f73742e636f6d6964658022001a436f7475726e2d342e352e"
    "302e35202764616e2045696465722700048028000405f95fe9");

void BM_StunDecodeAllocateSuccess(benchmark::State& state) {
    const ByteView v = view(kAllocateSuccess);
    for (auto _ : state) {
        auto r = stun::decode(v);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_StunDecodeAllocateSuccess);

void BM_StunDecodeIceBindingWithFingerprint(benchmark::State& state) {
    const ByteView v = view(kIceBinding);
    for (auto _ : state) {
        auto r = stun::decode(v);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_StunDecodeIceBindingWithFingerprint);

void BM_StunProbeRejectsRtp(benchmark::State& state) {
    const ByteView v = view(kSrtp);
    for (auto _ : state) benchmark::DoNotOptimize(stun::probe(v));
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_StunProbeRejectsRtp);

void BM_ChannelDataDecode(benchmark::State& state) {
    const ByteView v = view(kChannelData);
    for (auto _ : state) {
        auto r = stun::decode_channel_data(v, false);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_ChannelDataDecode);

// The TURN-over-TCP stream replayed in segments of state.range(0) bytes;
// items = frames out of the framer (each decoded).
void BM_StunStreamFramer(benchmark::State& state) {
    std::vector<uint8_t> stream;
    for (int i = 0; i < 32; ++i) stream.insert(stream.end(), kTurnTcp.begin(), kTurnTcp.end());
    const size_t seg = static_cast<size_t>(state.range(0));
    std::array<uint8_t, 2048> buf{};
    int64_t frames = 0;
    for (auto _ : state) {
        stun::StreamFramer f(buf);
        for (size_t at = 0; at < stream.size(); at += seg) {
            f.feed(ByteView{stream.data() + at, std::min(seg, stream.size() - at)});
            while (auto fr = f.next()) {
                auto m = stun::decode(fr->bytes);
                benchmark::DoNotOptimize(m);
                ++frames;
            }
        }
    }
    state.SetItemsProcessed(frames);
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_StunStreamFramer)->Arg(1460)->Arg(100)->Arg(7);

void BM_RtpDecodeSrtp(benchmark::State& state) {
    const ByteView v = view(kSrtp);
    for (auto _ : state) {
        auto r = rtp::decode(v);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_RtpDecodeSrtp);

void BM_RtcpDecodeCompound(benchmark::State& state) {
    const ByteView v = view(kRtcp);
    for (auto _ : state) {
        auto r = rtp::decode_rtcp(v);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_RtcpDecodeCompound);

void BM_DtlsDecodeClientHello(benchmark::State& state) {
    const ByteView v = view(kDtlsClientHello);
    for (auto _ : state) {
        auto r = dtls::decode(v);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_DtlsDecodeClientHello);

// A 20 ms audio stream: decode + Confirmer + StreamStats per packet (the
// per-packet cost of an RTP flow once classified).
void BM_RtpPerPacketPipeline(benchmark::State& state) {
    constexpr int kPackets = 256;
    std::vector<std::vector<uint8_t>> pkts;
    for (int i = 0; i < kPackets; ++i) {
        std::vector<uint8_t> p = kSrtp;
        p[1] = 0x6f;  // PT 111, no marker
        p[2] = static_cast<uint8_t>(i >> 8);
        p[3] = static_cast<uint8_t>(i);
        const uint32_t ts = 960u * static_cast<uint32_t>(i);
        for (int k = 0; k < 4; ++k) p[4 + k] = static_cast<uint8_t>(ts >> (24 - 8 * k));
        pkts.push_back(std::move(p));
    }
    int64_t bytes = 0;
    for (const auto& p : pkts) bytes += static_cast<int64_t>(p.size());
    for (auto _ : state) {
        rtp::Confirmer c;
        rtp::StreamStats s;
        uint64_t t = 0;
        for (const auto& p : pkts) {
            rtp::HeaderFields h;  // as the packet path decodes (pipeline/analyzers/rtp.cpp)
            if (!rtp::decode_fields(view(p), h)) continue;
            c.on_header(h);
            s.add(rtp::PacketSample{t += 20000, h.sequence_number, h.timestamp, h.payload_type, h.marker});
        }
        benchmark::DoNotOptimize(s.max_jitter_ms());
    }
    state.SetItemsProcessed(state.iterations() * kPackets);
    state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_RtpPerPacketPipeline);

}  // namespace
