// The store's statement wrapper and transaction guard (src/store/statement.hpp):
// failures throw StoreError and leave no statement behind; an unfinished
// transaction rolls back.
#include "store/statement.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace callwall::store {
namespace {

struct MemDb {
    sqlite3* db = nullptr;
    const std::string path = "mem.sqlite";
    MemDb() {
        EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
        EXPECT_EQ(
            sqlite3_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)", nullptr, nullptr, nullptr),
            SQLITE_OK);
    }
    ~MemDb() { EXPECT_EQ(sqlite3_close(db), SQLITE_OK) << "a statement was left unfinalised"; }
    [[nodiscard]] bool statements_open() const { return sqlite3_next_stmt(db, nullptr) != nullptr; }
    int64_t count() const {
        Statement st(db, path, "SELECT count(*) FROM t");
        EXPECT_TRUE(st.row());
        return st.int64(0);
    }
};

TEST(Statement, BindsStepsAndReadsBack) {
    MemDb m;
    Statement ins(m.db, m.path, "INSERT INTO t (k, v) VALUES (?, ?)");
    ins.bind(1, int64_t{7}).bind(2, std::string_view("seven")).run("writing");
    ins.bind(1, 8).bind(2, "").run("writing");  // reused after run() reset it
    Statement sel(m.db, m.path, "SELECT k, v FROM t ORDER BY k");
    ASSERT_TRUE(sel.row());
    EXPECT_EQ(sel.int64(0), 7);
    EXPECT_EQ(sel.text(1), "seven");
    ASSERT_TRUE(sel.row());
    EXPECT_EQ(sel.integer(0), 8);
    EXPECT_EQ(sel.text(1), "");
    EXPECT_FALSE(sel.row());
    EXPECT_TRUE(sel.row()) << "a finished query starts again";
}

TEST(Statement, FailingStepThrowsStoreErrorAndLeaksNothing) {
    MemDb m;
    {
        Statement ins(m.db, m.path, "INSERT INTO t (k, v) VALUES (?, ?)");
        ins.bind(1, 1).bind(2, "a").run("writing");
        try {
            ins.bind(1, 1).bind(2, "b").run("writing a row");  // duplicate key
            FAIL() << "no exception";
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreErrorKind::Other);
            EXPECT_EQ(std::string(e.what()).rfind("mem.sqlite: writing a row: UNIQUE constraint failed", 0), 0u)
                << e.what();
        }
        ins.bind(1, 2).bind(2, "c").run("writing");  // still usable after the failure
    }
    EXPECT_EQ(m.count(), 2);
    EXPECT_FALSE(m.statements_open());
}

TEST(Statement, BadSqlAndBadBindThrowWithoutLeaking) {
    MemDb m;
    EXPECT_THROW(Statement(m.db, m.path, "SELECT nonsense FROM nowhere"), StoreError);
    EXPECT_FALSE(m.statements_open());
    {
        Statement st(m.db, m.path, "SELECT ?");
        EXPECT_THROW(st.bind(2, 1), StoreError) << "parameter 2 of 1";
    }
    EXPECT_FALSE(m.statements_open());
}

TEST(Transaction, RollsBackUnlessCommitted) {
    MemDb m;
    try {
        Transaction txn(m.db, m.path);
        Statement ins(m.db, m.path, "INSERT INTO t (k, v) VALUES (?, ?)");
        ins.bind(1, 1).bind(2, "a").run("writing");
        ins.bind(1, 1).bind(2, "b").run("writing");  // throws: both rows go
        FAIL() << "no exception";
    } catch (const StoreError&) {}
    EXPECT_EQ(m.count(), 0);
    EXPECT_TRUE(sqlite3_get_autocommit(m.db)) << "the transaction is closed";
    {
        Transaction txn(m.db, m.path);
        Statement(m.db, m.path, "INSERT INTO t (k, v) VALUES (3, 'x')").run("writing");
        txn.commit("committing");
    }
    EXPECT_EQ(m.count(), 1);
    EXPECT_FALSE(m.statements_open());
}

TEST(Transaction, BeginIsChecked) {
    MemDb m;
    ASSERT_EQ(sqlite3_exec(m.db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    try {
        Transaction nested(m.db, m.path);
        FAIL() << "BEGIN inside a transaction succeeded";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("beginning a transaction"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(sqlite3_get_autocommit(m.db)) << "the outer transaction is not rolled back by the failed guard";
    ASSERT_EQ(sqlite3_exec(m.db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
}

}  // namespace
}  // namespace callwall::store
