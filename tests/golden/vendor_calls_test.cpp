// The bundled web-page vendors on real calls nobody here made
// (../shared/captures/public; docs/vendor-captures.md explains every gap):
// `callwall analyze`, as a user runs it with the bundled catalog, must give
// each of the vendor's entries the verdict below. The calls got through, so
// none may read blocked or partial, and every product the call used reads
// ready. Skipped when ../shared is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "golden/run_util.hpp"
#include "unit/corpus.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::test {
namespace {

struct VendorCall {
    const char* vendor;
    std::vector<std::string> captures;  ///< under ../shared/captures/public, read as one run
    std::vector<std::string> verdicts;  ///< "entry_id\tverdict\tflows_observed\tflows_blocked", by entry id
    std::vector<std::string> products;  ///< "product\tconclusion", by product
};

const std::vector<VendorCall>& calls() {
    static const std::vector<VendorCall> c{
        {"Microsoft Teams",
         {"ndpi__teams.pcap", "ndpi__stun_msteams_unidir.pcapng"},
         {"teams.akams.default.tcp\tnot_exercised\t0\t0", "teams.assets.default.tcp\tnot_exercised\t0\t0",
          "teams.device-updates.default.tcp\tnot_exercised\t0\t0", "teams.media.optimize.udp\tobserved\t8\t0",
          "teams.mediaservices.default.tcp\tnot_exercised\t0\t0", "teams.service.allow.tcp\tobserved\t28\t0",
          "teams.service.allow.udp\tnot_exercised\t0\t0", "teams.skype.default.tcp\tobserved\t2\t0"},
         {"Microsoft Teams\tready"}},
        {"Google Meet",
         {"ndpi__google_meet.pcapng", "ndpi__stun_google_meet.pcapng"},
         {"google-meet.api-endpoints.tcp\tobserved\t1\t0", "google-meet.live-streaming.tcp\tnot_exercised\t0\t0",
          "google-meet.media.udp\tobserved\t7\t0", "google-meet.optional.tcp\tnot_exercised\t0\t0",
          "google-meet.static-resources.tcp\tnot_exercised\t0\t0", "google-meet.web.tcp\tnot_exercised\t0\t0",
          "google-meet.web.udp\tobserved\t1\t0"},
         {"Google Meet\tready"}},
        {"Webex",
         {"ndpi__webex.pcap"},
         {"webex.cdn.tcp\tnot_exercised\t0\t0", "webex.content.tcp\tnot_exercised\t0\t0",
          "webex.media-tcp.tcp\tnot_exercised\t0\t0", "webex.media-tls.tcp\tobserved\t41\t0",
          "webex.media.udp\tobserved\t1\t0", "webex.people-insights.tcp\tnot_exercised\t0\t0",
          "webex.signaling.tcp\tobserved\t4\t0", "webex.third-party.tcp\tnot_exercised\t0\t0",
          "webex.video-mesh.udp\tnot_exercised\t0\t0"},
         {"Video Mesh Node\tnot exercised", "Webex App\tnot exercised", "Webex App and Cisco Video devices\tready"}},
        {"Zoom",
         {"ndpi__zoom.pcap", "ndpi__zoom2.pcap", "ndpi__stun_zoom.pcapng"},
         {"zoom.meeting.tcp\tnot_exercised\t0\t0", "zoom.meeting.udp\tobserved\t8\t0", "zoom.web.tcp\tobserved\t8\t0",
          "zoom.web.udp\tnot_exercised\t0\t0"},
         {"Zoom client\tready", "Zoom client and web browser\tready"}},
    };
    return c;
}

TEST(VendorCalls, RealCallsOfTheBundledWebPageVendorsReadAsTheyWent) {
#ifndef CALLWALL_BINARY
    GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
    const std::string shared = shared_dir();
    if (shared.empty()) GTEST_SKIP() << "../shared is absent: the real calls are in ../shared/captures/public";
    for (const VendorCall& call : calls()) {
        SCOPED_TRACE(call.vendor);
        TempDb db;
        std::vector<std::string> argv{
            "/usr/bin/env", "CALLWALL_CATALOG_DIR=" + full_catalog_dir(), CALLWALL_BINARY, "analyze", "-q", "--db",
            db.path()};
        for (const std::string& c : call.captures) {
            const std::string path = shared + "/captures/public/" + c;
            if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing from ../shared";
            argv.push_back(path);
        }
        const auto r = robustness::run(argv, robustness::kCaptureRunTimeoutS);
        ASSERT_TRUE(r.exit.exited) << r.exit.describe();
        ASSERT_EQ(r.exit.code, 0) << r.err;
        const std::string vendor = std::string("'") + call.vendor + "'";
        EXPECT_EQ(query_rows(db.path(),
                             "SELECT v.entry_id, v.verdict, v.flows_observed, v.flows_blocked FROM verdict v "
                             "JOIN catalog_entry c ON c.run_id = v.run_id AND c.entry_id = v.entry_id "
                             "WHERE c.vendor = " +
                                 vendor + " ORDER BY v.entry_id"),
                  call.verdicts);
        EXPECT_EQ(query_rows(db.path(), "SELECT product, conclusion FROM product_verdict WHERE vendor = " + vendor +
                                            " ORDER BY product"),
                  call.products);
    }
#endif
}

}  // namespace
}  // namespace callwall::test
