// run::VerdictRun: a run without packets (audit) opened, given its
// verdicts and finished, as the report reads it back; and a database error
// that marks it failed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "golden/run_util.hpp"
#include "report/report.hpp"
#include "run/verdict_run.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"
#include "unit/test_util.hpp"

namespace callwall::run {
namespace {

VerdictRunOptions options_for(const test::TempDb& db) {
    VerdictRunOptions o;
    o.db_path = db.path();
    o.kind = "audit";
    o.sources = {"rules.nft"};
    o.command_line = "callwall audit --nft rules.nft";
    o.catalog = &test::bundled_catalog();
    return o;
}

TEST(VerdictRun, ItsVerdictsAndRowAreReadBackAsTheReportReadsAnAttributedRun) {
    const test::TempDb db;
    const catalog::Catalog& c = test::bundled_catalog();
    ASSERT_GE(c.entries().size(), 2u);
    attrib::EntryVerdict blocked, observed;
    blocked.verdict = attrib::Verdict::Blocked;
    blocked.why = "dropped by the ruleset";
    observed.verdict = attrib::Verdict::Observed;
    const catalog::Entry& e0 = c.entries()[0];
    const catalog::Entry& e1 = c.entries()[1];
    int64_t id = 0;
    {
        VerdictRun run(options_for(db));
        id = run.run_id();
        EXPECT_GT(id, 0);
        run.write_verdicts({{&e0, &blocked}, {&e1, &observed}},
                           {{e0.vendor, e0.product, e0.edition, "broken", "one requirement blocked"}});
        run.finish(Status::Completed, "audit of rules.nft");
    }
    report::ReportOptions opt;
    opt.run = id;
    const report::ReportData d = report::load(db.path(), opt);
    EXPECT_EQ(d.run.kind, "audit");
    EXPECT_EQ(d.run.status, "completed");
    EXPECT_EQ(d.run.source, "rules.nft");
    EXPECT_EQ(d.run.command_line, "callwall audit --nft rules.nft");
    EXPECT_EQ(d.run.catalog_digest, c.digest());
    EXPECT_EQ(d.run.notes, "audit of rules.nft");
    EXPECT_EQ(d.run.packets, 0u);
    EXPECT_GE(d.run.ended_at, d.run.started_at);
    ASSERT_EQ(d.verdicts.size(), 2u);
    for (const auto& v : d.verdicts) {
        if (v.entry_id == e0.id) {
            EXPECT_EQ(v.verdict, "blocked");
            EXPECT_EQ(v.why, "dropped by the ruleset");
        } else {
            EXPECT_EQ(v.entry_id, e1.id);
            EXPECT_EQ(v.verdict, "observed");
        }
    }
}

TEST(VerdictRun, ADatabaseErrorMarksTheRunFailedWithItsReason) {
    const test::TempDb db;
    int64_t id = 0;
    {
        VerdictRun run(options_for(db));
        id = run.run_id();
        run.fail(store::StoreError(store::StoreErrorKind::Full, "database or disk is full"));
    }
    report::ReportOptions opt;
    opt.run = id;
    const report::ReportData d = report::load(db.path(), opt);
    EXPECT_EQ(d.run.status, "failed");
    EXPECT_EQ(d.run.notes.rfind(std::string(store::kDiskFullNote), 0), 0u) << d.run.notes;
}

}  // namespace
}  // namespace callwall::run
