// IEEE 802.11 link layers: the 802.11 MAC header and LLC/SNAP of data
// frames, behind a radiotap header or alone (PPI is read in packet.cpp and
// hands its 802.11 frame here). See decode/packet.hpp.
//
// References: IEEE Std 802.11-2020 §9.2.3 (general frame format), §9.2.4.1
// (frame control), §9.3.2.1 (data frames), §9.3.2.2 (A-MSDU); RFC 1042 and
// IEEE 802.1H (LLC/SNAP); radiotap.org (the header and its Flags field).
#include "decode/layers.hpp"
#include "decode/packet.hpp"

namespace callwall::decode::detail {

using C = DecodeErrorCode;

namespace {

constexpr uint8_t kTypeData = 2;
constexpr uint8_t kFlagToDs = 0x01, kFlagFromDs = 0x02, kFlagProtected = 0x40, kFlagOrder = 0x80;
constexpr uint8_t kQosAmsdu = 0x80;  // QoS Control bit 7: the body is an A-MSDU
// Radiotap Flags field (present bit 1): what it says of the frame after it.
constexpr uint8_t kRadiotapFcs = 0x10, kRadiotapDataPad = 0x20, kRadiotapBadFcs = 0x40;
// Radiotap's present bitmaps chain by bit 31; real headers have 1-4 of
// them (one per antenna). More is no radiotap header: refused, so a hostile
// header cannot make us walk it.
constexpr int kMaxRadiotapPresentWords = 16;

// Not an IP packet of ours: a management/control frame or a frame without data.
LayerStatus skipped(PacketMeta& out, size_t off) noexcept {
    out.anomalies |= kAnomalyWlanNotData;
    return LayerStatus::fail(C::NotThisProtocol, off);
}

}  // namespace

/*
   802.11 MAC header (§9.2.3), little-endian fields:
   | Frame Control (2) | Duration (2) | Address 1 (6) | Address 2 (6) |
   | Address 3 (6) | Sequence Control (2) | Address 4 (6, ToDS and FromDS) |
   | QoS Control (2, QoS data subtypes) | HT Control (4, QoS with +HTC/Order) |
   Frame Control: protocol version (bits 0-1, 0), type (2-3), subtype (4-7);
   flags ToDS, FromDS, More Fragments, Retry, Power Management, More Data,
   Protected, +HTC/Order. Data subtypes with bit 2 set (null function,
   CF-Ack/Poll only) carry no body; bit 3 marks QoS data. The body of a
   data frame: LLC/SNAP (AA AA 03, OUI 00 00 00 or 00 00 F8) and an
   ethertype, then the packet. `data_pad`: radiotap says the header is
   padded to a multiple of 4 bytes.
*/
LayerStatus parse_wlan(ByteView frame, bool data_pad, PacketMeta& out) noexcept {
    Reader r{frame};
    const uint8_t fc0 = r.u8();
    const uint8_t flags = r.u8();
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if ((fc0 & 0x03) != 0) return LayerStatus::fail(C::NotThisProtocol, 0);  // PV1 (S1G short frames)
    const uint8_t type = (fc0 >> 2) & 0x03, subtype = fc0 >> 4;
    if (type != kTypeData || (subtype & 0x04) != 0) return skipped(out, 0);
    const bool qos = (subtype & 0x08) != 0;
    size_t hdr = 24;
    if ((flags & (kFlagToDs | kFlagFromDs)) == (kFlagToDs | kFlagFromDs)) hdr += 6;  // WDS / mesh: 4 addresses
    size_t qos_off = hdr;
    if (qos) hdr += 2;
    if (qos && (flags & kFlagOrder)) hdr += 4;  // HT Control
    if (data_pad) hdr = (hdr + 3) & ~size_t{3};
    r.skip(hdr - 2);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if (flags & kFlagProtected) {
        out.anomalies |= kAnomalyWlanProtected;
        return LayerStatus::fail(C::Unsupported, 1);
    }
    if (qos && (frame[qos_off] & kQosAmsdu)) {
        /* A-MSDU (§9.3.2.2): subframes | DA (6) | SA (6) | Length (2, BE) | LLC/SNAP... |,
           each padded to 4 bytes. One subframe is read as the frame; several
           packets in one frame cannot be handed on as one: not decoded. */
        r.skip(12);
        const uint16_t len = r.u16();
        if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
        const size_t padded = (size_t{len} + 3) & ~size_t{3};
        if (r.remaining() > padded && r.remaining() - padded > 4) {
            out.anomalies |= kAnomalyWlanAmsdu;
            return LayerStatus::fail(C::Unsupported, r.offset());
        }
    }
    const ByteView snap = r.bytes(6);
    const uint16_t ethertype = r.u16();
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if (snap[0] != 0xAA || snap[1] != 0xAA || snap[2] != 0x03 || snap[3] != 0 || snap[4] != 0 ||
        (snap[5] != 0 && snap[5] != 0xF8))
        return LayerStatus::fail(C::NotThisProtocol, r.offset() - 8);  // another LLC (STP, IPX, …)
    return parse_ethertype(ethertype, r, 0, out);
}

/*
   Radiotap (radiotap.org), little-endian:
   | version (1, 0) | pad (1) | length (2) | present (4) [| present (4) ...] | fields |
   Bit 31 of a present word: another follows. Fields are aligned to their
   natural size from the header's start: TSFT (bit 0, 8 bytes), then Flags
   (bit 1, 1 byte). The 802.11 frame starts `length` bytes in.
*/
LayerStatus parse_radiotap(ByteView frame, PacketMeta& out) noexcept {
    Reader r{frame};
    const uint8_t version = r.u8();
    r.skip(1);
    const ByteView len_bytes = r.bytes(2);
    if (!r.ok()) return LayerStatus::fail(C::Truncated, r.offset());
    if (version != 0) return LayerStatus::fail(C::Malformed, 0);
    const size_t len = len_bytes[0] | (size_t{len_bytes[1]} << 8);
    if (len < 8 || len > frame.size()) return LayerStatus::fail(len < 8 ? C::Malformed : C::Truncated, 2);
    uint32_t first = 0;
    size_t off = 4;
    for (int i = 0;; ++i) {
        if (i >= kMaxRadiotapPresentWords || off + 4 > len) return LayerStatus::fail(C::Malformed, off);
        const uint32_t word = frame[off] | (uint32_t{frame[off + 1]} << 8) | (uint32_t{frame[off + 2]} << 16) |
                              (uint32_t{frame[off + 3]} << 24);
        if (i == 0) first = word;
        off += 4;
        if ((word & 0x80000000u) == 0) break;
    }
    uint8_t rt_flags = 0;
    if (first & 0x02) {
        if (first & 0x01) off = ((off + 7) & ~size_t{7}) + 8;  // TSFT, aligned to 8
        if (off >= len) return LayerStatus::fail(C::Malformed, off);
        rt_flags = frame[off];
    }
    if (rt_flags & kRadiotapBadFcs) return LayerStatus::fail(C::Malformed, off);  // damaged on the air
    ByteView wlan = frame.subspan(len);
    if (rt_flags & kRadiotapFcs) {
        if (wlan.size() < 4) return LayerStatus::fail(C::Truncated, len);
        wlan = wlan.first(wlan.size() - 4);
    }
    LayerStatus st = parse_wlan(wlan, (rt_flags & kRadiotapDataPad) != 0, out);
    if (!st.ok) st.error.offset += static_cast<uint32_t>(len);
    return st;
}

}  // namespace callwall::decode::detail
