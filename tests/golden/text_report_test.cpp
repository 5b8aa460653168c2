// Golden text reports: what an admin reads after `callwall analyze` of the
// bundled scenarios, of real Teams and Meet calls (../shared/captures/public;
// skipped when ../shared is absent) and of a lab capture, each against
// tests/golden/expected/text/NAME.txt. The binary analyses with the whole
// bundled catalog, as a user runs it; the report is read back from its
// database. CALLWALL_UPDATE_GOLDEN=1 (tools/update_golden.sh) rewrites the
// expected files: review their diff as an admin would read the report.
//
// Each golden is also held to the layout's promises: every line but the
// first (which names the input files) fits 100 columns, and no line break
// falls inside a word, an entry id, an address or a name of the report's data.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "golden/run_util.hpp"
#include "report/report.hpp"
#include "report/text_parts.hpp"
#include "robustness/robustness_util.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

struct TextGoldenCase {
    std::string name;
    std::vector<std::string> captures;  ///< relative to the repository, or to ../shared ("shared:" prefix)
    bool verbose = false, all = false;
};

std::vector<TextGoldenCase> text_golden_cases() {
    std::vector<TextGoldenCase> cases;
    const fs::path dir = fs::path(source_dir()) / "captures" / "scenarios";
    if (fs::is_directory(dir))
        for (const auto& p : captures_in(dir.string()))
            cases.push_back({"scenario_" + p.stem().string(), {"captures/scenarios/" + p.filename().string()}});
    cases.push_back({"scenario_whereby_verbose", {"captures/scenarios/whereby.pcap"}, true});
    cases.push_back({"scenario_whereby_all", {"captures/scenarios/whereby.pcap"}, false, true});
    cases.push_back({"teams_call", {"shared:ndpi__teams.pcap", "shared:ndpi__stun_msteams_unidir.pcapng"}});
    cases.push_back(
        {"teams_call_verbose", {"shared:ndpi__teams.pcap", "shared:ndpi__stun_msteams_unidir.pcapng"}, true});
    cases.push_back({"meet_call", {"shared:ndpi__google_meet.pcapng", "shared:ndpi__stun_google_meet.pcapng"}});
    cases.push_back({"lab_corporate", {"captures/lab/corporate/client.pcap"}});
    return cases;
}

// Where a path of the report's header is spelled the same in every checkout.
std::string portable_paths(std::string text) {
    for (const auto& [from, to] : {std::pair<std::string, std::string>{shared_dir() + "/", "../shared/"},
                                   std::pair<std::string, std::string>{source_dir() + "/", ""}}) {
        if (from.size() <= 1) continue;
        for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
            text.replace(at, from.size(), to);
    }
    return text;
}

std::vector<std::string> blank_split(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// A token without the punctuation that may lead or end it in a sentence.
std::string unpunctuated(std::string t) {
    const std::string lead = "([{\"'", tail = ",;)]}.\"'";
    while (!t.empty() && lead.find(t.front()) != std::string::npos) t.erase(0, 1);
    while (!t.empty() && tail.find(t.back()) != std::string::npos) t.pop_back();
    return t;
}

// Every prefix of the words, ids, addresses and names a report holds (a
// whole one with "\n" after it): a line break inside one of them leaves a
// prefix at a line's end whose next line starts with the rest.
std::set<std::string> report_token_prefixes(const report::ReportData& d) {
    std::vector<std::string> tokens;
    const auto add = [&](const std::string& s) {
        for (const auto& w : blank_split(s)) tokens.push_back(unpunctuated(w));
    };
    for (const auto& v : d.verdicts) {
        for (const auto* s :
             {&v.entry_id, &v.vendor, &v.edition, &v.product, &v.service, &v.why, &v.origin, &v.conditions})
            add(*s);
        add(report::ports_spaced(v.ports));
        for (const auto& x : v.shared_with) add(x);
        for (const auto& r : v.reasons) add(r);
        for (const auto& f : v.evidence) {
            for (const auto* s : {&f.client_ip, &f.server_ip, &f.name, &f.outcome, &f.icmp_from}) add(*s);
            add(f.client_ip + ":" + std::to_string(f.client_port));
            add(f.server_ip + ":" + std::to_string(f.server_port));
        }
    }
    for (const auto& p : d.products) add(p.detail);
    for (const auto& g : d.vendor_gaps) add(g.name + " " + g.flow.client_ip + " " + g.flow.server_ip);
    std::set<std::string> prefixes;
    for (const auto& t : tokens)
        if (t.size() >= 2)
            for (size_t n = 2; n <= t.size(); ++n) prefixes.insert(t.substr(0, n) + (n == t.size() ? "\n" : ""));
    return prefixes;
}

// The places where `text` breaks a line inside a token: a token of one line
// and a token of the next that, joined, begin a token of the report. Every
// pair is tried, since a row's columns wrap side by side.
std::vector<std::string> tokens_split_across_lines(const std::string& text, const std::set<std::string>& prefixes) {
    std::vector<std::string> lines, found;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    for (size_t i = 1; i < lines.size(); ++i) {
        const auto above = blank_split(lines[i - 1]), below = blank_split(lines[i]);
        // Microsoft's row numbers: "ID" ends no line whose next starts with its number.
        if (!above.empty() && !below.empty() && unpunctuated(above.back()) == "ID" &&
            std::isdigit(static_cast<unsigned char>(below.front()[0])))
            found.push_back("line " + std::to_string(i) + ": 'ID' + '" + below.front() + "'");
        for (const auto& x : above)
            for (const auto& y : below) {
                // A whole word of the data on either side is a break between words
                // (the renderer's own words, "cannot be", are no data).
                const auto whole = [&](const std::string& t) { return prefixes.count(unpunctuated(t) + "\n") > 0; };
                const std::string joined = unpunctuated(x + y);
                // A piece of one character ("1" + "9" of two numbers) says too little.
                if (whole(x) || whole(y) || unpunctuated(x).size() < 2 || unpunctuated(y).size() < 2) continue;
                if (joined.size() > unpunctuated(x).size() && (prefixes.count(joined) || prefixes.count(joined + "\n")))
                    found.push_back("line " + std::to_string(i) + ": '" + x + "' + '" + y + "'");
            }
    }
    return found;
}

// Lines after the first wider than 100 columns.
std::vector<std::string> lines_wider_than_100(const std::string& text) {
    std::vector<std::string> found;
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);
    for (size_t n = 2; std::getline(in, line); ++n) {
        size_t columns = 0;
        for (const unsigned char c : line) columns += (c & 0xC0) != 0x80;
        if (columns > 100) found.push_back("line " + std::to_string(n) + ": " + line);
    }
    return found;
}

class TextGolden : public ::testing::TestWithParam<TextGoldenCase> {};

TEST_P(TextGolden, MatchesItsGoldenAndKeepsTheLayoutsPromises) {
#ifndef CALLWALL_BINARY
    GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
    const TextGoldenCase& c = GetParam();
    TempDb db;
    std::vector<std::string> argv{
        "/usr/bin/env", "CALLWALL_CATALOG_DIR=" + full_catalog_dir(), CALLWALL_BINARY, "analyze", "-q", "--db",
        db.path()};
    for (const auto& cap : c.captures) {
        if (cap.rfind("shared:", 0) == 0) {
            if (shared_dir().empty())
                GTEST_SKIP() << "../shared is absent: the real calls are in ../shared/captures/public";
            const std::string path = shared_dir() + "/captures/public/" + cap.substr(7);
            if (!fs::exists(path)) GTEST_SKIP() << path << " is missing from ../shared";
            argv.push_back(path);
        } else {
            argv.push_back(source_dir() + "/" + cap);
        }
    }
    const auto r = robustness::run(argv, robustness::kCaptureRunTimeoutS);
    ASSERT_TRUE(r.exit.exited) << r.exit.describe();
    ASSERT_EQ(r.exit.code, 0) << r.err;
    const report::ReportData d = report::load(db.path(), report::ReportOptions{});
    report::TextOptions opt;
    opt.evidence = c.verbose;
    opt.all_rows = c.all;
    const std::string text = portable_paths(report::render_text(d, opt));
    const fs::path expected = fs::path(source_dir()) / "tests" / "golden" / "expected" / "text" / (c.name + ".txt");
    if (std::getenv("CALLWALL_UPDATE_GOLDEN")) {
        fs::create_directories(expected.parent_path());
        std::ofstream(expected, std::ios::binary) << text;
    }
    ASSERT_TRUE(fs::exists(expected)) << expected << " is missing (tools/update_golden.sh " << c.name << ")";
    const std::string golden = read_file(expected.string());
    EXPECT_EQ(text, golden) << "the text report of " << c.name << " changed (tools/update_golden.sh " << c.name
                            << ", then review the diff)";
    for (const auto& w : lines_wider_than_100(golden)) ADD_FAILURE() << c.name << ": wider than 100 columns: " << w;
    for (const auto& s : tokens_split_across_lines(golden, report_token_prefixes(d)))
        ADD_FAILURE() << c.name << ": a line break inside a token: " << s;
#endif
}

INSTANTIATE_TEST_SUITE_P(Golden, TextGolden, ::testing::ValuesIn(text_golden_cases()),
                         [](const auto& info) { return info.param.name; });

// The checks above find what they look for: a line break inside an entry id
// or an address, and a line too wide.
TEST(TextGoldenChecks, FindASplitTokenAndAWideLine) {
    report::ReportData d;
    report::VerdictRow v;
    v.entry_id = "teams-2022072800.sfb-interop.allow.tcp";
    v.why = "ICMP from 2001:db8:77::1 said no";
    d.verdicts.push_back(v);
    const auto prefixes = report_token_prefixes(d);
    EXPECT_EQ(
        tokens_split_across_lines("also serves teams-2022072800.sfb-interop.allow.t\n    cp, and more\n", prefixes)
            .size(),
        1u);
    EXPECT_EQ(tokens_split_across_lines("  from 2001:db8:\n  77::1 said no\n", prefixes).size(), 1u);
    EXPECT_EQ(tokens_split_across_lines("service (ID 12) and service (ID\n    13) too\n", prefixes).size(), 1u);
    EXPECT_TRUE(tokens_split_across_lines(
                    "also serves\nteams-2022072800.sfb-interop.allow.tcp\nICMP from 2001:db8:77::1\n", prefixes)
                    .empty());
    EXPECT_TRUE(lines_wider_than_100(std::string(120, 'x') + "\nshort\n").empty()) << "the first line may be wider";
    EXPECT_EQ(lines_wider_than_100("run\n" + std::string(101, 'x') + "\n").size(), 1u);
}

}  // namespace
}  // namespace callwall::test
