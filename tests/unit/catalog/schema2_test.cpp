// Catalog schema 2: address destinations (CIDR prefixes, start-end ranges),
// names-or-addresses entries, client source ports, tiers, fallback chains and
// web-page provenance; one test per error with its file:line:column.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/catalog/catalog_test_util.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog::schema2_test {
namespace {

using Errors = std::vector<std::string>;

// A one-entry schema-2 file from a web page; `entry` is inserted at line 12.
std::string make(std::string_view entry, std::string_view schema = "2") {
    return "schema = " + std::string(schema) +
           "\n"  // 1
           "[document]\n"  // 2
           "vendor = \"V\"\n"  // 3
           "title = \"Network requirements\"\n"  // 4
           "url = \"https://v.example/fw\"\n"  // 5
           "date = 2026-10-31\n"  // 6
           "transcribed = 2026-11-26\n"  // 7
           "[[entry]]\n"  // 8
           "id = \"v.media\"\n"  // 9
           "product = \"P\"\n"  // 10
           "service = \"S\"\n"  // 11
           + std::string(entry) +
           "\n"
           "required = true\n"
           "transport = \"udp\"\n"
           "ports = [[3478, 3481]]\n"
           "[entry.source]\n"
           "section = \"Media\"\n";
}

Errors errors_of(std::string_view text) {
    LoadResult r = load_string("t.toml", text);
    Errors out;
    for (const Diagnostic& d : r.diagnostics) out.push_back(d.to_string());
    EXPECT_EQ(r.ok(), out.empty());
    return out;
}

const Entry& only_entry(const LoadResult& r) {
    EXPECT_TRUE(r.ok());
    return r.catalog->entries()[0];
}

TEST(CatalogSchema2, ParsesV4AndV6PrefixesAndRanges) {
    LoadResult r = load_string(
        "t.toml", make("addresses = [\"13.107.64.0/18\", \"2603:1063::/38\", \"10.1.0.5-10.1.0.9\", \"192.0.2.7/32\", "
                       "\"2001:db8::1-2001:db8::ff\"]"));
    const Entry& e = only_entry(r);
    ASSERT_EQ(e.addresses.size(), 5u);
    EXPECT_TRUE(e.destinations.empty());
    EXPECT_FALSE(e.has_names());
    EXPECT_EQ(e.addresses[0].text(), "13.107.64.0/18");
    EXPECT_EQ(e.addresses[0].family, AddressFamily::V4);
    EXPECT_EQ(ip_text(AddressFamily::V4, e.addresses[0].lo), "13.107.64.0");
    EXPECT_EQ(ip_text(AddressFamily::V4, e.addresses[0].hi), "13.107.127.255");
    EXPECT_EQ(e.addresses[1].family, AddressFamily::V6);
    EXPECT_EQ(ip_text(AddressFamily::V6, e.addresses[1].hi), "2603:1063:3ff:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(e.addresses[2].text(), "10.1.0.5-10.1.0.9");
    EXPECT_EQ(e.addresses[2].prefix, -1);
    EXPECT_EQ(e.addresses[3].text(), "192.0.2.7/32");
    EXPECT_EQ(e.addresses[4].text(), "2001:db8::1-2001:db8::ff");
    // Stand-in addresses lie inside their range and are not the network address.
    EXPECT_EQ(ip_text(AddressFamily::V4, e.addresses[0].sample()), "13.107.64.1");
    EXPECT_EQ(ip_text(AddressFamily::V4, e.addresses[3].sample()), "192.0.2.7");
    EXPECT_EQ(ip_text(AddressFamily::V6, e.addresses[1].sample()), "2603:1063::1");
}

TEST(CatalogSchema2, MatchAddressFindsTheEntriesHoldingAnAddress) {
    const std::string text = make("addresses = [\"52.112.0.0/14\", \"2603:1063::/38\"]") +
                             "[[entry]]\n"
                             "id = \"v.wide\"\nproduct = \"P\"\nservice = \"S2\"\nrequired = true\n"
                             "transport = \"tcp\"\nports = [443]\n"
                             "addresses = [\"52.0.0.0/8\", \"52.112.0.10-52.112.0.12\"]\n"
                             "destinations = [\"*.v.example\"]\n"
                             "[entry.source]\nsection = \"Web\"\n";
    // The second entry's two items overlap each other: an error.
    EXPECT_EQ(errors_of(text), Errors{"t.toml:25:28: error: address '52.112.0.10-52.112.0.12' overlaps '52.0.0.0/8' "
                                      "in the same entry; expected disjoint prefixes and ranges (merge them)"});
    std::string fixed = text;
    fixed.replace(fixed.find(", \"52.112.0.10-52.112.0.12\""), std::string(", \"52.112.0.10-52.112.0.12\"").size(), "");
    LoadResult r = load_string("t.toml", fixed);
    ASSERT_TRUE(r.ok()) << errors_of(fixed).front();
    const Catalog& c = *r.catalog;
    EXPECT_TRUE(c.has_addresses());
    HostMatches m;
    c.match_address("52.112.3.4", m);
    EXPECT_EQ(std::vector<uint32_t>(m.begin(), m.end()), (std::vector<uint32_t>{0, 1}));
    c.match_address("52.1.2.3", m);
    EXPECT_EQ(std::vector<uint32_t>(m.begin(), m.end()), (std::vector<uint32_t>{1}));
    c.match_address("52.116.0.0", m);  // just past 52.112.0.0/14, inside 52/8
    EXPECT_EQ(std::vector<uint32_t>(m.begin(), m.end()), (std::vector<uint32_t>{1}));
    c.match_address("53.0.0.0", m);
    EXPECT_TRUE(m.empty());
    c.match_address("51.255.255.255", m);
    EXPECT_TRUE(m.empty());
    c.match_address("2603:1063:3ff::1", m);
    EXPECT_EQ(std::vector<uint32_t>(m.begin(), m.end()), (std::vector<uint32_t>{0}));
    c.match_address("2603:1063:400::", m);
    EXPECT_TRUE(m.empty());
    c.match_address("not an address", m);
    EXPECT_TRUE(m.empty());
    c.match_address("::ffff:52.112.0.1", m);  // another family: no match
    EXPECT_TRUE(m.empty());
    // Names and addresses: one entry, satisfied by either.
    const Entry& wide = c.entries()[1];
    EXPECT_TRUE(wide.has_names());
    EXPECT_EQ(wide.addresses.size(), 1u);
    c.match_host("a.v.example", m);
    EXPECT_EQ(std::vector<uint32_t>(m.begin(), m.end()), (std::vector<uint32_t>{1}));
}

// parse_ip reads a dotted quad itself: what it gives is what inet_pton
// gives, for crafted edges and 300,000 random strings: half of them four
// parts of 0-299 (some with a leading zero), half digits, dots and colons.
TEST(CatalogSchema2, ParseIpIsInetPton) {
    const auto pton = [](const std::string& t) -> std::optional<std::pair<AddressFamily, AddressBytes>> {
        AddressBytes a{};
        if (t.size() > 45) return std::nullopt;
        if (inet_pton(AF_INET, t.c_str(), a.data()) == 1) return std::pair{AddressFamily::V4, a};
        if (inet_pton(AF_INET6, t.c_str(), a.data()) == 1) return std::pair{AddressFamily::V6, a};
        return std::nullopt;
    };
    std::vector<std::string> texts = {
        "0.0.0.0",  "255.255.255.255", "256.1.1.1", "1.2.3",     "1.2.3.4.",       ".1.2.3.4",   "01.2.3.4",
        "1.02.3.4", "1.2.3.04",        "1.2.3.0",   "1..2.3",    "1.2.3.4.5",      "1234.1.1.1", "1.2.3.4 ",
        " 1.2.3.4", "1.2.3.-4",        "1.2.3.4/8", "0x1.2.3.4", "::ffff:1.2.3.4", "::1",        "192.168.001.1",
        "9.9.9.9",  "10.0.0.255",      ""};
    std::mt19937 rng(7);
    const std::string alphabet = "0123456789..:";
    for (int i = 0; i < 300000; ++i) {
        std::string t;
        if (i % 2) {  // four parts, mostly valid: a value of 0-299, now and then with a leading zero
            for (int part = 0; part < 4; ++part) {
                if (part) t += '.';
                if (rng() % 16 == 0) t += '0';
                t += std::to_string(rng() % 300);
            }
        } else {
            const size_t n = rng() % 18;
            for (size_t k = 0; k < n; ++k) t += alphabet[rng() % alphabet.size()];
        }
        texts.push_back(t);
    }
    size_t v4 = 0;
    for (const std::string& t : texts) {
        const auto want = pton(t);
        ASSERT_EQ(parse_ip(t), want) << "'" << t << "'";
        v4 += want && want->first == AddressFamily::V4;
    }
    EXPECT_GT(v4, 50000u);
}

TEST(CatalogSchema2, HostBitsSetIsAnError) {
    EXPECT_EQ(errors_of(make("addresses = [\"52.112.0.1/14\"]")),
              Errors{"t.toml:12:14: error: malformed address '52.112.0.1/14': host bits set; expected "
                     "'52.112.0.0/14'"});
    EXPECT_EQ(errors_of(make("addresses = [\"2603:1063::1/38\"]")),
              Errors{"t.toml:12:14: error: malformed address '2603:1063::1/38': host bits set; expected "
                     "'2603:1063::/38'"});
}

TEST(CatalogSchema2, OverlappingItemsAreAnError) {
    EXPECT_EQ(errors_of(make("addresses = [\"52.112.0.0/14\", \"52.113.0.0/16\"]")),
              Errors{"t.toml:12:31: error: address '52.113.0.0/16' overlaps '52.112.0.0/14' in the same entry; "
                     "expected disjoint prefixes and ranges (merge them)"});
    // The later-written item is blamed even when it sorts first.
    EXPECT_EQ(errors_of(make("addresses = [\"2603:1063::5-2603:1063::9\", \"2603:1063::/120\"]")),
              Errors{"t.toml:12:43: error: address '2603:1063::/120' overlaps '2603:1063::5-2603:1063::9' in the "
                     "same entry; expected disjoint prefixes and ranges (merge them)"});
    // Adjacent is not overlapping; the same prefix in two entries is allowed.
    EXPECT_TRUE(errors_of(make("addresses = [\"10.0.0.0/24\", \"10.0.1.0-10.0.1.255\"]")).empty());
}

TEST(CatalogSchema2, BadRangesAreErrors) {
    auto msg = [](std::string_view item, std::string_view why) {
        const bool says = why.find("expected") != std::string_view::npos;
        return "t.toml:12:14: error: malformed address '" + std::string(item) + "': " + std::string(why) +
               (says ? ""
                     : "; expected a CIDR prefix such as '52.112.0.0/14' or '2603:1063::/38', or a range such as "
                       "'10.1.0.5-10.1.0.9'");
    };
    EXPECT_EQ(errors_of(make("addresses = [\"10.1.0.9-10.1.0.5\"]")),
              Errors{msg("10.1.0.9-10.1.0.5", "range start is after its end")});
    EXPECT_EQ(errors_of(make("addresses = [\"10.1.0.5-2001:db8::1\"]")),
              Errors{msg("10.1.0.5-2001:db8::1", "range start and end are of different families")});
    EXPECT_EQ(errors_of(make("addresses = [\"10.1.0.256-10.1.0.9\"]")),
              Errors{msg("10.1.0.256-10.1.0.9", "range start '10.1.0.256' is not an IPv4 or IPv6 address")});
    EXPECT_EQ(errors_of(make("addresses = [\"10.0.0.0/33\"]")),
              Errors{msg("10.0.0.0/33", "prefix length '33' is not a number from 0 to 32")});
    EXPECT_EQ(errors_of(make("addresses = [\"2603::/129\"]")),
              Errors{msg("2603::/129", "prefix length '129' is not a number from 0 to 128")});
    EXPECT_EQ(errors_of(make("addresses = [\"0.0.0.0/0\"]")),
              Errors{msg("0.0.0.0/0", "a /0 prefix is every address; expected the vendor's own ranges")});
    EXPECT_EQ(errors_of(make("addresses = [\"192.0.2.7\"]")),
              Errors{msg("192.0.2.7", "a single address needs its prefix length; expected '192.0.2.7/32'")});
    EXPECT_EQ(errors_of(make("addresses = [\"turn.v.example\"]")),
              Errors{msg("turn.v.example", "not an address prefix or range")});
    EXPECT_EQ(errors_of(make("addresses = [\"10.0.0.0/ 8\"]")),
              Errors{msg("10.0.0.0/ 8", "prefix length ' 8' is not a number from 0 to 32")});
    EXPECT_EQ(errors_of(make("addresses = []")),
              Errors{"t.toml:12:13: error: 'addresses' is empty; expected at least one prefix (\"52.112.0.0/14\") "
                     "or range (\"10.1.0.5-10.1.0.9\")"});
    EXPECT_EQ(errors_of(make("addresses = [5]")),
              Errors{"t.toml:12:14: error: expected each address to be a string, got an integer"});
}

TEST(CatalogSchema2, AnyWithAddressesAndNeitherAreErrors) {
    EXPECT_EQ(errors_of(make("addresses = [\"10.0.0.0/8\"]\ndestinations = [\"ANY\"]")),
              Errors{"t.toml:13:16: error: 'ANY' cannot be combined with 'addresses'; expected names and/or "
                     "addresses, or [\"ANY\"] alone"});
    EXPECT_EQ(errors_of(make("")), Errors{"t.toml:8:1: error: missing key 'destinations' in [[entry]] 'v.media'; "
                                          "expected an array of names (\"*.x.com\", \".x.com\", \"host.x.com\") or "
                                          "[\"ANY\"], or 'addresses'"});
}

TEST(CatalogSchema2, SchemaOneFileUsingSchemaTwoKeysIsAnError) {
    const std::string text =
        "schema = 1\n"
        "[document]\n"
        "vendor = \"V\"\n"
        "sources = [\"s.txt\"]\n"
        "url = \"https://v.example/fw\"\n"
        "[[entry]]\n"
        "id = \"e1\"\nproduct = \"P\"\nservice = \"S\"\nrequired = true\n"
        "transport = \"udp\"\nports = [3478]\n"
        "destinations = [\"*.v.example\"]\n"
        "addresses = [\"10.0.0.0/8\"]\n"
        "tier = \"optimize\"\n"
        "source = { file = \"s.txt\", section = \"A\", url = \"https://v.example/2\" }\n";
    EXPECT_EQ(errors_of(text), (Errors{
                                   "t.toml:5:1: error: key 'url' needs schema = 2 (this file says schema = 1)",
                                   "t.toml:14:1: error: key 'addresses' needs schema = 2 (this file says schema = 1)",
                                   "t.toml:15:1: error: key 'tier' needs schema = 2 (this file says schema = 1)",
                                   "t.toml:16:43: error: key 'url' needs schema = 2 (this file says schema = 1)",
                               }));
}

TEST(CatalogSchema2, SourcePortsTierAndFallback) {
    const std::string text = make(
        "addresses = [\"52.112.0.0/14\"]\n"
        "source_ports = [[50000, 50059]]\n"
        "tier = \"optimize\"\n"
        "fallback = { chain = \"v.media\", order = 1, label = \"UDP media\" }");
    LoadResult r = load_string("t.toml", text);
    const Entry& e = only_entry(r);
    ASSERT_EQ(e.source_ports.size(), 1u);
    EXPECT_TRUE(e.source_port_allowed(50000));
    EXPECT_TRUE(e.source_port_allowed(50059));
    EXPECT_FALSE(e.source_port_allowed(50060));
    EXPECT_EQ(e.tier, "optimize");
    ASSERT_TRUE(e.fallback.has_value());
    EXPECT_EQ(e.fallback->chain, "v.media");
    EXPECT_EQ(e.fallback->order, 1u);
    EXPECT_EQ(e.fallback->label, "UDP media");
    const Document& d = r.catalog->document_of(e);
    EXPECT_EQ(d.schema, 2);
    EXPECT_EQ(d.url, "https://v.example/fw");
    EXPECT_EQ(d.date, "2026-10-31");
    EXPECT_EQ(d.transcribed, "2026-11-26");
    EXPECT_TRUE(d.sources.empty());
    EXPECT_EQ(e.source.section, "Media");
    EXPECT_TRUE(e.source.file.empty());

    EXPECT_EQ(errors_of(make("addresses = [\"10.0.0.0/8\"]\ntier = \"mandatory\"")),
              Errors{"t.toml:13:8: error: unknown tier 'mandatory'; expected one of: required, recommended, "
                     "optional, optimize, allow, default"});
    EXPECT_EQ(errors_of(make("addresses = [\"10.0.0.0/8\"]\nsource_ports = [[50059, 50000]]")),
              Errors{"t.toml:13:17: error: reversed port range [50059, 50000]; expected [low, high] with low <= high"});
    EXPECT_EQ(errors_of(make("addresses = [\"10.0.0.0/8\"]\nfallback = { chain = \"c\", order = 0, label = \"x\" }")),
              Errors{"t.toml:13:35: error: bad fallback order 0; expected an integer from 1 to 100"});
    EXPECT_EQ(errors_of(make("addresses = [\"10.0.0.0/8\"]\nfallback = { chain = \"c\", label = \"x\" }")),
              Errors{"t.toml:13:12: error: missing key 'order' in [entry.fallback]; expected 1 for the vendor's "
                     "first choice, 2 for the next, ..."});
}

TEST(CatalogSchema2, FallbackOrderTwiceInAChainIsAnError) {
    const std::string text = make(
                                 "addresses = [\"10.0.0.0/8\"]\nfallback = { chain = \"c\", order = 1, label = "
                                 "\"UDP\" }") +
                             "[[entry]]\n"
                             "id = \"v.turn\"\nproduct = \"P\"\nservice = \"TURN\"\nrequired = true\n"
                             "transport = \"tcp\"\nports = [443]\n"
                             "addresses = [\"10.0.0.0/8\"]\n"
                             "fallback = { chain = \"c\", order = 1, label = \"TURN/TLS\" }\n"
                             "[entry.source]\nsection = \"TURN\"\n";
    EXPECT_EQ(errors_of(text),
              Errors{"t.toml:19:1: error: fallback chain 'c' has order 1 twice (also 'v.media' at t.toml:8:1); "
                     "expected each step's order once"});
}

TEST(CatalogSchema2, WebPageProvenanceRules) {
    std::string text = make("addresses = [\"10.0.0.0/8\"]");
    // Neither date nor undated.
    std::string undated = text;
    undated.replace(undated.find("date = 2026-10-31\n"), 18, "");
    EXPECT_EQ(errors_of(undated),
              Errors{"t.toml:2:1: error: [document] has a url but neither 'date' nor undated = true; expected the "
                     "date the page shows, or undated = true when it shows none"});
    std::string fixed = undated;
    fixed.replace(fixed.find("transcribed"), 0, "undated = true\n");
    EXPECT_TRUE(errors_of(fixed).empty());
    // Both.
    std::string both = text;
    both.replace(both.find("transcribed"), 0, "undated = true\n");
    EXPECT_EQ(errors_of(both),
              Errors{"t.toml:7:11: error: [document] has both 'date' and undated = true; expected exactly one"});
    // transcribed is required with url.
    std::string untranscribed = text;
    untranscribed.replace(untranscribed.find("transcribed = 2026-11-26\n"), 25, "");
    EXPECT_EQ(errors_of(untranscribed),
              Errors{"t.toml:2:1: error: missing key 'transcribed' in [document]; a document with a url needs the "
                     "day it was transcribed, e.g. transcribed = 2026-11-26"});
    // A seed file named by an entry of a web-page document.
    std::string with_file = text;
    with_file.replace(with_file.find("section = \"Media\""), 0, "file = \"s.txt\"\n");
    EXPECT_EQ(errors_of(with_file),
              Errors{"t.toml:17:8: error: 'file' in [entry.source] names a seed file, but [document] gives a url and "
                     "no sources; expected only section (and url for another page)"});
    // An entry from a second page of the same edition.
    std::string second = text;
    second.replace(second.find("section = \"Media\""), 0, "url = \"https://v.example/fw2\"\n");
    LoadResult r = load_string("t.toml", second);
    EXPECT_EQ(only_entry(r).source.url, "https://v.example/fw2");
    // A schema-2 seed-file document still needs its sources.
    std::string no_url = text;
    no_url.replace(no_url.find("url = \"https://v.example/fw\"\n"), 29, "");
    EXPECT_FALSE(errors_of(no_url).empty());
}

TEST(CatalogSchema2, ListingAndShowCarryTheNewFields) {
    const std::string text = make(
        "addresses = [\"52.112.0.0/14\", \"2603:1063::/38\"]\n"
        "destinations = [\"*.v.example\"]\n"
        "source_ports = [[50000, 50059]]\n"
        "tier = \"optimize\"\n"
        "fallback = { chain = \"v.media\", order = 1, label = \"UDP media\" }");
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok());
    const std::string json = render_json(*r.catalog);
    EXPECT_NE(json.find("\"addresses\":[\"52.112.0.0/14\",\"2603:1063::/38\"]"), std::string::npos) << json;
    EXPECT_NE(json.find("\"source_ports\":[[50000,50059]]"), std::string::npos);
    EXPECT_NE(json.find("\"tier\":\"optimize\""), std::string::npos);
    EXPECT_NE(json.find("\"fallback\":{\"chain\":\"v.media\",\"order\":1,\"label\":\"UDP media\"}"), std::string::npos);
    EXPECT_NE(json.find("\"document\":{\"catalog_file\":\"t.toml\",\"url\":\"https://v.example/fw\","
                        "\"title\":\"Network requirements\",\"date\":\"2026-10-31\",\"undated\":false,"
                        "\"transcribed\":\"2026-11-26\",\"list_version\":null,\"sources\":[]}"),
              std::string::npos)
        << json;
    const std::string text_listing = render_text(*r.catalog);
    EXPECT_NE(text_listing.find("page: https://v.example/fw (\"Network requirements\")"), std::string::npos)
        << text_listing;
    EXPECT_NE(text_listing.find("or 52.112.0.0/14"), std::string::npos) << text_listing;
    EXPECT_NE(text_listing.find("tier: optimize"), std::string::npos);
    EXPECT_NE(text_listing.find("client source ports 50000-50059"), std::string::npos);
    const auto show = render_show(*r.catalog, "v.media");
    ASSERT_TRUE(show.has_value());
    EXPECT_NE(show->find("addresses:      52.112.0.0/14"), std::string::npos) << *show;
    EXPECT_NE(show->find("2603:1063::/38"), std::string::npos);
    EXPECT_NE(show->find("source ports:   50000-50059"), std::string::npos) << *show;
    EXPECT_NE(show->find("tier:           optimize"), std::string::npos);
    EXPECT_NE(show->find("fallback chain: v.media, step 1: UDP media"), std::string::npos) << *show;
    EXPECT_NE(show->find("source:         https://v.example/fw"), std::string::npos);
    EXPECT_NE(show->find("transcribed 2026-11-26"), std::string::npos);
}

TEST(CatalogSchema2, SchemaOneListingHasTheSameKeysEmpty) {
    // A schema-1 entry has every key of the listing: the schema-2 ones null
    // or empty, its seed file as its source and no page.
    const std::string text =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n[[entry]]\n"
        "id = \"e1\"\nproduct = \"P\"\nservice = \"S\"\nrequired = true\ntransport = \"udp\"\nports = [3478]\n"
        "destinations = [\"*.v.example\"]\nsource = { file = \"s.txt\", section = \"A\" }\n";
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok());
    const std::string json = render_json(*r.catalog);
    for (const char* key : {"\"addresses\":[]", "\"source_ports\":[]", "\"tier\":null", "\"fallback\":null",
                            "\"source\":{\"file\":\"s.txt\",\"section\":\"A\",\"url\":null}",
                            "\"document\":{\"catalog_file\":\"t.toml\",\"url\":null,"}) {
        EXPECT_NE(json.find(key), std::string::npos) << key << "\n" << json;
    }
    EXPECT_FALSE(r.catalog->has_addresses());
}

}  // namespace
}  // namespace callwall::catalog::schema2_test

namespace callwall::catalog {
namespace {

// catalog/README.md's schema-2 example stays a valid, complete catalog file.
TEST(CatalogSchema2, ReadmeExampleLoads) {
    const std::string dir = callwall::test::full_catalog_dir();
    if (!std::filesystem::exists(std::filesystem::path(dir) / "README.md")) GTEST_SKIP() << "no README.md in " << dir;
    const std::optional<std::string> example = callwall::test::readme_toml_block(dir, "schema = 2\n");
    ASSERT_TRUE(example) << "no ```toml block starting with schema = 2";
    LoadResult r = load_string("README.md", *example);
    for (const Diagnostic& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.catalog->entries().size(), 2u);
    const Entry& media = r.catalog->entries()[0];
    EXPECT_EQ(media.addresses.size(), 3u);
    EXPECT_FALSE(media.has_names());
    EXPECT_EQ(media.tier, "optimize");
    const Entry& relay = r.catalog->entries()[1];
    EXPECT_TRUE(relay.has_names());
    EXPECT_EQ(relay.source.url, "https://example.invalid/docs/relay");
    HostMatches m;
    r.catalog->match_address("203.0.113.20", m);
    EXPECT_EQ(std::vector<uint32_t>(m.begin(), m.end()), (std::vector<uint32_t>{0}));
    r.catalog->match_address("198.51.100.9", m);
    EXPECT_EQ(std::vector<uint32_t>(m.begin(), m.end()), (std::vector<uint32_t>{0, 1}));
}

}  // namespace
}  // namespace callwall::catalog
