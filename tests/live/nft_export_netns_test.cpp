// `catalog export --format nft` loaded by the real nft in a throw-away network
// namespace: on top of Debian's stock /etc/nftables.conf, loading the
// export twice leaves the same ruleset, and the jump lines of its header work as
// written. With dnsmasq: the export's nftset= lines fill the vendor set as a
// name is resolved (A and AAAA), and the output chain (policy drop, jump to the export)
// accepts a packet to the resolved address and drops one to another address.
// A range-based vendor (catalog schema 2 `addresses`): its export loads twice
// identically, and a packet to an address inside its range is accepted, one
// outside it dropped (nftables counters).
// Skipped (with the reason) where namespaces, nft or dnsmasq are unavailable.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "live/shell.hpp"
#include "live/spawn.hpp"

extern char** environ;

namespace {

using callwall::test::counted_packets;
using callwall::test::export_header_commands;
using callwall::test::kDebianStockNftConf;
using callwall::test::read_text;
using callwall::test::shell;
using callwall::test::ShellOutput;
using callwall::test::spawn;
using namespace std::chrono_literals;

class NftExport : public ::testing::Test {
protected:
    void SetUp() override {
#ifndef CALLWALL_BINARY
        GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
        if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
        if (shell("command -v nft").code != 0) GTEST_SKIP() << "nft is not installed";
        ns_ = "cwnft" + std::to_string(getpid() % 100000);
        dir_ = std::filesystem::temp_directory_path() / ("callwall_" + ns_);
        std::filesystem::create_directories(dir_);
        if (shell("ip netns add " + ns_).code != 0)
            GTEST_SKIP() << "cannot create network namespaces here (ip netns add failed)";
        created_ = true;
        std::ofstream(path("stock.conf")) << kDebianStockNftConf;
        const ShellOutput stock = in_ns("nft -f " + path("stock.conf"));
        if (stock.code != 0) GTEST_SKIP() << "nft cannot load a ruleset in a namespace here: " << stock.text;
#endif
    }
    void TearDown() override {
        for (pid_t p : pids_) {
            kill(p, SIGKILL);
            waitpid(p, nullptr, 0);
        }
        if (created_) shell("ip netns del " + ns_);
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    ShellOutput in_ns(const std::string& command) const { return shell("ip netns exec " + ns_ + " " + command); }
    // Writes `callwall catalog export ARGS` to FILE and returns its text.
    std::string export_to(const std::string& args, const std::string& file) {
#ifdef CALLWALL_BINARY
        const ShellOutput r = shell(std::string(CALLWALL_BINARY) + " catalog export " + args + " >" + path(file));
        EXPECT_EQ(r.code, 0) << r.text;
#endif
        return read_text(path(file));
    }
    // Stops a process this test started; SIGKILL after two seconds.
    void stop(pid_t pid) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 40; ++i) {
            if (waitpid(pid, nullptr, WNOHANG) == pid) {
                std::erase(pids_, pid);
                return;
            }
            std::this_thread::sleep_for(50ms);
        }
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        std::erase(pids_, pid);
    }

    std::string ns_;
    std::filesystem::path dir_;
    bool created_ = false;
    std::vector<pid_t> pids_;
};

TEST_F(NftExport, LoadsTwiceIdenticallyOnDebiansStockConfAndItsJumpsWork) {
    const std::string exported = export_to("--format nft", "all.nft");
    const ShellOutput first = in_ns("nft -f " + path("all.nft"));
    ASSERT_EQ(first.code, 0) << first.text;
    const std::string once = in_ns("nft list ruleset").text;
    const ShellOutput again = in_ns("nft -f " + path("all.nft"));
    ASSERT_EQ(again.code, 0) << again.text;
    EXPECT_EQ(in_ns("nft list ruleset").text, once);
    // The stock table is still there, with what the export added.
    EXPECT_NE(once.find("chain forward {\n\t\ttype filter hook forward priority filter; policy accept;"),
              std::string::npos)
        << once;

    const auto jumps = export_header_commands(exported, "nft add rule");
    ASSERT_EQ(jumps.size(), 4u) << exported;
    for (const std::string& j : jumps) {
        ASSERT_EQ(j.find('\''), std::string::npos) << j;
        const ShellOutput r = in_ns(j);
        EXPECT_EQ(r.code, 0) << j << "\n" << r.text;
    }
    const std::string jumped = in_ns("nft list chain inet filter forward").text;
    EXPECT_NE(jumped.find("iifname \"lan0\" jump callwall_outbound"), std::string::npos) << jumped;
    // Loading again while the base chains jump to its chains still works and changes nothing.
    const std::string before = in_ns("nft list ruleset").text;
    const ShellOutput third = in_ns("nft -f " + path("all.nft"));
    EXPECT_EQ(third.code, 0) << third.text;
    EXPECT_EQ(in_ns("nft list ruleset").text, before);
}

TEST_F(NftExport, DnsmasqFillsTheVendorSetAndOnlyItsAddressPasses) {
    if (shell("command -v dnsmasq").code != 0) GTEST_SKIP() << "dnsmasq is not installed (Debian: dnsmasq-base)";
    // nftset= needs dnsmasq 2.87 or later built with it ("no-nftset" otherwise).
    if (shell("dnsmasq --version | grep -q \" nftset\"").code != 0)
        GTEST_SKIP() << "this dnsmasq has no nftset support";
    if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
    // Two addresses of the namespace: dnsmasq under test on .1 (with the export's
    // nftset= lines), an "upstream" dnsmasq on .2 that answers for the vendor's
    // name. dnsmasq adds to sets only what it forwards, not its own address= answers.
    for (const std::string c : {"ip link set lo up", "ip link add cwv0 type veth peer name cwv1",
                                "ip addr add 10.203.0.1/24 dev cwv0", "ip addr add 10.203.0.2/24 dev cwv1",
                                "ip link set cwv0 up", "ip link set cwv1 up", "ip route add default dev cwv0"}) {
        const ShellOutput r = in_ns(c);
        if (r.code != 0) GTEST_SKIP() << "cannot set up the namespace's interfaces (" << c << "): " << r.text;
    }
    const std::string exported = export_to("--format nft --vendor whereby", "whereby.nft");
    const std::string lines = export_to("--format dnsmasq-nftset --vendor whereby", "whereby.dnsmasq");
    ASSERT_NE(lines.find("nftset=/turn.whereby.com/"), std::string::npos) << lines;
    ASSERT_EQ(in_ns("nft -f " + path("whereby.nft")).code, 0);
    // The client's policy: drop by default, local traffic (DNS) passes, then the export.
    ASSERT_EQ(in_ns("nft add rule inet filter output oifname lo accept").code, 0);
    for (const std::string& j : export_header_commands(exported, "nft add rule inet filter output")) {
        const ShellOutput r = in_ns(j);
        ASSERT_EQ(r.code, 0) << j << "\n" << r.text;
    }
    ASSERT_EQ(in_ns("nft add rule inet filter output ip daddr 198.51.100.7 counter drop comment dropped").code, 0);
    ASSERT_EQ(in_ns("nft chain inet filter output { policy drop \\; }").code, 0);
    // What got past the output chain.
    ASSERT_EQ(in_ns("nft add table inet cwtest").code, 0);
    ASSERT_EQ(in_ns("nft add chain inet cwtest post { type filter hook postrouting priority 0 \\; }").code, 0);
    ASSERT_EQ(in_ns("nft add rule inet cwtest post ip daddr 192.0.2.44 counter comment to_resolved").code, 0);
    ASSERT_EQ(in_ns("nft add rule inet cwtest post ip daddr 198.51.100.7 counter comment to_other").code, 0);

    const std::string base =
        "dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces "
        "--port=53 --user=root --pid-file= ";
    const std::string upstream_log = path("upstream.log"), log = path("dnsmasq.log");
    const pid_t upstream = spawn({"ip", "netns", "exec", ns_, "sh", "-c",
                                  "exec " + base +
                                      "--listen-address=10.203.0.2 --address=/turn.whereby.com/192.0.2.44 "
                                      "--address=/turn.whereby.com/2001:db8::44"},
                                 upstream_log);
    ASSERT_GT(upstream, 0);
    pids_.push_back(upstream);
    const pid_t dnsmasq = spawn(
        {"ip", "netns", "exec", ns_, "sh", "-c",
         "exec " + base + "--listen-address=10.203.0.1 --server=10.203.0.2 --conf-file=" + path("whereby.dnsmasq")},
        log);
    ASSERT_GT(dnsmasq, 0);
    pids_.push_back(dnsmasq);

    // A minimal A or AAAA query for eu1.turn.whereby.com, retried until dnsmasq answers (at most 5 s).
    const std::string query =
        "import socket, struct, sys\n"
        "q = struct.pack(\">HHHHHH\", 0x1234, 0x0100, 1, 0, 0, 0)\n"
        "q += b\"\".join(bytes([len(p)]) + p.encode() for p in \"eu1.turn.whereby.com\".split(\".\")) + b\"\\0\"\n"
        "qtype = int(sys.argv[1])  # 1: A, 28: AAAA\n"
        "q += struct.pack(\">HH\", qtype, 1)\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.settimeout(0.5)\n"
        "for _ in range(10):\n"
        "    try:\n"
        "        s.sendto(q, (\"10.203.0.1\", 53))\n"
        "        r = s.recv(512)\n"
        "    except OSError:\n"
        "        continue\n"
        "    if struct.unpack(\">H\", r[6:8])[0] == 1:\n"
        "        print(socket.inet_ntop(socket.AF_INET if qtype == 1 else socket.AF_INET6, r[-4 if qtype == 1 else -16:]))\n"
        "        sys.exit(0)\n"
        "sys.exit(1)\n";
    std::ofstream(path("query.py")) << query;
    const ShellOutput resolved = in_ns("/usr/bin/python3 " + path("query.py") + " 1");
    ASSERT_EQ(resolved.code, 0) << resolved.text << read_text(log) << read_text(upstream_log);
    EXPECT_EQ(resolved.text, "192.0.2.44\n");
    const ShellOutput resolved6 = in_ns("/usr/bin/python3 " + path("query.py") + " 28");
    ASSERT_EQ(resolved6.code, 0) << resolved6.text << read_text(log) << read_text(upstream_log);
    EXPECT_EQ(resolved6.text, "2001:db8::44\n");
    const std::string set6 = in_ns("nft list set inet filter callwall_whereby_v6").text;
    EXPECT_NE(set6.find("elements = { 2001:db8::44 }"), std::string::npos) << set6 << read_text(log);
    const std::string set = in_ns("nft list set inet filter callwall_whereby_v4").text;
    EXPECT_NE(set.find("elements = { 192.0.2.44 }"), std::string::npos) << set << read_text(log);

    // whereby.turn.udp: UDP 443 to the resolved address passes, to another address it is dropped.
    const std::string send =
        "/usr/bin/python3 -c \"import socket; socket.socket(socket.AF_INET, "
        "socket.SOCK_DGRAM).sendto(b\\\"x\\\", (\\\"";
    in_ns(send + "192.0.2.44\\\", 443))\"");
    in_ns(send + "198.51.100.7\\\", 443))\"");
    const std::string post = in_ns("nft list chain inet cwtest post").text;
    const std::string output = in_ns("nft list chain inet filter output").text;
    EXPECT_EQ(counted_packets(post, "to_resolved"), 1) << post;
    EXPECT_EQ(counted_packets(post, "to_other"), 0) << post;
    EXPECT_EQ(counted_packets(output, "dropped"), 1) << output;

    // Loading the export again keeps what dnsmasq added (dnsmasq would not add a cached name again).
    const ShellOutput reload = in_ns("nft -f " + path("whereby.nft"));
    EXPECT_EQ(reload.code, 0) << reload.text;
    EXPECT_EQ(in_ns("nft list set inet filter callwall_whereby_v4").text, set);

    stop(dnsmasq);
    stop(upstream);
}

// A test vendor that publishes ranges only (one IPv4 prefix, one start-end
// range, one IPv6 prefix) and one that publishes names or ranges.
constexpr const char* kRangeVendor = R"toml(schema = 2
[document]
vendor = "Range Test"
url = "https://range-test.invalid/network"
undated = true
transcribed = 2026-11-26

[[entry]]
id = "range-test.media.udp"
product = "Range Test"
service = "Media (Optimize)"
transport = "udp"
ports = [[3478, 3481]]
addresses = ["203.0.113.0/25", "198.18.0.10-198.18.0.20", "2001:db8:100::/48"]
source_ports = [[50000, 50059]]
tier = "optimize"
required = true
[entry.source]
section = "Optimize"

[[entry]]
id = "range-test.web"
product = "Range Test"
service = "Web"
transport = "tcp"
ports = [443]
destinations = ["*.range-test.invalid"]
addresses = ["203.0.113.128/25"]
tier = "allow"
required = true
[entry.source]
section = "Allow"
)toml";

TEST_F(NftExport, RangeVendorLoadsTwiceAndOnlyItsRangePasses) {
    std::filesystem::create_directories(dir_ / "catalog");
    std::ofstream(dir_ / "catalog" / "range_test.toml") << kRangeVendor;
    const std::string catalog = "--no-bundled-catalog --catalog " + path("catalog");
    const std::string exported = export_to("--format nft " + catalog, "range.nft");
    ASSERT_NE(exported.find("flags interval"), std::string::npos) << exported;
    ASSERT_NE(exported.find("203.0.113.0/25, 198.18.0.10-198.18.0.20"), std::string::npos) << exported;
    for (const std::string c :
         {"ip link set lo up", "ip link add cwv0 type veth peer name cwv1", "ip addr add 10.203.0.1/24 dev cwv0",
          "ip link set cwv0 up", "ip link set cwv1 up", "ip route add default dev cwv0"}) {
        const ShellOutput r = in_ns(c);
        if (r.code != 0) GTEST_SKIP() << "cannot set up the namespace's interfaces (" << c << "): " << r.text;
    }
    const ShellOutput first = in_ns("nft -f " + path("range.nft"));
    ASSERT_EQ(first.code, 0) << first.text << exported;
    const std::string once = in_ns("nft list ruleset").text;
    const ShellOutput again = in_ns("nft -f " + path("range.nft"));
    ASSERT_EQ(again.code, 0) << again.text;
    EXPECT_EQ(in_ns("nft list ruleset").text, once);
    // The media entry's sets (the first declared; a long id's set name is shortened with a hash).
    std::smatch named;
    ASSERT_TRUE(std::regex_search(exported, named, std::regex("set (callwall_net_[a-z0-9_]+)_v4 \\{"))) << exported;
    const std::string net = named[1];
    const std::string set4 = in_ns("nft list set inet filter " + net + "_v4").text;
    EXPECT_NE(set4.find("203.0.113.0/25"), std::string::npos) << set4;
    EXPECT_NE(set4.find("198.18.0.10-198.18.0.20"), std::string::npos) << set4;
    const std::string set6 = in_ns("nft list set inet filter " + net + "_v6").text;
    EXPECT_NE(set6.find("2001:db8:100::/48"), std::string::npos) << set6;

    // The client's policy: drop by default, then the export's chain.
    for (const std::string& j : export_header_commands(exported, "nft add rule inet filter output")) {
        const ShellOutput r = in_ns(j);
        ASSERT_EQ(r.code, 0) << j << "\n" << r.text;
    }
    ASSERT_EQ(
        in_ns("nft add rule inet filter output ip daddr { 198.18.0.21, 203.0.113.200 } counter drop comment dropped")
            .code,
        0);
    ASSERT_EQ(in_ns("nft chain inet filter output { policy drop \\; }").code, 0);
    ASSERT_EQ(in_ns("nft add table inet cwtest").code, 0);
    ASSERT_EQ(in_ns("nft add chain inet cwtest post { type filter hook postrouting priority 0 \\; }").code, 0);
    ASSERT_EQ(in_ns("nft add rule inet cwtest post ip daddr 203.0.113.77 counter comment in_prefix").code, 0);
    ASSERT_EQ(in_ns("nft add rule inet cwtest post ip daddr 198.18.0.15 counter comment in_range").code, 0);
    ASSERT_EQ(in_ns("nft add rule inet cwtest post ip daddr 198.18.0.21 counter comment past_range").code, 0);
    ASSERT_EQ(in_ns("nft add rule inet cwtest post ip daddr 203.0.113.200 counter comment other_entry").code, 0);

    const std::string send =
        "/usr/bin/python3 -c \"import socket; socket.socket(socket.AF_INET, "
        "socket.SOCK_DGRAM).sendto(b\\\"x\\\", (\\\"";
    in_ns(send + "203.0.113.77\\\", 3478))\"");  // inside the prefix, an entry port: accepted
    in_ns(send + "198.18.0.15\\\", 3481))\"");  // inside the start-end range: accepted
    in_ns(send + "198.18.0.21\\\", 3478))\"");  // one past the range: dropped
    in_ns(send + "203.0.113.200\\\", 3478))\"");  // the other entry's range, not its port: dropped
    const std::string post = in_ns("nft list chain inet cwtest post").text;
    const std::string output = in_ns("nft list chain inet filter output").text;
    EXPECT_EQ(counted_packets(post, "in_prefix"), 1) << post << output;
    EXPECT_EQ(counted_packets(post, "in_range"), 1) << post << output;
    EXPECT_EQ(counted_packets(post, "past_range"), 0) << post;
    EXPECT_EQ(counted_packets(post, "other_entry"), 0) << post;
    EXPECT_EQ(counted_packets(output, "dropped"), 2) << output;
}

}  // namespace
