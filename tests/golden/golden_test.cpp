// Golden tests: each line of tests/golden/TESTLIST is `name capture [args] expected`;
// the capture is analysed and a canonical, sorted dump of its flows (no
// wall-clock time, run-independent ids) is compared with the expected file.
// CALLWALL_UPDATE_GOLDEN=1 (tools/update_golden.sh) rewrites the expected files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "golden/run_util.hpp"

namespace callwall::test {
namespace {

struct GoldenCase {
    std::string name, capture, expected;
};

std::vector<GoldenCase> load_testlist() {
    std::vector<GoldenCase> cases;
    std::ifstream in(source_dir() + "/tests/golden/TESTLIST");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        GoldenCase c;
        ss >> c.name >> c.capture >> c.expected;
        if (!c.expected.empty()) cases.push_back(c);
    }
    return cases;
}

// Flows in a canonical order. Times are capture times (from the pcap), which
// are deterministic for generated captures.
constexpr const char* kFlowDump =
    "SELECT transport, client_ip, client_port, server_ip, server_port, initiator_guessed, "
    "printf('%.6f', first_ts), printf('%.6f', last_ts), packets_c2s, bytes_c2s, packets_s2c, bytes_s2c, state, "
    "syn_count, synack_count, later_fragments, icmp_errors, coalesce(icmp_type,''), coalesce(icmp_code,''), "
    "coalesce(icmp_from,''), app, name, name_source FROM flow "
    "ORDER BY first_ts, transport, client_ip, client_port, server_ip, server_port";
constexpr const char* kRunDump =
    "SELECT packets, bytes, truncated_packets, undecoded_packets, orphan_fragments, damaged_files, flows FROM run";
constexpr const char* kIcmpDump =
    "SELECT printf('%.6f', ts), from_ip, to_ip, type, code, coalesce(quoted_src,''), coalesce(quoted_dst,''), "
    "quoted_proto, quoted_sport, quoted_dport, coalesce(flow_id,0) > 0 FROM icmp_error ORDER BY ts, from_ip";

std::string dump(const std::string& db) {
    std::string out = "# run: packets bytes truncated undecoded orphan_fragments damaged_files flows\n";
    for (const auto& r : query_rows(db, kRunDump)) out += r + "\n";
    out += "# flows: transport client cport server sport guessed first last pkts_c2s bytes_c2s pkts_s2c bytes_s2c "
           "state syn synack later_frags icmp_errors icmp_type icmp_code icmp_from app name name_source\n";
    for (const auto& r : query_rows(db, kFlowDump)) out += r + "\n";
    out += "# icmp errors: ts from to type code quoted_src quoted_dst proto sport dport matched\n";
    for (const auto& r : query_rows(db, kIcmpDump)) out += r + "\n";
    return out;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, MatchesExpected) {
    const GoldenCase& c = GetParam();
    TempDb db;
    analyze_files({source_dir() + "/" + c.capture}, db.path());
    const std::string actual = dump(db.path());
    const std::string expected_path = source_dir() + "/tests/golden/" + c.expected;
    if (std::getenv("CALLWALL_UPDATE_GOLDEN")) {
        std::ofstream(expected_path) << actual;
        GTEST_SKIP() << "rewrote " << expected_path;
    }
    const std::string expected = read_file(expected_path);
    ASSERT_FALSE(expected.empty()) << "missing " << expected_path << " (run tools/update_golden.sh " << c.name << ")";
    EXPECT_EQ(actual, expected) << "golden " << c.name << " differs; review and run tools/update_golden.sh "
                                << c.name;
}

INSTANTIATE_TEST_SUITE_P(Captures, Golden, ::testing::ValuesIn(load_testlist()),
                         [](const auto& info) { return info.param.name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

}  // namespace
}  // namespace callwall::test
