// JSON lines of the event stream and the file they go to. See events/events.hpp.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "catalog/catalog.hpp"
#include "events/events.hpp"
#include "events/record_json.hpp"
#include "util/file_head.hpp"

namespace callwall::events {
namespace {

using catalog::json_quote;

// Builds one object: {"schema_version":1,"event":"KIND", ...}\n
class Line {
public:
    Line(std::string_view event, double ts, int64_t run_id) {
        o_ = "{\"schema_version\":" + std::to_string(kSchemaVersion) + ",\"event\":" + json_quote(event);
        num("ts", ts);
        integer("run_id", run_id);
    }
    Line& str(std::string_view key, std::string_view v) {
        o_ += ",\"" + std::string(key) + "\":" + json_quote(v);
        return *this;
    }
    /// A text that may come off the wire (names): see catalog::json_field.
    Line& text(std::string_view key, std::string_view v) {
        o_ += "," + catalog::json_field(key, v);
        return *this;
    }
    Line& integer(std::string_view key, int64_t v) {
        o_ += ",\"" + std::string(key) + "\":" + std::to_string(v);
        return *this;
    }
    Line& uinteger(std::string_view key, uint64_t v) {
        o_ += ",\"" + std::string(key) + "\":" + std::to_string(v);
        return *this;
    }
    Line& num(std::string_view key, double v) {
        char b[48];
        std::snprintf(b, sizeof b, "%.6f", v);
        o_ += ",\"" + std::string(key) + "\":" + b;
        return *this;
    }
    Line& strings(std::string_view key, const std::vector<std::string>& v) {
        o_ += ",\"" + std::string(key) + "\":[";
        for (size_t i = 0; i < v.size(); ++i) o_ += (i ? "," : "") + json_quote(v[i]);
        o_ += "]";
        return *this;
    }
    /// Members already written as JSON (",\"key\":value...").
    Line& raw(std::string_view members) {
        o_ += members;
        return *this;
    }
    std::string done() { return o_ + "}\n"; }

private:
    std::string o_;
};

std::string ip_text(const decode::IpAddr& a) {
    char b[INET6_ADDRSTRLEN] = "";
    if (a.family == 6)
        inet_ntop(AF_INET6, a.bytes.data(), b, sizeof b);
    else
        inet_ntop(AF_INET, a.bytes.data(), b, sizeof b);
    return b;
}

constexpr uint8_t kSctp = 132;

// Zeek's transport_proto names: ICMPv6 is "icmp" too.
std::string_view zeek_proto(uint8_t proto) {
    switch (proto) {
        case decode::kProtoTcp: return "tcp";
        case decode::kProtoUdp: return "udp";
        case decode::kProtoIcmp:
        case decode::kProtoIcmp6: return "icmp";
        default: return "unknown_transport";
    }
}

}  // namespace

void append_member(std::string& out, std::string_view key, int64_t v) {
    out += ",\"";
    out += key;
    out += "\":";
    out += std::to_string(v);
}

void append_member(std::string& out, std::string_view key, double v) {
    char b[48];
    std::snprintf(b, sizeof b, "%.6f", v);
    out += ",\"";
    out += key;
    out += "\":";
    out += b;
}

void append_member(std::string& out, std::string_view key, std::string_view v) {
    out += ',';
    out += catalog::json_field(key, v);
}

void append_json_member(std::string& out, std::string_view key, std::string_view json) {
    out += ",\"";
    out += key;
    out += "\":";
    out += json;
}

std::string to_json(const RunStartEvent& e) {
    return Line("run_start", e.ts, e.run_id)
        .str("kind", e.kind)
        .strings("sources", e.sources)
        .str("tool_version", e.tool_version)
        .str("catalog_digest", e.catalog_digest)
        .raw(e.columns)
        .done();
}

std::string to_json(const RunEndEvent& e) {
    return Line("run_end", e.ts, e.run_id)
        .str("status", e.status)
        .str("ended_by", e.ended_by)
        .uinteger("packets", e.packets)
        .uinteger("bytes", e.bytes)
        .uinteger("flows", e.flows)
        .uinteger("kernel_dropped", e.kernel_dropped)
        .num("first_ts", e.first_ts)
        .num("last_ts", e.last_ts)
        .raw(e.columns)
        .done();
}

std::string to_json(const FlowEvent& e) {
    return Line("flow", e.ts, e.run_id)
        .uinteger("flow_id", e.flow_id)
        .str("uid", e.uid)
        // SCTP's ports are not decoded, and its ID needs them: none, which
        // the spec allows ("an empty string") rather than a wrong one.
        .str("community_id", !e.community_id.empty() ? e.community_id
                             : e.proto == kSctp      ? std::string()
                                                     : community_id(e.orig_h, e.orig_p, e.resp_h, e.resp_p, e.proto))
        .str("id.orig_h", ip_text(e.orig_h))
        .uinteger("id.orig_p", e.orig_p)
        .str("id.resp_h", ip_text(e.resp_h))
        .uinteger("id.resp_p", e.resp_p)
        .str("proto", zeek_proto(e.proto))
        .str("service", e.service)
        .str("app", e.app)
        .num("duration", e.duration)
        .uinteger("orig_pkts", e.orig_pkts)
        .uinteger("orig_bytes", e.orig_bytes)
        .uinteger("orig_ip_bytes", e.orig_ip_bytes)
        .uinteger("resp_pkts", e.resp_pkts)
        .uinteger("resp_bytes", e.resp_bytes)
        .uinteger("resp_ip_bytes", e.resp_ip_bytes)
        .str("conn_state", e.conn_state)
        .str("history", e.history)
        .text("name", e.name)
        .str("name_source", e.name_source)
        .raw(e.columns)
        .done();
}

std::string to_json(const DnsEvent& e) {
    return Line("dns", e.ts, e.run_id)
        .str("client", e.client)
        .text("qname", e.qname)
        .str("rrtype", e.rrtype)
        .text("answer", e.answer)
        .uinteger("ttl", e.ttl)
        .str("vendor", e.vendor)
        .raw(e.columns)
        .done();
}

std::string to_json(const NameEvent& e) {
    return Line("name", e.ts, e.run_id)
        .uinteger("flow_id", e.flow_id)
        .str("uid", e.uid)
        .str("community_id", e.community_id)
        .str("source", e.source)
        .text("name", e.name)
        .str("vendor", e.vendor)
        .raw(e.columns)
        .done();
}

std::string to_json(const VerdictEvent& e) {
    return Line("verdict", e.ts, e.run_id)
        .str("entry_id", e.entry_id)
        .str("vendor", e.vendor)
        .str("product", e.product)
        .str("service", e.service)
        .str("verdict", e.verdict)
        .str("previous", e.previous)
        .raw(e.columns)
        .done();
}

EventLog::EventLog(std::string path) : path_(std::move(path)) { open(); }

EventLog::~EventLog() {
    if (own_fd_ && fd_ >= 0) ::close(fd_);
}

void EventLog::open() {
    if (path_ == "-") {
        fd_ = STDOUT_FILENO;
        own_fd_ = false;
        return;
    }
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (error_.empty()) error_ = path_ + ": " + std::strerror(errno);
        return;
    }
    // An SQLite file is never an event log: appending would damage a
    // database (the run's own, or anyone's). Only a regular file can be one:
    // a named pipe or a terminal is not read (opening a FIFO to read it would
    // wait on the data this log has yet to write, and steal it from the reader).
    struct stat st {};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular && util::is_sqlite_head(util::regular_file_head(path_, util::kSqliteMagic.size()))) {
        ::close(fd);
        if (error_.empty()) error_ = path_ + ": is an SQLite database, not an event log";
        return;
    }
    fd_ = fd;
    own_fd_ = true;
}

void EventLog::reopen() {
    if (path_ == "-" || !ok()) return;
    // The path still names the open file (nothing rotated it away): keep it,
    // so a process that has dropped its privileges keeps writing there.
    struct stat open_st {
    }, path_st{};
    if (fd_ >= 0 && ::fstat(fd_, &open_st) == 0 && ::stat(path_.c_str(), &path_st) == 0 &&
        open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino)
        return;
    if (own_fd_ && fd_ >= 0) ::close(fd_);
    fd_ = -1;
    open();
}

void EventLog::write(std::string_view line) {
    if (!ok() || fd_ < 0) return;
    size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error_ = path_ == "-" ? std::string("standard output: ") + std::strerror(errno)
                                  : path_ + ": " + std::strerror(errno);
            return;
        }
        done += static_cast<size_t>(n);
    }
    ++lines_;
}

}  // namespace callwall::events
