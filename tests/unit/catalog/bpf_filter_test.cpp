// The default live filter, compiled by libpcap and run
// over frames built here: what must pass untagged, under one VLAN tag and
// under QinQ, what must not, and vendor addresses on unlisted ports.
#include <pcap/pcap.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "catalog/bpf_filter.hpp"
#include "catalog/catalog.hpp"
#include "unit/corpus.hpp"

namespace callwall::catalog {
namespace {

using callwall::test::bundled_catalog;

struct Frame {
    std::vector<uint16_t> tags;  // outer first: 0x88a8 or 0x8100 each
    bool v6 = false;
    uint8_t proto = 17;  // 6 TCP, 17 UDP
    uint8_t dst[16] = {192, 0, 2, 10};
    uint16_t sport = 50000, dport = 0;
};

void put16(std::vector<uint8_t>& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

std::vector<uint8_t> build(const Frame& f) {
    std::vector<uint8_t> b = {0x02, 0, 0x5e, 0, 0, 1, 0x02, 0, 0x0a, 1, 0, 0x0a};
    uint16_t vid = 100;
    for (uint16_t tpid : f.tags) {
        put16(b, tpid);
        put16(b, vid++);
    }
    const size_t l4_len = f.proto == 6 ? 20 : 8;
    if (!f.v6) {
        put16(b, 0x0800);
        const uint8_t ip[20] = {0x45,     0,        0,        static_cast<uint8_t>(20 + l4_len),
                                0,        1,        0x40,     0,
                                64,       f.proto,  0,        0,
                                10,       1,        0,        10,
                                f.dst[0], f.dst[1], f.dst[2], f.dst[3]};
        b.insert(b.end(), ip, ip + 20);
    } else {
        put16(b, 0x86dd);
        const uint8_t ip[8] = {0x60, 0, 0, 0, 0, static_cast<uint8_t>(l4_len), f.proto, 64};
        b.insert(b.end(), ip, ip + 8);
        const uint8_t src[16] = {0xfd, 0x77, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x10};
        b.insert(b.end(), src, src + 16);
        b.insert(b.end(), f.dst, f.dst + 16);
    }
    put16(b, f.sport);
    put16(b, f.dport);
    if (f.proto == 6) {
        const uint8_t tcp[16] = {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
        b.insert(b.end(), tcp, tcp + 16);
    } else {
        put16(b, 8);
        put16(b, 0);
    }
    return b;
}

class Compiled {
public:
    explicit Compiled(const std::string& expr) : dead_(pcap_open_dead(DLT_EN10MB, 65535)) {
        ok_ = pcap_compile(dead_, &prog_, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
        if (!ok_) error_ = pcap_geterr(dead_);
    }
    ~Compiled() {
        if (ok_) pcap_freecode(&prog_);
        pcap_close(dead_);
    }
    Compiled(const Compiled&) = delete;
    Compiled& operator=(const Compiled&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] unsigned instructions() const { return prog_.bf_len; }
    [[nodiscard]] bool passes(const Frame& f) const {
        const std::vector<uint8_t> bytes = build(f);
        pcap_pkthdr h{};
        h.caplen = h.len = static_cast<bpf_u_int32>(bytes.size());
        return passes_bytes(bytes, h);
    }
    [[nodiscard]] bool passes_bytes(const std::vector<uint8_t>& bytes, const pcap_pkthdr& h) const {
        return pcap_offline_filter(&prog_, &h, bytes.data()) != 0;
    }

private:
    pcap_t* dead_;
    bpf_program prog_{};
    bool ok_ = false;
    std::string error_;
};

const std::vector<std::vector<uint16_t>> kDepths = {{}, {0x8100}, {0x88a8, 0x8100}, {0x8100, 0x8100}};

TEST(LiveFilter, CatalogPortsPassAtEveryTagDepthAndOthersDoNot) {
    const Compiled c(live_filter(bundled_catalog(), {}).expression);
    ASSERT_TRUE(c.ok()) << c.error();
    for (const auto& tags : kDepths) {
        SCOPED_TRACE(testing::Message() << tags.size() << " tag(s)");
        Frame dns;
        dns.tags = tags;
        dns.dport = 53;
        EXPECT_TRUE(c.passes(dns));
        Frame tls = dns;
        tls.proto = 6;
        tls.dport = 443;
        EXPECT_TRUE(c.passes(tls));
        Frame media = dns;
        media.dport = 3478;  // inside a destination-ANY UDP range of the catalog
        EXPECT_TRUE(c.passes(media));
        Frame ssh = tls;
        ssh.dport = 22;
        EXPECT_FALSE(c.passes(ssh));
        Frame v6 = tls;
        v6.v6 = true;
        const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        std::copy(a6, a6 + 16, v6.dst);
        EXPECT_TRUE(c.passes(v6));
        v6.dport = 22;
        EXPECT_FALSE(c.passes(v6));
    }
}

// Cisco MetaData (TrustSec inline SGT tags, ethertype 0x8909) hides the IP
// header from libpcap's offsets: those frames pass whole, bare and under a
// VLAN tag, whatever they carry.
TEST(LiveFilter, CiscoMetadataFramesPassWhole) {
    const Compiled c(live_filter(bundled_catalog(), {}).expression);
    ASSERT_TRUE(c.ok()) << c.error();
    Frame ssh;
    ssh.proto = 6;
    ssh.dport = 22;
    for (const std::vector<uint16_t>& tags : {std::vector<uint16_t>{}, std::vector<uint16_t>{0x8100}}) {
        std::vector<uint8_t> b = build(ssh);
        // The ethertype (after the tags) becomes 0x8909 and its header goes in
        // before IPv4's ethertype: version 1, length 1, option 1, SGT 16.
        const size_t at = 12 + 4 * tags.size();
        if (!tags.empty()) b.insert(b.begin() + 12, {0x81, 0x00, 0x00, 0x64});
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), {0x89, 0x09, 0x01, 0x01, 0x00, 0x01, 0x00, 0x10});
        pcap_pkthdr h{};
        h.caplen = h.len = static_cast<bpf_u_int32>(b.size());
        EXPECT_TRUE(c.passes_bytes(b, h)) << tags.size() << " tag(s)";
    }
    EXPECT_FALSE(c.passes(ssh));  // the same segment bare: not a catalog port
}

// Geneve and GTP-U tunnels pass by their ports; MPLS and PPPoE frames,
// whose IP header libpcap's offsets do not see, pass whole.
TEST(LiveFilter, GeneveGtpuMplsAndPppoePass) {
    // No vendor's ports (a vendor the catalog lacks): only what every filter passes.
    const Compiled c(live_filter(bundled_catalog(), {"no-such-vendor"}).expression);
    ASSERT_TRUE(c.ok()) << c.error();
    for (const auto& tags : kDepths) {
        SCOPED_TRACE(testing::Message() << tags.size() << " tag(s)");
        Frame f;
        f.tags = tags;
        f.dport = 6081;
        EXPECT_TRUE(c.passes(f));
        f.dport = 2152;
        EXPECT_TRUE(c.passes(f));
        f.dport = 2153;
        EXPECT_FALSE(c.passes(f));
    }
    Frame ssh;
    ssh.proto = 6;
    ssh.dport = 22;
    for (const uint16_t type : {uint16_t{0x8847}, uint16_t{0x8848}, uint16_t{0x8864}}) {
        for (const bool tagged : {false, true}) {
            std::vector<uint8_t> b = build(ssh);
            const size_t at = 12 + (tagged ? 4 : 0);
            if (tagged) b.insert(b.begin() + 12, {0x81, 0x00, 0x00, 0x64});
            // The ethertype becomes `type`, a label (or the PPPoE header and PPP's IPv4) before the packet.
            b[at] = static_cast<uint8_t>(type >> 8);
            b[at + 1] = static_cast<uint8_t>(type);
            if (type == 0x8864)
                b.insert(b.begin() + static_cast<std::ptrdiff_t>(at + 2),
                         {0x11, 0x00, 0x12, 0x34, 0x00, 0x30, 0x00, 0x21});
            else
                b.insert(b.begin() + static_cast<std::ptrdiff_t>(at + 2), {0x00, 0x3e, 0x81, 0x40});
            pcap_pkthdr h{};
            h.caplen = h.len = static_cast<bpf_u_int32>(b.size());
            EXPECT_TRUE(c.passes_bytes(b, h)) << std::hex << type << (tagged ? " tagged" : "");
        }
    }
}

TEST(LiveFilter, VendorAddressesPassOnUnlistedPorts) {
    const std::vector<std::string> addrs = {"192.0.2.10", "2001:db8::1", "192.0.2.10", "not-an-address; or ip"};
    const LiveFilter f = live_filter(bundled_catalog(), {}, addrs);
    EXPECT_EQ(f.addresses, 2u);  // the duplicate and the non-address are not taken
    EXPECT_EQ(f.addresses_left_out, 0u);
    EXPECT_EQ(f.expression.find("not-an-address"), std::string::npos);
    const Compiled c(f.expression);
    ASSERT_TRUE(c.ok()) << c.error();
    for (const auto& tags : kDepths) {
        SCOPED_TRACE(testing::Message() << tags.size() << " tag(s)");
        Frame gap;
        gap.tags = tags;
        gap.proto = 6;
        gap.dport = 22;  // no catalog entry lists TCP 22: a catalog gap if the vendor uses it
        EXPECT_TRUE(c.passes(gap));
        Frame other = gap;
        other.dst[3] = 11;
        EXPECT_FALSE(c.passes(other));
        Frame v6 = gap;
        v6.v6 = true;
        const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        std::copy(a6, a6 + 16, v6.dst);
        EXPECT_TRUE(c.passes(v6));
        v6.dst[15] = 2;
        EXPECT_FALSE(c.passes(v6));
    }
}

// The bound keeps the compiled program within the kernel's 4096 classic-BPF
// instructions (BPF_MAXINSNS) with the whole catalog and as many addresses
// of each family as it takes.
TEST(LiveFilter, FullFilterFitsTheKernelsInstructionLimit) {
    std::vector<std::string> addrs;
    for (int i = 0; i < 200; ++i) {
        addrs.push_back("198.51." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
        addrs.push_back("2001:db8::" + std::to_string(i + 1));
    }
    const LiveFilter f = live_filter(bundled_catalog(), {}, addrs);
    EXPECT_EQ(f.addresses, kMaxFilterAddresses);
    EXPECT_EQ(f.addresses_left_out, addrs.size() - kMaxFilterAddresses);
    const Compiled c(f.expression);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_LE(c.instructions(), 4096u);
    // IPv6 addresses cost the most (four words each way): the worst case.
    std::vector<std::string> v6;
    for (size_t i = 0; i < kMaxFilterAddresses; ++i) v6.push_back("2001:db8:1::" + std::to_string(i + 1));
    const Compiled worst(live_filter(bundled_catalog(), {}, v6).expression);
    ASSERT_TRUE(worst.ok()) << worst.error();
    EXPECT_LE(worst.instructions(), 4096u);
}

TEST(LiveFilter, VendorSelectionNarrowsThePorts) {
    const Compiled all(live_filter(bundled_catalog(), {}).expression);
    const Compiled whereby(live_filter(bundled_catalog(), {"WHEREBY"}).expression);
    ASSERT_TRUE(all.ok() && whereby.ok());
    Frame agora;
    agora.proto = 6;
    agora.dport = 30011;  // Agora's RTMP converter, not a Whereby port
    EXPECT_TRUE(all.passes(agora));
    EXPECT_FALSE(whereby.passes(agora));
}

}  // namespace
}  // namespace callwall::catalog
