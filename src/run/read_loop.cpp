// The loops that read packets into a run session. See src/run/read_loop.hpp.
#include "run/read_loop.hpp"

#include "capture/read_ahead.hpp"
#include "pipeline/analyzer.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"

namespace callwall::run {
namespace {

bool stopped(const volatile std::sig_atomic_t* flag) noexcept { return flag && *flag; }

}  // namespace

Status read_files(Session& session, std::vector<std::unique_ptr<capture::PcapSource>>& sources, const FileLoop& loop) {
    uint64_t bytes_read = 0;
    for (size_t i = 0; i < sources.size() && !stopped(loop.stop); ++i) {
        // The reader thread (if any) is started per file, so only one runs at a time.
        if (loop.file_starts) loop.file_starts(i, *sources[i]);
        capture::ReadAhead src(std::move(sources[i]), loop.read_ahead && loop.read_ahead(i));
        // The store's writes in the reading thread's idle time: two
        // threads for two CPUs while packets are read (util/idle_work.hpp).
        src.lend_idle_time(session.store().idle_work());
        decode::RawFrame frame;
        uint64_t n = 0;
        int64_t last_ts = 0;
        while (!stopped(loop.stop)) {
            const auto st = src.next(frame);
            if (st == capture::NextStatus::Frame) {
                ++n;
                last_ts = frame.ts_us;
                bytes_read += frame.caplen + 16;
                if (session.process(frame) && loop.progress) loop.progress(bytes_read, i);
                continue;
            }
            // A signal interrupting a blocking read (a pipe: tcpdump -w - | callwall
            // analyze /dev/stdin) is the stop the user asked for, not damage.
            if (st == capture::NextStatus::Error && !stopped(loop.stop)) {
                ++session.totals().damaged_files;
                session.note(src.name() + ": reading stopped after " + std::to_string(n) + " packets: " + src.error() +
                             "\n");
                if (loop.damaged) loop.damaged(src.name(), n, src.error());
            }
            break;
        }
        if (loop.file_ended) loop.file_ended(i, n, last_ts);
    }
    return stopped(loop.stop) ? Status::Interrupted : Status::Completed;
}

void LiveReaders::fan_out(const std::vector<std::unique_ptr<capture::PcapSource>>& srcs, int workers, uint64_t count) {
    const size_t n = static_cast<size_t>(workers);
    for (size_t k = 0; k < n; ++k) {
        std::vector<capture::PcapSource*> mine;
        for (size_t at = k; at < srcs.size(); at += n) mine.push_back(srcs[at].get());
        threads_.push_back(std::make_unique<capture::LiveReader>(std::move(mine), capture::LiveReader::Start::Later));
        fanout_.readers.push_back(threads_.back().get());
    }
    fanout_.taken = &taken_;
    fanout_.limit = count;
}

void LiveReaders::start(const std::vector<std::unique_ptr<capture::PcapSource>>& srcs) {
    if (fanned()) {
        for (auto& r : threads_) r->start();
        return;
    }
    std::vector<capture::PcapSource*> plain;
    for (const auto& src : srcs) plain.push_back(src.get());
    threads_.push_back(std::make_unique<capture::LiveReader>(std::move(plain)));
}

void LiveReaders::stop() noexcept {
    for (auto& r : threads_) r->stop();
}

uint64_t LiveReaders::ring_full() const noexcept {
    uint64_t n = 0;
    for (const auto& r : threads_) n += r->ring_full();
    return n;
}

capture::SourceStats LiveReaders::stats() const {
    capture::SourceStats t;
    for (const auto& r : threads_) t += r->stats();
    return t;
}

std::string LiveReaders::set_filter(const std::string& expression) {
    std::string err;
    for (auto& r : threads_)
        if (std::string e = r->set_filter(expression); !e.empty() && err.empty()) err = std::move(e);
    return err;
}

namespace {

// One live run's reading, from its beginning to its end.
class LiveRun {
public:
    LiveRun(Session& session, LiveReaders& readers, const LiveLoop& loop, uint64_t packets_before)
        : session_(session), readers_(readers), loop_(loop), packets_before_(packets_before) {
        end_.run_started_s = util::mono_s();
    }

    // Reads until the run's end. May throw store::StoreError.
    LiveEnd read() {
        for (;;) {
            if (stopped(loop_.stop)) return ending(Status::Interrupted, *loop_.stop == SIGINT ? "SIGINT" : "SIGTERM");
            if (loop_.hangup && *loop_.hangup) {
                *loop_.hangup = 0;
                end_.ended_by = "SIGHUP";
                return end_;
            }
            double now = util::mono_s();
            if (loop_.duration_s > 0 && now - loop_.started_s >= loop_.duration_s)
                return ending(Status::Completed, "duration");
            if (const std::string err = read_for_a_while(); !err.empty()) {
                session_.note(err + "\n");
                end_.status = Status::Failed;
                end_.ended_by = "error";
                end_.error = err;
                return end_;
            }
            if (counted()) {
                end_.ended_by = "count";
                return end_;
            }
            now = util::mono_s();
            if ((loop_.rotate_s > 0 && now - end_.run_started_s >= loop_.rotate_s) ||
                (loop_.rotate_bytes > 0 && session_.totals().bytes >= loop_.rotate_bytes)) {
                end_.ended_by = "rotate";
                return end_;
            }
            const Tick tick = session_.tick(now);
            if (loop_.turn) loop_.turn(tick, now);
        }
    }

private:
    // --count reached, over every run of the capture.
    [[nodiscard]] bool counted() const {
        if (readers_.fanned()) return loop_.count > 0 && readers_.taken() >= loop_.count;
        return loop_.count > 0 && packets_before_ + session_.totals().packets >= loop_.count;
    }

    // The capture ends (duration, a signal): with every frame the kernel
    // gave it.
    LiveEnd ending(Status status, const char* by) {
        end_.status = status;
        end_.ended_by = by;
        drain();
        return end_;
    }

    // The frames the reading thread has buffered, up to --count, into the
    // session. (Fanout workers take theirs when the run finishes.)
    void drain() {
        readers_.stop();
        if (readers_.fanned()) return;
        capture::LiveReader& reader = readers_.single();
        decode::RawFrame frame;
        while (loop_.count == 0 || packets_before_ + session_.totals().packets < loop_.count) {
            if (reader.next(frame, capture::LiveReader::kPollMs * 4) != capture::NextStatus::Frame) break;
            session_.process(frame);
        }
    }

    // Frames for up to ~50 ms, waiting at most 100 ms for the first, so
    // duration, count, signals and the refresh tick are honoured on an idle
    // link and on a busy one; with fanout workers (which read themselves),
    // what they wrote is merged for 50 ms. "" or why reading stopped.
    std::string read_for_a_while() {
        if (readers_.fanned()) return session_.wait_for_workers(50);
        capture::LiveReader& reader = readers_.single();
        const double now = util::mono_s();
        decode::RawFrame frame;
        for (uint32_t k = 0;; ++k) {
            const auto st = reader.next(frame, k == 0 ? 100 : 0);
            if (st == capture::NextStatus::Frame) {
                session_.process(frame);
                if (counted()) return "";
                if ((k & 1023) == 1023 && util::mono_s() - now >= 0.05) return "";
                continue;
            }
            if (st == capture::NextStatus::Error || st == capture::NextStatus::End)
                return reader.error().empty() ? "the reading thread stopped" : reader.error();
            return "";
        }
    }

    Session& session_;
    LiveReaders& readers_;
    const LiveLoop& loop_;
    const uint64_t packets_before_;  ///< in the runs before this one (SIGHUP, --rotate)
    LiveEnd end_;
};

}  // namespace

void read_live(Session& session, LiveReaders& readers, const LiveLoop& loop) {
    uint64_t packets_before = 0;  // in the runs a rotation ended
    for (;;) {
        LiveEnd end;
        try {
            const uint64_t full_before = readers.ring_full();
            end = LiveRun(session, readers, loop, packets_before).read();
            if (const uint64_t full = readers.ring_full() - full_before)
                session.note("capture: the reading thread's " +
                             std::to_string(capture::LiveReader::kChunks * capture::LiveReader::kChunkBytes >> 20) +
                             " MiB buffer was full " + std::to_string(full) +
                             " time(s): decoding and refreshing fell behind the link, the kernel's ring took "
                             "the rest (its drops are in kernel_dropped)\n");
            session.finish(end.status, end.ended_by);
        } catch (const store::StoreError& e) {
            session.fail(e);
            throw;
        }
        const bool go_on = loop.run_ended ? loop.run_ended(end) : true;
        if (!end.rotates() || !go_on) return;
        // SIGHUP (the daemon convention for log rotation) or --rotate: the run
        // above is finished with its verdicts; the next starts on the same sources.
        packets_before += session.totals().packets;
        session.next_run();
        if (loop.run_began && !loop.run_began()) return;
    }
}

}  // namespace callwall::run
