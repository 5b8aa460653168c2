// The text report's -v: under each requirement, the flows behind its verdict
// as the JSON and HTML reports list them, and how many more were counted.
#include <gtest/gtest.h>

#include <string>

#include "report/report.hpp"

namespace callwall::report::text_evidence_test {
namespace {

VerdictRow blocked_row() {
    VerdictRow v;
    v.entry_id = "v.media";
    v.vendor = "V";
    v.product = "P";
    v.service = "Media";
    v.transport = "udp";
    v.ports = "3478";
    v.verdict = "blocked";
    v.reasons = {"icmp-3-13"};
    v.why = "refused";
    v.flows_blocked = 7;
    EvidenceFlow f;
    f.id = 42;
    f.transport = "udp";
    f.client_ip = "10.0.0.2";
    f.client_port = 50000;
    f.server_ip = "192.0.2.9";
    f.server_port = 3478;
    f.first_ts = 1700000000.5;
    f.last_ts = 1700000002.0;
    f.packets_c2s = 3;
    f.state = "one-way";
    f.outcome = "blocked:icmp-3-13";
    f.app = "stun";
    f.name = "turn.example.com";
    f.name_source = "dns";
    f.evidence_kind = "dns";
    f.icmp_type = 3;
    f.icmp_code = 13;
    f.icmp_from = "10.0.0.1";
    v.evidence = {f};
    return v;
}

// The text with each line joined to the one before (a newline and the
// next line's indent read as one space), so that checks do not depend on
// where a line was cut.
std::string joined(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') {
            out += ' ';
            while (i + 1 < text.size() && text[i + 1] == ' ') ++i;
            continue;
        }
        out += text[i];
    }
    return out;
}

ReportData one_run() {
    ReportData d;
    d.run.id = 1;
    d.run.kind = "analyze";
    d.run.status = "completed";
    d.verdicts.push_back(blocked_row());
    return d;
}

TEST(TextEvidence, ListsEachFlowAndCountsTheOnesNotListed) {
    const ReportData d = one_run();
    TextOptions opt;
    opt.evidence = true;
    const std::string text = joined(render_text(d, opt));
    EXPECT_NE(text.find(" flow 42: udp 10.0.0.2:50000 \u2192 192.0.2.9:3478, 3/0 packets, one-way, "
                        "blocked:icmp-3-13, stun, turn.example.com (dns), matched by dns, ICMP type 3 code 13"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("from 10.0.0.1 \u2260 the destination"), std::string::npos) << text;
    EXPECT_NE(text.find("2023-11-14 22:13:20.500Z for 1.500 s"), std::string::npos) << text;
    EXPECT_NE(text.find(" and 6 more flow(s) counted in the verdict (0 observed, 7 blocked, 0 inconclusive in "
                        "all) "),
              std::string::npos)
        << text;
    // Without -v, none of it.
    const std::string plain = render_text(d);
    EXPECT_EQ(plain.find("flow 42"), std::string::npos) << plain;
    EXPECT_EQ(plain.find("more flow(s)"), std::string::npos) << plain;
}

TEST(TextEvidence, ABlockedVerdictWithoutFlowsSaysSo) {
    ReportData d = one_run();
    d.verdicts[0].evidence.clear();
    d.verdicts[0].flows_blocked = 0;
    TextOptions opt;
    opt.evidence = true;
    const std::string text = render_text(d, opt);
    EXPECT_NE(text.find("\n                (no flow behind this verdict: the reason above is the evidence)\n"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace callwall::report::text_evidence_test
