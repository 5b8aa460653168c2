// Raw IP packets built by hand for the tests of the decoders' limits
// (tunnels nested too deep, too many IPv6 extension headers), and a pcap
// file of them: LINKTYPE_RAW, the frame is the IP packet.
#pragma once

#include <cstdint>
#include <vector>

namespace callwall::test::raw_ip {

using Bytes = std::vector<uint8_t>;

inline constexpr uint32_t kLinkRaw = 101;  ///< LINKTYPE_RAW

/// A UDP header, port 12345 to 53, no payload.
inline const Bytes kUdp = {0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};

/// An IPv4 packet 10.0.0.1 -> 10.0.0.2 carrying `payload` as protocol `proto`.
inline Bytes ipv4(uint8_t proto, const Bytes& payload) {
    const size_t len = 20 + payload.size();
    Bytes p = {0x45, 0, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 0, 1, 0, 0, 64, proto, 0, 0};
    for (const uint8_t last : {1, 2}) p.insert(p.end(), {10, 0, 0, last});
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

/// An IPv6 packet 2001:db8::1 -> 2001:db8::2 whose first header is `next`.
inline Bytes ipv6(uint8_t next, const Bytes& payload) {
    Bytes p = {0x60, 0, 0, 0, static_cast<uint8_t>(payload.size() >> 8), static_cast<uint8_t>(payload.size()),
               next, 64};
    for (const uint8_t last : {1, 2}) {
        p.insert(p.end(), {0x20, 0x01, 0x0d, 0xb8});
        p.insert(p.end(), 11, 0);
        p.push_back(last);
    }
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

/// A UDP datagram in IPv4 in GRE (protocol 0x0800), `depth` times over.
inline Bytes gre_nested(int depth) {
    Bytes p = ipv4(17, kUdp);
    for (int i = 0; i < depth; ++i) {
        Bytes gre = {0, 0, 0x08, 0x00};
        gre.insert(gre.end(), p.begin(), p.end());
        p = ipv4(47, gre);
    }
    return p;
}

/// An IPv6 packet with `n` destination-options headers (8 bytes each), then UDP.
inline Bytes ipv6_with_ext_headers(int n) {
    Bytes chain;
    for (int i = 0; i < n; ++i)
        chain.insert(chain.end(), {static_cast<uint8_t>(i == n - 1 ? 17 : 60), 0, 1, 4, 0, 0, 0, 0});
    chain.insert(chain.end(), kUdp.begin(), kUdp.end());
    return ipv6(n > 0 ? 60 : 17, chain);
}

/// A pcap file (microsecond times, LINKTYPE_RAW) of `packets`, one a second from 1 s.
inline Bytes raw_pcap(const std::vector<Bytes>& packets) {
    Bytes f;
    const auto le32 = [&f](uint32_t v) {
        for (int i = 0; i < 4; ++i) f.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    le32(0xa1b2c3d4);
    f.insert(f.end(), {2, 0, 4, 0});  // version 2.4
    le32(0);
    le32(0);
    le32(65535);
    le32(kLinkRaw);
    uint32_t second = 1;
    for (const Bytes& p : packets) {
        le32(second++);
        le32(0);
        le32(static_cast<uint32_t>(p.size()));
        le32(static_cast<uint32_t>(p.size()));
        f.insert(f.end(), p.begin(), p.end());
    }
    return f;
}

}  // namespace callwall::test::raw_ip
