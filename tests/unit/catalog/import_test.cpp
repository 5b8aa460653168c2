// `catalog import`: a vendor's machine-readable list (a local file) to a
// schema-2 catalog file that loads, with the list's version.
#include <gtest/gtest.h>

#include "catalog/catalog.hpp"
#include "catalog/import.hpp"

namespace callwall::catalog {
namespace {

// Shaped like Microsoft's endpoints web service: Teams' Optimize row (ports
// and ranges, no names), an Allow row (names and ranges), an Exchange row
// (another service area), and a row with a name the catalog cannot hold.
constexpr const char* kO365 = R"json([
 {"id": 11, "serviceArea": "Skype", "serviceAreaDisplayName": "Skype for Business Online and Microsoft Teams",
  "ips": ["13.107.64.0/18", "52.112.0.0/14", "52.120.0.0/14", "2603:1063::/38"],
  "udpPorts": "3478,3479,3480,3481", "expressRoute": false, "category": "Optimize", "required": true},
 {"id": 12, "serviceArea": "Skype", "serviceAreaDisplayName": "Skype for Business Online and Microsoft Teams",
  "urls": ["*.lync.com", "*.teams.microsoft.com", "teams.microsoft.com"],
  "ips": ["13.107.64.0/18", "52.112.0.0/14"], "tcpPorts": "443,80", "udpPorts": "3478-3481",
  "category": "Allow", "required": true},
 {"id": 1, "serviceArea": "Exchange", "urls": ["outlook.office.com"], "tcpPorts": "443", "category": "Optimize",
  "required": true},
 {"id": 27, "serviceArea": "Skype", "serviceAreaDisplayName": "Skype for Business Online and Microsoft Teams",
  "urls": ["*.skype.com", "*broken*.example"], "tcpPorts": "443", "category": "Default", "required": false,
  "notes": "Optional"}
])json";

TEST(CatalogImport, O365TeamsRowsBecomeSchemaTwoEntriesWithTheListVersion) {
    ImportOptions o;
    o.format = "o365";
    o.service = "Skype";
    o.list_version = "2026103000";
    o.transcribed = "2026-11-26";
    const ImportResult r = import_list(kO365, o);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.entries, 4u);  // 11 udp, 12 tcp + udp, 27 tcp; Exchange left out by --service
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_NE(r.skipped[0].find("ID 27: name '*broken*.example'"), std::string::npos) << r.skipped[0];
    LoadResult c = load_string("teams.toml", r.toml);
    ASSERT_TRUE(c.ok()) << c.diagnostics.front().to_string() << "\n" << r.toml;
    const Entry* opt = c.catalog->find_entry("o365.id11.udp");
    ASSERT_NE(opt, nullptr) << r.toml;
    EXPECT_FALSE(opt->has_names());
    EXPECT_EQ(opt->addresses.size(), 4u);
    EXPECT_EQ(opt->tier, "optimize");
    EXPECT_EQ(opt->port_set.intervals().size(), 1u);  // 3478-3481 merged
    const Entry* allow = c.catalog->find_entry("o365.id12.tcp");
    ASSERT_NE(allow, nullptr);
    EXPECT_TRUE(allow->has_names());
    EXPECT_EQ(allow->addresses.size(), 2u);
    EXPECT_EQ(allow->tier, "allow");
    const Entry* opt27 = c.catalog->find_entry("o365.id27.tcp");
    ASSERT_NE(opt27, nullptr);
    EXPECT_FALSE(opt27->required);
    EXPECT_EQ(opt27->destinations.size(), 1u);
    const Document& d = c.catalog->document_of(*opt);
    EXPECT_EQ(d.list_version, "2026103000");
    EXPECT_EQ(d.transcribed, "2026-11-26");
    EXPECT_TRUE(d.undated);
    EXPECT_EQ(c.catalog->find_entry("o365.id1.tcp"), nullptr);
    // No version: refused, saying where it comes from.
    o.list_version.clear();
    EXPECT_NE(import_list(kO365, o).error.find("--list-version"), std::string::npos);
}

constexpr const char* kAws = R"json({"syncToken": "1764000000", "createDate": "2026-11-20-17-13-06",
 "prefixes": [
  {"ip_prefix": "99.77.128.0/18", "region": "GLOBAL", "service": "CHIME_MEETINGS", "network_border_group": "GLOBAL"},
  {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "x"},
  {"ip_prefix": "99.77.128.0/18", "region": "GLOBAL", "service": "CHIME_MEETINGS", "network_border_group": "GLOBAL"},
  {"ip_prefix": "52.55.62.128/25", "region": "us-east-1", "service": "CHIME_MEETINGS", "network_border_group": "x"}],
 "ipv6_prefixes": [
  {"ipv6_prefix": "2600:1f18:8000::/40", "region": "us-east-1", "service": "CHIME_MEETINGS"}]})json";

TEST(CatalogImport, AwsIpRangesOfOneServiceWithThePagesPorts) {
    ImportOptions o;
    o.format = "aws-ip-ranges";
    o.transcribed = "2026-11-26";
    EXPECT_NE(import_list(kAws, o).error.find("--ports"), std::string::npos);
    o.ports = {{Transport::Udp, {{3478, 3478}}}, {Transport::Tcp, {{443, 443}}}};
    const ImportResult r = import_list(kAws, o);
    ASSERT_TRUE(r.error.empty()) << r.error;
    LoadResult c = load_string("chime.toml", r.toml);
    ASSERT_TRUE(c.ok()) << c.diagnostics.front().to_string() << "\n" << r.toml;
    ASSERT_EQ(c.catalog->entries().size(), 2u);
    const Entry& udp = c.catalog->entries()[0];
    EXPECT_EQ(udp.id, "aws-chime-meetings.udp");
    EXPECT_EQ(udp.addresses.size(), 3u);  // the duplicate once, AMAZON's prefix not at all
    EXPECT_EQ(c.catalog->document_of(udp).list_version, "1764000000 (2026-11-20-17-13-06)");
    HostMatches m;
    c.catalog->match_address("99.77.130.1", m);
    EXPECT_EQ(m.size(), 2u);
    c.catalog->match_address("3.5.140.1", m);
    EXPECT_TRUE(m.empty());
    o.service = "NOPE";
    EXPECT_NE(import_list(kAws, o).error.find("no prefix of service 'NOPE'"), std::string::npos);
    EXPECT_EQ(import_list("not json", o).error, "not JSON");
}

}  // namespace
}  // namespace callwall::catalog
