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
