// run::Session without a network: a file's packets through a session, the
// run row it keeps, the final attribution, and a Ctrl-C during attribution
// (the cancelled pass writes nothing and the run is marked interrupted).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "callwall/capture/pcap_source.hpp"
#include "callwall/catalog/catalog.hpp"
#include "callwall/run/session.hpp"
#include "golden/run_util.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::run {
namespace {

namespace fs = std::filesystem;

using test::bundled_catalog;

// A session over captures/scenarios/whereby.pcap, finished as completed.
std::unique_ptr<Session> read_whereby(const test::TempDb& db) {
    const std::string pcap = test::source_dir() + "/captures/scenarios/whereby.pcap";
    Options o;
    o.db_path = db.path();
    o.kind = "analyze";
    o.sources = {pcap};
    o.command_line = "session_test";
    o.catalog = &bundled_catalog();
    o.checkpoint_packets = 64;
    auto s = std::make_unique<Session>(std::move(o));
    auto src = capture::PcapSource::open_file(pcap);
    capture::RawFrame f;
    int checkpoints = 0;
    while (src->next(f) == capture::NextStatus::Frame) checkpoints += s->process(f) ? 1 : 0;
    EXPECT_EQ(checkpoints, 282 / 64);  // whereby.pcap has 282 packets
    s->finish(Status::Completed);
    return s;
}

TEST(Session, ReadsAttributesAndFinishesTheRun) {
    if (!fs::exists(test::source_dir() + "/captures/scenarios/whereby.pcap")) GTEST_SKIP() << "whereby.pcap is missing";
    test::TempDb db;
    auto s = read_whereby(db);
    const std::optional<attrib::RunVerdicts> v = s->attribute();
    ASSERT_TRUE(v.has_value());
    EXPECT_GT(v->matched_flows, 0u);
    s.reset();
    EXPECT_EQ(test::query_rows(db.path(), "SELECT kind, status, packets FROM run"),
              std::vector<std::string>{"analyze\tcompleted\t282"});
    EXPECT_EQ(test::query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id='whereby.signaling.tcp'"),
              std::vector<std::string>{"observed"});
}

TEST(Session, CtrlCDuringAttributionWritesNothingAndMarksTheRunInterrupted) {
    if (!fs::exists(test::source_dir() + "/captures/scenarios/whereby.pcap")) GTEST_SKIP() << "whereby.pcap is missing";
    test::TempDb db;
    auto s = read_whereby(db);
    int asked = 0;
    const std::optional<attrib::RunVerdicts> v = s->attribute([&] { return ++asked >= 2; });
    EXPECT_FALSE(v.has_value());
    EXPECT_EQ(asked, 2) << "asked again after the first check, and stopped at once";
    s.reset();
    EXPECT_EQ(test::query_rows(db.path(), "SELECT status, notes FROM run"),
              std::vector<std::string>{"interrupted\tattribution interrupted: no verdicts written\n"});
    EXPECT_EQ(test::query_rows(db.path(), "SELECT count(*) FROM verdict"), std::vector<std::string>{"0"});
    EXPECT_EQ(test::query_rows(db.path(), "SELECT count(*) FROM flow_match"), std::vector<std::string>{"0"});
    EXPECT_EQ(test::query_rows(db.path(), "SELECT count(*) > 0 FROM flow"), std::vector<std::string>{"1"})
        << "the flows read are kept";
}

TEST(Session, AnEventFileThatCannotBeOpenedIsRefusedBeforeTheDatabase) {
    test::TempDb db;
    Options o;
    o.db_path = db.path();
    o.kind = "analyze";
    o.catalog = &bundled_catalog();
    o.events_path = "/nonexistent-dir/events.jsonl";
    EXPECT_THROW(Session{o}, EventsError);
    EXPECT_FALSE(fs::exists(db.path())) << "the database was not touched";
}

// Everything a live run leaves that attribution and the refresh write, in a fixed order.
std::vector<std::string> live_rows(const std::string& db) {
    std::vector<std::string> all;
    for (const char* sql :
         {"SELECT 'flow', * FROM flow ORDER BY id",
          "SELECT 'match', flow_id, entry_id, evidence, confidence, name, counted FROM flow_match ORDER BY 2, 3",
          "SELECT 'gap', flow_id, vendor, name FROM unmatched_flow ORDER BY 2, 3, 4",
          "SELECT 'verdict', * FROM verdict ORDER BY entry_id",
          "SELECT 'product', vendor, product, edition, conclusion, detail FROM product_verdict ORDER BY 2, 3, 4",
          "SELECT 'name', * FROM flow_name ORDER BY rowid", "SELECT 'dns', * FROM dns_query ORDER BY rowid",
          "SELECT 'dns name', * FROM dns_name ORDER BY rowid", "SELECT 'stun', * FROM stun_message ORDER BY rowid",
          "SELECT 'run', status, packets, flows, notes FROM run ORDER BY id"}) {
        const auto rows = test::query_rows(db, sql);
        all.insert(all.end(), rows.begin(), rows.end());
    }
    return all;
}

// `capture` writes through the store's thread and attributes each refresh
// there (Store::write_behind, Store::defer); a live run read from every
// committed capture, ticked every 32 frames (at most ~48 times per capture),
// leaves the same rows and verdicts at every refresh (once the store's
// thread caught up) and at the end as the same run written inline.
TEST(Session, WriteBehindLeavesWhatInlineWritingLeavesAtEveryRefresh) {
    const std::vector<fs::path> captures = test::equivalence_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir() << "/captures";
    size_t compared = 0, refreshes = 0;
    for (const fs::path& pcap : captures) {
        std::unique_ptr<capture::PcapSource> probe;
        try {
            probe = capture::PcapSource::open_file(pcap.string());
        } catch (const std::exception&) {
            continue;  // the hostile and damaged ones that do not open
        }
        // At most ~48 refreshes per capture (every 32 frames on the small ones).
        uint64_t frames = 0;
        for (capture::RawFrame f; probe->next(f) == capture::NextStatus::Frame;) ++frames;
        const uint64_t every = std::max<uint64_t>(32, frames / 48);
        test::TempDb dbs[2];
        std::vector<std::vector<std::string>> at_refresh[2];
        for (const bool behind : {false, true}) {
            Options o;
            o.db_path = dbs[behind].path();
            o.kind = "capture";
            o.sources = {pcap.string()};
            o.command_line = "session_test";
            o.catalog = &bundled_catalog();
            o.checkpoint_packets = 0;
            o.refresh_s = 1;
            o.write_behind = behind;
            Session s(std::move(o));
            auto src = capture::PcapSource::open_file(pcap.string());
            capture::RawFrame f;
            double now = 1e6;
            uint64_t n = 0;
            while (src->next(f) == capture::NextStatus::Frame) {
                s.process(f);
                if (++n % every != 0) continue;
                now += 100;  // always due: every tick refreshes and attributes
                s.tick(now);
                s.store().sync_writes();
                at_refresh[behind].push_back(live_rows(dbs[behind].path()));
            }
            s.finish(Status::Completed);
            ASSERT_TRUE(s.attribute().has_value()) << pcap;
        }
        ASSERT_EQ(at_refresh[0].size(), at_refresh[1].size());
        for (size_t i = 0; i < at_refresh[0].size(); ++i)
            ASSERT_EQ(at_refresh[0][i], at_refresh[1][i]) << pcap << ": refresh " << i;
        ASSERT_EQ(live_rows(dbs[0].path()), live_rows(dbs[1].path())) << pcap << ": at the end";
        refreshes += at_refresh[0].size();
        ++compared;
    }
    EXPECT_GT(compared, 20u);
    EXPECT_GT(refreshes, 100u);
}

}  // namespace
}  // namespace callwall::run
