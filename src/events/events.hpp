// The event stream: JSON lines for the log pipelines
// administrators already run (Vector, Fluent Bit, Logstash, Filebeat, Splunk),
// as Zeek's conn.log and Suricata's eve.json are shipped.
//
// One JSON object per line, each with "schema_version" and "event":
//   run_start  a run begins (kind, sources, tool version, catalog digest),
//              then every other column of the run's row written when it
//              starts (a view of the run record: kRunStartViewedColumns)
//   flow       a flow ended (or the run ended with it alive): Zeek conn.log
//              field names (id.orig_h, id.orig_p, id.resp_h, id.resp_p,
//              proto, service, duration, orig_pkts/bytes, resp_pkts/bytes,
//              conn_state) plus the Community ID flow hash and callwall's name,
//              then every other column of the flow's row under its own name
//              (a view of the flow record: kZeekViewedColumns)
//   dns        an answer for a vendor's name, then every other column of its
//              dns_answer row (kDnsViewedColumns)
//   name       a TLS or QUIC server name of a vendor seen on a flow (a view
//              of the flow_name record: kNameViewedColumns)
//   verdict    a requirement's verdict changed (with the previous one), then
//              every other column of its verdict row under its own name
//              (a view of the verdict record: reasons, counts, ports, why)
//   run_end    a run ended (status, totals), then every other column its
//              end writes to the run's row (kRunEndViewedColumns)
// Each line's own members come first; a record's column the line carries
// under a name (and meaning) of its own is "viewed" and not repeated.
// docs/events.schema.json is the schema (Draft 7); the version changes when
// a field is removed or changes meaning (fields may be added).
//
// Community ID v1 (corelight/community-id-spec): base64 of SHA-1 over
// seed (2 bytes), the lower endpoint's address then the other's, protocol,
// one zero byte, and the two ports (ICMP: type and the paired type, or the
// code for one-way messages), prefixed "1:".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"
#include "decode/packet.hpp"

namespace callwall::events {

inline constexpr int kSchemaVersion = 2;

/// Community ID v1 of a flow, e.g. "1:LQU9qZlK+B5F3KDmev6m5PMibrg=". The
/// order of the two endpoints does not matter (except for one-way ICMP
/// messages, hashed as sent). `proto`: IANA protocol number; for ICMP (1) and
/// ICMPv6 (58) the "ports" are the message type and code.
[[nodiscard]] std::string community_id(const decode::IpAddr& src, uint16_t sport, const decode::IpAddr& dst,
                                       uint16_t dport, uint8_t proto, uint16_t seed = 0);

/// An ICMP (proto 1) or ICMPv6 (58) message as Zeek and the Community ID see
/// it: the type is the sender's "port", the counterpart type (echo request /
/// reply, ...) the receiver's; a type without one is one-way and its code is
/// the receiver's "port".
struct IcmpPorts {
    uint16_t sport = 0, dport = 0;
    bool one_way = false;
};
[[nodiscard]] IcmpPorts icmp_ports(uint8_t proto, uint8_t type, uint8_t code) noexcept;

struct RunStartEvent {
    double ts = 0;  ///< wall clock, seconds since the epoch
    int64_t run_id = 0;
    std::string kind;  ///< "analyze", "capture"
    std::vector<std::string> sources;
    std::string tool_version, catalog_digest;
    /// The run record's other columns written when it starts
    /// (records::kRunOnceColumns but kRunStartViewedColumns) as JSON members.
    std::string columns;
};

/// The run record's columns the run_start line carries as its own
/// (`source` as the list `sources`, `started_at` as `ts`).
inline constexpr std::string_view kRunStartViewedColumns[] = {"kind", "source", "tool_version", "catalog_digest",
                                                              "started_at"};

struct RunEndEvent {
    double ts = 0;  ///< wall clock
    int64_t run_id = 0;
    std::string status, ended_by;
    uint64_t packets = 0, bytes = 0, flows = 0, kernel_dropped = 0;
    double first_ts = 0, last_ts = 0;  ///< capture time of the first and last packet
    /// The run record's other columns its end writes (records::kRunTotalsColumns
    /// but kRunEndViewedColumns) as JSON members: the other counts, the notes.
    std::string columns;
};

/// The run record's columns the run_end line carries as its own
/// (`ended_at` as `ts`; `flows` is the flows the run created).
inline constexpr std::string_view kRunEndViewedColumns[] = {"ended_at", "status",         "packets",  "bytes",
                                                            "flows",    "kernel_dropped", "first_ts", "last_ts"};

/// A Zeek-style connection uid ("C" and 17 base62 characters) derived from
/// `key` (the run, the flow's number, time and 5-tuple): the same flow of the
/// same run always gets the same uid, different flows practically never.
[[nodiscard]] std::string flow_uid(std::string_view key);

/// Zeek's service names for callwall's app column ("stun+turn+rtp" gives
/// "stun"; "tls" "ssl"): its analyzers' names joined by ',', callwall's
/// labels that Zeek has no analyzer for (rtp, rtcp, rtmp, gquic) left out.
[[nodiscard]] std::string zeek_service(std::string_view app);

struct FlowEvent {
    double ts = 0;  ///< first packet (capture time)
    int64_t run_id = 0;
    uint64_t flow_id = 0;
    std::string uid;  ///< flow_uid
    decode::IpAddr orig_h, resp_h;
    uint16_t orig_p = 0, resp_p = 0;
    uint8_t proto = 0;  ///< IANA protocol number (6, 17, 1, 58, ...)
    std::string service;  ///< Zeek's names (zeek_service): "ssl", "stun", "dns,..."
    std::string app;  ///< callwall's app column: "tls", "stun+turn+rtp", ...
    double duration = 0;
    uint64_t orig_pkts = 0, resp_pkts = 0;
    uint64_t orig_bytes = 0, resp_bytes = 0;  ///< payload bytes (Zeek's meaning)
    uint64_t orig_ip_bytes = 0, resp_ip_bytes = 0;  ///< IP bytes (IP total length)
    std::string conn_state;  ///< Zeek's conn_state (flow::zeek_conn_state)
    std::string history;  ///< Zeek's history letters (flow::history_text)
    std::string name, name_source;
    /// "" computes it from the 5-tuple above; an ICMP flow's is set from its
    /// first message as sent (a one-way message is not reordered).
    std::string community_id;
    /// The flow record's other columns (kZeekViewedColumns aside) as JSON
    /// members, in the table's order: ",\"syn_count\":1,..." (record_json.hpp).
    std::string columns;
};

/// The flow record's columns the flow line carries as Zeek fields (in
/// Zeek's terms where they differ: ICMP ports, conn_state for UDP): the
/// tuple, times, counts, state, and the name and app callwall gives it.
/// Every other column follows them under its own name.
inline constexpr std::string_view kZeekViewedColumns[] = {
    "id",          "transport", "client_ip",   "client_port", "server_ip", "server_port", "first_ts", "last_ts",
    "packets_c2s", "bytes_c2s", "packets_s2c", "bytes_s2c",   "state",     "app",         "name",     "name_source"};

struct DnsEvent {
    double ts = 0;
    int64_t run_id = 0;
    /// answer: the address, or the target name (CNAME, and HTTPS/SVCB whose
    /// dns_answer row holds the whole record in presentation form).
    std::string client, qname, rrtype, answer, vendor;
    uint32_t ttl = 0;
    /// The dns_answer record's other columns (kDnsViewedColumns aside) as
    /// JSON members: ",\"flow_id\":3,\"server_ip\":\"10.0.0.53\"".
    std::string columns;
};

/// The dns_answer record's columns the dns line carries as its own
/// (`client_ip` as `client`, `answer` as the line's answer).
inline constexpr std::string_view kDnsViewedColumns[] = {"ts", "client_ip", "qname", "rrtype", "answer", "ttl"};

struct NameEvent {
    double ts = 0;
    int64_t run_id = 0;
    uint64_t flow_id = 0;
    std::string uid;  ///< the flow line's uid
    std::string community_id, source, name, vendor;  ///< source: "sni" (TLS), "quic"
    /// The flow_name record's other columns (kNameViewedColumns aside), as
    /// JSON members (none today: the line carries all three).
    std::string columns;
};

/// The flow_name record's columns the name line carries as its own
/// (`source` as "sni" or "quic", the handshake that named the flow).
inline constexpr std::string_view kNameViewedColumns[] = {"flow_id", "name", "source"};

struct VerdictEvent {
    double ts = 0;  ///< capture time of the run's last packet when it changed
    int64_t run_id = 0;
    std::string entry_id, vendor, product, service, verdict, previous;  ///< previous: "" the first time
    /// The verdict record's other columns (kVerdictViewedColumns aside) as
    /// JSON members, in the table's order: ",\"reasons\":[...],\"flows_observed\":1,..."
    /// (record_json.hpp; its lists, kVerdictJsonColumns, as JSON arrays).
    std::string columns;
};

/// The verdict record's columns the verdict line carries before its own
/// (entry_id, vendor, product, service, verdict, previous); every other
/// column follows under its own name.
inline constexpr std::string_view kVerdictViewedColumns[] = {"entry_id", "verdict"};
/// The verdict record's columns that hold a JSON array as text: on the
/// line they are that array.
inline constexpr std::string_view kVerdictJsonColumns[] = {"reasons", "ports_observed", "ports_blocked",
                                                           "evidence_flows"};

/// One JSON line (with its newline) per event.
[[nodiscard]] std::string to_json(const RunStartEvent& e);
[[nodiscard]] std::string to_json(const RunEndEvent& e);
[[nodiscard]] std::string to_json(const FlowEvent& e);
[[nodiscard]] std::string to_json(const DnsEvent& e);
[[nodiscard]] std::string to_json(const NameEvent& e);
[[nodiscard]] std::string to_json(const VerdictEvent& e);

/// Appends JSON lines to a file ("-": standard output). The file is opened
/// for appending (created 0644), so several runs and logrotate's copies
/// keep every line; reopen() after SIGHUP follows a rotated path. A file
/// that is an SQLite database is refused (it is never an event log). Write
/// errors are kept, not thrown: the first one is in error(), and later
/// writes are dropped, so the run goes on and the command reports it.
class EventLog {
public:
    /// Opens `path`. On failure ok() is false and error() says why.
    explicit EventLog(std::string path);
    ~EventLog();
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    void write(std::string_view line);
    /// Opens the path again if it no longer names the open file (logrotate
    /// moved it away: a new file is created); otherwise keeps writing.
    void reopen();
    [[nodiscard]] bool ok() const noexcept { return error_.empty(); }
    /// "PATH: REASON" of the first failure, or "".
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    [[nodiscard]] uint64_t lines() const noexcept { return lines_; }

private:
    void open();
    std::string path_;
    int fd_ = -1;
    bool own_fd_ = false;
    uint64_t lines_ = 0;
    std::string error_;
};

}  // namespace callwall::events
