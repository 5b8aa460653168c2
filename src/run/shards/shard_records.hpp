// What a decoding worker (run/shards/shard_worker.hpp) writes for the merger
// (run/shards/shard_merge.cpp), and how the merger reads it back. One byte buffer holds, in order, the rows
// its recording Store encodes (store::Store::recorder; first byte: a row
// slot, below kKey) and the records below (first byte kKey and up); numbers
// are copied as they are in memory (the buffer never leaves the process).
//
//   kKey        u64 index, u64 sub     the key of what follows (see shards.hpp)
//   kWatermark  u64 index, u64 sub     nothing more with a key below (index, sub)
//   kCreated    u64 local id           a flow was created (the merger numbers it)
//   kFlowEnd    Flow, FlowAppInfo, text app, outcome, sni, proxy target
//   kSnapshot   as kFlowEnd, of a flow that lives on (a live run's refresh)
//   kAnswer     IpAddr client, address, i64 ts, u8 n, text × n
//   kTurnPeer   IpAddr client, server, i64 ts, text sni, IpAddr peer
//   kEnd                               the worker is done
//
// text: u32 length and the bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <vector>

#include "flow/flow_table.hpp"
#include "pipeline/app_analyzer.hpp"
#include "facts/flow_facts.hpp"

namespace callwall::run::shard {

enum Record : char { kKey = 0x40, kWatermark, kCreated, kFlowEnd, kSnapshot, kAnswer, kTurnPeer, kEnd };

/// Key sub-orders (the high bits of a key's second word).
inline constexpr uint64_t kPacketPhase = 0;
inline constexpr uint64_t kReleasePhase = uint64_t{1} << 62;
inline constexpr uint64_t kEvictPhase = uint64_t{2} << 62;
/// A live run's refresh after a frame: after its packet's and tick's records.
inline constexpr uint64_t kSnapshotPhase = uint64_t{3} << 62;
/// Not in a key: the worker's flag for the end (after every packet).
inline constexpr uint64_t kEndPhase = uint64_t{1} << 61;
/// The index of the records written at the end (after every packet).
inline constexpr uint64_t kEndIndex = UINT64_MAX;

static_assert(std::is_trivially_copyable_v<flow::Flow>);
static_assert(std::is_trivially_copyable_v<facts::FlowAppInfo>);
static_assert(std::is_trivially_copyable_v<decode::IpAddr>);

/// The worker's side: appends records to the buffer its recording Store writes rows into.
class Writer final : public pipeline::NamingOut {
public:
    explicit Writer(std::vector<char>& buf) noexcept : buf_(buf) {}

    /// What follows is written under this key. A key nothing was written
    /// under is taken back, so only keys with rows cost the merger anything.
    void key(uint64_t index, uint64_t sub) {
        drop_empty_key();
        key_at_ = buf_.size();
        buf_.push_back(kKey);
        pod(index);
        pod(sub);
        after_key_ = buf_.size();
    }
    /// Nothing more will come with a key below (index + 1, 0).
    void watermark(uint64_t index) { watermark(index + 1, 0); }
    /// Nothing more will come with a key below (index, sub).
    void watermark(uint64_t index, uint64_t sub) {
        drop_empty_key();
        buf_.push_back(kWatermark);
        pod(index);
        pod(sub);
    }
    void created(uint64_t local_id) {
        buf_.push_back(kCreated);
        pod(local_id);
    }
    /// A flow's row: `live` for a snapshot of a flow that goes on, else its end.
    void flow_row(const flow::Flow& f, const facts::FlowAppInfo& info, std::string_view sni, std::string_view proxy,
                  bool live = false) {
        buf_.push_back(live ? kSnapshot : kFlowEnd);
        pod(f);
        pod(info);
        text(info.app);
        text(info.outcome);
        text(sni);
        text(proxy);
    }
    void end() {
        drop_empty_key();
        buf_.push_back(kEnd);
    }
    /// The buffer was handed over (and is empty): no key to take back.
    void handed_over() noexcept { after_key_ = SIZE_MAX; }

    void answer(const decode::IpAddr& client, const decode::IpAddr& address, const std::string_view* chain, size_t n,
                int64_t ts_us) override {
        buf_.push_back(kAnswer);
        pod(client);
        pod(address);
        pod(ts_us);
        buf_.push_back(static_cast<char>(n));
        for (size_t i = 0; i < n; ++i) text(chain[i]);
    }
    void turn_peer(const flow::Flow& f, std::string_view sni, int64_t ts_us, const decode::IpAddr& peer) override {
        buf_.push_back(kTurnPeer);
        pod(f.client_ip);
        pod(f.server_ip);
        pod(ts_us);
        text(sni);
        pod(peer);
    }

private:
    template <class T>
    void pod(const T& v) {
        const auto* p = reinterpret_cast<const char*>(&v);
        buf_.insert(buf_.end(), p, p + sizeof v);
    }
    void text(std::string_view s) {
        pod(static_cast<uint32_t>(s.size()));
        buf_.insert(buf_.end(), s.begin(), s.end());
    }
    void drop_empty_key() noexcept {
        if (buf_.size() == after_key_) buf_.resize(key_at_);
        after_key_ = SIZE_MAX;
    }

    std::vector<char>& buf_;
    size_t key_at_ = 0, after_key_ = SIZE_MAX;
};

/// The merger's side: reads what a Writer wrote.
class Reader {
public:
    /// Records are whole (a worker hands over only whole ones): no bound is checked.
    explicit Reader(const char* p) noexcept : p_(p) {}
    template <class T>
    T pod() noexcept {
        T v;
        std::memcpy(static_cast<void*>(&v), p_, sizeof v);
        p_ += sizeof v;
        return v;
    }
    std::string_view text() noexcept {
        const auto n = pod<uint32_t>();
        const std::string_view s(p_, n);
        p_ += n;
        return s;
    }
    [[nodiscard]] const char* at() const noexcept { return p_; }

private:
    const char* p_;
};

}  // namespace callwall::run::shard
