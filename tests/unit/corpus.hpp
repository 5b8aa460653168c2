// Shared by the unit tests that run over the bundled catalog or over every
// committed capture.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "golden/run_util.hpp"

namespace callwall::test {

/// The catalog those paths make. When it does not load, the test that asked
/// fails with the loader's diagnostics and gets an empty catalog.
inline catalog::Catalog load_or_fail(std::span<const std::filesystem::path> paths) {
    auto r = catalog::load(paths);
    if (!r.ok()) {
        for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
        return catalog::Catalog{};
    }
    return std::move(*r.catalog);
}

/// The bundled catalog, loaded once. When it does not load, the test that
/// asked first fails with the loader's diagnostics and gets an empty catalog.
inline const catalog::Catalog& bundled_catalog() {
    static const catalog::Catalog c = [] {
        const std::filesystem::path dir = catalog::bundled_catalog_dir();
        return load_or_fail(std::span<const std::filesystem::path>(&dir, 1));
    }();
    return c;
}

/// The bundled catalog's seed vendors only (the files transcribed from
/// ../shared/seeds: Sendbird, Whereby, Agora 2018 and 2020), loaded once: for
/// tests whose expectations are written for those entries, which the other
/// bundled vendors and editions would only add to.
inline const catalog::Catalog& seed_catalog() {
    static const catalog::Catalog c = [] {
        const std::filesystem::path dir = std::filesystem::path(source_dir()) / "catalog";
        const std::vector<std::filesystem::path> files{dir / "agora_2018.toml", dir / "agora_2020.toml",
                                                       dir / "sendbird_calls.toml", dir / "whereby.toml"};
        return load_or_fail(files);
    }();
    return c;
}

/// The bundled catalog as the source tree holds it, every vendor: for the
/// tests of the catalog itself (the other tests run over the seed vendors:
/// tests/unit/seed_catalog_env.cpp).
inline std::string full_catalog_dir() { return source_dir() + "/catalog"; }
inline const catalog::Catalog& full_bundled_catalog() {
    static const catalog::Catalog c = [] {
        const std::filesystem::path dir = full_catalog_dir();
        return load_or_fail(std::span<const std::filesystem::path>(&dir, 1));
    }();
    return c;
}

/// A directory holding only the seed vendors' files (as seed_catalog()), for
/// commands run as users run them: CALLWALL_CATALOG_DIR=seed_catalog_dir().
/// Made once per test process, removed at its exit.
inline const std::string& seed_catalog_dir() {
    struct Dir {
        std::string path;
        Dir() {
            std::string tmpl = (std::filesystem::temp_directory_path() / "callwall-seeds-XXXXXX").string();
            if (mkdtemp(tmpl.data()) == nullptr) return;
            path = tmpl;
            // Readable by the unprivileged user some tests run callwall as.
            std::filesystem::permissions(path, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                   std::filesystem::perms::group_exec |
                                                   std::filesystem::perms::others_read |
                                                   std::filesystem::perms::others_exec);
            const std::filesystem::path from = std::filesystem::path(source_dir()) / "catalog";
            for (const char* f : {"agora_2018.toml", "agora_2020.toml", "sendbird_calls.toml", "whereby.toml"})
                std::filesystem::copy_file(from / f, std::filesystem::path(path) / f);
        }
        ~Dir() {
            std::error_code ec;
            if (!path.empty()) std::filesystem::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
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

/// True in an AddressSanitizer build (GCC and Clang).
constexpr bool address_sanitizer_build() {
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

/// committed_captures() for the equivalence tests that replay every capture
/// many times (a refresh every few hundred packets). Under AddressSanitizer
/// (ten to twenty times slower on this work) the lab's full calls are left
/// out: each is thousands of refreshes of a long call, minutes under the
/// sanitizers. The lab calls run under them in the ground-truth and
/// kept-flow tests, and here in the release suite. Says so once on standard
/// output when it leaves any out.
inline std::vector<std::filesystem::path> equivalence_captures() {
    auto all = committed_captures();
    if (!address_sanitizer_build()) return all;
    const size_t before = all.size();
    std::erase_if(all, [](const std::filesystem::path& p) {
        return p.generic_string().find("/captures/lab/") != std::string::npos;
    });
    if (all.size() != before)
        std::printf(
            "AddressSanitizer build: %zu of %zu committed captures (the lab's calls run in the release suite)\n",
            all.size(), before);
    return all;
}

}  // namespace callwall::test
