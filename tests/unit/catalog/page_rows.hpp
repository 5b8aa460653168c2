// What the transcription tests of the web-page documents share
// (vendor_tuples_test.cpp, vendor_tuples_calls_test.cpp): one row of a
// vendor's page as typed from the page, its expansion into one tuple per port
// range, and the catalog's tuples for a set of pages, so that each test file
// compares exactly the pages it types.
#pragma once

#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "catalog/catalog.hpp"
#include "unit/catalog/catalog_test_util.hpp"

namespace callwall::test {

using Strings = std::vector<std::string>;

/// One row of a page: the ports as a list ("80 443 5866-6000"), the names and
/// ranges they go to, the condition, required, the tier word, the page.
struct PageRow {
    std::string vendor, product;
    std::string transport;  // "tcp" / "udp"
    std::string ports;
    Strings names;  // destination patterns ("ANY" when the page names none)
    Strings ranges;  // address ranges as the page writes them
    std::string condition;  // "", "feature:X", "sdk>=V", "sdk<V"
    bool required = true;
    std::string tier;
    std::string page;
};

/// (vendor, product, transport, lo, hi, names, ranges, condition, required, tier, page)
using PageTuple = std::tuple<std::string, std::string, std::string, int, int, std::string, std::string, std::string,
                             bool, std::string, std::string>;

inline std::vector<PageTuple> expand_rows(const std::vector<PageRow>& rows) {
    std::vector<PageTuple> out;
    for (const PageRow& r : rows) {
        for (const auto& [lo, hi] : port_ranges(r.ports)) {
            out.emplace_back(r.vendor, r.product, r.transport, lo, hi, sorted_joined(r.names), sorted_joined(r.ranges),
                             r.condition, r.required, r.tier, r.page);
        }
    }
    return out;
}

inline std::string describe_page_tuple(const PageTuple& t) {
    std::ostringstream o;
    o << std::get<0>(t) << " | " << std::get<1>(t) << " | " << std::get<2>(t) << " " << std::get<3>(t) << "-"
      << std::get<4>(t) << " | " << std::get<5>(t) << "| " << std::get<6>(t) << "| " << std::get<7>(t) << " | "
      << (std::get<8>(t) ? "required" : "optional") << " | " << std::get<9>(t) << " | " << std::get<10>(t);
    return o.str();
}

/// The page an entry comes from: its own source URL, else its document's.
inline std::string page_of(const catalog::Catalog& c, const catalog::Entry& e) {
    return e.source.url.empty() ? c.documents()[e.document].url : e.source.url;
}

/// The catalog's tuples of every entry from a web-page document whose
/// document URL is in `pages`.
inline std::vector<PageTuple> catalog_page_tuples(const catalog::Catalog& c, const std::set<std::string>& pages) {
    std::vector<PageTuple> out;
    for (const catalog::Entry& e : c.entries()) {
        const std::string& doc_url = c.documents()[e.document].url;
        if (doc_url.empty() || !pages.count(doc_url)) continue;
        Strings names, ranges;
        for (const catalog::Destination& d : e.destinations) names.push_back(d.as_written);
        for (const catalog::AddressRange& a : e.addresses) ranges.push_back(a.as_written);
        for (const catalog::PortRange& p : e.ports) {
            out.emplace_back(e.vendor, e.product, std::string(catalog::to_string(e.transport)), p.lo, p.hi,
                             sorted_joined(names), sorted_joined(ranges), condition_text(e), e.required, e.tier,
                             page_of(c, e));
        }
    }
    return out;
}

}  // namespace callwall::test
