// Analyzer::snapshot_changed, the live refresh that writes only the flows
// that changed: over every committed capture (ours and the field captures
// made by others), refreshed every 16 frames, the flow rows and flow names
// it leaves in the database are at every refresh the ones a full snapshot
// (every live flow rewritten) leaves — but for the outcome hint, which ages
// without packets and which the attribution after each refresh rewrites.
// And a refresh with nothing new writes nothing.
//
// With decoding workers (capture --workers, run/shards/shards.hpp) a refresh
// is a barrier across them: at every refresh the database holds the rows one
// thread's refresh leaves — every column, the outcome hint and the names
// too — and the refresh reports the same count and the same flow ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "attrib/flow_row.hpp"
#include "capture/pcap_source.hpp"
#include "golden/run_util.hpp"
#include "pipeline/analyzer.hpp"
#include "run/row_hook.hpp"
#include "run/store_analyzer.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"
#include "unit/test_util.hpp"

namespace callwall::pipeline {
namespace {

namespace fs = std::filesystem;

struct Side {
    test::TempDb db;
    std::unique_ptr<store::Store> store;
    run::RowHook hook{attrib::provisional_outcome};
    std::unique_ptr<run::StoreAnalyzer> wired;
    run::StoreAnalyzer* analyzer = nullptr;  ///< the run's packet path (wired)
    explicit Side(int workers = 1) {
        store = store::Store::open(db.path());
        store->write_behind(workers > 1);
        store::RunInfo info;
        info.kind = "capture";
        info.sources = {"snapshot_test"};
        const int64_t run = store->begin_run(info);
        AnalyzerConfig cfg;
        cfg.workers = workers;
        wired = std::make_unique<run::StoreAnalyzer>(store.get(), run, cfg, run::RowWiring{&hook});
        analyzer = wired.get();
        wired->track_written();
    }
    /// The flow ids written since the last call, sorted, without repeats.
    std::vector<uint64_t> written() {
        std::vector<uint64_t> ids;
        wired->take_written_ids(ids);
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        return ids;
    }
};

std::string flow_columns_but_outcome(const std::string& db) {
    std::string cols;
    for (const auto& c : test::query_rows(db, "SELECT name FROM pragma_table_info('flow') WHERE name != 'outcome'"))
        cols += (cols.empty() ? "" : ",") + c;
    return cols;
}

std::vector<std::string> rows(Side& s, const std::string& cols) {
    s.store->flush();
    s.store->sync_writes();
    auto flows = test::query_rows(s.db.path(), "SELECT " + cols + " FROM flow ORDER BY id");
    const auto names =
        test::query_rows(s.db.path(), "SELECT DISTINCT flow_id, name, source FROM flow_name ORDER BY 1, 2, 3");
    flows.insert(flows.end(), names.begin(), names.end());
    return flows;
}

TEST(Snapshot, ChangedFlowsOnlyLeaveTheRowsAFullSnapshotLeaves) {
    const auto captures = test::equivalence_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir() << "/captures";
    size_t compared = 0, skipped_writes = 0;
    for (const fs::path& pcap : captures) {
        SCOPED_TRACE(pcap.string());
        std::unique_ptr<capture::PcapSource> src;
        try {
            src = capture::PcapSource::open_file(pcap.string());
        } catch (const capture::CaptureError&) {
            continue;  // the hostile and damaged ones that do not open
        }
        Side full, changed;
        const std::string cols = flow_columns_but_outcome(full.db.path());
        decode::RawFrame f;
        uint64_t frames = 0, live_rows = 0;
        const auto refresh = [&] {
            full.analyzer->snapshot();
            const uint64_t written = changed.analyzer->snapshot_changed();
            live_rows += changed.analyzer->live_flows();
            skipped_writes += changed.analyzer->live_flows() - written;
            ASSERT_EQ(rows(changed, cols), rows(full, cols)) << "after frame " << frames;
            ++compared;
        };
        for (;;) {
            const auto st = src->next(f);
            if (st != capture::NextStatus::Frame) break;
            full.analyzer->process(f);
            changed.analyzer->process(f);
            // Every 16 frames, every 256 past the first 4096 (the larger captures).
            ++frames;
            if (frames % (frames <= 4096 ? 16 : 256) == 0) {
                refresh();
                if (HasFatalFailure()) return;
            }
        }
        refresh();
        if (HasFatalFailure()) return;
        EXPECT_EQ(changed.analyzer->snapshot_changed(), 0u) << "a refresh with nothing new wrote rows";
        (void)live_rows;
    }
    EXPECT_GT(compared, 100u);
    EXPECT_GT(skipped_writes, 0u) << "no refresh ever skipped an unchanged flow: the test shows nothing";
}

// The same refreshes, one thread against 2 and 3 workers: the same rows,
// counts and ids at every refresh, and the same database at the end.
TEST(Snapshot, WorkersRefreshToTheRowsOneThreadWrites) {
    const auto captures = test::equivalence_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir() << "/captures";
    size_t compared = 0, rows_written = 0, named = 0;
    for (const fs::path& pcap : captures) {
        SCOPED_TRACE(pcap.string());
        for (const int workers : {2, 3}) {
            SCOPED_TRACE(std::to_string(workers) + " workers");
            std::unique_ptr<capture::PcapSource> src;
            try {
                src = capture::PcapSource::open_file(pcap.string());
            } catch (const capture::CaptureError&) {
                break;  // the hostile and damaged ones that do not open
            }
            Side one, many(workers);
            decode::RawFrame f;
            uint64_t frames = 0;
            const auto refresh = [&] {
                const uint64_t written = one.analyzer->snapshot_changed();
                ASSERT_EQ(many.analyzer->snapshot_changed(), written) << "after frame " << frames;
                ASSERT_EQ(many.written(), one.written()) << "after frame " << frames;
                ASSERT_EQ(many.analyzer->live_flows(), one.analyzer->live_flows()) << "after frame " << frames;
                const auto r = rows(one, "*");
                ASSERT_EQ(rows(many, "*"), r) << "after frame " << frames;
                rows_written += written;
                named += static_cast<size_t>(std::count_if(r.begin(), r.end(), [](const std::string& row) {
                    return row.ends_with("\tdns") || row.ends_with("\tsni");  // flow_name rows
                }));
                ++compared;
            };
            for (;;) {
                const auto st = src->next(f);
                if (st != capture::NextStatus::Frame) break;
                one.analyzer->process(f);
                many.analyzer->process(f);
                ++frames;
                if (frames % (frames <= 4096 ? 64 : 1024) == 0) {
                    refresh();
                    if (HasFatalFailure()) return;
                }
            }
            refresh();
            if (HasFatalFailure()) return;
            EXPECT_EQ(many.analyzer->snapshot_changed(), 0u) << "a refresh with nothing new wrote rows";
            one.analyzer->finish();
            many.analyzer->finish();
            EXPECT_EQ(many.written(), one.written()) << "at the end";
            EXPECT_EQ(rows(many, "*"), rows(one, "*")) << "at the end";
        }
    }
    EXPECT_GT(compared, 100u);
    EXPECT_GT(rows_written, 1000u) << "the refreshes wrote almost nothing: the test shows little";
    EXPECT_GT(named, 100u) << "no named flow was compared";
}

using test::udp_frame;

// A DNS message for turn.example.com A: the query, or its answer `address`.
std::vector<uint8_t> dns(bool answer, uint32_t address) {
    std::vector<uint8_t> m = {0x12,
                              0x34,
                              answer ? uint8_t{0x81} : uint8_t{0x01},
                              answer ? uint8_t{0x80} : uint8_t{0},
                              0,
                              1,
                              0,
                              answer ? uint8_t{1} : uint8_t{0},
                              0,
                              0,
                              0,
                              0};
    for (const char* label : {"turn", "example", "com"}) {
        m.push_back(static_cast<uint8_t>(std::strlen(label)));
        m.insert(m.end(), label, label + std::strlen(label));
    }
    m.insert(m.end(), {0, 0, 1, 0, 1});
    if (answer) {
        m.insert(m.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4});
        for (int k = 3; k >= 0; --k) m.push_back(static_cast<uint8_t>(address >> (8 * k)));
    }
    return m;
}

// A TURN CreatePermission request naming the peer `peer`:`port`.
std::vector<uint8_t> create_permission(uint32_t peer, uint16_t port) {
    std::vector<uint8_t> m = {0x00, 0x08, 0x00, 12, 0x21, 0x12, 0xA4, 0x42};
    for (int k = 0; k < 12; ++k) m.push_back(static_cast<uint8_t>(0x30 + k));  // transaction id
    const uint16_t xport = port ^ 0x2112;
    const uint32_t xaddr = peer ^ 0x2112A442u;
    m.insert(m.end(),
             {0x00, 0x12, 0x00, 0x08, 0x00, 0x01, static_cast<uint8_t>(xport >> 8), static_cast<uint8_t>(xport)});
    for (int k = 3; k >= 0; --k) m.push_back(static_cast<uint8_t>(xaddr >> (8 * k)));
    return m;
}

// A flow towards an address that a TURN allocation later names as its peer
// gets no packet of its own in between: one thread's refresh rewrites it
// (now named after the TURN server), and so must the workers', though the
// peer was learnt on another worker's flow.
TEST(Snapshot, WorkersRewriteAFlowTowardsATurnPeerLearntElsewhere) {
    constexpr uint32_t kClient = 0x0A000001, kResolver = 0x0A000035, kTurn = 0xC6336407, kPeer = 0xCB007109;
    const std::vector<std::vector<uint8_t>> before = {
        udp_frame(kClient, kResolver, 33333, 53, dns(false, 0)),
        udp_frame(kResolver, kClient, 53, 33333, dns(true, kTurn)),
        udp_frame(kClient, kPeer, 5000, 6000, std::vector<uint8_t>(40, 0x55)),
    };
    const std::vector<std::vector<uint8_t>> after = {
        udp_frame(kClient, kTurn, 4000, 3478, create_permission(kPeer, 6000)),
    };
    for (const int workers : {2, 3, 4}) {
        SCOPED_TRACE(std::to_string(workers) + " workers");
        Side one, many(workers);
        int64_t ts_us = 1'767'225'600'000'000;
        const auto feed = [&](const std::vector<std::vector<uint8_t>>& frames) {
            for (const auto& bytes : frames) {
                decode::RawFrame f;
                f.ts_us = ts_us += 10'000;
                f.linktype = 1;
                f.caplen = f.wirelen = static_cast<uint32_t>(bytes.size());
                f.bytes = ByteView(bytes.data(), bytes.size());
                one.analyzer->process(f);
                many.analyzer->process(f);
            }
        };
        const auto refresh = [&] {
            const uint64_t written = one.analyzer->snapshot_changed();
            EXPECT_EQ(many.analyzer->snapshot_changed(), written);
            EXPECT_EQ(many.written(), one.written());
            const auto r = rows(one, "*");
            EXPECT_EQ(rows(many, "*"), r);
            return written;
        };
        feed(before);
        EXPECT_EQ(refresh(), 2u);  // the DNS flow and the one towards the peer-to-be
        feed(after);
        EXPECT_EQ(refresh(), 2u);  // the TURN flow, and that flow again: its peer is named now
        EXPECT_EQ(test::query_rows(many.db.path(), "SELECT name, name_source FROM flow WHERE server_port = 6000"),
                  std::vector<std::string>{"turn.example.com\tturn-peer"});
    }
}

}  // namespace
}  // namespace callwall::pipeline
