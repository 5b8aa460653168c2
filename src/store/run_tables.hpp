// The tables whose rows belong to one run. Private to src/store.
#pragma once

#include <string_view>

#include "records/attribution.hpp"

namespace callwall::store {

// Every table whose rows belong to one run (a run_id column referencing
// run(id)): every record's (records/attribution.hpp, CALLWALL_RUN_RECORDS),
// then the flows. Deleting in this order and then the run row keeps the
// foreign keys (prune_runs); a run copied from another database inserts its
// run row first, then these (merge_from).
#define CALLWALL_RUN_TABLE_NAME(Record) records::Record::table().name,
inline constexpr std::string_view kRunTables[] = {CALLWALL_RUN_RECORDS(CALLWALL_RUN_TABLE_NAME) "flow"};
#undef CALLWALL_RUN_TABLE_NAME

}  // namespace callwall::store
