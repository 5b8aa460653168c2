// Work on whole runs of a database, beside the rows a run writes: deleting
// the runs `capture --keep` no longer keeps, copying another callwall
// database's runs into this one (`callwall merge`), and recording a run's
// allow-list. Each commits the rows written before it, then works in one
// transaction of its own on the store's connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace callwall::store {

/// Deletes whole runs (the run row and every row that belongs to it, in
/// one transaction) that `capture --keep` no longer keeps: finished runs
/// that ended more than `max_age_s` seconds before `now` (0: no age
/// bound), and all but the newest `max_runs` runs (0: no count bound).
/// `current` (the run being captured) is never deleted, nor is any run
/// still marked running. Returns the ids deleted, oldest first.
std::vector<int64_t> prune_runs(Store& store, double max_age_s, uint64_t max_runs, double now, int64_t current);

/// One run copied by merge_from: its id in the source and here.
struct MergedRun {
    int64_t from_id = 0, to_id = 0;
    std::string kind, source, status;
};
/// Copies every run of the callwall database at `src_path` (opened
/// read-only; never written) into `into`, in one transaction: the run
/// rows under new ids, with `origin` set to "<origin> run <id>", and
/// every row that belongs to them (flows keep their per-run ids). A
/// source of an older schema version gives the columns it has (the rest
/// take their defaults) and its verdict lists are rewritten as JSON.
/// Throws StoreError naming `src_path` when it is not a callwall
/// database or is newer than this callwall.
/// `read_without_wal` (may be null): set when the source's -wal/-shm could
/// not be opened here and it was read without them (its last commits, of
/// a running or killed run, may be missing). Nothing is left beside the
/// source (it is opened as `report` opens a database).
std::vector<MergedRun> merge_from(Store& into, const std::string& src_path, const std::string& origin,
                                  bool* read_without_wal = nullptr);
/// The checks merge_from makes of a source before it copies anything
/// (callwall's, not newer, readable): throws the same StoreError. Lets
/// `merge` refuse a bad source before it opens the target.
void check_merge_source(const std::string& src_path);

/// Records the allow-list for what the run found blocked, in one format
/// ("nft", "iptables"): `catalog export --entry` of exactly those entries.
void write_allow_list(Store& store, int64_t run_id, std::string_view format, std::string_view text);

}  // namespace callwall::store
