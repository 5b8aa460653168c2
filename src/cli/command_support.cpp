#include "cli/command_support.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "attrib/attrib.hpp"
#include "report/report.hpp"
#include "cli/commands.hpp"
#include "run/answer.hpp"
#include "util/file_head.hpp"

namespace callwall::cli {

volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_stop_count = 0;
volatile std::sig_atomic_t g_hup_signal = 0;

namespace {
void on_stop(int sig) {
    g_stop_signal = sig;
    g_stop_count = g_stop_count + 1;
}
void on_hup(int) { g_hup_signal = 1; }
}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns so the loop sees the flag
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

void install_hup_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_hup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGHUP, &sa, nullptr);
}

std::string join_command_line(int argc, char** argv) {
    std::string s = "callwall";
    for (int i = 0; i < argc; ++i) {
        s += ' ';
        s += argv[i];
    }
    return s;
}

void print_summary(std::FILE* out, const run::Session& s, double elapsed_s) {
    const facts::RunTotals& t = s.totals();
    const run::RunCounts c = s.counts();
    const double pps = elapsed_s > 0 ? static_cast<double>(t.packets) / elapsed_s : 0;
    std::fprintf(out, "packets %llu (%llu bytes, %llu truncated by snaplen, %llu not IP/undecodable)",
                 static_cast<unsigned long long>(t.packets), static_cast<unsigned long long>(t.bytes),
                 static_cast<unsigned long long>(t.truncated_packets),
                 static_cast<unsigned long long>(t.undecoded_packets));
    if (t.kernel_received || t.kernel_dropped)
        std::fprintf(out, ", kernel dropped %llu", static_cast<unsigned long long>(t.kernel_dropped));
    std::fprintf(out, "\nflows %llu:", static_cast<unsigned long long>(c.flows_written));
    const auto& counts = c.state_counts;
    for (int s = 0; s <= static_cast<int>(flow::ConnState::OtherOneWay); ++s) {
        if (!counts[s]) continue;
        const auto cs = static_cast<flow::ConnState>(s);
        const char* family =
            s <= static_cast<int>(flow::ConnState::OTH) ? "tcp" : (cs <= flow::ConnState::UdpOneWay ? "udp" : "other");
        std::fprintf(out, " %s/%.*s %llu", family, static_cast<int>(flow::to_string(cs).size()),
                     flow::to_string(cs).data(), static_cast<unsigned long long>(counts[s]));
    }
    std::fprintf(out, "\ntime %.3f s, %.0f packets/s\n", elapsed_s, pps);
}

std::string drop_privileges(const std::string& user) {
    if (geteuid() != 0 || user.empty() || user == "root") return "";
    const struct passwd* pw = getpwnam(user.c_str());
    if (!pw) return "no such user '" + user + "' for --user";
    if (setgroups(0, nullptr) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        return "cannot drop privileges to '" + user + "'";
    if (setuid(0) == 0) return "privileges could be regained after dropping to '" + user + "'";
    return "";
}

std::string read_reflect_key(const std::string& file, const std::string& arg, const char* cmd, std::string* key) {
    if (!file.empty() && !arg.empty()) return "give the key once: --key-file or --key, not both";
    if (!file.empty()) {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st {};
        if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            const std::string why = fd < 0 ? std::strerror(errno) : "not a regular file";
            if (fd >= 0) ::close(fd);
            return "--key-file " + file + ": " + why;
        }
        char buf[4097];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        ::close(fd);
        if (n < 0) return "--key-file " + file + ": " + std::strerror(errno);
        if (n > 4096) return "--key-file " + file + ": longer than 4096 bytes (a key is one line)";
        std::string text(buf, static_cast<size_t>(n));
        *key = text.substr(0, text.find_first_of("\r\n"));
        if (key->empty()) return "--key-file " + file + ": its first line is empty";
        if (st.st_mode & 077)
            std::fprintf(stderr, "callwall %s: warning: --key-file %s can be read by other users (chmod 600 it)\n", cmd,
                         file.c_str());
        return "";
    }
    if (!arg.empty()) {
        std::fprintf(stderr,
                     "callwall %s: warning: a key on the command line can be read by every user of this host (ps); "
                     "use --key-file FILE or %s\n",
                     cmd, kReflectKeyEnv);
        *key = arg;
        return "";
    }
    if (const char* env = std::getenv(kReflectKeyEnv)) *key = env;
    return "";
}

bool give_to_user(int fd, const std::string& user) {
    if (geteuid() != 0 || user.empty() || user == "root") return true;
    const struct passwd* pw = getpwnam(user.c_str());
    return pw && ::fchown(fd, pw->pw_uid, pw->pw_gid) == 0;
}

int report_store_error(const store::StoreError& e) {
    std::fprintf(stderr, "callwall: database error: %s\n", e.what());
    return kExitDatabase;
}

std::unique_ptr<run::Session> open_session(const char* cmd, run::Options options, int& rc) {
    try {
        return std::make_unique<run::Session>(std::move(options));
    } catch (const run::EventsError& e) {
        std::fprintf(stderr, "callwall %s: %s\n", cmd, e.what());
        rc = kExitOutput;
    } catch (const store::StoreError& e) {
        rc = report_store_error(e);
    }
    return nullptr;
}

std::string choose_editions(catalog::Catalog& c, const std::vector<std::string>& editions) {
    for (const std::string& e : editions)
        if (std::string why = c.choose_edition(e); !why.empty()) return why;
    return "";
}

std::string unknown_vendors(const catalog::Catalog& c, const std::vector<std::string>& vendors) {
    std::string unknown, known;
    for (const auto& v : vendors) {
        catalog::Selection sel;  // matched as 'catalog list --vendor' matches
        sel.vendor = v;
        const bool found = std::any_of(c.vendors().begin(), c.vendors().end(),
                                       [&](const std::string& k) { return sel.matches(k, "", ""); });
        if (!found) unknown += (unknown.empty() ? "'" : ", '") + v + "'";
    }
    if (unknown.empty()) return "";
    for (const auto& k : c.vendors()) known += " '" + k + "'";
    return "unknown vendor " + unknown + " (known vendors:" + known + ")";
}

std::optional<catalog::Catalog> load_catalog(const std::vector<std::string>& extra, bool no_bundled) {
    std::vector<std::filesystem::path> paths;
    if (!no_bundled) paths.push_back(catalog::bundled_catalog_dir());
    for (const auto& e : extra) paths.emplace_back(e);
    if (paths.empty()) {
        std::fprintf(stderr, "callwall: no catalog: give --catalog DIR or drop --no-bundled-catalog\n");
        return std::nullopt;
    }
    auto r = catalog::load(paths);
    if (!r.ok()) {
        for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
        std::fprintf(stderr, "callwall: the catalog has %zu error(s); 'callwall catalog check' lists them\n",
                     r.diagnostics.size());
        return std::nullopt;
    }
    return std::move(*r.catalog);
}

bool write_stdout(std::string_view text, const char* cmd) {
    errno = 0;
    const size_t n = std::fwrite(text.data(), 1, text.size(), stdout);
    int err = n == text.size() ? 0 : errno;
    if (std::fflush(stdout) != 0 && err == 0) err = errno;
    if (err == 0 && !std::ferror(stdout)) return true;
    std::fprintf(stderr, "callwall %s: cannot write standard output: %s\n", cmd,
                 err ? std::strerror(err) : "a write failed");
    std::clearerr(stdout);  // reported once; check_stdout_at_exit stays quiet
    return false;
}

int check_stdout_at_exit(const char* cmd, int rc) {
    errno = 0;
    const bool flushed = std::fflush(stdout) == 0;
    const int err = flushed ? 0 : errno;
    if (flushed && !std::ferror(stdout)) return rc;
    std::fprintf(stderr, "callwall %s: cannot write standard output: %s\n", cmd,
                 err ? std::strerror(err) : "a write failed");
    std::clearerr(stdout);
    return rc == kExitOk || rc == kExitFailOn ? kExitOutput : rc;
}

namespace {

bool same_file(const struct stat& a, const std::string& path) {
    struct stat b {};
    return !path.empty() && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool is_sqlite_file(const std::string& path) {
    return util::is_sqlite_head(util::regular_file_head(path, util::kSqliteMagic.size()));
}

bool write_all(int fd, std::string_view text) {
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    return true;
}

// Whether `path` names `db` or one of the files kept beside it (SQLite's
// -wal, -shm, -journal; callwall's store/space_reserve.hpp), by name: a companion that does not exist yet is
// still the database's (written, it would be read as the database's WAL).
bool names_database_file(const std::string& path, const std::string& db) {
    if (path.empty() || db.empty() || path == "-" || db == "-") return false;
    namespace fs = std::filesystem;
    std::error_code e1, e2;
    const fs::path out = fs::weakly_canonical(fs::absolute(path, e1), e1);
    const fs::path base = fs::weakly_canonical(fs::absolute(db, e2), e2);
    if (e1 || e2) return false;
    for (const char* suffix : {"", "-wal", "-shm", "-journal", "-callwall-reserve"})
        if (out == fs::path(base.string() + suffix)) return true;
    return false;
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {};
    return !a.empty() && ::stat(a.c_str(), &sa) == 0 && same_file(sa, b);
}

bool write_output_file(const std::string& path, std::string_view text, const char* cmd, const std::string& protect_db) {
    const auto refuse = [&](const std::string& why) {
        std::fprintf(stderr, "callwall %s: refusing to write %s: %s\n", cmd, path.c_str(), why.c_str());
        return false;
    };
    if (names_database_file(path, protect_db)) return refuse("it is the database being read (" + protect_db + ")");
    // Through a symbolic link to the file it names, so the link stays a link.
    std::string target = path;
    struct stat old {};
    const bool exists = ::stat(path.c_str(), &old) == 0;
    if (exists) {
        if (S_ISDIR(old.st_mode)) return refuse("it is a directory");
        if (char* real = ::realpath(path.c_str(), nullptr)) {
            target = real;
            std::free(real);
        }
        if (same_file(old, protect_db) || same_file(old, protect_db + "-wal") || same_file(old, protect_db + "-shm"))
            return refuse("it is the database being read (" + protect_db + ")");
        if (S_ISREG(old.st_mode) && is_sqlite_file(target)) return refuse("it is a SQLite database");
        if (!S_ISREG(old.st_mode)) return refuse("it is not a regular file");
    }
    const auto fail = [&](int err) {
        std::fprintf(stderr, "callwall %s: cannot write %s: %s%s\n", cmd, path.c_str(), std::strerror(err),
                     exists ? " (the file is left as it was)" : "");
        return false;
    };
    const auto slash = target.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : target.substr(0, slash));
    const std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
    std::string tmp = dir + "/." + base + ".tmp-XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) return fail(errno);
    // The new file gets the old one's permissions (and owner, when allowed),
    // or those a plain create would give.
    if (exists) {
        ::fchmod(fd, old.st_mode & 07777);
        [[maybe_unused]] const int owned = ::fchown(fd, old.st_uid, old.st_gid);  // only root may give it away
    } else {
        const mode_t mask = ::umask(0);
        ::umask(mask);
        ::fchmod(fd, 0666 & ~mask);
    }
    int err = 0;
    if (!write_all(fd, text) || ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err == 0 && ::rename(tmp.c_str(), target.c_str()) != 0) err = errno;
    if (err != 0) {
        ::unlink(tmp.c_str());
        return fail(err);
    }
    return true;
}

std::string refuse_output(const std::string& path, OutputKind kind, const std::vector<std::string>& inputs) {
    if (path.empty() || path == "-") return "";
    for (const std::string& in : inputs)
        if (names_database_file(path, in))
            return std::string(kind == OutputKind::Report ? "it is the database being read"
                                                          : "it is an input of this run") +
                   " (" + in + ")";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "";  // a new file (or one the open will report)
    for (const std::string& in : inputs) {
        if (in.empty() || in == "-") continue;
        for (const char* suffix : {"", "-wal", "-shm"})
            if (same_file(st, in + suffix))
                return std::string(kind == OutputKind::Report ? "it is the database being read"
                                                              : "it is an input of this run") +
                       " (" + in + ")";
    }
    if (S_ISDIR(st.st_mode)) return "it is a directory";
    if (!S_ISREG(st.st_mode)) {
        if ((kind == OutputKind::Events || kind == OutputKind::Export) && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
            return "";
        return "it is not a regular file";
    }
    if (st.st_size == 0) return "";
    const std::string head = util::regular_file_head(path, 2048);
    if (util::is_sqlite_head(head)) return "it is a SQLite database";
    const std::string_view h(head);
    const auto starts = [&](std::string_view p) { return h.substr(0, p.size()) == p; };
    bool ours = false;
    switch (kind) {
        case OutputKind::Events: ours = starts("{\"schema_version\":"); break;
        case OutputKind::Metrics: ours = starts("# HELP callwall_"); break;
        case OutputKind::Export: ours = starts("run_id,") || starts("{\"run_id\":"); break;
        case OutputKind::Report:
            ours = starts("{\"schema_version\":") || starts("run_id,entry_id,") || starts("across ") ||
                   (starts("run ") && h.find(" (") != std::string_view::npos) ||
                   (starts("<!DOCTYPE html>") && h.find("callwall") != std::string_view::npos);
            break;
    }
    if (ours) return "";
    const char* what = kind == OutputKind::Events    ? "an event log"
                       : kind == OutputKind::Metrics ? "a metrics file"
                       : kind == OutputKind::Export  ? "an export"
                                                     : "a report";
    return "it exists and is not " + std::string(what) + " callwall wrote";
}

bool fail_on_matches(const std::vector<std::string>& verdicts, const std::string& fail_on) {
    for (const auto& v : verdicts) {
        if (v == "blocked") return true;
        if (fail_on == "partial" && v == "partial") return true;
    }
    return false;
}

std::optional<Verbosity> verbosity_of(const char* cmd, bool quiet, bool verbose, bool events_to_stdout) {
    if (quiet && verbose) {
        std::fprintf(stderr, "callwall %s: -q (--quiet) and -v (--verbose) together: give one\n", cmd);
        return std::nullopt;
    }
    if (events_to_stdout && verbose) {
        std::fprintf(stderr, "callwall %s: -v with --events -: standard output carries the events only\n", cmd);
        return std::nullopt;
    }
    return quiet || events_to_stdout ? Verbosity::quiet : verbose ? Verbosity::verbose : Verbosity::normal;
}

int attribute_and_print(const char* cmd, run::Session& session, const std::vector<std::string>& vendors,
                        const std::string& fail_on, Verbosity verbosity,
                        const std::function<void(const attrib::RunVerdicts&)>& after, bool all_rows) try {
    // Ctrl-C (or SIGTERM) that arrives during the attribution stops it: the
    // run is then marked interrupted and has no verdicts.
    const std::sig_atomic_t signals_before = g_stop_count;
    const bool quiet = verbosity == Verbosity::quiet;
    const bool answers = !quiet || !fail_on.empty();  // the report is built (printed, or judged by --fail-on)
    const auto verdicts =
        session.attribute([signals_before] { return g_stop_count != signals_before; }, /*keep_detail=*/answers);
    if (!verdicts) {
        std::fprintf(stderr, "callwall %s: interrupted during attribution: run %lld has no verdicts\n", cmd,
                     static_cast<long long>(session.run_id()));
        return kExitOk;
    }
    if (after) after(*verdicts);
    if (!answers) return kExitOk;  // nothing to print or decide
    report::ReportOptions opt;
    opt.run = session.run_id();
    opt.vendors = vendors;
    opt.all_entries = all_rows && vendors.empty();
    const report::ReportData d = run::answer(session, *verdicts, opt);
    report::TextOptions text;
    text.evidence = verbosity == Verbosity::verbose;
    text.all_rows = all_rows;
    if (!quiet && !write_stdout(report::render_text(d, text), cmd)) return kExitOutput;
    if (fail_on.empty()) return kExitOk;
    std::vector<std::string> vs;
    for (const auto& v : d.verdicts) vs.push_back(v.verdict);
    return fail_on_matches(vs, fail_on) ? kExitFailOn : kExitOk;
} catch (const store::StoreError& e) {
    // A write that failed behind the run's end (the last batch, committed by
    // the writer thread) shows here: the run is marked failed, with the
    // reason, as it is when the error shows during the read.
    session.fail(e);
    return report_store_error(e);
} catch (const std::runtime_error& e) {
    std::fprintf(stderr, "callwall: %s\n", e.what());
    return kExitDatabase;
}

int check_events(const char* cmd, const run::Session& session, int rc) {
    const std::string err = session.events_error();
    if (err.empty()) return rc;
    std::fprintf(stderr, "callwall %s: events not written: %s\n", cmd, err.c_str());
    return (rc == kExitOk || rc == kExitFailOn) ? kExitOutput : rc;
}

}  // namespace callwall::cli
