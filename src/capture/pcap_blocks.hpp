// A classic pcap file's records, read out of blocks of the file.
//
// Classic pcap (pcap-savefile(5)): a 24-byte file header (magic, version
// 2.4, snapshot length, link type), then records:
//    0                   1                   2                   3
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  Timestamp (seconds, signed)                  |
//   |        Timestamp (micro- or nanoseconds, by the magic)        |
//   |                    Captured Packet Length                     |
//   |                    Original Packet Length                     |
//   |                  Packet Data (captured length)              ...
//
// Once libpcap has read and checked the header, a plain file on disk in this
// machine's byte order (version 2.4) is read here instead of through
// libpcap's stream and its two copies: each block of the file is copied into
// a buffer (MappedFile::read_at) and the records are taken where they lie in
// it, with libpcap's checks and, for a damaged file, its messages in its
// words (tests/unit/capture/direct_records_test.cpp compares the two; the
// fuzz target pcap_direct_fuzz too). A record cut by a block's end is copied
// to the next block's start: a block's buffer holds the largest record libpcap
// reads after a read of kBlockRead bytes.
//
// The buffer is the reader's own, or, when a reader hands the frames to
// another thread (capture::ReadAhead), lent block by block: then next() says
// BlockDone at a block's end and the lender gives the next buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "capture/pcap_source.hpp"

namespace callwall::capture {

class MappedFile;

class PcapBlocks {
public:
    static constexpr uint64_t kFileHeader = 24;
    static constexpr uint64_t kRecordHeader = 16;
    /// libpcap's max_snaplen_for_dlt for every link type callwall decodes
    /// (MAXIMUM_SNAPLEN): a longer record is a damaged file.
    static constexpr uint32_t kMaxRecordBytes = 262144;

    /// The reader of `file`'s records when it is a classic pcap file this
    /// reader takes (version 2.4 in this machine's byte order; `snapshot`:
    /// pcap_snapshot()); nullptr when libpcap should read it.
    static std::unique_ptr<PcapBlocks> open(const MappedFile& file, int snapshot);

    /// The next record as a frame of `linktype` (its bytes in the block in
    /// hand), End, Error (error() says what, as libpcap words it), or, lent,
    /// BlockDone.
    NextStatus next(RawFrame& frame, uint32_t linktype) noexcept;
    /// Reads the file's next bytes into `buf` (PcapSource::kBlockCapacity
    /// bytes; not the block in hand): the unread tail of the block in hand,
    /// then up to kBlockRead bytes. A read that fails, or finds the file
    /// shorter than when it was opened, makes the next record an Error.
    void next_block(uint8_t* buf) noexcept;
    /// Lent buffers (true): next() says BlockDone instead of reading the
    /// next block into the reader's own buffer.
    void lend(bool lent) noexcept { lent_ = lent; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
    explicit PcapBlocks(const MappedFile& file) : file_(file) {}
    /// The error for the record at pos_ (`left` bytes from it to the file's
    /// end, its caplen when read), in libpcap's words.
    [[gnu::cold, gnu::noinline]] NextStatus fail(uint64_t left, uint32_t caplen) noexcept;

    const MappedFile& file_;
    uint64_t pos_ = kFileHeader;  ///< the next record's header (an offset in the file)
    uint32_t snapshot_ = 0;  ///< pcap_snapshot(): longer records are cut to it, as libpcap does
    bool nano_ = false;  ///< nanosecond timestamps (scaled down to microseconds, as libpcap does)
    bool lent_ = false;
    /// The block in hand: the file's bytes [block_at_, block_at_ + block_len_) at block_.
    const uint8_t* block_ = nullptr;
    uint64_t block_at_ = kFileHeader;
    uint64_t block_len_ = 0;
    /// The reader's own buffer (kBlockCapacity bytes), when none is lent.
    std::unique_ptr<uint8_t[]> own_;
    /// A block's read failed or found the file shorter than at its opening (read_error_ says which).
    bool read_failed_ = false;
    std::string read_error_;
    std::string error_;
};

static_assert(PcapSource::kBlockCapacity >=
                  PcapSource::kBlockRead + PcapBlocks::kRecordHeader + PcapBlocks::kMaxRecordBytes,
              "a block's buffer holds a whole record left over from the block before, and a read after it");

}  // namespace callwall::capture
