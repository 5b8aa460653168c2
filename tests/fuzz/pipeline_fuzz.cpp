// libFuzzer target: the whole pipeline. The input is a sequence of frames
// (2-byte length, 1-byte link-type selector, 1-byte time step, bytes) fed to
// the analyzer with an in-memory database; then attribution and the reports
// run against the bundled catalog.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attrib/attrib.hpp"
#include "attrib/run_attribution.hpp"
#include "catalog/catalog.hpp"
#include "pipeline/analyzer.hpp"
#include "report/report.hpp"
#include "run/store_analyzer.hpp"
#include "store/store.hpp"

namespace {
const callwall::catalog::Catalog& bundled() {
    static const callwall::catalog::Catalog c = [] {
        const std::filesystem::path dir = callwall::catalog::bundled_catalog_dir();
        auto r = callwall::catalog::load(std::span<const std::filesystem::path>(&dir, 1));
        if (!r.ok()) std::abort();
        return std::move(*r.catalog);
    }();
    return c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static constexpr uint32_t kLinkTypes[] = {1, 101, 113, 276, 0};
    auto db = callwall::store::Store::open(":memory:");
    const int64_t run = db->begin_run(callwall::store::RunInfo{"analyze", "fuzz", "fuzz", "", 0});
    {
        callwall::run::StoreAnalyzer wired(db.get(), run);
        callwall::run::StoreAnalyzer& a = wired;
        int64_t ts_us = 1'767'225'600'000'000;
        size_t off = 0;
        while (off + 4 <= size) {
            const size_t len = (size_t{data[off]} << 8 | data[off + 1]) % 2048;
            const uint32_t lt = kLinkTypes[data[off + 2] % 5];
            ts_us += int64_t{data[off + 3]} * 50'000;
            off += 4;
            const size_t n = len < size - off ? len : size - off;
            callwall::decode::RawFrame f{ts_us, lt, static_cast<uint32_t>(n), static_cast<uint32_t>(n),
                                         callwall::ByteView{data + off, n}};
            a.process(f);
            off += n;
        }
        a.finish();
        db->update_run(run, a.totals(), callwall::store::RunStatus::Completed, 1);
        db->flush();
    }
    callwall::attrib::run_attribution(*db, run, bundled());
    return 0;
}
