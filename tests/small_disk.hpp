// A small tmpfs mounted for a test (root only), unmounted at the end: a disk
// that fills up (durability_test, write_behind_test).
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace callwall::test {

class SmallDisk {
public:
    /// Mounts a tmpfs of `size` ("2m") on `dir` (created); mounted() says whether it worked.
    SmallDisk(const std::string& dir, const char* size) : dir_(dir) {
        std::filesystem::create_directories(dir_);
        const std::string opts = std::string("size=") + size + ",mode=0755";
        if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) == 0)
            mounted_ = true;
        else
            error_ = std::strerror(errno);
    }
    ~SmallDisk() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
        std::error_code ec;
        std::filesystem::remove(dir_, ec);
    }
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    [[nodiscard]] bool mounted() const { return mounted_; }
    [[nodiscard]] const std::string& error() const { return error_; }

private:
    std::string dir_;
    bool mounted_ = false;
    std::string error_;
};

}  // namespace callwall::test
