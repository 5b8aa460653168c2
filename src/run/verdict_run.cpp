// A run without packets. See src/run/verdict_run.hpp.
#include "run/verdict_run.hpp"

#include "attrib/result_records.hpp"
#include "attrib/run_attribution.hpp"
#include "run/run_status.hpp"
#include "store/attribution_io.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"

namespace callwall::run {

VerdictRun::VerdictRun(VerdictRunOptions options) : o_(std::move(options)) {
    db_ = store::Store::open(o_.db_path);
    const store::RunInfo info = begin_info(o_.kind, o_.sources, o_.command_line, *o_.catalog);
    run_id_ = db_->begin_run(info);
}

VerdictRun::~VerdictRun() = default;

int64_t VerdictRun::run_id() const noexcept { return run_id_; }

void VerdictRun::write_verdicts(const std::vector<EntryResult>& entries,
                                const std::vector<attrib::ProductConclusion>& products) {
    const catalog::Catalog& c = *o_.catalog;
    store::AttributionIo io(*db_, run_id_);
    io.begin_writing();
    for (const EntryResult& r : entries) attrib::write_entry(io, c, *r.entry, *r.verdict);
    io.replace_products(attrib::product_records(products));
    io.write_catalog_digest(c.digest());
    io.commit();
}

void VerdictRun::finish(Status status, const std::string& notes) {
    notes_ = notes;
    store::RunTotals totals;
    totals.notes = notes_;
    db_->update_run(run_id_, totals, store_status(status), util::wall_s());
    db_->flush();
}

void VerdictRun::fail(const store::StoreError& e) noexcept {
    try {
        store::RunTotals totals;
        totals.notes = notes_ + stop_note(e);
        db_->update_run(run_id_, totals, store::RunStatus::Failed, util::wall_s());
        db_->flush();
    } catch (...) {
        // The database keeps every committed write; the run stays "running".
    }
}

}  // namespace callwall::run
