// callwall capture -i IFACE [-i IFACE2] --db OUT.sqlite [options]
//
// Live capture on a mirror/SPAN port during a call. The kernel filter comes
// from the catalog unless overridden; the database is updated every
// --refresh seconds (the live flows that changed written, verdicts
// recomputed) so another
// process can read the run as it forms; on a terminal a live view is redrawn
// in place. Duration, count, Ctrl-C and SIGTERM all finish the run cleanly.
// The interfaces are read on a thread of their own (capture/live_reader.hpp)
// so a refresh never leaves the kernel ring unread; with --workers N the
// kernel splits each interface across N sockets (capture/fanout.hpp) and
// each decoding worker reads its own, through a reading thread of its own.
// Started as root, callwall opens the interfaces and the database and then
// drops to an unprivileged user (--user, default nobody) before reading a
// single packet.
#include <grp.h>
#include <sys/ioctl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>

#include "attrib/attrib.hpp"
#include "events/metrics.hpp"
#include "run/session.hpp"
#include "capture/pcap_source.hpp"
#include "capture/fanout.hpp"
#include "capture/live_reader.hpp"
#include "cli/metrics_file.hpp"
#include "run/read_loop.hpp"
#include "report/report.hpp"
#include "report/text_safe.hpp"
#include "store/store.hpp"
#include "catalog/bpf_filter.hpp"
#include "cli/capture_args.hpp"
#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "util/clock.hpp"
#include "util/terminal_text.hpp"

namespace po = boost::program_options;

namespace callwall::cli {
namespace {

std::string hms(double s) {
    const long t = static_cast<long>(s);
    char b[32];
    std::snprintf(b, sizeof b, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    return b;
}

// `s` padded or cut to `w` bytes; a cut falls before a UTF-8 sequence, never
// inside one (the view stays valid UTF-8).
std::string fit(const std::string& s, size_t w) {
    if (s.size() <= w) return s + std::string(w - s.size(), ' ');
    size_t cut = 0;
    for (size_t n; cut < s.size() && (n = util::utf8_step(s, cut).length) != 0 && cut + n <= w - 1;) cut += n;
    return s.substr(0, cut) + "~" + std::string(w - 1 - cut, ' ');
}

// The live view: one screen, redrawn in place.
std::string render_live(const report::ReportData& raw, const run::Session& s, const std::string& ifaces, double elapsed,
                        double pps) {
    // Names off the wire and catalog strings escaped: the view is a terminal's.
    const report::ReportData d = report::text_safe(raw);
    const facts::RunTotals& t = s.totals();
    const run::RunCounts c = s.counts();
    std::string o = "\x1b[H\x1b[2J";
    char b[512];
    std::snprintf(b, sizeof b,
                  "callwall capture on %s   %s   %llu packets (%.0f/s)   %llu flows (%zu live)   kernel drops %llu\n",
                  util::terminal_text(ifaces).c_str(), hms(elapsed).c_str(), static_cast<unsigned long long>(t.packets),
                  pps, static_cast<unsigned long long>(c.flows_created), c.live_flows,
                  static_cast<unsigned long long>(t.kernel_dropped));
    o += b;
    o += "Ctrl-C ends the run (verdicts are kept).  Capture point assumed inside the firewall.\n\n";
    if (d.verdicts.empty()) {
        o += "no vendor traffic recognised yet\n";
        return o;
    }
    o += fit("vendor / product", 28) + " " + fit("service", 30) + " " + fit("ports", 16) + " " + fit("verdict", 14) +
         " " + fit("ok/blk", 7) + " newest evidence\n";
    for (const auto& p : d.products) {
        if (p.conclusion == "cannot be allow-listed") continue;
        bool header = false;
        for (const auto& v : d.verdicts) {
            if (v.vendor != p.vendor || v.product != p.product || v.edition != p.edition) continue;
            if (v.verdict == "not_exercised") continue;
            const std::string vp =
                header ? "" : v.vendor + (v.edition.empty() ? "" : " " + v.edition) + " " + v.product;
            header = true;
            const report::EvidenceFlow* newest = nullptr;
            for (const auto& e : v.evidence)
                if (!newest || e.last_ts > newest->last_ts) newest = &e;
            std::string ev;
            if (newest) {
                ev = newest->server_ip + ":" + std::to_string(newest->server_port) + " " + newest->outcome;
                if (!newest->name.empty()) ev += " " + newest->name_source + " " + newest->name;
                std::snprintf(b, sizeof b, " (%.0fs ago)", std::max(0.0, d.run.last_ts - newest->last_ts));
                ev += b;
            }
            o += fit(vp, 28) + " " + fit(v.service, 30) + " " + fit(v.transport + " " + v.ports, 16) + " " +
                 fit(v.verdict, 14) + " " +
                 fit(std::to_string(v.flows_observed) + "/" + std::to_string(v.flows_blocked), 7) + " " + ev + "\n";
        }
        if (header) o += "    => " + p.conclusion + "\n";
    }
    return o;
}

// Cuts each line to the terminal's width so the view never wraps or scrolls.
std::string clip_lines(const std::string& text) {
    winsize ws{};
    const size_t width = (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) ? ws.ws_col - 1 : 159;
    std::string out;
    size_t col = 0;
    bool in_escape = false;
    for (char c : text) {
        if (c == '\n') {
            out += c;
            col = 0;
            continue;
        }
        if (c == '\x1b') in_escape = true;
        if (in_escape) {
            out += c;
            if (c >= '@' && c <= '~' && c != '[') in_escape = false;
            continue;
        }
        if (col++ < width) out += c;
    }
    return out;
}

// How the live view and status lines are drawn.
struct ViewSettings {
    double status_every_s;
    bool quiet, tty;
    std::vector<std::string> vendors;
    std::string iface_list;
    /// The catalog when the kernel filter is the catalog's: it is then
    /// recompiled with the addresses vendor names resolve to (null: kept).
    const catalog::Catalog* filter_catalog;
    MetricsFile* metrics;  ///< --metrics, or null
    run::LiveExports* exports;  ///< --export, or null
};

// Recompiles every source's kernel filter with the addresses the session's
// vendor names resolved to, so flows to them on ports the catalog does not
// list are seen (catalog gaps). Returns how many addresses the filter holds.
size_t widen_filter(run::Session& session, run::LiveReaders& reader, const catalog::Catalog& cat,
                    const std::vector<std::string>& vendors) {
    const std::vector<std::string>& addrs = session.vendor_addresses();
    const catalog::LiveFilter f = catalog::live_filter(cat, vendors, addrs);
    if (const std::string err = reader.set_filter(f.expression); !err.empty()) {
        session.note("live filter: vendor addresses not added: " + err + "\n");
        return addrs.size();  // not retried for the same addresses
    }
    session.note("live filter: " + std::to_string(f.addresses) + " vendor address(es) added (newest " + addrs.back() +
                 ")\n");
    return addrs.size();
}

// What the capture shows while it reads: after each refresh the --metrics
// file and the kernel filter's vendor addresses; on a terminal the live view
// redrawn at each attribution, else a status line every status_every_s.
class LiveView {
public:
    LiveView(run::Session& session, run::LiveReaders& readers, const ViewSettings& vs, double t0)
        : session_(session), readers_(readers), vs_(vs), t0_(t0) {
        run_begins();
    }

    // A run begins: its rate and status line start afresh.
    void run_begins() {
        last_refresh_ = last_status_ = util::mono_s();
        last_packets_ = 0;
        pps_ = 0;
    }

    // After a turn of the read loop. May throw store::StoreError.
    void turn(run::Tick tick, double now) {
        if (tick != run::Tick::Nothing) {
            if (vs_.metrics) vs_.metrics->write(session_);
            if (vs_.exports) vs_.exports->write(session_.store(), session_.run_id());
            pps_ = static_cast<double>(session_.totals().packets - last_packets_) / (now - last_refresh_);
            last_packets_ = session_.totals().packets;
            last_refresh_ = now;
            if (vs_.filter_catalog && session_.vendor_addresses().size() != in_filter_) {
                in_filter_ = widen_filter(session_, readers_, *vs_.filter_catalog, vs_.vendors);
            }
        }
        if (tick == run::Tick::Attributed && vs_.tty) {
            report::ReportOptions opt;
            opt.run = session_.run_id();
            opt.vendors = vs_.vendors;
            const auto d = report::load(session_.store(), opt);
            std::string screen = clip_lines(render_live(d, session_, vs_.iface_list, now - t0_, pps_));
            std::fwrite(screen.data(), 1, screen.size(), stdout);
            std::fflush(stdout);
        }
        if (!vs_.quiet && !vs_.tty && now - last_status_ >= vs_.status_every_s) {
            const auto& t = session_.totals();
            const run::RunCounts c = session_.counts();
            // Time spent waiting for another writer's lock on the database
            // (store::Store::set_patient): shown once there was some.
            char waited[64] = "";
            if (const store::Store::BusyWaits w = session_.store().busy_waits(); w.waits)
                std::snprintf(waited, sizeof waited, " db-waited %.1fs", w.waited_s);
            std::printf("%.0fs packets %llu (%.0f/s) flows %llu live %zu kernel-drops %llu%s\n", now - t0_,
                        static_cast<unsigned long long>(t.packets), pps_,
                        static_cast<unsigned long long>(c.flows_created), c.live_flows,
                        static_cast<unsigned long long>(t.kernel_dropped), waited);
            std::fflush(stdout);
            last_status_ = now;
        }
    }

private:
    run::Session& session_;
    run::LiveReaders& readers_;
    const ViewSettings& vs_;
    const double t0_;  ///< when the capture started
    double last_refresh_ = 0, last_status_ = 0, pps_ = 0;
    uint64_t last_packets_ = 0;
    size_t in_filter_ = 0;  ///< vendor addresses the kernel filter passes
};

// --keep: deletes the runs it no longer keeps; `rc` unless the database failed.
int prune(run::Session& session, const CaptureArgs& args, bool quiet, int rc) {
    if (args.keep_s <= 0 && args.keep_runs == 0) return rc;
    try {
        const std::vector<int64_t> gone = session.prune(args.keep_s, args.keep_runs);
        if (!quiet && !gone.empty()) {
            std::printf("--keep %s: deleted %zu old run(s), %lld to %lld\n", args.keep.c_str(), gone.size(),
                        static_cast<long long>(gone.front()), static_cast<long long>(gone.back()));
        }
    } catch (const store::StoreError& e) {
        return report_store_error(e);
    }
    return rc;
}

/// The kernel buffer of each of an interface's fanout sockets, at least.
constexpr int kMinFanoutBufferMb = 8;

// Opens every -i interface with the live options (non-blocking: the
// reading thread polls them); with --workers N, N sockets in a fanout group
// per interface (interface by interface), `fanned` then true. Where the
// kernel refuses fanout groups, says so and opens one socket per interface:
// the reading thread hands the frames to the workers instead. kExitOk, or
// the exit code after a one-line message.
int open_interfaces(CaptureArgs& args, std::vector<std::unique_ptr<capture::PcapSource>>& srcs, std::string& iface_list,
                    bool& fanned) {
    const auto open_all = [&](bool fanout) {
        for (const auto& i : args.interfaces) {
            args.live.interface = i;
            if (fanout) {
                // --buffer-size is the interface's: its sockets share it (their traffic is split too).
                capture::LiveOptions each = args.live;
                each.buffer_size_mb = std::max(kMinFanoutBufferMb, args.live.buffer_size_mb / args.workers);
                for (auto& s : capture::open_fanout(each, args.workers)) srcs.push_back(std::move(s));
            } else {
                srcs.push_back(capture::PcapSource::open_live(args.live));
                // Non-blocking for one interface too: pcap_next_ex on TPACKET_V3 does not
                // return on its read timeout on an idle link, so the reading thread polls.
                srcs.back()->set_nonblocking();
            }
            iface_list += (iface_list.empty() ? "" : ",") + i;
        }
    };
    fanned = args.workers > 1;
    try {
        try {
            open_all(fanned);
        } catch (const capture::CaptureError& e) {
            if (e.kind() != capture::CaptureErrorKind::FanoutRefused) throw;
            std::fprintf(stderr,
                         "callwall: warning: %s; the %d workers get their frames from one reading thread instead\n",
                         e.what(), args.workers);
            srcs.clear();  // the groups of the interfaces before: one socket each now
            iface_list.clear();
            fanned = false;
            open_all(false);
        }
    } catch (const capture::CaptureError& e) {
        std::fprintf(stderr, "callwall: %s\n", e.what());
        return e.kind() == capture::CaptureErrorKind::Permission ? kExitPermission
               : e.kind() == capture::CaptureErrorKind::Filter   ? kExitUsage
                                                                 : kExitInput;
    }
    return kExitOk;
}

// The run's kernel counters: the reading threads' once `reading`, before
// that the sources' own.
std::function<void(store::RunTotals&)> kernel_counters(const std::vector<std::unique_ptr<capture::PcapSource>>& srcs,
                                                       const run::LiveReaders& readers, const bool& reading) {
    return [&srcs, &readers, &reading](store::RunTotals& t) {
        capture::SourceStats k;
        if (reading) {
            k = readers.stats();
        } else {
            for (const auto& s : srcs) k += s->stats();
        }
        t.kernel_received = k.kernel_received;
        t.kernel_dropped = k.kernel_dropped;
        t.interface_dropped = k.interface_dropped;
    };
}

// The runs of one capture (run::read_live): each is read until its end
// (duration, count, a signal, --rotate), finished, then attributed and
// printed here; SIGHUP and --rotate begin the next on the same interfaces.
// The command's exit code.
int capture_runs(run::Session& session, run::LiveReaders& readers, const CaptureArgs& args, const ViewSettings& vs,
                 std::optional<MetricsFile>& metrics) {
    const bool quiet = args.quiet, tty = vs.tty;
    run::LiveLoop loop;
    loop.stop = &g_stop_signal;
    loop.hangup = &g_hup_signal;
    loop.started_s = util::mono_s();
    loop.duration_s = args.duration_s;
    loop.count = static_cast<uint64_t>(args.count);
    loop.rotate_s = args.rotate_s;
    loop.rotate_bytes = args.rotate_bytes;
    LiveView view(session, readers, vs, loop.started_s);
    loop.turn = [&view](run::Tick tick, double now) { view.turn(tick, now); };
    int rc = kExitOk;
    loop.run_ended = [&](const run::LiveEnd& end) {
        if (!quiet) {
            if (tty) std::printf("\n");
            const char* status_text = end.status == run::Status::Completed     ? "completed"
                                      : end.status == run::Status::Interrupted ? "interrupted"
                                                                               : "failed";
            std::printf("run %lld (%s, ended by %s) into %s\n", static_cast<long long>(session.run_id()), status_text,
                        end.ended_by.c_str(), args.db_path.c_str());
            print_summary(stdout, session, util::mono_s() - end.run_started_s);
            std::printf("\n");
        }
        rc = attribute_and_print("capture", session, args.vendors, "",
                                 quiet          ? Verbosity::quiet
                                 : args.verbose ? Verbosity::verbose
                                                : Verbosity::normal,
                                 {}, args.all_rows);
        if (metrics) metrics->write(session);  // the run's final counts and verdicts
        if (vs.exports) vs.exports->write(session.store(), session.run_id());  // and its final rows
        if (!end.error.empty()) {
            // An interface went away (unplugged, deleted, down): the run
            // failed, whatever the other interfaces still saw.
            std::fprintf(stderr, "callwall capture: run %lld failed: %s\n", static_cast<long long>(session.run_id()),
                         end.error.c_str());
            if (rc == kExitOk || rc == kExitFailOn) rc = kExitInput;
        }
        return rc == kExitOk;
    };
    bool pruned = true;  // --keep's pruning after a rotation worked
    loop.run_began = [&] {
        view.run_begins();
        rc = prune(session, args, quiet, kExitOk);
        return pruned = rc == kExitOk;
    };
    try {
        run::read_live(session, readers, loop);
    } catch (const store::StoreError& e) {
        return report_store_error(e);
    }
    if (!pruned) return rc;
    int done = check_events("capture", session, prune(session, args, quiet, rc));
    if (metrics && !metrics->error().empty()) {
        std::fprintf(stderr, "callwall capture: metrics not written: %s\n", metrics->error().c_str());
        if (done == kExitOk || done == kExitFailOn) done = kExitOutput;
    }
    if (vs.exports && !vs.exports->error().empty()) {
        std::fprintf(stderr, "callwall capture: export not written: %s\n", vs.exports->error().c_str());
        if (done == kExitOk || done == kExitFailOn) done = kExitOutput;
    }
    return done;
}

// --events and --export: false after one line when a FILE is the database,
// another output of the capture, or an existing file that is not what
// callwall writes there.
bool outputs_allowed(const CaptureArgs& args) {
    if (const std::string why = refuse_output(args.events_path, OutputKind::Events, {args.db_path}); !why.empty()) {
        std::fprintf(stderr, "callwall capture: --events %s: %s\n", args.events_path.c_str(), why.c_str());
        return false;
    }
    std::vector<std::string> others = {args.db_path, args.events_path, args.metrics_path};
    for (const run::ExportSpec& e : args.exports) {
        if (const std::string why = refuse_output(e.path, OutputKind::Export, others); !why.empty()) {
            std::fprintf(stderr, "callwall capture: --export %s: %s\n", e.path.c_str(), why.c_str());
            return false;
        }
        others.push_back(e.path);
    }
    return true;
}

// Opens every --export FILE (none: `exports` stays empty); false after one
// line when one cannot be written.
bool open_exports(const CaptureArgs& args, std::optional<run::LiveExports>& exports) {
    if (args.exports.empty()) return true;
    exports.emplace(args.exports);
    if (const std::string err = exports->error(); !err.empty()) {
        std::fprintf(stderr, "callwall capture: --export: cannot write %s\n", err.c_str());
        return false;
    }
    return true;
}

}  // namespace

int run_capture(int argc, char** argv) {
    CaptureArgs args;
    if (const std::optional<int> done = parse_capture_args(argc, argv, args)) return *done;
    capture::LiveOptions& live = args.live;
    const std::vector<std::string>& interfaces = args.interfaces;
    const std::vector<std::string>& vendors = args.vendors;
    const std::string& db_path = args.db_path;
    auto cat = load_catalog(args.catalog_dirs, args.no_bundled);
    if (!cat) return kExitCatalog;
    if (const std::string bad = unknown_vendors(*cat, vendors); !bad.empty()) {
        std::fprintf(stderr, "callwall capture: --vendor: %s\n", bad.c_str());
        return kExitUsage;
    }
    if (const std::string bad = choose_editions(*cat, args.editions); !bad.empty()) {
        std::fprintf(stderr, "callwall capture: --edition: %s\n", bad.c_str());
        return kExitUsage;
    }
    if (!outputs_allowed(args)) return kExitOutput;
    std::optional<MetricsFile> metrics;
    if (!args.metrics_path.empty()) {
        if (const std::string why = refuse_output(args.metrics_path, OutputKind::Metrics, {db_path, args.events_path});
            !why.empty()) {
            std::fprintf(stderr, "callwall capture: --metrics %s: %s\n", args.metrics_path.c_str(), why.c_str());
            return kExitOutput;
        }
        metrics.emplace(args.metrics_path, *cat, vendors);
    }
    if (args.no_filter)
        live.filter.clear();
    else if (!args.filter_given)
        live.filter = catalog::live_filter(*cat, vendors).expression;
    if (args.show_filter) {
        std::printf("%s\n", live.filter.empty() ? "(no filter)" : live.filter.c_str());
        return kExitOk;
    }
    if (interfaces.empty() || db_path.empty()) {
        std::fprintf(stderr, "callwall capture: -i IFACE and --db FILE are required\n");
        return kExitUsage;
    }
    const bool quiet = args.quiet;
    const bool tty = !quiet && isatty(STDOUT_FILENO);

    std::vector<std::unique_ptr<capture::PcapSource>> srcs;
    std::string iface_list;
    bool fanned = false;
    if (const int rc = open_interfaces(args, srcs, iface_list, fanned); rc != kExitOk) return rc;
    run::Options ro;
    ro.db_path = db_path;
    ro.kind = "capture";
    ro.sources = interfaces;
    ro.command_line = join_command_line(argc, argv);
    ro.catalog = &*cat;
    ro.checkpoint_packets = 0;  // live: the refresh tick writes
    ro.refresh_s = args.refresh_s;
    ro.events_path = args.events_path;
    ro.per_message_rows = args.detail;
    ro.collect_vendor_addresses = !args.no_filter && !args.filter_given;
    ro.write_behind = true;  // the decoding thread never steps SQLite
    ro.workers = args.workers;
    // Once the reading threads run they alone call libpcap; the counters
    // are read from them.
    run::LiveReaders readers;
    bool reading = false;
    ro.kernel_stats = kernel_counters(srcs, readers, reading);
    try {
        // Workers read their own sockets, so their readers exist before the
        // session that starts the workers; they read once started, below.
        if (fanned) readers.fan_out(srcs, args.workers, static_cast<uint64_t>(args.count));
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "callwall capture: cannot start the reading threads: %s\n", e.what());
        return kExitInput;
    }
    ro.fanout = readers.fanout();
    // Opened before the session (as the user who started the capture) and
    // gone after it: the session's store calls it until it closes.
    std::optional<run::LiveExports> exports;
    if (!open_exports(args, exports)) {
        readers.stop();
        return kExitOutput;
    }
    int open_rc = kExitOk;
    const std::unique_ptr<run::Session> session = open_session("capture", std::move(ro), open_rc);
    if (!session) return open_rc;
    if (exports) exports->watch(session->store());
    if (const std::string err = drop_privileges(args.user); !err.empty()) {
        std::fprintf(stderr, "callwall: %s\n", err.c_str());
        readers.stop();
        try {
            session->finish(run::Status::Failed);
        } catch (...) {}
        return kExitPermission;
    }
    if (metrics && !metrics->first_write(*session)) {
        readers.stop();
        return kExitOutput;
    }
    install_stop_handlers();
    install_hup_handler();
    try {
        readers.start(srcs);
        reading = true;
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "callwall capture: cannot start the reading thread: %s\n", e.what());
        readers.stop();
        try {
            session->finish(run::Status::Failed, "error");
        } catch (...) {}
        return kExitInput;
    }
    const ViewSettings vs{args.status_every_s,
                          quiet,
                          tty,
                          vendors,
                          iface_list,
                          args.no_filter || args.filter_given ? nullptr : &*cat,
                          metrics ? &*metrics : nullptr,
                          exports ? &*exports : nullptr};
    return capture_runs(*session, readers, args, vs, metrics);
}

}  // namespace callwall::cli
