// Google Benchmark: link/IP/transport decoding (decode::parse_frame).
//
//   BM_ParseFrame/<shape>  one synthetic frame of a common shape, decoded over
//                          and over (the cost of the header walk alone, hot cache)
//   BM_ParseFrameWorkload  every preloaded frame of the generated workload in
//                          capture order (realistic mix of shapes and sizes)
// items = frames, bytes = captured bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "bench_frames.hpp"
#include "decode/packet.hpp"

namespace {

namespace decode = callwall::decode;
using callwall::ByteView;

void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
    put16(v, static_cast<uint16_t>(x >> 16));
    put16(v, static_cast<uint16_t>(x));
}

// Ethernet header with up to two VLAN tags.
void ethernet(std::vector<uint8_t>& f, uint16_t ethertype, std::initializer_list<uint16_t> vlans = {}) {
    for (int i = 0; i < 6; ++i) f.push_back(0x02);
    for (int i = 0; i < 6; ++i) f.push_back(0x04);
    for (const uint16_t vid : vlans) {
        put16(f, 0x8100);
        put16(f, vid);
    }
    put16(f, ethertype);
}

void ipv4(std::vector<uint8_t>& f, uint8_t proto, uint16_t l4_len) {
    f.push_back(0x45);
    f.push_back(0);
    put16(f, static_cast<uint16_t>(20 + l4_len));
    put16(f, 0x1234);
    put16(f, 0x4000);  // DF
    f.push_back(64);
    f.push_back(proto);
    put16(f, 0);  // checksum is not verified
    put32(f, 0x0A010203);
    put32(f, 0xCB00710A);
}

void ipv6(std::vector<uint8_t>& f, uint8_t next, uint16_t l4_len) {
    put32(f, 0x60000000);
    put16(f, l4_len);
    f.push_back(next);
    f.push_back(64);
    const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
    f.insert(f.end(), src, src + 16);
    f.insert(f.end(), dst, dst + 16);
}

void udp(std::vector<uint8_t>& f, uint16_t sport, uint16_t dport, uint16_t payload) {
    put16(f, sport);
    put16(f, dport);
    put16(f, static_cast<uint16_t>(8 + payload));
    put16(f, 0);
    f.insert(f.end(), payload, 0x80);
}

void tcp(std::vector<uint8_t>& f, uint16_t sport, uint16_t dport, uint8_t flags, uint16_t payload) {
    put16(f, sport);
    put16(f, dport);
    put32(f, 1000);
    put32(f, 2000);
    f.push_back(0x80);  // data offset 8 words: 12 bytes of options (NOP NOP timestamps)
    f.push_back(flags);
    put16(f, 502);
    put16(f, 0);
    put16(f, 0);
    const uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    f.insert(f.end(), opts, opts + 12);
    f.insert(f.end(), payload, 0x17);
}

struct Shape {
    const char* name;
    std::vector<uint8_t> frame;
};

std::vector<Shape> shapes() {
    std::vector<Shape> out;
    {  // Opus audio: the most common packet of a call
        std::vector<uint8_t> f;
        ethernet(f, 0x0800);
        ipv4(f, 17, 8 + 120);
        udp(f, 50000, 3478, 120);
        out.push_back({"eth_ipv4_udp_128", f});
    }
    {  // video on a tagged access port
        std::vector<uint8_t> f;
        ethernet(f, 0x0800, {100});
        ipv4(f, 17, 8 + 1100);
        udp(f, 50002, 443, 1100);
        out.push_back({"eth_vlan_ipv4_udp_1108", f});
    }
    {  // bulk TLS over IPv4
        std::vector<uint8_t> f;
        ethernet(f, 0x0800);
        ipv4(f, 6, 32 + 1400);
        tcp(f, 443, 51000, 0x10, 1400);
        out.push_back({"eth_ipv4_tcp_1432", f});
    }
    {  // pure ACK
        std::vector<uint8_t> f;
        ethernet(f, 0x0800);
        ipv4(f, 6, 32);
        tcp(f, 51000, 443, 0x10, 0);
        out.push_back({"eth_ipv4_tcp_ack", f});
    }
    {  // DNS over IPv6
        std::vector<uint8_t> f;
        ethernet(f, 0x86DD);
        ipv6(f, 17, 8 + 60);
        udp(f, 40000, 53, 60);
        out.push_back({"eth_ipv6_udp_68", f});
    }
    {  // QinQ, IPv6 TCP
        std::vector<uint8_t> f;
        ethernet(f, 0x86DD, {0x0010, 0x0020});
        f[12] = 0x88, f[13] = 0xA8;  // outer tag is 802.1ad
        ipv6(f, 6, 32 + 600);
        tcp(f, 443, 51001, 0x18, 600);
        out.push_back({"qinq_ipv6_tcp_632", f});
    }
    return out;
}

void BM_ParseFrame(benchmark::State& state, std::vector<uint8_t> frame) {
    const ByteView view(frame.data(), frame.size());
    {
        const auto r = decode::parse_frame(1, view);
        if (!r) {
            state.SkipWithError("synthetic frame does not decode");
            return;
        }
    }
    decode::PacketMeta m;  // reused, as the pipeline does
    for (auto _ : state) {
        benchmark::DoNotOptimize(decode::parse_frame(1, view, m));
        benchmark::DoNotOptimize(m);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}

[[maybe_unused]] const bool registered = [] {
    for (auto& s : shapes())
        benchmark::RegisterBenchmark((std::string("BM_ParseFrame/") + s.name).c_str(), BM_ParseFrame, s.frame);
    return true;
}();

void BM_ParseFrameWorkload(benchmark::State& state) {
    std::string why;
    const auto* p = callwall::bench::preloaded_frames(&why);
    if (!p) {
        state.SkipWithError(why.c_str());
        return;
    }
    uint64_t ok = 0;
    decode::PacketMeta m;  // reused, as the pipeline does
    for (auto _ : state) {
        for (const auto& fr : p->frames) {
            ok += decode::parse_frame(fr.linktype, fr.bytes, m).ok;
            benchmark::DoNotOptimize(m);
        }
    }
    state.counters["decoded_share"] =
        static_cast<double>(ok) / static_cast<double>(state.iterations() * p->frames.size());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * p->frames.size()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p->bytes));
}
BENCHMARK(BM_ParseFrameWorkload)->Unit(benchmark::kMillisecond);

}  // namespace
