// Verdict scenarios: each captures/scenarios/<name>.pcap is analysed and
// attributed against the bundled catalog, and the verdict table (entry,
// verdict, reasons) must equal <name>.expected.tsv, which the scenario's
// author wrote from the scenario design (not from callwall's output).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "callwall/attrib/attrib.hpp"
#include "callwall/catalog/catalog.hpp"
#include "golden/run_util.hpp"

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

const catalog::Catalog& bundled() {
    static const catalog::Catalog c = [] {
        const fs::path dir = catalog::bundled_catalog_dir();
        auto r = catalog::load(std::span<const fs::path>(&dir, 1));
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    return c;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, VerdictsEqualTheExpectedTable) {
    const std::string name = GetParam();
    const fs::path base = fs::path(source_dir()) / "captures" / "scenarios" / name;
    ASSERT_FALSE(bundled().entries().empty());
    TempDb db;
    const int64_t run = analyze_files({base.string() + ".pcap"}, db.path());
    {
        auto s = store::Store::open(db.path());
        attrib::run_attribution(*s, run, bundled());
    }
    std::map<std::string, std::string> actual;
    for (const auto& r : query_rows(db.path(), "SELECT entry_id, verdict || '\t' || reasons FROM verdict")) {
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
        if (it->second == want) ++agree;
        else ADD_FAILURE() << name << ": " << id << " expected [" << want << "] got [" << it->second << "]";
    }
    std::printf("scenario %s: %d/%d requirements agree\n", name.c_str(), agree, rows);
    EXPECT_GT(rows, 0);
}

// Attribution runs again and again on a live run: a second pass over
// unchanged facts rewrites no flow outcome and yields the same tables.
TEST(ScenarioRepeat, SecondAttributionRewritesNothingAndAgrees) {
    const auto names = scenario_names();
    if (names.empty()) GTEST_SKIP() << "no scenario captures";
    ASSERT_FALSE(bundled().entries().empty());
    TempDb db;
    std::vector<std::string> files;
    for (const auto& n : names) files.push_back((fs::path(source_dir()) / "captures" / "scenarios" / n).string() + ".pcap");
    const int64_t run = analyze_files(files, db.path());
    const std::string tables = "SELECT id, outcome FROM flow ORDER BY id";
    const std::string verdicts = "SELECT entry_id, verdict, reasons, flows_observed, flows_blocked FROM verdict ORDER BY 1";
    attrib::RunVerdicts first, second;
    {
        auto s = store::Store::open(db.path());
        first = attrib::run_attribution(*s, run, bundled());
    }
    const auto outcomes = query_rows(db.path(), tables);
    const auto verdict_rows = query_rows(db.path(), verdicts);
    {
        auto s = store::Store::open(db.path());
        second = attrib::run_attribution(*s, run, bundled());
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
    for (const auto& n : names) files.push_back((fs::path(source_dir()) / "captures" / "scenarios" / n).string() + ".pcap");
    const std::string all = "SELECT f.id, f.outcome, f.name, f.app FROM flow f ORDER BY f.id";
    const std::string matches = "SELECT flow_id, entry_id, evidence, counted FROM flow_match ORDER BY 1, 2";
    const std::string verdicts = "SELECT entry_id, verdict, reasons, flows_observed, flows_blocked FROM verdict ORDER BY 1";
    TempDb blank_db, hinted_db;
    pipeline::AnalyzerConfig hinted;
    hinted.outcome_hint = attrib::provisional_outcome;
    const int64_t blank_run = analyze_files(files, blank_db.path());
    const int64_t hinted_run = analyze_files(files, hinted_db.path(), hinted);
    EXPECT_TRUE(query_rows(hinted_db.path(), "SELECT id FROM flow WHERE outcome != '' AND transport IN ('tcp','udp')").size() > 50)
        << "rows are written with an outcome";
    attrib::RunVerdicts blank, hint;
    {
        auto s = store::Store::open(blank_db.path());
        blank = attrib::run_attribution(*s, blank_run, bundled());
    }
    {
        auto s = store::Store::open(hinted_db.path());
        hint = attrib::run_attribution(*s, hinted_run, bundled());
    }
    EXPECT_EQ(blank.outcomes_written, blank.flows);
    EXPECT_EQ(hint.flows, blank.flows);
    EXPECT_LT(hint.outcomes_written * 20, hint.flows) << hint.outcomes_written << " of " << hint.flows << " rewritten";
    for (const auto& q : {all, matches, verdicts}) EXPECT_EQ(query_rows(hinted_db.path(), q), query_rows(blank_db.path(), q)) << q;
}

INSTANTIATE_TEST_SUITE_P(Captures, Scenario, ::testing::ValuesIn(scenario_names()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Scenario);

}  // namespace
}  // namespace callwall::test
