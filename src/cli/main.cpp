// callwall: does this network pass a real-time-communication vendor's traffic?
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "cli/commands.hpp"
#include "callwall/version.hpp"

namespace {

void usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: callwall <command> [options]\n"
                 "\n"
                 "commands:\n"
                 "  analyze FILE... --db OUT     analyse .pcap/.pcapng files into a SQLite database\n"
                 "  capture -i IFACE --db OUT    capture live from an interface (mirror/SPAN port)\n"
                 "  report --db FILE             print a run's verdicts (text, json, csv, html)\n"
                 "  catalog list|show|check|export   inspect and validate the vendor catalog\n"
                 "\n"
                 "'callwall <command> --help' describes each command. Exit codes: 0 ok, 2 usage,\n"
                 "3 input (capture file/interface), 4 catalog, 5 database, 6 permission, 10 --fail-on matched,\n"
                 "70 internal error.\n");
}

}  // namespace

int main(int argc, char** argv) {
    using namespace callwall::cli;
    if (argc < 2) {
        usage(stderr);
        return kExitUsage;
    }
    const std::string_view cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        usage(stdout);
        return kExitOk;
    }
    if (cmd == "--version") {
        std::printf("callwall %s\n", callwall::kVersion);
        return kExitOk;
    }
    try {
        if (cmd == "analyze") return run_analyze(argc - 1, argv + 1);
        if (cmd == "capture") return run_capture(argc - 1, argv + 1);
        if (cmd == "catalog") return run_catalog(argc - 1, argv + 1);
        if (cmd == "report") return run_report(argc - 1, argv + 1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "callwall %s: internal error: %s\n", argv[1], e.what());
        return kExitInternal;
    }
    std::fprintf(stderr, "callwall: unknown command '%s' (try 'callwall --help')\n", argv[1]);
    return kExitUsage;
}
