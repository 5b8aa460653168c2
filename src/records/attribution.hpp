// The records a run's attribution writes: the catalog entries it judged,
// each flow's matches, the verdicts per entry and per product, the flows
// of a vendor no entry explains; and the run's sources and allow lists.
// Declared as records/record.hpp says; lists (reasons, ports) are JSON
// arrays as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "records/messages.hpp"
#include "records/record.hpp"

namespace callwall::records {

// A catalog entry as the run judged it (its ports, destinations and
// conditions as text).
#define CALLWALL_CATALOG_ENTRY_COLUMNS(X)                      \
    X(Text, entry_id, "entry_id", "TEXT NOT NULL")             \
    X(Text, vendor, "vendor", "TEXT NOT NULL")                 \
    X(Text, product, "product", "TEXT NOT NULL")               \
    X(Text, edition, "edition", "TEXT NOT NULL")               \
    X(Text, document_date, "document_date", "TEXT NOT NULL")   \
    X(Text, service, "service", "TEXT NOT NULL")               \
    X(Text, transport, "transport", "TEXT NOT NULL")           \
    X(Text, ports, "ports", "TEXT NOT NULL")                   \
    X(Text, destinations, "destinations", "TEXT NOT NULL")     \
    X(Text, direction, "direction", "TEXT NOT NULL")           \
    X(int64_t, required, "required", "INTEGER NOT NULL")       \
    X(Text, conditions, "conditions", "TEXT NOT NULL")         \
    X(Text, source_file, "source_file", "TEXT NOT NULL")       \
    X(Text, source_section, "source_section", "TEXT NOT NULL") \
    X(Text, document_title, "document_title", "TEXT NOT NULL DEFAULT ''")
CALLWALL_RECORD(CatalogEntry, CALLWALL_CATALOG_ENTRY_COLUMNS, "catalog_entry", "run_id, entry_id", "INSERT OR REPLACE",
                "");

// A flow matched to an entry: by what evidence, how sure, under which
// name, and whether the entry's verdict counts it.
#define CALLWALL_FLOW_MATCH_COLUMNS(X)                   \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL")   \
    X(Text, entry_id, "entry_id", "TEXT NOT NULL")       \
    X(Text, evidence, "evidence", "TEXT NOT NULL")       \
    X(double, confidence, "confidence", "REAL NOT NULL") \
    X(Text, name, "name", "TEXT NOT NULL")               \
    X(int64_t, counted, "counted", "INTEGER NOT NULL")
// A plain INSERT: attribution clears a run's (or a flow's) matches before
// writing them again, and gives an entry once per flow.
CALLWALL_RECORD(FlowMatch, CALLWALL_FLOW_MATCH_COLUMNS, "flow_match", "run_id, flow_id, entry_id", "INSERT", "");

// An entry's verdict and why.
#define CALLWALL_VERDICT_COLUMNS(X)                                          \
    X(Text, entry_id, "entry_id", "TEXT NOT NULL")                           \
    X(Text, verdict, "verdict", "TEXT NOT NULL")                             \
    X(Text, reasons, "reasons", "TEXT NOT NULL")                             \
    X(int64_t, flows_observed, "flows_observed", "INTEGER NOT NULL")         \
    X(int64_t, flows_blocked, "flows_blocked", "INTEGER NOT NULL")           \
    X(int64_t, flows_inconclusive, "flows_inconclusive", "INTEGER NOT NULL") \
    X(Text, ports_observed, "ports_observed", "TEXT NOT NULL")               \
    X(Text, ports_blocked, "ports_blocked", "TEXT NOT NULL")                 \
    X(Text, evidence_flows, "evidence_flows", "TEXT NOT NULL")               \
    X(Text, origin, "origin", "TEXT NOT NULL")                               \
    X(Text, why, "why", "TEXT NOT NULL")
CALLWALL_RECORD(Verdict, CALLWALL_VERDICT_COLUMNS, "verdict", "run_id, entry_id", "INSERT OR REPLACE", "");

// A product's conclusion ("ready", "not ready", ...) and its detail.
#define CALLWALL_PRODUCT_VERDICT_COLUMNS(X)            \
    X(Text, vendor, "vendor", "TEXT NOT NULL")         \
    X(Text, product, "product", "TEXT NOT NULL")       \
    X(Text, edition, "edition", "TEXT NOT NULL")       \
    X(Text, conclusion, "conclusion", "TEXT NOT NULL") \
    X(Text, detail, "detail", "TEXT NOT NULL")
CALLWALL_RECORD(ProductVerdict, CALLWALL_PRODUCT_VERDICT_COLUMNS, "product_verdict", "", "INSERT", "");

// Each file or interface the run read, in order.
#define CALLWALL_RUN_SOURCE_COLUMNS(X)                   \
    X(int64_t, position, "position", "INTEGER NOT NULL") \
    X(Text, source, "source", "TEXT NOT NULL")
CALLWALL_RECORD(RunSource, CALLWALL_RUN_SOURCE_COLUMNS, "run_source", "run_id, position", "INSERT", "");

// What to add to a firewall for what was blocked, in one format ("nft", "iptables").
#define CALLWALL_ALLOW_LIST_COLUMNS(X)         \
    X(Text, format, "format", "TEXT NOT NULL") \
    X(Text, text, "text", "TEXT NOT NULL")
CALLWALL_RECORD(AllowList, CALLWALL_ALLOW_LIST_COLUMNS, "allow_list", "run_id, format", "INSERT OR REPLACE", "");

// A flow to a vendor's address or name that no entry of the vendor explains.
#define CALLWALL_UNMATCHED_FLOW_COLUMNS(X)             \
    X(int64_t, flow_id, "flow_id", "INTEGER NOT NULL") \
    X(Text, vendor, "vendor", "TEXT NOT NULL")         \
    X(Text, name, "name", "TEXT NOT NULL")
CALLWALL_RECORD(UnmatchedFlow, CALLWALL_UNMATCHED_FLOW_COLUMNS, "unmatched_flow", "", "INSERT", "");

/// Every record of a run's rows besides the run and flow tables, in the
/// schema's order: X(Record).
#define CALLWALL_RUN_RECORDS(X) \
    X(FlowName)                 \
    X(DnsAnswer)                \
    X(DnsQuery)                 \
    X(DnsName)                  \
    X(TlsHello)                 \
    X(StunMessage)              \
    X(RtpStream)                \
    X(IcmpError)                \
    X(CatalogEntry)             \
    X(FlowMatch)                \
    X(Verdict)                  \
    X(ProductVerdict)           \
    X(RunSource)                \
    X(AllowList)                \
    X(UnmatchedFlow)

/// The name of every table of a run's rows: the flows', then each record's
/// (CALLWALL_RUN_RECORDS), in the schema's order. What `export` and a live
/// run's --export take as a record's name.
inline std::vector<std::string> run_record_names() {
    std::vector<std::string> names = {"flow"};
#define CALLWALL_RECORD_NAME(Record) names.emplace_back(Record::table().name);
    CALLWALL_RUN_RECORDS(CALLWALL_RECORD_NAME)
#undef CALLWALL_RECORD_NAME
    return names;
}

}  // namespace callwall::records
