// The bundled catalog's documents for Microsoft Teams, Webex, Zoom and Twilio
// Video hold exactly the requirements their vendors' pages state. The rows
// below were typed from the pages as read on 2026-11-27 (stored copies; see
// catalog/README.md), not from the catalog files: transport, ports, names
// and ranges as the page writes them, the condition, whether the vendor
// calls it required, and the vendor's tier word.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/catalog/catalog_test_util.hpp"
#include "unit/catalog/page_rows.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog {
namespace {

using test::PageRow;
using test::Strings;

constexpr const char* kTeams = "https://learn.microsoft.com/en-us/microsoft-365/enterprise/urls-and-ip-address-ranges";
constexpr const char* kWebex =
    "https://help.webex.com/en-us/article/WBX000028782/Network-Requirements-for-Webex-Services";
constexpr const char* kZoom = "https://support.zoom.com/hc/ja/article?id=zm_kb&sysparm_article=KB0060561";
constexpr const char* kTwilio = "https://www.twilio.com/docs/video/ip-addresses";

// "Microsoft Teams", Last updated 08/14/2026: ID 11 and ID 12's ranges.
const Strings kTeams11 = {"52.112.0.0/14", "52.122.0.0/15", "2603:1063::/38"};
const Strings kTeams12 = {"52.112.0.0/14",  "52.122.0.0/15",  "2603:1027::/48",  "2603:1037::/48",  "2603:1047::/48",
                          "2603:1057::/48", "2603:1063::/38", "2620:1ec:6::/48", "2620:1ec:40::/42"};
const Strings kTeams12Names = {"*.lync.com", "*.teams.cloud.microsoft", "*.teams.microsoft.com",
                               "teams.cloud.microsoft", "teams.microsoft.com"};

// "IPv4 Subnets for Media Services" (both columns, left then right) and "IPv6 Address Ranges for Media Services".
const Strings kWebexMedia = {
    "4.152.214.0/24",   "4.158.208.0/24",   "4.175.120.0/24",  "4.152.180.0/24",   "20.50.235.0/24",   "20.53.87.0/24",
    "20.57.87.0/24",    "20.68.154.0/24",   "20.76.127.0/24",  "20.108.99.0/24",   "20.120.238.0/23",  "23.89.0.0/16",
    "40.119.234.0/24",  "44.234.52.192/26", "52.232.210.0/24", "62.109.192.0/18",  "64.68.96.0/19",    "66.163.32.0/19",
    "69.26.160.0/19",   "114.29.192.0/19",  "144.196.0.0/16",  "150.253.128.0/17", "163.129.0.0/17",   "170.72.0.0/16",
    "170.133.128.0/18", "173.39.224.0/19",  "173.243.0.0/20",  "207.182.160.0/19", "209.197.192.0/19", "210.4.192.0/20",
    "216.151.128.0/19", "4.144.190.0/24",   "2402:2500::/34",  "2607:fcf0::/34",   "2a00:a640::/34"};
const Strings kWebexCore = {"*.webex.com", "*.cisco.com", "*.wbx2.com", "*.ciscospark.com", "*.webexapis.com"};

// Twilio "Media servers": au1, br1, de1, ie1, in1, jp1, sg1, us1, us2.
const Strings kTwilioMedia = {
    "13.210.2.128/27",   "54.252.254.64/26",  "3.25.42.128/25",   "18.231.105.32/27",  "177.71.206.192/26",
    "18.230.125.0/25",   "52.59.186.0/27",    "18.195.48.224/27", "18.156.18.128/25",  "52.215.253.0/26",
    "54.171.127.192/26", "52.215.127.0/24",   "3.249.63.128/25",  "52.66.193.96/27",   "52.66.194.0/26",
    "3.7.35.128/25",     "13.115.244.0/27",   "54.65.63.192/26",  "18.180.220.128/25", "13.229.255.0/27",
    "54.169.127.128/26", "18.141.157.128/25", "34.203.254.0/24",  "54.172.60.0/23",    "34.203.250.0/23",
    "3.235.111.128/25",  "34.216.110.128/27", "54.244.51.0/24",   "44.234.69.0/25"};
// Zoom's meeting-client rows: the ranges are cut off in the copy; ANY stands in (assumed).
const Strings kZoomAny = {"ANY"};

const std::vector<PageRow>& calls_page_rows() {
    static const std::vector<PageRow> r = {
        // Microsoft Teams: IDs 11, 12 (TCP and UDP), 16, 17, 19, 27, 127.
        {"Microsoft Teams", "Microsoft Teams", "udp", "3478-3481", {}, kTeams11, "", true, "optimize", kTeams},
        {"Microsoft Teams", "Microsoft Teams", "tcp", "443 80", kTeams12Names, kTeams12, "", true, "allow", kTeams},
        {"Microsoft Teams", "Microsoft Teams", "udp", "443", kTeams12Names, kTeams12, "", true, "allow", kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"*.keydelivery.mediaservices.windows.net", "*.streaming.mediaservices.windows.net"},
         {},
         "",
         true,
         "default",
         kTeams},
        {"Microsoft Teams", "Microsoft Teams", "tcp", "443", {"aka.ms"}, {}, "", true, "default", kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443 80",
         {"adl.windows.com"},
         {},
         "feature:End user and customer owned device updates",
         false,
         "default",
         kTeams},
        {"Microsoft Teams",
         "Microsoft Teams",
         "tcp",
         "443",
         {"join.secure.skypeassets.com", "mlccdnprod.azureedge.net"},
         {},
         "",
         true,
         "default",
         kTeams},
        {"Microsoft Teams", "Microsoft Teams", "tcp", "443 80", {"*.skype.com"}, {}, "", true, "default", kTeams},

        // Webex: "443 TLS Webex HTTPS signaling" to the Webex micro-services and *.webexcontent.com.
        {"Webex", "Webex App and Cisco Video devices", "tcp", "443", kWebexCore, {}, "", true, "", kWebex},
        {"Webex", "Webex App and Cisco Video devices", "tcp", "443", {"*.webexcontent.com"}, {}, "", true, "", kWebex},
        {"Webex", "Webex App", "tcp", "443", {"*.accompany.com"}, {}, "feature:People Insights", false, "", kWebex},
        // "5004 and 9000 SRTP over UDP"; "5004 SRTP over TCP" and "443 SRTP over TLS" as fallbacks.
        {"Webex", "Webex App and Cisco Video devices", "udp", "5004 9000", {}, kWebexMedia, "", true, "", kWebex},
        {"Webex", "Webex App and Cisco Video devices", "tcp", "5004", {}, kWebexMedia, "", false, "", kWebex},
        {"Webex", "Webex App and Cisco Video devices", "tcp", "443", {}, kWebexMedia, "", false, "", kWebex},
        // "50,000 - 53,000 SRTP over UDP ... Video Mesh Node only" (destination assumed: the media subnets).
        {"Webex",
         "Video Mesh Node",
         "udp",
         "50000-53000",
         {},
         kWebexMedia,
         "feature:Webex Video Mesh",
         false,
         "",
         kWebex},
        // Third-party domains (no port on the page; 443 assumed).
        {"Webex",
         "Webex App and Cisco Video devices",
         "tcp",
         "443",
         {"*.cloudfront.net", "*.akamaiedge.net", "*.akamaitechnologies.com", "*.akamai.net", "*.fastly.net"},
         {},
         "",
         false,
         "",
         kWebex},
        {"Webex",
         "Webex App and Cisco Video devices",
         "tcp",
         "443",
         {"*.sparkpostmail1.com", "*.sparkpostmail.com", "*.giphy.com", "*.walkme.com", "s3.walkmeusercontent.com",
          "*.appdynamics.com", "*.eum-appdynamics.com", "*.amplitude.com", "*.vbrickrev.com", "*.slido.com", "*.sli.do",
          "*.data.logentries.com", "slido-assets-production.s3.eu-west-1.amazonaws.com"},
         {},
         "",
         false,
         "",
         kWebex},

        // Zoom, KB0060561 (Japanese): "TCP | 80、443 | ... | *.zoom.us *.zoom.com", "UDP | 443 | ...",
        // "TCP | 443、8801、8802 | すべての Zoom クライアント | IPv4: IPv6:", "UDP | 3478、3479、8801 - 8810 | ...".
        {"Zoom", "Zoom client and web browser", "tcp", "80 443", {"*.zoom.us", "*.zoom.com"}, {}, "", true, "", kZoom},
        {"Zoom", "Zoom client and web browser", "udp", "443", {"*.zoom.us", "*.zoom.com"}, {}, "", true, "", kZoom},
        {"Zoom", "Zoom client", "tcp", "443 8801 8802", kZoomAny, {}, "", true, "", kZoom},
        {"Zoom", "Zoom client", "udp", "3478 3479 8801-8810", kZoomAny, {}, "", true, "", kZoom},

        // Twilio, "Firewall and Network Configuration": quick start, domain allowlist, media servers.
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "tcp",
         "443",
         {"*.vss.twilio.com", "global.vss.twilio.com", "au1.vss.twilio.com", "br1.vss.twilio.com", "de1.vss.twilio.com",
          "ie1.vss.twilio.com", "in1.vss.twilio.com", "jp1.vss.twilio.com", "sg1.vss.twilio.com", "us1.vss.twilio.com",
          "us2.vss.twilio.com"},
         {},
         "",
         true,
         "",
         kTwilio},
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "tcp",
         "443",
         {"sdkgw.us1.twilio.com"},
         {},
         "",
         true,
         "",
         kTwilio},
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "tcp",
         "443",
         {"ecs.us1.twilio.com"},
         {},
         "feature:pre-2021 SDKs: Android < 5.9.0, iOS < 3.5.0, JavaScript SDK < 2.5.0",
         false,
         "",
         kTwilio},
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "udp",
         "3478",
         {"*.stun.twilio.com"},
         {},
         "",
         true,
         "",
         kTwilio},
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "udp",
         "10000-60000",
         {},
         kTwilioMedia,
         "",
         true,
         "",
         kTwilio},
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "udp",
         "3478",
         {"*.turn.twilio.com"},
         kTwilioMedia,
         "",
         true,
         "",
         kTwilio},
        {"Twilio Video",
         "Twilio Programmable Video SDKs",
         "tcp",
         "443",
         {"*.turn.twilio.com"},
         kTwilioMedia,
         "",
         true,
         "",
         kTwilio},
    };
    return r;
}

class VendorTuplesCalls : public ::testing::Test {
protected:
    static void SetUpTestSuite() { catalog_ = test::load_catalog_or_fail(test::full_catalog_dir()); }
    static void TearDownTestSuite() {
        delete catalog_;
        catalog_ = nullptr;
    }
    static Catalog* catalog_;
};
Catalog* VendorTuplesCalls::catalog_ = nullptr;

TEST_F(VendorTuplesCalls, ExactlyThePageRequirements) {
    ASSERT_NE(catalog_, nullptr);
    test::expect_same_tuples(test::expand_rows(calls_page_rows()),
                             test::catalog_page_tuples(*catalog_, {kTeams, kWebex, kZoom, kTwilio}),
                             test::describe_page_tuple, "not on the pages");
}

TEST_F(VendorTuplesCalls, OneTeamsEditionAndNoRetiredRanges) {
    ASSERT_NE(catalog_, nullptr);
    // The 2022072800 list is no longer bundled: nothing in the catalog may still
    // name the ranges and rows Microsoft dropped since.
    size_t teams_documents = 0;
    for (const Document& d : catalog_->documents()) {
        if (d.vendor == "Microsoft Teams") ++teams_documents;
    }
    EXPECT_EQ(teams_documents, 1u);
    for (const Entry& e : catalog_->entries()) {
        if (e.vendor != "Microsoft Teams") continue;
        for (const AddressRange& a : e.addresses) {
            EXPECT_NE(a.as_written, "13.107.64.0/18") << e.id;
            EXPECT_NE(a.as_written, "52.120.0.0/14") << e.id;
        }
        for (const Destination& d : e.destinations) {
            EXPECT_NE(d.as_written, "*.broadcast.skype.com") << e.id;  // ID 13
            EXPECT_NE(d.as_written, "*.skypeforbusiness.com") << e.id;  // ID 22
        }
    }
}

TEST_F(VendorTuplesCalls, ZoomSaysWhichEditionAndLeavesRangesOut) {
    ASSERT_NE(catalog_, nullptr);
    for (const Document& d : catalog_->documents()) {
        if (d.vendor != "Zoom") continue;
        EXPECT_NE(d.edition.find("Japanese"), std::string::npos) << d.edition;
    }
    for (const Entry& e : catalog_->entries()) {
        if (e.vendor != "Zoom") continue;
        EXPECT_TRUE(e.addresses.empty()) << e.id << ": no official copy of Zoom's range list";
        const bool any = !e.destinations.empty() && e.destinations[0].as_written == "ANY";
        const bool assumed = std::find(e.assumed.begin(), e.assumed.end(), "destinations") != e.assumed.end();
        EXPECT_EQ(any, assumed) << e.id << ": the ANY that stands in for Zoom's ranges is marked assumed";
    }
}

}  // namespace
}  // namespace callwall::catalog
