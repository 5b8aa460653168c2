// Catalog schema 2 in attribution: address evidence, client source ports,
// and the vendor's fallback order in a product's conclusion.
#include <gtest/gtest.h>

#include "attrib/attrib.hpp"
#include "catalog/catalog.hpp"

namespace callwall::attrib {
namespace {

constexpr const char* kCatalog = R"(schema = 2
[document]
vendor = "V"
url = "https://v.example/net"
undated = true
transcribed = 2026-11-26

[[entry]]
id = "v.udp"
product = "P"
service = "UDP media"
transport = "udp"
ports = [[3478, 3481]]
addresses = ["52.112.0.0/14"]
source_ports = [[50000, 50059]]
required = true
fallback = { chain = "v.media", order = 1, label = "UDP media" }
[entry.source]
section = "Optimize"

[[entry]]
id = "v.turn-udp"
product = "P"
service = "TURN UDP"
transport = "udp"
ports = [3478]
destinations = ["turn.v.example"]
required = true
fallback = { chain = "v.media", order = 2, label = "TURN UDP" }
[entry.source]
section = "TURN"

[[entry]]
id = "v.turn-tls"
product = "P"
service = "TURN/TLS"
transport = "tcp"
ports = [443]
destinations = ["turn.v.example"]
addresses = ["52.112.0.0/14"]
required = true
fallback = { chain = "v.media", order = 3, label = "TURN/TLS" }
[entry.source]
section = "TURN"
)";

const catalog::Catalog& cat() {
    static const catalog::Catalog c = [] {
        auto r = catalog::load_string("v.toml", kCatalog);
        for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    return c;
}

FlowFacts udp_flow(const std::string& server, uint16_t cport, uint16_t sport) {
    FlowFacts f;
    f.transport = "udp";
    f.client_ip = "10.1.0.10";
    f.server_ip = server;
    f.client_port = cport;
    f.server_port = sport;
    return f;
}

TEST(AttribAddress, AFlowIntoTheRangesIsTheEntrysByItsAddress) {
    ASSERT_EQ(cat().entries().size(), 3u);
    const auto m = match_flow(udp_flow("52.113.1.1", 50010, 3479), cat(), {});
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(cat().entries()[m[0].entry].id, "v.udp");
    EXPECT_EQ(m[0].evidence, Evidence::Address);
    EXPECT_EQ(to_string(m[0].evidence), "address");
    EXPECT_TRUE(decisive(m[0].evidence));
    EXPECT_EQ(m[0].name, "52.113.1.1");
    // Stronger than a port, weaker than any name.
    EXPECT_GT(m[0].confidence, 0.2);
    EXPECT_LT(m[0].confidence, 0.7);
    // Outside the ranges: nothing (no vendor active, so no port hint either).
    EXPECT_TRUE(match_flow(udp_flow("52.116.0.1", 50010, 3479), cat(), {}).empty());
    // Another port: not this entry's; the address is the vendor's, so a gap.
    const auto other = udp_flow("52.113.1.1", 50010, 5000);
    const auto none = match_flow(other, cat(), {});
    EXPECT_TRUE(none.empty());
    const auto gaps = gap_vendors(other, cat(), none);
    ASSERT_EQ(gaps.size(), 1u);
    EXPECT_EQ(gaps[0].name, "52.113.1.1");
}

TEST(AttribAddress, SourcePortsConstrainTheMatch) {
    EXPECT_TRUE(match_flow(udp_flow("52.113.1.1", 61000, 3479), cat(), {}).empty());
    EXPECT_EQ(match_flow(udp_flow("52.113.1.1", 50059, 3479), cat(), {}).size(), 1u);
}

TEST(AttribAddress, ANameBeatsTheAddress) {
    FlowFacts f;
    f.transport = "tcp";
    f.client_ip = "10.1.0.10";
    f.server_ip = "52.113.1.1";
    f.client_port = 40000;
    f.server_port = 443;
    f.names = {{"turn.v.example", "sni"}};
    const auto m = match_flow(f, cat(), {});
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(cat().entries()[m[0].entry].id, "v.turn-tls");
    EXPECT_EQ(m[0].evidence, Evidence::Sni);
}

std::vector<EntryVerdict> verdicts(Verdict udp, Verdict turn_udp, Verdict turn_tls) {
    std::vector<EntryVerdict> v(3);
    v[0].verdict = udp;
    v[1].verdict = turn_udp;
    v[2].verdict = turn_tls;
    return v;
}

ProductConclusion conclusion(Verdict udp, Verdict turn_udp, Verdict turn_tls) {
    const auto pcs = conclude_products(cat(), verdicts(udp, turn_udp, turn_tls), {0});
    EXPECT_EQ(pcs.size(), 1u);
    return pcs.empty() ? ProductConclusion{} : pcs[0];
}

TEST(AttribFallback, TheConclusionFollowsTheVendorsOrder) {
    // The first choice got through: ready, whatever else was not seen.
    auto pc = conclusion(Verdict::Observed, Verdict::NotExercised, Verdict::NotExercised);
    EXPECT_EQ(pc.conclusion, "ready");
    // UDP blocked, TURN UDP not seen, TURN/TLS through: the first later step that passed.
    pc = conclusion(Verdict::Blocked, Verdict::NotExercised, Verdict::Observed);
    EXPECT_EQ(pc.conclusion, "works, degraded");
    EXPECT_TRUE(pc.detail.starts_with("fell back to TURN/TLS (UDP media blocked); ")) << pc.detail;
    // UDP never tried, TURN UDP through: degraded too, "not seen".
    pc = conclusion(Verdict::NotExercised, Verdict::Observed, Verdict::Observed);
    EXPECT_EQ(pc.conclusion, "works, degraded");
    EXPECT_TRUE(pc.detail.starts_with("fell back to TURN UDP (UDP media not seen); in use: ")) << pc.detail;
    // Nothing through: broken, no fallback named.
    pc = conclusion(Verdict::Blocked, Verdict::Blocked, Verdict::Blocked);
    EXPECT_EQ(pc.conclusion, "broken");
    EXPECT_EQ(pc.detail.find("fell back"), std::string::npos);
}

}  // namespace
}  // namespace callwall::attrib
