// NameTable: one id per name whatever its case or trailing dot, and names of
// any length.
#include "pipeline/dissect.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace callwall::facts {
namespace {

TEST(NameTable, OneIdPerNameWhateverItsCaseAndTrailingDot) {
    NameTable t;
    const uint32_t a = t.intern("Media.Example.COM.");
    ASSERT_NE(a, 0u);
    EXPECT_EQ(t.get(a), "media.example.com");
    EXPECT_EQ(t.intern("media.example.com"), a);
    EXPECT_EQ(t.intern("MEDIA.EXAMPLE.COM..."), a);
    const uint32_t b = t.intern("turn.example.com");
    EXPECT_NE(b, a);
    EXPECT_EQ(t.get(b), "turn.example.com");
    EXPECT_EQ(t.intern(""), 0u);
    EXPECT_EQ(t.intern("..."), 0u);
    EXPECT_EQ(t.get(0), "");
    EXPECT_EQ(t.get(12345), "");
}

// An SNI may be longer than any DNS name (the lowercasing buffer on the
// stack holds 256 bytes): longer names are kept whole and found again.
TEST(NameTable, NamesLongerThanTheStackBufferKeptWhole) {
    NameTable t;
    for (size_t len : {255u, 256u, 257u, 1000u, 70000u}) {
        std::string upper(len, 'A');
        upper[len / 2] = '.';
        std::string lower(len, 'a');
        lower[len / 2] = '.';
        const uint32_t id = t.intern(upper);
        ASSERT_NE(id, 0u) << len;
        EXPECT_EQ(t.get(id), lower) << len;
        EXPECT_EQ(t.intern(lower), id) << len;
    }
}

}  // namespace
}  // namespace callwall::facts

namespace callwall::facts {
namespace {

// A live refresh writes only the flows that changed; a TURN peer learnt later
// renames flows without a packet of theirs, so the refresh asks which peers
// are new: each once, and "too many to list" past the bound.
TEST(Naming, NewTurnPeersAreListedOnceAndOverflowSaysSo) {
    Naming n;
    const uint32_t turn = n.intern("turn.example.com");
    std::vector<decode::IpAddr> out;
    EXPECT_TRUE(n.take_new_peers(out));
    EXPECT_TRUE(out.empty());
    n.add_turn_peer(decode::IpAddr::v4(0xC6336401), turn);
    n.add_turn_peer(decode::IpAddr::v4(0xC6336401), turn);  // known: not new again
    n.add_turn_peer(decode::IpAddr::v4(0xC6336402), turn);
    EXPECT_TRUE(n.take_new_peers(out));
    EXPECT_EQ(out, (std::vector<decode::IpAddr>{decode::IpAddr::v4(0xC6336401), decode::IpAddr::v4(0xC6336402)}));
    EXPECT_TRUE(n.take_new_peers(out));
    EXPECT_TRUE(out.empty()) << "taken peers are not listed twice";
    for (uint32_t i = 0; i <= Naming::kMaxNewPeers; ++i) n.add_turn_peer(decode::IpAddr::v4(0x0A000000u + i), turn);
    EXPECT_FALSE(n.take_new_peers(out)) << "past kMaxNewPeers the refresh must rewrite every flow";
    EXPECT_TRUE(n.take_new_peers(out));
    EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace callwall::facts

namespace callwall::facts {
namespace {

// An address's names come back in the order first seen, with the time filter,
// whether they sit in the map's node (the first three) or in an overflow
// block; each address keeps its own block; the ninth name is counted as
// dropped.
TEST(NameMap, NamesInFirstSeenOrderAcrossTheInlineAndOverflowParts) {
    NameMap m;
    const auto client = decode::IpAddr::v4(0x0A000001);
    const auto a = decode::IpAddr::v4(0xC6336401);
    const auto b = decode::IpAddr::v4(0xC6336402);
    for (uint32_t i = 1; i <= NameMap::kNamesPerAddress; ++i) {
        m.add(client, a, 100 + i, 1000 * i);  // a: names 101..108 at 1000..8000 µs
        m.add(client, b, 200 + i, 10 * i);  // b interleaved: its block is another one
        m.add(client, a, 100 + i, 1);  // seen again, earlier: keeps the first time
    }
    EXPECT_EQ(m.dropped(), 0u);
    uint32_t out[NameMap::kNamesPerAddress + 2] = {};
    ASSERT_EQ(m.lookup(client, a, 8000, out, std::size(out)), NameMap::kNamesPerAddress);
    for (uint32_t i = 0; i < NameMap::kNamesPerAddress; ++i) EXPECT_EQ(out[i], 101 + i) << i;
    ASSERT_EQ(m.lookup(client, b, 80, out, std::size(out)), NameMap::kNamesPerAddress);
    for (uint32_t i = 0; i < NameMap::kNamesPerAddress; ++i) EXPECT_EQ(out[i], 201 + i) << i;
    // Only the names seen at or before the time.
    ASSERT_EQ(m.lookup(client, a, 5500, out, std::size(out)), 5u);
    EXPECT_EQ(out[4], 105u);
    EXPECT_EQ(m.lookup(client, a, 999, out, std::size(out)), 0u);
    // The caller's room bounds what is written.
    ASSERT_EQ(m.lookup(client, a, 8000, out, 4), 4u);
    EXPECT_EQ(out[3], 104u);
    // Another client did not resolve the address.
    EXPECT_EQ(m.lookup(decode::IpAddr::v4(0x0A000002), a, 8000, out, std::size(out)), 0u);
    // A ninth name is dropped and counted; the eight stay.
    m.add(client, a, 999, 9000);
    EXPECT_EQ(m.dropped(), 1u);
    EXPECT_EQ(m.lookup(client, a, 9000, out, std::size(out)), NameMap::kNamesPerAddress);
    m.add(client, a, 0, 9000);  // no name: nothing
    EXPECT_EQ(m.dropped(), 1u);
}

TEST(NameMap, GrowsPastItsFirstSlotsAndDropsBeyondItsBound) {
    NameMap m;
    const auto client = decode::IpAddr::v4(0x0A000001);
    auto v6 = [](uint32_t i) {
        decode::IpAddr a;
        a.family = 6;
        a.bytes[0] = 0x20;
        a.bytes[1] = 0x01;
        std::memcpy(a.bytes.data() + 12, &i, 4);
        return a;
    };
    // Every address added is found again, with its name, through every growth
    // of the slots and across entry blocks; an address never added is not.
    for (uint32_t i = 0; i < NameMap::kMaxEntries; ++i) m.add(client, v6(i), 1 + i % 1000, i);
    EXPECT_EQ(m.size(), NameMap::kMaxEntries);
    EXPECT_EQ(m.dropped(), 0u);
    uint32_t out[NameMap::kNamesPerAddress] = {};
    for (uint32_t i = 0; i < NameMap::kMaxEntries; i += 4099) {
        ASSERT_EQ(m.lookup(client, v6(i), i, out, std::size(out)), 1u) << i;
        EXPECT_EQ(out[0], 1 + i % 1000) << i;
    }
    EXPECT_EQ(m.lookup(client, v6(NameMap::kMaxEntries), INT64_MAX, out, std::size(out)), 0u);
    EXPECT_EQ(m.lookup(decode::IpAddr::v4(0x0A000002), v6(7), INT64_MAX, out, std::size(out)), 0u);
    // Full: a new address is dropped and counted; a known one still takes a name.
    m.add(client, v6(NameMap::kMaxEntries), 5, 0);
    EXPECT_EQ(m.dropped(), 1u);
    EXPECT_EQ(m.size(), NameMap::kMaxEntries);
    EXPECT_EQ(m.lookup(client, v6(NameMap::kMaxEntries), INT64_MAX, out, std::size(out)), 0u);
    m.add(client, v6(3), 77, 10);
    ASSERT_EQ(m.lookup(client, v6(3), INT64_MAX, out, std::size(out)), 2u);
    EXPECT_EQ(out[1], 77u);
    EXPECT_EQ(m.dropped(), 1u);
}

}  // namespace
}  // namespace callwall::facts
