// PcapngReader over hand-built blocks: interfaces with different link types
// (what libpcap 1.10 refuses), both byte orders, several sections,
// if_tsresol in powers of 10 and of 2, Simple and obsolete Packet Blocks,
// unknown blocks skipped; and damage: truncated blocks, bad lengths, bad
// trailers, packets on undescribed interfaces. PcapSource hands pcapng files
// and pipes to it.
#include "capture/pcapng_reader.hpp"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "capture/pcap_source.hpp"

namespace callwall::capture {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// Builds blocks in one byte order.
struct Writer {
    bool big = false;
    Bytes out;

    static void put(Bytes& b, uint64_t v, int n, bool big) {
        for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * (big ? n - 1 - i : i))));
    }
    void block(uint32_t type, Bytes body) {
        while (body.size() % 4) body.push_back(0);
        const auto len = static_cast<uint32_t>(body.size() + 12);
        put(out, type, 4, big);
        put(out, len, 4, big);
        out.insert(out.end(), body.begin(), body.end());
        put(out, len, 4, big);
    }
    Bytes opt(uint16_t code, const Bytes& value) const {
        Bytes b;
        put(b, code, 2, big);
        put(b, value.size(), 2, big);
        b.insert(b.end(), value.begin(), value.end());
        while (b.size() % 4) b.push_back(0);
        return b;
    }
    void shb(uint16_t major = 1) {
        Bytes b;
        put(b, 0x1A2B3C4D, 4, big);
        put(b, major, 2, big);
        put(b, 0, 2, big);
        put(b, ~uint64_t{0}, 8, big);
        block(0x0A0D0D0A, b);
    }
    void idb(uint16_t linktype, uint32_t snaplen = 262144, int tsresol = -1, int64_t tsoffset = 0) {
        Bytes b;
        put(b, linktype, 2, big);
        put(b, 0, 2, big);
        put(b, snaplen, 4, big);
        const Bytes name = opt(2, {'e', 't', 'h', '0'});
        b.insert(b.end(), name.begin(), name.end());
        if (tsresol >= 0) {
            const Bytes o = opt(9, {static_cast<uint8_t>(tsresol)});
            b.insert(b.end(), o.begin(), o.end());
        }
        if (tsoffset) {
            Bytes v;
            put(v, static_cast<uint64_t>(tsoffset), 8, big);
            const Bytes o = opt(14, v);
            b.insert(b.end(), o.begin(), o.end());
        }
        put(b, 0, 4, big);  // opt_endofopt
        block(1, b);
    }
    void epb(uint32_t if_id, uint64_t ts, const Bytes& data, uint32_t wirelen = 0) {
        Bytes b;
        put(b, if_id, 4, big);
        put(b, ts >> 32, 4, big);
        put(b, ts & 0xFFFFFFFF, 4, big);
        put(b, data.size(), 4, big);
        put(b, wirelen ? wirelen : data.size(), 4, big);
        b.insert(b.end(), data.begin(), data.end());
        block(6, b);
    }
    void spb(const Bytes& data, uint32_t wirelen) {
        Bytes b;
        put(b, wirelen, 4, big);
        b.insert(b.end(), data.begin(), data.end());
        block(3, b);
    }
};

Bytes frame_bytes(uint8_t seed, size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed * 31 + i);
    return b;
}

struct Got {
    std::vector<RawFrame> frames;
    std::vector<Bytes> data;
    PcapngReader::Status end = PcapngReader::Status::Frame;
    bool opened = false;
    std::string error;
};

// Reads everything from a reader over the bytes.
Got read_with(PcapngReader& r) {
    Got g;
    g.opened = r.open();
    if (g.opened) {
        RawFrame fr;
        // Bounded: a reader that loops would fail the test, not hang it.
        for (int i = 0; i < 100000; ++i) {
            const auto st = r.next(fr);
            if (st != PcapngReader::Status::Frame) {
                g.end = st;
                EXPECT_EQ(r.next(fr), st) << "End/Error is sticky";
                break;
            }
            g.frames.push_back(fr);
            g.data.emplace_back(fr.bytes.begin(), fr.bytes.end());
        }
    }
    g.error = r.error();
    return g;
}

// Reads everything from the bytes through a stdio stream over memory, and
// again in place (how a mapped file is read): both must hand out the same
// frames and end the same way, error text included.
Got read_all(const Bytes& file) {
    Got g;
    FILE* f = fmemopen(const_cast<uint8_t*>(file.data()), file.size(), "rb");
    if (!f) {
        ADD_FAILURE() << "fmemopen";
        return g;
    }
    {
        PcapngReader r(f);
        g = read_with(r);
    }
    std::fclose(f);
    PcapngReader in_place(ByteView{file.data(), file.size()});
    const Got m = read_with(in_place);
    EXPECT_EQ(m.opened, g.opened) << "in place";
    EXPECT_EQ(m.end, g.end) << "in place";
    EXPECT_EQ(m.error, g.error) << "in place";
    EXPECT_EQ(m.data, g.data) << "in place";
    EXPECT_EQ(m.frames.size(), g.frames.size()) << "in place";
    for (size_t i = 0; i < m.frames.size() && i < g.frames.size(); ++i) {
        EXPECT_EQ(m.frames[i].ts_us, g.frames[i].ts_us) << "in place, frame " << i;
        EXPECT_EQ(m.frames[i].linktype, g.frames[i].linktype) << "in place, frame " << i;
        EXPECT_EQ(m.frames[i].caplen, g.frames[i].caplen) << "in place, frame " << i;
        EXPECT_EQ(m.frames[i].wirelen, g.frames[i].wirelen) << "in place, frame " << i;
    }
    return g;
}

constexpr uint64_t kT0 = 1767225600;  // 2026-01-01T00:00:00Z

Writer mixed(bool big) {
    Writer w;
    w.big = big;
    w.shb();
    w.idb(1);  // Ethernet
    w.idb(101);  // raw IP
    w.idb(113);  // Linux SLL
    w.epb(0, kT0 * 1000000 + 1, frame_bytes(1, 60));
    w.epb(1, kT0 * 1000000 + 2, frame_bytes(2, 41));
    w.epb(2, kT0 * 1000000 + 3, frame_bytes(3, 77), 1500);
    w.epb(0, kT0 * 1000000 + 4, frame_bytes(4, 0));
    return w;
}

void expect_mixed(const Got& g) {
    ASSERT_TRUE(g.opened) << g.error;
    ASSERT_EQ(g.frames.size(), 4u) << g.error;
    EXPECT_EQ(g.end, PcapngReader::Status::End) << g.error;
    const uint32_t lt[] = {1, 101, 113, 1};
    const size_t len[] = {60, 41, 77, 0};
    for (size_t i = 0; i < 4; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(g.frames[i].linktype, lt[i]);
        EXPECT_EQ(g.frames[i].ts_us, static_cast<int64_t>(kT0 * 1000000 + i + 1));
        EXPECT_EQ(g.frames[i].caplen, len[i]);
        EXPECT_EQ(g.data[i], frame_bytes(static_cast<uint8_t>(i + 1), len[i]));
    }
    EXPECT_EQ(g.frames[2].wirelen, 1500u);
    EXPECT_EQ(g.frames[1].wirelen, 41u);
}

TEST(PcapngReader, EachFrameCarriesItsOwnInterfacesLinkType) { expect_mixed(read_all(mixed(false).out)); }

TEST(PcapngReader, BigEndianSection) { expect_mixed(read_all(mixed(true).out)); }

TEST(PcapngReader, SeveralSectionsEachWithItsOwnInterfacesAndByteOrder) {
    Writer a = mixed(true);
    Writer b;
    b.shb();
    b.idb(276);  // SLL2: interface 0 of the second section
    b.epb(0, 5, frame_bytes(9, 30));
    a.out.insert(a.out.end(), b.out.begin(), b.out.end());
    const Got g = read_all(a.out);
    ASSERT_EQ(g.frames.size(), 5u) << g.error;
    EXPECT_EQ(g.frames[4].linktype, 276u);
    EXPECT_EQ(g.data[4], frame_bytes(9, 30));
    EXPECT_EQ(g.end, PcapngReader::Status::End);
}

TEST(PcapngReader, PacketOnAnInterfaceOfThePreviousSectionIsDamage) {
    Writer w = mixed(false);
    w.shb();
    w.idb(1);
    w.epb(1, 0, frame_bytes(1, 10));  // only interface 0 exists in this section
    const Got g = read_all(w.out);
    EXPECT_EQ(g.frames.size(), 4u);
    EXPECT_EQ(g.end, PcapngReader::Status::Error);
    EXPECT_NE(g.error.find("interface 1"), std::string::npos) << g.error;
}

TEST(PcapngReader, TsresolPowersOfTenAndTwoAndTsoffset) {
    Writer w;
    w.shb();
    w.idb(1, 262144, 9);  // nanoseconds
    w.idb(1, 262144, 0x80 | 20);  // 2^-20 s
    w.idb(1, 262144, 3, 1000);  // milliseconds, 1000 s offset
    w.idb(1, 262144, 0x80 | 63);  // 2^-63 s: the largest binary resolution
    w.idb(1, 262144, 19);  // 10^-19 s: the largest decimal one
    w.epb(0, kT0 * 1000000000 + 123456789, frame_bytes(1, 4));
    w.epb(1, (kT0 << 20) | (1u << 19), frame_bytes(2, 4));  // + 0.5 s
    w.epb(2, 2500, frame_bytes(3, 4));  // 2.5 s + 1000 s
    w.epb(3, (uint64_t{3} << 62) | 1, frame_bytes(4, 4));  // 1.5 s
    w.epb(4, 12345678901234567890u, frame_bytes(5, 4));  // 1.2345678901234567890 s
    const Got g = read_all(w.out);
    ASSERT_EQ(g.frames.size(), 5u) << g.error;
    EXPECT_EQ(g.frames[0].ts_us, static_cast<int64_t>(kT0 * 1000000 + 123456));
    EXPECT_EQ(g.frames[1].ts_us, static_cast<int64_t>(kT0 * 1000000 + 500000));
    EXPECT_EQ(g.frames[2].ts_us, 1002500000);
    EXPECT_EQ(g.frames[3].ts_us, 1500000);
    EXPECT_EQ(g.frames[4].ts_us, 1234567);
}

TEST(PcapngReader, TsresolBeyond64BitsIsDamage) {
    for (const int res : {20, 0x80 | 64}) {
        Writer w;
        w.shb();
        w.idb(1, 262144, res);
        const Got g = read_all(w.out);
        EXPECT_FALSE(g.opened) << res;
        EXPECT_NE(g.error.find("if_tsresol"), std::string::npos) << g.error;
    }
}

TEST(PcapngReader, UnknownBlocksAreSkipped) {
    Writer w;
    w.shb();
    w.block(0x0BADBEEF, frame_bytes(7, 33));  // before the first interface
    w.idb(1);
    w.block(4, {0, 0, 0, 0});  // Name Resolution Block, empty
    w.epb(0, 1, frame_bytes(1, 20));
    w.block(5, Bytes(20, 0));  // Interface Statistics Block
    w.block(0x40000BAD, {});  // custom block, empty body
    w.epb(0, 2, frame_bytes(2, 20));
    const Got g = read_all(w.out);
    ASSERT_EQ(g.frames.size(), 2u) << g.error;
    EXPECT_EQ(g.data[1], frame_bytes(2, 20));
    EXPECT_EQ(g.end, PcapngReader::Status::End);
}

TEST(PcapngReader, SimpleAndObsoletePacketBlocks) {
    Writer w;
    w.shb();
    w.idb(101, 64);  // snaplen 64
    w.spb(frame_bytes(1, 64), 1000);  // cut to the snaplen
    w.spb(frame_bytes(2, 30), 30);
    Bytes pb;  // obsolete Packet Block: interface 0, drops 0, ts 7, caplen 5, len 9
    for (const uint32_t v : {0u, 0u, 7u, 5u, 9u}) Writer::put(pb, v, 4, false);  // if_id+drops, ts, caplen, len
    pb.insert(pb.end(), {1, 2, 3, 4, 5});
    w.block(2, pb);
    const Got g = read_all(w.out);
    ASSERT_EQ(g.frames.size(), 3u) << g.error;
    EXPECT_EQ(g.frames[0].caplen, 64u);
    EXPECT_EQ(g.frames[0].wirelen, 1000u);
    EXPECT_EQ(g.frames[0].linktype, 101u);
    EXPECT_EQ(g.frames[1].caplen, 30u);
    EXPECT_EQ(g.data[1], frame_bytes(2, 30));
    EXPECT_EQ(g.frames[2].caplen, 5u);
    EXPECT_EQ(g.frames[2].wirelen, 9u);
    EXPECT_EQ(g.frames[2].ts_us, 7);
}

TEST(PcapngReader, SimplePacketBlockShorterThanItsPacketIsDamage) {
    Writer w;
    w.shb();
    w.idb(101, 0);  // no snapshot length
    w.spb(frame_bytes(1, 60), 70);  // 70 bytes on the wire, 60 in the block
    const Got g = read_all(w.out);
    EXPECT_TRUE(g.frames.empty());
    EXPECT_EQ(g.end, PcapngReader::Status::Error);
    EXPECT_NE(g.error.find("too short for 70 bytes"), std::string::npos) << g.error;
}

TEST(PcapngReader, EveryPrefixEndsCleanly) {
    const Bytes full = mixed(false).out;
    for (size_t n = 0; n < full.size(); ++n) {
        SCOPED_TRACE(n);
        const Got g = read_all(Bytes(full.begin(), full.begin() + static_cast<long>(n)));
        EXPECT_LE(g.frames.size(), 4u);
        if (g.opened && g.end == PcapngReader::Status::End) {
            // Only a cut exactly between blocks reads as a clean end.
            EXPECT_TRUE(g.error.empty());
        } else {
            EXPECT_FALSE(g.error.empty());
        }
    }
}

TEST(PcapngReader, TruncatedLastBlockIsDamageAfterTheGoodFrames) {
    Bytes b = mixed(false).out;
    b.resize(b.size() - 6);
    const Got g = read_all(b);
    EXPECT_EQ(g.frames.size(), 3u);
    EXPECT_EQ(g.end, PcapngReader::Status::Error);
    EXPECT_NE(g.error.find("truncated"), std::string::npos) << g.error;
}

// Sets the leading (and optionally trailing) length of the last block.
Bytes with_last_block_length(uint32_t len, bool trailer_too, size_t last_block_size) {
    Bytes b = mixed(false).out;
    const size_t at = b.size() - last_block_size;
    for (int i = 0; i < 4; ++i) b[at + 4 + i] = static_cast<uint8_t>(len >> (8 * i));
    if (trailer_too)
        for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<uint8_t>(len >> (8 * i));
    return b;
}

TEST(PcapngReader, BadBlockLengthsAreDamage) {
    const size_t last = 32;  // the last EPB: 28 bytes of header and trailer, no data
    ASSERT_EQ(mixed(false).out.size() % 4, 0u);
    struct Case {
        uint32_t len;
        bool trailer;
        const char* what;
    } cases[] = {
        {30, true, "bad total length 30"},  // not a multiple of 4
        {8, true, "bad total length 8"},  // shorter than header + trailer
        {0, true, "bad total length 0"},
        {0xFFFFFFFC, true, "bad total length"},  // beyond kMaxBlockBytes: refused before allocating
        {PcapngReader::kMaxBlockBytes + 4, false, "bad total length"},
        {28, false, "trailing length"},  // trailer disagrees
        {36, false, "truncated"},  // promises more than the file has
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.len);
        const Got g = read_all(with_last_block_length(c.len, c.trailer, last));
        EXPECT_EQ(g.frames.size(), 3u);
        EXPECT_EQ(g.end, PcapngReader::Status::Error);
        EXPECT_NE(g.error.find(c.what), std::string::npos) << g.error;
    }
}

TEST(PcapngReader, PacketBlockWithoutRoomForItsFieldsIsDamage) {
    Writer w = mixed(false);
    w.block(6, Bytes(12, 0));  // an EPB needs 20 bytes before its data
    const Got g = read_all(w.out);
    EXPECT_EQ(g.frames.size(), 4u);
    EXPECT_EQ(g.end, PcapngReader::Status::Error);
    EXPECT_NE(g.error.find("too short"), std::string::npos) << g.error;
}

TEST(PcapngReader, CapturedLengthBeyondTheBlockIsDamage) {
    Writer w;
    w.shb();
    w.idb(1);
    w.epb(0, 1, frame_bytes(1, 8));
    w.out[w.out.size() - 4 - 8 - 8] = 200;  // caplen field of the EPB: 8 -> 200
    const Got g = read_all(w.out);
    EXPECT_TRUE(g.frames.empty());
    EXPECT_EQ(g.end, PcapngReader::Status::Error);
    EXPECT_NE(g.error.find("captured length 200"), std::string::npos) << g.error;
}

TEST(PcapngReader, OpenRefusesWhatIsNotAUsablePcapng) {
    {
        Writer w;
        w.shb();
        EXPECT_NE(read_all(w.out).error.find("no Interface Description Block"), std::string::npos);
    }
    {
        Writer w;
        w.shb();
        w.epb(0, 1, frame_bytes(1, 8));
        EXPECT_NE(read_all(w.out).error.find("before any Interface Description Block"), std::string::npos);
    }
    {
        Writer w;
        w.shb(2);
        w.idb(1);
        EXPECT_NE(read_all(w.out).error.find("major version 2"), std::string::npos);
    }
    {
        Writer w;
        w.shb();
        w.idb(1);
        w.out[8] = 0x55;  // byte-order magic
        EXPECT_NE(read_all(w.out).error.find("byte-order magic"), std::string::npos);
    }
    {
        Writer w;
        w.idb(1);
        EXPECT_NE(read_all(w.out).error.find("does not start with a Section Header Block"), std::string::npos);
    }
}

TEST(PcapngReader, InterfaceTableIsBounded) {
    Writer w;
    w.shb();
    for (size_t i = 0; i <= PcapngReader::kMaxInterfaces; ++i) w.idb(1);
    const Got g = read_all(w.out);
    EXPECT_TRUE(g.opened);
    EXPECT_EQ(g.end, PcapngReader::Status::Error);
    EXPECT_NE(g.error.find("interfaces in one section"), std::string::npos) << g.error;
}

TEST(PcapngReader, OptionRunningPastTheBlockIsDamage) {
    Writer w;
    w.shb();
    Bytes body;
    Writer::put(body, 1, 2, false);
    Writer::put(body, 0, 2, false);
    Writer::put(body, 65535, 4, false);
    Writer::put(body, 2, 2, false);  // if_name
    Writer::put(body, 400, 2, false);  // of 400 bytes, in an 8-byte remainder
    Writer::put(body, 0, 4, false);
    w.block(1, body);
    const Got g = read_all(w.out);
    EXPECT_FALSE(g.opened);
    EXPECT_NE(g.error.find("runs past the block"), std::string::npos) << g.error;
}

// Bytes the process has from malloc, in the arena and in mapped chunks.
size_t heap_in_use() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

TEST(PcapngReader, HugeLengthInAShortFileCostsNoHugeBuffer) {
    Writer w;
    w.shb();
    w.idb(1);
    Writer::put(w.out, 6, 4, false);
    Writer::put(w.out, PcapngReader::kMaxBlockBytes, 4, false);  // 16 MiB promised,
    w.out.resize(w.out.size() + 100);  // 100 bytes present
    FILE* f = fmemopen(w.out.data(), w.out.size(), "rb");
    ASSERT_NE(f, nullptr);
    {
        PcapngReader r(f);
        ASSERT_TRUE(r.open()) << r.error();
        const size_t before = heap_in_use();
        RawFrame fr;
        EXPECT_EQ(r.next(fr), PcapngReader::Status::Error);
        EXPECT_NE(std::string(r.error()).find("truncated"), std::string::npos) << r.error();
        EXPECT_LT(heap_in_use() - before, size_t{64} << 10);  // the reader is alive: its buffer counts
    }
    std::fclose(f);
}

TEST(PcapngReader, NothingIsAllocatedPerPacket) {
    Writer w;
    w.shb();
    w.idb(1);
    w.idb(101);
    for (uint32_t i = 0; i < 2000; ++i) w.epb(i % 2, i, frame_bytes(static_cast<uint8_t>(i), 40 + (i * 7) % 1500));
    FILE* f = fmemopen(w.out.data(), w.out.size(), "rb");
    ASSERT_NE(f, nullptr);
    {
        PcapngReader r(f);
        ASSERT_TRUE(r.open()) << r.error();
        RawFrame fr;
        ASSERT_EQ(r.next(fr), PcapngReader::Status::Frame);
        const struct mallinfo2 before = mallinfo2();
        size_t n = 1;
        while (r.next(fr) == PcapngReader::Status::Frame) ++n;
        const struct mallinfo2 after = mallinfo2();
        EXPECT_EQ(n, 2000u);
        EXPECT_EQ(after.uordblks, before.uordblks);
        EXPECT_EQ(after.hblkhd, before.hblkhd);
    }
    std::fclose(f);
}

// ---- through PcapSource ----------------------------------------------------

fs::path write_temp(const std::string& name, const Bytes& b) {
    const fs::path p = fs::temp_directory_path() / ("callwall-pcapng-" + name);
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return p;
}

std::vector<RawFrame> source_frames(PcapSource& src, NextStatus& end) {
    std::vector<RawFrame> out;
    RawFrame fr;
    while ((end = src.next(fr)) == NextStatus::Frame) out.push_back(fr);
    return out;
}

// libpcap 1.10 stops at the second interface ("an interface has a type 101
// different from the type of the first interface") and no frame comes out.
TEST(PcapngSource, FileWithInterfacesOfDifferentLinkTypesIsReadWhole) {
    const fs::path p = write_temp("mixed.pcapng", mixed(false).out);
    auto src = PcapSource::open_file(p.string());
    EXPECT_EQ(src->linktype(), 1u);
    NextStatus end{};
    const auto frames = source_frames(*src, end);
    EXPECT_EQ(end, NextStatus::End) << src->error();
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[1].linktype, 101u);
    EXPECT_EQ(frames[2].linktype, 113u);
    fs::remove(p);
}

TEST(PcapngSource, PipedPcapngIsReadWhole) {
    const fs::path fifo = fs::temp_directory_path() / "callwall-pcapng-fifo";
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const Bytes bytes = mixed(true).out;
    std::thread writer([&] {
        std::ofstream(fifo, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    });
    auto src = PcapSource::open_file(fifo.string());
    NextStatus end{};
    const auto frames = source_frames(*src, end);
    writer.join();
    EXPECT_EQ(end, NextStatus::End) << src->error();
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[3].linktype, 1u);
    fs::remove(fifo);
}

TEST(PcapngSource, DamageIsReportedAsAnErrorAfterTheGoodFrames) {
    Bytes b = mixed(false).out;
    b.resize(b.size() - 2);
    const fs::path p = write_temp("cut.pcapng", b);
    auto src = PcapSource::open_file(p.string());
    NextStatus end{};
    EXPECT_EQ(source_frames(*src, end).size(), 3u);
    EXPECT_EQ(end, NextStatus::Error);
    EXPECT_NE(src->error().find("truncated block"), std::string::npos) << src->error();
    fs::remove(p);
}

// A Wireshark capture on a USB monitor and an Ethernet port: the first
// interface's link type is one callwall does not decode, the second's it does.
TEST(PcapngSource, FirstInterfaceUndecodableTheOthersAreRead) {
    Writer w;
    w.shb();
    w.idb(189);  // LINKTYPE_USB_LINUX
    w.idb(1);
    w.epb(0, 1, frame_bytes(1, 48));
    w.epb(1, 2, frame_bytes(2, 60));
    const fs::path p = write_temp("usb-eth.pcapng", w.out);
    auto src = PcapSource::open_file(p.string());
    EXPECT_EQ(src->linktype(), 1u);
    NextStatus end{};
    const auto frames = source_frames(*src, end);
    EXPECT_EQ(end, NextStatus::End) << src->error();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].linktype, 189u);
    EXPECT_EQ(frames[1].linktype, 1u);
    fs::remove(p);
}

TEST(PcapngSource, NoDecodableInterfaceIsAnUnknownLinkType) {
    Writer w;
    w.shb();
    w.idb(189);
    w.idb(147);  // LINKTYPE_USER0
    w.epb(0, 1, frame_bytes(1, 48));
    const fs::path p = write_temp("usb.pcapng", w.out);
    try {
        (void)PcapSource::open_file(p.string());
        ADD_FAILURE() << "opened";
    } catch (const CaptureError& e) {
        EXPECT_EQ(e.kind(), CaptureErrorKind::UnknownLinkType);
        EXPECT_NE(std::string(e.what()).find("link type 189"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("nor those of its other interfaces"), std::string::npos) << e.what();
    }
    fs::remove(p);
}

TEST(PcapngSource, DamageRightAfterTheInterfacesIsADamagedFileNotAnUnreadableOne) {
    Writer w;
    w.shb();
    w.idb(1);
    w.epb(0, 1, frame_bytes(1, 48));
    w.out.resize(w.out.size() - 8);
    const fs::path p = write_temp("cut-first.pcapng", w.out);
    auto src = PcapSource::open_file(p.string());
    NextStatus end{};
    EXPECT_TRUE(source_frames(*src, end).empty());
    EXPECT_EQ(end, NextStatus::Error);
    EXPECT_NE(src->error().find("truncated"), std::string::npos) << src->error();
    fs::remove(p);
}

TEST(PcapngSource, UnusablePcapngIsNotACapture) {
    Writer w;
    w.shb();
    const fs::path p = write_temp("noidb.pcapng", w.out);
    try {
        (void)PcapSource::open_file(p.string());
        ADD_FAILURE() << "opened";
    } catch (const CaptureError& e) {
        EXPECT_EQ(e.kind(), CaptureErrorKind::NotACapture);
        EXPECT_NE(std::string(e.what()).find("no Interface Description Block"), std::string::npos) << e.what();
    }
    fs::remove(p);
}

}  // namespace
}  // namespace callwall::capture
