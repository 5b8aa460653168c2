// callwall capture's command line: the options, their checks and the
// time and size units of --rotate and --keep. See cli/capture_args.hpp.
#include "cli/capture_args.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/command_support.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

bool parse_seconds(const std::string& text, double& out) {
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        return false;
    }
    const std::string unit = text.substr(used);
    const double scale = unit.empty() || unit == "s" ? 1
                         : unit == "m"               ? 60
                         : unit == "h"               ? 3600
                         : unit == "d"               ? 86400
                                                     : 0;
    if (scale == 0 || !(v > 0)) return false;
    out = v * scale;
    return true;
}

bool parse_bytes(const std::string& text, uint64_t& out) {
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        return false;
    }
    const std::string unit = text.substr(used);
    const double scale = unit == "kB" || unit == "KB" ? 1e3
                         : unit == "MB"               ? 1e6
                         : unit == "GB"               ? 1e9
                         : unit == "B"                ? 1
                                                      : 0;
    if (scale == 0 || !(v >= 1)) return false;
    out = static_cast<uint64_t>(v * scale);
    return true;
}

namespace {

constexpr int kMaxBufferSizeMb = 2047, kMinSnaplen = 68, kMaxSnaplen = 262144;

// Values that make no sense are usage errors, not a capture that never
// stops or never refreshes: false after the one-line message.
bool values_make_sense(CaptureArgs& a) {
    const auto positive = [&](const char* name, double v, bool zero_ok) {
        if (v > 0 || (zero_ok && v == 0)) return true;
        std::fprintf(stderr, "callwall capture: --%s takes a number of seconds %s 0, not %g\n", name,
                     zero_ok ? "of at least" : "above", v);
        return false;
    };
    if (!positive("duration", a.duration_s, true) || !positive("refresh", a.refresh_s, false) ||
        !positive("status-every", a.status_every_s, false))
        return false;
    if (a.count < 0) {
        std::fprintf(stderr, "callwall capture: --count takes a number of packets of at least 0, not %lld\n",
                     static_cast<long long>(a.count));
        return false;
    }
    // libpcap takes the ring's size in bytes as an int: 2047 MB at most.
    if (a.live.buffer_size_mb < 1 || a.live.buffer_size_mb > kMaxBufferSizeMb) {
        std::fprintf(stderr, "callwall capture: --buffer-size takes 1 to %d (MB), not %d\n", kMaxBufferSizeMb,
                     a.live.buffer_size_mb);
        return false;
    }
    // Below 68 bytes (tcpdump's old default) not even the headers of a TCP
    // packet over IPv4 with options are kept; 262144 is libpcap's maximum.
    if (a.live.snaplen < kMinSnaplen || a.live.snaplen > kMaxSnaplen) {
        std::fprintf(stderr, "callwall capture: --snaplen takes %d to %d (bytes), not %d\n", kMinSnaplen, kMaxSnaplen,
                     a.live.snaplen);
        return false;
    }
    if (a.workers < 1 || a.workers > 64) {
        std::fprintf(stderr, "callwall capture: --workers takes 1 to 64, not %d\n", a.workers);
        return false;
    }
    if (a.workers > 1 && !a.events_path.empty()) {
        std::fprintf(stderr, "callwall capture: --workers %d cannot go with --events\n", a.workers);
        return false;
    }
    if (!a.rotate.empty() && !parse_seconds(a.rotate, a.rotate_s) && !parse_bytes(a.rotate, a.rotate_bytes)) {
        std::fprintf(stderr,
                     "callwall capture: --rotate takes a time (90s, 10m, 1h, 1d) or a size (500MB, 2GB), not '%s'\n",
                     a.rotate.c_str());
        return false;
    }
    if (!a.keep.empty()) {
        const bool runs = a.keep.find_first_not_of("0123456789") == std::string::npos;
        if (runs ? (a.keep_runs = std::strtoull(a.keep.c_str(), nullptr, 10)) == 0
                 : (a.keep.back() < 'a' || !parse_seconds(a.keep, a.keep_s))) {
            std::fprintf(stderr,
                         "callwall capture: --keep takes an age (7d, 12h, 30m) or a number of runs of at least 1, "
                         "not '%s'\n",
                         a.keep.c_str());
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<int> parse_capture_args(int argc, char** argv, CaptureArgs& a) {
    po::options_description opts(
        "callwall capture -i IFACE [-i IFACE...] --db OUT.sqlite [options]\n\n"
        "Captures live (e.g. on a mirror/SPAN port) until --duration, --count, Ctrl-C or SIGTERM.\n\n"
        "options");
    capture::LiveOptions& live = a.live;
    std::vector<std::string>& interfaces = a.interfaces;
    std::vector<std::string>& vendors = a.vendors;
    std::vector<std::string>& catalog_dirs = a.catalog_dirs;
    std::string& db_path = a.db_path;
    std::string& user = a.user;
    std::string& events_path = a.events_path;
    std::string& metrics_path = a.metrics_path;
    double& duration_s = a.duration_s;
    double& status_every_s = a.status_every_s;
    double& refresh_s = a.refresh_s;
    int64_t& count = a.count;
    std::string& rotate = a.rotate;
    std::string& keep = a.keep;
    std::vector<std::string> export_specs;
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("interface,i", po::value(&interfaces)->composing()->value_name("IFACE"), "interface to capture on (repeatable: mirror ports that split directions)")
        ("db", po::value(&db_path)->value_name("FILE"), "SQLite database to create or append to (required)")
        ("vendor", po::value(&vendors)->composing()->value_name("NAME"), "only these vendors (filter and view); default all")
        ("edition", po::value(&a.editions)->composing()->value_name("NAME"), kEditionHelp)
        ("duration", po::value(&duration_s)->value_name("S"), "stop after S seconds")
        ("count", po::value(&count)->value_name("N"), "stop after N packets")
        ("snaplen", po::value(&live.snaplen)->value_name("BYTES"), "bytes kept per packet, 68 to 262144 (default 262144)")
        ("buffer-size", po::value(&live.buffer_size_mb)->value_name("MB"), "kernel buffer of each interface, 1 to 2047 (default 64; with --workers N its N sockets share it, 8 MB at least each)")
        ("no-promisc", "do not put the interface in promiscuous mode")
        ("immediate", "hand each packet over as it arrives (TPACKET_V2: lower latency, but the kernel "
                      "ring holds ~3x fewer frames and drops sooner on a busy link)")
        ("no-immediate", "the default: the kernel hands packets over in blocks (TPACKET_V3), at most 100 ms late")
        ("filter", po::value(&live.filter)->value_name("EXPR"), "BPF filter instead of the one made from the catalog")
        ("no-filter", "no kernel filter: every packet")
        ("show-filter", "print the filter that would be installed and exit")
        ("refresh", po::value(&refresh_s)->value_name("S"), "seconds between database/verdict updates (default 1)")
        ("workers", po::value(&a.workers)->value_name("N"),
         "decode on N threads (2 to 64), each reading its own share of the flows (by address pair), which the "
         "kernel hands it (PACKET_FANOUT), beside the writing thread (for a busy link on a machine with cores to "
         "spare); default 1. Not with --events")
        ("rotate", po::value(&rotate)->value_name("TIME|SIZE"),
         "end the run (with its verdicts) and start the next every TIME (90s, 10m, 1h, 1d) or SIZE of packets "
         "(500MB, 2GB), as SIGHUP does")
        ("keep", po::value(&keep)->value_name("AGE|N"),
         "after each run ends, delete finished runs older than AGE (7d, 12h) or all but the newest N runs")
        ("status-every", po::value(&status_every_s)->value_name("S"), "seconds between status lines when not on a terminal (default 10)")
        ("user", po::value(&user)->value_name("NAME"), "when started as root, drop to this user after opening (default nobody; 'root' keeps root)")
        ("catalog", po::value(&catalog_dirs)->composing()->value_name("DIR"), "add (or replace, by file name) catalog files from DIR")
        ("no-bundled-catalog", "use only the --catalog directories")
        ("events", po::value(&events_path)->value_name("FILE"),
         "also write JSON lines (run, flows, vendor names and DNS answers, verdict changes) to FILE, appended; "
         "'-' for standard output (docs/events.schema.json)")
        ("detail", "also keep a row per DNS question, DNS answer, TLS/QUIC hello, STUN message and ICMP error "
         "(tables dns_query, dns_answer, tls_hello, stun_message, icmp_error); without it those tables stay empty, "
         "each flow's row carries the summary and dns_name counts the questions per name (verdicts and reports are "
         "the same)")
        ("metrics", po::value(&metrics_path)->value_name("FILE"),
         "write the run's counters and verdict counts to FILE at each refresh, replacing it (Prometheus text "
         "format, e.g. for node_exporter's textfile collector: a FILE ending in .prom)")
        ("export", po::value(&export_specs)->composing()->value_name("RECORD:FORMAT:FILE"),
         "also append RECORD's rows (flow, verdict, stun_message, ... as `callwall export` names them) to FILE "
         "in FORMAT (csv, jsonl) at each refresh: the rows the run wrote or changed since the last, each led by "
         "its run_id (repeatable)")
        ("quiet,q", "no live view, status lines or summary")
        ("verbose,v", "the report at the end also lists under each requirement the flows its verdict rests on")
        ("all", "the report at the end lists every requirement's row in catalog order (by default each product "
         "lists the rows that decide it and folds those not exercised into one line); without --vendor, also the "
         "vendors not seen");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall capture: %s (try 'callwall capture --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts
                  << "\nexamples:\n"
                     "  callwall capture -i eth1 --db call.sqlite                 (Ctrl-C when the test call is over)\n"
                     "  callwall capture -i eth1 -i eth2 --duration 600 --db call.sqlite --vendor agora\n"
                     "  callwall capture -i eth1 --db call.sqlite --export verdict:jsonl:verdicts.jsonl\n"
                     "\nExit codes: 0 ok, 2 usage, 3 interface missing or lost during the run, 4 catalog, 5 database,\n"
                     "6 no permission, 7 standard output, --events, --metrics or --export not written or refused.\n";
        return kExitOk;
    }
    if (!values_make_sense(a)) return kExitUsage;
    for (const std::string& text : export_specs) {
        run::ExportSpec spec;
        if (const std::string bad = run::parse_export_spec(text, spec); !bad.empty()) {
            std::fprintf(stderr, "callwall capture: --export %s\n", bad.c_str());
            return kExitUsage;
        }
        a.exports.push_back(std::move(spec));
    }
    a.no_bundled = vm.count("no-bundled-catalog") > 0;
    a.no_filter = vm.count("no-filter") > 0;
    a.filter_given = vm.count("filter") > 0;
    a.show_filter = vm.count("show-filter") > 0;
    a.detail = vm.count("detail") > 0;
    live.promiscuous = vm.count("no-promisc") == 0;
    // Blocks by default: at 100,000 packets/s immediate mode dropped 216 of
    // 6,000,000 on a veth, blocks none (bench/live_rate.sh, docs/live.md).
    live.immediate = vm.count("immediate") > 0 && vm.count("no-immediate") == 0;
    // Event lines on standard output are the output: nothing else is printed there.
    const auto verbosity = verbosity_of("capture", vm.count("quiet") > 0, vm.count("verbose") > 0, events_path == "-");
    if (!verbosity) return kExitUsage;
    a.quiet = *verbosity == Verbosity::quiet;
    a.verbose = *verbosity == Verbosity::verbose;
    a.all_rows = vm.count("all") > 0;
    return std::nullopt;
}

}  // namespace callwall::cli
