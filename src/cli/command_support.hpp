// What the commands share: the stop and SIGHUP flags their loops poll;
// opening a run session and rendering its end (the summary, the verdict
// table, an event file that failed); loading the catalog and checking
// --vendor; dropping privileges and reading the reflector's key; -q/-v; and
// output that never destroys (checked writes to standard output and files,
// outputs refused when they are an input or not callwall's).
#pragma once

#include <functional>
#include <memory>
#include <csignal>
#include <string>
#include <string_view>
#include <vector>

#include <optional>

#include "catalog/catalog.hpp"
#include "run/session.hpp"
#include "store/store.hpp"

namespace callwall::cli {

/// Set by SIGINT/SIGTERM; the packet loops poll it.
extern volatile std::sig_atomic_t g_stop_signal;
/// How many SIGINT/SIGTERM arrived (one during the final attribution stops it).
extern volatile std::sig_atomic_t g_stop_count;
void install_stop_handlers();
/// Set by SIGHUP where a command installs it (capture: end this run, start the next).
extern volatile std::sig_atomic_t g_hup_signal;
void install_hup_handler();

std::string join_command_line(int argc, char** argv);

/// Prints the end-of-run summary (packets, flows by state, time, packets/s).
void print_summary(std::FILE* out, const run::Session& s, double elapsed_s);

/// Maps exceptions thrown at start-up or by the store to one line and an exit code.
/// True when both paths name one existing file (the same device and inode:
/// also through a link or another spelling of the path).
bool same_file(const std::string& a, const std::string& b);

int report_store_error(const store::StoreError& e);

/// Opens the run (its database, its event file, its run row). Null, after
/// the one-line message, with `rc` the exit code when it cannot: 7 for the
/// event file, the database's code (report_store_error) for the store.
std::unique_ptr<run::Session> open_session(const char* cmd, run::Options options, int& rc);

/// Drops root for the named user. Returns an error message, or "" on success
/// (or when not root, or `user` is "root" or empty: nothing to drop).
std::string drop_privileges(const std::string& user);

/// Gives a file we created as root to the user we will drop to (so it can
/// still read it); nothing when there is nothing to drop. False on failure.
bool give_to_user(int fd, const std::string& user);

/// The environment variable that holds the reflector's key for `reflect`
/// and `probe` when neither --key-file nor --key is given.
inline constexpr const char* kReflectKeyEnv = "CALLWALL_REFLECT_KEY";

/// The reflector's key from --key-file (`file`: at most 4 KiB, its first
/// line), --key (`arg`: visible to every user in ps, so a warning goes to
/// stderr), or kReflectKeyEnv, in that order. "" with the key in *key (empty
/// when none was given), else a one-line error naming the source.
std::string read_reflect_key(const std::string& file, const std::string& arg, const char* cmd, std::string* key);

/// Loads the bundled catalog (unless no_bundled) plus extra directories/files.
/// On errors prints every diagnostic (file:line:column) and returns nullopt.
std::optional<catalog::Catalog> load_catalog(const std::vector<std::string>& extra, bool no_bundled);

/// "" when the catalog knows every --vendor name (case-insensitive), else a
/// one-line message naming the unknown ones and the known vendors.
std::string unknown_vendors(const catalog::Catalog& c, const std::vector<std::string>& vendors);

/// Makes each --edition name judge its vendor (catalog::Catalog::choose_edition);
/// "" when every name is known, else the first one-line reason.
std::string choose_editions(catalog::Catalog& c, const std::vector<std::string>& editions);

/// The --edition option's help text (analyze, capture).
inline constexpr const char* kEditionHelp =
    "judge the vendor by this edition of its document (an edition's name, or its catalog file's; "
    "repeatable, one per vendor); default: each vendor's newest edition. Every edition's verdicts are kept";

/// What a command prints: nothing but errors (-q), the verdict table, or
/// the table with the flows behind each verdict (-v).
enum class Verbosity { quiet, normal, verbose };
/// -q and -v of a parsed command line: quiet also when the event lines go
/// to standard output (they are the output then). nullopt (after a one-line
/// message) for -q with -v, or -v with events on standard output.
std::optional<Verbosity> verbosity_of(const char* cmd, bool quiet, bool verbose, bool events_to_stdout = false);

/// Attributes the run (the session's final attribution), then prints its verdict table (vendors seen, or `vendors`).
/// Returns kExitOutput (after a one-line message) when standard output
/// cannot be written, kExitFailOn when `fail_on` ("blocked" or "partial") matches, kExitDatabase
/// (after a one-line message) when the database fails, else kExitOk.
/// `after` (optional) runs with the verdicts before anything is printed (it
/// may record allow-lists through the session, which the printed report
/// then shows). What is printed comes from memory (run/answer.hpp).
/// `all_rows` (`--all`): every requirement's row in catalog order, and
/// without `vendors` the entries of the vendors not seen too.
int attribute_and_print(const char* cmd, run::Session& session, const std::vector<std::string>& vendors,
                        const std::string& fail_on, Verbosity verbosity,
                        const std::function<void(const attrib::RunVerdicts&)>& after = {}, bool all_rows = false);

/// The end of a run's command: when the event file could not be written,
/// one line and kExitOutput (unless `rc` is already an error).
int check_events(const char* cmd, const run::Session& session, int rc);

// Output that never destroys. Every write to standard output or to a named
// output file is checked; a failure is one line on stderr with the reason
// (strerror) and exit code kExitOutput.

/// Writes `text` to standard output and flushes it. On failure prints
/// "callwall CMD: cannot write standard output: REASON" and returns false.
bool write_stdout(std::string_view text, const char* cmd);

/// Replaces the file `path` (or, for a symbolic link, the file it names) with
/// `text`: written to a temporary file in the same directory, synced, then
/// renamed over it, so an error or a full disk leaves the old file as it
/// was. Refuses the database being read (`protect_db`, with its -wal and
/// -shm; compared by device and inode, so other spellings and links count)
/// and any existing SQLite file. Prints one line and returns false on failure.
bool write_output_file(const std::string& path, std::string_view text, const char* cmd, const std::string& protect_db);

/// What a command writes besides its database, for refuse_output.
enum class OutputKind { Report, Events, Metrics, Export };

/// "" when `path` may be written as that output, else why not: it is one of
/// the run's `inputs` (captures, the database with its -wal and -shm; by
/// device and inode, so links and other spellings count), a directory, an
/// SQLite file, or an existing non-empty file whose first bytes are not what
/// callwall writes there (a report: its text, CSV, HTML or JSON head; events:
/// a JSON line with schema_version; metrics: "# HELP callwall_"; a live
/// export: a CSV header or a JSON line that begins with run_id). A FIFO or a
/// character device is fine for events and exports (a pipe to a shipper,
/// /dev/null), not for a report or metrics (those replace the file). "-" is
/// standard output.
std::string refuse_output(const std::string& path, OutputKind kind, const std::vector<std::string>& inputs);

/// The last check of standard output before exit (everything printed with
/// printf/std::cout): flushes it and, if a write failed, prints one line and
/// turns exit code 0 or kExitFailOn (the output they stand for is lost) into
/// kExitOutput; error codes are kept.
int check_stdout_at_exit(const char* cmd, int rc);

/// True if any shown verdict matches --fail-on (blocked: blocked; partial: blocked or partial).
bool fail_on_matches(const std::vector<std::string>& verdicts, const std::string& fail_on);

}  // namespace callwall::cli
