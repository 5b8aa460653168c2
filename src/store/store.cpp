// SQLite store. See store/store.hpp.
#include "store/store.hpp"
#include "store/checkpoint_ahead.hpp"
#include "store/conn.hpp"
#include "store/flow_pages.hpp"
#include "store/dns_names.hpp"
#include "store/ownership.hpp"
#include "store/row_codec.hpp"
#include "store/row_tap.hpp"
#include "store/row_group.hpp"
#include "store/schema.hpp"
#include "store/write_behind.hpp"

#include <arpa/inet.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "callwall/version.hpp"
#include "util/clock.hpp"

namespace callwall::store {
namespace {

using codec::bind_all;
using codec::bind_record;
using codec::encode;
using codec::encoded_size;

// A flow's row: written once when the flow ends (an INSERT), or again over
// the row a live snapshot wrote (the same columns, INSERT OR REPLACE: that
// statement opens a statement journal per row, ~4,500 instructions, a fifth
// of the row's cost, so it is kept for the rows that need it). Its columns
// are the record's (facts/flow_facts.hpp), after run_id.
std::string flow_insert(std::string_view verb) {
    std::string sql(verb), values = "?";
    sql += " INTO flow (run_id";
    for (const char* column : facts::kFlowColumns) {
        sql += ", ";
        sql += column;
        values += ",?";
    }
    return sql + ") VALUES (" + values + ")";
}

int64_t i64(uint64_t v) { return static_cast<int64_t>(v); }

std::optional<int64_t> non_zero(int64_t v) { return v ? std::optional<int64_t>(v) : std::nullopt; }

}  // namespace

std::string_view to_string(RunStatus s) noexcept {
    switch (s) {
        case RunStatus::Running: return "running";
        case RunStatus::Completed: return "completed";
        case RunStatus::Interrupted: return "interrupted";
        case RunStatus::Failed: return "failed";
    }
    return "?";
}

void Store::set_patient(bool on) {
    if (on)
        sqlite3_busy_handler(c_->db, &Store::on_busy, this);
    else
        sqlite3_busy_timeout(c_->db, 5000);
}

// SQLite's busy handler: `attempts` counts the calls for one lock attempt
// (0 the first). Sleeps 1, 2, 4 ... 100 ms and retries; 0 gives up (the
// statement then fails with SQLITE_BUSY, as with the 5 s timeout).
int Store::on_busy(void* self, int attempts) noexcept {
    auto& s = *static_cast<Store*>(self);
    const int64_t now = util::mono_us();
    if (attempts == 0) {
        s.busy_started_us_ = now;
        s.busy_waits_.fetch_add(1, std::memory_order_relaxed);
    }
    const int64_t waited = now - s.busy_started_us_;
    if (waited > static_cast<int64_t>(kPatientBusyLimitS * 1e6)) return 0;
    const int64_t nap_us = std::min<int64_t>(100'000, int64_t{1000} << std::min(attempts, 7));
    ::usleep(static_cast<useconds_t>(nap_us));
    s.busy_waited_us_.fetch_add(static_cast<uint64_t>(nap_us), std::memory_order_relaxed);
    const auto longest = static_cast<uint64_t>(waited + nap_us);
    if (longest > s.busy_longest_us_.load(std::memory_order_relaxed))
        s.busy_longest_us_.store(longest, std::memory_order_relaxed);
    return 1;
}

Store::BusyWaits Store::busy_waits() const noexcept {
    BusyWaits w;
    w.waits = busy_waits_.load(std::memory_order_relaxed);
    w.waited_s = static_cast<double>(busy_waited_us_.load(std::memory_order_relaxed)) / 1e6;
    w.longest_s = static_cast<double>(busy_longest_us_.load(std::memory_order_relaxed)) / 1e6;
    return w;
}

void Store::fail(int rc, std::string_view what) const {
    const std::string msg =
        path_ + ": " + std::string(what) + ": " + (c_->db ? sqlite3_errmsg(c_->db) : sqlite3_errstr(rc));
    switch (rc & 0xFF) {
        case SQLITE_FULL:
            throw StoreError(StoreErrorKind::Full,
                             path_ + ": disk full while writing the database (" + std::string(what) + ")");
        case SQLITE_NOTADB: throw StoreError(StoreErrorKind::NotADatabase, path_ + ": not a SQLite database");
        case SQLITE_READONLY:
            throw StoreError(StoreErrorKind::ReadOnly,
                             path_ + ": database is read-only (no write permission on the file or its directory)");
        case SQLITE_CORRUPT:
            throw StoreError(StoreErrorKind::Other, path_ + ": the database file is damaged (" + std::string(what) +
                                                        ": " + (c_->db ? sqlite3_errmsg(c_->db) : sqlite3_errstr(rc)) +
                                                        "); use another file");
        case SQLITE_CANTOPEN: throw StoreError(StoreErrorKind::CannotOpen, msg);
        case SQLITE_IOERR:
            // ENOSPC surfaces as an I/O error from some calls (fsync, truncate);
            // other I/O errors (EIO, EFBIG past a file size limit) are not "disk full".
            if (c_->db && sqlite3_system_errno(c_->db) == ENOSPC)
                throw StoreError(StoreErrorKind::Full,
                                 path_ + ": disk full while writing the database (" + std::string(what) + ")");
            throw StoreError(StoreErrorKind::Other, msg);
        default: throw StoreError(StoreErrorKind::Other, msg);
    }
}

void Store::exec(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(c_->db, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        sqlite3_free(err);
        fail(rc, "executing SQL");
    }
}

bool Store::has_column(const char* table, std::string_view column) {
    sqlite3_stmt* st = nullptr;
    const std::string sql = std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name=?";
    int rc = sqlite3_prepare_v2(c_->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) fail(rc, "reading the schema");
    sqlite3_bind_text(st, 1, column.data(), static_cast<int>(column.size()), SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(rc, "reading the schema");
    return rc == SQLITE_ROW;
}

Store::Store() : c_(std::make_unique<Conn>()), dns_names_(std::make_unique<DnsNames>()) {}

namespace {
// Process-wide SQLite settings, applied once before SQLite initialises:
// without memory statistics its allocator takes no global mutex per
// allocation (which costs once a second thread, the capture reader, exists).
// Statement journals (the grouped INSERTs of many rows open one, with
// foreign keys on) stay in memory up to kStatementJournalBytes instead of
// SQLite's 64 KiB: past that each went to a temporary file in /var/tmp, a
// pwrite per page and per page number (8,000 on a busy 2 M-packet run).
// The journal lives for one statement; its pages are the statement's.
// Too late (SQLite already initialised by someone else) is harmless.
//
// SQLite allocates an in-memory journal in chunks of the threshold's size,
// the first at the journal's first page, and a single-row INSERT in a
// transaction can open a journal (the attribution's verdict rows do).
// Under AddressSanitizer every allocation of 128 KiB or more is a mapping
// of its own whose shadow is written when it is allocated and again when it
// is freed: one 4 MiB chunk per journal made the sanitizer test runs spend
// two thirds of their time in page faults (an attribution test: 93 s, 66 of
// them in the kernel; 21 s with 128 KiB chunks). There the threshold is
// 128 KiB: the same code, spilling sooner. Release builds keep 4 MiB (glibc
// serves it from its heap after the first; 128 KiB measured no faster).
#if defined(__SANITIZE_ADDRESS__)
#define CALLWALL_STORE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CALLWALL_STORE_UNDER_ASAN 1
#endif
#endif
#if defined(CALLWALL_STORE_UNDER_ASAN)
constexpr int kStatementJournalBytes = 128 << 10;
#else
constexpr int kStatementJournalBytes = 4 << 20;
#endif
void configure_sqlite_once() {
    static const bool done = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, kStatementJournalBytes);
        return true;
    }();
    (void)done;
}
}  // namespace

std::unique_ptr<Store> Store::open(const std::string& path) {
    configure_sqlite_once();
    auto s = std::unique_ptr<Store>(new Store());
    s->path_ = path;
    // Diagnose the common cases before SQLite gives a vaguer message.
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw StoreError(StoreErrorKind::CannotOpen, path + ": directory " + dir + " does not exist");
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        throw StoreError(StoreErrorKind::CannotOpen, path + ": is a directory, expected a database file");
    // SQLite would say "unable to open database file" or fail on the first write.
    if (!exists && ::access(dir.c_str(), W_OK | X_OK) != 0)
        throw StoreError(StoreErrorKind::ReadOnly, path + ": cannot create the database: directory " + dir +
                                                       " is not writable (" + std::strerror(errno) + ")");
    if (exists && ::access(path.c_str(), R_OK | W_OK) != 0)
        throw StoreError(StoreErrorKind::ReadOnly,
                         path + ": cannot write the database file (" + std::strerror(errno) + ")");
    if (exists && ::access(dir.c_str(), W_OK | X_OK) != 0)
        throw StoreError(StoreErrorKind::ReadOnly,
                         path + ": directory " + dir +
                             " is not writable, and the database needs its -wal and -shm files there (" +
                             std::strerror(errno) + ")");
    int rc = sqlite3_open_v2(path.c_str(), &s->c_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        const std::string why = s->c_->db ? sqlite3_errmsg(s->c_->db) : sqlite3_errstr(rc);
        throw StoreError(StoreErrorKind::CannotOpen, path + ": cannot open database: " + why);
    }
    sqlite3_busy_timeout(s->c_->db, 5000);
    sqlite3_extended_result_codes(s->c_->db, 1);
    // Decide whether the file is ours from what it holds, reading only: a
    // file that is not callwall's is refused before the WAL switch, the
    // schema or any pragma writes a byte of it. A file that is not SQLite
    // fails on the first read.
    const FileContents c = read_contents(s->c_->db, rc);
    if (rc != SQLITE_OK) {
        if ((rc & 0xFF) == SQLITE_NOTADB)
            throw StoreError(StoreErrorKind::NotADatabase, path + ": not a SQLite database (refusing to overwrite it)");
        s->fail(rc, "reading the schema version");
    }
    const int version = c.user_version;
    const std::string why_not = not_ours_reason(c);
    if (!why_not.empty())
        throw StoreError(StoreErrorKind::NotOurs, path + ": an existing SQLite database that is not callwall's (" +
                                                      why_not + "); refusing to modify it");
    if (version > kSchemaVersion)
        throw StoreError(StoreErrorKind::NewerSchema, path + ": database schema version " + std::to_string(version) +
                                                          " is newer than this callwall understands (" +
                                                          std::to_string(kSchemaVersion) +
                                                          "); use a newer callwall or another file");
    s->exec("PRAGMA journal_mode=WAL");
    s->exec("PRAGMA synchronous=NORMAL");
    s->exec("PRAGMA foreign_keys=ON");
    // A bulk writer: the WAL is copied back into the database (and both are
    // fsynced) when it reaches this many pages, 64 MiB, instead of SQLite's
    // 4 MiB. At 4 MiB the 2 M-packet benchmark (about 6 MiB of pages)
    // checkpointed during the run as well as at close, copying pages that
    // were rewritten later anyway: 11 fdatasync calls, now 8. Durability is
    // unchanged (synchronous=NORMAL: a commit survives a crash of callwall,
    // the last ones may roll back on power loss, the file stays consistent).
    s->exec(("PRAGMA wal_autocheckpoint=" + std::to_string(kWalAutocheckpointPages)).c_str());
    s->migrate(version);
    s->c_->ins_run = s->c_->prepare(*s, records::insert_sql(records::Run::table()).c_str());
    s->c_->upd_run =
        s->c_->prepare(*s, records::update_sql(records::Run::table(), records::kRunTotalsColumns, "id").c_str());
    s->c_->ins_flow = s->c_->prepare(*s, flow_insert("INSERT").c_str());
    s->c_->ins_flow_again = s->c_->prepare(*s, flow_insert("INSERT OR REPLACE").c_str());
    s->c_->flow_group.prepare(*s, *s->c_, Slot::Flow, flow_insert("INSERT"));
    // Each decoder record's INSERT, from its columns (records/messages.hpp).
#define CALLWALL_PREPARE_RECORD(Record, what) \
    s->c_->ins_##Record = s->c_->prepare(*s, records::insert_sql(records::Record::table()).c_str());
    CALLWALL_MESSAGE_RECORDS(CALLWALL_PREPARE_RECORD)
#undef CALLWALL_PREPARE_RECORD
    s->c_->name_group.prepare(*s, *s->c_, Slot::FlowName, records::insert_sql(records::FlowName::table()));
    s->c_->ins_dns_query = s->c_->prepare(*s, records::insert_sql(records::DnsQuery::table()).c_str());
    // A name's counts since the last commit added to its row (DnsNames).
    s->c_->ups_dns_name = s->c_->prepare(
        *s, (records::insert_sql(records::DnsName::table()) +
             " ON CONFLICT (run_id, qname) DO UPDATE SET queries = queries + excluded.queries, "
             "answered = answered + excluded.answered, resolved = resolved + excluded.resolved, "
             "failed = failed + excluded.failed, last_failure = coalesce(excluded.last_failure, last_failure), "
             "first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)")
                .c_str());
    s->c_->upd_stun = s->c_->prepare(
        *s, "UPDATE stun_message SET answered=1 WHERE run_id=? AND flow_id=? AND transaction_id=? AND class='Request'");
    return s;
}

void Store::migrate(int from_version) {
    exec("BEGIN IMMEDIATE");
    // Another writer may have migrated between open()'s look and this lock.
    if (read_int(c_->db, "PRAGMA user_version", from_version) != SQLITE_OK)
        fail(sqlite3_errcode(c_->db), "reading the schema version");
    exec(schema_sql().c_str());
    // Columns added since version 1, as their lists declare them: every
    // column a database's table lacks (the run's writer_pid, writer_start
    // and writer_boot_id of version 2 and origin of version 4; the flow's
    // ICE checks, each side's STUN transactions, the port asked of a proxy
    // and any application fact since, version 6's link_broadcast and roles;
    // the catalog entry's document_title, which older runs keep empty).
    if (from_version >= 1) {
        const auto add = [&](const char* table, std::string_view column, std::string_view declaration) {
            if (!has_column(table, column))
                exec(("ALTER TABLE " + std::string(table) + " ADD COLUMN " + std::string(column) + " " +
                      std::string(declaration))
                         .c_str());
        };
        for (const records::Column& c : records::Run::kColumns) add("run", c.name, c.sql);
        for (size_t i = 0; i < std::size(facts::kFlowColumns); ++i)
            add("flow", facts::kFlowColumns[i], facts::kFlowColumnDeclarations[i]);
        for (const records::Column& c : records::CatalogEntry::kColumns) add("catalog_entry", c.name, c.sql);
    }
    // Schema version 3: the verdict's lists were comma-joined ("443,3478";
    // reasons are tokens without commas or quotes), now JSON arrays. Rows
    // already rewritten (an array starts with '[') are left alone.
    if (from_version >= 1 && from_version <= 2) {
        exec(kVerdictListsToJson);
    }
    if (from_version == 0)
        reader_indexes_pending_ = true;
    else
        exec(kReaderIndexes);
    exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
    exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    exec("COMMIT");
}

Store::~Store() {
    try {
        commit_now();
        create_reader_indexes();
    } catch (...) {
        // The destructor must not throw; an error here was already reported by flush() callers.
    }
    wb_.reset();
    finish_run_checkpoint();
    for (sqlite3_stmt* st : c_->statements()) sqlite3_finalize(st);
    for (RowGroup* g : c_->groups()) sqlite3_finalize(g->many);
    sqlite3_close_v2(c_->db);
}

void Store::note_row() {
    if (!in_txn_) {
        exec("BEGIN");
        in_txn_ = true;
    }
    if (++batch_rows_ >= kBatchRows) commit_batch();
}

void Store::flush() {
    if (!wb_ || wb_->on_writer_thread()) {
        commit_batch();
        return;
    }
    put(Slot::Commit);
    wb_->hand_over_now();  // not when the batch fills: readers of the file wait for this commit
}

void Store::commit_batch() {
    if (!in_txn_) return;
    const auto roll_back = [&] {
        sqlite3_exec(c_->db, "ROLLBACK", nullptr, nullptr, nullptr);
        in_txn_ = false;
        batch_rows_ = 0;
        dns_names_->clear();
        for (RowGroup* g : c_->groups()) g->clear();
    };
    try {
        flush_groups();
        write_dns_names();
    } catch (...) {
        roll_back();
        throw;
    }
    const int rc = sqlite3_exec(c_->db, "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        roll_back();
        fail(rc, "committing");
    }
    in_txn_ = false;
    batch_rows_ = 0;
}

void Store::write_dns_names() {
    if (dns_names_->empty()) return;
    sqlite3_stmt* st = c_->ups_dns_name;
    dns_names_->for_each([&](const DnsNameCount& n) {
        bind_all(st, n.run_id, n.qname, i64(n.queries), i64(n.answered), i64(n.resolved), i64(n.failed),
                 n.last_failure.empty() ? std::nullopt : std::optional<std::string_view>(n.last_failure), n.first_ts,
                 n.last_ts);
        Conn::write_row(*this, st, "counting DNS questions");
    });
    dns_names_->clear();
}

void Store::sync_writes() {
    if (wb_ && !wb_->on_writer_thread()) wb_->sync();
    flush_groups();  // the writer thread is idle now: the connection is this thread's
}

void Store::defer(std::function<void(Store&)> job) {
    if (!wb_ || wb_->on_writer_thread()) {
        job(*this);
        return;
    }
    // The pending error first, then the job, then its marker: a job is in
    // the writer's list only while its marker is queued.
    std::vector<char>& b = wb_->batch();
    wb_->add_job([this, job = std::move(job)] { job(*this); });
    b.push_back(static_cast<char>(Slot::Job));
    b.push_back(0);
    wb_->hand_over_now();
}

void Store::commit_now() {
    sync_writes();
    commit_batch();
}

void Store::write_behind(bool on) {
    if (on == static_cast<bool>(wb_)) return;
    if (on) {
        flush_groups();  // the rows given here so far, before the writer thread owns the connection
        wb_ = std::make_unique<WriteBehind>(
            WriteBehind::ApplyRows([this](const std::vector<char>& b, size_t from, size_t max_rows) {
                return apply_rows(b, from, max_rows);
            }));
        wal_file_ = wal_file_of(c_->db, path());
        if (!wal_file_.empty()) sqlite3_wal_hook(c_->db, &Store::on_wal_commit, this);
        return;
    }
    sync_writes();
    wb_.reset();
    finish_run_checkpoint();
    sqlite3_wal_autocheckpoint(c_->db, kWalAutocheckpointPages);  // SQLite's own hook again
}

void Store::watch_rows(std::function<void(std::string_view table, int64_t rowid)> fn) {
    // On the thread that owns the connection, between two of its statements.
    defer([fn = std::move(fn)](Store& s) {
        s.row_watch_ = fn;
        sqlite3_update_hook(s.c_->db, s.row_watch_ ? &Store::on_row : nullptr, &s);
    });
}

void Store::on_row(void* self, int op, const char*, const char* table, long long rowid) noexcept {
    if (op == SQLITE_DELETE) return;
    try {
        static_cast<Store*>(self)->row_watch_(table, rowid);
    } catch (...) {
        // The watcher could not note the row (out of memory): it is not exported.
    }
}

int Store::on_wal_commit(void* self, sqlite3*, const char*, int frames) noexcept {
    auto& s = *static_cast<Store*>(self);
    if (frames < s.run_checkpoint_frames_) s.run_checkpoint_frames_ = 0;  // the log started over
    if (frames - s.run_checkpoint_frames_ < kRunCheckpointFrames) return SQLITE_OK;
    if (s.run_checkpoint_ && !s.run_checkpoint_->done()) return SQLITE_OK;
    try {
        s.run_checkpoint_.reset();  // the last one, ended
        s.run_checkpoint_ = CheckpointAhead::start_file(s.wal_file_);
        s.run_checkpoint_frames_ = frames;
    } catch (...) {
        // Out of memory: the close checkpoints what is left, as it always did.
    }
    return SQLITE_OK;
}

void Store::finish_run_checkpoint() noexcept { run_checkpoint_.reset(); }

size_t Store::write_behind_waits() const noexcept { return wb_ ? wb_->waits() : 0; }

util::IdleWork* Store::idle_work() noexcept { return wb_.get(); }

void Store::create_reader_indexes() {
    if (!reader_indexes_pending_) return;
    commit_now();
    exec(kReaderIndexes);
    reader_indexes_pending_ = false;
}

int64_t Store::begin_run(const RunInfo& info) {
    commit_now();
    reserve_.hold(path_);
    // The run's row and its sources in one transaction: a disk that fills
    // here leaves no run at all, never one that reads 'running' for ever.
    exec("BEGIN");
    sqlite3_stmt* st = nullptr;
    try {
        const WriterId me = current_writer();
        const records::Run run = run_record(info, me);
        std::apply([&](const auto&... values) { bind_all(c_->ins_run, values...); }, run.values());
        Conn::write_row(*this, c_->ins_run, "inserting the run");
        const int64_t run_id = sqlite3_last_insert_rowid(c_->db);
        // Each input on a row of its own: the joined `source` is ambiguous
        // when a path holds a comma. Rare (one row per file or interface):
        // prepared here.
        if (!info.sources.empty()) {
            st = c_->prepare(*this, records::insert_sql(records::RunSource::table()).c_str());
            for (size_t i = 0; i < info.sources.size(); ++i) {
                const records::RunSource source{static_cast<int64_t>(i), info.sources[i]};
                bind_record(st, run_id, source);
                Conn::write_row(*this, st, "recording the run's sources");
            }
            sqlite3_finalize(st);
            st = nullptr;
        }
        const int rc = sqlite3_exec(c_->db, "COMMIT", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) fail(rc, "inserting the run");
        return run_id;
    } catch (...) {
        sqlite3_finalize(st);
        sqlite3_reset(c_->ins_run);
        sqlite3_exec(c_->db, "ROLLBACK", nullptr, nullptr, nullptr);
        reserve_.release();  // no run of this writer will need it
        throw;
    }
}

std::unique_ptr<Store> Store::recorder(std::vector<char>& out) {
    auto s = std::unique_ptr<Store>(new Store());
    s->rec_ = &out;
    return s;
}

bool Store::encoding() const noexcept { return rec_ || (wb_ && !wb_->on_writer_thread()); }

template <class... Values>
void Store::put(Slot slot, const Values&... values) {
    // A row encoded (store/row_codec.hpp) at the end of `b`.
    const auto encode_into = [&](std::vector<char>& b) {
        const size_t at = b.size();
        b.resize(at + 2 + (encoded_size(values) + ... + 0));
        char* p = b.data() + at;
        *p++ = static_cast<char>(slot);
        *p++ = static_cast<char>(sizeof...(Values));
        ((p = encode(p, values)), ...);
    };
    // Encoded for later (a recorder's buffer, or the write-behind batch)
    // unless write-behind is off or this is the writer thread itself (a
    // deferred job writing): then bound and stepped here, or left to wait
    // in its group.
    const bool queued = !rec_ && wb_ && !wb_->on_writer_thread();
    if (rec_ || queued) {
        encode_into(rec_ ? *rec_ : wb_->batch());
        if (queued) wb_->row_done();
        return;
    }
    RowGroup* g = c_->group(slot);
    if (g && g->values == static_cast<int>(sizeof...(Values))) {
        note_row();
        encode_into(g->rows);
        if (++g->count == RowGroup::kRows) write_group(*g);
        return;
    }
    if (touches_groups(slot)) flush_groups();
    note_row();
    sqlite3_stmt* st = c_->statement(slot);
    if (codec::BoundValues* bv = c_->bound(slot))
        bind_all(*bv, st, values...);
    else
        bind_all(st, values...);
    Conn::write_row(*this, st, Conn::what(slot));
}

records::Run run_record(const RunInfo& info, const WriterId& writer) {
    records::Run run;
    run.kind = info.kind;
    run.source = info.source;
    run.command_line = info.command_line;
    run.tool_version = kVersion;
    run.catalog_digest = info.catalog_digest;
    run.started_at = info.started_at;
    run.status = to_string(RunStatus::Running);
    run.writer_pid = non_zero(writer.pid);
    run.writer_start = non_zero(writer.start_ticks);
    if (!writer.boot_id.empty()) run.writer_boot_id = writer.boot_id;
    return run;
}

void set_run_totals(records::Run& run, const RunTotals& t, std::string_view status, double ended_at) {
    run.ended_at.reset();
    if (ended_at > 0) run.ended_at = ended_at;
    run.status = status;
    run.packets = i64(t.packets);
    run.bytes = i64(t.bytes);
    run.truncated_packets = i64(t.truncated_packets);
    run.undecoded_packets = i64(t.undecoded_packets);
    run.orphan_fragments = i64(t.orphan_fragments);
    run.damaged_files = i64(t.damaged_files);
    run.kernel_received = i64(t.kernel_received);
    run.kernel_dropped = i64(t.kernel_dropped);
    run.interface_dropped = i64(t.interface_dropped);
    run.flows = i64(t.flows);
    run.flows_evicted_full = i64(t.flows_evicted_full);
    run.first_ts.reset();
    run.last_ts.reset();
    if (t.packets) {  // no packet, no capture times
        run.first_ts = t.first_ts;
        run.last_ts = t.last_ts;
    }
    run.notes = t.notes;
}

void Store::update_run(int64_t run_id, const RunTotals& t, RunStatus status, double ended_at) {
    records::Run run;
    set_run_totals(run, t, to_string(status), ended_at);
    std::apply([&](const auto&... values) { put(Slot::UpdateRun, values..., run_id); }, records::run_totals(run));
}

void Store::add_flow(int64_t run_id, const flow::Flow& f, const FlowAppInfo& app) {
    facts::FlowRecord row;
    facts::record_of(f, app, row);
    write_flow(Slot::Flow, run_id, row);
}

void Store::replace_flow(int64_t run_id, const flow::Flow& f, const FlowAppInfo& app) {
    facts::FlowRecord row;
    facts::record_of(f, app, row);
    write_flow(Slot::FlowAgain, run_id, row);
}

void Store::add_flow(int64_t run_id, const facts::FlowRecord& row) { write_flow(Slot::Flow, run_id, row); }

void Store::replace_flow(int64_t run_id, const facts::FlowRecord& row) { write_flow(Slot::FlowAgain, run_id, row); }

void Store::write_flow(Slot slot, int64_t run_id, const facts::FlowRecord& row) {
    if (tap_) tap_->flow_row(run_id, row);
    std::apply([&](const auto&... columns) { put(slot, run_id, columns...); }, facts::column_values(row));
}

template <class Record>
void Store::put_record(Slot slot, int64_t run_id, const Record& r) {
    std::apply([&](const auto&... values) { put(slot, run_id, values...); }, r.values());
}

#define CALLWALL_STORE_ADD(Record, what) \
    void Store::add(int64_t run_id, const records::Record& r) { put_record(Slot::Record, run_id, r); }
CALLWALL_MESSAGE_RECORDS(CALLWALL_STORE_ADD)
#undef CALLWALL_STORE_ADD

void Store::add_dns_query(int64_t run_id, const records::DnsQuery& r) { put_dns(Slot::DnsQuery, run_id, r); }

void Store::add_dns_question(int64_t run_id, const records::DnsQuery& r) { put_dns(Slot::DnsQuestion, run_id, r); }

void Store::put_dns(Slot slot, int64_t run_id, const records::DnsQuery& r) {
    if (tap_) tap_->dns_question(run_id, r);
    if (encoding()) {  // counted where the row is applied (apply_row)
        put_record(slot, run_id, r);
        return;
    }
    note_row();
    dns_names_->add(run_id, r.qname, r.ts, r.answered != 0, r.rcode.value_or(std::string_view()),
                    static_cast<uint32_t>(r.answers));
    if (slot == Slot::DnsQuestion) return;
    bind_record(c_->ins_dns_query, run_id, r);
    Conn::write_row(*this, c_->ins_dns_query, Conn::what(slot));
}

void Store::mark_stun_answered(int64_t run_id, uint64_t flow_id, std::string_view transaction_id) {
    put(Slot::StunAnswered, run_id, i64(flow_id), transaction_id);
}

}  // namespace callwall::store
