// capture::LiveReader in network namespaces this test creates: while the
// capture loop is busy (a long refresh, simulated by not calling next() for
// the whole burst), the reading thread keeps draining the kernel's ring, so
// a burst several times the kernel buffer is captured whole, with no kernel
// drop — where a second handle on the same interface that nobody reads
// during the burst (what the loop did before the reading thread) drops.
// Skipped (with the reason) where namespaces cannot be created.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "capture/pcap_source.hpp"
#include "decode/packet.hpp"
#include "capture/live_reader.hpp"
#include "live/netns.hpp"
#include "live/spawn.hpp"

namespace callwall::test {
namespace {

using namespace std::chrono_literals;

// Opens a live source on `iface` inside network namespace `ns` (the socket
// stays in that namespace); nullptr when it cannot.
std::unique_ptr<capture::PcapSource> open_in(const std::string& ns, const std::string& iface, int buffer_mb = 1) {
    std::unique_ptr<capture::PcapSource> src;
    std::string why;
    open_in_netns(
        ns,
        [&] {
            capture::LiveOptions o;
            o.interface = iface;
            o.buffer_size_mb = buffer_mb;  // by default the kernel's ring: a seventh of the burst
            o.filter = "udp dst port 9";
            try {
                src = capture::PcapSource::open_live(o);
                src->set_nonblocking();
            } catch (const capture::CaptureError&) {
                src.reset();
            }
        },
        why);
    return src;
}

// A Python program for B that sends one datagram to A's port 8 (so the
// neighbour is resolved before the burst, or the kernel would queue and drop
// its first packets), half a second later `datagrams` to port 9, each with
// its number (4 bytes, big-endian) and `pad` more bytes, `pause_s` seconds
// apart ("0": back to back).
std::string numbered_burst(int datagrams, int pad, const std::string& pause_s) {
    return "import socket, time\n"
           "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
           "s.sendto(b'x', ('10.198.0.1', 8))\n"
           "time.sleep(0.5)\n"
           "for i in range(" +
           std::to_string(datagrams) +
           "):\n"
           "    s.sendto(i.to_bytes(4, 'big') + b'x' * " +
           std::to_string(pad) +
           ", ('10.198.0.1', 9))\n"
           "    if " +
           pause_s + ": time.sleep(" + pause_s + ")\n";
}

class LiveReaderNetns : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
        const std::string why = net_.make("cwr", "cr");
        if (net_.skipped()) GTEST_SKIP() << why;
        ASSERT_EQ(why, "");
        ASSERT_TRUE(VethPair::add_address(ns_a_, veth_a_, "10.198.0.1/24"));
        ASSERT_TRUE(VethPair::add_address(ns_b_, veth_b_, "10.198.0.2/24"));
    }
    /// WideningTheFilter* below: a burst captured on `iface` in B while its filter changes.
    void widen_while_sending(const std::string& iface);
    VethPair net_;
    const std::string &ns_a_ = net_.ns_a, &ns_b_ = net_.ns_b, &veth_a_ = net_.veth_a, &veth_b_ = net_.veth_b;
};

TEST_F(LiveReaderNetns, BurstLargerThanTheKernelRingIsReadWholeWhileTheLoopIsBusy) {
    if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
    // Captured on the sending side: every datagram sent passes the tap
    // before the veth, so what was sent is what a lossless capture holds.
    auto read = open_in(ns_b_, veth_b_);
    auto unread = open_in(ns_b_, veth_b_);
    ASSERT_TRUE(read && unread) << "cannot open a live capture on " << veth_b_ << " in " << ns_b_;
    capture::LiveReader reader({read.get()});
    // 4000 datagrams of 1242 bytes (5 MB) against a 1 MB kernel ring (about
    // 500 frame slots), paced at about 1000/s for some 4 s: the reading
    // thread must get the CPU about every half second, which even a loaded
    // 2-CPU machine gives; the unread handle must overflow.
    constexpr int kDatagrams = 4000;
    const std::string sender = numbered_burst(kDatagrams, 1196, "0.001");
    // The loop is "busy" for the whole burst: next() is not called until the sender is done.
    ASSERT_EQ(run({"ip", "netns", "exec", ns_b_, "/usr/bin/python3", "-c", sender}, 30s), 0);
    std::this_thread::sleep_for(300ms);  // the thread's last poll
    // Each datagram carries its number: every one must be read exactly once.
    std::vector<int> seen(kDatagrams, 0);
    int frames = 0, foreign = 0;
    const auto count = [&](const decode::RawFrame& f) {
        ++frames;
        constexpr size_t kAt = 14 + 20 + 8;  // Ethernet, IPv4 without options, UDP
        if (f.caplen < kAt + 4) return ++foreign, void();
        const uint32_t i = uint32_t{f.bytes[kAt]} << 24 | uint32_t{f.bytes[kAt + 1]} << 16 |
                           uint32_t{f.bytes[kAt + 2]} << 8 | f.bytes[kAt + 3];
        if (i >= static_cast<uint32_t>(kDatagrams)) return ++foreign, void();
        ++seen[i];
    };
    decode::RawFrame f;
    for (int idle = 0; idle < 3;) {  // three quiet waits in a row: the burst is all read
        const capture::NextStatus st = reader.next(f, 200);
        if (st == capture::NextStatus::Frame) {
            count(f);
            idle = 0;
        } else {
            ASSERT_EQ(st, capture::NextStatus::Timeout) << reader.error();
            ++idle;
        }
    }
    reader.stop();
    while (reader.next(f, 200) == capture::NextStatus::Frame) count(f);
    int missing = 0, twice = 0;
    for (int n : seen) missing += n == 0, twice += n > 1;
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(twice, 0);
    EXPECT_EQ(frames, kDatagrams + foreign) << foreign << " frames that are not the burst's";
    EXPECT_EQ(reader.stats().kernel_dropped, 0u);
    EXPECT_GE(reader.stats().kernel_received, static_cast<uint64_t>(frames));
    // The control: the same burst on a handle nobody read meanwhile overflowed its ring.
    EXPECT_GT(unread->stats().kernel_dropped, 0u)
        << "the burst did not exceed the kernel ring: the test proves nothing";
}

TEST_F(LiveReaderNetns, StopsWithinItsPollIntervalOnAnIdleLink) {
    auto src = open_in(ns_a_, veth_a_);
    ASSERT_TRUE(src) << "cannot open a live capture on " << veth_a_;
    capture::LiveReader reader({src.get()});
    decode::RawFrame f;
    EXPECT_EQ(reader.next(f, 50), capture::NextStatus::Timeout);
    const auto t0 = std::chrono::steady_clock::now();
    reader.stop();
    EXPECT_EQ(reader.next(f, 2000), capture::NextStatus::End);
    // Bounded by the thread's poll (kPollMs) plus scheduling; generous for a shared machine.
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

// capture --workers builds its readers before dropping privileges and
// starts them after (LiveReader::Start::Later): nothing is read before
// start(); a reader stopped before it started ends at once.
TEST_F(LiveReaderNetns, StartedLaterReadsOnlyOnceStarted) {
    if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
    auto src = open_in(ns_a_, veth_a_);
    auto unused = open_in(ns_a_, veth_a_);
    ASSERT_TRUE(src && unused) << "cannot open a live capture on " << veth_a_;
    capture::LiveReader never({unused.get()}, capture::LiveReader::Start::Later);
    never.stop();
    decode::RawFrame f;
    EXPECT_EQ(never.next(f, 1000), capture::NextStatus::End);
    never.start();  // after stop(): nothing
    EXPECT_EQ(never.next(f, 100), capture::NextStatus::End);

    capture::LiveReader later({src.get()}, capture::LiveReader::Start::Later);
    const std::string send =
        "import socket, time\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for i in range(5):\n"
        "    s.sendto(b'x', ('10.198.0.1', 9))\n"
        "    time.sleep(0.05)\n";
    ASSERT_EQ(run({"ip", "netns", "exec", ns_b_, "/usr/bin/python3", "-c", send}, 10s), 0);
    EXPECT_EQ(later.next(f, 300), capture::NextStatus::Timeout) << "read before start()";
    later.start();
    int frames = 0;
    for (int i = 0; i < 10 && frames < 5; ++i)
        if (later.next(f, 200) == capture::NextStatus::Frame) ++frames;
    EXPECT_EQ(frames, 5) << "the kernel kept them until the thread started";
}

// capture widens its kernel filter while packets arrive (the vendor
// addresses DNS answers resolve to, cli/capture_cmd.cpp). libpcap's
// pcap_setfilter() attaches a reject-all filter and drains the socket before
// attaching the new one: whatever arrived in between was lost and counted
// nowhere. A wider filter replaces the old one in one step, and every packet
// the old filter passed is still captured, exactly once, with no drop; the
// last change, to another port, shows each one took effect.
void LiveReaderNetns::widen_while_sending(const std::string& iface) {
    if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
    auto src = open_in(ns_b_, iface, 32);  // holds the whole burst: the ring never overflows
    ASSERT_TRUE(src) << "cannot open a live capture on " << iface << " in " << ns_b_;
    // Where the UDP payload starts: Ethernet, or Linux's cooked headers (`any`); IPv4 without options, UDP.
    const auto type = static_cast<decode::LinkType>(src->linktype());
    const size_t link = type == decode::LinkType::LinuxSll ? 16 : type == decode::LinkType::LinuxSll2 ? 20 : 14;
    const size_t kAt = link + 20 + 8;
    constexpr int kDatagrams = 40000;  // small ones, sent as fast as Python can, a few tenths of a second
    const std::string sender = numbered_burst(kDatagrams, 0, "0");
    const pid_t pid = spawn({"ip", "netns", "exec", ns_b_, "/usr/bin/python3", "-c", sender});
    ASSERT_GT(pid, 0);
    std::vector<int> seen(kDatagrams, 0);
    int foreign = 0, swaps = 0, swaps_while_sending = 0;
    // Reads up to `most` frames (0: all there are); how many it read.
    const auto drain = [&](int most) {
        decode::RawFrame f;
        int n = 0;
        while ((most == 0 || n < most) && src->next(f) == capture::NextStatus::Frame) {
            ++n;
            const uint32_t i = f.caplen < kAt + 4 ? ~0u
                                                  : uint32_t{f.bytes[kAt]} << 24 | uint32_t{f.bytes[kAt + 1]} << 16 |
                                                        uint32_t{f.bytes[kAt + 2]} << 8 | f.bytes[kAt + 3];
            if (i < static_cast<uint32_t>(kDatagrams))
                ++seen[i];
            else
                ++foreign;
        }
        return n;
    };
    // Read a little of what is there, then install another filter that
    // passes the datagrams and one more address, until the sender is done
    // (at most 30 s). The kernel hands frames over a ring block at a time
    // (~4,000 of these): a few hundred read between changes keeps them
    // coming while the sender sends.
    int status = 0;
    bool done = false, burst_seen = false;
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (!done && std::chrono::steady_clock::now() < end) {
        done = waitpid(pid, &status, WNOHANG) == pid;
        const int got = drain(256);
        burst_seen = burst_seen || got > 0;  // only the burst's datagrams pass the filters
        src->set_filter("udp dst port 9 or host 10.197.0." + std::to_string(swaps % 250 + 1));
        ++swaps;
        swaps_while_sending += burst_seen && !done;
        if (got == 0) std::this_thread::sleep_for(1ms);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    ASSERT_TRUE(done && WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the sender did not finish";
    std::this_thread::sleep_for(200ms);
    drain(0);
    int missing = 0, twice = 0;
    for (int n : seen) missing += n == 0, twice += n > 1;
    EXPECT_EQ(missing, 0) << "of " << kDatagrams << " datagrams, across " << swaps << " filter changes";
    EXPECT_EQ(twice, 0);
    EXPECT_EQ(src->stats().kernel_dropped, 0u);
    // The changes must have happened while datagrams arrived, or the test proves nothing.
    EXPECT_GE(swaps_while_sending, 10) << swaps << " filter changes in all";
    // And each change took effect: after one to port 10 alone, only port 10 is read.
    src->set_filter("udp dst port 10");
    const std::string two =
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.sendto(b'nine', ('10.198.0.1', 9))\n"
        "s.sendto(b'ten', ('10.198.0.1', 10))\n";
    ASSERT_EQ(run({"ip", "netns", "exec", ns_b_, "/usr/bin/python3", "-c", two}, 10s), 0);
    std::this_thread::sleep_for(200ms);
    std::vector<uint16_t> ports;
    decode::RawFrame f;
    while (src->next(f) == capture::NextStatus::Frame)
        if (f.caplen >= link + 20 + 8)
            ports.push_back(static_cast<uint16_t>(f.bytes[link + 20 + 2] << 8 | f.bytes[link + 20 + 3]));
    EXPECT_EQ(ports, std::vector<uint16_t>{10});
}

TEST_F(LiveReaderNetns, WideningTheFilterWhilePacketsArriveLosesNone) { widen_while_sending(veth_b_); }

// The same on `any`, a cooked socket: the program's loads are rewritten for
// a packet without its link-layer header, as libpcap does.
TEST_F(LiveReaderNetns, WideningTheFilterOnACookedSocketLosesNone) { widen_while_sending("any"); }

}  // namespace
}  // namespace callwall::test
