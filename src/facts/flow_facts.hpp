// A flow's row, declared once: the columns of the flow table, what each
// holds and how it is stored. Each column is one line of CALLWALL_FLOW_COLUMNS
// (the flow's own, found by the flow table) or of CALLWALL_FLOW_APP_FACTS
// (its application facts, found by its analyzers); everything that names the
// columns one by one is derived from these lines:
//   - facts::FlowRecord, the row as it is written (record_of fills it from
//     the flow and its application summary), and the values the store binds
//     (column_values);
//   - the members of facts::FlowAppFacts (pipeline::FlowColumns, what the
//     analyzers fill) and facts::FlowAppInfo (the application facts);
//   - facts::FlowFacts and KeptFlows' record (the columns attribution reads);
//   - facts::ShownFlow, what a report shows of a flow (attrib::FlowRow, kept
//     by attribution for the report from memory; report::EvidenceFlow),
//     and the SELECT the report reads it back with (report/load.cpp);
//   - the flow table in the schema (store/schema.hpp), the INSERT
//     (store/store.cpp), the SELECT attribution reads (store/flow_pages.cpp)
//     and the columns a database made before a fact gains on its next open
//     (Store::migrate);
//   - a flow seen from its other side (facts::turn_columns: attribution
//     turns a flow whose "client" only answered).
// So adding a fact is one line here, the code that finds it (for one the
// flow table finds, also its line in record_of, facts/flow_record.cpp) and
// the code that reads it.
//
// X(type, member, default, SQL declaration, stored as, read, turned[, other]):
//   type: the value's C++ type; text is a std::string_view in the record
//     (a std::string where attribution holds it, interned where it is kept);
//   stored as Value: the value itself; ZeroIsNull: NULL when 0 (read back
//     as 0); NegativeIsNull: NULL when negative (read back as the default);
//     EmptyIsNull: NULL when empty text (read back as "");
//   read: Shown, attribution reads the column and a report shows it of a
//     flow (facts::FlowFacts and facts::ShownFlow have it); Read,
//     attribution reads it (facts::FlowFacts has it); Row, only the row has
//     it (the user's queries read it);
//   turned: what the column holds once the flow is seen from its other
//     side (the server as the client): Same, as it is (the flow's, not a
//     side's; the server's facts of a TCP handshake too: a flow is turned
//     only on STUN or DNS evidence); Pair, other: this side's value, which
//     trades places with `other`'s (the line of `other` says PairOf and
//     this column); ShareOf, other: the responder's part of the count
//     `other`, which becomes the rest of it; Forgotten: a fact only one
//     side's packets give (the server's TTLs), unknown for the other side:
//     back to the default; Roles: flow::role_bit per side, the sides'
//     bits traded.
// The lines are in the order of the flow table's columns in the schema
// (after run_id).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace callwall::flow {
struct Flow;
}

// clang-format off
#define CALLWALL_FLOW_COLUMNS(X)                                                                                       \
    X(uint64_t, id, 0, "INTEGER NOT NULL", Value, Shown, Same)                                                         \
    /* "tcp", "udp", "icmp", "icmp6", "ip" */                                                                          \
    X(std::string_view, transport, {}, "TEXT NOT NULL", Value, Shown, Same)                                            \
    X(std::string_view, client_ip, {}, "TEXT NOT NULL", Value, Shown, Pair, server_ip)                                 \
    X(uint16_t, client_port, 0, "INTEGER NOT NULL", Value, Shown, Pair, server_port)                                   \
    X(std::string_view, server_ip, {}, "TEXT NOT NULL", Value, Shown, PairOf, client_ip)                               \
    X(uint16_t, server_port, 0, "INTEGER NOT NULL", Value, Shown, PairOf, client_port)                                 \
    /* No SYN: which side is the client is a guess (the first sender, the ports). */                                   \
    X(bool, initiator_guessed, false, "INTEGER NOT NULL", Value, Row, Same)                                            \
    X(double, first_ts, 0, "REAL NOT NULL", Value, Shown, Same)                                                        \
    X(double, last_ts, 0, "REAL NOT NULL", Value, Shown, Same)                                                         \
    X(uint64_t, packets_c2s, 0, "INTEGER NOT NULL", Value, Shown, Pair, packets_s2c)                                   \
    X(uint64_t, bytes_c2s, 0, "INTEGER NOT NULL", Value, Row, Pair, bytes_s2c)                                         \
    X(uint64_t, packets_s2c, 0, "INTEGER NOT NULL", Value, Shown, PairOf, packets_c2s)                                 \
    X(uint64_t, bytes_s2c, 0, "INTEGER NOT NULL", Value, Row, PairOf, bytes_c2s)                                       \
    /* Zeek's conn_state for TCP; for UDP "answered" or "one-way" (flow::to_string(ConnState)) */                      \
    X(std::string_view, state, {}, "TEXT NOT NULL", Value, Shown, Same)                                                \
    X(uint16_t, syn_count, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                         \
    X(uint16_t, synack_count, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                      \
    /* The first and last SYN's capture time, 0: no SYN. */                                                            \
    X(double, first_syn_ts, 0, "REAL", ZeroIsNull, Read, Same)                                                         \
    X(double, last_syn_ts, 0, "REAL", ZeroIsNull, Read, Same)                                                          \
    /* The TTL of the server's first RST, -1: none. */                                                                 \
    X(int16_t, rst_ttl, -1, "INTEGER", NegativeIsNull, Read, Same)                                                     \
    /* The lowest and highest TTL of the server's packets, -1: it sent none. */                                        \
    X(int16_t, server_ttl_min, -1, "INTEGER", NegativeIsNull, Read, Forgotten)                                         \
    X(int16_t, server_ttl_max, -1, "INTEGER", NegativeIsNull, Read, Forgotten)                                         \
    X(uint32_t, later_fragments, 0, "INTEGER NOT NULL DEFAULT 0", Value, Row, Same)                                    \
    /* ICMP errors about the flow; the last one's type, code (-1: none) and sender ("": none). */                      \
    X(uint16_t, icmp_errors, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                       \
    X(int16_t, icmp_type, -1, "INTEGER", NegativeIsNull, Shown, Same)                                                  \
    X(int16_t, icmp_code, -1, "INTEGER", NegativeIsNull, Shown, Same)                                                  \
    X(std::string_view, icmp_from, {}, "TEXT", EmptyIsNull, Shown, Same)                                               \
    /* The applications seen ("tls", "stun+turn+rtp", ...), the name the flow was meant for and its source. */         \
    X(std::string_view, app, {}, "TEXT NOT NULL DEFAULT ''", Value, Shown, Same)                                       \
    X(std::string_view, name, {}, "TEXT NOT NULL DEFAULT ''", Value, Shown, Same)                                      \
    X(std::string_view, name_source, {}, "TEXT NOT NULL DEFAULT ''", Value, Shown, Same)                               \
    /* What attribution made of the flow ("" before it ran). */                                                        \
    X(std::string_view, outcome, {}, "TEXT NOT NULL DEFAULT ''", Value, Shown, Same)                                   \
    CALLWALL_FLOW_APP_FACTS(X)                                                                                         \
    /* The flow's first packet went to the link-layer broadcast address. */                                            \
    X(bool, link_broadcast, false, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                    \
    /* flow::role_bit per side: which side asked, which answered (DNS, STUN); 0: none decoded. */                      \
    X(uint8_t, roles, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Roles)                                             \
    /* TCP: how much of the server's stream the client's ACKs acknowledged, bytes (0: its SYN-ACK alone,  */           \
    /* acknowledged after the client's SYN); -1: nothing they prove (flow::TcpTrack::ack_base). */                     \
    X(int32_t, acked_s2c, -1, "INTEGER", NegativeIsNull, Read, Forgotten)                                              \
    /* The capture's interfaces the flow was seen on, bit i for interface i (a pcapng file's interface */              \
    /* id, a live run's -i in order; 31 and above share bit 31); 0: not known (fragments alone). */                    \
    X(uint32_t, interfaces, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)

#define CALLWALL_FLOW_APP_FACTS(X)                                                                                     \
    X(uint32_t, stun_requests, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                     \
    X(uint32_t, stun_answered, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                     \
    X(uint32_t, stun_errors, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                       \
    X(uint32_t, stun_retransmissions, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                              \
    /* The error code of the last STUN error response (0: none). */                                                    \
    X(uint16_t, stun_last_error, 0, "INTEGER", ZeroIsNull, Read, Same)                                                 \
    /* Requests that are ICE connectivity checks (PRIORITY / ICE-CONTROLL*), retransmissions aside. */                 \
    X(uint32_t, stun_ice_checks, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                   \
    /* Of the STUN counts, the responder's own requests (s2c), how many were answered, their retransmissions. */       \
    X(uint32_t, stun_requests_s2c, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, ShareOf, stun_requests)               \
    X(uint32_t, stun_answered_s2c, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, ShareOf, stun_answered)               \
    X(uint32_t, stun_retransmissions_s2c, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, ShareOf, stun_retransmissions) \
    /* A tunnel through a SOCKS/HTTP CONNECT proxy: the port the client asked for (0: none). */                        \
    X(uint16_t, proxy_port, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                        \
    X(uint32_t, channel_data, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                      \
    X(uint64_t, rtp_packets, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                       \
    X(uint64_t, rtcp_packets, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                      \
    X(bool, dtls_handshake, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                        \
    X(bool, tls_server_hello, 0, "INTEGER NOT NULL DEFAULT 0", Value, Read, Same)                                      \
    /* The server's fatal TLS alert description, -1: none. */                                                          \
    X(int16_t, tls_alert, -1, "INTEGER", NegativeIsNull, Read, Same)                                                   \
    /* The IP TTL (IPv6: hop limit) of the first packet from each side, -1: that side sent nothing. */                 \
    X(int16_t, ttl_first_c2s, -1, "INTEGER", NegativeIsNull, Read, Pair, ttl_first_s2c)                                \
    X(int16_t, ttl_first_s2c, -1, "INTEGER", NegativeIsNull, Read, PairOf, ttl_first_c2s)
// clang-format on

/// `x` when the column is read by attribution (`read` is Read or Shown), else nothing.
#define CALLWALL_FLOW_IF_Read(...) __VA_ARGS__
#define CALLWALL_FLOW_IF_Shown(...) __VA_ARGS__
#define CALLWALL_FLOW_IF_Row(...)
/// `x` when a report shows the column (`read` is Shown), else nothing.
#define CALLWALL_FLOW_IF_SHOWN_Shown(...) __VA_ARGS__
#define CALLWALL_FLOW_IF_SHOWN_Read(...)
#define CALLWALL_FLOW_IF_SHOWN_Row(...)

/// One member declaration per column, as the record holds it (inside a
/// struct: CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_RECORD_MEMBER), or
/// CALLWALL_FLOW_APP_FACTS(...) for the application facts alone).
#define CALLWALL_FLOW_RECORD_MEMBER(type, member, init, decl, stored, read, ...) type member = init;
/// One member per column attribution reads, text as `Text` (inside a struct:
/// CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_READ_MEMBER(std::string))).
#define CALLWALL_FLOW_READ_MEMBER(Text) CALLWALL_FLOW_READ_MEMBER_AS_##Text
#define CALLWALL_FLOW_READ_MEMBER_AS_string(type, member, init, decl, stored, read, ...) \
    CALLWALL_FLOW_IF_##read(::callwall::facts::column_t<type, std::string> member = init;)
#define CALLWALL_FLOW_READ_MEMBER_AS_uint32_t(type, member, init, decl, stored, read, ...) \
    CALLWALL_FLOW_IF_##read(::callwall::facts::column_t<type, uint32_t> member = init;)

namespace callwall::facts {

/// A column's type where it is held as `TextAs` when it is text.
template <class T, class TextAs>
using column_t = std::conditional_t<std::is_same_v<T, std::string_view>, TextAs, T>;

/// The application facts alone: what an analyzer fills for its flow's row.
struct FlowAppFacts {
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_RECORD_MEMBER)
};

/// A flow's application summary as its row is written: what the dissect
/// stage found (the facts, the application's labels, the flow's name), and
/// the outcome the run gives it.
struct FlowAppInfo {
    std::string_view app;  ///< "dns", "tls", "quic", "stun", "turn", "rtp", "dtls", ... or ""
    std::string_view name;  ///< the name the flow was meant for
    std::string_view name_source;  ///< "sni", "dns", "turn-peer", ""
    std::string_view outcome;  ///< filled by attribution; "" until then
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_RECORD_MEMBER)
    uint8_t roles = 0;  ///< flow::role_bit per side: which side asked, which answered (DNS, STUN)
};

/// A flow's row, every column, as it is written: its text views point into
/// the record itself (the addresses) or into what record_of was given, so
/// a record is filled, used, and neither copied nor kept.
struct FlowRecord {
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_RECORD_MEMBER)
    FlowRecord() = default;
    FlowRecord(const FlowRecord&) = delete;
    FlowRecord& operator=(const FlowRecord&) = delete;

private:
    friend void record_of(const flow::Flow& f, const FlowAppInfo& app, FlowRecord& out) noexcept;
    char client_ip_text_[48] = {}, server_ip_text_[48] = {}, icmp_from_text_[48] = {};
};

/// A flow as attribution sees it: the columns of its `flow` row that
/// attribution reads, one member each as facts/flow_facts.hpp declares them
/// (what each holds is said there), and its names. Among them: `outcome` is
/// the row's outcome column as read ("" before the first attribution); the
/// STUN counts stun_*_s2c are the responder's own requests, how many were
/// answered, their retransmissions (the rest are the initiator's);
/// `proxy_port` is the port asked of an explicit proxy (SOCKS, HTTP CONNECT;
/// 0: not a proxy tunnel, else the port the requirement is about: the flow's
/// own server port is the proxy's); `roles` is flow::role_bit per side (1
/// client asked, 2 client answered, 4 server asked, 8 server answered; 0:
/// none decoded); `name` and `name_source` are the row's own name (the name
/// the flow was meant for: its SNI, the host asked of a proxy, its first DNS
/// name...; "" for none): what a report shows of an evidence flow, while
/// `names` holds all.
struct FlowFacts {
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_READ_MEMBER(string))
    struct Name {
        /// source: "sni", "dns", "turn-peer", "proxy" (the host asked of a proxy);
        /// "dns-initiator": the initiator's name (the vendor opened the flow)
        std::string name, source;
    };
    std::vector<Name> names;

    /// The port the flow serves: the proxy target's, else the server's.
    [[nodiscard]] uint16_t service_port() const noexcept { return proxy_port ? proxy_port : server_port; }
    /// TCP or UDP: the flows attribution classifies (the others' rows are
    /// written, only their names are used).
    [[nodiscard]] bool tcp_or_udp() const noexcept { return transport == "tcp" || transport == "udp"; }
    /// The family of the last ICMP error's sender (6 when it is an IPv6 address).
    [[nodiscard]] int icmp_family() const noexcept { return icmp_from.find(':') != std::string::npos ? 6 : 4; }
    [[nodiscard]] bool has_protocol_evidence() const noexcept;  ///< STUN, TURN, DTLS or RTP/RTCP seen
};

// What turning a flow does to a column attribution reads (its line's
// `turned`); `f` is the flow turned.
#define CALLWALL_FLOW_TURN(type, member, init, decl, stored, read, turned, ...) \
    CALLWALL_FLOW_IF_##read(CALLWALL_FLOW_TURN_##turned(member, init __VA_OPT__(, ) __VA_ARGS__))
#define CALLWALL_FLOW_TURN_Same(member, init)
#define CALLWALL_FLOW_TURN_PairOf(member, init, other)
#define CALLWALL_FLOW_TURN_Pair(member, init, other) std::swap(f.member, f.other);
#define CALLWALL_FLOW_TURN_ShareOf(member, init, other) f.member = f.other - std::min(f.member, f.other);
#define CALLWALL_FLOW_TURN_Forgotten(member, init) f.member = init;
#define CALLWALL_FLOW_TURN_Roles(member, init) \
    f.member = static_cast<decltype(f.member)>(((f.member & 0x3u) << 2) | ((f.member >> 2) & 0x3u));

/// The flow's columns as seen from its other side, each as its line's
/// `turned` says (its names are the caller's: their sources say a side).
inline void turn_columns(FlowFacts& f) { CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_TURN) }

/// A flow as a report shows it (a verdict's evidence flow, a catalog gap's
/// flow): the columns marked Shown, text as std::string, with what each
/// holds said above. Read back from the row (kFlowShownColumns,
/// each_shown_column) or taken from the flow attribution read, the same
/// columns either way.
struct ShownFlow {
#define CALLWALL_FLOW_SHOWN_MEMBER(type, member, init, decl, stored, read, ...) \
    CALLWALL_FLOW_IF_SHOWN_##read(column_t<type, std::string> member = init;)
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_SHOWN_MEMBER)
#undef CALLWALL_FLOW_SHOWN_MEMBER
};

/// The row of flow `f` with its application summary `app` (whose text
/// `out` points into); every column is set.
void record_of(const flow::Flow& f, const FlowAppInfo& app, FlowRecord& out) noexcept;

/// Every fact from `from` into `to` (any two types that carry the facts).
template <class From, class To>
constexpr void copy_app_facts(const From& from, To& to) noexcept {
#define CALLWALL_FLOW_APP_FACT_COPY(type, member, init, decl, stored, read, ...) to.member = from.member;
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_COPY)
#undef CALLWALL_FLOW_APP_FACT_COPY
}

/// Which columns a loop over the row takes: those attribution reads (Read:
/// a line's Read or Shown), or those a report shows (Shown).
enum class ColumnUse : uint8_t { Row, Read, Shown };
[[nodiscard]] constexpr bool column_taken(ColumnUse want, ColumnUse line) noexcept {
    return want == ColumnUse::Read ? line != ColumnUse::Row : line == want;
}

/// `fn(to.member, from.member)` for every column `Want` takes, in column
/// order. (A member the loop does not take is never named: the types need
/// not have it.)
template <ColumnUse Want, class To, class From, class Fn>
constexpr void each_column(To& to, const From& from, Fn&& fn) {
#define CALLWALL_FLOW_EACH(type, member, init, decl, stored, read, ...) \
    if constexpr (column_taken(Want, ColumnUse::read)) fn(to.member, from.member);
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_EACH)
#undef CALLWALL_FLOW_EACH
}

/// `fn(to.member, from.member)` for every column attribution reads (between
/// any two of FlowRecord, FlowFacts and KeptFlows' record); `fn(x.member)`
/// with one.
template <class To, class From, class Fn>
constexpr void each_read_column(To& to, const From& from, Fn&& fn) {
    each_column<ColumnUse::Read>(to, from, fn);
}
template <class Columns, class Fn>
constexpr void each_read_column(Columns& x, Fn&& fn) {
    each_column<ColumnUse::Read>(x, x, [&](auto& column, const auto&) { fn(column); });
}

/// The same for every column a report shows (ShownFlow's).
template <class To, class From, class Fn>
constexpr void each_shown_column(To& to, const From& from, Fn&& fn) {
    each_column<ColumnUse::Shown>(to, from, fn);
}
template <class Columns, class Fn>
constexpr void each_shown_column(Columns& x, Fn&& fn) {
    each_column<ColumnUse::Shown>(x, x, [&](auto& column, const auto&) { fn(column); });
}

/// The columns' names, in order ("id", "transport", ...; run_id, the
/// table's first, is not a column of the record).
inline constexpr const char* kFlowColumns[] = {
#define CALLWALL_FLOW_COLUMN_NAME(type, member, init, decl, stored, read, ...) #member,
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_COLUMN_NAME)
#undef CALLWALL_FLOW_COLUMN_NAME
};
/// Each column's SQL declaration after its name, in the same order.
inline constexpr const char* kFlowColumnDeclarations[] = {
#define CALLWALL_FLOW_COLUMN_DECL(type, member, init, decl, stored, read, ...) decl,
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_COLUMN_DECL)
#undef CALLWALL_FLOW_COLUMN_DECL
};

// How a column's value is read back: NULLs as the default.
#define CALLWALL_FLOW_SQL_READ_Value(member, init) #member
#define CALLWALL_FLOW_SQL_READ_ZeroIsNull(member, init) "coalesce(" #member "," #init ")"
#define CALLWALL_FLOW_SQL_READ_NegativeIsNull(member, init) "coalesce(" #member "," #init ")"
#define CALLWALL_FLOW_SQL_READ_EmptyIsNull(member, init) "coalesce(" #member ",'')"
/// What a SELECT reads for each column attribution reads, in column order
/// ("id", ..., "coalesce(first_syn_ts,0)", ...): the order of each_read_column.
inline constexpr const char* kFlowReadColumns[] = {
#define CALLWALL_FLOW_READ_EXPR(type, member, init, decl, stored, read, ...) \
    CALLWALL_FLOW_IF_##read(CALLWALL_FLOW_SQL_READ_##stored(member, init), )
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_READ_EXPR)
#undef CALLWALL_FLOW_READ_EXPR
};

/// What a SELECT reads for each column a report shows, in column order: the
/// order of each_shown_column.
inline constexpr const char* kFlowShownColumns[] = {
#define CALLWALL_FLOW_SHOWN_EXPR(type, member, init, decl, stored, read, ...) \
    CALLWALL_FLOW_IF_SHOWN_##read(CALLWALL_FLOW_SQL_READ_##stored(member, init), )
    CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_SHOWN_EXPR)
#undef CALLWALL_FLOW_SHOWN_EXPR
};

/// How each column is stored (its line's "stored as"): a value as SQLite
/// binds it (an integer, a real, text), or NULL.
namespace stored {
template <class T>
[[nodiscard]] constexpr auto sql_value(T v) noexcept {
    if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, double>)
        return v;
    else
        return static_cast<int64_t>(v);
}
template <class V>
[[nodiscard]] constexpr V Value(V v) noexcept {
    return v;
}
template <class V>
[[nodiscard]] constexpr std::optional<V> ZeroIsNull(V v) noexcept {
    return v != V{} ? std::optional<V>(v) : std::nullopt;
}
template <class V>
[[nodiscard]] constexpr std::optional<V> NegativeIsNull(V v) noexcept {
    return v >= V{} ? std::optional<V>(v) : std::nullopt;
}
[[nodiscard]] constexpr std::optional<std::string_view> EmptyIsNull(std::string_view v) noexcept {
    return !v.empty() ? std::optional<std::string_view>(v) : std::nullopt;
}
}  // namespace stored

/// The row's values, in column order, as the store binds them.
[[nodiscard]] inline auto column_values(const FlowRecord& r) noexcept {
#define CALLWALL_FLOW_COLUMN_VALUE(type, member, init, decl, how, read, ...) \
    , std::make_tuple(stored::how(stored::sql_value(r.member)))
    return std::tuple_cat(std::tuple<>() CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_COLUMN_VALUE));
#undef CALLWALL_FLOW_COLUMN_VALUE
}

}  // namespace callwall::facts

/// The columns in a CREATE TABLE: "  id INTEGER NOT NULL,\n" each.
#define CALLWALL_FLOW_SQL_DEFINITION(type, member, init, decl, stored, read, ...) "  " #member " " decl ",\n"
