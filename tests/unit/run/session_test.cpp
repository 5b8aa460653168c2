// run::Session without a network: a file's packets through a session, the
// run row it keeps, the final attribution, and a Ctrl-C during attribution
// (the cancelled pass writes nothing and the run is marked interrupted).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "callwall/capture/pcap_source.hpp"
#include "callwall/catalog/catalog.hpp"
#include "callwall/run/session.hpp"
#include "golden/run_util.hpp"
#include "store/store.hpp"

namespace callwall::run {
namespace {

namespace fs = std::filesystem;

const catalog::Catalog& bundled() {
    static const catalog::Catalog c = [] {
        const fs::path dir = catalog::bundled_catalog_dir();
        auto r = catalog::load(std::span<const fs::path>(&dir, 1));
        if (!r.ok()) {
            for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
            return catalog::Catalog{};
        }
        return std::move(*r.catalog);
    }();
    return c;
}

// A session over captures/scenarios/whereby.pcap, finished as completed.
std::unique_ptr<Session> read_whereby(const test::TempDb& db) {
    const std::string pcap = test::source_dir() + "/captures/scenarios/whereby.pcap";
    Options o;
    o.db_path = db.path();
    o.kind = "analyze";
    o.sources = {pcap};
    o.command_line = "session_test";
    o.catalog = &bundled();
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
    o.catalog = &bundled();
    o.events_path = "/nonexistent-dir/events.jsonl";
    EXPECT_THROW(Session{o}, EventsError);
    EXPECT_FALSE(fs::exists(db.path())) << "the database was not touched";
}

}  // namespace
}  // namespace callwall::run
