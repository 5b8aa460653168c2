// Reading live interfaces on their own thread. See capture/live_reader.hpp.
#include "capture/live_reader.hpp"

#include <poll.h>

#include <chrono>
#include <cstring>

#include "util/thread_without_signals.hpp"
#include "util/clock.hpp"
#include "capture/padded.hpp"

namespace callwall::capture {
namespace {

// Frames read from one interface before the next gets its turn, so a busy
// port cannot starve a quiet one.
constexpr int kBatchPerSource = 1024;

}  // namespace

LiveReader::LiveReader(std::vector<PcapSource*> sources) : LiveReader(std::move(sources), Start::Now) {}

LiveReader::LiveReader(std::vector<PcapSource*> sources, Start when) : sources_(std::move(sources)), chunks_(kChunks) {
    for (auto& c : chunks_) {
        // Not value-initialised: pages are touched only when frames fill them.
        c.records.reset(new Record[kChunkRecords]);
        c.data.reset(new uint8_t[kChunkBytes]);
    }
    read_stats();  // counters before the first frame, as PcapSource::stats() would give
    if (when == Start::Now) start();
}

void LiveReader::start() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (started_) return;
        started_ = true;
        if (stop_.load(std::memory_order_relaxed)) {
            finished_ = true;  // stopped before it started: nothing to read
            return;
        }
    }
    // The reader takes no signals: the capture loop's thread sees their flags.
    thread_ = util::thread_without_signals("callwall-live", [this] { read_loop(); });
}

LiveReader::~LiveReader() {
    stop();
    if (thread_.joinable()) thread_.join();
}

void LiveReader::stop() noexcept {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_.store(true, std::memory_order_relaxed);
        if (!started_) {
            started_ = true;  // never will: next() returns End
            finished_ = true;
        }
    }
    cv_.notify_all();
}

void LiveReader::read_stats() {
    SourceStats sum;
    for (const PcapSource* s : sources_) sum += s->stats();
    std::lock_guard<std::mutex> lk(mu_);
    stats_ = sum;
}

SourceStats LiveReader::stats() const {
    std::lock_guard<std::mutex> lk(mu_);
    return stats_;
}

std::string LiveReader::set_filter(const std::string& expression) {
    std::unique_lock<std::mutex> lk(mu_);
    filter_ = expression;
    const uint64_t asked = ++filter_asked_;
    cv_.notify_all();
    // The thread looks between reads (every kPollMs at most) unless the ring
    // is full; a loop calling this is not consuming, so bound the wait.
    if (!cv_.wait_for(lk, std::chrono::seconds(2), [&] { return filter_done_ >= asked || finished_; }))
        return "not installed within 2 s (the reading thread waits for buffer space; it installs it when it catches up)";
    if (filter_done_ < asked) return "the reading thread has stopped";
    return filter_error_;
}

void LiveReader::chores(double& last_stats) {
    std::string want;
    uint64_t asked = 0;
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (filter_asked_ != filter_done_) {
            want = filter_;
            asked = filter_asked_;
        }
    }
    if (asked) {
        std::string err;
        for (PcapSource* s : sources_) {
            try {
                s->set_filter(want);
            } catch (const std::exception& e) {
                if (err.empty()) err = s->name() + ": " + e.what();
            }
        }
        {
            std::lock_guard<std::mutex> lk(mu_);
            filter_done_ = asked;
            filter_error_ = err;
        }
        cv_.notify_all();
    }
    const double now = util::mono_s();
    if (now - last_stats >= 0.1) {
        read_stats();
        last_stats = now;
    }
}

LiveReader::Chunk* LiveReader::acquire() {
    std::unique_lock<std::mutex> lk(mu_);
    const auto free = [&] { return produced_ - consumed_ < kChunks; };
    if (!free()) {
        ring_full_.fetch_add(1, std::memory_order_relaxed);
        cv_.wait(lk, [&] { return free() || stop_.load(std::memory_order_relaxed); });
        if (!free()) return nullptr;
    }
    Chunk* c = &chunks_[produced_ % kChunks];
    c->count = 0;
    c->used = 0;
    return c;
}

void LiveReader::publish() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        ++produced_;
    }
    filling_ = nullptr;
    cv_.notify_all();
}

void LiveReader::read_loop() noexcept {
    std::vector<pollfd> fds(sources_.size());
    RawFrame frame;
    double last_stats = util::mono_s();
    // Copies one frame into the chunk being filled, handing that chunk over
    // first when the frame does not fit. False: stopping (the frame is lost
    // with the run's end) or a frame larger than a chunk.
    const auto append = [&]() -> bool {
        const size_t need = padded(frame.caplen);
        if (need > kChunkBytes) {  // libpcap caps records far below this; refuse rather than overrun
            error_ = "a frame of " + std::to_string(frame.caplen) + " bytes is larger than the capture buffer";
            return false;
        }
        if (filling_->used + need > kChunkBytes || filling_->count == kChunkRecords) {
            publish();
            filling_ = acquire();
            if (!filling_) return false;
        }
        Chunk& c = *filling_;
        c.records[c.count++] = Record{
            frame.ts_us, frame.caplen, frame.wirelen, frame.linktype, static_cast<uint32_t>(c.used), frame.interface};
        if (frame.caplen) std::memcpy(c.data.get() + c.used, frame.bytes.data(), frame.caplen);
        c.used += need;
        return true;
    };
    try {
        filling_ = acquire();
        while (filling_ && !stop_.load(std::memory_order_relaxed)) {
            chores(last_stats);
            for (size_t i = 0; i < sources_.size(); ++i) fds[i] = pollfd{sources_[i]->selectable_fd(), POLLIN, 0};
            ::poll(fds.data(), fds.size(), kPollMs);
            bool ok = true;
            for (size_t i = 0; i < sources_.size() && ok; ++i) {
                for (int k = 0; k < kBatchPerSource && ok; ++k) {
                    const NextStatus st = sources_[i]->next(frame);
                    if (st == NextStatus::Frame) {
                        frame.interface = static_cast<uint16_t>(i);
                        ok = append();
                        continue;
                    }
                    if (st == NextStatus::Error) {
                        error_ = sources_[i]->name() + ": " + sources_[i]->error();
                        ok = false;
                    }
                    break;  // Timeout: nothing more waiting on this one
                }
            }
            if (!ok) break;
            // Hand over what was read when the loop has caught up (it may be
            // waiting for frames); while it is behind, fill this chunk to the
            // end, so the ring's 32 MiB hold frames, not half-empty chunks.
            if (filling_->count > 0) {
                bool caught_up = false;
                {
                    std::lock_guard<std::mutex> lk(mu_);
                    caught_up = produced_ == consumed_;
                }
                if (caught_up) {
                    publish();
                    filling_ = acquire();
                }
            }
        }
        // Stopping: what the kernel still holds is taken too. Without
        // immediate mode (TPACKET_V3, the default) the last frames sit in a
        // block the kernel hands over when its timeout (the source's read
        // timeout, 100 ms) retires it: poll until an interval brings
        // nothing, for kDrainMs at most.
        const double until = util::mono_s() + kDrainMs / 1000.0;
        for (bool more = error_.empty(); more && filling_ && util::mono_s() < until;) {
            for (size_t i = 0; i < sources_.size(); ++i) fds[i] = pollfd{sources_[i]->selectable_fd(), POLLIN, 0};
            ::poll(fds.data(), fds.size(), kDrainPollMs);
            more = false;
            for (size_t i = 0; i < sources_.size() && filling_; ++i) {
                while (sources_[i]->next(frame) == NextStatus::Frame) {
                    more = true;
                    if (!append()) break;
                }
            }
        }
        if (filling_ && filling_->count > 0) publish();
        read_stats();
    } catch (const std::exception& e) {
        // Only allocation can throw here (an error text, a filter).
        if (error_.empty()) error_ = std::string("reading thread: ") + e.what();
    }
    {
        std::lock_guard<std::mutex> lk(mu_);
        finished_ = true;
    }
    cv_.notify_all();
}

NextStatus LiveReader::next(RawFrame& frame, int timeout_ms) noexcept {
    for (;;) {
        if (done_ != NextStatus::Frame) return done_;
        if (current_ && pos_ < current_->count) {
            const Record& r = current_->records[pos_++];
            frame.ts_us = r.ts_us;
            frame.caplen = r.caplen;
            frame.wirelen = r.wirelen;
            frame.linktype = r.linktype;
            frame.interface = r.interface;
            frame.bytes = ByteView{current_->data.get() + r.offset, r.caplen};
            return NextStatus::Frame;
        }
        std::unique_lock<std::mutex> lk(mu_);
        if (current_) {
            current_ = nullptr;
            ++consumed_;  // the chunk goes back to the reader
            cv_.notify_all();
        }
        const auto ready = [&] { return produced_ > consumed_ || finished_; };
        if (!ready() && timeout_ms > 0) cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), ready);
        if (produced_ > consumed_) {
            current_ = &chunks_[consumed_ % kChunks];
            pos_ = 0;
            continue;
        }
        if (!finished_) return NextStatus::Timeout;
        done_ = error_.empty() ? NextStatus::End : NextStatus::Error;
    }
}

}  // namespace callwall::capture
