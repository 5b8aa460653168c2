// What a probe puts on the wire and how it reads the answers: STUN Binding and
// TURN Allocate requests (RFC 8489 §6, RFC 8656 §7.1), the proof of the key
// that a request to `callwall reflect` carries, the reflector's token in its
// answers, and a TLS 1.2/1.3 ClientHello carrying a chosen SNI (RFC 8446
// §4.1.2, RFC 6066 §3).
//
// The reflector answers only requests from a holder of the shared key, so
// it is neither an open reflector nor an amplifier nor a signing oracle:
// - A request carries an AuthBlock: the sender's clock, a fresh nonce, and a
//   MAC over both, the probed port and (UDP) the transaction id. The
//   reflector checks the MAC, the clock (kAuthFreshS) and that the nonce was
//   never seen (probe/reflect_guard.hpp); every retransmission carries a
//   block of its own, so a copy of any request is refused.
// - An authenticated STUN request is padded to kAuthRequestSize, more than
//   any answer, and the reflector never sends an answer larger than the
//   request it answers.
// - The answer's token is HMAC-SHA256(key, label, transaction id) over UDP,
//   HMAC-SHA256(key, label, block) over TCP: bytes that an authenticated
//   request fixed, never bytes an unauthenticated sender chose.
// Over UDP the block is in the comprehension-optional attribute
// kAuthAttribute (0xC0A2) after the probed port (the reflector sees its own
// port after its DNAT); the token in kTokenAttribute (0xC0A1); both from the
// 0x8000-0xFFFF range RFC 8489 §18.3 leaves to "expert review", which a STUN
// agent that does not know them ignores.
//
// Over TCP the SYN-ACK has no room for a token, and a transparent proxy or
// captive portal completes the handshake for any address. So with a key the
// probe's first bytes carry the block — a TLS probe's ClientHello random
// (RFC 8446 §4.1.2), a plain TCP probe's kTcpNonceMagic, the block and
// padding — and the reflector, which reads the probed port from conntrack
// (SO_ORIGINAL_DST), answers with one TLS-framed record (content type
// application_data, so a TLS-aware middlebox sees record framing, not junk)
// holding kTcpNonceMagic and the token. Only an answer carrying it shows
// that the connection reached the reflector.
//
// Not supported: MESSAGE-INTEGRITY/FINGERPRINT on requests (not needed to get
// an answer), TLS beyond the ClientHello (the probe never completes a
// handshake: the ServerHello, or its absence, is the evidence).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bytes/reader.hpp"

namespace callwall::probe {

/// Appends `v` in network order.
inline void put16(std::vector<uint8_t>& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

/// Comprehension-optional STUN attributes: the reflector's token, a
/// request's AuthBlock (after the probed port), a request's padding.
inline constexpr uint16_t kTokenAttribute = 0xC0A1;
inline constexpr uint16_t kAuthAttribute = 0xC0A2;
inline constexpr uint16_t kPadAttribute = 0xC0A3;
inline constexpr size_t kTokenSize = 32;  // SHA-256 output
using TransactionId = std::array<uint8_t, 12>;
using Token = std::array<uint8_t, kTokenSize>;

/// A request's proof of the key, sent in the clear:
///   bytes 0-3   the sender's clock, seconds since the epoch (big-endian)
///   bytes 4-15  a fresh random nonce
///   bytes 16-31 the first 16 bytes of HMAC-SHA256(key, "callwall-probe-request",
///               scope, probed port, bytes 0-15, bound)
/// `bound` is the transaction id over UDP, nothing over TCP.
inline constexpr size_t kAuthSize = 32;
using AuthBlock = std::array<uint8_t, kAuthSize>;
enum class AuthScope : uint8_t { Udp = 'U', Tcp = 'T' };
/// How far the sender's clock may be from the reflector's, in seconds.
inline constexpr int64_t kAuthFreshS = 30;
/// An authenticated STUN request's size after padding: more than any answer
/// (a Binding success over IPv6 is 80 bytes, an Allocate's 401 116).
inline constexpr size_t kAuthRequestSize = 128;

/// A fresh block for `port` (and `bound`) at `unix_s`.
AuthBlock make_auth(std::string_view key, AuthScope scope, uint16_t port, ByteView bound, int64_t unix_s);
/// The MAC of `a` under `key` for `port` and `bound` (constant-time compare).
bool auth_valid(std::string_view key, AuthScope scope, uint16_t port, ByteView bound, const AuthBlock& a) noexcept;
/// The sender's clock in `a`.
int64_t auth_time(const AuthBlock& a) noexcept;
/// Seconds since the epoch, now.
int64_t unix_now_s() noexcept;

/// The retransmission schedule of one UDP probe, in seconds after the first
/// send. RFC 8489 §6.2.1 sends at 0, RTO, 3 RTO, 7 RTO ... (Rc = 7, 39.5 s
/// with RTO 500 ms); a probe stops after the fourth send and waits
/// kUdpWaitAfterLastS more, so a silent drop shows 4 requests over 3.5 s,
/// which attribution reads as "the client persisted": blocked, stun-timeout.
inline constexpr std::array<double, 4> kStunScheduleS{0.0, 0.5, 1.5, 3.5};
inline constexpr double kUdpWaitAfterLastS = 1.0;

/// Random transaction id (RAND_bytes).
TransactionId new_transaction_id();

/// HMAC-SHA256(key, "callwall-reflect-answer", transaction id).
Token token_for(std::string_view key, const TransactionId& tid);

/// A Binding request (no attributes but SOFTWARE) or, with `allocate`, a TURN
/// Allocate request with REQUESTED-TRANSPORT UDP and no credentials (the
/// server answers 401 with REALM and NONCE, RFC 8656 §7.2). With a `key`, for
/// a reflector: a fresh AuthBlock for `port` and padding to kAuthRequestSize.
std::vector<uint8_t> stun_request(const TransactionId& tid, bool allocate, std::string_view key = {},
                                  uint16_t port = 0);

/// The AuthBlock of an authenticated request and the port it names.
struct StunAuth {
    uint16_t port = 0;
    AuthBlock block{};
};
/// A STUN request's transaction id and AuthBlock; nullopt for anything
/// else. `auth` is unset when the request carries none.
struct StunRequestRead {
    TransactionId tid{};
    std::optional<StunAuth> auth;
};
std::optional<StunRequestRead> read_stun_request(ByteView datagram) noexcept;

/// What a probe learnt from a datagram that came back.
struct StunAnswer {
    bool stun = false;  ///< a STUN response (success or error) to our transaction
    bool success = false;  ///< success class
    uint16_t error_code = 0;  ///< 401 for an Allocate without credentials
    bool realm_and_nonce = false;
    bool token_present = false;
    bool token_valid = false;  ///< HMAC matches key and transaction id
};

/// Reads a response to `tid`; `key` empty: the token is not checked.
StunAnswer read_stun_answer(ByteView datagram, const TransactionId& tid, std::string_view key) noexcept;

/// The reflector's answer to a request (`request` a whole datagram): Binding
/// success with XOR-MAPPED-ADDRESS of `from` (`from_ip` 4 bytes for IPv4, 16
/// for IPv6), or for an Allocate a 401 with REALM and NONCE; both carry the
/// token. nullopt: not a STUN request we answer. It does not judge whether
/// to answer: the reflector asks its guard first (probe/reflect_guard.hpp).
std::optional<std::vector<uint8_t>> reflector_answer(ByteView request, ByteView from_ip, uint16_t from_port,
                                                     std::string_view key, std::string_view nonce);

/// TCP: the challenge a probe's first bytes carry (its AuthBlock) and the
/// token that answers it.
inline constexpr size_t kChallengeSize = kAuthSize;
using Challenge = AuthBlock;
/// Starts a plain TCP probe's challenge message and the reflector's answer record.
inline constexpr std::array<uint8_t, 4> kTcpNonceMagic{'C', 'W', 'T', 'K'};
/// The reflector's answer: a 5-byte TLS record header and kTcpNonceMagic + token.
inline constexpr size_t kTcpAnswerSize = 5 + kTcpNonceMagic.size() + kTokenSize;
/// A plain probe's challenge message: kTcpNonceMagic, the challenge and
/// zeros, so that the answer is no larger.
inline constexpr size_t kTcpChallengeMessageSize = kTcpAnswerSize + 7;

/// A TLS ClientHello record offering TLS 1.3 and 1.2 with `sni` as
/// server_name; its random is `random` when given, else random bytes.
std::vector<uint8_t> client_hello(std::string_view sni, const Challenge* random = nullptr);

/// A plain TCP probe's first bytes: kTcpNonceMagic, `c` and padding.
std::vector<uint8_t> tcp_challenge_message(const Challenge& c);
/// A challenge for a TCP probe to `port`: a fresh AuthBlock under `key`.
Challenge new_challenge(std::string_view key, uint16_t port);
/// The random of a ClientHello record made by client_hello(); nullopt for
/// anything else.
std::optional<Challenge> client_hello_random(ByteView record) noexcept;

/// What the first bytes of a TCP connection hold, for the reflector.
enum class ChallengeRead : uint8_t {
    NeedMore,  ///< too few bytes yet to tell
    Found,  ///< a ClientHello's random or a challenge message: `out` is set
    NotOurs,  ///< neither: the reflector answers nothing
};
ChallengeRead read_tcp_challenge(ByteView first_bytes, Challenge& out) noexcept;

/// HMAC-SHA256(key, "callwall-reflect-answer", challenge).
Token tcp_token_for(std::string_view key, const Challenge& c);
/// The reflector's answer to a challenge: a TLS application_data record
/// (type 23, version 0x0303) holding kTcpNonceMagic and the token.
std::vector<uint8_t> tcp_token_record(std::string_view key, const Challenge& c);

/// What the probe makes of the first bytes that came back.
enum class TcpAnswer : uint8_t {
    NeedMore,  ///< a prefix of the reflector's record: wait for the rest
    Valid,  ///< the reflector's record with the token for `c` under `key`
    WrongToken,  ///< the record's shape with another token (another key, or forged)
    Other,  ///< anything else: a ServerHello, an alert, other bytes
};
TcpAnswer read_tcp_answer(ByteView got, std::string_view key, const Challenge& c) noexcept;

}  // namespace callwall::probe
