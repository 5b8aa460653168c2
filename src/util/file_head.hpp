// The first bytes of a file, read to tell what it is before writing to it
// (an SQLite database, an output callwall wrote earlier).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace callwall::util {

/// Up to `max` bytes from the start of `path` when it is a regular file;
/// "" when it is not one (a named pipe is never read: that would take the
/// data meant for its reader), is missing, or cannot be read.
[[nodiscard]] std::string regular_file_head(const std::string& path, size_t max);

/// The 16 bytes an SQLite database file starts with ("SQLite format 3" and NUL).
inline constexpr std::string_view kSqliteMagic{"SQLite format 3", 16};
/// Whether a file's first bytes (regular_file_head) are an SQLite database's.
[[nodiscard]] inline bool is_sqlite_head(std::string_view head) noexcept {
    return head.substr(0, kSqliteMagic.size()) == kSqliteMagic;
}

}  // namespace callwall::util
