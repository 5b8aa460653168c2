// The probe's own capture: libpcap on the outgoing interface, filtered to the
// probe destinations, written to a pcap file that `analyze`'s pipeline then
// judges. Before the captured frames the file holds, per name the probe used,
// a DNS query and answer (from and to the probe's own address, port 53) that
// record the resolution the probe acted on (the system resolver, --resolve or
// the reflector), so attribution ties each flow to its name as it does for a
// client's DNS traffic; the probe's report says these frames are its own.
// Supported link types for those frames: Ethernet (veths, loopback, most
// NICs); on others the names are missing and a note says so.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "capture/pcap_source.hpp"

namespace callwall::probe {

/// "host A or host B ... or ICMP/ICMPv6 destination unreachable or time
/// exceeded" (the errors a router or firewall sends from an address of its
/// own); an empty list gives "".
std::string bpf_for(const std::vector<std::string>& destinations);

/// The local address (of `dest`'s family) the kernel uses toward `dest`, and
/// its interface name in *iface; "" when there is no route.
std::string route_source(const std::string& dest, std::string* iface);

/// One Ethernet frame carrying a UDP DNS message over IPv4 or IPv6 (the
/// family of `local`, both of whose ends it is): a query for `name` (answer
/// false) or its answer with one record `addr`, A for an IPv4 address, AAAA
/// for IPv6. Empty when an address is not a literal.
std::vector<uint8_t> dns_frame(const std::string& name, const std::string& addr, const std::string& local, bool answer,
                               uint16_t id);

class ProbeCapture {
public:
    /// Opens the interface (throws capture::CaptureError) with a kernel
    /// buffer of buffer_mb MiB, and the output file (throws std::runtime_error).
    ProbeCapture(const std::string& iface, const std::vector<std::string>& destinations, const std::string& path,
                 int buffer_mb = 8);
    ~ProbeCapture();
    ProbeCapture(const ProbeCapture&) = delete;
    ProbeCapture& operator=(const ProbeCapture&) = delete;

    /// Writes the DNS frames for `names` (host -> address); false when the link type has no Ethernet header.
    bool write_names(const std::map<std::string, std::string>& names, const std::string& local);
    /// Starts reading on a thread.
    void start();
    /// Reads what is still queued (at most linger_s more), stops and closes the file.
    void stop(double linger_s);
    [[nodiscard]] uint64_t frames() const noexcept { return frames_.load(); }
    /// The packets the kernel dropped before this capture read them (read
    /// when stop() closes the interface; 0 before).
    [[nodiscard]] uint64_t kernel_dropped() const noexcept { return kernel_dropped_; }

private:
    void write(int64_t ts_us, const uint8_t* data, uint32_t caplen, uint32_t wirelen);
    void loop();

    std::unique_ptr<capture::PcapSource> src_;
    std::FILE* out_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> frames_{0};
    double linger_s_ = 0;
    uint64_t kernel_dropped_ = 0;
};

}  // namespace callwall::probe
