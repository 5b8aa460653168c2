// render_html, reports that do not mislead: blocked flows whatever the
// reason in the blocked colour, abandoned ones in their own, distinct lane
// labels, "N more" where evidence is cut, tables in scrolling containers.
// tools/browser-test/run.sh checks the same pages as a browser draws them.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "report/report.hpp"
#include "unit/report/html_text.hpp"

namespace callwall::report {
namespace {

using test::count;

constexpr double kJan2026 = 1767225600.0;  // 2026-01-01T00:00:00Z

EvidenceFlow flow(uint64_t id, const std::string& outcome, double first_s = 1.0) {
    EvidenceFlow f;
    f.id = id;
    f.transport = "udp";
    f.client_ip = "10.0.0.2";
    f.client_port = static_cast<uint16_t>(50000 + id);
    f.server_ip = "192.0.2.10";
    f.server_port = 3478;
    f.first_ts = kJan2026 + first_s;
    f.last_ts = kJan2026 + first_s + 0.5;
    f.outcome = outcome;
    return f;
}

VerdictRow row(const std::string& id, const std::string& product, const std::string& service, const std::string& ports,
               const std::string& verdict) {
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
    d.run.first_ts = kJan2026;
    d.run.last_ts = kJan2026 + 10;
    return d;
}

std::string strip_tags(std::string s) {
    s = std::regex_replace(s, std::regex("<title>[^<]*</title>"), "");
    return std::regex_replace(s, std::regex("<[^>]*>"), "");
}

/// The visible text of each timeline lane label (the links to "#rN" in the SVG).
std::vector<std::string> lane_labels(const std::string& h) {
    const size_t svg_begin = h.find("<svg"), svg_end = h.find("</svg>");
    std::vector<std::string> out;
    for (size_t p = h.find("<a href=\"#r", svg_begin); p < svg_end; p = h.find("<a href=\"#r", p + 1)) {
        const size_t end = h.find("</a>", p);
        out.push_back(strip_tags(h.substr(p, end - p)));
    }
    return out;
}

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
    gap.flow.id = 9;
    gap.vendor = "Whereby";
    gap.flow.outcome = "blocked:no-answer";
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
    EXPECT_NE(h.find("b-bad\"><span class=\"glyph\" aria-hidden=\"true\">\u2717</span> 1 blocked (no-answer)</span>"),
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

TEST(HtmlLayout, LaneLabelsAreDistinct) {
    ReportData d = base();
    // Same long product and service: only the ports tell them apart.
    const std::string product = "Whereby (browser) embedded in a third-party page";
    for (const char* ports : {"443", "3478", "5349", "40000-49999"}) {
        VerdictRow v = row(std::string("w/turn-") + ports, product, "Whereby TURN relay for media", ports, "blocked");
        v.flows_blocked = 1;
        v.evidence = {flow(d.verdicts.size() + 1, "blocked:no-answer")};
        d.verdicts.push_back(v);
    }
    // Identical but for the edition and the entry id.
    for (const char* id : {"w2023/signal", "w2024/signal"}) {
        VerdictRow v = row(id, "Web", "signalling", "443", "observed");
        v.edition = id[4] == '3' ? "2023" : "2024";
        v.flows_observed = 1;
        v.evidence = {flow(d.verdicts.size() + 1, "observed")};
        d.verdicts.push_back(v);
    }
    for (const char* id : {"w/same-a", "w/same-b"}) {
        VerdictRow v = row(id, "Web", "signalling", "443", "observed");
        v.flows_observed = 1;
        v.evidence = {flow(d.verdicts.size() + 1, "observed")};
        d.verdicts.push_back(v);
    }
    const std::string h = render_html(d);
    const std::vector<std::string> labels = lane_labels(h);
    ASSERT_EQ(labels.size(), d.verdicts.size());
    EXPECT_EQ(std::set<std::string>(labels.begin(), labels.end()).size(), labels.size());
    for (const std::string& l : labels) EXPECT_FALSE(l.empty());
    // The whole label is the tooltip.
    EXPECT_NE(h.find("<title>Whereby \u00b7 " + product + " \u00b7 Whereby TURN relay for media (udp 40000-49999)"),
              std::string::npos);
}

TEST(HtmlLayout, SaysHowManyFlowsAreNotShown) {
    ReportData d = base();
    VerdictRow cut = row("w/media", "Web", "media", "40000-49999", "partial");
    cut.flows_observed = 40;
    cut.flows_blocked = 21;
    for (uint64_t i = 1; i <= kMaxEvidence; ++i)
        cut.evidence.push_back(flow(i, i <= 3 ? "blocked:no-answer" : "observed"));
    d.verdicts.push_back(cut);
    VerdictRow whole = row("w/https", "Web", "signalling", "443", "observed");
    whole.flows_observed = 2;
    whole.evidence = {flow(11, "observed"), flow(12, "observed")};
    d.verdicts.push_back(whole);
    const std::string h = render_html(d);
    const size_t n = d.verdicts[0].evidence.size();
    const std::string more = std::to_string(61 - n) + " more";
    // In the lane, linking to the evidence; in the evidence section; in the row's link.
    EXPECT_TRUE(std::regex_search(h, std::regex("<a href=\"#e0\"><text[^>]*>(<title>[^<]*</title>)?[^<]*" + more)));
    const std::string section = h.substr(h.find("id=\"e0\""), h.find("id=\"e1\"") - h.find("id=\"e0\""));
    EXPECT_NE(section.find(more), std::string::npos);
    EXPECT_NE(h.find("evidence (" + std::to_string(n) + " flows, " + more + ")"), std::string::npos);
    EXPECT_EQ(count(h, " more"), 3u);  // nothing said of the complete list
    EXPECT_EQ(h.find("<a href=\"#e1\"><text"), std::string::npos);
}

TEST(HtmlLayout, TablesAndTimelineScrollSideways) {
    ReportData d = base();
    VerdictRow v = row("w/turn", "Web", "TURN", "3478", "blocked");
    v.flows_blocked = 1;
    v.evidence = {flow(1, "blocked:no-answer")};
    d.verdicts.push_back(v);
    d.products = {{"Whereby", "Web", "2024", "broken", "nothing got through"}};
    d.other_flows = 3;
    d.other_summary = {{"udp", "dns", 53, 3}};
    const std::string h = render_html(d);
    ASSERT_GT(count(h, "<table"), 3u);
    // Every table (and the timeline) sits in a container that scrolls, so a
    // wide one never widens the page.
    EXPECT_EQ(count(h, "<div class=\"scroll\"><table"), count(h, "<table"));
    EXPECT_EQ(count(h, "<div class=\"scroll\"><svg class=\"timeline\""), 1u);
    EXPECT_NE(h.find(".scroll{overflow-x:auto"), std::string::npos);
    // Long tokens (names, IPv6 tuples) may break anywhere rather than widen a column.
    EXPECT_NE(h.find("overflow-wrap:anywhere"), std::string::npos);
}

UnmatchedVendorFlow gap_flow(uint64_t id, const std::string& name, uint16_t port, const std::string& outcome,
                             const std::string& server = "192.0.2.50") {
    UnmatchedVendorFlow g;
    g.flow.id = id;
    g.vendor = "Whereby";
    g.name = name;
    g.flow.transport = "udp";
    g.flow.client_ip = "10.0.0.2";
    g.flow.client_port = static_cast<uint16_t>(40000 + id);
    g.flow.server_ip = server;
    g.flow.server_port = port;
    g.flow.app = "stun";
    g.flow.outcome = outcome;
    return g;
}

// A busy capture's catalog gaps read as one row per vendor, name, transport
// and port, each with its flows counted by outcome, not one row per flow.
TEST(HtmlLayout, CatalogGapsAreGroupedByVendorNameAndPort) {
    ReportData d = base();
    for (uint64_t i = 1; i <= 12; ++i)
        d.vendor_gaps.push_back(gap_flow(i, "a.sfu.whereby.com", 3480, i <= 10 ? "blocked:no-answer" : "observed",
                                         i % 2 ? "192.0.2.50" : "192.0.2.51"));
    d.vendor_gaps.push_back(gap_flow(20, "a.sfu.whereby.com", 3481, "observed"));
    d.vendor_gaps.push_back(gap_flow(21, "b.sfu.whereby.com", 3480, "observed"));
    const std::string h = render_html(d);
    const size_t begin = h.find("<section class=\"gaps\">"), end = h.find("</section>", begin);
    ASSERT_NE(begin, std::string::npos);
    const std::string gaps = h.substr(begin, end - begin);
    EXPECT_NE(gaps.find("Catalog gaps: 14 flow(s)"), std::string::npos);
    EXPECT_NE(gaps.find("3 group(s) by vendor, name, transport and port"), std::string::npos);
    EXPECT_EQ(count(gaps, "<tr><td>Whereby</td>"), 3u);
    // The big group: 12 flows, 10 blocked and 2 observed, each badge naming its flows.
    EXPECT_NE(gaps.find("<td class=\"mono nowrap\">udp 3480</td><td class=\"num\">12</td>"), std::string::npos);
    EXPECT_NE(gaps.find("<span data-flows=\"1 2 3 4 5 6 7 8 9 10\"><span class=\"badge b-bad\">"), std::string::npos);
    EXPECT_NE(gaps.find("10 blocked (no-answer)"), std::string::npos);
    EXPECT_NE(gaps.find("<span data-flows=\"11 12\"><span class=\"badge b-ok\">"), std::string::npos);
    EXPECT_NE(gaps.find("192.0.2.50, 192.0.2.51"), std::string::npos);
    EXPECT_NE(gaps.find("1 2 3 4 5 6 7 8 <span class=\"muted\">(4 more)</span>"), std::string::npos);
    EXPECT_EQ(gaps.find(" 9 10 11"), std::string::npos);
}

TEST(HtmlLayout, TheAnswerComesBeforeTheRunsMetadata) {
    ReportData d = base();
    d.products = {{"Whereby", "Web", "", "ready", "everything exercised got through"}};
    const std::string h = render_html(d);
    ASSERT_NE(h.find("id=\"answer\""), std::string::npos);
    EXPECT_LT(h.find("id=\"answer\""), h.find("<dl class=\"facts\">"));
    EXPECT_LT(h.find("<dl class=\"facts\">"), h.find("id=\"requirements\""));
    EXPECT_EQ(h.find("Merged from"), std::string::npos) << "a run not merged says nothing of it";
}

TEST(HtmlLayout, AMergedRunSaysWhereItCameFrom) {
    ReportData d = base();
    d.run.origin = "site-b.sqlite run 2";
    const std::string h = render_html(d);
    const size_t merged = h.find(
        "<p class=\"merged\" id=\"merged-from\"><strong>Merged from <span "
        "class=\"mono\">site-b.sqlite run 2</span></strong>");
    ASSERT_NE(merged, std::string::npos) << h;
    EXPECT_LT(merged, h.find("id=\"answer\""));
    EXPECT_NE(h.find("<dt>Merged from</dt><dd><span class=\"mono\">site-b.sqlite run 2</span>"), std::string::npos);
}

// On a phone the verdict table reads as cards with the verdict right after
// the service; on a wide screen the verdict is the third column.
TEST(HtmlLayout, TheVerdictFollowsTheService) {
    ReportData d = base();
    VerdictRow v = row("w/turn", "Web", "TURN", "3478", "blocked");
    v.flows_blocked = 1;
    d.verdicts.push_back(v);
    const std::string h = render_html(d);
    EXPECT_TRUE(std::regex_search(h, std::regex("<td class=\"service\">TURN</td><td class=\"verdict\"><span "
                                                "class=\"badge b-bad\">")));
    EXPECT_NE(h.find("<th>Product</th><th>Service</th><th>Verdict</th><th>Why / who said no</th>"), std::string::npos);
    const std::string phone = h.substr(h.find("@media (max-width:640px)"));
    EXPECT_NE(phone.find("table.verdicts{min-width:0}"), std::string::npos);
    EXPECT_NE(phone.find(".verdicts tr,.verdicts td{display:block"), std::string::npos);
}

// A lane label too long for its column loses whole words from its middle,
// never part of one.
TEST(HtmlLayout, LaneLabelsAreCutBetweenWords) {
    ReportData d = base();
    VerdictRow v = row("a/rtc", "Agora RTC SDK for Web and Native applications",
                       "Media and signalling connectivity through the cloud proxy", "3478", "blocked");
    v.flows_blocked = 1;
    v.evidence = {flow(1, "blocked:no-answer")};
    d.verdicts.push_back(v);
    const std::string h = render_html(d);
    const std::vector<std::string> labels = lane_labels(h);
    ASSERT_EQ(labels.size(), 1u);
    const std::string full =
        "Agora RTC SDK for Web and Native applications \u00b7 Media and signalling connectivity "
        "through the cloud proxy";
    const std::string& shown = labels[0];
    const size_t cut = shown.find(" \u2026 ");
    ASSERT_NE(cut, std::string::npos) << shown;
    const std::string head = shown.substr(0, cut);
    const std::string tail = shown.substr(cut + std::string(" \u2026 ").size());
    // The tail runs into the second line's text (a tspan): compare its first line only.
    const std::string tail_line1 = tail.substr(0, tail.find("Whereby 2024"));
    EXPECT_EQ(full.rfind(head, 0), 0u) << shown;
    EXPECT_EQ(full[head.size()], ' ') << "the head ends with a whole word: " << head;
    ASSERT_GE(full.size(), tail_line1.size());
    EXPECT_EQ(full.substr(full.size() - tail_line1.size()), tail_line1) << shown;
    EXPECT_EQ(full[full.size() - tail_line1.size() - 1], ' ') << "the tail starts with a whole word: " << tail_line1;
    EXPECT_NE(h.find("data-full1=\"" + full + "\""), std::string::npos);
}

// The Source column names the vendor's document by its title; the seed file
// it was transcribed from stays in small print.
TEST(HtmlLayout, TheSourceIsTheDocumentsTitle) {
    ReportData d = base();
    VerdictRow v = row("w/turn", "Web", "TURN", "3478", "blocked");
    v.source_file = "001_eaeeebfdd0024e7a.txt";
    v.source_section = "Firewall & Security > TURN";
    v.document_title = "Firewall & Security";
    d.verdicts.push_back(v);
    VerdictRow old = row("w/old", "Web", "signal", "443", "observed");
    old.source_file = "003_896b9188205df0be.txt";  // a run from before titles were kept
    d.verdicts.push_back(old);
    const std::string h = render_html(d);
    EXPECT_NE(h.find("<td class=\"src small wrap\" data-label=\"source\"><span class=\"doc-title\">Whereby: "
                     "\u201cFirewall &amp; Security\u201d</span><br>\u00a7 Firewall &amp; Security &gt; TURN<br><span "
                     "class=\"muted\">seed <span class=\"mono\">001_eaeeebfdd0024e7a.txt</span></span>"),
              std::string::npos)
        << h;
    EXPECT_NE(h.find("data-label=\"source\"><span class=\"mono\">003_896b9188205df0be.txt</span>"), std::string::npos);
}

// An audit run's report says "passes" where a capture's says
// "observed", and speaks of a ruleset replayed, not of a capture point.
TEST(AuditReport, ObservedReadsPassesAndNoCaptureIsAssumed) {
    ReportData d = base();
    d.run.kind = "audit";
    d.run.first_ts = d.run.last_ts = 0;
    VerdictRow pass = row("w/signal", "Web", "signalling", "443", "observed");
    pass.transport = "tcp";
    pass.why = "audit: passes tcp 443 by inet filter forward: rule 'tcp dport 443 accept' (handle 4)";
    VerdictRow drop = row("w/turn", "Web", "TURN", "3478", "blocked");
    drop.why = "audit: dropped udp 3478 (no answer) by inet filter forward: policy drop";
    d.verdicts = {pass, drop};
    const std::string text = render_text(d);
    EXPECT_NE(text.find("ruleset audit: each requirement replayed through the kernel's netfilter"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("capture - .."), std::string::npos) << text;
    EXPECT_EQ(text.find("assumes the capture point"), std::string::npos) << text;
    EXPECT_NE(text.find("\n  passes        signalling"), std::string::npos) << text;
    EXPECT_NE(text.find("\n                audit: passes tcp 443"), std::string::npos) << text;
    EXPECT_EQ(text.find("observed"), std::string::npos) << text;
    const std::string html = render_html(d);
    EXPECT_NE(strip_tags(html).find("passes"), std::string::npos);
    EXPECT_NE(html.find("the replayed traffic got through the ruleset"), std::string::npos);
    EXPECT_EQ(html.find("no traffic for it in the capture"), std::string::npos);
    EXPECT_EQ(html.find("Capture start"), std::string::npos);
    EXPECT_EQ(html.find("Where the capture sits"), std::string::npos);

    // The same rows from a capture keep their words.
    d.run.kind = "analyze";
    const std::string captured = render_text(d);
    EXPECT_NE(captured.find("\n  observed      signalling"), std::string::npos) << captured;
    EXPECT_NE(captured.find("assumes the capture point"), std::string::npos);
}

}  // namespace
}  // namespace callwall::report
