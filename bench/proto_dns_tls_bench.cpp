// Google Benchmark: DNS and TLS first-flight decoders on real messages (no main; linked with
// benchmark_main). Frames are preloaded; items = messages, bytes = message bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "proto/dns.hpp"
#include "proto/tls.hpp"
#include "unit/proto/fixtures.hpp"
#include "unit/test_util.hpp"

namespace {

using callwall::ByteView;
namespace dns = callwall::proto::dns;
namespace tls = callwall::proto::tls;

// ndpi__viber.pcap frame 3: response with a CNAME chain, NS and glue (161 bytes).
const std::vector<uint8_t> kDnsCnameResponse = callwall::test::hex(
    "e183818000010003000200020567726170680866616365626f6f6b03636f6d0000010001c00c0005000100000afd0006"
    "03617069c012c0300005000100000370000c04737461720463313072c012c042000100010000002200041f0d5608c047"
    "0002000100000a1500070162026e73c047c0470002000100000a1500040161c06cc07d0001000100000a15000445abef"
    "0bc06a0001000100000a15000445abff0b");

// tcpdump__dns_tcp.pcap frames 4 and 6: query and response over TCP, length prefixes included.
const std::vector<uint8_t> kDnsTcpQuery = callwall::test::hex(
    "0038431901200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a"
    "00088f06be7d691442f0");
const std::vector<uint8_t> kDnsTcpResponse = callwall::test::hex(
    "00e0431985000001000200020005037777770774637064756d70036f72670000010001c00c000100010000003c0004c0"
    "8b2e42c00c000100010000003c0004c6c75868c01000020001000151800012036e69630973616e64656c6d616e026361"
    "00c0100002000100015180001203736e7308636f6f7065726978036e657400c04d000100010000012c0004d157f912c0"
    "4d001c00010000012c00102607f0b0000f000000000000babef00dc06b0001000100001c200004616b850fc06b001c00"
    "0100001c20001026003c0300000000f03c91fffe96e8ef0000291000000000000000");

// zeek__tls13-ech.pcap frame 7: Chrome ClientHello record with ECH (517 bytes).
const std::vector<uint8_t> kTlsEchClientRecord = callwall::test::hex(callwall::test::fixtures::kTlsEchClientRecord);

// zeek__chrome-1250-tls-x25519-kyber.pcap frame 4: post-quantum ClientHello record (1756 bytes).
const std::vector<uint8_t> kTlsKyberClientRecord = callwall::test::hex(
    "16030106d7010006d3030356767d9ae8a843809398310469168e09e8543de551ed52fbd4403dea567ea1c120c72b78a5"
    "6497f6e8e86debee9ec616ade6851b0ce90cda4658d36cbed28cafed0020eaea130113021303c02bc02fc02cc030cca9"
    "cca8c013c014009c009d002f00350100066a6a6a000000230000000d0012001004030804040105030805050108060601"
    "000b00020100000a000c000acaca6399001d00170018001b0003020002446900050003026832003304ef04edcaca0001"
    "00639904c0a2778cd4d2ca31c7120c5b67691a33d480dabe6d387f14cfd82e1aa68547c4180b291697a6c2b16b2b230c"
    "64cd97266592673d8443ccc50f4ae894d5aa9e1ad1c0b01a44ae605f27d47311f117b5bc9dfcc762e612771d5668a734"
    "62162b9c580770ad417e7b2b8953f50912b67b8b171d6f81615dd94f787a00a8d75a14550c66385437e16a2d43519b99"
    "80647520fde07c40388a17d4ae8514bf962313b1da12445a911f5a372e49792bcc62d4ac5f41900aafe02ed634245b49"
    "2e8d8a06e245a6487678f28c0e0d8c88ad705dee88138e7a31445c9499035b53022abe94802148c8341c3412ea3ed281"
    "2c1a841748ca6e2022bd3e8c740c963fb15467360bc90d05c8e99c76b85b3009a8b864714981533bb7ab6c70e3895e20"
    "b6dba6ccb7530a091a4998dbbff58902b2b66b9690c98f72c4d01526bce1076762a895045e33881d2b85a7ceb95d3860"
    "2ec099ad0da92339ab0b4fea051fb8ccf0216b67a02acac71641dc2505e9998f6939dbc63c722539f0226a79e0bc2546"
    "9b069a8df37340205241fe5676e6e688f04a3fcdd309f4e65f59a31e3183c0c15b7844b2337827a7d7790ff7ecbfdaea"
    "624b4402962794f685ccb81534ce7a4f54f28b52261ea40769e1bb668c403fe031b5bfe30c74a56d2b013241130e203b"
    "8c805c7106767a1bd1b532d1b22172835adb26caaa95b3ec9b98274a7d434fb3629baefb3aa00184d7bb826ad5975e2b"
    "811c81ace1b3050e9a7e5617a25528274fe963dac029c335066d56cd107bc9ace2815235a20d975271762a34d8c6a46b"
    "567fb4538b5515b459465021ae269770cc9909434082d73400c180961c0a509536b64e3a6a9df31b66a51d5c1cbf7888"
    "27cb25bbd8f6159392c5e1ac7607a41199a732e8ebb729f44dcd270f134a578d052537b03547e4787a2680094bb8b6dc"
    "16706500d0e455b77b0d61986ecf4b1fd2e1ad46369b5a67375ff762d2f69fb93330a39323a6b713a19620a9b139c1f2"
    "7254e408749ca078bc44598663a87b4b53d20c9c909564b3131be1cd4167b1fe7b3356b629005a1467c9c5701022c2bc"
    "a78bc81cc1a15f429329aea223edea8844e200b781990bc026e059377a840264d9570592a07fc7688916c5eb99ba169b"
    "8bbe394844f620ebab8c70212108b24ca0121c0a7a7dd6877f90e94b3605699a9c1b4607140901955271172f9cab61ea"
    "096790016a92905268799834148d64202ee01beb2886655ab496e4009f263eda3b3bae1086fae7c34a2719a116abb18a"
    "9486859b5d93c5d5bb759805ac924c2a5b846c69860789e18b4e800e2de6b4a4a23a2eca54f2f108d8b4584bd0406777"
    "4e016923c74249b8028767d3a0cc891ecd7130cf185b7d68a2bd0b31d7899a0a215542d474ede686e0c8bc1972be2a97"
    "cefa49af93265aa6a3579d527c8ae2a0e2b51ff3971a84dcbaeb4134b4742f3d144c04229dc7e9265ec5cfdde00b513c"
    "6b1c81316c71a86385694a250a1e99c2b5954d309a8e2f77300274a7f875bba2f5734ec05f89e83e4093331cb2163007"
    "48f33c475ac83f35e2c077724fdc77a74e292b409897b0f463a490c37b982d0605afb3c113659181150520f0103ba1ca"
    "95fca6adc1581dfe467f0ce70e6ff7246ac6400723080f161c284128e933924a33c10a89bf874c5f11905084253340c1"
    "f20fd87d551cf88bf2173add13f3b6a3755dd270f1001d00204518f31c6d02159e6f8ea20bd2e325c9d7ad26f38daade"
    "6bf959afa516a26e760010000e000c02683208687474702f312e31002b0007068a8a0304030300170000ff0100010000"
    "0500050100000000002d00020101fe0d00da000001000102002089384cd8b5a698ff8240d9b5ea186bb1d0e487de252a"
    "ed9d9a28ea0f0cc2b65800b01a472e144587036684e269b294f7c441d993d311dc5f3d15fa9f4850e07ccaf054be940e"
    "418a7e0eced08073992ca532efdef028349c1507e7bfa77813a8ddaf9bca4acd7093216808e24a39541efc9b73ca3356"
    "1db210809e582aeafe7c3ec256ab6b5f3edfcae2365311105389da11ad6099e8adea371d8f9c0b6107bca00c5bc0ca11"
    "369dc4957b80d0f222162e199abdb886d8050c07de1de124d84987eeedca8470250578734ea0526a396dc81600120000"
    "00000013001100000e6c68332e676f6f676c652e636f6d4a4a000100");

// zeek__tls13-ech.pcap frame 9: TLS 1.3 ServerHello record.
const std::vector<uint8_t> kTlsServerRecord = callwall::test::hex(
    "160303007a020000760303cd86afb4bb270220f3b7c330c6fc84b3ada6a00d98b285a5022de6f5ced70efc207c77f968"
    "ecbeda040598f47af5265fb5f0f5ef3279f08b43d03c31a57ce0c630130100002e002b0002030400330024001d00200f"
    "f6e1452d32666a0036d0071dbfceaddc648e2d5aa6fd1c530c3f15f823271f");

ByteView view(const std::vector<uint8_t>& v) { return ByteView{v.data(), v.size()}; }

void BM_DnsProbe(benchmark::State& state) {
    const ByteView msg = view(kDnsCnameResponse);
    for (auto _ : state) benchmark::DoNotOptimize(dns::probe(msg));
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(msg.size()));
}
BENCHMARK(BM_DnsProbe);

void BM_DnsDecode(benchmark::State& state) {
    const ByteView msg = state.range(0) == 0 ? view(kDnsCnameResponse) : view(kDnsTcpResponse).subspan(2);
    for (auto _ : state) {
        auto r = dns::decode(msg);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(msg.size()));
}
BENCHMARK(BM_DnsDecode)->Arg(0)->Arg(1)->ArgName("cname_udp0_glue_tcp1");

// A DNS-over-TCP stream (query + response) cut into 3 segments, framed and decoded.
void BM_DnsTcpFramerDecode(benchmark::State& state) {
    std::vector<uint8_t> stream = kDnsTcpQuery;
    stream.insert(stream.end(), kDnsTcpResponse.begin(), kDnsTcpResponse.end());
    const ByteView s = view(stream);
    const size_t cut1 = 40, cut2 = 150;
    uint64_t answers = 0;
    for (auto _ : state) {
        dns::TcpFramer framer;
        auto sink = [&answers](ByteView m) {
            const auto r = dns::decode(m);
            if (r.ok()) answers += r->answers.size();
        };
        framer.feed(s.first(cut1), sink);
        framer.feed(s.subspan(cut1, cut2 - cut1), sink);
        framer.feed(s.subspan(cut2), sink);
    }
    benchmark::DoNotOptimize(answers);
    state.SetItemsProcessed(state.iterations() * 2);
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_DnsTcpFramerDecode);

void BM_TlsProbe(benchmark::State& state) {
    const ByteView rec = view(kTlsEchClientRecord);
    for (auto _ : state) benchmark::DoNotOptimize(tls::probe(rec));
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(rec.size()));
}
BENCHMARK(BM_TlsProbe);

// Stateless path: the whole hello in the first segment (the common case).
void BM_TlsDecodeRecordStream(benchmark::State& state) {
    const ByteView rec = state.range(0) == 0 ? view(kTlsEchClientRecord) : view(kTlsKyberClientRecord);
    for (auto _ : state) {
        auto r = tls::decode_record_stream(rec);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(rec.size()));
}
BENCHMARK(BM_TlsDecodeRecordStream)->Arg(0)->Arg(1)->ArgName("ech0_kyber1");

// The post-quantum hello split at a 1448-byte MSS, second segment first, into a lent buffer.
void BM_TlsAssemblerTwoSegments(benchmark::State& state) {
    const ByteView rec = view(kTlsKyberClientRecord);
    std::vector<uint8_t> buffer(tls::kMinFlightBuffer);
    const uint32_t isn = 0xFFFFFF00u;
    const uint32_t mss = 1448;
    for (auto _ : state) {
        tls::ClientHelloAssembler a(buffer);
        a.anchor_syn(isn);
        (void)a.add_segment(isn + 1 + mss, rec.subspan(mss));
        const auto st = a.add_segment(isn + 1, rec.first(mss));
        auto r = a.client_hello();
        benchmark::DoNotOptimize(st);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(rec.size()));
}
BENCHMARK(BM_TlsAssemblerTwoSegments);

void BM_TlsServerFlight(benchmark::State& state) {
    const ByteView rec = view(kTlsServerRecord);
    for (auto _ : state) {
        auto r = tls::decode_server_flight(rec);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(rec.size()));
}
BENCHMARK(BM_TlsServerFlight);

}  // namespace
