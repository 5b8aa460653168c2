// NameTable: one id per name whatever its case or trailing dot, and names of
// any length.
#include "pipeline/dissect.hpp"

#include <gtest/gtest.h>

#include <string>

namespace callwall::attrib {
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
}  // namespace callwall::attrib

namespace callwall::attrib {
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
}  // namespace callwall::attrib
