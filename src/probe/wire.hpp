// What a probe puts on the wire and how it reads the answers: STUN Binding and
// TURN Allocate requests (RFC 8489 §6, RFC 8656 §7.1), the reflector's HMAC
// token attribute, and a TLS 1.2/1.3 ClientHello carrying a chosen SNI
// (RFC 8446 §4.1.2, RFC 6066 §3).
//
// The token: HMAC-SHA256(key, transaction id), 32 bytes, in the
// comprehension-optional attribute kTokenAttribute (0xC0A1, from the
// 0x8000-0xFFFF range RFC 8489 §18.3 leaves to "expert review"; a STUN agent
// that does not know it ignores it). Only `callwall reflect` with the same key
// adds it, so an answer without it came from something else on the path.
//
// Over TCP the SYN-ACK has no room for a token, and a transparent proxy or
// captive portal completes the handshake for any address. So with a key the
// probe sends a challenge in its first bytes — a TLS probe's ClientHello
// random (RFC 8446 §4.1.2), a plain TCP probe's kTcpNonceMagic and 32 random
// bytes — and the reflector answers with one TLS-framed record (content type
// application_data, so a TLS-aware middlebox sees record framing, not junk)
// holding kTcpNonceMagic and HMAC-SHA256(key, challenge). Only an answer
// carrying it shows that the connection reached the reflector.
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

#include "callwall/bytes/reader.hpp"

namespace callwall::probe {

/// Comprehension-optional STUN attribute carrying the reflector's token.
/// Appends `v` in network order.
inline void put16(std::vector<uint8_t>& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

inline constexpr uint16_t kTokenAttribute = 0xC0A1;
inline constexpr size_t kTokenSize = 32;  // SHA-256 output
using TransactionId = std::array<uint8_t, 12>;
using Token = std::array<uint8_t, kTokenSize>;

/// The retransmission schedule of one UDP probe, in seconds after the first
/// send. RFC 8489 §6.2.1 sends at 0, RTO, 3 RTO, 7 RTO ... (Rc = 7, 39.5 s
/// with RTO 500 ms); a probe stops after the fourth send and waits
/// kUdpWaitAfterLastS more, so a silent drop shows 4 requests over 3.5 s,
/// which attribution reads as "the client persisted": blocked, stun-timeout.
inline constexpr std::array<double, 4> kStunScheduleS{0.0, 0.5, 1.5, 3.5};
inline constexpr double kUdpWaitAfterLastS = 1.0;

/// Random transaction id (RAND_bytes).
TransactionId new_transaction_id();

/// HMAC-SHA256(key, transaction id).
Token token_for(std::string_view key, const TransactionId& tid);

/// A Binding request (no attributes but SOFTWARE) or, with `allocate`, a TURN
/// Allocate request with REQUESTED-TRANSPORT UDP and no credentials (the
/// server answers 401 with REALM and NONCE, RFC 8656 §7.2).
std::vector<uint8_t> stun_request(const TransactionId& tid, bool allocate);

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
/// token. nullopt: not a STUN request we answer.
std::optional<std::vector<uint8_t>> reflector_answer(ByteView request, ByteView from_ip, uint16_t from_port,
                                                     std::string_view key, std::string_view nonce);

/// A TLS ClientHello record offering TLS 1.3 and 1.2 with `sni` as server_name.
std::vector<uint8_t> client_hello(std::string_view sni);

/// TCP: the challenge a probe's first bytes carry and the token that answers it.
inline constexpr size_t kChallengeSize = 32;
using Challenge = std::array<uint8_t, kChallengeSize>;
/// Starts a plain TCP probe's challenge message and the reflector's answer record.
inline constexpr std::array<uint8_t, 4> kTcpNonceMagic{'C', 'W', 'T', 'K'};
/// The reflector's answer: a 5-byte TLS record header and kTcpNonceMagic + token.
inline constexpr size_t kTcpAnswerSize = 5 + kTcpNonceMagic.size() + kTokenSize;

/// A plain TCP probe's first bytes: kTcpNonceMagic and `c`.
std::vector<uint8_t> tcp_challenge_message(const Challenge& c);
/// A random challenge (RAND_bytes).
Challenge new_challenge();
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

/// HMAC-SHA256(key, challenge).
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
