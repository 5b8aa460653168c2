// Private to src/run/: what a run's status and a database error become in
// its row, shared by the packet runs (session.cpp) and the runs without
// packets (verdict_run.cpp).
#pragma once

#include <string>

#include "run/session.hpp"
#include "store/store.hpp"

namespace callwall::run {

[[nodiscard]] store::RunStatus store_status(Status s) noexcept;

/// The run.notes line for a run stopped by a database error: on a full disk
/// it starts with store::kDiskFullNote, which the report looks for.
[[nodiscard]] std::string stop_note(const store::StoreError& e);

}  // namespace callwall::run
