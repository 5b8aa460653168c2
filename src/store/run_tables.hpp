// The tables whose rows belong to one run. Private to src/store.
#pragma once

namespace callwall::store {

// Every table whose rows belong to one run (schema.hpp: a run_id column
// referencing run(id)), children first: deleting in this order and then the
// run row keeps the foreign keys (prune_runs); a run copied from another
// database inserts its run row first, then these (merge_from).
inline constexpr const char* kRunTables[] = {"flow_name",     "dns_answer",     "dns_query",  "dns_name",
                                             "tls_hello",     "stun_message",   "rtp_stream", "icmp_error",
                                             "catalog_entry", "flow_match",     "verdict",    "product_verdict",
                                             "run_source",    "unmatched_flow", "allow_list", "flow"};

}  // namespace callwall::store
