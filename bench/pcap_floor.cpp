// The floor: the cheapest honest way to read a capture with libpcap — every
// packet read and every byte touched, nothing decoded. callwall's speed is
// quoted as a ratio to this. Usage: pcap_floor [--mapped] FILE...
//
// --mapped hands libpcap the file the way callwall does, through
// capture::MappedFile instead of pcap_open_offline's fopen: the same loop,
// without the kernel's copy into a stdio buffer.
#include <pcap/pcap.h>
#include <stdio_ext.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "capture/mapped_file.hpp"

int main(int argc, char** argv) {
    const bool mapped = argc > 1 && std::strcmp(argv[1], "--mapped") == 0;
    const int first = mapped ? 2 : 1;
    if (argc <= first) {
        std::fprintf(stderr, "usage: pcap_floor [--mapped] FILE...\n");
        return 2;
    }
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t packets = 0, bytes = 0, sum = 0;
    for (int i = first; i < argc; ++i) {
        char err[PCAP_ERRBUF_SIZE];
        std::unique_ptr<callwall::capture::MappedFile> map;
        pcap_t* p = nullptr;
        if (mapped) {
            map = callwall::capture::MappedFile::open(argv[i]);
            FILE* f = map ? map->stream() : nullptr;
            if (!f) {
                std::fprintf(stderr, "pcap_floor: %s: cannot map\n", argv[i]);
                return 3;
            }
            __fsetlocking(f, FSETLOCKING_BYCALLER);
            p = pcap_fopen_offline(f, err);  // owns f
        } else {
            p = pcap_open_offline(argv[i], err);
        }
        if (!p) {
            std::fprintf(stderr, "pcap_floor: %s: %s\n", argv[i], err);
            return 3;
        }
        pcap_pkthdr* h;
        const u_char* d;
        while (pcap_next_ex(p, &h, &d) == 1) {
            ++packets;
            bytes += h->caplen;
            for (uint32_t k = 0; k < h->caplen; k += 64) sum += d[k];  // touch every cache line
        }
        pcap_close(p);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("packets %llu bytes %llu time %.3f s %.0f packets/s (checksum %llu)\n",
                static_cast<unsigned long long>(packets), static_cast<unsigned long long>(bytes), s, packets / s,
                static_cast<unsigned long long>(sum));
    return 0;
}
