// QUIC: long-header decoding, client Initial decryption and ClientHello reassembly.
//
// Normative references:
//   RFC 8999 §5       version-independent long header, Version Negotiation
//   RFC 9000 §16      variable-length integers
//   RFC 9000 §17.2    long header packets (Initial, 0-RTT, Handshake, Retry)
//   RFC 9000 §19      frames allowed in Initial packets (PADDING, PING, ACK, CRYPTO,
//                     CONNECTION_CLOSE; §12.4 table 3)
//   RFC 9001 §5       Initial secrets, AEAD packet protection, header protection;
//                     Appendix A test vectors
//   RFC 9369          QUIC version 2 (version, salt, HKDF labels, packet type codes)
//   RFC 8446 §7.1     HKDF-Expand-Label
//   draft-ietf-quic-tls-22/-23/-29 §5.2  Initial salts of the drafts
//   Google QUIC Q035–Q046, T050/T051 (no RFC): Chromium "QUIC Wire Layout" and "QUIC Crypto"
//                     design documents; cross-checked against Wireshark packet-gquic.c and
//                     packet-quic.c (T05x salts, gQUIC frames inside T05x Initials) and captures.
//
// Variants (what changes between versions on the wire):
//
//   version            name         Initial salt     HKDF labels  type bits I/0RTT/HS/Retry
//   0x00000001         v1           38762cf7…7f0a    "quic …"     0 / 1 / 2 / 3
//   0x6b3343cf         v2           0dede3de…2ed9    "quicv2 …"   1 / 2 / 3 / 0
//   0xff000021-22      draft-33/34  38762cf7…7f0a    "quic …"     0 / 1 / 2 / 3
//   0xff00001d-20      draft-29..32 afbfec28…a899    "quic …"     0 / 1 / 2 / 3
//   0xff000017-1c      draft-23..28 c3eef712…f502    "quic …"     0 / 1 / 2 / 3
//   0xff000016         draft-22     7fbcdb0e…644a    "quic …"     0 / 1 / 2 / 3 (Retry: ODCID)
//   0xfaceb001         mvfst-22     as draft-22      "quic …"     as draft-22
//   0xfaceb002, …00e   mvfst-27     as draft-27      "quic …"     as draft-27
//   Q035–Q038          gQUIC        none: clear-text CHLO, legacy header, STREAM frame integers
//                                   little-endian
//   Q039–Q043          gQUIC        none: clear-text CHLO, legacy header, big-endian integers
//   Q046 (0x51303436)  gQUIC        none: clear-text CHLO, long header with 4-bit CID lengths
//   T050 (0x54303530)  gQUIC+TLS    7ff579e5…8310    "quic …"     0 / 1 / 2 / 3; gQUIC frames
//   T051 (0x54303531)  gQUIC+TLS    7a4edef4…033d    "quic …"     as T050 (CRYPTO = 0x08)
//   Q050               gQUIC        recognised only (QUIC crypto in CRYPTO; not decrypted)
//   0x?a?a?a?a         reserved     Initial tried as v1 (layout, salt, labels; current Wireshark),
//                                   then with the draft-29 salt (tshark 4.0); AEAD decides
//   0x00000000         Version Negotiation
//
// Not supported:
//   - drafts ≤ 21 (4-bit connection ID lengths): recognised as QUIC, header Unsupported;
//   - decryption of 0-RTT, Handshake and 1-RTT packets (needs TLS traffic secrets);
//   - Google Q050 and T052+: not decrypted; T050/T051 Initials only as far as CRYPTO, PING
//     and PADDING frames go (an ACK before the CRYPTO frame stops parsing);
//   - gQUIC ≤ Q033: the private-flags byte is skipped, otherwise untested;
//   - Initials of reserved (GREASE) versions are decrypted only when they are v1 Initials under
//     the reserved number, sealed with the v1 or the draft-29 salt (tcpdump__quic_vn.pcap
//     frame 1 is v1-sealed: SNI localhost, which tshark 4.0 misses); others fail (DecryptFailed);
//   - Retry integrity tag verification (the tag is returned, not checked);
//   - packet number reconstruction (RFC 9000 §A.3): the truncated packet number is used as the
//     full one, exact while the full number fits the encoded length — true for the first
//     packets of the Initial space (ndpi__quic-v2.pcapng frame 1 starts at 66029, in 4 bytes);
//   - short-header (1-RTT) packets cannot be recognised without flow state: see
//     matches_short_header();
//   - ChaCha20 (never used for Initial packets).
//
// Cost model: decode()/probe() are pure and cheap. Decryption needs a Decryptor, built once at
// start-up (heap: a 64 KiB scratch buffer, two fetched ciphers, two cipher contexts); after that,
// deriving keys and opening a packet allocate nothing (HKDF runs on OpenSSL's SHA-256 block
// functions with stack state, because EVP_DigestInit allocates a provider context on every call
// in OpenSSL 3.0; AES contexts are re-keyed in place). ClientInitialAssembler is 288 bytes of
// state plus a caller-lent CRYPTO buffer; decode() returns ~1.8 KB by value (8 headers).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "bytes/reader.hpp"
#include "bytes/result.hpp"

namespace callwall::proto::quic {

// ---------------------------------------------------------------------------------------------
// Limits

/// RFC 9000 §17.2: connection IDs of v1 (and drafts ≥ 22, v2) are at most 20 bytes.
inline constexpr size_t kMaxCidLength = 20;
/// RFC 8999 §5.1: under the invariants (unknown versions, Version Negotiation) up to 255.
inline constexpr size_t kMaxInvariantCidLength = 255;
/// Long-header packets decoded per datagram. A client coalesces at most Initial + 0-RTT (or
/// Initial + Handshake) + a short-header packet; 8 leaves room for odd stacks. More: overflowed.
inline constexpr size_t kMaxCoalescedPackets = 8;
/// Versions kept from a Version Negotiation packet. Real servers list ≤ 6 (tcpdump__quic_vn:
/// 1); the rest is counted, not kept.
inline constexpr size_t kMaxVersionsListed = 16;
/// CRYPTO frames kept per Initial packet. Chromium's "chaos protection" splits its ClientHello
/// into out-of-order CRYPTO frames interleaved with PADDING (zeek__chromium-115…cirrus-com.pcap
/// frame 1: 9 frames); 32 covers pathological splitting, the rest is flagged.
inline constexpr size_t kMaxCryptoFramesPerPacket = 32;
/// Disjoint filled ranges of the CRYPTO stream tracked by the assembler. Each gap costs one
/// range; 16 tolerates heavy reordering of a ClientHello that spans 2–4 packets.
inline constexpr size_t kMaxCryptoRanges = 16;
/// Recommended size of the CRYPTO buffer lent to the assembler. ClientHellos seen in the wild
/// are ≤ 2 KiB classically and ≤ ~3 KiB with post-quantum key shares (ML-KEM-768 hybrids);
/// 16 KiB also fits large PSK tickets and padding extensions.
inline constexpr size_t kRecommendedCryptoBuffer = 16 * 1024;
/// Largest UDP payload (65535 − 8-byte UDP header); sizes the Decryptor scratch buffer.
inline constexpr size_t kMaxUdpPayload = 65527;
/// AEAD_AES_128_GCM tag length (RFC 5116 §5.1).
inline constexpr size_t kAeadTagLength = 16;
/// Header-protection sample length (RFC 9001 §5.4.2).
inline constexpr size_t kHpSampleLength = 16;

// ---------------------------------------------------------------------------------------------
// Versions

enum class VersionFamily : uint8_t {
    Negotiation,  ///< 0x00000000: a Version Negotiation packet
    V1,  ///< RFC 9000
    V2,  ///< RFC 9369
    IetfDraft,  ///< 0xff0000NN
    Mvfst,  ///< Facebook mvfst 0xfaceb00N (draft-based)
    GoogleQ,  ///< Google QUIC "Q0NN" (QUIC crypto)
    GoogleT,  ///< Google QUIC "T0NN" (TLS, Google salts)
    Reserved,  ///< 0x?a?a?a?a, RFC 9000 §15: exercises Version Negotiation
    Unknown,
};

struct VersionInfo {
    uint32_t version = 0;
    VersionFamily family = VersionFamily::Unknown;
    /// IETF draft whose wire format and salt apply (v1 → 34, mvfst → 22/27); 0 otherwise.
    uint8_t draft = 0;
    /// gQUIC version number (Q046 → 46); 0 otherwise.
    uint8_t gquic = 0;
    /// Long header with 8-bit connection ID lengths (RFC 8999 layout).
    bool ietf_long_header = false;
    /// Initial keys can be derived (a salt is known and implemented). Reserved versions: v1
    /// keys are tried (see the variants table); only the AEAD tag confirms them.
    bool initial_decryptable = false;
};

/// Classifies a version number (table in the file header). Never fails.
[[nodiscard]] VersionInfo classify_version(uint32_t version) noexcept;

// ---------------------------------------------------------------------------------------------
// Headers

enum class PacketType : uint8_t {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
    VersionNegotiation,
    GQuicLegacy,  ///< gQUIC ≤ Q043 public header (not a long header)
    Unknown,  ///< long header of a version whose type bits are not defined here
};

enum class Anomaly : uint32_t {
    CoalescedOverflow = 1u << 0,  ///< more than kMaxCoalescedPackets packets
    CoalescedDcidMismatch = 1u << 1,  ///< RFC 9000 §12.2: coalesced packets must share a DCID
    TrailingUndecodable = 1u << 2,  ///< bytes after a packet look like a long header but fail
    VersionListOverflow = 1u << 3,  ///< Version Negotiation lists > kMaxVersionsListed
    VersionListRagged = 1u << 4,  ///< Version Negotiation list not a multiple of 4 bytes
    ReservedBitsSet = 1u << 5,  ///< RFC 9000 §17.2: reserved bits ≠ 0 after unprotection
    UnknownFrame = 1u << 6,  ///< frame not allowed/known in Initial; parsing stopped
    CryptoFramesOverflow = 1u << 7,  ///< more than kMaxCryptoFramesPerPacket CRYPTO frames
    CryptoConflict = 1u << 8,  ///< overlapping CRYPTO bytes differ (first copy kept)
    CryptoBeyondBuffer = 1u << 9,  ///< CRYPTO data past the lent buffer (dropped)
    CryptoRangesOverflow = 1u << 10,  ///< more than kMaxCryptoRanges holes (frame dropped)
    DecryptFailed = 1u << 11,  ///< an Initial failed authentication (ignored)
    ConnectionRestarted = 1u << 12,  ///< new DCID/version (after Retry or VN): reassembly reset
    ConnectionClose = 1u << 13,  ///< CONNECTION_CLOSE seen in an Initial
    FixedBitClear = 1u << 14,  ///< fixed bit 0: RFC 9287 greasing (legitimate if negotiated)
};
[[nodiscard]] constexpr uint32_t bit(Anomaly a) noexcept { return static_cast<uint32_t>(a); }

/// One long-header packet (or a gQUIC ≤ Q043 public-header packet). Views into the datagram.
struct LongHeader {
    VersionInfo version{};
    PacketType type = PacketType::Unknown;
    /// First byte as on the wire: for Initial/0-RTT/Handshake its low 4 bits are still
    /// header-protected (gQUIC: not protected).
    uint8_t first_byte = 0;
    ByteView dcid{};
    ByteView scid{};
    /// Initial: the token. Retry: the Retry token.
    ByteView token{};
    /// Retry (v1, v2, drafts ≥ 25): the 16-byte integrity tag (not verified).
    ByteView retry_integrity_tag{};
    /// Retry of drafts 22–24: the Original Destination Connection ID field.
    ByteView retry_odcid{};
    /// Length field of Initial/0-RTT/Handshake: packet number + protected payload bytes.
    uint64_t length = 0;
    /// Offset of the packet number within `packet` (Initial/0-RTT/Handshake, gQUIC).
    uint32_t pn_offset = 0;
    /// gQUIC only (clear text): packet number length in bytes. IETF: protected, see Opened.
    uint8_t gquic_pn_length = 0;
    /// The whole packet, header included, bounded by its Length field (gQUIC, Retry, VN: the
    /// rest of the datagram).
    ByteView packet{};
    /// Version Negotiation: the listed versions.
    StaticVector<uint32_t, kMaxVersionsListed> supported_versions{};
    uint32_t anomalies = 0;  ///< Anomaly bits found in this header
};

/// All long-header packets of one UDP datagram.
struct Datagram {
    StaticVector<LongHeader, kMaxCoalescedPackets> packets{};
    /// Bytes after the last decoded packet: a coalesced short-header packet, or padding.
    ByteView trailing{};
    uint32_t anomalies = 0;  ///< Anomaly bits
};

/// Cheap check: a long header (form bit set) with a recognised version (incl. 0, Version
/// Negotiation, and reserved 0x?a?a?a?a) and connection ID lengths that fit; or a gQUIC ≤ Q043
/// public header with a version. The fixed bit is not required (RFC 9287 greasing). Short-header
/// packets are never accepted here: see matches_short_header(). No side effects.
[[nodiscard]] bool probe(ByteView udp_payload) noexcept;

/// Decodes the packet at the start of `bytes` (one packet; Length-bounded).
/// NotThisProtocol: not a long header / unrecognised version. Truncated: cut short.
/// Malformed: impossible field (CID > 20 bytes on a known version, Length < pn+sample...).
/// Unsupported: recognised QUIC whose header layout is not implemented (drafts ≤ 21).
/// Reserved versions: an Initial in the v1 layout when its token and Length fit, otherwise
/// PacketType::Unknown over the rest of the datagram (only the invariants are defined).
[[nodiscard]] Result<LongHeader> decode_long_header(ByteView bytes) noexcept;

/// Decodes every coalesced long-header packet of a UDP payload. The first packet decides the
/// error; a later undecodable packet ends the list (TrailingUndecodable).
[[nodiscard]] Result<Datagram> decode(ByteView udp_payload) noexcept;

/// True when `udp_payload` can be a short-header (1-RTT) packet addressed to `dcid`, the
/// connection ID a long header of the same flow announced (server's SCID for client→server).
/// Needed to keep short-header QUIC (first byte 0x40–0x7f) apart from TURN ChannelData.
[[nodiscard]] bool matches_short_header(ByteView udp_payload, ByteView dcid) noexcept;

// ---------------------------------------------------------------------------------------------
// Initial packet protection (RFC 9001 §5)

enum class Perspective : uint8_t { Client, Server };

struct InitialKeys {
    std::array<uint8_t, 16> key{};  ///< AEAD_AES_128_GCM key
    std::array<uint8_t, 12> iv{};
    std::array<uint8_t, 16> hp{};  ///< AES-128-ECB header-protection key
};

/// A packet with protection removed; views into the caller's output buffer.
struct Opened {
    uint8_t first_byte = 0;  ///< unprotected
    uint8_t pn_length = 0;  ///< 1..4
    uint64_t packet_number = 0;
    ByteView header{};  ///< unprotected header (the AEAD associated data)
    ByteView payload{};  ///< plaintext frames
    uint32_t anomalies = 0;
};

/// Owns the OpenSSL contexts for Initial decryption. Build once at start-up and reuse: not
/// thread-safe, one per worker. Construction allocates (64 KiB scratch + contexts); nothing
/// after that does.
class Decryptor {
public:
    Decryptor() noexcept;
    ~Decryptor();
    Decryptor(const Decryptor&) = delete;
    Decryptor& operator=(const Decryptor&) = delete;

    /// False when OpenSSL could not provide SHA-256/AES-128-ECB/AES-128-GCM.
    [[nodiscard]] bool ok() const noexcept;

    /// RFC 9001 §5.2 / RFC 9369 §3.3.1: keys of one side, from the DCID of the client's first
    /// Initial. Unsupported for versions without a known salt.
    [[nodiscard]] Result<InitialKeys> derive_initial_keys(uint32_t version, ByteView client_dcid,
                                                          Perspective side) noexcept;

    /// Removes header protection and decrypts one Initial (or any long-header packet protected
    /// with `keys`). `out` must hold hdr.packet.size() bytes and must not overlap the packet.
    /// Malformed: authentication failed.
    [[nodiscard]] Result<Opened> open(const LongHeader& hdr, const InitialKeys& keys, std::span<uint8_t> out) noexcept;

    /// Scratch for one packet's plaintext (kMaxUdpPayload bytes), used by the assembler.
    [[nodiscard]] std::span<uint8_t> scratch() noexcept;

private:
    struct State;
    State* state_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Frames of an Initial packet

struct CryptoFrame {
    uint64_t offset = 0;
    ByteView data{};
};

struct InitialFrames {
    StaticVector<CryptoFrame, kMaxCryptoFramesPerPacket> crypto{};
    uint32_t padding_bytes = 0;
    uint16_t ping_frames = 0;
    uint16_t ack_frames = 0;
    bool connection_close = false;
    uint64_t close_error_code = 0;
    ByteView close_reason{};
    /// Set when parsing stopped at a frame type not allowed in Initial packets.
    bool stopped_on_unknown = false;
    uint64_t unknown_frame_type = 0;
    uint32_t anomalies = 0;
};

/// Parses the plaintext of an Initial: PADDING, PING, ACK (0x02/0x03), CRYPTO,
/// CONNECTION_CLOSE (0x1c/0x1d); stops (not an error) on anything else.
[[nodiscard]] Result<InitialFrames> parse_initial_frames(ByteView plaintext) noexcept;

/// Parses the plaintext of a Google QUIC T050/T051 Initial, whose frames are gQUIC's:
/// PADDING (0x00, runs to the end of the packet), PING (0x07), CRYPTO (0x08, varint offset and
/// length as in RFC 9000); stops (not an error) on anything else (ACK, STREAM, ...).
[[nodiscard]] Result<InitialFrames> parse_gquic_initial_frames(ByteView plaintext) noexcept;

// ---------------------------------------------------------------------------------------------
// Google QUIC clear-text CHLO (Q035–Q046)

struct GQuicChlo {
    uint32_t version = 0;
    ByteView sni{};  ///< "SNI" tag value; empty when absent
    ByteView uaid{};  ///< "UAID" (user agent) tag value; empty when absent
    uint16_t tag_count = 0;
    /// The tag table points past this packet (multi-packet CHLO); tags before it are kept.
    bool truncated = false;
};

/// Finds the CHLO in the first STREAM frame (stream 1) of a gQUIC Q035–Q046 client packet
/// (STREAM integers little-endian up to Q038).
/// NotThisProtocol: no CHLO (other packet of the flow). Unsupported: Q050+ (encrypted).
[[nodiscard]] Result<GQuicChlo> decode_gquic_chlo(const LongHeader& hdr) noexcept;

// ---------------------------------------------------------------------------------------------
// Per-flow ClientHello reassembly

enum class AssemblyStatus : uint8_t {
    NeedMore,  ///< keep feeding client datagrams
    Done,  ///< a complete ClientHello (or gQUIC CHLO) is available
    NotQuic,  ///< this datagram is not QUIC and the flow has shown no QUIC so far
    Failed,  ///< sticky: cannot complete (reason in error)
};

enum class HandshakeKind : uint8_t { None, TlsClientHello, GQuicChlo };

struct FeedResult {
    AssemblyStatus status = AssemblyStatus::NeedMore;
    HandshakeKind kind = HandshakeKind::None;
    /// Failed / NotQuic: why. NeedMore: the last per-packet problem, if any.
    DecodeError error{};
    uint32_t version = 0;  ///< version of the first packet of this datagram (0 if none)
    uint8_t packets = 0;  ///< long-header packets in this datagram
    uint8_t initials_opened = 0;
    bool saw_retry = false;  ///< a Retry was fed (server → client direction)
    bool saw_version_negotiation = false;  ///< a Version Negotiation was fed
    /// Done (TLS): the ClientHello handshake message, 4-byte header included, from the lent
    /// buffer: hand it to tls::decode_client_hello(). Valid until reset() or the buffer dies.
    ByteView client_hello{};
    /// Done (gQUIC): the CHLO's SNI tag value; a view into this datagram (callback lifetime).
    ByteView gquic_sni{};
};

/// Reassembles the client's Initial CRYPTO stream of one flow (RFC 9000 §19.6: CRYPTO frames
/// carry offsets; packets and frames may arrive in any order) until the first handshake
/// message — the ClientHello — is complete. Feed only client → server datagrams.
///
/// Keys come from the DCID of the first client Initial that authenticates; later client
/// Initials that carry the server-chosen DCID keep those keys (RFC 9001 §5.2). An Initial that
/// fails with the current keys but opens with keys from its own DCID/version (after Retry or
/// Version Negotiation) restarts reassembly (ConnectionRestarted).
///
/// Overlaps: the first copy of a byte wins; differing retransmissions set CryptoConflict.
class ClientInitialAssembler {
public:
    /// `crypto_buffer` must outlive the assembler; kRecommendedCryptoBuffer is plenty.
    explicit ClientInitialAssembler(std::span<uint8_t> crypto_buffer) noexcept;

    [[nodiscard]] FeedResult feed(Decryptor& decryptor, ByteView udp_payload) noexcept;

    /// Forgets everything (keeps the buffer).
    void reset() noexcept;

    [[nodiscard]] AssemblyStatus status() const noexcept { return status_; }
    [[nodiscard]] HandshakeKind kind() const noexcept { return kind_; }
    [[nodiscard]] uint32_t version() const noexcept { return version_; }
    /// DCID the current keys derive from (empty before the first Initial opened).
    [[nodiscard]] ByteView original_dcid() const noexcept { return {dcid_.data(), dcid_len_}; }
    /// DCID of the latest client long-header packet fed before Done/Failed (after the server's
    /// first Initial: the server-chosen CID). Client short-header packets of this connection
    /// start with it: pass it to matches_short_header(). After Done, use decode() directly.
    [[nodiscard]] ByteView last_dcid() const noexcept { return {last_dcid_.data(), last_dcid_len_}; }
    /// SCID of the latest client long-header packet: the DCID of server short-header packets.
    [[nodiscard]] ByteView client_scid() const noexcept { return {scid_.data(), scid_len_}; }
    /// Contiguous CRYPTO bytes from offset 0 (may hold a partial ClientHello).
    [[nodiscard]] ByteView crypto_prefix() const noexcept;
    /// Done (TLS): the ClientHello message; empty otherwise.
    [[nodiscard]] ByteView client_hello() const noexcept;
    [[nodiscard]] uint32_t anomalies() const noexcept { return anomalies_; }
    [[nodiscard]] uint32_t initials_opened() const noexcept { return initials_opened_; }
    [[nodiscard]] uint32_t decrypt_failures() const noexcept { return decrypt_failures_; }

private:
    struct Range {
        uint32_t begin = 0;
        uint32_t end = 0;  // exclusive
    };

    void add_crypto(uint64_t offset, ByteView data) noexcept;
    void check_complete() noexcept;
    FeedResult finish(FeedResult r) const noexcept;

    std::span<uint8_t> buf_;
    std::array<Range, kMaxCryptoRanges> ranges_{};
    uint8_t range_count_ = 0;
    std::array<uint8_t, kMaxCidLength> dcid_{};
    uint8_t dcid_len_ = 0;
    std::array<uint8_t, kMaxCidLength> last_dcid_{};
    uint8_t last_dcid_len_ = 0;
    std::array<uint8_t, kMaxCidLength> scid_{};
    uint8_t scid_len_ = 0;
    bool have_keys_ = false;
    bool seen_quic_ = false;
    AssemblyStatus status_ = AssemblyStatus::NeedMore;
    HandshakeKind kind_ = HandshakeKind::None;
    uint32_t version_ = 0;
    uint32_t hello_len_ = 0;
    DecodeError error_{};
    InitialKeys keys_{};
    uint32_t anomalies_ = 0;
    uint32_t initials_opened_ = 0;
    uint32_t decrypt_failures_ = 0;
};

}  // namespace callwall::proto::quic
