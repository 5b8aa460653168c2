// Private to the store module: copying a database's write-ahead log back into
// the database on a thread of its own while attribution runs.
//
// A run's rows reach the database file twice: appended to the WAL as they
// are committed, then copied into the database when the last connection
// closes (the checkpoint), with both files fsynced. On a busy run that copy
// came after the last verdict, on the one thread left.
// Started once the packets' rows are committed (before the indexes), a
// passive checkpoint on a connection of its own copies those rows while the
// indexes are built and the flows attributed; the close then copies only
// what was written after it began. A passive checkpoint takes no lock a
// writer or reader waits for and stops at the oldest reader's snapshot
// (FlowPagesAhead's, taken at the same point), so nothing the attributing
// thread does waits for it or sees it.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace callwall::store {

class CheckpointAhead {
public:
    /// Starts the checkpoint of the database `db` is connected to (`path`:
    /// as the user named it, for errors). nullptr when there is nothing to
    /// gain (not a file in WAL mode) or the thread cannot be started.
    /// Failures of the checkpoint itself are ignored: the close checkpoints
    /// whatever is left, as it always did. Throws StoreError when the
    /// journal mode cannot be read.
    static std::unique_ptr<CheckpointAhead> start(sqlite3* db, const std::string& path);
    /// The same for a database file known to be in WAL mode (its name as
    /// SQLite gives it): nothing is read on the caller's connection, so it
    /// may be called from its WAL hook, right after a commit.
    static std::unique_ptr<CheckpointAhead> start_file(std::string file);
    ~CheckpointAhead();  ///< waits for the checkpoint
    CheckpointAhead(const CheckpointAhead&) = delete;
    CheckpointAhead& operator=(const CheckpointAhead&) = delete;

    /// Waits for the checkpoint; true if it copied every frame of the log it
    /// could see (for the tests).
    bool wait();
    /// The checkpoint has ended (wait() would not block).
    [[nodiscard]] bool done() const noexcept { return done_.load(std::memory_order_acquire); }

private:
    explicit CheckpointAhead(std::string file) : file_(std::move(file)) {}
    void run() noexcept;
    const std::string file_;
    bool complete_ = false;  ///< written by the thread, read after join
    std::atomic<bool> done_{false};
    std::thread thread_;
};

}  // namespace callwall::store
