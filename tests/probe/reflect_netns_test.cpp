// `callwall reflect --nft` as an attacker on the internet meets it, in two
// network namespaces this test creates (a client with a second "victim"
// address, and the reflector's host): unauthenticated, spoofed, replayed
// and wrong-key STUN get no answer, authenticated probes get answers no
// larger than their requests, and over the whole test no more bytes come
// back than were sent. A TCP client that sends 32 bytes of its choosing gets
// no MAC over them. SYNs forged from an address that never answers get one
// SYN-ACK each, never the kernel's retransmissions. The reflector runs as nobody with no capabilities once
// it answers, its redirect table dies with it (kill -9 included), it leaves
// a service of its host alone, and a wildcard address works.
// Skipped (with the reason) where namespaces cannot be created.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "golden/run_util.hpp"
#include "live/netns.hpp"
#include "live/spawn.hpp"
#include "probe/address.hpp"
#include "probe/wire.hpp"

namespace callwall::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kClientAddr = "10.204.1.1";
constexpr const char* kVictimAddr = "10.204.1.3";
constexpr const char* kReflectorAddr = "10.204.1.2";

// A datagram socket in namespace `ns` bound to `addr` (any port).
int udp_socket_in(const std::string& ns, const std::string& addr) {
    int fd = -1;
    std::string why;
    open_in_netns(
        ns,
        [&] {
            fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            const auto a = probe::parse_address(addr, 0);
            if (fd >= 0 && ::bind(fd, a->get(), a->len) != 0) {
                ::close(fd);
                fd = -1;
            }
        },
        why);
    return fd;
}

// Everything that arrives on `fd` within `wait`: the datagrams' sizes.
std::vector<size_t> drain(int fd, std::chrono::milliseconds wait) {
    std::vector<size_t> got;
    const auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end && got.size() < 100000) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        uint8_t buf[2048];
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) got.push_back(static_cast<size_t>(n));
    }
    return got;
}

class ReflectNetns : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
        if (!std::filesystem::exists("/usr/sbin/nft") && !std::filesystem::exists("/sbin/nft"))
            GTEST_SKIP() << "nft is missing";
        const std::string err = pair_.make("cwr", "cwr");
        if (pair_.skipped()) GTEST_SKIP() << err;
        ASSERT_EQ(err, "");
        ASSERT_TRUE(VethPair::add_address(pair_.ns_a, pair_.veth_a, std::string(kClientAddr) + "/24"));
        ASSERT_TRUE(VethPair::add_address(pair_.ns_a, pair_.veth_a, std::string(kVictimAddr) + "/24"));
        ASSERT_TRUE(VethPair::add_address(pair_.ns_b, pair_.veth_b, std::string(kReflectorAddr) + "/24"));
        const std::string tag = std::to_string(getpid() % 100000);
        key_file_ = "/tmp/callwall-reflect-netns-" + tag + ".key";
        std::ofstream(key_file_) << "K1\n";
        std::filesystem::permissions(key_file_,
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        log_ = "/tmp/callwall-reflect-netns-" + tag + ".log";
    }
    void TearDown() override {
        for (pid_t p : pids_)
            if (p > 0 && ::kill(p, 0) == 0) {
                ::kill(p, SIGTERM);
                if (wait_for(p, 3s) != 0) ADD_FAILURE() << "reflector " << p << " did not stop on SIGTERM";
            }
        std::filesystem::remove(key_file_);
        std::filesystem::remove(log_);
    }
    // Starts `callwall reflect` in the reflector's namespace; its PID once
    // it says it answers.
    pid_t reflect(const std::vector<std::string>& extra) {
        std::vector<std::string> args{"ip",      "netns",      "exec",    pair_.ns_b, CALLWALL_BINARY,
                                      "reflect", "--key-file", key_file_, "--nft",    "--duration",
                                      "60"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::filesystem::remove(log_);
        const pid_t pid = spawn(args, log_);
        pids_.push_back(pid);
        for (int i = 0; i < 50; ++i) {
            std::this_thread::sleep_for(100ms);
            if (read_file(log_).find("answering on") != std::string::npos) return pid;
        }
        ADD_FAILURE() << "the reflector did not start: " << read_file(log_);
        return -1;
    }
    // What `nft list tables` shows in the reflector's namespace.
    std::string tables() {
        const std::string out = log_ + ".nft";
        run({"ip", "netns", "exec", pair_.ns_b, "nft", "list", "tables"}, 10s, out);
        const std::string t = read_file(out);
        std::filesystem::remove(out);
        return t;
    }
    VethPair pair_;
    std::string key_file_, log_;
    std::vector<pid_t> pids_;
};

TEST_F(ReflectNetns, NoAnswerToTheUnauthenticatedAndNoAmplification) {
    const pid_t pid = reflect({"--listen", kReflectorAddr, "--udp", "1024-65535", "--tcp", "1024-65535"});
    ASSERT_GT(pid, 0);
    // Once it answers: not root, no capability.
    const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    const size_t uid = status.find("\nUid:\t");
    ASSERT_NE(uid, std::string::npos) << status;
    EXPECT_NE(status.substr(uid + 6, 2), "0\t") << "still root: " << status.substr(uid, 40);
    EXPECT_NE(status.find("\nCapEff:\t0000000000000000\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nCapPrm:\t0000000000000000\n"), std::string::npos) << status;
    EXPECT_NE(tables().find("callwall_reflect_30999"), std::string::npos);

    const int client = udp_socket_in(pair_.ns_a, kClientAddr);
    const int victim = udp_socket_in(pair_.ns_a, kVictimAddr);
    ASSERT_GE(client, 0);
    ASSERT_GE(victim, 0);
    size_t bytes_in = 0, bytes_out = 0;
    const auto send_to = [&](int fd, const std::vector<uint8_t>& m, uint16_t port) {
        const auto to = probe::parse_address(kReflectorAddr, port);
        if (::sendto(fd, m.data(), m.size(), 0, to->get(), to->len) == static_cast<ssize_t>(m.size()))
            bytes_in += m.size();
    };
    const auto answers = [&](int fd) {
        const auto got = drain(fd, 700ms);
        for (size_t n : got) bytes_out += n;
        return got;
    };

    // 300 bare 20-byte Binding requests, as an amplification attack sends them.
    for (int i = 0; i < 300; ++i) {
        std::vector<uint8_t> bare = probe::stun_request(probe::new_transaction_id(), false);
        bare.resize(20);
        bare[2] = bare[3] = 0;
        send_to(client, bare, static_cast<uint16_t>(40000 + i));
    }
    EXPECT_TRUE(answers(client).empty());
    // From the victim's address: unauthenticated Allocates (a 401 was 6.8x
    // its request), and requests under another key.
    for (int i = 0; i < 100; ++i) {
        send_to(victim, probe::stun_request(probe::new_transaction_id(), true), 3478);
        send_to(victim, probe::stun_request(probe::new_transaction_id(), i % 2, "NOT-K1", 3478), 3478);
    }
    EXPECT_TRUE(answers(victim).empty());

    // Authenticated probes: each answered, never with more than it sent.
    std::vector<std::vector<uint8_t>> sent;
    for (int i = 0; i < 100; ++i) {
        const uint16_t port = static_cast<uint16_t>(20000 + i);
        sent.push_back(probe::stun_request(probe::new_transaction_id(), i % 2, "K1", port));
        send_to(client, sent.back(), port);
    }
    const auto good = answers(client);
    EXPECT_EQ(good.size(), sent.size());
    for (size_t n : good) EXPECT_LE(n, probe::kAuthRequestSize);
    // The same requests again, from the client and from the victim's
    // address (a copy seen on the path, sent with a spoofed source).
    for (size_t i = 0; i < sent.size(); ++i) {
        send_to(client, sent[i], static_cast<uint16_t>(20000 + i));
        send_to(victim, sent[i], static_cast<uint16_t>(20000 + i));
    }
    EXPECT_TRUE(answers(client).empty());
    EXPECT_TRUE(answers(victim).empty());
    EXPECT_LE(bytes_out, bytes_in) << "more bytes came back than were sent";
    EXPECT_GT(bytes_out, 0u);
    ::close(client);
    ::close(victim);

    // TCP: a challenge message holding 32 bytes of the client's choosing
    // gets no MAC over them: nothing comes back before the reflector closes.
    int tcp = -1;
    std::string why;
    ASSERT_TRUE(open_in_netns(
        pair_.ns_a, [&] { tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }, why))
        << why;
    const auto to = probe::parse_address(kReflectorAddr, 40001);
    ASSERT_EQ(::connect(tcp, to->get(), to->len), 0);
    probe::Challenge chosen{};
    chosen.fill(0x41);
    const auto msg = probe::tcp_challenge_message(chosen);
    ASSERT_EQ(::send(tcp, msg.data(), msg.size(), MSG_NOSIGNAL), static_cast<ssize_t>(msg.size()));
    pollfd p{tcp, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 4000), 1);
    uint8_t buf[64];
    EXPECT_EQ(::recv(tcp, buf, sizeof buf, 0), 0);
    ::close(tcp);

    // What it refused, said when it stops (and once a minute while it runs).
    ::kill(pid, SIGTERM);
    ASSERT_EQ(wait_for(pid, 5s), 0);
    const std::string log = read_file(log_);
    // 300 bare requests and 100 Allocates without a proof (as many as the
    // reflector's socket took of that burst), 100 under another key and the
    // TCP challenge of the client's own bytes, 200 copies.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(log, m,
                                  std::regex("answered 100; refused [0-9]+: ([0-9]+) unauthenticated, ([0-9]+) wrong "
                                             "key or forged, 200 replayed\n")))
        << log;
    EXPECT_GT(std::stoi(m[1]), 0);
    EXPECT_LE(std::stoi(m[1]), 400);
    EXPECT_GT(std::stoi(m[2]), 1);
    EXPECT_LE(std::stoi(m[2]), 101);
    EXPECT_EQ(tables().find("callwall_reflect_30999"), std::string::npos) << "the table outlived the reflector";
}

// A TCP SYN with the options a Linux client sends (MSS, SACK permitted,
// timestamps, window scale: 40 bytes of header), checksummed for
// `src` -> `dst`; sent on a raw socket, so the sender's own stack never sees
// the answer and never answers it.
std::vector<uint8_t> forged_syn(const uint8_t src[4], const uint8_t dst[4], uint16_t sport, uint16_t dport,
                                uint32_t seq) {
    std::vector<uint8_t> h = {
        static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport), static_cast<uint8_t>(dport >> 8),
        static_cast<uint8_t>(dport), static_cast<uint8_t>(seq >> 24), static_cast<uint8_t>(seq >> 16),
        static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 0, 1, 3, 3, 7};
    uint32_t sum = 0;
    const auto add = [&](const uint8_t* b, size_t n) {
        for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(b[i] << 8 | b[i + 1]);
    };
    const uint8_t pseudo[4] = {0, 6, 0, static_cast<uint8_t>(h.size())};
    add(src, 4);
    add(dst, 4);
    add(pseudo, 4);
    add(h.data(), h.size());
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const uint16_t c = static_cast<uint16_t>(~sum);
    h[16] = static_cast<uint8_t>(c >> 8);
    h[17] = static_cast<uint8_t>(c);
    return h;
}

// The packets and bytes an nft counter line holds ("counter packets 50 bytes 3000").
std::pair<uint64_t, uint64_t> counter_of(const std::string& listing, const std::string& rule_part) {
    const size_t at = listing.find(rule_part);
    if (at == std::string::npos) return {0, 0};
    std::smatch m;
    const std::string rest = listing.substr(at);
    if (!std::regex_search(rest, m, std::regex("counter packets ([0-9]+) bytes ([0-9]+)"))) return {0, 0};
    return {std::stoull(m[1]), std::stoull(m[2])};
}

TEST_F(ReflectNetns, SpoofedSynsGetOneSynAckEachAndNoMoreBytes) {
    const pid_t pid = reflect({"--listen", kReflectorAddr, "--tcp", "1024-65535"});
    ASSERT_GT(pid, 0);
    // The victim's namespace counts the SYNs it sends and the SYN-ACKs that
    // come back, and drops those: a victim whose address was forged never
    // answers, so the reflector's kernel keeps retransmitting if it may.
    const std::string rules = log_ + ".victim.nft";
    std::ofstream(rules) << "table ip victim {\n"
                            "  chain in {\n    type filter hook input priority filter;\n"
                            "    ip saddr "
                         << kReflectorAddr
                         << " tcp flags & (syn | ack) == syn | ack counter drop\n  }\n"
                            "  chain out {\n    type filter hook output priority filter;\n"
                            "    ip daddr "
                         << kReflectorAddr << " tcp flags & (syn | ack) == syn counter\n  }\n}\n";
    ASSERT_EQ(run({"ip", "netns", "exec", pair_.ns_a, "nft", "-f", rules}, 10s, log_ + ".nft-out"), 0)
        << read_file(log_ + ".nft-out");
    int raw = -1;
    std::string why;
    ASSERT_TRUE(open_in_netns(
        pair_.ns_a,
        [&] {
            raw = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
            const auto a = probe::parse_address(kVictimAddr, 0);
            if (raw >= 0 && ::bind(raw, a->get(), a->len) != 0) {
                ::close(raw);
                raw = -1;
            }
        },
        why))
        << why;
    ASSERT_GE(raw, 0);
    const uint8_t victim[4] = {10, 204, 1, 3}, reflector[4] = {10, 204, 1, 2};
    constexpr int kSyns = 50;
    for (int i = 0; i < kSyns; ++i) {
        const uint16_t dport = static_cast<uint16_t>(1024 + 1289 * i);  // spread over the range
        const auto syn = forged_syn(victim, reflector, static_cast<uint16_t>(33000 + i), dport, 0x1000u * (i + 1));
        const auto to = probe::parse_address(kReflectorAddr, 0);
        ASSERT_EQ(::sendto(raw, syn.data(), syn.size(), 0, to->get(), to->len), static_cast<ssize_t>(syn.size()));
    }
    ::close(raw);
    // Linux retransmits a SYN-ACK after 1 s and 3 s (then 7, 15, 31):
    // 4.5 s shows the first two rounds, when they are sent.
    std::this_thread::sleep_for(4500ms);
    const std::string listing_file = log_ + ".victim-list";
    ASSERT_EQ(run({"ip", "netns", "exec", pair_.ns_a, "nft", "list", "table", "ip", "victim"}, 10s, listing_file), 0);
    const std::string listing = read_file(listing_file);
    const auto [syns, bytes_in] = counter_of(listing, "tcp flags syn / syn,ack");
    const auto [synacks, bytes_out] = counter_of(listing, "tcp flags syn,ack / syn,ack");
    std::filesystem::remove(rules);
    std::filesystem::remove(listing_file);
    std::filesystem::remove(log_ + ".nft-out");
    EXPECT_EQ(syns, uint64_t{kSyns}) << listing;
    EXPECT_GT(synacks, 0u) << "the reflector answered no SYN at all: " << listing;
    EXPECT_LE(synacks, syns) << listing;
    EXPECT_LE(bytes_out, bytes_in) << "more bytes came back than the forged SYNs carried: " << listing;
}

TEST_F(ReflectNetns, TheTableDiesWithAKilledReflector) {
    const pid_t pid = reflect({"--listen", kReflectorAddr, "--udp", "3478", "--port", "30997"});
    ASSERT_GT(pid, 0);
    EXPECT_NE(tables().find("callwall_reflect_30997"), std::string::npos);
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    bool gone = false;
    for (int i = 0; i < 20 && !gone; ++i) {
        std::this_thread::sleep_for(100ms);
        gone = tables().find("callwall_reflect_30997") == std::string::npos;
    }
    EXPECT_TRUE(gone) << tables();
}

TEST_F(ReflectNetns, AServiceOfTheHostIsLeftAloneAndAWildcardAddressWorks) {
    // A service of the reflector's host (its ssh, say) on TCP 2222.
    int service = -1;
    std::string why;
    ASSERT_TRUE(open_in_netns(
        pair_.ns_b,
        [&] {
            service = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const auto a = probe::parse_address("0.0.0.0", 2222);
            const int one = 1;
            ::setsockopt(service, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (::bind(service, a->get(), a->len) != 0 || ::listen(service, 4) != 0) service = -1;
        },
        why))
        << why;
    ASSERT_GE(service, 0);
    const pid_t pid = reflect({"--listen", "0.0.0.0", "--tcp", "1-65535", "--udp", "50000-50010"});
    ASSERT_GT(pid, 0);
    EXPECT_NE(read_file(log_).find("tcp port 2222 left alone"), std::string::npos) << read_file(log_);
    // A connection to 2222 reaches the service, not the reflector.
    int c = -1;
    ASSERT_TRUE(open_in_netns(
        pair_.ns_a, [&] { c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }, why));
    const auto to = probe::parse_address(kReflectorAddr, 2222);
    ASSERT_EQ(::connect(c, to->get(), to->len), 0);
    pollfd p{service, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 2000), 1) << "the service never saw the connection";
    ::close(c);
    ::close(service);
    // The wildcard address: an authenticated probe to any port of the range
    // is answered from that port.
    const int u = udp_socket_in(pair_.ns_a, kClientAddr);
    ASSERT_GE(u, 0);
    const auto req = probe::stun_request(probe::new_transaction_id(), false, "K1", 50005);
    const auto dst = probe::parse_address(kReflectorAddr, 50005);
    ASSERT_EQ(::sendto(u, req.data(), req.size(), 0, dst->get(), dst->len), static_cast<ssize_t>(req.size()));
    pollfd q{u, POLLIN, 0};
    ASSERT_EQ(::poll(&q, 1, 2000), 1) << read_file(log_);
    probe::SockAddr from;
    socklen_t len = sizeof from.ss;
    uint8_t buf[256];
    EXPECT_GT(::recvfrom(u, buf, sizeof buf, 0, from.get(), &len), 0);
    EXPECT_EQ(from.port(), 50005);
    ::close(u);
}

}  // namespace
}  // namespace callwall::test
