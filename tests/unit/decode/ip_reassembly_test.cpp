// IP fragment reassembly: order, IPv4 and IPv6, RFC 5722 overlaps, duplicates,
// timeouts, the bound on datagrams in progress, hostile offsets and lengths,
// and that every fragment is released exactly once.
#include "decode/ip_reassembly.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace callwall::decode {
namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, size_t at, uint32_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}

// An IPv4 fragment: 20-byte header (RFC 791), `data` at byte offset `off`.
Bytes v4_fragment(uint16_t id, uint32_t off, bool more, const Bytes& data, uint8_t proto = kProtoUdp,
                  uint8_t last_src_octet = 53) {
    Bytes b(20);
    b[0] = 0x45;
    put16(b, 2, static_cast<uint32_t>(20 + data.size()));
    put16(b, 4, id);
    put16(b, 6, (more ? 0x2000u : 0u) | (off / 8));
    b[8] = 64;
    b[9] = proto;
    const uint8_t src[4] = {192, 0, 2, last_src_octet}, dst[4] = {10, 1, 0, 10};
    std::copy(src, src + 4, b.begin() + 12);
    std::copy(dst, dst + 4, b.begin() + 16);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

// An IPv6 fragment: 40-byte header, Fragment header (RFC 8200 §4.5), data.
Bytes v6_fragment(uint32_t id, uint32_t off, bool more, const Bytes& data, uint8_t next = kProtoUdp) {
    Bytes b(48);
    b[0] = 0x60;
    put16(b, 4, static_cast<uint32_t>(8 + data.size()));
    b[6] = 44;
    b[7] = 64;
    b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 0x53;  // 2001:db8::53
    b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 0x10;  // 2001:db8::10
    b[40] = next;
    put16(b, 42, off | (more ? 1u : 0u));
    b[44] = static_cast<uint8_t>(id >> 24), b[45] = static_cast<uint8_t>(id >> 16);
    b[46] = static_cast<uint8_t>(id >> 8), b[47] = static_cast<uint8_t>(id);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

// A UDP datagram (header + payload of `n` patterned bytes) from port 53 to 40000.
Bytes udp_datagram(size_t n) {
    Bytes b(8 + n);
    put16(b, 0, 53);
    put16(b, 2, 40000);
    put16(b, 4, static_cast<uint32_t>(8 + n));
    for (size_t i = 0; i < n; ++i) b[8 + i] = static_cast<uint8_t>(i * 7 + 1);
    return b;
}

Bytes slice(const Bytes& b, size_t from, size_t to) {
    return Bytes(b.begin() + from, b.begin() + std::min(to, b.size()));
}

struct Seen {
    bool decoded = false, complete = false;
    uint32_t fragments = 0;
    uint64_t wire_bytes = 0;
    int64_t ts_us = 0;
    uint16_t sport = 0, dport = 0;
    uint8_t proto = 0;
    bool is_fragment = false;
    Bytes payload;
    uint32_t payload_wire_len = 0;
};

// A reassembler whose releases are copied out (their views die with the call).
struct ReassemblyHarness {
    IpReassembler r;
    std::vector<Seen> out;
    ReassemblyHarness() {
        r.set_release_callback([this](const IpReassembler::Released& x) {
            Seen s;
            s.decoded = x.meta != nullptr;
            s.complete = x.complete;
            s.fragments = x.fragments;
            s.wire_bytes = x.wire_bytes;
            s.ts_us = x.ts_us;
            if (x.meta) {
                s.sport = x.meta->sport;
                s.dport = x.meta->dport;
                s.proto = x.meta->proto;
                s.is_fragment = x.meta->is_fragment;
                s.payload.assign(x.meta->payload.begin(), x.meta->payload.end());
                s.payload_wire_len = x.meta->payload_wire_len;
            }
            out.push_back(s);
        });
    }
    bool try_add(const Bytes& ip_packet, int64_t ts_us) {
        PacketMeta m;
        if (!parse_frame(static_cast<uint32_t>(LinkType::Raw), ip_packet, m).ok || !m.is_fragment) return false;
        r.add(m, ts_us);
        return true;
    }
    void add(const Bytes& ip_packet, int64_t ts_us) { ASSERT_TRUE(try_add(ip_packet, ts_us)); }
    [[nodiscard]] uint64_t released_fragments() const {
        uint64_t n = 0;
        for (const auto& s : out) n += s.fragments;
        return n;
    }
};

TEST(IpReassembly, Ipv4InOrder) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(3000);
    h.add(v4_fragment(7, 0, true, slice(d, 0, 1480)), 100);
    h.add(v4_fragment(7, 1480, true, slice(d, 1480, 2960)), 200);
    EXPECT_TRUE(h.out.empty());
    h.add(v4_fragment(7, 2960, false, slice(d, 2960, d.size())), 300);
    ASSERT_EQ(h.out.size(), 1u);
    const Seen& s = h.out[0];
    EXPECT_TRUE(s.decoded);
    EXPECT_TRUE(s.complete);
    EXPECT_FALSE(s.is_fragment);
    EXPECT_EQ(s.fragments, 3u);
    EXPECT_EQ(s.wire_bytes, d.size() + 3 * 20);
    EXPECT_EQ(s.ts_us, 300);
    EXPECT_EQ(s.sport, 53);
    EXPECT_EQ(s.dport, 40000);
    EXPECT_EQ(s.payload, slice(d, 8, d.size()));
    EXPECT_EQ(h.r.in_progress(), 0u);
    EXPECT_EQ(h.r.stats().completed, 1u);
}

TEST(IpReassembly, Ipv4AnyOrder) {
    const Bytes d = udp_datagram(3000);
    const Bytes f[3] = {v4_fragment(8, 0, true, slice(d, 0, 1480)), v4_fragment(8, 1480, true, slice(d, 1480, 2960)),
                        v4_fragment(8, 2960, false, slice(d, 2960, d.size()))};
    for (const auto& order : {std::array<int, 3>{2, 0, 1}, {1, 2, 0}, {2, 1, 0}}) {
        ReassemblyHarness h;
        for (int i : order) h.add(f[i], 10 + i);
        ASSERT_EQ(h.out.size(), 1u);
        EXPECT_TRUE(h.out[0].complete);
        EXPECT_EQ(h.out[0].payload, slice(d, 8, d.size()));
    }
}

TEST(IpReassembly, Ipv6InOrderAndReversed) {
    const Bytes d = udp_datagram(2500);
    const Bytes a = v6_fragment(0xABCD0001, 0, true, slice(d, 0, 1232));
    const Bytes b = v6_fragment(0xABCD0001, 1232, false, slice(d, 1232, d.size()));
    for (bool reversed : {false, true}) {
        ReassemblyHarness h;
        h.add(reversed ? b : a, 1);
        h.add(reversed ? a : b, 2);
        ASSERT_EQ(h.out.size(), 1u);
        EXPECT_TRUE(h.out[0].complete);
        EXPECT_EQ(h.out[0].proto, kProtoUdp);
        EXPECT_EQ(h.out[0].sport, 53);
        EXPECT_EQ(h.out[0].payload, slice(d, 8, d.size()));
        EXPECT_EQ(h.out[0].wire_bytes, a.size() + b.size());
    }
}

TEST(IpReassembly, DatagramsAreKeptApartByKey) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(2000);
    // Same id, other protocol (IPv4 keys on it) and other source.
    h.add(v4_fragment(9, 0, true, slice(d, 0, 1480)), 1);
    h.add(v4_fragment(9, 1480, false, slice(d, 1480, d.size()), kProtoTcp), 2);
    h.add(v4_fragment(9, 1480, false, slice(d, 1480, d.size()), kProtoUdp, 54), 3);
    EXPECT_TRUE(h.out.empty());
    EXPECT_EQ(h.r.in_progress(), 3u);
    h.add(v4_fragment(9, 1480, false, slice(d, 1480, d.size())), 4);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_TRUE(h.out[0].complete);
}

TEST(IpReassembly, Ipv6OverlapDropsTheDatagram) {
    // RFC 5722: the second fragment starts 8 bytes inside the first.
    ReassemblyHarness h;
    const Bytes d = udp_datagram(2500);
    h.add(v6_fragment(5, 0, true, slice(d, 0, 1232)), 1);
    h.add(v6_fragment(5, 1224, false, slice(d, 1224, d.size())), 2);
    EXPECT_TRUE(h.out.empty());  // never completes
    EXPECT_EQ(h.r.stats().overlaps, 1u);
    h.r.flush();
    ASSERT_EQ(h.out.size(), 1u);
    const Seen& s = h.out[0];
    EXPECT_FALSE(s.complete);
    EXPECT_EQ(s.fragments, 2u);
    // What the first fragment alone gives: the ports and its part of the payload.
    ASSERT_TRUE(s.decoded);
    EXPECT_TRUE(s.is_fragment);
    EXPECT_EQ(s.sport, 53);
    EXPECT_EQ(s.payload, slice(d, 8, 1232));
}

TEST(IpReassembly, ExactDuplicateIsIgnored) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(2500);
    const Bytes a = v6_fragment(6, 0, true, slice(d, 0, 1232));
    h.add(a, 1);
    h.add(a, 2);
    h.add(v6_fragment(6, 1232, false, slice(d, 1232, d.size())), 3);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_TRUE(h.out[0].complete);
    EXPECT_EQ(h.out[0].fragments, 3u);
    EXPECT_EQ(h.r.stats().duplicates, 1u);
}

TEST(IpReassembly, Ipv4OverlapLaterDataWins) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(2000);
    h.add(v4_fragment(10, 0, true, slice(d, 0, 1480)), 1);
    h.add(v4_fragment(10, 1472, false, slice(d, 1472, d.size())), 2);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_TRUE(h.out[0].complete);
    EXPECT_EQ(h.out[0].payload, slice(d, 8, d.size()));
}

TEST(IpReassembly, TimeoutReleasesTheFirstFragmentAlone) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(3000);
    h.add(v4_fragment(11, 0, true, slice(d, 0, 1480)), 1'000'000);
    h.add(v4_fragment(11, 1480, true, slice(d, 1480, 2960)), 1'000'100);
    h.r.expire(1'000'000 + IpReassembler::kTimeoutUs);
    EXPECT_TRUE(h.out.empty());
    h.r.expire(1'000'001 + IpReassembler::kTimeoutUs);
    ASSERT_EQ(h.out.size(), 1u);
    const Seen& s = h.out[0];
    EXPECT_FALSE(s.complete);
    EXPECT_TRUE(s.decoded);
    EXPECT_TRUE(s.is_fragment);
    EXPECT_EQ(s.fragments, 2u);
    EXPECT_EQ(s.ts_us, 1'000'100);
    // The contiguous data from offset 0: both fragments.
    EXPECT_EQ(s.payload, slice(d, 8, 2960));
    EXPECT_EQ(h.r.stats().timed_out, 1u);
}

TEST(IpReassembly, ClockGoingBackDoesNotExpireOrExtend) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(2000);
    h.add(v4_fragment(12, 0, true, slice(d, 0, 1480)), 100'000'000);
    h.r.expire(50'000'000);  // a frame from the past: nothing to do
    EXPECT_TRUE(h.out.empty());
    h.r.expire(100'000'001 + IpReassembler::kTimeoutUs);
    EXPECT_EQ(h.out.size(), 1u);
}

TEST(IpReassembly, LaterFragmentsWithoutFirstAreUnattributed) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(3000);
    h.add(v4_fragment(13, 1480, true, slice(d, 1480, 2960)), 1);
    h.add(v4_fragment(13, 2960, false, slice(d, 2960, d.size())), 2);
    h.r.flush();
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_FALSE(h.out[0].decoded);
    EXPECT_EQ(h.out[0].fragments, 2u);
    EXPECT_EQ(h.r.stats().unattributed, 2u);
}

TEST(IpReassembly, BoundOnDatagramsInProgressReleasesTheOldest) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(2000);
    for (uint16_t id = 0; id < IpReassembler::kMaxDatagrams; ++id)
        h.add(v4_fragment(id, 0, true, slice(d, 0, 1480)), id);
    EXPECT_TRUE(h.out.empty());
    EXPECT_EQ(h.r.in_progress(), IpReassembler::kMaxDatagrams);
    h.add(v4_fragment(1000, 0, true, slice(d, 0, 1480)), 100);
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_EQ(h.out[0].ts_us, 0);  // id 0, the oldest
    EXPECT_EQ(h.r.stats().evicted, 1u);
    EXPECT_EQ(h.r.in_progress(), IpReassembler::kMaxDatagrams);
}

TEST(IpReassembly, HostileOffsetsAndLengthsAreRefused) {
    ReassemblyHarness h;
    // Beyond 65535 bytes (ping of death): offset 65528 + 100 bytes.
    h.add(v4_fragment(20, 65528, false, Bytes(100, 1)), 1);
    EXPECT_EQ(h.r.stats().invalid, 1u);
    // A non-last fragment whose length is not a multiple of 8.
    h.add(v4_fragment(21, 0, true, Bytes(1001, 2)), 2);
    EXPECT_EQ(h.r.stats().invalid, 2u);
    // Two different ends.
    h.add(v4_fragment(22, 8, false, Bytes(16, 3)), 3);
    h.add(v4_fragment(22, 8, false, Bytes(24, 3)), 4);
    EXPECT_EQ(h.r.stats().invalid, 3u);
    // Data beyond the known end.
    h.add(v6_fragment(23, 0, false, Bytes(16, 4)), 5);  // atomic fragment: complete at once
    EXPECT_EQ(h.out.size(), 1u);
    h.add(v6_fragment(24, 16, false, Bytes(16, 4)), 6);
    h.add(v6_fragment(24, 64, true, Bytes(16, 4)), 7);
    EXPECT_EQ(h.r.stats().invalid, 4u);
    h.r.flush();
    EXPECT_EQ(h.released_fragments(), h.r.stats().fragments);
    EXPECT_EQ(h.r.in_progress(), 0u);
}

TEST(IpReassembly, UnfinishedDatagramNearTheLimitStillReachesItsFlow) {
    // A first fragment with 40 bytes of options and fragments up to 65512
    // bytes of data, the last one never seen: the rebuilt first fragment must
    // fit its 16-bit total length (60 + 65475), not wrap and fail to decode.
    ReassemblyHarness h;
    const Bytes d = udp_datagram(65512 - 8);
    Bytes first = v4_fragment(40, 0, true, slice(d, 0, 1480));
    first[0] = 0x4F;  // IHL 15
    first.insert(first.begin() + 20, 40, 0x01);  // NOP options
    put16(first, 2, static_cast<uint32_t>(first.size()));
    h.add(first, 1);
    for (uint32_t off = 1480; off < d.size(); off += 1480)
        h.add(v4_fragment(40, off, true, slice(d, off, std::min<size_t>(off + 1480, d.size()))), 2);
    h.r.flush();
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_TRUE(h.out[0].decoded);
    EXPECT_FALSE(h.out[0].complete);
    EXPECT_EQ(h.out[0].payload, slice(d, 8, 65535 - 60));
}

TEST(IpReassembly, SnaplenCutFragmentNeverCompletes) {
    ReassemblyHarness h;
    const Bytes d = udp_datagram(2000);
    Bytes cut = v4_fragment(30, 1480, false, slice(d, 1480, d.size()));
    cut.resize(cut.size() - 100);  // the capture holds less than the header says
    h.add(v4_fragment(30, 0, true, slice(d, 0, 1480)), 1);
    h.add(cut, 2);
    EXPECT_TRUE(h.out.empty());
    EXPECT_EQ(h.r.stats().cut, 1u);
    h.r.flush();
    ASSERT_EQ(h.out.size(), 1u);
    EXPECT_FALSE(h.out[0].complete);
    // The first fragment and what was captured of the second, to the last whole 8-octet block.
    EXPECT_EQ(h.out[0].payload, slice(d, 8, 1904));  // 1480 + 428 captured, to 238 blocks
}

TEST(IpReassembly, RandomFragmentsNeverCrashAndEachIsReleasedOnce) {
    // Hostile mixes: random ids from a small set (collisions), offsets,
    // lengths, flags, versions and times, some going back.
    std::mt19937 rng(22);
    ReassemblyHarness h;
    int64_t ts = 0;
    for (int i = 0; i < 20000; ++i) {
        const uint32_t id = rng() % 80;
        const uint32_t off = (rng() % 4 == 0 ? rng() % 8192 : rng() % 16) * 8;
        const bool more = rng() % 3 != 0;
        Bytes data(rng() % 3 == 0 ? rng() % 2000 : (rng() % 200) * 8, static_cast<uint8_t>(i));
        ts += static_cast<int64_t>(rng() % 2'000'000) - 200'000;
        const Bytes pkt =
            rng() % 2 ? v4_fragment(static_cast<uint16_t>(id), off, more, data) : v6_fragment(id, off, more, data);
        (void)h.try_add(pkt, ts);  // a first fragment shorter than a UDP header does not decode
        if (i % 100 == 0) h.r.expire(ts);
    }
    h.r.flush();
    EXPECT_EQ(h.released_fragments(), h.r.stats().fragments);
    EXPECT_EQ(h.r.in_progress(), 0u);
}

}  // namespace
}  // namespace callwall::decode
