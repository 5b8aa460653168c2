// Helpers for the robustness tests: run the real callwall binary (posix_spawn,
// never a shell), bound it in time, and look at its database with the SQLite C API.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sqlite_rows.hpp"

extern char** environ;

namespace callwall::robustness {

inline std::string binary() {
#ifdef CALLWALL_BINARY
    return CALLWALL_BINARY;
#else
    return "";
#endif
}

inline std::string source_dir() {
#ifdef CALLWALL_SOURCE_DIR
    return CALLWALL_SOURCE_DIR;
#else
    return ".";
#endif
}

inline constexpr const char* kPython = "/usr/bin/python3";

inline bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

inline double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// read_file of a file that must be there with something in it (what a test
/// keeps to check later that a command left it alone): fails the test
/// otherwise, so that check cannot pass by comparing two empty strings.
inline std::string read_existing(const std::string& path) {
    std::string bytes = read_file(path);
    if (bytes.empty()) ADD_FAILURE() << path << ": missing or empty, nothing to compare against";
    return bytes;
}

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

inline std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> out;
    std::string line;
    std::istringstream in(s);
    while (std::getline(in, line)) out.push_back(line);
    return out;
}

/// A directory removed with everything in it when the object dies (unless kept).
class TempDir {
public:
    explicit TempDir(const std::string& tag = "robust") {
        std::string tmpl = (std::filesystem::temp_directory_path() / ("callwall-" + tag + "-XXXXXX")).string();
        if (::mkdtemp(tmpl.data())) path_ = tmpl;
    }
    ~TempDir() {
        if (!path_.empty() && !keep_) {
            std::error_code ec;
            std::filesystem::remove_all(path_, ec);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] bool ok() const { return !path_.empty(); }
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string operator/(const std::string& name) const { return path_ + "/" + name; }
    void keep() { keep_ = true; }

private:
    std::string path_;
    bool keep_ = false;
};

/// How a child ended.
struct ExitInfo {
    bool started = false;
    bool exited = false;  ///< normal exit; `code` is valid
    int code = -1;
    int signal = 0;  ///< killed by this signal
    bool timed_out = false;  ///< we killed it (SIGKILL) after the time bound
    long maxrss_kb = 0;  ///< peak resident set size (wait4)
    double seconds = 0;

    [[nodiscard]] std::string describe() const {
        if (!started) return "did not start";
        if (timed_out) return "timed out after " + std::to_string(seconds) + " s (killed)";
        if (exited) return "exit " + std::to_string(code);
        return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    }
};

/// A child process started with posix_spawn. stdout/stderr go to files.
class Process {
public:
    Process() = default;
    /// argv[0] is a path. `out`/`err`: file paths ("" = /dev/null). `env`: extra
    /// or replacing "NAME=value" entries on top of this process's environment.
    Process(const std::vector<std::string>& argv, const std::string& out, const std::string& err,
            const std::vector<std::string>& env = {}) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        std::vector<std::string> envs;
        for (char** e = environ; *e; ++e) {
            const std::string kv = *e;
            const std::string name = kv.substr(0, kv.find('='));
            bool replaced = false;
            for (const auto& x : env) replaced |= x.substr(0, x.find('=')) == name;
            if (!replaced) envs.push_back(kv);
        }
        for (const auto& x : env) envs.push_back(x);
        std::vector<char*> envp;
        for (auto& e : envs) envp.push_back(e.data());
        envp.push_back(nullptr);

        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.empty() ? "/dev/null" : out.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err.empty() ? "/dev/null" : err.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        // Its own process group, so a timeout can take helpers (setpriv's child) with it.
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&attr, 0);
        sigset_t none, dfl;
        sigemptyset(&none);
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGINT);
        sigaddset(&dfl, SIGTERM);
        sigaddset(&dfl, SIGPIPE);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &dfl);
        start_ = now_s();
        const int rc = posix_spawn(&pid_, args[0], &fa, &attr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) pid_ = -1;
        info_.started = pid_ > 0;
    }
    ~Process() {
        if (pid_ > 0 && !done_) {
            ::kill(-pid_, SIGKILL);
            ::kill(pid_, SIGKILL);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
    }
    Process(Process&& o) noexcept { *this = std::move(o); }
    Process& operator=(Process&& o) noexcept {
        std::swap(pid_, o.pid_);
        std::swap(done_, o.done_);
        std::swap(start_, o.start_);
        std::swap(info_, o.info_);
        return *this;
    }

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] bool started() const { return pid_ > 0; }
    [[nodiscard]] double elapsed() const { return now_s() - start_; }
    void signal(int sig) const {
        if (pid_ > 0 && !done_) ::kill(pid_, sig);
    }

    /// Non-blocking: true once the child has ended (then `info()` is final).
    bool poll() {
        if (done_ || pid_ <= 0) return true;
        int st = 0;
        rusage ru{};
        const pid_t r = ::wait4(pid_, &st, WNOHANG, &ru);
        if (r != pid_) return false;
        done_ = true;
        info_.seconds = elapsed();
        info_.maxrss_kb = ru.ru_maxrss;
        if (WIFEXITED(st)) {
            info_.exited = true;
            info_.code = WEXITSTATUS(st);
        } else if (WIFSIGNALED(st)) {
            info_.signal = WTERMSIG(st);
        }
        return true;
    }

    /// Kills the child (and its process group) with SIGKILL and reaps it.
    void kill_now() {
        if (pid_ <= 0 || done_) return;
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        while (!poll()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }

    /// Waits at most `timeout_s`; a child still running then is killed and
    /// reported as timed out.
    ExitInfo wait(double timeout_s) {
        while (!poll()) {
            if (elapsed() > timeout_s) {
                kill_now();
                info_.timed_out = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return info_;
    }
    [[nodiscard]] const ExitInfo& info() const { return info_; }

private:
    pid_t pid_ = -1;
    bool done_ = false;
    double start_ = 0;
    ExitInfo info_;
};

struct RunResult {
    ExitInfo exit;
    std::string out, err;
};

/// Bounds for run(): one command on a small input, and one run over a whole
/// committed capture (the largest take seconds under the sanitizers).
inline constexpr double kCommandTimeoutS = 60;
inline constexpr double kCaptureRunTimeoutS = 120;

/// Runs a command to completion (bounded by `timeout_s`), capturing stdout and stderr.
inline RunResult run(const std::vector<std::string>& argv, double timeout_s, const std::vector<std::string>& env = {}) {
    TempDir io("io");
    RunResult r;
    Process p(argv, io / "out", io / "err", env);
    r.exit = p.wait(timeout_s);
    r.out = read_file(io / "out");
    r.err = read_file(io / "err");
    return r;
}

/// Sanitizer reports in a child's stderr.
inline bool has_sanitizer_report(const std::string& err) {
    return err.find("ERROR: AddressSanitizer") != std::string::npos ||
           err.find("ERROR: LeakSanitizer") != std::string::npos || err.find("runtime error:") != std::string::npos ||
           err.find("ERROR: UndefinedBehaviorSanitizer") != std::string::npos;
}

/// The first `n` lines of a text (for failure messages).
inline std::string head(const std::string& s, size_t n = 12) {
    std::string out;
    size_t lines = 0, i = 0;
    while (i < s.size() && lines < n) {
        const size_t e = s.find('\n', i);
        out += s.substr(i, e == std::string::npos ? std::string::npos : e - i + 1);
        if (e == std::string::npos) break;
        i = e + 1;
        ++lines;
    }
    return out;
}

// ---------------------------------------------------------------------------
// SQLite

/// A connection for checks. Read-write by default so a database left by a
/// killed writer is recovered exactly as the next user's `sqlite3` would.
class Db {
public:
    explicit Db(const std::string& path, bool read_only = false) {
        const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
        if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
            error_ = db_ ? sqlite3_errmsg(db_) : "cannot open";
            sqlite3_close(db_);
            db_ = nullptr;
        } else {
            sqlite3_busy_timeout(db_, 5000);
        }
    }
    ~Db() { sqlite3_close(db_); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    [[nodiscard]] bool ok() const { return db_ != nullptr; }
    [[nodiscard]] const std::string& error() const { return error_; }

    /// Rows as tab-separated text ("NULL" for NULL); an SQL error yields one
    /// row "SQL error: ..." and is kept in first_error() (a caller polling a
    /// database another process writes may meet one and try again). One
    /// statement: SQL after the first is an error, not silently skipped.
    std::vector<std::string> rows(const std::string& sql) {
        std::vector<std::string> out;
        if (!db_) return {failed("not open: " + error_)};
        sqlite3_stmt* st = nullptr;
        std::string why;
        if (test::prepare_one(db_, sql, &st, why) != SQLITE_OK) {
            out.push_back(failed(why));
            return out;
        }
        if (test::append_rows(st, out) != SQLITE_DONE) out.push_back(failed(sqlite3_errmsg(db_)));
        sqlite3_finalize(st);
        return out;
    }
    /// The first SQL error any query met ("" for none): a comparison of two
    /// databases' contents must check it, or two unreadable ones compare equal.
    [[nodiscard]] const std::string& first_error() const { return first_error_; }
    /// The first column of the first row ("" when there is none).
    std::string text(const std::string& sql) {
        const auto r = rows(sql);
        return r.empty() ? "" : r[0].substr(0, r[0].find('\t'));
    }
    long long integer(const std::string& sql) {
        const std::string t = text(sql);
        return t.empty() || t == "NULL" ? -1 : std::atoll(t.c_str());
    }

private:
    std::string failed(const std::string& what) {
        std::string row = "SQL error: " + what;
        if (first_error_.empty()) first_error_ = row;
        return row;
    }
    sqlite3* db_ = nullptr;
    std::string error_;
    std::string first_error_;
};

/// Every capture committed under captures/ (.pcap, .pcapng), sorted.
inline std::vector<std::string> committed_captures() {
    std::vector<std::string> captures;
    for (const auto& e : std::filesystem::recursive_directory_iterator(source_dir() + "/captures"))
        if (e.path().extension() == ".pcap" || e.path().extension() == ".pcapng") captures.push_back(e.path().string());
    std::sort(captures.begin(), captures.end());
    return captures;
}

/// Every row of `tables` (each prefixed with its table's name) after the runs'
/// counters (the run rows hold wall-clock times and the command line, so
/// only their counters), in a fixed order: what two ways of writing the same
/// runs must leave alike.
inline std::string table_contents(const std::string& path, std::initializer_list<const char*> tables) {
    Db db(path, true);
    std::string all;
    for (const auto& r : db.rows("SELECT id, status, packets, bytes, undecoded_packets, orphan_fragments, flows, "
                                 "first_ts, last_ts, notes FROM run ORDER BY id"))
        all += "run\t" + r + "\n";
    for (const char* t : tables) {
        // Sorted by every column, whatever their number (allow_list has three).
        const long long columns = db.integer(std::string("SELECT count(*) FROM pragma_table_info('") + t + "')");
        EXPECT_GT(columns, 0) << t << " in " << path;
        std::string order;
        for (long long i = 1; i <= columns; ++i) order += (i > 1 ? ", " : "") + std::to_string(i);
        for (const auto& r : db.rows(std::string("SELECT * FROM ") + t + " ORDER BY " + order))
            all += std::string(t) + "\t" + r + "\n";
    }
    EXPECT_EQ(db.first_error(), "") << path;
    return all;
}

/// Everything about one run that must survive later failures: the run row and
/// the number of rows it owns in each table.
inline std::string run_fingerprint(Db& db, int64_t run_id) {
    const std::string id = std::to_string(run_id);
    std::string fp;
    for (const auto& r : db.rows("SELECT * FROM run WHERE id=" + id)) fp += r + "\n";
    for (const char* t : {"flow", "dns_query", "dns_name", "dns_answer", "tls_hello", "stun_message", "rtp_stream",
                          "icmp_error", "flow_name", "catalog_entry", "flow_match", "verdict", "product_verdict"})
        fp += std::string(t) + "=" + db.text(std::string("SELECT count(*) FROM ") + t + " WHERE run_id=" + id) + "\n";
    for (const auto& r : db.rows("SELECT entry_id, verdict, flows_observed, flows_blocked FROM verdict WHERE run_id=" +
                                 id + " ORDER BY entry_id"))
        fp += r + "\n";
    EXPECT_EQ(db.first_error(), "") << "run " << run_id;
    return fp;
}

}  // namespace callwall::robustness
