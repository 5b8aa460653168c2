// Opening a callwall database to read it and leave nothing behind (`report`,
// and `merge` for its sources). Private to src/store.
//
// SQLite's mode=ro still creates DB-wal and DB-shm beside a WAL database and
// leaves them (a read-only connection cannot remove them), owned by whoever
// read it, where they block the owner's next run. So:
//  - No DB-wal: every commit is in the file itself (the last writer closed
//    cleanly). It is read as immutable=1: no lock, no -wal, no -shm. A writer
//    that starts meanwhile shows in the file (size, mtime, inode) or a DB-wal
//    appearing: compare file_state() before and after, and read again through
//    SQLite's locks if it changed.
//  - DB-wal exists (a writer is running, or was killed): mode=ro, which uses
//    the -wal and -shm already there. If even they cannot be opened (a
//    read-only directory, files of another user: first_read_ok() is false),
//    immutable=1 reads what the file holds without the commits still in the
//    -wal, and the reader says so.
#pragma once

#include <sqlite3.h>
#include <sys/stat.h>

#include <string>

namespace callwall::store {

enum class ReadMode { ReadOnly, Immutable };

/// What changes when a writer touches the database between two looks.
struct FileState {
    bool exists = false, wal = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    struct timespec mtime {};
    bool operator==(const FileState& o) const {
        return exists == o.exists && wal == o.wal && dev == o.dev && ino == o.ino && size == o.size &&
               mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
    }
};

FileState file_state(const std::string& path);

/// Opens `path` read-only in `mode` (a 5 s busy timeout); on failure returns
/// null with SQLite's message in *why.
sqlite3* open_reading(const std::string& path, ReadMode mode, std::string* why);

/// True when a first read works; false when SQLite cannot open or initialise
/// the -wal/-shm files (a read-only directory, another user's files).
bool first_read_ok(sqlite3* db);

}  // namespace callwall::store
