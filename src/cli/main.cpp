// callwall: does this network pass a real-time-communication vendor's traffic?
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <exception>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "callwall/version.hpp"

namespace {

void usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: callwall <command> [options]\n"
                 "\n"
                 "commands:\n"
                 "  analyze FILE... --db OUT     analyze .pcap/.pcapng files into a SQLite database\n"
                 "  capture -i IFACE --db OUT    capture live from an interface (mirror/SPAN port)\n"
                 "  report --db FILE             print a run's verdicts (text, json, csv, html)\n"
                 "  catalog list|show|check|export   inspect and validate the vendor catalog\n"
                 "  probe --vendor V --db OUT   send each requirement's traffic, capture and judge it\n"
                 "  reflect --listen ADDR        answer probes on every port (run outside the firewall)\n"
                 "  audit --nft FILE --db OUT    replay the catalog through a ruleset in a sandbox\n"
                 "  merge SRC... --db OUT        combine the runs of several databases (sites, sensors)\n"
                 "  export --db FILE --record R  write one stored record of a run (csv, jsonl)\n"
                 "\n"
                 "'callwall <command> --help' or 'callwall help <command>' describes each command.\n"
                 "Exit codes: 0 ok, 2 usage, 3 input (capture file/interface), 4 catalog, 5 database,\n"
                 "6 permission, 7 output (standard output, -o FILE or --events not written, or refused),\n"
                 "10 --fail-on matched, 11 --fail-on on a run that did not finish, 70 internal error.\n");
}

}  // namespace

int main(int argc, char** argv) {
    using namespace callwall::cli;
    if (argc < 2) {
        usage(stderr);
        return kExitUsage;
    }
    std::string_view cmd = argv[1];
    // `callwall help COMMAND` is `callwall COMMAND --help`.
    static char help_flag[] = "--help";
    if (cmd == "help" && argc == 3) {
        argv[1] = argv[2];
        argv[2] = help_flag;
        cmd = argv[1];
        if (cmd != "analyze" && cmd != "capture" && cmd != "catalog" && cmd != "probe" && cmd != "reflect" &&
            cmd != "audit" && cmd != "merge" && cmd != "report" && cmd != "export") {
            std::fprintf(stderr, "callwall: unknown command '%s' (try 'callwall --help')\n", argv[1]);
            return kExitUsage;
        }
    }
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        usage(stdout);
        return kExitOk;
    }
    // --version on its own or right after a command (callwall analyze --version).
    if (cmd == "--version" || (argc == 3 && std::string_view(argv[2]) == "--version")) {
        std::printf("callwall %s\n", callwall::kVersion);
        return kExitOk;
    }
    // The commands that run until a signal take SIGINT and SIGTERM from the
    // start: a signal while the catalog loads (the first few hundred
    // milliseconds) ends the run as one later does, with its database and
    // the run marked interrupted, instead of killing the process before it
    // wrote anything.
    if (cmd == "analyze" || cmd == "capture" || cmd == "probe" || cmd == "reflect") install_stop_handlers();
    // A file growing past RLIMIT_FSIZE fails with EFBIG and is reported like
    // any write error, instead of the signal killing the process mid-write.
    std::signal(SIGXFSZ, SIG_IGN);
    // A reader that goes away (`--events - | head -1`) is a write error
    // (EPIPE) the run records and finishes through, not a signal that kills
    // it mid-run with the run left `running`.
    std::signal(SIGPIPE, SIG_IGN);
    // Not a terminal: one buffer for what the commands print with printf, so
    // a failed write shows up in the flush at exit with its errno.
    if (!::isatty(STDOUT_FILENO)) std::setvbuf(stdout, nullptr, _IOFBF, 1 << 18);
    try {
        if (cmd == "analyze") return check_stdout_at_exit(argv[1], run_analyze(argc - 1, argv + 1));
        if (cmd == "capture") return check_stdout_at_exit(argv[1], run_capture(argc - 1, argv + 1));
        if (cmd == "catalog") return check_stdout_at_exit(argv[1], run_catalog(argc - 1, argv + 1));
        if (cmd == "probe") return check_stdout_at_exit(argv[1], run_probe(argc - 1, argv + 1));
        if (cmd == "reflect") return check_stdout_at_exit(argv[1], run_reflect(argc - 1, argv + 1));
        if (cmd == "audit") return check_stdout_at_exit(argv[1], run_audit(argc - 1, argv + 1));
        if (cmd == "merge") return check_stdout_at_exit(argv[1], run_merge(argc - 1, argv + 1));
        if (cmd == "report") return check_stdout_at_exit(argv[1], run_report(argc - 1, argv + 1));
        if (cmd == "export") return check_stdout_at_exit(argv[1], run_export(argc - 1, argv + 1));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "callwall %s: internal error: %s\n", argv[1], e.what());
        return kExitInternal;
    }
    std::fprintf(stderr, "callwall: unknown command '%s' (try 'callwall --help')\n", argv[1]);
    return kExitUsage;
}
