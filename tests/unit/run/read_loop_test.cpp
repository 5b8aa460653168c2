// run::read_files without a network: files read in order into a session,
// each checkpoint's progress, a stop flag that ends the reading, a damaged
// file counted and noted while the next is still read. (The live loop,
// run::read_live, runs in tests/live/ against interfaces in namespaces.)
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "golden/run_util.hpp"
#include "run/read_loop.hpp"
#include "run/session.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"
#include "unit/test_util.hpp"

namespace callwall::run {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kWherebyPackets = 282;  // captures/scenarios/whereby.pcap

std::string whereby() { return test::source_dir() + "/captures/scenarios/whereby.pcap"; }

std::unique_ptr<Session> open_session(const test::TempDb& db, const std::vector<std::string>& files) {
    Options o;
    o.db_path = db.path();
    o.kind = "analyze";
    o.sources = files;
    o.command_line = "read_loop_test";
    o.catalog = &test::bundled_catalog();
    o.checkpoint_packets = 64;
    return std::make_unique<Session>(std::move(o));
}

std::vector<std::unique_ptr<capture::PcapSource>> open_all(const std::vector<std::string>& files) {
    std::vector<std::unique_ptr<capture::PcapSource>> out;
    for (const auto& f : files) out.push_back(capture::PcapSource::open_file(f));
    return out;
}

TEST(ReadLoop, FilesAreReadInOrderWithProgressAtEachCheckpoint) {
    if (!fs::exists(whereby())) GTEST_SKIP() << "whereby.pcap is missing";
    const test::TempDb db;
    const std::vector<std::string> files = {whereby(), whereby()};
    auto session = open_session(db, files);
    auto sources = open_all(files);
    std::vector<std::string> events;
    std::vector<uint64_t> progress_bytes;
    FileLoop loop;
    loop.file_starts = [&](size_t i, capture::PcapSource&) { events.push_back("start " + std::to_string(i)); };
    loop.file_ended = [&](size_t i, uint64_t n, int64_t last_ts) {
        EXPECT_GT(last_ts, 0);
        events.push_back("end " + std::to_string(i) + " " + std::to_string(n));
    };
    loop.damaged = [&](const std::string&, uint64_t, const std::string&) { events.push_back("damaged"); };
    loop.progress = [&](uint64_t bytes, size_t) { progress_bytes.push_back(bytes); };
    EXPECT_EQ(read_files(*session, sources, loop), Status::Completed);
    EXPECT_EQ(events, (std::vector<std::string>{"start 0", "end 0 282", "start 1", "end 1 282"}));
    EXPECT_EQ(session->totals().packets, 2 * kWherebyPackets);
    // One checkpoint every 64 frames over both files, bytes growing.
    ASSERT_EQ(progress_bytes.size(), 2 * kWherebyPackets / 64);
    for (size_t k = 1; k < progress_bytes.size(); ++k) EXPECT_GT(progress_bytes[k], progress_bytes[k - 1]);
    EXPECT_EQ(session->totals().damaged_files, 0u);
}

TEST(ReadLoop, AStopEndsTheReadingInterruptedAndNoLaterFileIsStarted) {
    if (!fs::exists(whereby())) GTEST_SKIP() << "whereby.pcap is missing";
    const test::TempDb db;
    const std::vector<std::string> files = {whereby(), whereby()};
    auto session = open_session(db, files);
    auto sources = open_all(files);
    volatile std::sig_atomic_t stop = 0;
    size_t started = 0;
    uint64_t ended_with = 0;
    FileLoop loop;
    loop.stop = &stop;
    loop.file_starts = [&](size_t, capture::PcapSource&) { ++started; };
    loop.file_ended = [&](size_t, uint64_t n, int64_t) { ended_with = n; };
    loop.progress = [&](uint64_t, size_t) { stop = SIGINT; };  // at the first checkpoint
    EXPECT_EQ(read_files(*session, sources, loop), Status::Interrupted);
    EXPECT_EQ(started, 1u);
    EXPECT_EQ(ended_with, 64u);
    EXPECT_EQ(session->totals().packets, 64u);
    EXPECT_EQ(session->totals().damaged_files, 0u);  // a stop is not damage
}

TEST(ReadLoop, ADamagedFileIsCountedAndNotedAndTheNextFileIsStillRead) {
    if (!fs::exists(whereby())) GTEST_SKIP() << "whereby.pcap is missing";
    const test::TempDb db;
    // whereby.pcap cut in the middle of a record.
    const std::string cut = db.path() + ".cut.pcap";
    {
        std::ifstream in(whereby(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2 + 7);
    }
    const std::vector<std::string> files = {cut, whereby()};
    auto session = open_session(db, files);
    auto sources = open_all(files);
    std::string damaged_name;
    uint64_t damaged_after = 0;
    FileLoop loop;
    loop.damaged = [&](const std::string& name, uint64_t n, const std::string& error) {
        damaged_name = name;
        damaged_after = n;
        EXPECT_FALSE(error.empty());
    };
    EXPECT_EQ(read_files(*session, sources, loop), Status::Completed);
    EXPECT_NE(damaged_name.find(".cut.pcap"), std::string::npos) << damaged_name;
    EXPECT_GT(damaged_after, 0u);
    EXPECT_LT(damaged_after, kWherebyPackets);
    EXPECT_EQ(session->totals().damaged_files, 1u);
    EXPECT_NE(session->totals().notes.find("reading stopped after " + std::to_string(damaged_after) + " packets"),
              std::string::npos)
        << session->totals().notes;
    EXPECT_EQ(session->totals().packets, damaged_after + kWherebyPackets);
    fs::remove(cut);
}

}  // namespace
}  // namespace callwall::run
