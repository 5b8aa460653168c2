// Mirror-port encapsulations (GRE, ERSPAN II, ERSPAN III, VXLAN) made by
// tools/gen_encap.py from captures/scenarios/whereby.pcap must give the same
// flows, facts and verdicts as the bare capture.
#include <gtest/gtest.h>

#include <filesystem>

#include "callwall/attrib/attrib.hpp"
#include "attrib/store_io.hpp"
#include "callwall/catalog/catalog.hpp"
#include "golden/run_util.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

struct Dump {
    std::vector<std::string> flows, verdicts, hellos, stun;
};

Dump analyze(const std::string& capture) {
    static const catalog::Catalog cat = [] {
        const fs::path dir = catalog::bundled_catalog_dir();
        auto r = catalog::load(std::span<const fs::path>(&dir, 1));
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    TempDb db;
    const int64_t run = analyze_files({capture}, db.path());
    {
        auto s = store::Store::open(db.path());
        attrib::run_attribution(*s, run, cat);
    }
    Dump d;
    d.flows =
        query_rows(db.path(),
                   "SELECT transport, client_ip, client_port, server_ip, server_port, packets_c2s, packets_s2c, "
                   "state, icmp_errors, app, name, name_source, outcome FROM flow ORDER BY first_ts, client_port");
    d.verdicts = query_rows(db.path(), "SELECT entry_id, verdict, reasons FROM verdict ORDER BY entry_id");
    d.hellos = query_rows(db.path(), "SELECT protocol, sni, alpn FROM tls_hello ORDER BY ts");
    d.stun =
        query_rows(db.path(), "SELECT method, class, transaction_id FROM stun_message ORDER BY ts, transaction_id");
    return d;
}

class Encap : public ::testing::TestWithParam<std::string> {};

TEST_P(Encap, ClassifiedTheSameAsTheBareTraffic) {
    const std::string base = source_dir() + "/captures/scenarios/whereby.pcap";
    const std::string wrapped = source_dir() + "/captures/encap/whereby." + GetParam() + ".pcap";
    ASSERT_TRUE(fs::exists(wrapped)) << wrapped << " (run tools/gen_encap.py captures/scenarios/whereby.pcap)";
    const Dump bare = analyze(base);
    const Dump enc = analyze(wrapped);
    ASSERT_FALSE(bare.flows.empty());
    EXPECT_EQ(enc.flows, bare.flows);
    EXPECT_EQ(enc.verdicts, bare.verdicts);
    EXPECT_EQ(enc.hellos, bare.hellos);
    EXPECT_EQ(enc.stun, bare.stun);
}

INSTANTIATE_TEST_SUITE_P(MirrorPort, Encap, ::testing::Values("gre", "erspan2", "erspan3", "vxlan"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace callwall::test
