// Verdict lines for the event stream (run/verdict_changes.hpp): every
// exercised entry the first time, then only the changes.
#include "run/verdict_changes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/corpus.hpp"

namespace callwall::run {
namespace {

using test::bundled_catalog;

TEST(VerdictChanges, FirstPassListsExercisedEntriesThenOnlyChanges) {
    const catalog::Catalog& c = bundled_catalog();
    ASSERT_GE(c.entries().size(), 3u);
    attrib::RunVerdicts v;
    v.entries.resize(c.entries().size());
    v.entries[0].verdict = attrib::Verdict::Observed;
    v.entries[0].flows_observed = 2;
    v.entries[2].verdict = attrib::Verdict::Blocked;
    v.entries[2].reasons = {"reset"};
    VerdictChanges changes(c, 5);

    std::vector<events::VerdictEvent> first = changes.update(v, 100.5);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[0].entry_id, c.entries()[0].id);
    EXPECT_EQ(first[0].verdict, "observed");
    EXPECT_EQ(first[0].previous, "");
    EXPECT_NE(first[0].columns.find(",\"flows_observed\":2,"), std::string::npos) << first[0].columns;
    EXPECT_EQ(first[0].run_id, 5);
    EXPECT_DOUBLE_EQ(first[0].ts, 100.5);
    EXPECT_EQ(first[1].entry_id, c.entries()[2].id);
    EXPECT_EQ(first[1].verdict, "blocked");
    EXPECT_EQ(first[1].columns.rfind(",\"reasons\":[\"reset\"],", 0), 0u) << first[1].columns;

    EXPECT_TRUE(changes.update(v, 101).empty()) << "nothing changed";

    v.entries[0].verdict = attrib::Verdict::Partial;
    v.entries[1].verdict = attrib::Verdict::Inconclusive;
    const std::vector<events::VerdictEvent> later = changes.update(v, 102);
    ASSERT_EQ(later.size(), 2u);
    EXPECT_EQ(later[0].verdict, "partial");
    EXPECT_EQ(later[0].previous, "observed");
    EXPECT_EQ(later[1].verdict, "inconclusive");
    EXPECT_EQ(later[1].previous, "not_exercised");
    EXPECT_NE(events::to_json(later[0]).find("\"previous\":\"observed\""), std::string::npos)
        << events::to_json(later[0]);
}

}  // namespace
}  // namespace callwall::run
