// The test process and every command it starts run over the seed vendors'
// catalog (Sendbird, Whereby and Agora 2018/2020, the files transcribed from
// ../shared/seeds): the tests' expected verdicts, filters, plans and messages
// are written for those entries, which the other bundled vendors and editions
// would only add to. The catalog's own tests load every bundled vendor
// (full_bundled_catalog(), full_catalog_dir()). Set before main() runs; an
// CALLWALL_CATALOG_DIR already in the environment is kept.
#include <cstdlib>

#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

const bool seed_catalog_set = [] {
    const std::string& dir = seed_catalog_dir();
    if (!dir.empty()) setenv("CALLWALL_CATALOG_DIR", dir.c_str(), 0);
    return true;
}();

}  // namespace
}  // namespace callwall::test
