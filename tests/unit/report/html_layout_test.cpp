// render_html, issue 16 ("Reports that mislead"): blocked flows whatever the
// reason in the blocked colour, abandoned ones in their own.
// tools/browser-test/run.sh checks the same pages as a browser draws them.
#include <gtest/gtest.h>

#include <string>

#include "callwall/report/report.hpp"

namespace callwall::report {
namespace {

constexpr double kT0 = 1767225600.0;  // 2026-01-01T00:00:00Z

EvidenceFlow flow(uint64_t id, const std::string& outcome, double first_s = 1.0) {
    EvidenceFlow f;
    f.flow_id = id;
    f.transport = "udp";
    f.client_ip = "10.0.0.2";
    f.client_port = static_cast<uint16_t>(50000 + id);
    f.server_ip = "192.0.2.10";
    f.server_port = 3478;
    f.first_ts = kT0 + first_s;
    f.last_ts = kT0 + first_s + 0.5;
    f.outcome = outcome;
    return f;
}

VerdictRow row(const std::string& id, const std::string& product, const std::string& service,
               const std::string& ports, const std::string& verdict) {
    VerdictRow v;
    v.entry_id = id;
    v.vendor = "Whereby";
    v.edition = "2024";
    v.product = product;
    v.service = service;
    v.transport = "udp";
    v.ports = ports;
    v.verdict = verdict;
    return v;
}

ReportData base() {
    ReportData d;
    d.run.id = 1;
    d.run.kind = "analyze";
    d.run.status = "completed";
    d.run.first_ts = kT0;
    d.run.last_ts = kT0 + 10;
    return d;
}

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
    return n;
}

/// The visible text of each timeline lane label (the links to "#rN" in the SVG).
TEST(HtmlLayout, BlockedWithAReasonIsBlocked) {
    ReportData d = base();
    VerdictRow v = row("w/turn", "Web", "TURN", "3478", "partial");
    v.flows_blocked = 2;
    v.flows_observed = 1;
    v.flows_inconclusive = 2;
    v.evidence = {flow(1, "blocked:reset"), flow(2, "blocked:icmp-3-13", 2), flow(3, "abandoned", 3),
                  flow(4, "inconclusive", 4), flow(5, "observed", 5)};
    d.verdicts.push_back(v);
    UnmatchedVendorFlow gap;
    gap.flow_id = 9;
    gap.vendor = "Whereby";
    gap.outcome = "blocked:no-answer";
    d.vendor_gaps.push_back(gap);
    const std::string h = render_html(d);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-bad\""), 2u);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-abn\""), 1u);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-unk\""), 1u);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-ok\""), 1u);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-none\""), 0u);
    // The badge keeps the reason in words and takes the blocked colour.
    EXPECT_NE(h.find("b-bad\"><span class=\"glyph\" aria-hidden=\"true\">\u2717</span> blocked (reset)</span>"),
              std::string::npos);
    EXPECT_NE(h.find("b-bad\"><span class=\"glyph\" aria-hidden=\"true\">\u2717</span> blocked (no-answer)</span>"),
              std::string::npos);
    EXPECT_NE(h.find("b-abn\"><span class=\"glyph\" aria-hidden=\"true\">\u2205</span> abandoned</span>"),
              std::string::npos);
    EXPECT_EQ(count(h, "<tr class=\"v-bad\">"), 2u);
    // The legend names the neutral outcomes, and their colours are defined.
    EXPECT_NE(h.find(">flow abandoned</text>"), std::string::npos);
    EXPECT_NE(h.find(">flow inconclusive</text>"), std::string::npos);
    EXPECT_NE(h.find(".timeline .o-abn{"), std::string::npos);
    EXPECT_NE(h.find(".b-abn{"), std::string::npos);
}

}  // namespace
}  // namespace callwall::report
