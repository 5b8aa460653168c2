// TLS after a cleartext start. See proto/starttls.hpp.
#include "proto/starttls.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace callwall::proto::starttls {
namespace {

constexpr bool is_digit(uint8_t c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(uint8_t c) noexcept { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

bool starts_alpha(ByteView s, size_t n) noexcept {
    if (s.size() < n) return false;
    for (size_t i = 0; i < n; ++i)
        if (!is_alpha(s[i])) return false;
    return true;
}

// `line` (without its line end and trailing blanks) equals `word`, ignoring case.
bool equals_nocase(ByteView line, std::string_view word) noexcept {
    if (line.size() != word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i)
        if ((line[i] | 0x20) != (static_cast<uint8_t>(word[i]) | 0x20)) return false;
    return true;
}

ByteView trim_blanks(ByteView line) noexcept {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
        line = line.first(line.size() - 1);
    return line;
}

// The text command `line` (its line end cut) is the upgrade request of `k`.
bool is_upgrade_line(Kind k, ByteView line) noexcept {
    line = trim_blanks(line);
    switch (k) {
        case Kind::Smtp: return equals_nocase(line, "STARTTLS");
        case Kind::Pop3: return equals_nocase(line, "STLS");
        case Kind::Ftp:
            return equals_nocase(line, "AUTH TLS") || equals_nocase(line, "AUTH SSL") ||
                   equals_nocase(line, "AUTH TLS-C") || equals_nocase(line, "AUTH TLS-P");
        case Kind::Imap: {
            // tag SP "STARTTLS": a tag is at least one character other than a blank.
            const auto sp = std::find(line.begin(), line.end(), uint8_t{' '});
            if (sp == line.begin() || sp == line.end()) return false;
            return equals_nocase(line.subspan(static_cast<size_t>(sp - line.begin()) + 1), "STARTTLS");
        }
        default: return false;
    }
}

// `needle` anywhere in `hay`; the offset just past it, 0 when absent.
size_t find_end(ByteView hay, ByteView needle) noexcept {
    const auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
    return it == hay.end() ? 0 : static_cast<size_t>(it - hay.begin()) + needle.size();
}

ByteView text(std::string_view s) noexcept { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// One BER element at the start of `s` (tag, definite length): its whole length, 0 if unreadable.
size_t ber_element_length(ByteView s) noexcept {
    if (s.size() < 2) return 0;
    const uint8_t l = s[1];
    if (l < 0x80) return 2 + size_t{l};
    const size_t n = l & 0x7F;
    if (n == 0 || n > 3 || s.size() < 2 + n) return 0;
    size_t len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | s[2 + i];
    return 2 + n + len;
}

constexpr uint8_t kPostgresSslRequest[] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xD2, 0x16, 0x2F};
constexpr uint32_t kMysqlClientSsl = 0x0800;
constexpr size_t kMysqlSslRequest = 4 + 32;  // packet header, then the request

}  // namespace

Kind kind_of_port(uint16_t port) noexcept {
    switch (port) {
        case 25:
        case 587: return Kind::Smtp;
        case 143: return Kind::Imap;
        case 110: return Kind::Pop3;
        case 21: return Kind::Ftp;
        case 5222:
        case 5269: return Kind::Xmpp;
        case 389: return Kind::Ldap;
        case 5432: return Kind::Postgres;
        case 3306: return Kind::Mysql;
        default: return Kind::None;
    }
}

std::string_view name(Kind k) noexcept {
    switch (k) {
        case Kind::None: return "";
        case Kind::Smtp: return "smtp";
        case Kind::Imap: return "imap";
        case Kind::Pop3: return "pop3";
        case Kind::Ftp: return "ftp";
        case Kind::Xmpp: return "xmpp";
        case Kind::Ldap: return "ldap";
        case Kind::Postgres: return "postgresql";
        case Kind::Mysql: return "mysql";
    }
    return "?";
}

bool opening(Kind k, ByteView s) noexcept {
    if (s.empty()) return false;
    switch (k) {
        case Kind::Smtp:
        case Kind::Ftp:
            // A reply ("220 ", "220-") or a command word.
            return (s.size() >= 4 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) &&
                    (s[3] == ' ' || s[3] == '-')) ||
                   starts_alpha(s, 4);
        case Kind::Imap: return (s.size() >= 2 && s[0] == '*' && s[1] == ' ') || is_alpha(s[0]) || is_digit(s[0]);
        case Kind::Pop3: return (s.size() >= 3 && s[0] == '+' && s[1] == 'O' && s[2] == 'K') || starts_alpha(s, 4);
        case Kind::Xmpp: return s[0] == '<';
        case Kind::Ldap: return s[0] == 0x30 && ber_element_length(s) != 0;
        case Kind::Postgres: {
            // The client's first message: a length (4, big-endian) then a protocol code.
            const uint32_t len = load_u32(s, 0);
            return s.size() >= 8 && len >= 8 && len <= 10000;
        }
        case Kind::Mysql:
            // The server's greeting: a packet (3-byte length, sequence 0) of protocol version 10.
            return s.size() >= 5 && s[3] == 0 && s[4] == 10 &&
                   (s[0] | (size_t{s[1]} << 8) | (size_t{s[2]} << 16)) + 4 >= std::min<size_t>(s.size(), 5);
        case Kind::None: break;
    }
    return false;
}

size_t upgrade_request(Kind k, ByteView seg) noexcept {
    switch (k) {
        case Kind::Smtp:
        case Kind::Imap:
        case Kind::Pop3:
        case Kind::Ftp: {
            // Each line of the segment: pipelined commands may precede the request (RFC 2920).
            size_t start = 0;
            while (start < seg.size()) {
                const auto lf = std::find(seg.begin() + static_cast<std::ptrdiff_t>(start), seg.end(), uint8_t{'\n'});
                if (lf == seg.end()) return 0;  // no line end: not a whole command
                const size_t end = static_cast<size_t>(lf - seg.begin());
                if (is_upgrade_line(k, seg.subspan(start, end - start))) return end + 1;
                start = end + 1;
            }
            return 0;
        }
        case Kind::Xmpp: {
            const size_t at = find_end(seg, text("<starttls"));
            if (at == 0) return 0;
            // The element closes itself ("/>") or with "</starttls>".
            const size_t close = find_end(seg.subspan(at), text(">"));
            return close == 0 ? 0 : at + close;
        }
        case Kind::Ldap: {
            // requestName [0] (tag 0x80, length 22) holding the StartTLS OID.
            if (find_end(seg, text("\x80\x16"
                                   "1.3.6.1.4.1.1466.20037")) == 0)
                return 0;
            const size_t len = seg[0] == 0x30 ? ber_element_length(seg) : 0;
            return len != 0 && len <= seg.size() ? len : seg.size();
        }
        case Kind::Postgres:
            return seg.size() >= sizeof kPostgresSslRequest &&
                           std::memcmp(seg.data(), kPostgresSslRequest, sizeof kPostgresSslRequest) == 0
                       ? sizeof kPostgresSslRequest
                       : 0;
        case Kind::Mysql: {
            if (seg.size() < kMysqlSslRequest || seg[0] != 32 || seg[1] != 0 || seg[2] != 0 || seg[3] != 1) return 0;
            const uint32_t caps =
                seg[4] | (uint32_t{seg[5]} << 8) | (uint32_t{seg[6]} << 16) | (uint32_t{seg[7]} << 24);
            return (caps & kMysqlClientSsl) ? kMysqlSslRequest : 0;
        }
        case Kind::None: break;
    }
    return 0;
}

}  // namespace callwall::proto::starttls
