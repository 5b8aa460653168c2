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

// Shaped like the plain lists Zoom and others publish: a comment header,
// IPv4 and IPv6 prefixes, a bare address, start-end ranges (with blanks
// around the dash), blank lines, CRLF line ends, a duplicate and an item
// inside an earlier one.
constexpr const char* kCidrList =
    "# Zoom Meetings IPv4 and IPv6 ranges\r\n"  // 1
    "3.7.35.0/25\r\n"  // 2
    "\r\n"  // 3
    "  3.21.137.128/25   # us-east\r\n"  // 4
    "2407:30c0::/32\r\n"  // 5
    "203.0.113.9\r\n"  // 6
    "198.51.100.10 - 198.51.100.20\r\n"  // 7
    "2001:db8::1-2001:db8::ff\r\n"  // 8
    "3.7.35.0/25\r\n"  // 9: again
    "3.7.35.64/26\r\n";  // 10: inside line 2's prefix

ImportOptions cidr_options() {
    ImportOptions o;
    o.format = "cidr-list";
    o.vendor = "Zoom";
    o.url = "https://support.zoom.com/hc/en/article?id=zm_kb&sysparm_article=KB0060548";
    o.transcribed = "2026-11-27";
    o.ports = {{Transport::Udp, {{3478, 3479}, {8801, 8810}}}, {Transport::Tcp, {{443, 443}, {8801, 8802}}}};
    return o;
}

TEST(CatalogImport, CidrListOnePrefixALineWithThePagesPorts) {
    ImportOptions o = cidr_options();
    o.date = "2026-03-16";
    o.list_version = "Updated 2026-04-17";
    const ImportResult r = import_list(kCidrList, o);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.entries, 2u);
    ASSERT_EQ(r.skipped.size(), 2u) << r.toml;
    EXPECT_NE(r.skipped[0].find("line 9: '3.7.35.0/25' again"), std::string::npos) << r.skipped[0];
    EXPECT_NE(r.skipped[1].find("'3.7.35.64/26' overlaps an earlier one"), std::string::npos) << r.skipped[1];
    LoadResult c = load_string("zoom_ranges.toml", r.toml);
    ASSERT_TRUE(c.ok()) << c.diagnostics.front().to_string() << "\n" << r.toml;
    const Entry* udp = c.catalog->find_entry("zoom.ranges.udp");
    const Entry* tcp = c.catalog->find_entry("zoom.ranges.tcp");
    ASSERT_NE(udp, nullptr) << r.toml;
    ASSERT_NE(tcp, nullptr);
    EXPECT_FALSE(udp->has_names());
    std::vector<std::string> items;
    for (const AddressRange& a : udp->addresses) items.push_back(a.text());
    EXPECT_EQ(items, (std::vector<std::string>{"3.7.35.0/25", "3.21.137.128/25", "2407:30c0::/32", "203.0.113.9/32",
                                               "198.51.100.10-198.51.100.20", "2001:db8::1-2001:db8::ff"}));
    EXPECT_EQ(udp->port_set.intervals().size(), 2u);
    EXPECT_TRUE(tcp->port_set.contains(8802));
    const Document& d = c.catalog->document_of(*udp);
    EXPECT_EQ(d.vendor, "Zoom");
    EXPECT_EQ(d.url, o.url);
    EXPECT_EQ(d.date, "2026-03-16");
    EXPECT_FALSE(d.undated);
    EXPECT_EQ(d.list_version, "Updated 2026-04-17");
    HostMatches m;
    c.catalog->match_address("198.51.100.15", m);
    EXPECT_EQ(m.size(), 2u);
    c.catalog->match_address("198.51.100.21", m);
    EXPECT_TRUE(m.empty());
    // Undated and without a version: the document says so.
    const ImportResult plain = import_list("192.0.2.0/24\n", cidr_options());
    ASSERT_TRUE(plain.error.empty()) << plain.error;
    EXPECT_NE(plain.toml.find("undated = true"), std::string::npos);
    EXPECT_EQ(plain.toml.find("list_version"), std::string::npos);
}

TEST(CatalogImport, CidrListBadLineIsAnErrorNamingItsLine) {
    const ImportResult host_bits = import_list("# header\n192.0.2.0/24\n\n10.1.2.3/8\n", cidr_options());
    EXPECT_EQ(host_bits.error_line, 4u);
    EXPECT_NE(host_bits.error.find("'10.1.2.3/8' is not a prefix, address or start-end range: "), std::string::npos)
        << host_bits.error;
    EXPECT_TRUE(host_bits.toml.empty());
    for (const char* bad : {"zoom.us", "192.0.2.0/24, 198.51.100.0/24", "300.1.1.1", "192.0.2.9-192.0.2.1"}) {
        const ImportResult r = import_list(std::string("192.0.2.128/25\n") + bad + "\n", cidr_options());
        EXPECT_EQ(r.error_line, 2u) << bad;
        EXPECT_NE(r.error.find(bad), std::string::npos) << r.error;
        EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;  // one line
    }
    EXPECT_NE(import_list("# nothing\n\n", cidr_options()).error.find("holds no prefix"), std::string::npos);
    // The list names no vendor, page or ports.
    for (auto drop : {+[](ImportOptions& o) { o.vendor.clear(); }, +[](ImportOptions& o) { o.url.clear(); },
                      +[](ImportOptions& o) { o.ports.clear(); }}) {
        ImportOptions o = cidr_options();
        drop(o);
        const ImportResult r = import_list("192.0.2.0/24\n", o);
        EXPECT_FALSE(r.error.empty());
        EXPECT_EQ(r.error_line, 0u);
    }
    ImportOptions o = cidr_options();
    o.date = "16.3.2026";
    EXPECT_NE(import_list("192.0.2.0/24\n", o).error.find("not YYYY-MM-DD"), std::string::npos);
}

}  // namespace
}  // namespace callwall::catalog
