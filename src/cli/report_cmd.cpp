// callwall report --db F [--run N] [--vendor V] --format text|json|csv|html [--fail-on blocked|partial]
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <utility>
#include <vector>

#include "callwall/report/report.hpp"
#include "cli/commands.hpp"
#include "cli/run_common.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

namespace {

// `report --across-runs`: every run of the database, loaded one by one.
int across_runs(const std::string& db_path, report::ReportOptions ro, const std::string& out_path) {
    std::vector<report::ReportData> runs;
    try {
        report::ReportData latest = report::load(db_path, ro);
        const std::vector<int64_t> ids = latest.run_ids;
        const int64_t latest_id = latest.run.id;
        size_t latest_at = ids.size();
        for (size_t i = 0; i < ids.size(); ++i) {
            if (ids[i] == latest_id) {  // loaded already
                latest_at = runs.size();
                continue;
            }
            ro.run = ids[i];
            runs.push_back(report::load(db_path, ro));
        }
        if (latest_at <= runs.size())
            runs.insert(runs.begin() + static_cast<std::ptrdiff_t>(latest_at), std::move(latest));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "callwall: %s\n", e.what());
        return kExitDatabase;
    }
    const std::string text = report::render_across(runs);
    if (out_path.empty() ? !write_stdout(text, "report") : !write_output_file(out_path, text, "report", db_path))
        return kExitOutput;
    return kExitOk;
}

}  // namespace

int run_report(int argc, char** argv) {
    po::options_description opts(
        "callwall report --db FILE [options]\n\n"
        "Prints the verdicts of a run (default: the latest) from a callwall database.\n\n"
        "options");
    std::string db_path, format = "text", fail_on, out_path;
    int64_t run = 0;
    std::vector<std::string> vendors;
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("db", po::value(&db_path)->value_name("FILE"), "the database (required)")
        ("run", po::value(&run)->value_name("N"), "run id (default: the latest)")
        ("vendor", po::value(&vendors)->composing()->value_name("NAME"), "only these vendors (default: vendors seen)")
        ("all", "every catalog entry, also of vendors not seen")
        ("format", po::value(&format)->value_name("text|json|csv|html"), "output format (default text)")
        ("output,o", po::value(&out_path)->value_name("FILE"), "write to FILE instead of standard output (replaced only once the new one is complete; never a database)")
        ("fail-on", po::value(&fail_on)->value_name("blocked|partial"), "exit 10 when a shown verdict is blocked (or partial)")
        ("across-runs", "every run of the database side by side, each requirement's verdict in each (text; e.g. sites merged with 'callwall merge')");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "callwall report: %s (try 'callwall report --help')\n", e.what());
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts
                  << "\nexamples:\n"
                     "  callwall report --db call.sqlite\n"
                     "  callwall report --db call.sqlite --run 2 --format html -o report.html\n"
                     "  callwall report --db call.sqlite --format json --fail-on blocked\n"
                     "\nExit codes: 0 ok, 2 usage, 5 database, 7 output not written, 10 --fail-on matched.\n";
        return kExitOk;
    }
    if (db_path.empty()) {
        std::fprintf(stderr, "callwall report: --db FILE is required\n");
        return kExitUsage;
    }
    if (format != "text" && format != "json" && format != "csv" && format != "html") {
        std::fprintf(stderr, "callwall report: --format takes text, json, csv or html, not '%s'\n", format.c_str());
        return kExitUsage;
    }
    if (!fail_on.empty() && fail_on != "blocked" && fail_on != "partial") {
        std::fprintf(stderr, "callwall report: --fail-on takes 'blocked' or 'partial', not '%s'\n", fail_on.c_str());
        return kExitUsage;
    }
    report::ReportOptions ro;
    if (vm.count("run")) ro.run = run;
    ro.vendors = vendors;
    ro.all_entries = vm.count("all") > 0;
    if (vm.count("across-runs")) {
        if (vm.count("run") || format != "text" || !fail_on.empty()) {
            std::fprintf(stderr,
                         "callwall report: --across-runs prints text of every run: not with --run, --format "
                         "or --fail-on\n");
            return kExitUsage;
        }
        return across_runs(db_path, ro, out_path);
    }
    report::ReportData d;
    try {
        d = report::load(db_path, ro);
    } catch (const report::NoSuchRun& e) {
        std::fprintf(stderr, "callwall report: %s\n", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "callwall: %s\n", e.what());
        return kExitDatabase;
    }
    const std::string text = format == "json"   ? report::render_json(d)
                             : format == "csv"  ? report::render_csv(d)
                             : format == "html" ? report::render_html(d)
                                                : report::render_text(d);
    if (out_path.empty() ? !write_stdout(text, "report") : !write_output_file(out_path, text, "report", db_path))
        return kExitOutput;
    if (fail_on.empty()) return kExitOk;
    std::vector<std::string> vs;
    for (const auto& v : d.verdicts) vs.push_back(v.verdict);
    return fail_on_matches(vs, fail_on) ? kExitFailOn : kExitOk;
}

}  // namespace callwall::cli
