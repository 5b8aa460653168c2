// run::Session without a network: a file's packets through a session, the
// run row it keeps, the final attribution, and a Ctrl-C during attribution
// (the cancelled pass writes nothing and the run is marked interrupted).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "catalog/catalog.hpp"
#include "run/session.hpp"
#include "golden/run_util.hpp"
#include "store/store.hpp"
#include "pipeline/analyzers/stun.hpp"
#include "unit/corpus.hpp"
#include "unit/test_util.hpp"

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
    decode::RawFrame f;
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
        for (decode::RawFrame f; probe->next(f) == capture::NextStatus::Frame;) ++frames;
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
            decode::RawFrame f;
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

// ---- a probe's run: its flows all alive at once, its capture's end ----

constexpr int64_t kT0Us = 1'767'225'600'000'000;
constexpr uint32_t kClientIp = 0x0A000005, kServerIp = 0xC6336407;  // 10.0.0.5, 198.51.100.7

struct Timed {
    double at_s;  ///< after kT0Us
    std::vector<uint8_t> bytes;
};

// The frames, in time order, through the session.
void feed(Session& s, std::vector<Timed> frames) {
    std::stable_sort(frames.begin(), frames.end(), [](const Timed& a, const Timed& b) { return a.at_s < b.at_s; });
    for (const Timed& t : frames) {
        decode::RawFrame f;
        f.ts_us = kT0Us + static_cast<int64_t>(t.at_s * 1e6);
        f.linktype = 1;
        f.caplen = f.wirelen = static_cast<uint32_t>(t.bytes.size());
        f.bytes = ByteView(t.bytes.data(), t.bytes.size());
        s.process(f);
    }
}

// A STUN Binding request (RFC 8489 §5: no attributes) whose transaction id holds `n`.
std::vector<uint8_t> binding_request(uint32_t n) {
    std::vector<uint8_t> m = test::hex("0001 0000 2112a442 000000000000000000000000");
    std::memcpy(m.data() + 16, &n, sizeof n);
    return m;
}

Options probe_run(const test::TempDb& db) {
    Options o;
    o.db_path = db.path();
    o.kind = "probe";
    o.sources = {"test0"};
    o.command_line = "session_test";
    o.catalog = &bundled_catalog();
    o.per_message_rows = false;
    // As `probe` does, the run knows its flows (here it adds nothing): a
    // probe captures both directions of its own sockets, so its silence is
    // never a capture of one direction.
    o.flow_context = [](const attrib::FlowFacts&, attrib::FlowContext&) {};
    return o;
}

// A sweep's flows are all alive at once (a UDP flow idles out after 120 s; a
// sweep of 64,512 ports takes 33-65 s), many more than the STUN decoder's
// default pool holds. A run told how many flows it holds (a probe: one per
// probe) gives each its slot, so every swept port keeps its request and its
// retransmission (blocked: stun-timeout); by default the flows past the
// pool's bound lose them, and the run's notes say so.
TEST(Session, EveryFlowOfAProbeKeepsItsStunFactsWhenManyMoreThanTheDefaultPoolAreAlive) {
    constexpr uint32_t kFlows = pipeline::StunTurn::kSlots + 3000;
    std::vector<Timed> frames;
    frames.reserve(2 * kFlows);
    for (uint32_t i = 0; i < kFlows; ++i) {
        const double at = i / 2000.0;  // the fastest sweep: 2,000 ports a second
        const auto request = binding_request(i);
        const auto port = static_cast<uint16_t>(20000 + i);  // above every tunnel port (2152-8472)
        frames.push_back({at, test::udp_frame(kClientIp, kServerIp, 40000, port, request)});
        frames.push_back({at + 0.5, test::udp_frame(kClientIp, kServerIp, 40000, port, request)});
    }
    for (const bool sized : {false, true}) {
        SCOPED_TRACE(sized ? "sized for the probe's flows" : "default pools");
        test::TempDb db;
        Options o = probe_run(db);
        if (sized) o.decoder_flows = kFlows;
        Session s(std::move(o));
        feed(s, frames);
        s.finish(Status::Completed);
        ASSERT_TRUE(s.attribute().has_value());
        const auto with_facts = test::query_rows(
            db.path(), "SELECT count(*) FROM flow WHERE stun_requests = 1 AND stun_retransmissions = 1");
        const auto notes = test::query_rows(db.path(), "SELECT notes FROM run");
        ASSERT_EQ(notes.size(), 1u);
        if (!sized) {
            // The case is one the default pool cannot hold (else it shows nothing).
            EXPECT_LT(std::stoul(with_facts.at(0)), kFlows);
            EXPECT_NE(notes[0].find("times a flow got no decoder buffer"), std::string::npos) << notes[0];
            continue;
        }
        EXPECT_EQ(with_facts, std::vector<std::string>{std::to_string(kFlows)});
        EXPECT_EQ(notes[0].find("no decoder buffer"), std::string::npos) << notes[0];
        EXPECT_EQ(test::query_rows(db.path(), "SELECT outcome, count(*) FROM flow GROUP BY outcome"),
                  std::vector<std::string>{"blocked:stun-timeout\t" + std::to_string(kFlows)});
    }
}

// A probe waits after its last send before it stops capturing: the run's end
// is that time, not its last packet's, so an attempt sent last is judged by
// how long the capture really went on after it (attrib::kNoAnswerWaitS).
TEST(Session, AnAttemptNearTheEndIsJudgedByWhenTheCaptureStopped) {
    const std::vector<uint8_t> datagram(40, 0xEE);  // none of the decoders' protocols
    const std::vector<Timed> frames = {
        {0.0, test::udp_frame(kClientIp, kServerIp, 40000, 5000, datagram)},
        {0.4, test::udp_frame(kClientIp, kServerIp, 40001, 3478, binding_request(7))},
        {0.5, test::udp_frame(kClientIp, kServerIp, 40000, 5000, datagram)},
    };
    const auto judged = [&](double ran_until_s, std::vector<std::string>* span) {
        test::TempDb db;
        Session s(probe_run(db));
        feed(s, frames);
        if (ran_until_s > 0) s.capture_ran_until(static_cast<double>(kT0Us) / 1e6 + ran_until_s);
        s.finish(Status::Completed);
        EXPECT_TRUE(s.attribute().has_value());
        *span = test::query_rows(db.path(), "SELECT printf('%.1f', last_ts - first_ts) FROM run");
        return test::query_rows(db.path(), "SELECT server_port, outcome FROM flow ORDER BY server_port");
    };
    std::vector<std::string> span;
    EXPECT_EQ(judged(0, &span), (std::vector<std::string>{"3478\tinconclusive", "5000\tinconclusive"}));
    EXPECT_EQ(span, std::vector<std::string>{"0.5"});
    // Stopped 0.1 s after the last packet: still too soon to say.
    EXPECT_EQ(judged(0.6, &span), (std::vector<std::string>{"3478\tinconclusive", "5000\tinconclusive"}));
    EXPECT_EQ(span, std::vector<std::string>{"0.6"});
    // A time before the last packet changes nothing.
    EXPECT_EQ(judged(0.2, &span), (std::vector<std::string>{"3478\tinconclusive", "5000\tinconclusive"}));
    EXPECT_EQ(span, std::vector<std::string>{"0.5"});
    // Stopped 3.5 s after the last packet: both attempts waited long enough.
    EXPECT_EQ(judged(4.0, &span), (std::vector<std::string>{"3478\tblocked:stun-timeout", "5000\tblocked:no-answer"}));
    EXPECT_EQ(span, std::vector<std::string>{"4.0"});
}

}  // namespace
}  // namespace callwall::run
