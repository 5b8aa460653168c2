// A run's status and a database error in its row. See src/run/run_status.hpp.
#include "run/run_status.hpp"

namespace callwall::run {

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
