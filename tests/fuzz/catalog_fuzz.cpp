// libFuzzer target: any text as a catalog file must load or be rejected with
// diagnostics, never crash; a loaded catalog must survive lookups and renderings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catalog/catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace cat = callwall::catalog;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    cat::LoadResult r = cat::load_string("fuzz.toml", text);
    if (!r.catalog) return 0;
    cat::HostMatches m;
    r.catalog->match_host("a.b.example.agora.io.", m);
    (void)r.catalog->vendor_for_host("x.turn.whereby.com");
    (void)cat::render_json(*r.catalog);
    (void)cat::render_text(*r.catalog);
    (void)cat::render_export(*r.catalog, {});
    return 0;
}
