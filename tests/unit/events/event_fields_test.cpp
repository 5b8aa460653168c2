// The flow lines' Zeek-named fields mean what Zeek's conn.log means, and their
// Community IDs are the spec's, on captures/zeek_fields.pcap (one flow per
// case, see tools/gen_captures.py): payload bytes, conn_state, history, the
// ICMP "ports", for TCP, UDP, ICMP and ICMPv6.
//
// The Community ID is computed here a second time by an implementation
// written from corelight/community-id-spec (README, "Pseudo code" and
// "Technical details"; the ICMP type mapping of its reference implementation,
// pycommunityid's icmp.py and icmp6.py), not from events/community_id.cpp,
// and checked against the IDs tshark 4.0.17 gives the same packets
// (`tshark --enable-protocol communityid -T fields -e communityid`).
#include <arpa/inet.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capture/pcap_source.hpp"
#include "golden/run_util.hpp"
#include "events/event_sink.hpp"
#include "run/flow_ends.hpp"
#include "unit/corpus.hpp"

namespace callwall::pipeline::event_fields_test {
namespace {

using events::EventSink;

namespace fs = std::filesystem;
using nlohmann::json;

// ---- Community ID v1, from the spec ------------------------------------------

std::vector<uint8_t> packed(const std::string& text) {
    std::vector<uint8_t> out(text.find(':') != std::string::npos ? 16 : 4);
    EXPECT_EQ(inet_pton(out.size() == 16 ? AF_INET6 : AF_INET, text.c_str(), out.data()), 1) << text;
    return out;
}

std::string spec_base64(const uint8_t* p, size_t n) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < n; i += 3) {
        const uint32_t v =
            (uint32_t{p[i]} << 16) | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) | (i + 2 < n ? uint32_t{p[i + 2]} : 0);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
        out += i + 2 < n ? kAlphabet[v & 63] : '=';
    }
    return out;
}

// pycommunityid's TYPE_MAPPER tables: a type with a counterpart is two-way.
int spec_counterpart(int proto, int type) {
    static const std::map<int, int> v4 = {{8, 0},   {0, 8},  {13, 14}, {14, 13}, {15, 16},
                                          {16, 15}, {10, 9}, {9, 10},  {17, 18}, {18, 17}};
    static const std::map<int, int> v6 = {{128, 129}, {129, 128}, {130, 131}, {131, 130}, {133, 134}, {134, 133},
                                          {135, 136}, {136, 135}, {139, 140}, {140, 139}, {144, 145}, {145, 144}};
    const auto& m = proto == 1 ? v4 : v6;
    const auto it = m.find(type);
    return it == m.end() ? -1 : it->second;
}

// sha1(seed . saddr . daddr . proto . 0 . sport . dport), the smaller
// address:port first unless the ICMP message is one-way.
std::string spec_community_id(const std::string& saddr, int sport, const std::string& daddr, int dport, int proto,
                              bool one_way = false) {
    std::vector<uint8_t> s = packed(saddr), d = packed(daddr);
    if (!one_way && (d < s || (d == s && dport < sport))) {
        std::swap(s, d);
        std::swap(sport, dport);
    }
    std::vector<uint8_t> in = {0, 0};  // seed 0
    in.insert(in.end(), s.begin(), s.end());
    in.insert(in.end(), d.begin(), d.end());
    in.push_back(static_cast<uint8_t>(proto));
    in.push_back(0);
    for (int port : {sport, dport}) {
        in.push_back(static_cast<uint8_t>(port >> 8));
        in.push_back(static_cast<uint8_t>(port));
    }
    std::array<uint8_t, SHA_DIGEST_LENGTH> digest{};
    SHA1(in.data(), in.size(), digest.data());
    return "1:" + spec_base64(digest.data(), digest.size());
}

// An ICMP message as the spec hashes it: type and counterpart (or code).
std::string spec_icmp_id(const std::string& sender, const std::string& receiver, int proto, int type, int code) {
    const int pair = spec_counterpart(proto, type);
    return pair >= 0 ? spec_community_id(sender, type, receiver, pair, proto)
                     : spec_community_id(sender, type, receiver, code, proto, true);
}

TEST(SpecCommunityId, OwnImplementationMatchesThePublishedVectors) {
    // baseline/baseline_deflt.json of corelight/community-id-spec.
    EXPECT_EQ(spec_community_id("128.232.110.120", 34855, "66.35.250.204", 80, 6), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    EXPECT_EQ(spec_icmp_id("192.168.0.89", "192.168.0.1", 1, 8, 0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    EXPECT_EQ(spec_icmp_id("192.168.0.1", "192.168.0.89", 1, 0, 0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    EXPECT_EQ(spec_icmp_id("10.0.0.1", "10.0.0.2", 1, 11, 0), "1:YHxtAirCG//0OzkcVAukqKQN9xM=");
    EXPECT_EQ(spec_icmp_id("fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 58, 135, 0),
              "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
    EXPECT_EQ(spec_icmp_id("3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 58, 1, 4),
              "1:hLZd0XGWojozrvxqE0dWB1iM6R0=");
}

// ---- the capture's flow lines --------------------------------------------------

std::vector<json> flow_lines(const std::string& capture) {
    const fs::path out = fs::temp_directory_path() / ("callwall-event-fields-" + std::to_string(::getpid()) + ".jsonl");
    fs::remove(out);
    {
        events::EventLog log(out.string());
        EXPECT_TRUE(log.ok()) << log.error();
        EventSink sink(log, &test::bundled_catalog(), 1);
        AnalyzerConfig cfg;
        cfg.extra_sink = &sink;
        run::FlowEnds ends(nullptr, nullptr, &sink);
        Analyzer a({nullptr, &ends}, cfg);
        auto src = capture::PcapSource::open_file(capture);
        decode::RawFrame fr;
        while (src->next(fr) == capture::NextStatus::Frame) a.process(fr);
        a.finish();
    }
    std::vector<json> lines;
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        json j = json::parse(line);
        if (j.at("event") == "flow") lines.push_back(std::move(j));
    }
    fs::remove(out);
    return lines;
}

struct Expected {
    const char *proto, *orig_h;
    int orig_p;
    const char* resp_h;
    int resp_p;
    const char *conn_state, *history;
    uint64_t orig_pkts, orig_bytes, resp_pkts, resp_bytes;
    const char* tshark_id;  ///< tshark's Community ID of the flow's packets
};

// tools/gen_captures.py cap_zeek_fields, flow by flow.
const Expected kFlows[] = {
    // TCP: handshake, 517 bytes out, 1200 back, FIN both ways. Zeek: ShADadFf.
    {"tcp", "10.1.0.10", 49300, "192.0.2.10", 443, "SF", "ShADadFf", 6, 517, 4, 1200, "1:nGGRfCUjt3L3YjflwOrIhDn9Fkw="},
    {"tcp", "10.1.0.10", 49301, "192.0.2.22", 443, "REJ", "Sr", 1, 0, 1, 0, "1:YfE2zzWt50Kk50nkZveykDcurAE="},
    {"udp", "10.1.0.10", 53100, "192.0.2.53", 53, "SF", "Dd", 1, 30, 1, 60, "1:2VIVLt3JsFpFk1Bd9G3Dbb5GZZA="},
    {"udp", "10.1.0.10", 53101, "192.0.2.30", 3478, "S0", "D", 1, 20, 0, 0, "1:fKTHfAdRSTp02BYHv9/ALPuAPnU="},
    // Echo: Zeek's ports are the type and its counterpart, not the identifier.
    {"icmp", "10.1.0.10", 8, "192.0.2.40", 0, "OTH", "", 1, 56, 1, 56, "1:ZwCK7Zy/3MGPVtphfTa1IqiEMKw="},
    {"icmp", "10.1.0.10", 13, "192.0.2.41", 14, "OTH", "", 1, 12, 1, 12, "1:/AAs39HNzna0y9qAEV45Aa6Hg/E="},
    // A redirect has no counterpart: type and code, hashed as sent.
    {"icmp", "10.1.0.1", 5, "10.1.0.10", 1, "OTH", "", 1, 28, 0, 0, "1:l7i4b8ExGnCsIo3j3sM6gUFasps="},
    {"icmp", "2001:db8:1::10", 128, "2001:db8:2::10", 129, "OTH", "", 1, 56, 1, 56, "1:XRbEC5ODBxO/ZJLiYfFvwU9w0WE="},
    {"icmp", "2001:db8:1::10", 135, "2001:db8:1::20", 136, "OTH", "", 1, 16, 1, 16, "1:luHq5RBBmpoizOJyVWvPScn8bwg="},
    {"icmp", "2001:db8:1::10", 143, "ff02::16", 0, "OTH", "", 1, 0, 0, 0, "1:OdlzbeQCF4boMv879jn9CItKn0o="},
};

std::string zeek_fields_capture() { return (fs::path(test::source_dir()) / "captures" / "zeek_fields.pcap").string(); }

const json* find_flow(const std::vector<json>& lines, const Expected& x) {
    for (const json& j : lines)
        if (j.at("id.orig_h") == x.orig_h && j.at("id.resp_h") == x.resp_h && j.at("id.orig_p") == x.orig_p &&
            j.at("id.resp_p") == x.resp_p && j.at("proto") == x.proto)
            return &j;
    return nullptr;
}

TEST(EventFields, ZeekNamedFieldsMeanWhatZeekMeans) {
    const std::vector<json> lines = flow_lines(zeek_fields_capture());
    // The 10 flows above and the echo reply seen alone.
    ASSERT_EQ(lines.size(), std::size(kFlows) + 1);
    for (const Expected& x : kFlows) {
        SCOPED_TRACE(std::string(x.proto) + " " + x.orig_h + ":" + std::to_string(x.orig_p) + " > " + x.resp_h + ":" +
                     std::to_string(x.resp_p));
        const json* j = find_flow(lines, x);
        ASSERT_NE(j, nullptr);
        EXPECT_EQ(j->at("conn_state"), x.conn_state);
        EXPECT_EQ(j->at("history"), x.history);
        EXPECT_EQ(j->at("orig_pkts"), x.orig_pkts);
        EXPECT_EQ(j->at("orig_bytes"), x.orig_bytes);
        EXPECT_EQ(j->at("resp_pkts"), x.resp_pkts);
        EXPECT_EQ(j->at("resp_bytes"), x.resp_bytes);
        // IP bytes: the payload plus at least a 20-byte header per packet.
        EXPECT_GE(j->at("orig_ip_bytes").get<uint64_t>(), x.orig_bytes + 20 * x.orig_pkts);
        EXPECT_GE(j->at("resp_ip_bytes").get<uint64_t>(), x.resp_bytes + 20 * x.resp_pkts);
        const std::string uid = j->at("uid");
        EXPECT_EQ(uid.size(), 18u);
        EXPECT_EQ(uid[0], 'C');
        EXPECT_EQ(j->at("community_id"), x.tshark_id);
        const std::string proto = x.proto;
        const std::string own =
            proto == "tcp" ? spec_community_id(x.orig_h, x.orig_p, x.resp_h, x.resp_p, 6)
            : proto == "udp"
                ? spec_community_id(x.orig_h, x.orig_p, x.resp_h, x.resp_p, 17)
                : spec_icmp_id(x.orig_h, x.resp_h, std::string(x.orig_h).find(':') != std::string::npos ? 58 : 1,
                               x.orig_p, x.resp_p);
        EXPECT_EQ(j->at("community_id"), own);
    }
    // An echo reply seen without its request: the requester is the
    // originator (Zeek flips the connection too), and it is the request's
    // flow for the Community ID.
    int alone = 0;
    for (const json& j : lines)
        if (j.at("proto") == "icmp" && j.at("id.resp_h") == "192.0.2.40" && j.at("orig_pkts") == 0) {
            ++alone;
            EXPECT_EQ(j.at("id.orig_h"), "10.1.0.10");
            EXPECT_EQ(j.at("id.orig_p"), 8);
            EXPECT_EQ(j.at("id.resp_p"), 0);
            EXPECT_EQ(j.at("resp_pkts"), 1);
            EXPECT_EQ(j.at("community_id"), spec_icmp_id("192.0.2.40", "10.1.0.10", 1, 0, 0));
        }
    EXPECT_EQ(alone, 1);
    // Uids are unique.
    std::map<std::string, int> uids;
    for (const json& j : lines) EXPECT_EQ(++uids[j.at("uid").get<std::string>()], 1) << j.dump();
}

}  // namespace
}  // namespace callwall::pipeline::event_fields_test
