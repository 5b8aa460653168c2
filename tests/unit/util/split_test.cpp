// util::split: the parts of a joined column, empty ones dropped.
#include "util/split.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callwall::util {
namespace {

using Parts = std::vector<std::string>;

TEST(Split, PartsBetweenSeparators) {
    EXPECT_EQ(split("443,3478,50000-60000", ','), (Parts{"443", "3478", "50000-60000"}));
    EXPECT_EQ(split("one", ','), (Parts{"one"}));
}

TEST(Split, EmptyPartsDropped) {
    EXPECT_EQ(split("", ','), Parts{});
    EXPECT_EQ(split(",", ','), Parts{});
    EXPECT_EQ(split(",a,,b,", ','), (Parts{"a", "b"}));
}

TEST(Split, OnlyTheGivenSeparator) { EXPECT_EQ(split("a b;c", ';'), (Parts{"a b", "c"})); }

}  // namespace
}  // namespace callwall::util
