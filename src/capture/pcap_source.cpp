// libpcap-backed sources. See capture/pcap_source.hpp.
#include "capture/pcap_source.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "capture/decompress.hpp"
#include "capture/mapped_file.hpp"
#include "capture/pcap_blocks.hpp"
#include "capture/pcapng_reader.hpp"
#include "decode/packet.hpp"

namespace callwall::capture {

struct PcapSource::Handle {
    pcap_t* pcap = nullptr;
    std::unique_ptr<MappedFile> mapped;  ///< what pcap reads, for a mapped file; outlives pcap's stream
    /// Set for a classic pcap file on disk: next() reads its records out of
    /// blocks of the file (capture/pcap_blocks.hpp), not through libpcap.
    std::unique_ptr<PcapBlocks> direct;
    /// hold_frames(): the map's pages are dropped by release_frames_before(), not by next().
    bool holding = false;
    /// The reader is at `pos` of the map: the frame handed out last is no
    /// longer borrowed, unless frames are held (then pages are only mapped ahead).
    void map_read_to(uint64_t pos) noexcept {
        if (holding)
            mapped->populate_ahead(pos);
        else
            mapped->consumed(pos);
    }
    // A pcapng file is read by PcapngReader from this stream instead (libpcap
    // refuses files whose interfaces differ in link type; see pcapng_reader.hpp).
    std::unique_ptr<PcapngReader> pcapng;
    FILE* pcapng_file = nullptr;
    /// The decompressor under the stream, for a compressed file (owned by
    /// the stream: valid until it is closed).
    const Decompressor* decompressor = nullptr;
    /// A file's BPF filter (set_filter), compiled once per link type met:
    /// a pcapng file's interfaces may differ. A link type the expression does
    /// not compile for (ok false) matches nothing.
    struct FileFilter {
        uint32_t linktype = 0;
        bpf_program prog{};
        bool ok = false;
    };
    static constexpr size_t kMaxFilterLinkTypes = 16;  ///< reserved up front: next() never grows it
    std::vector<FileFilter> filters;
    std::string filter_expression;
    bool filtering = false;
    ~Handle() {
        for (auto& f : filters)
            if (f.ok) pcap_freecode(&f.prog);
        if (pcap) pcap_close(pcap);
        pcapng.reset();
        if (pcapng_file) std::fclose(pcapng_file);
    }
};

namespace {
// A stream that gives back the bytes already read from a pipe to tell pcapng
// from pcap, then the rest of the pipe: libpcap reads the magic itself.
struct PrefixedStream {
    FILE* inner;
    uint8_t head[4];
    size_t len, pos = 0;

    static ssize_t read(void* self, char* buf, size_t n) noexcept {
        auto* s = static_cast<PrefixedStream*>(self);
        size_t got = 0;
        while (got < n && s->pos < s->len) buf[got++] = static_cast<char>(s->head[s->pos++]);
        if (got < n) got += std::fread(buf + got, 1, n - got, s->inner);
        if (got == 0 && std::ferror(s->inner)) return -1;
        return static_cast<ssize_t>(got);
    }
    static int close(void* self) noexcept {
        auto* s = static_cast<PrefixedStream*>(self);
        const int rc = std::fclose(s->inner);
        delete s;
        return rc;
    }
};

/// The first 4 bytes of a regular file, read without moving any stream; false when short.
bool peek_magic(const std::string& path, uint8_t (&m)[4]) noexcept {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::pread(fd, m, 4, 0) == 4;
    ::close(fd);
    return ok;
}

uint32_t le32(const uint8_t (&m)[4]) noexcept {
    return uint32_t{m[0]} | uint32_t{m[1]} << 8 | uint32_t{m[2]} << 16 | uint32_t{m[3]} << 24;
}

/// `f` (owned) behind a stream that first gives back the `head_len` bytes
/// already read from it: libpcap reads the magic itself. Throws (closing f).
FILE* with_head_given_back(FILE* f, const uint8_t (&head)[4], size_t head_len, const std::string& path) {
    auto* wrap = new PrefixedStream{f, {head[0], head[1], head[2], head[3]}, head_len};
    const cookie_io_functions_t io{&PrefixedStream::read, nullptr, nullptr, &PrefixedStream::close};
    FILE* g = fopencookie(wrap, "r", io);
    if (!g) {
        delete wrap;
        std::fclose(f);
        throw CaptureError(CaptureErrorKind::NotReadable, path + ": cannot open: " + std::strerror(errno));
    }
    __fsetlocking(g, FSETLOCKING_BYCALLER);
    return g;
}

/// Standard input as a stream of its own (closing it leaves descriptor 0 alone).
FILE* open_stdin() noexcept {
    const int fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return nullptr;
    FILE* f = ::fdopen(fd, "rb");
    if (!f) ::close(fd);
    return f;
}

// A pcapng file's first interface with a link type callwall decodes. The
// file is refused only when no interface has one; packets of the others
// count as undecoded.
uint32_t usable_linktype(const PcapngReader& ng, const std::string& path) {
    size_t usable = 0;
    while (usable < ng.interfaces() && !decode::link_type_supported(ng.linktype(usable))) ++usable;
    if (usable == ng.interfaces()) {
        const uint32_t lt = ng.linktype(0);
        const char* n = pcap_datalink_val_to_name(static_cast<int>(lt));
        throw CaptureError(CaptureErrorKind::UnknownLinkType,
                           path + ": link type " + std::to_string(lt) + " (" + (n ? n : "unknown") +
                               ") is not supported" +
                               (ng.interfaces() > 1 ? ", nor those of its other interfaces" : ""));
    }
    return ng.linktype(usable);
}

// Why `path` could not be looked at (stat failed with errno).
[[noreturn]] void throw_unopenable(const std::string& path) {
    // An argument of "" (an unset shell variable, quoted) names no file.
    if (path.empty())
        throw CaptureError(CaptureErrorKind::NotFound, "\"\": an empty file name, expected a .pcap or .pcapng file");
    if (errno == ENOENT) throw CaptureError(CaptureErrorKind::NotFound, path + ": no such file");
    throw CaptureError(CaptureErrorKind::NotReadable, path + ": " + std::strerror(errno));
}
}  // namespace

PcapSource::~PcapSource() = default;

std::unique_ptr<PcapSource> PcapSource::open_file(const std::string& path) {
    const bool is_stdin = path == "-";
    struct stat st {};
    if ((is_stdin ? ::fstat(STDIN_FILENO, &st) : ::stat(path.c_str(), &st)) != 0) throw_unopenable(path);
    if (S_ISDIR(st.st_mode))
        throw CaptureError(CaptureErrorKind::NotReadable, path + ": is a directory, expected a .pcap or .pcapng file");
    // A regular file is read through a memory map (see capture/mapped_file.hpp);
    // anything else, or a file that cannot be mapped, through fopen.
    auto handle = std::make_unique<Handle>();
    FILE* f = nullptr;
    if (is_stdin) {
        f = open_stdin();
    } else {
        handle->mapped = MappedFile::open(path);
        f = handle->mapped ? handle->mapped->stream() : nullptr;
        if (!f) {
            handle->mapped.reset();
            f = std::fopen(path.c_str(), "rb");
        }
    }
    if (!f) throw CaptureError(CaptureErrorKind::NotReadable, path + ": cannot open: " + std::strerror(errno));
    // One thread at a time reads this FILE (the analyser, or the read-ahead
    // thread it is handed to): stdio need not lock it on every fread.
    __fsetlocking(f, FSETLOCKING_BYCALLER);

    // pcapng (a Section Header Block first) goes to PcapngReader. A regular
    // file is peeked at through its own descriptor; a stream's first bytes
    // (a pipe, standard input, a decompressed file) are read from it and
    // handed back to whichever reader gets it.
    uint8_t head[4] = {};
    size_t head_len = 0;
    bool streamed = is_stdin || !S_ISREG(st.st_mode);
    bool pcapng = false;
    if (!streamed) {
        if (peek_magic(path, head)) {
            pcapng = le32(head) == PcapngReader::kShbType;
            head_len = 4;
        }
    } else {
        head_len = std::fread(head, 1, sizeof head, f);
    }
    // A compressed capture: its bytes come through a decompressing stream,
    // read like a pipe. The magic already read from a stream is given back
    // to the decompressor.
    if (const Compression c = detect_compression(head, head_len); c != Compression::None) {
        f = Decompressor::wrap(f, c, head, streamed ? head_len : 0, &handle->decompressor);
        if (!f)  // wrap closed the raw stream; a mapped file is unmapped with the handle
            throw CaptureError(CaptureErrorKind::NotReadable,
                               path + ": cannot set up " + compression_name(c) + " decompression");
        streamed = true;
        head_len = std::fread(head, 1, sizeof head, f);
        if (head_len < sizeof head && handle->decompressor->error()[0]) {
            // fclose frees the decompressor: its message is copied first.
            const std::string why = path + ": " + handle->decompressor->error();
            handle->decompressor = nullptr;
            std::fclose(f);
            throw CaptureError(CaptureErrorKind::NotACapture, why);
        }
    }
    if (streamed) {
        pcapng = head_len == 4 && le32(head) == PcapngReader::kShbType;
        if (!pcapng) f = with_head_given_back(f, head, head_len, path);
    } else {
        head_len = 0;  // peeked, not read: the reader starts at byte 0
    }
    if (pcapng) {
        handle->pcapng_file = f;
        // A plain file on disk is read in place from its map (no copy);
        // a stream (a pipe, a decompressor) through its FILE.
        if (handle->mapped && !handle->decompressor && !streamed)
            handle->pcapng = std::make_unique<PcapngReader>(ByteView{handle->mapped->data(), handle->mapped->size()});
        else
            handle->pcapng = std::make_unique<PcapngReader>(f, head, head_len);
        if (!handle->pcapng->open()) {
            if (handle->decompressor && handle->decompressor->error()[0])
                throw CaptureError(CaptureErrorKind::NotACapture, path + ": " + handle->decompressor->error());
            throw CaptureError(CaptureErrorKind::NotACapture,
                               path + ": not a pcap/pcapng capture (pcapng: " + handle->pcapng->error() + ")");
        }
        const uint32_t linktype = usable_linktype(*handle->pcapng, path);
        auto src = std::unique_ptr<PcapSource>(new PcapSource());
        src->name_ = path;
        src->linktype_ = linktype;
        src->handle_ = std::move(handle);
        return src;
    }

    char err[PCAP_ERRBUF_SIZE] = {};
    // pcap_fopen_offline_with_tstamp_precision takes ownership of f.
    handle->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!handle->pcap) {
        // fclose frees a decompressor under the stream: its message is copied first.
        const std::string codec_error =
            handle->decompressor && handle->decompressor->error()[0] ? std::string(handle->decompressor->error()) : "";
        handle->decompressor = nullptr;
        std::fclose(f);
        if (!codec_error.empty()) throw CaptureError(CaptureErrorKind::NotACapture, path + ": " + codec_error);
        // A pipe's size is 0 whatever it carries: empty is what it held.
        if (streamed ? head_len == 0 : st.st_size == 0)
            throw CaptureError(CaptureErrorKind::NotACapture, path + (is_stdin ? ": empty input" : ": empty file") +
                                                                  ", expected a .pcap or .pcapng capture");
        throw CaptureError(CaptureErrorKind::NotACapture, path + ": not a pcap/pcapng capture (" + err + ")");
    }
    auto src = std::unique_ptr<PcapSource>(new PcapSource());
    src->handle_ = std::move(handle);
    src->name_ = path;
    src->linktype_ = static_cast<uint32_t>(pcap_datalink(src->handle_->pcap));
    if (!decode::link_type_supported(src->linktype_)) {
        const char* n = pcap_datalink_val_to_name(static_cast<int>(src->linktype_));
        throw CaptureError(CaptureErrorKind::UnknownLinkType, path + ": link type " + std::to_string(src->linktype_) +
                                                                  " (" + (n ? n : "unknown") + ") is not supported");
    }
    if (src->handle_->mapped && !src->handle_->decompressor)
        src->handle_->direct = PcapBlocks::open(*src->handle_->mapped, pcap_snapshot(src->handle_->pcap));
    return src;
}

std::unique_ptr<PcapSource> PcapSource::open_live(const LiveOptions& o) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_create(o.interface.c_str(), err);
    if (!p) throw CaptureError(CaptureErrorKind::NotFound, o.interface + ": " + err);
    auto src = std::unique_ptr<PcapSource>(new PcapSource());
    src->handle_ = std::make_unique<Handle>();
    src->handle_->pcap = p;
    src->name_ = o.interface;
    src->live_ = true;
    pcap_set_snaplen(p, o.snaplen);
    pcap_set_promisc(p, o.promiscuous ? 1 : 0);
    pcap_set_timeout(p, o.read_timeout_ms);
    // In bytes, an int: the command line allows at most kMaxBufferSizeMb.
    pcap_set_buffer_size(p, static_cast<int>(std::clamp<int64_t>(int64_t{o.buffer_size_mb} * 1024 * 1024, 1,
                                                                 std::numeric_limits<int>::max())));
    pcap_set_immediate_mode(p, o.immediate ? 1 : 0);
    const int rc = pcap_activate(p);
    if (rc < 0) {
        const std::string why = pcap_geterr(p);
        switch (rc) {
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CaptureError(CaptureErrorKind::NotFound, o.interface + ": no such interface (" + why + ")");
            case PCAP_ERROR_PERM_DENIED:
                throw CaptureError(
                    CaptureErrorKind::Permission,
                    o.interface + ": no permission to capture (run as root or grant CAP_NET_RAW): " + why);
            default: throw CaptureError(CaptureErrorKind::Other, o.interface + ": cannot capture: " + why);
        }
    }
    src->linktype_ = static_cast<uint32_t>(pcap_datalink(p));
    if (!decode::link_type_supported(src->linktype_)) {
        throw CaptureError(CaptureErrorKind::UnknownLinkType,
                           o.interface + ": link type " + std::to_string(src->linktype_) + " is not supported");
    }
    if (!o.filter.empty()) src->set_filter(o.filter);
    return src;
}

namespace {
// A cooked socket (DLT_LINUX_SLL, DLT_LINUX_SLL2: `-i any`) hands the kernel's
// filter the packet without the link-layer header libpcap's programs read:
// libpcap's fix_offset() (pcap-linux.c, 1.10) rewrites each load from the
// packet, as here: past the header, the same bytes without it; the
// header's protocol, packet type and interface fields, the kernel's
// ancillary words for them. False: a load from elsewhere in the header,
// which the kernel cannot give (libpcap then filters in user space).
bool fix_cooked_load(int linktype, sock_filter& insn) noexcept {
    constexpr uint32_t kSllLen = 16, kSll2Len = 20;
    uint32_t& k = insn.k;
    if (k >= static_cast<uint32_t>(SKF_AD_OFF)) return true;  // already ancillary
    const bool two = linktype == DLT_LINUX_SLL2;
    const uint32_t header = two ? kSll2Len : kSllLen;
    if (k >= header)
        k -= header;
    else if (k == (two ? 0u : 14u))
        k = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL);
    else if (k == (two ? 10u : 0u))
        k = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE);
    else if (two && k == 4)
        k = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_IFINDEX);
    else if (static_cast<int32_t>(k) > 0)
        return false;
    return true;
}

// libpcap's pcap_setfilter() on Linux attaches a reject-all filter, drains
// the socket and only then attaches the new one (so no packet the new filter
// refuses is read after it): what arrives in between is lost and counted
// nowhere, and capture changes its filter while packets flow. When libpcap
// already filters in the kernel on this socket, the new program is attached
// over the old one, which the kernel swaps in one step; the frames already
// in the ring passed the old filter and are read as they are. (Right after
// pcap_setfilter(), libpcap also runs its program in user space over the
// ring's block being filled, until it hands that block back: for that
// block, the previous program still applies.) libpcap 1.10 attaches the
// compiled program as it is on a memory-mapped socket, but for the loads a
// cooked socket needs rewritten (fix_cooked_load). False: install it
// through pcap_setfilter().
bool replace_kernel_filter(pcap_t* pcap, const bpf_program& prog) {
    if (prog.bf_len == 0 || prog.bf_len > BPF_MAXINSNS) return false;
    const int fd = pcap_fileno(pcap);
    if (fd < 0) return false;
    // The attached program's length (0: none, libpcap filters in user space).
    socklen_t attached = 0;
    if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, nullptr, &attached) != 0 || attached == 0) return false;
    static_assert(sizeof(sock_filter) == sizeof(bpf_insn));
    std::vector<sock_filter> insns(prog.bf_len);
    std::memcpy(insns.data(), prog.bf_insns, prog.bf_len * sizeof(sock_filter));
    const int linktype = pcap_datalink(pcap);
    if (linktype == DLT_LINUX_SLL || linktype == DLT_LINUX_SLL2) {
        for (sock_filter& insn : insns) {
            const uint16_t cls = BPF_CLASS(insn.code), mode = BPF_MODE(insn.code);
            if ((cls == BPF_LD || cls == BPF_LDX) && (mode == BPF_ABS || mode == BPF_IND || mode == BPF_MSH) &&
                !fix_cooked_load(linktype, insn))
                return false;
        }
    }
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(insns.size());
    fprog.filter = insns.data();
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) == 0;
}
}  // namespace

void PcapSource::set_filter(const std::string& expression, FilterSwap swap) {
    if (!live_) {
        // A file: compiled for its (first usable) link type now, so a bad
        // expression is refused at once; other link types as frames show them.
        Handle& h = *handle_;
        h.filters.reserve(Handle::kMaxFilterLinkTypes);
        h.filter_expression = expression;
        Handle::FileFilter ff;
        ff.linktype = linktype_;
        pcap_t* dead = pcap_open_dead(static_cast<int>(linktype_), 262144);
        if (!dead) throw CaptureError(CaptureErrorKind::Other, name_ + ": cannot compile a filter");
        ff.ok = pcap_compile(dead, &ff.prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
        const std::string why = ff.ok ? "" : pcap_geterr(dead);
        pcap_close(dead);
        if (!ff.ok) throw CaptureError(CaptureErrorKind::Filter, "bad filter '" + expression + "': " + why);
        h.filters.push_back(ff);
        h.filtering = true;
        return;
    }
    bpf_program prog{};
    if (pcap_compile(handle_->pcap, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        throw CaptureError(CaptureErrorKind::Filter,
                           name_ + ": bad filter '" + expression + "': " + pcap_geterr(handle_->pcap));
    struct FreeCode {
        bpf_program& prog;
        ~FreeCode() { pcap_freecode(&prog); }
    } free_code{prog};
    if (swap == FilterSwap::InPlace && replace_kernel_filter(handle_->pcap, prog)) return;
    if (pcap_setfilter(handle_->pcap, &prog) != 0)
        throw CaptureError(CaptureErrorKind::Filter, name_ + ": cannot install filter: " + pcap_geterr(handle_->pcap));
}

bool PcapSource::passes_filter(const RawFrame& frame) noexcept {
    Handle& h = *handle_;
    Handle::FileFilter* ff = nullptr;
    for (auto& f : h.filters)
        if (f.linktype == frame.linktype) ff = &f;
    if (!ff) {
        // A link type first seen here (a later pcapng interface): compiled
        // once. Past the reserved table, its frames match nothing.
        if (h.filters.size() == Handle::kMaxFilterLinkTypes) return false;
        Handle::FileFilter nf;
        nf.linktype = frame.linktype;
        if (pcap_t* dead = pcap_open_dead(static_cast<int>(frame.linktype), 262144)) {
            nf.ok = pcap_compile(dead, &nf.prog, h.filter_expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
            pcap_close(dead);
        }
        h.filters.push_back(nf);
        ff = &h.filters.back();
    }
    if (!ff->ok) return false;
    pcap_pkthdr hdr{};
    hdr.caplen = frame.caplen;
    hdr.len = frame.wirelen;
    return pcap_offline_filter(&ff->prog, &hdr, frame.bytes.data()) != 0;
}

bool PcapSource::first_ts(int64_t& ts_us) noexcept {
    if (!peeked_) {
        peek_status_ = next(peek_frame_);
        peeked_ = true;
    }
    if (peek_status_ != NextStatus::Frame) return false;
    ts_us = peek_frame_.ts_us;
    return true;
}

NextStatus PcapSource::next(RawFrame& frame) noexcept {
    if (peeked_) {  // the frame first_ts() read: its bytes are still the reader's current ones
        peeked_ = false;
        frame = peek_frame_;
        return peek_status_;
    }
    NextStatus st;
    do {
        st = read_frame(frame);
    } while (st == NextStatus::Frame && handle_->filtering && !passes_filter(frame));
    if (st == NextStatus::Frame) last_ts_ = frame.ts_us;
    return st;
}

bool PcapSource::reads_blocks() const noexcept { return handle_ && handle_->direct; }

void PcapSource::lend_blocks(bool lend) noexcept {
    if (reads_blocks()) handle_->direct->lend(lend);
}

void PcapSource::next_block(uint8_t* buf) noexcept { handle_->direct->next_block(buf); }

bool PcapSource::frames_in_map() const noexcept {
    return handle_ && handle_->mapped && !handle_->decompressor && handle_->pcapng && handle_->pcapng->in_memory();
}

void PcapSource::hold_frames(bool hold) noexcept {
    if (frames_in_map()) handle_->holding = hold;
}

void PcapSource::release_frames_before(const uint8_t* p) noexcept {
    if (!handle_->holding) return;
    MappedFile& m = *handle_->mapped;
    if (p >= m.data() && p <= m.data() + m.size()) m.release_before(static_cast<uint64_t>(p - m.data()));
}

NextStatus PcapSource::read_frame(RawFrame& frame) noexcept {
    if (handle_->direct) {
        const NextStatus st = handle_->direct->next(frame, linktype_);
        if (st == NextStatus::Error) error_ = handle_->direct->error();
        return st;
    }
    return read_through_libpcap(frame);
}

NextStatus PcapSource::read_through_libpcap(RawFrame& frame) noexcept {
    if (handle_->pcapng) {
        // The frame handed out last (before the reader's offset) is no longer borrowed.
        if (handle_->mapped && !handle_->decompressor) handle_->map_read_to(handle_->pcapng->offset());
        switch (handle_->pcapng->next(frame)) {
            case PcapngReader::Status::Frame: return NextStatus::Frame;
            case PcapngReader::Status::End:
                // A compressed stream cut at a block boundary reads as a clean end.
                if (handle_->decompressor && handle_->decompressor->error()[0]) break;
                return NextStatus::End;
            case PcapngReader::Status::Error: break;
        }
        if (handle_->mapped && handle_->mapped->shrank())
            error_ = "the file was truncated while it was being read";
        else if (handle_->decompressor && handle_->decompressor->error()[0])
            error_ = handle_->decompressor->error();
        else
            error_ = handle_->pcapng->error();
        return NextStatus::Error;
    }
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_->pcap, &hdr, &data);
    if (rc == 1) {
        frame.ts_us = frame_time_us(hdr->ts.tv_sec, hdr->ts.tv_usec);
        frame.linktype = linktype_;
        frame.caplen = hdr->caplen;
        frame.wirelen = hdr->len;
        frame.bytes = ByteView{data, hdr->caplen};
        return NextStatus::Frame;
    }
    if (rc == 0) return NextStatus::Timeout;
    const char* broken = handle_->decompressor ? handle_->decompressor->error() : "";
    if (rc == PCAP_ERROR_BREAK && !broken[0]) return NextStatus::End;
    if (handle_->mapped && handle_->mapped->shrank())
        error_ = "the file was truncated while it was being read";
    else if (broken[0])
        error_ = broken;
    else
        error_ = pcap_geterr(handle_->pcap);
    return NextStatus::Error;
}

SourceStats PcapSource::stats() const noexcept {
    SourceStats s;
    if (!live_) return s;
    pcap_stat ps{};
    if (pcap_stats(handle_->pcap, &ps) == 0) {
        s.kernel_received = ps.ps_recv;
        s.kernel_dropped = ps.ps_drop;
        s.interface_dropped = ps.ps_ifdrop;
    }
    return s;
}

void PcapSource::set_nonblocking() {
    char err[PCAP_ERRBUF_SIZE] = {};
    if (pcap_setnonblock(handle_->pcap, 1, err) != 0)
        throw CaptureError(CaptureErrorKind::Other, name_ + ": cannot switch to non-blocking reads: " + err);
}

void PcapSource::break_loop() noexcept {
    if (handle_->pcap) pcap_breakloop(handle_->pcap);  // a pcapng file has no pcap_t: it ends at its end
}

int PcapSource::selectable_fd() const noexcept { return live_ ? pcap_get_selectable_fd(handle_->pcap) : -1; }

}  // namespace callwall::capture
