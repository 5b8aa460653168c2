// TCP in-order delivery with bounded out-of-order buffering, and frame
// resynchronisation after a gap (pipeline/tcp_reassembly.hpp).
#include "pipeline/tcp_reassembly.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace callwall::pipeline {
namespace {

ByteView bv(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

// Records delivered bytes as text, a gap as "[gap N]".
struct Recorder final : TcpSink {
    std::string out;
    uint32_t last_end = 0;
    bool seq_ok = true;
    bool started = false;
    std::vector<int64_t> ts;
    void bytes(uint32_t seq, ByteView d, int64_t ts_us) override {
        ts.push_back(ts_us);
        if (started && seq != last_end) seq_ok = false;
        started = true;
        last_end = seq + static_cast<uint32_t>(d.size());
        out.append(reinterpret_cast<const char*>(d.data()), d.size());
    }
    void gap(uint32_t lost) override {
        out += "[gap " + std::to_string(lost) + "]";
        last_end += lost;
    }
};

struct Fixture {
    TcpReassembler r;
    std::unique_ptr<TcpOooStore> store = std::make_unique<TcpOooStore>();
    Recorder rec;
    int64_t now_us = 0;
    void add(uint32_t seq, const std::string& s) {
        now_us += 1000;
        r.add(seq, bv(s), static_cast<uint32_t>(s.size()), now_us, store.get(), rec);
    }
};

TEST(TcpReassembly, InOrderIsDeliveredDirectly) {
    Fixture f;
    f.r.anchor_syn(999);
    f.add(1000, "abc");
    f.add(1003, "def");
    EXPECT_EQ(f.rec.out, "abcdef");
    EXPECT_TRUE(f.store->empty());
    EXPECT_EQ(f.r.stats().gaps, 0u);
}

// A case seen in the field: a segment arrives before the retransmission of
// an earlier one; the hole is filled and nothing after it is lost.
TEST(TcpReassembly, HoleFilledByLaterRetransmission) {
    Fixture f;
    f.r.anchor_syn(999);
    f.add(1000, "abc");
    f.add(1006, "ghi");  // "def" lost
    f.add(1009, "jkl");
    EXPECT_EQ(f.rec.out, "abc");
    f.add(1003, "def");  // retransmission fills the hole
    EXPECT_EQ(f.rec.out, "abcdefghijkl");
    EXPECT_TRUE(f.rec.seq_ok);
    EXPECT_TRUE(f.store->empty());
    EXPECT_EQ(f.r.stats().gaps, 0u);
    EXPECT_EQ(f.r.stats().queued, 2u);
    f.add(1012, "mn");
    EXPECT_EQ(f.rec.out, "abcdefghijklmn");
}

TEST(TcpReassembly, OverlapFirstCopyWins) {
    Fixture f;
    f.r.anchor_syn(99);
    f.add(100, "01");
    f.add(104, "ABCD");  // held: 104-107
    f.add(102, "xxYYYYzz");  // covers the hole (102-103), overlaps the held bytes, extends to 109
    EXPECT_EQ(f.rec.out, "01xxABCDzz");
    EXPECT_GT(f.r.stats().overlap_bytes, 0u);
    f.add(100, "QQQQQQQQQQ");  // a full retransmission that differs: ignored
    EXPECT_EQ(f.rec.out, "01xxABCDzz");
}

TEST(TcpReassembly, OverlappingOutOfOrderPiecesKeepFirstCopy) {
    Fixture f;
    f.r.anchor_syn(0);
    f.add(1, "a");
    f.add(5, "EFG");
    f.add(3, "cdXXXhi");  // 3..9: 5..7 already held
    f.add(2, "b");
    EXPECT_EQ(f.rec.out, "abcdEFGhi");
    EXPECT_TRUE(f.rec.seq_ok);
}

TEST(TcpReassembly, SequenceWrapAround) {
    Fixture f;
    f.r.anchor_syn(0xFFFFFFFDu);
    f.add(0xFFFFFFFEu, "ab");
    f.add(2, "ef");
    f.add(0, "cd");
    EXPECT_EQ(f.rec.out, "abcdef");
}

TEST(TcpReassembly, SegmentBoundGivesUpTheOldestHole) {
    Fixture f;
    f.r.anchor_syn(0);
    f.add(1, "x");
    // A hole at 2, then more single-byte pieces with holes between than the store holds.
    for (uint32_t i = 0; i < kTcpOooSegments + 1; ++i) f.add(3 + 2 * i, "y");
    EXPECT_EQ(f.r.stats().gaps, 1u);
    EXPECT_EQ(f.rec.out.substr(0, 9), "x[gap 1]y");
    EXPECT_TRUE(f.rec.seq_ok);
}

TEST(TcpReassembly, ByteBoundGivesUpTheHole) {
    Fixture f;
    f.r.anchor_syn(0);
    f.add(1, "a");
    const std::string big(kTcpOooBytes / 2, 'B');
    f.add(11, big);
    f.add(11 + static_cast<uint32_t>(big.size()), big);
    EXPECT_EQ(f.rec.out, "a");
    f.add(11 + 2 * static_cast<uint32_t>(big.size()), "C");  // over the byte bound
    EXPECT_EQ(f.r.stats().gaps, 1u);
    EXPECT_EQ(f.rec.out, "a[gap 9]" + big + big + "C");
    f.add(2, "lateretrans");  // too late: already given up
    EXPECT_EQ(f.rec.out, "a[gap 9]" + big + big + "C");
}

TEST(TcpReassembly, HeldBytesKeepTheirArrivalTime) {
    Fixture f;
    f.r.anchor_syn(0);
    f.add(3, "cd");  // t = 1 ms, held
    f.add(1, "ab");  // t = 2 ms, fills the hole
    EXPECT_EQ(f.rec.out, "abcd");
    EXPECT_EQ(f.rec.ts, (std::vector<int64_t>{2000, 1000}));
}

TEST(TcpReassembly, OldHoleIsGivenUp) {
    Fixture f;
    f.r.anchor_syn(0);
    f.add(1, "a");
    f.add(5, "ef");  // held at 2 ms
    f.now_us += kTcpMaxHoleAgeUs;
    f.add(7, "g");  // the hole at 2..4 has been open too long
    EXPECT_EQ(f.rec.out, "a[gap 3]efg");
    EXPECT_EQ(f.r.stats().gaps, 1u);
}

TEST(TcpReassembly, FarSegmentGivesUpAtOnce) {
    Fixture f;
    f.r.anchor_syn(0);
    f.add(1, "a");
    f.add(1 + kTcpMaxHoleSpan + 10, "z");
    EXPECT_EQ(f.rec.out, "a[gap " + std::to_string(kTcpMaxHoleSpan + 9) + "]z");
}

TEST(TcpReassembly, NoStoreGivesUpAtOnce) {
    TcpReassembler r;
    Recorder rec;
    r.anchor_syn(0);
    r.add(1, bv("ab"), 2, 0, nullptr, rec);
    r.add(5, bv("ef"), 2, 0, nullptr, rec);
    r.add(3, bv("cd"), 2, 0, nullptr, rec);
    EXPECT_EQ(rec.out, "ab[gap 2]ef");
}

TEST(TcpReassembly, FlushDeliversHeldBytesPastTheHole) {
    Fixture f;
    f.r.anchor_syn(0);
    f.add(1, "ab");
    f.add(6, "fg");
    f.add(10, "jk");
    f.r.flush(f.store.get(), f.rec);
    EXPECT_EQ(f.rec.out, "ab[gap 3]fg[gap 2]jk");
    EXPECT_TRUE(f.store->empty());
    EXPECT_EQ(f.r.stats().gaps, 2u);
    EXPECT_EQ(f.r.stats().gap_bytes, 5u);
}

TEST(TcpReassembly, SnaplenCutIsAGap) {
    TcpReassembler r;
    Recorder rec;
    r.anchor_syn(0);
    r.add(1, bv("abc"), 10, 0, nullptr, rec);  // 7 bytes not captured
    r.add(11, bv("z"), 1, 0, nullptr, rec);
    EXPECT_EQ(rec.out, "abc[gap 7]z");
}

TEST(TcpReassembly, StoreReusedAfterManyHoles) {
    // Many fill cycles: the store's space must come back (compaction).
    Fixture f;
    f.r.anchor_syn(0);
    uint32_t seq = 1;
    std::string expect;
    for (int round = 0; round < 200; ++round) {
        const std::string a(100, static_cast<char>('a' + round % 26)), b(300, static_cast<char>('A' + round % 26));
        f.add(seq + 100, b);
        f.add(seq, a);
        expect += a + b;
        seq += 400;
    }
    EXPECT_EQ(f.rec.out, expect);
    EXPECT_EQ(f.r.stats().gaps, 0u);
}

// ---- resynchronisation ----

std::vector<uint8_t> stun_binding_request() {
    std::vector<uint8_t> m = {0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42};
    for (int i = 0; i < 12; ++i) m.push_back(static_cast<uint8_t>(i + 1));
    for (uint8_t b : {0x80, 0x28, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef}) m.push_back(b);  // FINGERPRINT-shaped
    return m;
}

std::vector<uint8_t> channel_data(uint16_t ch, size_t n) {
    std::vector<uint8_t> m = {static_cast<uint8_t>(ch >> 8), static_cast<uint8_t>(ch), static_cast<uint8_t>(n >> 8),
                              static_cast<uint8_t>(n)};
    m.push_back(0x80);
    m.push_back(111);
    for (size_t i = 2; i < n; ++i) m.push_back(static_cast<uint8_t>(0x11 * i));
    while (m.size() % 4) m.push_back(0);
    return m;
}

TEST(TcpResync, StunHeaderIsStrong) {
    auto junk = std::vector<uint8_t>{0x12, 0x34, 0x00, 0x21, 0x12};
    auto msg = stun_binding_request();
    junk.insert(junk.end(), msg.begin(), msg.end());
    EXPECT_EQ(find_resync(FrameSync::StunDirect, junk), 5u);
}

TEST(TcpResync, ChannelDataNeedsAChainToTheEnd) {
    auto a = channel_data(0x4001, 100), b = channel_data(0x4001, 60);
    std::vector<uint8_t> chunk = {0xAA, 0x40};  // tail of a frame lost in the gap
    chunk.insert(chunk.end(), a.begin(), a.end());
    chunk.insert(chunk.end(), b.begin(), b.end());
    EXPECT_EQ(find_resync(FrameSync::StunDirect, chunk), 2u);
    // The same frame running past the chunk is not believed.
    std::vector<uint8_t> cut(chunk.begin(), chunk.begin() + 40);
    EXPECT_EQ(find_resync(FrameSync::StunDirect, cut), cut.size());
    // Channel numbers outside 0x4000-0x7FFF are not ChannelData.
    auto bad = channel_data(0x8001, 16);
    EXPECT_EQ(find_resync(FrameSync::StunDirect, bad), bad.size());
}

TEST(TcpResync, Rfc4571) {
    auto stun = stun_binding_request();
    std::vector<uint8_t> chunk = {0x00, 0x01, 0x02};  // junk
    chunk.push_back(static_cast<uint8_t>(stun.size() >> 8));
    chunk.push_back(static_cast<uint8_t>(stun.size()));
    chunk.insert(chunk.end(), stun.begin(), stun.end());
    EXPECT_EQ(find_resync(FrameSync::Rfc4571, chunk), 3u);
    // RTP frames: weak, believed when they chain to the end of the chunk.
    std::vector<uint8_t> rtp = {0x00, 0x0E, 0x80, 0x6F};
    for (int i = 0; i < 12; ++i) rtp.push_back(static_cast<uint8_t>(i));
    std::vector<uint8_t> two = {0x55};
    two.insert(two.end(), rtp.begin(), rtp.end());
    two.insert(two.end(), rtp.begin(), rtp.end());
    EXPECT_EQ(find_resync(FrameSync::Rfc4571, two), 1u);
}

TEST(TcpResync, DnsHeader) {
    // length 29, id 0x1234, RD, 1 question, example.com A.
    std::vector<uint8_t> q = {0x00, 0x1d, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0x00, 7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',
                              3,    'c',  'o',  'm',  0,    0,    1,    0,    1};
    std::vector<uint8_t> chunk = {0x03, 0xc0, 0x0c, 0x00};
    chunk.insert(chunk.end(), q.begin(), q.end());
    EXPECT_EQ(find_resync(FrameSync::Dns, chunk), 4u);
    // Z set, or two questions: not a plausible header.
    auto z = q;
    z[5] |= 0x40;
    EXPECT_EQ(find_resync(FrameSync::Dns, z), z.size());
    auto two = q;
    two[7] = 2;
    EXPECT_EQ(find_resync(FrameSync::Dns, two), two.size());
}

TEST(TcpResync, HostileBytesTerminate) {
    std::vector<uint8_t> zeros(5000, 0), ff(5000, 0xFF), fours(5000, 0x40);
    for (auto k : {FrameSync::StunDirect, FrameSync::Rfc4571, FrameSync::Dns}) {
        (void)find_resync(k, zeros);
        (void)find_resync(k, ff);
        (void)find_resync(k, fours);
        (void)find_resync(k, ByteView());
    }
    SUCCEED();
}

}  // namespace
}  // namespace callwall::pipeline
