// Private to the store module: the tables and views of a callwall database
// (schema version kSchemaVersion) and the indexes only readers use. Store::open
// creates them; migrate() upgrades older versions.
#pragma once

#include "facts/flow_facts.hpp"

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
// The flow table's columns after run_id are those of a flow's row, declared
// with what each holds in facts/flow_facts.hpp (CALLWALL_FLOW_COLUMNS).
inline constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS run (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  command_line TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  catalog_digest TEXT,
  started_at REAL NOT NULL,
  ended_at REAL,
  status TEXT NOT NULL,
  packets INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  truncated_packets INTEGER NOT NULL DEFAULT 0,
  undecoded_packets INTEGER NOT NULL DEFAULT 0,
  orphan_fragments INTEGER NOT NULL DEFAULT 0,
  damaged_files INTEGER NOT NULL DEFAULT 0,
  kernel_received INTEGER NOT NULL DEFAULT 0,
  kernel_dropped INTEGER NOT NULL DEFAULT 0,
  interface_dropped INTEGER NOT NULL DEFAULT 0,
  flows INTEGER NOT NULL DEFAULT 0,
  flows_evicted_full INTEGER NOT NULL DEFAULT 0,
  first_ts REAL,
  last_ts REAL,
  notes TEXT NOT NULL DEFAULT '',
  writer_pid INTEGER,
  writer_start INTEGER,
  writer_boot_id TEXT,
  origin TEXT
);
CREATE TABLE IF NOT EXISTS flow (
  run_id INTEGER NOT NULL REFERENCES run(id),
)SQL" CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_SQL_DEFINITION) R"SQL(  PRIMARY KEY (run_id, id)
);
CREATE TABLE IF NOT EXISTS flow_name (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (run_id, flow_id, name, source)
);
CREATE TABLE IF NOT EXISTS dns_answer (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  ts REAL NOT NULL,
  client_ip TEXT NOT NULL,
  server_ip TEXT NOT NULL,
  qname TEXT NOT NULL,
  rrtype TEXT NOT NULL,
  answer TEXT NOT NULL,
  ttl INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dns_query (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  ts REAL NOT NULL,
  client_ip TEXT NOT NULL,
  server_ip TEXT NOT NULL,
  qname TEXT NOT NULL,
  qtype INTEGER NOT NULL,
  answered INTEGER NOT NULL,
  rcode TEXT,
  answers INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS dns_name (
  run_id INTEGER NOT NULL REFERENCES run(id),
  qname TEXT NOT NULL,
  queries INTEGER NOT NULL,
  answered INTEGER NOT NULL,
  resolved INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  last_failure TEXT,
  first_ts REAL NOT NULL,
  last_ts REAL NOT NULL,
  PRIMARY KEY (run_id, qname)
);
CREATE TABLE IF NOT EXISTS tls_hello (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  ts REAL NOT NULL,
  protocol TEXT NOT NULL,
  sni TEXT NOT NULL,
  alpn TEXT NOT NULL,
  version TEXT NOT NULL,
  ech INTEGER NOT NULL,
  server_hello INTEGER NOT NULL,
  server_version TEXT,
  alert INTEGER
);
CREATE TABLE IF NOT EXISTS stun_message (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  ts REAL NOT NULL,
  direction TEXT NOT NULL,
  method TEXT NOT NULL,
  class TEXT NOT NULL,
  transaction_id TEXT NOT NULL,
  answered INTEGER,
  error_code INTEGER,
  carried TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stun_txn ON stun_message(run_id, flow_id, transaction_id);
CREATE TABLE IF NOT EXISTS rtp_stream (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  direction TEXT NOT NULL,
  ssrc TEXT NOT NULL,
  payload_type INTEGER NOT NULL,
  packets INTEGER NOT NULL,
  lost INTEGER NOT NULL,
  reordered INTEGER NOT NULL,
  duplicates INTEGER NOT NULL,
  jitter_ms REAL,
  max_jitter_ms REAL,
  clock_rate INTEGER NOT NULL,
  via_turn INTEGER NOT NULL,
  first_ts REAL NOT NULL,
  last_ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS icmp_error (
  run_id INTEGER NOT NULL REFERENCES run(id),
  ts REAL NOT NULL,
  family INTEGER NOT NULL,
  from_ip TEXT NOT NULL,
  to_ip TEXT NOT NULL,
  type INTEGER NOT NULL,
  code INTEGER NOT NULL,
  ttl INTEGER NOT NULL,
  quoted_src TEXT,
  quoted_dst TEXT,
  quoted_proto INTEGER,
  quoted_sport INTEGER,
  quoted_dport INTEGER,
  flow_id INTEGER
);
CREATE TABLE IF NOT EXISTS catalog_entry (
  run_id INTEGER NOT NULL REFERENCES run(id),
  entry_id TEXT NOT NULL,
  vendor TEXT NOT NULL,
  product TEXT NOT NULL,
  edition TEXT NOT NULL,
  document_date TEXT NOT NULL,
  service TEXT NOT NULL,
  transport TEXT NOT NULL,
  ports TEXT NOT NULL,
  destinations TEXT NOT NULL,
  direction TEXT NOT NULL,
  required INTEGER NOT NULL,
  conditions TEXT NOT NULL,
  source_file TEXT NOT NULL,
  source_section TEXT NOT NULL,
  document_title TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, entry_id)
);
CREATE TABLE IF NOT EXISTS flow_match (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  entry_id TEXT NOT NULL,
  evidence TEXT NOT NULL,
  confidence REAL NOT NULL,
  name TEXT NOT NULL,
  counted INTEGER NOT NULL,
  PRIMARY KEY (run_id, flow_id, entry_id)
);
CREATE TABLE IF NOT EXISTS verdict (
  run_id INTEGER NOT NULL REFERENCES run(id),
  entry_id TEXT NOT NULL,
  verdict TEXT NOT NULL,
  reasons TEXT NOT NULL,
  flows_observed INTEGER NOT NULL,
  flows_blocked INTEGER NOT NULL,
  flows_inconclusive INTEGER NOT NULL,
  ports_observed TEXT NOT NULL,
  ports_blocked TEXT NOT NULL,
  evidence_flows TEXT NOT NULL,
  origin TEXT NOT NULL,
  why TEXT NOT NULL,
  PRIMARY KEY (run_id, entry_id)
);
CREATE TABLE IF NOT EXISTS product_verdict (
  run_id INTEGER NOT NULL REFERENCES run(id),
  vendor TEXT NOT NULL,
  product TEXT NOT NULL,
  edition TEXT NOT NULL,
  conclusion TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_source (
  run_id INTEGER NOT NULL REFERENCES run(id),
  position INTEGER NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (run_id, position)
);
CREATE TABLE IF NOT EXISTS allow_list (
  run_id INTEGER NOT NULL REFERENCES run(id),
  format TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (run_id, format)
);
CREATE TABLE IF NOT EXISTS unmatched_flow (
  run_id INTEGER NOT NULL REFERENCES run(id),
  flow_id INTEGER NOT NULL,
  vendor TEXT NOT NULL,
  name TEXT NOT NULL
);
CREATE VIEW IF NOT EXISTS verdict_summary AS
  SELECT v.run_id, e.vendor, e.edition, e.product, e.service, e.transport, e.ports, e.destinations,
         e.required, e.conditions, v.entry_id, v.verdict, v.reasons, v.flows_observed, v.flows_blocked,
         v.flows_inconclusive, v.ports_observed, v.ports_blocked, v.origin, v.why, v.evidence_flows
  FROM verdict v JOIN catalog_entry e ON e.run_id = v.run_id AND e.entry_id = v.entry_id;
CREATE VIEW IF NOT EXISTS unmatched_vendor_flows AS
  SELECT u.run_id, u.vendor, u.name, f.id AS flow_id, f.transport, f.client_ip, f.client_port, f.server_ip,
         f.server_port, f.app, f.state, f.outcome, f.first_ts
  FROM unmatched_flow u JOIN flow f ON f.run_id = u.run_id AND f.id = u.flow_id;
)SQL";

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
