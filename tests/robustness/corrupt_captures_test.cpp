// Damaged captures: tools/mutate_captures.py writes ≥1000 mutated copies of
// the bundled (and shared public) captures; `callwall analyze` runs on each.
// Every run must end with exit 0 (the damage counted in the run row) or exit 3
// (one clear line), within a time bound and without a sanitizer report.
//
// Environment knobs (for reproducing a failure): CALLWALL_MUTATE_COUNT
// (default 1000), CALLWALL_MUTATE_SEED (default 1), CALLWALL_MUTATE_KEEP=1
// keeps the mutated files.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <map>
#include <set>

#include "robustness/robustness_util.hpp"

namespace callwall::robustness {
namespace {

struct Mutant {
    std::string file, source, mutation, expect, detail;
};

std::vector<Mutant> read_manifest(const std::string& path) {
    std::vector<Mutant> out;
    for (const auto& line : split_lines(read_file(path))) {
        std::array<std::string, 5> f;
        size_t i = 0, k = 0;
        for (; k < 4; ++k) {
            const size_t t = line.find('\t', i);
            if (t == std::string::npos) break;
            f[k] = line.substr(i, t - i);
            i = t + 1;
        }
        if (k < 4) continue;
        f[4] = line.substr(i);
        out.push_back(Mutant{f[0], f[1], f[2], f[3], f[4]});
    }
    return out;
}

int env_int(const char* name, int dflt) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : dflt;
}

// Parallel processes (the machine is shared: at most 2) and time bounds.
constexpr int kParallel = 2;
constexpr double kPerFileTimeoutS = 60;  // ASan; the largest input is 512 KiB

/// Checks one finished run; returns "" or what is wrong.
std::string check_one(const Mutant& m, const std::string& path, const std::string& db_path, const ExitInfo& ex,
                      const std::string& err) {
    if (ex.timed_out) return "hang: " + ex.describe();
    if (!ex.exited) return "crash: " + ex.describe() + "\n" + head(err, 20);
    if (has_sanitizer_report(err)) return "sanitizer report (" + ex.describe() + "):\n" + head(err, 20);
    const auto lines = split_lines(err);
    if (ex.code == 3) {
        if (lines.size() != 1 || lines[0].rfind("callwall: " + path + ": ", 0) != 0)
            return "exit 3 without exactly one 'callwall: FILE: ...' line:\n" + head(err);
        return "";
    }
    if (ex.code != 0) return "unexpected " + ex.describe() + ":\n" + head(err);

    // Exit 0: the only thing on stderr may be the damage warning, once.
    size_t warnings = 0;
    for (const auto& l : lines) {
        if (l.rfind("callwall: warning: " + path + ": damaged after ", 0) == 0 &&
            l.find("; continuing") != std::string::npos)
            ++warnings;
        else
            return "exit 0 with unexpected stderr line: " + l;
    }
    if (warnings > 1) return "more than one damage warning for one file";

    Db db(db_path, true);
    if (!db.ok()) return "exit 0 but the database does not open: " + db.error();
    const auto run = db.rows(
        "SELECT status, packets, truncated_packets, undecoded_packets, orphan_fragments, damaged_files, flows, notes "
        "FROM run");
    if (run.size() != 1) return "expected one run row, got " + std::to_string(run.size());
    const std::string status = db.text("SELECT status FROM run");
    if (status != "completed") return "run status '" + status + "', expected 'completed'";
    const long long packets = db.integer("SELECT packets FROM run");
    const long long truncated = db.integer("SELECT truncated_packets FROM run");
    const long long undecoded = db.integer("SELECT undecoded_packets FROM run");
    const long long orphans = db.integer("SELECT orphan_fragments FROM run");
    const long long damaged = db.integer("SELECT damaged_files FROM run");
    const long long flows = db.integer("SELECT flows FROM run");
    const std::string notes = db.text("SELECT notes FROM run");
    const long long flow_rows = db.integer("SELECT count(*) FROM flow");
    const long long flow_packets = db.integer("SELECT coalesce(sum(packets_c2s + packets_s2c), 0) FROM flow");
    std::ostringstream why;
    if (damaged != static_cast<long long>(warnings))
        why << "damaged_files=" << damaged << " but " << warnings << " damage warning(s) on stderr; ";
    if (damaged == 1 && notes.find("reading stopped after") == std::string::npos)
        why << "damaged file without a note saying where reading stopped; ";
    if (m.expect == "damaged" && damaged != 1) why << "the damage was not counted (damaged_files=" << damaged << "); ";
    if (truncated < 0 || truncated > packets)
        why << "truncated_packets=" << truncated << " > packets=" << packets << "; ";
    if (undecoded < 0 || undecoded > packets)
        why << "undecoded_packets=" << undecoded << " > packets=" << packets << "; ";
    if (flows != flow_rows) why << "run.flows=" << flows << " but " << flow_rows << " flow rows; ";
    if (flow_packets > packets - undecoded - orphans)
        why << "flows hold " << flow_packets << " packets, more than the " << packets - undecoded - orphans
            << " decoded ones; ";
    const long long entries = db.integer("SELECT count(*) FROM catalog_entry");
    const long long verdicts = db.integer("SELECT count(*) FROM verdict");
    if (entries <= 0 || verdicts != entries)
        why << "verdicts not computed (" << verdicts << " verdicts for " << entries << " catalog entries); ";
    return why.str();
}

TEST(CorruptCaptures, MutatedCapturesNeverCrashHangOrTripSanitizers) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    if (!executable(kPython)) GTEST_SKIP() << kPython << " is missing: cannot generate mutated captures";
    const int count = env_int("CALLWALL_MUTATE_COUNT", 1000);
    const int seed = env_int("CALLWALL_MUTATE_SEED", 1);
    TempDir dir("mutants");
    ASSERT_TRUE(dir.ok());
    if (env_int("CALLWALL_MUTATE_KEEP", 0)) dir.keep();
    const std::string mdir = dir / "m";
    const auto gen = run({kPython, source_dir() + "/tools/mutate_captures.py", "--out", mdir, "--count",
                          std::to_string(count), "--seed", std::to_string(seed)},
                         300);
    ASSERT_TRUE(gen.exit.exited && gen.exit.code == 0) << "mutate_captures.py: " << gen.exit.describe() << "\n"
                                                       << gen.err;
    const auto mutants = read_manifest(mdir + "/MANIFEST.tsv");
    ASSERT_EQ(mutants.size(), static_cast<size_t>(count));

    struct Slot {
        Process proc;
        size_t index = 0;
        bool busy = false;
    };
    std::array<Slot, kParallel> slots;
    std::deque<size_t> queue;
    for (size_t i = 0; i < mutants.size(); ++i) queue.push_back(i);
    std::map<std::string, std::map<std::string, int>> table;  // mutation -> outcome -> count
    std::vector<std::string> failures;
    double slowest = 0;
    std::string slowest_file;
    const double t0 = now_s();

    auto db_of = [&](size_t s) { return dir / ("db" + std::to_string(s) + ".sqlite"); };
    auto err_of = [&](size_t s) { return dir / ("err" + std::to_string(s) + ".txt"); };
    auto remove_db = [](const std::string& p) {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(p + suffix);
    };

    size_t finished = 0;
    while (finished < mutants.size()) {
        for (size_t s = 0; s < slots.size(); ++s) {
            Slot& slot = slots[s];
            if (!slot.busy && !queue.empty()) {
                slot.index = queue.front();
                queue.pop_front();
                remove_db(db_of(s));
                const std::string path = mdir + "/" + mutants[slot.index].file;
                slot.proc = Process({bin, "analyze", "-q", path, "--db", db_of(s)}, "", err_of(s));
                slot.busy = true;
                if (!slot.proc.started()) {
                    failures.push_back(mutants[slot.index].file + ": could not start " + bin);
                    slot.busy = false;
                    ++finished;
                }
                continue;
            }
            if (!slot.busy) continue;
            bool done = slot.proc.poll();
            if (!done && slot.proc.elapsed() > kPerFileTimeoutS) {
                slot.proc.wait(0);  // kills and marks as timed out
                done = true;
            }
            if (!done) continue;
            const Mutant& m = mutants[slot.index];
            const std::string path = mdir + "/" + m.file;
            const ExitInfo& ex = slot.proc.info();
            const std::string problem = check_one(m, path, db_of(s), ex, read_file(err_of(s)));
            const std::string outcome = !ex.exited         ? "crash/hang"
                                        : !problem.empty() ? "FAILED"
                                        : ex.code == 3     ? "exit 3"
                                        : Db(db_of(s), true).integer("SELECT damaged_files FROM run") > 0
                                            ? "exit 0 damaged"
                                            : "exit 0 clean";
            ++table[m.mutation][outcome];
            if (!problem.empty())
                failures.push_back(m.file + " (" + m.mutation + ": " + m.detail + "; from " + m.source +
                                   "): " + problem);
            if (ex.seconds > slowest) {
                slowest = ex.seconds;
                slowest_file = m.file;
            }
            slot.busy = false;
            ++finished;
            remove_db(db_of(s));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const double elapsed = now_s() - t0;

    std::ostringstream summary;
    summary << mutants.size() << " mutated captures analysed in " << static_cast<int>(elapsed) << " s (slowest "
            << slowest_file << ", " << slowest << " s)\n";
    for (const auto& [mutation, outcomes] : table) {
        summary << "  " << mutation << ":";
        for (const auto& [o, n] : outcomes) summary << " " << o << "=" << n;
        summary << "\n";
    }
    std::cout << summary.str();
    if (!failures.empty()) {
        dir.keep();
        std::ostringstream msg;
        msg << failures.size() << " of " << mutants.size() << " mutated captures failed; files kept in " << mdir
            << " (regenerate: tools/mutate_captures.py --seed " << seed << " --count " << count << " --out DIR)\n";
        for (size_t i = 0; i < failures.size() && i < 25; ++i) msg << "- " << failures[i] << "\n";
        ADD_FAILURE() << msg.str();
    }
}

}  // namespace
}  // namespace callwall::robustness
