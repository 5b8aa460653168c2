// render_html: self-contained, escaped, deterministic, and showing every
// verdict with its evidence. The fixture is built by hand (no database).
// Set CALLWALL_HTML_SAMPLE=/path/sample.html to also write the page out, e.g.
// for tools/screenshot_report.sh.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "report/report.hpp"
#include "unit/report/html_text.hpp"

namespace callwall::report {
namespace {

using test::count;

// 2024-05-01T12:00:00Z: capture times below are offsets from it.
constexpr double kT0 = 1714564800.0;

EvidenceFlow flow(uint64_t id, const std::string& transport, const std::string& server_ip, uint16_t server_port,
                  double first_s, double last_s, uint64_t c2s, uint64_t s2c, const std::string& state,
                  const std::string& outcome, const std::string& name, const std::string& name_source,
                  const std::string& evidence_kind, const std::string& app) {
    EvidenceFlow f;
    f.id = id;
    f.transport = transport;
    f.client_ip = "10.1.2.3";
    f.client_port = static_cast<uint16_t>(50000 + id);
    f.server_ip = server_ip;
    f.server_port = server_port;
    f.first_ts = kT0 + first_s;
    f.last_ts = kT0 + last_s;
    f.packets_c2s = c2s;
    f.packets_s2c = s2c;
    f.state = state;
    f.outcome = outcome;
    f.name = name;
    f.name_source = name_source;
    f.evidence_kind = evidence_kind;
    f.app = app;
    return f;
}

VerdictRow row(const std::string& id, const std::string& vendor, const std::string& edition, const std::string& product,
               const std::string& service, const std::string& transport, const std::string& ports,
               const std::string& verdict) {
    VerdictRow v;
    v.entry_id = id;
    v.vendor = vendor;
    v.edition = edition;
    v.product = product;
    v.service = service;
    v.transport = transport;
    v.ports = ports;
    v.verdict = verdict;
    v.source_file = vendor == "Whereby" ? "whereby.toml" : "agora_2020.toml";
    v.source_section = "Firewall requirements";
    return v;
}

ReportData fixture() {
    ReportData d;
    d.db_path = "/var/lib/callwall/audit.db";
    RunInfo& r = d.run;
    r.id = 7;
    r.kind = "capture";
    r.source = "eth1";
    r.status = "interrupted";
    r.command_line = "callwall capture -i eth1 -o audit.db";
    r.tool_version = "0.1.0";
    r.catalog_digest = "3f2a9c0d11e4b7a85c6d2e90f1a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5";
    r.started_at = kT0 - 2;
    r.ended_at = kT0 + 62;
    r.first_ts = kT0;
    r.last_ts = kT0 + 60;
    r.packets = 184223;
    r.bytes = 151234567;
    r.kernel_dropped = 12;
    r.flows = 214;

    // Whereby: TURN over UDP blocked by a firewall's ICMP, TLS through, media partial.
    VerdictRow turn = row("whereby/web/turn-udp", "Whereby", "2024", "Web", "TURN <script>alert(1)</script>", "udp",
                          "3478", "blocked");
    turn.destinations = "turn.whereby.com, *.turn.appearin.net";
    turn.reasons = {"icmp-3-13", "stun-timeout"};
    turn.flows_blocked = 2;
    turn.ports_blocked = "3478";
    turn.origin = "a firewall: 10.1.0.1 says administratively prohibited";
    turn.why = "ICMP communication administratively prohibited from 10.1.0.1";
    EvidenceFlow icmp = flow(11, "udp", "198.51.100.20", 3478, 2.0, 2.05, 1, 0, "one-way", "blocked",
                             "turn.whereby.com", "dns", "dns", "stun");
    icmp.icmp_type = 3;
    icmp.icmp_code = 13;
    icmp.icmp_from = "10.1.0.1";
    turn.evidence.push_back(icmp);
    turn.evidence.push_back(flow(12, "udp", "198.51.100.21", 3478, 2.1, 9.6, 4, 0, "one-way", "blocked",
                                 "turn.whereby.com", "dns", "dns", "stun"));
    d.verdicts.push_back(turn);

    VerdictRow tls = row("whereby/web/https", "Whereby", "2024", "Web", "signalling", "tcp", "443", "observed");
    tls.destinations = "*.whereby.com";
    tls.flows_observed = 2;
    tls.ports_observed = "443";
    tls.why = "2 flow(s) got through on port 443";
    tls.evidence.push_back(flow(13, "tcp", "203.0.113.5", 443, 0.5, 58.0, 900, 850, "SF", "observed",
                                "AT&T \"corp\" <b>x</b>.whereby.com", "sni", "sni", "tls"));
    tls.evidence.push_back(flow(14, "tcp", "203.0.113.6", 443, 1.0, 1.2, 12, 10, "SF", "observed", "api.whereby.com",
                                "sni", "sni", "tls"));
    tls.shared_with = {"whereby/web/turn-tls"};
    d.verdicts.push_back(tls);

    VerdictRow media = row("whereby/web/media", "Whereby", "2024", "Web", "media", "udp", "40000-49999", "partial");
    media.destinations = "ANY";
    media.conditions = "only when TURN is not used";
    media.reasons = {"no-answer"};
    media.flows_observed = 1;
    media.flows_blocked = 1;
    media.ports_observed = "40001";
    media.ports_blocked = "41000";
    media.origin = "no answer: dropped silently (a firewall, or the server is down)";
    media.why = "through on port 40001; blocked on port 41000 (STUN requests retransmitted with no answer)";
    media.evidence.push_back(
        flow(15, "udp", "198.51.100.30", 41000, 3.0, 7.0, 5, 0, "one-way", "blocked", "", "", "protocol", "stun"));
    media.evidence.push_back(flow(16, "udp", "198.51.100.31", 40001, 3.2, 57.5, 4000, 3900, "answered", "observed", "",
                                  "", "turn-peer", "stun+rtp"));
    d.verdicts.push_back(media);

    VerdictRow turn_tls =
        row("whereby/web/turn-tls", "Whereby", "2024", "Web", "TURN over TLS", "tcp", "443", "inconclusive");
    turn_tls.flows_inconclusive = 1;
    turn_tls.required = false;
    turn_tls.why = "1 attempt(s) too short to judge";
    turn_tls.evidence.push_back(flow(17, "tcp", "198.51.100.22", 443, 59.95, 59.95, 1, 0, "S0", "inconclusive",
                                     "turn.whereby.com", "dns", "port-only", ""));
    d.verdicts.push_back(turn_tls);

    // Agora: nothing exercised for RTM, RTC observed on a v6 address.
    VerdictRow rtm =
        row("agora2020/rtm-web/tcp", "Agora", "2020", "RTM Web", "RTM", "tcp", "443,6443", "not_exercised");
    rtm.destinations = "*.agora.io";
    rtm.why = "no traffic for it in the capture";
    d.verdicts.push_back(rtm);

    VerdictRow rtc = row("agora2020/rtc-web/udp", "Agora", "2020", "RTC Web", "media", "udp", "3478-3500", "observed");
    rtc.flows_observed = 1;
    rtc.ports_observed = "3478";
    rtc.why = "1 flow(s) got through on port 3478";
    EvidenceFlow v6 = flow(18, "udp", "2001:db8::7", 3478, 20.0, 40.0, 300, 310, "answered", "observed",
                           "edge.agora.io", "dns", "dns", "stun+rtp");
    v6.client_ip = "2001:db8::1";
    rtc.evidence.push_back(v6);
    d.verdicts.push_back(rtc);

    d.products = {
        {"Whereby", "Web", "2024", "works, degraded", "in use: signalling (tcp); blocked: TURN (udp)"},
        {"Agora", "RTC Web", "2020", "ready", "everything exercised got through: media (udp)"},
        {"Agora", "RTM Web", "2020", "not exercised", "no traffic for this product in the capture"},
        {"Agora", "RTC Native", "2020", "cannot be allow-listed", "use the Agora cloud proxy"},
        {"Whereby", "Embedded", "2024", "broken", "nothing got through; blocked: TURN (udp)"},
        {"Whereby", "Mobile", "2024", "inconclusive", "attempts were too short to judge"},
    };

    UnmatchedVendorFlow gap;
    gap.flow.id = 21;
    gap.vendor = "Whereby";
    gap.name = "<script>gap</script>.whereby.com";
    gap.flow.transport = "tcp";
    gap.flow.client_ip = "10.1.2.3";
    gap.flow.client_port = 51234;
    gap.flow.server_ip = "203.0.113.9";
    gap.flow.server_port = 8443;
    gap.flow.app = "tls";
    gap.flow.outcome = "observed";
    d.vendor_gaps.push_back(gap);

    d.other_flows = 180;
    d.other_summary = {{"udp", "dns", 53, 120}, {"tcp", "tls", 443, 40}, {"udp", "", 123, 2}};
    return d;
}

size_t evidence_flows(const ReportData& d) {
    size_t n = 0;
    for (const auto& v : d.verdicts) n += v.evidence.size();
    return n;
}

TEST(HtmlReport, WritesSampleWhenAsked) {
    const char* path = std::getenv("CALLWALL_HTML_SAMPLE");
    if (path == nullptr) GTEST_SKIP() << "CALLWALL_HTML_SAMPLE not set";
    std::ofstream(path) << render_html(fixture());
}

TEST(HtmlReport, IsOneDocument) {
    const std::string h = render_html(fixture());
    EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(count(h, "<html"), 1u);
    EXPECT_EQ(count(h, "</html>"), 1u);
    EXPECT_NE(h.find("<meta charset=\"utf-8\">"), std::string::npos);
}

TEST(HtmlReport, FetchesNothing) {
    const std::string h = render_html(fixture());
    for (const char* bad : {"http://", "https://", "@import", "url(", "src=", "<link", "<img", "<iframe", "<object",
                            "<embed", "<base", "<script", "//fonts", "srcset"})
        EXPECT_EQ(h.find(bad), std::string::npos) << bad;
    // Every href is a fragment of this page.
    size_t hrefs = 0;
    for (size_t p = h.find("href="); p != std::string::npos; p = h.find("href=", p + 1), ++hrefs)
        EXPECT_EQ(h.compare(p, 7, "href=\"#"), 0) << h.substr(p, 60);
    EXPECT_GT(hrefs, 0u);
}

TEST(HtmlReport, EscapesData) {
    const std::string h = render_html(fixture());
    EXPECT_NE(h.find("TURN &lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(h.find("&lt;script&gt;gap&lt;/script&gt;.whereby.com"), std::string::npos);
    EXPECT_NE(h.find("AT&amp;T &quot;corp&quot; &lt;b&gt;x&lt;/b&gt;.whereby.com"), std::string::npos);
    EXPECT_EQ(h.find("<script"), std::string::npos);
    EXPECT_EQ(h.find("<b>x</b>"), std::string::npos);
    EXPECT_EQ(h.find("AT&T"), std::string::npos);
}

TEST(HtmlReport, EscapesAttributesAndBadBytes) {
    ReportData d = fixture();
    d.run.catalog_digest = "ab\"><i onmouseover='x'>";
    d.verdicts[0].evidence[0].name = std::string("bad\xff\xfe") + "\x01" + "name";
    const std::string h = render_html(d);
    EXPECT_EQ(h.find("\"><i"), std::string::npos);
    EXPECT_EQ(h.find("='x'"), std::string::npos);
    EXPECT_NE(h.find("bad\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDname"), std::string::npos);
    EXPECT_EQ(h.find('\x01'), std::string::npos);
    EXPECT_EQ(h.find('\xff'), std::string::npos);
}

TEST(HtmlReport, OneTimelineWithABarPerEvidenceFlow) {
    const ReportData d = fixture();
    const std::string h = render_html(d);
    EXPECT_EQ(count(h, "<svg"), 1u);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar "), evidence_flows(d));
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-bad\""), 3u);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-ok\""), 4u);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar o-unk\""), 1u);
    // Hover text: the 5-tuple and outcome (IPv6 in brackets).
    EXPECT_NE(h.find("<title>flow 11: udp 10.1.2.3:50011 \u2192 198.51.100.20:3478 \u2014 blocked"), std::string::npos);
    EXPECT_NE(h.find("udp [2001:db8::1]:50018 \u2192 [2001:db8::7]:3478"), std::string::npos);
    // Ticks in seconds from the start: 60 s capture, steps of 20 s.
    for (const char* tick : {">0 s<", ">20 s<", ">40 s<", ">60 s<"}) EXPECT_NE(h.find(tick), std::string::npos) << tick;
    // Legend names each outcome.
    for (const char* l : {"flow observed", "flow blocked", "flow inconclusive"})
        EXPECT_NE(h.find(l), std::string::npos) << l;
}

TEST(HtmlReport, ShowsEveryVerdictAndConclusion) {
    const std::string h = render_html(fixture());
    for (const char* v : {"b-ok\"><span class=\"glyph\" aria-hidden=\"true\">\u2713</span> observed",
                          "b-bad\"><span class=\"glyph\" aria-hidden=\"true\">\u2717</span> blocked",
                          "b-mid\"><span class=\"glyph\" aria-hidden=\"true\">\u25D0</span> partial",
                          "b-unk\"><span class=\"glyph\" aria-hidden=\"true\">?</span> inconclusive",
                          "b-none\"><span class=\"glyph\" aria-hidden=\"true\">\u2013</span> not exercised"})
        EXPECT_NE(h.find(v), std::string::npos) << v;
    for (const char* c : {"> ready</span>", "> works, degraded</span>", "> broken</span>", "> not exercised</span>",
                          "> inconclusive</span>", "> cannot be allow-listed</span>"})
        EXPECT_NE(h.find(c), std::string::npos) << c;
    EXPECT_NE(h.find("use the Agora cloud proxy"), std::string::npos);
}

TEST(HtmlReport, ShowsTheEvidence) {
    const std::string h = render_html(fixture());
    EXPECT_NE(h.find("ICMP type 3 code 13 (communication administratively prohibited) from 10.1.0.1 \u2260 the "
                     "destination"),
              std::string::npos);
    EXPECT_NE(h.find("said no: a firewall: 10.1.0.1 says administratively prohibited"), std::string::npos);
    EXPECT_NE(h.find("2024-05-01T12:00:02.000Z"), std::string::npos);
    EXPECT_NE(h.find("2024-05-01T12:00:02.050Z"), std::string::npos);
    EXPECT_NE(h.find("<span class=\"reason\">icmp-3-13</span>"), std::string::npos);
    EXPECT_NE(h.find("decides nothing alone"), std::string::npos);
    // Blocked and partial rows are open; the observed one is folded.
    EXPECT_NE(h.find("<details class=\"evidence\" id=\"e0\" open>"), std::string::npos);
    EXPECT_NE(h.find("<details class=\"evidence\" id=\"e2\" open>"), std::string::npos);
    EXPECT_NE(h.find("<details class=\"evidence\" id=\"e1\">"), std::string::npos);
    // The overlap links to the other row, named by its service (the id in
    // the link's title).
    EXPECT_NE(h.find("href=\"#r3\" title=\"whereby/web/turn-tls\">TURN over TLS</a>"), std::string::npos);
    // Source of the requirement.
    EXPECT_NE(h.find("whereby.toml"), std::string::npos);
    EXPECT_NE(h.find("\u00a7 Firewall requirements"), std::string::npos);
}

TEST(HtmlReport, AllowListsOfWhatWasBlocked) {
    ReportData d = fixture();
    EXPECT_EQ(render_html(d).find("id=\"allow\""), std::string::npos);  // none recorded: no section
    d.allow_lists = {{"iptables", "-A callwall_outbound -p udp <x>"}, {"nft", "udp dport 443 accept"}};
    const std::string html = render_html(d);
    EXPECT_NE(html.find("<h2 id=\"allow\">To allow what was blocked</h2>"), std::string::npos);
    EXPECT_NE(html.find("<details><summary>iptables</summary><pre>-A callwall_outbound -p udp &lt;x&gt;</pre>"),
              std::string::npos);
    EXPECT_NE(html.find("<details><summary>nft</summary><pre>udp dport 443 accept</pre>"), std::string::npos);
    const std::string text = render_text(d);
    EXPECT_NE(text.find("\nTO ALLOW WHAT WAS BLOCKED (nft; 'callwall report --format json' has the iptables lines "
                        "too):\n  udp dport 443 accept\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("-A callwall_outbound"), std::string::npos);
    const std::string json = render_json(d);
    EXPECT_NE(json.find(",\"allow_list\":{\"iptables\":\"-A callwall_outbound -p udp <x>\",\"nft\":\"udp dport 443 "
                        "accept\"}}\n"),
              std::string::npos)
        << json;
    d.allow_lists.clear();
    EXPECT_EQ(render_json(d).find("allow_list"), std::string::npos);
}

TEST(HtmlReport, ShowsGapsAndOtherFlows) {
    const std::string h = render_html(fixture());
    EXPECT_NE(h.find("Catalog gaps: 1 flow(s)"), std::string::npos);
    EXPECT_NE(h.find("<td class=\"mono nowrap\">tcp 8443</td>"), std::string::npos);
    EXPECT_NE(h.find("203.0.113.9"), std::string::npos);
    EXPECT_NE(h.find("180 flow(s) matched no catalogued vendor"), std::string::npos);
    // Gaps come before the verdict table: they change how it reads.
    EXPECT_LT(h.find("id=\"gaps\""), h.find("id=\"requirements\""));
}

TEST(HtmlReport, HeaderSaysWhatWasAnalysed) {
    const std::string h = render_html(fixture());
    EXPECT_NE(h.find("Interrupted run."), std::string::npos);
    EXPECT_NE(h.find("Does this firewall pass Whereby and Agora?"), std::string::npos);
    EXPECT_NE(h.find("callwall assumes the capture point is between the clients and the firewall (a mirror of the "
                     "inside interface); a capture taken outside the firewall cannot see what was dropped, and "
                     "&#39;not exercised&#39; is then the honest word."),
              std::string::npos);
    EXPECT_NE(h.find("sha256:3f2a9c0d11e4"), std::string::npos);
    EXPECT_NE(h.find("184,223"), std::string::npos);
    EXPECT_NE(h.find("The kernel dropped 12 packet(s)"), std::string::npos);
    EXPECT_NE(h.find(">eth1<"), std::string::npos);
    EXPECT_NE(h.find("60.0 s"), std::string::npos);
}

TEST(HtmlReport, BlockedWithoutFlowsStillHasAnEvidenceSection) {
    ReportData d = fixture();
    VerdictRow dns = row("agora2020/rtc-web/dns", "Agora", "2020", "RTC Web", "signalling", "tcp", "443", "blocked");
    dns.reasons = {"dns-failure"};
    dns.why = "query for nosuch.agora.io: DNS NXDOMAIN";
    dns.origin = "name resolution (a DNS filter, or the name does not exist)";
    d.verdicts.push_back(dns);
    const std::string h = render_html(d);
    const std::string id = "e" + std::to_string(d.verdicts.size() - 1);
    EXPECT_NE(h.find("href=\"#" + id + "\">evidence (no flow)</a>"), std::string::npos);
    EXPECT_NE(h.find("<details class=\"evidence\" id=\"" + id + "\" open>"), std::string::npos);
    EXPECT_NE(h.find("query for nosuch.agora.io: DNS NXDOMAIN"), std::string::npos);
    // Not in the timeline: it has no flow.
    EXPECT_EQ(count(h, "<rect class=\"flow-bar "), evidence_flows(d));
}

TEST(HtmlReport, ManyCaptureFilesFold) {
    ReportData d = fixture();
    d.run.kind = "analyze";
    d.run.source = "/c/a.pcap,/c/b.pcap";
    std::string h = render_html(d);
    EXPECT_NE(h.find("<span class=\"mono\">/c/a.pcap</span>, <span class=\"mono\">/c/b.pcap</span>"),
              std::string::npos);
    for (int i = 0; i < 10; ++i) d.run.source += ",/c/x" + std::to_string(i) + ".pcap";
    h = render_html(d);
    EXPECT_NE(h.find("<summary>12 capture files</summary>"), std::string::npos);
    EXPECT_NE(h.find("<li>/c/x9.pcap</li>"), std::string::npos);
}

TEST(HtmlReport, KilledRunIsFlagged) {
    ReportData d = fixture();
    d.run.status = "running";
    d.run.ended_at = 0;
    std::string h = render_html(d);
    EXPECT_NE(h.find("Run never finished."), std::string::npos);
    EXPECT_EQ(h.find("Interrupted run."), std::string::npos);
    d.run.status = "completed";
    d.run.kernel_dropped = 0;
    h = render_html(d);
    EXPECT_EQ(h.find("id=\"run-warning\""), std::string::npos);
    EXPECT_EQ(h.find("The kernel dropped"), std::string::npos);
}

TEST(HtmlReport, IsDeterministic) {
    const ReportData d = fixture();
    const std::string a = render_html(d);
    EXPECT_EQ(a, render_html(d));
    EXPECT_EQ(a, render_html(fixture()));
}

TEST(HtmlReport, SurvivesEmptyAndOddData) {
    const std::string empty = render_html(ReportData{});
    EXPECT_EQ(count(empty, "<svg"), 0u);
    EXPECT_NE(empty.find("No evidence flows to draw."), std::string::npos);
    EXPECT_NE(empty.find("</html>"), std::string::npos);

    // A killed run without capture times, a flow with last < first, NaN times.
    ReportData d = fixture();
    d.run.first_ts = d.run.last_ts = 0;
    d.verdicts[0].evidence[1].last_ts = d.verdicts[0].evidence[1].first_ts - 5;
    d.verdicts[1].evidence[1].first_ts = std::nan("");
    const std::string h = render_html(d);
    EXPECT_EQ(count(h, "<rect class=\"flow-bar "), evidence_flows(d));
    for (const char* bad : {"\"nan", "\"-nan", ">nan", "+nan", "nan s", "\"inf", "\"-inf", "inf s"})
        EXPECT_EQ(h.find(bad), std::string::npos) << bad;
    EXPECT_EQ(h.find("=\"-"), std::string::npos);  // no negative coordinates or sizes
}

}  // namespace
}  // namespace callwall::report
