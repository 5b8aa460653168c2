// The probe's own capture. See probe/capture.hpp.
#include "probe/capture.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "probe/address.hpp"
#include "probe/wire.hpp"
#include "util/clock.hpp"
#include "util/thread_without_signals.hpp"

namespace callwall::probe {
namespace {

constexpr uint32_t kLinkEthernet = 1;  // LINKTYPE_ETHERNET
constexpr uint16_t kClientPort = 53535;

using util::mono_s;
using util::wall_us;

void put32le(std::FILE* f, uint32_t v) {
    const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                          static_cast<uint8_t>(v >> 24)};
    std::fwrite(b, 1, 4, f);
}

}  // namespace

std::string bpf_for(const std::vector<std::string>& destinations) {
    std::string f;
    for (const auto& d : destinations) f += (f.empty() ? "host " : " or host ") + d;
    if (f.empty()) return f;
    // The errors a probe can meet come from whoever said no, often a router
    // or firewall whose address is none of the destinations: destination
    // unreachable and time exceeded (attribution ties each to the probe it
    // quotes).
    return f + " or (icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed))" +
           " or (icmp6 and (ip6[40] == 1 or ip6[40] == 3))";
}

std::string route_source(const std::string& dest, std::string* iface) {
    const std::optional<SockAddr> to = parse_address(dest, 9);
    if (!to) return {};
    const int fd = ::socket(to->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {};
    SockAddr local;
    socklen_t len = sizeof local.ss;
    const bool ok = ::connect(fd, to->get(), to->len) == 0 && ::getsockname(fd, local.get(), &len) == 0;
    ::close(fd);
    if (!ok) return {};
    local.len = len;
    const ByteView mine = local.ip();
    const auto same = [&](ByteView other) { return std::equal(mine.begin(), mine.end(), other.begin(), other.end()); };
    ifaddrs* ifs = nullptr;
    if (iface && ::getifaddrs(&ifs) == 0) {
        for (ifaddrs* i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != local.family()) continue;
            SockAddr a;
            std::memcpy(&a.ss, i->ifa_addr, local.family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
            if (same(a.ip())) {
                *iface = i->ifa_name;
                break;
            }
        }
        ::freeifaddrs(ifs);
    }
    // A destination on this host itself goes out over loopback.
    if (iface && same(to->ip())) *iface = "lo";
    return local.text();
}

namespace {

// The one's-complement sum of big-endian 16-bit words (RFC 1071), unfolded.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
    if (n % 2) sum += uint32_t{p[n - 1]} << 8;
    return sum;
}
uint16_t folded(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// The DNS message: a question for `name` of the record type `addr` needs (A
// for IPv4, AAAA for IPv6) and, for an answer, that one record.
std::vector<uint8_t> dns_message(const std::string& name, const SockAddr& addr, bool answer, uint16_t id) {
    const bool aaaa = addr.family() == AF_INET6;
    const uint16_t type = aaaa ? 28 : 1;  // RFC 3596 §2.1 AAAA, RFC 1035 §3.2.2 A
    std::vector<uint8_t> dns;
    put16(dns, id);
    put16(dns, answer ? 0x8180 : 0x0100);  // RFC 1035 §4.1.1: QR, RD, RA
    put16(dns, 1);
    put16(dns, answer ? 1 : 0);
    put16(dns, 0);
    put16(dns, 0);
    size_t start = 0;
    for (size_t i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == '.') {
            dns.push_back(static_cast<uint8_t>(std::min<size_t>(i - start, 63)));
            dns.insert(dns.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                       name.begin() + static_cast<std::ptrdiff_t>(start + std::min<size_t>(i - start, 63)));
            start = i + 1;
        }
    }
    dns.push_back(0);
    put16(dns, type);
    put16(dns, 1);  // IN
    if (answer) {
        put16(dns, 0xC00C);  // the question's name
        put16(dns, type);
        put16(dns, 1);
        put16(dns, 0);
        put16(dns, 60);  // TTL
        const ByteView a = addr.ip();
        put16(dns, static_cast<uint16_t>(a.size()));
        dns.insert(dns.end(), a.begin(), a.end());
    }
    return dns;
}

}  // namespace

std::vector<uint8_t> dns_frame(const std::string& name, const std::string& addr, const std::string& local, bool answer,
                               uint16_t id) {
    const std::optional<SockAddr> to = parse_address(addr);
    const std::optional<SockAddr> me = parse_address(local);
    if (!to || !me) return {};
    const std::vector<uint8_t> dns = dns_message(name, *to, answer, id);
    const ByteView mp = me->ip();
    const bool v6 = me->family() == AF_INET6;
    const auto udp_len = static_cast<uint16_t>(8 + dns.size());
    std::vector<uint8_t> f(12, 0);  // Ethernet: zero MACs
    put16(f, v6 ? 0x86DD : 0x0800);
    const size_t ip = f.size();
    if (v6) {
        // RFC 8200 §3: version 6, no traffic class or flow label, UDP, hop limit 64.
        put16(f, 0x6000);
        put16(f, 0);
        put16(f, udp_len);
        f.push_back(17);
        f.push_back(64);
    } else {
        put16(f, 0x4500);
        put16(f, static_cast<uint16_t>(20 + udp_len));
        put16(f, id);
        put16(f, 0x4000);  // DF
        f.push_back(64);
        f.push_back(17);
        put16(f, 0);  // checksum below
    }
    f.insert(f.end(), mp.begin(), mp.end());
    f.insert(f.end(), mp.begin(), mp.end());
    if (!v6) {
        const uint16_t c = folded(sum16(f.data() + ip, 20));
        f[ip + 10] = static_cast<uint8_t>(c >> 8);
        f[ip + 11] = static_cast<uint8_t>(c);
    }
    const size_t udp = f.size();
    put16(f, answer ? 53 : kClientPort);
    put16(f, answer ? kClientPort : 53);
    put16(f, udp_len);
    put16(f, 0);  // checksum below (none for IPv4, RFC 768; required for IPv6, RFC 8200 §8.1)
    f.insert(f.end(), dns.begin(), dns.end());
    if (v6) {
        // Pseudo-header: source, destination, upper-layer length, next header.
        uint32_t sum = sum16(mp.data(), 16, sum16(mp.data(), 16));
        sum += udp_len;
        sum += 17;
        uint16_t c = folded(sum16(f.data() + udp, f.size() - udp, sum));
        if (c == 0) c = 0xFFFF;
        f[udp + 6] = static_cast<uint8_t>(c >> 8);
        f[udp + 7] = static_cast<uint8_t>(c);
    }
    return f;
}

ProbeCapture::ProbeCapture(const std::string& iface, const std::vector<std::string>& destinations,
                           const std::string& path, int buffer_mb) {
    capture::LiveOptions lo;
    lo.interface = iface;
    lo.promiscuous = false;
    lo.immediate = true;  // a few probes a second: each packet at once (as before blocks became the default)
    lo.buffer_size_mb = buffer_mb;
    lo.filter = bpf_for(destinations);
    src_ = capture::PcapSource::open_live(lo);
    src_->set_nonblocking();
    out_ = std::fopen(path.c_str(), "wb");
    if (!out_) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    // pcap file header (little endian, microseconds, snaplen 262144).
    put32le(out_, 0xa1b2c3d4);
    put32le(out_, 2 | (4u << 16));
    put32le(out_, 0);
    put32le(out_, 0);
    put32le(out_, 262144);
    put32le(out_, src_->linktype());
}

ProbeCapture::~ProbeCapture() {
    if (thread_.joinable()) stop(0);
    if (out_) std::fclose(out_);
}

void ProbeCapture::write(int64_t ts_us, const uint8_t* data, uint32_t caplen, uint32_t wirelen) {
    put32le(out_, static_cast<uint32_t>(ts_us / 1000000));
    put32le(out_, static_cast<uint32_t>(ts_us % 1000000));
    put32le(out_, caplen);
    put32le(out_, wirelen);
    std::fwrite(data, 1, caplen, out_);
}

bool ProbeCapture::write_names(const std::map<std::string, std::string>& names, const std::string& local) {
    if (src_->linktype() != kLinkEthernet) return false;
    int64_t ts = wall_us() - 1000;
    uint16_t id = 0x4341;
    for (const auto& [name, addr] : names) {
        for (bool answer : {false, true}) {
            const auto f = dns_frame(name, addr, local, answer, id);
            write(ts++, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()));
        }
        ++id;
    }
    return true;
}

void ProbeCapture::start() {
    thread_ = util::thread_without_signals("callwall-probe", [this] { loop(); });
}

void ProbeCapture::loop() {
    decode::RawFrame frame;
    double stop_at = 0;
    // Bounded: after stop() it reads for at most linger_s_ more, ending early once the queue is empty.
    for (;;) {
        const auto st = src_->next(frame);
        if (st == capture::NextStatus::Frame) {
            write(frame.ts_us, frame.bytes.data(), frame.caplen, frame.wirelen);
            ++frames_;
            continue;
        }
        if (st != capture::NextStatus::Timeout) return;
        if (stop_.load()) {
            if (stop_at == 0) stop_at = mono_s() + linger_s_;
            if (mono_s() >= stop_at) return;
        }
        pollfd p{src_->selectable_fd(), POLLIN, 0};
        (void)::poll(&p, 1, 20);
    }
}

void ProbeCapture::stop(double linger_s) {
    linger_s_ = linger_s;
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (src_) {
        const auto st = src_->stats();
        kernel_dropped_ = st.kernel_dropped + st.interface_dropped;
    }
    if (out_) {
        std::fclose(out_);
        out_ = nullptr;
    }
}

}  // namespace callwall::probe
