// callwall capture -i IFACE --db OUT.sqlite [options]
#include <poll.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "callwall/capture/pcap_source.hpp"
#include "callwall/pipeline/analyzer.hpp"
#include "callwall/store/store.hpp"
#include "cli/commands.hpp"
#include "cli/run_common.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

int run_capture(int argc, char** argv) {
    po::options_description opts("callwall capture -i IFACE --db OUT.sqlite [options]\n\n"
                                 "Captures live (e.g. on a mirror/SPAN port) until --duration, --count, Ctrl-C or SIGTERM.\n\n"
                                 "options");
    capture::LiveOptions live;
    std::string db_path;
    double duration_s = 0;
    uint64_t count = 0;
    double status_every_s = 10;
    opts.add_options()
        ("help,h", "show this help")
        ("interface,i", po::value(&live.interface)->value_name("IFACE"), "interface to capture on (required)")
        ("db", po::value(&db_path)->value_name("FILE"), "SQLite database to create or append to (required)")
        ("duration", po::value(&duration_s)->value_name("S"), "stop after S seconds")
        ("count", po::value(&count)->value_name("N"), "stop after N packets")
        ("snaplen", po::value(&live.snaplen)->value_name("BYTES"), "bytes kept per packet (default 262144)")
        ("buffer-size", po::value(&live.buffer_size_mb)->value_name("MB"), "kernel buffer (default 64)")
        ("no-promisc", "do not put the interface in promiscuous mode")
        ("no-immediate", "let the kernel batch packets (less CPU, later updates)")
        ("filter", po::value(&live.filter)->value_name("EXPR"), "BPF filter expression")
        ("status-every", po::value(&status_every_s)->value_name("S"), "seconds between status lines (default 10)")
        ("quiet,q", "no status lines and no summary");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall capture: %s (try 'callwall capture --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts << "\nExit codes: 0 ok, 2 usage, 3 interface missing, 5 database, 6 no permission.\n";
        return kExitOk;
    }
    if (live.interface.empty() || db_path.empty()) {
        std::fprintf(stderr, "callwall capture: -i IFACE and --db FILE are required\n");
        return kExitUsage;
    }
    live.promiscuous = vm.count("no-promisc") == 0;
    live.immediate = vm.count("no-immediate") == 0;
    const bool quiet = vm.count("quiet") > 0;

    std::unique_ptr<capture::PcapSource> src;
    try {
        src = capture::PcapSource::open_live(live);
    } catch (const capture::CaptureError& e) {
        std::fprintf(stderr, "callwall: %s\n", e.what());
        return e.kind() == capture::CaptureErrorKind::Permission ? kExitPermission
               : e.kind() == capture::CaptureErrorKind::Filter   ? kExitUsage
                                                                 : kExitInput;
    }
    std::unique_ptr<store::Store> db;
    int64_t run_id = 0;
    try {
        db = store::Store::open(db_path);
        store::RunInfo info;
        info.kind = "capture";
        info.source = live.interface;
        info.command_line = join_command_line(argc, argv);
        info.started_at = wall_now();
        run_id = db->begin_run(info);
    } catch (const store::StoreError& e) {
        return report_store_error(e);
    }
    install_stop_handlers();
    pipeline::Analyzer analyzer(db.get(), run_id);
    const double t0 = mono_now();
    double last_flush = t0, last_status = t0;
    store::RunStatus status = store::RunStatus::Completed;
    std::string ended_by = "duration";
    auto refresh_kernel = [&] {
        const auto s = src->stats();
        analyzer.totals().kernel_received = s.kernel_received;
        analyzer.totals().kernel_dropped = s.kernel_dropped;
        analyzer.totals().interface_dropped = s.interface_dropped;
    };
    try {
        capture::RawFrame frame;
        while (true) {
            if (g_stop_signal) {
                status = store::RunStatus::Interrupted;
                ended_by = g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
                break;
            }
            const double now = mono_now();
            if (duration_s > 0 && now - t0 >= duration_s) break;
            if (count > 0 && analyzer.totals().packets >= count) {
                ended_by = "count";
                break;
            }
            const auto st = src->next(frame);
            if (st == capture::NextStatus::Frame) analyzer.process(frame);
            else if (st == capture::NextStatus::Error) {
                analyzer.totals().notes += live.interface + ": " + src->error() + "\n";
                status = store::RunStatus::Failed;
                ended_by = "error";
                break;
            } else if (st == capture::NextStatus::End) {
                continue;  // break_loop; the loop head checks the stop flag
            }
            if (now - last_flush >= 1.0) {
                // Readers in other processes see the run as it forms.
                analyzer.drain();
                refresh_kernel();
                db->update_run(run_id, analyzer.totals(), store::RunStatus::Running, 0);
                db->flush();
                last_flush = now;
            }
            if (!quiet && now - last_status >= status_every_s) {
                const auto& t = analyzer.totals();
                std::printf("%.0fs packets %llu flows %zu dropped %llu\n", now - t0,
                            static_cast<unsigned long long>(t.packets), analyzer.flows().live(),
                            static_cast<unsigned long long>(t.kernel_dropped));
                std::fflush(stdout);
                last_status = now;
            }
        }
        refresh_kernel();
        analyzer.totals().notes += "ended by " + ended_by + "\n";
        analyzer.finish();
        db->update_run(run_id, analyzer.totals(), status, wall_now());
        db->flush();
    } catch (const store::StoreError& e) {
        try {
            db->update_run(run_id, analyzer.totals(), store::RunStatus::Failed, wall_now());
            db->flush();
        } catch (...) {
        }
        return report_store_error(e);
    }
    if (!quiet) {
        std::printf("run %lld (%s, ended by %s) into %s\n", static_cast<long long>(run_id),
                    std::string(store::to_string(status)).c_str(), ended_by.c_str(), db_path.c_str());
        print_summary(stdout, analyzer, mono_now() - t0);
    }
    return kExitOk;
}

}  // namespace callwall::cli
