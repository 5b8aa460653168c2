// What `callwall reflect` answers, and what it refuses. The reflector runs on
// a public address: anything on the internet can send it datagrams with any
// source address. It answers a request only when
// - the request carries an AuthBlock (probe/wire.hpp) whose MAC verifies
//   under the shared key, for the port and transaction it names;
// - the block's clock is within kAuthFreshS of the reflector's;
// - the block's nonce was never seen (a bounded replay window: two
//   generations of nonces, each living 2 × kAuthFreshS, so a nonce is
//   remembered as long as its clock can pass the freshness check);
// - the source address has a token left in its bucket (rate and burst per
//   source, a bounded table of sources);
// - and, over UDP, the answer is no larger than the request.
// Everything else gets nothing, and is counted by reason for the summary
// the reflector logs once a minute.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bytes/reader.hpp"
#include "probe/wire.hpp"

namespace callwall::probe {

struct GuardLimits {
    double per_source_rate = 4000;  ///< answers per second to one source address
    double per_source_burst = 4000;  ///< the bucket's depth
    size_t max_sources = 65536;  ///< source addresses with a bucket at once
    size_t max_nonces = 1u << 19;  ///< nonces remembered per generation
};

enum class Refusal : uint8_t {
    None,
    Unauthenticated,  ///< no AuthBlock, or not a request we answer
    BadMac,  ///< another key, or forged
    Stale,  ///< the block's clock is more than kAuthFreshS away
    Replayed,  ///< the nonce was seen before
    OverRate,  ///< the source's bucket is empty (or the table of sources is full)
    Larger,  ///< the answer would be larger than the request
    WindowFull,  ///< the replay window holds max_nonces already
};

struct GuardCounts {
    uint64_t answered = 0, unauthenticated = 0, bad_mac = 0, stale = 0, replayed = 0, over_rate = 0, larger = 0,
             window_full = 0;
    [[nodiscard]] uint64_t refused() const noexcept {
        return unauthenticated + bad_mac + stale + replayed + over_rate + larger + window_full;
    }
};

/// "answered 3; refused 300: 300 unauthenticated" — the non-zero counts.
std::string to_string(const GuardCounts& c);

class ReflectGuard {
public:
    explicit ReflectGuard(std::string key, GuardLimits limits = {});

    /// Judges one request's block: its MAC for `scope`, `port` and `bound`,
    /// its clock against `unix_now`, its nonce, and the bucket of
    /// `source_ip` (4 or 16 bytes) at monotonic time `mono_now`. Counts the
    /// refusal; None means answer it.
    Refusal admit(AuthScope scope, uint16_t port, ByteView bound, const AuthBlock& block, ByteView source_ip,
                  double mono_now, int64_t unix_now);

    /// The whole UDP path: the answer to `request` from `from_ip`:`from_port`,
    /// or nullopt when refused (counted). `nonce` is the REALM's NONCE of
    /// an Allocate's 401.
    std::optional<std::vector<uint8_t>> answer_stun(ByteView request, ByteView from_ip, uint16_t from_port,
                                                    std::string_view nonce, double mono_now, int64_t unix_now);

    /// Counts a refusal decided outside admit (a TCP connection whose first
    /// bytes are no challenge).
    void count(Refusal r) noexcept;
    /// The counts since the last call, and a fresh start.
    GuardCounts take_counts() noexcept;
    [[nodiscard]] const std::string& key() const noexcept { return key_; }

private:
    // Nonces (12 bytes and the block's clock) and source addresses (a
    // length byte and 16 bytes), hashed by their first eight bytes after
    // mixing in the rest: both are random or attacker-chosen, so the hash
    // is keyed by a secret of the process.
    using NonceKey = std::array<uint8_t, 16>;
    using SourceKey = std::array<uint8_t, 17>;
    struct KeyHash {
        uint64_t seed;
        size_t operator()(const NonceKey& k) const noexcept { return mix(k.data(), k.size()); }
        size_t operator()(const SourceKey& k) const noexcept { return mix(k.data(), k.size()); }
        size_t mix(const uint8_t* p, size_t n) const noexcept;
    };
    struct Bucket {
        double tokens = 0, last = 0;
    };
    bool seen_or_remember(const AuthBlock& block);
    bool take_token(ByteView source_ip, double mono_now);

    std::string key_;
    GuardLimits limits_;
    GuardCounts counts_;
    // The replay window: the current and the previous generation.
    KeyHash hash_;
    std::unordered_set<NonceKey, KeyHash> nonces_[2];
    double generation_start_ = std::numeric_limits<double>::lowest();
    std::unordered_map<SourceKey, Bucket, KeyHash> buckets_;
};

}  // namespace callwall::probe
