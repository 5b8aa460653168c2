// Proxy preambles (SOCKS4/4a/5, HTTP CONNECT). See pipeline/proxy_preamble.hpp.
#include "pipeline/proxy_preamble.hpp"

#include <algorithm>

namespace callwall::pipeline::proxy {
namespace {

constexpr uint8_t kSocks5 = 5, kSocks4 = 4;
constexpr uint8_t kCmdConnect = 1;
constexpr uint8_t kMethodNone = 0, kMethodUserPass = 2, kNoAcceptable = 0xFF;
constexpr uint8_t kAtypIpv4 = 1, kAtypDomain = 3, kAtypIpv6 = 4;
constexpr uint8_t kSocks4Granted = 90;

Parsed need_more(ByteView s) noexcept {
    Parsed p;
    p.status = s.size() >= kMaxPreamble ? Status::Failed : Status::NeedMore;
    return p;
}
Parsed failed() noexcept {
    Parsed p;
    p.status = Status::Failed;
    return p;
}
Parsed done(size_t len, std::string_view target = {}, uint16_t port = 0) noexcept {
    Parsed p;
    p.status = len <= kMaxPreamble ? Status::Done : Status::Failed;
    p.length = len;
    p.target = target;
    p.target_port = port;
    return p;
}

uint16_t be16(ByteView s, size_t off) noexcept {
    return off + 2 <= s.size() ? static_cast<uint16_t>((s[off] << 8) | s[off + 1]) : 0;
}

// The decimal port of an authority's ":port" suffix, 0 when absent or not 1..65535.
uint16_t authority_port(std::string_view authority) noexcept {
    const size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos || (authority.front() == '[' && authority.rfind(']') > colon)) return 0;
    uint32_t port = 0;
    const std::string_view digits = authority.substr(colon + 1);
    if (digits.empty() || digits.size() > 5) return 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return 0;
        port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    return port >= 1 && port <= 65535 ? static_cast<uint16_t>(port) : 0;
}

std::string_view text(ByteView v, size_t off, size_t len) noexcept {
    return {reinterpret_cast<const char*>(v.data()) + off, len};
}

// RFC 1928 §3: method codes defined or reserved for IANA / private methods.
bool socks5_method(uint8_t m) noexcept { return m <= 0x09 || (m >= 0x80 && m <= 0xFE); }

// ATYP + address (+ port) starting at `off` (the ATYP byte): total length, 0 if unknown.
size_t socks5_address(ByteView s, size_t off, bool& more, std::string_view* domain) noexcept {
    more = false;
    if (s.size() < off + 1) return more = true, 0;
    switch (s[off]) {
        case kAtypIpv4: return 1 + 4 + 2;
        case kAtypIpv6: return 1 + 16 + 2;
        case kAtypDomain: {
            if (s.size() < off + 2) return more = true, 0;
            const size_t n = s[off + 1];
            if (n == 0) return 0;
            if (domain && s.size() >= off + 2 + n) *domain = text(s, off + 2, n);
            return 1 + 1 + n + 2;
        }
        default: return 0;
    }
}

size_t find_crlfcrlf(ByteView s) noexcept {
    const size_t n = std::min(s.size(), kMaxPreamble);
    for (size_t i = 0; i + 4 <= n; ++i)
        if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == '\r' && s[i + 3] == '\n') return i;
    return s.size();
}

bool starts_with(ByteView s, std::string_view p) noexcept {
    return s.size() >= p.size() &&
           std::equal(p.begin(), p.end(), s.begin(), [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; });
}

// An address literal is not a name (IPv4 dotted digits, or a bracketed IPv6).
bool is_literal(std::string_view h) noexcept {
    if (!h.empty() && h.front() == '[') return true;
    return std::all_of(h.begin(), h.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

size_t find_nul(ByteView s, size_t from) noexcept {
    for (size_t i = from; i < s.size() && i < kMaxPreamble; ++i)
        if (s[i] == 0) return i;
    return s.size();
}

}  // namespace

Kind probe(ByteView s) noexcept {
    if (starts_with(s, "CONNECT ")) return Kind::HttpConnect;
    if (s.size() >= 3 && s[0] == kSocks5) {
        const size_t n = s[1];
        if (n == 0 || n > 16 || s.size() < 2 + n) return Kind::None;
        for (size_t i = 0; i < n; ++i)
            if (!socks5_method(s[2 + i])) return Kind::None;
        if (s.size() == 2 + n) return Kind::Socks5;
        // Pipelined: the sub-negotiation (RFC 1929 VER=1) or the request follows.
        const uint8_t next = s[2 + n];
        if (next == 1 || (next == kSocks5 && s.size() >= 4 + n && s[3 + n] == kCmdConnect)) return Kind::Socks5;
        return Kind::None;
    }
    if (s.size() >= 9 && s[0] == kSocks4 && s[1] == kCmdConnect) {
        const Parsed p = parse_request(Kind::Socks4, s);
        if (p.status != Status::Done) return Kind::None;
        // The request alone, or a TLS record right behind it.
        if (p.length == s.size() || s[p.length] == 0x16) return Kind::Socks4;
    }
    return Kind::None;
}

Parsed parse_request(Kind k, ByteView s) noexcept {
    switch (k) {
        case Kind::Socks5: {
            if (s.size() < 2) return need_more(s);
            if (s[0] != kSocks5 || s[1] == 0) return failed();
            size_t off = 2 + size_t{s[1]};
            if (s.size() <= off) return need_more(s);
            if (s[off] == 1) {  // RFC 1929 username/password
                if (s.size() < off + 2) return need_more(s);
                const size_t ulen = s[off + 1];
                if (s.size() < off + 3 + ulen) return need_more(s);
                const size_t plen = s[off + 2 + ulen];
                off += 3 + ulen + plen;
                if (s.size() <= off) return need_more(s);
            }
            if (s.size() < off + 3) return need_more(s);
            if (s[off] != kSocks5 || s[off + 1] != kCmdConnect || s[off + 2] != 0) return failed();
            bool more = false;
            std::string_view domain;
            const size_t a = socks5_address(s, off + 3, more, &domain);
            if (more) return need_more(s);
            if (!a) return failed();
            const size_t total = off + 3 + a;
            if (s.size() < total) return need_more(s);
            return done(total, domain, be16(s, total - 2));  // DST.PORT ends the request (RFC 1928 §4)
        }
        case Kind::Socks4: {
            if (s.size() < 9) return need_more(s);
            if (s[0] != kSocks4 || s[1] != kCmdConnect) return failed();
            const size_t user_end = find_nul(s, 8);
            if (user_end >= s.size()) return need_more(s);
            // SOCKS4a: DSTIP 0.0.0.x with x != 0 means a host name follows.
            if (s[4] == 0 && s[5] == 0 && s[6] == 0 && s[7] != 0) {
                const size_t host_end = find_nul(s, user_end + 1);
                if (host_end >= s.size()) return need_more(s);
                if (host_end == user_end + 1) return failed();
                return done(host_end + 1, text(s, user_end + 1, host_end - user_end - 1), be16(s, 2));
            }
            return done(user_end + 1, {}, be16(s, 2));  // DSTPORT follows VN and CD
        }
        case Kind::HttpConnect: {
            const size_t end = find_crlfcrlf(s);
            if (end >= s.size()) return need_more(s);
            // "CONNECT " authority " HTTP/1.x" CRLF
            size_t sp = 8;
            while (sp < end && s[sp] != ' ' && s[sp] != '\r') ++sp;
            std::string_view authority = text(s, 8, sp - 8);
            if (authority.empty() || !starts_with(s.subspan(sp), " HTTP/1.")) return failed();
            std::string_view host = authority;
            if (host.front() == '[') {
                host = {};  // IPv6 literal
            } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
                host = host.substr(0, colon);
            }
            if (is_literal(host)) host = {};
            return done(end + 4, host, authority_port(authority));
        }
        case Kind::None: break;
    }
    return failed();
}

Parsed parse_reply(Kind k, ByteView s) noexcept {
    switch (k) {
        case Kind::Socks5: {
            if (s.size() < 2) return need_more(s);
            if (s[0] != kSocks5) return failed();
            const uint8_t method = s[1];
            if (method == kNoAcceptable || (method != kMethodNone && method != kMethodUserPass)) return failed();
            size_t off = 2;
            if (method == kMethodUserPass) {
                if (s.size() < 4) return need_more(s);
                if (s[2] != 1 || s[3] != 0) return failed();  // RFC 1929: STATUS 0 is success
                off = 4;
            }
            if (s.size() < off + 3) return need_more(s);
            if (s[off] != kSocks5 || s[off + 1] != 0 || s[off + 2] != 0) return failed();  // REP 0: succeeded
            bool more = false;
            const size_t a = socks5_address(s, off + 3, more, nullptr);
            if (more) return need_more(s);
            if (!a) return failed();
            if (s.size() < off + 3 + a) return need_more(s);
            return done(off + 3 + a);
        }
        case Kind::Socks4: {
            if (s.size() < 8) return need_more(s);
            if (s[0] != 0 || s[1] != kSocks4Granted) return failed();
            return done(8);
        }
        case Kind::HttpConnect: {
            const size_t end = find_crlfcrlf(s);
            if (end >= s.size()) return need_more(s);
            // "HTTP/1.x 2xx": any 2xx means the tunnel is open (RFC 9110 §9.3.6).
            if (!starts_with(s, "HTTP/1.") || end < 12 || s[8] != ' ' || s[9] != '2') return failed();
            return done(end + 4);
        }
        case Kind::None: break;
    }
    return failed();
}

}  // namespace callwall::pipeline::proxy
