// libFuzzer target: the pcapng block reader over the input as a file (a
// stdio stream over memory); every frame handed out must lie inside the
// reader's block and the reader must end (End or Error) within the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "callwall/capture/pcapng_reader.hpp"

using callwall::capture::PcapngReader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;  // fmemopen refuses an empty buffer
    FILE* f = fmemopen(const_cast<uint8_t*>(data), size, "rb");
    if (!f) return 0;
    {
        PcapngReader r(f);
        if (r.open()) {
            callwall::capture::RawFrame fr;
            // Each frame takes a block of at least 12 bytes of the input.
            for (size_t n = 0; r.next(fr) == PcapngReader::Status::Frame; ++n) {
                if (n > size / 12 || fr.bytes.size() != fr.caplen || fr.caplen > size) __builtin_trap();
                volatile uint8_t sink = fr.caplen ? fr.bytes[fr.caplen - 1] : 0;
                (void)sink;
            }
        }
    }
    std::fclose(f);
    return 0;
}
