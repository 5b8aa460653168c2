// A classic pcap file's records out of blocks of the file. See capture/pcap_blocks.hpp.
#include "capture/pcap_blocks.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "capture/mapped_file.hpp"

namespace callwall::capture {
namespace {
constexpr uint32_t kPcapMagicUs = 0xa1b2c3d4, kPcapMagicNs = 0xa1b23c4d;
}  // namespace

std::unique_ptr<PcapBlocks> PcapBlocks::open(const MappedFile& file, int snapshot) {
    if (file.size() < kFileHeader || snapshot <= 0) return nullptr;
    uint8_t head[8];
    if (file.read_at(head, sizeof head, 0) != static_cast<ssize_t>(sizeof head)) return nullptr;
    uint32_t magic = 0;
    uint16_t major = 0, minor = 0;
    std::memcpy(&magic, head, 4);
    std::memcpy(&major, head + 4, 2);
    std::memcpy(&minor, head + 6, 2);
    // Older versions may have swapped lengths, other byte orders swapped
    // pseudo-headers: libpcap reads those.
    if ((magic != kPcapMagicUs && magic != kPcapMagicNs) || major != 2 || minor != 4) return nullptr;
    std::unique_ptr<PcapBlocks> b(new PcapBlocks(file));
    b->snapshot_ = static_cast<uint32_t>(snapshot);
    b->nano_ = magic == kPcapMagicNs;
    b->own_ = std::make_unique_for_overwrite<uint8_t[]>(PcapSource::kBlockCapacity);
    return b;
}

NextStatus PcapBlocks::next(RawFrame& frame, uint32_t linktype) noexcept {
    const uint64_t size = file_.size();
    for (;;) {
        const uint64_t left = size - pos_;  // to the file's end
        if (left == 0) return NextStatus::End;
        // libpcap's checks (sf-pcap.c, pcap_next_packet), on the file as it
        // was opened; their messages are written by fail(), off the
        // per-record path.
        if (left < kRecordHeader) return fail(left, 0);
        const uint64_t block_end = block_at_ + block_len_;
        const uint64_t here = block_end > pos_ ? block_end - pos_ : 0;  // of the record, in the block
        if (here >= kRecordHeader) {
            const uint8_t* h = block_ + (pos_ - block_at_);
            int32_t sec = 0, frac = 0;
            uint32_t caplen = 0, len = 0;
            std::memcpy(&sec, h, 4);
            std::memcpy(&frac, h + 4, 4);
            std::memcpy(&caplen, h + 8, 4);
            std::memcpy(&len, h + 12, 4);
            const uint64_t body = left - kRecordHeader;
            // A record longer than the snapshot keeps the snapshot's length
            // and skips the rest, as libpcap does.
            const bool cut = caplen > snapshot_;
            if (caplen > kMaxRecordBytes || (cut ? body < snapshot_ || body < caplen : body < caplen))
                return fail(left, caplen);
            const uint32_t kept = cut ? snapshot_ : caplen;
            if (here - kRecordHeader >= kept) {
                frame.ts_us = frame_time_us(sec, nano_ ? frac / 1000 : frac);
                frame.linktype = linktype;
                frame.caplen = kept;
                frame.wirelen = len;
                frame.bytes = ByteView{h + kRecordHeader, kept};
                pos_ += kRecordHeader + caplen;
                return NextStatus::Frame;
            }
        }
        // The record runs past the block in hand. The checks above hold it
        // within the file, and a block holds any record: the next block has
        // it whole, unless its read fails.
        if (read_failed_) return fail(left, 0);
        if (lent_) return NextStatus::BlockDone;
        next_block(own_.get());
    }
}

void PcapBlocks::next_block(uint8_t* buf) noexcept {
    const uint64_t block_end = block_at_ + block_len_;
    // The unread tail (a record cut by the block's end), or nothing when the
    // last record's skipped bytes (past the snapshot) reach beyond the block.
    const uint64_t tail = block_end > pos_ ? block_end - pos_ : 0;
    if (tail) std::memmove(buf, block_ + (pos_ - block_at_), tail);
    const uint64_t from = pos_ + tail;
    const uint64_t want =
        std::min<uint64_t>({PcapSource::kBlockRead, PcapSource::kBlockCapacity - tail, file_.size() - from});
    const ssize_t got = want ? file_.read_at(buf + tail, want, from) : 0;
    block_ = buf;
    block_at_ = pos_;
    block_len_ = tail + (got > 0 ? static_cast<uint64_t>(got) : 0);
    if (got < 0) {
        read_failed_ = true;
        read_error_ = std::string("cannot read the file: ") + std::strerror(errno);
    } else if (static_cast<uint64_t>(got) < want) {
        read_failed_ = true;
        read_error_ = "the file was truncated while it was being read";
    }
}

NextStatus PcapBlocks::fail(uint64_t left, uint32_t caplen) noexcept {
    if (read_failed_) {
        error_ = read_error_;
        return NextStatus::Error;
    }
    // The same checks, in the same order and words, as libpcap's.
    char msg[160] = "";
    const uint64_t body = left - kRecordHeader;
    if (left < kRecordHeader)
        std::snprintf(msg, sizeof msg, "truncated dump file; tried to read %zu header bytes, only got %zu",
                      static_cast<size_t>(kRecordHeader), static_cast<size_t>(left));
    else if (caplen > kMaxRecordBytes && caplen > snapshot_)
        std::snprintf(msg, sizeof msg, "invalid packet capture length %u, bigger than snaplen of %d", caplen,
                      static_cast<int>(snapshot_));
    else if (caplen > kMaxRecordBytes)
        std::snprintf(msg, sizeof msg, "invalid packet capture length %u, bigger than maximum of %u", caplen,
                      kMaxRecordBytes);
    else if (caplen > snapshot_)
        std::snprintf(msg, sizeof msg, "truncated dump file; tried to read %u captured bytes, only got %zu",
                      body < snapshot_ ? snapshot_ : caplen, static_cast<size_t>(body));
    else
        std::snprintf(msg, sizeof msg, "truncated dump file; tried to read %u captured bytes, only got %zu", caplen,
                      static_cast<size_t>(body));
    error_ = msg;
    return NextStatus::Error;
}

}  // namespace callwall::capture
