// The records of what the decoders saw, one table each: a flow's names, DNS
// questions and answers, TLS/QUIC hellos, STUN messages, RTP streams and
// ICMP errors (records/record.hpp says how a record is declared). Values
// are as the table holds them: addresses and names as text, flags 0/1,
// times in seconds since the epoch; text fields are views valid while the
// record is written.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "records/record.hpp"

namespace callwall::records {

using Text = std::string_view;
using OptInt = std::optional<int64_t>;
using OptReal = std::optional<double>;
using OptText = std::optional<std::string_view>;

// A name a flow carries and where it came from ("sni", "dns", ...).
#define CALLWALL_FLOW_NAME_COLUMNS(X)                  \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL") \
    X(Text, name, "name", "TEXT NOT NULL")             \
    X(Text, source, "source", "TEXT NOT NULL")
CALLWALL_RECORD(FlowName, CALLWALL_FLOW_NAME_COLUMNS, "flow_name", "run_id, flow_id, name, source", "INSERT OR IGNORE",
                "");

// One resource record of a DNS answer section (names as the message spells them).
#define CALLWALL_DNS_ANSWER_COLUMNS(X)                 \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL") \
    X(double, ts, "ts", "REAL NOT NULL")               \
    X(Text, client_ip, "client_ip", "TEXT NOT NULL")   \
    X(Text, server_ip, "server_ip", "TEXT NOT NULL")   \
    X(Text, qname, "qname", "TEXT NOT NULL")           \
    X(Text, rrtype, "rrtype", "TEXT NOT NULL")         \
    X(Text, answer, "answer", "TEXT NOT NULL")         \
    X(int64_t, ttl, "ttl", "INTEGER NOT NULL")
CALLWALL_RECORD(DnsAnswer, CALLWALL_DNS_ANSWER_COLUMNS, "dns_answer", "", "INSERT", "");

// A DNS question: answered (rcode "NOERROR", "NXDOMAIN", ...) or not (rcode NULL).
#define CALLWALL_DNS_QUERY_COLUMNS(X)                    \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL")   \
    X(double, ts, "ts", "REAL NOT NULL")                 \
    X(Text, client_ip, "client_ip", "TEXT NOT NULL")     \
    X(Text, server_ip, "server_ip", "TEXT NOT NULL")     \
    X(Text, qname, "qname", "TEXT NOT NULL")             \
    X(int64_t, qtype, "qtype", "INTEGER NOT NULL")       \
    X(int64_t, answered, "answered", "INTEGER NOT NULL") \
    X(OptText, rcode, "rcode", "TEXT")                   \
    X(int64_t, answers, "answers", "INTEGER NOT NULL DEFAULT 0")
CALLWALL_RECORD(DnsQuery, CALLWALL_DNS_QUERY_COLUMNS, "dns_query", "", "INSERT", "");

// A run's DNS questions counted per name (the store adds each commit's
// counts to the row: its INSERT is an upsert of its own).
#define CALLWALL_DNS_NAME_COLUMNS(X)                     \
    X(Text, qname, "qname", "TEXT NOT NULL")             \
    X(int64_t, queries, "queries", "INTEGER NOT NULL")   \
    X(int64_t, answered, "answered", "INTEGER NOT NULL") \
    X(int64_t, resolved, "resolved", "INTEGER NOT NULL") \
    X(int64_t, failed, "failed", "INTEGER NOT NULL")     \
    X(OptText, last_failure, "last_failure", "TEXT")     \
    X(double, first_ts, "first_ts", "REAL NOT NULL")     \
    X(double, last_ts, "last_ts", "REAL NOT NULL")
CALLWALL_RECORD(DnsName, CALLWALL_DNS_NAME_COLUMNS, "dns_name", "run_id, qname", "INSERT", "");

// The handshake of a TLS or QUIC flow ("tls", "quic", "gquic"), at the flow's end.
#define CALLWALL_TLS_HELLO_COLUMNS(X)                            \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL")           \
    X(double, ts, "ts", "REAL NOT NULL")                         \
    X(Text, protocol, "protocol", "TEXT NOT NULL")               \
    X(Text, sni, "sni", "TEXT NOT NULL")                         \
    X(Text, alpn, "alpn", "TEXT NOT NULL")                       \
    X(Text, version, "version", "TEXT NOT NULL")                 \
    X(int64_t, ech, "ech", "INTEGER NOT NULL")                   \
    X(int64_t, server_hello, "server_hello", "INTEGER NOT NULL") \
    X(OptText, server_version, "server_version", "TEXT")         \
    X(OptInt, alert, "alert", "INTEGER")
CALLWALL_RECORD(TlsHello, CALLWALL_TLS_HELLO_COLUMNS, "tls_hello", "", "INSERT", "");

// One STUN/TURN message; a request's `answered` is 0 until a response
// matches it (NULL for the other classes).
#define CALLWALL_STUN_MESSAGE_COLUMNS(X)                       \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL")         \
    X(double, ts, "ts", "REAL NOT NULL")                       \
    X(Text, direction, "direction", "TEXT NOT NULL")           \
    X(Text, method, "method", "TEXT NOT NULL")                 \
    X(Text, msg_class, "class", "TEXT NOT NULL")               \
    X(Text, transaction_id, "transaction_id", "TEXT NOT NULL") \
    X(OptInt, answered, "answered", "INTEGER")                 \
    X(OptInt, error_code, "error_code", "INTEGER")             \
    X(Text, carried, "carried", "TEXT NOT NULL")
CALLWALL_RECORD(StunMessage, CALLWALL_STUN_MESSAGE_COLUMNS, "stun_message", "", "INSERT",
                "CREATE INDEX IF NOT EXISTS stun_txn ON stun_message(run_id, flow_id, transaction_id);\n");

// One RTP stream of a flow, at the flow's end (jitter NULL where the
// stream's clock rate is unknown).
#define CALLWALL_RTP_STREAM_COLUMNS(X)                           \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL")           \
    X(Text, direction, "direction", "TEXT NOT NULL")             \
    X(Text, ssrc, "ssrc", "TEXT NOT NULL")                       \
    X(int64_t, payload_type, "payload_type", "INTEGER NOT NULL") \
    X(int64_t, packets, "packets", "INTEGER NOT NULL")           \
    X(int64_t, lost, "lost", "INTEGER NOT NULL")                 \
    X(int64_t, reordered, "reordered", "INTEGER NOT NULL")       \
    X(int64_t, duplicates, "duplicates", "INTEGER NOT NULL")     \
    X(OptReal, jitter_ms, "jitter_ms", "REAL")                   \
    X(OptReal, max_jitter_ms, "max_jitter_ms", "REAL")           \
    X(int64_t, clock_rate, "clock_rate", "INTEGER NOT NULL")     \
    X(int64_t, via_turn, "via_turn", "INTEGER NOT NULL")         \
    X(double, first_ts, "first_ts", "REAL NOT NULL")             \
    X(double, last_ts, "last_ts", "REAL NOT NULL")
CALLWALL_RECORD(RtpStream, CALLWALL_RTP_STREAM_COLUMNS, "rtp_stream", "", "INSERT", "");

// An ICMP error as evidence, whether or not it matched a flow (flow_id NULL
// when none did); the quoted packet's addresses are '' when it quoted none.
#define CALLWALL_ICMP_ERROR_COLUMNS(X)                  \
    X(double, ts, "ts", "REAL NOT NULL")                \
    X(int64_t, family, "family", "INTEGER NOT NULL")    \
    X(Text, from_ip, "from_ip", "TEXT NOT NULL")        \
    X(Text, to_ip, "to_ip", "TEXT NOT NULL")            \
    X(int64_t, type, "type", "INTEGER NOT NULL")        \
    X(int64_t, code, "code", "INTEGER NOT NULL")        \
    X(int64_t, ttl, "ttl", "INTEGER NOT NULL")          \
    X(Text, quoted_src, "quoted_src", "TEXT")           \
    X(Text, quoted_dst, "quoted_dst", "TEXT")           \
    X(int64_t, quoted_proto, "quoted_proto", "INTEGER") \
    X(int64_t, quoted_sport, "quoted_sport", "INTEGER") \
    X(int64_t, quoted_dport, "quoted_dport", "INTEGER") \
    X(OptInt, flow_id, "flow_id", "INTEGER")
CALLWALL_RECORD(IcmpError, CALLWALL_ICMP_ERROR_COLUMNS, "icmp_error", "", "INSERT", "");

/// The decoders' records a writer takes one at a time, in the schema's
/// order, with what a failure to write one says: X(Record, "what").
/// (DnsQuery is written with its count, DnsName by the counts.)
#define CALLWALL_MESSAGE_RECORDS(X)          \
    X(FlowName, "writing a flow name")       \
    X(DnsAnswer, "writing a DNS answer")     \
    X(TlsHello, "writing a TLS hello")       \
    X(StunMessage, "writing a STUN message") \
    X(RtpStream, "writing an RTP stream")    \
    X(IcmpError, "writing an ICMP error")

}  // namespace callwall::records
