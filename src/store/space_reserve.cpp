// The room kept for a run's last status write. See store/space_reserve.hpp.
#include "store/space_reserve.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace callwall::store {

void SpaceReserve::hold(const std::string& db) noexcept {
    if (!path_.empty() || db.empty()) return;
    const std::string p = path_for(db);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    // posix_fallocate takes the blocks now (tmpfs and every local file system
    // this runs on support it); a disk without room leaves no file behind.
    const bool ok = ::posix_fallocate(fd, 0, static_cast<off_t>(kBytes)) == 0;
    ::close(fd);
    if (!ok) {
        ::unlink(p.c_str());
        return;
    }
    path_ = p;
}

bool SpaceReserve::release() noexcept {
    if (path_.empty()) return false;
    const bool removed = ::unlink(path_.c_str()) == 0;
    path_.clear();
    return removed;
}

}  // namespace callwall::store
