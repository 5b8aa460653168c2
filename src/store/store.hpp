// The SQLite database: schema, versioning, batched writes.
//
// One file, WAL mode, `PRAGMA user_version` = kSchemaVersion. Rows are written
// with prepared statements inside batched transactions (committed every
// kBatchRows rows and whenever flush() is called), so a reader in another
// process always sees a consistent database and a crash loses at most the
// open batch. A run row is inserted with status 'running' first and finished
// with 'completed', 'interrupted' or 'failed'; a run still 'running' with no
// live process was killed. The run row records its writer (pid, process start
// time, boot id) so a reader can tell "still running" from "killed".
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "facts/flow_facts.hpp"
#include "facts/run_totals.hpp"
#include "flow/flow_table.hpp"
#include "records/messages.hpp"
#include "records/run.hpp"
#include "store/space_reserve.hpp"
#include "util/idle_work.hpp"

namespace callwall::facts {
class FactSink;
}  // namespace callwall::facts

struct sqlite3;

namespace callwall::store {

/// 2: run.writer_pid, writer_start, writer_boot_id (which process writes the run).
/// 5: dns_name, a run's DNS questions counted per name (dns_query's rows, one
/// per question, only with --detail since).
inline constexpr int kSchemaVersion = 6;
/// `PRAGMA application_id` of every callwall database: "CWAL" in ASCII
/// (0x4357414C = 1129791820). `file(1)` and the SQLite shell show it; Store::open
/// refuses any non-empty file without it (except a version-1 callwall
/// database from before the id, recognised by its exact set of tables, which
/// gets the id on its next open).
inline constexpr int kApplicationId = 0x4357414C;

enum class StoreErrorKind { CannotOpen, NotADatabase, NewerSchema, NotOurs, Full, ReadOnly, Other };

class StoreError : public std::runtime_error {
public:
    StoreError(StoreErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    [[nodiscard]] StoreErrorKind kind() const noexcept { return kind_; }

private:
    StoreErrorKind kind_;
};

struct RunInfo {
    std::string kind;  ///< "analyze" or "capture"
    std::string source;  ///< files or interfaces, comma separated (for reading; see `sources`)
    std::string command_line;
    std::string catalog_digest;
    double started_at = 0;  ///< wall clock, seconds since the epoch
    std::vector<std::string> sources;  ///< each file or interface in order: run_source rows (a path may hold a comma)
};

/// The run row's totals (facts/run_totals.hpp).
using RunTotals = facts::RunTotals;

/// The process writing a run, as recorded in its row: enough to tell later
/// whether that very process is still alive (a pid alone may be reused).
struct WriterId {
    int64_t pid = 0;
    int64_t start_ticks = 0;  ///< field 22 of /proc/PID/stat: clock ticks after boot
    std::string boot_id;  ///< /proc/sys/kernel/random/boot_id
};
/// This process.
[[nodiscard]] WriterId current_writer();

enum class WriterState {
    Alive,  ///< the same process (pid and start time) runs now
    Gone,  ///< no such process on this boot: it ended without closing the run
    OtherBoot,  ///< written under another boot id: before a reboot, or on another machine
    Unknown,  ///< not recorded (a run from before schema version 2)
};
[[nodiscard]] WriterState writer_state(const WriterId& w);

/// Note recorded in run.notes when a full disk stopped the run.
inline constexpr std::string_view kDiskFullNote = "stopped: the disk is full";

enum class RunStatus { Running, Completed, Interrupted, Failed };
[[nodiscard]] std::string_view to_string(RunStatus s) noexcept;

/// The run's record as its row starts: `info`, this callwall's version,
/// status 'running', its writer `writer` (the totals zero, no end). Its text
/// views `info` and `writer`.
[[nodiscard]] records::Run run_record(const RunInfo& info, const WriterId& writer);
/// The record's columns the run's update writes (records::kRunTotalsColumns)
/// from the run's totals, its status (to_string(RunStatus)) and, when
/// positive, when it ended; no capture times for a run without packets.
/// Its text views `t` and `status`.
void set_run_totals(records::Run& run, const RunTotals& t, std::string_view status, double ended_at);

/// A flow's application facts as its row is written (facts/flow_facts.hpp).
using FlowAppInfo = facts::FlowAppInfo;

class AttributionIo;
class CheckpointAhead;
class DnsNames;
class RowTap;
class WriteBehind;

class Store {
public:
    /// Opens or creates the database. Throws StoreError naming the path.
    static std::unique_ptr<Store> open(const std::string& path);
    /// A Store without a database: every row it is given (add_*,
    /// mark_stun_answered) is appended to `out`, encoded as write-behind
    /// encodes it, for put_encoded() to write later (a decoding worker of a
    /// sharded run: run/shards/shards.hpp). Nothing else may be called on it.
    static std::unique_ptr<Store> recorder(std::vector<char>& out);
    /// One row as a recorder encoded it (`n` bytes: encoded_row_size), written
    /// as the call that recorded it would have been. May throw StoreError.
    void put_encoded(const char* row, size_t n);
    /// An encoded row's size, and where its flow id is (an 8-byte integer;
    /// null: the row has none, or an ICMP error that matched no flow).
    /// `avail` bytes are readable at `row`; returns 0 when the row is cut.
    static size_t encoded_row_size(const char* row, size_t avail, char** flow_id = nullptr) noexcept;
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    /// Inserts the run's row and its sources in one transaction; also keeps
    /// room on the disk for the run's last status write
    /// (store/space_reserve.hpp). When it throws, no run was inserted.
    int64_t begin_run(const RunInfo& info);
    /// Gives that room back, so that the row of a run the disk filled under
    /// can still say so; true when there was any.
    bool release_space_reserve() noexcept { return reserve_.release(); }
    /// A flow's row, written for the first time: built (facts::record_of)
    /// from the flow and its application summary, or as built already.
    void add_flow(int64_t run_id, const flow::Flow& f, const FlowAppInfo& app);
    void add_flow(int64_t run_id, const facts::FlowRecord& row);
    /// A flow's row that a live snapshot may have written before: replaces it.
    void replace_flow(int64_t run_id, const flow::Flow& f, const FlowAppInfo& app);
    void replace_flow(int64_t run_id, const facts::FlowRecord& row);
    /// A decoder's record (records/messages.hpp), written to its table.
#define CALLWALL_STORE_ADD(Record, what) void add(int64_t run_id, const records::Record& r);
    CALLWALL_MESSAGE_RECORDS(CALLWALL_STORE_ADD)
#undef CALLWALL_STORE_ADD
    /// A DNS question: its dns_query row, and counted in its name's dns_name row.
    void add_dns_query(int64_t run_id, const records::DnsQuery& row);
    /// A DNS question counted in its name's dns_name row alone (no
    /// dns_query row: a run without --detail). The counts reach the table
    /// at each commit.
    void add_dns_question(int64_t run_id, const records::DnsQuery& row);
    /// Shows `tap` (not owned; null: none) every flow row and DNS question
    /// as it is handed over (store/row_tap.hpp), on the thread that hands it.
    void tap_rows(RowTap* tap) noexcept { tap_ = tap; }
    /// Marks the request with this transaction id on the flow as answered.
    void mark_stun_answered(int64_t run_id, uint64_t flow_id, std::string_view transaction_id);
    /// Updates the run row with totals so far (periodic, for live readers).
    void update_run(int64_t run_id, const RunTotals& totals, RunStatus status, double ended_at);
    /// Commits the open batch (with write-behind on: once the rows written
    /// before it are, on the writer thread).
    void flush();

    /// Write-behind: when on, add_*, mark_stun_answered, update_run and flush
    /// return at once and a thread of the Store's applies them in order, in
    /// the same batches, so the database ends up the same; every call that
    /// reads or needs the connection (begin_run, attribution, reports, prune)
    /// waits for it first. A write error surfaces as the StoreError thrown by
    /// a later call. Off by default; turning it off waits for the writer.
    void write_behind(bool on);
    /// Batches the decoding thread waited to queue (the writer was behind).
    [[nodiscard]] size_t write_behind_waits() const noexcept;

    /// A live capture's patience with other writers of the file (sqlite3
    /// holding a write transaction, a merge or an analyze into it): instead of
    /// failing after 5 s with "database is locked", the connection waits for
    /// their lock, retrying with a backoff of up to 100 ms, for at most
    /// kPatientBusyLimitS at a stretch, and counts how long it waited. With
    /// write-behind the waiting is the writer thread's: the decoding thread
    /// queues meanwhile (bounded; behind it the reading thread's buffer).
    void set_patient(bool on);
    static constexpr double kPatientBusyLimitS = 3600;
    struct BusyWaits {
        uint64_t waits = 0;  ///< times a statement found the file locked and waited
        double waited_s = 0, longest_s = 0;
    };
    /// What the waits came to so far (from any thread).
    [[nodiscard]] BusyWaits busy_waits() const noexcept;
    [[nodiscard]] bool write_behind() const noexcept { return wb_ != nullptr; }
    /// With write-behind, the writer's queue as work another thread may do
    /// in its idle time (capture::ReadAhead::lend_idle_time); else null.
    [[nodiscard]] util::IdleWork* idle_work() noexcept;
    /// Waits for the checkpoint started while packets were read, if one
    /// runs: attribution's own checkpoint (and the close's) come after it.
    void finish_run_checkpoint() noexcept;
    /// Runs `job` with this Store on the writer thread once the rows queued
    /// before it are applied, and returns at once (inline when write-behind
    /// is off). The job may read and write through the store (attribution);
    /// an exception it throws is a write error (see write_behind).
    void defer(std::function<void(Store&)> job);
    /// Waits until the writer thread has applied every queued row and job
    /// (rethrows its error), then writes the rows still waiting in a group:
    /// every row given is then in the open batch, for the calling thread to
    /// read or commit.
    void sync_writes();

    /// Commits, then builds the indexes readers query by if this Store
    /// created the database and has not built them yet (writes into a new
    /// database go faster without them). Attribution calls it before its
    /// first query; the destructor calls it too.
    void create_reader_indexes();

    /// From the rows queued before this call on, calls `fn(table, rowid)`
    /// for every row an INSERT or UPDATE writes into the database (on the
    /// thread that steps the statements: the writer thread with
    /// write-behind); an empty `fn` stops it. A live export of what a run
    /// writes (run/live_export.hpp) learns from it which rows to read.
    void watch_rows(std::function<void(std::string_view table, int64_t rowid)> fn);

    /// Begins a batch transaction if none is open; counts a row toward the batch.
    void note_row();
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    static constexpr int kBatchRows = 20000;

private:
    friend class AttributionIo;  // attribution's reads and writes (src/store/attribution_io.hpp)
    friend class ReadDb;  // the report's reads through this connection (src/store/read_query.hpp)
    friend struct WholeRunsAccess;  // pruning, merging, allow lists (src/store/whole_runs.hpp)
    Store();
    void exec(const char* sql);
    [[nodiscard]] bool has_column(const char* table, std::string_view column);
    [[noreturn]] void fail(int rc, std::string_view what) const;
    /// Creates or upgrades the schema from `from_version` (0: a new database,
    /// whose reader indexes wait for create_reader_indexes()) and sets the
    /// application id and user_version.
    void migrate(int from_version);

    /// sync_writes(), then commits the open batch here.
    void commit_now();
    /// Commits the open batch on the calling thread (the one that owns the connection).
    void commit_batch();

    /// The rows of the writer's prepared statements, one value per placeholder:
    /// one per decoder record (named as the record), and these.
#define CALLWALL_STORE_SLOT(Record, what) Record,
    enum class Slot : uint8_t {
        CALLWALL_MESSAGE_RECORDS(CALLWALL_STORE_SLOT) UpdateRun,
        Flow,
        DnsQuery,  ///< a dns_query row, and the question counted (DnsNames)
        DnsQuestion,  ///< the question counted alone: no statement of its own
        StunAnswered,
        FlowAgain,  ///< a flow's row over one a snapshot wrote (replace_flow)
        Commit,
        Job
    };
#undef CALLWALL_STORE_SLOT
    /// Rows are encoded (a recorder's, or queued for the writer thread)
    /// rather than written on this thread.
    [[nodiscard]] bool encoding() const noexcept;
    template <class... Values>
    void put(Slot slot, const Values&... values);
    /// A record's values after run_id, as put() takes them.
    template <class Record>
    void put_record(Slot slot, int64_t run_id, const Record& r);
    void put_dns(Slot slot, int64_t run_id, const records::DnsQuery& r);
    /// Adds the questions counted since the last commit to the dns_name
    /// rows (inside the open transaction, just before it commits).
    void write_dns_names();
    void write_flow(Slot slot, int64_t run_id, const facts::FlowRecord& row);
    size_t apply_rows(const std::vector<char>& batch, size_t from, size_t max_rows);
    /// Rows written a group at a time (store/row_group.hpp).
    struct RowGroup;
    /// Binds and steps a full group's rows as one INSERT.
    void write_group(RowGroup& g);
    /// Writes the rows waiting in groups, each with its own statement.
    void flush_groups();
    /// Whether a row of `slot` may read or write what waits in a group (it
    /// writes the flow table otherwise, or runs a job): the groups go first.
    [[nodiscard]] static bool touches_groups(Slot slot) noexcept {
        return slot == Slot::FlowAgain || slot == Slot::Job;
    }
    /// Binds and steps one encoded row; returns the bytes it took.
    size_t apply_row(const char* p);

    /// The connection and the writer's prepared statements (store.cpp).
    struct Conn;
    std::unique_ptr<Conn> c_;
    std::unique_ptr<WriteBehind> wb_;  ///< the writer thread, when write-behind is on
    static int on_busy(void* self, int attempts) noexcept;
    std::atomic<uint64_t> busy_waits_{0}, busy_waited_us_{0}, busy_longest_us_{0};
    int64_t busy_started_us_ = 0;  ///< the current wait's start (the connection's thread)
    // With write-behind, the WAL is copied back into the database while
    // packets are read, on a thread of its own (a passive checkpoint,
    // store/checkpoint_ahead.hpp) each time it has grown by
    // kRunCheckpointFrames pages since the last one began: the copying and
    // syncing that came after the last packet (the checkpoint beside
    // attribution, the close's) shrink to the run's last pages, and the log
    // can start over (when a checkpoint has caught up with the writer)
    // instead of growing to 64 MiB. It replaces
    // SQLite's own checkpoint on commit (wal_autocheckpoint), which would
    // stop the writer thread to copy.
    static constexpr int kRunCheckpointFrames = 1024;  ///< 4 MiB of 4 KiB pages
    static constexpr int kWalAutocheckpointPages = 16384;  ///< without write-behind (store.cpp says why)
    std::unique_ptr<CheckpointAhead> run_checkpoint_;
    std::string wal_file_;  ///< the database file, when in WAL mode (for run_checkpoint_)
    int run_checkpoint_frames_ = 0;  ///< the log's frames when the last one began
    static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames) noexcept;
    /// watch_rows(): the function, and SQLite's update hook that calls it.
    std::function<void(std::string_view, int64_t)> row_watch_;
    static void on_row(void* self, int op, const char* db, const char* table, long long rowid) noexcept;
    /// DNS questions counted since the last commit, on the thread that owns
    /// the connection (store/dns_names.hpp).
    std::unique_ptr<DnsNames> dns_names_;
    RowTap* tap_ = nullptr;  ///< tap_rows()
    std::vector<char>* rec_ = nullptr;  ///< a recorder's rows (recorder())
    std::string path_;
    SpaceReserve reserve_;  ///< room for the last status write of the run begun here
    bool in_txn_ = false;
    bool reader_indexes_pending_ = false;
    int batch_rows_ = 0;
};

/// The store's fact writer (store/store_sink.hpp): the packet path's facts
/// as rows of `run_id`. The first store error is kept in `error` (owned by
/// the caller, who stops the run); from then on nothing more is written.
/// `per_message_rows` false: no dns_answer, tls_hello or stun_message rows.
[[nodiscard]] std::unique_ptr<facts::FactSink> make_fact_writer(Store& store, int64_t run_id, std::exception_ptr& error,
                                                                bool per_message_rows = true);

}  // namespace callwall::store
