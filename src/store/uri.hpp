// SQLite URI filenames for read-only opens. Private to src/store.
#pragma once

#include <cstdio>
#include <string>

namespace callwall::store {

/// `path` as a "file:" URI (its %, ? and # escaped), for sqlite3_open_v2
/// with SQLITE_OPEN_URI and a "?mode=ro" or "?immutable=1" query.
inline std::string uri_path(const std::string& path) {
    std::string out = "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char b[4];
            std::snprintf(b, sizeof b, "%%%02X", static_cast<unsigned char>(c));
            out += b;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace callwall::store
