// attrib::attribute, the pure stage: facts in, verdicts out, no database;
// and over every scenario capture it decides what run_attribution (the same
// steps around the store's reads and writes) decides and writes.
#include "attrib/attribute.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "catalog/catalog.hpp"
#include "golden/run_util.hpp"
#include "store/attribution_io.hpp"
#include "attrib/run_attribution.hpp"
#include "unit/corpus.hpp"

namespace callwall::attrib {
namespace {

using test::bundled_catalog;

// The entry a Sendbird calls name falls under, and one of its TCP or UDP ports.
uint32_t sendbird_entry() {
    catalog::HostMatches hm;
    bundled_catalog().match_host("probe.calls.sendbird.com", hm);
    EXPECT_FALSE(hm.view().empty());
    return hm.view().empty() ? 0 : hm.view()[0];
}

FlowFacts flow_to(uint32_t entry, uint64_t id) {
    const auto& e = bundled_catalog().entries()[entry];
    FlowFacts f;
    f.id = id;
    f.transport = e.transport == catalog::Transport::Udp ? "udp" : "tcp";
    f.client_ip = "10.0.0.5";
    f.server_ip = "198.51.100.7";
    f.client_port = static_cast<uint16_t>(50000 + id);
    f.server_port = e.ports.empty() ? 443 : e.ports.front().lo;
    f.first_ts = 100;
    f.last_ts = 101;
    f.names.push_back({"probe.calls.sendbird.com", f.transport == "tcp" ? "sni" : "dns"});
    return f;
}

TEST(Attribute, AnsweredFlowOfANamedEntryIsObserved) {
    const uint32_t entry = sendbird_entry();
    RunFacts facts;
    facts.capture_end = 130;
    FlowFacts f = flow_to(entry, 1);
    f.packets_c2s = 5;
    f.packets_s2c = 4;
    if (f.transport == "tcp") {
        f.syn_count = f.synack_count = 1;
        f.first_syn_ts = f.last_syn_ts = 100;
        f.state = "SF";
    } else {
        f.state = "answered";
    }
    facts.flows.push_back(f);
    const Result r = attribute(facts, bundled_catalog());
    ASSERT_EQ(r.flows.size(), 1u);
    EXPECT_EQ(r.flows[0].outcome.outcome, Outcome::Observed);
    EXPECT_EQ(r.flows[0].outcome_column, "observed");
    EXPECT_EQ(r.verdicts.entries.at(entry).verdict, Verdict::Observed);
    EXPECT_EQ(r.verdicts.entries.at(entry).evidence_flows, std::vector<uint64_t>{1});
    EXPECT_EQ(r.verdicts.flows, 1u);
    EXPECT_EQ(r.verdicts.matched_flows, 1u);
    EXPECT_EQ(r.verdicts.outcomes_written, 0u) << "the pure stage writes nothing";
    bool counted = false;
    for (const auto& m : r.flows[0].matches) counted |= m.match.entry == entry && m.counted;
    EXPECT_TRUE(counted);
    EXPECT_FALSE(r.verdicts.products.empty()) << "the vendor is active by the flow's name";
}

TEST(Attribute, UnansweredRetriesBlockAndDnsFailuresCount) {
    const uint32_t entry = sendbird_entry();
    RunFacts facts;
    facts.capture_end = 130;
    FlowFacts f = flow_to(entry, 7);
    f.packets_c2s = 3;
    if (f.transport == "tcp") {
        f.syn_count = 3;
        f.first_syn_ts = 100;
        f.last_syn_ts = 103;
        f.state = "S0";
    } else {
        f.stun_requests = 3;
        f.stun_retransmissions = 2;
        f.last_ts = 103.5;
        f.state = "one-way";
        f.app = "stun";
    }
    facts.flows.push_back(f);
    // An answered lookup: the capture holds both directions (a capture of
    // one direction only would judge the silent flow inconclusive).
    FlowFacts lookup;
    lookup.id = 8;
    lookup.transport = "udp";
    lookup.client_ip = "10.0.0.5";
    lookup.server_ip = "10.0.0.1";
    lookup.client_port = 40000;
    lookup.server_port = 53;
    lookup.first_ts = 99;
    lookup.last_ts = 99.01;
    lookup.packets_c2s = lookup.packets_s2c = 1;
    lookup.state = "answered";
    lookup.app = "dns";
    facts.flows.push_back(lookup);
    const Result r = attribute(facts, bundled_catalog());
    ASSERT_EQ(r.flows.size(), 2u);
    EXPECT_EQ(r.verdicts.one_direction.flows(), 0u);
    EXPECT_EQ(r.flows[0].outcome.outcome, Outcome::Blocked) << r.flows[0].outcome.reason;
    EXPECT_EQ(r.verdicts.entries.at(entry).verdict, Verdict::Blocked);
    EXPECT_EQ(r.flows[0].outcome_column.rfind("blocked:", 0), 0u) << r.flows[0].outcome_column;

    // DNS alone: queries given out of order are grouped by name.
    RunFacts dns;
    dns.dns_queries = {{"a.calls.sendbird.com", false, "", 0},
                       {"b.calls.sendbird.com", true, "NOERROR", 2},
                       {"a.calls.sendbird.com", true, "NXDOMAIN", 0}};
    const Result d = attribute(dns, bundled_catalog());
    EXPECT_EQ(d.verdicts.entries.at(entry).verdict, Verdict::Blocked);
    EXPECT_EQ(d.verdicts.entries.at(entry).why, "query for a.calls.sendbird.com: DNS NXDOMAIN");
    EXPECT_TRUE(d.flows.empty());
}

// Reads a stored run's facts the way run_attribution does, all at once; its
// DNS questions one by one from their dns_query rows (analyze_files keeps
// them), where run_attribution reads them counted per name (dns_name).
RunFacts stored_facts(store::Store& s, int64_t run) {
    store::AttributionIo io(s, run);
    RunFacts facts;
    int64_t evicted = 0;
    io.read_run(facts.capture_end, evicted);
    facts.table_overflowed = evicted > 0;
    std::vector<FlowFacts> page;
    for (uint64_t after = 0;;) {
        io.read_flow_page(after, 4096, page);
        if (page.empty()) break;
        after = page.back().id;
        for (auto& f : page) facts.flows.push_back(std::move(f));
    }
    for (const std::string& row : test::query_rows(
             s.path(), "SELECT qname, answered, coalesce(rcode, ''), answers FROM dns_query WHERE run_id=" +
                           std::to_string(run) + " ORDER BY qname, rowid")) {
        std::istringstream in(row);
        std::string qname, answered, rcode, answers;
        std::getline(in, qname, '\t');
        std::getline(in, answered, '\t');
        std::getline(in, rcode, '\t');
        std::getline(in, answers, '\t');
        facts.dns_queries.push_back(
            {qname, answered == "1", rcode, static_cast<uint32_t>(std::stoul(answers.empty() ? "0" : answers))});
    }
    return facts;
}

TEST(Attribute, AgreesWithRunAttributionOnEveryScenario) {
    const std::filesystem::path dir = std::filesystem::path(test::source_dir()) / "captures" / "scenarios";
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no captures/scenarios in " << dir;
    int scenarios = 0;
    for (const auto& capture : test::captures_in(dir.string())) {
        SCOPED_TRACE(capture.filename().string());
        ++scenarios;
        test::TempDb db;
        const int64_t run = test::analyze_files({capture.string()}, db.path());
        auto s = store::Store::open(db.path());
        const Result pure = attribute(stored_facts(*s, run), bundled_catalog());
        const RunVerdicts written = run_attribution(*s, run, bundled_catalog());
        ASSERT_EQ(pure.verdicts.entries.size(), written.entries.size());
        for (size_t i = 0; i < written.entries.size(); ++i) {
            const auto& a = pure.verdicts.entries[i];
            const auto& b = written.entries[i];
            EXPECT_EQ(a.verdict, b.verdict) << bundled_catalog().entries()[i].id;
            EXPECT_EQ(a.why, b.why) << bundled_catalog().entries()[i].id;
            EXPECT_EQ(a.reasons, b.reasons);
            EXPECT_EQ(a.evidence_flows, b.evidence_flows);
            EXPECT_EQ(a.origin, b.origin);
        }
        ASSERT_EQ(pure.verdicts.products.size(), written.products.size());
        for (size_t i = 0; i < written.products.size(); ++i) {
            EXPECT_EQ(pure.verdicts.products[i].conclusion, written.products[i].conclusion);
            EXPECT_EQ(pure.verdicts.products[i].detail, written.products[i].detail);
        }
        EXPECT_EQ(pure.verdicts.active_vendors, written.active_vendors);
        EXPECT_EQ(pure.verdicts.flows, written.flows);
        EXPECT_EQ(pure.verdicts.matched_flows, written.matched_flows);
        EXPECT_EQ(pure.verdicts.vendor_gap_flows, written.vendor_gap_flows);
        EXPECT_EQ(pure.verdicts.other_flows, written.other_flows);
        // Every flow's outcome as the database now holds it.
        const auto rows =
            test::query_rows(db.path(), "SELECT id, outcome FROM flow WHERE run_id=" + std::to_string(run) +
                                            " AND transport IN ('tcp','udp') ORDER BY id");
        ASSERT_EQ(rows.size(), pure.flows.size());
        for (size_t i = 0; i < rows.size(); ++i)
            EXPECT_EQ(rows[i], std::to_string(pure.flows[i].flow_id) + "\t" + pure.flows[i].outcome_column);
    }
    EXPECT_GT(scenarios, 5);
}

}  // namespace
}  // namespace callwall::attrib
