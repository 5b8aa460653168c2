// Domain semantics (DESIGN.md "Catalog"): *.x.com, .x.com, bare names, ANY,
// case, trailing dots; the trie against the reference matcher; the bundled
// catalog's real names.
#include <gtest/gtest.h>

#include <cctype>

#include <algorithm>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/public_suffix.hpp"
#include "unit/catalog/catalog_test_util.hpp"

namespace callwall::catalog {
namespace {

// One entry per pattern, ids e0, e1, ... in order; vendor V unless third_party.
std::string catalog_text(const std::vector<std::string>& patterns, bool third_party = false) {
    std::string t = "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n";
    for (size_t i = 0; i < patterns.size(); ++i) {
        t += "[[entry]]\nid = \"e" + std::to_string(i) +
             "\"\nproduct = \"P\"\nservice = \"S\"\ntransport = \"tcp\"\n"
             "ports = [443]\ndestinations = [\"" +
             patterns[i] + "\"]\nrequired = true\n" + (third_party ? "third_party = true\n" : "") +
             "source = { file = \"s.txt\", section = \"A\" }\n";
    }
    return t;
}

Catalog make_catalog(const std::vector<std::string>& patterns) {
    LoadResult r = load_string("t.toml", catalog_text(patterns));
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    return r.ok() ? std::move(*r.catalog) : Catalog{};
}

std::vector<std::string> ids_matching(const Catalog& c, std::string_view host) {
    HostMatches m;
    c.match_host(host, m);
    std::vector<std::string> ids;
    for (uint32_t i : m.view()) ids.push_back(c.entries()[i].id);
    return ids;
}

using Ids = std::vector<std::string>;

bool one_matches(std::string_view pattern, std::string_view host) {
    Catalog c = make_catalog({std::string(pattern)});
    const bool indexed = !ids_matching(c, host).empty();
    const bool reference = destination_matches(c.entries()[0].destinations[0], host);
    EXPECT_EQ(indexed, reference) << pattern << " vs " << host;
    return indexed;
}

TEST(DomainMatch, WildcardMatchesNamesBelowButNotItself) {
    EXPECT_TRUE(one_matches("*.x.com", "a.x.com"));
    EXPECT_TRUE(one_matches("*.x.com", "a.b.x.com"));
    EXPECT_TRUE(one_matches("*.x.com", "very.deep.name.below.x.com"));
    EXPECT_FALSE(one_matches("*.x.com", "x.com"));
    EXPECT_FALSE(one_matches("*.x.com", "ax.com"));  // label boundary, not string suffix
    EXPECT_FALSE(one_matches("*.x.com", "x.com.evil"));
    EXPECT_FALSE(one_matches("*.x.com", "com"));
    EXPECT_FALSE(one_matches("*.calls.sendbird.com", "calls.sendbird.com"));
    EXPECT_TRUE(one_matches("*.calls.sendbird.com", "eu-1.calls.sendbird.com"));
}

TEST(DomainMatch, LeadingDotSuffixMatchesItselfAndBelow) {
    EXPECT_TRUE(one_matches(".x.com", "x.com"));
    EXPECT_TRUE(one_matches(".x.com", "a.x.com"));
    EXPECT_TRUE(one_matches(".x.com", "a.b.x.com"));
    EXPECT_FALSE(one_matches(".x.com", "ax.com"));
    EXPECT_FALSE(one_matches(".x.com", "com"));
    EXPECT_FALSE(one_matches(".x.com", "x.co"));
    EXPECT_TRUE(one_matches(".agora.io", "ap-web-1.agora.io"));
    EXPECT_FALSE(one_matches(".agora.io", "agora.io.example.org"));
}

TEST(DomainMatch, BareNameMatchesOnlyItself) {
    EXPECT_TRUE(one_matches("turnserver.appearin.net", "turnserver.appearin.net"));
    EXPECT_FALSE(one_matches("turnserver.appearin.net", "a.turnserver.appearin.net"));
    EXPECT_FALSE(one_matches("turnserver.appearin.net", "appearin.net"));
    EXPECT_FALSE(one_matches("turnserver.appearin.net", "xturnserver.appearin.net"));
}

TEST(DomainMatch, CaseInsensitiveBothWays) {
    EXPECT_TRUE(one_matches("*.x.com", "A.X.COM"));
    EXPECT_TRUE(one_matches("*.X.Com", "a.x.com"));
    EXPECT_TRUE(one_matches(".X.COM", "x.Com"));
    EXPECT_TRUE(one_matches("Host.X.com", "hOST.x.COM"));
}

TEST(DomainMatch, TrailingDotIgnoredBothWays) {
    EXPECT_TRUE(one_matches("*.x.com", "a.x.com."));
    EXPECT_TRUE(one_matches("*.x.com.", "a.x.com"));
    EXPECT_TRUE(one_matches(".x.com.", "x.com."));
    EXPECT_TRUE(one_matches("host.x.com.", "host.x.com"));
    EXPECT_FALSE(one_matches("*.x.com", "x.com."));
    EXPECT_FALSE(one_matches("host.x.com", "host.x.com.."));  // only one trailing dot is ignored
}

TEST(DomainMatch, MalformedHostsMatchNothing) {
    for (std::string_view host : {"", ".", "..", "a..x.com", ".x.com", "x.com..", ".a.x.com"}) {
        EXPECT_FALSE(one_matches(".x.com", host)) << host;
        EXPECT_FALSE(one_matches("*.x.com", host)) << host;
    }
    EXPECT_FALSE(one_matches(".x.com", std::string(300, 'a') + ".x.com"));  // longer than any DNS name
}

TEST(DomainMatch, PatternsAreNormalized) {
    auto d = parse_destination("*.Calls.SendBird.COM.");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, DestinationKind::Wildcard);
    EXPECT_EQ(d->pattern, "*.calls.sendbird.com");
    EXPECT_EQ(d->as_written, "*.Calls.SendBird.COM.");
    EXPECT_EQ(d->base(), "calls.sendbird.com");
    auto s = parse_destination(".agora.io");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, DestinationKind::Suffix);
    EXPECT_EQ(s->base(), "agora.io");
    auto e = parse_destination("ap-web-1.agora.io");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, DestinationKind::Exact);
    auto a = parse_destination("ANY");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, DestinationKind::Any);
    EXPECT_EQ(a->base(), "");
    EXPECT_TRUE(parse_destination("_sip._udp.example.com"));  // underscores are fine in DNS names
}

TEST(DomainMatch, AnyIsNeverNameMatched) {
    Catalog c = make_catalog({"ANY", ".x.com"});
    EXPECT_EQ(ids_matching(c, "x.com"), Ids{"e1"});
    EXPECT_EQ(ids_matching(c, "any"), Ids{});
    EXPECT_EQ(ids_matching(c, "ANY"), Ids{});
    ASSERT_EQ(c.any_destination_entries(Transport::Tcp).size(), 1u);
    EXPECT_EQ(c.any_destination_entries(Transport::Udp).size(), 0u);
    HostMatches m;
    c.match_any_destination(Transport::Tcp, 443, m);
    EXPECT_EQ(m.count, 1u);
    c.match_any_destination(Transport::Tcp, 444, m);
    EXPECT_EQ(m.count, 0u);
    c.match_any_destination(Transport::Udp, 443, m);
    EXPECT_EQ(m.count, 0u);
}

TEST(DomainMatch, SeveralPatternsOneHost) {
    Catalog c = make_catalog({".x.com", "*.x.com", "a.x.com", "*.a.x.com", ".a.x.com", "b.x.com", "*.y.com"});
    EXPECT_EQ(ids_matching(c, "x.com"), (Ids{"e0"}));
    EXPECT_EQ(ids_matching(c, "a.x.com"), (Ids{"e0", "e1", "e2", "e4"}));
    EXPECT_EQ(ids_matching(c, "z.a.x.com"), (Ids{"e0", "e1", "e3", "e4"}));
    EXPECT_EQ(ids_matching(c, "b.x.com"), (Ids{"e0", "e1", "e5"}));
    EXPECT_EQ(ids_matching(c, "y.com"), (Ids{}));
}

TEST(DomainMatch, EntryWithOverlappingPatternsIsReportedOnce) {
    const std::string text =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n[[entry]]\nid = \"e\"\n"
        "product = \"P\"\nservice = \"S\"\ntransport = \"udp\"\nports = [1]\n"
        "destinations = [\".agora.io\", \"vocs1.agora.io\", \"*.agora.io\"]\nrequired = true\n"
        "source = { file = \"s.txt\", section = \"A\" }\n";
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok());
    HostMatches m;
    r.catalog->match_host("vocs1.agora.io", m);
    EXPECT_EQ(m.count, 1u);
    EXPECT_FALSE(m.overflowed);
}

TEST(DomainMatch, OverflowKeepsFirstAndSaysSo) {
    std::vector<std::string> patterns(kMaxHostMatches + 6, ".x.com");
    Catalog c = make_catalog(patterns);
    HostMatches m;
    c.match_host("a.x.com", m);
    EXPECT_EQ(m.count, kMaxHostMatches);
    EXPECT_TRUE(m.overflowed);
    for (uint32_t i = 0; i < m.count; ++i) EXPECT_EQ(m.entries[i], i);  // ascending, the first ones
    c.match_host("b.y.com", m);  // the out parameter is reset on every call
    EXPECT_EQ(m.count, 0u);
    EXPECT_FALSE(m.overflowed);
}

TEST(DomainMatch, VendorForHostSkipsThirdPartyNames) {
    const std::vector<SourceText> files = {
        {"v.toml", catalog_text({"*.vendor.com"})},
        {"w.toml",
         "schema = 1\n[document]\nvendor = \"W\"\nsources = [\"s.txt\"]\n[[entry]]\nid = \"w1\"\n"
         "product = \"P\"\nservice = \"S\"\ntransport = \"tcp\"\nports = [443]\n"
         "destinations = [\"*.sentry.io\", \".w.net\"]\nrequired = false\nthird_party = true\n"
         "source = { file = \"s.txt\", section = \"A\" }\n"
         "[[entry]]\nid = \"w2\"\nproduct = \"P\"\nservice = \"S\"\ntransport = \"tcp\"\nports = [443]\n"
         "destinations = [\".w.com\", \"a.vendor.com\"]\nrequired = true\n"
         "source = { file = \"s.txt\", section = \"A\" }\n"}};
    LoadResult r = load_sources(files);
    ASSERT_TRUE(r.ok());
    const Catalog& c = *r.catalog;
    const uint16_t v = *c.vendor_index("V");
    const uint16_t w = *c.vendor_index("W");
    auto vendors = [&](std::string_view host) {
        VendorMatches m = c.vendor_for_host(host);
        return std::vector<uint16_t>(m.view().begin(), m.view().end());
    };
    EXPECT_EQ(vendors("x.sentry.io"), std::vector<uint16_t>{});  // third-party: no vendor
    EXPECT_EQ(ids_matching(c, "x.sentry.io"), Ids{"w1"});  // but the entry still matches
    EXPECT_EQ(vendors("x.vendor.com"), std::vector<uint16_t>{v});
    EXPECT_EQ(vendors("a.vendor.com"), (std::vector<uint16_t>{v, w}));
    EXPECT_EQ(vendors("w.com"), std::vector<uint16_t>{w});
    EXPECT_EQ(vendors("w.net"), std::vector<uint16_t>{});
    EXPECT_EQ(vendors("example.org"), std::vector<uint16_t>{});
}

TEST(DomainMatch, IndexAgreesWithReferenceOnRandomNames) {
    // Small label alphabet so that patterns and hosts collide often.
    const std::vector<std::string> labels = {"a", "b", "x", "com", "io", "A", "X"};
    std::mt19937 rng(12345);
    auto random_name = [&](size_t min_labels) {
        const size_t n = min_labels + rng() % 3;
        std::string s;
        for (size_t i = 0; i < n; ++i) s += (i ? "." : "") + labels[rng() % labels.size()];
        return s;
    };
    std::vector<std::string> patterns;
    while (patterns.size() < 60) {
        std::string base = random_name(2);
        const int kind = static_cast<int>(rng() % 3);
        // A wildcard at a public suffix ("*.com.io") is refused by the loader.
        std::string lower = base;
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (const PublicSuffixList* psl = PublicSuffixList::system();
            kind != 2 && psl && psl->public_suffix(lower) != PublicSuffixList::Section::None)
            continue;
        // One pattern per entry; the same pattern in several entries is fine.
        patterns.push_back(kind == 0 ? "*." + base : kind == 1 ? "." + base : base);
    }
    Catalog c = make_catalog(patterns);
    ASSERT_EQ(c.entries().size(), patterns.size());
    size_t positives = 0;
    for (int i = 0; i < 5000; ++i) {
        std::string host = random_name(1);
        if (rng() % 5 == 0) host += ".";
        HostMatches m;
        c.match_host(host, m);
        std::vector<uint32_t> expected;
        for (uint32_t e = 0; e < c.entries().size(); ++e) {
            if (destination_matches(c.entries()[e].destinations[0], host)) expected.push_back(e);
        }
        ASSERT_FALSE(m.overflowed);
        ASSERT_EQ(std::vector<uint32_t>(m.view().begin(), m.view().end()), expected) << host;
        positives += !expected.empty();
    }
    EXPECT_GT(positives, 500u);  // the test exercised matches, not only misses
}

// The bundled catalog's notations, as the seeds write them.
class BundledDomains : public ::testing::Test {
protected:
    static void SetUpTestSuite() { catalog_ = test::load_catalog_or_fail(bundled_catalog_dir()); }
    static void TearDownTestSuite() {
        delete catalog_;
        catalog_ = nullptr;
    }
    static Catalog* catalog_;
};
Catalog* BundledDomains::catalog_ = nullptr;

TEST_F(BundledDomains, RealNames) {
    ASSERT_NE(catalog_, nullptr);
    const Catalog& c = *catalog_;
    EXPECT_EQ(ids_matching(c, "eu.calls.sendbird.com"),
              (Ids{"sendbird-calls.signal.tcp", "sendbird-calls.media-direct-call.udp"}));
    EXPECT_EQ(ids_matching(c, "calls.sendbird.com"), Ids{});
    EXPECT_EQ(ids_matching(c, "turnserver.appearin.net"),
              (Ids{"whereby.signaling.tcp", "whereby.turn.tcp", "whereby.turn.udp", "whereby.turn-sfu-highport.udp"}));
    EXPECT_EQ(ids_matching(c, "appearin.net"), Ids{});
    EXPECT_EQ(ids_matching(c, "x.turn.svc.whereby.com"),
              (Ids{"whereby.signaling.tcp", "whereby.turn.tcp", "whereby.turn.udp", "whereby.turn-sfu-highport.udp"}));
    EXPECT_EQ(ids_matching(c, "whereby.com"), Ids{});

    // ap-web-1.agora.io: every .agora.io entry of both editions, plus the RTM Web exact name (same entry).
    HostMatches m;
    c.match_host("AP-WEB-1.agora.io.", m);
    EXPECT_EQ(m.count, 19u);  // 11 (2018) + 8 (2020), all name .agora.io
    EXPECT_FALSE(m.overflowed);
    c.match_host("ap-web-1.agoraio.cn", m);
    EXPECT_EQ(m.count, 6u);  // 2020 RTC Web (5 entries) + RTM Web
    c.match_host("qos.agoralab.co", m);
    EXPECT_EQ(m.count, 2u);  // 2018 Native tcp + udp
    c.match_host("x.qos.agoralab.co", m);
    EXPECT_EQ(m.count, 0u);

    const uint16_t whereby = *c.vendor_index("Whereby");
    EXPECT_EQ(c.vendor_for_host("a.sentry.io").count, 0u);
    EXPECT_EQ(c.vendor_for_host("d1.cloudfront.net").count, 0u);
    ASSERT_EQ(c.vendor_for_host("x.sfu.whereby.com").count, 1u);
    EXPECT_EQ(c.vendor_for_host("x.sfu.whereby.com").vendors[0], whereby);
    EXPECT_EQ(c.vendor_for_host("agora.io").count, 1u);
    EXPECT_EQ(c.vendors()[c.vendor_for_host("agora.io").vendors[0]], "Agora");
}

}  // namespace
}  // namespace callwall::catalog

namespace callwall::catalog {
namespace {

// A range-for over a temporary result's view() must not dangle: on an rvalue,
// view() returns the matches by value (ASan caught the span version in attrib).
TEST(DomainMatch, RangeForOverTemporaryResultIsSafe) {
    const std::string text =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n[[entry]]\nid = \"e\"\nproduct = \"P\"\n"
        "service = \"S\"\ntransport = \"udp\"\nports = [1]\ndestinations = [\".v.com\"]\nrequired = true\n"
        "source = { file = \"s.txt\", section = \"A\" }\n";
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok());
    std::vector<uint16_t> seen;
    for (uint16_t v : r.catalog->vendor_for_host("a.v.com").view()) seen.push_back(v);
    EXPECT_EQ(seen, std::vector<uint16_t>{0});
    static_assert(std::is_same_v<decltype(std::declval<VendorMatches>().view()), VendorMatches>);
    static_assert(std::is_same_v<decltype(std::declval<const VendorMatches&>().view()), std::span<const uint16_t>>);
    static_assert(std::is_same_v<decltype(std::declval<HostMatches>().view()), HostMatches>);
    HostMatches m;
    r.catalog->match_host("v.com", m);
    std::vector<uint32_t> ids(m.begin(), m.end());
    EXPECT_EQ(ids, std::vector<uint32_t>{0});
    EXPECT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0], 0u);
}

}  // namespace
}  // namespace callwall::catalog
