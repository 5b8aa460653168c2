// Private to the library: a stored run's attribution. run_attribution reads
// the run's facts through the store (or takes the flows kept in memory),
// attributes them (attribute() in attrib/attribute.hpp) and writes the
// result through the store's typed writes (store/attribution_io.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "attrib/attrib.hpp"
#include "store/store.hpp"

namespace callwall::store {
class AttributionIo;
}  // namespace callwall::store

namespace callwall::attrib {

class KeptFlows;
class KeptRows;
struct RunDetail;

/// Attribution's last writes: each entry's catalog_entry and verdict records
/// (`verdicts` parallel to the catalog's entries), the products'
/// conclusions and the catalog's digest.
void write_verdicts(store::AttributionIo& io, const catalog::Catalog& c, const std::vector<EntryVerdict>& verdicts,
                    const std::vector<ProductConclusion>& products);
/// One entry's catalog_entry and verdict records.
void write_entry(store::AttributionIo& io, const catalog::Catalog& c, const catalog::Entry& e, const EntryVerdict& v);

/// Loads the run's facts from the store, attributes, and writes the results.
/// Throws store::StoreError on database failure.
/// `cancelled` (optional) is asked between pages of flows; when it says
/// true, nothing is written (the transaction rolls back) and
/// AttributionCancelled is thrown.
/// `hook` (optional) adds what the command knows to each flow's context.
/// `kept` (optional): the run's flows kept as their rows were written; when
/// complete, they are attributed instead of the rows read back.
/// `rows` (optional): the run's DNS names and flow interfaces kept as its
/// rows were handed to the store (attrib/kept_rows.hpp), taken from there
/// instead of the tables where they are complete.
/// `entry_hook` (optional) adds what the command knows to each verdict;
/// `outcome_hook` (optional) is told each flow's outcome.
/// `detail` (optional) gets what a report shows beside the verdicts, kept
/// during the same pass (attrib/run_detail.hpp).
RunVerdicts run_attribution(store::Store& db, int64_t run_id, const catalog::Catalog& c,
                            const std::function<bool()>& cancelled = {}, const FlowContextHook& hook = {},
                            KeptFlows* kept = nullptr, const KeptRows* rows = nullptr,
                            const EntryVerdictHook& entry_hook = {}, const FlowOutcomeHook& outcome_hook = {},
                            RunDetail* detail = nullptr);

/// run_attribution was told to stop (Ctrl-C); the database is as before it.
class AttributionCancelled : public std::runtime_error {
public:
    AttributionCancelled() : std::runtime_error("attribution interrupted") {}
};

}  // namespace callwall::attrib
