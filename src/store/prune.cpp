// Deleting old runs for `capture --keep`. See store/whole_runs.hpp.
#include <string>
#include <vector>

#include "store/conn.hpp"
#include "store/run_tables.hpp"
#include "store/statement.hpp"
#include "store/whole_runs.hpp"

namespace callwall::store {
std::vector<int64_t> prune_runs(Store& store, double max_age_s, uint64_t max_runs, double now, int64_t current) {
    std::vector<int64_t> doomed;
    if (max_age_s <= 0 && max_runs == 0) return doomed;
    sqlite3* const db = WholeRunsAccess::committed(store);
    const std::string& path = store.path();
    {
        // Newest first: the first max_runs are kept whatever their age.
        Statement st(db, path, "SELECT id, status, coalesce(ended_at, 0) FROM run ORDER BY id DESC");
        uint64_t seen = 0;
        while (st.row("listing runs")) {
            const int64_t id = st.int64(0);
            ++seen;
            if (id == current || st.text(1) == "running") continue;
            const bool too_many = max_runs > 0 && seen > max_runs;
            const bool too_old = max_age_s > 0 && st.real(2) > 0 && st.real(2) < now - max_age_s;
            if (too_many || too_old) doomed.push_back(id);
        }
    }
    if (doomed.empty()) return doomed;
    Transaction txn(db, path);
    for (const int64_t id : doomed) {
        for (const std::string_view table : kRunTables) {
            Statement del(db, path, ("DELETE FROM " + std::string(table) + " WHERE run_id=?").c_str());
            del.bind(1, id).run("deleting an old run");
        }
        Statement del(db, path, "DELETE FROM run WHERE id=?");
        del.bind(1, id).run("deleting an old run");
    }
    txn.commit("deleting old runs");
    std::vector<int64_t> oldest_first(doomed.rbegin(), doomed.rend());
    return oldest_first;
}

}  // namespace callwall::store
