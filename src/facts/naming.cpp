// Flow naming (attribution's live side). See facts/naming.hpp.
#include "facts/naming.hpp"

#include <bit>
#include <cstring>

namespace callwall::facts {

using decode::IpAddr;

uint32_t NameTable::intern(std::string_view name) {
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty()) return 0;
    // Lowercased on the stack (a DNS name is at most 255 bytes, an SNI may be
    // longer): a name seen before is found without allocating.
    char stack[256];
    std::string heap;
    char* lower = stack;
    if (name.size() > sizeof stack) {
        heap.resize(name.size());
        lower = heap.data();
    }
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        lower[i] = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    const std::string_view key(lower, name.size());
    auto it = ids_.find(key);
    if (it != ids_.end()) return it->second;
    if (names_.size() > kMaxNames) {
        ++dropped_;
        return 0;
    }
    const uint32_t id = static_cast<uint32_t>(names_.size());
    auto [pos, _] = ids_.emplace(std::string(key), id);
    names_.push_back(&pos->first);
    return id;
}

std::string_view NameTable::get(uint32_t id) const noexcept {
    return id > 0 && id < names_.size() ? std::string_view(*names_[id]) : std::string_view();
}

namespace {
constexpr size_t kFirstSlots = 1024;
}  // namespace

NameMap::NameMap() : slots_(kFirstSlots, 0), mask_(kFirstSlots - 1) {}

uint64_t NameMap::hash(const Key& k) noexcept {
    // Eight bytes at a time (the byte-wise FNV of hash_append showed in a
    // busy run's profile), then a full avalanche (MurmurHash3's
    // finaliser) so every input bit reaches the low bits the slots use and
    // the high bits the tags use.
    constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
    uint64_t w[4];
    std::memcpy(&w[0], k.client.bytes.data(), 16);
    std::memcpy(&w[2], k.address.bytes.data(), 16);
    uint64_t h = (uint64_t{k.client.family} << 8 | k.address.family) * kMul;
    for (const uint64_t x : w) h = std::rotl(h ^ x, 29) * kMul;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

size_t NameMap::find_slot(const Key& k, uint64_t h) const noexcept {
    const uint64_t tag = h >> 32;
    for (size_t s = h & mask_;; s = (s + 1) & mask_) {
        const uint64_t e = slots_[s];
        if (e == 0) return s;
        if ((e >> 32) == tag && entry(static_cast<uint32_t>(e) - 1).key == k) return s;
    }
}

void NameMap::grow() {
    util::HugeVector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const uint64_t e : old) {
        if (e == 0) continue;
        size_t s = hash(entry(static_cast<uint32_t>(e) - 1).key) & mask_;
        while (slots_[s] != 0) s = (s + 1) & mask_;
        slots_[s] = e;
    }
}

void NameMap::add(const IpAddr& client, const IpAddr& address, uint32_t name, int64_t ts_us) {
    if (name == 0) return;
    const Key key{client, address};
    const uint64_t h = hash(key);
    size_t s = find_slot(key, h);
    if (slots_[s] == 0) {
        if (size_ >= kMaxEntries) {
            ++dropped_;
            return;
        }
        if ((size_ + 1) * 2 > slots_.size()) {
            grow();
            s = find_slot(key, h);
        }
        if ((size_ >> kBlockBits) == blocks_.size())
            blocks_.push_back(std::make_unique<Entry[]>(size_t{1} << kBlockBits));
        entry(static_cast<uint32_t>(size_)) = Entry{key, Names{}};
        slots_[s] = (h >> 32) << 32 | (size_ + 1);
        ++size_;
    }
    Names& n = entry(static_cast<uint32_t>(slots_[s]) - 1).names;
    for (size_t i = 0; i < n.count; ++i)
        if (name_at(n, i) == name) return;  // keep the first time it was seen
    if (n.count >= kNamesPerAddress) {
        ++dropped_;
        return;
    }
    if (n.count < kInline) {
        n.name[n.count] = name;
        n.ts_us[n.count] = ts_us;
    } else {
        if (n.more == 0) {
            overflow_.emplace_back();
            n.more = static_cast<uint32_t>(overflow_.size());
        }
        Overflow& o = overflow_[n.more - 1];
        o.name[n.count - kInline] = name;
        o.ts_us[n.count - kInline] = ts_us;
    }
    ++n.count;
}

size_t NameMap::lookup(const IpAddr& client, const IpAddr& address, int64_t at_us, uint32_t* out,
                       size_t cap) const noexcept {
    const Key key{client, address};
    const uint64_t e = slots_[find_slot(key, hash(key))];
    if (e == 0) return 0;
    const Names& n = entry(static_cast<uint32_t>(e) - 1).names;
    size_t k = 0;
    for (size_t i = 0; i < n.count && k < cap; ++i)
        if (ts_at(n, i) <= at_us) out[k++] = name_at(n, i);
    return k;
}

size_t Naming::IpAddrHash::operator()(const IpAddr& a) const noexcept {
    return static_cast<size_t>(decode::hash_append(decode::kFnvOffsetBasis, a));
}

void Naming::add_answer(const IpAddr& client, const IpAddr& address, const uint32_t* chain, size_t n, int64_t ts_us) {
    for (size_t i = 0; i < n; ++i) map_.add(client, address, chain[i], ts_us);
}

uint32_t Naming::dns_name_of(const flow::Flow& f, int64_t at_us) const noexcept {
    uint32_t n[1];
    return map_.lookup(f.client_ip, f.server_ip, at_us, n, 1) ? n[0] : 0;
}

void Naming::add_turn_peer(const IpAddr& address, uint32_t name) {
    if (peers_.size() >= kMaxPeers && !peers_.count(address)) {
        ++peers_dropped_;
        return;
    }
    // A known peer keeps its first name, without a node allocated.
    if (!peers_.try_emplace(address, name).second) return;
    if (new_peers_.size() < kMaxNewPeers)
        new_peers_.push_back(address);
    else
        new_peers_overflow_ = true;
}

bool Naming::take_new_peers(std::vector<IpAddr>& out) {
    const bool complete = !new_peers_overflow_;
    out.swap(new_peers_);
    new_peers_.clear();
    new_peers_overflow_ = false;
    return complete;
}

void Naming::name_flow(const flow::Flow& f, uint32_t sni, uint32_t proxy_target, FlowNames& out) const noexcept {
    out = FlowNames{};
    uint32_t dns_names[NameMap::kNamesPerAddress];
    const size_t dns_n = map_.lookup(f.client_ip, f.server_ip, f.first_ts_us, dns_names, NameMap::kNamesPerAddress);
    if (sni) {
        out.name = get(sni), out.source = "sni";
    } else if (proxy_target) {  // the host behind the proxy, not the proxy's own name
        out.name = get(proxy_target), out.source = "proxy";
    } else if (dns_n) {
        out.name = get(dns_names[0]), out.source = "dns";
    } else if (auto it = peers_.find(f.server_ip); it != peers_.end()) {
        out.name = get(it->second), out.source = "turn-peer";
    }
    // A flow opened towards us by an address our side had resolved (a vendor
    // server sending first, e.g. Agora Recording's downstream ports): the
    // name belongs to the initiator.
    uint32_t initiator_names[NameMap::kNamesPerAddress];
    const size_t init_n = (sni || proxy_target || dns_n) ? 0
                                                         : map_.lookup(f.server_ip, f.client_ip, f.first_ts_us,
                                                                       initiator_names, NameMap::kNamesPerAddress);
    if (out.source.empty() && init_n) out.name = get(initiator_names[0]), out.source = "dns-initiator";
    // Recorded in this order (the database's row order).
    auto add = [&](std::string_view name, std::string_view source) { out.entries[out.count++] = {name, source}; };
    for (size_t i = 0; i < init_n; ++i) add(get(initiator_names[i]), "dns-initiator");
    if (sni) add(get(sni), "sni");
    if (proxy_target) add(get(proxy_target), "proxy");
    for (size_t i = 0; i < dns_n; ++i) add(get(dns_names[i]), "dns");
    if (out.source == "turn-peer") add(out.name, "turn-peer");
}

}  // namespace callwall::facts
