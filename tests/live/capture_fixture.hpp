// What the live capture tests' fixtures share: two network namespaces joined
// by a veth pair with an IPv4 address at each end (skipping the test where
// namespaces cannot be made), the processes a test started (killed and
// reaped when it ends), and waiting for a capture's run row.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "golden/run_util.hpp"
#include "live/netns.hpp"

namespace callwall::test {

class NamespacePairTest : public ::testing::Test {
protected:
    /// Makes the pair (VethPair::make) and gives A `a_cidr` and B `b_cidr`.
    /// Skips the test without root or where namespaces cannot be made;
    /// callers return when IsSkipped() or HasFatalFailure().
    void make_pair(const std::string& ns_prefix, const std::string& if_prefix, const std::string& a_cidr,
                   const std::string& b_cidr) {
        if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
        const std::string why = net_.make(ns_prefix, if_prefix);
        if (net_.skipped()) GTEST_SKIP() << why;
        ASSERT_EQ(why, "");
        ASSERT_TRUE(VethPair::add_address(net_.ns_a, net_.veth_a, a_cidr));
        ASSERT_TRUE(VethPair::add_address(net_.ns_b, net_.veth_b, b_cidr));
    }
    void TearDown() override {
        for (pid_t p : pids_)
            if (p > 0) {
                kill(p, SIGKILL);
                waitpid(p, nullptr, 0);
            }
    }
    VethPair net_;  // removed after the processes are stopped (TearDown)
    std::vector<pid_t> pids_;
};

/// True once the database at `db` holds a run row (the capture has opened its
/// interfaces and its database); polled every 100 ms for at most `limit`.
inline bool wait_for_run(const std::string& db, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    for (auto waited = std::chrono::milliseconds(0); waited < limit; waited += std::chrono::milliseconds(100)) {
        if (run_count(db) > 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return run_count(db) > 0;
}

}  // namespace callwall::test
