// Prometheus text exposition. See src/events/metrics.hpp.
#include "events/metrics.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

namespace callwall::events {
namespace {

// Label values: backslash, double quote and line feed escaped (exposition format).
std::string label_value(const std::string& v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, const char* name, uint64_t v) {
    out += name;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
}

}  // namespace

std::string metrics_text(const MetricsSnapshot& m) {
    std::string out;
    family(out, "callwall_run_id", "gauge", "The run being captured (a new one after each rotation or SIGHUP).");
    sample(out, "callwall_run_id", static_cast<uint64_t>(m.run_id));
    const struct {
        const char* name;
        uint64_t value;
        const char* help;
    } counters[] = {
        {"callwall_packets_total", m.packets, "Packets read in the current run."},
        {"callwall_bytes_total", m.bytes, "Bytes of the packets read in the current run (as on the wire)."},
        {"callwall_kernel_received_total", m.kernel_received,
         "Packets the kernel passed to the capture in the current run."},
        {"callwall_kernel_dropped_total", m.kernel_dropped,
         "Packets the kernel dropped because the capture's ring was full, in the current run."},
        {"callwall_interface_dropped_total", m.interface_dropped,
         "Packets the interfaces dropped, in the current run."},
        {"callwall_flows_total", m.flows, "Flows created in the current run."},
    };
    for (const auto& c : counters) {
        family(out, c.name, "counter", c.help);
        sample(out, c.name, c.value);
    }
    family(out, "callwall_live_flows", "gauge", "Flows in the flow table now.");
    sample(out, "callwall_live_flows", m.live_flows);
    if (m.attributed) {
        family(out, "callwall_requirements", "gauge",
               "Requirements of each vendor by verdict, as of the last attribution of the current run.");
        for (const auto& v : m.vendors) {
            const std::string vendor = label_value(v.vendor);
            const std::pair<const char*, uint32_t> by[] = {{"observed", v.observed},
                                                           {"blocked", v.blocked},
                                                           {"partial", v.partial},
                                                           {"inconclusive", v.inconclusive},
                                                           {"not_exercised", v.not_exercised}};
            for (const auto& [verdict, n] : by) {
                out += "callwall_requirements{vendor=\"" + vendor + "\",verdict=\"" + verdict + "\"} " +
                       std::to_string(n) + '\n';
            }
        }
    }
    family(out, "callwall_last_refresh_timestamp_seconds", "gauge", "When this file was written.");
    char ts[32];
    std::snprintf(ts, sizeof ts, "%.3f", m.refreshed_at);
    out += "callwall_last_refresh_timestamp_seconds ";
    out += ts;
    out += '\n';
    return out;
}

std::string replace_file(const std::string& path, const std::string& text) {
    // A temporary of our own beside it (never an existing file), then rename.
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string tmp = dir + "/." + base + ".tmp-XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) return path + ": " + std::strerror(errno);
    ::fchmod(fd, 0644);  // read by the collector, often another user
    int err = 0;
    for (size_t done = 0; done < text.size() && err == 0;) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n > 0)
            done += static_cast<size_t>(n);
        else if (n < 0 && errno != EINTR)
            err = errno;
    }
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
    if (err != 0) {
        ::unlink(tmp.c_str());
        return path + ": " + std::strerror(err);
    }
    return "";
}

}  // namespace callwall::events
