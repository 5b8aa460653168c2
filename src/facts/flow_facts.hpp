// The application facts of a flow, declared once: what its analyzer (and the
// flow table) found, carried from the packet path to the flow row and from
// the row (or the flow kept in memory) to attribution. Each fact is one line
// of CALLWALL_FLOW_APP_FACTS; everything that names the facts one by one is
// derived from it:
//   - the members of facts::FlowAppFacts (pipeline::FlowColumns, what the
//     analyzers fill), facts::FlowAppInfo, attrib::FlowFacts and KeptFlows'
//     record (CALLWALL_FLOW_APP_FACT_MEMBER);
//   - the copies between them (copy_app_facts);
//   - the flow table's columns in the schema (store/schema.hpp), the INSERT
//     and its values (store/store.cpp), the SELECT attribution reads
//     (store/flow_pages.cpp) and the columns a database made before a fact
//     gains on its next open (Store::migrate).
// So adding a fact is one line here, the code that finds it and the code
// that reads it.
//
// X(type, member, default, SQL declaration, stored as):
//   stored as Value: the value itself; ZeroIsNull: NULL when 0 (read back
//   as 0); NegativeIsNull: NULL when negative (read back as the default).
// The lines are in the order of the flow table's columns in the schema.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

// clang-format off
#define CALLWALL_FLOW_APP_FACTS(X)                                                                             \
    X(uint32_t, stun_requests, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                         \
    X(uint32_t, stun_answered, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                         \
    X(uint32_t, stun_errors, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                           \
    X(uint32_t, stun_retransmissions, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                  \
    /* The error code of the last STUN error response (0: none). */                                            \
    X(uint16_t, stun_last_error, 0, "INTEGER", ZeroIsNull)                                                     \
    /* Requests that are ICE connectivity checks (PRIORITY / ICE-CONTROLL*), retransmissions aside. */         \
    X(uint32_t, stun_ice_checks, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                       \
    /* Of the STUN counts, the responder's own requests (s2c), how many were answered, their retransmissions. */ \
    X(uint32_t, stun_requests_s2c, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                     \
    X(uint32_t, stun_answered_s2c, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                     \
    X(uint32_t, stun_retransmissions_s2c, 0, "INTEGER NOT NULL DEFAULT 0", Value)                              \
    /* A tunnel through a SOCKS/HTTP CONNECT proxy: the port the client asked for (0: none). */                \
    X(uint16_t, proxy_port, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                            \
    X(uint32_t, channel_data, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                          \
    X(uint64_t, rtp_packets, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                           \
    X(uint64_t, rtcp_packets, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                          \
    X(bool, dtls_handshake, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                            \
    X(bool, tls_server_hello, 0, "INTEGER NOT NULL DEFAULT 0", Value)                                          \
    /* The server's fatal TLS alert description, -1: none. */                                                  \
    X(int, tls_alert, -1, "INTEGER", NegativeIsNull)                                                           \
    /* The IP TTL (IPv6: hop limit) of the first packet from each side, -1: that side sent nothing. */      \
    X(int, ttl_first_c2s, -1, "INTEGER", NegativeIsNull)                                                    \
    X(int, ttl_first_s2c, -1, "INTEGER", NegativeIsNull)
// clang-format on

/// One member declaration per fact (inside a struct: CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_MEMBER)).
#define CALLWALL_FLOW_APP_FACT_MEMBER(type, member, init, decl, stored) type member = init;

namespace callwall::facts {

/// The application facts alone: what an analyzer fills for its flow's row.
struct FlowAppFacts {
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_MEMBER)
};

/// A flow's application summary as its row is written: what the dissect
/// stage found (the facts, the application's labels, the flow's name), and
/// the outcome the run gives it.
struct FlowAppInfo {
    std::string_view app;  ///< "dns", "tls", "quic", "stun", "turn", "rtp", "dtls", ... or ""
    std::string_view name;  ///< the name the flow was meant for
    std::string_view name_source;  ///< "sni", "dns", "turn-peer", ""
    std::string_view outcome;  ///< filled by attribution; "" until then
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_MEMBER)
    uint8_t roles = 0;  ///< flow::role_bit per side: which side asked, which answered (DNS, STUN)
};

/// Every fact from `from` into `to` (any two types that carry the facts).
template <class From, class To>
constexpr void copy_app_facts(const From& from, To& to) noexcept {
#define CALLWALL_FLOW_APP_FACT_COPY(type, member, init, decl, stored) to.member = from.member;
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_COPY)
#undef CALLWALL_FLOW_APP_FACT_COPY
}

/// `fn(to.member, from.member)` for every fact, in column order.
template <class To, class From, class Fn>
constexpr void each_app_fact(To& to, const From& from, Fn&& fn) {
#define CALLWALL_FLOW_APP_FACT_EACH(type, member, init, decl, stored) fn(to.member, from.member);
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_EACH)
#undef CALLWALL_FLOW_APP_FACT_EACH
}

/// The column names, in order ("stun_requests", ...).
inline constexpr const char* kAppFactColumns[] = {
#define CALLWALL_FLOW_APP_FACT_NAME(type, member, init, decl, stored) #member,
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_NAME)
#undef CALLWALL_FLOW_APP_FACT_NAME
};
/// Each column's SQL declaration after its name, in the same order.
inline constexpr const char* kAppFactDeclarations[] = {
#define CALLWALL_FLOW_APP_FACT_DECL(type, member, init, decl, stored) decl,
    CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_DECL)
#undef CALLWALL_FLOW_APP_FACT_DECL
};

/// How each fact is stored in its column (the last field of its line).
namespace stored {
[[nodiscard]] constexpr int64_t Value(int64_t v, int64_t) noexcept { return v; }
[[nodiscard]] constexpr std::optional<int64_t> ZeroIsNull(int64_t v, int64_t) noexcept {
    return v != 0 ? std::optional<int64_t>(v) : std::nullopt;
}
[[nodiscard]] constexpr std::optional<int64_t> NegativeIsNull(int64_t v, int64_t) noexcept {
    return v >= 0 ? std::optional<int64_t>(v) : std::nullopt;
}
}  // namespace stored

/// The facts' column values, in column order, as the store binds them.
template <class Facts>
[[nodiscard]] constexpr auto column_values(const Facts& f) noexcept {
#define CALLWALL_FLOW_APP_FACT_VALUE(type, member, init, decl, how) \
    , std::make_tuple(stored::how(static_cast<int64_t>(f.member), static_cast<int64_t>(init)))
    return std::tuple_cat(std::tuple<>() CALLWALL_FLOW_APP_FACTS(CALLWALL_FLOW_APP_FACT_VALUE));
#undef CALLWALL_FLOW_APP_FACT_VALUE
}

}  // namespace callwall::facts

// SQL text derived from the facts (string literals, for concatenation).
/// ", stun_requests, stun_answered, ..." (each name with a leading ", ").
#define CALLWALL_FLOW_APP_FACT_SQL_NAME(type, member, init, decl, stored) ", " #member
/// ",?" each: the facts' placeholders in an INSERT's VALUES.
#define CALLWALL_FLOW_APP_FACT_SQL_PLACEHOLDER(type, member, init, decl, stored) ",?"
/// The facts' columns in a CREATE TABLE: "  stun_requests INTEGER NOT NULL DEFAULT 0,\n" each.
#define CALLWALL_FLOW_APP_FACT_SQL_DEFINITION(type, member, init, decl, stored) "  " #member " " decl ",\n"
/// ", coalesce(stun_requests,0)" each: NULLs read as the default.
#define CALLWALL_FLOW_APP_FACT_SQL_READ(type, member, init, decl, stored) ", coalesce(" #member "," #init ")"
