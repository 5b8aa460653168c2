// callwall analyze FILE... --db OUT.sqlite
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "callwall/attrib/attrib.hpp"
#include "attrib/store_io.hpp"
#include "callwall/capture/pcap_source.hpp"
#include "capture/read_ahead.hpp"
#include "pipeline/analyzer.hpp"
#include "store/store.hpp"
#include "cli/commands.hpp"
#include "cli/inputs.hpp"
#include "cli/run_common.hpp"

namespace po = boost::program_options;

namespace callwall::cli {
namespace {

class Progress {
public:
    Progress(bool enabled, uint64_t total_bytes) : enabled_(enabled), total_(total_bytes) {}
    void tick(const pipeline::Analyzer& a, uint64_t bytes_read, size_t file_no, size_t files) {
        if (!enabled_) return;
        const double now = mono_now();
        if (now - last_ < 0.5) return;
        if (start_ == 0) start_ = now;
        last_ = now;
        const auto& t = const_cast<pipeline::Analyzer&>(a).totals();
        const double pct = total_ ? 100.0 * static_cast<double>(bytes_read) / static_cast<double>(total_) : 0;
        std::fprintf(stderr, "\r[%zu/%zu] %5.1f%%  %llu packets  %zu live flows   ", file_no, files, pct,
                     static_cast<unsigned long long>(t.packets), a.flows().live());
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

}  // namespace

int run_analyze(int argc, char** argv) {
    po::options_description opts("callwall analyze FILE... --db OUT.sqlite [options]\n\n"
                                 "Reads .pcap/.pcapng files (plain, .gz, .zst or .xz; - is standard input), in the\n"
                                 "order of their first packets, as one run, into the database.\n\n"
                                 "options");
    std::string db_path;
    std::vector<std::string> files;
    int64_t max_flows = 1u << 20;
    std::vector<std::string> catalog_dirs, vendors;
    std::string fail_on;
    int threads = 0;
    std::string filter;
    opts.add_options()
        ("help,h", "show this help")
        ("db", po::value(&db_path)->value_name("FILE"), "SQLite database to create or append to (required)")
        ("catalog", po::value(&catalog_dirs)->composing()->value_name("DIR"), "add (or replace, by file name) catalog files from DIR")
        ("no-bundled-catalog", "use only the --catalog directories")
        ("vendor", po::value(&vendors)->composing()->value_name("NAME"), "print these vendors' verdicts (default: vendors seen)")
        ("fail-on", po::value(&fail_on)->value_name("blocked|partial"), "exit 10 when a shown verdict is blocked (or partial)")
        ("max-flows", po::value(&max_flows)->value_name("N"), "bound on live flows (default 1048576)")
        ("threads", po::value(&threads)->value_name("1|2"),
         "2: read each capture file on a second core while this one analyzes (the default when the "
         "machine has more than one CPU; pipes and FIFOs are always read on this core); 1: everything on one core")
        ("filter", po::value(&filter)->value_name("BPF"), "read only the packets this BPF expression (tcpdump syntax) matches")
        ("keep-order", "read the files in the order given, not by their first packet's time")
        ("quiet,q", "no progress and no summary");
    po::options_description hidden;
    hidden.add_options()("file", po::value(&files)->composing());
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
        std::cout << opts
                  << "\nexamples:\n"
                     "  callwall analyze call.pcapng --db call.sqlite\n"
                     "  callwall analyze site-a/*.pcap --db audit.sqlite --vendor whereby --fail-on blocked\n"
                     "\nExit codes: 0 ok, 2 usage, 3 input file, 4 catalog, 5 database, 7 standard output not written,\n"
                     "10 --fail-on matched.\n";
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
    const bool quiet = vm.count("quiet") > 0;
    if (vm.count("threads") && threads != 1 && threads != 2) {
        std::fprintf(stderr, "callwall analyze: --threads takes 1 or 2, not %d\n", threads);
        return kExitUsage;
    }
    if (max_flows < 1 || max_flows > int64_t{UINT32_MAX}) {
        std::fprintf(stderr, "callwall analyze: --max-flows takes a number of flows from 1 to %u, not %lld\n", UINT32_MAX,
                     static_cast<long long>(max_flows));
        return kExitUsage;
    }
    if (!fail_on.empty() && fail_on != "blocked" && fail_on != "partial") {
        std::fprintf(stderr, "callwall analyze: --fail-on takes 'blocked' or 'partial', not '%s'\n", fail_on.c_str());
        return kExitUsage;
    }
    const auto cat = load_catalog(catalog_dirs, vm.count("no-bundled-catalog") > 0);
    if (!cat) return kExitCatalog;
    if (const std::string bad = unknown_vendors(*cat, vendors); !bad.empty()) {
        std::fprintf(stderr, "callwall analyze: --vendor: %s\n", bad.c_str());
        return kExitUsage;
    }

    Inputs in;
    if (const int rc = open_inputs(files, filter, vm.count("keep-order") > 0, in); rc != kExitOk) return rc;
    files = std::move(in.files);
    auto& sources = in.sources;
    const uint64_t total_bytes = in.total_bytes;

    std::unique_ptr<store::Store> db;
    int64_t run_id = 0;
    try {
        db = store::Store::open(db_path);
        store::RunInfo info;
        info.kind = "analyze";
        for (size_t i = 0; i < files.size(); ++i) info.source += (i ? "," : "") + files[i];
        info.sources = files;
        info.command_line = join_command_line(argc, argv);
        info.catalog_digest = cat->digest();
        info.started_at = wall_now();
        run_id = db->begin_run(info);
    } catch (const store::StoreError& e) {
        return report_store_error(e);
    }

    install_stop_handlers();
    pipeline::AnalyzerConfig cfg;
    cfg.flows.max_flows = static_cast<uint32_t>(max_flows);
    cfg.outcome_hint = attrib::provisional_outcome;
    pipeline::Analyzer analyzer(db.get(), run_id, cfg);
    Progress progress(!quiet && isatty(STDERR_FILENO), total_bytes);
    const double t0 = mono_now();
    uint64_t bytes_read = 0;
    TimeOrder time_order;
    store::RunStatus status = store::RunStatus::Completed;
    try {
        for (size_t i = 0; i < sources.size() && !g_stop_signal; ++i) {
            // The reader thread (if any) is started per file, so only one runs at a time.
            time_order.file_starts(files[i], *sources[i], analyzer.totals().notes);
            const bool read_ahead = files[i] != "-" && capture::ReadAhead::can_read_ahead(files[i]) &&
                                    (threads == 2 || (threads == 0 && std::thread::hardware_concurrency() > 1));
            capture::ReadAhead src(std::move(sources[i]), read_ahead);
            capture::RawFrame frame;
            uint64_t n = 0;
            int64_t last_ts = 0;
            while (!g_stop_signal) {
                const auto st = src.next(frame);
                if (st == capture::NextStatus::Frame) {
                    last_ts = frame.ts_us;
                    analyzer.process(frame);
                    bytes_read += frame.caplen + 16;
                    if ((++n & 0x3FFF) == 0) {
                        analyzer.drain();
                        // Totals so far ride along with the open batch: a run killed
                        // later shows the packets of its last committed batch.
                        analyzer.totals().flows = analyzer.flows().stats().created;
                        analyzer.totals().flows_evicted_full = analyzer.flows().stats().evicted_full;
                        db->update_run(run_id, analyzer.totals(), store::RunStatus::Running, 0);
                        progress.tick(analyzer, bytes_read, i + 1, sources.size());
                    }
                    continue;
                }
                // A signal interrupting a blocking read (a pipe: tcpdump -w - | callwall
                // analyze /dev/stdin) is the stop the user asked for, not damage.
                if (st == capture::NextStatus::Error && !g_stop_signal) {
                    ++analyzer.totals().damaged_files;
                    analyzer.totals().notes += src.name() + ": reading stopped after " + std::to_string(n) +
                                               " packets: " + src.error() + "\n";
                    std::fprintf(stderr, "callwall: warning: %s: damaged after %llu packets (%s); continuing\n",
                                 src.name().c_str(), static_cast<unsigned long long>(n), src.error().c_str());
                }
                break;
            }
            time_order.file_ended(files[i], n, last_ts);
        }
        if (g_stop_signal) status = store::RunStatus::Interrupted;
        progress.done();
        analyzer.finish();
        note_bounds(analyzer);
        db->update_run(run_id, analyzer.totals(), status, wall_now());
        db->flush();
    } catch (const store::StoreError& e) {
        // The database keeps every committed batch; mark the run failed if we still can.
        try {
            analyzer.totals().notes += stop_note(e);
            db->update_run(run_id, analyzer.totals(), store::RunStatus::Failed, wall_now());
            db->flush();
        } catch (...) {
        }
        return report_store_error(e);
    }
    const double elapsed = mono_now() - t0;
    if (!quiet) {
        std::printf("run %lld (%s) into %s\n", static_cast<long long>(run_id),
                    std::string(store::to_string(status)).c_str(), db_path.c_str());
        print_summary(stdout, analyzer, elapsed);
        std::printf("\n");
    }
    return attribute_and_print("analyze", *db, run_id, *cat, vendors, fail_on, quiet);
}

}  // namespace callwall::cli
