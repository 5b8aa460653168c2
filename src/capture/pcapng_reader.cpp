// pcapng block reader. See capture/pcapng_reader.hpp.
#include "capture/pcapng_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <new>

#include "capture/prefetch_ahead.hpp"

namespace callwall::capture {
namespace {

// Every block (§3.1):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                          Block Type                           |
//   +---------------------------------------------------------------+
//   |                      Block Total Length                       |
//   +---------------------------------------------------------------+
//   /                          Block Body                           /
//   /          variable length, padded to 32 bits                   /
//   +---------------------------------------------------------------+
//   |                      Block Total Length                       |
//   +---------------------------------------------------------------+
constexpr uint32_t kIdbType = 0x00000001;
constexpr uint32_t kPbType = 0x00000002;  // obsolete Packet Block (Appendix A)
constexpr uint32_t kSpbType = 0x00000003;
constexpr uint32_t kEpbType = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr size_t kHeader = 8;  // type + total length
constexpr size_t kTrailer = 4;  // total length again
constexpr size_t kMinShb = 28;  // header, byte-order magic, versions, section length, trailer
constexpr uint16_t kOptEnd = 0, kOptTsresol = 9, kOptTsoffset = 14;
// The first buffer: a full-size Ethernet frame in an EPB with room for options.
// kMaxBlockBytes is this doubled 12 times.
constexpr size_t kInitialBuffer = 4096;

uint32_t le32(const uint8_t* p) noexcept {
    return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint32_t be32(const uint8_t* p) noexcept {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
}  // namespace

PcapngReader::PcapngReader(FILE* file, const uint8_t* prefix, size_t prefix_len) : file_(file) {
    prefix_len_ = std::min(prefix_len, sizeof prefix_);
    if (prefix_len_) std::memcpy(prefix_, prefix, prefix_len_);
    buf_.resize(kInitialBuffer);
    ifaces_.reserve(8);
}

PcapngReader::PcapngReader(ByteView file) : file_(nullptr), map_(file) { ifaces_.reserve(8); }

bool PcapngReader::fail(const char* fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(error_, sizeof error_, fmt, ap);
    va_end(ap);
    done_ = Status::Error;
    return false;
}

size_t PcapngReader::read_bytes(uint8_t* dst, size_t n) noexcept {
    size_t got = 0;
    while (got < n && prefix_pos_ < prefix_len_) dst[got++] = prefix_[prefix_pos_++];
    if (got < n) got += std::fread(dst + got, 1, n - got, file_);
    offset_ += got;
    return got;
}

uint16_t PcapngReader::u16(size_t off) const noexcept {
    if (off > block_len_ || block_len_ - off < 2) return 0;
    const uint8_t* p = block_ + off;
    return big_endian_ ? static_cast<uint16_t>((p[0] << 8) | p[1]) : static_cast<uint16_t>(p[0] | (p[1] << 8));
}

uint32_t PcapngReader::u32(size_t off) const noexcept {
    if (off > block_len_ || block_len_ - off < 4) return 0;
    return big_endian_ ? be32(block_ + off) : le32(block_ + off);
}

// A block's total length from its first bytes (12 of a Section Header
// Block, 8 of any other), checked; false after fail(). A new section may
// change the byte order: its byte-order magic decides how its length (and
// everything after) is read.
bool PcapngReader::block_length(const uint8_t* head, uint32_t type, uint32_t& len) noexcept {
    if (type == kShbType) {
        if (le32(head + 8) == kByteOrderMagic)
            big_endian_ = false;
        else if (be32(head + 8) == kByteOrderMagic)
            big_endian_ = true;
        else
            return fail("Section Header Block at offset %llu has a bad byte-order magic 0x%08x",
                        static_cast<unsigned long long>(block_offset_), le32(head + 8));
    }
    len = big_endian_ ? be32(head + 4) : le32(head + 4);
    const size_t min_len = type == kShbType ? kMinShb : kHeader + kTrailer;
    if (len < min_len || len % 4 != 0 || len > kMaxBlockBytes)
        return fail("block of type 0x%08x at offset %llu has a bad total length %u (needs %zu..%u, a multiple of 4)",
                    type, static_cast<unsigned long long>(block_offset_), len, min_len, kMaxBlockBytes);
    return true;
}

// A block cut short: `present` of its `len` bytes are there (the rest of
// the file or stream).
PcapngReader::Block PcapngReader::truncated(uint32_t type, uint32_t len, size_t present) noexcept {
    fail("truncated block of type 0x%08x at offset %llu: %u bytes promised, %zu present", type,
         static_cast<unsigned long long>(block_offset_), len, present);
    return Block::Error;
}

// The current block is `block` (in buf_ or in the map), once its trailing
// length equals the leading one.
PcapngReader::Block PcapngReader::use_block(const uint8_t* block, uint32_t type, uint32_t len) noexcept {
    block_ = block;
    block_type_ = type;
    block_len_ = len;
    if (u32(len - kTrailer) != len)
        return fail("block of type 0x%08x at offset %llu: trailing length %u differs from the leading %u", type,
                    static_cast<unsigned long long>(block_offset_), u32(len - kTrailer), len),
               Block::Error;
    return Block::Read;
}

PcapngReader::Block PcapngReader::read_block() noexcept {
    if (!file_) return read_mapped_block();
    block_offset_ = offset_;
    uint8_t head[12];
    const size_t got = read_bytes(head, kHeader);
    if (got == 0 && !std::ferror(file_)) return Block::End;
    if (got < kHeader) {
        if (std::ferror(file_))
            return fail("read error at offset %llu: %s", static_cast<unsigned long long>(offset_),
                        std::strerror(errno)),
                   Block::Error;
        return fail("truncated block header at offset %llu (%zu of 8 bytes)",
                    static_cast<unsigned long long>(block_offset_), got),
               Block::Error;
    }
    size_t have = kHeader;
    uint32_t type = big_endian_ ? be32(head) : le32(head);
    if (type == kShbType) {
        if (read_bytes(head + kHeader, 4) < 4)
            return fail("truncated Section Header Block at offset %llu",
                        static_cast<unsigned long long>(block_offset_)),
                   Block::Error;
        have = 12;
    }
    uint32_t len = 0;
    if (!block_length(head, type, len)) return Block::Error;
    // The buffer grows (doubling) only as the block's bytes actually arrive,
    // so a length that promises 16 MiB in a short file or pipe costs no more
    // memory than the bytes that are there.
    std::memcpy(buf_.data(), head, have);
    while (have < len) {
        if (buf_.size() <= have) {
            try {
                buf_.resize(std::min<size_t>(buf_.size() * 2, kMaxBlockBytes));
            } catch (const std::bad_alloc&) {
                return fail("no memory for a block of %u bytes at offset %llu", len,
                            static_cast<unsigned long long>(block_offset_)),
                       Block::Error;
            }
        }
        const size_t want = std::min<size_t>(len, buf_.size()) - have;
        const size_t got_now = read_bytes(buf_.data() + have, want);
        have += got_now;
        if (got_now < want) {
            if (std::ferror(file_))
                return fail("read error at offset %llu: %s", static_cast<unsigned long long>(offset_),
                            std::strerror(errno)),
                       Block::Error;
            return truncated(type, len, have);
        }
    }
    return use_block(buf_.data(), type, len);
}

// read_block() for a file in memory: the same checks, in the same order and
// words (a stream's "present" bytes are all that is left of the file); the
// block is used where it lies.
PcapngReader::Block PcapngReader::read_mapped_block() noexcept {
    block_offset_ = offset_;
    const uint64_t left = map_.size() - offset_;
    if (left == 0) return Block::End;
    const uint8_t* head = map_.data() + offset_;
    if (left < kHeader) {
        offset_ += left;
        return fail("truncated block header at offset %llu (%zu of 8 bytes)",
                    static_cast<unsigned long long>(block_offset_), static_cast<size_t>(left)),
               Block::Error;
    }
    const uint32_t type = big_endian_ ? be32(head) : le32(head);
    if (type == kShbType && left < 12)
        return fail("truncated Section Header Block at offset %llu", static_cast<unsigned long long>(block_offset_)),
               Block::Error;
    uint32_t len = 0;
    if (!block_length(head, type, len)) return Block::Error;
    if (left < len) return truncated(type, len, static_cast<size_t>(left));
    offset_ += len;
    prefetch_ahead(map_.data(), map_.size(), offset_, prefetched_);
    return use_block(head, type, len);
}

// Section Header Block (§4.1): byte-order magic, major (1) and minor version,
// section length (-1 = not given; not used), options.
bool PcapngReader::section_header() noexcept {
    const uint16_t major = u16(12);
    if (major != 1)
        return fail("Section Header Block at offset %llu has major version %u, only 1 is defined",
                    static_cast<unsigned long long>(block_offset_), major);
    ifaces_.clear();  // each section has its own interfaces, numbered from 0
    return true;
}

// Interface Description Block (§4.2):
//   +---------------------------------------------------------------+
//   |           LinkType            |           Reserved            |
//   +---------------------------------------------------------------+
//   |                            SnapLen                            |
//   +---------------------------------------------------------------+
//   /                      Options (variable)                       /
bool PcapngReader::interface_description() noexcept {
    const size_t body_end = block_len_ - kTrailer;
    if (body_end < kHeader + 8)
        return fail("Interface Description Block at offset %llu is too short (%u bytes)",
                    static_cast<unsigned long long>(block_offset_), block_len_);
    if (ifaces_.size() >= kMaxInterfaces)
        return fail("more than %zu interfaces in one section (block at offset %llu)", kMaxInterfaces,
                    static_cast<unsigned long long>(block_offset_));
    Interface i;
    i.linktype = u16(8);
    i.snaplen = u32(12);
    // Options: code (16 bits), length (16 bits), value padded to 32 bits.
    size_t off = kHeader + 8;
    while (body_end - off >= 4) {
        const uint16_t code = u16(off), len = u16(off + 2);
        off += 4;
        if (code == kOptEnd) break;
        if (len > body_end - off)
            return fail("Interface Description Block at offset %llu: option %u of %u bytes runs past the block",
                        static_cast<unsigned long long>(block_offset_), code, len);
        if (code == kOptTsresol && len >= 1) {
            // High bit clear: 10^-v seconds; set: 2^-(v & 0x7f) seconds.
            const uint8_t v = block_[off];
            const unsigned exp = v & 0x7Fu;
            if (v & 0x80u) {
                if (exp > 63)
                    return fail("interface at offset %llu: if_tsresol 2^-%u does not fit 64 bits",
                                static_cast<unsigned long long>(block_offset_), exp);
                i.units_per_s = uint64_t{1} << exp;
            } else {
                if (exp > 19)
                    return fail("interface at offset %llu: if_tsresol 10^-%u does not fit 64 bits",
                                static_cast<unsigned long long>(block_offset_), exp);
                i.units_per_s = 1;
                for (unsigned k = 0; k < exp; ++k) i.units_per_s *= 10;
            }
        } else if (code == kOptTsoffset && len >= 8) {
            const uint64_t lo = u32(off), hi = u32(off + 4);
            i.offset_s = static_cast<int64_t>(big_endian_ ? (lo << 32 | hi) : (hi << 32 | lo));
        }
        off += std::min<size_t>((size_t{len} + 3) & ~size_t{3}, body_end - off);
    }
    try {
        ifaces_.push_back(i);  // within the reserved capacity unless a section has many interfaces
    } catch (const std::bad_alloc&) {
        return fail("no memory for interface %zu", ifaces_.size());
    }
    return true;
}

int64_t PcapngReader::to_us(uint64_t t, const Interface& i) const noexcept {
    const uint64_t sec = t / i.units_per_s;
    const uint64_t frac = t % i.units_per_s;
    const auto us = static_cast<int64_t>(static_cast<unsigned __int128>(frac) * 1000000 / i.units_per_s);
    __int128 s = static_cast<__int128>(sec) + i.offset_s;
    s = std::clamp<__int128>(s, -kMaxFrameTsSeconds, kMaxFrameTsSeconds);
    return static_cast<int64_t>(s) * 1000000 + us;
}

// Enhanced Packet Block (§4.3): interface id, timestamp (high, low), captured
// length, original length, data padded to 32 bits, options.
// Simple Packet Block (§4.4): original length, data; interface 0, no time.
// Packet Block (obsolete, Appendix A): interface id (16), drops (16), then as
// the EPB.
int PcapngReader::packet(RawFrame& frame) noexcept {
    const size_t body_end = block_len_ - kTrailer;
    uint32_t if_id = 0, caplen = 0, wirelen = 0;
    uint64_t t = 0;
    size_t data_off = 0;
    switch (block_type_) {
        case kEpbType:
        case kPbType:
            if (body_end < kHeader + 20)
                return fail("packet block at offset %llu is too short (%u bytes)",
                            static_cast<unsigned long long>(block_offset_), block_len_),
                       -1;
            if_id = block_type_ == kEpbType ? u32(8) : u16(8);
            t = uint64_t{u32(12)} << 32 | u32(16);
            caplen = u32(20);
            wirelen = u32(24);
            data_off = kHeader + 20;
            if (caplen > body_end - data_off)
                return fail("packet block at offset %llu: captured length %u runs past the block",
                            static_cast<unsigned long long>(block_offset_), caplen),
                       -1;
            break;
        case kSpbType:
            if (body_end < kHeader + 4)
                return fail("Simple Packet Block at offset %llu is too short (%u bytes)",
                            static_cast<unsigned long long>(block_offset_), block_len_),
                       -1;
            wirelen = u32(8);
            data_off = kHeader + 4;
            // No captured length: it is the original length cut to interface
            // 0's snapshot length (0: none), and the block must hold that much.
            caplen = wirelen;
            if (!ifaces_.empty() && ifaces_[0].snaplen != 0) caplen = std::min(caplen, ifaces_[0].snaplen);
            if (caplen > body_end - data_off)
                return fail("Simple Packet Block at offset %llu is too short for %u bytes of packet data",
                            static_cast<unsigned long long>(block_offset_), caplen),
                       -1;
            break;
        default: return 0;
    }
    if (if_id >= ifaces_.size())
        return fail("packet block at offset %llu is on interface %u, but the section describes %zu",
                    static_cast<unsigned long long>(block_offset_), if_id, ifaces_.size()),
               -1;
    const Interface& i = ifaces_[if_id];
    frame.ts_us = to_us(t, i);
    frame.linktype = i.linktype;
    frame.interface = static_cast<uint16_t>(std::min<uint32_t>(if_id, UINT16_MAX));
    frame.caplen = caplen;
    frame.wirelen = wirelen;
    frame.bytes = ByteView{block_ + data_off, caplen};
    return 1;
}

bool PcapngReader::open() noexcept {
    const Block b = read_block();
    if (b == Block::End) return fail("empty file");
    if (b == Block::Error) return false;
    if (block_type_ != kShbType) return fail("does not start with a Section Header Block");
    if (!section_header()) return false;
    // Every interface described before the first packet is known once this
    // returns (a file whose first interface has a link type callwall does not
    // decode may have others it does). The first packet block stays in the
    // buffer for next(). Damage found after an interface was described is
    // reported by next(), as damage after the file header.
    for (;;) {
        switch (read_block()) {
            case Block::End:
                if (ifaces_.empty()) return fail("the capture has no Interface Description Block");
                done_ = Status::End;
                return true;
            case Block::Error: return !ifaces_.empty();
            case Block::Read: break;
        }
        switch (block_type_) {
            case kShbType:
                if (!section_header()) return false;
                continue;
            case kIdbType:
                if (!interface_description()) return !ifaces_.empty();
                continue;
            case kEpbType:
            case kSpbType:
            case kPbType:
                if (ifaces_.empty())
                    return fail("a packet block at offset %llu comes before any Interface Description Block",
                                static_cast<unsigned long long>(block_offset_));
                pending_ = true;
                return true;
            default: continue;  // skipped
        }
    }
}

PcapngReader::Status PcapngReader::next(RawFrame& frame) noexcept {
    // Each turn consumes one whole block of at least 12 bytes: the loop ends
    // at the end of the input or at the first bad block.
    if (pending_) {  // the packet block open() stopped at
        pending_ = false;
        const int r = packet(frame);
        if (r > 0) return Status::Frame;
        if (r < 0) return done_;
    }
    while (done_ == Status::Frame) {
        switch (read_block()) {
            case Block::End: done_ = Status::End; return done_;
            case Block::Error: return done_;
            case Block::Read: break;
        }
        switch (block_type_) {
            case kShbType:
                if (!section_header()) return done_;
                continue;
            case kIdbType:
                if (!interface_description()) return done_;
                continue;
            default: break;
        }
        const int r = packet(frame);
        if (r > 0) return Status::Frame;
        if (r < 0) return done_;
    }
    return done_;
}

}  // namespace callwall::capture
