// A run without packets: its verdicts were decided elsewhere (audit: a
// ruleset replayed in a sandbox), not attributed from flows, so it has no
// analyzer, no flows and no refresh. Like a Session it owns the database
// and the run's row (begun when opened, its status and notes written when
// finished, marked failed when the database fails), and it writes the
// verdicts as attribution writes them (the report reads them alike). It
// never prints.
//
// Errors: the database's throw store::StoreError (the caller calls fail(),
// then turns it into one line and exit 5).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attrib/attrib.hpp"
#include "catalog/catalog.hpp"
#include "run/session.hpp"

namespace callwall::store {
class Store;
class StoreError;
}  // namespace callwall::store

namespace callwall::run {

struct VerdictRunOptions {
    std::string db_path;
    std::string kind;  ///< the run's kind: "audit"
    std::vector<std::string> sources;  ///< what was judged (the ruleset's file)
    std::string command_line;
    const catalog::Catalog* catalog = nullptr;  ///< required; must outlive the run
};

/// One catalog entry's verdict as the run decided it (both borrowed).
struct EntryResult {
    const catalog::Entry* entry = nullptr;
    const attrib::EntryVerdict* verdict = nullptr;
};

class VerdictRun {
public:
    /// Opens the database and begins the run. Throws store::StoreError.
    explicit VerdictRun(VerdictRunOptions options);
    ~VerdictRun();
    VerdictRun(const VerdictRun&) = delete;
    VerdictRun& operator=(const VerdictRun&) = delete;

    [[nodiscard]] int64_t run_id() const noexcept;

    /// The run's verdicts (one per entry judged), its products'
    /// conclusions and the catalog's digest, in one transaction. May throw
    /// store::StoreError.
    void write_verdicts(const std::vector<EntryResult>& entries,
                        const std::vector<attrib::ProductConclusion>& products);

    /// Ends the run: `notes` and the status and end time are written. May
    /// throw store::StoreError.
    void finish(Status status, const std::string& notes);

    /// The database failed: marks the run failed with the reason in its
    /// notes, if the database still takes a write. Never throws.
    void fail(const store::StoreError& e) noexcept;

private:
    VerdictRunOptions o_;
    std::unique_ptr<store::Store> db_;
    int64_t run_id_ = 0;
    std::string notes_;  ///< as finish() was given them
};

}  // namespace callwall::run
