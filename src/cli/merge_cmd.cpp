// callwall merge SRC.sqlite... --db ALL.sqlite: the runs of several sensors'
// databases in one, each keeping where it came from (run.origin).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "store/store.hpp"
#include "store/whole_runs.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

int run_merge(int argc, char** argv) {
    po::options_description opts(
        "callwall merge SRC.sqlite... --db ALL.sqlite\n\n"
        "Copies every run of each source database (several sensors, several sites) into one\n"
        "database: the runs get new ids, their flows, names, matches and verdicts come with\n"
        "them, and run.origin says which file and run each came from. The sources are only\n"
        "read.\n\noptions");
    std::string db_path;
    std::vector<std::string> sources;
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("db", po::value(&db_path)->value_name("FILE"), "database to create or append to (required)")
        ("quiet,q", "print nothing but errors");
    po::options_description hidden;
    hidden.add_options()("source", po::value(&sources)->composing(), "source databases");
    // clang-format on
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("source", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall merge: %s (try 'callwall merge --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts
                  << "\nexample:\n  callwall merge site-a.sqlite site-b.sqlite --db all.sqlite\n"
                     "  callwall report --db all.sqlite --run 2      (each run as before; 'run' lists origin)\n"
                     "\nExit codes: 0 ok, 2 usage, 5 database (a source or the target not callwall's, newer, "
                     "unreadable).\n";
        return kExitOk;
    }
    if (db_path.empty() || sources.empty()) {
        std::fprintf(stderr, "callwall merge: one or more source databases and --db are required\n");
        return kExitUsage;
    }
    for (const auto& s : sources) {
        if (s == db_path || same_file(s, db_path)) {
            std::fprintf(stderr, "callwall merge: %s is both a source and the --db target\n", s.c_str());
            return kExitUsage;
        }
    }
    const bool quiet = vm.count("quiet") > 0;
    try {
        // Every source is checked before the target is opened: a bad one
        // leaves the target untouched.
        for (const auto& s : sources) store::check_merge_source(s);
        auto db = store::Store::open(db_path);
        for (const auto& s : sources) {
            bool without_wal = false;
            const auto runs = store::merge_from(*db, s, s, &without_wal);
            if (without_wal)
                std::fprintf(stderr,
                             "callwall merge: warning: read %s without its -wal (its -wal/-shm files cannot be "
                             "opened here): the last commits of a running or killed run may be missing\n",
                             s.c_str());
            if (quiet) continue;
            std::printf("%s: %zu run(s)\n", s.c_str(), runs.size());
            for (const auto& r : runs)
                std::printf("  run %lld (%s, %s) -> run %lld: %s\n", static_cast<long long>(r.from_id), r.kind.c_str(),
                            r.status.c_str(), static_cast<long long>(r.to_id), r.source.c_str());
        }
        if (!quiet) std::printf("into %s\n", db_path.c_str());
    } catch (const store::StoreError& e) {
        return report_store_error(e);
    }
    return kExitOk;
}

}  // namespace callwall::cli
