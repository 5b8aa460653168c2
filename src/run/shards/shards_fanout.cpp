// Flow-hash sharding when the kernel splits the traffic (capture --workers
// on a PACKET_FANOUT group, capture/fanout.hpp): each worker reads its own
// sockets. See run/shards/shards.hpp ("Live capture with workers").
#include <algorithm>

#include "capture/live_reader.hpp"
#include "run/shards/shards_impl.hpp"
#include "util/clock.hpp"

namespace callwall::run {
namespace {

using pipeline::kExpireIntervalUs;
using shard::In;
using shard::InRecord;

/// An idle worker's progress: nothing more is expected with a capture time
/// this long before now (TPACKET_V3 hands a block over within its 100 ms
/// timeout, the reading thread within its 50 ms poll). A frame later than
/// that still counts; it is only merged after the rows the mark let through.
constexpr int64_t kLateUs = 250'000;
/// How often a worker hands its rows and counts over when frames are few.
constexpr int64_t kPublishEveryUs = 50'000;
/// How long a worker waits for a frame before it looks at its steps and marks.
constexpr int kWaitMs = 20;

// One fanout worker's progress through its frames.
struct State {
    uint64_t key = 0;  ///< the key of the latest frame, tick or refresh (strictly increasing)
    uint64_t marked = 0;  ///< the latest watermark: nothing more below (marked + 1, 0)
    uint64_t seq = 0;  ///< frames taken: the flow table's order
    int64_t last_expire_us = 0;
    uint64_t since_mark = 0;
    int64_t last_publish_us = 0;
    bool reader_done = false;
    /// The frames counted; its clock is expiry's: the latest capture time,
    /// this worker's or another's.
    FramesRead frames;
    [[nodiscard]] int64_t& clock_us() noexcept { return frames.count.clock_us; }
    [[nodiscard]] int64_t clock_us() const noexcept { return frames.count.clock_us; }
};

using util::mono_us;

void raise_to(std::atomic<int64_t>& a, int64_t v) noexcept {
    int64_t cur = a.load(std::memory_order_relaxed);
    while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {}
}

// The worker's side; `s` and `w` as in Shards::Impl::run_fanout.
class FanoutWorker {
public:
    FanoutWorker(Shards::Impl& s, Shards::Impl::Worker& w) : s_(s), w_(w) { st_.last_publish_us = mono_us(); }

    void run() {
        decode::RawFrame f;
        for (;;) {
            if (w_.control_pending.load(std::memory_order_acquire)) {
                if (step(next_step())) return;
                continue;
            }
            if (st_.reader_done) {
                if (step(wait_step())) return;
                continue;
            }
            switch (w_.reader->next(f, kWaitMs)) {
                case capture::NextStatus::Frame: take(f); break;
                case capture::NextStatus::Timeout:
                case capture::NextStatus::BlockDone: idle(); break;  // a live reader's quiet moment (never a block)
                case capture::NextStatus::Error: failed(); [[fallthrough]];
                case capture::NextStatus::End:
                    st_.reader_done = true;
                    mark();
                    break;
            }
        }
    }

private:
    [[nodiscard]] uint64_t key_of(int64_t ts_us) const noexcept {
        return ts_us > s_.base_us ? static_cast<uint64_t>(ts_us - s_.base_us) : 0;
    }

    void take(const decode::RawFrame& f) {
        const FanoutInput& in = *s_.fanout;
        if (in.limit && in.taken->fetch_add(1, std::memory_order_relaxed) >= in.limit) return;  // past --count
        st_.key = std::max(key_of(f.ts_us), st_.key + 1);
        FramesRead& t = st_.frames;
        t.count.arrive(f, t.totals);
        if (!w_.decoder->frame(f, st_.key, st_.clock_us(), ++st_.seq)) {
            // Counted by why where it was decoded.
            ++t.totals.undecoded_packets;
            t.count.undecoded = w_.decoder->analyzer().undecoded_kinds();
        }
        tick();
        if (++st_.since_mark >= shard::kMarkEvery ||
            ((st_.since_mark & 15) == 0 && mono_us() - st_.last_publish_us >= kPublishEveryUs))
            mark();
    }

    // The expiry tick under the current key, when a second of capture time
    // has passed on the latest clock any worker has shown.
    void tick() {
        st_.clock_us() = std::max(st_.clock_us(), s_.clock_us.load(std::memory_order_relaxed));
        if (st_.clock_us() - st_.last_expire_us < kExpireIntervalUs) return;
        raise_to(s_.clock_us, st_.clock_us());
        w_.decoder->tick(st_.key, st_.clock_us(), capture_end(), st_.seq);
        st_.last_expire_us = st_.clock_us();
    }

    // The capture's end so far, for the outcome hints of the flows written
    // (one thread's: its latest frame's time): this worker's latest frame or
    // the latest any worker has shown, whichever is later.
    [[nodiscard]] double capture_end() const noexcept {
        return std::max(st_.frames.totals.last_ts, util::us_to_s(st_.clock_us()));
    }

    // No frame for a while: the key moves on with the wall clock (less
    // kLateUs), so the merger can write what the other workers handed over.
    void idle() {
        const int64_t now = util::wall_us();
        const uint64_t k = key_of(now - kLateUs);
        if (k <= st_.key || mono_us() - st_.last_publish_us < kPublishEveryUs) return;
        st_.key = k;
        tick();
        mark();
    }

    void mark() {
        if (st_.marked != st_.key) w_.decoder->writer().watermark(st_.key);
        st_.marked = st_.key;
        raise_to(s_.clock_us, st_.clock_us());
        s_.publish(w_, &st_.frames);
        st_.since_mark = 0;
        st_.last_publish_us = mono_us();
    }

    void failed() {
        std::lock_guard lk(w_.mu);
        if (w_.error.empty()) w_.error = w_.reader->error().empty() ? "the reading thread stopped" : w_.reader->error();
    }

    InRecord next_step() {
        std::lock_guard lk(w_.mu);
        InRecord r = w_.control.front();
        w_.control.pop_front();
        w_.control_pending.store(!w_.control.empty(), std::memory_order_release);
        return r;
    }
    InRecord wait_step() {
        {
            std::unique_lock lk(w_.mu);
            w_.cv.wait(lk, [&] { return !w_.control.empty(); });
        }
        return next_step();
    }

    // A step of the command's; true when the worker has ended.
    bool step(const InRecord& r) {
        if (r.kind == In::Finish) return finish();
        if (r.kind != In::Pause) return false;
        // A refresh: stopped here (the reading thread goes on filling its
        // buffer) until the command has the rows up to the barrier it picks.
        {
            std::lock_guard lk(w_.mu);
            w_.paused_gen = r.index;
            w_.paused_key = st_.key;
            w_.paused_last_ts = st_.frames.totals.last_ts;
        }
        s_.publish(w_, &st_.frames);
        for (;;) {
            const InRecord c = wait_step();
            switch (c.kind) {
                case In::Sync:
                    st_.key = c.index;
                    w_.decoder->writer().watermark(c.index, shard::kSnapshotPhase);
                    s_.publish(w_, &st_.frames);
                    break;
                case In::Snapshot:
                case In::SnapshotAll:
                    w_.decoder->snapshot(c.index, c.last_ts, c.kind == In::SnapshotAll, s_.snapshot_peers,
                                         s_.snapshot_peers_listed);
                    w_.decoder->writer().watermark(c.index);
                    st_.marked = c.index;
                    s_.publish(w_, &st_.frames);
                    break;
                case In::Resume: st_.last_publish_us = mono_us(); return false;
                case In::Finish: return finish();
                default: break;
            }
        }
    }

    // The run's end, then every flow: once the command has stopped the
    // reader, all it will give; otherwise (--rotate, SIGHUP: the next run
    // reads on) what it holds, for kFinishUs at most on a link that keeps it full.
    bool finish() {
        constexpr int64_t kFinishUs = 100'000;
        const int64_t until = mono_us() + kFinishUs;
        decode::RawFrame f;
        for (;;) {
            const bool stopped = w_.reader->stopped();
            if (!stopped && mono_us() > until) break;
            const capture::NextStatus status = w_.reader->next(f, stopped ? 200 : 0);
            if (status == capture::NextStatus::Frame) {
                take(f);
                continue;
            }
            if (status == capture::NextStatus::Timeout && stopped) continue;  // a stopped reader ends within its drain
            if (status == capture::NextStatus::Error) failed();
            break;
        }
        st_.clock_us() = std::max(st_.clock_us(), s_.clock_us.load(std::memory_order_relaxed));
        w_.decoder->finish(capture_end(), st_.seq);
        s_.publish(w_, &st_.frames);
        return true;
    }

    Shards::Impl& s_;
    Shards::Impl::Worker& w_;
    State st_;
};

}  // namespace

void Shards::Impl::run_fanout(Worker& w) { FanoutWorker(*this, w).run(); }

void Shards::Impl::control_all(const InRecord& r) {
    for (auto& w : workers) {
        {
            std::lock_guard lk(w->mu);
            w->control.push_back(r);
            w->control_pending.store(true, std::memory_order_release);
        }
        w->cv.notify_one();
    }
}

// The refresh's barrier: every worker stops where it is; the key after the
// furthest of them is the refresh's, as a reading thread's frame number is
// without fanout (see Shards::snapshot).
uint64_t Shards::Impl::snapshot_fanout(bool all) {
    InRecord r;
    r.kind = In::Pause;
    r.index = ++pause_gen;
    control_all(r);
    uint64_t key = 0;
    double last_ts = 0;
    for (;;) {
        bool paused = true;
        for (auto& w : workers) {
            std::lock_guard lk(w->mu);
            paused = paused && w->paused_gen == pause_gen;
            key = std::max(key, w->paused_key);
            last_ts = std::max(last_ts, w->paused_last_ts);
        }
        if (paused) break;
        if (!pump()) wait_for_progress();
    }
    ++key;
    r.kind = In::Sync;
    r.index = key;
    control_all(r);
    write_below({key, shard::kSnapshotPhase});
    snapshot_peers_listed = merger.take_new_peers(snapshot_peers);
    const uint64_t before = merger.snapshots();
    r.kind = all ? In::SnapshotAll : In::Snapshot;
    r.last_ts = last_ts;
    control_all(r);
    write_below({key + 1, 0});
    take_vendor_addresses();
    r.kind = In::Resume;
    control_all(r);
    return merger.snapshots() - before;
}

void Shards::pump_for(int ms) {
    Impl& s = *impl_;
    const int64_t end = mono_us() + int64_t{ms} * 1000;
    while (mono_us() < end)
        if (!s.pump()) s.wait_for_progress();
}

std::string Shards::error() const {
    for (const auto& w : impl_->workers) {
        std::lock_guard lk(w->mu);
        if (!w->error.empty()) return w->error;
    }
    return "";
}

}  // namespace callwall::run
