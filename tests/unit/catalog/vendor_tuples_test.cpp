// The bundled catalog's web-page documents (schema 2) hold exactly the
// requirements their vendors' pages state: nothing missing, nothing invented,
// each with its page's URL and date.
//
// The expected data below was typed from the vendors' pages as read on
// 2026-11-26 and 2026-11-27 (stored copies; see catalog/README.md),
// independently of the catalog files: transport, ports, names and address ranges as the page
// writes them, the condition, whether the vendor calls it required, and the
// vendor's tier word. Microsoft Teams, Webex, Zoom and Twilio are typed in
// vendor_tuples_calls_test.cpp; this file checks the other pages.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "unit/corpus.hpp"
#include "catalog/catalog.hpp"
#include "unit/catalog/catalog_test_util.hpp"
#include "unit/catalog/page_rows.hpp"

namespace callwall::catalog {
namespace {

constexpr const char* kChime = "https://docs.aws.amazon.com/chime-sdk/latest/dg/network-config.html";
constexpr const char* kLiveKit = "https://docs.livekit.io/deploy/admin/firewall";
constexpr const char* kMeet = "https://support.google.com/a/answer/1279090";
constexpr const char* kVonage =
    "https://support.tokbox.com/hc/en-us/articles/115000210424-What-are-the-firewall-requirements-to-use-TokBox-";
constexpr const char* kJitsi = "https://jitsi.github.io/handbook/docs/devops-guide/devops-guide-quickstart";
constexpr const char* kDaily =
    "https://docs.daily.co/guides/privacy-and-security/corporate-firewalls-nats-allowed-ip-list";
constexpr const char* kGoToApp = "https://support.goto.com/meeting/help/minimal-firewall-settings-for-the-goto-app";
constexpr const char* kGoToV10 =
    "https://support.goto.com/webinar/help/"
    "minimal-firewall-settings-for-using-the-v10-goto-meeting-goto-webinar-and-goto-training-desktop-app";
constexpr const char* kSlack =
    "https://slack.zendesk.com/hc/en-us/articles/"
    "36284146785427-Guide-to-network-and-system-configuration-for-Slack-huddles";
constexpr const char* kAgoraNow = "https://docs.agora.io/en/realtime-media/agora-analytics/reference/firewall";
// The same page published under Video Calling: its Signaling SDK sections.
constexpr const char* kAgoraVideoCalling = "https://docs.agora.io/en/video-calling/reference/firewall";
constexpr const char* kCloudflare = "https://developers.cloudflare.com/realtime/turn/";
constexpr const char* kWherebyNow =
    "https://docs.whereby.com/further-resources/faq-and-troubleshooting/firewall-and-security";

using test::PageRow;
using test::Strings;

// GoTo V10 page: the TCP 443 table, then the UDP table (without 202.173.24.0/21).
const Strings kGoToTcp = {"23.239.228.0/22", "23.239.232.0/23", "23.239.234.0/23", "23.239.236.0/23",
                          "67.217.64.0/19",  "68.64.0.0/19",    "78.108.112.0/20", "173.199.0.0/18",
                          "202.173.24.0/21", "216.115.208.0/20"};
const Strings kGoToUdp = {"23.239.228.0/22", "23.239.232.0/23", "23.239.234.0/23", "23.239.236.0/23", "67.217.64.0/19",
                          "68.64.0.0/19",    "78.108.112.0/20", "173.199.0.0/18",  "216.115.208.0/20"};
const Strings kDailyWss = {"*.wss.daily.co", "*.wss.dailywebrtc.com", "*.wss.dailywebrtc.net"};
const Strings kAgoraWeb = {".agora.io",
                           ".edge.agora.io",
                           ".sd-rtn.com",
                           ".edge.sd-rtn.com",
                           ".ap.sd-rtn.com",
                           ".statscollector.sd-rtn.com",
                           ".webrtc-cloud-proxy.sd-rtn.com"};
const Strings kAgoraSignalingWeb = {".edge.agora.io",
                                    ".edge.sd-rtn.com",
                                    "web-1.ap.sd-rtn.com",
                                    "web-2.ap.sd-rtn.com",
                                    "web-3.ap.sd-rtn.com",
                                    "web-4.ap.sd-rtn.com",
                                    "ap-web-1.agora.io",
                                    "ap-web-2.agora.io",
                                    "ap-web-3.agora.io",
                                    "ap-web-4.agora.io",
                                    "webcollector-rtm.agora.io",
                                    "logservice-rtm.agora.io",
                                    "rtm.statscollector.sd-rtn.com",
                                    "rtm.logservice.sd-rtn.com"};
const Strings kAgoraStream = {".agora.io", ".edge.agora.io", ".sd-rtn.com", ".edge.sd-rtn.com"};
// LiveKit "Regions, regional endpoints, and static IPs": the same blocks for every listed region.
const Strings kLiveKitStatic = {"143.223.88.0/21", "161.115.160.0/19", "153.57.128.0/18"};
const Strings kWherebyNowTurn = {"*.turn.whereby.com", "*.turn.svc.whereby.com", "turnserver.appearin.net"};
const Strings kAny = {"ANY"};

// Cloudflare Realtime's FAQ: "Please allowlist the following IP addresses".
const Strings kCloudflareTurnIps = {"2a06:98c1:3200::1/128", "2606:4700:48::1/128", "141.101.90.1/32",
                                    "162.159.207.1/32"};

const std::vector<PageRow>& expected_page_rows() {
    static const std::vector<PageRow> r = {
        // Cloudflare Realtime, "Service address and ports": primary and
        // alternate port per protocol; the page says nothing of required
        // (the primaries assumed so), and of port 53 "not recommended".
        {"Cloudflare Realtime", "Realtime TURN", "udp", "3478", {"stun.cloudflare.com"}, {}, "", true, "", kCloudflare},
        {"Cloudflare Realtime", "Realtime TURN", "udp", "53", {"stun.cloudflare.com"}, {}, "", false, "", kCloudflare},
        {"Cloudflare Realtime",
         "Realtime TURN",
         "udp",
         "3478",
         {"turn.cloudflare.com"},
         kCloudflareTurnIps,
         "",
         true,
         "",
         kCloudflare},
        {"Cloudflare Realtime",
         "Realtime TURN",
         "udp",
         "53",
         {"turn.cloudflare.com"},
         kCloudflareTurnIps,
         "",
         false,
         "",
         kCloudflare},
        {"Cloudflare Realtime",
         "Realtime TURN",
         "tcp",
         "3478",
         {"turn.cloudflare.com"},
         kCloudflareTurnIps,
         "",
         true,
         "",
         kCloudflare},
        {"Cloudflare Realtime",
         "Realtime TURN",
         "tcp",
         "80",
         {"turn.cloudflare.com"},
         kCloudflareTurnIps,
         "",
         false,
         "",
         kCloudflare},
        {"Cloudflare Realtime",
         "Realtime TURN",
         "tcp",
         "5349",
         {"turn.cloudflare.com"},
         kCloudflareTurnIps,
         "",
         true,
         "",
         kCloudflare},
        {"Cloudflare Realtime",
         "Realtime TURN",
         "tcp",
         "443",
         {"turn.cloudflare.com"},
         kCloudflareTurnIps,
         "",
         false,
         "",
         kCloudflare},
        // Amazon Chime SDK: "*.chime.aws | 99.77.128.0/18 | TCP:443 UDP:3478"; Voice Focus.
        {"Amazon Chime SDK",
         "Amazon Chime SDK",
         "udp",
         "3478",
         {"*.chime.aws"},
         {"99.77.128.0/18"},
         "",
         true,
         "",
         kChime},
        {"Amazon Chime SDK",
         "Amazon Chime SDK",
         "tcp",
         "443",
         {"*.chime.aws"},
         {"99.77.128.0/18"},
         "",
         true,
         "",
         kChime},
        {"Amazon Chime SDK",
         "Amazon Chime SDK client library for JavaScript",
         "tcp",
         "443",
         {"*.sdkassets.chime.aws"},
         {},
         "feature:Amazon Voice Focus",
         false,
         "",
         kChime},
        // "Configuring for echo reduction" and "... background replacement and blur": "*.sdkassets.chime.aws | TCP:443".
        {"Amazon Chime SDK",
         "Amazon Chime SDK client library for JavaScript",
         "tcp",
         "443",
         {"*.sdkassets.chime.aws"},
         {},
         "feature:Echo reduction",
         false,
         "",
         kChime},
        {"Amazon Chime SDK",
         "Amazon Chime SDK client library for JavaScript",
         "tcp",
         "443",
         {"*.sdkassets.chime.aws"},
         {},
         "feature:Background replacement and blur",
         false,
         "",
         kChime},

        // Slack huddles: "Approve *.chime.aws or IP range 99.77.128.0/18"; "UDP/22466 and TCP/443".
        {"Slack huddles", "Slack huddles", "udp", "22466", {"*.chime.aws"}, {"99.77.128.0/18"}, "", true, "", kSlack},
        {"Slack huddles", "Slack huddles", "tcp", "443", {"*.chime.aws"}, {"99.77.128.0/18"}, "", true, "", kSlack},

        // LiveKit Cloud: the Corporate firewalls table; the named hosts or the static IPs.
        {"LiveKit Cloud", "LiveKit Cloud", "tcp", "443", {"*.livekit.cloud"}, kLiveKitStatic, "", true, "", kLiveKit},
        {"LiveKit Cloud",
         "LiveKit Cloud",
         "tcp",
         "443",
         {"*.turn.livekit.cloud"},
         kLiveKitStatic,
         "",
         true,
         "",
         kLiveKit},
        {"LiveKit Cloud",
         "LiveKit Cloud",
         "udp",
         "3478",
         {"*.host.livekit.cloud"},
         kLiveKitStatic,
         "",
         true,
         "",
         kLiveKit},
        {"LiveKit Cloud", "LiveKit Cloud", "udp", "50000-60000", kAny, {}, "", false, "recommended", kLiveKit},
        {"LiveKit Cloud", "LiveKit Cloud", "tcp", "7881", kAny, {}, "", false, "recommended", kLiveKit},

        // Google Meet: Step 1 ports (no IP limitation), Step 2 domains.
        {"Google Meet", "Google Meet", "udp", "3478 19302-19309", kAny, {}, "", true, "", kMeet},
        {"Google Meet", "Google Meet", "udp", "443", kAny, {}, "", true, "", kMeet},
        {"Google Meet", "Google Meet", "tcp", "443", kAny, {}, "", true, "", kMeet},
        {"Google Meet",
         "Google Meet",
         "tcp",
         "443",
         {"clients2.google.com", "clients4.google.com", "clients6.google.com", "www.gstatic.com", "fonts.gstatic.com",
          "lh3.googleusercontent.com", "meetings.clients6.google.com"},
         {},
         "",
         true,
         "",
         kMeet},
        {"Google Meet",
         "Google Meet",
         "tcp",
         "443",
         {"accounts.google.com", "apis.google.com", "meetings.googleapis.com", "meet.google.com", "apps.google.com",
          "jamboard.google.com", "docs.google.com"},
         {},
         "",
         true,
         "",
         kMeet},
        {"Google Meet",
         "Google Meet",
         "tcp",
         "443",
         {"stream.meet.google.com", "youtube.googleapis.com", "www.youtube-nocookie.com", "googlevideo.com"},
         {},
         "feature:Live streaming",
         true,
         "",
         kMeet},
        {"Google Meet",
         "Google Meet",
         "tcp",
         "443",
         {"www.google.com", "feedback.googleusercontent.com"},
         {},
         "",
         false,
         "optional",
         kMeet},

        // Vonage Video (TokBox article).
        {"Vonage Video",
         "Vonage Video client",
         "tcp",
         "443",
         {"*.tokbox.com", "*.opentok.com"},
         {},
         "",
         true,
         "required",
         kVonage},
        {"Vonage Video",
         "Vonage Video client",
         "tcp",
         "443",
         {"oscp.godaddy.com", "crl.godaddy.com"},
         {},
         "",
         true,
         "required",
         kVonage},
        {"Vonage Video", "Vonage Video client", "udp", "3478", kAny, {}, "", false, "recommended", kVonage},
        {"Vonage Video", "Vonage Video client", "udp", "1025-65535", kAny, {}, "", false, "recommended", kVonage},
        {"Vonage Video",
         "Application servers (server SDKs or REST API)",
         "tcp",
         "443",
         {"*.opentok.com"},
         {},
         "",
         true,
         "",
         kVonage},

        // Jitsi Meet self-hosted: inbound to the server ("Setup and configure your firewall", 2025 handbook).
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "tcp", "80", kAny, {}, "", true, "", kJitsi},
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "tcp", "443", kAny, {}, "", true, "", kJitsi},
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "udp", "10000", kAny, {}, "", true, "", kJitsi},
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "tcp", "22", kAny, {}, "", true, "", kJitsi},
        {"Jitsi Meet (self-hosted)",
         "Jitsi Meet server",
         "udp",
         "3478",
         kAny,
         {},
         "feature:coturn STUN (needs a config.js change to enable it)",
         false,
         "",
         kJitsi},
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "tcp", "5349", kAny, {}, "", true, "", kJitsi},

        // Daily Networking Guide.
        {"Daily",
         "Daily",
         "tcp",
         "443",
         {"*.daily.co", "*.dailywebrtc.com", "*.dailywebrtc.net"},
         {},
         "",
         true,
         "",
         kDaily},
        {"Daily", "Daily", "tcp", "443", kDailyWss, {}, "", true, "", kDaily},
        {"Daily",
         "Daily",
         "tcp",
         "443",
         {"b.daily.co", "c.daily.co", "b.dailywebrtc.com", "c.dailywebrtc.com", "b.dailywebrtc.net",
          "c.dailywebrtc.net"},
         {},
         "",
         true,
         "",
         kDaily},
        {"Daily",
         "Daily",
         "tcp",
         "443",
         {"gs.daily.co", "gs.dailywebrtc.com", "gs.dailywebrtc.net"},
         {},
         "",
         true,
         "",
         kDaily},
        {"Daily", "Daily", "tcp", "443", {"prod-ks.pluot.blue"}, {}, "", true, "", kDaily},
        {"Daily", "Daily", "udp", "3478 53", {"stun.cloudflare.com"}, {}, "", true, "required", kDaily},
        // "for the best call quality" / "We recommend both": recommended, not required.
        {"Daily", "Daily", "udp", "23000-26999 40000-49999", kDailyWss, {}, "", false, "recommended", kDaily},
        {"Daily", "Daily", "tcp", "443 40000-49999", kDailyWss, {}, "", false, "recommended", kDaily},
        {"Daily", "Daily", "udp", "3478 53", {"turn.cloudflare.com"}, {}, "", false, "recommended", kDaily},
        {"Daily", "Daily", "tcp", "3478 80 5349 443", {"turn.cloudflare.com"}, {}, "", false, "recommended", kDaily},

        // GoTo app, Version 2.1.
        {"GoTo Meeting",
         "GoTo app",
         "tcp",
         "443",
         {"*.goto.com", "*.goto-rtc.com", "*.jive.com", "*.getgo.com", "*.gotomeeting.com", "*.logmeininc.com",
          "*.expertcity.com"},
         {},
         "",
         true,
         "",
         kGoToApp},
        {"GoTo Meeting", "GoTo app", "udp", "45000-49999", kAny, {}, "", false, "recommended", kGoToApp},
        {"GoTo Meeting",
         "GoTo Training",
         "tcp",
         "443",
         {"*.gototraining.com"},
         {},
         "feature:GoTo Training",
         true,
         "",
         kGoToApp},
        {"GoTo Meeting",
         "GoTo Training",
         "tcp",
         "443",
         {"*.firebase.app", "apis.google.com", "*.youtube.com", "*.googlevideo.com"},
         {},
         "feature:GoTo Training",
         true,
         "",
         kGoToApp},

        // GoTo V10 desktop app: the two range tables, and the domain table's five visible rows (port assumed).
        {"GoTo Meeting", "GoTo Meeting V10 desktop app", "udp", "1853 8200", {}, kGoToUdp, "", true, "", kGoToV10},
        {"GoTo Meeting", "GoTo Meeting V10 desktop app", "tcp", "443", {}, kGoToTcp, "", true, "", kGoToV10},
        {"GoTo Meeting",
         "GoTo Meeting V10 desktop app",
         "tcp",
         "443",
         {"*.goto.com", "*.getgo.com", "*.gotomeeting.com", "*.expertcity.com", "*.goto-rtc.com"},
         {},
         "",
         true,
         "",
         kGoToV10},

        // Agora, current site: Video SDK (Web).
        {"Agora",
         "Video SDK (Web)",
         "tcp",
         "80 443 3433 3478 4700-5000 5668 5669 6080 6443 8667 9667",
         kAgoraWeb,
         {},
         "",
         true,
         "",
         kAgoraNow},
        {"Agora",
         "Video SDK (Web)",
         "tcp",
         "30011-30013",
         kAgoraWeb,
         {},
         "feature:RTMP converter",
         true,
         "",
         kAgoraNow},
        {"Agora", "Video SDK (Web)", "udp", "3478", kAgoraWeb, {}, "", true, "", kAgoraNow},
        {"Agora", "Video SDK (Web)", "udp", "4700-5000", kAgoraWeb, {}, "sdk>=2.9.0", true, "", kAgoraNow},
        {"Agora", "Video SDK (Web)", "udp", "10000-65535", kAgoraWeb, {}, "sdk<2.9.0", true, "", kAgoraNow},
        // Signaling SDK (Web): message channel ("If you are using Signaling 1.x, also add port 9601"), stream channel.
        {"Agora",
         "Signaling SDK (Web)",
         "tcp",
         "443 9591 9593 27387",
         kAgoraSignalingWeb,
         {},
         "",
         true,
         "",
         kAgoraVideoCalling},
        {"Agora",
         "Signaling SDK (Web)",
         "tcp",
         "9601",
         kAgoraSignalingWeb,
         {},
         "sdk>=1&sdk<2",
         true,
         "",
         kAgoraVideoCalling},
        {"Agora",
         "Signaling SDK (Web)",
         "tcp",
         "80 3433 4700-5000 5668 5669 6080 6443 8667 9667",
         kAgoraStream,
         {},
         "feature:Stream channel",
         true,
         "",
         kAgoraVideoCalling},
        {"Agora",
         "Signaling SDK (Web)",
         "udp",
         "3478 4700-5000",
         kAgoraStream,
         {},
         "feature:Stream channel",
         true,
         "",
         kAgoraVideoCalling},
        // Signaling SDK (Native): message channel ".agora.io"; stream channel ports only.
        {"Agora",
         "Signaling SDK (Native)",
         "tcp",
         "443 7384 8443 9130 9131 9136 9137 9140 9141",
         {".agora.io"},
         {},
         "",
         true,
         "",
         kAgoraVideoCalling},
        {"Agora",
         "Signaling SDK (Native)",
         "udp",
         "1080 3000 8000 8130 8443 9120 9121 9700 25000",
         {".agora.io"},
         {},
         "",
         true,
         "",
         kAgoraVideoCalling},
        {"Agora",
         "Signaling SDK (Native)",
         "udp",
         "4001-4150",
         kAny,
         {},
         "feature:Stream channel",
         true,
         "",
         kAgoraVideoCalling},

        // Whereby, current docs: the port table and the domain list.
        {"Whereby",
         "Whereby (browser)",
         "tcp",
         "443",
         {"*.sfu.whereby.com", "*.sfu.svc.whereby.com", "*.srv.whereby.com", "*.svc.whereby.com", "*.appearin.net"},
         {},
         "",
         true,
         "",
         kWherebyNow},
        {"Whereby", "Whereby (browser)", "tcp", "443", kWherebyNowTurn, {}, "", true, "", kWherebyNow},
        // TURN/SFU (media): the TURN servers' names (any_fallback: "or allow broader UDP egress").
        {"Whereby", "Whereby (browser)", "udp", "443", kWherebyNowTurn, {}, "", true, "", kWherebyNow},
        {"Whereby", "Whereby (browser)", "udp", "1024-65535", kWherebyNowTurn, {}, "", true, "", kWherebyNow},
        {"Whereby",
         "Whereby (browser)",
         "tcp",
         "443",
         {"*.posthog.com", "*.sentry.io", "*.helpscout.net", "*.amazonaws.net", "*.cloudfront.net"},
         {},
         "",
         false,
         "",
         kWherebyNow},
    };
    return r;
}

// The documents whose entries this file types (an entry of the Agora page
// may come from the same page under another URL: its source URL says so).
const std::set<std::string>& this_files_documents() {
    static const std::set<std::string> d = {kChime, kSlack,   kLiveKit, kMeet,     kVonage,     kJitsi,
                                            kDaily, kGoToApp, kGoToV10, kAgoraNow, kWherebyNow, kCloudflare};
    return d;
}

class VendorTuples : public ::testing::Test {
protected:
    static void SetUpTestSuite() { catalog_ = test::load_catalog_or_fail(test::full_catalog_dir()); }
    static void TearDownTestSuite() {
        delete catalog_;
        catalog_ = nullptr;
    }
    static const Document& document_of(const Entry& e) { return catalog_->documents()[e.document]; }
    static bool from_web_page(const Entry& e) { return !document_of(e).url.empty(); }
    static Catalog* catalog_;
};
Catalog* VendorTuples::catalog_ = nullptr;

TEST_F(VendorTuples, ExactlyThePageRequirements) {
    ASSERT_NE(catalog_, nullptr);
    test::expect_same_tuples(test::expand_rows(expected_page_rows()),
                             test::catalog_page_tuples(*catalog_, this_files_documents()), test::describe_page_tuple,
                             "not on the pages");
}

TEST_F(VendorTuples, EveryPageDocumentCarriesItsProvenance) {
    ASSERT_NE(catalog_, nullptr);
    // url -> (vendor, date or "" when undated, list version, day transcribed)
    using Provenance = std::tuple<std::string, std::string, std::string, std::string>;
    const std::map<std::string, Provenance> expected = {
        // "Last updated: 08/14/2026"; the page shows no list version.
        {"https://learn.microsoft.com/en-us/microsoft-365/enterprise/urls-and-ip-address-ranges",
         {"Microsoft Teams", "2026-08-14", "", "2026-11-27"}},
        // Revision history: "3/16/2026".
        {"https://help.webex.com/en-us/article/WBX000028782/Network-Requirements-for-Webex-Services",
         {"Webex", "2026-03-16", "", "2026-11-27"}},
        {"https://support.zoom.com/hc/ja/article?id=zm_kb&sysparm_article=KB0060561", {"Zoom", "", "", "2026-11-27"}},
        // "dateModified: 2026-03-24T17:56:22.000Z".
        {"https://www.twilio.com/docs/video/ip-addresses", {"Twilio Video", "2026-03-24", "", "2026-11-27"}},
        {kChime, {"Amazon Chime SDK", "", "", "2026-11-27"}},
        {kSlack, {"Slack huddles", "", "", "2026-11-26"}},
        {kLiveKit, {"LiveKit Cloud", "", "", "2026-11-27"}},
        {kMeet, {"Google Meet", "", "", "2026-11-26"}},
        {kVonage, {"Vonage Video", "", "", "2026-11-26"}},
        // The handbook page's last change (commit 5f36b1b7e).
        {kJitsi, {"Jitsi Meet (self-hosted)", "2025-11-18", "", "2026-11-27"}},
        {kDaily, {"Daily", "", "", "2026-11-27"}},
        {kGoToApp, {"GoTo Meeting", "", "", "2026-11-26"}},
        {kGoToV10, {"GoTo Meeting", "", "", "2026-11-27"}},
        {kAgoraNow, {"Agora", "", "", "2026-11-27"}},
        {kWherebyNow, {"Whereby", "", "", "2026-11-27"}},
        {kCloudflare, {"Cloudflare Realtime", "", "", "2026-11-27"}},
    };
    std::map<std::string, Provenance> actual;
    for (const Document& d : catalog_->documents()) {
        if (d.url.empty()) {
            EXPECT_FALSE(d.sources.empty()) << d.catalog_file << ": neither a page URL nor seed sources";
            continue;
        }
        EXPECT_EQ(d.schema, 2) << d.catalog_file;
        EXPECT_FALSE(d.title.empty()) << d.catalog_file;
        EXPECT_NE(d.date.empty(), !d.undated) << d.catalog_file << ": exactly one of date or undated";
        EXPECT_FALSE(d.notes.empty()) << d.catalog_file << ": say what the page left out";
        actual[d.url] = {d.vendor, d.date, d.list_version, d.transcribed};
    }
    EXPECT_EQ(actual, expected);
    for (const Entry& e : catalog_->entries()) {
        if (!from_web_page(e)) continue;
        EXPECT_TRUE(e.source.file.empty()) << e.id;
        EXPECT_FALSE(e.source.section.empty()) << e.id;
    }
}

TEST_F(VendorTuples, FifteenVendorsAndTheirRangeEntries) {
    ASSERT_NE(catalog_, nullptr);
    std::set<std::string> vendors;
    size_t with_ranges = 0;
    for (const Entry& e : catalog_->entries()) {
        vendors.insert(e.vendor);
        if (!e.addresses.empty()) ++with_ranges;
    }
    EXPECT_GE(vendors.size(), 15u);
    EXPECT_GE(with_ranges, 15u);
    for (const char* v : {"Sendbird", "Whereby", "Agora", "Webex", "Zoom", "Microsoft Teams"}) {
        EXPECT_TRUE(vendors.count(v)) << v;
    }
}

TEST_F(VendorTuples, FallbacksFollowTheVendorsOrder) {
    ASSERT_NE(catalog_, nullptr);
    // chain -> [(order, transport, first port)], as the pages order them.
    const std::map<std::string, std::vector<std::tuple<uint32_t, std::string, int>>> expected = {
        // Chime: "UDP transport whenever possible. If UDP is blocked ... TLS".
        {"chime-sdk.media", {{1, "udp", 3478}, {2, "tcp", 443}}},
        // LiveKit: TURN/TLS "Used when UDP connection isn't viable".
        {"livekit-cloud.media", {{1, "udp", 50000}, {2, "tcp", 443}}},
        // GoTo V10: "If these UDP ports are not open, GoTo Meeting will fall back to TCP".
        {"goto-v10.media", {{1, "udp", 1853}, {2, "tcp", 443}}},
        // Twilio: "1 (Optimal) UDP 10,000 - 60,000", "2 (Acceptable) UDP 3478", "3 (Degraded) TCP/TLS 443".
        {"twilio-video.media", {{1, "udp", 10000}, {2, "udp", 3478}, {3, "tcp", 443}}},
        // Webex: "fall back to TCP. If TCP ports are blocked, ... fall back to TLS".
        {"webex.media", {{1, "udp", 5004}, {2, "tcp", 5004}, {3, "tcp", 443}}},
        // Whereby: UDP preferred; "may still work using TURN over TCP/TLS (443)".
        {"whereby-current.turn", {{1, "udp", 443}, {2, "tcp", 443}}},
    };
    std::map<std::string, std::vector<std::tuple<uint32_t, std::string, int>>> actual;
    for (const Entry& e : catalog_->entries()) {
        if (!e.fallback) continue;
        actual[e.fallback->chain].emplace_back(e.fallback->order, std::string(to_string(e.transport)), e.ports[0].lo);
        EXPECT_FALSE(e.fallback->label.empty()) << e.id;
    }
    for (auto& [chain, steps] : actual) std::sort(steps.begin(), steps.end());
    EXPECT_EQ(actual, expected);
}

TEST_F(VendorTuples, RangesHoldTheVendorsAddresses) {
    ASSERT_NE(catalog_, nullptr);
    auto holds = [&](std::string_view id, std::string_view ip) {
        const Entry* e = catalog_->find_entry(id);
        if (e == nullptr) {
            ADD_FAILURE() << "no entry " << id;
            return false;
        }
        const auto a = parse_ip(ip);
        if (!a) {
            ADD_FAILURE() << "bad address " << ip;
            return false;
        }
        for (const AddressRange& r : e->addresses) {
            if (r.contains(a->first, a->second)) return true;
        }
        return false;
    };
    // Inside and just outside the published ranges.
    EXPECT_TRUE(holds("teams.media.optimize.udp", "52.115.255.255"));
    EXPECT_FALSE(holds("teams.media.optimize.udp", "52.116.0.0"));
    EXPECT_TRUE(holds("teams.media.optimize.udp", "52.123.255.254"));  // 52.122.0.0/15, new since 2022
    EXPECT_FALSE(holds("teams.media.optimize.udp", "52.120.0.1"));  // 52.120.0.0/14, no longer listed
    EXPECT_FALSE(holds("teams.media.optimize.udp", "13.107.64.1"));  // 13.107.64.0/18, no longer listed
    EXPECT_TRUE(holds("teams.media.optimize.udp", "2603:1063:3ff:ffff::1"));  // /38
    EXPECT_FALSE(holds("teams.media.optimize.udp", "2603:1063:400::1"));
    EXPECT_TRUE(holds("chime-sdk.media.udp", "99.77.191.255"));
    EXPECT_FALSE(holds("chime-sdk.media.udp", "99.77.192.0"));
    EXPECT_TRUE(holds("slack-huddles.media.udp", "99.77.128.1"));
    EXPECT_TRUE(holds("twilio-video.turn.udp", "54.172.61.200"));
    EXPECT_FALSE(holds("twilio-video.turn.udp", "54.172.62.0"));
    EXPECT_TRUE(holds("goto-v10.connection.tcp", "202.173.24.7"));
    EXPECT_FALSE(holds("goto-v10.media.udp", "202.173.24.7"));  // not in the page's UDP table
    EXPECT_TRUE(holds("webex.media.udp", "163.129.127.255"));  // 163.129.0.0/17 (corrected 3/16/2026)
    EXPECT_FALSE(holds("webex.media.udp", "163.129.128.0"));
    EXPECT_TRUE(holds("webex.media.udp", "2a00:a640:3fff::1"));  // /34
    EXPECT_FALSE(holds("webex.media.udp", "66.114.160.1"));  // removed 4/4/2025
    EXPECT_TRUE(holds("livekit-cloud.signal.tcp", "153.57.191.255"));
    EXPECT_FALSE(holds("livekit-cloud.signal.tcp", "153.57.192.0"));
    EXPECT_TRUE(holds("cloudflare-realtime.turn.udp", "162.159.207.1"));
    EXPECT_TRUE(holds("cloudflare-realtime.turn.udp", "2606:4700:48::1"));
    EXPECT_FALSE(holds("cloudflare-realtime.turn.udp", "162.159.207.2"));
}

}  // namespace
}  // namespace callwall::catalog
