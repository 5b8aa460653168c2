// The allow-list of a run: what `callwall catalog export` writes for exactly
// the requirements a probe found blocked. See store/whole_runs.hpp.
#include <string_view>

#include "records/attribution.hpp"
#include "store/conn.hpp"
#include "store/statement.hpp"
#include "store/whole_runs.hpp"

namespace callwall::store {

void write_allow_list(Store& store, int64_t run_id, std::string_view format, std::string_view text) {
    Statement st(WholeRunsAccess::committed(store), store.path(),
                 records::insert_sql(records::AllowList::table()).c_str());
    st.bind_record(run_id, records::AllowList{format, text}).run("writing the run's allow-list");
}

}  // namespace callwall::store
