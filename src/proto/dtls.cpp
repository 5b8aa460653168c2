// DTLS record walk and handshake facts. See src/proto/dtls.hpp.
#include "proto/dtls.hpp"

namespace callwall::proto::dtls {
namespace {

constexpr bool plaintext_type(uint8_t t) noexcept {
    return t >= content_type::kChangeCipherSpec && t <= content_type::kTls12Cid;
}
// RFC 9147 §5.1: DTLS 1.3 plaintext records keep legacy_record_version
// 0xFEFD, so only the 1.0 and 1.2 numbers appear here.
constexpr bool record_version(uint16_t v) noexcept { return v == kVersion10 || v == kVersion12; }

// RFC 6347 §4.2.1 / RFC 5246 §7.4.1.2:
//   ProtocolVersion client_version; Random random; SessionID session_id<0..32>;
//   opaque cookie<0..2^8-1>; CipherSuite cipher_suites<2..2^16-2>;
//   CompressionMethod compression_methods<1..2^8-1>; Extension extensions<0..2^16-1>;
bool parse_client_hello(ByteView body, ClientHello& ch) noexcept {
    Reader r(body);
    ch.client_version = r.u16();
    ch.random = r.bytes(32);
    ch.session_id = r.bytes(r.u8());
    ch.cookie = r.bytes(r.u8());
    const uint16_t suites_len = r.u16();
    (void)r.bytes(suites_len);
    ch.cipher_suite_count = static_cast<uint16_t>(suites_len / 2);
    (void)r.bytes(r.u8());  // compression methods
    if (!r.ok()) return false;
    if (r.empty()) return true;  // no extensions
    Reader exts = r.sub(r.u16());
    if (!r.ok()) return false;
    while (!exts.empty()) {
        const uint16_t type = exts.u16();
        Reader e = exts.sub(exts.u16());
        if (!exts.ok()) return false;
        ++ch.extension_count;
        if (type == 14) {
            ch.use_srtp = true;
        } else if (type == 0 && ch.server_name.empty()) {
            Reader list = e.sub(e.u16());
            while (list.ok() && !list.empty()) {
                const uint8_t name_type = list.u8();
                const ByteView name = list.bytes(list.u16());
                if (list.ok() && name_type == 0) {
                    ch.server_name = name;
                    break;
                }
            }
        } else if (type == 16 && ch.first_alpn.empty()) {
            Reader list = e.sub(e.u16());
            const ByteView proto = list.bytes(list.u8());
            if (list.ok()) ch.first_alpn = proto;
        }
    }
    return true;
}

void walk_handshake(ByteView fragment, Datagram& d) noexcept {
    Reader r(fragment);
    while (r.remaining() >= kHandshakeHeaderLen) {
        const uint8_t msg_type = r.u8();
        const uint32_t length = r.u24();
        (void)r.u16();  // message_seq
        const uint32_t frag_off = r.u24();
        const uint32_t frag_len = r.u24();
        const ByteView body = r.bytes(frag_len);
        if (!r.ok()) return;
        switch (msg_type) {
            case handshake_type::kClientHello:
                d.client_hello = true;
                if (frag_off == 0 && frag_len == length && !d.client_hello_info) {
                    ClientHello ch;
                    if (parse_client_hello(body, ch)) {
                        d.client_hello_info = ch;
                    } else {
                        d.anomalies |= bit(Anomaly::BadClientHello);
                    }
                }
                break;
            case handshake_type::kServerHello: d.server_hello = true; break;
            case handshake_type::kHelloVerifyRequest: d.hello_verify_request = true; break;
            default: break;
        }
    }
}

}  // namespace

bool probe(ByteView b) noexcept {
    if (b.size() < kRecordHeaderLen) return false;
    if (!plaintext_type(b[0]) || !record_version(load_u16(b, 1))) return false;
    return kRecordHeaderLen + size_t{load_u16(b, 11)} <= b.size();
}

Result<Datagram> decode(ByteView b) noexcept {
    using E = DecodeErrorCode;
    if (b.empty()) return make_error(E::NotThisProtocol, 0);
    if (plaintext_type(b[0])) {
        if (b.size() >= 3 && !record_version(load_u16(b, 1))) return make_error(E::NotThisProtocol, 1);
    } else if ((b[0] & 0xE0) == 0x20) {
        // A datagram starting with a DTLS 1.3 ciphertext record: only with
        // the length bit (so the walk can check it) and without a CID.
        if ((b[0] & 0x14) != 0x04) return make_error(E::NotThisProtocol, 0);
    } else {
        return make_error(E::NotThisProtocol, 0);
    }

    Datagram d;
    Reader r(b);
    while (!r.empty()) {
        const size_t at = r.offset();
        const uint8_t first = b[at];
        Record rec;
        if (plaintext_type(first)) {
            rec.content_type = r.u8();
            rec.version = r.u16();
            rec.epoch = r.u16();
            rec.sequence_number = (uint64_t{r.u16()} << 32) | r.u32();
            const uint16_t len = r.u16();
            if (!r.ok()) {
                if (at == 0) return make_error(E::Truncated, b.size());
                d.anomalies |= bit(Anomaly::TruncatedRecord);
                break;
            }
            if (!record_version(rec.version)) {
                d.anomalies |= bit(Anomaly::BadRecord);
                break;
            }
            rec.fragment = r.bytes(len);
            if (!r.ok()) {
                if (at == 0) return make_error(E::Truncated, 11);
                d.anomalies |= bit(Anomaly::TruncatedRecord);
                break;
            }
            if (rec.content_type == content_type::kHandshake) {
                d.handshake = true;
                if (rec.epoch == 0) walk_handshake(rec.fragment, d);
            }
        } else if ((first & 0xE0) == 0x20) {
            // RFC 9147 §4 unified header: 0 0 1 C S L E E
            d.dtls13_ciphertext = true;
            rec.content_type = r.u8();
            if (first & 0x10) {
                d.anomalies |= bit(Anomaly::CidCiphertext);
                break;
            }
            rec.epoch = first & 0x03;
            rec.sequence_number = (first & 0x08) ? r.u16() : r.u8();
            if (first & 0x04) {
                rec.fragment = r.bytes(r.u16());
            } else {
                rec.fragment = r.rest();
            }
            if (!r.ok()) {
                if (at == 0) return make_error(E::Truncated, b.size());
                d.anomalies |= bit(Anomaly::TruncatedRecord);
                break;
            }
        } else {
            d.anomalies |= bit(Anomaly::BadRecord);
            break;
        }
        if (d.record_count == 0) d.version = rec.version;
        ++d.record_count;
        d.records.push_back(rec);
    }
    return d;
}

}  // namespace callwall::proto::dtls
