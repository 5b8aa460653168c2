// A thread of callwall's own that takes none of the signals the command's
// thread handles, named for top -H, perf and gdb. A process-directed signal
// (Ctrl-C's SIGINT, SIGTERM, a capture's SIGHUP) goes to any thread that
// does not block it; callwall's loops look at the flags their handlers set
// on the thread that runs them (and a blocking read there must return with
// EINTR), so every other thread blocks those signals. Every helper thread
// is started here: the capture file's reader (capture/read_ahead.*), the
// live reader (capture/live_reader.*), the store's writer
// (store/write_behind.*), attribution's page reader and checkpointer
// (store/flow_pages.*, store/checkpoint_ahead.*), the decoding workers
// (run/shards/shards.*), the probe's capture (probe/capture.*), the
// populater of fresh memory (util/populate_behind.*) and the catalog
// loader's second parser (catalog/loader.cpp).
#pragma once

#include <pthread.h>

#include <csignal>
#include <string>
#include <thread>
#include <utility>

namespace callwall::util {

/// Runs `fn` on a new thread named `name` (at most 15 characters: Linux's
/// bound) with SIGINT, SIGTERM and SIGHUP blocked there; the caller's signal
/// mask is as before whether or not the thread started. Throws
/// std::system_error as std::thread does.
template <class F>
std::thread thread_without_signals(std::string name, F&& fn) {
    sigset_t block, old;
    sigemptyset(&block);
    for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&block, s);
    pthread_sigmask(SIG_BLOCK, &block, &old);  // the new thread inherits the mask
    struct Restore {
        const sigset_t* old;
        ~Restore() { pthread_sigmask(SIG_SETMASK, old, nullptr); }
    } restore{&old};
    return std::thread([name = std::move(name), fn = std::forward<F>(fn)]() mutable {
        pthread_setname_np(pthread_self(), name.c_str());  // fails only on a name too long: then the thread is unnamed
        fn();
    });
}

}  // namespace callwall::util
