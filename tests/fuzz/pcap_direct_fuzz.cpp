// libFuzzer target, differential: the input as a classic pcap file (a
// memfd, so it is opened like a file on disk) read by callwall's own reader
// (capture::PcapBlocks, through PcapSource) and by libpcap must give the
// same frames and the same end, error text included. Any difference traps.
// Inputs fit in one block; records across blocks are compared with libpcap
// by DirectRecords.RecordsAcrossBlocksReadAsLibpcapReadsThem.
#include <pcap/pcap.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"

namespace {

// A time as PcapSource gives it for libpcap's (seconds and microseconds
// each clamped: libpcap passes an out-of-range field through).
int64_t to_us(const timeval& tv) {
    const int64_t sec = std::clamp<int64_t>(tv.tv_sec, -253402300799, 253402300799);
    return sec * 1000000 + std::clamp<int64_t>(tv.tv_usec, 0, 999999);
}

struct Frame {
    int64_t ts_us;
    uint32_t caplen, wirelen;
    std::vector<uint8_t> bytes;
    bool operator==(const Frame&) const = default;
};

bool same_as_libpcap(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
    std::unique_ptr<callwall::capture::PcapSource> src;
    try {
        src = callwall::capture::PcapSource::open_file(path);
    } catch (const callwall::capture::CaptureError&) {}
    if (!p || !src) {  // refused by either: callwall also refuses link types it does not decode
        if (p) pcap_close(p);
        return true;
    }
    bool same = true;
    callwall::decode::RawFrame f;
    for (;;) {
        pcap_pkthdr* h = nullptr;
        const u_char* d = nullptr;
        const int rc = pcap_next_ex(p, &h, &d);
        const callwall::capture::NextStatus st = src->next(f);
        if (rc != 1 || st != callwall::capture::NextStatus::Frame) {
            const std::string want = rc == PCAP_ERROR_BREAK ? "end" : pcap_geterr(p);
            const std::string got = st == callwall::capture::NextStatus::End ? "end" : src->error();
            same = rc != 1 && st != callwall::capture::NextStatus::Frame && want == got;
            break;
        }
        const Frame a{to_us(h->ts), h->caplen, h->len, std::vector<uint8_t>(d, d + h->caplen)};
        const Frame b{f.ts_us, f.caplen, f.wirelen, std::vector<uint8_t>(f.bytes.begin(), f.bytes.end())};
        if (!(a == b)) {
            same = false;
            break;
        }
    }
    pcap_close(p);
    return same;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 24 || size > (1u << 20)) return 0;
    // Classic pcap only (either byte order): pcapng is callwall's own reader
    // (see pcapng_fuzz), which differs from libpcap's on purpose.
    uint32_t magic = 0;
    std::memcpy(&magic, data, 4);
    if (magic != 0xa1b2c3d4 && magic != 0xd4c3b2a1 && magic != 0xa1b23c4d && magic != 0x4d3cb2a1) return 0;
    const int fd = memfd_create("callwall-pcap-direct", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (::write(fd, data, size) == static_cast<ssize_t>(size)) {
        const std::string path = "/proc/self/fd/" + std::to_string(fd);
        if (!same_as_libpcap(path)) __builtin_trap();
    }
    ::close(fd);
    return 0;
}
