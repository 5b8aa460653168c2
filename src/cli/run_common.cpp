#include "cli/run_common.hpp"

#include <chrono>
#include <filesystem>
#include <cstdio>

#include "callwall/attrib/attrib.hpp"
#include "callwall/report/report.hpp"
#include "cli/commands.hpp"

namespace callwall::cli {

volatile std::sig_atomic_t g_stop_signal = 0;

namespace {
void on_stop(int sig) { g_stop_signal = sig; }
}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns so the loop sees the flag
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

double wall_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double mono_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string join_command_line(int argc, char** argv) {
    std::string s = "callwall";
    for (int i = 0; i < argc; ++i) {
        s += ' ';
        s += argv[i];
    }
    return s;
}

void print_summary(std::FILE* out, const pipeline::Analyzer& a, double elapsed_s) {
    const auto& t = const_cast<pipeline::Analyzer&>(a).totals();
    const double pps = elapsed_s > 0 ? static_cast<double>(t.packets) / elapsed_s : 0;
    std::fprintf(out, "packets %llu (%llu bytes, %llu truncated by snaplen, %llu not IP/undecodable)",
                 static_cast<unsigned long long>(t.packets), static_cast<unsigned long long>(t.bytes),
                 static_cast<unsigned long long>(t.truncated_packets),
                 static_cast<unsigned long long>(t.undecoded_packets));
    if (t.kernel_received || t.kernel_dropped)
        std::fprintf(out, ", kernel dropped %llu", static_cast<unsigned long long>(t.kernel_dropped));
    std::fprintf(out, "\nflows %llu:", static_cast<unsigned long long>(a.flows_written()));
    const uint64_t* counts = a.state_counts();
    for (int s = 0; s <= static_cast<int>(flow::ConnState::OtherOneWay); ++s) {
        if (!counts[s]) continue;
        const auto cs = static_cast<flow::ConnState>(s);
        const char* family = s <= static_cast<int>(flow::ConnState::OTH) ? "tcp" : (cs <= flow::ConnState::UdpOneWay ? "udp" : "other");
        std::fprintf(out, " %s/%.*s %llu", family, static_cast<int>(flow::to_string(cs).size()),
                     flow::to_string(cs).data(), static_cast<unsigned long long>(counts[s]));
    }
    std::fprintf(out, "\ntime %.3f s, %.0f packets/s\n", elapsed_s, pps);
}

void note_bounds(pipeline::Analyzer& a) {
    std::string& notes = a.totals().notes;
    const pipeline::DissectStats ds = a.dissector().stats();
    if (ds.pool_exhausted)
        notes += "bounds: " + std::to_string(ds.pool_exhausted) +
                 " times a flow got no decoder buffer (TLS/QUIC/STUN/RTP/DNS pools full); those flows lack application facts\n";
    if (ds.names_dropped)
        notes += "bounds: " + std::to_string(ds.names_dropped) + " names not recorded (name table full at " +
                 std::to_string(pipeline::NameTable::kMaxNames) + ")\n";
    if (ds.addresses_dropped)
        notes += "bounds: " + std::to_string(ds.addresses_dropped) +
                 " DNS answers not mapped to addresses (address map full)\n";
    if (ds.buffers_reclaimed)
        notes += "bounds: " + std::to_string(ds.buffers_reclaimed) +
                 " TLS/QUIC handshake buffers lost: reclaimed from stalled flows (pool full or one address at its "
                 "bound); those flows lack their hello\n";
    if (ds.tcp_gaps)
        notes += "tcp: " + std::to_string(ds.tcp_gaps) + " stream gaps never filled (" +
                 std::to_string(ds.tcp_gap_bytes) + " bytes not decoded), " + std::to_string(ds.tcp_resyncs) +
                 " resynchronisations at the next frame\n";
    if (ds.peers_dropped)
        notes += "bounds: " + std::to_string(ds.peers_dropped) + " TURN peers not recorded (peer map full)\n";
}

int report_store_error(const store::StoreError& e) {
    std::fprintf(stderr, "callwall: database error: %s\n", e.what());
    return kExitDatabase;
}

std::optional<catalog::Catalog> load_catalog(const std::vector<std::string>& extra, bool no_bundled) {
    std::vector<std::filesystem::path> paths;
    if (!no_bundled) paths.push_back(catalog::bundled_catalog_dir());
    for (const auto& e : extra) paths.emplace_back(e);
    if (paths.empty()) {
        std::fprintf(stderr, "callwall: no catalog: give --catalog DIR or drop --no-bundled-catalog\n");
        return std::nullopt;
    }
    auto r = catalog::load(paths);
    if (!r.ok()) {
        for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
        std::fprintf(stderr, "callwall: the catalog has %zu error(s); 'callwall catalog check' lists them\n",
                     r.diagnostics.size());
        return std::nullopt;
    }
    return std::move(*r.catalog);
}

bool fail_on_matches(const std::vector<std::string>& verdicts, const std::string& fail_on) {
    for (const auto& v : verdicts) {
        if (v == "blocked") return true;
        if (fail_on == "partial" && v == "partial") return true;
    }
    return false;
}

int attribute_and_print(store::Store& db, int64_t run_id, const catalog::Catalog& c,
                        const std::vector<std::string>& vendors, const std::string& fail_on, bool quiet) try {
    attrib::run_attribution(db, run_id, c);
    db.flush();
    if (quiet && fail_on.empty()) return kExitOk;  // nothing to print or decide
    report::ReportOptions opt;
    opt.run = run_id;
    opt.vendors = vendors;
    const report::ReportData d = report::load(db.db(), db.path(), opt);
    if (!quiet) std::fputs(report::render_text(d).c_str(), stdout);
    if (fail_on.empty()) return kExitOk;
    std::vector<std::string> vs;
    for (const auto& v : d.verdicts) vs.push_back(v.verdict);
    return fail_on_matches(vs, fail_on) ? kExitFailOn : kExitOk;
} catch (const store::StoreError& e) {
    return report_store_error(e);
} catch (const std::runtime_error& e) {
    std::fprintf(stderr, "callwall: %s\n", e.what());
    return kExitDatabase;
}

}  // namespace callwall::cli
