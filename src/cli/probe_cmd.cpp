// callwall probe --vendor NAME... --db FILE: send each requirement's traffic,
// capture it, and judge the capture as `analyze` would (run kind "probe").
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <iostream>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "run/read_loop.hpp"
#include "run/session.hpp"
#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "probe/address.hpp"
#include "probe/capture.hpp"
#include "probe/plan.hpp"
#include "probe/sender.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"

namespace po = boost::program_options;

namespace callwall::cli {
namespace {

// Splits NAME=VALUE options into a map (keys lowercased when `lower_keys`).
bool pairs(const std::vector<std::string>& in, const char* opt, std::map<std::string, std::string>* out,
           bool lower_keys) {
    for (const auto& s : in) {
        const size_t eq = s.find('=');
        if (eq == 0 || eq == std::string::npos || eq + 1 == s.size()) {
            std::fprintf(stderr, "callwall probe: %s takes KEY=VALUE, not '%s'\n", opt, s.c_str());
            return false;
        }
        std::string k = s.substr(0, eq);
        if (lower_keys)
            for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        (*out)[k] = s.substr(eq + 1);
    }
    return true;
}

// A sweep's default budget: every port of every range of the vendors chosen.
constexpr uint32_t kSweepBudget = 1'000'000;
// How long a Linux firewall keeps an unanswered UDP flow (the default
// nf_conntrack_udp_timeout): a sweep holds about rate × this many entries.
constexpr double kConntrackUdpTimeoutS = 30;

// Flows by transport, server address and port and the probe's own port (a
// TCP and a UDP probe may share a local port): UDP probes whose answers
// lacked the reflector's token (intercepted), TLS probes cut by a reset.
using FlowKey = std::tuple<std::string, std::string, uint16_t, uint16_t>;
FlowKey flow_key(const probe::Probe& p, uint16_t local_port) {
    return {std::string(probe::transport_of(p.kind)), p.addr, p.port, local_port};
}
FlowKey flow_key(const attrib::FlowFacts& f) { return {f.transport, f.server_ip, f.server_port, f.client_port}; }
using ProbeFlows = std::set<FlowKey>;
// By the same key: the entries each probe's flow was sent for; what its socket received from its server.
using SentFor = std::map<FlowKey, std::set<std::string>>;
using Answered = std::map<FlowKey, std::string>;

// The sender's readings that are the server's own answer (a STUN answer, an
// echo, a completed handshake, a ServerHello): with a key, only those that
// carried the reflector's token reach here unintercepted.
bool answered_by_server(const std::string& seen) {
    return seen == "stun-answered" || seen == "echoed" || seen == "connected" || seen == "tls-answered";
}

// "5349, 40001-40003": ports as ascending intervals.
std::vector<catalog::PortRange> intervals_of(const std::set<uint16_t>& ports) {
    std::vector<catalog::PortRange> out;
    for (const uint16_t p : ports)
        if (!out.empty() && uint32_t{out.back().hi} + 1 == p)
            out.back().hi = p;
        else
            out.push_back({p, p});
    return out;
}
std::string intervals_text(const std::set<uint16_t>& ports) {
    std::string s;
    for (const auto& r : intervals_of(ports)) {
        if (!s.empty()) s += ", ";
        s += catalog::port_range_text(r);
    }
    return s;
}

// What to add to the firewall: `catalog export --entry` of exactly the
// requirements the probe found blocked or partial, in both formats; of an
// entry whose ranges were swept, only the ports that failed.
void write_allow_lists(run::Session& session, const catalog::Catalog& cat, const probe::Plan& plan,
                       const attrib::RunVerdicts& v) {
    catalog::ExportOptions eo;
    for (size_t i = 0; i < v.entries.size() && i < cat.entries().size(); ++i) {
        const auto& ev = v.entries[i];
        if (ev.verdict != attrib::Verdict::Blocked && ev.verdict != attrib::Verdict::Partial) continue;
        const std::string& id = cat.entries()[i].id;
        eo.only_entries.push_back(id);
        const auto cov = plan.coverage.find(id);
        if (cov != plan.coverage.end() && cov->second.swept && !ev.ports_blocked.empty())
            eo.only_ports[id] = intervals_of(ev.ports_blocked);
    }
    if (eo.only_entries.empty()) return;
    for (const auto& [format, name] :
         {std::pair{catalog::ExportFormat::Nft, "nft"}, std::pair{catalog::ExportFormat::Iptables, "iptables"}}) {
        eo.format = format;
        session.write_allow_list(name, catalog::render_export(cat, eo));
    }
}

// The glue between a probe and the analysis: the probe's capture file read
// into the run of kind "probe" (opened before the probes were sent) through
// the run session, exactly as `analyze` reads a file, then attributed and
// printed.
int analyse_probe_capture(const std::string& pcap, run::Session& session, const std::string& db_path,
                          const catalog::Catalog& cat, const probe::Plan& plan, const std::vector<std::string>& vendors,
                          const std::string& fail_on, Verbosity verbosity, bool all_rows, const std::string& notes,
                          const std::function<void()>& print_lines) {
    const bool quiet = verbosity == Verbosity::quiet;
    std::vector<std::unique_ptr<capture::PcapSource>> src(1);
    try {
        src[0] = capture::PcapSource::open_file(pcap);
    } catch (const capture::CaptureError& e) {
        std::fprintf(stderr, "callwall probe: own capture unreadable: %s\n", e.what());
        try {
            session.finish(run::Status::Failed);
        } catch (...) {}
        return kExitInput;
    }
    try {
        // Read whole: a signal during the sending already cut the probes short.
        run::read_files(session, src, run::FileLoop{});
        session.note(notes);
        session.finish(run::Status::Completed);
        if (!quiet)
            std::printf("run %lld (probe) into %s\n\n", static_cast<long long>(session.run_id()), db_path.c_str());
    } catch (const store::StoreError& e) {
        session.fail(e);
        return report_store_error(e);
    }
    return attribute_and_print(
        "probe", session, vendors, fail_on, verbosity,
        [&](const attrib::RunVerdicts& v) {
            if (!quiet) print_lines();
            write_allow_lists(session, cat, plan, v);
        },
        all_rows);
}

// Probes a sweep may have in flight: a socket each, within the file limit
// (raised to its hard maximum first), at most 8192.
size_t sweep_slots() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = std::min<rlim_t>(r.rlim_max, 65536);
        (void)::setrlimit(RLIMIT_NOFILE, &r);
        (void)::getrlimit(RLIMIT_NOFILE, &r);
    }
    const rlim_t usable = r.rlim_cur > 128 ? r.rlim_cur - 64 : probe::kMaxActive;
    return static_cast<size_t>(std::clamp<rlim_t>(usable, probe::kMaxActive, 8192));
}

// Once every probe is done: the capture goes on until the last unanswered
// probe was sent attrib::kNoAnswerWaitS ago, so that silence after it is
// judged as long as after any other (a swept port gives up 1.5 s after its
// first send). Bounded by that wait; a signal cuts it short.
void wait_after_last_unanswered(const std::vector<probe::ProbeResult>& results) {
    double last = 0;
    for (const auto& r : results)
        if (r.seen == "no-answer") last = std::max(last, r.start_s);
    if (last == 0) return;
    // A little more than the rule's wait: the capture's timestamps are not
    // the sender's clock.
    const double until = last + attrib::kNoAnswerWaitS + 0.2;
    for (double now = util::mono_s(); now < until && !g_stop_signal; now = util::mono_s())
        ::usleep(static_cast<useconds_t>(std::min(until - now, 0.05) * 1e6) + 1);
}

// Sends the plan while capturing it into `pcap` (a sweep's unanswered ports
// sent again are appended to it, their results to *results); kExitOk, or the
// exit code after a one-line message. Started as root, drops to `user` once the
// interface and the file are open, before a probe is sent. *ran_until: the
// time (as the capture's timestamps) the capture stopped, after the probes'
// last wait.
int send_and_capture(probe::Plan& plan, const std::string& iface, const std::string& local, const std::string& pcap,
                     double rate, double sweep_rate, const std::string& key, const std::string& user,
                     const std::vector<catalog::PortRange>& avoid, std::string* notes,
                     std::vector<probe::ProbeResult>* results, double* ran_until) {
    try {
        const size_t swept = static_cast<size_t>(
            std::count_if(plan.probes.begin(), plan.probes.end(), [](const probe::Probe& p) { return p.swept; }));
        // Immediate mode gives every packet a frame of the ring: a sweep's
        // thousands a second need room for seconds of a busy machine.
        probe::ProbeCapture cap(iface, plan.destinations, pcap, swept > 0 ? 64 : 8);
        const bool was_root = ::geteuid() == 0;
        if (const std::string err = drop_privileges(user); !err.empty()) {
            std::fprintf(stderr, "callwall probe: %s\n", err.c_str());
            return kExitPermission;
        }
        if (was_root && ::geteuid() != 0)
            *notes += "probe: sent as user " + user + " (root dropped once " + iface + " and the files were open)\n";
        if (cap.write_names(plan.names, local))
            *notes +=
                "probe: the capture starts with one DNS query and answer per name, written by the probe for "
                "the address it used (" +
                std::to_string(plan.names.size()) + " names)\n";
        else
            *notes += "probe: no DNS frames recorded (the interface is not Ethernet): flows carry no names\n";
        cap.start();
        install_stop_handlers();
        probe::SendOptions so;
        so.rate_per_s = rate;
        if (swept > 0) {
            so.rate_per_s = std::max(rate, sweep_rate);
            so.max_active = sweep_slots();
            *notes += "probe: swept " + std::to_string(swept) + " ports at " + std::to_string(int(so.rate_per_s)) +
                      "/s (" + std::to_string(int(double(plan.probes.size()) / so.rate_per_s + 0.5)) +
                      " s); a stateful firewall on the path holds at most about " +
                      std::to_string(int(so.rate_per_s * kConntrackUdpTimeoutS)) +
                      " of its UDP flows at once (rate x its 30 s UDP timeout; --sweep-rate lowers it); at most " +
                      std::to_string(so.max_active) + " probes in flight\n";
        }
        so.key = key;
        so.avoid_local_ports = avoid;
        *results = probe::send_probes(plan.probes, so, &g_stop_signal);
        if (swept > 0) *notes += probe::confirm_unanswered(plan, *results, so, &g_stop_signal);
        wait_after_last_unanswered(*results);
        *ran_until = util::wall_s();
        cap.stop(0.5);
        if (cap.kernel_dropped() > 0)
            *notes += "probe: the capture lost " + std::to_string(cap.kernel_dropped()) +
                      " packet(s) in the kernel (this machine did not read them in time): a probe whose packets "
                      "were all lost is not exercised, one that lost its answer reads as the socket saw it\n";
    } catch (const capture::CaptureError& e) {
        std::fprintf(stderr, "callwall probe: %s\n", e.what());
        return e.kind() == capture::CaptureErrorKind::Permission ? kExitPermission : kExitInput;
    } catch (const std::runtime_error& e) {
        std::fprintf(stderr, "callwall probe: %s\n", e.what());
        return kExitOutput;
    }
    return kExitOk;
}

// The command line, checked.
struct ProbeArgs {
    std::string db_path, iface, product, fail_on, reflector, key, key_file, keep_pcap, user = "nobody";
    std::vector<std::string> vendors, resolve, targets, catalog_dirs, entries;
    double rate = 20, sweep_rate = 1000;
    uint32_t budget = 2000, per_range = 16;
    bool quiet = false, dry = false, no_bundled = false, ipv6 = false;
    Verbosity verbosity = Verbosity::normal;
    bool sweep = false;  ///< through a reflector, every port of every range (no --sample)
    bool all_rows = false;  ///< --all: the report lists every requirement's row, in catalog order
};

// Parses and checks the options: -1 to go on, else the exit code (after
// the help, or a one-line message).
int parse_probe_args(int argc, char** argv, ProbeArgs& a) {
    po::options_description opts(
        "callwall probe --vendor NAME... --db FILE [options]\n\n"
        "Sends each catalog requirement's traffic from this machine, captures it and judges\n"
        "the capture like 'analyze' (a run of kind 'probe').\n\noptions");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("vendor", po::value(&a.vendors)->composing()->value_name("NAME"), "probe this vendor's entries (required, repeatable)")
        ("product", po::value(&a.product)->value_name("P"), "only this product's entries")
        ("entry", po::value(&a.entries)->composing()->value_name("ID"), "only this entry (repeatable; of the --vendor chosen)")
        ("db", po::value(&a.db_path)->value_name("FILE"), "SQLite database to create or append to (required)")
        ("interface,i", po::value(&a.iface)->value_name("IFACE"), "capture here (default: the route's interface)")
        ("resolve", po::value(&a.resolve)->composing()->value_name("NAME=ADDR"), "use ADDR for NAME (like curl)")
        ("target", po::value(&a.targets)->composing()->value_name("ENTRY_ID=HOST"), "probe this entry through HOST")
        ("reflector", po::value(&a.reflector)->value_name("ADDR"), "send every probe to this 'callwall reflect' (IPv4 or IPv6)")
        ("ipv6,6", "resolve the vendors' names to IPv6 addresses (AAAA) and probe over IPv6")
        ("key-file", po::value(&a.key_file)->value_name("FILE"), "the reflector's key (the file's first line): requests carry its proof, answers without its token are intercepted")
        ("key", po::value(&a.key)->value_name("K"), "the key itself (visible in ps: prefer --key-file or CALLWALL_REFLECT_KEY)")
        ("rate", po::value(&a.rate)->value_name("N"), "probes started per second (default 20)")
        ("budget", po::value(&a.budget)->value_name("N"), "most probes sent (default 2000)")
        ("sample", po::value(&a.per_range)->value_name("N"), "probe N ports of a wider range (its ends plus a spread) instead of every port; without --reflector always (default 16)")
        ("ports-per-range", po::value(&a.per_range)->value_name("N"), "the same as --sample N")
        ("sweep-rate", po::value(&a.sweep_rate)->value_name("N"), "ports per second when a reflector's ranges are swept (default 1000)")
        ("fail-on", po::value(&a.fail_on)->value_name("blocked|partial"), "exit 10 when a verdict is blocked (or partial)")
        ("keep-pcap", po::value(&a.keep_pcap)->value_name("FILE"), "keep the probe's own capture here (in a directory --user can read)")
        ("catalog", po::value(&a.catalog_dirs)->composing()->value_name("DIR"), "add catalog files from DIR")
        ("no-bundled-catalog", "use only the --catalog directories")
        ("user", po::value(&a.user)->value_name("NAME"), "when started as root, drop to this user once the interface is open, before sending (default nobody; 'root' keeps root)")
        ("dry-run", "print the plan and send nothing")
        ("quiet,q", "print nothing but errors")
        ("verbose,v", "the report also lists under each requirement the flows (probes) its verdict rests on")
        ("all", "the report lists every requirement's row in catalog order (by default each product lists the rows "
         "that decide it and folds those not exercised into one line)");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall probe: %s (try 'callwall probe --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts << "\nexample:\n  callwall probe --vendor whereby --db audit.sqlite --fail-on blocked\n"
                  << "\nNeeds CAP_NET_RAW to capture. Exit codes as 'analyze'.\n";
        return kExitOk;
    }
    const auto verbosity = verbosity_of("probe", vm.count("quiet") > 0, vm.count("verbose") > 0);
    if (!verbosity) return kExitUsage;
    a.verbosity = *verbosity;
    a.quiet = a.verbosity == Verbosity::quiet;
    a.all_rows = vm.count("all") > 0;
    a.dry = vm.count("dry-run") > 0;
    a.no_bundled = vm.count("no-bundled-catalog") > 0;
    a.ipv6 = vm.count("ipv6") > 0;
    if (a.vendors.empty() || (a.db_path.empty() && !a.dry)) {
        std::fprintf(stderr, "callwall probe: --vendor and --db are required\n");
        return kExitUsage;
    }
    if (!a.fail_on.empty() && a.fail_on != "blocked" && a.fail_on != "partial") {
        std::fprintf(stderr, "callwall probe: --fail-on takes 'blocked' or 'partial', not '%s'\n", a.fail_on.c_str());
        return kExitUsage;
    }
    // The key is the reflector's: with it, requests carry its proof and
    // TCP probes a challenge, and answers must carry its token, which a
    // vendor's own servers never send back.
    if ((!a.key.empty() || !a.key_file.empty()) && a.reflector.empty()) {
        std::fprintf(stderr, "callwall probe: --key goes with --reflector (it checks the reflector's answers)\n");
        return kExitUsage;
    }
    if (!a.reflector.empty()) {
        const std::string arg = a.key;
        a.key.clear();
        if (const std::string err = read_reflect_key(a.key_file, arg, "probe", &a.key); !err.empty()) {
            std::fprintf(stderr, "callwall probe: %s\n", err.c_str());
            return kExitUsage;
        }
        if (a.key.empty() && !a.dry) {
            std::fprintf(stderr,
                         "callwall probe: --reflector needs its key (--key-file FILE or %s): the "
                         "reflector answers nothing else\n",
                         kReflectKeyEnv);
            return kExitUsage;
        }
    }
    // A sweep takes its local ports in turn (probe::bind_next): above
    // 2000/s one would come back within the 30 s a NAT keeps a UDP mapping.
    if (!(a.rate > 0 && a.rate <= 10000) || !(a.sweep_rate > 0 && a.sweep_rate <= 2000) || a.budget < 1) {
        std::fprintf(stderr,
                     "callwall probe: --rate takes 0 < N <= 10000, --sweep-rate 0 < N <= 2000, --budget N >= 1\n");
        return kExitUsage;
    }
    // Through a reflector every port of a range can be answered: sweep them
    // all, unless a sample is asked for. A sweep is as large as the ranges.
    a.sweep = !a.reflector.empty() && !vm.count("sample") && !vm.count("ports-per-range");
    if (a.sweep && !vm.count("budget")) a.budget = kSweepBudget;
    if (::geteuid() == 0 && a.user != "root" && !a.user.empty() && ::getpwnam(a.user.c_str()) == nullptr) {
        std::fprintf(stderr, "callwall probe: no such user '%s' for --user\n", a.user.c_str());
        return kExitPermission;
    }
    return -1;
}

// The plan's options from the command line; false after a one-line message
// (a NAME=VALUE without its parts).
bool plan_options(const ProbeArgs& a, probe::PlanOptions* po_) {
    po_->vendors = a.vendors;
    po_->product = a.product;
    po_->entries = a.entries;
    po_->reflector = a.reflector;
    po_->budget = a.budget;
    po_->ports_per_range = a.per_range;
    po_->sweep = a.sweep;
    if (!pairs(a.resolve, "--resolve", &po_->resolve, true) || !pairs(a.targets, "--target", &po_->targets, false))
        return false;
    // Probes go only to literal addresses: a name here would be resolved
    // behind the allowed set's back.
    // Each literal in its canonical text ("fd00::2", not "fd00:0:0::2"): the
    // flows are matched to their probes by the address as the capture's
    // decoder writes it.
    if (!a.reflector.empty()) {
        const auto r = probe::parse_address(a.reflector);
        if (!r) {
            std::fprintf(stderr, "callwall probe: --reflector takes an IPv4 or IPv6 address, not '%s'\n",
                         a.reflector.c_str());
            return false;
        }
        po_->reflector = r->text();
    }
    for (auto& [name, addr] : po_->resolve) {
        const auto r = probe::parse_address(addr);
        if (!r) {
            std::fprintf(stderr, "callwall probe: --resolve %s=%s: not an IPv4 or IPv6 address\n", name.c_str(),
                         addr.c_str());
            return false;
        }
        addr = r->text();
    }
    return true;
}

// Every --vendor is in the catalog and every --entry is one of theirs; false
// after a one-line message.
bool vendors_and_entries_known(const ProbeArgs& a, const catalog::Catalog& cat) {
    if (const std::string bad = unknown_vendors(cat, a.vendors); !bad.empty()) {
        std::fprintf(stderr, "callwall probe: --vendor: %s\n", bad.c_str());
        return false;
    }
    for (const auto& id : a.entries) {
        const catalog::Entry* e = cat.find_entry(id);
        const bool of_vendor = e && std::any_of(a.vendors.begin(), a.vendors.end(), [&](const std::string& v) {
                                   return catalog::Selection{v, "", ""}.matches(e->vendor, e->product, e->edition);
                               });
        if (!of_vendor) {
            std::fprintf(stderr, "callwall probe: --entry: '%s' is not an entry of the --vendor chosen\n", id.c_str());
            return false;
        }
    }
    return true;
}

void print_plan(const probe::Plan& plan, const ProbeArgs& a) {
    const bool sweeping =
        std::any_of(plan.probes.begin(), plan.probes.end(), [](const probe::Probe& p) { return p.swept; });
    const double rate = sweeping ? std::max(a.rate, a.sweep_rate) : a.rate;
    std::printf("probe plan: %zu probes to %zu addresses at %.0f/s (about %.0f s); %zu entries not exercised\n",
                plan.probes.size(), plan.destinations.size(), rate, double(plan.probes.size()) / rate,
                plan.skipped.size());
    for (const auto& s : plan.skipped) std::printf("  not exercised  %s: %s\n", s.entry_id.c_str(), s.reason.c_str());
    for (const auto& [id, c] : plan.coverage)
        if (c.ports > 1) std::printf("  coverage %s: %s\n", id.c_str(), probe::coverage_text(c).c_str());
    if (a.dry)
        for (const auto& p : plan.probes)
            std::printf("  %-14s %s  %s  (%s)\n", std::string(probe::to_string(p.kind)).c_str(),
                        probe::with_port(p.addr, p.port).c_str(), p.host.c_str(), p.entry_id.c_str());
}

// The file the probe captures into: --keep-pcap, or a temporary file given
// to --user (read back after dropping to it). kExitOk, or the exit code
// after a one-line message.
int capture_file(const ProbeArgs& a, std::string* pcap) {
    *pcap = a.keep_pcap;
    if (!pcap->empty()) return kExitOk;
    char tmpl[] = "/tmp/callwall-probe-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) {
        std::fprintf(stderr, "callwall probe: cannot create a capture file in /tmp: %s\n", std::strerror(errno));
        return kExitOutput;
    }
    const bool given = give_to_user(fd, a.user);
    ::close(fd);
    *pcap = tmpl;
    if (!given) {
        ::unlink(pcap->c_str());
        std::fprintf(stderr, "callwall probe: cannot give %s to user '%s' (--user)\n", pcap->c_str(), a.user.c_str());
        return kExitPermission;
    }
    return kExitOk;
}

// What attribution must know of each probe's result: answers without the
// reflector's token, TLS cut after the ClientHello, the entry each flow was
// sent for, what each socket itself received (`answered`: the capture may
// lose it). `unproven_silence` (null: through a reflector, which answers
// every port): the UDP probes to the vendor's own servers whose silence
// proves nothing.
void take_results(const probe::Plan& plan, const std::vector<probe::ProbeResult>& results, ProbeFlows* intercepted,
                  ProbeFlows* tls_cut, SentFor* sent_for, Answered* answered, ProbeFlows* unproven_silence,
                  std::string* notes) {
    size_t refused = 0;
    std::string why;
    for (size_t i = 0; i < results.size(); ++i) {
        if (!results[i].send_error.empty()) why = results[i].send_error;
        const auto& p = plan.probes[i];
        const auto& r = results[i];
        const FlowKey key = flow_key(p, r.local_port);
        if (r.local_port != 0) (*sent_for)[key].insert(p.entry_id);
        if (r.intercepted) intercepted->insert(key);
        if (!r.intercepted && answered_by_server(r.seen)) (*answered)[key] = r.detail;
        if (r.seen == "tls-reset") tls_cut->insert(key);
        const bool udp = probe::transport_of(p.kind) == "udp";
        if (unproven_silence && udp && !p.answer_expected) unproven_silence->insert(key);
        if (r.send_failures > 0) ++refused;
        if (r.intercepted)
            *notes += "probe: intercepted: " + p.entry_id + " " + std::string(probe::to_string(p.kind)) + " " + p.addr +
                      ":" + std::to_string(p.port) + ": " + r.detail + "\n";
    }
    if (refused > 0)
        *notes += "probe: " + std::to_string(refused) +
                  " probe(s) had a request this machine's kernel refused to send (" + why +
                  "): such a request never reached the path\n";
}

// A probe's flow as attribution judged it: "observed", "blocked:icmp-3-13",
// "inconclusive"; "not-captured" when its flow is not in the capture.
using Judged = std::map<FlowKey, std::string>;

// One line per probe, judged as its verdict is (from the capture), the
// sender's own reading beside it; of a swept range only the ports that did
// not get through are listed, the rest counted on one line per entry. A
// swept port sent again (Probe::confirming) reads as its last try, or
// observed when either got through.
void print_probe_lines(const probe::Plan& plan, const std::vector<probe::ProbeResult>& results, const Judged& judged) {
    constexpr size_t kListedPerEntry = 20;
    struct Sweep {
        uint32_t listed = 0;
        std::map<uint16_t, std::string> ports;  ///< each port's verdict
    };
    std::map<std::string, Sweep> sweeps;
    std::vector<std::string> verdicts(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
        const auto& p = plan.probes[i];
        const auto& r = results[i];
        const auto j = judged.find(flow_key(p, r.local_port));
        verdicts[i] = r.local_port == 0 ? r.seen : j == judged.end() ? "not-captured" : j->second;
        if (!p.swept) continue;
        std::string& port = sweeps[p.entry_id].ports[p.port];
        if (port != "observed") port = verdicts[i];
    }
    for (size_t i = 0; i < results.size(); ++i) {
        const auto& p = plan.probes[i];
        const auto& r = results[i];
        const std::string& verdict = verdicts[i];
        if (p.swept) {
            Sweep& w = sweeps[p.entry_id];
            if (w.ports.at(p.port) == "observed" || ++w.listed > kListedPerEntry) continue;
        }
        std::printf("  %-13s %-15s %5u  %-20s %s%s  [%s]\n", std::string(probe::to_string(p.kind)).c_str(),
                    p.addr.c_str(), p.port, verdict.c_str(), r.detail.c_str(), p.confirming ? " (sent again)" : "",
                    p.entry_id.c_str());
    }
    for (const auto& [entry, w] : sweeps) {
        uint32_t observed = 0;
        std::set<uint16_t> blocked, other, uncaptured;
        for (const auto& [port, verdict] : w.ports) {
            if (verdict == "observed")
                ++observed;
            else if (verdict == "not-captured")
                uncaptured.insert(port);
            else
                (verdict.rfind("blocked", 0) == 0 ? blocked : other).insert(port);
        }
        std::printf("  swept %s: %s; %u port(s) observed", entry.c_str(),
                    probe::coverage_text(plan.coverage.at(entry)).c_str(), observed);
        if (!blocked.empty()) std::printf(", blocked on %s", intervals_text(blocked).c_str());
        if (!other.empty()) std::printf(", inconclusive on %s", intervals_text(other).c_str());
        // Sent, but not in the capture (lost before the capture read it):
        // neither observed nor blocked.
        if (!uncaptured.empty()) std::printf(", not in the capture on %s", intervals_text(uncaptured).c_str());
        if (w.listed > kListedPerEntry) std::printf(" (%u listed above)", static_cast<unsigned>(kListedPerEntry));
        std::printf("\n");
    }
    std::printf("\n");
}

// What the command adds to an entry's verdict: how much of its ports the
// probe measured ("passes on 16 of 64,512 ports sampled"), and why one rule
// gave both ICMP errors and silence.
void note_coverage(const probe::Plan& plan, const catalog::Entry& e, attrib::EntryVerdict& v) {
    const auto c = plan.coverage.find(e.id);
    // An entry of one port needs no word on how much of it was measured.
    if (c == plan.coverage.end() || c->second.ports <= 1 || v.verdict == attrib::Verdict::NotExercised) return;
    const std::string measured = probe::coverage_text(c->second);
    if (c->second.probed < c->second.ports && v.verdict == attrib::Verdict::Observed)
        v.why = "passes on " + measured + " (no other port was sent): " + v.why;
    else
        v.why += "; measured on " + measured;
    const bool icmp =
        std::any_of(v.reasons.begin(), v.reasons.end(), [](const std::string& r) { return r.rfind("icmp-", 0) == 0; });
    const bool silent = std::any_of(v.reasons.begin(), v.reasons.end(),
                                    [](const std::string& r) { return r == "no-answer" || r == "stun-timeout"; });
    if (icmp && silent)
        v.why +=
            "; some attempts got an ICMP error and others silence: a firewall that rate-limits its ICMP errors "
            "(Linux: net.ipv4.icmp_ratelimit) answers only some of the probes its rule rejects";
}

}  // namespace

int run_probe(int argc, char** argv) {
    ProbeArgs a;
    if (const int rc = parse_probe_args(argc, argv, a); rc >= 0) return rc;
    probe::PlanOptions po_;
    if (!plan_options(a, &po_)) return kExitUsage;
    const auto cat = load_catalog(a.catalog_dirs, a.no_bundled);
    if (!cat) return kExitCatalog;
    if (!vendors_and_entries_known(a, *cat)) return kExitUsage;
    const int family = a.ipv6 ? AF_INET6 : AF_INET;
    probe::Plan plan = probe::make_plan(*cat, po_, [family](const std::string& name, std::string* error) {
        return probe::system_resolve(name, error, family);
    });
    std::string notes;
    for (const auto& s : plan.skipped) notes += "probe: " + s.entry_id + " not exercised: " + s.reason + "\n";
    if (!a.quiet || a.dry) print_plan(plan, a);
    if (a.dry) return kExitOk;
    if (plan.probes.empty()) {
        std::fprintf(stderr, "callwall probe: nothing to send\n");
        return kExitOk;
    }
    std::string capture_iface = a.iface;
    const std::string local =
        probe::route_source(plan.destinations.front(), a.iface.empty() ? &capture_iface : nullptr);
    if (local.empty() || capture_iface.empty()) {
        std::fprintf(stderr, "callwall probe: no route to %s (or give -i)\n", plan.destinations.front().c_str());
        return kExitInput;
    }
    std::string pcap;
    if (const int rc = capture_file(a, &pcap); rc != kExitOk) return rc;
    const auto drop_pcap = [&] {
        if (a.keep_pcap.empty()) ::unlink(pcap.c_str());
    };
    // The database is opened (and the run begun) while we may still be root,
    // as `capture` does: the user dropped to may not be able to create it.
    ProbeFlows intercepted;
    run::Options ro;
    ro.db_path = a.db_path;
    ro.kind = "probe";
    ro.sources = {capture_iface};
    ro.command_line = join_command_line(argc, argv);
    ro.catalog = &*cat;
    ro.per_message_rows = true;  // a few hundred packets: every message is kept, as with --detail
    // Every probe is a flow of its own, all of them alive at once in the
    // capture (a sweep's 64,512 within its 120 s UDP idle timeout): each
    // needs its decoder's slot for its STUN facts.
    ro.decoder_flows = plan.probes.size();
    // An answer that came from a middlebox says nothing about the way to the
    // vendor: such flows are inconclusive, not observed. A TLS connection cut
    // after the ClientHello is blocked, whatever answered its SYN.
    ProbeFlows tls_cut;
    // Each probe's flow counts only for the entry it was sent for: through
    // one reflector address a flow carries every name probed there.
    SentFor sent_for;
    // Without a reflector the probes go to the vendor's own servers on ports
    // the probe chose from each range: a port the server itself refuses is
    // no block (the firewall passed the probe).
    // Their UDP probes, too, where the server is not known to answer STUN:
    // its silence is no block either (take_results: unproven_silence).
    const bool to_vendor = a.reflector.empty();
    ProbeFlows unproven_silence;
    // What each socket received: evidence the capture may have lost.
    Answered answered;
    ro.flow_context = [&intercepted, &tls_cut, &sent_for, &unproven_silence, &answered, to_vendor](
                          const attrib::FlowFacts& f, attrib::FlowContext& ctx) {
        const FlowKey key = flow_key(f);
        ctx.refusal_is_no_block = to_vendor && sent_for.count(key) > 0;
        ctx.silence_is_no_block = unproven_silence.count(key) > 0;
        ctx.intercepted = intercepted.count(key) > 0;
        ctx.tls_cut = tls_cut.count(key) > 0;
        if (const auto it = sent_for.find(key); it != sent_for.end()) ctx.sent_for = it->second;
        if (const auto it = answered.find(key); it != answered.end()) ctx.answered_at_sender = it->second;
    };
    ro.entry_verdict = [&plan](const catalog::Entry& e, attrib::EntryVerdict& v) { note_coverage(plan, e, v); };
    Judged judged;
    ro.flow_outcome = [&judged](const attrib::FlowFacts& f, const attrib::FlowOutcome& o) {
        std::string v(attrib::to_string(o.outcome));
        if (o.outcome == attrib::Outcome::Blocked && !o.reason.empty()) v += ":" + o.reason;
        judged[flow_key(f)] = v;
    };
    int open_rc = kExitOk;
    const std::unique_ptr<run::Session> session = open_session("probe", std::move(ro), open_rc);
    if (!session) {
        drop_pcap();
        return open_rc;
    }
    std::vector<probe::ProbeResult> results;
    double ran_until = 0;
    // The probe's own ports stay out of every inbound entry's local ports:
    // an answered probe there would read as evidence for an entry it did
    // not exercise.
    if (const int rc = send_and_capture(plan, capture_iface, local, pcap, a.rate, a.sweep_rate, a.key, a.user,
                                        cat->inbound_local_ports(), &notes, &results, &ran_until);
        rc != kExitOk) {
        try {
            session->finish(run::Status::Failed);
        } catch (...) {}
        drop_pcap();
        return rc;
    }
    take_results(plan, results, &intercepted, &tls_cut, &sent_for, &answered, to_vendor ? &unproven_silence : nullptr,
                 &notes);
    // The capture's end is when it stopped, not its last packet: a probe
    // sent last and never answered was waited for (kNoAnswerWaitS).
    session->capture_ran_until(ran_until);
    const int rc = analyse_probe_capture(pcap, *session, a.db_path, *cat, plan, a.vendors, a.fail_on, a.verbosity,
                                         a.all_rows, notes, [&] { print_probe_lines(plan, results, judged); });
    drop_pcap();
    return rc;
}

}  // namespace callwall::cli
