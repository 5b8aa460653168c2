// The loops that read packets into a run session: capture files one after
// the other (analyze, and probe reading back its own capture), or live
// interfaces through their reading threads (capture), with the rotations
// that end one run and begin the next. The command configures them: what
// stops the loop (a signal's flag, --duration, --count, --rotate), and
// callbacks for what it draws or prints (progress, the live view, a run's
// summary). Nothing here prints.
//
// Errors: the session's store::StoreError goes through; the live loop marks
// the run failed first (Session::fail) when the run's reading or its finish
// threw.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/live_reader.hpp"
#include "capture/pcap_source.hpp"
#include "run/fanout_input.hpp"
#include "run/session.hpp"

namespace callwall::run {

/// What a file loop is told by its command.
struct FileLoop {
    /// Nonzero once the command's signal handler asked to stop (SIGINT,
    /// SIGTERM); null: nothing stops the loop before the files end.
    const volatile std::sig_atomic_t* stop = nullptr;
    /// Whether file `i` is read on a thread of its own (capture::ReadAhead);
    /// null: every file on the reading thread.
    std::function<bool(size_t i)> read_ahead;
    /// Before file `i` is read (its first frame not taken yet).
    std::function<void(size_t i, capture::PcapSource& src)> file_starts;
    /// After file `i`: `packets` frames read, the last at `last_ts_us`.
    std::function<void(size_t i, uint64_t packets, int64_t last_ts_us)> file_ended;
    /// File `name` stopped reading with `error` after `packets` frames (not
    /// by a stop): the run counted it as damaged and noted it; the reading
    /// goes on with the next file.
    std::function<void(const std::string& name, uint64_t packets, const std::string& error)> damaged;
    /// After each of the session's checkpoints (Session::process said it
    /// wrote): `bytes_read` so far (each frame's captured bytes plus its
    /// 16-byte record header), while reading file `i`.
    std::function<void(uint64_t bytes_read, size_t i)> progress;
};

/// Reads `sources` in order into the session's run until their end or a
/// stop (checked between frames; a signal that interrupts a blocking read
/// is a stop, not damage). The sources are taken. Returns Completed, or
/// Interrupted when stopped. The run is not finished here. May throw
/// store::StoreError.
Status read_files(Session& session, std::vector<std::unique_ptr<capture::PcapSource>>& sources, const FileLoop& loop);

/// The reading threads of a live capture: one over every interface, or
/// with fan_out(), one per decoding worker over its socket of each
/// interface's fanout group (capture/fanout.hpp), read by that worker
/// itself (run/fanout_input.hpp).
class LiveReaders {
public:
    /// Worker k's reading thread over socket k of every interface's fanout
    /// group (`srcs` holds the groups one after the other, `workers` sockets
    /// each), not started yet; `count` (0: none) bounds the frames the
    /// workers take. Throws std::system_error.
    void fan_out(const std::vector<std::unique_ptr<capture::PcapSource>>& srcs, int workers, uint64_t count);
    /// Starts the reading: the fanout readers made before, or one reading
    /// thread over every source. Throws std::system_error.
    void start(const std::vector<std::unique_ptr<capture::PcapSource>>& srcs);
    /// The fanout group's readers, for the session's workers (null: none).
    [[nodiscard]] const FanoutInput* fanout() const noexcept { return fanned() ? &fanout_ : nullptr; }
    [[nodiscard]] bool fanned() const noexcept { return !fanout_.readers.empty(); }
    /// Frames the fanout workers took (--count).
    [[nodiscard]] uint64_t taken() const noexcept { return taken_.load(); }
    void stop() noexcept;
    /// Times a reading thread found its ring full, summed.
    [[nodiscard]] uint64_t ring_full() const noexcept;
    /// Kernel counters summed over the reading threads.
    [[nodiscard]] capture::SourceStats stats() const;
    /// Every thread's sources get `expression`; "" or the first error.
    std::string set_filter(const std::string& expression);
    /// The one reading thread (not fanned).
    [[nodiscard]] capture::LiveReader& single() noexcept { return *threads_.front(); }

private:
    std::vector<std::unique_ptr<capture::LiveReader>> threads_;
    FanoutInput fanout_;  ///< readers empty: no fanout
    std::atomic<uint64_t> taken_{0};
};

/// How a live run ended.
struct LiveEnd {
    Status status = Status::Completed;
    /// "duration", "count", "SIGINT", "SIGTERM", "SIGHUP", "rotate" or "error".
    std::string ended_by = "duration";
    std::string error;  ///< why reading stopped (an interface went away, ...), when it did
    double run_started_s = 0;  ///< util::mono_s() when the run began

    /// The capture goes on with a next run (SIGHUP, --rotate).
    [[nodiscard]] bool rotates() const { return ended_by == "SIGHUP" || ended_by == "rotate"; }
};

/// What a live loop is told by its command.
struct LiveLoop {
    /// Nonzero (the signal's number) once SIGINT or SIGTERM arrived: the
    /// capture ends, the run interrupted. Null: none.
    const volatile std::sig_atomic_t* stop = nullptr;
    /// Nonzero once SIGHUP arrived: this run ends, the next begins; cleared
    /// when taken. Null: none.
    volatile std::sig_atomic_t* hangup = nullptr;
    double started_s = 0;  ///< util::mono_s() when the capture started
    double duration_s = 0;  ///< of the whole capture, from started_s; 0: none
    uint64_t count = 0;  ///< packets of the whole capture; 0: none
    double rotate_s = 0;  ///< a run's length; 0: none
    uint64_t rotate_bytes = 0;  ///< a run's packet bytes; 0: none
    /// After each turn of the loop (every ~50 to 150 ms), with what the
    /// session's tick did at monotonic time `now_s`: the command redraws.
    std::function<void(Tick tick, double now_s)> turn;
    /// A run ended and was finished (Session::finish): the command
    /// attributes and renders it. Its answer counts when the run rotates:
    /// true begins the next run, false ends the capture.
    std::function<bool(const LiveEnd& end)> run_ended;
    /// A rotation began the next run (Session::next_run): false ends the capture.
    std::function<bool()> run_began;
};

/// Reads the live interfaces into the session's runs: each run until
/// --duration, --count, a stop, SIGHUP, --rotate or a reading error; a run
/// that ends the capture (not a rotation) first takes what the reading
/// thread still holds. A run's end notes a full reading ring, finishes the
/// run and hands it to run_ended. May throw store::StoreError.
void read_live(Session& session, LiveReaders& readers, const LiveLoop& loop);

}  // namespace callwall::run
