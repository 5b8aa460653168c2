// Work that a helper thread may do in the time it would otherwise sleep.
//
// A file analysis with a second core runs three threads that want a CPU at
// once now and then: the decoding thread, the reading thread (capture::
// ReadAhead) and the store's writer (store::WriteBehind). On two CPUs the
// third one to wake takes a CPU from one of the other two: the reading thread,
// woken when the decoder gives chunks back, preempted the decoder itself
// ~70-170 times a busy 2 M run, and the decoder found its ring empty ~70 times
// while the reader waited for the CPU the writer held (docs/performance.md).
// The writer's rows need no CPU of their own: they can be
// applied by the reading thread while its ring is full. The reading thread
// then calls step() instead of sleeping, a slice at a time, so that it comes
// back to its ring before the decoder runs dry; and the decoding thread has a
// CPU to itself.
//
// The owner of the work (store::WriteBehind) stops applying it on its own
// thread once lent(), calls `wake` whenever work arrives, and takes it back
// at returned() (the lending thread's end, or its file's).
#pragma once

#include <functional>

namespace callwall::util {

class IdleWork {
public:
    virtual ~IdleWork() = default;
    /// From now on the calling thread's idle time does the work: `wake` is
    /// called (from any thread, with no lock of the work's held) whenever
    /// some arrives, until returned().
    virtual void lent(std::function<void()> wake) = 0;
    /// On the lending thread: a slice of what is pending (~100 µs at most);
    /// false when there was nothing to do.
    virtual bool step() noexcept = 0;
    /// On the lending thread: it stops; the work goes back to its owner's thread.
    virtual void returned() noexcept = 0;
    /// So much is pending that the lender should step even between its own
    /// tasks (the work's memory grows while it waits).
    [[nodiscard]] virtual bool behind() const noexcept = 0;
};

}  // namespace callwall::util
