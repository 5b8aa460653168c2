// Subcommand entry points. Each takes the arguments after the subcommand name
// (argv[0] is the subcommand itself) and returns the process exit code.
// Only src/cli/ uses Boost.Program_options.
#pragma once

namespace callwall::cli {

int run_analyze(int argc, char** argv);
int run_capture(int argc, char** argv);
int run_report(int argc, char** argv);
int run_catalog(int argc, char** argv);
int run_probe(int argc, char** argv);
int run_reflect(int argc, char** argv);
int run_audit(int argc, char** argv);
int run_merge(int argc, char** argv);
int run_export(int argc, char** argv);

/// Exit codes, documented in the README.
enum ExitCode : int {
    kExitOk = 0,
    kExitUsage = 2,  ///< bad command line
    kExitInput = 3,  ///< capture file/interface missing, unreadable, not a capture, unknown link type
    kExitCatalog = 4,  ///< catalog directory/file invalid
    kExitDatabase = 5,  ///< database cannot be opened/written/is not ours/newer schema
    kExitPermission = 6,  ///< no permission to capture
    kExitOutput =
        7,  ///< standard output, -o FILE, --events, --metrics or --export could not be written, or was refused
    kExitFailOn = 10,  ///< --fail-on matched (report/analyze)
    kExitUnfinished = 11,  ///< --fail-on on a run that did not finish (still `running`, or `failed`)
    kExitInternal = 70,  ///< a bug: unexpected exception
};

}  // namespace callwall::cli
