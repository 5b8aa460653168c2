// IPv4/IPv6 fragment reassembly. See decode/ip_reassembly.hpp.
#include "decode/ip_reassembly.hpp"

#include <algorithm>
#include <cstring>

#include "decode/layers.hpp"

namespace callwall::decode {
namespace {

// Bookkeeping is in 8-octet blocks, the unit of the fragment offset.
constexpr uint32_t kBlocks = (IpReassembler::kMaxDatagramBytes + 7) / 8;  // 8192
constexpr uint32_t kBlockWords = (kBlocks + 63) / 64;
// Room before the data for the rebuilt header: an IPv4 header with options
// (≤ 60) or an IPv6 header plus a Fragment header (48).
constexpr size_t kHeaderRoom = 64;
constexpr size_t kSlotBytes = kHeaderRoom + IpReassembler::kMaxDatagramBytes + 1;
using detail::kMaxExtHeaders;  // the same bound on the extension chain as decode/packet.cpp

/*
   IPv4 (RFC 791 §3.1): Flags (3 bits: 0, DF, MF) | Fragment Offset (13 bits, 8-octet units)
   IPv6 Fragment header (RFC 8200 §4.5):
   |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
   |                         Identification                        |
*/
bool parse_fragment_v4(ByteView ip, FragmentView& out) noexcept {
    Reader r{ip};
    const uint8_t vihl = r.u8();
    r.skip(1);
    const uint16_t total_len = r.u16();
    const uint16_t id = r.u16();
    const uint16_t frag = r.u16();
    r.skip(1);
    const uint8_t proto = r.u8();
    r.skip(2);
    const ByteView src = r.bytes(4), dst = r.bytes(4);
    if (!r.ok()) return false;
    const size_t ihl = static_cast<size_t>(vihl & 0x0F) * 4;
    if (ihl < 20 || ihl > ip.size() || total_len < ihl) return false;
    out.ip_version = 4;
    out.src = IpAddr::from_bytes(src);
    out.dst = IpAddr::from_bytes(dst);
    out.id = id;
    out.proto = proto;
    out.offset = uint32_t{frag & 0x1FFFu} * 8;
    out.more = (frag & 0x2000) != 0;
    if (out.offset == 0 && !out.more) return false;
    out.header = ip.first(ihl);
    out.data_wire_len = total_len - static_cast<uint32_t>(ihl);
    out.data = ip.subspan(ihl, std::min<size_t>(ip.size() - ihl, out.data_wire_len));
    return true;
}

bool parse_fragment_v6(ByteView ip, FragmentView& out) noexcept {
    Reader r{ip};
    r.skip(4);
    const uint16_t payload_len = r.u16();
    uint8_t nh = r.u8();
    r.skip(1);
    const ByteView src = r.bytes(16), dst = r.bytes(16);
    if (!r.ok()) return false;
    const size_t datagram_len = payload_len ? 40u + payload_len : ip.size();
    for (int i = 0; i < kMaxExtHeaders; ++i) {
        if (nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140) {
            const uint8_t next = r.u8();
            const uint8_t len = r.u8();
            r.skip(size_t{len} * 8 + 6);
            nh = next;
        } else if (nh == 51) {
            const uint8_t next = r.u8();
            const uint8_t len = r.u8();
            r.skip((size_t{len} + 2) * 4 - 2);
            nh = next;
        } else if (nh == 44) {
            const uint8_t next = r.u8();
            r.skip(1);
            const uint16_t off_flags = r.u16();
            const uint32_t id = r.u32();
            if (!r.ok() || r.offset() > datagram_len) return false;
            out.ip_version = 6;
            out.src = IpAddr::from_bytes(src);
            out.dst = IpAddr::from_bytes(dst);
            out.id = id;
            out.proto = next;
            out.offset = off_flags & 0xFFF8u;  // 13 bits of 8-octet units, already shifted by 3
            out.more = (off_flags & 0x0001) != 0;
            out.header = ip.first(40);
            out.data_wire_len = static_cast<uint32_t>(datagram_len - r.offset());
            const ByteView rest = r.rest();
            out.data = rest.first(std::min<size_t>(rest.size(), out.data_wire_len));
            return true;
        } else {
            return false;
        }
        if (!r.ok()) return false;
    }
    return false;
}

void store_u16(uint8_t* p, uint32_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

}  // namespace

bool parse_fragment(ByteView ip, FragmentView& out) noexcept {
    out = FragmentView{};
    if (ip.empty()) return false;
    switch (ip[0] >> 4) {
        case 4: return parse_fragment_v4(ip, out);
        case 6: return parse_fragment_v6(ip, out);
        default: return false;
    }
}

struct IpReassembler::Slot {
    bool used = false;
    bool failed = false;  ///< can no longer complete; absorbs its fragments until released
    bool cut = false;  ///< a fragment was cut by the snaplen
    bool have_first = false;
    bool end_known = false;  ///< the last fragment (MF/M clear) was seen
    uint8_t ip_version = 0;
    uint8_t proto = 0;  ///< IPv4: part of the key
    uint8_t first_nh = 0;  ///< IPv6: the first fragment's Next Header
    uint8_t hdr_len = 0;
    uint8_t hdr[60] = {};
    IpAddr src, dst;
    uint32_t id = 0;
    uint32_t index = 0;  ///< which buffer
    int64_t start_us = 0;  ///< capture clock at the first fragment seen
    uint64_t order = 0;  ///< sequence of the first fragment seen (IpReassembler::at)
    int64_t last_ts_us = 0;  ///< frame time of the latest fragment
    int64_t first_ts_us = 0;  ///< frame time of the earliest fragment
    uint32_t end = 0;  ///< data length, once end_known
    uint32_t max_end = 0;  ///< furthest data end any fragment claimed
    uint32_t blocks_set = 0;
    uint32_t fragments = 0;
    uint64_t wire_bytes = 0;
    // Link context of the first fragment seen, restored on the released packet.
    uint16_t vlan_outer = 0, vlan_inner = 0;
    uint8_t vlan_count = 0;
    Encap encap = Encap::None;
    uint8_t encap_depth = 0;
    IpAddr tunnel_src, tunnel_dst;
    uint64_t blocks[kBlockWords] = {};

    [[nodiscard]] bool block(uint32_t b) const noexcept { return (blocks[b / 64] >> (b % 64)) & 1u; }
};

IpReassembler::IpReassembler()
    : slots_(new Slot[kMaxDatagrams]),
      // Not value-initialised: the pages are touched only when a slot is used.
      buffers_(new uint8_t[kMaxDatagrams * kSlotBytes]) {
    for (size_t i = 0; i < kMaxDatagrams; ++i) slots_[i].index = static_cast<uint32_t>(i);
}

IpReassembler::~IpReassembler() = default;

uint8_t* IpReassembler::buffer(const Slot& s) noexcept { return buffers_.get() + size_t{s.index} * kSlotBytes; }

IpReassembler::Slot* IpReassembler::find_or_start(const FragmentView& f, const PacketMeta& m) noexcept {
    Slot* free_slot = nullptr;
    Slot* oldest = nullptr;
    for (size_t i = 0; i < kMaxDatagrams; ++i) {
        Slot& s = slots_[i];
        if (!s.used) {
            if (!free_slot) free_slot = &s;
            continue;
        }
        if (s.id == f.id && s.ip_version == f.ip_version && (f.ip_version == 6 || s.proto == f.proto) &&
            s.src == f.src && s.dst == f.dst)
            return &s;
        if (!oldest || s.start_us < oldest->start_us) oldest = &s;
    }
    if (!free_slot) {
        ++stats_.evicted;
        release(*oldest, Why::Evicted);
        free_slot = oldest;
    }
    Slot& s = *free_slot;
    s.used = true;
    s.ip_version = f.ip_version;
    s.proto = f.proto;
    s.src = f.src;
    s.dst = f.dst;
    s.id = f.id;
    s.start_us = clock_us_;
    s.order = seq_;
    s.vlan_outer = m.vlan_outer;
    s.vlan_inner = m.vlan_inner;
    s.vlan_count = m.vlan_count;
    s.encap = m.encap;
    s.encap_depth = m.encap_depth;
    s.tunnel_src = m.tunnel_src;
    s.tunnel_dst = m.tunnel_dst;
    ++live_;
    return &s;
}

void IpReassembler::add(const PacketMeta& m, int64_t ts_us) noexcept {
    ++stats_.fragments;
    clock_us_ = std::max(clock_us_, ts_us);
    FragmentView f;
    if (!parse_fragment(m.frag_ip, f)) {
        ++stats_.unattributed;
        if (on_release_) on_release_(Released{nullptr, false, 1, m.ip_total_len, ts_us, ts_us});
        return;
    }
    Slot& s = *find_or_start(f, m);
    if (s.fragments == 0 || ts_us < s.first_ts_us) s.first_ts_us = ts_us;
    ++s.fragments;
    s.wire_bytes += m.ip_total_len;
    s.last_ts_us = ts_us;
    if (s.failed) return;

    auto give_up = [&](uint64_t& counter) {
        ++counter;
        s.failed = true;
    };
    // IPv4 adds at least a 20-byte header to the data; IPv6 counts the data alone.
    const uint64_t limit = kMaxDatagramBytes - (f.ip_version == 4 ? 20u : 0u);
    if (uint64_t{f.offset} + f.data_wire_len > limit) return give_up(stats_.invalid);
    const uint32_t frag_end = f.offset + f.data_wire_len;
    // Every fragment but the last carries a multiple of 8 octets (RFC 791,
    // RFC 8200 §4.5).
    if (f.more && f.data_wire_len % 8 != 0) return give_up(stats_.invalid);
    if (!f.more) {
        if ((s.end_known && s.end != frag_end) || s.max_end > frag_end) return give_up(stats_.invalid);
        s.end_known = true;
        s.end = frag_end;
    } else if (s.end_known && frag_end > s.end) {
        return give_up(stats_.invalid);
    }
    s.max_end = std::max(s.max_end, frag_end);

    const uint32_t captured = static_cast<uint32_t>(std::min<size_t>(f.data.size(), f.data_wire_len));
    if (captured < f.data_wire_len) {
        // What was captured still counts for the first fragment's part; the
        // datagram can no longer complete.
        ++stats_.cut;
        s.cut = true;
    }
    // Blocks this fragment fills entirely (the datagram's last, short block
    // counts once the data up to the end is there).
    const uint32_t first_block = f.offset / 8;
    const uint32_t covered = f.offset + captured;
    const uint32_t block_end = covered == frag_end && !f.more ? (frag_end + 7) / 8 : covered / 8;
    uint32_t already = 0;
    for (uint32_t b = first_block; b < block_end; ++b) already += s.block(b);
    const uint32_t span = block_end > first_block ? block_end - first_block : 0;
    if (span > 0 && already == span) {
        ++stats_.duplicates;  // a retransmitted fragment: nothing new
    } else {
        if (already > 0 && f.ip_version == 6) return give_up(stats_.overlaps);  // RFC 5722
        std::memcpy(buffer(s) + kHeaderRoom + f.offset, f.data.data(), captured);
        for (uint32_t b = first_block; b < block_end; ++b) {
            if (!s.block(b)) {
                s.blocks[b / 64] |= uint64_t{1} << (b % 64);
                ++s.blocks_set;
            }
        }
    }
    if (f.offset == 0) {
        s.have_first = true;
        s.hdr_len = static_cast<uint8_t>(f.header.size());
        std::memcpy(s.hdr, f.header.data(), f.header.size());
        s.first_nh = f.proto;
    }
    if (s.end_known && !s.cut && s.have_first && s.blocks_set == (s.end + 7) / 8) {
        if (f.ip_version == 4 && s.hdr_len + s.end > kMaxDatagramBytes) return give_up(stats_.invalid);
        ++stats_.completed;
        release(s, Why::Complete);
    }
}

void IpReassembler::release(Slot& s, Why why) noexcept {
    Released r;
    r.complete = why == Why::Complete;
    r.fragments = s.fragments;
    r.wire_bytes = s.wire_bytes;
    r.ts_us = s.last_ts_us;
    r.first_ts_us = s.first_ts_us;
    r.order = s.order;
    if (s.have_first) {
        uint8_t* data = buffer(s) + kHeaderRoom;
        // Complete: all of it. Otherwise the data contiguous from offset 0.
        uint32_t len = s.end;
        if (!r.complete) {
            uint32_t b = 0;
            const uint32_t blocks_to_end = s.end_known ? (s.end + 7) / 8 : kBlocks;
            while (b < blocks_to_end && s.block(b)) ++b;
            len = s.end_known && b == blocks_to_end ? s.end : b * 8;
            // The rebuilt first fragment's length field must hold it (16 bits,
            // with the IPv4 header / the IPv6 Fragment header).
            len = std::min<uint32_t>(len, kMaxDatagramBytes - (s.ip_version == 4 ? s.hdr_len : 8u));
        }
        uint8_t* hdr = nullptr;
        if (s.ip_version == 4) {
            hdr = data - s.hdr_len;
            std::memcpy(hdr, s.hdr, s.hdr_len);
            store_u16(hdr + 2, s.hdr_len + len);
            // Complete: no longer a fragment (DF kept). Otherwise a first fragment (MF).
            hdr[6] = static_cast<uint8_t>((hdr[6] & 0x40) | (r.complete ? 0 : 0x20));
            hdr[7] = 0;
        } else if (r.complete) {
            hdr = data - 40;
            std::memcpy(hdr, s.hdr, 40);
            store_u16(hdr + 4, len);
            hdr[6] = s.first_nh;
        } else {
            hdr = data - 48;
            std::memcpy(hdr, s.hdr, 40);
            store_u16(hdr + 4, 8 + len);
            hdr[6] = 44;
            uint8_t* fh = hdr + 40;
            fh[0] = s.first_nh;
            fh[1] = 0;
            fh[2] = 0;
            fh[3] = 1;  // offset 0, M
            fh[4] = static_cast<uint8_t>(s.id >> 24);
            fh[5] = static_cast<uint8_t>(s.id >> 16);
            fh[6] = static_cast<uint8_t>(s.id >> 8);
            fh[7] = static_cast<uint8_t>(s.id);
        }
        static constexpr PacketMeta kReset{};
        out_ = kReset;
        out_.vlan_outer = s.vlan_outer;
        out_.vlan_inner = s.vlan_inner;
        out_.vlan_count = s.vlan_count;
        out_.encap = s.encap;
        out_.encap_depth = s.encap_depth;
        out_.tunnel_src = s.tunnel_src;
        out_.tunnel_dst = s.tunnel_dst;
        const ByteView dg{hdr, static_cast<size_t>(data + len - hdr)};
        if (parse_ip(dg, out_).ok) r.meta = &out_;
    }
    if (!r.meta) stats_.unattributed += s.fragments;
    if (on_release_) on_release_(r);
    const uint32_t index = s.index;
    s = Slot{};
    s.index = index;
    --live_;
}

template <class Due>
void IpReassembler::release_in_order(Due due, Why why) noexcept {
    Slot* list[kMaxDatagrams];
    size_t n = 0;
    for (size_t i = 0; i < kMaxDatagrams; ++i)
        if (slots_[i].used && due(slots_[i])) list[n++] = &slots_[i];
    std::sort(list, list + n,
              [](const Slot* a, const Slot* b) { return a->order != b->order ? a->order < b->order : a < b; });
    for (size_t i = 0; i < n; ++i) {
        ++(why == Why::Timeout ? stats_.timed_out : stats_.flushed);
        release(*list[i], why);
    }
}

void IpReassembler::expire(int64_t now_us) noexcept {
    clock_us_ = std::max(clock_us_, now_us);
    release_in_order([this](const Slot& s) { return clock_us_ - s.start_us > kTimeoutUs; }, Why::Timeout);
}

void IpReassembler::flush() noexcept {
    release_in_order([](const Slot&) { return true; }, Why::Flush);
}

}  // namespace callwall::decode
