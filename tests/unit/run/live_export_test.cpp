// A live run's --export: the rows the run wrote or changed since the last
// refresh, through a writer, never a row again unchanged.
#include "run/live_export.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "golden/run_util.hpp"
#include "records/attribution.hpp"
#include "store/attribution_io.hpp"
#include "store/store.hpp"

namespace callwall::run {
namespace {

using test::TempDb;

flow::Flow sample_flow(uint64_t id, uint64_t packets) {
    flow::Flow f;
    f.id = id;
    f.proto = decode::kProtoUdp;
    EXPECT_TRUE(decode::parse_ip("10.0.0.1", f.client_ip));
    EXPECT_TRUE(decode::parse_ip("192.0.2.7", f.server_ip));
    f.client_port = 5000;
    f.server_port = 3478;
    f.packets[0] = packets;
    f.first_ts_us = 1'767'225'600'000'000;
    f.last_ts_us = f.first_ts_us + 1'500'000;
    return f;
}

std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// The verdict rows attribution writes at a refresh: the run's cleared first.
void write_verdicts(store::Store& s, int64_t run, const std::vector<std::pair<const char*, const char*>>& verdicts) {
    store::AttributionIo io(s, run, store::AttributionIo::ReadsNothing{});
    io.begin_writing();
    for (const auto& [entry, verdict] : verdicts) {
        records::Verdict v;
        v.entry_id = entry;
        v.verdict = verdict;
        v.reasons = "[]";
        v.ports_observed = v.ports_blocked = v.evidence_flows = "[]";
        io.write(v);
    }
    io.commit();
}

struct Files {
    TempDb db;
    std::string flows = db.path() + ".flows.csv", names = db.path() + ".names.jsonl",
                verdicts = db.path() + ".verdicts.jsonl";
    ~Files() {
        for (const auto& p : {flows, names, verdicts}) std::filesystem::remove(p);
    }
};

TEST(LiveExport, RowsWrittenOrChangedSinceTheLastRefreshEachOnce) {
    Files f;
    auto s = store::Store::open(f.db.path());
    s->write_behind(true);
    const int64_t run = s->begin_run(store::RunInfo{"capture", "veth0", "x", "", 1.0, {"veth0"}});
    std::vector<ExportSpec> specs(3);
    ASSERT_EQ(parse_export_spec("flow:csv:" + f.flows, specs[0]), "");
    ASSERT_EQ(parse_export_spec("flow_name:jsonl:" + f.names, specs[1]), "");
    ASSERT_EQ(parse_export_spec("verdict:jsonl:" + f.verdicts, specs[2]), "");
    LiveExports exports(specs);
    ASSERT_EQ(exports.error(), "");
    exports.watch(*s);

    // A refresh: a live flow's row, its name, two verdicts.
    s->add_flow(run, sample_flow(1, 3), {});
    records::FlowName name;
    name.flow_id = 1;
    name.name = "turn.example.com";
    name.source = "sni";
    s->add(run, name);
    write_verdicts(*s, run, {{"x.media.udp", "not_exercised"}, {"x.signal.tcp", "observed"}});
    exports.write(*s, run);
    std::vector<std::string> flows = lines(f.flows);
    ASSERT_EQ(flows.size(), 2u);
    EXPECT_EQ(flows[0].rfind("run_id,id,transport,client_ip,client_port,server_ip,server_port,", 0), 0u) << flows[0];
    EXPECT_EQ(flows[1].rfind(std::to_string(run) + ",1,udp,10.0.0.1,5000,192.0.2.7,3478,", 0), 0u) << flows[1];
    EXPECT_EQ(lines(f.names),
              std::vector<std::string>{"{\"run_id\":" + std::to_string(run) +
                                       ",\"flow_id\":1,\"name\":\"turn.example.com\",\"source\":\"sni\"}"});
    std::vector<std::string> verdicts = lines(f.verdicts);
    ASSERT_EQ(verdicts.size(), 2u);
    EXPECT_NE(verdicts[0].find("\"entry_id\":\"x.media.udp\",\"verdict\":\"not_exercised\""), std::string::npos);
    EXPECT_NE(verdicts[1].find("\"entry_id\":\"x.signal.tcp\",\"verdict\":\"observed\""), std::string::npos);

    // The next refresh rewrites the same verdicts and the same flow row:
    // nothing new is written.
    s->replace_flow(run, sample_flow(1, 3), {});
    write_verdicts(*s, run, {{"x.media.udp", "not_exercised"}, {"x.signal.tcp", "observed"}});
    exports.write(*s, run);
    EXPECT_EQ(lines(f.flows).size(), 2u);
    EXPECT_EQ(lines(f.names).size(), 1u);
    EXPECT_EQ(lines(f.verdicts).size(), 2u);

    // Then the flow grows, one verdict changes, a second flow ends: each once.
    s->replace_flow(run, sample_flow(1, 40), {});
    s->add_flow(run, sample_flow(2, 1), {});
    write_verdicts(*s, run, {{"x.media.udp", "observed"}, {"x.signal.tcp", "observed"}});
    exports.write(*s, run);
    flows = lines(f.flows);
    ASSERT_EQ(flows.size(), 4u);
    EXPECT_EQ(flows[2].rfind(std::to_string(run) + ",1,", 0), 0u) << flows[2];
    EXPECT_NE(flows[2].find(",40,"), std::string::npos) << flows[2];  // packets_c2s
    EXPECT_EQ(flows[3].rfind(std::to_string(run) + ",2,", 0), 0u) << flows[3];
    verdicts = lines(f.verdicts);
    ASSERT_EQ(verdicts.size(), 3u);
    EXPECT_NE(verdicts[2].find("\"entry_id\":\"x.media.udp\",\"verdict\":\"observed\""), std::string::npos);

    // A refresh with nothing written writes nothing.
    exports.write(*s, run);
    EXPECT_EQ(lines(f.flows).size(), 4u);
    EXPECT_EQ(lines(f.verdicts).size(), 3u);
    EXPECT_EQ(exports.error(), "");
    s->watch_rows({});  // the exports go before the store
    s->sync_writes();
}

TEST(LiveExport, ACsvFileKeepsItsOneHeaderAndOtherColumnsAreRefused) {
    Files f;
    auto s = store::Store::open(f.db.path());
    const int64_t run = s->begin_run(store::RunInfo{"capture", "veth0", "x", "", 1.0, {"veth0"}});
    std::vector<ExportSpec> specs(1);
    ASSERT_EQ(parse_export_spec("flow:csv:" + f.flows, specs[0]), "");
    s->add_flow(run, sample_flow(1, 3), {});
    {
        LiveExports first(specs);
        first.watch(*s);
        first.write(*s, run);  // the rows written before the watch began too
        s->watch_rows({});
    }
    ASSERT_EQ(lines(f.flows).size(), 2u);
    // A second capture appending to the same file: no second header.
    const int64_t run2 = s->begin_run(store::RunInfo{"capture", "veth0", "x", "", 2.0, {"veth0"}});
    s->add_flow(run2, sample_flow(1, 5), {});
    {
        LiveExports again(specs);
        again.watch(*s);
        again.write(*s, run2);
        s->watch_rows({});
        EXPECT_EQ(again.error(), "");
    }
    const std::vector<std::string> flows = lines(f.flows);
    ASSERT_EQ(flows.size(), 3u);
    EXPECT_EQ(flows[2].rfind(std::to_string(run2) + ",1,", 0), 0u) << flows[2];
    // Another record's rows are not appended under the flows' header.
    std::vector<ExportSpec> other(1);
    ASSERT_EQ(parse_export_spec("flow_name:csv:" + f.flows, other[0]), "");
    {
        LiveExports wrong(other);
        wrong.watch(*s);
        wrong.write(*s, run2);
        s->watch_rows({});
        EXPECT_NE(wrong.error().find("holds other columns than flow_name's"), std::string::npos) << wrong.error();
    }
    EXPECT_EQ(lines(f.flows).size(), 3u);
}

TEST(LiveExport, SpecsNameARecordAFormatAndAFile) {
    ExportSpec s;
    EXPECT_EQ(parse_export_spec("verdict:jsonl:/tmp/a:b.jsonl", s), "");
    EXPECT_EQ(s.record, "verdict");
    EXPECT_EQ(s.format, "jsonl");
    EXPECT_EQ(s.path, "/tmp/a:b.jsonl");
    EXPECT_NE(parse_export_spec("verdict:jsonl", s).find("expected RECORD:FORMAT:FILE"), std::string::npos);
    EXPECT_NE(parse_export_spec("verdicts:jsonl:x", s).find("no record 'verdicts' (one of: flow, flow_name,"),
              std::string::npos);
    EXPECT_NE(parse_export_spec("verdict:xml:x", s).find("no format 'xml' (one of: csv, jsonl)"), std::string::npos);
    EXPECT_NE(parse_export_spec("verdict:csv:-", s).find("standard output"), std::string::npos);
}

}  // namespace
}  // namespace callwall::run
