// The dispatch of analyze --workers (run/shards/shards.hpp): both directions
// of an address pair, every fragment between the two, and an ICMP error
// quoting the pair (sent by a router in between) go to the same worker; and
// many pairs spread over the workers.
#include "run/shards/shards.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "golden/run_util.hpp"
#include "pipeline/analyzer.hpp"
#include "store/store.hpp"

namespace callwall::pipeline {
namespace {

using decode::IpAddr;
using decode::PacketMeta;

IpAddr ip(const std::string& s) {
    IpAddr a;
    EXPECT_TRUE(decode::parse_ip(s, a)) << s;
    return a;
}

PacketMeta packet(const std::string& src, const std::string& dst) {
    PacketMeta m;
    m.src = ip(src);
    m.dst = ip(dst);
    m.ip_version = m.src.family;
    m.proto = decode::kProtoUdp;
    m.sport = 40000;
    m.dport = 3478;
    return m;
}

// A database for the merger (TempDb removes it once the store is closed).
struct Db {
    test::TempDb file;
    std::unique_ptr<store::Store> store = store::Store::open(file.path());
    int64_t run = 0;
    Db() {
        store->write_behind(true);
        run = store->begin_run(store::RunInfo{"analyze", "test", "test", "", 0, {}});
    }
};

TEST(ShardsDispatch, APairItsFragmentsAndItsIcmpErrorsShareAWorker) {
    Db db;
    AnalyzerConfig cfg;
    run::Shards shards(*db.store, db.run, cfg, 4);
    std::set<size_t> used;
    for (int i = 1; i <= 200; ++i) {
        const std::string client = i % 3 ? "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)
                                         : "2001:db8::" + std::to_string(i);
        const std::string server =
            i % 3 ? "192.0.2." + std::to_string(i % 7 + 1) : "2001:db8:5::" + std::to_string(i % 7);
        const PacketMeta out = packet(client, server);
        const size_t w = shards.worker_of(out);
        used.insert(w);
        EXPECT_EQ(shards.worker_of(packet(server, client)), w) << client << " <-> " << server;
        PacketMeta frag = packet(server, client);
        frag.is_fragment = true;
        frag.sport = frag.dport = 0;  // a later fragment: no ports
        EXPECT_EQ(shards.worker_of(frag), w) << client;
        // An ICMP error from a router (its own address) quoting the pair.
        PacketMeta icmp = packet(client.find(':') != std::string::npos ? "2001:db8:ff::1" : "198.51.100.1", client);
        icmp.proto = icmp.ip_version == 6 ? decode::kProtoIcmp6 : decode::kProtoIcmp;
        icmp.icmp_error = true;
        icmp.quoted.src = out.src;
        icmp.quoted.dst = out.dst;
        icmp.quoted.has_ports = true;
        EXPECT_EQ(shards.worker_of(icmp), w) << client;
    }
    EXPECT_EQ(used.size(), 4u);  // 200 pairs reach every worker
    shards.finish(0, 0);
}

}  // namespace
}  // namespace callwall::pipeline
