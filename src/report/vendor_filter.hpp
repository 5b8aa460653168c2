// Private to report/: which vendors' rows a report shows.
#pragma once

#include <cctype>
#include <set>
#include <string>

#include "report/report.hpp"

namespace callwall::report {

/// All vendors (--all-entries), those named (--vendor, any case), or those
/// seen in the run (a product conclusion of theirs).
class VendorFilter {
public:
    explicit VendorFilter(const ReportOptions& opt) : all_(opt.all_entries) {
        for (auto v : opt.vendors) lower_.insert(lowered(std::move(v)));
    }
    [[nodiscard]] bool wanted(const std::string& vendor, bool seen) const {
        if (all_) return true;
        if (lower_.empty()) return seen;
        return lower_.count(lowered(vendor)) > 0;
    }

private:
    static std::string lowered(std::string v) {
        for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return v;
    }
    bool all_;
    std::set<std::string> lower_;
};

}  // namespace callwall::report
