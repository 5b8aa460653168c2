// Google Benchmark: one live refresh of a capture holding many flows:
// what the capture loop spends at each --refresh tick.
//
// A run::Session (as `capture` builds it, with the bundled catalog, on a
// database in $TMPDIR) is fed CALLWALL_REFRESH_FLOWS flows (default 1,000,000):
// UDP and TCP from 4,096 clients to 65,536 servers on a mix of ports the
// catalog lists (3478, 443, 19302, high media ports) and others. Then one
// refresh is timed per iteration, after 1 % of the flows got a new packet and
// 0.1 % new flows appeared (a busy port's second):
//
//   BM_LiveRefresh/full         every live flow written and the whole run
//                               attributed from the database (what each tick
//                               did before the incremental refresh, and what
//                               the final attribution still does)
//   BM_LiveRefresh/incremental  Session::tick(): only the flows that changed
//                               written and re-attributed
//   BM_LiveRefresh/incremental_write_behind
//                               the same with the store's writer thread, as
//                               `capture` runs it: rows are queued and the
//                               attribution runs on the store's thread, so
//                               the time is what the decoding thread spends
//                               in the tick; in_db_ms is until the refresh
//                               is in the database (rows and verdicts)
//
// The first refresh of a run (every flow new) is timed once as
// BM_LiveRefreshFirst. Times are wall-clock (manual time, milliseconds).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "attrib/run_attribution.hpp"
#include "attrib/attrib.hpp"
#include "capture/pcap_source.hpp"
#include "catalog/catalog.hpp"
#include "run/session.hpp"
#include "store/store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace callwall;

uint32_t flow_count() {
    if (const char* n = std::getenv("CALLWALL_REFRESH_FLOWS"))
        return static_cast<uint32_t>(std::strtoul(n, nullptr, 10));
    return 1'000'000;
}

const catalog::Catalog* bundled() {
    static const catalog::Catalog* c = []() -> const catalog::Catalog* {
        const fs::path dir = catalog::bundled_catalog_dir();
        auto r = catalog::load(std::span<const fs::path>(&dir, 1));
        if (!r.ok()) return nullptr;
        return new catalog::Catalog(std::move(*r.catalog));
    }();
    return c;
}

// Ethernet + IPv4 + UDP (8 bytes of payload) or TCP (a SYN), checksums zero.
class FrameMaker {
public:
    decode::RawFrame make(uint32_t flow, bool reply, int64_t ts_us) {
        const uint32_t client = 0x0A000000u | (flow % 4096u);
        const uint32_t server = 0xC6120000u | ((flow / 4096u) % 65536u);
        static constexpr std::array<uint16_t, 6> kPorts = {3478, 443, 19302, 50000, 8801, 5000};
        const uint16_t sport = static_cast<uint16_t>(20000 + (flow / (4096u * 65536u)) % 40000 + flow % 7);
        const uint16_t dport =
            kPorts[(flow / 4096u) % kPorts.size()] + static_cast<uint16_t>((flow / 4096u) % 3 == 2 ? flow % 500 : 0);
        const bool tcp = dport == 443;
        uint8_t* p = buf_.data();
        std::memset(p, 0, buf_.size());
        p[12] = 0x08;  // IPv4
        uint8_t* ip = p + 14;
        ip[0] = 0x45;
        const uint16_t l4len = tcp ? 20 : 16;
        const uint16_t total = static_cast<uint16_t>(20 + l4len);
        ip[2] = static_cast<uint8_t>(total >> 8);
        ip[3] = static_cast<uint8_t>(total);
        ip[8] = 64;
        ip[9] = tcp ? 6 : 17;
        const uint32_t src = reply ? server : client, dst = reply ? client : server;
        const uint16_t s = reply ? dport : sport, d = reply ? sport : dport;
        for (int i = 0; i < 4; ++i) {
            ip[12 + i] = static_cast<uint8_t>(src >> (24 - 8 * i));
            ip[16 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
        }
        uint8_t* l4 = ip + 20;
        l4[0] = static_cast<uint8_t>(s >> 8);
        l4[1] = static_cast<uint8_t>(s);
        l4[2] = static_cast<uint8_t>(d >> 8);
        l4[3] = static_cast<uint8_t>(d);
        if (tcp) {
            l4[12] = 0x50;
            l4[13] = reply ? 0x12 : 0x02;  // SYN-ACK / SYN
        } else {
            l4[5] = 16;
        }
        decode::RawFrame f;
        f.ts_us = ts_us;
        f.linktype = 1;
        f.caplen = f.wirelen = 14u + total;
        f.bytes = ByteView(p, f.caplen);
        return f;
    }

private:
    std::array<uint8_t, 128> buf_{};
};

struct Setup {
    fs::path db;
    std::unique_ptr<run::Session> session;
    FrameMaker maker;
    int64_t ts_us = 1'700'000'000'000'000;
    uint32_t flows = 0, next_new = 0;
    double now = 0;  // Session::tick's monotonic clock, advanced by hand past the refresh interval
};

void remove_db(const fs::path& p) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(p.string() + suffix, ec);
}

// One live second: 1 % of the flows answered or repeated, 0.1 % new flows.
void busy_second(Setup& s) {
    const uint32_t touched = s.flows / 100, fresh = s.flows / 1000;
    for (uint32_t i = 0; i < touched; ++i) {
        const uint32_t flow = static_cast<uint32_t>((static_cast<uint64_t>(i) * 2654435761u) % s.flows);
        s.session->process(s.maker.make(flow, (i & 1) != 0, s.ts_us));
        s.ts_us += 50;
    }
    for (uint32_t i = 0; i < fresh; ++i) {
        s.session->process(s.maker.make(s.next_new++, false, s.ts_us));
        s.ts_us += 50;
    }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A session holding flow_count() live flows, refreshed once already.
Setup* make_setup(std::string& why, bool write_behind) {
    const catalog::Catalog* cat = bundled();
    if (!cat) {
        why = "the bundled catalog does not load";
        return nullptr;
    }
    auto* s = new Setup;
    s->db = fs::temp_directory_path() / ("callwall-refresh-bench-" + std::to_string(::getpid()) + ".sqlite");
    remove_db(s->db);
    static fs::path at_exit;
    at_exit = s->db;
    std::atexit([] { remove_db(at_exit); });
    run::Options o;
    o.db_path = s->db.string();
    o.kind = "capture";
    o.sources = {"bench0"};
    o.command_line = "live_refresh_bench";
    o.catalog = cat;
    o.checkpoint_packets = 0;
    o.refresh_s = 1;
    o.max_flows = 1u << 21;
    o.write_behind = write_behind;
    s->session = std::make_unique<run::Session>(std::move(o));
    s->now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    s->flows = flow_count();
    // Flows beyond the first flow_count() are the "new" ones of each second.
    s->next_new = s->flows;
    for (uint32_t i = 0; i < s->flows; ++i) {
        s->session->process(s->maker.make(i, false, s->ts_us));
        s->ts_us += 10;
    }
    return s;
}

// One session per write-behind setting (capture runs with it on), made and
// refreshed once on first use.
Setup* shared_setup(std::string& why, double* first_refresh_s, bool write_behind = false) {
    struct Made {
        Setup* setup = nullptr;
        std::string reason;
        double first = 0;
    };
    static Made made[2];
    static bool done[2] = {false, false};
    Made& m = made[write_behind];
    if (!done[write_behind]) {
        done[write_behind] = true;
        m.setup = make_setup(m.reason, write_behind);
        if (m.setup) {
            const auto t0 = std::chrono::steady_clock::now();
            m.setup->now += 10;
            m.setup->session->tick(m.setup->now);
            m.first = seconds_since(t0);
        }
    }
    why = m.reason;
    if (first_refresh_s) *first_refresh_s = m.first;
    return m.setup;
}

void BM_LiveRefreshFirst(benchmark::State& state) {
    std::string why;
    double first = 0;
    Setup* s = shared_setup(why, &first);
    if (!s) {
        state.SkipWithError(why.c_str());
        return;
    }
    for (auto _ : state) state.SetIterationTime(first);
    state.counters["flows"] = s->flows;
}

void BM_LiveRefresh(benchmark::State& state, bool full, bool write_behind) {
    std::string why;
    Setup* s = shared_setup(why, nullptr, write_behind);
    if (!s) {
        state.SkipWithError(why.c_str());
        return;
    }
    double snapshot_s = 0, behind_s = 0;
    for (auto _ : state) {
        busy_second(*s);
        // The store's thread caught up during the second (busy_second feeds
        // a second's packets at once): what is timed is the tick alone.
        if (write_behind) s->session->store().sync_writes();
        s->now += 10;
        const auto t0 = std::chrono::steady_clock::now();
        if (full) {
            s->session->snapshot_all();
            s->session->store().flush();
            snapshot_s += seconds_since(t0);
            benchmark::DoNotOptimize(attrib::run_attribution(s->session->store(), s->session->run_id(), *bundled()));
        } else {
            benchmark::DoNotOptimize(s->session->tick(s->now));
        }
        state.SetIterationTime(seconds_since(t0));
        if (write_behind) {
            // Until the refresh is in the database: rows and attribution on the store's thread.
            s->session->store().sync_writes();
            behind_s += seconds_since(t0);
        }
    }
    state.counters["live_flows"] = static_cast<double>(s->session->counts().live_flows);
    if (full) state.counters["write_ms"] = snapshot_s * 1000 / static_cast<double>(state.iterations());
    if (write_behind) state.counters["in_db_ms"] = behind_s * 1000 / static_cast<double>(state.iterations());
}

BENCHMARK(BM_LiveRefreshFirst)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LiveRefresh, full, true, false)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LiveRefresh, incremental, false, false)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
// As `callwall capture` runs it: rows written by the store's thread; the
// time is what the decoding thread spends in the tick (the attribution
// waits for the rows it reads).
BENCHMARK_CAPTURE(BM_LiveRefresh, incremental_write_behind, false, true)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
