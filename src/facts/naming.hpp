// Naming: which names a flow stands for. Interned names (SNI,
// DNS names), the address → names map from DNS answers, and TURN peers named
// after their TURN server, kept live while packets are read because a DNS
// answer names the flows that follow it (time order). The pipeline's
// analyzers feed it (Naming::intern, add_answer, add_turn_peer); the
// dispatcher asks it for a flow's names at the flow's end (Naming::name_flow),
// and the names are written with the flow for the attribution stage to match.
// Everything is bounded; drops are counted.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "decode/packet.hpp"
#include "flow/flow_table.hpp"
#include "util/huge_pages.hpp"

namespace callwall::facts {

/// Interned names (SNI, DNS names), so flows carry a 32-bit id. Bounded:
/// beyond kMaxNames new names are counted and not interned.
class NameTable {
public:
    static constexpr uint32_t kMaxNames = 1u << 20;
    /// 0 when the table is full or the name is empty. Lowercases, drops a trailing dot.
    uint32_t intern(std::string_view name);
    [[nodiscard]] std::string_view get(uint32_t id) const noexcept;
    [[nodiscard]] uint64_t dropped() const noexcept { return dropped_; }

private:
    struct StringHash {  // lets a name be looked up by view, without a copy
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
    std::vector<const std::string*> names_{nullptr};
    uint64_t dropped_ = 0;
};

/// Address → names, per client, from DNS answers (CNAME chains included), with
/// the time each was first seen. Bounded: beyond kMaxEntries addresses new ones
/// are counted and dropped.
class NameMap {
public:
    static constexpr size_t kMaxEntries = 1u << 20;
    static constexpr size_t kNamesPerAddress = 8;
    NameMap();
    void add(const decode::IpAddr& client, const decode::IpAddr& address, uint32_t name, int64_t ts_us);
    /// Names `client` had resolved to `address` at or before `at_us`; returns the count written.
    size_t lookup(const decode::IpAddr& client, const decode::IpAddr& address, int64_t at_us, uint32_t* out,
                  size_t cap) const noexcept;
    [[nodiscard]] uint64_t dropped() const noexcept { return dropped_; }
    [[nodiscard]] size_t size() const noexcept { return size_; }

private:
    struct Key {
        decode::IpAddr client, address;
        bool operator==(const Key&) const = default;
    };
    [[nodiscard]] static uint64_t hash(const Key& k) noexcept;
    /// The first kInline names of an address sit in its entry (48 bytes:
    /// most addresses have one name, or a short CNAME chain); the rest, up to
    /// kNamesPerAddress, in a block of overflow_. The map never forgets an
    /// address, so its entries are most of a long run's growth: 136 bytes of
    /// eight inline names each made it grow twice as fast.
    static constexpr size_t kInline = 3;
    struct Names {
        int64_t ts_us[kInline];
        uint32_t name[kInline];
        uint32_t more = 0;  ///< 1 + the index in overflow_ of names kInline.., 0 for none
        uint8_t count = 0;
    };
    struct Overflow {
        int64_t ts_us[kNamesPerAddress - kInline];
        uint32_t name[kNamesPerAddress - kInline];
    };
    struct Entry {
        Key key;
        Names names;
    };
    [[nodiscard]] uint32_t name_at(const Names& n, size_t i) const noexcept {
        return i < kInline ? n.name[i] : overflow_[n.more - 1].name[i - kInline];
    }
    [[nodiscard]] int64_t ts_at(const Names& n, size_t i) const noexcept {
        return i < kInline ? n.ts_us[i] : overflow_[n.more - 1].ts_us[i - kInline];
    }
    // Open addressing, as the flow table (flow/flow_table.hpp): a lookup
    // costs the slot's cache line and, when the slot's tag matches, the
    // entry's; a node-based std::unordered_map cost a bucket, then a node
    // per probe, on the packet path (a lookup per DNS answer and two per
    // flow). A slot holds the hash's high 32 bits as a
    // tag and 1 + the entry's index (0: empty); at most half are used.
    // Entries live in blocks that never move (the map never forgets).
    static constexpr size_t kBlockBits = 9;  ///< 512 entries (44 KiB) per block
    [[nodiscard]] Entry& entry(uint32_t i) noexcept { return blocks_[i >> kBlockBits][i & ((1u << kBlockBits) - 1)]; }
    [[nodiscard]] const Entry& entry(uint32_t i) const noexcept {
        return blocks_[i >> kBlockBits][i & ((1u << kBlockBits) - 1)];
    }
    /// The slot holding `k` (hash `h`), or the empty one where it would go.
    [[nodiscard]] size_t find_slot(const Key& k, uint64_t h) const noexcept;
    void grow();
    util::HugeVector<uint64_t> slots_;
    size_t mask_ = 0;
    std::vector<std::unique_ptr<Entry[]>> blocks_;
    size_t size_ = 0;
    std::vector<Overflow> overflow_;
    uint64_t dropped_ = 0;
};

/// The names of one flow, in the order they are recorded, and the one the
/// flow was meant for. Views into the NameTable (stable while it lives).
struct FlowNames {
    struct Entry {
        std::string_view name;
        std::string_view source;  ///< "dns-initiator", "sni", "proxy", "dns", "turn-peer"
    };
    std::array<Entry, 2 * NameMap::kNamesPerAddress + 3> entries{};
    size_t count = 0;
    std::string_view name;  ///< the name the flow was meant for ("" for none)
    std::string_view source;  ///< its source ("" for none)
};

class Naming {
public:
    /// TURN allocations name a handful of peers each; a hostile stream of
    /// XOR-PEER-ADDRESS values must not grow the map without bound.
    static constexpr size_t kMaxPeers = 1u << 16;

    uint32_t intern(std::string_view name) { return names_.intern(name); }
    [[nodiscard]] std::string_view get(uint32_t id) const noexcept { return names_.get(id); }
    /// A DNS answer: `client` resolved `address` through the names `chain`.
    void add_answer(const decode::IpAddr& client, const decode::IpAddr& address, const uint32_t* chain, size_t n,
                    int64_t ts_us);
    /// The first name the flow's client had resolved its server to by `at_us` (0: none).
    [[nodiscard]] uint32_t dns_name_of(const flow::Flow& f, int64_t at_us) const noexcept;
    /// A TURN peer or relayed address, named after the TURN server.
    void add_turn_peer(const decode::IpAddr& address, uint32_t name);
    /// The flow's names: its own SNI, else the host asked of a proxy, else DNS
    /// answers the same client saw before the flow began, else a TURN peer
    /// relation, else the names of a flow opened towards a client by an
    /// address that client had resolved (a vendor server sending first).
    void name_flow(const flow::Flow& f, uint32_t sni, uint32_t proxy_target, FlowNames& out) const noexcept;

    /// The only names that change for a flow without a packet of its own are
    /// TURN peer names (a peer is learnt after flows towards it began). For a
    /// live refresh that writes only changed flows: moves the peer addresses
    /// learnt since the last call into `out` and returns true, or returns
    /// false when more than kMaxNewPeers were learnt (any flow may be renamed).
    static constexpr size_t kMaxNewPeers = 1024;
    bool take_new_peers(std::vector<decode::IpAddr>& out);

    [[nodiscard]] const NameTable& table() const noexcept { return names_; }
    [[nodiscard]] uint64_t addresses_dropped() const noexcept { return map_.dropped(); }
    [[nodiscard]] uint64_t peers_dropped() const noexcept { return peers_dropped_; }

private:
    struct IpAddrHash {
        size_t operator()(const decode::IpAddr& a) const noexcept;
    };
    NameTable names_;
    NameMap map_;
    /// TURN peer/relayed address → the TURN server's name (from its flow).
    std::unordered_map<decode::IpAddr, uint32_t, IpAddrHash> peers_;
    uint64_t peers_dropped_ = 0;
    std::vector<decode::IpAddr> new_peers_;  ///< since take_new_peers(), at most kMaxNewPeers
    bool new_peers_overflow_ = false;
};

}  // namespace callwall::facts
