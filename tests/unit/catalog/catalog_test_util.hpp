// What the catalog tests share: loading a catalog directory, the TOML
// examples of catalog/README.md, and for the tests that compare the bundled
// catalog with the vendors' own words (seed_tuples_test.cpp,
// vendor_tuples_test.cpp) the canonical text of an entry's list fields and
// condition, the expansion of a port list, and the two-way comparison of
// requirement tuples.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog.hpp"

namespace callwall::test {

/// The catalog loaded from `dir` (owned by the caller), nullptr when it does
/// not load; each diagnostic fails the test.
inline catalog::Catalog* load_catalog_or_fail(const std::filesystem::path& dir) {
    const std::vector<std::filesystem::path> paths = {dir};
    catalog::LoadResult r = catalog::load(paths);
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    return r.ok() ? new catalog::Catalog(std::move(*r.catalog)) : nullptr;
}

/// The text of the first ```toml block of catalog/README.md whose content
/// starts with `starts_with` (fence lines excluded); nullopt when there is
/// none (or no README).
inline std::optional<std::string> readme_toml_block(const std::filesystem::path& catalog_dir,
                                                    std::string_view starts_with = "") {
    std::ifstream in(catalog_dir / "README.md");
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string readme = ss.str();
    const std::string fence = "```toml\n";
    const size_t start = readme.find(fence + std::string(starts_with));
    if (start == std::string::npos) return std::nullopt;
    const size_t end = readme.find("```\n", start + fence.size());
    if (end == std::string::npos) return std::nullopt;
    return readme.substr(start + fence.size(), end - start - fence.size());
}

/// A list in a canonical order, each item followed by a space.
inline std::string sorted_joined(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    std::string s;
    for (const auto& x : v) s += x + " ";
    return s;
}

/// An entry's conditions as the expected tables write them: "feature:X",
/// "sdk>=V", "sdk<V", "config:KEY", joined by "&" ("" for none).
inline std::string condition_text(const catalog::Entry& e) {
    std::vector<std::string> c;
    if (!e.conditions.feature.empty()) c.push_back("feature:" + e.conditions.feature);
    if (e.conditions.sdk_version) {
        if (!e.conditions.sdk_version->min.empty()) c.push_back("sdk>=" + e.conditions.sdk_version->min);
        if (!e.conditions.sdk_version->below.empty()) c.push_back("sdk<" + e.conditions.sdk_version->below);
    }
    if (e.conditions.local_config) c.push_back("config:" + e.conditions.local_config->key);
    std::string s;
    for (const auto& x : c) s += (s.empty() ? "" : "&") + x;
    return s;
}

/// A port list as the vendor writes it ("80 443 5866-6000") as (lo, hi) pairs.
inline std::vector<std::pair<int, int>> port_ranges(const std::string& ports) {
    std::vector<std::pair<int, int>> out;
    std::istringstream in(ports);
    std::string tok;
    while (in >> tok) {
        const size_t dash = tok.find('-');
        const int lo = std::stoi(tok.substr(0, dash));
        const int hi = dash == std::string::npos ? lo : std::stoi(tok.substr(dash + 1));
        out.emplace_back(lo, hi);
    }
    return out;
}

/// Fails for each tuple expected but not in the catalog ("missing from the
/// catalog") and each one in the catalog but not expected (`not_expected`,
/// e.g. "not in the seeds"), shown by `describe`; then compares the counts.
template <class Tuple, class Describe>
void expect_same_tuples(std::vector<Tuple> expected, std::vector<Tuple> actual, Describe describe,
                        std::string_view not_expected) {
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    std::vector<Tuple> missing, invented;
    std::set_difference(expected.begin(), expected.end(), actual.begin(), actual.end(), std::back_inserter(missing));
    std::set_difference(actual.begin(), actual.end(), expected.begin(), expected.end(), std::back_inserter(invented));
    for (const Tuple& t : missing) ADD_FAILURE() << "missing from the catalog: " << describe(t);
    for (const Tuple& t : invented) ADD_FAILURE() << not_expected << ": " << describe(t);
    EXPECT_EQ(expected.size(), actual.size());
}

}  // namespace callwall::test
