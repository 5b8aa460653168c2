// `catalog export` of address ranges (catalog schema 2): nft interval sets,
// iptables hash:net ipsets with ranges split into prefixes, and dnsmasq
// lines that leave the ranges to the export.
#include <gtest/gtest.h>

#include <string>

#include "catalog/catalog.hpp"

namespace callwall::catalog {
namespace {

// A range-only entry and a names-or-ranges entry of one vendor.
LoadResult range_vendor() {
    return load_string("r.toml", std::string("schema = 2\n[document]\nvendor = \"V\"\nurl = \"https://v.example/fw\"\n"
                                             "undated = true\ntranscribed = 2026-11-26\n"
                                             "[[entry]]\nid = \"v.media\"\nproduct = \"P\"\nservice = \"S\"\n"
                                             "required = true\ntransport = \"udp\"\nports = [[3478, 3481]]\n"
                                             "addresses = [\"203.0.113.0/25\", \"198.18.0.10-198.18.0.20\", "
                                             "\"2001:db8:100::/48\"]\n[entry.source]\nsection = \"Media\"\n") +
                                     "[[entry]]\n"
                                     "id = \"v.web\"\nproduct = \"P\"\nservice = \"Web\"\nrequired = true\n"
                                     "transport = \"tcp\"\nports = [443]\n"
                                     "destinations = [\"*.v.example\"]\naddresses = [\"203.0.113.128/25\"]\n"
                                     "[entry.source]\nsection = \"Web\"\n");
}

TEST(CatalogSchema2Export, NftPutsRangesInIntervalSetsBesideTheNameSets) {
    LoadResult r = range_vendor();
    ASSERT_TRUE(r.ok());
    const std::string nft = render_export(*r.catalog, ExportOptions{});
    EXPECT_NE(nft.find("    set callwall_net_v_media_v4 {\n        type ipv4_addr\n        flags interval\n    }\n"),
              std::string::npos)
        << nft;
    EXPECT_NE(nft.find("flush set inet filter callwall_net_v_media_v4\n"), std::string::npos);
    EXPECT_NE(nft.find("flush set inet filter callwall_net_v_media_v6\n"), std::string::npos);
    EXPECT_NE(nft.find("elements = { 203.0.113.0/25, 198.18.0.10-198.18.0.20 }"), std::string::npos) << nft;
    EXPECT_NE(nft.find("elements = { 2001:db8:100::/48 }"), std::string::npos);
    EXPECT_NE(
        nft.find("udp dport @callwall_ports_v_media ip daddr @callwall_net_v_media_v4 accept comment \"v.media\""),
        std::string::npos)
        << nft;
    EXPECT_NE(nft.find("udp dport @callwall_ports_v_media ip6 daddr @callwall_net_v_media_v6 accept"),
              std::string::npos);
    // The range-only entry has no name rule; the names-or-ranges entry has both.
    EXPECT_EQ(nft.find("callwall_ports_v_media ip daddr @callwall_v_v4"), std::string::npos) << nft;
    EXPECT_NE(nft.find("tcp dport @callwall_ports_v_web ip daddr @callwall_v_v4 accept"), std::string::npos);
    EXPECT_NE(nft.find("tcp dport @callwall_ports_v_web ip daddr @callwall_net_v_web_v4 accept"), std::string::npos);
    // No IPv6 set for an entry without IPv6 ranges.
    EXPECT_EQ(nft.find("callwall_net_v_web_v6"), std::string::npos);
    EXPECT_NE(nft.find("# ranges:"), std::string::npos);
    EXPECT_NE(nft.find("# or ranges:"), std::string::npos);
}

TEST(CatalogSchema2Export, IptablesUsesHashNetIpsetsWithRangesSplitIntoPrefixes) {
    LoadResult r = range_vendor();
    ASSERT_TRUE(r.ok());
    ExportOptions o;
    o.format = ExportFormat::Iptables;
    const std::string ipt = render_export(*r.catalog, o);
    // The script's `ipset restore` part: created, emptied, filled.
    EXPECT_NE(ipt.find("\ncreate callwall_net_v_media_v4 hash:net family inet\n"), std::string::npos) << ipt;
    EXPECT_NE(ipt.find("\nflush callwall_net_v_media_v4\nflush callwall_net_v_media_v6\n"), std::string::npos);
    for (const char* p : {"203.0.113.0/25", "198.18.0.10/31", "198.18.0.12/30", "198.18.0.16/30", "198.18.0.20/32"}) {
        EXPECT_NE(ipt.find("\nadd callwall_net_v_media_v4 " + std::string(p) + "\n"), std::string::npos) << p << "\n"
                                                                                                         << ipt;
    }
    EXPECT_NE(ipt.find("\nadd callwall_net_v_media_v6 2001:db8:100::/48\n"), std::string::npos);
    EXPECT_EQ(ipt.find("#  ipset"), std::string::npos);  // commands, not comments
    EXPECT_NE(ipt.find("-A CALLWALL-OUTBOUND -p udp -m multiport --dports 3478:3481 -m set --match-set "
                       "callwall_net_v_media dst -m comment --comment \"v.media\" -j ACCEPT"),
              std::string::npos)
        << ipt;
    EXPECT_EQ(ipt.find("--match-set callwall_v dst -m comment --comment \"v.media\""), std::string::npos);
    EXPECT_NE(ipt.find("--match-set callwall_v dst -m comment --comment \"v.web\""), std::string::npos);
    // dnsmasq fills only the name sets; the ranges are said to be the export's.
    o.format = ExportFormat::DnsmasqNftset;
    const std::string dns = render_export(*r.catalog, o);
    EXPECT_NE(dns.find("nftset=/v.example/"), std::string::npos) << dns;
    EXPECT_NE(dns.find("# v.media: published ranges 203.0.113.0/25"), std::string::npos) << dns;
}

}  // namespace
}  // namespace callwall::catalog
