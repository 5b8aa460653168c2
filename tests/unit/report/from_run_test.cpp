// The answer a command prints comes from the run's memory (report/from_run.hpp);
// `report` reads the same run back from the database (report::load). For
// every committed capture (and every capture in ../shared/captures/public),
// read as analyze reads a file (its flows kept in memory), as capture reads
// a live interface (its flows paged back from the rows, written behind) and
// on two workers, both give the same text (default and -v), JSON, CSV and
// HTML. What from_run leaves out (run_ids, read_warning) none of them shows
// for a fresh run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "attrib/run_detail.hpp"
#include "capture/pcap_source.hpp"
#include "facts/flow_facts.hpp"
#include "golden/run_util.hpp"
#include "report/from_run.hpp"
#include "report/report.hpp"
#include "run/answer.hpp"
#include "run/session.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"
#include "unit/test_util.hpp"

namespace callwall::report {
namespace {

namespace fs = std::filesystem;

enum class Mode { File, Live, Workers };

// How much of each part the compared reports held, over all captures: the
// comparison means something only where there was something to compare.
struct Seen {
    size_t runs = 0, evidence = 0, gaps = 0, other = 0, shared = 0, allow_lists = 0;
};

// Every column a report shows of a flow (facts::ShownFlow), to the last
// bit, whether a rendering prints it or not.
void expect_same_flow(const facts::ShownFlow& a, const facts::ShownFlow& b, const std::string& where) {
    size_t column = 0;
    facts::each_shown_column(a, b, [&](const auto& x, const auto& y) {
        EXPECT_EQ(x, y) << where << ": flow " << b.id << ", column " << facts::kFlowShownColumns[column];
        ++column;
    });
    EXPECT_EQ(column, std::size(facts::kFlowShownColumns));
}

// Reads `pcap` into a fresh database as `mode` says, attributes it, and
// compares every rendering of the report from memory with the one read back.
void compare(const fs::path& pcap, Mode mode, Seen& seen) {
    std::unique_ptr<capture::PcapSource> src;
    try {
        src = capture::PcapSource::open_file(pcap.string());
    } catch (const std::exception&) {
        return;  // the hostile and damaged ones that do not open
    }
    test::TempDb db;
    run::Options o;
    o.db_path = db.path();
    o.kind = mode == Mode::Live ? "capture" : "analyze";
    o.sources = {pcap.string()};
    o.command_line = "from_run_test";
    o.catalog = &test::bundled_catalog();
    o.refresh_s = mode == Mode::Live ? 1 : 0;
    o.write_behind = mode != Mode::File;
    o.workers = mode == Mode::Workers ? 2 : 1;
    run::Session s(std::move(o));
    decode::RawFrame f;
    try {
        while (src->next(f) == capture::NextStatus::Frame) s.process(f);
    } catch (const std::exception&) {}
    s.finish(run::Status::Completed);
    if (mode == Mode::File) {  // as a probe records what to allow
        s.write_allow_list("nft", "add rule inet filter output tcp dport 443 accept\n");
        s.write_allow_list("iptables", "-A OUTPUT -p tcp --dport 443 -j ACCEPT\n");
    }
    const std::optional<attrib::RunVerdicts> v = s.attribute();
    ASSERT_TRUE(v.has_value()) << pcap;
    for (const bool all : {false, true}) {
        ReportOptions opt;
        opt.all_entries = all;
        const std::optional<ReportData> mem = run::report_of(s, *v, opt);
        ASSERT_TRUE(mem.has_value()) << pcap << ": a flow the report shows was not kept";
        opt.run = s.run_id();
        const ReportData back = load(s.store(), opt);
        const std::string where = pcap.string() +
                                  (mode == Mode::File   ? " (file)"
                                   : mode == Mode::Live ? " (live)"
                                                        : " (workers)") +
                                  (all ? " --all-entries" : "");
        ASSERT_EQ(render_text(*mem), render_text(back)) << where;
        ASSERT_EQ(render_text(*mem, TextOptions{true}), render_text(back, TextOptions{true})) << where;
        ASSERT_EQ(render_json(*mem), render_json(back)) << where;
        ASSERT_EQ(render_csv(*mem), render_csv(back)) << where;
        ASSERT_EQ(render_html(*mem), render_html(back)) << where;
        // Every column a report shows of an evidence flow (facts::ShownFlow),
        // to the last bit, whether a rendering prints it or not.
        ASSERT_EQ(mem->verdicts.size(), back.verdicts.size()) << where;
        for (size_t i = 0; i < back.verdicts.size(); ++i) {
            ASSERT_EQ(mem->verdicts[i].evidence.size(), back.verdicts[i].evidence.size()) << where;
            for (size_t k = 0; k < back.verdicts[i].evidence.size(); ++k) {
                const EvidenceFlow& a = mem->verdicts[i].evidence[k];
                const EvidenceFlow& b = back.verdicts[i].evidence[k];
                expect_same_flow(a, b, where);
                EXPECT_EQ(a.evidence_kind, b.evidence_kind) << where << ": flow " << b.id;
            }
        }
        // The same for a catalog gap's flow, and the gap's vendor and name.
        ASSERT_EQ(mem->vendor_gaps.size(), back.vendor_gaps.size()) << where;
        for (size_t i = 0; i < back.vendor_gaps.size(); ++i) {
            const UnmatchedVendorFlow& a = mem->vendor_gaps[i];
            const UnmatchedVendorFlow& b = back.vendor_gaps[i];
            EXPECT_EQ(a.vendor, b.vendor) << where << ": gap " << i;
            EXPECT_EQ(a.name, b.name) << where << ": gap " << i;
            expect_same_flow(a.flow, b.flow, where);
        }
        // The run's row, every field (the one made from the session's record
        // and the one read back from the table).
        const RunInfo& ra = mem->run;
        const RunInfo& rb = back.run;
        EXPECT_EQ(std::tie(ra.id, ra.kind, ra.source, ra.status, ra.command_line, ra.tool_version, ra.catalog_digest,
                           ra.notes, ra.sources, ra.origin, ra.status_detail, ra.still_running),
                  std::tie(rb.id, rb.kind, rb.source, rb.status, rb.command_line, rb.tool_version, rb.catalog_digest,
                           rb.notes, rb.sources, rb.origin, rb.status_detail, rb.still_running))
            << where;
        EXPECT_EQ(
            std::tie(ra.started_at, ra.ended_at, ra.first_ts, ra.last_ts, ra.packets, ra.bytes, ra.truncated_packets,
                     ra.undecoded_packets, ra.kernel_dropped, ra.flows, ra.flows_evicted_full, ra.damaged_files),
            std::tie(rb.started_at, rb.ended_at, rb.first_ts, rb.last_ts, rb.packets, rb.bytes, rb.truncated_packets,
                     rb.undecoded_packets, rb.kernel_dropped, rb.flows, rb.flows_evicted_full, rb.damaged_files))
            << where;
        if (all) continue;
        ++seen.runs;
        for (const auto& row : back.verdicts) {
            seen.evidence += row.evidence.size();
            seen.shared += row.shared_with.size();
        }
        seen.gaps += back.vendor_gaps.size();
        seen.other += back.other_summary.size();
        seen.allow_lists += back.allow_lists.size();
    }
}

TEST(ReportFromRun, EqualsTheReportReadBackForEveryCommittedCapture) {
    const std::vector<fs::path> captures = test::equivalence_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir() << "/captures";
    Seen seen;
    for (const fs::path& pcap : captures)
        for (const Mode mode : {Mode::File, Mode::Live, Mode::Workers}) compare(pcap, mode, seen);
    std::printf(
        "compared %zu runs: %zu evidence flows, %zu gap flows, %zu other-flow groups, %zu shared entries, %zu "
        "allow-lists\n",
        seen.runs, seen.evidence, seen.gaps, seen.other, seen.shared, seen.allow_lists);
    EXPECT_GT(seen.runs, 150u);
    EXPECT_GT(seen.evidence, 200u);
    EXPECT_GT(seen.gaps, 0u);
    EXPECT_GT(seen.other, 100u);
    EXPECT_GT(seen.shared, 0u);
    EXPECT_GT(seen.allow_lists, 0u);
}

TEST(ReportFromRun, EqualsTheReportReadBackForEverySharedCapture) {
    const std::string shared = test::shared_dir();
    if (shared.empty() || !fs::is_directory(shared + "/captures/public"))
        GTEST_SKIP() << "../shared is absent: the public captures are in ../shared/captures/public";
    std::vector<fs::path> captures;
    for (const auto& e : fs::directory_iterator(shared + "/captures/public")) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng" || ext == ".cap")) captures.push_back(e.path());
    }
    std::sort(captures.begin(), captures.end());
    ASSERT_GT(captures.size(), 100u);
    Seen seen;
    for (const fs::path& pcap : captures)
        for (const Mode mode : {Mode::File, Mode::Live}) compare(pcap, mode, seen);
    std::printf("compared %zu runs: %zu evidence flows, %zu gap flows, %zu other-flow groups\n", seen.runs,
                seen.evidence, seen.gaps, seen.other);
    EXPECT_GT(seen.runs, 200u);
    EXPECT_GT(seen.other, 100u);
}

// A flow the report would show that attribution did not keep is never
// guessed at: from_run says it cannot tell (and the command reads the rows).
TEST(ReportFromRun, AnEvidenceFlowNotKeptIsNotGuessed) {
    const std::string pcap = test::source_dir() + "/captures/scenarios/whereby.pcap";
    if (!fs::exists(pcap)) GTEST_SKIP() << "whereby.pcap is missing";
    test::TempDb db;
    run::Options o;
    o.db_path = db.path();
    o.kind = "analyze";
    o.sources = {pcap};
    o.command_line = "from_run_test";
    o.catalog = &test::bundled_catalog();
    run::Session s(std::move(o));
    auto src = capture::PcapSource::open_file(pcap);
    decode::RawFrame f;
    while (src->next(f) == capture::NextStatus::Frame) s.process(f);
    s.finish(run::Status::Completed);
    const std::optional<attrib::RunVerdicts> v = s.attribute();
    ASSERT_TRUE(v.has_value());
    ASSERT_NE(s.run_detail(), nullptr);
    RunInMemory in;
    in.run.id = s.run_id();
    in.catalog = &test::bundled_catalog();
    in.verdicts = &*v;
    attrib::RunDetail detail = *s.run_detail();
    in.detail = &detail;
    ReportOptions all;
    all.all_entries = true;
    ASSERT_TRUE(from_run(in, all).has_value());
    // The first evidence flow of the first entry that has one, dropped.
    uint64_t dropped = 0;
    for (const auto& e : v->entries)
        if (!e.evidence_flows.empty()) {
            dropped = e.evidence_flows.front();
            break;
        }
    ASSERT_NE(dropped, 0u) << "whereby.pcap has no evidence flow";
    ASSERT_EQ(detail.flows.erase(dropped), 1u);
    EXPECT_FALSE(from_run(in, all).has_value());
}

}  // namespace
}  // namespace callwall::report
