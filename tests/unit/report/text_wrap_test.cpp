// The text report wraps a 2 MB token (a name off the wire, a hostile run
// note) into column-wide pieces, losing no byte. How long it takes is
// bench/report_bench.cpp's to measure (BM_TextReportHugeToken, fitted to O(N)).
#include <gtest/gtest.h>

#include <string>

#include "report/report.hpp"

namespace callwall::report::text_wrap_test {
namespace {

TEST(TextReport, AHugeTokenIsWrappedIntoColumnsWithEveryByteKept) {
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
    v.why = token;
    d.verdicts.push_back(v);
    const std::string text = render_text(d);
    // Every byte of the token is there, cut across lines.
    size_t xs = 0;
    for (char c : text) xs += c == '@';
    EXPECT_EQ(xs, token.size() - 2);
    EXPECT_NE(text.find('<'), std::string::npos);
    EXPECT_NE(text.find('>'), std::string::npos);
    for (size_t pos = 0, end; pos < text.size(); pos = end + 1) {
        end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        EXPECT_LE(end - pos, 100u) << "a line wider than the text report's 100 columns";
        if (end - pos > 100) break;
    }
}

}  // namespace
}  // namespace callwall::report::text_wrap_test
