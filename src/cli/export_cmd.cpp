// callwall export --db FILE --record NAME: one stored record's rows of a run
// (the flows, DNS answers, STUN messages, verdicts, ...) in a writer's format.
#include <boost/program_options.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/command_support.hpp"
#include "run/live_export.hpp"
#include "records/attribution.hpp"
#include "records/run.hpp"
#include "store/read_query.hpp"
#include "util/split.hpp"
#include "writers/writers.hpp"

namespace po = boost::program_options;

namespace callwall::cli {
namespace {

struct NoSuchRun : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The rows of `record` for run `run` (the last run when none is given),
// each without its run_id, in the order they were written; the run's own
// row ("run") without its id.
std::string read_records(const std::string& db_path, const std::string& record, std::optional<int64_t> run,
                         const writers::Writer& w) {
    std::string out;
    const std::string warning = store::ReadDb::read_settled(db_path, [&](store::ReadDb& db) {
        out.clear();
        auto last = db.prep("SELECT max(id) FROM run");
        const int64_t newest = last.row() ? last.int64(0) : 0;
        if (newest == 0) throw NoSuchRun(db_path + ": no runs recorded");
        auto has = db.prep("SELECT count(*) FROM run WHERE id = ?");
        has.bind(1, run.value_or(newest));
        if (!has.row() || has.int64(0) == 0)
            throw NoSuchRun(db_path + ": no run " + std::to_string(*run) + " (the last is " + std::to_string(newest) +
                            ")");
        const std::string key = record == records::Run::table().name ? "id" : "run_id";
        auto q = db.prep("SELECT * FROM \"" + record + "\" WHERE " + key + " = ? ORDER BY rowid");
        q.bind(1, run.value_or(newest));
        std::vector<std::string> columns;
        for (int i = 1; i < q.columns(); ++i) columns.push_back(q.name(i));  // run_id (id) first: left out
        std::vector<writers::Value> values(columns.size());
        w.begin(columns, out);
        while (q.row()) {
            run::read_values(q, 1, values);
            w.row(columns, values, out);
        }
    });
    if (!warning.empty()) std::fprintf(stderr, "callwall export: warning: %s\n", warning.c_str());
    return out;
}

}  // namespace

int run_export(int argc, char** argv) {
    // The run's own row, then every table of its rows.
    std::vector<std::string> names = {std::string(records::Run::table().name)};
    for (std::string& name : records::run_record_names()) names.push_back(std::move(name));
    const std::vector<std::string> formats = writers::names();
    std::string format_help;
    for (const auto& w : writers::registry()) {
        format_help += "\n  " + std::string(w.name) + ": " + std::string(w.summary);
    }
    po::options_description opts(
        "callwall export --db FILE --record NAME [--run ID] [--format FORMAT]\n\n"
        "Writes one record of a run, every row of it, to standard output: the run's own\n"
        "row (its counts, status and notes), the flows, the names, DNS questions and\n"
        "answers, TLS hellos, STUN messages, RTP streams and ICMP errors the decoders saw\n"
        "(the per-message ones when the run had --detail), and what attribution made of\n"
        "them. Text from the wire is escaped as the report escapes it (\\xHH for a byte a\n"
        "terminal must not see).\n\noptions");
    std::string db_path, record, format = "csv";
    int64_t run_id = 0;
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("db", po::value(&db_path)->value_name("FILE"), "the database to read (required)")
        ("record", po::value(&record)->value_name("NAME"), ("the record to write (required): " + util::joined(names, ", ")).c_str())
        ("run", po::value(&run_id)->value_name("ID"), "this run (default: the last)")
        ("format", po::value(&format)->value_name("FORMAT"), ("how to write it: " + util::joined(formats, ", ") + " (default csv)").c_str());
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall export: %s (try 'callwall export --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts << "\nformats:" << format_help
                  << "\n\nexample:\n  callwall export --db run.sqlite --record stun_message --format jsonl\n"
                     "\nExit codes: 0 ok, 2 usage (an unknown record, format or run), 5 database, 7 output.\n";
        return kExitOk;
    }
    if (db_path.empty() || record.empty()) {
        std::fprintf(stderr, "callwall export: --db and --record are required\n");
        return kExitUsage;
    }
    if (std::find(names.begin(), names.end(), record) == names.end()) {
        std::fprintf(stderr, "callwall export: --record: no record '%s' (one of: %s)\n", record.c_str(),
                     util::joined(names, ", ").c_str());
        return kExitUsage;
    }
    const writers::Writer* w = writers::find(format);
    if (!w) {
        std::fprintf(stderr, "callwall export: --format: no format '%s' (one of: %s)\n", format.c_str(),
                     util::joined(formats, ", ").c_str());
        return kExitUsage;
    }
    std::string text;
    try {
        text = read_records(db_path, record, vm.count("run") ? std::optional<int64_t>(run_id) : std::nullopt, *w);
    } catch (const NoSuchRun& e) {
        std::fprintf(stderr, "callwall export: %s\n", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "callwall: %s\n", e.what());
        return kExitDatabase;
    }
    return write_stdout(text, "export") ? kExitOk : kExitOutput;
}

}  // namespace callwall::cli
