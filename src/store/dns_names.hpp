// A run's DNS questions counted per name between two commits, for the
// dns_name table (one row per run and name asked); attribution's kept rows
// (attrib/kept_rows.hpp) count a whole run's with it.
//
// Every question (with or without its dns_query row, which only --detail
// writes) is counted here on the thread that owns the connection; each
// commit first adds what was counted since the last one to the names' rows
// (an upsert per name) and starts again. The counts are sums and the last
// failure is the latest in the order the questions came, so where the
// commits fall changes nothing in the rows: one thread and the sharded
// workers' merger, which applies the rows in one thread's order, write the
// same table. Memory: at most one entry per question of one batch
// (Store::kBatchRows), reused from batch to batch; attrib::KeptRows keeps
// one for a whole run, bounded by its number of names. A failure's
// text is one of the response codes' names (at most 4,096, and "no
// response"), kept once each whatever the number of questions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace callwall::store {

/// What one batch counted for one name of one run.
struct DnsNameCount {
    int64_t run_id = 0;
    std::string_view qname;
    uint64_t queries = 0;  ///< questions asked
    uint64_t answered = 0;  ///< of them answered
    uint64_t resolved = 0;  ///< answered NOERROR with at least one answer record
    uint64_t failed = 0;  ///< unanswered, or answered with another response code
    /// The latest failure: "no response", or the response code's name
    /// ("NXDOMAIN", "SERVFAIL", ...); empty when none failed.
    std::string_view last_failure;
    double first_ts = 0, last_ts = 0;  ///< capture times of the first and last question
};

/// The value of dns_name.last_failure for an unanswered question.
inline constexpr std::string_view kDnsNoResponse = "no response";

/// A count as the DNS fold takes it: saturated to 32 bits.
inline uint32_t clamp_u32(int64_t v) noexcept {
    return v <= 0 ? 0 : (v >= int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(v));
}

class DnsNames {
public:
    /// Counts one question. `rcode` is the response code's name when
    /// `answered`; `answers` the answer records of the response.
    void add(int64_t run_id, std::string_view qname, double ts, bool answered, std::string_view rcode,
             uint32_t answers);
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    /// Names counted since clear().
    [[nodiscard]] size_t size() const noexcept { return entries_.size(); }
    /// Bytes of text held: the names', and each failure text once.
    [[nodiscard]] size_t text_bytes() const noexcept { return text_.size() + whys_.size(); }
    /// Each name counted since clear(), in the order first counted.
    template <class F>
    void for_each(F&& fn) const {
        for (const Entry& e : entries_) fn(view(e));
    }
    /// Forgets the counts, keeping the memory for the next batch.
    void clear() noexcept;

private:
    struct Entry {
        int64_t run_id;
        uint64_t hash;
        uint32_t name_at, name_len;
        uint32_t failure_at = 0, failure_len = 0;
        uint64_t queries = 0, answered = 0, resolved = 0, failed = 0;
        double first_ts = 0, last_ts = 0;
    };
    [[nodiscard]] DnsNameCount view(const Entry& e) const noexcept;
    [[nodiscard]] std::string_view text(uint32_t at, uint32_t len) const noexcept { return {text_.data() + at, len}; }
    [[nodiscard]] std::string_view why(uint32_t at, uint32_t len) const noexcept { return {whys_.data() + at, len}; }
    /// The entry of (run_id, qname), added when new.
    Entry& find_or_add(int64_t run_id, std::string_view qname);
    void grow_index();

    std::vector<Entry> entries_;
    std::string text_;  ///< the names the entries point into
    /// Each failure text met, once (kept across clear(): a few dozen bytes),
    /// and where it is in whys_.
    std::string whys_;
    std::map<std::string, uint32_t, std::less<>> why_at_;
    /// Open addressing over entries_: index + 1, 0 for an empty slot; a
    /// power of two, at most half full.
    std::vector<uint32_t> index_;
};

}  // namespace callwall::store
