// Probe wire formats. See probe/wire.hpp.
#include "probe/wire.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <ctime>
#include <cstring>

#include "proto/stun.hpp"

namespace callwall::probe {
namespace {

namespace stun = proto::stun;

constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kAllocateRequest = 0x0003;
constexpr uint16_t kAllocateError = 0x0113;
constexpr std::string_view kSoftware = "callwall probe";
constexpr std::string_view kRealm = "callwall-reflect";

void put24(std::vector<uint8_t>& b, uint32_t v) {
    b.push_back(static_cast<uint8_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}
void set16(std::vector<uint8_t>& b, size_t at, size_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}

// RFC 8489 §14: type, length, value, padded to 4.
void attribute(std::vector<uint8_t>& b, uint16_t type, const uint8_t* value, size_t n) {
    put16(b, type);
    put16(b, static_cast<uint16_t>(n));
    b.insert(b.end(), value, value + n);
    while (b.size() % 4) b.push_back(0);
}
void attribute(std::vector<uint8_t>& b, uint16_t type, std::string_view s) {
    attribute(b, type, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

constexpr std::string_view kRequestLabel = "callwall-probe-request";
constexpr std::string_view kAnswerLabel = "callwall-reflect-answer";

// HMAC-SHA256(key, label, the parts in order). The message is at most a
// label and a few dozen bytes: gathered on the stack for one HMAC() call.
Token mac_of(std::string_view key, std::string_view label, std::initializer_list<ByteView> parts) {
    std::array<uint8_t, 160> msg{};
    size_t n = 0;
    const auto add = [&](const uint8_t* p, size_t len) {
        len = std::min(len, msg.size() - n);
        std::copy_n(p, len, msg.begin() + static_cast<std::ptrdiff_t>(n));
        n += len;
    };
    add(reinterpret_cast<const uint8_t*>(label.data()), label.size());
    for (const ByteView p : parts) add(p.data(), p.size());
    Token out{};
    unsigned int len = 0;
    // A failure leaves a token nobody can match: a MAC of zeros is refused
    // by auth_valid like any other wrong one.
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), msg.data(), n, out.data(), &len)) out.fill(0);
    return out;
}

// The MAC part of an AuthBlock.
std::array<uint8_t, 16> auth_mac(std::string_view key, AuthScope scope, uint16_t port, ByteView bound,
                                 const AuthBlock& a) {
    const uint8_t head[3] = {static_cast<uint8_t>(scope), static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
    const Token full = mac_of(key, kRequestLabel, {ByteView(head, 3), ByteView(a.data(), 16), bound});
    std::array<uint8_t, 16> m{};
    std::copy_n(full.begin(), m.size(), m.begin());
    return m;
}

// The value of the first attribute of `type` in a STUN message whose body
// is `length` bytes (the decoder records types, not values); bounded by the
// message and 64 attributes.
std::optional<ByteView> attribute_value(ByteView message, uint16_t length, uint16_t type) noexcept {
    Reader r(message.subspan(0, std::min<size_t>(message.size(), 20 + size_t{length})));
    r.skip(20);
    for (int guard = 0; guard < 64 && r.ok() && r.remaining() >= 4; ++guard) {
        const uint16_t t = r.u16();
        const uint16_t len = r.u16();
        const ByteView value = r.bytes(len);
        r.skip(std::min<size_t>((4 - len % 4) % 4, r.remaining()));  // padding; the last may lack it
        if (r.ok() && t == type) return value;
    }
    return std::nullopt;
}

std::vector<uint8_t> header(uint16_t type, const uint8_t* tid) {
    std::vector<uint8_t> b;
    b.reserve(128);
    put16(b, type);
    put16(b, 0);  // length, set by finish()
    put32(b, stun::kMagicCookie);
    b.insert(b.end(), tid, tid + 12);
    return b;
}
void finish(std::vector<uint8_t>& b) { set16(b, 2, b.size() - 20); }

}  // namespace

TransactionId new_transaction_id() {
    TransactionId t{};
    if (RAND_bytes(t.data(), static_cast<int>(t.size())) != 1) {
        // Uniqueness is all a probe needs; fall back to the clock and a counter.
        static uint64_t counter = 0;
        const uint64_t v = ++counter ^ static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&t));
        std::memcpy(t.data(), &v, sizeof v);
    }
    return t;
}

int64_t unix_now_s() noexcept { return static_cast<int64_t>(std::time(nullptr)); }

AuthBlock make_auth(std::string_view key, AuthScope scope, uint16_t port, ByteView bound, int64_t unix_s) {
    AuthBlock a{};
    const auto t = static_cast<uint32_t>(unix_s);
    for (int i = 0; i < 4; ++i) a[static_cast<size_t>(i)] = static_cast<uint8_t>(t >> (24 - 8 * i));
    if (RAND_bytes(a.data() + 4, 12) != 1) {
        // No randomness: the transaction-id fallback still gives a nonce of
        // its own to every call.
        const TransactionId t2 = new_transaction_id();
        std::copy(t2.begin(), t2.end(), a.begin() + 4);
    }
    const auto m = auth_mac(key, scope, port, bound, a);
    std::copy(m.begin(), m.end(), a.begin() + 16);
    return a;
}

bool auth_valid(std::string_view key, AuthScope scope, uint16_t port, ByteView bound, const AuthBlock& a) noexcept {
    if (key.empty()) return false;
    const auto m = auth_mac(key, scope, port, bound, a);
    return CRYPTO_memcmp(m.data(), a.data() + 16, m.size()) == 0;
}

int64_t auth_time(const AuthBlock& a) noexcept {
    return static_cast<int64_t>((uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | a[3]);
}

Token token_for(std::string_view key, const TransactionId& tid) {
    return mac_of(key, kAnswerLabel, {ByteView(tid.data(), tid.size())});
}

std::vector<uint8_t> stun_request(const TransactionId& tid, bool allocate, std::string_view key, uint16_t port) {
    auto b = header(allocate ? kAllocateRequest : kBindingRequest, tid.data());
    if (allocate) {
        const uint8_t udp[4] = {17, 0, 0, 0};  // RFC 8656 §18.7 REQUESTED-TRANSPORT
        attribute(b, stun::attr::kRequestedTransport, udp, sizeof udp);
    }
    attribute(b, stun::attr::kSoftware, kSoftware);
    if (!key.empty()) {
        const AuthBlock a = make_auth(key, AuthScope::Udp, port, ByteView(tid.data(), tid.size()), unix_now_s());
        uint8_t v[4 + kAuthSize] = {static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
        std::copy(a.begin(), a.end(), v + 4);
        attribute(b, kAuthAttribute, v, sizeof v);
        // Padding: an attribute header and zeros up to kAuthRequestSize.
        const size_t pad = kAuthRequestSize - b.size() - 4;
        const std::vector<uint8_t> zeros(pad, 0);
        attribute(b, kPadAttribute, zeros.data(), zeros.size());
    }
    finish(b);
    return b;
}

std::optional<StunRequestRead> read_stun_request(ByteView datagram) noexcept {
    const auto m = stun::decode(datagram);
    if (!m || m->variant == stun::Variant::Classic3489 || m->msg_class != stun::MessageClass::Request ||
        m->transaction_id.size() != 12)
        return std::nullopt;
    StunRequestRead out;
    std::copy(m->transaction_id.begin(), m->transaction_id.end(), out.tid.begin());
    if (const auto value = attribute_value(datagram, m->length, kAuthAttribute);
        value && value->size() == 4 + kAuthSize) {
        StunAuth a;
        a.port = static_cast<uint16_t>(((*value)[0] << 8) | (*value)[1]);
        std::copy_n(value->begin() + 4, kAuthSize, a.block.begin());
        out.auth = a;
    }
    return out;
}

StunAnswer read_stun_answer(ByteView datagram, const TransactionId& tid, std::string_view key) noexcept {
    StunAnswer a;
    const auto m = stun::decode(datagram);
    if (!m || m->variant == stun::Variant::Classic3489 || m->transaction_id.size() != tid.size() ||
        !std::equal(tid.begin(), tid.end(), m->transaction_id.begin()))
        return a;
    if (m->msg_class != stun::MessageClass::SuccessResponse && m->msg_class != stun::MessageClass::ErrorResponse)
        return a;
    a.stun = true;
    a.success = m->msg_class == stun::MessageClass::SuccessResponse;
    if (m->error_code) a.error_code = m->error_code->code;
    a.realm_and_nonce = !m->realm.empty() && !m->nonce.empty();
    if (const auto value = attribute_value(datagram, m->length, kTokenAttribute)) {
        a.token_present = true;
        if (!key.empty() && value->size() == kTokenSize) {
            const Token want = token_for(key, tid);
            a.token_valid = std::equal(want.begin(), want.end(), value->begin());
        }
    }
    return a;
}

std::optional<std::vector<uint8_t>> reflector_answer(ByteView request, ByteView from_ip, uint16_t from_port,
                                                     std::string_view key, std::string_view nonce) {
    if (from_ip.size() != 4 && from_ip.size() != 16) return std::nullopt;
    const auto m = stun::decode(request);
    if (!m || m->variant == stun::Variant::Classic3489 || m->msg_class != stun::MessageClass::Request ||
        m->transaction_id.size() != 12)
        return std::nullopt;
    TransactionId tid{};
    std::copy(m->transaction_id.begin(), m->transaction_id.end(), tid.begin());
    std::vector<uint8_t> b;
    if (m->method == stun::Method::Binding) {
        b = header(kBindingSuccess, tid.data());
        // RFC 8489 §14.2 XOR-MAPPED-ADDRESS: family 1 (IPv4) or 2 (IPv6), the
        // port XORed with the cookie's high half, the address with the cookie
        // (IPv4) or the cookie and the transaction id (IPv6).
        const bool v6 = from_ip.size() == 16;
        uint8_t v[20] = {0, static_cast<uint8_t>(v6 ? 2 : 1)};
        const uint16_t xport = from_port ^ static_cast<uint16_t>(stun::kMagicCookie >> 16);
        v[2] = static_cast<uint8_t>(xport >> 8);
        v[3] = static_cast<uint8_t>(xport);
        uint8_t mask[16] = {};
        for (int i = 0; i < 4; ++i) mask[i] = static_cast<uint8_t>(stun::kMagicCookie >> (24 - 8 * i));
        std::copy(tid.begin(), tid.end(), mask + 4);
        for (size_t i = 0; i < from_ip.size(); ++i) v[4 + i] = from_ip[i] ^ mask[i];
        attribute(b, stun::attr::kXorMappedAddress, v, 4 + from_ip.size());
    } else if (m->method == stun::Method::Allocate) {
        b = header(kAllocateError, tid.data());
        // RFC 8489 §14.8 ERROR-CODE 401, then REALM and NONCE (§9.2.4).
        std::vector<uint8_t> ec;
        put16(ec, 0);
        ec.push_back(4);
        ec.push_back(1);
        const std::string_view reason = "Unauthorized";
        ec.insert(ec.end(), reason.begin(), reason.end());
        attribute(b, stun::attr::kErrorCode, ec.data(), ec.size());
        attribute(b, stun::attr::kRealm, kRealm);
        attribute(b, stun::attr::kNonce, nonce);
    } else {
        return std::nullopt;
    }
    const Token t = token_for(key, tid);
    attribute(b, kTokenAttribute, t.data(), t.size());
    finish(b);
    return b;
}

std::vector<uint8_t> client_hello(std::string_view sni, const Challenge* random_in) {
    std::vector<uint8_t> ext;
    // server_name (RFC 6066 §3): list length, type host_name, name.
    put16(ext, 0x0000);
    put16(ext, static_cast<uint16_t>(sni.size() + 5));
    put16(ext, static_cast<uint16_t>(sni.size() + 3));
    ext.push_back(0);
    put16(ext, static_cast<uint16_t>(sni.size()));
    ext.insert(ext.end(), sni.begin(), sni.end());
    // supported_groups x25519, secp256r1 (RFC 8446 §4.2.7).
    for (uint16_t v : {0x000a, 0x0006, 0x0004, 0x001d, 0x0017}) put16(ext, v);
    // signature_algorithms ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256.
    for (uint16_t v : {0x000d, 0x0008, 0x0006, 0x0403, 0x0804, 0x0401}) put16(ext, v);
    // supported_versions TLS 1.3, 1.2 (RFC 8446 §4.2.1).
    for (uint16_t v : {0x002b, 0x0005}) put16(ext, v);
    ext.push_back(4);
    for (uint16_t v : {0x0304, 0x0303}) put16(ext, v);
    // key_share: one x25519 share of random bytes (the handshake never completes).
    put16(ext, 0x0033);
    put16(ext, 2 + 4 + 32);
    put16(ext, 4 + 32);
    put16(ext, 0x001d);
    put16(ext, 32);
    uint8_t share[32] = {};
    (void)RAND_bytes(share, sizeof share);
    ext.insert(ext.end(), share, share + 32);
    // ALPN http/1.1.
    for (uint16_t v : {0x0010, 0x000b, 0x0009}) put16(ext, v);
    ext.push_back(8);
    for (char c : std::string_view("http/1.1")) ext.push_back(static_cast<uint8_t>(c));

    std::vector<uint8_t> hello;
    put16(hello, 0x0303);  // legacy_version
    uint8_t random[32] = {};
    if (random_in)
        std::copy(random_in->begin(), random_in->end(), random);
    else
        (void)RAND_bytes(random, sizeof random);
    hello.insert(hello.end(), random, random + 32);
    hello.push_back(32);  // legacy_session_id (middlebox compatibility, RFC 8446 D.4)
    (void)RAND_bytes(random, sizeof random);
    hello.insert(hello.end(), random, random + 32);
    for (uint16_t v : {6, 0x1301, 0x1302, 0xc02b}) put16(hello, v);  // cipher_suites
    hello.push_back(1);
    hello.push_back(0);  // null compression
    put16(hello, static_cast<uint16_t>(ext.size()));
    hello.insert(hello.end(), ext.begin(), ext.end());

    std::vector<uint8_t> rec{22, 3, 1, 0, 0, 1};  // handshake record, ClientHello
    put24(rec, static_cast<uint32_t>(hello.size()));
    rec.insert(rec.end(), hello.begin(), hello.end());
    set16(rec, 3, rec.size() - 5);
    return rec;
}

Challenge new_challenge(std::string_view key, uint16_t port) {
    return make_auth(key, AuthScope::Tcp, port, ByteView(), unix_now_s());
}

std::vector<uint8_t> tcp_challenge_message(const Challenge& c) {
    std::vector<uint8_t> m(kTcpNonceMagic.begin(), kTcpNonceMagic.end());
    m.insert(m.end(), c.begin(), c.end());
    m.resize(kTcpChallengeMessageSize, 0);
    return m;
}

// A ClientHello record: type 22, version 3.x, then the handshake header
// (type 1, 24-bit length), legacy_version (2), random (32): the random lies
// at offset 11.
std::optional<Challenge> client_hello_random(ByteView record) noexcept {
    constexpr size_t kRandomAt = 5 + 4 + 2;
    if (record.size() < kRandomAt + kChallengeSize || record[0] != 22 || record[1] != 3 || record[5] != 1)
        return std::nullopt;
    Challenge c{};
    std::copy_n(record.begin() + kRandomAt, c.size(), c.begin());
    return c;
}

ChallengeRead read_tcp_challenge(ByteView first_bytes, Challenge& out) noexcept {
    const ByteView b = first_bytes;
    if (b.empty()) return ChallengeRead::NeedMore;
    if (b[0] == 22) {
        if (b.size() < 5 + 4 + 2 + kChallengeSize) return ChallengeRead::NeedMore;
        const auto r = client_hello_random(b);
        if (!r) return ChallengeRead::NotOurs;
        out = *r;
        return ChallengeRead::Found;
    }
    const size_t have = std::min(b.size(), kTcpNonceMagic.size());
    if (!std::equal(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(have), kTcpNonceMagic.begin()))
        return ChallengeRead::NotOurs;
    if (b.size() < kTcpNonceMagic.size() + kChallengeSize) return ChallengeRead::NeedMore;
    std::copy_n(b.begin() + kTcpNonceMagic.size(), out.size(), out.begin());
    return ChallengeRead::Found;
}

Token tcp_token_for(std::string_view key, const Challenge& c) {
    return mac_of(key, kAnswerLabel, {ByteView(c.data(), c.size())});
}

std::vector<uint8_t> tcp_token_record(std::string_view key, const Challenge& c) {
    std::vector<uint8_t> rec{23, 3, 3};
    put16(rec, static_cast<uint16_t>(kTcpNonceMagic.size() + kTokenSize));
    rec.insert(rec.end(), kTcpNonceMagic.begin(), kTcpNonceMagic.end());
    const Token t = tcp_token_for(key, c);
    rec.insert(rec.end(), t.begin(), t.end());
    return rec;
}

TcpAnswer read_tcp_answer(ByteView got, std::string_view key, const Challenge& c) noexcept {
    // The answer's fixed part: record header (type, version, length) and magic.
    constexpr std::array<uint8_t, 9> kHead{23,  3,   3,   0,  static_cast<uint8_t>(kTcpNonceMagic.size() + kTokenSize),
                                           'C', 'W', 'T', 'K'};
    const size_t have = std::min(got.size(), kHead.size());
    if (!std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(have), kHead.begin()))
        return TcpAnswer::Other;
    if (got.size() < kTcpAnswerSize) return TcpAnswer::NeedMore;
    const Token want = tcp_token_for(key, c);
    return std::equal(want.begin(), want.end(), got.begin() + kHead.size()) ? TcpAnswer::Valid : TcpAnswer::WrongToken;
}

}  // namespace callwall::probe
