// The first bytes of a file, read to tell what it is before writing to it
// (an SQLite database, an output callwall wrote earlier).
#pragma once

#include <cstddef>
#include <string>

namespace callwall::util {

/// Up to `max` bytes from the start of `path` when it is a regular file;
/// "" when it is not one (a named pipe is never read: that would take the
/// data meant for its reader), is missing, or cannot be read.
[[nodiscard]] std::string regular_file_head(const std::string& path, size_t max);

}  // namespace callwall::util
