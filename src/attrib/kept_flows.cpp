// A file run's flows kept for its attribution. See attrib/kept_flows.hpp.
#include "attrib/kept_flows.hpp"

#include <malloc.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>

namespace callwall::attrib {

namespace {

/// `fn(field)` for every field of a kept record, in order; at most 64.
template <class Record, class Fn>
constexpr void each_field(Record& r, Fn&& fn) {
    fn(r.id);  // first: Packed::id reads it alone
    fn(r.names_at);
    fn(r.names_n);
    facts::each_read_column(r, fn);
}

}  // namespace

// A record's packed form: a 64-bit mask of the fields that differ from a
// new record's (bit i for field i, bit for bit: -0.0 is not 0), then those
// fields' bytes, in order. Most of a flow's columns are 0 or "none": a UDP
// flow's record is ~100 bytes.
void KeptFlows::Packed::push_back(const Record& r) {
    static_assert(
        [] {
            Record x;
            unsigned n = 0;
            each_field(x, [&](auto&) { ++n; });
            return n;
        }() <= 64,
        "a kept record's mask has a bit per field");
    static const Record kNew{};
    uint8_t buf[sizeof(uint64_t) + sizeof(Record)];
    uint8_t* p = buf + sizeof(uint64_t);
    uint64_t mask = 0;
    unsigned bit = 0;
    const uint8_t* fresh = reinterpret_cast<const uint8_t*>(&kNew);
    const uint8_t* base = reinterpret_cast<const uint8_t*>(&r);
    each_field(r, [&](const auto& v) {
        const uint8_t* was = fresh + (reinterpret_cast<const uint8_t*>(&v) - base);
        if (std::memcmp(&v, was, sizeof v) != 0) {
            mask |= uint64_t{1} << bit;
            std::memcpy(p, &v, sizeof v);
            p += sizeof v;
        }
        ++bit;
    });
    std::memcpy(buf, &mask, sizeof mask);
    const auto n = static_cast<size_t>(p - buf);
    if (blocks_.empty() || used_ + n > util::kHugePage) {
        if (blocks_.size() * util::kHugePage > UINT32_MAX - util::kHugePage) throw std::bad_alloc();
        if (blocks_.size() == blocks_.capacity()) blocks_.reserve(std::max<size_t>(4, 2 * blocks_.size()));
        blocks_.push_back(static_cast<uint8_t*>(util::huge_allocate(util::kHugePage)));
        used_ = 0;
    }
    at_.push_back(static_cast<uint32_t>((blocks_.size() - 1) * util::kHugePage + used_));
    std::memcpy(blocks_.back() + used_, buf, n);
    used_ += n;
}

KeptFlows::Record KeptFlows::Packed::operator[](size_t i) const noexcept {
    Record r;
    const uint8_t* p = start(i);
    uint64_t mask = 0;
    std::memcpy(&mask, p, sizeof mask);
    p += sizeof mask;
    each_field(r, [&](auto& v) {
        if (mask & 1) {
            std::memcpy(&v, p, sizeof v);
            p += sizeof v;
        }
        mask >>= 1;
    });
    return r;
}

uint64_t KeptFlows::Packed::id(size_t i) const noexcept {
    const uint8_t* p = start(i);
    uint64_t mask = 0, id = 0;
    std::memcpy(&mask, p, sizeof mask);
    if (mask & 1) std::memcpy(&id, p + sizeof mask, sizeof id);
    return id;
}

void KeptFlows::Packed::clear() noexcept {
    for (uint8_t* b : blocks_) util::huge_deallocate(b, util::kHugePage);
    decltype(blocks_)().swap(blocks_);
    decltype(at_)().swap(at_);
    used_ = 0;
}

uint32_t KeptFlows::intern(std::string_view s) {
    if (const auto it = ids_.find(s); it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(text_.size());
    const std::string& kept = text_.emplace_back(s);
    ids_.emplace(std::string_view(kept), id);
    return id;
}

uint32_t KeptFlows::intern_column(size_t column, std::string_view s) {
    if (column >= last_column_id_.size()) return intern(s);
    uint32_t& last = last_column_id_[column];
    if (last != kNoText && text_[last] == s) return last;
    last = intern(s);
    return last;
}

uint32_t KeptFlows::intern_name(std::string_view name) {
    const uint32_t id = intern(name);
    if (id >= is_name_.size()) is_name_.resize(size_t{id} + 1);
    is_name_[id] = true;
    return id;
}

void KeptFlows::add(const FlowFacts& facts, const facts::FlowNames& names) noexcept {
    if (abandoned_) return;
    if (facts.tcp_or_udp() && flows_.size() >= max_flows_) {
        abandon();
        return;
    }
    try {
        if (facts.tcp_or_udp()) {
            keep(facts, names);
            return;
        }
        for (size_t i = 0; i < names.count; ++i) intern_name(names.entries[i].name);  // an ICMP flow's names
    } catch (...) {
        abandon();  // out of memory: the rows are there to be read
    }
}

void KeptFlows::set_run_totals(double capture_end, uint64_t evicted_full) noexcept {
    capture_end_ = capture_end;
    evicted_full_ = evicted_full;
    totals_known_ = true;
}

void KeptFlows::keep(const FlowFacts& x, const facts::FlowNames& names) {
    Record r;
    size_t text_column = 0;
    facts::each_read_column(r, x, [&](auto& to, const auto& from) {
        if constexpr (std::is_same_v<std::decay_t<decltype(from)>, std::string>)
            to = intern_column(text_column++, from);
        else
            to = from;
    });
    // The flow_name rows: once per (name, source), read back by source
    // descending, then name (byte order, as SQLite compares text).
    r.names_at = static_cast<uint32_t>(names_.size());
    for (size_t i = 0; i < names.count; ++i) {
        const Name n{intern_name(names.entries[i].name), intern(names.entries[i].source)};
        const auto first = names_.begin() + r.names_at;
        if (std::none_of(first, names_.end(), [&](const Name& o) { return o.name == n.name && o.source == n.source; }))
            names_.push_back(n);
    }
    std::sort(names_.begin() + r.names_at, names_.end(), [&](const Name& a, const Name& b) {
        const int by_source = text(a.source).compare(text(b.source));
        return by_source != 0 ? by_source > 0 : text(a.name) < text(b.name);
    });
    r.names_n = static_cast<uint16_t>(names_.size() - r.names_at);
    one_direction_.add(r.interfaces, shows_far_side(r.packets_s2c, r.icmp_errors, r.roles));
    // The hosts whose STUN requests were answered (stun_answered_hosts),
    // noted as they come rather than read out of the packed records.
    if (r.stun_answered > r.stun_answered_s2c) mark_stun_host(r.client_ip);
    if (r.stun_answered_s2c > 0) mark_stun_host(r.server_ip);
    if (!flows_.empty() && last_id_ > r.id) sorted_ = false;
    order_.clear();  // sorted again by the next page()
    flows_.push_back(r);
    last_id_ = r.id;
}

void KeptFlows::abandon() noexcept {
    abandoned_ = true;
    if (flows_.empty() && text_.empty()) return;
    // The memory goes back at once; a run this large reads its rows. Its
    // small blocks would otherwise stay in the heap's free lists, and the
    // run's later peak (the store's queue while the WAL is checkpointed, in
    // 20 M busy packets) came on top of them: 57 MiB where 8 M peaked at 50.
    flows_.clear();
    decltype(names_)().swap(names_);
    decltype(ids_)().swap(ids_);
    decltype(text_)().swap(text_);
    last_column_id_.fill(kNoText);
    decltype(ttls_)().swap(ttls_);
    decltype(order_)().swap(order_);
    decltype(is_name_)().swap(is_name_);
    decltype(is_stun_host_)().swap(is_stun_host_);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

// Every field of `f` is written (its columns and its names), into the
// strings it already holds: a page's FlowFacts are
// filled again and again without allocating (their strings' allocations
// dominated attribution's profile).
void KeptFlows::fill(const Record& r, FlowFacts& f) const {
    facts::each_read_column(f, r, [&](auto& to, const auto& from) {
        if constexpr (std::is_same_v<std::decay_t<decltype(to)>, std::string>)
            to = text(from);
        else
            to = from;
    });
    f.names.resize(r.names_n);
    for (uint32_t i = 0; i < r.names_n; ++i) {
        f.names[i].name = text(names_[r.names_at + i].name);
        f.names[i].source = text(names_[r.names_at + i].source);
    }
}

void KeptFlows::sort_order() {
    order_.clear();
    order_.reserve(flows_.size());
    // Ids are handed out one by one as flows start, so the kept ones nearly
    // cover a range: placed by id into it (linear) instead of sorted (the
    // sort showed in attribution's profile).
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < flows_.size(); ++i) {
        const uint64_t id = flows_.id(i);
        lo = std::min(lo, id);
        hi = std::max(hi, id);
    }
    if (!flows_.empty() && hi - lo < 4 * uint64_t{flows_.size()}) {
        std::vector<uint32_t> at(hi - lo + 1, UINT32_MAX);
        bool unique = true;
        for (size_t i = 0; i < flows_.size() && unique; ++i) {
            uint32_t& slot = at[flows_.id(i) - lo];
            unique = slot == UINT32_MAX;
            slot = static_cast<uint32_t>(i);
        }
        if (unique) {
            for (size_t k = 0; k < at.size(); ++k)
                if (at[k] != UINT32_MAX) order_.push_back({lo + k, at[k]});
            return;
        }
        order_.clear();  // an id twice: sorted below, as any order is
    }
    for (size_t i = 0; i < flows_.size(); ++i) order_.push_back({flows_.id(i), static_cast<uint32_t>(i)});
    std::stable_sort(order_.begin(), order_.end(), [](const Place& a, const Place& b) { return a.id < b.id; });
}

void KeptFlows::page(size_t& at, size_t max, std::vector<FlowFacts>& out) {
    // The ids ordered with their records' places, not the records
    // themselves: less to move.
    if (!sorted_ && order_.empty()) sort_order();
    const size_t end = std::min(flows_.size(), at + max);
    out.resize(end - at);  // what is there is overwritten whole (fill)
    for (size_t i = at; i < end; ++i) fill(flows_[sorted_ ? i : order_[i].at], out[i - at]);
    at = end;
}

std::set<std::string> KeptFlows::stun_answered_hosts() const {
    std::set<std::string> hosts;
    for (uint32_t id = 0; id < is_stun_host_.size(); ++id)
        if (is_stun_host_[id]) hosts.insert(text(id));
    return hosts;
}

void KeptFlows::mark_stun_host(uint32_t address) {
    if (address >= is_stun_host_.size()) is_stun_host_.resize(size_t{address} + 1);
    is_stun_host_[address] = true;
}

const std::set<int>& KeptFlows::server_ttls(const std::string& server_ip) {
    if (!ttls_read_) {
        // One pass for every server (store::kFlowAnsweredWithTtl: a TTL seen
        // from the server on a flow that completed a handshake, or on a UDP
        // flow it answered).
        const auto udp = ids_.find("udp");
        for (size_t i = 0; i < flows_.size(); ++i) {
            const Record r = flows_[i];
            if (r.server_ttl_min < 0) continue;
            if (r.synack_count > 0 || (udp != ids_.end() && r.transport == udp->second && r.packets_s2c > 0)) {
                std::set<int>& t = ttls_[r.server_ip];
                t.insert(r.server_ttl_min);
                t.insert(r.server_ttl_max);
            }
        }
        ttls_read_ = true;
    }
    static const std::set<int> kNone;
    const auto ip = ids_.find(server_ip);
    if (ip == ids_.end()) return kNone;
    const auto it = ttls_.find(ip->second);
    return it != ttls_.end() ? it->second : kNone;
}

}  // namespace callwall::attrib
