// Verdict scenarios: each captures/scenarios/<name>.pcap is analysed and
// attributed against the bundled catalog, and the verdict table (entry,
// verdict, reasons) must equal <name>.expected.tsv, which the scenario's
// author wrote from the scenario design (not from callwall's output).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "attrib/attrib.hpp"
#include "attrib/flow_row.hpp"
#include "attrib/run_attribution.hpp"
#include "catalog/catalog.hpp"
#include "report/report.hpp"
#include "run/row_hook.hpp"
#include "golden/run_util.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> scenario_names() {
    std::vector<std::string> names;
    const fs::path dir = fs::path(source_dir()) / "captures" / "scenarios";
    if (!fs::is_directory(dir)) return names;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".pcap" && fs::exists(fs::path(e.path()).replace_extension(".expected.tsv")))
            names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, VerdictsEqualTheExpectedTable) {
    const std::string name = GetParam();
    const fs::path base = fs::path(source_dir()) / "captures" / "scenarios" / name;
    ASSERT_FALSE(bundled_catalog().entries().empty());
    TempDb db;
    const int64_t run = analyze_files({base.string() + ".pcap"}, db.path());
    {
        auto s = store::Store::open(db.path());
        attrib::run_attribution(*s, run, bundled_catalog());
    }
    std::map<std::string, std::string> actual;
    for (const auto& r :
         query_rows(db.path(), "SELECT entry_id, verdict || '\t' || " + sql_list("reasons") + " FROM verdict")) {
        const auto tab = r.find('\t');
        actual[r.substr(0, tab)] = r.substr(tab + 1);
    }
    std::ifstream in(base.string() + ".expected.tsv");
    std::string line;
    int rows = 0, agree = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ss(line);
        std::string id, verdict, reasons;
        std::getline(ss, id, '\t');
        std::getline(ss, verdict, '\t');
        std::getline(ss, reasons, '\t');
        ++rows;
        const std::string want = verdict + "\t" + reasons;
        auto it = actual.find(id);
        if (it == actual.end()) {
            ADD_FAILURE() << name << ": entry " << id << " is not in the catalog";
            continue;
        }
        if (it->second == want)
            ++agree;
        else
            ADD_FAILURE() << name << ": " << id << " expected [" << want << "] got [" << it->second << "]";
    }
    std::printf("scenario %s: %d/%d requirements agree\n", name.c_str(), agree, rows);
    EXPECT_GT(rows, 0);
}

// Attribution runs again and again on a live run: a second pass over
// unchanged facts rewrites no flow outcome and yields the same tables.
TEST(ScenarioRepeat, SecondAttributionRewritesNothingAndAgrees) {
    const auto names = scenario_names();
    if (names.empty()) GTEST_SKIP() << "no scenario captures";
    ASSERT_FALSE(bundled_catalog().entries().empty());
    TempDb db;
    std::vector<std::string> files;
    for (const auto& n : names)
        files.push_back((fs::path(source_dir()) / "captures" / "scenarios" / n).string() + ".pcap");
    const int64_t run = analyze_files(files, db.path());
    const std::string tables = "SELECT id, outcome FROM flow ORDER BY id";
    const std::string verdicts =
        "SELECT entry_id, verdict, reasons, flows_observed, flows_blocked FROM verdict ORDER BY 1";
    attrib::RunVerdicts first, second;
    {
        auto s = store::Store::open(db.path());
        first = attrib::run_attribution(*s, run, bundled_catalog());
    }
    const auto outcomes = query_rows(db.path(), tables);
    const auto verdict_rows = query_rows(db.path(), verdicts);
    {
        auto s = store::Store::open(db.path());
        second = attrib::run_attribution(*s, run, bundled_catalog());
    }
    EXPECT_GT(first.flows, 50u);
    EXPECT_EQ(first.outcomes_written, first.flows) << "every flow gets its first outcome";
    EXPECT_EQ(second.flows, first.flows);
    EXPECT_EQ(second.outcomes_written, 0u);
    EXPECT_EQ(query_rows(db.path(), tables), outcomes);
    EXPECT_EQ(query_rows(db.path(), verdicts), verdict_rows);
    EXPECT_FALSE(verdict_rows.empty());
}

// A flow's row is written with the outcome its own facts give (the CLI's
// outcome hint), so the first attribution pass rewrites only the rows whose
// outcome the rest of the capture changed, and ends with the same tables as
// when every row starts blank.
TEST(ScenarioRepeat, OutcomeHintSparesRewritesAndAgrees) {
    const auto names = scenario_names();
    if (names.empty()) GTEST_SKIP() << "no scenario captures";
    std::vector<std::string> files;
    for (const auto& n : names)
        files.push_back((fs::path(source_dir()) / "captures" / "scenarios" / n).string() + ".pcap");
    const std::string all = "SELECT f.id, f.outcome, f.name, f.app FROM flow f ORDER BY f.id";
    const std::string matches = "SELECT flow_id, entry_id, evidence, counted FROM flow_match ORDER BY 1, 2";
    const std::string verdicts =
        "SELECT entry_id, verdict, reasons, flows_observed, flows_blocked FROM verdict ORDER BY 1";
    TempDb blank_db, hinted_db;
    run::RowHook hint_hook(attrib::provisional_outcome);
    const int64_t blank_run = analyze_files(files, blank_db.path());
    const int64_t hinted_run = analyze_files(files, hinted_db.path(), {}, nullptr, {&hint_hook});
    EXPECT_TRUE(
        query_rows(hinted_db.path(), "SELECT id FROM flow WHERE outcome != '' AND transport IN ('tcp','udp')").size() >
        50)
        << "rows are written with an outcome";
    attrib::RunVerdicts blank, hint;
    {
        auto s = store::Store::open(blank_db.path());
        blank = attrib::run_attribution(*s, blank_run, bundled_catalog());
    }
    {
        auto s = store::Store::open(hinted_db.path());
        hint = attrib::run_attribution(*s, hinted_run, bundled_catalog());
    }
    EXPECT_EQ(blank.outcomes_written, blank.flows);
    EXPECT_EQ(hint.flows, blank.flows);
    EXPECT_LT(hint.outcomes_written * 20, hint.flows) << hint.outcomes_written << " of " << hint.flows << " rewritten";
    for (const auto& q : {all, matches, verdicts})
        EXPECT_EQ(query_rows(hinted_db.path(), q), query_rows(blank_db.path(), q)) << q;
}

// ---- Field truth: targeted assertions a verdict table hides ----

// Analyses and attributes one scenario capture; returns the database path's run.
int64_t attributed(const TempDb& db, const std::string& name, const pipeline::AnalyzerConfig& cfg = {}) {
    const fs::path pcap = fs::path(source_dir()) / "captures" / "scenarios" / (name + ".pcap");
    const int64_t run = analyze_files({pcap.string()}, db.path(), cfg);
    auto s = store::Store::open(db.path());
    attrib::run_attribution(*s, run, bundled_catalog());
    return run;
}

// DHCP, DHCPv6, mDNS and SSDP expect no answer from their group address:
// never "blocked".
TEST(FieldTruth, MulticastAndBroadcastAreNeverBlocked) {
    TempDb db;
    attributed(db, "field_p2p_abandoned");
    const auto groups = query_rows(db.path(),
                                   "SELECT server_ip, outcome FROM flow WHERE server_ip IN "
                                   "('255.255.255.255','224.0.0.251','239.255.255.250','ff02::1:2') ORDER BY 1");
    ASSERT_EQ(groups.size(), 4u) << "DHCP, DHCPv6, mDNS, SSDP flows";
    for (const auto& r : groups) EXPECT_EQ(r.find("blocked"), std::string::npos) << r;
}

// Checks sent once while another pair of the call succeeded are their own
// outcome, counted in the verdict's words, and decide nothing.
TEST(FieldTruth, AbandonedIceChecksAreShownNotBlocked) {
    TempDb db;
    attributed(db, "field_p2p_abandoned");
    EXPECT_EQ(
        query_rows(db.path(), "SELECT server_ip || ':' || server_port FROM flow WHERE outcome='abandoned' ORDER BY 1"),
        (std::vector<std::string>{"192.168.7.20:50001", "203.0.113.78:53300"}));
    const std::string p2p = " FROM verdict WHERE entry_id='sendbird-calls.p2p-stun.udp'";
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict, ports_observed, ports_blocked, flows_blocked" + p2p),
              std::vector<std::string>{"observed\t[53210]\t[]\t0"});
    const auto why = query_rows(db.path(), "SELECT why" + p2p);
    ASSERT_EQ(why.size(), 1u);
    EXPECT_NE(why[0].find("2 abandoned ICE check(s) not counted"), std::string::npos) << why[0];
}

// A port where something got through is never also listed as blocked
// (database and CSV), whatever failed on it too.
TEST(FieldTruth, NoPortIsBothObservedAndBlocked) {
    TempDb db;
    std::vector<std::string> files;
    for (const auto& n : scenario_names())
        files.push_back((fs::path(source_dir()) / "captures" / "scenarios" / n).string() + ".pcap");
    const int64_t run = analyze_files(files, db.path());
    {
        auto s = store::Store::open(db.path());
        attrib::run_attribution(*s, run, bundled_catalog());
    }
    int both_kinds = 0;
    for (const auto& r : query_rows(db.path(), "SELECT entry_id, " + sql_list("ports_observed") + ", " +
                                                   sql_list("ports_blocked") + " FROM verdict")) {
        std::istringstream ss(r);
        std::string id, obs, blk;
        std::getline(ss, id, '\t');
        std::getline(ss, obs, '\t');
        std::getline(ss, blk, '\t');
        std::set<std::string> seen;
        std::istringstream o(obs), b(blk);
        for (std::string p; std::getline(o, p, ',');) seen.insert(p);
        for (std::string p; std::getline(b, p, ',');)
            EXPECT_FALSE(seen.count(p)) << id << ": port " << p << " in both lists";
        both_kinds += !obs.empty() && !blk.empty();
    }
    EXPECT_GT(both_kinds, 0) << "some entry is partial (the check above compared something)";
}

// A leg whose far end spoke first is judged from the inside host: at the
// far end's port, by the inside host's own (unanswered) checks.
TEST(FieldTruth, RemoteFirstLegIsJudgedFromTheInside) {
    TempDb db;
    attributed(db, "field_p2p_remote_first");
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT verdict, ports_observed, ports_blocked FROM verdict "
                         "WHERE entry_id='sendbird-calls.p2p-stun.udp'"),
              std::vector<std::string>{"blocked\t[]\t[61000]"});
    EXPECT_EQ(query_rows(db.path(), "SELECT outcome FROM flow WHERE client_port=61000 OR server_port=61000"),
              std::vector<std::string>{"blocked:stun-timeout"});
}

// The same leg when the far end's checks come through its relay in the same
// private space as the inside host: the addresses cannot say which end is
// inside, the side whose own checks went unanswered is judged. Both legs
// blocked, so the entry is blocked, not partial.
TEST(FieldTruth, RelayLegWhoseFarEndSpokeFirstIsBlocked) {
    TempDb db;
    attributed(db, "field_p2p_relay_remote_first");
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT server_port, outcome FROM flow WHERE transport='udp' AND server_port != 53 "
                         "AND client_port != 53 ORDER BY first_ts"),
              (std::vector<std::string>{"50300\tblocked:stun-timeout", "61001\tblocked:stun-timeout"}))
        << "the relay leg is recorded from the relay (its check came first)";
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT verdict, ports_observed, ports_blocked FROM verdict "
                         "WHERE entry_id='sendbird-calls.p2p-stun.udp'"),
              std::vector<std::string>{"blocked\t[]\t[61001,61500]"});
}

// An inbound entry counts only traffic from the vendor's own names: a TURN
// peer of the vendor's relay answering to a local port in the range, and an
// unnamed peer sending to one, leave it not exercised, while the TURN peer
// leg still counts for the outbound entries at the peer's port.
TEST(FieldTruth, InboundEntryOnlyFromTheVendorsNames) {
    TempDb db;
    attributed(db, "field_inbound_not_vendor");
    const std::string downstream = "'agora-2018.recording.udp-downstream'";
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id=" + downstream),
              std::vector<std::string>{"not_exercised"});
    EXPECT_TRUE(
        query_rows(db.path(), "SELECT flow_id FROM flow_match WHERE counted=1 AND entry_id=" + downstream).empty());
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT f.client_port, m.evidence, m.counted FROM flow_match m JOIN flow f ON "
                         "f.run_id=m.run_id AND f.id=m.flow_id WHERE m.entry_id='agora-2020.rtc-web.udp-pre-2.9'"),
              (std::vector<std::string>{"40300\tturn-peer\t1", "61000\tport-only\t0"}))
        << "the TURN peer leg counts at the peer's port; the unnamed peer's port is only a hint";
}

// A catalog gap is named by the vendor's own name that led to it, not by a
// CNAME target the same answer carried.
TEST(FieldTruth, CatalogGapIsNamedByTheVendorsName) {
    TempDb db;
    attributed(db, "field_third_party_and_cname");
    EXPECT_EQ(query_rows(db.path(), "SELECT vendor, name FROM unmatched_flow"),
              std::vector<std::string>{"Agora\tmedia-eu.agora.io"});
}

// TLS through SOCKS5, SOCKS4a and HTTP CONNECT proxies (the tunnels of
// captures/field/tls_proxy_preambles.pcap) counts for the requirement at the
// port asked of the proxy (443), not at the proxy's own port, and is no
// catalog gap.
TEST(FieldTruth, ProxiedTlsCountsAtTheTargetPort) {
    TempDb db;
    const int64_t run = analyze_files({source_dir() + "/captures/field/tls_proxy_preambles.pcap"}, db.path());
    {
        auto s = store::Store::open(db.path());
        attrib::run_attribution(*s, run, bundled_catalog());
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT DISTINCT proxy_port FROM flow ORDER BY 1"),
              std::vector<std::string>{"443"});
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT verdict, ports_observed, flows_observed FROM verdict "
                         "WHERE entry_id='sendbird-calls.signal.tcp'"),
              std::vector<std::string>{"observed\t[443]\t3"});
    EXPECT_TRUE(query_rows(db.path(), "SELECT * FROM unmatched_flow").empty());
}

// An evicted flow's answer that comes back as a flow of its own must not
// turn the request into "blocked": the split is unknowable, and the run says
// how many flows the full table evicted.
TEST(FieldTruth, FlowTableOverflowIsNeverABlock) {
    TempDb db;
    pipeline::AnalyzerConfig small;
    small.flows.max_flows = 4;
    attributed(db, "field_table_overflow", small);
    EXPECT_GT(std::stoll(query_rows(db.path(), "SELECT flows_evicted_full FROM run").at(0)), 0);
    const auto turn =
        query_rows(db.path(),
                   "SELECT packets_c2s, packets_s2c, outcome FROM flow WHERE server_port=443 AND transport='udp' "
                   "ORDER BY id");
    ASSERT_EQ(turn.size(), 2u) << "the Allocate and its answer were split into two flows";
    EXPECT_EQ(turn[0], "1\t0\tinconclusive");
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict || ' ' || reasons FROM verdict WHERE entry_id='whereby.turn.udp'"),
              std::vector<std::string>{"observed []"});
    EXPECT_TRUE(query_rows(db.path(), "SELECT id FROM flow WHERE outcome LIKE 'blocked%'").empty());
}

// What a run lost (flows evicted early, bounds hit, stream gaps) is said in
// the text and JSON reports, not only in the HTML and the run table.
TEST(FieldTruth, ReportsSayWhatTheRunLost) {
    TempDb db;
    pipeline::AnalyzerConfig small;
    small.flows.max_flows = 4;
    attributed(db, "field_table_overflow", small);
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
        sqlite3_exec(raw,
                     "UPDATE run SET notes='bounds: 7 TLS/QUIC handshake buffers reclaimed\n"
                     "tcp: 2 stream gaps never filled (300 bytes not decoded)\n'",
                     nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    const std::string evicted = query_rows(db.path(), "SELECT flows_evicted_full FROM run").at(0);
    const auto data = report::load(db.path(), report::ReportOptions{});
    const std::string text = report::render_text(data);
    EXPECT_NE(text.find("lost: " + evicted + " flows written out early because the flow table was full"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("run notes:\n  bounds: 7 TLS/QUIC handshake buffers reclaimed\n  tcp: 2 stream gaps"),
              std::string::npos)
        << text;
    const std::string json = report::render_json(data);
    EXPECT_NE(json.find("\"flows_evicted_full\":" + evicted + ","), std::string::npos) << json.substr(0, 600);
    EXPECT_NE(json.find("\"notes\":[\"bounds: 7 TLS/QUIC handshake buffers reclaimed\","
                        "\"tcp: 2 stream gaps never filled (300 bytes not decoded)\"]"),
              std::string::npos)
        << json.substr(0, 600);
}

// Reasons read the same in the database and the CSV report (comma-joined).
TEST(FieldTruth, ReasonsAreJoinedAlikeInTheDatabaseAndCsv) {
    TempDb db;
    attributed(db, "agora_2018_gaming");
    EXPECT_EQ(query_rows(db.path(), "SELECT reasons FROM verdict WHERE entry_id='agora-2018.gaming.udp'"),
              std::vector<std::string>{"[\"icmp-3-3\",\"no-answer\"]"});
    report::ReportOptions all;
    all.all_entries = true;
    const std::string csv = report::render_csv(report::load(db.path(), all));
    const size_t row = csv.find(",agora-2018.gaming.udp,");
    ASSERT_NE(row, std::string::npos) << csv.substr(0, 400);
    const std::string line = csv.substr(row, csv.find('\n', row) - row);
    EXPECT_NE(line.find(",blocked,\"icmp-3-3,no-answer\","), std::string::npos) << line;
}

// The text report fits 100 columns (wrapped, not cut), whatever it holds;
// only the first line, which names the input files, may run longer.
TEST(FieldTruth, TextReportFitsOneHundredColumns) {
    int lines = 0;
    for (const auto& name : scenario_names()) {
        TempDb db;
        attributed(db, name);
        report::ReportOptions all;
        all.all_entries = true;
        const std::string text = report::render_text(report::load(db.path(), all));
        std::istringstream in(text);
        std::string line;
        std::getline(in, line);  // "run N (...): SOURCE"
        while (std::getline(in, line)) {
            size_t columns = 0;
            for (unsigned char c : line) columns += (c & 0xC0) != 0x80;
            EXPECT_LE(columns, 100u) << name << ": " << line;
            EXPECT_TRUE(line.empty() || line.back() != ' ') << name << ": trailing blanks: '" << line << "'";
            ++lines;
        }
    }
    EXPECT_GT(lines, 300);
}

// Each input of a run is kept apart: a path holding a comma stays one path.
TEST(FieldTruth, RunSourcesKeepEachPathWhole) {
    TempDb db;
    {
        auto s = store::Store::open(db.path());
        store::RunInfo info;
        info.kind = "analyze";
        info.source = "site a,b.pcap,z.pcap";
        info.sources = {"site a,b.pcap", "z.pcap"};
        info.command_line = "test";
        const int64_t run = s->begin_run(info);
        s->update_run(run, store::RunTotals{}, store::RunStatus::Completed, 2.0);
        s->flush();
    }
    const std::string json = report::render_json(report::load(db.path(), report::ReportOptions{}));
    EXPECT_NE(json.find("\"sources\":[\"site a,b.pcap\",\"z.pcap\"]"), std::string::npos) << json.substr(0, 400);
    // A run written without run_source rows reads as its one joined text.
    TempDb old;
    {
        auto s = store::Store::open(old.path());
        const int64_t run = s->begin_run(store::RunInfo{"analyze", "a.pcap", "test", "", 1.0});
        s->update_run(run, store::RunTotals{}, store::RunStatus::Completed, 2.0);
        s->flush();
    }
    EXPECT_NE(report::render_json(report::load(old.path(), report::ReportOptions{})).find("\"sources\":[\"a.pcap\"]"),
              std::string::npos);
}

// The text report's first line holds every input file, however many.
TEST(FieldTruth, TextHeaderIsNeverCut) {
    TempDb db;
    attributed(db, "field_p2p_abandoned");
    const std::string source(3000, 'x');
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
        sqlite3_exec(raw, ("UPDATE run SET source='" + source + "'").c_str(), nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    const std::string text = report::render_text(report::load(db.path(), report::ReportOptions{}));
    EXPECT_EQ(text.substr(0, text.find('\n')), "run 1 (analyze, completed): " + source);
}

INSTANTIATE_TEST_SUITE_P(Captures, Scenario, ::testing::ValuesIn(scenario_names()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Scenario);

}  // namespace
}  // namespace callwall::test
