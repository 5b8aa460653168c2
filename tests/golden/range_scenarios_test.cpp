// Captures of a vendor that publishes address ranges (catalog schema 2):
// each captures/ranges/<name>.pcap is analysed and attributed against the
// tests' own Teams-like catalog (tests/data/catalog_ranges), and the verdict
// table and product conclusions must equal <name>.expected.tsv, written from
// the scenario's design (tools/gen_range_scenarios.py), not from callwall.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "attrib/run_attribution.hpp"
#include "attrib/attrib.hpp"
#include "catalog/catalog.hpp"
#include "golden/run_util.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

const catalog::Catalog& teams_like() {
    static const catalog::Catalog c = [] {
        const std::vector<fs::path> dirs{fs::path(source_dir()) / "tests" / "data" / "catalog_ranges"};
        catalog::LoadResult r = catalog::load(dirs);
        for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    return c;
}

// Analyses and attributes one capture; returns the database's path holder.
struct RangeRun {
    TempDb db;
    int64_t run = 0;
};

std::unique_ptr<RangeRun> attribute(const std::string& name) {
    auto a = std::make_unique<RangeRun>();
    const fs::path pcap = fs::path(source_dir()) / "captures" / "ranges" / (name + ".pcap");
    a->run = analyze_files({pcap.string()}, a->db.path());
    auto s = store::Store::open(a->db.path());
    attrib::run_attribution(*s, a->run, teams_like());
    return a;
}

class ScenarioRanges : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioRanges, VerdictsAndConclusionsEqualTheExpectedTable) {
    const std::string name = GetParam();
    ASSERT_EQ(teams_like().entries().size(), 2u);
    const auto a = attribute(name);
    std::map<std::string, std::string> verdicts;
    for (const auto& r :
         query_rows(a->db.path(), "SELECT entry_id, verdict || '\t' || " + sql_list("reasons") + " FROM verdict")) {
        const auto tab = r.find('\t');
        verdicts[r.substr(0, tab)] = r.substr(tab + 1);
    }
    std::map<std::string, std::pair<std::string, std::string>> products;
    for (const auto& r : query_rows(a->db.path(), "SELECT product, conclusion, detail FROM product_verdict")) {
        std::istringstream ss(r);
        std::string product, conclusion, detail;
        std::getline(ss, product, '\t');
        std::getline(ss, conclusion, '\t');
        std::getline(ss, detail);
        products[product] = {conclusion, detail};
    }
    std::ifstream in((fs::path(source_dir()) / "captures" / "ranges" / (name + ".expected.tsv")).string());
    ASSERT_TRUE(in) << name;
    int rows = 0;
    for (std::string line; std::getline(in, line);) {
        std::istringstream ss(line);
        std::string first, second, third, fourth;
        std::getline(ss, first, '\t');
        std::getline(ss, second, '\t');
        std::getline(ss, third, '\t');
        std::getline(ss, fourth);
        ++rows;
        if (first == "#product") {
            const auto it = products.find(second);
            ASSERT_NE(it, products.end()) << name << ": no conclusion for " << second;
            EXPECT_EQ(it->second.first, third) << name << ": " << it->second.second;
            EXPECT_TRUE(it->second.second.starts_with(fourth)) << name << ": " << it->second.second;
            continue;
        }
        const auto it = verdicts.find(first);
        ASSERT_NE(it, verdicts.end()) << name << ": entry " << first << " has no verdict";
        EXPECT_EQ(it->second, second + "\t" + third) << name << ": " << first;
    }
    EXPECT_GT(rows, 2);
}

INSTANTIATE_TEST_SUITE_P(Captures, ScenarioRanges, ::testing::Values("ranges_fallback_turn_tls", "ranges_udp_media"));

// The media flows carry no name: they are the entry's by their address,
// with evidence kind `address` (decisive, below a name); the TLS flow is
// the Allow entry's by its SNI although its address is in that entry's
// range too (the stronger evidence wins).
TEST(ScenarioRangesEvidence, AddressEvidenceForUnnamedFlowsAndSniWins) {
    const auto a = attribute("ranges_fallback_turn_tls");
    const auto rows = query_rows(a->db.path(),
                                 "SELECT f.server_ip, m.entry_id, m.evidence, m.confidence, m.name, m.counted "
                                 "FROM flow_match m JOIN flow f ON f.run_id = m.run_id AND f.id = m.flow_id "
                                 "WHERE f.transport IN ('tcp', 'udp') AND f.server_port != 53 ORDER BY 1");
    EXPECT_EQ(rows, (std::vector<std::string>{
                        "13.107.64.20\tteams-like.media.optimize.udp\taddress\t0.65\t13.107.64.20\t1",
                        "52.112.0.5\tteams-like.media.optimize.udp\taddress\t0.65\t52.112.0.5\t1",
                        "52.113.7.9\tteams-like.media.allow.tcp\tsni\t0.95\trelay.teams-like.invalid\t1",
                    }));
    // The store lists the names and then the ranges of an entry.
    EXPECT_EQ(query_rows(a->db.path(), "SELECT destinations FROM catalog_entry WHERE entry_id = '" +
                                           std::string("teams-like.media.allow.tcp") + "'"),
              (std::vector<std::string>{"*.teams-like.invalid 13.107.64.0/18 52.112.0.0/14 52.120.0.0/14"}));
}

// A flow from outside the vendor's client source ports is not the entry's,
// and, to the vendor's published address, it is a catalog gap named by
// the address (neither a block nor a silent drop from the tables).
TEST(ScenarioRangesEvidence, SourcePortsConstrainAndAnUnexplainedVendorAddressIsAGap) {
    const auto a = attribute("ranges_udp_media");
    EXPECT_EQ(query_rows(a->db.path(),
                         "SELECT f.client_port, m.evidence FROM flow_match m JOIN flow f ON f.run_id = m.run_id AND "
                         "f.id = m.flow_id WHERE m.entry_id = 'teams-like.media.optimize.udp' ORDER BY 1"),
              (std::vector<std::string>{"50020\taddress", "50030\taddress"}));
    EXPECT_EQ(query_rows(a->db.path(),
                         "SELECT f.client_port, u.vendor, u.name FROM unmatched_flow u JOIN flow f ON "
                         "f.run_id = u.run_id AND f.id = u.flow_id"),
              (std::vector<std::string>{"61000\tTeams Like\t52.112.0.9"}));
}

}  // namespace
}  // namespace callwall::test
