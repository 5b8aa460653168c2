// The floor: the cheapest honest way to read a capture with libpcap — every
// packet read and every byte touched, nothing decoded. callwall's speed is
// quoted as a ratio to this. Usage: pcap_floor FILE...
#include <pcap/pcap.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: pcap_floor FILE...\n");
        return 2;
    }
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t packets = 0, bytes = 0, sum = 0;
    for (int i = 1; i < argc; ++i) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t* p = pcap_open_offline(argv[i], err);
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
                static_cast<unsigned long long>(packets), static_cast<unsigned long long>(bytes), s,
                packets / s, static_cast<unsigned long long>(sum));
    return 0;
}
