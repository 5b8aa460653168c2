// Community ID v1. See events/events.hpp.
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "events/events.hpp"

namespace callwall::events {
namespace {

constexpr uint8_t kIcmp = 1, kIcmp6 = 58;

// ICMP types that come in request/reply pairs: the pair is one flow, hashed
// with the counterpart type as the "destination port" (community-id-spec,
// "ICMP and ICMPv6").
int icmp_counterpart(uint8_t type) {
    switch (type) {
        case 8: return 0;  // echo
        case 0: return 8;  // echo reply
        case 13: return 14;  // timestamp
        case 14: return 13;
        case 15: return 16;  // information
        case 16: return 15;
        case 10: return 9;  // router solicitation / advertisement
        case 9: return 10;
        case 17: return 18;  // address mask
        case 18: return 17;
        default: return -1;
    }
}
int icmp6_counterpart(uint8_t type) {
    switch (type) {
        case 128: return 129;  // echo
        case 129: return 128;
        case 133: return 134;  // router solicitation / advertisement
        case 134: return 133;
        case 135: return 136;  // neighbor solicitation / advertisement
        case 136: return 135;
        case 130: return 131;  // multicast listener query / report
        case 131: return 130;
        case 139: return 140;  // node information query / response
        case 140: return 139;
        case 144: return 145;  // home agent address discovery
        case 145: return 144;
        default: return -1;
    }
}

bool has_ports(uint8_t proto) { return proto == 6 || proto == 17 || proto == 132 || proto == kIcmp || proto == kIcmp6; }

size_t addr_len(const decode::IpAddr& a) { return a.family == 6 ? 16 : 4; }

// a < b as the spec orders endpoints: address bytes, then port.
bool lower_endpoint(const decode::IpAddr& a, uint16_t ap, const decode::IpAddr& b, uint16_t bp) {
    const int c = std::memcmp(a.bytes.data(), b.bytes.data(), addr_len(a));
    return c < 0 || (c == 0 && ap < bp);
}

}  // namespace

IcmpPorts icmp_ports(uint8_t proto, uint8_t type, uint8_t code) noexcept {
    const int pair = proto == kIcmp ? icmp_counterpart(type) : icmp6_counterpart(type);
    if (pair < 0) return {type, code, true};
    return {type, static_cast<uint16_t>(pair), false};
}

std::string community_id(const decode::IpAddr& src, uint16_t sport, const decode::IpAddr& dst, uint16_t dport,
                         uint8_t proto, uint16_t seed) {
    decode::IpAddr a = src, b = dst;
    uint16_t ap = sport, bp = dport;
    bool one_way = false;
    if (proto == kIcmp || proto == kIcmp6) {
        const int pair = proto == kIcmp ? icmp_counterpart(static_cast<uint8_t>(sport))
                                        : icmp6_counterpart(static_cast<uint8_t>(sport));
        if (pair >= 0)
            bp = static_cast<uint16_t>(pair);
        else
            one_way = true;  // the code stays as the second "port"
    }
    if (!one_way && !lower_endpoint(a, ap, b, bp)) {
        std::swap(a, b);
        std::swap(ap, bp);
    }
    std::array<uint8_t, 2 + 16 + 16 + 2 + 4> buf{};
    size_t n = 0;
    buf[n++] = static_cast<uint8_t>(seed >> 8);
    buf[n++] = static_cast<uint8_t>(seed);
    std::memcpy(buf.data() + n, a.bytes.data(), addr_len(a));
    n += addr_len(a);
    std::memcpy(buf.data() + n, b.bytes.data(), addr_len(b));
    n += addr_len(b);
    buf[n++] = proto;
    buf[n++] = 0;
    if (has_ports(proto)) {
        buf[n++] = static_cast<uint8_t>(ap >> 8);
        buf[n++] = static_cast<uint8_t>(ap);
        buf[n++] = static_cast<uint8_t>(bp >> 8);
        buf[n++] = static_cast<uint8_t>(bp);
    }
    uint8_t digest[SHA_DIGEST_LENGTH];
    unsigned int digest_len = 0;
    if (EVP_Digest(buf.data(), n, digest, &digest_len, EVP_sha1(), nullptr) != 1 || digest_len != SHA_DIGEST_LENGTH)
        return "";
    char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64), digest, SHA_DIGEST_LENGTH);
    return "1:" + std::string(b64, static_cast<size_t>(len));
}

std::string flow_uid(std::string_view key) {
    static constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t digest[SHA_DIGEST_LENGTH];
    unsigned int digest_len = 0;
    if (EVP_Digest(key.data(), key.size(), digest, &digest_len, EVP_sha1(), nullptr) != 1) return "";
    // 96 bits of the digest (Zeek's uids are 96-bit too), in base62.
    unsigned __int128 v = 0;
    for (int i = 0; i < 12; ++i) v = (v << 8) | digest[i];
    std::string out = "C";
    for (int i = 0; i < 17; ++i) {
        out.push_back(kBase62[static_cast<int>(v % 62)]);
        v /= 62;
    }
    return out;
}

std::string zeek_service(std::string_view app) {
    // callwall's label -> Zeek's analyzer name ("" : Zeek has none).
    auto zeek_name = [](std::string_view label) -> std::string_view {
        if (label == "tls") return "ssl";
        if (label == "stun" || label == "turn" || label == "ms-turn") return "stun";
        if (label == "dns" || label == "quic" || label == "dtls" || label == "http") return label;
        return "";
    };
    std::string out;
    size_t start = 0;
    while (start <= app.size()) {
        size_t end = app.find('+', start);
        if (end == std::string_view::npos) end = app.size();
        const std::string_view name = zeek_name(app.substr(start, end - start));
        if (!name.empty()) {
            bool seen = false;
            for (size_t p = 0; p < out.size();) {
                size_t q = out.find(',', p);
                if (q == std::string::npos) q = out.size();
                if (std::string_view(out).substr(p, q - p) == name) seen = true;
                p = q + 1;
            }
            if (!seen) {
                if (!out.empty()) out += ',';
                out += name;
            }
        }
        start = end + 1;
    }
    return out;
}

}  // namespace callwall::events
