// Port sets: edges (1, 1023, 1024, 65535), adjacent and overlapping ranges,
// both on PortSet and through the loader; SDK version conditions; the
// port-hint entries by port against their definition.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog {
namespace {

using Ranges = std::vector<PortRange>;

Ranges intervals(const PortSet& s) { return Ranges(s.intervals().begin(), s.intervals().end()); }

TEST(PortSet, EmptySetContainsNothing) {
    PortSet s;
    EXPECT_TRUE(s.empty());
    for (uint16_t p : {0, 1, 443, 65535}) EXPECT_FALSE(s.contains(p));
    EXPECT_EQ(s.port_count(), 0u);
}

TEST(PortSet, SinglePortsAtTheEdges) {
    const Ranges in = {{1, 1}, {1023, 1023}, {1024, 1024}, {65535, 65535}};
    PortSet s(in);
    EXPECT_FALSE(s.contains(0));
    EXPECT_TRUE(s.contains(1));
    EXPECT_FALSE(s.contains(2));
    EXPECT_FALSE(s.contains(1022));
    EXPECT_TRUE(s.contains(1023));
    EXPECT_TRUE(s.contains(1024));
    EXPECT_FALSE(s.contains(1025));
    EXPECT_FALSE(s.contains(65534));
    EXPECT_TRUE(s.contains(65535));
    // 1023 and 1024 are adjacent: one interval.
    EXPECT_EQ(intervals(s), (Ranges{{1, 1}, {1023, 1024}, {65535, 65535}}));
    EXPECT_EQ(s.port_count(), 4u);
}

TEST(PortSet, FullRange) {
    const Ranges in = {{1, 65535}};
    PortSet s(in);
    EXPECT_FALSE(s.contains(0));
    EXPECT_TRUE(s.contains(1));
    EXPECT_TRUE(s.contains(65535));
    EXPECT_EQ(s.port_count(), 65535u);
}

TEST(PortSet, HighPortRangeLikeTheSeeds) {
    const Ranges in = {{1024, 65535}};
    PortSet s(in);
    EXPECT_FALSE(s.contains(1));
    EXPECT_FALSE(s.contains(1023));
    EXPECT_TRUE(s.contains(1024));
    EXPECT_TRUE(s.contains(65535));
}

TEST(PortSet, AdjacentRangesMerge) {
    const Ranges in = {{1024, 2047}, {1, 1023}, {2048, 2048}};
    PortSet s(in);
    EXPECT_EQ(intervals(s), (Ranges{{1, 2048}}));
    EXPECT_TRUE(s.contains(1023));
    EXPECT_TRUE(s.contains(1024));
    EXPECT_TRUE(s.contains(2048));
    EXPECT_FALSE(s.contains(2049));
}

TEST(PortSet, AdjacentAtTheTopDoesNotWrap) {
    const Ranges in = {{65535, 65535}, {65534, 65534}, {1, 1}};
    PortSet s(in);
    EXPECT_EQ(intervals(s), (Ranges{{1, 1}, {65534, 65535}}));
}

TEST(PortSet, OverlappingRangesMerge) {
    const Ranges in = {{5866, 6000}, {5668, 5669}, {5900, 6100}, {5669, 5670}};
    PortSet s(in);
    EXPECT_EQ(intervals(s), (Ranges{{5668, 5670}, {5866, 6100}}));
    EXPECT_FALSE(s.contains(5667));
    EXPECT_TRUE(s.contains(5670));
    EXPECT_FALSE(s.contains(5671));
    EXPECT_TRUE(s.contains(6100));
    EXPECT_FALSE(s.contains(6101));
}

TEST(PortSet, ContainedAndDuplicateRanges) {
    const Ranges in = {{10000, 65535}, {30011, 30013}, {10000, 65535}, {3478, 3478}};
    PortSet s(in);
    EXPECT_EQ(intervals(s), (Ranges{{3478, 3478}, {10000, 65535}}));
    EXPECT_EQ(s.port_count(), 1u + 55536u);
}

TEST(PortSet, GapOfOneIsKept) {
    const Ranges in = {{100, 199}, {201, 300}};
    PortSet s(in);
    EXPECT_EQ(intervals(s), (Ranges{{100, 199}, {201, 300}}));
    EXPECT_FALSE(s.contains(200));
    EXPECT_TRUE(s.contains(199));
    EXPECT_TRUE(s.contains(201));
}

TEST(PortSet, ThroughTheLoader) {
    const std::string text =
        "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n[[entry]]\nid = \"e\"\nproduct = \"P\"\n"
        "service = \"S\"\ntransport = \"udp\"\nports = [1, 1023, 1024, 65535, [4000, 4030], [4031, 4040], [4035, 4100]]\n"
        "destinations = [\".x.com\"]\nrequired = true\nsource = { file = \"s.txt\", section = \"A\" }\n";
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok()) << r.diagnostics.front().to_string();
    const Catalog& c = *r.catalog;
    const Entry& e = c.entries()[0];
    // As written (order and split kept) for listings, merged for lookups.
    EXPECT_EQ(e.ports,
              (Ranges{{1, 1}, {1023, 1023}, {1024, 1024}, {65535, 65535}, {4000, 4030}, {4031, 4040}, {4035, 4100}}));
    EXPECT_EQ(intervals(e.port_set), (Ranges{{1, 1}, {1023, 1024}, {4000, 4100}, {65535, 65535}}));
    EXPECT_TRUE(c.entry_has_port(0, 1));
    EXPECT_TRUE(c.entry_has_port(0, 1023));
    EXPECT_TRUE(c.entry_has_port(0, 1024));
    EXPECT_TRUE(c.entry_has_port(0, 65535));
    EXPECT_TRUE(c.entry_has_port(0, 4031));
    EXPECT_TRUE(c.entry_has_port(0, 4100));
    EXPECT_FALSE(c.entry_has_port(0, 0));
    EXPECT_FALSE(c.entry_has_port(0, 2));
    EXPECT_FALSE(c.entry_has_port(0, 1025));
    EXPECT_FALSE(c.entry_has_port(0, 4101));
    EXPECT_FALSE(c.entry_has_port(1, 1));  // no such entry
}

TEST(SdkVersion, BoundsAreNumericNotTextual) {
    SdkVersionCondition later{"2.9.0 or later", "2.9.0", ""};
    SdkVersionCondition before{"before 2.9.0", "", "2.9.0"};
    EXPECT_TRUE(later.applies_to("2.9.0"));
    EXPECT_TRUE(later.applies_to("2.9"));
    EXPECT_TRUE(later.applies_to("2.10.0"));
    EXPECT_TRUE(later.applies_to("3"));
    EXPECT_FALSE(later.applies_to("2.8.99"));
    EXPECT_FALSE(before.applies_to("2.9.0"));
    EXPECT_TRUE(before.applies_to("2.8.99"));
    EXPECT_TRUE(before.applies_to("1.14"));
    EXPECT_FALSE(before.applies_to("2.10"));
    for (std::string_view bad : {"", "v2.9", "2..9", "2.9.", "1.2.3.4.5", "2.x"}) {
        EXPECT_FALSE(later.applies_to(bad)) << bad;
        EXPECT_FALSE(before.applies_to(bad)) << bad;
    }
}

// What port_hint_entries answers by look-up, by its definition: every entry
// of the transport that is the vendor's own, names its destinations and
// lists the port, ascending.
std::vector<uint32_t> hint_entries_listing(const Catalog& c, Transport t, uint16_t port) {
    std::vector<uint32_t> out;
    for (uint32_t i = 0; i < c.entries().size(); ++i) {
        const Entry& e = c.entries()[i];
        if (e.transport == t && !e.third_party && !e.any_destination() && e.port_set.contains(port)) out.push_back(i);
    }
    return out;
}

void expect_hint_index_matches(const Catalog& c) {
    size_t listed = 0;
    for (const Transport t : {Transport::Tcp, Transport::Udp})
        for (uint32_t port = 0; port <= 0xffff; ++port) {
            const auto got = c.port_hint_entries(t, static_cast<uint16_t>(port));
            const std::vector<uint32_t> want = hint_entries_listing(c, t, static_cast<uint16_t>(port));
            listed += want.size();
            ASSERT_EQ(std::vector<uint32_t>(got.begin(), got.end()), want)
                << (t == Transport::Tcp ? "tcp" : "udp") << " port " << port;
        }
    EXPECT_GT(listed, 0u);
}

TEST(PortHintEntries, EveryPortOfTheBundledCatalog) {
    expect_hint_index_matches(callwall::test::full_bundled_catalog());
}

TEST(PortHintEntries, IntervalsAtBothEndsOverlappingAndThirdPartyOrAny) {
    const std::string head = "schema = 1\n[document]\nvendor = \"V\"\nsources = [\"s.txt\"]\n";
    const auto entry = [](const char* id, const char* transport, const char* ports, const char* dest,
                          const char* extra) {
        return std::string("[[entry]]\nid = \"") + id + "\"\nproduct = \"P\"\nservice = \"S\"\ntransport = \"" +
               transport + "\"\nports = " + ports + "\ndestinations = [" + dest + "]\nrequired = true\n" + extra +
               "source = { file = \"s.txt\", section = \"A\" }\n";
    };
    const std::string text = head + entry("a", "udp", "[1, [10, 20], 65535]", "\".x.com\"", "") +
                             entry("b", "udp", "[[15, 30], [65000, 65535]]", "\".y.com\"", "") +
                             entry("c", "tcp", "[[1, 65535]]", "\".z.com\"", "") +
                             entry("d", "udp", "[[12, 13]]", "\".w.com\"", "third_party = true\n") +
                             entry("e", "udp", "[[16, 17]]", "\"ANY\"", "") +
                             entry("f", "udp", "[20]", "\".v.com\"", "");
    LoadResult r = load_string("t.toml", text);
    ASSERT_TRUE(r.ok()) << r.diagnostics.front().to_string();
    expect_hint_index_matches(*r.catalog);
    const auto at = [&](Transport t, uint16_t port) {
        const auto s = r.catalog->port_hint_entries(t, port);
        return std::vector<uint32_t>(s.begin(), s.end());
    };
    EXPECT_EQ(at(Transport::Udp, 20), (std::vector<uint32_t>{0, 1, 5}));
    EXPECT_EQ(at(Transport::Udp, 16), (std::vector<uint32_t>{0, 1}));  // not the third party's, not ANY's
    EXPECT_EQ(at(Transport::Udp, 65535), (std::vector<uint32_t>{0, 1}));
    EXPECT_EQ(at(Transport::Udp, 1), std::vector<uint32_t>{0});
    EXPECT_EQ(at(Transport::Tcp, 0), std::vector<uint32_t>{});  // before every interval
    EXPECT_EQ(at(Transport::Tcp, 65535), std::vector<uint32_t>{2});
}

}  // namespace
}  // namespace callwall::catalog
