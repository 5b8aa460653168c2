// The live view on a real terminal: `callwall capture` draws its screen on a
// pseudo-terminal this test opens, while the frames of
// captures/field/terminal_names.pcap (server names carrying every C0 control
// byte, DEL, C1 bytes, 0xff, a bidirectional override, CR LF, a window-title
// and a clear-screen sequence) cross a veth pair between two namespaces the
// test creates. Apart from the view's own "home and clear" sequence, what
// reaches the terminal holds no control byte but the newline and is valid
// UTF-8; the names are shown escaped. Skipped (with the reason) where
// namespaces cannot be created.
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "live/capture_fixture.hpp"
#include "live/spawn.hpp"
#include "util/terminal_text.hpp"

namespace callwall::test {
namespace {

using namespace std::chrono_literals;

// The frames of a little-endian microsecond pcap file (as the generators write them).
std::vector<std::string> pcap_frames(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> frames;
    const auto u32 = [&](size_t at) {
        return static_cast<uint32_t>(static_cast<unsigned char>(data[at])) |
               static_cast<uint32_t>(static_cast<unsigned char>(data[at + 1])) << 8 |
               static_cast<uint32_t>(static_cast<unsigned char>(data[at + 2])) << 16 |
               static_cast<uint32_t>(static_cast<unsigned char>(data[at + 3])) << 24;
    };
    if (data.size() < 24 || u32(0) != 0xa1b2c3d4) return frames;
    for (size_t at = 24; at + 16 <= data.size() && frames.size() < 100000;) {
        const uint32_t len = u32(at + 8);
        if (at + 16 + len > data.size()) break;
        frames.push_back(data.substr(at + 16, len));
        at += 16 + len;
    }
    return frames;
}

class LiveViewPty : public NamespacePairTest {
protected:
    void SetUp() override {
        make_pair("cwv", "cwv", "10.198.0.1/24", "10.198.0.2/24");
        if (IsSkipped() || HasFatalFailure()) return;
        pcap_ = source_dir() + "/captures/field/terminal_names.pcap";
        ASSERT_TRUE(std::filesystem::exists(pcap_));
        db_ = "/tmp/callwall-live-view-" + std::to_string(getpid()) + ".sqlite";
    }
    void TearDown() override {
        NamespacePairTest::TearDown();
        for (const char* s : {"", "-wal", "-shm", "-callwall-reserve"}) std::filesystem::remove(db_ + s);
    }
    std::string pcap_, db_;
};

TEST_F(LiveViewPty, HostileNamesReachTheTerminalEscaped) {
    const auto frames = pcap_frames(pcap_);
    ASSERT_GT(frames.size(), 100u);
    // The capture on a pseudo-terminal 220 columns wide, output bytes as
    // written (no CR added to each newline).
    int master = -1;
    winsize ws{};
    ws.ws_row = 60;
    ws.ws_col = 220;
    termios tio{};
    cfmakeraw(&tio);
    const pid_t pid = forkpty(&master, nullptr, &tio, &ws);
    ASSERT_GE(pid, 0) << "forkpty: " << std::strerror(errno);
    if (pid == 0) {
        const std::string bin = CALLWALL_BINARY;
        execlp("ip", "ip", "netns", "exec", net_.ns_b.c_str(), bin.c_str(), "capture", "-i", net_.veth_b.c_str(),
               "--db", db_.c_str(), "--refresh", "1", "--duration", "40", "--vendor", "whereby", nullptr);
        _exit(127);
    }
    pids_.push_back(pid);
    std::string screen;
    const auto drain = [&](std::chrono::milliseconds for_) {
        const auto end = std::chrono::steady_clock::now() + for_;
        while (std::chrono::steady_clock::now() < end && screen.size() < (64u << 20)) {
            pollfd p{master, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buf[8192];
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) break;
            screen.append(buf, static_cast<size_t>(n));
        }
    };
    for (int i = 0; i < 100 && run_count(db_) == 0; ++i) drain(100ms);
    ASSERT_GT(run_count(db_), 0) << "the capture never started: " << util::terminal_text(screen);
    // The frames, sent as they are from the other end of the pair.
    int out = -1;
    std::string why;
    ASSERT_TRUE(open_in_netns(
        net_.ns_a, [&] { out = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); }, why))
        << why;
    ASSERT_GE(out, 0);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    std::string ifindex_why;
    open_in_netns(
        net_.ns_a, [&] { to.sll_ifindex = static_cast<int>(if_nametoindex(net_.veth_a.c_str())); }, ifindex_why);
    to.sll_halen = 6;
    ASSERT_GT(to.sll_ifindex, 0);
    for (const std::string& f : frames) {
        ASSERT_EQ(::sendto(out, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
                  static_cast<ssize_t>(f.size()));
        if ((&f - frames.data()) % 50 == 0) drain(1ms);
    }
    ::close(out);
    // Until the view shows the signaling entry's evidence (a refresh a second).
    for (int i = 0; i < 100 && screen.find(".srv.whereby.com") == std::string::npos; ++i) drain(100ms);
    drain(1500ms);
    ::kill(pid, SIGINT);
    drain(3s);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) drain(100ms);
    ::close(master);

    ASSERT_NE(screen.find(".srv.whereby.com"), std::string::npos)
        << "the view never showed a name: " << util::terminal_text(screen.substr(0, 4000));
    EXPECT_NE(screen.find("\\x"), std::string::npos) << "no escaped name on the screen";
    // The view's own sequence (home, clear) is the only escape; after it is
    // taken out, every line is what a terminal may be given.
    std::string rest = screen;
    for (size_t at; (at = rest.find("\x1b[H\x1b[2J")) != std::string::npos;) rest.erase(at, 7);
    size_t line_start = 0;
    for (size_t i = 0; i < rest.size();) {
        if (rest[i] == '\n') {
            line_start = ++i;
            continue;
        }
        const util::Utf8Step st = util::utf8_step(rest, i);
        ASSERT_TRUE(st.length != 0 && !util::unsafe_on_terminal(st.code_point))
            << "raw byte 0x" << std::hex << static_cast<int>(static_cast<unsigned char>(rest[i])) << std::dec
            << " in the line: " << util::terminal_text(rest.substr(line_start, 200));
        i += st.length;
    }
}

}  // namespace
}  // namespace callwall::test
