// parse_frame's fixed-offset fast path (Ethernet with at most one 802.1Q
// tag, IPv4 without
// options or fragmentation, complete UDP/TCP header) must fill exactly what
// the general layer-by-layer path fills, and refuse everything else. Checked
// on every Ethernet frame of the repository's captures (and the public set
// when ../shared is present), and on mutations of each frame aimed at the
// fields the fast path reads: lengths, IHL, fragment bits, data offset, and
// every truncation of the headers.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "capture/pcap_source.hpp"
#include "decode/packet.hpp"
#include "golden/run_util.hpp"
#include "unit/decode/packet_meta_equal.hpp"
#include "unit/test_util.hpp"

namespace callwall::decode {
namespace {

namespace fs = std::filesystem;

struct Checked {
    size_t frames = 0;
    size_t fast_shaped = 0;  ///< IPv4 with IHL 5, untagged or one tag: the shape the fast path takes
    size_t mismatches = 0;
};

// A PacketMeta as a previous frame may leave it: every field the decoders set
// holds something.
PacketMeta dirty_meta() {
    PacketMeta m;
    m.vlan_outer = 7, m.vlan_inner = 9, m.vlan_count = 2;
    m.src.family = 6, m.src.bytes.fill(0xAB), m.dst.family = 6, m.dst.bytes.fill(0xCD);
    m.ip_version = 6, m.proto = 58, m.ttl = 3, m.ip_total_len = 999;
    m.is_fragment = m.later_fragment = true, m.frag_id = 77;
    m.sport = 1, m.dport = 2, m.tcp_flags = 0xFF, m.tcp_seq = 5, m.tcp_ack = 6, m.tcp_window = 8;
    m.payload_wire_len = 1234;
    m.icmp_type = 3, m.icmp_code = 4, m.icmp_error = true;
    m.quoted.src.family = 4, m.quoted.proto = 17, m.quoted.sport = 53;
    m.anomalies = 0xFFFF, m.snap_truncated = true, m.encap = Encap::Gre, m.encap_depth = 2;
    m.tunnel_src.family = 4, m.tunnel_dst.family = 4;
    return m;
}

// Decodes the frame both ways and records a disagreement.
void check_frame(ByteView f, Checked& c, const std::string& where) {
    PacketMeta fast, general;
    const LayerStatus a = parse_frame(1, f, fast);
    const LayerStatus b = parse_ethernet(f, general);
    ++c.frames;
    if ((f.size() >= 15 && f[12] == 0x08 && f[13] == 0x00 && f[14] == 0x45) ||
        (f.size() >= 19 && f[12] == 0x81 && f[13] == 0x00 && f[16] == 0x08 && f[17] == 0x00 && f[18] == 0x45))
        ++c.fast_shaped;
    const bool agree = a.ok == b.ok && (a.ok ? test::same_meta(fast, general)
                                             : a.error.code == b.error.code && a.error.offset == b.error.offset);
    if (!agree && ++c.mismatches <= 5) ADD_FAILURE() << where << ": fast and general decodes differ";
    // The packet path's entry point: the same verdict and the same fields,
    // into a PacketMeta left dirty by another frame (it must reset it).
    PacketMeta reused = dirty_meta();
    const bool ok = parse_frame_ok(1, f, reused);
    if ((ok != a.ok || (ok && !test::same_meta(reused, fast))) && ++c.mismatches <= 5)
        ADD_FAILURE() << where << ": parse_frame_ok differs from parse_frame";
}

// Variants of one frame that move the fields the fast path reads across
// their boundaries.
void check_mutations(const std::vector<uint8_t>& frame, Checked& c, const std::string& where) {
    if (frame.size() < 14 + 20) return;
    auto with = [&](size_t off, uint8_t v) {
        std::vector<uint8_t> m = frame;
        if (off < m.size()) m[off] = v;
        return m;
    };
    std::vector<std::vector<uint8_t>> variants;
    const size_t ip = 14;
    for (uint8_t v : {0x44, 0x46, 0x4f, 0x65, 0x35}) variants.push_back(with(ip, v));  // version / IHL
    for (uint8_t v : {0x00, 0x01, 0x14, 0x1c, 0xff}) variants.push_back(with(ip + 2, v));  // total length hi
    for (uint8_t v : {0x00, 0x13, 0x1b, 0x27, 0xff}) variants.push_back(with(ip + 3, v));  // total length lo
    for (uint8_t v : {0x20, 0x40, 0x01, 0x1f, 0x60}) variants.push_back(with(ip + 6, v));  // MF / DF / offset
    for (uint8_t v : {0x01, 0x80}) variants.push_back(with(ip + 7, v));  // offset low bits
    for (uint8_t v : {1, 6, 17, 47, 58, 132}) variants.push_back(with(ip + 9, v));  // protocol
    for (uint8_t v : {0x00, 0x07, 0x08, 0xff}) variants.push_back(with(ip + 20 + 5, v));  // UDP length lo
    for (uint8_t v : {0x00, 0x10, 0xff}) variants.push_back(with(ip + 20 + 4, v));  // UDP length hi
    for (uint8_t v : {0x12, 0xb5}) variants.push_back(with(ip + 20 + 3, v));  // dport lo (4789 = 0x12b5)
    for (uint8_t v : {0x00, 0x40, 0x50, 0x60, 0xf0}) variants.push_back(with(ip + 20 + 12, v));  // TCP data offset
    variants.push_back(with(12, 0x81));  // not IPv4
    {
        std::vector<uint8_t> tagged(frame.begin(), frame.begin() + 12);  // the same frame behind an 802.1Q tag
        for (uint8_t b : {0x81, 0x00, 0x20, 0x07}) tagged.push_back(b);
        tagged.insert(tagged.end(), frame.begin() + 12, frame.end());
        variants.push_back(tagged);
        tagged[16] = 0x86, tagged[17] = 0xdd;  // tag, then IPv6 ethertype over IPv4 bytes
        variants.push_back(tagged);
        tagged[16] = 0x81, tagged[17] = 0x00;  // two tags' worth of ethertype
        variants.push_back(std::move(tagged));
    }
    for (size_t cut = 0; cut < std::min<size_t>(frame.size(), 80); ++cut)
        variants.emplace_back(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(cut));
    {
        std::vector<uint8_t> padded = frame;  // Ethernet padding after the datagram
        padded.resize(frame.size() + 18, 0);
        variants.push_back(std::move(padded));
    }
    for (const auto& v : variants) check_frame(ByteView{v.data(), v.size()}, c, where + " (mutated)");
}

void check_file(const fs::path& file, Checked& c, bool mutate) {
    std::unique_ptr<capture::PcapSource> src;
    try {
        src = capture::PcapSource::open_file(file.string());
    } catch (const capture::CaptureError&) {
        return;  // not a capture (damaged fixtures are the robustness tests' business)
    }
    if (src->linktype() != 1) return;
    decode::RawFrame fr;
    size_t n = 0;
    while (src->next(fr) == capture::NextStatus::Frame) {
        const std::string where = file.filename().string() + " frame " + std::to_string(++n);
        check_frame(fr.bytes, c, where);
        if (mutate) check_mutations(std::vector<uint8_t>(fr.bytes.begin(), fr.bytes.end()), c, where);
    }
}

std::vector<fs::path> pcaps_under(const fs::path& dir) {
    std::vector<fs::path> out;
    if (!fs::is_directory(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(PacketFastPath, AgreesWithTheGeneralPathOnRepositoryCaptures) {
    Checked c;
    for (const auto& f : pcaps_under(fs::path(test::source_dir()) / "captures")) check_file(f, c, true);
    EXPECT_EQ(c.mismatches, 0u);
    // The comparison must have covered the fast path's shape, many times over.
    EXPECT_GT(c.fast_shaped, 1000u);
    EXPECT_GT(c.frames, c.fast_shaped);
}

TEST(PacketFastPath, AgreesWithTheGeneralPathOnPublicCaptures) {
    const fs::path dir = fs::path(CALLWALL_SHARED_DIR) / "captures" / "public";
    if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " is absent (../shared not beside the repository)";
    Checked c;
    for (const auto& f : pcaps_under(dir)) check_file(f, c, false);
    EXPECT_EQ(c.mismatches, 0u);
    EXPECT_GT(c.fast_shaped, 1000u);
}

// A minimal frame of each fast-path shape decodes to the expected fields.
TEST(PacketFastPath, UdpAndTcpFieldsAreFilled) {
    const auto udp = test::hex(
        "020000000002 020000000001 0800"
        "4500 0020 1234 4000 4011 0000 c0000201 c6336401"
        "d431 0d96 000c 0000 deadbeef");
    PacketMeta m;
    ASSERT_TRUE(parse_frame(1, test::view(udp), m).ok);
    EXPECT_EQ(m.ip_version, 4);
    EXPECT_EQ(to_string(m.src), "192.0.2.1");
    EXPECT_EQ(to_string(m.dst), "198.51.100.1");
    EXPECT_EQ(m.sport, 54321);
    EXPECT_EQ(m.dport, 3478);
    EXPECT_EQ(m.ttl, 64);
    EXPECT_EQ(m.frag_id, 0x1234u);
    EXPECT_EQ(m.payload.size(), 4u);
    EXPECT_EQ(m.payload_wire_len, 4u);
    EXPECT_FALSE(m.is_fragment);

    const auto tcp = test::hex(
        "020000000002 020000000001 0800"
        "4500 0029 0001 0000 3f06 0000 c0000201 c6336401"
        "d431 01bb 00000064 000000c8 5018 0200 0000 0000 16");
    ASSERT_TRUE(parse_frame(1, test::view(tcp), m).ok);
    EXPECT_EQ(m.proto, kProtoTcp);
    EXPECT_EQ(m.dport, 443);
    EXPECT_EQ(m.tcp_seq, 100u);
    EXPECT_EQ(m.tcp_ack, 200u);
    EXPECT_EQ(m.tcp_flags, kTcpAck | kTcpPsh);
    EXPECT_EQ(m.tcp_window, 512);
    ASSERT_EQ(m.payload.size(), 1u);
    EXPECT_EQ(m.payload[0], 0x16);
    // Reusing the same PacketMeta: nothing of the TCP packet survives into a UDP one.
    ASSERT_TRUE(parse_frame(1, test::view(udp), m).ok);
    EXPECT_EQ(m.tcp_seq, 0u);
    EXPECT_EQ(m.tcp_flags, 0);
}

}  // namespace
}  // namespace callwall::decode
