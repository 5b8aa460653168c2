// A thread of callwall's own that takes none of the signals the command's
// thread handles. A process-directed signal (Ctrl-C's SIGINT, SIGTERM, a
// capture's SIGHUP) goes to any thread that does not block it; callwall's
// loops look at the flags their handlers set on the thread that runs them,
// so every other thread blocks those signals. Used by the capture file's
// reader (capture/read_ahead.*), the live reader (capture/live_reader.*) and
// attribution's page reader (store/flow_pages.*).
#pragma once

#include <pthread.h>

#include <csignal>
#include <thread>
#include <utility>

namespace callwall::util {

/// Runs `fn` on a new thread with SIGINT, SIGTERM and SIGHUP blocked there;
/// the caller's signal mask is as before whether or not the thread started.
/// Throws std::system_error as std::thread does.
template <class F>
std::thread thread_without_signals(F&& fn) {
    sigset_t block, old;
    sigemptyset(&block);
    for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&block, s);
    pthread_sigmask(SIG_BLOCK, &block, &old);  // the new thread inherits the mask
    struct Restore {
        const sigset_t* old;
        ~Restore() { pthread_sigmask(SIG_SETMASK, old, nullptr); }
    } restore{&old};
    return std::thread(std::forward<F>(fn));
}

}  // namespace callwall::util
