// The bundled catalog's web-page documents (schema 2) hold exactly the
// requirements their vendors' pages state: nothing missing, nothing invented,
// each with its page's URL and date.
//
// The expected data below was typed from the vendors' pages as read on
// 2026-11-26 (stored copies; see catalog/README.md), independently of the
// catalog files: transport, ports, names and address ranges as the page
// writes them, the condition, whether the vendor calls it required, and the
// vendor's tier word.
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

namespace callwall::catalog {
namespace {

constexpr const char* kTeams = "https://learn.microsoft.com/en-us/microsoft-365/enterprise/urls-and-ip-address-ranges";
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
constexpr const char* kTwilioVideo = "https://www.twilio.com/docs/video/ip-addresses";
constexpr const char* kTwilioNts = "https://www.twilio.com/docs/stun-turn/regions";
constexpr const char* kSlack =
    "https://slack.zendesk.com/hc/en-us/articles/"
    "36284146785427-Guide-to-network-and-system-configuration-for-Slack-huddles";
constexpr const char* kAgoraNow = "https://docs.agora.io/en/realtime-media/agora-analytics/reference/firewall";
constexpr const char* kWherebyNow =
    "https://docs.whereby.com/further-resources/faq-and-troubleshooting/firewall-and-security";

using Strings = std::vector<std::string>;

// One row of a page: the ports as a list ("80 443 5866-6000"), the names and
// ranges they go to, the condition, required, the tier word, the page.
struct PageRow {
    std::string vendor, product;
    std::string transport;  // "tcp" / "udp"
    std::string ports;
    Strings names;  // destination patterns ("ANY" when the page names none)
    Strings ranges;  // address ranges as the page writes them
    std::string condition;  // "", "feature:X", "sdk>=V", "sdk<V"
    bool required = true;
    std::string tier;
    std::string page;
};

// Microsoft 365 list version 2022072800, "Skype for Business Online and Microsoft Teams".
const Strings kTeamsOptimize = {"13.107.64.0/18", "52.112.0.0/14", "52.120.0.0/14", "2603:1063::/38"};
const Strings kTeamsAllow = {"13.107.64.0/18",    "52.112.0.0/14",  "52.120.0.0/14",   "52.238.119.141/32",
                             "52.244.160.207/32", "2603:1027::/48", "2603:1037::/48",  "2603:1047::/48",
                             "2603:1057::/48",    "2603:1063::/38", "2620:1ec:6::/48", "2620:1ec:40::/42"};
// GoTo V10 page: the TCP 443 table, then the UDP table (without 202.173.24.0/21).
const Strings kGoToTcp = {"23.239.228.0/22", "23.239.232.0/23", "23.239.234.0/23", "23.239.236.0/23",
                          "67.217.64.0/19",  "68.64.0.0/19",    "78.108.112.0/20", "173.199.0.0/18",
                          "202.173.24.0/21", "216.115.208.0/20"};
const Strings kGoToUdp = {"23.239.228.0/22", "23.239.232.0/23", "23.239.234.0/23", "23.239.236.0/23", "67.217.64.0/19",
                          "68.64.0.0/19",    "78.108.112.0/20", "173.199.0.0/18",  "216.115.208.0/20"};
// Twilio STUN-TURN regions au1, br1, de1, in1, ie1, jp1, sg1, us1, us2.
const Strings kTwilioTurn = {
    "13.210.2.128-13.210.2.159",     "54.252.254.64-54.252.254.127",  "3.25.42.128-3.25.42.255",
    "18.231.105.32-18.231.105.63",   "177.71.206.192-177.71.206.255", "18.230.125.0-18.230.125.127",
    "52.59.186.0-52.59.186.31",      "18.195.48.224-18.195.48.255",   "18.156.18.128-18.156.18.255",
    "52.66.193.96-52.66.193.127",    "52.66.194.0-52.66.194.63",      "3.7.35.128-3.7.35.255",
    "52.215.253.0-52.215.253.63",    "54.171.127.192-54.171.127.255", "52.215.127.0-52.215.127.255",
    "3.249.63.128-3.249.63.255",     "13.115.244.0-13.115.244.31",    "54.65.63.192-54.65.63.255",
    "18.180.220.128-18.180.220.255", "13.229.255.0-13.229.255.31",    "54.169.127.128-54.169.127.191",
    "18.141.157.128-18.141.157.255", "34.203.254.0-34.203.254.255",   "54.172.60.0-54.172.61.255",
    "34.203.250.0-34.203.251.255",   "3.235.111.128-3.235.111.255",   "34.216.110.128-34.216.110.159",
    "54.244.51.0-54.244.51.255",     "44.234.69.0-44.234.69.127"};
const Strings kDailyWss = {"*.wss.daily.co", "*.wss.dailywebrtc.com", "*.wss.dailywebrtc.net"};
const Strings kAgoraWeb = {".agora.io",
                           ".edge.agora.io",
                           ".sd-rtn.com",
                           ".edge.sd-rtn.com",
                           ".ap.sd-rtn.com",
                           ".statscollector.sd-rtn.com",
                           ".webrtc-cloud-proxy.sd-rtn.com"};
const Strings kAny = {"ANY"};

const std::vector<PageRow>& expected_page_rows() {
    static const std::vector<PageRow> r = {
        // Microsoft Teams (IDs 11, 12, 13, 22, 15, 16, 17, 18, 19, 26, 27, 127).
        {"Microsoft Teams", "Microsoft Teams", "udp", "3478-3481", {}, kTeamsOptimize, "", true, "optimize", kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443 80",
         {"*.lync.com", "*.teams.microsoft.com", "teams.microsoft.com"},
         kTeamsAllow,
         "",
         true,
         "allow",
         kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"*.broadcast.skype.com", "broadcast.skype.com"},
         kTeamsAllow,
         "",
         true,
         "allow",
         kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"*.skypeforbusiness.com"},
         kTeamsAllow,
         "feature:Messaging interop with Skype for Business",
         false,
         "allow",
         kTeams},
        {"Microsoft Teams", "Microsoft Teams", "tcp", "443 80", {"*.sfbassets.com"}, {}, "", true, "default", kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"*.keydelivery.mediaservices.windows.net", "*.streaming.mediaservices.windows.net",
          "mlccdn.blob.core.windows.net"},
         {},
         "",
         true,
         "default",
         kTeams},
        {"Microsoft Teams", "Microsoft Teams", "tcp", "443", {"aka.ms"}, {}, "", true, "default", kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"*.users.storage.live.com"},
         {},
         "feature:Federation with Skype and public IM connectivity",
         false,
         "default",
         kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443 80",
         {"*.adl.windows.com"},
         {},
         "feature:Conference Room Systems",
         false,
         "default",
         kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"*.msedge.net", "compass-ssl.microsoft.com"},
         {},
         "",
         true,
         "default",
         kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"*.mstea.ms", "*.secure.skypeassets.com", "mlccdnprod.azureedge.net"},
         {},
         "",
         true,
         "default",
         kTeams},
        {"Microsoft Teams", "Microsoft Teams", "tcp", "443 80", {"*.skype.com"}, {}, "", true, "default", kTeams},

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

        // Slack huddles: "Approve *.chime.aws or IP range 99.77.128.0/18"; "UDP/22466 and TCP/443".
        {"Slack huddles", "Slack huddles", "udp", "22466", {"*.chime.aws"}, {"99.77.128.0/18"}, "", true, "", kSlack},
        {"Slack huddles", "Slack huddles", "tcp", "443", {"*.chime.aws"}, {"99.77.128.0/18"}, "", true, "", kSlack},

        // LiveKit Cloud: the Corporate firewalls table.
        {"LiveKit Cloud", "LiveKit Cloud", "tcp", "443", {"*.livekit.cloud"}, {}, "", true, "", kLiveKit},
        {"LiveKit Cloud", "LiveKit Cloud", "tcp", "443", {"*.turn.livekit.cloud"}, {}, "", true, "", kLiveKit},
        {"LiveKit Cloud", "LiveKit Cloud", "udp", "3478", {"*.host.livekit.cloud"}, {}, "", true, "", kLiveKit},
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

        // Jitsi Meet self-hosted: inbound to the server.
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "tcp", "80", kAny, {}, "", true, "", kJitsi},
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "tcp", "443", kAny, {}, "", true, "", kJitsi},
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "udp", "10000", kAny, {}, "", true, "", kJitsi},
        {"Jitsi Meet (self-hosted)", "Jitsi Meet server", "tcp", "4443", kAny, {}, "", false, "", kJitsi},
        {"Jitsi Meet (self-hosted)",
         "Jitsi Meet server",
         "tcp",
         "22",
         kAny,
         {},
         "feature:SSH access to the server",
         false,
         "",
         kJitsi},

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
        {"Daily", "Daily", "udp", "23000-26999 40000-49999", kDailyWss, {}, "", true, "", kDaily},
        {"Daily", "Daily", "tcp", "443 40000-49999", kDailyWss, {}, "", true, "", kDaily},
        {"Daily", "Daily", "udp", "3478 53", {"turn.cloudflare.com"}, {}, "", true, "", kDaily},
        {"Daily", "Daily", "tcp", "3478 80 5349 443", {"turn.cloudflare.com"}, {}, "", true, "", kDaily},

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

        // GoTo V10 desktop app: ranges only.
        {"GoTo Meeting", "GoTo Meeting V10 desktop app", "udp", "1853 8200", {}, kGoToUdp, "", true, "", kGoToV10},
        {"GoTo Meeting", "GoTo Meeting V10 desktop app", "tcp", "443", {}, kGoToTcp, "", true, "", kGoToV10},

        // Twilio: Video signaling; STUN/TURN ranges (ports assumed, see the file).
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "tcp",
         "443",
         {"global.vss.twilio.com", "au1.vss.twilio.com", "br1.vss.twilio.com", "de1.vss.twilio.com",
          "ie1.vss.twilio.com", "in1.vss.twilio.com", "jp1.vss.twilio.com", "sg1.vss.twilio.com", "us1.vss.twilio.com",
          "us2.vss.twilio.com"},
         {},
         "",
         true,
         "",
         kTwilioVideo},
        {"Twilio Video", "Twilio Network Traversal Service", "udp", "3478", {}, kTwilioTurn, "", true, "", kTwilioNts},
        {"Twilio Video", "Twilio Network Traversal Service", "tcp", "443", {}, kTwilioTurn, "", true, "", kTwilioNts},

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
        {"Whereby",
         "Whereby (browser)",
         "tcp",
         "443",
         {"*.turn.whereby.com", "*.turn.svc.whereby.com"},
         {},
         "",
         true,
         "",
         kWherebyNow},
        {"Whereby", "Whereby (browser)", "udp", "443", kAny, {}, "", true, "", kWherebyNow},
        {"Whereby", "Whereby (browser)", "udp", "1024-65535", kAny, {}, "", true, "", kWherebyNow},
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

// (vendor, product, transport, lo, hi, names, ranges, condition, required, tier, page)
using PageTuple = std::tuple<std::string, std::string, std::string, int, int, std::string, std::string, std::string,
                             bool, std::string, std::string>;

std::vector<PageTuple> expand_row(const PageRow& r) {
    std::vector<PageTuple> out;
    for (const auto& [lo, hi] : test::port_ranges(r.ports)) {
        out.emplace_back(r.vendor, r.product, r.transport, lo, hi, test::sorted_joined(r.names),
                         test::sorted_joined(r.ranges), r.condition, r.required, r.tier, r.page);
    }
    return out;
}

std::string describe_row(const PageTuple& t) {
    std::ostringstream o;
    o << std::get<0>(t) << " | " << std::get<1>(t) << " | " << std::get<2>(t) << " " << std::get<3>(t) << "-"
      << std::get<4>(t) << " | " << std::get<5>(t) << "| " << std::get<6>(t) << "| " << std::get<7>(t) << " | "
      << (std::get<8>(t) ? "required" : "optional") << " | " << std::get<9>(t) << " | " << std::get<10>(t);
    return o.str();
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
    std::vector<PageTuple> expected;
    for (const PageRow& r : expected_page_rows()) {
        for (PageTuple& t : expand_row(r)) expected.push_back(std::move(t));
    }
    std::vector<PageTuple> actual;
    for (const Entry& e : catalog_->entries()) {
        if (!from_web_page(e)) continue;
        Strings names, ranges;
        for (const Destination& d : e.destinations) names.push_back(d.as_written);
        for (const AddressRange& a : e.addresses) ranges.push_back(a.as_written);
        const std::string page = e.source.url.empty() ? document_of(e).url : e.source.url;
        for (const PortRange& p : e.ports) {
            actual.emplace_back(e.vendor, e.product, std::string(to_string(e.transport)), p.lo, p.hi,
                                test::sorted_joined(names), test::sorted_joined(ranges), test::condition_text(e),
                                e.required, e.tier, page);
        }
    }
    test::expect_same_tuples(std::move(expected), std::move(actual), describe_row, "not on the pages");
}

TEST_F(VendorTuples, EveryPageDocumentCarriesItsProvenance) {
    ASSERT_NE(catalog_, nullptr);
    // url -> (vendor, date or "" when undated, list version)
    const std::map<std::string, std::tuple<std::string, std::string, std::string>> expected = {
        {kTeams, {"Microsoft Teams", "2022-07-29", "2022072800"}},  // "File generated 2022-07-29"
        {kChime, {"Amazon Chime SDK", "", ""}},
        {kSlack, {"Slack huddles", "", ""}},
        {kLiveKit, {"LiveKit Cloud", "", ""}},
        {kMeet, {"Google Meet", "", ""}},
        {kVonage, {"Vonage Video", "", ""}},
        {kJitsi, {"Jitsi Meet (self-hosted)", "", ""}},
        {kDaily, {"Daily", "", ""}},
        {kGoToApp, {"GoTo Meeting", "", ""}},
        {kGoToV10, {"GoTo Meeting", "", ""}},
        {kTwilioVideo, {"Twilio Video", "", ""}},
        {kAgoraNow, {"Agora", "", ""}},
        {kWherebyNow, {"Whereby", "", ""}},
    };
    std::map<std::string, std::tuple<std::string, std::string, std::string>> actual;
    for (const Document& d : catalog_->documents()) {
        if (d.url.empty()) {
            EXPECT_FALSE(d.sources.empty()) << d.catalog_file << ": neither a page URL nor seed sources";
            continue;
        }
        EXPECT_EQ(d.schema, 2) << d.catalog_file;
        EXPECT_EQ(d.transcribed, "2026-11-26") << d.catalog_file;
        EXPECT_FALSE(d.title.empty()) << d.catalog_file;
        EXPECT_NE(d.date.empty(), !d.undated) << d.catalog_file << ": exactly one of date or undated";
        EXPECT_FALSE(d.notes.empty()) << d.catalog_file << ": say what the page left out";
        actual[d.url] = {d.vendor, d.date, d.list_version};
    }
    EXPECT_EQ(actual, expected);
    for (const Entry& e : catalog_->entries()) {
        if (!from_web_page(e)) continue;
        EXPECT_TRUE(e.source.file.empty()) << e.id;
        EXPECT_FALSE(e.source.section.empty()) << e.id;
    }
}

TEST_F(VendorTuples, TwelveVendorsAndFiveRangeEntries) {
    ASSERT_NE(catalog_, nullptr);
    std::set<std::string> vendors;
    size_t with_ranges = 0;
    for (const Entry& e : catalog_->entries()) {
        vendors.insert(e.vendor);
        if (!e.addresses.empty()) ++with_ranges;
    }
    EXPECT_GE(vendors.size(), 12u);
    EXPECT_GE(with_ranges, 5u);
    EXPECT_TRUE(vendors.count("Sendbird") && vendors.count("Whereby") && vendors.count("Agora"));
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
    EXPECT_TRUE(holds("teams-2022072800.media.optimize.udp", "52.115.255.255"));
    EXPECT_FALSE(holds("teams-2022072800.media.optimize.udp", "52.116.0.0"));
    EXPECT_TRUE(holds("teams-2022072800.media.optimize.udp", "2603:1063:3ff:ffff::1"));  // /38
    EXPECT_FALSE(holds("teams-2022072800.media.optimize.udp", "2603:1063:400::1"));
    EXPECT_TRUE(holds("chime-sdk.media.udp", "99.77.191.255"));
    EXPECT_FALSE(holds("chime-sdk.media.udp", "99.77.192.0"));
    EXPECT_TRUE(holds("slack-huddles.media.udp", "99.77.128.1"));
    EXPECT_TRUE(holds("twilio-nts.turn.udp", "54.172.61.200"));
    EXPECT_FALSE(holds("twilio-nts.turn.udp", "54.172.62.0"));
    EXPECT_TRUE(holds("goto-v10.connection.tcp", "202.173.24.7"));
    EXPECT_FALSE(holds("goto-v10.media.udp", "202.173.24.7"));  // not in the page's UDP table
}

}  // namespace
}  // namespace callwall::catalog
