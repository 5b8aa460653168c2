// A UDP probe that meets an echo service (the lab's stand-in for Agora's own
// UDP protocol answers every datagram with itself): without a reflector the
// way out and back is open ("echoed"); through a reflector an echo cannot be
// the reflector's answer, so something on the path sent it ("intercepted").
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "probe/loopback.hpp"
#include "probe/sender.hpp"

namespace callwall::probe {
namespace {

using namespace std::chrono_literals;

// Echoes every datagram on 127.0.0.1:port until destroyed (bounded: 20 s).
class UdpEcho {
public:
    explicit UdpEcho(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        thread_ = std::thread([this] {
            const auto end = std::chrono::steady_clock::now() + 20s;
            while (!stop_ && std::chrono::steady_clock::now() < end) {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 20) <= 0) continue;
                uint8_t buf[2048];
                sockaddr_storage from{};
                socklen_t len = sizeof from;
                const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
                if (n > 0) (void)::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
            }
        });
    }
    ~UdpEcho() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    UdpEcho(const UdpEcho&) = delete;
    UdpEcho& operator=(const UdpEcho&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }

private:
    int fd_ = -1;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::vector<ProbeResult> probe_udp(uint16_t port, const std::string& key) {
    return loopback::send_each(port, key, {ProbeKind::StunBinding, ProbeKind::TurnAllocate},
                               "agora-2020.rtm-native.udp", "rtm-lab.agora.io");
}

TEST(ProbeUdpEcho, AnEchoIsOutAndBackWithoutAReflector) {
    const uint16_t port = loopback::free_port();
    UdpEcho echo(port);
    ASSERT_TRUE(echo.ok());
    const auto r = probe_udp(port, "");
    ASSERT_EQ(r.size(), 2u);
    for (const auto& x : r) {
        EXPECT_EQ(x.seen, "echoed") << x.detail;  // before: "no-answer", 4 requests, no response
        EXPECT_FALSE(x.intercepted);
        EXPECT_EQ(x.sends, 1u) << "no retransmission once it came back";
    }
}

TEST(ProbeUdpEcho, AnEchoThroughAReflectorIsSomethingOnThePath) {
    const uint16_t port = loopback::free_port();
    UdpEcho echo(port);
    ASSERT_TRUE(echo.ok());
    for (const auto& x : probe_udp(port, "K1")) {
        EXPECT_EQ(x.seen, "intercepted") << x.detail;
        EXPECT_TRUE(x.intercepted);
        EXPECT_NE(x.detail.find("came back unchanged"), std::string::npos) << x.detail;
    }
}

}  // namespace
}  // namespace callwall::probe
