// run::FlowEnds: what one call per flow row reaches on one decoding thread,
// and in which order: the row's outcome, the row, what attribution keeps of
// it, the ids a live run re-attributes, the event stream's line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attrib/kept_flows.hpp"
#include "facts/flow_sink.hpp"
#include "run/flow_ends.hpp"
#include "run/row_hook.hpp"

namespace callwall::run {
namespace {

struct Step {
    std::string what;
    uint64_t id = 0;
    std::string outcome;  ///< the outcome the row carried when it got there
    bool replace = false;
};

class Writer final : public facts::FlowRowSink {
public:
    explicit Writer(std::vector<Step>& steps) : steps_(steps) {}
    void flow_row(const facts::FlowEnd& e) override {
        // What the store writes is the record: its outcome is the one the hook gave the application summary.
        EXPECT_EQ(e.record.outcome, e.app.outcome) << "flow " << e.flow.id;
        steps_.push_back({"row", e.flow.id, std::string(e.record.outcome), e.replace});
    }
    void icmp_error(const facts::IcmpErrorFact& e) override { steps_.push_back({"icmp", e.flow_id}); }
    std::exception_ptr take_error() noexcept override { return nullptr; }

private:
    std::vector<Step>& steps_;
};

class Observer final : public facts::FlowObserver {
public:
    explicit Observer(std::vector<Step>& steps) : steps_(steps) {}
    void flow_ended(const flow::Flow& f, const facts::FlowRecord& record) noexcept override {
        steps_.push_back({"event", f.id, std::string(record.outcome)});
    }

private:
    std::vector<Step>& steps_;
};

// The hook's outcome: a fixed word, so the test sees it reach the row.
void outcome_ended(const attrib::FlowFacts&, double, std::string& out) { out = "ended-outcome"; }

struct Rig {
    std::vector<Step> steps;
    Writer writer{steps};
    Observer observer{steps};
    attrib::KeptFlows kept;
    RowHook hook{outcome_ended, &kept};
    FlowEnds ends{&writer, &hook, &observer};
    flow::Flow flow{};
    facts::FlowAppInfo app{};
    facts::FlowNames names{};

    void row(uint64_t id, bool live, bool replace, bool held_error = false) {
        flow.id = id;
        flow.proto = decode::kProtoUdp;  // kept: a UDP flow
        app = {};
        facts::FlowRecord record;
        facts::record_of(flow, app, record);
        ends.flow_row({flow, app, record, names, "", "", 1.0, live, replace, held_error});
    }
};

TEST(FlowEnds, AnEndedFlowIsOutcomeThenRowThenKeptThenItsEvent) {
    Rig r;
    r.ends.track_written();
    r.row(7, false, false);
    ASSERT_EQ(r.steps.size(), 2u);
    EXPECT_EQ(r.steps[0].what, "row");
    EXPECT_EQ(r.steps[0].outcome, "ended-outcome") << "the row is written with the hook's outcome";
    EXPECT_FALSE(r.steps[0].replace);
    EXPECT_EQ(r.steps[1].what, "event");
    EXPECT_EQ(r.steps[1].id, 7u);
    EXPECT_EQ(r.kept.size(), 1u);
    EXPECT_TRUE(r.kept.complete());
    std::vector<uint64_t> ids;
    r.ends.take_written_ids(ids);
    EXPECT_EQ(ids, std::vector<uint64_t>{7});
    r.ends.take_written_ids(ids);
    EXPECT_TRUE(ids.empty()) << "taken ids are gone";
}

TEST(FlowEnds, ARefreshRowIsWrittenOverAndNeitherKeptNorAnEvent) {
    Rig r;
    r.row(3, true, true);
    ASSERT_EQ(r.steps.size(), 1u);
    EXPECT_EQ(r.steps[0].what, "row");
    EXPECT_TRUE(r.steps[0].replace);
    EXPECT_FALSE(r.kept.complete()) << "a row the kept flows do not see: attribution reads them all";
    std::vector<uint64_t> ids;
    r.ends.take_written_ids(ids);
    EXPECT_TRUE(ids.empty()) << "ids are remembered only once tracked";
}

TEST(FlowEnds, WhileAnErrorIsHeldOnlyTheEventIsTold) {
    Rig r;
    r.row(9, false, false, true);
    ASSERT_EQ(r.steps.size(), 1u);
    EXPECT_EQ(r.steps[0].what, "event");
    EXPECT_EQ(r.kept.size(), 0u);
}

TEST(FlowEnds, WithoutAWriterNothingIsWrittenOrKept) {
    std::vector<Step> steps;
    Observer observer{steps};
    attrib::KeptFlows kept;
    RowHook hook{outcome_ended, &kept};
    FlowEnds ends{nullptr, &hook, &observer};
    flow::Flow f{};
    f.id = 4;
    f.proto = decode::kProtoUdp;
    facts::FlowAppInfo app{};
    facts::FlowNames names{};
    facts::FlowRecord record;
    facts::record_of(f, app, record);
    ends.flow_row({f, app, record, names, "", "", 0, false, false, false});
    ends.icmp_error({0, nullptr, 4});
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].what, "event");
    EXPECT_EQ(steps[0].outcome, "") << "no row, no outcome";
    EXPECT_EQ(kept.size(), 0u);
    EXPECT_EQ(ends.take_error(), nullptr);
}

TEST(FlowEnds, IcmpErrorsGoToTheWriter) {
    Rig r;
    r.ends.icmp_error({5, nullptr, 11});
    ASSERT_EQ(r.steps.size(), 1u);
    EXPECT_EQ(r.steps[0].what, "icmp");
    EXPECT_EQ(r.steps[0].id, 11u);
}

}  // namespace
}  // namespace callwall::run
