// libpcap-backed sources. See capture/pcap_source.hpp.
#include "callwall/capture/pcap_source.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capture/mapped_file.hpp"
#include "callwall/capture/pcapng_reader.hpp"
#include "callwall/decode/packet.hpp"

namespace callwall::capture {

struct PcapSource::Handle {
    pcap_t* pcap = nullptr;
    std::unique_ptr<MappedFile> mapped;  ///< what pcap reads, for a mapped file; outlives pcap's stream
    // A pcapng file is read by PcapngReader from this stream instead (libpcap
    // refuses files whose interfaces differ in link type; see pcapng_reader.hpp).
    std::unique_ptr<PcapngReader> pcapng;
    FILE* pcapng_file = nullptr;
    ~Handle() {
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

/// The first 4 bytes of a regular file, read without moving any stream; 0 when short.
uint32_t peek_magic(const std::string& path) noexcept {
    uint8_t m[4] = {};
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    const bool ok = ::pread(fd, m, 4, 0) == 4;
    ::close(fd);
    return ok ? uint32_t{m[0]} | uint32_t{m[1]} << 8 | uint32_t{m[2]} << 16 | uint32_t{m[3]} << 24 : 0;
}
}  // namespace

PcapSource::~PcapSource() = default;

std::unique_ptr<PcapSource> PcapSource::open_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            throw CaptureError(CaptureErrorKind::NotFound, path + ": no such file");
        throw CaptureError(CaptureErrorKind::NotReadable, path + ": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        throw CaptureError(CaptureErrorKind::NotReadable, path + ": is a directory, expected a .pcap or .pcapng file");
    // A regular file is read through a memory map (see capture/mapped_file.hpp);
    // anything else, or a file that cannot be mapped, through fopen.
    auto handle = std::make_unique<Handle>();
    handle->mapped = MappedFile::open(path);
    FILE* f = handle->mapped ? handle->mapped->stream() : nullptr;
    if (!f) {
        handle->mapped.reset();
        f = std::fopen(path.c_str(), "rb");
    }
    if (!f) throw CaptureError(CaptureErrorKind::NotReadable, path + ": cannot open: " + std::strerror(errno));
    // One thread at a time reads this FILE (the analyser, or the read-ahead
    // thread it is handed to): stdio need not lock it on every fread.
    __fsetlocking(f, FSETLOCKING_BYCALLER);

    // pcapng (a Section Header Block first) goes to PcapngReader. A regular
    // file is peeked at through its own descriptor; a pipe's first bytes are
    // read from the stream and handed back to whichever reader gets it.
    uint8_t head[4] = {};
    size_t head_len = 0;
    bool pcapng = false;
    if (S_ISREG(st.st_mode)) {
        pcapng = peek_magic(path) == PcapngReader::kShbType;
    } else {
        head_len = std::fread(head, 1, sizeof head, f);
        pcapng = head_len == 4 && (uint32_t{head[0]} | uint32_t{head[1]} << 8 | uint32_t{head[2]} << 16 |
                                   uint32_t{head[3]} << 24) == PcapngReader::kShbType;
        if (!pcapng) {
            auto* wrap = new PrefixedStream{f, {head[0], head[1], head[2], head[3]}, head_len};
            const cookie_io_functions_t io{&PrefixedStream::read, nullptr, nullptr, &PrefixedStream::close};
            FILE* g = fopencookie(wrap, "r", io);
            if (!g) {
                delete wrap;
                std::fclose(f);
                throw CaptureError(CaptureErrorKind::NotReadable, path + ": cannot open: " + std::strerror(errno));
            }
            __fsetlocking(g, FSETLOCKING_BYCALLER);
            f = g;
        }
    }
    if (pcapng) {
        handle->pcapng_file = f;
        handle->pcapng = std::make_unique<PcapngReader>(f, head, head_len);
        if (!handle->pcapng->open())
            throw CaptureError(CaptureErrorKind::NotACapture,
                               path + ": not a pcap/pcapng capture (pcapng: " + handle->pcapng->error() + ")");
        // The file is refused only when no interface has a link type callwall
        // decodes; packets of the others count as undecoded.
        const PcapngReader& ng = *handle->pcapng;
        size_t usable = 0;
        while (usable < ng.interfaces() && !decode::link_type_supported(ng.linktype(usable))) ++usable;
        if (usable == ng.interfaces()) {
            const uint32_t lt = ng.linktype(0);
            const char* n = pcap_datalink_val_to_name(static_cast<int>(lt));
            throw CaptureError(CaptureErrorKind::UnknownLinkType,
                               path + ": link type " + std::to_string(lt) + " (" + (n ? n : "unknown") + ") is not supported" +
                                   (ng.interfaces() > 1 ? ", nor those of its other interfaces" : ""));
        }
        auto src = std::unique_ptr<PcapSource>(new PcapSource());
        src->name_ = path;
        src->linktype_ = ng.linktype(usable);
        src->handle_ = std::move(handle);
        return src;
    }

    char err[PCAP_ERRBUF_SIZE] = {};
    // pcap_fopen_offline_with_tstamp_precision takes ownership of f.
    handle->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!handle->pcap) {
        std::fclose(f);
        if (st.st_size == 0)
            throw CaptureError(CaptureErrorKind::NotACapture, path + ": empty file, expected a .pcap or .pcapng capture");
        throw CaptureError(CaptureErrorKind::NotACapture,
                           path + ": not a pcap/pcapng capture (" + err + ")");
    }
    auto src = std::unique_ptr<PcapSource>(new PcapSource());
    src->handle_ = std::move(handle);
    src->name_ = path;
    src->linktype_ = static_cast<uint32_t>(pcap_datalink(src->handle_->pcap));
    if (!decode::link_type_supported(src->linktype_)) {
        const char* n = pcap_datalink_val_to_name(static_cast<int>(src->linktype_));
        throw CaptureError(CaptureErrorKind::UnknownLinkType,
                           path + ": link type " + std::to_string(src->linktype_) + " (" +
                               (n ? n : "unknown") + ") is not supported");
    }
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
    pcap_set_buffer_size(p, o.buffer_size_mb * 1024 * 1024);
    pcap_set_immediate_mode(p, o.immediate ? 1 : 0);
    const int rc = pcap_activate(p);
    if (rc < 0) {
        const std::string why = pcap_geterr(p);
        switch (rc) {
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CaptureError(CaptureErrorKind::NotFound, o.interface + ": no such interface (" + why + ")");
            case PCAP_ERROR_PERM_DENIED:
                throw CaptureError(CaptureErrorKind::Permission,
                                   o.interface + ": no permission to capture (run as root or grant CAP_NET_RAW): " + why);
            default:
                throw CaptureError(CaptureErrorKind::Other, o.interface + ": cannot capture: " + why);
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

void PcapSource::set_filter(const std::string& expression) {
    if (!handle_->pcap)
        throw CaptureError(CaptureErrorKind::Filter, name_ + ": filters are not supported on pcapng files");
    bpf_program prog{};
    if (pcap_compile(handle_->pcap, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        throw CaptureError(CaptureErrorKind::Filter,
                           name_ + ": bad filter '" + expression + "': " + pcap_geterr(handle_->pcap));
    const int rc = pcap_setfilter(handle_->pcap, &prog);
    pcap_freecode(&prog);
    if (rc != 0)
        throw CaptureError(CaptureErrorKind::Filter, name_ + ": cannot install filter: " + pcap_geterr(handle_->pcap));
}

namespace {
// A pcapng timestamp is 64 bits in units of if_tsresol: libpcap can hand us
// seconds far beyond what fits in int64 microseconds. Clamping to ±year 9999
// keeps every time, and every difference of two times, representable.
constexpr int64_t kMaxTsSeconds = 253402300799;  // 9999-12-31T23:59:59Z

int64_t to_us(const timeval& tv) noexcept {
    const int64_t sec = std::clamp<int64_t>(tv.tv_sec, -kMaxTsSeconds, kMaxTsSeconds);
    const int64_t usec = std::clamp<int64_t>(tv.tv_usec, 0, 999999);
    return sec * 1000000 + usec;
}
}  // namespace

NextStatus PcapSource::next(RawFrame& frame) noexcept {
    if (handle_->pcapng) {
        switch (handle_->pcapng->next(frame)) {
            case PcapngReader::Status::Frame: return NextStatus::Frame;
            case PcapngReader::Status::End: return NextStatus::End;
            case PcapngReader::Status::Error: break;
        }
        if (handle_->mapped && handle_->mapped->shrank())
            error_ = "the file was truncated while it was being read";
        else
            error_ = handle_->pcapng->error();
        return NextStatus::Error;
    }
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_->pcap, &hdr, &data);
    if (rc == 1) {
        frame.ts_us = to_us(hdr->ts);
        frame.linktype = linktype_;
        frame.caplen = hdr->caplen;
        frame.wirelen = hdr->len;
        frame.bytes = ByteView{data, hdr->caplen};
        return NextStatus::Frame;
    }
    if (rc == 0) return NextStatus::Timeout;
    if (rc == PCAP_ERROR_BREAK) return NextStatus::End;
    if (handle_->mapped && handle_->mapped->shrank())
        error_ = "the file was truncated while it was being read";
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
