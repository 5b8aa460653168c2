// The run's own record: one row per analyze, capture or probe run, the
// table every other record's run_id refers to (records/record.hpp says how
// a record is declared). Its first column is the run's id, numbered by
// SQLite when the row is inserted (records::Table::of_run is false).
#pragma once

#include <string_view>
#include <tuple>

#include "records/messages.hpp"
#include "records/record.hpp"

namespace callwall::records {

// Each column's fifth mark says when it is written: Once, with the row when
// the run starts (origin by `callwall merge` instead, catalog_digest again
// by attribution), or Totals, by the run's update at every refresh and at
// its end (records::kRunTotalsColumns, run_totals()). Times are seconds
// since the epoch: started_at and ended_at by the wall clock, first_ts and
// last_ts the capture times of the first and last packet.
#define CALLWALL_RUN_COLUMNS(X)                                                                \
    X(Text, kind, "kind", "TEXT NOT NULL", Once)                                               \
    X(Text, source, "source", "TEXT NOT NULL", Once)                                           \
    X(Text, command_line, "command_line", "TEXT NOT NULL", Once)                               \
    X(Text, tool_version, "tool_version", "TEXT NOT NULL", Once)                               \
    X(OptText, catalog_digest, "catalog_digest", "TEXT", Once)                                 \
    X(double, started_at, "started_at", "REAL NOT NULL", Once)                                 \
    X(OptReal, ended_at, "ended_at", "REAL", Totals)                                           \
    X(Text, status, "status", "TEXT NOT NULL", Totals)                                         \
    X(int64_t, packets, "packets", "INTEGER NOT NULL DEFAULT 0", Totals)                       \
    X(int64_t, bytes, "bytes", "INTEGER NOT NULL DEFAULT 0", Totals)                           \
    X(int64_t, truncated_packets, "truncated_packets", "INTEGER NOT NULL DEFAULT 0", Totals)   \
    X(int64_t, undecoded_packets, "undecoded_packets", "INTEGER NOT NULL DEFAULT 0", Totals)   \
    X(int64_t, orphan_fragments, "orphan_fragments", "INTEGER NOT NULL DEFAULT 0", Totals)     \
    X(int64_t, damaged_files, "damaged_files", "INTEGER NOT NULL DEFAULT 0", Totals)           \
    X(int64_t, kernel_received, "kernel_received", "INTEGER NOT NULL DEFAULT 0", Totals)       \
    X(int64_t, kernel_dropped, "kernel_dropped", "INTEGER NOT NULL DEFAULT 0", Totals)         \
    X(int64_t, interface_dropped, "interface_dropped", "INTEGER NOT NULL DEFAULT 0", Totals)   \
    X(int64_t, flows, "flows", "INTEGER NOT NULL DEFAULT 0", Totals)                           \
    X(int64_t, flows_evicted_full, "flows_evicted_full", "INTEGER NOT NULL DEFAULT 0", Totals) \
    X(OptReal, first_ts, "first_ts", "REAL", Totals)                                           \
    X(OptReal, last_ts, "last_ts", "REAL", Totals)                                             \
    X(Text, notes, "notes", "TEXT NOT NULL DEFAULT ''", Totals)                                \
    X(OptInt, writer_pid, "writer_pid", "INTEGER", Once)                                       \
    X(OptInt, writer_start, "writer_start", "INTEGER", Once)                                   \
    X(OptText, writer_boot_id, "writer_boot_id", "TEXT", Once)                                 \
    X(OptText, origin, "origin", "TEXT", Once)
CALLWALL_RECORD(Run, CALLWALL_RUN_COLUMNS, "run", "", "INSERT", "", false);

// `x` for a column the run's update writes (its mark is Totals), or for
// one written once (Once).
#define CALLWALL_RUN_IF_TOTALS_Totals(...) __VA_ARGS__
#define CALLWALL_RUN_IF_TOTALS_Once(...)
#define CALLWALL_RUN_IF_ONCE_Totals(...)
#define CALLWALL_RUN_IF_ONCE_Once(...) __VA_ARGS__
#define CALLWALL_RUN_TOTALS_NAME(type, field, column, sql, when) \
    CALLWALL_RUN_IF_TOTALS_##when(std::string_view(column), )
#define CALLWALL_RUN_TOTALS_TIE(type, field, column, sql, when) CALLWALL_RUN_IF_TOTALS_##when(std::tie(r.field), )
#define CALLWALL_RUN_ONCE_NAME(type, field, column, sql, when) CALLWALL_RUN_IF_ONCE_##when(std::string_view(column), )
#define CALLWALL_RUN_ONCE_TIE(type, field, column, sql, when) CALLWALL_RUN_IF_ONCE_##when(std::tie(r.field), )

/// The columns the run's update writes, in the table's order
/// (update_sql(Run::table(), kRunTotalsColumns, "id")).
inline constexpr std::string_view kRunTotalsColumns[] = {CALLWALL_RUN_COLUMNS(CALLWALL_RUN_TOTALS_NAME)};

/// The values of those columns, in the same order.
[[nodiscard]] inline auto run_totals(const Run& r) noexcept {
    return std::tuple_cat(CALLWALL_RUN_COLUMNS(CALLWALL_RUN_TOTALS_TIE) std::tuple<>());
}

/// The columns written once, when the run starts, in the table's order.
inline constexpr std::string_view kRunOnceColumns[] = {CALLWALL_RUN_COLUMNS(CALLWALL_RUN_ONCE_NAME)};

/// The values of those columns, in the same order.
[[nodiscard]] inline auto run_once(const Run& r) noexcept {
    return std::tuple_cat(CALLWALL_RUN_COLUMNS(CALLWALL_RUN_ONCE_TIE) std::tuple<>());
}

}  // namespace callwall::records
