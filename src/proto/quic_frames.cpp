// QUIC frames in Initial packets (RFC 9000 §19), the gQUIC CHLO, and the
// ClientHello assembler over CRYPTO frames (see quic.hpp).
#include "proto/quic.hpp"
#include "proto/quic_detail.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

namespace callwall::proto::quic {
namespace {

// gQUIC ≤ Q046 "null encryption": a 12-byte message authentication hash (FNV-1a-128
// truncated to 96 bits) precedes the frames of unencrypted packets.
constexpr size_t kGQuicHashLength = 12;
// RFC 9000 §19.6: offset + length of CRYPTO data cannot exceed 2^62 − 1.
constexpr uint64_t kMaxVarint = (uint64_t{1} << 62) - 1;

// The body of a CRYPTO frame (RFC 9000 §19.6: Offset (i) | Length (i) | Crypto
// Data), recorded in `f`; the error when it is truncated or runs past 2^62.
std::optional<DecodeError> read_crypto_frame(Reader& r, ByteView plaintext, size_t frame_start,
                                             InitialFrames& f) noexcept {
    const uint64_t offset = read_varint(r);
    const uint64_t length = read_varint(r);
    if (!r.ok()) return make_error(Code::Truncated, plaintext.size());
    if (length > r.remaining()) return make_error(Code::Truncated, plaintext.size());
    if (offset > kMaxVarint - length) return make_error(Code::Malformed, frame_start);
    const ByteView data = r.bytes(static_cast<size_t>(length));
    if (!f.crypto.push_back(CryptoFrame{offset, data})) f.anomalies |= bit(Anomaly::CryptoFramesOverflow);
    return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Frames (RFC 9000 §19). Initial packets may carry only PADDING, PING, ACK, CRYPTO and
// CONNECTION_CLOSE (type 0x1c) (§12.4, table 3).
//
// CRYPTO Frame {                 ACK Frame {
//   Type (i) = 0x06,               Type (i) = 0x02..0x03,
//   Offset (i),                    Largest Acknowledged (i), ACK Delay (i),
//   Length (i),                    ACK Range Count (i), First ACK Range (i),
//   Crypto Data (..),              ACK Range (..) ...,   [Gap (i), ACK Range Length (i)]
// }                                [ECN Counts (..)],    [3 × (i)] when type 0x03
//                                }
// CONNECTION_CLOSE Frame {
//   Type (i) = 0x1c..0x1d, Error Code (i), [Frame Type (i)], Reason Phrase Length (i),
//   Reason Phrase (..),
// }
Result<InitialFrames> parse_initial_frames(ByteView plaintext) noexcept {
    InitialFrames f;
    Reader r{plaintext};
    while (!r.empty()) {
        const size_t frame_start = r.offset();
        const uint64_t type = read_varint(r);
        if (!r.ok()) return make_error(Code::Truncated, frame_start);
        switch (type) {
            case 0x00: {  // PADDING: consume the whole run at once
                size_t run = 1;
                while (!r.empty() && r.peek(1)[0] == 0) {
                    r.skip(1);
                    ++run;
                }
                f.padding_bytes += static_cast<uint32_t>(run);
                break;
            }
            case 0x01: ++f.ping_frames; break;
            case 0x02:
            case 0x03: {
                (void)read_varint(r);  // Largest Acknowledged
                (void)read_varint(r);  // ACK Delay
                const uint64_t count = read_varint(r);
                (void)read_varint(r);  // First ACK Range
                if (!r.ok()) return make_error(Code::Truncated, plaintext.size());
                // Each ACK Range takes ≥ 2 bytes: a larger count cannot fit.
                if (count > r.remaining() / 2) return make_error(Code::Truncated, plaintext.size());
                for (uint64_t i = 0; i < count; ++i) {
                    (void)read_varint(r);
                    (void)read_varint(r);
                }
                if (type == 0x03) {
                    for (int i = 0; i < 3; ++i) (void)read_varint(r);
                }
                if (!r.ok()) return make_error(Code::Truncated, plaintext.size());
                ++f.ack_frames;
                break;
            }
            case 0x06: {
                if (auto err = read_crypto_frame(r, plaintext, frame_start, f)) return *err;
                break;
            }
            case 0x1c:
            case 0x1d: {
                f.close_error_code = read_varint(r);
                if (type == 0x1c) (void)read_varint(r);  // Frame Type
                const uint64_t reason_len = read_varint(r);
                if (!r.ok() || reason_len > r.remaining()) {
                    return make_error(Code::Truncated, plaintext.size());
                }
                f.close_reason = r.bytes(static_cast<size_t>(reason_len));
                f.connection_close = true;
                f.anomalies |= bit(Anomaly::ConnectionClose);
                break;
            }
            default:
                f.stopped_on_unknown = true;
                f.unknown_frame_type = type;
                f.anomalies |= bit(Anomaly::UnknownFrame);
                return f;
        }
    }
    return f;
}

// ---------------------------------------------------------------------------------------------
// Frames of a Google QUIC T050/T051 Initial. These versions put TLS in an IETF-style Initial
// but keep Google QUIC frame types (Chromium QuicFramer for versions < IETF draft-29 frames;
// Wireshark packet-gquic.c dissect_gquic_frame_type):
//
//   0x00 PADDING   the rest of the packet is padding (no per-byte frames)
//   0x07 PING      no payload
//   0x08 CRYPTO    Offset (i) | Length (i) | Crypto Data — as RFC 9000 §19.6, varints
//   others         (RST_STREAM 0x01, CONNECTION_CLOSE 0x02, ..., ACK 0x40–0x7f, STREAM
//                  0x80–0xff): not parsed; parsing stops (stopped_on_unknown)
Result<InitialFrames> parse_gquic_initial_frames(ByteView plaintext) noexcept {
    InitialFrames f;
    Reader r{plaintext};
    while (!r.empty()) {
        const size_t frame_start = r.offset();
        const uint8_t type = r.u8();
        switch (type) {
            case 0x00: f.padding_bytes += static_cast<uint32_t>(1 + r.remaining()); return f;
            case 0x07: ++f.ping_frames; break;
            case 0x08: {
                if (auto err = read_crypto_frame(r, plaintext, frame_start, f)) return *err;
                break;
            }
            default:
                f.stopped_on_unknown = true;
                f.unknown_frame_type = type;
                f.anomalies |= bit(Anomaly::UnknownFrame);
                return f;
        }
    }
    return f;
}

// ---------------------------------------------------------------------------------------------
// gQUIC CHLO (Q035–Q046, clear text). STREAM frame (Chromium "QUIC Wire Layout"; the
// integer fields are little-endian up to Q038 and big-endian from Q039 on — Wireshark
// packet-gquic.c switches its encoding at version 39):
//
//   type: 1 F D O O O S S     F fin, D 2-byte data length present,
//                             OOO offset length (0 → 0, n → n+1 bytes), SS stream id length − 1
//   Stream ID (8..32) | Offset (0..64) | Data Length (16) | Stream Data
//
// Handshake message (QUIC Crypto, little-endian):
//   Tag (32) = "CHLO" | Number of entries (16) | Padding (16) |
//   N × { Tag (32), End offset (32) } | values (each from the previous end to its end)
namespace {

Result<GQuicChlo> parse_chlo(ByteView data, uint32_t version) noexcept {
    Reader m{data};
    m.skip(4);  // "CHLO", checked by the caller
    const uint16_t n = static_cast<uint16_t>(m.u8() | (m.u8() << 8));
    m.skip(2);
    Reader entries = m.sub(size_t{n} * 8);
    if (!m.ok()) return make_error(Code::Truncated, m.offset());
    const ByteView values = m.rest();
    GQuicChlo c;
    c.version = version;
    c.tag_count = n;
    uint32_t prev = 0;
    for (uint16_t i = 0; i < n; ++i) {
        const ByteView tag = entries.bytes(4);
        const ByteView end_le = entries.bytes(4);
        if (!entries.ok()) return make_error(Code::Truncated, 8);
        const uint32_t end = uint32_t{end_le[0]} | (uint32_t{end_le[1]} << 8) | (uint32_t{end_le[2]} << 16) |
                             (uint32_t{end_le[3]} << 24);
        if (end < prev) return make_error(Code::Malformed, 8 + i * 8);
        if (end > values.size()) {
            c.truncated = true;  // CHLO continues in a later packet
            break;
        }
        const ByteView value = values.subspan(prev, end - prev);
        if (starts_with(tag, std::string_view{"SNI\0", 4})) c.sni = value;
        if (starts_with(tag, "UAID")) c.uaid = value;
        prev = end;
    }
    return c;
}

}  // namespace

Result<GQuicChlo> decode_gquic_chlo(const LongHeader& hdr) noexcept {
    if (hdr.version.family != VersionFamily::GoogleQ) return make_error(Code::NotThisProtocol, 0);
    if (hdr.version.ietf_long_header) return make_error(Code::Unsupported, 1);  // Q050+: encrypted
    // Up to Q038 the frame integers are little-endian (see above); up to Q033 a private-flags
    // byte follows the message authentication hash (Wireshark dissect_gquic_unencrypt).
    const bool little_endian = hdr.version.gquic < 39;
    Reader r{hdr.packet};
    r.skip(size_t{hdr.pn_offset} + hdr.gquic_pn_length + kGQuicHashLength + (hdr.version.gquic < 34 ? 1 : 0));
    if (!r.ok()) return make_error(Code::Truncated, hdr.packet.size());
    while (!r.empty()) {
        const size_t frame_start = r.offset();
        const uint8_t type = r.u8();
        if (type == 0x07) continue;  // PING
        if ((type & 0x80) == 0) break;  // PADDING, ACK, …: no CHLO here
        const size_t sid_len = (type & 0x03u) + 1;
        const unsigned ooo = (type >> 2) & 0x07u;
        const size_t off_len = ooo == 0 ? 0 : ooo + 1;
        uint32_t stream_id = 0;
        for (size_t i = 0; i < sid_len; ++i) {
            const uint32_t b = r.u8();
            stream_id = little_endian ? stream_id | (b << (8 * i)) : (stream_id << 8) | b;
        }
        r.skip(off_len);
        size_t data_len = r.remaining();
        if ((type & 0x20u) != 0) {
            const ByteView len = r.bytes(2);
            if (!r.ok()) return make_error(Code::Truncated, frame_start);
            data_len = little_endian ? size_t{len[0]} | (size_t{len[1]} << 8) : (size_t{len[0]} << 8) | len[1];
        }
        const ByteView data = r.bytes(data_len);
        if (!r.ok()) return make_error(Code::Truncated, frame_start);
        if (stream_id == 1 && starts_with(data, "CHLO")) {
            return parse_chlo(data, hdr.version.version);
        }
    }
    return make_error(Code::NotThisProtocol, r.offset());
}

// ---------------------------------------------------------------------------------------------
// ClientInitialAssembler

ClientInitialAssembler::ClientInitialAssembler(std::span<uint8_t> crypto_buffer) noexcept
    : buf_(crypto_buffer.size() > UINT32_MAX ? crypto_buffer.first(UINT32_MAX) : crypto_buffer) {}

void ClientInitialAssembler::reset() noexcept {
    const std::span<uint8_t> buf = buf_;
    *this = ClientInitialAssembler{buf};
}

ByteView ClientInitialAssembler::crypto_prefix() const noexcept {
    if (range_count_ == 0 || ranges_[0].begin != 0) return {};
    return ByteView{buf_.data(), ranges_[0].end};
}

ByteView ClientInitialAssembler::client_hello() const noexcept {
    if (status_ != AssemblyStatus::Done || kind_ != HandshakeKind::TlsClientHello) return {};
    return ByteView{buf_.data(), hello_len_};
}

// Copies the bytes of [offset, offset+len) not yet held, compares those already held, then
// merges the range into the sorted, disjoint, non-adjacent list.
void ClientInitialAssembler::add_crypto(uint64_t offset, ByteView data) noexcept {
    if (data.empty()) return;
    const uint64_t cap = buf_.size();
    if (offset >= cap) {
        anomalies_ |= bit(Anomaly::CryptoBeyondBuffer);
        return;
    }
    uint64_t end64 = offset + data.size();  // parse_initial_frames keeps this < 2^62
    if (end64 > cap) {
        anomalies_ |= bit(Anomaly::CryptoBeyondBuffer);
        end64 = cap;
    }
    const auto begin = static_cast<uint32_t>(offset);
    const auto end = static_cast<uint32_t>(end64);

    // Ranges that overlap or touch [begin, end) merge into one.
    size_t first = 0;
    while (first < range_count_ && ranges_[first].end < begin) ++first;
    size_t last = first;  // one past the last merged range
    while (last < range_count_ && ranges_[last].begin <= end) ++last;
    const size_t merged = last - first;
    if (merged == 0 && range_count_ == kMaxCryptoRanges) {
        anomalies_ |= bit(Anomaly::CryptoRangesOverflow);
        return;
    }

    uint32_t cur = begin;
    for (size_t i = first; i < last && cur < end; ++i) {
        const Range& rg = ranges_[i];
        if (rg.begin > cur) {
            const uint32_t gap_end = std::min(rg.begin, end);
            std::memcpy(buf_.data() + cur, data.data() + (cur - begin), gap_end - cur);
            cur = gap_end;
        }
        const uint32_t ov_end = std::min(rg.end, end);
        if (ov_end > cur) {
            if (std::memcmp(buf_.data() + cur, data.data() + (cur - begin), ov_end - cur) != 0) {
                anomalies_ |= bit(Anomaly::CryptoConflict);
            }
            cur = ov_end;
        }
    }
    if (cur < end) std::memcpy(buf_.data() + cur, data.data() + (cur - begin), end - cur);

    Range m{begin, end};
    if (merged > 0) {
        m.begin = std::min(begin, ranges_[first].begin);
        m.end = std::max(end, ranges_[last - 1].end);
        ranges_[first] = m;
        std::copy(ranges_.begin() + last, ranges_.begin() + range_count_, ranges_.begin() + first + 1);
        range_count_ = static_cast<uint8_t>(range_count_ - (merged - 1));
    } else {
        std::copy_backward(ranges_.begin() + first, ranges_.begin() + range_count_, ranges_.begin() + range_count_ + 1);
        ranges_[first] = m;
        ++range_count_;
    }
}

// RFC 8446 §4: Handshake { msg_type (8) = client_hello (1), length (24), body }.
void ClientInitialAssembler::check_complete() noexcept {
    if (status_ != AssemblyStatus::NeedMore) return;
    const ByteView prefix = crypto_prefix();
    if (prefix.empty()) return;
    if (prefix[0] != 1) {
        status_ = AssemblyStatus::Failed;
        error_ = make_error(Code::Malformed, 0);  // first client handshake message must be CH
        return;
    }
    if (prefix.size() < 4) return;
    const uint32_t body = (uint32_t{prefix[1]} << 16) | (uint32_t{prefix[2]} << 8) | prefix[3];
    const uint32_t total = 4 + body;
    if (total > buf_.size()) {
        status_ = AssemblyStatus::Failed;
        error_ = make_error(Code::Unsupported, 1);  // ClientHello larger than the lent buffer
        return;
    }
    if (prefix.size() >= total) {
        status_ = AssemblyStatus::Done;
        kind_ = HandshakeKind::TlsClientHello;
        hello_len_ = total;
    }
}

FeedResult ClientInitialAssembler::finish(FeedResult r) const noexcept {
    r.status = status_;
    r.kind = kind_;
    if (status_ == AssemblyStatus::Failed) r.error = error_;
    r.client_hello = client_hello();
    return r;
}

FeedResult ClientInitialAssembler::feed(Decryptor& dec, ByteView udp_payload) noexcept {
    FeedResult r;
    if (status_ == AssemblyStatus::Done || status_ == AssemblyStatus::Failed) return finish(r);

    auto d = decode(udp_payload);
    if (!d) {
        r.error = d.error();
        if (d.code() == Code::NotThisProtocol && !seen_quic_) {
            r.status = AssemblyStatus::NotQuic;
            return r;
        }
        return finish(r);
    }
    seen_quic_ = true;
    anomalies_ |= d->anomalies;
    r.packets = static_cast<uint8_t>(d->packets.size());
    r.version = d->packets[0].version.version;

    for (const LongHeader& h : d->packets) {
        if (h.type == PacketType::VersionNegotiation) {
            r.saw_version_negotiation = true;
            continue;
        }
        if (h.type == PacketType::Retry) {
            r.saw_retry = true;
            continue;
        }
        const bool gquic_tls =
            h.version.family == VersionFamily::GoogleT && h.version.initial_decryptable;  // T050/T051: below, as IETF
        if (!gquic_tls && (h.version.family == VersionFamily::GoogleQ || h.version.family == VersionFamily::GoogleT)) {
            if (h.version.ietf_long_header) {  // Q050, T052+: encrypted, not supported
                status_ = AssemblyStatus::Failed;
                error_ = make_error(Code::Unsupported, 1);
                version_ = h.version.version;
                return finish(r);
            }
            auto chlo = decode_gquic_chlo(h);
            if (chlo) {
                status_ = AssemblyStatus::Done;
                kind_ = HandshakeKind::GQuicChlo;
                version_ = h.version.version;
                r.gquic_sni = chlo->sni;
                return finish(r);
            }
            r.error = chlo.error();
            continue;
        }
        if ((known_ietf_layout(h.version) || h.type == PacketType::Initial) && h.dcid.size() <= kMaxCidLength &&
            h.scid.size() <= kMaxCidLength) {
            last_dcid_len_ = static_cast<uint8_t>(h.dcid.size());
            std::copy(h.dcid.begin(), h.dcid.end(), last_dcid_.begin());
            scid_len_ = static_cast<uint8_t>(h.scid.size());
            std::copy(h.scid.begin(), h.scid.end(), scid_.begin());
        }
        if (h.type == PacketType::Unknown || (h.type == PacketType::Initial && !h.version.initial_decryptable)) {
            // Reserved (GREASE) or unknown-layout version: the server answers with Version
            // Negotiation and the client retries with a real version.
            r.error = make_error(Code::Unsupported, 1);
            continue;
        }
        if (h.type != PacketType::Initial) continue;  // 0-RTT, Handshake: not for us

        const std::span<uint8_t> out = dec.scratch();
        Result<Opened> opened = make_error(Code::Unsupported, 0);
        const bool same_attempt = have_keys_ && h.version.version == version_;
        if (same_attempt) opened = dec.open(h, keys_, out);
        bool restarted = false;
        if (!opened && !(same_attempt && equal(h.dcid, original_dcid()))) {
            // First Initial, or a new attempt (Retry / Version Negotiation): keys from this
            // packet's own DCID.
            auto k = dec.derive_initial_keys(h.version.version, h.dcid, Perspective::Client);
            if (k) {
                opened = dec.open(h, *k, out);
                if (!opened && h.version.family == VersionFamily::Reserved) {
                    // tshark 4.0 treats reserved versions as draft-29 (its salt, "quic"
                    // labels); current Wireshark as v1 (tried above). The tag decides.
                    k = dec.derive_initial_keys(kVersionDraft29, h.dcid, Perspective::Client);
                    if (k) opened = dec.open(h, *k, out);
                }
                if (opened) {
                    restarted = have_keys_;
                    keys_ = *k;
                    version_ = h.version.version;
                    dcid_len_ = static_cast<uint8_t>(h.dcid.size());  // ≤ 20 (decode checked)
                    std::copy(h.dcid.begin(), h.dcid.end(), dcid_.begin());
                    have_keys_ = true;
                }
            }
        }
        if (!opened) {
            ++decrypt_failures_;
            anomalies_ |= bit(Anomaly::DecryptFailed);
            r.error = opened.error();
            continue;
        }
        if (restarted) {
            range_count_ = 0;
            anomalies_ |= bit(Anomaly::ConnectionRestarted);
        }
        ++initials_opened_;
        ++r.initials_opened;
        anomalies_ |= opened->anomalies;
        auto frames = gquic_tls ? parse_gquic_initial_frames(opened->payload) : parse_initial_frames(opened->payload);
        if (!frames) {
            r.error = frames.error();
            continue;
        }
        anomalies_ |= frames->anomalies;
        for (const CryptoFrame& cf : frames->crypto) add_crypto(cf.offset, cf.data);
    }
    check_complete();
    return finish(r);
}

}  // namespace callwall::proto::quic
