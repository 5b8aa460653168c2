// Replays inputs through a fuzz target without libFuzzer: every file given,
// and every file inside each directory given (recursively). ctest runs each
// target over tests/fuzz/regressions/<target>/ and the bundled captures, so
// a crash found once stays fixed.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
size_t run_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Large inputs are replayed in 64 KiB windows, as the fuzzer's max_len would cut them.
    constexpr size_t kWindow = 64 * 1024;
    size_t runs = 0;
    for (size_t off = 0; off == 0 || off < bytes.size(); off += kWindow) {
        const size_t n = std::min(kWindow, bytes.size() - off);
        LLVMFuzzerTestOneInput(bytes.data() + off, n);
        ++runs;
        if (bytes.empty()) break;
    }
    return runs;
}
}  // namespace

int main(int argc, char** argv) {
    size_t files = 0, runs = 0;
    LLVMFuzzerTestOneInput(nullptr, 0);
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path p(argv[i]);
        if (std::filesystem::is_directory(p)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
                if (!e.is_regular_file() || e.path().filename() == ".gitkeep") continue;
                runs += run_file(e.path());
                ++files;
            }
        } else if (std::filesystem::is_regular_file(p)) {
            runs += run_file(p);
            ++files;
        }
    }
    std::printf("replayed %zu files (%zu inputs)\n", files, runs);
    return 0;
}
