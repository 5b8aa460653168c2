// libFuzzer target: the pcapng block reader over the input, as a file (a
// stdio stream over memory) and in place (as a mapped file is read). Every
// frame handed out must lie inside the reader's block, the reader must end
// (End or Error) within the input, and the two must hand out the same frames
// and end the same way, error text included: any difference traps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "capture/pcapng_reader.hpp"

using callwall::capture::PcapngReader;

namespace {

struct Reading {
    bool opened = false;
    std::vector<std::vector<uint8_t>> frames;
    std::vector<int64_t> times;
    PcapngReader::Status end = PcapngReader::Status::Frame;
    std::string error;
    bool operator==(const Reading&) const = default;
};

Reading read_all(PcapngReader& r, size_t size) {
    Reading out;
    out.opened = r.open();
    if (out.opened) {
        callwall::decode::RawFrame fr;
        // Each frame takes a block of at least 12 bytes of the input.
        for (size_t n = 0; (out.end = r.next(fr)) == PcapngReader::Status::Frame; ++n) {
            if (n > size / 12 || fr.bytes.size() != fr.caplen || fr.caplen > size) __builtin_trap();
            out.frames.emplace_back(fr.bytes.begin(), fr.bytes.end());
            out.times.push_back(fr.ts_us);
        }
    }
    out.error = r.error();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;  // fmemopen refuses an empty buffer
    FILE* f = fmemopen(const_cast<uint8_t*>(data), size, "rb");
    if (!f) return 0;
    Reading streamed;
    {
        PcapngReader r(f);
        streamed = read_all(r, size);
    }
    std::fclose(f);
    PcapngReader in_place(callwall::ByteView{data, size});
    if (!(read_all(in_place, size) == streamed)) __builtin_trap();
    return 0;
}
