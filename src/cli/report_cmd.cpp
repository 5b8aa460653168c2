// callwall report --db F [--run N] [--vendor V] --format text|json|csv|html [--fail-on blocked|partial]
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdio>
#include <set>
#include <iostream>
#include <utility>
#include <vector>

#include "report/report.hpp"
#include "cli/commands.hpp"
#include "cli/command_support.hpp"

namespace po = boost::program_options;

namespace callwall::cli {

namespace {

// `report --across-runs`: every run of the database, loaded one by one.
int across_runs(const std::string& db_path, report::ReportOptions ro, std::string out_path, bool html) {
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
    const std::string text = html ? report::render_across_html(runs) : report::render_across(runs);
    if (out_path == "-") out_path.clear();
    if (out_path.empty() ? !write_stdout(text, "report") : !write_output_file(out_path, text, "report", db_path))
        return kExitOutput;
    return kExitOk;
}

// "" or the --vendor names the run's database knows nothing of (no entry of
// the catalog the run used), with the names it knows: any case, as the
// report matches them.
std::string unknown_report_vendors(const std::string& db_path, report::ReportOptions ro, const report::ReportData& d) {
    if (ro.vendors.empty()) return "";
    const auto lowered = [](std::string v) {
        for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return v;
    };
    std::set<std::string> shown;
    for (const auto& v : d.verdicts) shown.insert(lowered(v.vendor));
    for (const auto& p : d.products) shown.insert(lowered(p.vendor));
    std::string unknown;
    for (const auto& v : ro.vendors)
        if (!shown.count(lowered(v))) unknown += (unknown.empty() ? "'" : ", '") + v + "'";
    if (unknown.empty()) return "";
    ro.vendors.clear();
    ro.all_entries = true;
    std::set<std::string> known;
    try {
        for (const auto& v : report::load(db_path, ro).verdicts) known.insert(v.vendor);
    } catch (const std::exception&) {}
    std::string list;
    for (const auto& k : known) list += " '" + k + "'";
    return "unknown vendor " + unknown + " (the run's vendors:" + list + ")";
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
        ("all", "text: every requirement's row in catalog order (by default each product lists the rows that decide it and folds those not exercised into one line); without --vendor, also the entries of vendors not seen (every format)")
        ("format", po::value(&format)->value_name("text|json|csv|html"), "output format (default text)")
        ("output,o", po::value(&out_path)->value_name("FILE"), "write to FILE instead of standard output ('-': standard output; replaced only once the new one is complete; never a database, an input or a file that is not a callwall report)")
        ("fail-on", po::value(&fail_on)->value_name("blocked|partial"), "exit 10 when a shown verdict is blocked (or partial)")
        ("verbose,v", "text: also list under each requirement the flows its verdict rests on (json and html always carry them)")
        ("across-runs", "every run of the database side by side, each requirement's verdict in each (text or html; e.g. sites merged with 'callwall merge')");
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
        std::cout
            << opts
            << "\nexamples:\n"
               "  callwall report --db call.sqlite\n"
               "  callwall report --db call.sqlite --run 2 --format html -o report.html\n"
               "  callwall report --db call.sqlite --format json --fail-on blocked\n"
               "\nExit codes: 0 ok, 2 usage, 5 database, 7 output not written, 10 --fail-on matched, 11 --fail-on on\n"
               "a run that did not finish (still running, killed, or failed).\n";
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
    if (out_path == "-") out_path.clear();  // -o -: standard output
    if (const std::string why = refuse_output(out_path, OutputKind::Report, {db_path}); !why.empty()) {
        std::fprintf(stderr, "callwall report: refusing to write %s: %s\n", out_path.c_str(), why.c_str());
        return kExitOutput;
    }
    report::TextOptions text_options;
    text_options.evidence = vm.count("verbose") > 0;
    if (text_options.evidence && (format != "text" || vm.count("across-runs"))) {
        std::fprintf(stderr,
                     "callwall report: -v lists the evidence flows in the text report of one run (--format json "
                     "and html always carry them)\n");
        return kExitUsage;
    }
    report::ReportOptions ro;
    if (vm.count("run")) ro.run = run;
    ro.vendors = vendors;
    // --all with --vendor: every row of those vendors, not every vendor's.
    ro.all_entries = vm.count("all") > 0 && vendors.empty();
    text_options.all_rows = vm.count("all") > 0;
    if (vm.count("across-runs")) {
        if (vm.count("run") || (format != "text" && format != "html") || !fail_on.empty()) {
            std::fprintf(stderr,
                         "callwall report: --across-runs shows every run as text or html: not with --run, "
                         "--format json|csv or --fail-on\n");
            return kExitUsage;
        }
        return across_runs(db_path, ro, out_path, format == "html");
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
    if (const std::string bad = unknown_report_vendors(db_path, ro, d); !bad.empty()) {
        std::fprintf(stderr, "callwall report: --vendor: %s\n", bad.c_str());
        return kExitUsage;
    }
    const std::string text = format == "json"   ? report::render_json(d)
                             : format == "csv"  ? report::render_csv(d)
                             : format == "html" ? report::render_html(d)
                                                : report::render_text(d, text_options);
    if (out_path.empty() ? !write_stdout(text, "report") : !write_output_file(out_path, text, "report", db_path))
        return kExitOutput;
    if (fail_on.empty()) return kExitOk;
    std::vector<std::string> vs;
    for (const auto& v : d.verdicts) vs.push_back(v.verdict);
    if (fail_on_matches(vs, fail_on)) return kExitFailOn;
    // A gate never passes a run that did not finish: killed (kill -9, a
    // crash, a power cut) it stays `running`, with the verdicts of its last
    // refresh or none; `failed` stopped on an error.
    if (d.run.status == "running" || d.run.status == "failed") {
        std::fprintf(stderr,
                     "callwall report: --fail-on %s: run %lld did not finish (status %s%s): its verdicts cannot "
                     "pass a gate\n",
                     fail_on.c_str(), static_cast<long long>(d.run.id), d.run.status.c_str(),
                     d.run.status != "running" ? ""
                     : d.run.still_running     ? ": its process is still capturing"
                                               : ": its process ended without finishing it (killed?)");
        return kExitUnfinished;
    }
    return kExitOk;
}

}  // namespace callwall::cli
