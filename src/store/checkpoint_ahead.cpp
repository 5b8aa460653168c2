// A passive checkpoint beside attribution. See store/checkpoint_ahead.hpp.
#include "store/checkpoint_ahead.hpp"

#include <system_error>

#include "store/flow_pages.hpp"
#include "util/thread_without_signals.hpp"

namespace callwall::store {

std::unique_ptr<CheckpointAhead> CheckpointAhead::start(sqlite3* db, const std::string& path) {
    std::string file = wal_file_of(db, path);
    if (file.empty()) return nullptr;
    return start_file(std::move(file));
}

std::unique_ptr<CheckpointAhead> CheckpointAhead::start_file(std::string file) {
    std::unique_ptr<CheckpointAhead> c(new CheckpointAhead(std::move(file)));
    try {
        c->thread_ = util::thread_without_signals("callwall-ckpt", [p = c.get()] { p->run(); });
    } catch (const std::system_error&) {
        return nullptr;
    }
    return c;
}

CheckpointAhead::~CheckpointAhead() { wait(); }

bool CheckpointAhead::wait() {
    if (thread_.joinable()) thread_.join();
    return complete_;
}

void CheckpointAhead::run() noexcept {
    sqlite3* db = nullptr;
    // SQLITE_OPEN_NOMUTEX: this thread alone uses the connection. Closing it
    // is not the last close (the caller's connection is open), so it leaves
    // the log in place. A connection finds the log only when it first reads
    // the database: a checkpoint asked straight after the open copies nothing.
    if (sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK &&
        sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) == SQLITE_OK) {
        int log = 0, copied = 0;
        complete_ = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK &&
                    log >= 0 && copied == log;
    }
    sqlite3_close_v2(db);
    done_.store(true, std::memory_order_release);
}

}  // namespace callwall::store
