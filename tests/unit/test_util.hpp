// Helpers shared by the unit tests.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "bytes/reader.hpp"

namespace callwall::test {

/// Parses a hex string ("0a 0B:ff", whitespace, ':' and '-' ignored) into bytes.
/// Throws on odd length or a non-hex character: fixtures are code, not data.
inline std::vector<uint8_t> hex(std::string_view s) {
    std::vector<uint8_t> out;
    int hi = -1;
    for (char c : s) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else if (c == ' ' || c == '\n' || c == '\t' || c == ':' || c == '-' || c == '\r')
            continue;
        else
            throw std::invalid_argument("hex(): bad character");
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    if (hi >= 0) throw std::invalid_argument("hex(): odd number of digits");
    return out;
}

inline ByteView view(const std::vector<uint8_t>& v) { return ByteView{v.data(), v.size()}; }

/// An Ethernet frame carrying one IPv4 UDP datagram (no UDP checksum), for
/// synthetic exchanges fed to the pipeline.
inline std::vector<uint8_t> udp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                      const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> f(12, 0x02);  // two locally administered MACs
    const auto put16 = [&f](uint32_t v) {
        f.push_back(static_cast<uint8_t>(v >> 8));
        f.push_back(static_cast<uint8_t>(v));
    };
    const auto put32 = [&](uint32_t v) {
        put16(v >> 16);
        put16(v & 0xffff);
    };
    put16(0x0800);
    const size_t ip = f.size();
    put16(0x4500);
    put16(static_cast<uint32_t>(28 + payload.size()));
    put32(0x00010000);  // id 1, no fragment
    put16(0x4011);  // TTL 64, UDP
    put16(0);  // checksum, below
    put32(src);
    put32(dst);
    uint32_t sum = 0;
    for (size_t i = ip; i < ip + 20; i += 2) sum += (uint32_t{f[i]} << 8) | f[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    f[ip + 10] = static_cast<uint8_t>(~sum >> 8);
    f[ip + 11] = static_cast<uint8_t>(~sum);
    put16(sport);
    put16(dport);
    put16(static_cast<uint32_t>(8 + payload.size()));
    put16(0);  // no UDP checksum
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

}  // namespace callwall::test
