// pcapng block reader: every packet with its own interface's link type.
//
// References: draft-ietf-opsawg-pcapng (block structure §3.1, Section Header
// Block §4.1, Interface Description Block §4.2 with if_tsresol (option 9) and
// if_tsoffset (option 14), Enhanced Packet Block §4.3, Simple Packet Block
// §4.4, the obsolete Packet Block, Appendix A).
//
// Why not libpcap: libpcap 1.10 stops at the first interface whose link type,
// snapshot length or time resolution differs from the first interface's ("an
// interface has a type 101 different from the type of the first
// interface"). Wireshark writes such files when it captures on several
// interfaces, and mergecap makes them; libpcap reads them as damaged from the
// start and every packet is lost. PcapSource uses this reader for every file
// (or pipe) that starts with a Section Header Block, and libpcap for the rest.
//
// Hostile input: every block is validated before use (total length at least
// 12, a multiple of 4, at most kMaxBlockBytes, trailer equal to the header);
// every field is read bounds-checked from the block body; every loop consumes
// at least one block of the input. A bad block ends the file with an error
// (the caller counts it as damaged), as libpcap does. The block buffer grows
// to the largest block seen (once, not per packet); nothing else allocates.
// A file in memory (a map) is read in place: no buffer, no copy.
//
// Not supported (read past, not reported): packet options (epb_flags, hashes,
// drop counts), Name Resolution, Interface Statistics, Decryption Secrets and
// custom blocks, if_fcslen. Sections may change byte order (libpcap refuses).
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

#include "capture/pcap_source.hpp"

namespace callwall::capture {

class PcapngReader {
public:
    /// The Section Header Block type, the same in both byte orders; a pcapng
    /// file starts with it.
    static constexpr uint32_t kShbType = 0x0A0D0D0A;
    /// Largest block accepted (libpcap's limit for a block is also 16 MiB):
    /// bounds the buffer a hostile length can make us allocate.
    static constexpr uint32_t kMaxBlockBytes = uint32_t{16} << 20;
    /// Interfaces per section at most: bounds the table a file of nothing but
    /// Interface Description Blocks can grow.
    static constexpr size_t kMaxInterfaces = 4096;

    enum class Status { Frame, End, Error };

    /// Reads `file` (not owned; stays open while this reader is used).
    /// `prefix` holds bytes already taken from the stream (a pipe's magic,
    /// read to tell pcapng from pcap); they are read first.
    explicit PcapngReader(FILE* file, const uint8_t* prefix = nullptr, size_t prefix_len = 0);
    /// Reads a whole file held in memory (a memory map: PcapSource for a
    /// plain pcapng file on disk). Blocks are used where they lie, not
    /// copied; frames point into `file`. The same checks and messages as
    /// reading it as a stream.
    explicit PcapngReader(ByteView file);

    /// Reads the Section Header Block and the blocks up to the first packet
    /// block (kept for next()), so every interface described before it is
    /// known. false: the stream is not a usable pcapng file (no interface
    /// described) and error() says why.
    [[nodiscard]] bool open() noexcept;
    /// The next packet. `frame.bytes` is valid until the next call. Error: the
    /// file is damaged from here on; error() says what and where. After End or
    /// Error every further call returns the same.
    Status next(RawFrame& frame) noexcept;
    [[nodiscard]] const char* error() const noexcept { return error_; }
    /// The offset of the next byte to read: nothing before it is used again
    /// once next() is called (the current frame lies before it).
    [[nodiscard]] uint64_t offset() const noexcept { return offset_; }
    /// Reading a file in memory (its frames point into it), not a stream.
    [[nodiscard]] bool in_memory() const noexcept { return file_ == nullptr; }
    /// The interfaces of the current section (after open(): those described
    /// before the first packet) and their link types.
    [[nodiscard]] size_t interfaces() const noexcept { return ifaces_.size(); }
    [[nodiscard]] uint32_t linktype(size_t interface) const noexcept {
        return interface < ifaces_.size() ? ifaces_[interface].linktype : 0;
    }

private:
    struct Interface {
        uint32_t linktype = 0;
        uint32_t snaplen = 0;
        uint64_t units_per_s = 1000000;  ///< if_tsresol
        int64_t offset_s = 0;  ///< if_tsoffset
    };
    enum class Block { Read, End, Error };

    Block read_block() noexcept;
    Block read_mapped_block() noexcept;  ///< read_block() over `map_`
    bool block_length(const uint8_t* head, uint32_t type, uint32_t& len) noexcept;
    Block truncated(uint32_t type, uint32_t len, size_t present) noexcept;
    Block use_block(const uint8_t* block, uint32_t type, uint32_t len) noexcept;
    size_t read_bytes(uint8_t* dst, size_t n) noexcept;
    bool fail(const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));
    bool section_header() noexcept;
    bool interface_description() noexcept;
    /// The packet in the current block, if it is a packet block: 1 frame, 0
    /// not a packet block, -1 error.
    int packet(RawFrame& frame) noexcept;
    [[nodiscard]] uint16_t u16(size_t off) const noexcept;
    [[nodiscard]] uint32_t u32(size_t off) const noexcept;
    [[nodiscard]] int64_t to_us(uint64_t t, const Interface& i) const noexcept;

    FILE* file_;  ///< null when reading `map_`
    ByteView map_{};  ///< the whole file, when read from memory
    const uint8_t* block_ = nullptr;  ///< the current block: in buf_ (a stream) or in map_
    uint8_t prefix_[8] = {};
    size_t prefix_len_ = 0, prefix_pos_ = 0;
    std::vector<uint8_t> buf_;  ///< the current block, header and trailer included
    uint32_t block_type_ = 0, block_len_ = 0;
    uint64_t block_offset_ = 0;  ///< file offset of the current block
    uint64_t offset_ = 0;  ///< file offset of the next byte
    uint64_t prefetched_ = 0;  ///< `map_`'s lines are prefetched up to here
    bool big_endian_ = false;  ///< the current section's byte order
    std::vector<Interface> ifaces_;  ///< the current section's interfaces
    bool pending_ = false;  ///< open() left a packet block in buf_ for next()
    Status done_ = Status::Frame;  ///< sticky End/Error
    char error_[192] = {};
};

}  // namespace callwall::capture
