// util::thread_without_signals: the new thread is named, blocks the signals
// the command's thread handles (SIGINT, SIGTERM, SIGHUP: a process-directed
// one must reach the command's thread, whose blocking read it interrupts),
// and the caller's own signal mask is left as it was.
#include "util/thread_without_signals.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <csignal>
#include <string>

namespace callwall::util {
namespace {

struct Seen {
    std::string name;
    bool blocked[3] = {};
};

TEST(ThreadWithoutSignals, NamedAndBlockingTheCommandsSignalsLeavingTheCallersMask) {
    sigset_t before, after;
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &before), 0);
    ASSERT_EQ(sigismember(&before, SIGINT), 0) << "the test's own thread must take SIGINT for this to show anything";
    Seen seen;
    std::thread t = thread_without_signals("callwall-test", [&seen] {
        char name[32] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        seen.name = name;
        sigset_t mine;
        pthread_sigmask(SIG_BLOCK, nullptr, &mine);
        int i = 0;
        for (const int s : {SIGINT, SIGTERM, SIGHUP}) seen.blocked[i++] = sigismember(&mine, s) == 1;
    });
    t.join();
    EXPECT_EQ(seen.name, "callwall-test");
    EXPECT_TRUE(seen.blocked[0]) << "SIGINT";
    EXPECT_TRUE(seen.blocked[1]) << "SIGTERM";
    EXPECT_TRUE(seen.blocked[2]) << "SIGHUP";
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &after), 0);
    for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1})
        EXPECT_EQ(sigismember(&after, s), sigismember(&before, s)) << s;
}

TEST(ThreadWithoutSignals, ANameTooLongForLinuxLeavesTheThreadRunning) {
    bool ran = false;
    std::thread t = thread_without_signals("callwall-a-name-longer-than-fifteen", [&ran] { ran = true; });
    t.join();
    EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace callwall::util
