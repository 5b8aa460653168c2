// capture --export RECORD:FORMAT:FILE: a live run's rows of one record (the
// flows, the verdicts, the STUN messages, ...) written through one of the
// writers `callwall export` offers (writers/writers.hpp), as the run writes
// them. Each refresh, and each run's end, appends to FILE the record's rows
// that the run wrote or changed since the last: a live flow's row again
// each time a refresh rewrote it (its counters grew, its outcome changed),
// a verdict each time it changed, never a row again unchanged. Every line
// starts with the row's run_id (a capture that rotates writes several runs).
// Rows a refresh removes (a match attribution no longer makes) are not
// taken back: the newest line of a key is the row as it stands.
//
// The store says which rows each statement wrote (store::Store::watch_rows,
// SQLite's update hook, on the writer's thread); the rows are read back
// through the writer's own connection at the refresh, after its queued
// writes, and formatted by the writer off the packet path.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "events/events.hpp"
#include "store/read_query.hpp"
#include "writers/writers.hpp"

namespace callwall::store {
class Store;
}

namespace callwall::run {

/// The values of a row read by `q`, from column `first` on, as a writer takes them.
void read_values(const store::ReadQuery& q, int first, std::vector<writers::Value>& out);

/// One --export: which record, which writer, which file.
struct ExportSpec {
    std::string record, format, path;
};

/// Parses "RECORD:FORMAT:FILE" (the file is all after the second ':') and
/// checks the record and the format exist. "" or a one-line error.
[[nodiscard]] std::string parse_export_spec(const std::string& text, ExportSpec& out);

/// Every --export of a capture.
class LiveExports {
public:
    /// Opens each file for appending (created 0644); a file's first
    /// failure is in error(). A CSV file that already holds rows of the
    /// same columns (an earlier capture's) gets no second header.
    explicit LiveExports(const std::vector<ExportSpec>& specs);
    ~LiveExports();
    LiveExports(const LiveExports&) = delete;
    LiveExports& operator=(const LiveExports&) = delete;

    /// Watches `store`'s writes from now on (store::Store::watch_rows).
    void watch(store::Store& store);
    /// Appends the rows of run `run_id` written or changed since the last
    /// call. Read errors and write errors are kept (error()), not thrown.
    void write(store::Store& store, int64_t run_id);
    /// "PATH: REASON" of the first failure, or "".
    [[nodiscard]] std::string error() const;

private:
    struct Export {
        ExportSpec spec;
        const writers::Writer* writer = nullptr;
        std::unique_ptr<events::EventLog> file;
        std::string head;  ///< the file's first line when it was opened ("": empty or new)
        std::vector<std::string> columns;  ///< read from the table at the first write
        std::vector<int> key;  ///< the table's key columns (run_id aside) among them; none: the rowid
        std::vector<int64_t> changed;  ///< rowids written since the last write (under mutex_)
        int64_t run_id = 0;  ///< the run `last` belongs to
        /// Per key (its hash), the hash of the line last written for it.
        std::unordered_map<uint64_t, uint64_t> last;
        std::string error;
    };
    void write_one(store::Store& store, Export& e, int64_t run_id);
    std::vector<Export> exports_;
    std::mutex mutex_;  ///< `changed`: the writer's thread adds, write() takes
};

}  // namespace callwall::run
