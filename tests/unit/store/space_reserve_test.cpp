// The room kept beside the database for a run's last status write is a file
// of callwall's own: a file of that name that is someone else's is never
// truncated, filled or removed; one a killed run left is taken again.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "store/space_reserve.hpp"

namespace callwall::store {
namespace {

namespace fs = std::filesystem;

struct Dir {
    fs::path path;
    Dir() {
        char t[] = "/tmp/callwall-reserve-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~Dir() {
        std::error_code e;
        fs::remove_all(path, e);
    }
};

std::string content(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SpaceReserve, HeldBesideTheDatabaseAndGivenBack) {
    const Dir d;
    const std::string db = (d.path / "run.sqlite").string();
    SpaceReserve r;
    r.hold(db);
    const fs::path p = SpaceReserve::path_for(db);
    ASSERT_TRUE(fs::exists(p));
    EXPECT_EQ(fs::file_size(p), SpaceReserve::kBytes);
    EXPECT_TRUE(r.release());
    EXPECT_FALSE(fs::exists(p));
    EXPECT_FALSE(r.release());
}

TEST(SpaceReserve, AFileOfThatNameThatIsNotOursIsLeftAsItIs) {
    const Dir d;
    const std::string db = (d.path / "run.sqlite").string();
    const fs::path p = SpaceReserve::path_for(db);
    {
        std::ofstream out(p, std::ios::binary);
        out << "a user's notes";
    }
    {
        SpaceReserve r;
        r.hold(db);
        EXPECT_FALSE(r.release()) << "no room held: the name is taken";
    }
    ASSERT_TRUE(fs::exists(p));
    EXPECT_EQ(content(p), "a user's notes");
    // A symbolic link of that name is not followed.
    fs::remove(p);
    const fs::path target = d.path / "elsewhere";
    {
        std::ofstream out(target, std::ios::binary);
        out << "kept";
    }
    fs::create_symlink(target, p);
    {
        SpaceReserve r;
        r.hold(db);
        EXPECT_FALSE(r.release());
    }
    EXPECT_TRUE(fs::is_symlink(p));
    EXPECT_EQ(content(target), "kept");
}

TEST(SpaceReserve, TheRoomAKilledRunLeftIsTakenAgain) {
    const Dir d;
    const std::string db = (d.path / "run.sqlite").string();
    const fs::path p = SpaceReserve::path_for(db);
    {
        std::ofstream out(p, std::ios::binary);
        out << std::string(SpaceReserve::kBytes, '\0');
    }
    SpaceReserve r;
    r.hold(db);
    EXPECT_TRUE(r.release()) << "a regular file of ours, of the reserve's size: the room a killed run left";
    EXPECT_FALSE(fs::exists(p));
}

}  // namespace
}  // namespace callwall::store
