// CheckpointAhead (store/checkpoint_ahead.hpp): the rows committed before it
// started reach the database file itself while the caller goes on writing in
// an open transaction and a reader holds a snapshot; it declines what is not
// a file in WAL mode.
#include "store/checkpoint_ahead.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "golden/run_util.hpp"

namespace callwall::store {
namespace {

using test::TempDb;

struct Conn {
    sqlite3* db = nullptr;
    explicit Conn(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
        EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, flags, nullptr), SQLITE_OK) << path;
    }
    ~Conn() { sqlite3_close_v2(db); }
    void exec(const std::string& sql) const {
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
            << sql << ": " << sqlite3_errmsg(db);
    }
    [[nodiscard]] int count(const char* table) const {
        sqlite3_stmt* st = nullptr;
        int n = -1;
        if (sqlite3_prepare_v2(db, (std::string("SELECT count(*) FROM ") + table).c_str(), -1, &st, nullptr) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return n;
    }
};

// The rows the database file holds on its own, without its log: a copy of
// the file alone, opened as a database of its own.
int rows_in_file_alone(const std::string& path, const char* table) {
    const std::string copy = path + ".alone";
    // SQLite makes the copy a log and an index of its own: none before, none left.
    const auto remove_copy = [&] {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
    };
    remove_copy();
    std::filesystem::copy_file(path, copy);
    int n = -1;
    {
        Conn c(copy, SQLITE_OPEN_READONLY);
        n = c.count(table);
    }
    remove_copy();
    return n;
}

TEST(CheckpointAhead, CopiesTheCommittedRowsIntoTheFileWhileTheCallerWrites) {
    TempDb tmp;
    Conn writer(tmp.path());
    writer.exec("PRAGMA journal_mode=WAL");
    writer.exec("PRAGMA wal_autocheckpoint=0");  // only the test's checkpoint copies
    writer.exec("CREATE TABLE t (x INTEGER, pad TEXT)");
    writer.exec("BEGIN");
    for (int i = 0; i < 5000; ++i)
        writer.exec("INSERT INTO t VALUES (" + std::to_string(i) + ", '" + std::string(100, 'p') + "')");
    writer.exec("COMMIT");
    EXPECT_EQ(rows_in_file_alone(tmp.path(), "t"), -1) << "before: the table is in the log only";
    // A reader's snapshot from now, as FlowPagesAhead holds one, and the
    // caller writing on in an open transaction meanwhile.
    Conn reader(tmp.path(), SQLITE_OPEN_READONLY);
    reader.exec("BEGIN");
    EXPECT_EQ(reader.count("t"), 5000);
    writer.exec("BEGIN");
    writer.exec("CREATE INDEX t_x ON t(x)");
    auto c = CheckpointAhead::start(writer.db, tmp.path());
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->wait()) << "every frame before the reader's snapshot copied";
    writer.exec("INSERT INTO t VALUES (-1, '')");
    writer.exec("COMMIT");
    reader.exec("COMMIT");
    EXPECT_EQ(rows_in_file_alone(tmp.path(), "t"), 5000) << "the committed rows, not the later ones";
    EXPECT_EQ(writer.count("t"), 5001);
}

TEST(CheckpointAhead, DeclinesWhatIsNotAFileInWalMode) {
    TempDb tmp;
    Conn rollback(tmp.path());
    rollback.exec("PRAGMA journal_mode=DELETE");
    rollback.exec("CREATE TABLE t (x)");
    EXPECT_EQ(CheckpointAhead::start(rollback.db, tmp.path()), nullptr);
    Conn memory(":memory:");
    EXPECT_EQ(CheckpointAhead::start(memory.db, ":memory:"), nullptr);
}

}  // namespace
}  // namespace callwall::store
