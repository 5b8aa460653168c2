// libpcap-backed sources. See capture/pcap_source.hpp.
#include "callwall/capture/pcap_source.hpp"

#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "callwall/capture/mapped_file.hpp"
#include "callwall/decode/packet.hpp"

namespace callwall::capture {

struct PcapSource::Handle {
    pcap_t* pcap = nullptr;
    std::unique_ptr<MappedFile> mapped;  ///< what pcap reads, for a mapped file; outlives pcap's stream
    ~Handle() {
        if (pcap) pcap_close(pcap);
    }
};

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

void PcapSource::break_loop() noexcept { pcap_breakloop(handle_->pcap); }

int PcapSource::selectable_fd() const noexcept { return live_ ? pcap_get_selectable_fd(handle_->pcap) : -1; }

}  // namespace callwall::capture
