// Analyzer::snapshot_changed, the live refresh that writes only the flows
// that changed: over every committed capture (ours and the field captures
// made by others), refreshed every 16 frames, the flow rows and flow names
// it leaves in the database are at every refresh the ones a full snapshot
// (every live flow rewritten) leaves — but for the outcome hint, which ages
// without packets and which the attribution after each refresh rewrites.
// And a refresh with nothing new writes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "attrib/store_io.hpp"
#include "callwall/capture/pcap_source.hpp"
#include "golden/run_util.hpp"
#include "pipeline/analyzer.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::pipeline {
namespace {

namespace fs = std::filesystem;

struct Side {
    test::TempDb db;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<Analyzer> analyzer;
    Side() {
        store = store::Store::open(db.path());
        store::RunInfo info;
        info.kind = "capture";
        info.sources = {"snapshot_test"};
        const int64_t run = store->begin_run(info);
        AnalyzerConfig cfg;
        cfg.outcome_hint = attrib::provisional_outcome;
        analyzer = std::make_unique<Analyzer>(store.get(), run, cfg);
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
        capture::RawFrame f;
        uint64_t frames = 0, live_rows = 0;
        const auto refresh = [&] {
            full.analyzer->snapshot();
            const uint64_t written = changed.analyzer->snapshot_changed();
            live_rows += changed.analyzer->flows().live();
            skipped_writes += changed.analyzer->flows().live() - written;
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

}  // namespace
}  // namespace callwall::pipeline
