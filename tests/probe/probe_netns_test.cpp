// `callwall probe --reflector` end to end, in three network namespaces this
// test creates: a client, a firewall (forwarding, with an nftables ruleset per
// case) and a cloud host running `callwall reflect --nft`. Whereby's entries
// are probed through (a) an open ruleset, (b) a ruleset dropping UDP and
// rejecting TCP 443 with a reset, (c) a middlebox in the firewall answering
// STUN on the reflector's behalf (a second reflector with another key, UDP
// DNATed to it), (d) a transparent TCP proxy there (TCP DNATed to a
// reflector with another key), (e) two vendors through one reflector
// address with one vendor's port dropped, (f) IPv6 through an IPv6
// reflector. A pacing test counts the probe's own capture and checks, with
// a counter in the firewall, that nothing went anywhere but the reflector.
// Skipped (with the reason) where namespaces cannot be created.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "capture/pcap_source.hpp"
#include "golden/run_util.hpp"
#include "live/spawn.hpp"

namespace callwall::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kClient = "10.201.1.2";
constexpr const char* kFwIn = "10.201.1.1";
constexpr const char* kCloud = "10.201.2.2";
constexpr const char* kClient6 = "fd00:201:1::2";
constexpr const char* kCloud6 = "fd00:201:2::2";

class ProbeNetns : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
        if (!std::filesystem::exists("/usr/sbin/nft") && !std::filesystem::exists("/sbin/nft"))
            GTEST_SKIP() << "nft is missing";
        const std::string tag = std::to_string(getpid() % 100000);
        c_ = "cwpC" + tag;
        f_ = "cwpF" + tag;
        s_ = "cwpS" + tag;
        if (run({"ip", "netns", "add", c_}) != 0)
            GTEST_SKIP() << "cannot create network namespaces (ip netns add failed)";
        made_.push_back(c_);
        ASSERT_EQ(run({"ip", "netns", "add", f_}), 0);
        made_.push_back(f_);
        ASSERT_EQ(run({"ip", "netns", "add", s_}), 0);
        made_.push_back(s_);
        ASSERT_EQ(run({"ip", "link", "add", "cpc" + tag, "netns", c_, "type", "veth", "peer", "name", "cpf" + tag,
                       "netns", f_}),
                  0);
        ASSERT_EQ(run({"ip", "link", "add", "cps" + tag, "netns", s_, "type", "veth", "peer", "name", "cpg" + tag,
                       "netns", f_}),
                  0);
        client_if_ = "cpc" + tag;
        const std::vector<std::vector<std::string>> cmds = {
            {"ip", "-n", c_, "addr", "add", std::string(kClient) + "/24", "dev", "cpc" + tag},
            {"ip", "-n", f_, "addr", "add", std::string(kFwIn) + "/24", "dev", "cpf" + tag},
            {"ip", "-n", f_, "addr", "add", "10.201.2.1/24", "dev", "cpg" + tag},
            {"ip", "-n", s_, "addr", "add", std::string(kCloud) + "/24", "dev", "cps" + tag},
            {"ip", "-n", c_, "link", "set", "cpc" + tag, "up"},
            {"ip", "-n", f_, "link", "set", "cpf" + tag, "up"},
            {"ip", "-n", f_, "link", "set", "cpg" + tag, "up"},
            {"ip", "-n", s_, "link", "set", "cps" + tag, "up"},
            {"ip", "-n", c_, "link", "set", "lo", "up"},
            {"ip", "-n", f_, "link", "set", "lo", "up"},
            {"ip", "-n", s_, "link", "set", "lo", "up"},
            {"ip", "-n", c_, "route", "add", "default", "via", kFwIn},
            {"ip", "-n", s_, "route", "add", "default", "via", "10.201.2.1"},
            {"ip", "netns", "exec", f_, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
        };
        // The same hosts over IPv6 (nodad: usable at once).
        const std::vector<std::vector<std::string>> cmds6 = {
            {"ip", "-n", c_, "-6", "addr", "add", std::string(kClient6) + "/64", "dev", "cpc" + tag, "nodad"},
            {"ip", "-n", f_, "-6", "addr", "add", "fd00:201:1::1/64", "dev", "cpf" + tag, "nodad"},
            {"ip", "-n", f_, "-6", "addr", "add", "fd00:201:2::1/64", "dev", "cpg" + tag, "nodad"},
            {"ip", "-n", s_, "-6", "addr", "add", std::string(kCloud6) + "/64", "dev", "cps" + tag, "nodad"},
            {"ip", "-n", c_, "-6", "route", "add", "default", "via", "fd00:201:1::1"},
            {"ip", "-n", s_, "-6", "route", "add", "default", "via", "fd00:201:2::1"},
            {"ip", "netns", "exec", f_, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"},
        };
        for (const auto& c : cmds) ASSERT_EQ(run(c), 0) << c[0] << " " << c[3];
        for (const auto& c : cmds6) have_ipv6_ = have_ipv6_ && run(c) == 0;
        log_ = "/tmp/callwall-probe-netns-" + tag + ".log";
        // The key in a file of its own (mode 600), as an operator keeps it.
        key_file_ = "/tmp/callwall-probe-netns-" + tag + ".key";
        {
            std::ofstream k(key_file_);
            k << "K1\n";
        }
        std::filesystem::permissions(key_file_,
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        ASSERT_NO_FATAL_FAILURE(start_reflector(kCloud, log_, reflector_));
    }
    // `callwall reflect` on the cloud host at `listen` (TCP 443, UDP 443 and
    // 1024-65535, key K1, its own DNAT table), once it says it answers.
    void start_reflector(const std::string& listen, const std::string& log, pid_t& pid) {
        pid = spawn({"ip", "netns", "exec", s_, CALLWALL_BINARY, "reflect", "--listen", listen, "--tcp", "443", "--udp",
                     "443,1024-65535", "--key-file", key_file_, "--nft", "--port", "30999", "--duration", "120"},
                    log);
        ASSERT_GT(pid, 0);
        bool up = false;
        for (int i = 0; i < 50 && !up; ++i) {
            std::this_thread::sleep_for(100ms);
            up = read_file(log).find("answering on") != std::string::npos;
        }
        ASSERT_TRUE(up) << read_file(log);
    }
    void TearDown() override {
        for (pid_t p : {reflector_, reflector6_, middlebox_})
            if (p > 0) {
                kill(p, SIGTERM);
                if (wait_for(p, 3s) != 0) ADD_FAILURE() << "process " << p << " did not stop cleanly on SIGTERM";
            }
        for (const auto& ns : made_) run({"ip", "netns", "del", ns});
        std::filesystem::remove(log_);
        std::filesystem::remove(key_file_);
    }
    // A middlebox in the firewall answering for the reflector, and every
    // `proto` ("tcp" or "udp") probe to the cloud DNATed to it: for UDP a
    // STUN server that answers whoever the request was for
    // (tools/lab/stun_middlebox.py), for TCP a second reflector with another
    // key, which completes every handshake and refuses the challenge.
    void middlebox_for(const std::string& proto) {
        if (proto == "udp") {
            middlebox_ =
                spawn({"ip", "netns", "exec", f_, "/usr/bin/python3", source_dir() + "/tools/lab/stun_middlebox.py",
                       "--listen", kFwIn, "--port", "30998", "--duration", "120"},
                      log_ + ".mb");
        } else {
            const std::string other_key = key_file_ + ".other";
            std::ofstream(other_key) << "NOT-K1\n";
            middlebox_ = spawn({"ip", "netns", "exec", f_, CALLWALL_BINARY, "reflect", "--listen", kFwIn, "--tcp",
                                "443", "--key-file", other_key, "--port", "30998", "--duration", "120"},
                               log_ + ".mb");
        }
        ASSERT_GT(middlebox_, 0);
        bool up = false;
        for (int i = 0; i < 50 && !up; ++i) {
            std::this_thread::sleep_for(100ms);
            up = read_file(log_ + ".mb").find("answering on") != std::string::npos;
        }
        ASSERT_TRUE(up) << read_file(log_ + ".mb");
        ASSERT_EQ(run({"ip", "netns", "exec", f_, "nft",
                       "add table ip cwpmb; add chain ip cwpmb pre { type nat hook prerouting priority dstnat; }; "
                       "add rule ip cwpmb pre ip daddr " +
                           std::string(kCloud) + " " + proto + " dport 1-65535 dnat to " + kFwIn + ":30998"}),
                  0);
    }
    // The firewall's forward ruleset; `rules` are nft rule bodies.
    void firewall(const std::vector<std::string>& rules) {
        std::string script =
            "add table inet cwp; add chain inet cwp cwpfwd { type filter hook forward priority 0; }; "
            "add rule inet cwp cwpfwd ip saddr " +
            std::string(kClient) + " ip daddr != " + kCloud + " counter; ";
        for (const auto& r : rules) script += "add rule inet cwp cwpfwd " + r + "; ";
        ASSERT_EQ(run({"ip", "netns", "exec", f_, "nft", script}), 0) << script;
    }
    // Runs the probe from the client; returns its exit code, output in *out.
    int probe(const std::string& db, std::string* out, std::vector<std::string> extra = {},
              const std::string& reflector = kCloud) {
        std::vector<std::string> args = {"ip",          "netns",    "exec",       c_,       CALLWALL_BINARY,
                                         "probe",       "--vendor", "whereby",    "--db",   db,
                                         "--reflector", reflector,  "--key-file", key_file_};
        // A sample of each range unless the case sweeps (--sweep-rate) or
        // samples otherwise: a sweep of 1024-65535 is the sweep tests' own.
        const bool own_ports = std::any_of(extra.begin(), extra.end(), [](const std::string& x) {
            return x == "--sweep-rate" || x == "--sample" || x == "--ports-per-range";
        });
        if (!own_ports) args.insert(args.end(), {"--sample", "16"});
        args.insert(args.end(), extra.begin(), extra.end());
        const std::string log = db + ".out";
        const int rc = run(args, own_ports ? 180s : 60s, log);  // a sweep of 64,512 ports at 1000/s: 65 s
        *out = read_file(log);
        std::filesystem::remove(log);
        return rc;
    }
    std::map<std::string, std::string> verdicts(const std::string& db) {
        std::map<std::string, std::string> v;
        for (const auto& row :
             query_rows(db, "SELECT entry_id, verdict, reasons FROM verdict WHERE entry_id LIKE 'whereby.%'")) {
            const size_t t = row.find('\t');
            v[row.substr(0, t)] = row.substr(t + 1);
        }
        return v;
    }
    std::string c_, f_, s_, client_if_, log_, key_file_;
    std::vector<std::string> made_;
    pid_t reflector_ = -1, reflector6_ = -1, middlebox_ = -1;
    bool have_ipv6_ = true;  ///< the IPv6 addresses and routes could be set
};

TEST_F(ProbeNetns, OpenRulesetEveryOutboundEntryObserved) {
    firewall({});
    TempDb db;
    std::string out;
    ASSERT_EQ(probe(db.path(), &out, {"--rate", "40"}), 0) << out;
    const auto v = verdicts(db.path());
    ASSERT_FALSE(v.empty()) << out;
    for (const char* e :
         {"whereby.signaling.tcp", "whereby.turn.tcp", "whereby.turn.udp", "whereby.turn-sfu-highport.udp"}) {
        ASSERT_TRUE(v.count(e)) << e << "\n" << out;
        EXPECT_EQ(v.at(e).substr(0, 8), "observed") << e << ": " << v.at(e) << "\n" << out;
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT kind FROM run"), std::vector<std::string>{"probe"});
    EXPECT_EQ(out.find("intercepted"), std::string::npos) << out;
    EXPECT_TRUE(query_rows(db.path(), "SELECT format FROM allow_list").empty());  // nothing blocked, nothing to add
    EXPECT_EQ(out.find("TO ALLOW WHAT WAS BLOCKED"), std::string::npos) << out;
    // A sample is said to be one: never a bare "observed" for ports not sent.
    const auto why = query_rows(db.path(), "SELECT why FROM verdict WHERE entry_id = 'whereby.turn-sfu-highport.udp'");
    ASSERT_EQ(why.size(), 1u);
    EXPECT_EQ(why[0].rfind("passes on 16 of 64,512 ports sampled (no other port was sent): ", 0), 0u) << why[0];
}

TEST_F(ProbeNetns, ASweepFindsTheOnePortDroppedInTheRange) {
    // UDP 40001 dropped in the middle of Whereby's 1024-65535: a sample of
    // 16 ports passes; the sweep (every port, through the reflector) finds it.
    firewall({"udp dport 40001 drop"});
    TempDb db;
    std::string out;
    probe(db.path(), &out, {"--entry", "whereby.turn-sfu-highport.udp", "--sweep-rate", "1000"});
    const auto rows = query_rows(db.path(),
                                 "SELECT verdict, ports_blocked, why FROM verdict "
                                 "WHERE entry_id = 'whereby.turn-sfu-highport.udp'");
    ASSERT_EQ(rows.size(), 1u) << out;
    EXPECT_EQ(rows[0].substr(0, rows[0].find('\t', rows[0].find('\t') + 1)), "partial\t[40001]") << rows[0];
    // Every other port got through (on a loaded machine a port may read
    // inconclusive, never blocked).
    EXPECT_NE(rows[0].find("through on ports 1024-"), std::string::npos) << rows[0];
    EXPECT_NE(rows[0].find("-65535; blocked on port 40001 ("), std::string::npos) << rows[0];
    EXPECT_NE(rows[0].find("measured on every port (64,512) swept"), std::string::npos) << rows[0];
    // The live lines say the same as the verdict, one line for the range.
    const size_t swept = out.find("swept whereby.turn-sfu-highport.udp: every port (64,512) swept; ");
    ASSERT_NE(swept, std::string::npos) << out;
    const std::string line = out.substr(swept, out.find('\n', swept) - swept);
    EXPECT_NE(line.find(" port(s) observed, blocked on 40001"), std::string::npos) << line;
    EXPECT_GE(std::stoi(line.substr(line.find("swept; ") + 7)), 64500) << line;
    EXPECT_NE(out.find("40001  blocked:"), std::string::npos) << out;
    // A port the sweep found silent is sent again with the full STUN
    // schedule before it is called blocked: 40001 twice, both unanswered.
    const auto notes = query_rows(db.path(), "SELECT notes FROM run");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find(" swept port(s) got no answer and were sent again with the full STUN schedule: "),
              std::string::npos)
        << notes[0];
    const size_t again = out.find("(sent again)");
    ASSERT_NE(again, std::string::npos) << out;
    bool port_sent_again = false;
    for (size_t at = again; at != std::string::npos; at = out.find("(sent again)", at + 1)) {
        const std::string line = out.substr(out.rfind('\n', at) + 1, at - out.rfind('\n', at));
        port_sent_again |= line.find("40001  blocked:") != std::string::npos;
    }
    EXPECT_TRUE(port_sent_again) << out;
    // The allow list opens the port that failed, not the range.
    const auto nft = query_rows(db.path(), "SELECT text FROM allow_list WHERE format = 'nft'");
    ASSERT_EQ(nft.size(), 1u);
    EXPECT_NE(nft[0].find("40001"), std::string::npos) << nft[0];
    EXPECT_EQ(nft[0].find("1024-65535"), std::string::npos) << nft[0];
    EXPECT_NE(notes[0].find("probe: swept 64512 ports at 1000/s"), std::string::npos) << notes[0];
}

TEST_F(ProbeNetns, ASweepThroughAFirewallDroppingMostOfTheRangeIsExact) {
    // A firewall that passes only UDP 4789 (a tunnel's port) and 40000-40099
    // of Whereby's 1024-65535 and drops the rest, as the lab's corporate
    // profile does: every one of the 64,512 flows is alive at once in the
    // probe's capture (far more than the STUN decoder's default pool), the
    // last ports swept are dropped (their silence is judged by when the
    // capture stopped), and 4789 is the probe's own STUN, not a tunnel leg.
    // Every dropped port must read blocked, every passed one observed:
    // nothing inconclusive.
    const std::string to_cloud = std::string("ip daddr ") + kCloud + " ";
    firewall({to_cloud + "udp dport { 4789, 40000-40099 } accept", to_cloud + "udp dport 1024-65535 drop"});
    TempDb db;
    std::string out;
    probe(db.path(), &out, {"--entry", "whereby.turn-sfu-highport.udp", "--sweep-rate", "2000"});
    const auto notes = query_rows(db.path(), "SELECT notes FROM run");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].find("no decoder buffer"), std::string::npos) << notes[0];
    // Whatever the machine's load, no port the firewall passes reads
    // blocked and none it drops reads observed.
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT count(*) FROM flow WHERE transport = 'udp' AND server_port >= 1024 AND ((outcome "
                         "= 'observed') != (server_port = 4789 OR server_port BETWEEN 40000 AND 40099))"),
              std::vector<std::string>{"0"});
    // Every flow judged, with its evidence where it was not.
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT f.server_port, f.outcome, f.state, f.packets_c2s, f.packets_s2c, f.stun_requests, "
                         "m.evidence FROM flow f LEFT JOIN flow_match m ON m.flow_id = f.id WHERE f.transport = 'udp' "
                         "AND f.server_port >= 1024 AND f.outcome NOT IN ('observed', 'blocked:stun-timeout')"),
              std::vector<std::string>{});
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id = 'whereby.turn-sfu-highport.udp'"),
              std::vector<std::string>{"partial"});
    EXPECT_EQ(out.find("inconclusive on"), std::string::npos) << out.substr(0, 4000);
    // A port none of whose packets the capture holds (the kernel dropped
    // them before the capture read them, or never sent them) is neither
    // observed nor blocked: the sweep's line names it "not in the capture".
    // The exact account below holds when every port was captured; on a
    // machine too busy for that it is skipped, with the reason.
    const auto flows =
        query_rows(db.path(), "SELECT count(*) FROM flow WHERE transport = 'udp' AND server_port >= 1024");
    ASSERT_EQ(flows.size(), 1u);
    const long missing = 64512 - std::stol(flows[0]);
    EXPECT_GE(missing, 0);
    if (missing > 0) {
        EXPECT_NE(out.find(", not in the capture on "), std::string::npos) << out.substr(0, 4000);
        GTEST_SKIP() << missing << " swept port(s) not in the probe's capture on this busy machine (" << notes[0]
                     << "): every flow captured is judged right, the exact account is not checked";
    }
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT outcome, count(*) FROM flow WHERE transport = 'udp' AND server_port >= 1024 "
                         "GROUP BY outcome ORDER BY outcome"),
              (std::vector<std::string>{"blocked:stun-timeout\t64411", "observed\t101"}))
        << out;
    const std::string entry = " FROM verdict WHERE entry_id = 'whereby.turn-sfu-highport.udp'";
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT verdict, json_array_length(ports_observed), json_array_length(ports_blocked)" + entry),
              std::vector<std::string>{"partial\t101\t64411"})
        << out;
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT count(*) FROM verdict, json_each(ports_observed) WHERE entry_id = "
                         "'whereby.turn-sfu-highport.udp' AND (value = 4789 OR value BETWEEN 40000 AND 40099)"),
              std::vector<std::string>{"101"});
    const auto why = query_rows(db.path(), "SELECT why" + entry);
    ASSERT_EQ(why.size(), 1u);
    EXPECT_NE(why[0].find("through on ports 4789, 40000-40099; blocked on ports 1024-4788, 4790-39999, 40100-65535"),
              std::string::npos)
        << why[0];
    // The swept tail's last ports: blocked, by the capture's real end.
    for (const char* port : {"65533", "65534", "65535"})
        EXPECT_EQ(query_rows(db.path(), std::string("SELECT outcome FROM flow WHERE server_port = ") + port),
                  std::vector<std::string>{"blocked:stun-timeout"})
            << port;
    const std::string swept =
        "swept whereby.turn-sfu-highport.udp: every port (64,512) swept; 101 port(s) observed, "
        "blocked on 1024-4788, 4790-39999, 40100-65535";
    EXPECT_NE(out.find(swept), std::string::npos) << out.substr(0, 4000);
}

TEST_F(ProbeNetns, RootIsDroppedBeforeTheFirstProbe) {
    firewall({});
    {
        // Started as root (the test runs as root to make its namespaces), the
        // probe sends as nobody: the run says so, and still reads back its
        // capture and writes its verdicts.
        TempDb db;
        std::string out;
        ASSERT_EQ(probe(db.path(), &out), 0) << out;
        const auto notes = query_rows(db.path(), "SELECT notes FROM run");
        ASSERT_EQ(notes.size(), 1u);
        EXPECT_NE(notes[0].find("probe: sent as user nobody (root dropped once "), std::string::npos) << notes[0];
        EXPECT_EQ(verdicts(db.path()).at("whereby.turn.tcp").substr(0, 8), "observed");
    }
    {
        // An unknown user: said before anything is sent or written, exit 6 (permission).
        TempDb db;
        std::string out;
        EXPECT_EQ(probe(db.path(), &out, {"--user", "no-such-user-cw"}), 6) << out;
        EXPECT_EQ(out, "callwall probe: no such user 'no-such-user-cw' for --user\n");
        EXPECT_FALSE(std::filesystem::exists(db.path()));
    }
}

TEST_F(ProbeNetns, DroppedUdpAndResetTcpAreBlockedWithTheirReasons) {
    firewall({"udp dport != 53 drop", "tcp dport 443 reject with tcp reset"});
    TempDb db;
    std::string out;
    EXPECT_EQ(probe(db.path(), &out, {"--fail-on", "blocked"}), 10) << out;
    const auto v = verdicts(db.path());
    for (const char* e : {"whereby.turn.udp", "whereby.turn-sfu-highport.udp"}) {
        ASSERT_TRUE(v.count(e)) << e << "\n" << out;
        EXPECT_EQ(v.at(e).substr(0, 7), "blocked") << e << ": " << v.at(e);
        EXPECT_NE(v.at(e).find("stun-timeout"), std::string::npos) << e << ": " << v.at(e);
    }
    for (const char* e : {"whereby.signaling.tcp", "whereby.turn.tcp"}) {
        ASSERT_TRUE(v.count(e)) << e << "\n" << out;
        EXPECT_EQ(v.at(e).substr(0, 7), "blocked") << e << ": " << v.at(e);
        EXPECT_NE(v.at(e).find("reset"), std::string::npos) << e << ": " << v.at(e);
    }
    // What to add: the export of exactly the blocked requirements, in both
    // formats, in the database and in the printed report.
    const auto lists = query_rows(db.path(), "SELECT format FROM allow_list ORDER BY format");
    EXPECT_EQ(lists, (std::vector<std::string>{"iptables", "nft"}));
    const auto nft = query_rows(db.path(), "SELECT text FROM allow_list WHERE format = 'nft'");
    ASSERT_EQ(nft.size(), 1u);
    for (const auto& [id, verdict] : v) {
        const bool blocked = verdict.rfind("blocked", 0) == 0 || verdict.rfind("partial", 0) == 0;
        EXPECT_EQ(nft[0].find("comment \"" + id + "\"") != std::string::npos, blocked) << id << ": " << verdict;
    }
    EXPECT_NE(out.find("TO ALLOW WHAT WAS BLOCKED (nft;"), std::string::npos) << out;
}

TEST_F(ProbeNetns, ARequestTheProbingHostItselfRefusesIsNotTheFirewalls) {
    // The path passes everything, but the probing host's own firewall drops
    // its outgoing UDP to 443: send() fails (EPERM) and nothing reaches the
    // wire or the capture. The path never said no: Whereby's UDP TURN entry
    // must not read blocked, and the run says why its probe is missing.
    firewall({});
    ASSERT_EQ(run({"ip", "netns", "exec", c_, "nft",
                   "add table inet cwhost; add chain inet cwhost out { type filter hook output priority 0; }; "
                   "add rule inet cwhost out udp dport 443 drop"}),
              0);
    TempDb db;
    std::string out;
    probe(db.path(), &out, {"--entry", "whereby.turn.udp", "--entry", "whereby.turn.tcp"});
    const auto v = verdicts(db.path());
    ASSERT_TRUE(v.count("whereby.turn.udp")) << out;
    EXPECT_EQ(v.at("whereby.turn.udp").substr(0, 13), "not_exercised") << v.at("whereby.turn.udp") << "\n" << out;
    ASSERT_TRUE(v.count("whereby.turn.tcp")) << out;
    EXPECT_EQ(v.at("whereby.turn.tcp").substr(0, 8), "observed") << v.at("whereby.turn.tcp");
    EXPECT_EQ(query_rows(db.path(), "SELECT count(*) FROM flow WHERE transport = 'udp' AND server_port = 443"),
              std::vector<std::string>{"0"});
    const auto notes = query_rows(db.path(), "SELECT notes FROM run");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("probe(s) had a request this machine's kernel refused to send (Operation not permitted)"),
              std::string::npos)
        << notes[0];
    EXPECT_NE(out.find("not-captured"), std::string::npos) << out;
    EXPECT_NE(out.find("refused by this machine's kernel: Operation not permitted"), std::string::npos) << out;
}

TEST_F(ProbeNetns, ATcpAndAUdpProbeFromOneLocalPortAreJudgedApart) {
    // TCP and UDP number their ports apart: a TCP probe and a UDP probe to
    // the same server port can leave from the same local port. The client's
    // ephemeral range is one port here, so they do. The TCP probe is
    // answered, the UDP one dropped: the TCP socket's answer must not stand
    // for the UDP flow (a false "observed"), nor its flow count for the UDP
    // entry.
    ASSERT_EQ(run({"ip", "netns", "exec", c_, "sysctl", "-qw", "net.ipv4.ip_local_port_range=45000 45000"}), 0);
    firewall({"udp dport != 53 drop"});
    TempDb db;
    std::string out;
    probe(db.path(), &out, {"--entry", "whereby.turn.udp", "--entry", "whereby.turn.tcp"});
    EXPECT_EQ(query_rows(db.path(),
                         "SELECT transport || ' ' || client_port || ' ' || outcome FROM flow "
                         "WHERE server_port = 443 ORDER BY transport"),
              (std::vector<std::string>{"tcp 45000 observed", "udp 45000 blocked:stun-timeout"}))
        << out;
    const auto v = verdicts(db.path());
    ASSERT_TRUE(v.count("whereby.turn.udp")) << out;
    EXPECT_EQ(v.at("whereby.turn.udp").substr(0, 7), "blocked") << v.at("whereby.turn.udp") << "\n" << out;
    ASSERT_TRUE(v.count("whereby.turn.tcp")) << out;
    EXPECT_EQ(v.at("whereby.turn.tcp").substr(0, 8), "observed") << v.at("whereby.turn.tcp") << "\n" << out;
}

TEST_F(ProbeNetns, MiddleboxAnsweringStunIsIntercepted) {
    // A STUN server inside the firewall, and every UDP probe DNATed to it:
    // it answers STUN like the real one, without the token.
    ASSERT_NO_FATAL_FAILURE(middlebox_for("udp"));
    firewall({});
    TempDb db;
    std::string out;
    probe(db.path(), &out);
    std::filesystem::remove(log_ + ".mb");
    EXPECT_NE(out.find("intercepted"), std::string::npos) << out;
    const auto notes = query_rows(db.path(), "SELECT notes FROM run");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("intercepted: whereby.turn.udp"), std::string::npos) << notes[0];
    // TCP went through to the real reflector: no interception reported for it.
    EXPECT_EQ(notes[0].find("intercepted: whereby.turn.tcp"), std::string::npos) << notes[0];
    // An answer from the middlebox does not show the way open: the UDP
    // entries are inconclusive, not observed, and say why.
    for (const char* e : {"whereby.turn.udp", "whereby.turn-sfu-highport.udp"}) {
        const auto rows = query_rows(
            db.path(), "SELECT verdict || ' | ' || why FROM verdict WHERE entry_id = '" + std::string(e) + "'");
        ASSERT_EQ(rows.size(), 1u) << e;
        EXPECT_EQ(rows[0].rfind("inconclusive | ", 0), 0u) << e << ": " << rows[0];
        EXPECT_NE(rows[0].find("came from a middlebox on the path, not the reflector (intercepted)"), std::string::npos)
            << e << ": " << rows[0];
    }
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id = 'whereby.turn.tcp'"),
              std::vector<std::string>{"observed"});
}

TEST_F(ProbeNetns, TransparentTcpProxyIsInterceptedNotObserved) {
    // A middlebox in the firewall that completes every TCP handshake itself
    // (a transparent proxy): a second reflector with another key, which
    // refuses the challenge and stays silent, and every TCP probe DNATed to it. Its SYN-ACK alone once read "observed"; without
    // the reflector's token the TCP entries are inconclusive.
    ASSERT_NO_FATAL_FAILURE(middlebox_for("tcp"));
    firewall({});
    TempDb db;
    std::string out;
    probe(db.path(), &out);
    std::filesystem::remove(log_ + ".mb");
    const auto notes = query_rows(db.path(), "SELECT notes FROM run");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("intercepted: whereby.turn.tcp"), std::string::npos) << notes[0];
    EXPECT_NE(notes[0].find("no reflector token in 1.5 s"), std::string::npos) << notes[0];
    for (const char* e : {"whereby.turn.tcp", "whereby.signaling.tcp"}) {
        const auto rows = query_rows(
            db.path(), "SELECT verdict || ' | ' || why FROM verdict WHERE entry_id = '" + std::string(e) + "'");
        ASSERT_EQ(rows.size(), 1u) << e;
        EXPECT_EQ(rows[0].rfind("inconclusive | ", 0), 0u) << e << ": " << rows[0];
        EXPECT_NE(rows[0].find("(intercepted)"), std::string::npos) << e << ": " << rows[0];
    }
    // UDP went through to the real reflector, its token intact.
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id = 'whereby.turn.udp'"),
              std::vector<std::string>{"observed"});
}

TEST_F(ProbeNetns, TwoVendorsThroughOneReflectorKeepTheirFlowsApart) {
    // Through one reflector address every flow carries both vendors' probed
    // names. Sendbird's media port 5349 is dropped: its probe is blocked, and
    // it must not count against Whereby's 1024-65535 entry (it once made it
    // 'partial' — a false alarm), nor a flow serve two entries.
    firewall({"udp dport 5349 drop"});
    TempDb db;
    std::string out;
    probe(db.path(), &out, {"--vendor", "sendbird"});
    EXPECT_EQ(
        query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id = 'sendbird-calls.media-direct-call.udp'"),
        std::vector<std::string>{"blocked"})
        << out;
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id = 'whereby.turn-sfu-highport.udp'"),
              std::vector<std::string>{"observed"})
        << out;
    EXPECT_TRUE(
        query_rows(db.path(), "SELECT flow_id FROM flow_match WHERE counted = 1 GROUP BY flow_id HAVING count(*) > 1")
            .empty())
        << "a probe's flow counts for the one entry it was sent for";
    // Every probe sent for an entry is judged for it, whatever entry shares
    // the address: Sendbird's P2P entry (destination ANY) has its own verdict.
    EXPECT_EQ(query_rows(db.path(), "SELECT verdict FROM verdict WHERE entry_id = 'sendbird-calls.p2p-stun.udp'"),
              std::vector<std::string>{"observed"})
        << out;
    // The other vendor's names still show as matches, listed but not counted.
    EXPECT_FALSE(
        query_rows(db.path(),
                   "SELECT m.flow_id FROM flow_match m JOIN flow f ON f.run_id = m.run_id AND f.id = m.flow_id "
                   "WHERE f.server_port = 5349 AND m.entry_id = 'whereby.turn-sfu-highport.udp' AND "
                   "m.counted = 0")
            .empty());
}

TEST_F(ProbeNetns, OverIpv6ThroughAnIpv6Reflector) {
    if (!have_ipv6_) GTEST_SKIP() << "IPv6 cannot be set up in these namespaces";
    // A second reflector on the cloud host's IPv6 address (its own ip6 DNAT
    // table); the firewall drops new IPv6 UDP to 1024-65535.
    ASSERT_NO_FATAL_FAILURE(start_reflector(kCloud6, log_ + ".v6", reflector6_));
    firewall({"ct state established,related accept", "meta nfproto ipv6 udp dport 1024-65535 drop"});
    TempDb db;
    std::string out;
    const int rc = probe(db.path(), &out, {}, kCloud6);
    std::filesystem::remove(log_ + ".v6");
    ASSERT_EQ(rc, 0) << out;
    const auto v = verdicts(db.path());
    EXPECT_EQ(v.at("whereby.turn.udp"), "observed\t[]") << out;
    EXPECT_EQ(v.at("whereby.turn.tcp"), "observed\t[]") << out;
    EXPECT_EQ(v.at("whereby.signaling.tcp"), "observed\t[]") << out;
    EXPECT_EQ(v.at("whereby.turn-sfu-highport.udp"), "blocked\t[\"stun-timeout\"]") << out;
    // The flows are the IPv6 ones, named by the AAAA answers the probe recorded.
    EXPECT_TRUE(query_rows(db.path(),
                           "SELECT id FROM flow WHERE transport IN ('tcp','udp') AND server_port <> 53 "
                           "AND server_ip <> '" +
                               std::string(kCloud6) + "'")
                    .empty());
    EXPECT_EQ(query_rows(db.path(), "SELECT DISTINCT rrtype || ' ' || answer FROM dns_answer"),
              std::vector<std::string>{"AAAA " + std::string(kCloud6)});
    EXPECT_NE(out.find("tls           " + std::string(kCloud6)), std::string::npos) << out;
}

TEST_F(ProbeNetns, PacingBudgetAndOnlyAllowedDestinations) {
    firewall({});
    TempDb db;
    const std::string pcap = db.path() + ".pcap";
    std::string out;
    constexpr double kRate = 5;
    ASSERT_EQ(probe(db.path(), &out, {"--rate", "5", "--budget", "12", "--ports-per-range", "8", "--keep-pcap", pcap}),
              0)
        << out;
    // Probe starts: the first packet of each client port toward the reflector.
    std::map<uint32_t, int64_t> first_us;  // proto << 16 | client port -> first timestamp
    size_t frames = 0, to_reflector = 0;
    auto src = capture::PcapSource::open_file(pcap);
    decode::RawFrame fr;
    for (int guard = 0; guard < 100000 && src->next(fr) == capture::NextStatus::Frame; ++guard) {
        ++frames;
        ASSERT_GE(fr.caplen, 14u + 20 + 4);
        const uint8_t* ip = fr.bytes.data() + 14;
        char src_ip[16], dst_ip[16];
        std::snprintf(src_ip, sizeof src_ip, "%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
        std::snprintf(dst_ip, sizeof dst_ip, "%u.%u.%u.%u", ip[16], ip[17], ip[18], ip[19]);
        const std::string s(src_ip), d(dst_ip);
        if (s == kClient && d == kClient) continue;  // the probe's own DNS record frames
        ASSERT_TRUE((s == kClient && d == kCloud) || (s == kCloud && d == kClient)) << s << " -> " << d;
        if (s != kClient) continue;
        ++to_reflector;
        const uint32_t key = uint32_t{ip[9]} << 16 | (uint32_t{ip[20]} << 8 | ip[21]);
        first_us.emplace(key, fr.ts_us);
    }
    std::filesystem::remove(pcap);
    EXPECT_GT(to_reflector, 0u);
    EXPECT_EQ(first_us.size(), 12u) << "budget 12: one client port per probe";
    std::vector<int64_t> starts;
    for (const auto& [k, t] : first_us) starts.push_back(t);
    std::sort(starts.begin(), starts.end());
    // Token bucket of depth one at 5/s: the 12 probes span at least 10 of its
    // 200 ms intervals from the first to the last (one token may be saved up).
    // Not a gap per pair: on a loaded machine a frame's capture time lags its
    // send by tens of ms, which shortens one gap and lengthens the next;
    // delays only lengthen the span, and the spare interval absorbs a late
    // first frame. An unpaced probe sends all 12 within milliseconds.
    ASSERT_GE(starts.size(), 2u);
    EXPECT_GE(starts.back() - starts.front(), static_cast<int64_t>((starts.size() - 2) * (1e6 / kRate)));
    // Nothing left the client for any other address (the firewall counted it).
    std::string fw;
    {
        const std::string log = db.path() + ".nft";
        run({"ip", "netns", "exec", f_, "nft", "list", "chain", "inet", "cwp", "cwpfwd"}, 10s, log);
        fw = read_file(log);
        std::filesystem::remove(log);
    }
    EXPECT_NE(fw.find("counter packets 0 bytes 0"), std::string::npos) << fw;
    (void)frames;
}

}  // namespace
}  // namespace callwall::test
