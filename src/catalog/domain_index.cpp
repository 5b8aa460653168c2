// Reversed-label trie for destination names.
//
// Node 0 is the root (the empty name). A pattern anchored at "x.com" lives on
// the node reached by "com" then "x"; it is stored in one of three value lists:
//
//   kind      stored as   matches when the walk reaches the node ...
//   Exact     exact       ... and the host has no labels left
//   Suffix    suffix      ... always (x.com itself and below)
//   Wildcard  wild        ... and the host has at least one label left
//
// Edges are kept in one open-addressing table keyed by (parent node, label),
// so a lookup costs one hash probe per label of the host and allocates nothing.
#include <algorithm>
#include <stdexcept>

#include "catalog/catalog.hpp"
#include "catalog/host_text.hpp"

namespace callwall::catalog {

namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t edge_hash(uint32_t parent, std::string_view label) noexcept {
    uint64_t h = kFnvOffset ^ (uint64_t{parent} * 0x9E3779B97F4A7C15ull);
    for (char c : label) {
        h ^= static_cast<unsigned char>(ascii_lower(c));
        h *= kFnvPrime;
    }
    return h ^ (h >> 29);
}

enum ListIndex : size_t { kExact = 0, kSuffix = 1, kWild = 2 };

}  // namespace

void DomainIndex::insert_slot(const Slot& s) {
    size_t i = s.hash & slot_mask_;
    while (slots_[i].parent != UINT32_MAX) i = (i + 1) & slot_mask_;
    slots_[i] = s;
}

void DomainIndex::add(DestinationKind kind, std::string_view base, uint32_t value) {
    if (frozen_) throw std::logic_error("DomainIndex::add after freeze");
    if (kind == DestinationKind::Any) throw std::logic_error("DomainIndex::add: ANY has no name");
    if (nodes_.empty()) {
        nodes_.emplace_back();
        slots_.assign(16, Slot{});
        slot_mask_ = 15;
    }
    uint32_t node = 0;
    size_t end = base.size();
    while (end > 0) {
        const size_t dot = base.rfind('.', end - 1);
        const size_t start = dot == std::string_view::npos ? 0 : dot + 1;
        const std::string_view label = base.substr(start, end - start);
        uint32_t child = find_child(node, label);
        if (child == UINT32_MAX) {
            if ((edge_count_ + 1) * 2 > slots_.size()) {  // keep the load factor <= 0.5
                std::vector<Slot> old(slots_.size() * 2, Slot{});
                old.swap(slots_);
                slot_mask_ = slots_.size() - 1;
                for (const Slot& s : old) {
                    if (s.parent != UINT32_MAX) insert_slot(s);
                }
            }
            child = static_cast<uint32_t>(nodes_.size());
            nodes_.emplace_back();
            Slot s;
            s.hash = edge_hash(node, label);
            s.parent = node;
            s.child = child;
            s.label_offset = static_cast<uint32_t>(labels_.size());
            s.label_length = static_cast<uint32_t>(label.size());
            for (char c : label) labels_.push_back(ascii_lower(c));
            insert_slot(s);
            ++edge_count_;
        }
        node = child;
        if (start == 0) break;
        end = start - 1;
    }
    const size_t list = kind == DestinationKind::Exact ? kExact : kind == DestinationKind::Suffix ? kSuffix : kWild;
    pending_.push_back(PendingValue{node, static_cast<uint32_t>(list), value});
}

void DomainIndex::freeze() {
    if (frozen_) return;
    frozen_ = true;
    if (nodes_.empty()) {
        nodes_.emplace_back();
        slots_.assign(16, Slot{});
        slot_mask_ = 15;
    }
    // One sort of every (node, list, value) added, instead of three lists per
    // node: each node's values end up contiguous, sorted and unique.
    std::sort(pending_.begin(), pending_.end(), [](const PendingValue& a, const PendingValue& b) {
        return a.node != b.node ? a.node < b.node : a.list != b.list ? a.list < b.list : a.value < b.value;
    });
    values_.reserve(pending_.size());
    for (size_t at = 0; at < pending_.size();) {
        const PendingValue first = pending_[at];
        const uint32_t begin = static_cast<uint32_t>(values_.size());
        for (; at < pending_.size() && pending_[at].node == first.node && pending_[at].list == first.list; ++at)
            if (values_.size() == begin || values_.back() != pending_[at].value) values_.push_back(pending_[at].value);
        const uint32_t count = static_cast<uint32_t>(values_.size()) - begin;
        Node& n = nodes_[first.node];
        if (first.list == kExact) {
            n.exact_begin = begin;
            n.exact_count = count;
        } else if (first.list == kSuffix) {
            n.suffix_begin = begin;
            n.suffix_count = count;
        } else {
            n.wild_begin = begin;
            n.wild_count = count;
        }
    }
    pending_.clear();
    pending_.shrink_to_fit();
}

uint32_t DomainIndex::find_child(uint32_t parent, std::string_view label) const noexcept {
    const uint64_t h = edge_hash(parent, label);
    for (size_t i = h & slot_mask_;; i = (i + 1) & slot_mask_) {
        const Slot& s = slots_[i];
        if (s.parent == UINT32_MAX) return UINT32_MAX;
        if (s.hash != h || s.parent != parent || s.label_length != label.size()) continue;
        const char* stored = labels_.data() + s.label_offset;
        bool same = true;
        for (size_t k = 0; k < label.size(); ++k) {
            if (ascii_lower(label[k]) != stored[k]) {
                same = false;
                break;
            }
        }
        if (same) return s.child;
    }
}

size_t DomainIndex::lookup(std::string_view host, std::span<uint32_t> out, bool& overflowed) const noexcept {
    overflowed = false;
    if (!frozen_ || slots_.empty()) return 0;
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty() || host.size() > kMaxHostLength || host.front() == '.' || host.back() == '.') return 0;
    for (size_t i = 1; i < host.size(); ++i) {
        if (host[i] == '.' && host[i - 1] == '.') return 0;
    }

    size_t n = 0;
    auto emit = [&](uint32_t begin, uint32_t count) {
        for (uint32_t k = 0; k < count; ++k) {
            const uint32_t v = values_[begin + k];
            bool seen = false;
            for (size_t j = 0; j < n; ++j) {
                if (out[j] == v) {
                    seen = true;
                    break;
                }
            }
            if (seen) continue;
            if (n < out.size()) {
                out[n++] = v;
            } else {
                overflowed = true;
            }
        }
    };

    uint32_t node = 0;
    size_t end = host.size();
    while (true) {
        const size_t dot = host.rfind('.', end - 1);
        const size_t start = dot == std::string_view::npos ? 0 : dot + 1;
        const uint32_t child = find_child(node, host.substr(start, end - start));
        if (child == UINT32_MAX) break;
        node = child;
        const Node& nd = nodes_[node];
        const bool more = start > 0;
        emit(nd.suffix_begin, nd.suffix_count);
        if (more) {
            emit(nd.wild_begin, nd.wild_count);
        } else {
            emit(nd.exact_begin, nd.exact_count);
            break;
        }
        end = start - 1;
    }
    return n;
}

}  // namespace callwall::catalog
