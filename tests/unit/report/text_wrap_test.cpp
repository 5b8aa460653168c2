// The text report's wrapper breaks lines at blanks only: a word, an id, an
// address or a name is never cut, and a token wider than its column stands
// whole on a line of its own, even a 2 MB one (a name off the wire, a hostile
// run note). How long that takes is bench/report_bench.cpp's to measure
// (BM_TextReportHugeToken, fitted to O(N)).
#include <gtest/gtest.h>

#include <string>

#include "report/report.hpp"
#include "report/text_layout.hpp"

namespace callwall::report::text_wrap_test {
namespace {

TEST(TextWrap, BreaksAtBlanksOnlyAndKeepsALongTokenWhole) {
    EXPECT_EQ(text::wrap("aaa bbb ccc", 7), (std::vector<std::string>{"aaa bbb", "ccc"}));
    const std::string id = "teams-2022072800.sfb-interop.allow.tcp";
    EXPECT_EQ(text::wrap("also serves " + id + ", and more", 20),
              (std::vector<std::string>{"also serves", id + ",", "and more"}));
    EXPECT_EQ(text::wrap("from 2001:db8:77::1 said no", 9),
              (std::vector<std::string>{"from", "2001:db8:77::1", "said no"}));
    // A token exactly as wide as the column fills its line alone.
    EXPECT_EQ(text::wrap("abcd ef", 4), (std::vector<std::string>{"abcd", "ef"}));
    // Runs of blanks and newlines read as one; a blank text is one empty line.
    EXPECT_EQ(text::wrap("  a \n\t b  ", 10), std::vector<std::string>{"a b"});
    EXPECT_EQ(text::wrap("   ", 10), std::vector<std::string>{""});
}

TEST(TextWrap, NeverEndsALineBetweenGluedWords) {
    const std::string id = std::string("(ID") + text::kNoBreak + "12)";
    EXPECT_EQ(text::wrap("service " + id + " and more", 12),
              (std::vector<std::string>{"service", "(ID 12) and", "more"}));
    EXPECT_EQ(text::wrap("ab " + id, 6), (std::vector<std::string>{"ab", "(ID 12)"}));
}

TEST(TextWrap, MeasuresCharactersNotBytes) {
    EXPECT_EQ(text::columns("Whereby \u2014 Whereby"), 17u);
    // Three 3-byte characters and a blank fit 5 columns.
    EXPECT_EQ(text::wrap("\u2014\u2014 \u2014 x", 5), (std::vector<std::string>{"\u2014\u2014 \u2014", "x"}));
    EXPECT_EQ(text::pad("\u2014", 3), "\u2014  ");
}

TEST(TextReport, AHugeTokenStandsWholeOnALineOfItsOwn) {
    ReportData d;
    d.run.id = 1;
    d.run.status = "completed";
    VerdictRow v;
    v.entry_id = "e";
    v.vendor = "V";
    v.service = "S";
    v.transport = "tcp";
    v.ports = "443";
    v.verdict = "observed";
    std::string token(2 << 20, '@');
    token[0] = '<';
    token.back() = '>';
    v.why = "before " + token + " after";
    d.verdicts.push_back(v);
    const std::string text = render_text(d);
    size_t whole = 0;
    for (size_t pos = 0, end; pos < text.size(); pos = end + 1) {
        end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string_view line(text.data() + pos, end - pos);
        if (line.find('@') != std::string_view::npos) {
            // The token's line holds the token and its indent, nothing else.
            EXPECT_EQ(line.substr(line.find_first_not_of(' ')), token);
            ++whole;
        } else {
            EXPECT_LE(line.size(), 100u) << "a line wider than the text report's 100 columns";
        }
    }
    EXPECT_EQ(whole, 1u);
    EXPECT_NE(text.find("before\n"), std::string::npos) << text.substr(0, 400);
    EXPECT_NE(text.find(" after\n"), std::string::npos);
}

}  // namespace
}  // namespace callwall::report::text_wrap_test
