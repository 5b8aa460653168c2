// Attribution's flow_match rows, written several to one INSERT: the rows and
// their order are those given, whatever the records' text pointed into, and
// a flow's matches cleared in a live refresh are its own alone.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "golden/run_util.hpp"
#include "store/attribution_io.hpp"
#include "store/store.hpp"

namespace callwall::store {
namespace {

using test::query_rows;
using test::TempDb;

constexpr const char* kMatchRows =
    "SELECT run_id, flow_id, entry_id, evidence, confidence, name, counted FROM flow_match ORDER BY rowid";

int64_t run_with_flows(Store& s, uint64_t flows) {
    const int64_t run = s.begin_run(RunInfo{"analyze", "x.pcap", "x", "", 1.0});
    for (uint64_t id = 1; id <= flows; ++id) {
        flow::Flow f;
        f.id = id;
        f.proto = decode::kProtoUdp;
        EXPECT_TRUE(decode::parse_ip("10.0.0.1", f.client_ip));
        EXPECT_TRUE(decode::parse_ip("192.0.2.7", f.server_ip));
        f.client_port = static_cast<uint16_t>(5000 + id);
        f.server_port = 3478;
        f.packets[0] = 1;
        s.add_flow(run, f, {});
    }
    return run;
}

// The match of flow `flow` to the entry numbered `entry`; `text` holds its
// strings (longer than a short string's buffer), as the caller's result
// would, and is overwritten once the record is given.
records::FlowMatch match(uint64_t flow, int entry, std::string& text) {
    text = "entry-with-a-long-identifier-" + std::to_string(entry) + "|evidence: the flow's server name " +
           std::to_string(flow) + "|media-" + std::to_string(flow) + ".relay.example.com";
    const std::string_view all = text;
    const size_t a = all.find('|'), b = all.find('|', a + 1);
    records::FlowMatch m;
    m.flow_id = static_cast<int64_t>(flow);
    m.entry_id = all.substr(0, a);
    m.evidence = all.substr(a + 1, b - a - 1);
    m.confidence = 0.25 * (entry % 4);
    m.name = all.substr(b + 1);
    m.counted = entry % 2;
    return m;
}

std::string row_of(int64_t run, uint64_t flow, int entry) {
    std::string text;
    const records::FlowMatch m = match(flow, entry, text);
    std::string conf = std::to_string(m.confidence);
    conf.erase(conf.find_last_not_of('0') + 1);
    if (conf.back() == '.') conf += '0';
    return std::to_string(run) + "\t" + std::to_string(flow) + "\t" + std::string(m.entry_id) + "\t" +
           std::string(m.evidence) + "\t" + conf + "\t" + std::string(m.name) + "\t" + std::to_string(m.counted);
}

// 37 matches: two full groups and five left at the commit. Each record's
// text is overwritten right after it is given, so a row that kept a view
// of it instead of a copy would read another row's text.
TEST(FlowMatchRows, ManyToAStatementAreTheRowsGivenInTheirOrder) {
    TempDb db;
    std::vector<std::string> expected;
    {
        auto s = Store::open(db.path());
        const int64_t run = run_with_flows(*s, 40);
        AttributionIo io(*s, run);
        io.begin_writing();
        std::string text;
        for (int i = 0; i < 37; ++i) {
            const uint64_t flow = 1 + static_cast<uint64_t>(i) % 40;
            io.write(match(flow, i, text));
            text.assign(text.size(), '#');
            expected.push_back(row_of(run, flow, i));
        }
        io.commit();
    }
    EXPECT_EQ(query_rows(db.path(), kMatchRows), expected);
}

// A live refresh clears a flow's rows before writing them again. A match of
// another flow still waiting for its INSERT is written first, and kept;
// the cleared flow keeps only its new matches.
TEST(FlowMatchRows, AFlowClearedWhileOthersWaitLosesOnlyItsOwn) {
    TempDb db;
    {
        auto s = Store::open(db.path());
        const int64_t run = run_with_flows(*s, 8);
        std::string text;
        {
            AttributionIo io(*s, run);
            io.begin_writing();
            for (uint64_t flow = 1; flow <= 5; ++flow) io.write(match(flow, 1, text));
            io.commit();
        }
        AttributionIo io(*s, run);
        io.begin_rewriting();
        io.write(match(7, 2, text));  // waits
        io.clear_flow(3);
        io.write(match(3, 3, text));
        io.clear_flow(7);  // the match written above goes with it
        io.commit();
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT flow_id || ':' || substr(entry_id, -1) FROM flow_match ORDER BY rowid"),
              (std::vector<std::string>{"1:1", "2:1", "4:1", "5:1", "3:3"}));
}

}  // namespace
}  // namespace callwall::store
