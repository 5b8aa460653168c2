// The room kept for a run's last status write. See store/space_reserve.hpp.
#include "store/space_reserve.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace callwall::store {

namespace {

// A file at the reserve's path that a run of callwall left (killed before it
// gave the room back): a regular file of ours, of the reserve's size. Any
// other file of that name is someone else's and is not touched.
bool left_by_callwall(const std::string& p) noexcept {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() &&
           st.st_size == static_cast<off_t>(SpaceReserve::kBytes);
}

}  // namespace

void SpaceReserve::hold(const std::string& db) noexcept {
    if (!path_.empty() || db.empty()) return;
    const std::string p = path_for(db);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST && left_by_callwall(p)) fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;  // no room, or a file of that name that is not ours: the run goes on without
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
