// A capture file handed to libpcap through a memory map instead of read(2).
//
// libpcap reads and checks the file's header: it gets a stdio stream
// (pcap_fopen_offline) whose reads copy from the map. A pcapng file's blocks
// are then read in place out of the map (PcapngReader), a classic pcap
// file's records out of blocks copied with read_at() (capture/pcap_blocks.hpp);
// other files are read through the stream.
//
// Two things a plain read(2) never does are handled here:
// - Memory stays bounded: pages behind the read position are dropped from
//   the process every 2 MiB, and at most the next 2 MiB are mapped ahead (in
//   large steps, not a fault per 64 KiB), so resident memory stays near
//   4 MiB, however big the file.
// - A file truncated while it is read (another process rewrote it) makes a
//   read of the missing pages fail instead of killing the process with
//   SIGBUS: a SIGBUS handler, installed with the first map, puts a zero page
//   where the fault was, marks the map, and the read returns an I/O error.
//   A SIGBUS at any other address still ends the process as before.
//
// A reader that walks the whole file once (PcapSource's classic pcap
// records) copies it in blocks with read_at() instead of touching the map:
// the kernel's copy into a buffer that stays in the cache costs less than
// mapping each page, missing on it and dropping it again (with a TLB
// shootdown on every CPU the process runs on). docs/performance.md has the
// measurements.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <sys/types.h>

namespace callwall::capture {

class MappedFile {
public:
    /// Maps the regular file `path` for reading. nullptr when it is not a
    /// regular file, is empty, cannot be mapped, or kMaxMaps files are mapped
    /// already (`analyze` opens every file of a run before reading the first);
    /// the caller then reads it with fopen as usual. Never throws.
    static std::unique_ptr<MappedFile> open(const std::string& path) noexcept;
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    /// A read-only stdio stream over the map, positioned at its start; nullptr
    /// when stdio cannot make one. Whoever fcloses it (libpcap's pcap_close)
    /// must do so before this MappedFile is destroyed. Call once.
    FILE* stream() noexcept;
    /// True once a read met pages the file no longer has: it was truncated
    /// after it was opened. The read failed with EIO.
    [[nodiscard]] bool shrank() const noexcept { return shrank_->load(std::memory_order_relaxed); }
    /// The file's size when it was opened; bytes appended later are not read.
    [[nodiscard]] uint64_t size() const noexcept { return size_; }
    /// The mapped bytes, for a reader that takes records straight out of
    /// the map instead of through stream() (see PcapSource: classic pcap
    /// files). A read of a page the file no longer has sees zeros and sets
    /// shrank(): check it after reading.
    [[nodiscard]] const uint8_t* data() const noexcept { return base_; }
    /// Copies up to `n` bytes from `offset` into `buf` (pread(2), restarted
    /// when interrupted): the count copied, fewer than asked only at the
    /// file's end (where it ends now: a file truncated since it was opened
    /// gives fewer than size() promised), -1 on a read error (errno set).
    ssize_t read_at(uint8_t* buf, size_t n, uint64_t offset) const noexcept;
    /// For such a reader: nothing before `pos` is read again. Pages behind it
    /// are dropped from the process each kReleaseWindow bytes, as stream()
    /// does for its reads. The same as populate_ahead(pos) and release_before(pos).
    void consumed(uint64_t pos) noexcept {
        populate_ahead(pos);
        release_before(pos);
    }
    /// The reader is at `pos`: the next window's pages are mapped ahead.
    void populate_ahead(uint64_t pos) noexcept;
    /// Nothing before `pos` is read again: pages behind it are dropped each
    /// kReleaseWindow bytes. A reader whose frames another thread still reads
    /// (capture::ReadAhead lending them) calls populate_ahead() as it reads and
    /// this once that thread is done with them.
    void release_before(uint64_t pos) noexcept;

    /// Pages behind the read position are dropped from the process each time
    /// this many bytes have been read past the last drop.
    static constexpr uint64_t kReleaseWindow = uint64_t{2} << 20;
    /// Files mapped at the same time, at most (the SIGBUS handler's table).
    static constexpr int kMaxMaps = 256;

private:
    MappedFile() = default;
    static ssize_t read_cookie(void* self, char* buf, size_t n) noexcept;
    static int close_cookie(void* self) noexcept;
    ssize_t read(char* buf, size_t n) noexcept;

    const uint8_t* base_ = nullptr;
    uint64_t size_ = 0;
    uint64_t pos_ = 0;  ///< next byte handed to stdio
    uint64_t released_ = 0;  ///< pages before this offset were dropped from the process
    uint64_t populated_ = 0;  ///< pages before this offset were mapped ahead (MADV_POPULATE_READ)
    int fd_ = -1;  ///< the file, for read_at()
    int slot_ = -1;  ///< this map's entry in the SIGBUS handler's table
    /// That entry's flag (read on every record a reader takes out of the map).
    const std::atomic<bool>* shrank_ = nullptr;
};

}  // namespace callwall::capture
