// A run's status and a database error in its row. See src/run/run_status.hpp.
#include "run/run_status.hpp"

#include "util/clock.hpp"

namespace callwall::run {

store::RunInfo begin_info(const std::string& kind, const std::vector<std::string>& sources,
                          const std::string& command_line, const catalog::Catalog& catalog) {
    store::RunInfo info;
    info.kind = kind;
    for (size_t i = 0; i < sources.size(); ++i) info.source += (i ? "," : "") + sources[i];
    info.sources = sources;
    info.command_line = command_line;
    info.catalog_digest = catalog.digest();
    info.started_at = util::wall_s();
    return info;
}

store::RunStatus store_status(Status s) noexcept {
    switch (s) {
        case Status::Completed: return store::RunStatus::Completed;
        case Status::Interrupted: return store::RunStatus::Interrupted;
        case Status::Failed: return store::RunStatus::Failed;
    }
    return store::RunStatus::Failed;
}

std::string stop_note(const store::StoreError& e) {
    if (e.kind() == store::StoreErrorKind::Full) return std::string(store::kDiskFullNote) + " (" + e.what() + ")\n";
    return std::string("stopped: ") + e.what() + "\n";
}

}  // namespace callwall::run
