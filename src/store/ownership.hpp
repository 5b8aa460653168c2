// Whether an existing file is callwall's database, read without writing
// (Store::open refuses anything else). Private to src/store.
#pragma once
#include <sqlite3.h>

#include <string>
#include <vector>

namespace callwall::store {

// What an existing file holds, read without writing: the two header fields
// and the names of its schema objects ("table run", "index stun_txn", ...).
struct FileContents {
    int user_version = 0;
    int application_id = 0;
    std::vector<std::string> objects;
};

/// One integer a query returns (a PRAGMA's value) into `out`; SQLite's code.
int read_int(sqlite3* db, const char* sql, int& out);

/// Reads the header fields and the schema objects; `rc` is SQLite's code.
FileContents read_contents(sqlite3* db, int& rc);

/// "" when the file may be opened: new/empty (no schema, both header fields
/// 0), marked with callwall's application id, or a version-1 callwall
/// database from before the id. Otherwise why it is not callwall's.
std::string not_ours_reason(const FileContents& c);

}  // namespace callwall::store
