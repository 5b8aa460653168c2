// Google Benchmark: writing flow rows to SQLite (store::Store::add_flow) on a
// temporary file, with the store's own batching (a transaction every
// Store::kBatchRows rows, WAL, synchronous=NORMAL) — the rate at which
// evicted flows can leave the packet path.
//
//   BM_StoreAddFlow/4   IPv4 TCP flows with a TLS name
//   BM_StoreAddFlow/6   IPv6 UDP flows with STUN/RTP counters
// items = rows. The database lives in $TMPDIR (default /tmp); it grows across
// iterations like a long run's would.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "decode/packet.hpp"
#include "flow/flow_table.hpp"
#include "store/store.hpp"

namespace {

namespace flow = callwall::flow;
namespace store = callwall::store;
namespace decode = callwall::decode;

std::filesystem::path temp_db() {
    return std::filesystem::temp_directory_path() / ("callwall-store-bench-" + std::to_string(::getpid()) + ".sqlite");
}

void remove_db(const std::filesystem::path& p) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(p.string() + suffix, ec);
}

flow::Flow sample_flow(int family) {
    flow::Flow f;
    if (family == 4) {
        f.client_ip = decode::IpAddr::v4(0x0A010203);
        f.server_ip = decode::IpAddr::v4(0xCB00710A);
        f.proto = decode::kProtoTcp;
        f.client_port = 51234;
        f.server_port = 443;
        f.tcp.syn = 1;
        f.tcp.synack = 1;
        f.tcp.fin[0] = f.tcp.fin[1] = true;
        f.tcp.first_syn_us = f.tcp.last_syn_us = 1'700'000'000'000'000;
    } else {
        decode::IpAddr c, s;
        (void)decode::parse_ip("2001:db8:1::1234", c);
        (void)decode::parse_ip("2001:db8:2::53:1", s);
        f.client_ip = c;
        f.server_ip = s;
        f.proto = decode::kProtoUdp;
        f.client_port = 50000;
        f.server_port = 3478;
    }
    f.first_ts_us = 1'700'000'000'000'000;
    f.last_ts_us = f.first_ts_us + 12'345'678;
    f.packets[0] = 120, f.packets[1] = 240;
    f.bytes[0] = 12'000, f.bytes[1] = 300'000;
    f.ttl_min[1] = 52, f.ttl_max[1] = 54;
    return f;
}

store::FlowAppInfo sample_app(int family) {
    store::FlowAppInfo a;
    if (family == 4) {
        a.app = "tls";
        a.name = "api-7f3a.calls.sendbird.com";
        a.name_source = "sni";
        a.tls_server_hello = true;
    } else {
        a.app = "stun+turn+rtp+rtcp";
        a.name = "turn.whereby.com";
        a.name_source = "dns";
        a.stun_requests = 6, a.stun_answered = 6;
        a.channel_data = 1500;
        a.rtp_packets = 1400, a.rtcp_packets = 60;
    }
    return a;
}

void BM_StoreAddFlow(benchmark::State& state) {
    const int family = static_cast<int>(state.range(0));
    const auto path = temp_db();
    remove_db(path);
    try {
        auto db = store::Store::open(path.string());
        store::RunInfo info;
        info.kind = "analyze";
        info.source = "bench";
        const int64_t run = db->begin_run(info);
        flow::Flow f = sample_flow(family);
        const store::FlowAppInfo app = sample_app(family);
        uint64_t id = 1;
        for (auto _ : state) {
            f.id = id++;
            f.client_port = static_cast<uint16_t>(1024 + (id & 0x7FFF));
            db->add_flow(run, f, app);
        }
        db->flush();  // outside the timed loop; the commits every kBatchRows rows are inside it
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
    remove_db(path);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_StoreAddFlow)->Arg(4)->Arg(6)->MinTime(1.0);

}  // namespace
