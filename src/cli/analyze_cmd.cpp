// callwall analyze FILE... --db OUT.sqlite
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "attrib/attrib.hpp"
#include "run/read_loop.hpp"
#include "run/session.hpp"
#include "capture/pcap_source.hpp"
#include "capture/read_ahead.hpp"
#include "store/store.hpp"
#include "cli/commands.hpp"
#include "cli/inputs.hpp"
#include "cli/command_support.hpp"
#include "util/clock.hpp"

namespace po = boost::program_options;

namespace callwall::cli {
namespace {

class Progress {
public:
    Progress(bool enabled, uint64_t total_bytes) : enabled_(enabled), total_(total_bytes) {}
    void tick(const run::Session& s, uint64_t bytes_read, size_t file_no, size_t files) {
        if (!enabled_) return;
        const double now = util::mono_s();
        if (now - last_ < 0.5) return;
        if (start_ == 0) start_ = now;
        last_ = now;
        const double pct = total_ ? 100.0 * static_cast<double>(bytes_read) / static_cast<double>(total_) : 0;
        std::fprintf(stderr, "\r[%zu/%zu] %5.1f%%  %llu packets  %zu live flows   ", file_no, files, pct,
                     static_cast<unsigned long long>(s.totals().packets), s.counts().live_flows);
        std::fflush(stderr);
        shown_ = true;
    }
    void done() {
        if (shown_) std::fprintf(stderr, "\r%*s\r", 70, "");
    }

private:
    bool enabled_;
    uint64_t total_;
    double last_ = 0, start_ = 0;
    bool shown_ = false;
};

struct AnalyzeArgs {
    std::string db_path;
    std::vector<std::string> files;
    int64_t max_flows = 1u << 20;
    std::vector<std::string> catalog_dirs, vendors, editions;
    std::string fail_on, events_path, filter;
    int threads = 0;
    int workers = 1;
    bool quiet = false, no_bundled = false, keep_order = false, detail = false;
    bool all_rows = false;  ///< --all: every requirement's row, in catalog order
    Verbosity verbosity = Verbosity::normal;
};

// The command line into `a`; an exit code when the command ends here (help, usage error).
std::optional<int> parse_args(int argc, char** argv, AnalyzeArgs& a) {
    po::options_description opts(
        "callwall analyze FILE... --db OUT.sqlite [options]\n\n"
        "Reads .pcap/.pcapng files (plain, .gz, .zst or .xz; - is standard input), in the\n"
        "order of their first packets, as one run, into the database.\n\n"
        "options");
    std::string& db_path = a.db_path;
    std::vector<std::string>& files = a.files;
    int64_t& max_flows = a.max_flows;
    std::vector<std::string>& catalog_dirs = a.catalog_dirs;
    std::vector<std::string>& vendors = a.vendors;
    std::string& fail_on = a.fail_on;
    std::string& events_path = a.events_path;
    int& threads = a.threads;
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("db", po::value(&db_path)->value_name("FILE"), "SQLite database to create or append to (required)")
        ("catalog", po::value(&catalog_dirs)->composing()->value_name("DIR"), "add (or replace, by file name) catalog files from DIR")
        ("no-bundled-catalog", "use only the --catalog directories")
        ("vendor", po::value(&vendors)->composing()->value_name("NAME"), "print these vendors' verdicts (default: vendors seen)")
        ("edition", po::value(&a.editions)->composing()->value_name("NAME"), kEditionHelp)
        ("all", "print every requirement's row in catalog order (by default each product lists the rows that decide "
         "it and folds those not exercised into one line); without --vendor, also the vendors not seen")
        ("fail-on", po::value(&fail_on)->value_name("blocked|partial"), "exit 10 when a shown verdict is blocked (or partial)")
        ("max-flows", po::value(&max_flows)->value_name("N"), "bound on live flows (default 1048576)")
        ("threads", po::value(&threads)->value_name("1|2"),
         "2: read each capture file, and write the database, on threads beside the one that analyzes (the "
         "default when the machine has more than one CPU; pipes and FIFOs are always read on the analyzing "
         "thread); 1: everything on one core")
        ("workers", po::value(&a.workers)->value_name("N"),
         "decode on N threads (2 to 64), each with its own share of the flows (by address pair), beside the "
         "reading and writing threads; the database is the same as with 1 (the default). Not with --events or "
         "--threads 1")
        ("filter", po::value(&a.filter)->value_name("BPF"), "read only the packets this BPF expression (tcpdump syntax) matches")
        ("keep-order", "read the files in the order given, not by their first packet's time")
        ("detail", "also keep a row per DNS question, DNS answer, TLS/QUIC hello, STUN message and ICMP error "
         "(tables dns_query, dns_answer, tls_hello, stun_message, icmp_error); without it those tables stay empty, "
         "each flow's row carries the summary and dns_name counts the questions per name (verdicts and reports are "
         "the same)")
        ("events", po::value(&events_path)->value_name("FILE"),
         "also write JSON lines (run, flows, vendor names and DNS answers, verdicts) to FILE, appended; '-' for "
         "standard output (docs/events.schema.json)")
        ("quiet,q", "no progress and no summary")
        ("verbose,v", "also list under each requirement the flows its verdict rests on (5-tuple, packets, state, "
         "outcome, name, ICMP)");
    // clang-format on
    po::options_description hidden;
    // clang-format off
    hidden.add_options()("file", po::value(&files)->composing());
    // clang-format on
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("file", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall analyze: %s (try 'callwall analyze --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout
            << opts
            << "\nexamples:\n"
               "  callwall analyze call.pcapng --db call.sqlite\n"
               "  callwall analyze site-a/*.pcap --db audit.sqlite --vendor whereby --fail-on blocked\n"
               "\nExit codes: 0 ok, 2 usage, 3 input file, 4 catalog, 5 database, 7 standard output or --events\n"
               "not written (a closed pipe included: the run still finishes) or --events refused, 10 --fail-on matched.\n";
        return kExitOk;
    }
    if (files.empty()) {
        std::fprintf(stderr, "callwall analyze: no capture files given (try 'callwall analyze --help')\n");
        return kExitUsage;
    }
    if (db_path.empty()) {
        std::fprintf(stderr, "callwall analyze: --db FILE is required\n");
        return kExitUsage;
    }
    // Event lines on standard output are the output: nothing else is printed there.
    const auto verbosity = verbosity_of("analyze", vm.count("quiet") > 0, vm.count("verbose") > 0, events_path == "-");
    if (!verbosity) return kExitUsage;
    a.verbosity = *verbosity;
    a.quiet = a.verbosity == Verbosity::quiet;
    a.all_rows = vm.count("all") > 0;
    a.no_bundled = vm.count("no-bundled-catalog") > 0;
    a.keep_order = vm.count("keep-order") > 0;
    a.detail = vm.count("detail") > 0;
    if (vm.count("threads") && threads != 1 && threads != 2) {
        std::fprintf(stderr, "callwall analyze: --threads takes 1 or 2, not %d\n", threads);
        return kExitUsage;
    }
    if (a.workers < 1 || a.workers > 64) {
        std::fprintf(stderr, "callwall analyze: --workers takes 1 to 64, not %d\n", a.workers);
        return kExitUsage;
    }
    if (a.workers > 1 && (threads == 1 || !events_path.empty())) {
        std::fprintf(stderr, "callwall analyze: --workers %d cannot go with %s\n", a.workers,
                     threads == 1 ? "--threads 1" : "--events");
        return kExitUsage;
    }
    if (max_flows < 1 || max_flows > int64_t{UINT32_MAX}) {
        std::fprintf(stderr, "callwall analyze: --max-flows takes a number of flows from 1 to %u, not %lld\n",
                     UINT32_MAX, static_cast<long long>(max_flows));
        return kExitUsage;
    }
    if (!fail_on.empty() && fail_on != "blocked" && fail_on != "partial") {
        std::fprintf(stderr, "callwall analyze: --fail-on takes 'blocked' or 'partial', not '%s'\n", fail_on.c_str());
        return kExitUsage;
    }
    return std::nullopt;
}

}  // namespace

int run_analyze(int argc, char** argv) {
    AnalyzeArgs args;
    if (const std::optional<int> done = parse_args(argc, argv, args)) return *done;
    std::string& db_path = args.db_path;
    std::vector<std::string>& files = args.files;
    const std::vector<std::string>& vendors = args.vendors;
    const std::string& fail_on = args.fail_on;
    const bool quiet = args.quiet;
    const int threads = args.threads;
    auto cat = load_catalog(args.catalog_dirs, args.no_bundled);
    if (!cat) return kExitCatalog;
    if (const std::string bad = unknown_vendors(*cat, vendors); !bad.empty()) {
        std::fprintf(stderr, "callwall analyze: --vendor: %s\n", bad.c_str());
        return kExitUsage;
    }
    if (const std::string bad = choose_editions(*cat, args.editions); !bad.empty()) {
        std::fprintf(stderr, "callwall analyze: --edition: %s\n", bad.c_str());
        return kExitUsage;
    }

    Inputs in;
    if (const int rc = open_inputs(files, args.filter, args.keep_order, in); rc != kExitOk) return rc;
    files = std::move(in.files);
    auto& sources = in.sources;
    const uint64_t total_bytes = in.total_bytes;
    {
        std::vector<std::string> run_inputs = files;
        run_inputs.push_back(db_path);
        if (const std::string why = refuse_output(args.events_path, OutputKind::Events, run_inputs); !why.empty()) {
            std::fprintf(stderr, "callwall analyze: --events %s: %s\n", args.events_path.c_str(), why.c_str());
            return kExitOutput;
        }
    }

    run::Options ro;
    ro.db_path = db_path;
    ro.kind = "analyze";
    ro.sources = files;
    ro.command_line = join_command_line(argc, argv);
    ro.catalog = &*cat;
    ro.max_flows = static_cast<uint32_t>(args.max_flows);
    ro.events_path = args.events_path;
    ro.per_message_rows = args.detail;
    // Beside the reader thread, a writer thread of the store's: the decoding
    // thread never waits for SQLite (--threads 1 writes inline, on one core).
    const bool second_core = threads == 2 || (threads == 0 && std::thread::hardware_concurrency() > 1);
    ro.write_behind = second_core || args.workers > 1;
    ro.workers = args.workers;
    int open_rc = kExitOk;
    const std::unique_ptr<run::Session> session = open_session("analyze", std::move(ro), open_rc);
    if (!session) return open_rc;

    for (const std::string& line : in.skipped) session->note(line + "\n");
    install_stop_handlers();
    Progress progress(!quiet && isatty(STDERR_FILENO), total_bytes);
    const double t0 = util::mono_s();
    TimeOrder time_order;
    run::FileLoop loop;
    loop.stop = &g_stop_signal;
    // With workers the reading thread only reads and hands out (a reader
    // thread beside it would copy every frame once more).
    loop.read_ahead = [&](size_t i) {
        return files[i] != "-" && capture::ReadAhead::can_read_ahead(files[i]) && second_core && args.workers == 1;
    };
    loop.file_starts = [&](size_t i, capture::PcapSource& src) {
        time_order.file_starts(files[i], src, session->totals().notes);
    };
    loop.file_ended = [&](size_t i, uint64_t n, int64_t last_ts) { time_order.file_ended(files[i], n, last_ts); };
    loop.damaged = [](const std::string& name, uint64_t n, const std::string& error) {
        std::fprintf(stderr, "callwall: warning: %s: damaged after %llu packets (%s); continuing\n", name.c_str(),
                     static_cast<unsigned long long>(n), error.c_str());
    };
    loop.progress = [&](uint64_t bytes_read, size_t i) { progress.tick(*session, bytes_read, i + 1, sources.size()); };
    run::Status status = run::Status::Completed;
    try {
        status = run::read_files(*session, sources, loop);
        progress.done();
        session->finish(status);
    } catch (const store::StoreError& e) {
        // The database keeps every committed batch; mark the run failed if we still can.
        session->fail(e);
        return report_store_error(e);
    }
    const double elapsed = util::mono_s() - t0;
    if (!quiet) {
        std::printf("run %lld (%s) into %s\n", static_cast<long long>(session->run_id()),
                    status == run::Status::Completed ? "completed" : "interrupted", db_path.c_str());
        print_summary(stdout, *session, elapsed);
        std::printf("\n");
    }
    return check_events("analyze", *session,
                        attribute_and_print("analyze", *session, vendors, fail_on, args.verbosity, {}, args.all_rows));
}

}  // namespace callwall::cli
