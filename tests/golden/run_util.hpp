// Runs the pipeline in-process on capture files into a temporary database and
// dumps canonical text, for the golden and conformance tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "capture/pcap_source.hpp"
#include "pipeline/analyzer.hpp"
#include "run/store_analyzer.hpp"
#include "store/store.hpp"
#include "sqlite_rows.hpp"

namespace callwall::test {

/// A database file removed (with its WAL) when the object dies.
class TempDb {
public:
    TempDb() {
        char tmpl[] = "/tmp/callwall-test-XXXXXX";
        const int fd = mkstemp(tmpl);
        if (fd >= 0) close(fd);
        path_ = tmpl;
        std::filesystem::remove(path_);
        path_ += ".sqlite";
    }
    ~TempDb() {
        // The database, SQLite's and callwall's files beside it, the files tests name
        // after it (a capture's log and events, metrics, a pcap, a ruleset).
        for (const char* suffix :
             {"", "-wal", "-shm", "-callwall-reserve", ".log", ".events.jsonl", ".prom", ".pcap", ".nft"})
            std::filesystem::remove(path_ + suffix);
    }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// Analyses the files as one run into `db_path`; returns the run id.
/// `dissect_stats`: receives the dissector's counters at the end of the run;
/// `wiring`: what else each flow's row goes to (run/store_analyzer.hpp).
inline int64_t analyze_files(const std::vector<std::string>& files, const std::string& db_path,
                             const pipeline::AnalyzerConfig& cfg = {}, pipeline::DissectStats* dissect_stats = nullptr,
                             run::RowWiring wiring = {}) {
    auto db = store::Store::open(db_path);
    store::RunInfo info;
    info.kind = "analyze";
    info.source = files.empty() ? "" : files[0];
    info.command_line = "test";
    const int64_t run = db->begin_run(info);
    run::StoreAnalyzer wired(db.get(), run, cfg, wiring);
    run::StoreAnalyzer& a = wired;
    for (const auto& f : files) {
        auto src = capture::PcapSource::open_file(f);
        decode::RawFrame fr;
        capture::NextStatus st;
        while ((st = src->next(fr)) == capture::NextStatus::Frame) a.process(fr);
        if (st == capture::NextStatus::Error) ++a.totals().damaged_files;
    }
    a.finish();
    if (dissect_stats) *dissect_stats = a.dissect_stats();
    db->update_run(run, a.totals(), store::RunStatus::Completed, 1.0);
    db->flush();
    return run;
}

/// SQL for a verdict list column (a JSON array, schema version 3) as its
/// items comma-joined in order, "" for an empty list: what the tests that
/// read sets of reasons or ports compare.
inline std::string sql_list(const std::string& column) {
    return "(SELECT ifnull(group_concat(value, ','), '') FROM (SELECT value FROM json_each(" + column +
           ") ORDER BY key))";
}

/// Rows of a query as tab-separated lines ("NULL" for NULL). When the
/// database cannot be opened or the query fails, `error` (if given) says why
/// and what was read so far is returned; without `error` that fails the test:
/// a missing table or file must not pass for an empty (or non-empty) result.
inline std::vector<std::string> query_rows(const std::string& db_path, const std::string& sql,
                                           std::string* error = nullptr) {
    std::vector<std::string> rows;
    std::string why;
    sqlite3* db = nullptr;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        why = "cannot open: " + std::string(db ? sqlite3_errmsg(db) : "out of memory");
    } else if (sqlite3_busy_timeout(db, 10000) != SQLITE_OK) {  // a writer's moment (WAL reset, checkpoint): wait
        why = sqlite3_errmsg(db);
    } else if (prepare_one(db, sql, &st, why) == SQLITE_OK && append_rows(st, rows) != SQLITE_DONE) {
        why = sqlite3_errmsg(db);  // (a statement that did not prepare left its reason in `why`)
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (error)
        *error = why;
    else if (!why.empty())
        ADD_FAILURE() << "query_rows(" << db_path << ", \"" << sql << "\"): " << why;
    return rows;
}

/// The runs in the database at `path`: 0 until the file, its schema and a run
/// row exist (callwall creates the file before its tables: polled then, the
/// query fails, which is no run yet rather than a test failure).
inline size_t run_count(const std::string& path) {
    if (!std::filesystem::exists(path)) return 0;
    std::string error;
    const auto rows = query_rows(path, "SELECT count(*) FROM run", &error);
    if (!error.empty() || rows.size() != 1) return 0;
    return std::stoul(rows[0]);
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The repository root (compile definition set by CMake).
inline std::string source_dir() {
#ifdef CALLWALL_SOURCE_DIR
    return CALLWALL_SOURCE_DIR;
#else
    return ".";
#endif
}

/// ../shared next to the repository, or "" when absent.
inline std::string shared_dir() {
#ifdef CALLWALL_SHARED_DIR
    if (std::filesystem::is_directory(CALLWALL_SHARED_DIR)) return CALLWALL_SHARED_DIR;
#endif
    return "";
}

/// What attribution wrote for the runs in `db` (flow matches, gaps,
/// verdicts, product verdicts, flow outcomes), as labelled lines in a fixed
/// order: what two ways of attributing the same run must leave alike.
inline std::vector<std::string> attribution_rows(const std::string& db) {
    std::vector<std::string> all;
    for (const char* sql :
         {"SELECT 'match', flow_id, entry_id, evidence, confidence, name, counted FROM flow_match ORDER BY 2, 3",
          "SELECT 'gap', flow_id, vendor, name FROM unmatched_flow ORDER BY 2, 3, 4",
          "SELECT 'verdict', * FROM verdict ORDER BY entry_id",
          "SELECT 'product', vendor, product, edition, conclusion, detail FROM product_verdict ORDER BY 2, 3, 4",
          "SELECT 'outcome', id, outcome FROM flow ORDER BY id"}) {
        const auto rows = query_rows(db, sql);
        all.insert(all.end(), rows.begin(), rows.end());
    }
    return all;
}

/// The captures (.pcap, .pcapng) directly in `dir` (captures/scenarios,
/// ../shared/captures/public), sorted.
inline std::vector<std::filesystem::path> captures_in(const std::string& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const auto ext = e.path().extension();
        if (ext == ".pcap" || ext == ".pcapng") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

/// Every capture in `dir` that has a tshark oracle next to it (`<file>.truth.json`),
/// whatever its extension (.pcap, .pcapng, .cap ...), sorted by name.
inline std::vector<std::filesystem::path> oracle_captures_in(const std::string& dir) {
    std::vector<std::filesystem::path> files;
    const std::string suffix = ".truth.json";
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const std::string p = e.path().string();
        if (p.size() > suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
            files.emplace_back(p.substr(0, p.size() - suffix.size()));
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace callwall::test
