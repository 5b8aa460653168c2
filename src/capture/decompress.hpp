// Compressed capture files (.gz, .zst, .xz), read as a stream.
//
// A capture compressed with gzip, zstd or xz is recognised by its magic bytes
// (RFC 1952 §2.3.1 1f 8b; zstd frame magic 28 b5 2f fd, RFC 8878 §3.1.1; xz
// stream header fd 37 7a 58 5a 00, the .xz file format §2.1.1.1), whatever the
// file is called. wrap() returns a stdio stream (fopencookie) that yields the
// decompressed bytes, which PcapSource hands to libpcap or to PcapngReader
// as it would a pipe.
//
// Memory is bounded: one input buffer of kInputBytes and the codec's own state
// (zlib's 32 KiB window; zstd's window, at most 2^27 bytes by zstd's default
// limit; xz's dictionary, at most kXzMemLimit). Nothing is inflated into RAM
// beyond what the reader asks for.
//
// Hostile input: a corrupt or truncated stream ends the decompressed stream
// with a read error after every byte decoded before the damage; error() then
// says what went wrong and at which byte of the compressed file, and
// PcapSource reports the file as damaged from there (the run keeps what was
// read). Concatenated gzip members, zstd frames and xz streams are read in turn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace callwall::capture {

enum class Compression { None, Gzip, Zstd, Xz };

/// The compression whose magic starts `head` (None for anything else).
[[nodiscard]] Compression detect_compression(const uint8_t* head, size_t len) noexcept;
/// "gzip", "zstd", "xz" (or "none").
[[nodiscard]] const char* compression_name(Compression c) noexcept;

class Decompressor {
public:
    static constexpr size_t kInputBytes = size_t{64} << 10;
    /// xz's decoder is refused a dictionary that needs more than this
    /// (xz -9 needs 65 MiB; 256 MiB leaves room without letting a hostile
    /// header claim gigabytes).
    static constexpr uint64_t kXzMemLimit = uint64_t{256} << 20;

    /// A stream of `raw`'s decompressed bytes; `raw` is owned and closed with
    /// the returned stream. `prefix` holds bytes already read from `raw` (a
    /// pipe's magic); they are decompressed first. `*state` is set to the
    /// decompressor, valid until the returned stream is closed. nullptr (and
    /// `raw` closed) when the codec cannot be set up.
    static FILE* wrap(FILE* raw, Compression c, const uint8_t* prefix, size_t prefix_len, const Decompressor** state);

    /// "" while the stream is intact; else one line saying what and where.
    [[nodiscard]] const char* error() const noexcept { return error_; }
    /// Compressed bytes consumed so far.
    [[nodiscard]] uint64_t consumed() const noexcept { return consumed_; }

    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

private:
    Decompressor(FILE* raw, Compression c);
    bool init() noexcept;
    ssize_t read(char* out, size_t n) noexcept;
    /// Decodes into out[0..n) from the input buffer; returns bytes produced,
    /// -1 on a corrupt stream (error_ set). `at_eof`: no more input will come.
    ssize_t step(uint8_t* out, size_t n, bool at_eof) noexcept;
    void fail(const char* what) noexcept;
    static ssize_t cookie_read(void* self, char* buf, size_t n) noexcept;
    static int cookie_close(void* self) noexcept;

    FILE* raw_;
    Compression kind_;
    void* codec_ = nullptr;  ///< z_stream*, ZSTD_DStream* or lzma_stream*
    uint8_t* in_ = nullptr;  ///< kInputBytes
    size_t in_pos_ = 0, in_len_ = 0;
    uint64_t consumed_ = 0;
    bool raw_eof_ = false;
    bool member_done_ = false;  ///< gzip/xz: a member ended; more input starts another
    char error_[192] = {};  ///< no allocation when the stream breaks mid-read
};

}  // namespace callwall::capture
