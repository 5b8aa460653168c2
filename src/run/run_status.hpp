// Private to src/run/: what a run's row begins with, and what a run's status
// and a database error become in it, shared by the packet runs (session.cpp)
// and the runs without packets (verdict_run.cpp).
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "run/session.hpp"
#include "store/store.hpp"

namespace callwall::run {

/// The row a run of `kind` over `sources` begins with: started now, the
/// sources comma-joined as its source, the catalog's digest.
[[nodiscard]] store::RunInfo begin_info(const std::string& kind, const std::vector<std::string>& sources,
                                        const std::string& command_line, const catalog::Catalog& catalog);

[[nodiscard]] store::RunStatus store_status(Status s) noexcept;

/// The run.notes line for a run stopped by a database error: on a full disk
/// it starts with store::kDiskFullNote, which the report looks for.
[[nodiscard]] std::string stop_note(const store::StoreError& e);

}  // namespace callwall::run
