// A file's first bytes. See util/file_head.hpp.
#include "util/file_head.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace callwall::util {

std::string regular_file_head(const std::string& path, size_t max) {
    std::string head;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return head;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return head;
    head.resize(max);
    const ssize_t n = ::read(fd, head.data(), max);
    ::close(fd);
    head.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return head;
}

}  // namespace callwall::util
