// The text report's verdict blocks: each product's conclusion, then the rows
// that decide it (blocked, partial, inconclusive, observed; required before
// optional), the rows not exercised folded into one line (--all: every row
// in catalog order); cross-references by service name (ids under -v); and
// with several vendors, one line per vendor first.
#include <gtest/gtest.h>

#include <string>

#include "report/report.hpp"

namespace callwall::report::text_blocks_test {
namespace {

VerdictRow block_row(const std::string& id, const std::string& service, const std::string& verdict,
                     bool required = true, const std::string& vendor = "Microsoft") {
    VerdictRow v;
    v.entry_id = id;
    v.vendor = vendor;
    v.product = vendor == "Microsoft" ? "Teams" : "Calls";
    v.service = service;
    v.transport = "tcp";
    v.ports = "443";
    v.verdict = verdict;
    v.required = required;
    v.why = verdict == "not_exercised" ? "no flow" : verdict + " here";
    return v;
}

ReportData teams_run() {
    ReportData d;
    d.run.id = 1;
    d.run.kind = "analyze";
    d.run.status = "completed";
    d.verdicts = {block_row("t.akams", "aka.ms links", "not_exercised"),
                  block_row("t.broadcast", "Broadcast (ID 13)", "observed"),
                  block_row("t.opt", "Optional service", "blocked", false),
                  block_row("t.cdn", "Media services and CDN", "not_exercised"),
                  block_row("t.interop", "Messaging interop (ID 22)", "observed", false),
                  block_row("t.media", "Media (ID 11)", "blocked"),
                  block_row("t.part", "Partly", "partial"),
                  block_row("t.sfb", "Skype for Business assets", "not_exercised", false),
                  block_row("t.inc", "Unsure", "inconclusive")};
    d.verdicts[1].shared_with = {"t.interop", "t.media"};
    d.products = {{"Microsoft", "Teams", "", "works, degraded", "blocked: Media (ID 11) (udp)"}};
    return d;
}

// Where each service's row starts (its verdict and name on one line), -1 when absent.
long row_at(const std::string& text, const std::string& verdict, const std::string& service) {
    std::string word = verdict == "not_exercised" ? "not exercised" : verdict;
    const std::string head = "\n  " + word + std::string(14 - word.size(), ' ') + service;
    const size_t at = text.find(head);
    return at == std::string::npos ? -1 : static_cast<long>(at);
}

TEST(TextBlocks, RowsComeInTheOrderThatDecidesAndTheQuietOnesFoldIntoOneLine) {
    const std::string text = render_text(teams_run());
    const long media = row_at(text, "blocked", "Media (ID 11)"), opt = row_at(text, "blocked", "Optional service");
    const long part = row_at(text, "partial", "Partly"), inc = row_at(text, "inconclusive", "Unsure");
    const long broadcast = row_at(text, "observed", "Broadcast (ID 13)");
    const long interop = row_at(text, "observed", "Messaging interop (ID 22)");
    for (const long at : {media, opt, part, inc, broadcast, interop}) ASSERT_GE(at, 0) << text;
    EXPECT_LT(media, opt) << "required before optional";
    EXPECT_LT(opt, part);
    EXPECT_LT(part, inc);
    EXPECT_LT(inc, broadcast);
    EXPECT_LT(broadcast, interop);
    const size_t conclusion = text.find("\n  => works, degraded: blocked: Media (ID 11) (udp)\n");
    ASSERT_NE(conclusion, std::string::npos) << text;
    EXPECT_LT(static_cast<long>(conclusion), media) << "the conclusion opens the block";
    EXPECT_NE(text.find("\n  not exercised: 3 (aka.ms links, Media services and CDN, Skype for Business assets)\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(row_at(text, "not_exercised", "aka.ms links"), -1) << text;
}

TEST(TextBlocks, AllKeepsEveryRowInCatalogOrder) {
    const ReportData d = teams_run();
    TextOptions all;
    all.all_rows = true;
    const std::string text = render_text(d, all);
    long last = -1;
    for (const auto& v : d.verdicts) {
        const long at = row_at(text, v.verdict, v.service);
        ASSERT_GE(at, 0) << v.service << "\n" << text;
        EXPECT_GT(at, last) << v.service;
        last = at;
    }
    EXPECT_EQ(text.find("not exercised: 3"), std::string::npos) << text;
}

TEST(TextBlocks, CrossReferencesNameServicesAndIdsOnlyUnderVerbose) {
    const ReportData d = teams_run();
    const std::string text = render_text(d);
    EXPECT_NE(text.find("also serves Messaging interop (ID 22) and Media (ID 11)"), std::string::npos) << text;
    EXPECT_EQ(text.find("t.interop"), std::string::npos) << text;
    EXPECT_EQ(text.find("t.broadcast"), std::string::npos) << text;
    TextOptions v;
    v.evidence = true;
    const std::string verbose = render_text(d, v);
    EXPECT_NE(verbose.find("also serves Messaging interop (ID 22) [t.interop] and Media (ID 11)\n"
                           "                [t.media]; entry t.broadcast\n"),
              std::string::npos)
        << verbose;
    // An entry the report does not hold (a vendor left out) keeps its id.
    ReportData cut = d;
    cut.verdicts[1].shared_with = {"other.vendor.entry"};
    EXPECT_NE(render_text(cut).find("also serves other.vendor.entry"), std::string::npos);
}

TEST(TextBlocks, AnEntryOfAnotherEditionSaysWhichEdition) {
    ReportData d = teams_run();
    VerdictRow current = block_row("t2.broadcast", "Broadcast (ID 13)", "observed");
    current.edition = "2024";
    current.shared_with = {"t.broadcast"};
    d.verdicts.push_back(current);
    const std::string text = render_text(d);
    EXPECT_NE(text.find("also serves Broadcast (ID 13) of Microsoft \u2014 Teams"), std::string::npos) << text;
    EXPECT_NE(text.find("\nMicrosoft 2024 \u2014 Teams\n"), std::string::npos) << text;
}

TEST(TextBlocks, SeveralVendorsOpenWithOneLineEach) {
    ReportData d = teams_run();
    EXPECT_EQ(render_text(d).find("vendors in this run:"), std::string::npos) << "one vendor: no overview";
    d.verdicts.push_back(block_row("s.signal", "Signalling", "observed", true, "Sendbird"));
    d.verdicts.push_back(block_row("s.quiet", "Quiet", "not_exercised", true, "Sendbird"));
    d.products.push_back({"Sendbird", "Calls", "", "ready", "everything exercised got through: Signalling (tcp)"});
    const std::string text = render_text(d);
    const size_t overview = text.find(
        "\nvendors in this run:\n"
        "  Microsoft  works, degraded; to fix: Media (ID 11), tcp 443 blocked (and 2 "
        "more)\n"
        "  Sendbird   ready\n");
    ASSERT_NE(overview, std::string::npos) << text;
    EXPECT_LT(overview, text.find("\nMicrosoft \u2014 Teams\n")) << "the overview comes before the blocks";
}

TEST(TextBlocks, AFoldTooLongForTwoLinesCountsTheRest) {
    ReportData d = teams_run();
    for (int i = 0; i < 20; ++i)
        d.verdicts.push_back(
            block_row("t.q" + std::to_string(i), "Quiet service number " + std::to_string(i), "not_exercised"));
    const std::string text = render_text(d);
    const size_t at =
        text.find("\n  not exercised: 23 (aka.ms links, Media services and CDN, Quiet service number 0, ");
    ASSERT_NE(at, std::string::npos) << "required first, in catalog order: " << text;
    const size_t second = text.find('\n', at + 1) + 1, end = text.find('\n', second);
    const std::string first_line = text.substr(at + 1, second - at - 2),
                      second_line = text.substr(second, end - second);
    EXPECT_LE(first_line.size(), 100u) << first_line;
    EXPECT_LE(second_line.size(), 100u) << second_line;
    EXPECT_EQ(second_line.rfind("    ", 0), 0u) << second_line;
    EXPECT_NE(second_line.find(" more: --all lists them)"), std::string::npos) << second_line;
    EXPECT_EQ(text.find("Quiet service number 19"), std::string::npos) << "counted, not named: " << text;
}

}  // namespace
}  // namespace callwall::report::text_blocks_test
