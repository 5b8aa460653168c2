// DNS decoder: see src/proto/dns.hpp for scope, limits and error policy.
// The TCP framer is in dns_tcp_framer.cpp.
#include "proto/dns.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

namespace callwall::proto::dns {
namespace {

// RFC 1035 §4.1.3: a resource record after its owner name is TYPE, CLASS, TTL, RDLENGTH.
constexpr size_t kRrFixedLength = 10;
// Smallest possible record: root owner name (1 octet) + the fixed part.
constexpr size_t kMinRrLength = 1 + kRrFixedLength;
// QTYPE + QCLASS after the question name.
constexpr size_t kQuestionFixedLength = 4;

constexpr uint16_t kClassIn = 1;
// RFC 6762 §5.4 / §10.2: in mDNS the top CLASS bit is a flag (QU / cache-flush).
constexpr uint16_t kMdnsClassFlag = 0x8000;

[[nodiscard]] constexpr bool opcode_known(uint8_t op) noexcept {
    return op == opcode::kQuery || op == opcode::kIQuery || op == opcode::kStatus || op == opcode::kNotify ||
           op == opcode::kUpdate || op == opcode::kDso;
}

// RFC 1035 §3.2.4 IN/CH/HS, RFC 2136 §1.3 NONE (254), QCLASS ANY (255).
[[nodiscard]] constexpr bool qclass_known(uint16_t qclass) noexcept {
    const uint16_t c = qclass & 0x7FFF;  // mDNS QU bit (RFC 6762 §5.4)
    return c == 1 || c == 3 || c == 4 || c == 254 || c == 255;
}

// Labels are shown as-is when they are printable ASCII other than '.', which would make one
// label read as two (a spoofing vector for suffix matching).
[[nodiscard]] constexpr bool label_char_plain(uint8_t c) noexcept { return c >= 0x21 && c <= 0x7E && c != '.'; }

enum class NameStatus : uint8_t { Ok, Truncated, Malformed };

struct NameOutcome {
    NameStatus status = NameStatus::Malformed;
    size_t end = 0;  // wire offset after the name's in-line part (terminator or pointer)
    size_t fail_at = 0;  // where a failure was found
    NameRef ref{};
    bool compressed = false;
};

// Writes decoded names into Message's arena; remembers the wire offsets of names and
// compression targets already decoded so that repeated suffixes are written once.
class NameDecoder {
public:
    NameDecoder(ByteView msg, Message& m) noexcept : msg_(msg), m_(m) {}

    // Decodes the name at `start`; its in-line labels must end before `limit` (the message or
    // RDATA end). Pointers may lead anywhere earlier in the message (rules in the header).
    NameOutcome decode(size_t start, size_t limit) noexcept {
        NameOutcome out;
        const bool limit_is_message_end = limit == msg_.size();
        const size_t arena_begin = m_.name_arena_used;
        size_t pos = start;
        size_t bound = limit;
        size_t run_start = start;
        size_t end = 0;
        bool end_known = false;
        size_t text = 0;  // characters written for this name
        size_t wire = 0;  // wire octets of the labels so far (root octet excluded)
        bool cut = false;
        StaticVector<Jump, kMaxPointerHops> jumps;

        auto fail = [&](NameStatus s, size_t at) noexcept {
            out.status = s;
            out.fail_at = at;
            m_.name_arena_used = static_cast<uint16_t>(arena_begin);  // drop partial text
            return out;
        };
        // Running into the bound: only the in-line part at the message end is a truncation;
        // anything else is a name that does not fit where it must.
        auto overrun = [&](size_t at) noexcept {
            return fail(jumps.empty() && limit_is_message_end ? NameStatus::Truncated : NameStatus::Malformed, at);
        };

        for (;;) {
            if (pos >= bound) return overrun(pos);
            const uint8_t b = msg_[pos];
            if (b == 0) {
                if (!end_known) end = pos + 1;
                break;
            }
            const uint8_t kind = b & 0xC0;
            if (kind == 0xC0) {
                if (bound - pos < 2) return overrun(pos);
                const size_t target = (size_t{b & 0x3Fu} << 8) | msg_[pos + 1];
                if (!end_known) {
                    end = pos + 2;
                    end_known = true;
                }
                out.compressed = true;
                if (cut) break;  // the rest could not be shown anyway
                if (target >= run_start) return fail(NameStatus::Malformed, pos);
                if (jumps.full()) return fail(NameStatus::Malformed, pos);
                if (const CacheEntry* hit = find(target); hit != nullptr && append_cached(*hit, text, wire)) {
                    break;
                }
                jumps.push_back(
                    Jump{static_cast<uint16_t>(target), static_cast<uint16_t>(text), static_cast<uint16_t>(wire)});
                bound = run_start;
                run_start = target;
                pos = target;
                continue;
            }
            if (kind != 0) return fail(NameStatus::Malformed, pos);  // 01/10: extended labels
            const size_t len = b;
            if (bound - pos - 1 < len) return overrun(pos);
            if (!cut) {
                const size_t need = (text > 0 ? 1 : 0) + len;
                if (wire + 1 + len + 1 > kMaxNameWireLength) {
                    cut = true;
                    m_.anomalies |= bit(Anomaly::NameTooLong);
                } else if (m_.name_arena_used + need > kNameArenaBytes) {
                    cut = true;
                    m_.anomalies |= bit(Anomaly::NameArenaFull);
                } else {
                    char* dst = m_.name_arena.data() + m_.name_arena_used;
                    if (text > 0) *dst++ = '.';
                    for (size_t i = 0; i < len; ++i) {
                        const uint8_t c = msg_[pos + 1 + i];
                        // Bytes are kept as sent (as an SNI's are): the outputs
                        // escape them, the JSON beside a U+FFFD form. Only a dot
                        // inside a label is written '?', or the name would read
                        // as more labels than the packet holds.
                        if (!label_char_plain(c)) m_.anomalies |= bit(Anomaly::NameOddChars);
                        dst[i] = c == '.' ? '?' : static_cast<char>(c);
                    }
                    m_.name_arena_used = static_cast<uint16_t>(m_.name_arena_used + need);
                    text += need;
                    wire += 1 + len;
                }
            }
            pos += 1 + len;
        }

        out.status = NameStatus::Ok;
        out.end = end;
        if (ref_override_) {
            out.ref = override_ref_;
            ref_override_ = false;
        } else {
            out.ref = NameRef{static_cast<uint16_t>(arena_begin), static_cast<uint8_t>(text), cut};
        }
        if (!cut) {
            remember(start, out.ref, wire);
            for (const Jump& j : jumps) {
                const size_t skip = j.text + (j.text > 0 ? 1 : 0);
                if (skip > out.ref.length) continue;
                remember(j.target,
                         NameRef{static_cast<uint16_t>(out.ref.offset + skip),
                                 static_cast<uint8_t>(out.ref.length - skip), false},
                         wire - j.wire);
            }
        }
        return out;
    }

private:
    struct Jump {
        uint16_t target;
        uint16_t text;
        uint16_t wire;
    };
    struct CacheEntry {
        uint16_t wire_offset;
        uint16_t wire_length;  // label octets, root excluded
        NameRef ref;
    };

    const CacheEntry* find(size_t wire_offset) const noexcept {
        for (const CacheEntry& e : cache_) {
            if (e.wire_offset == wire_offset) return &e;
        }
        return nullptr;
    }
    void remember(size_t wire_offset, NameRef ref, size_t wire_length) noexcept {
        if (find(wire_offset) != nullptr) return;
        (void)cache_.push_back(CacheEntry{static_cast<uint16_t>(wire_offset), static_cast<uint16_t>(wire_length), ref});
    }
    // Completes the current name with an already decoded suffix. False (nothing changed) when
    // the result would be over-long or not fit: the caller then walks the labels itself.
    bool append_cached(const CacheEntry& e, size_t& text, size_t& wire) noexcept {
        if (wire + e.wire_length + 1 > kMaxNameWireLength) return false;
        if (text == 0) {
            // The whole name is the cached one: share its arena bytes.
            ref_override_ = true;
            override_ref_ = e.ref;
            wire = e.wire_length;
            return true;
        }
        const size_t need = (e.ref.length > 0 ? 1 : 0) + e.ref.length;
        if (m_.name_arena_used + need > kNameArenaBytes) return false;
        char* dst = m_.name_arena.data() + m_.name_arena_used;
        if (e.ref.length > 0) {
            *dst++ = '.';
            std::memcpy(dst, m_.name_arena.data() + e.ref.offset, e.ref.length);
        }
        m_.name_arena_used = static_cast<uint16_t>(m_.name_arena_used + need);
        text += need;
        wire += e.wire_length;
        return true;
    }

    ByteView msg_;
    Message& m_;
    StaticVector<CacheEntry, kMaxNameCache> cache_{};
    NameRef override_ref_{};
    bool ref_override_ = false;
};

// Finds the end of the in-line part of a name without decoding it (framing of the sections
// that are only walked). Truncated/Malformed as for NameDecoder.
NameOutcome skip_name(ByteView msg, size_t pos) noexcept {
    NameOutcome out;
    for (;;) {
        if (pos >= msg.size()) {
            out.status = NameStatus::Truncated;
            out.fail_at = pos;
            return out;
        }
        const uint8_t b = msg[pos];
        if (b == 0) {
            out.end = pos + 1;
            break;
        }
        if ((b & 0xC0) == 0xC0) {
            if (msg.size() - pos < 2) {
                out.status = NameStatus::Truncated;
                out.fail_at = pos;
                return out;
            }
            out.end = pos + 2;
            out.compressed = true;
            break;
        }
        if ((b & 0xC0) != 0) {
            out.status = NameStatus::Malformed;
            out.fail_at = pos;
            return out;
        }
        pos += 1 + size_t{b};
    }
    out.status = NameStatus::Ok;
    return out;
}

// RFC 9460 §7.1.1: alpn-ids are a non-empty sequence of non-empty length-prefixed strings.
[[nodiscard]] bool alpn_param_valid(ByteView v) noexcept {
    if (v.empty()) return false;
    Reader r(v);
    while (!r.empty()) {
        const uint8_t len = r.u8();
        if (len == 0) return false;
        r.skip(len);
    }
    return r.ok();
}

// SVCB/HTTPS RDATA (RFC 9460 §2.2):
//   +--------------+-------------------------+--------------------------------------+
//   | SvcPriority  | TargetName (uncompressed | SvcParams: { key u16, length u16,    |
//   | u16          | wire-format name)        |   value[length] }*, keys increasing  |
//   +--------------+-------------------------+--------------------------------------+
[[nodiscard]] bool parse_svcb(ByteView msg, size_t rdata_begin, size_t rdata_end, Answer& a, NameDecoder& names,
                              Message& m) noexcept {
    if (rdata_end - rdata_begin < 3) return false;  // priority + at least the root name
    a.svc_priority = load_u16(msg, rdata_begin);
    const NameOutcome target = names.decode(rdata_begin + 2, rdata_end);
    if (target.status != NameStatus::Ok) return false;
    if (target.compressed) m.anomalies |= bit(Anomaly::CompressedTarget);
    a.target = target.ref;

    Reader params(msg.subspan(target.end, rdata_end - target.end));
    uint32_t previous_key = 0;
    bool first = true;
    while (!params.empty()) {
        const uint16_t key = params.u16();
        const uint16_t len = params.u16();
        const ByteView value = params.bytes(len);
        if (!params.ok()) return false;  // SvcParams framing broken: the record is malformed
        if (!first && key <= previous_key) m.anomalies |= bit(Anomaly::SvcParamsUnordered);
        first = false;
        previous_key = key;
        bool valid = true;
        switch (key) {
            case svc_key::kAlpn:
                valid = alpn_param_valid(value);
                if (valid) a.alpn = value;
                break;
            case svc_key::kNoDefaultAlpn:
                valid = value.empty();
                a.no_default_alpn = valid;
                break;
            case svc_key::kPort:
                valid = value.size() == 2;
                if (valid) a.port = load_u16(value, 0);
                break;
            case svc_key::kIpv4Hint:
                valid = !value.empty() && value.size() % 4 == 0;
                if (valid) a.ipv4hint = value;
                break;
            case svc_key::kIpv6Hint:
                valid = !value.empty() && value.size() % 16 == 0;
                if (valid) a.ipv6hint = value;
                break;
            case svc_key::kEch:
                valid = !value.empty();
                a.has_ech = valid;
                break;
            default: break;  // mandatory, dohpath, ohttp, private keys: not needed
        }
        if (!valid) m.anomalies |= bit(Anomaly::SvcParamMalformed);
    }
    return true;
}

// Fills the type-specific fields. False: the RDATA does not fit its type (malformed answer).
[[nodiscard]] bool parse_rdata(ByteView msg, size_t rdata_begin, size_t rdata_end, Answer& a, NameDecoder& names,
                               Message& m) noexcept {
    const size_t len = rdata_end - rdata_begin;
    switch (a.type) {
        case rrtype::kA:
            if (a.rrclass != kClassIn) return true;  // CHAOS A etc.: other layout
            if (len != 4) return false;
            a.address = a.rdata;
            return true;
        case rrtype::kAaaa:
            if (a.rrclass != kClassIn) return true;
            if (len != 16) return false;
            a.address = a.rdata;
            return true;
        case rrtype::kCname: {
            const NameOutcome n = names.decode(rdata_begin, rdata_end);
            if (n.status != NameStatus::Ok || n.end != rdata_end) return false;
            a.target = n.ref;
            return true;
        }
        case rrtype::kSvcb:
        case rrtype::kHttps: return parse_svcb(msg, rdata_begin, rdata_end, a, names, m);
        default: return true;
    }
}

[[nodiscard]] DecodeError error_at(NameStatus s, size_t at) noexcept {
    return make_error(s == NameStatus::Truncated ? DecodeErrorCode::Truncated : DecodeErrorCode::Malformed, at);
}

// Shared by probe() and probe_tcp(). `msg` may be a prefix (TCP) of a message whose full
// length is `declared`; checks that need bytes beyond the prefix pass.
[[nodiscard]] bool probe_impl(ByteView msg, size_t declared) noexcept {
    if (declared < kHeaderLength || msg.size() < kHeaderLength) return false;
    const uint16_t flags = load_u16(msg, 2);
    const bool qr = (flags & 0x8000) != 0;
    const uint8_t op = (flags >> 11) & 0x0F;
    const uint8_t rcode = flags & 0x0F;
    const uint16_t qd = load_u16(msg, 4);
    const uint16_t an = load_u16(msg, 6);
    const uint16_t ns = load_u16(msg, 8);
    const uint16_t ar = load_u16(msg, 10);
    if (!opcode_known(op)) return false;
    if (qd > 1) return false;  // RFC 9619; random data almost never has QDCOUNT ≤ 1

    // The record whose name is checked: the question, or for an inverse query (RFC 1035
    // §6.4.2, ndpi__dns_invert_query frame 1) the single answer record.
    bool check_first_rr = false;
    if (!qr) {
        if (rcode != 0) return false;
        switch (op) {
            case opcode::kQuery:
            case opcode::kStatus:
                if (qd != 1 || an != 0 || ns != 0 || ar > kMaxQueryAdditional) return false;
                break;
            case opcode::kIQuery:
                if (qd != 0 || an != 1 || ns != 0 || ar > kMaxQueryAdditional) return false;
                check_first_rr = true;
                break;
            case opcode::kNotify:  // RFC 1996 §3.7: SOA question, optional SOA answer
                if (qd != 1 || an > 1 || ns != 0 || ar > kMaxQueryAdditional) return false;
                break;
            case opcode::kUpdate:  // RFC 2136 §2: one zone; prerequisite/update sections free
                if (qd != 1) return false;
                break;
            case opcode::kDso:  // RFC 8490 §5.4: all counts zero
                if (qd != 0 || an != 0 || ns != 0 || ar != 0) return false;
                break;
            default: return false;
        }
    } else {
        if (rcode > 11) return false;  // 12..15 unassigned in the 4-bit header field
        if (qd == 0 && op != opcode::kDso && op != opcode::kIQuery && (rcode == 0 || an != 0 || ns != 0)) {
            return false;  // question-less only for error responses (FORMERR, NOTIMP…)
        }
    }

    size_t pos = kHeaderLength;
    if (qd == 1 || check_first_rr) {
        // First name: uncompressed (nothing precedes it that a pointer could usefully reach).
        size_t wire = 1;
        for (;;) {
            if (pos >= msg.size()) return msg.size() < declared;  // cut by the segment: pass
            const uint8_t len = msg[pos];
            if (len == 0) break;
            if (len > kMaxLabelLength) return false;
            wire += 1 + size_t{len};
            if (wire > kMaxNameWireLength) return false;
            pos += 1 + size_t{len};
            if (pos >= declared) return false;
        }
        ++pos;
        if (msg.size() - pos < kQuestionFixedLength)
            return pos + kQuestionFixedLength <= declared && msg.size() < declared;
        const uint16_t qtype = load_u16(msg, pos);
        const uint16_t qclass = load_u16(msg, pos + 2);
        if (qtype == 0 || !qclass_known(qclass)) return false;
        pos += kQuestionFixedLength;
        if (check_first_rr) {
            pos += 4;  // TTL
            if (pos + 2 > declared) return false;
            if (pos + 2 <= msg.size()) pos += 2 + size_t{load_u16(msg, pos)};
            if (pos > declared) return false;
        }
    }
    const size_t records = size_t{an} + ns + ar - (check_first_rr ? 1 : 0);
    if (pos > declared) return false;
    return records * kMinRrLength <= declared - pos;
}

// RFC 6762 §18: mDNS messages have OPCODE 0 and RCODE 0 (§18.3, §18.11). Section counts are
// free: responses carry no questions (§6), queries carry known answers (§7.1) and probes
// authority records (§8.2). The first name — the question's, or the first record's owner —
// starts at offset 12 and is therefore uncompressed; it and its TYPE/CLASS are checked as in
// probe_impl().
[[nodiscard]] bool probe_mdns(ByteView msg) noexcept {
    if (msg.size() < kHeaderLength) return false;
    const uint16_t flags = load_u16(msg, 2);
    const uint8_t op = (flags >> 11) & 0x0F;
    const uint8_t rcode = flags & 0x0F;
    const size_t qd = load_u16(msg, 4);
    const size_t records = size_t{load_u16(msg, 6)} + load_u16(msg, 8) + load_u16(msg, 10);
    if (op != opcode::kQuery || rcode != 0 || qd + records == 0) return false;
    size_t pos = kHeaderLength;
    size_t wire = 1;
    for (;;) {
        if (pos >= msg.size()) return false;
        const uint8_t len = msg[pos];
        if (len == 0) break;
        if (len > kMaxLabelLength) return false;
        wire += 1 + size_t{len};
        if (wire > kMaxNameWireLength) return false;
        pos += 1 + size_t{len};
    }
    ++pos;
    if (msg.size() - pos < kQuestionFixedLength) return false;
    const uint16_t type = load_u16(msg, pos);
    const uint16_t rrclass = load_u16(msg, pos + 2);
    if (type == 0 || !qclass_known(rrclass)) return false;
    pos += kQuestionFixedLength;
    size_t questions_left = qd;
    size_t records_left = records;
    if (qd > 0) {
        --questions_left;
    } else {
        --records_left;
        if (msg.size() - pos < 6) return false;  // TTL + RDLENGTH
        pos += 6 + size_t{load_u16(msg, pos + 4)};
        if (pos > msg.size()) return false;
    }
    return questions_left * (1 + kQuestionFixedLength) + records_left * kMinRrLength <= msg.size() - pos;
}

}  // namespace

bool probe(ByteView msg, Dialect dialect) noexcept {
    if (dialect == Dialect::Mdns) return probe_mdns(msg);
    return probe_impl(msg, msg.size());
}

bool probe_tcp(ByteView stream_start) noexcept {
    if (stream_start.size() < 2) return false;
    const size_t declared = load_u16(stream_start, 0);
    const ByteView msg = stream_start.subspan(2);
    return probe_impl(msg.first(msg.size() < declared ? msg.size() : declared), declared);
}

StaticVector<ByteView, kMaxAlpnIds> alpn_ids(ByteView alpn_param) noexcept {
    StaticVector<ByteView, kMaxAlpnIds> ids;
    Reader r(alpn_param);
    while (!r.empty()) {
        const uint8_t len = r.u8();
        const ByteView id = r.bytes(len);
        if (!r.ok() || id.empty()) break;
        (void)ids.push_back(id);
    }
    return ids;
}

namespace {

void read_header(ByteView msg, Message& m) noexcept {
    Header& h = m.header;
    Reader r(msg);
    h.id = r.u16();
    const uint16_t flags = r.u16();
    h.qdcount = r.u16();
    h.ancount = r.u16();
    h.nscount = r.u16();
    h.arcount = r.u16();
    h.qr = (flags & 0x8000) != 0;
    h.opcode = static_cast<uint8_t>((flags >> 11) & 0x0F);
    h.aa = (flags & 0x0400) != 0;
    h.tc = (flags & 0x0200) != 0;
    h.rd = (flags & 0x0100) != 0;
    h.ra = (flags & 0x0080) != 0;
    h.z = (flags & 0x0040) != 0;
    h.ad = (flags & 0x0020) != 0;
    h.cd = (flags & 0x0010) != 0;
    h.rcode = static_cast<uint8_t>(flags & 0x0F);
    if (!opcode_known(h.opcode)) m.anomalies |= bit(Anomaly::UnknownOpcode);
    if (h.z) m.anomalies |= bit(Anomaly::ZBitSet);
}

// Questions: the first is decoded, the others only walked. `pos` moves past them.
std::optional<DecodeError> read_questions(ByteView msg, NameDecoder& names, bool mdns, Message& m,
                                          size_t& pos) noexcept {
    const uint16_t qdcount = m.header.qdcount;
    for (uint32_t i = 0; i < qdcount; ++i) {
        NameOutcome n;
        if (i == 0) {
            n = names.decode(pos, msg.size());
        } else {
            n = skip_name(msg, pos);
        }
        if (n.status != NameStatus::Ok) return error_at(n.status, n.fail_at);
        if (msg.size() - n.end < kQuestionFixedLength) {
            return make_error(DecodeErrorCode::Truncated, msg.size());
        }
        if (i == 0) {
            m.has_question = true;
            m.question.qname = n.ref;
            m.question.qtype = load_u16(msg, n.end);
            m.question.qclass = load_u16(msg, n.end + 2);
            if (mdns) {
                m.question.unicast_response = (m.question.qclass & kMdnsClassFlag) != 0;
                m.question.qclass &= ~kMdnsClassFlag;
            }
        }
        pos = n.end + kQuestionFixedLength;
    }
    if (qdcount > 1) m.anomalies |= bit(Anomaly::MultipleQuestions);
    return std::nullopt;
}

// Answers, decoded into m.answers; a malformed one ends the section with
// m.answers_truncated set. `pos` moves past the answers read.
std::optional<DecodeError> read_answers(ByteView msg, NameDecoder& names, bool mdns, Message& m, size_t& pos) noexcept {
    for (uint32_t i = 0; i < m.header.ancount; ++i) {
        const NameOutcome n = names.decode(pos, msg.size());
        if (n.status == NameStatus::Truncated) return error_at(n.status, n.fail_at);
        if (n.status != NameStatus::Ok) {
            m.answers_truncated = true;
            break;
        }
        Reader rr(msg);
        rr.seek(n.end);
        Answer a;
        a.name = n.ref;
        a.type = rr.u16();
        a.rrclass = rr.u16();
        if (mdns) {  // before parse_rdata(): an mDNS A/AAAA record is class IN + cache-flush
            a.cache_flush = (a.rrclass & kMdnsClassFlag) != 0;
            a.rrclass &= ~kMdnsClassFlag;
        }
        a.ttl_s = rr.u32();
        const uint16_t rdlength = rr.u16();
        const size_t rdata_begin = rr.offset();
        a.rdata = rr.bytes(rdlength);
        if (!rr.ok()) return make_error(DecodeErrorCode::Truncated, msg.size());
        if (!parse_rdata(msg, rdata_begin, rdata_begin + rdlength, a, names, m)) {
            m.answers_truncated = true;
            break;
        }
        (void)m.answers.push_back(a);
        pos = rdata_begin + rdlength;
    }
    return std::nullopt;
}

// Authority and additional: framing, and the OPT pseudo-record (RFC 6891 §6.1.2):
//   NAME = root, TYPE = 41, CLASS = requestor's UDP payload size,
//   TTL = EXTENDED-RCODE u8 | VERSION u8 | DO bit | Z (15 bits), RDATA = options.
// Sets m.extended_rcode; `pos` moves past the records walked.
std::optional<DecodeError> read_extra(ByteView msg, Message& m, size_t& pos) noexcept {
    const Header& h = m.header;
    const uint32_t extra = uint32_t{h.nscount} + h.arcount;
    uint8_t rcode_hi = 0;
    for (uint32_t i = 0; i < extra; ++i) {
        const NameOutcome n = skip_name(msg, pos);
        if (n.status == NameStatus::Truncated) return error_at(n.status, n.fail_at);
        if (n.status != NameStatus::Ok) {
            m.anomalies |= bit(Anomaly::ExtraSectionMalformed);
            break;
        }
        Reader rr(msg);
        rr.seek(n.end);
        const uint16_t type = rr.u16();
        const uint16_t rrclass = rr.u16();
        const uint32_t ttl = rr.u32();
        const uint16_t rdlength = rr.u16();
        rr.skip(rdlength);
        if (!rr.ok()) return make_error(DecodeErrorCode::Truncated, msg.size());
        if (type == rrtype::kOpt && i >= h.nscount) {
            if (m.has_edns) {
                m.anomalies |= bit(Anomaly::MultipleOpt);
            } else {
                m.has_edns = true;
                m.edns_udp_payload_size = rrclass;
                rcode_hi = static_cast<uint8_t>(ttl >> 24);
                m.edns_version = static_cast<uint8_t>(ttl >> 16);
                m.edns_do = (ttl & 0x8000) != 0;
            }
        }
        pos = rr.offset();
    }
    m.extended_rcode = static_cast<uint16_t>((uint16_t{rcode_hi} << 4) | h.rcode);
    if (!(m.anomalies & bit(Anomaly::ExtraSectionMalformed)) && pos < msg.size()) {
        m.anomalies |= bit(Anomaly::TrailingBytes);
    }
    return std::nullopt;
}

}  // namespace

// RFC 1035 §4.1.1 header:
//                                  1  1  1  1  1  1
//    0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                      ID                       |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                    QDCOUNT                    |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                    ANCOUNT                    |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                    NSCOUNT                    |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                    ARCOUNT                    |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// followed by QDCOUNT questions { QNAME, QTYPE u16, QCLASS u16 } and ANCOUNT + NSCOUNT +
// ARCOUNT resource records (§4.1.3):
//  +--------------+------+-------+--------+----------+------------------+
//  | NAME (var.)  | TYPE | CLASS | TTL    | RDLENGTH | RDATA[RDLENGTH]  |
//  |              | u16  | u16   | u32    | u16      |                  |
//  +--------------+------+-------+--------+----------+------------------+
// Names are labels (length octet 1..63 + bytes) ending in a 0 octet or a 14-bit pointer
// (two octets, top bits 11) to an earlier name (§4.1.4).
bool decode_into(ByteView msg, Dialect dialect, Message& m, DecodeError* error) noexcept {
    const auto fail = [error](DecodeError e) {
        if (error) *error = e;
        return false;
    };
    if (msg.empty()) return fail(make_error(DecodeErrorCode::NotThisProtocol, 0));
    if (msg.size() < kHeaderLength) return fail(make_error(DecodeErrorCode::Truncated, msg.size()));

    m.reset();
    read_header(msg, m);
    NameDecoder names(msg, m);
    size_t pos = kHeaderLength;
    const bool mdns = dialect == Dialect::Mdns;
    if (auto e = read_questions(msg, names, mdns, m, pos)) return fail(*e);
    if (auto e = read_answers(msg, names, mdns, m, pos)) return fail(*e);
    if (!m.answers_truncated) {
        if (auto e = read_extra(msg, m, pos)) return fail(*e);
    } else {
        m.extended_rcode = m.header.rcode;
    }
    m.length = static_cast<uint32_t>(pos);
    return true;
}

Result<Message> decode(ByteView msg, Dialect dialect) noexcept {
    Message m;
    DecodeError e{};
    if (!decode_into(msg, dialect, m, &e)) return e;
    return m;
}

}  // namespace callwall::proto::dns
