// Shared by the unit tests that run over the bundled catalog or over every
// committed capture.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "callwall/catalog/catalog.hpp"
#include "golden/run_util.hpp"

namespace callwall::test {

/// The bundled catalog, loaded once. When it does not load, the test that
/// asked first fails with the loader's diagnostics and gets an empty catalog.
inline const catalog::Catalog& bundled_catalog() {
    static const catalog::Catalog c = [] {
        const std::filesystem::path dir = catalog::bundled_catalog_dir();
        auto r = catalog::load(std::span<const std::filesystem::path>(&dir, 1));
        if (!r.ok()) {
            for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
            return catalog::Catalog{};
        }
        return std::move(*r.catalog);
    }();
    return c;
}

/// Every committed capture (.pcap, .pcapng) under captures/, sorted; empty
/// when the source tree's captures are not there.
inline std::vector<std::filesystem::path> committed_captures() {
    std::vector<std::filesystem::path> out;
    const std::filesystem::path root = source_dir() + "/captures";
    if (!std::filesystem::exists(root)) return out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace callwall::test
