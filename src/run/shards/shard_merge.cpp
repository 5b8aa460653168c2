// The merger of a sharded run. See run/shards/shard_merge.hpp.
#include "run/shards/shard_merge.hpp"

#include <algorithm>
#include <cstring>

#include "run/shards/shard_records.hpp"

namespace callwall::run::shard {

bool Merger::done() const noexcept {
    return std::all_of(streams_.begin(), streams_.end(), [](const Stream& s) { return s.ended; });
}

bool Merger::peek(Stream& s, Key& key) {
    while (!s.ended && s.next < s.queued.size()) {
        std::vector<char>& b = s.queued[s.next];
        if (s.pos >= b.size()) {
            s.spent.push_back(std::move(b));
            s.spent.back().clear();
            ++s.next;
            s.pos = 0;
            if (s.next == s.queued.size()) {
                s.queued.clear();
                s.next = 0;
                break;
            }
            continue;
        }
        Reader r(b.data() + s.pos + 1);
        switch (b[s.pos]) {
            case kKey:
                key.first = r.pod<uint64_t>();
                key.second = r.pod<uint64_t>();
                return true;
            case kWatermark: {
                const uint64_t index = r.pod<uint64_t>();
                const uint64_t sub = r.pod<uint64_t>();
                s.mark = {index, sub};
                s.pos += 1 + 2 * sizeof(uint64_t);
                break;
            }
            case kEnd:
                s.ended = true;
                s.pos = b.size();
                break;
            default:
                // Records belong after a key: a worker writes none without one.
                s.ended = true;
                break;
        }
    }
    return false;
}

bool Merger::merge() {
    bool wrote = false;
    for (;;) {
        // The stream whose next key is lowest goes, once no other stream can
        // still bring a lower one (its next key, or its mark, says so).
        Stream* best = nullptr;
        Key best_key{};
        std::vector<Key>& keys = keys_;
        std::vector<char>& known = known_;
        keys.resize(streams_.size());
        known.resize(streams_.size());
        for (size_t i = 0; i < streams_.size(); ++i) {
            known[i] = peek(streams_[i], keys[i]);
            if (known[i] && (!best || keys[i] < best_key)) best = &streams_[i], best_key = keys[i];
        }
        if (!best) return wrote;
        for (size_t i = 0; i < streams_.size(); ++i) {
            const Stream& t = streams_[i];
            if (&t == best || t.ended || known[i] || best_key < t.mark) continue;
            return wrote;  // stream i may still bring a lower key
        }
        write_segment(*best);
        wrote = true;
    }
}

void Merger::write_segment(Stream& s) {
    std::vector<char>& b = s.queued[s.next];
    s.pos += 1 + 2 * sizeof(uint64_t);  // the key
    while (s.pos < b.size()) {
        const char kind = b[s.pos];
        if (kind == kKey || kind == kWatermark || kind == kEnd) return;
        const size_t n = write_record(s, b.data() + s.pos, b.size() - s.pos);
        if (n == 0) {
            s.pos = b.size();  // cut: cannot happen with whole records
            return;
        }
        s.pos += n;
    }
}

size_t Merger::write_record(Stream& s, char* p, size_t avail) {
    Reader r(p + 1);
    switch (p[0]) {
        case kCreated: {
            const auto local = r.pod<uint64_t>();
            s.ids[local] = ++created_;
            break;
        }
        case kFlowEnd:
        case kSnapshot: {
            const char* end = nullptr;
            flow_row(s, p + 1, end, p[0] == kSnapshot);
            return static_cast<size_t>(end - p);
        }
        case kAnswer: {
            const auto client = r.pod<decode::IpAddr>();
            const auto address = r.pod<decode::IpAddr>();
            const auto ts_us = r.pod<int64_t>();
            const auto n = static_cast<size_t>(static_cast<unsigned char>(r.pod<char>()));
            uint32_t chain[8];
            size_t chain_n = 0;
            for (size_t i = 0; i < n; ++i) {
                const uint32_t id = naming_.intern(r.text());
                if (id && chain_n < 8) chain[chain_n++] = id;
            }
            naming_.add_answer(client, address, chain, chain_n, ts_us);
            break;
        }
        case kTurnPeer: {
            flow::Flow f;
            f.client_ip = r.pod<decode::IpAddr>();
            f.server_ip = r.pod<decode::IpAddr>();
            const auto ts_us = r.pod<int64_t>();
            const std::string_view sni = r.text();
            const auto peer = r.pod<decode::IpAddr>();
            const uint32_t server_name = !sni.empty() ? naming_.intern(sni) : naming_.dns_name_of(f, ts_us);
            if (server_name) naming_.add_turn_peer(peer, server_name);
            break;
        }
        default: {
            // A row the worker's recording store encoded: its flow id becomes the run's.
            char* id_at = nullptr;
            const size_t n = store::Store::encoded_row_size(p, avail, &id_at);
            if (n == 0) return 0;
            if (id_at) {
                uint64_t local;
                std::memcpy(&local, id_at, sizeof local);
                const auto it = s.ids.find(local);
                const uint64_t id = it != s.ids.end() ? it->second : 0;
                std::memcpy(id_at, &id, sizeof id);
            }
            if (!failed_) {
                try {
                    store_.put_encoded(p, n);
                } catch (...) {
                    failed_ = true;
                    throw;
                }
            }
            return n;
        }
    }
    return static_cast<size_t>(r.at() - p);
}

bool Merger::written_below(Key key) {
    for (Stream& s : streams_) {
        // Keys come in order: an unread one at or past `key` means every one
        // below it was written; with none unread, the mark says.
        Key next;
        const bool unread = peek(s, next);
        if (s.ended) continue;
        if (unread ? next < key : s.mark < key) return false;
    }
    return true;
}

// A flow's end (or, `live`, a snapshot of a flow that goes on): numbered,
// named with every DNS answer and TURN peer of the run so far, and written
// as Analyzer::on_evict (snapshot_changed) writes it on one thread.
void Merger::flow_row(Stream& s, const char* p, const char*& end, bool live) {
    Reader r(p);
    alignas(flow::Flow) flow::Flow f = r.pod<flow::Flow>();
    facts::FlowAppInfo info = r.pod<facts::FlowAppInfo>();
    info.app = r.text();
    info.outcome = r.text();
    const std::string_view sni = r.text();
    const std::string_view proxy = r.text();
    end = r.at();
    const auto it = s.ids.find(f.id);
    f.id = it != s.ids.end() ? it->second : 0;
    if (it != s.ids.end() && !live) s.ids.erase(it);
    const uint32_t sni_id = sni.empty() ? 0 : naming_.intern(sni);
    const uint32_t proxy_id = proxy.empty() ? 0 : naming_.intern(proxy);
    naming_.name_flow(f, sni_id, proxy_id, names_);
    info.name = names_.name;
    info.name_source = names_.source;
    if (failed_) return;
    try {
        for (size_t i = 0; i < names_.count; ++i)
            store_.add(run_id_,
                       records::FlowName{static_cast<int64_t>(f.id), names_.entries[i].name, names_.entries[i].source});
        // Once a snapshot has written rows, a flow's end may meet its own.
        if (live || snapshots_)
            store_.replace_flow(run_id_, f, info);
        else
            store_.add_flow(run_id_, f, info);
        if (written_ids_) written_ids_->push_back(f.id);
        if (live) ++snapshots_;
    } catch (...) {
        failed_ = true;
        throw;
    }
}

}  // namespace callwall::run::shard
