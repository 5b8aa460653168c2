// DNS questions counted per name. See store/dns_names.hpp.
#include "store/dns_names.hpp"

#include <algorithm>
#include <functional>

namespace callwall::store {

void DnsNames::add(int64_t run_id, std::string_view qname, double ts, bool answered, std::string_view rcode,
                   uint32_t answers) {
    Entry& e = find_or_add(run_id, qname);
    if (e.queries == 0) {
        e.first_ts = e.last_ts = ts;
    } else {
        e.first_ts = std::min(e.first_ts, ts);
        e.last_ts = std::max(e.last_ts, ts);
    }
    ++e.queries;
    if (answered) ++e.answered;
    if (answered && rcode == "NOERROR") {
        if (answers > 0) ++e.resolved;
        return;  // an empty answer (no AAAA record, say) is not a failure
    }
    ++e.failed;
    const std::string_view text = answered ? rcode : kDnsNoResponse;
    if (e.failure_len && why(e.failure_at, e.failure_len) == text) return;
    auto it = why_at_.find(text);
    if (it == why_at_.end()) {
        it = why_at_.emplace(std::string(text), static_cast<uint32_t>(whys_.size())).first;
        whys_.append(text);
    }
    e.failure_at = it->second;
    e.failure_len = static_cast<uint32_t>(text.size());
}

void DnsNames::clear() noexcept {
    entries_.clear();
    text_.clear();
    std::fill(index_.begin(), index_.end(), 0);
}

DnsNameCount DnsNames::view(const Entry& e) const noexcept {
    DnsNameCount c;
    c.run_id = e.run_id;
    c.qname = text(e.name_at, e.name_len);
    c.queries = e.queries;
    c.answered = e.answered;
    c.resolved = e.resolved;
    c.failed = e.failed;
    c.last_failure = why(e.failure_at, e.failure_len);
    c.first_ts = e.first_ts;
    c.last_ts = e.last_ts;
    return c;
}

DnsNames::Entry& DnsNames::find_or_add(int64_t run_id, std::string_view qname) {
    const uint64_t h = std::hash<std::string_view>{}(qname) ^ (static_cast<uint64_t>(run_id) * 0x9E3779B97F4A7C15ULL);
    if (index_.empty()) index_.assign(1024, 0);
    const size_t mask = index_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const uint32_t slot = index_[i];
        if (slot == 0) break;
        Entry& e = entries_[slot - 1];
        if (e.hash == h && e.run_id == run_id && text(e.name_at, e.name_len) == qname) return e;
    }
    Entry e{};
    e.run_id = run_id;
    e.hash = h;
    e.name_at = static_cast<uint32_t>(text_.size());
    e.name_len = static_cast<uint32_t>(qname.size());
    text_.append(qname);
    entries_.push_back(e);
    if (entries_.size() * 2 > index_.size()) {
        grow_index();  // places every entry, the new one too
    } else {
        size_t i = h & mask;
        while (index_[i] != 0) i = (i + 1) & mask;
        index_[i] = static_cast<uint32_t>(entries_.size());
    }
    return entries_.back();
}

void DnsNames::grow_index() {
    index_.assign(index_.size() * 2, 0);
    const size_t mask = index_.size() - 1;
    for (size_t k = 0; k < entries_.size(); ++k) {
        size_t i = entries_[k].hash & mask;
        while (index_[i] != 0) i = (i + 1) & mask;
        index_[i] = static_cast<uint32_t>(k + 1);
    }
}

}  // namespace callwall::store
