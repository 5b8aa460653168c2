// Reading a capture file on a second core. See capture/read_ahead.hpp.
#include "capture/read_ahead.hpp"

#include <sys/stat.h>

#include <cstring>
#include <new>
#include <system_error>
#include <utility>

#include "util/huge_pages.hpp"
#include "util/thread_without_signals.hpp"
#include "capture/padded.hpp"

namespace callwall::capture {
bool ReadAhead::can_read_ahead(const std::string& path) noexcept {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

ReadAhead::ReadAhead(std::unique_ptr<PcapSource> source, bool threaded) : source_(std::move(source)) {
    if (!threaded) return;
    blocks_ = source_->reads_blocks();
    lend_ = !blocks_ && source_->frames_in_map();
    map_ring();
    if (lend_) source_->hold_frames();
    if (blocks_) source_->lend_blocks();
    // The reader takes no signals: the analysing thread handles them (its
    // loop sees the flag and stops).
    try {
        thread_ = util::thread_without_signals("callwall-read", [this] { read_loop(); });
        inline_ = false;
    } catch (const std::system_error&) {
        chunks_.clear();  // no thread: read inline, the source dropping pages behind it again
        source_->hold_frames(false);
        source_->lend_blocks(false);
        lend_ = false;
        blocks_ = false;
    }
}

ReadAhead::Ring::~Ring() {
    if (at) util::huge_deallocate(at, bytes);
}

void ReadAhead::map_ring() {
    const auto line = [](size_t n) { return (n + 63) & ~size_t{63}; };
    const size_t records = line(kChunkRecords * sizeof(Record));
    const size_t data = line(blocks_ ? PcapSource::kBlockCapacity : lend_ ? 0 : kChunkBytes);
    ring_.bytes = kChunks * (records + data);
    // Mapped, not touched: the reader writes each page first (a huge page
    // faults once per 2 MiB).
    auto* base = static_cast<uint8_t*>(util::huge_allocate(ring_.bytes));
    ring_.at = base;
    chunks_.resize(kChunks);
    for (Chunk& c : chunks_) {
        c.records = new (base) Record[kChunkRecords];
        c.data = data ? base + records : nullptr;
        base += records + data;
    }
}

ReadAhead::~ReadAhead() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_.store(true, std::memory_order_relaxed);
    }
    cv_.notify_all();
    thread_.join();
}

void ReadAhead::lend_idle_time(util::IdleWork* work) {
    if (!work || !thread_.joinable()) return;
    std::lock_guard<std::mutex> lk(mu_);
    if (reader_ended_ || idle_) return;
    idle_ = work;
    work->lent([this] {
        {
            std::lock_guard<std::mutex> l(mu_);
            idle_arrived_ = true;
        }
        cv_.notify_all();
    });
}

void ReadAhead::read_loop() noexcept {
    read_chunks();
    util::IdleWork* work = nullptr;
    {
        std::lock_guard<std::mutex> lk(mu_);
        reader_ended_ = true;
        work = std::exchange(idle_, nullptr);
    }
    if (work) work->returned();  // its owner's thread goes on with it
}

void ReadAhead::read_chunks() noexcept {
    RawFrame frame;
    bool carried = false;  // `frame` was read but did not fit in the previous chunk
    for (;;) {
        uint64_t slot = 0;
        {
            std::unique_lock<std::mutex> lk(mu_);
            // A full ring: the lent work, a step at a time, until kRefill
            // chunks are free (looked at between steps); sleep only when it
            // has nothing either.
            if (produced_ - consumed_ == kChunks) {
                while (produced_ - consumed_ > kChunks - kRefill) {
                    if (stop_.load(std::memory_order_relaxed)) return;
                    if (idle_) {
                        idle_arrived_ = false;
                        lk.unlock();
                        const bool did = idle_->step();
                        lk.lock();
                        if (did || idle_arrived_) continue;
                    }
                    reader_waits_ = true;
                    cv_.wait(lk, [&] {
                        return stop_.load(std::memory_order_relaxed) || produced_ - consumed_ <= kChunks - kRefill ||
                               idle_arrived_;
                    });
                    reader_waits_ = false;
                }
            }
            if (stop_.load(std::memory_order_relaxed)) return;
            slot = produced_;
        }
        Chunk& c = chunks_[slot % kChunks];
        if (lend_ && c.count) {  // given back: its frames, and all before them, are read
            const Record& last = c.records[c.count - 1];
            source_->release_frames_before(last.bytes + last.caplen);
        }
        c.count = 0;
        c.used = 0;
        c.end = NextStatus::Frame;
        if (blocks_)
            fill_from_blocks(c);
        else if (!fill_from_source(c, frame, carried))
            return;  // stopped
        util::IdleWork* work = nullptr;  // lent, and the analyser has half the ring or more to go through
        {
            std::lock_guard<std::mutex> lk(mu_);
            ++produced_;
            if (produced_ - consumed_ >= kChunks / 2) work = idle_;
        }
        cv_.notify_all();
        if (c.end != NextStatus::Frame) return;
        // The lent work fell behind (its memory grows): a step between
        // chunks too, while the analyser has plenty to go through.
        if (work && work->behind()) work->step();
    }
}

bool ReadAhead::fill_from_source(Chunk& c, RawFrame& frame, bool& carried) noexcept {
    for (;;) {
        if (!carried) {
            const NextStatus st = source_->next(frame);
            if (st != NextStatus::Frame) {
                // Files never time out; anything but a frame ends the stream.
                c.end = st == NextStatus::Error ? NextStatus::Error : NextStatus::End;
                if (st == NextStatus::Error) error_ = source_->error();
                return true;
            }
        }
        if (!lend_ && padded(frame.caplen) > kChunkBytes) {
            // libpcap caps records far below this; refuse rather than overrun.
            c.end = NextStatus::Error;
            error_ = "a record of " + std::to_string(frame.caplen) + " bytes is larger than the read-ahead buffer";
            return true;
        }
        carried = !add(c, frame);
        if (carried) return true;  // starts the next chunk
        if (stop_.load(std::memory_order_relaxed)) return false;
    }
}

void ReadAhead::fill_from_blocks(Chunk& c) noexcept {
    // The chunk's frames lie in its own buffer, a block of the file read
    // into it (after what the block before left of a record): no frame is
    // read that would not fit, so none is carried to the next chunk.
    source_->next_block(c.data);
    RawFrame frame;
    while (c.count < kChunkRecords) {
        if (stop_.load(std::memory_order_relaxed)) return;
        const NextStatus st = source_->next(frame);
        if (st == NextStatus::Frame) {
            put(c, frame, frame.bytes.data());
            continue;
        }
        if (st == NextStatus::BlockDone) {
            // A block always holds the record its predecessor cut, so a chunk
            // that got none from its block could only follow a chunk that
            // stopped at kChunkRecords right before a cut record: read on
            // into the same buffer (nothing of this chunk points into it).
            if (c.count) return;
            source_->next_block(c.data);
            continue;
        }
        // Files never time out; anything but a frame ends the stream.
        c.end = st == NextStatus::Error ? NextStatus::Error : NextStatus::End;
        if (st == NextStatus::Error) error_ = source_->error();
        return;
    }
}

void ReadAhead::put(Chunk& c, const RawFrame& frame, const uint8_t* bytes) noexcept {
    c.records[c.count++] = Record{frame.ts_us, frame.caplen, frame.wirelen, frame.linktype, frame.interface, bytes};
}

bool ReadAhead::add(Chunk& c, const RawFrame& frame) noexcept {
    if (c.count == kChunkRecords) return false;
    if (lend_) {
        const uint8_t* first = c.count ? c.records[0].bytes : frame.bytes.data();
        const auto span = static_cast<size_t>(frame.bytes.data() + frame.caplen - first);
        if (c.count && span > kLentBytes) return false;
        put(c, frame, frame.bytes.data());
        return true;
    }
    const size_t need = padded(frame.caplen);
    if (c.used + need > kChunkBytes) return false;
    uint8_t* to = c.data + c.used;
    if (frame.caplen) std::memcpy(to, frame.bytes.data(), frame.caplen);
    put(c, frame, to);
    c.used += need;
    return true;
}

NextStatus ReadAhead::next_slow(RawFrame& frame) noexcept {
    if (inline_) {
        if (done_ != NextStatus::Frame) return done_;
        const NextStatus st = source_->next(frame);
        if (st == NextStatus::Error) error_ = source_->error();
        if (st == NextStatus::End || st == NextStatus::Error) done_ = st;
        return st;
    }
    return next_chunk(frame);
}

NextStatus ReadAhead::next_chunk(RawFrame& frame) noexcept {
    for (;;) {
        if (done_ != NextStatus::Frame) return done_;
        if (current_ && pos_ < current_->count) {
            hand_out(frame);
            return NextStatus::Frame;
        }
        if (current_) {
            const NextStatus end = current_->end;
            current_ = nullptr;
            bool wake = false;
            {
                std::lock_guard<std::mutex> lk(mu_);
                ++consumed_;  // the chunk goes back to the reader
                wake = reader_waits_ && produced_ - consumed_ <= kChunks - kRefill;
            }
            if (wake) cv_.notify_all();
            if (end != NextStatus::Frame) {
                done_ = end;  // error_ was written before the chunk was published
                continue;
            }
        }
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return produced_ > consumed_; });
        current_ = &chunks_[consumed_ % kChunks];
        pos_ = 0;
    }
}

}  // namespace callwall::capture
