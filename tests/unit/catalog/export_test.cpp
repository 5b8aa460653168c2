// `catalog export`: the nft file can be loaded again and again, the
// vendor address sets and the dnsmasq lines that fill them, --required-only,
// --include-any, and comments that keep vendor and product apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog {
namespace {

using callwall::test::bundled_catalog;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
}

ExportOptions options(ExportFormat f, std::string vendor = {}) {
    ExportOptions o;
    o.format = f;
    o.selection.vendor = std::move(vendor);
    return o;
}

// Loading twice must not add rules: every chain and port set the file fills is
// declared and flushed before it is filled, and the flushes come first.
TEST(CatalogExportNft, EmptiesWhatItFillsBeforeFillingIt) {
    const std::string out = render_export(bundled_catalog(), options(ExportFormat::Nft));
    const auto lines = lines_of(out);
    const auto first_rule = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find(" accept comment ") != std::string::npos;
    });
    ASSERT_NE(first_rule, lines.end());
    std::vector<std::string> filled = {"chain callwall_outbound", "chain callwall_inbound"};
    for (const std::string& l : lines) {
        const size_t p = l.find("set callwall_ports_");
        if (p != std::string::npos && l.starts_with("    set ")) filled.push_back(l.substr(p, l.find(' ', p + 4) - p));
    }
    ASSERT_GT(filled.size(), 2u);
    for (const std::string& what : filled) {
        const auto flush =
            std::find(lines.begin(), lines.end(),
                      "flush " + what.substr(0, what.find(' ')) + " inet filter " + what.substr(what.find(' ') + 1));
        ASSERT_NE(flush, lines.end()) << "no flush for " << what;
        EXPECT_LT(flush, first_rule) << what;
        // Declared (so the flush cannot fail on a first load) before it is flushed.
        const auto decl =
            std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return l == "    " + what + " {"; });
        EXPECT_LT(decl, flush) << what;
    }
    // Nothing else is flushed or deleted: the table belongs to the administrator's policy.
    EXPECT_EQ(out.find("flush table"), std::string::npos);
    EXPECT_EQ(out.find("flush ruleset"), std::string::npos);
    EXPECT_EQ(out.find("delete "), std::string::npos);
    EXPECT_EQ(out.find("flush set inet filter callwall_whereby_v4"), std::string::npos);
}

// The jump lines must name a table and base chains that exist in Debian's stock
// /etc/nftables.conf (table inet filter; chains input, forward, output).
TEST(CatalogExportNft, HeaderJumpsFromDebiansStockTable) {
    const std::string out = render_export(bundled_catalog(), options(ExportFormat::Nft));
    EXPECT_NE(out.find("\n#  nft add rule inet filter forward iifname \"lan0\" jump callwall_outbound\n"),
              std::string::npos);
    EXPECT_NE(out.find("\n#  nft add rule inet filter output jump callwall_outbound\n"), std::string::npos);
    EXPECT_NE(out.find("\ntable inet filter {\n"), std::string::npos);
    for (const std::string& l : lines_of(out)) {
        if (l.find("nft add rule") == std::string::npos) continue;
        EXPECT_TRUE(l.starts_with("#  nft add rule inet filter ")) << l;
    }
    ExportOptions o = options(ExportFormat::Nft);
    o.nft_table = "fw";
    const std::string fw = render_export(bundled_catalog(), o);
    EXPECT_NE(fw.find("#  nft add rule inet fw output jump callwall_outbound\n"), std::string::npos);
    EXPECT_NE(fw.find("flush chain inet fw callwall_outbound\n"), std::string::npos);
}

// "WherebyWhereby (browser)": product names repeat the vendor's, so each is labelled.
TEST(CatalogExport, CommentsLabelVendorAndProduct) {
    for (ExportFormat f : {ExportFormat::Nft, ExportFormat::Iptables}) {
        const std::string out = render_export(bundled_catalog(), options(f, "Whereby"));
        const size_t at = out.find("# ---- whereby.turn.udp\n");
        ASSERT_NE(at, std::string::npos) << out;
        const std::string block = out.substr(at, out.find("\"whereby.turn.udp\"", at) - at);
        EXPECT_NE(block.find("# vendor:       Whereby\n"), std::string::npos) << block;
        EXPECT_NE(block.find("# product:      Whereby (browser)\n"), std::string::npos) << block;
        EXPECT_EQ(out.find("WherebyWhereby"), std::string::npos);
        EXPECT_EQ(out.find("Whereby Whereby"), std::string::npos);
    }
    const std::string nft = render_export(bundled_catalog(), options(ExportFormat::Nft, "Whereby"));
    EXPECT_NE(nft.find("# whereby.turn.udp: udp ports; vendor Whereby, product \"Whereby (browser)\"\n"),
              std::string::npos);
}

TEST(CatalogExportNft, RulesMatchTheVendorSets) {
    const std::string out =
        render_export(callwall::test::full_bundled_catalog(), options(ExportFormat::Nft, "Whereby"));
    EXPECT_NE(out.find("    set callwall_whereby_v4 {\n        type ipv4_addr\n    }\n"), std::string::npos) << out;
    EXPECT_NE(out.find("    set callwall_whereby_v6 {\n        type ipv6_addr\n    }\n"), std::string::npos);
    EXPECT_NE(out.find("        udp dport @callwall_ports_whereby_turn_udp ip daddr @callwall_whereby_v4 accept "
                       "comment \"whereby.turn.udp\"\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("        udp dport @callwall_ports_whereby_turn_udp ip6 daddr @callwall_whereby_v6 accept "
                       "comment \"whereby.turn.udp\"\n"),
              std::string::npos);
    // Every accept names an address set: nothing is open towards every address.
    for (const std::string& l : lines_of(out)) {
        if (l.find(" accept") == std::string::npos || l.find('#') != std::string::npos) continue;
        EXPECT_NE(l.find("daddr @callwall_whereby_"), std::string::npos) << l;
    }
    // Third-party names (a CDN) fill sets of their own: the media ports stay closed towards them.
    EXPECT_NE(out.find("ip daddr @callwall_whereby_third_party_v4 accept comment \"whereby.third-party.tcp\"\n"),
              std::string::npos);
    // One rule per edition's third-party entry: the seed edition and the current docs.
    EXPECT_EQ(count(out, "@callwall_whereby_third_party_v4"), 2u);
    const std::string dm = render_export(bundled_catalog(), options(ExportFormat::DnsmasqNftset, "Whereby"));
    EXPECT_NE(dm.find("nftset=/cloudfront.net/4#inet#filter#callwall_whereby_third_party_v4,"), std::string::npos)
        << dm;
    EXPECT_EQ(dm.find("nftset=/cloudfront.net/4#inet#filter#callwall_whereby_v4"), std::string::npos);
    // Inbound entries match the vendor's servers as senders.
    ExportOptions o = options(ExportFormat::Nft, "Agora");
    o.selection.product = "Recording SDK";
    const std::string rec = render_export(bundled_catalog(), o);
    EXPECT_NE(rec.find("ip saddr @callwall_agora_v4 accept comment \"agora-2018.recording.udp-downstream\""),
              std::string::npos)
        << rec;
}

TEST(CatalogExport, AnyDestinationLeftOutUnlessIncluded) {
    const std::string id = "sendbird-calls.p2p-stun.udp";
    for (ExportFormat f : {ExportFormat::Nft, ExportFormat::Iptables}) {
        ExportOptions o = options(f, "Sendbird");
        const std::string out = render_export(bundled_catalog(), o);
        EXPECT_EQ(out.find("\"" + id + "\""), std::string::npos) << out;
        EXPECT_EQ(out.find("1024-65535"), std::string::npos);
        EXPECT_EQ(out.find("1024:65535"), std::string::npos);
        EXPECT_NE(out.find("# LEFT OUT: no rules for these entries of the selection.\n#   " + id +
                           ": destination ANY: it would open its ports towards every address (--include-any keeps it)"),
                  std::string::npos)
            << out;
        o.include_any = true;
        const std::string with = render_export(bundled_catalog(), o);
        EXPECT_EQ(with.find("LEFT OUT"), std::string::npos);
        EXPECT_NE(with.find("(included because of --include-any)"), std::string::npos);
        if (f == ExportFormat::Nft) {
            EXPECT_NE(with.find("        udp dport @callwall_ports_sendbird_calls_p2p_stun_udp accept comment \"" + id +
                                "\"\n"),
                      std::string::npos)
                << with;
        } else {
            EXPECT_NE(with.find("-A CALLWALL-OUTBOUND -p udp -m multiport --dports 1024:65535 -m comment --comment \"" +
                                id + "\" -j ACCEPT\n"),
                      std::string::npos)
                << with;
        }
    }
}

TEST(CatalogExport, RequiredOnly) {
    ExportOptions o = options(ExportFormat::Nft);
    o.include_any = true;
    o.required_only = true;
    const std::string out = render_export(bundled_catalog(), o);
    size_t optional = 0;
    for (const Entry& e : bundled_catalog().entries()) {
        if (e.required) {
            EXPECT_NE(out.find("comment \"" + e.id + "\""), std::string::npos) << e.id;
        } else {
            ++optional;
            EXPECT_EQ(out.find("comment \"" + e.id + "\""), std::string::npos) << e.id;
            EXPECT_NE(out.find("#   " + e.id + ": optional (--required-only)\n"), std::string::npos) << e.id;
        }
    }
    EXPECT_GT(optional, 0u);
    EXPECT_NE(out.find("# callwall catalog export --format nft --required-only --include-any\n"), std::string::npos);
}

TEST(CatalogExport, DnsmasqNftsetLines) {
    const std::string out = render_export(bundled_catalog(), options(ExportFormat::DnsmasqNftset, "Whereby"));
    EXPECT_NE(
        out.find("\n# *.turn.whereby.com (broader: also turn.whereby.com itself)\n"
                 "nftset=/turn.whereby.com/4#inet#filter#callwall_whereby_v4,6#inet#filter#callwall_whereby_v6\n"),
        std::string::npos)
        << out;
    EXPECT_NE(out.find("\n# turnserver.appearin.net (broader: also every name below turnserver.appearin.net)\n"
                       "nftset=/turnserver.appearin.net/"),
              std::string::npos);
    // Comment or nftset line only; one line per domain.
    for (const std::string& l : lines_of(out)) EXPECT_TRUE(l.empty() || l[0] == '#' || l.starts_with("nftset=/")) << l;
    EXPECT_EQ(count(out, "nftset=/turn.whereby.com/"), 1u);
    // ".agora.io" is what dnsmasq matches: no "broader" note.
    const std::string agora = render_export(bundled_catalog(), options(ExportFormat::DnsmasqNftset, "Agora"));
    EXPECT_NE(agora.find("\nnftset=/agora.io/4#inet#filter#callwall_agora_v4,6#inet#filter#callwall_agora_v6\n"),
              std::string::npos)
        << agora;
    EXPECT_EQ(agora.find("broader: also agora.io"), std::string::npos);
    // The ANY entry has no names; Sendbird's named entries still do.
    const std::string sb = render_export(bundled_catalog(), options(ExportFormat::DnsmasqNftset, "Sendbird"));
    EXPECT_NE(sb.find("nftset=/calls.sendbird.com/"), std::string::npos) << sb;
    EXPECT_EQ(sb.find("ANY"), sb.find("ANY: it would"));
}

TEST(CatalogExport, DnsmasqIpsetLinesAndIptablesSets) {
    const std::string out = render_export(bundled_catalog(), options(ExportFormat::DnsmasqIpset, "Whereby"));
    EXPECT_NE(out.find("\nipset=/turn.whereby.com/callwall_whereby_v4,callwall_whereby_v6\n"), std::string::npos)
        << out;
    const std::string ipt = render_export(bundled_catalog(), options(ExportFormat::Iptables, "Whereby"));
    EXPECT_NE(ipt.find("-A CALLWALL-OUTBOUND -p udp -m multiport --dports 443 -m set --match-set callwall_whereby dst "
                       "-m comment --comment \"whereby.turn.udp\" -j ACCEPT\n"),
              std::string::npos)
        << ipt;
    EXPECT_NE(ipt.find("\ncreate callwall_whereby list:set\n"), std::string::npos);
}

// ipset names are at most 31 characters: long vendor names are shortened the
// same way in the rules, the ipset create lines and the dnsmasq lines.
TEST(CatalogExport, SetNamesFitIpset) {
    std::string text = "schema = 1\n[document]\nvendor = \"Example Conferencing Corporation\"\nsources = [\"s.txt\"]\n";
    for (const char* third_party : {"false", "true"}) {
        text += std::string("[[entry]]\nid = \"e.") + third_party +
                "\"\nproduct = \"P\"\nservice = \"S\"\n"
                "transport = \"udp\"\nports = [3478]\ndestinations = [\".example-" +
                third_party +
                ".com\"]\n"
                "required = true\nthird_party = " +
                third_party + "\nsource = { file = \"s.txt\", section = \"A\" }\n";
    }
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics.front().to_string());
    const std::string ipt = render_export(*r.catalog, options(ExportFormat::Iptables));
    const std::string dm = render_export(*r.catalog, options(ExportFormat::DnsmasqIpset));
    std::set<std::string> names;
    for (const std::string& l : lines_of(ipt)) {
        const size_t p = l.find("--match-set ");
        if (p != std::string::npos) names.insert(l.substr(p + 12, l.find(' ', p + 12) - p - 12));
    }
    ASSERT_EQ(names.size(), 2u) << ipt;
    for (const std::string& n : names) {
        EXPECT_LE(n.size() + 3, 31u) << n;
        EXPECT_TRUE(n.starts_with("callwall_example_confer_")) << n;
        EXPECT_NE(ipt.find("\ncreate " + n + "_v6 hash:ip family inet6\n"), std::string::npos) << n;
        EXPECT_NE(dm.find("/" + n + "_v4," + n + "_v6\n"), std::string::npos) << n << dm;
    }
    const std::string nft = render_export(*r.catalog, options(ExportFormat::Nft));
    for (const std::string& n : names) EXPECT_NE(nft.find("ip daddr @" + n + "_v4 accept"), std::string::npos) << n;
}

}  // namespace
}  // namespace callwall::catalog
