// PcapSource on compressed captures (gzip, zstd, xz, told by magic), with a
// file BPF filter, and reading the first frame ahead: the frames are exactly
// the plain file's; a cut or damaged compressed stream ends in an error that
// names the codec and the compressed byte offset after a prefix of the
// plain file's frames, never in a crash or a hang.
#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "capture/decompress.hpp"
#include "unit/capture/capture_file.hpp"

namespace callwall::capture {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using test::read_frames;
using test::Seen;

Bytes slurp(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    Bytes b;
    if (!f) return b;
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) b.insert(b.end(), buf, buf + n);
    std::fclose(f);
    return b;
}

std::string spill(const Bytes& b, const std::string& name) {
    const fs::path p = fs::temp_directory_path() / ("callwall-compressed-" + std::to_string(::getpid()) + "-" + name);
    FILE* f = std::fopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (f) {
        std::fwrite(b.data(), 1, b.size(), f);
        std::fclose(f);
    }
    return p.string();
}

Bytes gzip(const Bytes& in) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    Bytes out(deflateBound(&z, in.size()) + 64);
    z.next_in = const_cast<uint8_t*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

Bytes zstd(const Bytes& in) {
    Bytes out(ZSTD_compressBound(in.size()));
    const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

Bytes xz(const Bytes& in) {
    Bytes out(lzma_stream_buffer_bound(in.size()));
    size_t pos = 0;
    EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, in.data(), in.size(), out.data(), &pos, out.size()),
              LZMA_OK);
    out.resize(pos);
    return out;
}

struct Codec {
    const char* name;
    Bytes (*compress)(const Bytes&);
};
constexpr Codec kCodecs[] = {{"gzip", gzip}, {"zstd", zstd}, {"xz", xz}};

Seen read_path(const std::string& path) {
    auto src = PcapSource::open_file(path);
    return read_frames(*src);
}

class Compressed : public ::testing::Test {
protected:
    void SetUp() override {
        plain_path_ = test::write_capture(3000, 0, 7, "callwall-compressed-plain-");
        plain_bytes_ = slurp(plain_path_);
        plain_ = read_path(plain_path_);
        ASSERT_EQ(plain_.bytes.size(), 3000u);
        ASSERT_EQ(plain_.end, NextStatus::End);
    }
    void TearDown() override {
        for (const auto& p : made_) fs::remove(p);
        fs::remove(plain_path_);
    }
    std::string make(const Bytes& b, const std::string& name) {
        made_.push_back(spill(b, name));
        return made_.back();
    }

    std::string plain_path_;
    Bytes plain_bytes_;
    Seen plain_;
    std::vector<std::string> made_;
};

TEST(DetectCompression, ByMagicBytes) {
    const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00}, zs[] = {0x28, 0xb5, 0x2f, 0xfd}, x[] = {0xfd, 0x37, 0x7a, 0x58},
                  pcap[] = {0xd4, 0xc3, 0xb2, 0xa1}, ng[] = {0x0a, 0x0d, 0x0d, 0x0a}, zs_short[] = {0x28, 0xb5, 0x2f};
    EXPECT_EQ(detect_compression(gz, 2), Compression::Gzip);
    EXPECT_EQ(detect_compression(gz, 1), Compression::None);
    EXPECT_EQ(detect_compression(zs, 4), Compression::Zstd);
    EXPECT_EQ(detect_compression(zs_short, 3), Compression::None);
    EXPECT_EQ(detect_compression(x, 4), Compression::Xz);
    EXPECT_EQ(detect_compression(pcap, 4), Compression::None);
    EXPECT_EQ(detect_compression(ng, 4), Compression::None);
    EXPECT_EQ(detect_compression(nullptr, 0), Compression::None);
}

TEST_F(Compressed, EachCodecGivesThePlainFilesFrames) {
    for (const auto& c : kCodecs) {
        SCOPED_TRACE(c.name);
        // Named .pcap: the magic decides, not the name.
        const Seen s = read_path(make(c.compress(plain_bytes_), std::string(c.name) + ".pcap"));
        EXPECT_EQ(s.end, NextStatus::End) << s.error;
        EXPECT_EQ(s.ts, plain_.ts);
        EXPECT_EQ(s.wirelen, plain_.wirelen);
        EXPECT_TRUE(s.bytes == plain_.bytes);
    }
}

// pzstd's output starts with a skippable frame (magic 0x184D2A50, its
// length, then bytes the decoder skips) before the first zstd frame.
TEST_F(Compressed, ZstdStartingWithASkippableFrameIsRead) {
    Bytes skippable = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef};
    const Bytes frame = zstd(plain_bytes_);
    skippable.insert(skippable.end(), frame.begin(), frame.end());
    EXPECT_EQ(detect_compression(skippable.data(), 4), Compression::Zstd);
    skippable[0] = 0x5f;  // any of the 16 skippable magics
    EXPECT_EQ(detect_compression(skippable.data(), 4), Compression::Zstd);
    const Seen s = read_path(make(skippable, "pzstd.pcap.zst"));
    EXPECT_EQ(s.end, NextStatus::End) << s.error;
    EXPECT_EQ(s.ts, plain_.ts);
    EXPECT_TRUE(s.bytes == plain_.bytes);
}

TEST_F(Compressed, ConcatenatedMembersFramesAndStreamsAreReadInTurn) {
    const size_t half = plain_bytes_.size() / 2 + 13;  // not on a record boundary
    const Bytes a(plain_bytes_.begin(), plain_bytes_.begin() + static_cast<long>(half));
    const Bytes b(plain_bytes_.begin() + static_cast<long>(half), plain_bytes_.end());
    for (const auto& c : kCodecs) {
        SCOPED_TRACE(c.name);
        Bytes joined = c.compress(a);
        const Bytes tail = c.compress(b);
        joined.insert(joined.end(), tail.begin(), tail.end());
        const Seen s = read_path(make(joined, std::string(c.name) + "-joined"));
        EXPECT_EQ(s.end, NextStatus::End) << s.error;
        EXPECT_EQ(s.ts, plain_.ts);
        EXPECT_TRUE(s.bytes == plain_.bytes);
    }
}

TEST_F(Compressed, CutStreamEndsInAnErrorNamingCodecAndOffsetAfterAPrefix) {
    for (const auto& c : kCodecs) {
        const Bytes whole = c.compress(plain_bytes_);
        size_t errors = 0;
        for (const size_t keep : {whole.size() - 1, whole.size() * 3 / 4, whole.size() / 2, size_t{20}}) {
            SCOPED_TRACE(std::string(c.name) + " cut to " + std::to_string(keep));
            const std::string path = make(Bytes(whole.begin(), whole.begin() + static_cast<long>(keep)),
                                          std::string(c.name) + "-cut" + std::to_string(keep));
            std::unique_ptr<PcapSource> src;
            try {
                src = PcapSource::open_file(path);
            } catch (const CaptureError& e) {
                // Cut before the capture header was whole: refused at open, saying why.
                EXPECT_EQ(e.kind(), CaptureErrorKind::NotACapture);
                EXPECT_NE(std::string(e.what()).find(std::string(c.name) + ": truncated stream at byte "),
                          std::string::npos)
                    << e.what();
                continue;
            }
            const Seen s = read_frames(*src);
            ASSERT_EQ(s.end, NextStatus::Error) << "a cut stream must not read as a clean end";
            EXPECT_NE(s.error.find(std::string(c.name) + ": truncated stream at byte "), std::string::npos) << s.error;
            EXPECT_NE(s.error.find(" of the compressed file"), std::string::npos) << s.error;
            ASSERT_LE(s.bytes.size(), plain_.bytes.size());
            for (size_t i = 0; i < s.bytes.size(); ++i) ASSERT_EQ(s.bytes[i], plain_.bytes[i]) << "frame " << i;
            ++errors;
        }
        EXPECT_GE(errors, 1u) << c.name;
    }
    // Where gzip has output to give, the frames before the cut are kept.
    const Bytes g = gzip(plain_bytes_);
    const Seen s = read_path(make(Bytes(g.begin(), g.begin() + static_cast<long>(g.size() / 2)), "gzip-half"));
    EXPECT_GT(s.bytes.size(), 100u);
    EXPECT_LT(s.bytes.size(), plain_.bytes.size());
}

TEST_F(Compressed, DamagedStreamsEndWithoutCrashOrHang) {
    for (const auto& c : kCodecs) {
        const Bytes whole = c.compress(plain_bytes_);
        for (uint32_t seed = 1; seed <= 8; ++seed) {
            SCOPED_TRACE(std::string(c.name) + " seed " + std::to_string(seed));
            Bytes bad = whole;
            const size_t at = 12 + (seed * 7919u) % (bad.size() - 24);
            for (size_t k = 0; k < 8 && at + k < bad.size(); ++k) bad[at + k] ^= static_cast<uint8_t>(0x5a + seed);
            const std::string path = make(bad, std::string(c.name) + "-bad" + std::to_string(seed));
            try {
                auto src = PcapSource::open_file(path);
                const Seen s = read_frames(*src);
                EXPECT_NE(s.end, NextStatus::Frame);
                EXPECT_LE(s.bytes.size(), 200000u);
            } catch (const CaptureError& e) {
                EXPECT_NE(e.kind(), CaptureErrorKind::Other) << e.what();
            }
        }
    }
}

TEST_F(Compressed, FileFilterKeepsOnlyMatchingFramesAndABadOneThrows) {
    size_t long_frames = 0;
    for (const auto w : plain_.wirelen) long_frames += w >= 1000;
    ASSERT_GT(long_frames, 0u);
    ASSERT_LT(long_frames, plain_.wirelen.size());
    for (const std::string& path : {plain_path_, make(gzip(plain_bytes_), "filter.gz")}) {
        auto src = PcapSource::open_file(path);
        src->set_filter("greater 1000");  // the frame's length on the wire >= 1000
        const Seen s = read_frames(*src);
        EXPECT_EQ(s.end, NextStatus::End);
        EXPECT_EQ(s.bytes.size(), long_frames);
        for (const auto w : s.wirelen) EXPECT_GE(w, 1000u);
    }
    auto src = PcapSource::open_file(plain_path_);
    try {
        src->set_filter("tcp port");
        ADD_FAILURE() << "a bad expression was accepted";
    } catch (const CaptureError& e) {
        EXPECT_EQ(e.kind(), CaptureErrorKind::Filter);
        EXPECT_NE(std::string(e.what()).find("bad filter 'tcp port'"), std::string::npos) << e.what();
    }
}

TEST_F(Compressed, FirstTimestampReadsAheadWithoutLosingTheFrame) {
    auto src = PcapSource::open_file(make(zstd(plain_bytes_), "first.zst"));
    int64_t ts = 0;
    ASSERT_TRUE(src->first_ts(ts));
    EXPECT_EQ(ts, plain_.ts[0]);
    ASSERT_TRUE(src->first_ts(ts));  // asking again reads nothing more
    EXPECT_EQ(ts, plain_.ts[0]);
    const Seen s = read_frames(*src);
    EXPECT_TRUE(s.bytes == plain_.bytes);
    EXPECT_EQ(src->last_ts(), plain_.ts.back());

    const std::string empty = test::write_capture(0, 0, 8, "callwall-compressed-empty-");
    auto e = PcapSource::open_file(empty);
    EXPECT_FALSE(e->first_ts(ts));
    RawFrame f;
    EXPECT_EQ(e->next(f), NextStatus::End);
    fs::remove(empty);
}

}  // namespace
}  // namespace callwall::capture
