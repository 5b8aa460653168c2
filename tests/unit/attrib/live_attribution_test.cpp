// attrib::LiveAttribution, the live refresh that re-attributes only the
// flows that changed: over every committed capture (ours and the field
// captures made by others) read as a live run — the changed flows written
// and the run attributed every 16 frames (every 256 past the first 4096) —
// every refresh leaves exactly the rows and verdicts that the whole stage
// (run_attribution) computes from the same database at that moment.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "attrib/live.hpp"
#include "attrib/flow_row.hpp"
#include "attrib/run_attribution.hpp"
#include "capture/pcap_source.hpp"
#include "catalog/catalog.hpp"
#include "golden/run_util.hpp"
#include "pipeline/analyzer.hpp"
#include "run/row_hook.hpp"
#include "run/store_analyzer.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::attrib {
namespace {

namespace fs = std::filesystem;

using test::attribution_rows;
using test::bundled_catalog;

std::string counts(const RunVerdicts& v) {
    std::string s = std::to_string(v.flows) + " flows, " + std::to_string(v.matched_flows) + " matched, " +
                    std::to_string(v.vendor_gap_flows) + " gaps, " + std::to_string(v.other_flows) + " other; vendors";
    for (uint16_t a : v.active_vendors) s += " " + std::to_string(a);
    return s;
}

TEST(LiveAttribution, EachRefreshWritesWhatTheWholeStageWouldWrite) {
    const catalog::Catalog& cat = bundled_catalog();
    const auto captures = test::equivalence_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir() << "/captures";
    uint64_t refreshes = 0, incremental = 0, attributed = 0, flows_at_refresh = 0;
    for (const fs::path& pcap : captures) {
        SCOPED_TRACE(pcap.string());
        std::unique_ptr<capture::PcapSource> src;
        try {
            src = capture::PcapSource::open_file(pcap.string());
        } catch (const capture::CaptureError&) {
            continue;  // the hostile and damaged ones that do not open
        }
        test::TempDb db;
        auto store = store::Store::open(db.path());
        store::RunInfo info;
        info.kind = "capture";
        info.sources = {pcap.string()};
        const int64_t run = store->begin_run(info);
        run::RowHook hook(provisional_outcome);
        run::StoreAnalyzer wired(store.get(), run, {}, {&hook});
        run::StoreAnalyzer& analyzer = wired;
        wired.track_written();
        LiveAttribution live(cat);
        std::vector<uint64_t> changed;
        uint64_t frames = 0;
        const auto refresh = [&] {
            analyzer.snapshot_changed();
            analyzer.totals().flows = analyzer.flow_stats().created;
            store->update_run(run, analyzer.totals(), store::RunStatus::Running, 0);
            wired.take_written_ids(changed);
            const RunVerdicts v = live.refresh(*store, run, changed);
            const std::vector<std::string> rows = attribution_rows(db.path());
            const RunVerdicts whole = run_attribution(*store, run, cat);
            ASSERT_EQ(rows, attribution_rows(db.path())) << "after frame " << frames;
            ASSERT_EQ(counts(v), counts(whole)) << "after frame " << frames;
            ASSERT_EQ(v.entries.size(), whole.entries.size());
            for (size_t i = 0; i < v.entries.size(); ++i) {
                ASSERT_EQ(v.entries[i].verdict, whole.entries[i].verdict) << cat.entries()[i].id;
                ASSERT_EQ(v.entries[i].why, whole.entries[i].why) << cat.entries()[i].id;
            }
            ++refreshes;
            incremental += live.last_was_whole() ? 0 : 1;
            attributed += live.last_attributed();
            flows_at_refresh += whole.flows;
        };
        decode::RawFrame f;
        while (src->next(f) == capture::NextStatus::Frame) {
            analyzer.process(f);
            ++frames;
            if (frames % (frames <= 4096 ? 16 : 256) == 0) {
                refresh();
                if (HasFatalFailure()) return;
            }
        }
        refresh();
        if (HasFatalFailure()) return;
    }
    EXPECT_GT(refreshes, 100u);
    EXPECT_GT(incremental, refreshes / 2) << "most refreshes should not need a whole pass";
    EXPECT_LT(attributed, flows_at_refresh / 2) << "the refreshes re-attributed most flows: nothing was saved";
}

}  // namespace
}  // namespace callwall::attrib
