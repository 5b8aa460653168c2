// The packet path writes its rows through any facts::FlowRowSink (the
// store's, store/run_writer.hpp, is one of them): every flow that ends is
// one row, a flow a live snapshot wrote is written over at its end, and each
// ICMP error is handed over, all without a store.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "facts/flow_sink.hpp"
#include "pipeline/analyzer.hpp"
#include "golden/run_util.hpp"

namespace callwall::pipeline {
namespace {

class Rows final : public facts::FlowRowSink {
public:
    void flow_row(const facts::FlowEnd& e) override {
        if (e.live) ++live;
        (e.replace ? replaced : added).push_back(e.flow.id);
    }
    void icmp_error(const facts::IcmpErrorFact& e) override {
        ++icmp;
        if (e.packet && e.packet->icmp_error) ++icmp_decoded;
    }
    std::exception_ptr take_error() noexcept override { return nullptr; }
    std::vector<uint64_t> added, replaced;
    uint64_t icmp = 0, icmp_decoded = 0, live = 0;
};

std::vector<decode::RawFrame> frames(const std::string& name, std::vector<std::vector<uint8_t>>& keep) {
    const auto path = std::filesystem::path(test::source_dir()) / "captures" / name;
    auto src = capture::PcapSource::open_file(path.string());
    std::vector<decode::RawFrame> out;
    decode::RawFrame fr;
    while (src->next(fr) == capture::NextStatus::Frame) {
        keep.emplace_back(fr.bytes.begin(), fr.bytes.end());
        out.push_back(fr);
    }
    for (size_t i = 0; i < out.size(); ++i) out[i].bytes = ByteView{keep[i].data(), keep[i].size()};
    return out;
}

TEST(FlowRowSink, EveryEndedFlowIsOneRowAndEveryIcmpErrorIsHandedOver) {
    std::vector<std::vector<uint8_t>> keep;
    const auto fs = frames("icmp_errors.pcap", keep);
    ASSERT_FALSE(fs.empty());
    Rows rows;
    Analyzer a({nullptr, &rows});
    for (const auto& f : fs) a.process(f);
    a.finish();
    EXPECT_GT(rows.added.size(), 0u);
    EXPECT_EQ(rows.added.size(), a.flows_written());
    EXPECT_EQ(std::set<uint64_t>(rows.added.begin(), rows.added.end()).size(), rows.added.size())
        << "a flow written twice";
    EXPECT_TRUE(rows.replaced.empty()) << "no snapshot wrote a row: nothing to write over";
    EXPECT_GT(rows.icmp, 0u);
    EXPECT_EQ(rows.icmp_decoded, rows.icmp);
}

TEST(FlowRowSink, AFlowASnapshotWroteIsWrittenOverAtItsEnd) {
    std::vector<std::vector<uint8_t>> keep;
    const auto fs = frames("icmp_errors.pcap", keep);
    ASSERT_GT(fs.size(), 2u);
    Rows rows;
    Analyzer a({nullptr, &rows});
    for (size_t i = 0; i < fs.size() / 2; ++i) a.process(fs[i]);
    const size_t ended_before = rows.added.size();
    a.snapshot();
    const std::set<uint64_t> snapped(rows.replaced.begin(), rows.replaced.end());
    ASSERT_GT(snapped.size(), 0u) << "no flow alive halfway";
    const size_t snapshot_rows = rows.replaced.size();
    for (size_t i = fs.size() / 2; i < fs.size(); ++i) a.process(fs[i]);
    a.finish();
    const std::set<uint64_t> over(rows.replaced.begin() + static_cast<long>(snapshot_rows), rows.replaced.end());
    EXPECT_EQ(over, snapped) << "each flow a snapshot wrote is written over at its end, and only those";
    for (size_t i = ended_before; i < rows.added.size(); ++i)
        EXPECT_EQ(snapped.count(rows.added[i]), 0u) << "flow " << rows.added[i] << " added over its snapshot's row";
    EXPECT_EQ(rows.added.size() + over.size(), a.flows_written());
}

TEST(FlowRowSink, WithoutRowsPerMessageNoIcmpErrorIsHandedOver) {
    std::vector<std::vector<uint8_t>> keep;
    const auto fs = frames("icmp_errors.pcap", keep);
    Rows rows;
    AnalyzerConfig cfg;
    cfg.per_message_rows = false;
    Analyzer a({nullptr, &rows}, cfg);
    for (const auto& f : fs) a.process(f);
    a.finish();
    EXPECT_GT(rows.added.size(), 0u);
    EXPECT_EQ(rows.icmp, 0u);
}

}  // namespace
}  // namespace callwall::pipeline
