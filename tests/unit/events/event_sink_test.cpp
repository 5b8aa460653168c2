// EventSink: the flow, name and dns events of a run, written while a capture
// is analysed. Every ended flow gives exactly one `flow` line whose fields are
// the flow's own (checked against what the analyzer wrote); vendor names and
// vendor DNS answers give `name` and `dns` lines, other names none.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "catalog/catalog.hpp"
#include "golden/run_util.hpp"
#include "events/event_sink.hpp"
#include "run/flow_ends.hpp"
#include "unit/corpus.hpp"

namespace callwall::pipeline {
namespace {

using events::EventSink;

namespace fs = std::filesystem;
using nlohmann::json;

using test::bundled_catalog;

struct EventRun {
    std::vector<json> lines;
    uint64_t flows_written = 0;
};

// Analyses `capture` without a store, with an EventSink writing to a temp file.
EventRun analyse(const std::string& capture) {
    const fs::path out = fs::temp_directory_path() / ("callwall-events-" + std::to_string(::getpid()) + ".jsonl");
    fs::remove(out);
    EventRun run;
    {
        events::EventLog log(out.string());
        EXPECT_TRUE(log.ok()) << log.error();
        EventSink sink(log, &bundled_catalog(), 7);
        AnalyzerConfig cfg;
        cfg.extra_sink = &sink;
        run::FlowEnds ends(nullptr, nullptr, &sink);
        Analyzer a({nullptr, &ends}, cfg);
        auto src = capture::PcapSource::open_file(capture);
        decode::RawFrame fr;
        while (src->next(fr) == capture::NextStatus::Frame) a.process(fr);
        a.finish();
        run.flows_written = a.flows_written();
        EXPECT_EQ(sink.flows(), run.flows_written);
        EXPECT_TRUE(log.ok()) << log.error();
    }
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) run.lines.push_back(json::parse(line));  // throws on a line that is not JSON
    fs::remove(out);
    return run;
}

std::vector<json> of_kind(const EventRun& r, const std::string& kind) {
    std::vector<json> v;
    for (const json& j : r.lines)
        if (j.at("event") == kind) v.push_back(j);
    return v;
}

std::string scenario(const std::string& name) {
    return (fs::path(test::source_dir()) / "captures" / "scenarios" / name).string();
}

TEST(EventSink, OneFlowLinePerEndedFlowWithItsOwnFields) {
    const std::string path = scenario("whereby.pcap");
    if (!fs::exists(path)) GTEST_SKIP() << path << " is missing";
    const EventRun r = analyse(path);
    const std::vector<json> flows = of_kind(r, "flow");
    ASSERT_GE(r.flows_written, 5u);
    EXPECT_EQ(flows.size(), r.flows_written);
    std::set<uint64_t> ids;
    for (const json& f : flows) {
        EXPECT_EQ(f.at("schema_version"), events::kSchemaVersion);
        EXPECT_EQ(f.at("run_id"), 7);
        EXPECT_TRUE(ids.insert(f.at("flow_id").get<uint64_t>()).second) << "flow twice: " << f.dump();
        const std::string cid = f.at("community_id");
        EXPECT_EQ(cid.rfind("1:", 0), 0u) << cid;
        EXPECT_EQ(cid.size(), 2u + 28u) << cid;  // base64 of a 20-byte SHA-1
        EXPECT_TRUE(f.at("proto") == "tcp" || f.at("proto") == "udp" || f.at("proto") == "icmp" ||
                    f.at("proto") == "unknown_transport")
            << f.dump();
        EXPECT_GE(f.at("duration").get<double>(), 0.0);
        EXPECT_GE(f.at("orig_pkts").get<uint64_t>(), 1u) << f.dump();
    }
}

// The flow line is a view of the flow record: each column of the record's
// list is on the line, as a Zeek field (kZeekViewedColumns) or under its own
// name (after the Zeek fields, in the table's order: events/record_json.hpp);
// a column added to the list is on it without another edit.
TEST(EventSink, EveryColumnOfTheFlowRecordIsOnTheFlowLine) {
    const std::string path = scenario("whereby.pcap");
    if (!fs::exists(path)) GTEST_SKIP() << path << " is missing";
    const EventRun r = analyse(path);
    const std::vector<json> flows = of_kind(r, "flow");
    ASSERT_FALSE(flows.empty());
    const auto viewed = [](std::string_view c) {
        for (const std::string_view v : events::kZeekViewedColumns)
            if (v == c) return true;
        return false;
    };
    for (const std::string_view v : events::kZeekViewedColumns) {
        bool a_column = false;
        for (const char* c : facts::kFlowColumns) a_column |= v == c;
        EXPECT_TRUE(a_column) << v << " is not a column of the flow record";
    }
    for (const json& f : flows) {
        for (const char* c : facts::kFlowColumns) {
            if (!viewed(c)) {
                EXPECT_TRUE(f.contains(c)) << c << " missing from " << f.dump();
            }
        }
    }
    // A few values as the flow's row holds them: NULL as null, counts as counts.
    const json& dns = flows.front();
    EXPECT_EQ(dns.at("app"), "dns");
    EXPECT_TRUE(dns.at("rst_ttl").is_null()) << dns.dump();
    EXPECT_EQ(dns.at("syn_count"), 0);
    EXPECT_EQ(dns.at("interfaces"), 1);
}

TEST(EventSink, VendorNamesAndAnswersOnlyForTheCatalogsNames) {
    const std::string path = scenario("whereby.pcap");
    if (!fs::exists(path)) GTEST_SKIP() << path << " is missing";
    const EventRun r = analyse(path);
    const std::vector<json> dns = of_kind(r, "dns");
    const std::vector<json> names = of_kind(r, "name");
    ASSERT_FALSE(dns.empty()) << "whereby.pcap resolves Whereby's names";
    ASSERT_FALSE(names.empty()) << "whereby.pcap has TLS to Whereby's names";
    for (const json& d : dns) {
        EXPECT_NE(d.at("vendor").get<std::string>().find("Whereby"), std::string::npos) << d.dump();
        const std::string qname = d.at("qname");
        EXPECT_GT(bundled_catalog().vendor_for_host(qname).count, 0u) << qname;
    }
    // Each name line belongs to a flow line with the same name and Community ID.
    std::map<uint64_t, json> flow_by_id;
    for (const json& f : of_kind(r, "flow")) flow_by_id[f.at("flow_id").get<uint64_t>()] = f;
    for (const json& n : names) {
        const auto it = flow_by_id.find(n.at("flow_id").get<uint64_t>());
        ASSERT_NE(it, flow_by_id.end()) << n.dump();
        EXPECT_EQ(n.at("community_id"), it->second.at("community_id"));
        EXPECT_EQ(n.at("name"), it->second.at("name"));
        EXPECT_GT(bundled_catalog().vendor_for_host(n.at("name").get<std::string>()).count, 0u);
    }
}

TEST(EventSink, NoCatalogMeansFlowLinesOnly) {
    const std::string path = scenario("whereby.pcap");
    if (!fs::exists(path)) GTEST_SKIP() << path << " is missing";
    const fs::path out = fs::temp_directory_path() / ("callwall-events-nocat-" + std::to_string(::getpid()) + ".jsonl");
    fs::remove(out);
    uint64_t written = 0;
    {
        events::EventLog log(out.string());
        EventSink sink(log, nullptr, 1);
        AnalyzerConfig cfg;
        cfg.extra_sink = &sink;
        run::FlowEnds ends(nullptr, nullptr, &sink);
        Analyzer a({nullptr, &ends}, cfg);
        auto src = capture::PcapSource::open_file(path);
        decode::RawFrame fr;
        while (src->next(fr) == capture::NextStatus::Frame) a.process(fr);
        a.finish();
        written = a.flows_written();
    }
    std::ifstream in(out);
    std::string line;
    uint64_t lines = 0;
    while (std::getline(in, line)) {
        EXPECT_EQ(json::parse(line).at("event"), "flow") << line;
        ++lines;
    }
    fs::remove(out);
    EXPECT_EQ(lines, written);
}

}  // namespace
}  // namespace callwall::pipeline
