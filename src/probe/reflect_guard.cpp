// The reflector's admission of requests. See probe/reflect_guard.hpp.
#include "probe/reflect_guard.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace callwall::probe {
namespace {

// A nonce lives two generations; a generation lasts this long, so a nonce is
// remembered at least as long as its clock can pass the freshness check
// (the original and its copy each within kAuthFreshS of the block's clock).
constexpr double kGenerationS = 2.0 * static_cast<double>(kAuthFreshS);

uint64_t random_seed() {
    uint64_t s = 0;
    if (RAND_bytes(reinterpret_cast<uint8_t*>(&s), sizeof s) != 1) s = reinterpret_cast<uintptr_t>(&s);
    return s | 1;
}

}  // namespace

size_t ReflectGuard::KeyHash::mix(const uint8_t* p, size_t n) const noexcept {
    uint64_t h = seed;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        std::memcpy(&w, p + i, std::min<size_t>(8, n - i));
        h ^= w;
        h *= 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    return static_cast<size_t>(h ^ (h >> 32));
}

ReflectGuard::ReflectGuard(std::string key, GuardLimits limits)
    : key_(std::move(key)),
      limits_(limits),
      hash_{random_seed()},
      nonces_{std::unordered_set<NonceKey, KeyHash>(16, hash_), std::unordered_set<NonceKey, KeyHash>(16, hash_)},
      buckets_(16, hash_) {}

bool ReflectGuard::seen_or_remember(const AuthBlock& block) {
    NonceKey k{};
    std::copy_n(block.begin(), k.size(), k.begin());  // the clock and the nonce
    if (nonces_[0].count(k) || nonces_[1].count(k)) return true;
    nonces_[0].insert(k);
    return false;
}

bool ReflectGuard::take_token(ByteView source_ip, double now) {
    SourceKey k{};
    k[0] = static_cast<uint8_t>(source_ip.size());
    std::copy_n(source_ip.begin(), std::min<size_t>(source_ip.size(), 16), k.begin() + 1);
    auto it = buckets_.find(k);
    if (it == buckets_.end()) {
        if (buckets_.size() >= limits_.max_sources) {
            // A bucket idle long enough to be full again says nothing a new one would not.
            const double refill_s = limits_.per_source_burst / std::max(limits_.per_source_rate, 1e-9);
            std::erase_if(buckets_, [&](const auto& b) { return now - b.second.last >= refill_s; });
            if (buckets_.size() >= limits_.max_sources) return false;
        }
        it = buckets_.emplace(k, Bucket{limits_.per_source_burst, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = std::min(limits_.per_source_burst, b.tokens + (now - b.last) * limits_.per_source_rate);
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

Refusal ReflectGuard::admit(AuthScope scope, uint16_t port, ByteView bound, const AuthBlock& block, ByteView source_ip,
                            double mono_now, int64_t unix_now) {
    // The replay window turns over by the monotonic clock: a step of the
    // wall clock neither forgets nonces early nor keeps them for ever.
    if (mono_now - generation_start_ >= kGenerationS) {
        if (mono_now - generation_start_ >= 2 * kGenerationS) nonces_[0].clear();
        nonces_[1] = std::move(nonces_[0]);
        nonces_[0] = std::unordered_set<NonceKey, KeyHash>(16, hash_);
        generation_start_ = mono_now;
    }
    Refusal r = Refusal::None;
    if (!auth_valid(key_, scope, port, bound, block))
        r = Refusal::BadMac;
    else if (const int64_t t = auth_time(block); t > unix_now + kAuthFreshS || t < unix_now - kAuthFreshS)
        r = Refusal::Stale;
    else if (nonces_[0].size() >= limits_.max_nonces)
        r = Refusal::WindowFull;
    else if (seen_or_remember(block))
        r = Refusal::Replayed;
    else if (!take_token(source_ip, mono_now))
        r = Refusal::OverRate;
    count(r);
    return r;
}

std::optional<std::vector<uint8_t>> ReflectGuard::answer_stun(ByteView request, ByteView from_ip, uint16_t from_port,
                                                              std::string_view nonce, double mono_now,
                                                              int64_t unix_now) {
    const auto req = read_stun_request(request);
    if (!req || !req->auth) {
        count(Refusal::Unauthenticated);
        return std::nullopt;
    }
    // Counted by admit (as answered when admitted; corrected below when
    // the answer cannot be sent).
    if (admit(AuthScope::Udp, req->auth->port, ByteView(req->tid.data(), req->tid.size()), req->auth->block, from_ip,
              mono_now, unix_now) != Refusal::None)
        return std::nullopt;
    auto answer = reflector_answer(request, from_ip, from_port, key_, nonce);
    if (!answer || answer->size() > request.size()) {
        --counts_.answered;
        count(answer ? Refusal::Larger : Refusal::Unauthenticated);
        return std::nullopt;
    }
    return answer;
}

void ReflectGuard::count(Refusal r) noexcept {
    switch (r) {
        case Refusal::None: ++counts_.answered; break;
        case Refusal::Unauthenticated: ++counts_.unauthenticated; break;
        case Refusal::BadMac: ++counts_.bad_mac; break;
        case Refusal::Stale: ++counts_.stale; break;
        case Refusal::Replayed: ++counts_.replayed; break;
        case Refusal::OverRate: ++counts_.over_rate; break;
        case Refusal::Larger: ++counts_.larger; break;
        case Refusal::WindowFull: ++counts_.window_full; break;
    }
}

GuardCounts ReflectGuard::take_counts() noexcept {
    const GuardCounts c = counts_;
    counts_ = {};
    return c;
}

std::string to_string(const GuardCounts& c) {
    std::string s = "answered " + std::to_string(c.answered) + "; refused " + std::to_string(c.refused());
    const std::pair<uint64_t, const char*> parts[] = {
        {c.unauthenticated, "unauthenticated"},
        {c.bad_mac, "wrong key or forged"},
        {c.stale, "clock off by more than the freshness window"},
        {c.replayed, "replayed"},
        {c.over_rate, "over the per-source rate"},
        {c.larger, "answer larger than the request"},
        {c.window_full, "replay window full"},
    };
    const char* sep = ": ";
    for (const auto& [n, what] : parts) {
        if (!n) continue;
        s += sep + std::to_string(n) + " " + what;
        sep = ", ";
    }
    return s;
}

}  // namespace callwall::probe
