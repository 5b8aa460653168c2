// Golden tests: each line of tests/golden/TESTLIST is `name capture [args] expected`;
// the capture is analysed and a canonical, sorted dump of its flows (no
// wall-clock time, run-independent ids) is compared with the expected file.
// Args: `--outcomes` attributes the run with the bundled catalog and adds
// each flow's outcome, link-layer broadcast flag and roles to the dump.
// CALLWALL_UPDATE_GOLDEN=1 (tools/update_golden.sh) rewrites the expected files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "attrib/attrib.hpp"
#include "attrib/run_attribution.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

struct GoldenCase {
    std::string name, capture, expected;
    bool outcomes = false;  ///< --outcomes
    friend void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<GoldenCase> load_testlist() {
    std::vector<GoldenCase> cases;
    std::ifstream in(source_dir() + "/tests/golden/TESTLIST");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        GoldenCase c;
        std::vector<std::string> rest;
        ss >> c.name >> c.capture;
        for (std::string w; ss >> w;) rest.push_back(w);
        if (rest.empty()) continue;
        c.expected = rest.back();
        rest.pop_back();
        for (const auto& a : rest) {
            if (a == "--outcomes")
                c.outcomes = true;
            else
                ADD_FAILURE() << "TESTLIST " << c.name << ": unknown argument " << a;
        }
        cases.push_back(c);
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
// Attribution's view of each flow (--outcomes): the outcome column, the
// link-layer broadcast flag and the sides' roles (flow::role_bit).
constexpr const char* kOutcomeDump =
    "SELECT client_ip || ':' || client_port || '>' || server_ip || ':' || server_port, outcome, link_broadcast, roles "
    "FROM flow WHERE transport IN ('tcp','udp') ORDER BY first_ts, client_ip, client_port, server_ip, server_port";
constexpr const char* kRunDump =
    "SELECT packets, bytes, truncated_packets, undecoded_packets, orphan_fragments, damaged_files, flows FROM run";
constexpr const char* kIcmpDump =
    "SELECT printf('%.6f', ts), from_ip, to_ip, type, code, coalesce(quoted_src,''), coalesce(quoted_dst,''), "
    "quoted_proto, quoted_sport, quoted_dport, coalesce(flow_id,0) > 0 FROM icmp_error ORDER BY ts, from_ip";

// Decoder facts, joined to their flow's 5-tuple so the dump does not depend on ids.
constexpr const char* kFlowOf =
    "(SELECT f.client_ip || ':' || f.client_port || '>' || f.server_ip || ':' || f.server_port "
    "FROM flow f WHERE f.run_id = x.run_id AND f.id = x.flow_id)";
const std::pair<std::string, std::string> kFactDumps[] = {
    {"run notes", "SELECT rtrim(notes, char(10)) FROM run WHERE notes != ''"},
    {"flow facts: flow stun_req stun_answered stun_err stun_retx stun_last_error channel_data rtp rtcp dtls_hs tls_server_hello tls_alert",
     "SELECT client_ip || ':' || client_port || '>' || server_ip || ':' || server_port, stun_requests, stun_answered, stun_errors, "
     "stun_retransmissions, coalesce(stun_last_error,''), channel_data, rtp_packets, rtcp_packets, dtls_handshake, "
     "tls_server_hello, coalesce(tls_alert,'') FROM flow WHERE app != '' ORDER BY first_ts, client_ip, client_port"},
    {"flow names: flow name source",
     std::string("SELECT ") + kFlowOf + ", name, source FROM flow_name x ORDER BY 1, 2, 3"},
    {"dns queries: flow ts qname qtype answered rcode answers",
     std::string("SELECT ") + kFlowOf +
         ", printf('%.6f', ts), qname, qtype, answered, coalesce(rcode,''), answers FROM dns_query x ORDER BY ts, qname"},
    {"dns names: qname queries answered resolved failed last_failure first last",
     "SELECT qname, queries, answered, resolved, failed, coalesce(last_failure,''), printf('%.6f', first_ts), "
     "printf('%.6f', last_ts) FROM dns_name ORDER BY qname"},
    {"dns answers: flow ts client qname rrtype answer ttl",
     std::string("SELECT ") + kFlowOf +
         ", printf('%.6f', ts), client_ip, qname, rrtype, answer, ttl FROM dns_answer x ORDER BY ts, qname, rrtype, answer"},
    {"tls/quic hellos: flow ts protocol sni alpn version ech server_hello server_version alert",
     std::string("SELECT ") + kFlowOf +
         ", printf('%.6f', ts), protocol, sni, alpn, version, ech, server_hello, coalesce(server_version,''), coalesce(alert,'') FROM tls_hello x ORDER BY ts"},
    {"stun messages: flow ts direction method class transaction answered error carried",
     std::string("SELECT ") + kFlowOf +
         ", printf('%.6f', ts), direction, method, class, transaction_id, coalesce(answered,''), coalesce(error_code,''), carried FROM stun_message x ORDER BY ts, transaction_id, class"},
    {"rtp streams: flow direction ssrc pt packets lost reordered dup jitter max_jitter clock via_turn",
     std::string("SELECT ") + kFlowOf +
         ", direction, ssrc, payload_type, packets, lost, reordered, duplicates, coalesce(printf('%.3f', jitter_ms),''), coalesce(printf('%.3f', max_jitter_ms),''), clock_rate, via_turn FROM rtp_stream x ORDER BY 1, direction, ssrc"},
};

std::string dump(const std::string& db, const pipeline::DissectStats& ds, bool outcomes) {
    std::string out = "# run: packets bytes truncated undecoded orphan_fragments damaged_files flows\n";
    for (const auto& r : query_rows(db, kRunDump)) out += r + "\n";
    // Stream and buffer counters (they reach run.notes through the CLI);
    // shown only when something happened, so most captures lack the section.
    if (ds.tcp_held_segments || ds.tcp_gaps || ds.tcp_resyncs || ds.proxy_tunnels || ds.buffers_reclaimed) {
        out +=
            "# stream counters: tcp_held_segments tcp_gaps tcp_gap_bytes tcp_resyncs proxy_tunnels "
            "buffers_reclaimed pool_exhausted\n";
        const uint64_t v[] = {ds.tcp_held_segments, ds.tcp_gaps,          ds.tcp_gap_bytes, ds.tcp_resyncs,
                              ds.proxy_tunnels,     ds.buffers_reclaimed, ds.pool_exhausted};
        for (size_t i = 0; i < std::size(v); ++i) out += (i ? "\t" : "") + std::to_string(v[i]);
        out += "\n";
    }
    out +=
        "# flows: transport client cport server sport guessed first last pkts_c2s bytes_c2s pkts_s2c bytes_s2c "
        "state syn synack later_frags icmp_errors icmp_type icmp_code icmp_from app name name_source\n";
    for (const auto& r : query_rows(db, kFlowDump)) out += r + "\n";
    out += "# icmp errors: ts from to type code quoted_src quoted_dst proto sport dport matched\n";
    for (const auto& r : query_rows(db, kIcmpDump)) out += r + "\n";
    for (const auto& [title, sql] : kFactDumps) {
        const auto rows = query_rows(db, sql);
        if (rows.empty()) continue;
        out += std::string("# ") + title + "\n";
        for (const auto& r : rows) out += r + "\n";
    }
    if (outcomes) {
        out += "# flow outcomes: flow outcome link_broadcast roles\n";
        for (const auto& r : query_rows(db, kOutcomeDump)) out += r + "\n";
    }
    return out;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, MatchesExpected) {
    const GoldenCase& c = GetParam();
    TempDb db;
    pipeline::DissectStats ds;
    const int64_t run = analyze_files({source_dir() + "/" + c.capture}, db.path(), {}, &ds);
    if (c.outcomes) {
        auto s = store::Store::open(db.path());
        (void)attrib::run_attribution(*s, run, bundled_catalog());
    }
    const std::string actual = dump(db.path(), ds, c.outcomes);
    const std::string expected_path = source_dir() + "/tests/golden/" + c.expected;
    if (std::getenv("CALLWALL_UPDATE_GOLDEN")) {
        std::ofstream(expected_path) << actual;
        GTEST_SKIP() << "rewrote " << expected_path;
    }
    const std::string expected = read_file(expected_path);
    ASSERT_FALSE(expected.empty()) << "missing " << expected_path << " (run tools/update_golden.sh " << c.name << ")";
    EXPECT_EQ(actual, expected) << "golden " << c.name << " differs; review and run tools/update_golden.sh " << c.name;
}

INSTANTIATE_TEST_SUITE_P(Captures, Golden, ::testing::ValuesIn(load_testlist()),
                         [](const auto& info) { return info.param.name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

}  // namespace
}  // namespace callwall::test
