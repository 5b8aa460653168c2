// Private to the store module: the tables and views of a callwall database
// (schema version kSchemaVersion) and the indexes only readers use. Store::open
// creates them; migrate() upgrades older versions.
#pragma once

#include <string>

#include "facts/flow_facts.hpp"
#include "records/attribution.hpp"
#include "records/run.hpp"

namespace callwall::store {

// Schema version 4 (version 1 lacked run.writer_*; versions 1 and 2 kept
// the verdict's lists comma-joined; versions 1 to 3 lacked run.origin, where
// a run merged from another database (`callwall merge`) says where it came
// from: migrate() adds the columns and rewrites the lists). The verdict's lists (reasons, ports_observed, ports_blocked,
// evidence_flows) are JSON arrays: '["stun-timeout"]', '[443,3478]', '[]';
// SQLite's json_each() reads them, e.g.
//   SELECT v.entry_id FROM verdict v, json_each(v.ports_blocked) p WHERE p.value = 3478
// Times are seconds since the epoch (REAL), addresses text.
// Flow ids are per run: (run_id, id) is the key and every child row carries
// run_id, so runs appended to one database never collide.
// Schema version 5 added dns_name: a run's DNS questions per name (how many,
// answered, resolved: NOERROR with records, failed: unanswered or another
// code, the last failure's "no response" or code, first and last time), one
// row per name whatever the run's length; dns_query keeps a row per question
// only with --detail. A database of version 4 gets the (empty) table on its
// next open; its runs' questions stay in dns_query.
// Schema version 6 added two flow columns: link_broadcast (the flow's first
// packet went to the link-layer broadcast address) and roles (which side's
// DNS/STUN messages asked and which answered: 1 client asked, 2 client
// answered, 4 server asked, 8 server answered). Older rows read 0: unknown.
// The run table is the run record's (records/run.hpp); the flow table's
// columns after run_id are those of a flow's row, declared with what each
// holds in facts/flow_facts.hpp (CALLWALL_FLOW_COLUMNS).
inline constexpr const char* kFlowTable = R"SQL(CREATE TABLE IF NOT EXISTS flow (
  run_id INTEGER NOT NULL REFERENCES run(id),
)SQL" CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_SQL_DEFINITION) R"SQL(  PRIMARY KEY (run_id, id)
);
)SQL";

// The views over the records' tables.
inline constexpr const char* kSchemaViews = R"SQL(CREATE VIEW IF NOT EXISTS verdict_summary AS
  SELECT v.run_id, e.vendor, e.edition, e.product, e.service, e.transport, e.ports, e.destinations,
         e.required, e.conditions, v.entry_id, v.verdict, v.reasons, v.flows_observed, v.flows_blocked,
         v.flows_inconclusive, v.ports_observed, v.ports_blocked, v.origin, v.why, v.evidence_flows
  FROM verdict v JOIN catalog_entry e ON e.run_id = v.run_id AND e.entry_id = v.entry_id;
CREATE VIEW IF NOT EXISTS unmatched_vendor_flows AS
  SELECT u.run_id, u.vendor, u.name, f.id AS flow_id, f.transport, f.client_ip, f.client_port, f.server_ip,
         f.server_port, f.app, f.state, f.outcome, f.first_ts
  FROM unmatched_flow u JOIN flow f ON f.run_id = u.run_id AND f.id = u.flow_id;
)SQL";

/// The whole schema: the run and flow tables, every record's table
/// (records/attribution.hpp: CALLWALL_RUN_RECORDS, in that order), the views.
inline const std::string& schema_sql() {
    static const std::string sql = [] {
        std::string s = "\n" + records::create_table_sql(records::Run::table()) + kFlowTable;
#define CALLWALL_SCHEMA_TABLE(Record) s += records::create_table_sql(records::Record::table());
        CALLWALL_RUN_RECORDS(CALLWALL_SCHEMA_TABLE)
#undef CALLWALL_SCHEMA_TABLE
        return s + kSchemaViews;
    }();
    return sql;
}

// Schema version 3: a version-1/2 database's verdict lists (comma-joined;
// reasons are tokens without commas or quotes) as JSON arrays. Rows already
// rewritten (an array starts with '[') are left alone. migrate() runs it on
// the whole table, merge_from() on one merged run (appending " AND run_id = ?").
inline constexpr const char* kVerdictListsToJson =
    "UPDATE verdict SET "
    "reasons = CASE WHEN reasons = '' THEN '[]' ELSE '[\"' || replace(reasons, ',', '\",\"') || '\"]' END, "
    "ports_observed = '[' || ports_observed || ']', ports_blocked = '[' || ports_blocked || ']', "
    "evidence_flows = '[' || evidence_flows || ']' WHERE substr(reasons, 1, 1) <> '['";

// Indexes that only readers use (attribution, report, queries by hand).
// A new database gets them after its first run's packets are written:
// building an index over rows already written costs less than keeping it
// up to date row by row.
// Every later open of the database creates any that are missing, so a run
// that was killed before building them leaves nothing to repair by hand.
inline constexpr const char* kReaderIndexes = R"SQL(
CREATE INDEX IF NOT EXISTS unmatched_flow_idx ON unmatched_flow(run_id, flow_id);
CREATE INDEX IF NOT EXISTS flow_match_entry ON flow_match(run_id, entry_id);
CREATE INDEX IF NOT EXISTS dns_query_run ON dns_query(run_id, qname);
CREATE INDEX IF NOT EXISTS dns_answer_run ON dns_answer(run_id, qname);
CREATE INDEX IF NOT EXISTS tls_hello_flow ON tls_hello(run_id, flow_id);
CREATE INDEX IF NOT EXISTS rtp_stream_flow ON rtp_stream(run_id, flow_id);
)SQL";

// A run's flows by server, built the first time attribution asks for a
// server's TTLs through it (AttributionIo::server_ttls: a run whose flows
// were not kept in memory, or a live refresh; then kept up to date by
// SQLite). Not among the reader indexes since schema version 5: nothing
// else reads by server, and building it cost a one-core analyze of a busy
// mirror port measurably (docs/performance.md). A database that has it keeps it.
inline constexpr const char* kServerIndex =
    "CREATE INDEX IF NOT EXISTS flow_server ON flow(run_id, server_ip, server_port)";

}  // namespace callwall::store
