// Loopback helpers of the probe tests: a free port, and the reflector's loop
// (`callwall reflect` without nftables: probes go straight to its port) on a
// thread of the test.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "probe/address.hpp"
#include "probe/plan.hpp"
#include "probe/reflector.hpp"
#include "probe/sender.hpp"

namespace callwall::probe::loopback {

/// A loopback port (127.0.0.1, or ::1 for AF_INET6) nothing listens on yet:
/// bound once, then released.
inline uint16_t free_port(int family = AF_INET) {
    SockAddr a = *parse_address(family == AF_INET6 ? "::1" : "127.0.0.1");
    const int s = ::socket(family, SOCK_STREAM, 0);
    socklen_t len = sizeof a.ss;
    EXPECT_EQ(::bind(s, a.get(), a.len), 0);
    EXPECT_EQ(::getsockname(s, a.get(), &len), 0);
    ::close(s);
    return a.port();
}

/// run_reflector answering TCP and UDP on `listen`:`port` with `key`, on a
/// thread, until stop() (or the destructor); bounded by its 20 s duration.
class Reflector {
public:
    Reflector(const std::string& listen, uint16_t port, const std::string& key) {
        o_.listen = listen;
        o_.redirect_port = port;
        o_.tcp = {{port, port}};
        o_.udp = {{port, port}};
        o_.key = key;
        o_.duration_s = 20;
        log_ = std::tmpfile();
        thread_ = std::thread([this] { rc_ = run_reflector(o_, &stop_, log_); });
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ~Reflector() { stop(); }
    Reflector(const Reflector&) = delete;
    Reflector& operator=(const Reflector&) = delete;
    /// Stops the loop and returns what run_reflector returned.
    int stop() {
        if (thread_.joinable()) {
            stop_ = 1;
            thread_.join();
            std::fclose(log_);
        }
        return rc_;
    }

private:
    ReflectOptions o_;
    volatile std::sig_atomic_t stop_ = 0;
    std::FILE* log_ = nullptr;
    int rc_ = -1;
    std::thread thread_;
};

/// One probe of each kind in `kinds` to 127.0.0.1:`port` for `entry` (named
/// `host`), sent with `key` at 100 probes/s; the sender's results, in order.
inline std::vector<ProbeResult> send_each(uint16_t port, const std::string& key, const std::vector<ProbeKind>& kinds,
                                          const std::string& entry, const std::string& host) {
    std::vector<Probe> probes(kinds.size());
    for (size_t i = 0; i < kinds.size(); ++i) {
        probes[i].addr = "127.0.0.1";
        probes[i].port = port;
        probes[i].host = host;
        probes[i].entry_id = entry;
        probes[i].kind = kinds[i];
    }
    SendOptions o;
    o.rate_per_s = 100;
    o.key = key;
    return send_probes(probes, o, nullptr);
}

}  // namespace callwall::probe::loopback
