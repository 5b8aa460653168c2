// Conformance with the tshark oracle over ../shared/captures/public: every
// capture is read without error and its TCP and UDP flow counts agree with
// tshark's (`summary.tcp_flows`, `summary.udp_flows` in <file>.truth.json);
// no flow that tshark shows answered is called blocked after attribution.
// Skipped, with the reason, when ../shared is absent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "attrib/run_attribution.hpp"
#include "golden/run_util.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

struct Accepted {
    int tcp, udp;
    const char* reason;
};

// Differences we accept, with the reason. Anything else fails.
const std::map<std::string, Accepted> kAcceptedDifferences = {
    {"ipfixprobe__mixed.pcap",
     {0, 30,
      "the UDP 5-tuple 10.5.5.1:67<->10.5.5.26:68 (DHCP) is used at t=77 s, 377-397 s and 697-717 s, and "
      "fe80::a2f3:c1ff:fe16:5aca:546->ff02::1:2:547 (DHCPv6) at 113-354 s and 482-834 s; callwall (like Zeek) ends a "
      "UDP flow after 120 s idle (the DHCPv6 one also idle 126 s between frames 64 and 119), tshark never splits a "
      "5-tuple: 3 + 3 flows instead of 1 + 1"}},
    {"ipfixprobe__tls.pcap",
     {34, 1,
      "the file is several captures concatenated: frames 84-139 repeat the six connections 172.16.121.155:3919-3924"
      "->87.106.189.123:443 of frames 1-83 with the same timestamps, after frames from 2020; callwall ended those "
      "flows when the capture clock passed their idle timeout and counts the copies as 6 new flows, tshark keys by "
      "5-tuple only"}},
    {"ndpi__skinny.pcap",
     {2, 5,
      "tshark splits the RTP 5-tuple 192.168.195.58:32144<->192.168.195.50:17718 into udp.streams 1 and 3 (one per "
      "direction, frames 62 and 70) because SCCP/Skinny set up a new conversation for it; it is one 5-tuple and one "
      "flow"}},
    {"ndpi__FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
     {0, 5,
      "tshark splits the single RTP/T.38 5-tuple 10.35.60.100:15580<->10.23.1.52:16756 into 8 "
      "udp.streams because SIP/SDP set up new conversations on it; it is one 5-tuple and one flow"}},
    {"mercury__geneve.pcap",
     {43, 22,
      "frames 1-2, 25-26, 38-39 are Geneve (VNI 0xa) 20.0.0.1:12618->20.0.0.2:6081 and 20.0.0.2:50525->20.0.0.1:6081 "
      "carrying ICMP echo 30.0.0.1<->30.0.0.2 (id 0x2952, seq 23-25); tshark counts the tunnel's own UDP as 2 flows "
      "because the inner packet has no UDP/TCP header, callwall decodes the tunnel and records the inner ICMP flow"}},
    {"zeek__Teredo.pcap",
     {4, 5,
      "frames 6-8 and 31 are Teredo (UDP 3544) between 192.168.2.16:3797 and the Teredo servers 65.55.158.80 and "
      "65.55.158.81 carrying ICMPv6 (router solicitations and advertisements, an echo); tshark counts the tunnel's "
      "own UDP as 2 flows because the inner packets have no UDP/TCP header, callwall decodes the tunnel and records "
      "the inner ICMPv6 flows"}},
    {"pcapplusplus__DnsPackets.pcap",
     {0, 220,
      "the UDP 5-tuple 10.0.0.1:52532->10.0.0.138:53 is used at t=855 s (frames 219-220, A clients1.google.com) and "
      "t=1193 s (frames 266, 269, A ajax.googleapis.com); callwall (like Zeek) ends a UDP flow after 120 s idle, "
      "tshark never splits a 5-tuple: 2 flows instead of 1"}},
    {"pcapplusplus__dns_over_tcp.pcapng",
     {3, 0,
      "the file stitches example packets from several captures (3 interfaces): the one-packet DNS responses of "
      "[2001:558:feed::1]:53->[2601:647:4b02:1d20:b1d3:e782:aec8:2511]:56752 in frame 1 (timestamp 0, 1970) and "
      "frame 4 (2021-02-24, same TCP seq, a \"retransmission\" to tshark) are 51 years apart; callwall ends a TCP "
      "flow after 300 s idle, tshark keys by 5-tuple only: 2 flows instead of 1"}},
    {"sngrep__aaa.pcap",
     {4, 116,
      "NetBIOS datagrams 192.168.1.2:138->192.168.1.255:138 at t=54, 775, 1493 s (frames 34, 368, 661) and "
      "192.168.1.41:138->192.168.1.255:138 at t=460 s and 1117-1181 s (frames 199, 464-486), and the SIP 5-tuple "
      "192.168.1.2:5060<->212.242.33.35:5060 idle 150 s before frame 143 and 287 s before frame 515; callwall (like "
      "Zeek) ends a UDP flow after 120 s idle, tshark never splits a 5-tuple: 3 + 2 + 3 flows instead of 1 + 1 + 1"}},
    // callwall's defect, kept visible here until fixed: IPv4 inside IPv6 is
    // not decoded.
    {"arkime__gtp-iphone.pcap",
     {4, 6,
      "tshark counts the GTP-U tunnel 127.0.1.1:2152<->127.0.1.100:2152 as a UDP flow for the G-PDUs whose inner "
      "packet is ICMP/ICMPv6 (frames 3, 4, 7, 8, 21, 83, 84, 89: router solicitation, MLD, port unreachable), "
      "callwall decodes the tunnel and records those as ICMP; and tshark splits the RTP 5-tuple "
      "[fd01::183]:19956<->[fd00:183:1:1:1886:9040:8605:32b8]:49120 into udp.streams 4 and 6 (one per direction, "
      "frames 48 and 64) because SIP/SDP (frames 40, 47) set up conversations for it; it is one 5-tuple and one "
      "flow"}},
    {"sngrep__ipv6frag.pcap",
     {0, 4,
      "both legs of the SIP call, [fd17:625c:f037:2:a00:27ff:feb9:1521]:15060<->[fd17:625c:f037:2:a00:27ff:feb9:3519]:"
      "5062 and [fd17:625c:f037:2:a00:27ff:feb9:3519]:5062<->[fd17:625c:f037:2:a00:27ff:feb9:4222]:25060, are idle "
      "160 s between the ACK (frames 29-30, t=4.6 s) and the BYE (frames 31-32, t=164.6 s); callwall (like Zeek) "
      "ends a UDP flow after 120 s idle, tshark never splits a 5-tuple: 2 + 2 flows instead of 1 + 1"}},
    {"zeek__wireshark.pcap",
     {0, 6,
      "the SIP 5-tuple 192.168.1.2:5060<->212.242.33.35:5060 (frames 1-81) is idle 150 s before frame 10, 277 s "
      "before frame 37, 188 s before frame 45 and 287 s before frame 53; callwall (like Zeek) ends a UDP flow after "
      "120 s idle, tshark never splits a 5-tuple: 5 flows instead of 1"}},
    {"ndpi__sip.pcap",
     {0, 6,
      "the SIP 5-tuple 192.168.1.2:5060<->212.242.33.35:5060 is idle 150 s between frames 9 and 10 (t=124.8 -> "
      "274.8 s) and 287 s between frames 68 and 69 (t=936.8 -> 1224.0 s); callwall (like Zeek) ends a UDP flow "
      "after 120 s idle, tshark never splits a 5-tuple: 3 flows instead of 1"}},
    {"ndpi__zoom_p2p.pcapng",
     {0, 12,
      "mDNS 192.168.12.1:5353->224.0.0.251 sends at t=39 s, 168 s and 424 s; callwall (like Zeek) ends a "
      "UDP flow after 120 s idle, tshark never splits a 5-tuple: 3 flows instead of 1"}},
};

TEST(Conformance, FlowCountsAgreeWithTshark) {
    const std::string shared = shared_dir();
    if (shared.empty()) GTEST_SKIP() << "../shared is absent: no public captures to compare with tshark";
    const std::string dir = shared + "/captures/public";
    if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " is absent";
    int agreed = 0, accepted = 0;
    for (const auto& path : oracle_captures_in(dir)) {
        const std::string name = path.filename().string();
        const auto truth = nlohmann::json::parse(read_file(path.string() + ".truth.json"));
        const int want_tcp = truth["summary"]["tcp_flows"].get<int>();
        const int want_udp = truth["summary"]["udp_flows"].get<int>();
        TempDb db;
        int64_t run = 0;
        ASSERT_NO_THROW(run = analyze_files({path.string()}, db.path())) << name;
        const auto damaged = query_rows(db.path(), "SELECT damaged_files FROM run");
        EXPECT_EQ(damaged, std::vector<std::string>{"0"}) << name << " was not read to the end";
        const int tcp = std::stoi(query_rows(db.path(), "SELECT count(*) FROM flow WHERE transport='tcp'")[0]);
        const int udp = std::stoi(query_rows(db.path(), "SELECT count(*) FROM flow WHERE transport='udp'")[0]);
        (void)run;
        if (tcp == want_tcp && udp == want_udp) {
            ++agreed;
            EXPECT_EQ(kAcceptedDifferences.count(name), 0u) << name << " now agrees: remove it from the accepted list";
            continue;
        }
        auto it = kAcceptedDifferences.find(name);
        if (it != kAcceptedDifferences.end() && it->second.tcp == tcp && it->second.udp == udp) {
            ++accepted;
            std::printf("accepted difference %s: tcp %d/%d udp %d/%d: %s\n", name.c_str(), tcp, want_tcp, udp, want_udp,
                        it->second.reason);
            continue;
        }
        ADD_FAILURE() << name << ": callwall tcp " << tcp << " udp " << udp << ", tshark tcp " << want_tcp << " udp "
                      << want_udp;
    }
    std::printf("flow counts: %d captures agree with tshark, %d accepted differences\n", agreed, accepted);
    EXPECT_GT(agreed, 0);
}

// Flows tshark shows two-way that callwall calls blocked, and why that is
// right. Key: "<file> <transport> <lower endpoint>|<higher endpoint>".
// None today: the hellos the server itself refused (mercury's top-100
// fingerprints, decode_error alerts with the server's TTL; Skype's
// pseudo-TLS reset with its SYN-ACK's TTL) are observed.
const std::map<std::string, std::string> kAcceptedBlockedTwoWay = {};

std::string endpoints(const std::string& a, int ap, const std::string& b, int bp) {
    const std::string x = a + ":" + std::to_string(ap), y = b + ":" + std::to_string(bp);
    return x < y ? x + "|" + y : y + "|" + x;
}

// TCP conversations the oracle shows in one direction only (its client's
// packets, two or more) whose client acknowledged the server all the same:
// an ACK after its SYN (a client in SYN-SENT answers only a SYN-ACK with
// one, RFC 9293 §3.10.7.3) or ACK numbers that moved on (the server's
// bytes reached it). The truth files hold no ACK numbers: tshark is asked
// for the client's (tcp.ack_raw) on those conversations alone. Key as
// kAcceptedBlockedTwoWay's; empty when tshark is not installed.
std::map<std::string, int> acknowledged_by_client(const std::string& pcap, const nlohmann::json& flows) {
    std::map<int, const nlohmann::json*> one_way;  // tcp.stream -> its flow
    for (const auto& f : flows) {
        if (f.value("transport", "") != "tcp" || !f.contains("tcp")) continue;
        const int a = f.value("pkts_a_to_b", 0), b = f.value("pkts_b_to_a", 0);
        if ((a == 0) != (b == 0) && a + b >= 2) one_way.emplace(f.value("stream", -1), &f);
    }
    std::map<std::string, int> out;
    if (one_way.empty()) return out;
    const std::string cmd = "tshark -n -r '" + pcap +
                            "' -Y 'tcp.flags.ack==1 && tcp.flags.syn==0 && tcp.flags.reset==0' -T fields "
                            "-E separator=/t -e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e tcp.ack_raw "
                            "2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    std::map<int, std::set<uint32_t>> acks;  // the client's ACK numbers per stream
    char line[512];
    for (int n = 0; n < 1'000'000 && std::fgets(line, sizeof line, p); ++n) {
        std::vector<std::string> c;
        std::stringstream ss(line);
        for (std::string x; std::getline(ss, x, '\t');) c.push_back(x);
        if (c.size() < 5) continue;
        const auto it = one_way.find(std::atoi(c[0].c_str()));
        if (it == one_way.end()) continue;
        const std::string from = (c[1].empty() ? "[" + c[2] + "]" : c[1]) + ":" + c[3];
        const std::string client = (*it->second)["tcp"].value("client", "");
        if (from != client) continue;
        acks[it->first].insert(static_cast<uint32_t>(std::strtoul(c[4].c_str(), nullptr, 10)));
    }
    ::pclose(p);
    for (const auto& [stream, values] : acks) {
        const auto& f = *one_way.at(stream);
        const bool after_syn = f["tcp"].value("syn_count", 0) > 0;
        if (!after_syn && values.size() < 2) continue;
        out.emplace("tcp " + endpoints(f["src"], f["sport"].get<int>(), f["dst"], f["dport"].get<int>()),
                    f.value("first_frame", 0));
    }
    return out;
}

// What the oracle holds per conversation (`flows`): packets each way, and for
// TCP the handshake and payload bytes of each side. Two-way is a SYN-ACK, or
// payload from both sides (TCP: a reset alone answers nothing), or UDP
// datagrams both ways, or (a capture of the client's side) a client that
// acknowledged the server (acknowledged_by_client). callwall calls such a
// flow blocked only where each side's own transactions say so (a peer's
// checks arriving while ours go unanswered), and each of those is listed
// above with its reason.
TEST(Conformance, TwoWayFlowsAreNeverBlocked) {
    const std::string shared = shared_dir();
    if (shared.empty()) GTEST_SKIP() << "../shared is absent: no public captures to compare with tshark";
    const std::string dir = shared + "/captures/public";
    if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " is absent";
    int two_way = 0, accepted = 0, by_acks = 0;
    std::set<std::string> seen_accepted;
    for (const auto& path : oracle_captures_in(dir)) {
        const std::string name = path.filename().string();
        const auto truth = nlohmann::json::parse(read_file(path.string() + ".truth.json"));
        std::map<std::string, int> answered;  // key -> first frame
        for (const auto& f : truth["flows"]) {
            const std::string t = f.value("transport", "");
            bool both = false;
            if (t == "udp") {
                both = f.value("pkts_a_to_b", 0) > 0 && f.value("pkts_b_to_a", 0) > 0;
            } else if (t == "tcp" && f.contains("tcp")) {
                const auto& tcp = f["tcp"];
                both = tcp.value("synack_count", 0) > 0 ||
                       (tcp.value("payload_bytes_client", 0) > 0 && tcp.value("payload_bytes_server", 0) > 0);
            }
            if (!both) continue;
            answered.emplace(t + " " + endpoints(f["src"], f["sport"].get<int>(), f["dst"], f["dport"].get<int>()),
                             f.value("first_frame", 0));
        }
        for (const auto& [key, frame] : acknowledged_by_client(path.string(), truth["flows"]))
            by_acks += answered.emplace(key, frame).second ? 1 : 0;
        two_way += static_cast<int>(answered.size());
        TempDb db;
        const int64_t run = analyze_files({path.string()}, db.path());
        {
            auto s = store::Store::open(db.path());
            attrib::run_attribution(*s, run, bundled_catalog());
        }
        for (const auto& r :
             query_rows(db.path(),
                        "SELECT transport, client_ip, client_port, server_ip, server_port, outcome FROM flow "
                        "WHERE outcome LIKE 'blocked%'")) {
            std::vector<std::string> c;
            std::stringstream ss(r);
            for (std::string x; std::getline(ss, x, '\t');) c.push_back(x);
            const std::string key = c[0] + " " + endpoints(c[1], std::stoi(c[2]), c[3], std::stoi(c[4]));
            const auto it = answered.find(key);
            if (it == answered.end()) continue;
            const std::string item = name + " " + key;
            if (const auto ok = kAcceptedBlockedTwoWay.find(item); ok != kAcceptedBlockedTwoWay.end()) {
                ++accepted;
                seen_accepted.insert(item);
                std::printf("accepted: %s %s: %s\n", item.c_str(), c[5].c_str(), ok->second.c_str());
                continue;
            }
            ADD_FAILURE() << item << " (first frame " << it->second << ") is two-way in tshark but " << c[5];
        }
    }
    for (const auto& [item, why] : kAcceptedBlockedTwoWay)
        EXPECT_TRUE(seen_accepted.count(item)) << item << " is no longer blocked: remove it from the accepted list";
    std::printf(
        "two-way flows in the oracle: %d (%d of them by their client's ACKs alone), blocked by callwall "
        "with a reason: %d\n",
        two_way, by_acks, accepted);
    EXPECT_GT(two_way, 900);
}

}  // namespace
}  // namespace callwall::test
