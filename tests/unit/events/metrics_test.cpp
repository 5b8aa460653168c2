// capture --metrics: the Prometheus text of a refresh, and the file that is
// replaced whole (a temporary beside it, renamed over it).
#include "events/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace callwall::events {
namespace {

TEST(Metrics, TextOfARefresh) {
    MetricsSnapshot m;
    m.run_id = 7;
    m.packets = 1000;
    m.bytes = 64000;
    m.kernel_received = 1000;
    m.kernel_dropped = 3;
    m.flows = 12;
    m.live_flows = 9;
    m.refreshed_at = 1767225600.25;
    m.attributed = true;
    m.vendors.push_back({"Whereby", 2, 1, 0, 0, 4});
    const std::string t = metrics_text(m);
    EXPECT_EQ(t,
              "# HELP callwall_run_id The run being captured (a new one after each rotation or SIGHUP).\n"
              "# TYPE callwall_run_id gauge\n"
              "callwall_run_id 7\n"
              "# HELP callwall_packets_total Packets read in the current run.\n"
              "# TYPE callwall_packets_total counter\n"
              "callwall_packets_total 1000\n"
              "# HELP callwall_bytes_total Bytes of the packets read in the current run (as on the wire).\n"
              "# TYPE callwall_bytes_total counter\n"
              "callwall_bytes_total 64000\n"
              "# HELP callwall_kernel_received_total Packets the kernel passed to the capture in the current run.\n"
              "# TYPE callwall_kernel_received_total counter\n"
              "callwall_kernel_received_total 1000\n"
              "# HELP callwall_kernel_dropped_total Packets the kernel dropped because the capture's ring was full, in "
              "the current run.\n"
              "# TYPE callwall_kernel_dropped_total counter\n"
              "callwall_kernel_dropped_total 3\n"
              "# HELP callwall_interface_dropped_total Packets the interfaces dropped, in the current run.\n"
              "# TYPE callwall_interface_dropped_total counter\n"
              "callwall_interface_dropped_total 0\n"
              "# HELP callwall_flows_total Flows created in the current run.\n"
              "# TYPE callwall_flows_total counter\n"
              "callwall_flows_total 12\n"
              "# HELP callwall_live_flows Flows in the flow table now.\n"
              "# TYPE callwall_live_flows gauge\n"
              "callwall_live_flows 9\n"
              "# HELP callwall_requirements Requirements of each vendor by verdict, as of the last attribution of the "
              "current run.\n"
              "# TYPE callwall_requirements gauge\n"
              "callwall_requirements{vendor=\"Whereby\",verdict=\"observed\"} 2\n"
              "callwall_requirements{vendor=\"Whereby\",verdict=\"blocked\"} 1\n"
              "callwall_requirements{vendor=\"Whereby\",verdict=\"partial\"} 0\n"
              "callwall_requirements{vendor=\"Whereby\",verdict=\"inconclusive\"} 0\n"
              "callwall_requirements{vendor=\"Whereby\",verdict=\"not_exercised\"} 4\n"
              "# HELP callwall_last_refresh_timestamp_seconds When this file was written.\n"
              "# TYPE callwall_last_refresh_timestamp_seconds gauge\n"
              "callwall_last_refresh_timestamp_seconds 1767225600.250\n");
}

// Before the run's first attribution there are no verdict series (a zero
// would claim "nothing observed"); label values are escaped.
TEST(Metrics, NoVerdictsBeforeTheFirstAttributionAndEscapedLabels) {
    MetricsSnapshot m;
    m.vendors.push_back({"A\"b\\c\nd", 1, 0, 0, 0, 0});
    EXPECT_EQ(metrics_text(m).find("callwall_requirements"), std::string::npos);
    m.attributed = true;
    EXPECT_NE(metrics_text(m).find("callwall_requirements{vendor=\"A\\\"b\\\\c\\nd\",verdict=\"observed\"} 1\n"),
              std::string::npos)
        << metrics_text(m);
}

TEST(Metrics, FileIsReplacedWholeAndNothingIsLeftBeside) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("callwall-metrics-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "callwall.prom").string();
    EXPECT_EQ(replace_file(path, "first\n"), "");
    EXPECT_EQ(replace_file(path, "second\n"), "");
    std::ifstream in(path);
    std::stringstream got;
    got << in.rdbuf();
    EXPECT_EQ(got.str(), "second\n");
    EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                  std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
    EXPECT_EQ(files, 1u) << "a temporary was left beside the file";
    const std::string bad = (dir / "missing" / "x.prom").string();
    EXPECT_EQ(replace_file(bad, "x\n"), bad + ": No such file or directory");
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace callwall::events
