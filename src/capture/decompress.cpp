// Streamed decompression of capture files. See capture/decompress.hpp.
#include "capture/decompress.hpp"

#include <lzma.h>
#include <stdio_ext.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace callwall::capture {

Compression detect_compression(const uint8_t* h, size_t len) noexcept {
    if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b) return Compression::Gzip;
    if (len >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd) return Compression::Zstd;
    // A zstd skippable frame (RFC 8878 §3.1.2, magic 0x184D2A50-0x184D2A5F
    // little-endian) first, as pzstd writes: the decoder skips it.
    if (len >= 4 && (h[0] & 0xf0) == 0x50 && h[1] == 0x2a && h[2] == 0x4d && h[3] == 0x18) return Compression::Zstd;
    // The xz magic is six bytes; its first four are enough to tell it from
    // pcap (a4 b2 c3 d4 / d4 c3 b2 a1, and the nanosecond variants) and pcapng.
    if (len >= 4 && h[0] == 0xfd && h[1] == 0x37 && h[2] == 0x7a && h[3] == 0x58) return Compression::Xz;
    return Compression::None;
}

const char* compression_name(Compression c) noexcept {
    switch (c) {
        case Compression::Gzip: return "gzip";
        case Compression::Zstd: return "zstd";
        case Compression::Xz: return "xz";
        case Compression::None: break;
    }
    return "none";
}

Decompressor::Decompressor(FILE* raw, Compression c) : raw_(raw), kind_(c) {}

Decompressor::~Decompressor() {
    switch (kind_) {
        case Compression::Gzip:
            if (codec_) {
                inflateEnd(static_cast<z_stream*>(codec_));
                delete static_cast<z_stream*>(codec_);
            }
            break;
        case Compression::Zstd: ZSTD_freeDStream(static_cast<ZSTD_DStream*>(codec_)); break;
        case Compression::Xz:
            if (codec_) {
                lzma_end(static_cast<lzma_stream*>(codec_));
                delete static_cast<lzma_stream*>(codec_);
            }
            break;
        case Compression::None: break;
    }
    delete[] in_;
    if (raw_) std::fclose(raw_);
}

bool Decompressor::init() noexcept {
    in_ = new (std::nothrow) uint8_t[kInputBytes];
    if (!in_) return false;
    switch (kind_) {
        case Compression::Gzip: {
            auto* z = new (std::nothrow) z_stream{};
            if (!z) return false;
            // 15 + 16: the gzip wrapper only (RFC 1952), with the largest window.
            if (inflateInit2(z, 15 + 16) != Z_OK) {
                delete z;
                return false;
            }
            codec_ = z;
            return true;
        }
        case Compression::Zstd:
            codec_ = ZSTD_createDStream();
            return codec_ && !ZSTD_isError(ZSTD_initDStream(static_cast<ZSTD_DStream*>(codec_)));
        case Compression::Xz: {
            auto* s = new (std::nothrow) lzma_stream(LZMA_STREAM_INIT);
            if (!s) return false;
            if (lzma_stream_decoder(s, kXzMemLimit, LZMA_CONCATENATED) != LZMA_OK) {
                delete s;
                return false;
            }
            codec_ = s;
            return true;
        }
        case Compression::None: break;
    }
    return false;
}

FILE* Decompressor::wrap(FILE* raw, Compression c, const uint8_t* prefix, size_t prefix_len,
                         const Decompressor** state) {
    auto* d = new (std::nothrow) Decompressor(raw, c);
    if (!d) {
        std::fclose(raw);
        return nullptr;
    }
    if (!d->init() || prefix_len > kInputBytes) {
        delete d;  // closes raw
        return nullptr;
    }
    if (prefix_len) std::memcpy(d->in_, prefix, prefix_len);
    d->in_len_ = prefix_len;
    const cookie_io_functions_t io{&Decompressor::cookie_read, nullptr, nullptr, &Decompressor::cookie_close};
    FILE* f = fopencookie(d, "r", io);
    if (!f) {
        delete d;
        return nullptr;
    }
    // One thread at a time reads it, as the raw stream (see PcapSource::open_file).
    __fsetlocking(f, FSETLOCKING_BYCALLER);
    if (state) *state = d;
    return f;
}

void Decompressor::fail(const char* what) noexcept {
    if (error_[0]) return;  // the first damage is the one to report
    std::snprintf(error_, sizeof error_, "%s: %s at byte %llu of the compressed file", compression_name(kind_), what,
                  static_cast<unsigned long long>(consumed_));
}

ssize_t Decompressor::step(uint8_t* out, size_t n, bool at_eof) noexcept {
    const size_t avail = in_len_ - in_pos_;
    size_t used = 0, produced = 0;
    switch (kind_) {
        case Compression::Gzip: {
            auto* z = static_cast<z_stream*>(codec_);
            if (member_done_ && avail > 0) {  // another gzip member follows (cat a.gz b.gz)
                inflateReset(z);
                member_done_ = false;
            }
            z->next_in = in_ + in_pos_;
            z->avail_in = static_cast<uInt>(avail);
            z->next_out = out;
            z->avail_out = static_cast<uInt>(n > (1u << 30) ? (1u << 30) : n);
            const uInt out_before = z->avail_out;
            const int rc = member_done_ ? Z_STREAM_END : inflate(z, Z_NO_FLUSH);
            used = avail - z->avail_in;
            produced = out_before - z->avail_out;
            in_pos_ += used;
            consumed_ += used;
            if (rc == Z_STREAM_END) {
                member_done_ = true;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                fail(rc == Z_MEM_ERROR ? "out of memory" : z->msg ? z->msg : "corrupt data");
                return -1;
            }
            break;
        }
        case Compression::Zstd: {
            ZSTD_inBuffer ib{in_ + in_pos_, avail, 0};
            ZSTD_outBuffer ob{out, n, 0};
            const size_t rc = ZSTD_decompressStream(static_cast<ZSTD_DStream*>(codec_), &ob, &ib);
            used = ib.pos;
            produced = ob.pos;
            in_pos_ += used;
            consumed_ += used;
            if (ZSTD_isError(rc)) {
                fail(ZSTD_getErrorName(rc));
                return -1;
            }
            // 0: a frame ended and everything decoded was given out.
            if (rc == 0)
                member_done_ = true;
            else if (used > 0 || produced > 0)
                member_done_ = false;
            break;
        }
        case Compression::Xz: {
            auto* s = static_cast<lzma_stream*>(codec_);
            if (member_done_) return 0;  // LZMA_CONCATENATED: STREAM_END only at the very end
            s->next_in = in_ + in_pos_;
            s->avail_in = avail;
            s->next_out = out;
            s->avail_out = n;
            const lzma_ret rc = lzma_code(s, at_eof ? LZMA_FINISH : LZMA_RUN);
            used = avail - s->avail_in;
            produced = n - s->avail_out;
            in_pos_ += used;
            consumed_ += used;
            if (rc == LZMA_STREAM_END) {
                member_done_ = true;
            } else if (rc == LZMA_BUF_ERROR) {
                if (at_eof) {
                    fail("truncated stream");
                    return -1;
                }
            } else if (rc != LZMA_OK) {
                fail(rc == LZMA_MEMLIMIT_ERROR  ? "the dictionary needs more memory than allowed"
                     : rc == LZMA_FORMAT_ERROR  ? "not an xz stream"
                     : rc == LZMA_OPTIONS_ERROR ? "unsupported options"
                     : rc == LZMA_MEM_ERROR     ? "out of memory"
                                                : "corrupt data");
                return -1;
            }
            break;
        }
        case Compression::None: return -1;
    }
    return static_cast<ssize_t>(produced);
}

ssize_t Decompressor::read(char* buf, size_t n) noexcept {
    if (error_[0]) return -1;
    auto* out = reinterpret_cast<uint8_t*>(buf);
    size_t got = 0;
    while (got < n) {
        if (in_pos_ == in_len_ && !raw_eof_) {
            in_pos_ = 0;
            in_len_ = std::fread(in_, 1, kInputBytes, raw_);
            if (in_len_ == 0) {
                if (std::ferror(raw_)) {
                    char why[96];
                    std::snprintf(why, sizeof why, "read error (%s)", std::strerror(errno));
                    fail(why);
                    break;
                }
                raw_eof_ = true;
            }
        }
        const uint64_t before = consumed_;
        const ssize_t r = step(out + got, n - got, raw_eof_);
        if (r < 0) break;
        got += static_cast<size_t>(r);
        if (r > 0) continue;
        if (in_pos_ < in_len_) {
            // Input is waiting and the decoder neither took nor gave anything:
            // it cannot go on (never seen with zlib, zstd or liblzma; a guard).
            if (consumed_ == before && !member_done_) {
                fail("the decoder stopped");
                break;
            }
            continue;
        }
        if (!raw_eof_) continue;  // needs more input
        if (!member_done_) fail("truncated stream");
        break;  // the end of the input
    }
    if (got == 0 && error_[0]) return -1;
    return static_cast<ssize_t>(got);
}

ssize_t Decompressor::cookie_read(void* self, char* buf, size_t n) noexcept {
    return static_cast<Decompressor*>(self)->read(buf, n);
}

int Decompressor::cookie_close(void* self) noexcept {
    auto* d = static_cast<Decompressor*>(self);
    const int rc = d->raw_ ? std::fclose(d->raw_) : 0;
    d->raw_ = nullptr;
    delete d;
    return rc;
}

}  // namespace callwall::capture
