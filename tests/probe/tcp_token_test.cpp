// The reflector's token over TCP (probe/wire.hpp): the challenge a probe's
// first bytes carry, the record that answers it, and the sender's reading of
// what came back — on loopback, against the real reflector (with the probe's
// key and with another), a listener that accepts and stays silent, and one
// that answers a ClientHello the way a TLS-intercepting proxy does.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "proto/tls.hpp"
#include "probe/loopback.hpp"
#include "probe/reflector.hpp"
#include "probe/sender.hpp"
#include "probe/wire.hpp"

namespace callwall::probe {
namespace {

using namespace std::chrono_literals;

TEST(ProbeTcpToken, ClientHelloRandomIsTheChallengeAndTheRecordAnswersIt) {
    const Challenge sent = new_challenge("K1", 443);
    const auto hello = client_hello("turnserver.appearin.net", &sent);
    Challenge c{};
    ASSERT_EQ(read_tcp_challenge(ByteView(hello), c), ChallengeRead::Found);
    EXPECT_EQ(c, sent);
    // The random is the ClientHello's own, as our TLS decoder reads the record.
    ASSERT_TRUE(proto::tls::decode_record_stream(ByteView(hello)));
    EXPECT_TRUE(std::equal(c.begin(), c.end(), hello.begin() + 11));
    // It proves the key for the port it was sent to, and nothing else.
    EXPECT_TRUE(auth_valid("K1", AuthScope::Tcp, 443, ByteView(), c));
    EXPECT_FALSE(auth_valid("K1", AuthScope::Tcp, 8443, ByteView(), c));
    EXPECT_FALSE(auth_valid("K2", AuthScope::Tcp, 443, ByteView(), c));
    const auto rec = tcp_token_record("K1", c);
    ASSERT_EQ(rec.size(), kTcpAnswerSize);
    EXPECT_LE(rec.size(), hello.size());
    EXPECT_EQ(rec[0], 23) << "a TLS application_data record";
    EXPECT_EQ(read_tcp_answer(ByteView(rec), "K1", c), TcpAnswer::Valid);
    EXPECT_EQ(read_tcp_answer(ByteView(rec), "K2", c), TcpAnswer::WrongToken);
    Challenge other = c;
    other[31] ^= 1;
    EXPECT_EQ(read_tcp_answer(ByteView(rec), "K1", other), TcpAnswer::WrongToken);
    // Arriving in pieces: every prefix asks for more.
    for (size_t n = 0; n < rec.size(); ++n)
        EXPECT_EQ(read_tcp_answer(ByteView(rec.data(), n), "K1", c), TcpAnswer::NeedMore) << n;
    // Part of a ClientHello is not enough to answer yet.
    EXPECT_EQ(read_tcp_challenge(ByteView(hello.data(), 20), c), ChallengeRead::NeedMore);
    // Without a challenge given, the random is random.
    EXPECT_NE(client_hello_random(ByteView(client_hello("x.example.com"))), std::optional<Challenge>(sent));
}

TEST(ProbeTcpToken, PlainProbesSendAChallengeMessageAndOtherBytesAreNotOurs) {
    const Challenge c = new_challenge("K1", 5000);
    const auto msg = tcp_challenge_message(c);
    // No larger answer than the message that asked for it.
    EXPECT_EQ(msg.size(), kTcpChallengeMessageSize);
    EXPECT_GE(msg.size(), kTcpAnswerSize);
    Challenge got{};
    ASSERT_EQ(read_tcp_challenge(ByteView(msg), got), ChallengeRead::Found);
    EXPECT_EQ(got, c);
    EXPECT_EQ(read_tcp_challenge(ByteView(msg.data(), 2), got), ChallengeRead::NeedMore);
    const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(read_tcp_challenge(ByteView(reinterpret_cast<const uint8_t*>(http.data()), http.size()), got),
              ChallengeRead::NotOurs);
    // A handshake record that is not a ClientHello (a ServerHello, type 2).
    std::vector<uint8_t> server_hello(64, 0);
    server_hello[0] = 22;
    server_hello[1] = 3;
    server_hello[5] = 2;
    EXPECT_EQ(read_tcp_challenge(ByteView(server_hello), got), ChallengeRead::NotOurs);
    // What a TLS proxy sends back instead of the token: not a token.
    EXPECT_EQ(read_tcp_answer(ByteView(server_hello), "K1", c), TcpAnswer::Other);
    const std::vector<uint8_t> alert{21, 3, 3, 0, 2, 2, 40};
    EXPECT_EQ(read_tcp_answer(ByteView(alert), "K1", c), TcpAnswer::Other);
}

// A listener on loopback that accepts every connection and, with
// `server_hello`, answers the first bytes with a TLS handshake record (a
// TLS-intercepting proxy's ServerHello); without, stays silent (a proxy that
// holds the connection). Runs until stopped; bounded by `limit`.
class FakeMiddlebox {
public:
    FakeMiddlebox(uint16_t port, bool server_hello) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0;
        thread_ = std::thread([this, server_hello] { serve(server_hello); });
    }
    ~FakeMiddlebox() {
        stop_ = true;
        thread_.join();
        for (const int c : clients_) ::close(c);
        ::close(fd_);
    }
    [[nodiscard]] bool ok() const { return ok_; }

private:
    void serve(bool server_hello) {
        const auto end = std::chrono::steady_clock::now() + 20s;
        while (!stop_ && std::chrono::steady_clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            clients_.push_back(c);
            if (!server_hello) continue;
            uint8_t buf[2048];
            if (::recv(c, buf, sizeof buf, 0) <= 0) continue;
            std::vector<uint8_t> sh(64, 0);  // a handshake record holding a ServerHello
            sh[0] = 22;
            sh[1] = 3;
            sh[2] = 3;
            sh[4] = 59;
            sh[5] = 2;
            (void)::send(c, sh.data(), sh.size(), MSG_NOSIGNAL);
        }
    }
    int fd_ = -1;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::vector<int> clients_;
    std::thread thread_;
};

using loopback::free_port;
using LoopbackReflector = loopback::Reflector;

std::vector<ProbeResult> probe_port(uint16_t port, const std::string& key) {
    return loopback::send_each(port, key, {ProbeKind::Tls, ProbeKind::Tcp}, "whereby.turn.tcp",
                               "turnserver.appearin.net");
}

TEST(ProbeTcpToken, TheReflectorsTokenShowsTheWayOpen) {
    const uint16_t port = free_port();
    LoopbackReflector reflector("127.0.0.1", port, "K1");
    const auto r = probe_port(port, "K1");
    ASSERT_EQ(r.size(), 2u);
    for (const auto& x : r) {
        EXPECT_EQ(x.seen, "connected") << x.detail;
        EXPECT_FALSE(x.intercepted) << x.detail;
    }
    EXPECT_NE(r[0].detail.find("token answered the ClientHello"), std::string::npos) << r[0].detail;
    EXPECT_NE(r[1].detail.find("reflector token valid"), std::string::npos) << r[1].detail;
}

TEST(ProbeTcpToken, AnotherKeysReflectorAnswersNothingAndIsIntercepted) {
    // A reflector with another key refuses the challenge and stays silent:
    // the connection ended before the reflector the probe trusts.
    const uint16_t port = free_port();
    LoopbackReflector other("127.0.0.1", port, "NOT-K1");
    for (const auto& x : probe_port(port, "K1")) {
        EXPECT_EQ(x.seen, "intercepted") << x.detail;
        EXPECT_TRUE(x.intercepted);
        EXPECT_NE(x.detail.find("no reflector token in 1.5 s"), std::string::npos) << x.detail;
    }
}

TEST(ProbeTcpToken, AReflectorNeverSignsBytesTheClientChose) {
    // The challenge message's shape with 32 bytes of the client's choosing:
    // before, the reflector sent back HMAC(key, those bytes).
    const uint16_t port = free_port();
    LoopbackReflector reflector("127.0.0.1", port, "K1");
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    SockAddr to = *parse_address("127.0.0.1", port);
    ASSERT_EQ(::connect(s, to.get(), to.len), 0);
    Challenge chosen{};
    chosen.fill(0x41);
    const auto msg = tcp_challenge_message(chosen);
    ASSERT_EQ(::send(s, msg.data(), msg.size(), MSG_NOSIGNAL), static_cast<ssize_t>(msg.size()));
    // Nothing comes back; the reflector closes after holding it (kTcpHoldS).
    pollfd p{s, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 4000), 1) << "the reflector never closed";
    uint8_t buf[128];
    EXPECT_EQ(::recv(s, buf, sizeof buf, 0), 0) << "closed without a byte";
    ::close(s);
}

TEST(ProbeTcpToken, ASilentAcceptorIsInterceptedNotOpen) {
    // A transparent proxy that completes every handshake and holds the
    // connection: before the token, such a probe read "connected".
    const uint16_t port = free_port();
    FakeMiddlebox box(port, false);
    ASSERT_TRUE(box.ok());
    for (const auto& x : probe_port(port, "K1")) {
        EXPECT_EQ(x.seen, "intercepted") << x.detail;
        EXPECT_NE(x.detail.find("no reflector token in 1.5 s"), std::string::npos) << x.detail;
    }
    // Without a key nothing is asked of the server: the old reading stands.
    const auto plain = probe_port(port, "");
    EXPECT_EQ(plain[1].seen, "connected");
    EXPECT_FALSE(plain[1].intercepted);
}

TEST(ProbeTcpToken, ATlsProxysServerHelloIsIntercepted) {
    const uint16_t port = free_port();
    FakeMiddlebox box(port, true);
    ASSERT_TRUE(box.ok());
    const auto r = probe_port(port, "K1");
    EXPECT_EQ(r[0].seen, "intercepted") << r[0].detail;
    EXPECT_NE(r[0].detail.find("a TLS handshake the reflector never sends"), std::string::npos) << r[0].detail;
    EXPECT_NE(r[0].detail.find("SNI turnserver.appearin.net"), std::string::npos) << r[0].detail;
}

}  // namespace
}  // namespace callwall::probe
