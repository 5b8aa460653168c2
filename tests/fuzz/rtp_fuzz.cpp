// libFuzzer target: RTP header, RTCP/SRTCP compound and DTLS record decoding
// (views checked against the input; the packet path's decode_fields against
// decode), the RTP Confirmer over the input cut into
// datagrams, and StreamStats (both jitter modes) fed samples built from it.
#include <cstddef>
#include <cstdint>

#include "proto/dtls.hpp"
#include "proto/rtp.hpp"

using namespace callwall;
namespace rtp = proto::rtp;

namespace {
void check_inside(ByteView outer, ByteView v) {
    if (!v.empty() && (v.data() < outer.data() || v.data() + v.size() > outer.data() + outer.size())) {
        __builtin_trap();
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ByteView in{data, size};
    (void)rtp::probe(in);
    (void)rtp::probe_rtcp(in);
    (void)proto::dtls::probe(in);
    const auto h = rtp::decode(in);
    if (h.ok()) {
        if (h->header_len + h->payload.size() + h->padding_length > size) __builtin_trap();
        check_inside(in, h->payload);
        check_inside(in, h->extension_data);
    }
    // The packet path's decoder accepts exactly what decode accepts, with its values.
    rtp::HeaderFields f;
    if (rtp::decode_fields(in, f) != h.ok()) __builtin_trap();
    if (h.ok() && (f.sequence_number != h->sequence_number || f.timestamp != h->timestamp || f.ssrc != h->ssrc ||
                   f.payload_type != h->payload_type || f.marker != h->marker))
        __builtin_trap();
    if (const auto c = rtp::decode_rtcp(in); c.ok()) {
        if (c->size > size) __builtin_trap();
        for (const auto& p : c->packets) check_inside(in, p.body);
        check_inside(in, c->srtcp_trailer);
    }
    if (const auto d = proto::dtls::decode(in); d.ok()) {
        for (const auto& r : d->records) check_inside(in, r.fragment);
        if (d->client_hello_info) check_inside(in, d->client_hello_info->first_alpn);
    }
    // Datagrams: a length byte, then that many bytes.
    rtp::Confirmer confirmer;
    rtp::StreamStats wireshark(rtp::JitterMode::Wireshark);
    rtp::StreamStats rfc(rtp::JitterMode::Rfc3550);
    uint64_t t_us = 0;
    for (size_t at = 0; at < size;) {
        const size_t n = data[at++];
        const ByteView dgram = in.subspan(at, n < size - at ? n : size - at);
        at += dgram.size();
        (void)confirmer.on_payload(dgram);
        if (dgram.size() >= 12) {
            t_us += static_cast<uint64_t>(dgram[0]) * 997;
            const rtp::PacketSample p{t_us, static_cast<uint16_t>(load_u16(dgram, 2)), load_u32(dgram, 4),
                                      static_cast<uint8_t>(dgram[1] & 0x7F), (dgram[1] & 0x80) != 0};
            wireshark.add(p);
            rfc.add(p);
        }
    }
    if (wireshark.max_jitter_ms() < 0 || rfc.max_jitter_ms() < 0) __builtin_trap();
    (void)wireshark.lost();
    return 0;
}
