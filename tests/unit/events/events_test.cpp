// The event stream's pieces: Community ID against the published test vectors,
// the JSON lines, and the file they are appended to.
#include <arpa/inet.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "events/events.hpp"
#include "events/record_json.hpp"
#include "records/attribution.hpp"
#include "unit/corpus.hpp"

namespace callwall::events {
namespace {

decode::IpAddr ip(const char* text) {
    decode::IpAddr a;
    if (std::string_view(text).find(':') != std::string_view::npos) {
        a.family = 6;
        EXPECT_EQ(inet_pton(AF_INET6, text, a.bytes.data()), 1) << text;
    } else {
        a.family = 4;
        EXPECT_EQ(inet_pton(AF_INET, text, a.bytes.data()), 1) << text;
    }
    return a;
}

struct Vector {
    uint8_t proto;
    const char *saddr, *daddr;
    uint16_t sport, dport;
    const char *deflt, *seed1;
};

// corelight/community-id-spec, baseline/baseline_deflt.json and
// baseline_seed1.json (commit c4ec2bc40d65ddbcbdd642582bf5609797a80772, BSD-3-Clause):
// every vector with ports (TCP, UDP, SCTP, ICMP, ICMPv6), both directions.
const Vector kVectors[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
     "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135,
     "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=", "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0=", "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134,
     "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=", "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133,
     "1:pkvHqCL88/tg1k4cPigmZXUtL00=", "1:K/ee5UCqAMAQXDorP5nSa2CGLjc="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=", "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
};

TEST(CommunityId, PublishedVectors) {
    for (const auto& v : kVectors) {
        SCOPED_TRACE(testing::Message() << int(v.proto) << " " << v.saddr << ":" << v.sport << " > " << v.daddr << ":"
                                        << v.dport);
        EXPECT_EQ(community_id(ip(v.saddr), v.sport, ip(v.daddr), v.dport, v.proto), v.deflt);
        EXPECT_EQ(community_id(ip(v.saddr), v.sport, ip(v.daddr), v.dport, v.proto, 1), v.seed1);
    }
}

// Protocols without ports hash addresses and protocol only (RSVP, 46).
TEST(CommunityId, ProtocolWithoutPorts) {
    EXPECT_EQ(community_id(ip("10.1.12.1"), 0, ip("10.1.12.2"), 0, 46), "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
    EXPECT_EQ(community_id(ip("10.1.12.2"), 0, ip("10.1.12.1"), 0, 46), "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
}

TEST(EventLines, FlowHasZeekFieldsAndTheCommunityId) {
    FlowEvent f;
    f.ts = 1767225600.25;
    f.run_id = 3;
    f.flow_id = 7;
    f.uid = "CabcdefghijKLMNOPQ";
    f.orig_h = ip("192.168.1.52");
    f.orig_p = 54585;
    f.resp_h = ip("8.8.8.8");
    f.resp_p = 53;
    f.proto = 17;
    f.service = "dns";
    f.app = "dns";
    f.duration = 0.012;
    f.orig_pkts = 1;
    f.orig_bytes = 32;
    f.orig_ip_bytes = 60;
    f.resp_pkts = 1;
    f.resp_bytes = 92;
    f.resp_ip_bytes = 120;
    f.conn_state = "SF";
    f.history = "Dd";
    f.name = "dns.google";
    f.name_source = "dns";
    EXPECT_EQ(to_json(f),
              "{\"schema_version\":2,\"event\":\"flow\",\"ts\":1767225600.250000,\"run_id\":3,\"flow_id\":7,"
              "\"uid\":\"CabcdefghijKLMNOPQ\","
              "\"community_id\":\"1:d/FP5EW3wiY1vCndhwleRRKHowQ=\",\"id.orig_h\":\"192.168.1.52\",\"id.orig_p\":54585,"
              "\"id.resp_h\":\"8.8.8.8\",\"id.resp_p\":53,\"proto\":\"udp\",\"service\":\"dns\",\"app\":\"dns\","
              "\"duration\":0.012000,\"orig_pkts\":1,\"orig_bytes\":32,\"orig_ip_bytes\":60,\"resp_pkts\":1,"
              "\"resp_bytes\":92,\"resp_ip_bytes\":120,\"conn_state\":\"SF\",\"history\":\"Dd\","
              "\"name\":\"dns.google\",\"name_source\":\"dns\"}\n");
}

// SCTP's ports are not decoded: no Community ID rather than a wrong one.
TEST(EventLines, SctpFlowsHaveNoCommunityId) {
    FlowEvent f;
    f.orig_h = ip("10.0.0.1");
    f.resp_h = ip("10.0.0.2");
    f.proto = 132;
    EXPECT_NE(to_json(f).find("\"community_id\":\"\","), std::string::npos) << to_json(f);
    EXPECT_NE(to_json(f).find("\"proto\":\"unknown_transport\""), std::string::npos);
    f.proto = 47;  // GRE: addresses and protocol only, as the spec says
    EXPECT_NE(to_json(f).find("\"community_id\":\"1:"), std::string::npos) << to_json(f);
}

TEST(EventLines, ZeekServiceNames) {
    EXPECT_EQ(zeek_service("tls"), "ssl");
    EXPECT_EQ(zeek_service("stun+turn+rtp"), "stun");
    EXPECT_EQ(zeek_service("stun+turn+ms-turn+dtls+rtp+rtcp"), "stun,dtls");
    EXPECT_EQ(zeek_service("quic"), "quic");
    EXPECT_EQ(zeek_service("gquic"), "");
    EXPECT_EQ(zeek_service("rtp"), "");
    EXPECT_EQ(zeek_service(""), "");
}

TEST(EventLines, UidIsZeekShapedAndStable) {
    const std::string a = flow_uid("1/2/3"), b = flow_uid("1/2/4");
    EXPECT_EQ(a, flow_uid("1/2/3"));
    EXPECT_NE(a, b);
    ASSERT_EQ(a.size(), 18u);
    EXPECT_EQ(a[0], 'C');
    for (char c : a.substr(1)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << a;
}

// A name off the wire that is not UTF-8 (c3 28: a lead byte without its
// continuation) still gives a JSON line: U+FFFD in the string, the bytes
// escaped beside it.
TEST(EventLines, InvalidUtf8IsValidJsonWithTheRawBytesBeside) {
    NameEvent n;
    n.run_id = 1;
    n.flow_id = 2;
    n.uid = flow_uid("x");
    n.community_id = "1:d/FP5EW3wiY1vCndhwleRRKHowQ=";
    n.source = "sni";
    n.name = std::string("a\xc3\x28.example\\", 12);
    n.vendor = "V";
    const std::string line = to_json(n);
    const nlohmann::json j = nlohmann::json::parse(line);  // throws on invalid UTF-8
    EXPECT_EQ(j.at("name"), "a\xef\xbf\xbd(.example\\");
    EXPECT_EQ(j.at("name_raw"), "a\\xc3(.example\\x5c");
    // Valid UTF-8 has no _raw field and is written as it is.
    n.name = "caf\xc3\xa9.example";
    const nlohmann::json k = nlohmann::json::parse(to_json(n));
    EXPECT_EQ(k.at("name"), "caf\xc3\xa9.example");
    EXPECT_FALSE(k.contains("name_raw"));
    DnsEvent d;
    d.qname = "\xff";
    d.answer = "ok";
    const nlohmann::json dj = nlohmann::json::parse(to_json(d));
    EXPECT_EQ(dj.at("qname_raw"), "\\xff");
    EXPECT_FALSE(dj.contains("answer_raw"));
}

TEST(EventLines, Utf8Validation) {
    EXPECT_TRUE(catalog::valid_utf8("plain"));
    EXPECT_TRUE(catalog::valid_utf8("\xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(catalog::valid_utf8("\xc3\x28"));
    EXPECT_FALSE(catalog::valid_utf8("\xc3"));  // cut short
    EXPECT_FALSE(catalog::valid_utf8("\xc0\xaf"));  // overlong
    EXPECT_FALSE(catalog::valid_utf8("\xed\xa0\x80"));  // a surrogate
    EXPECT_FALSE(catalog::valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(catalog::valid_utf8("\xe2\x82"));
}

TEST(EventLines, TextIsEscapedAndEachEventIsOneLine) {
    VerdictEvent v;
    v.entry_id = "x";
    v.service = "quote \" and\nnewline";
    // The verdict record's columns: its lists as arrays, its text escaped.
    records::Verdict r;
    r.entry_id = "x";
    r.verdict = "blocked";
    r.reasons = R"(["stun-timeout","reset"])";
    r.ports_observed = r.ports_blocked = r.evidence_flows = "[]";
    r.flows_blocked = 2;
    r.why = "a \"firewall\"\nsaid no";
    append_columns(records::Verdict::kColumns, r.values(), kVerdictViewedColumns, v.columns, kVerdictJsonColumns);
    const std::string line = to_json(v);
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    EXPECT_NE(line.find("quote \\\" and\\nnewline"), std::string::npos);
    EXPECT_NE(
        line.find(
            "\"previous\":\"\",\"reasons\":[\"stun-timeout\",\"reset\"],\"flows_observed\":0,\"flows_blocked\":2,"),
        std::string::npos)
        << line;
    EXPECT_NE(line.find("\"ports_observed\":[],"), std::string::npos) << line;
    EXPECT_NE(line.find("\"why\":\"a \\\"firewall\\\"\\nsaid no\"}"), std::string::npos) << line;
    EXPECT_EQ(line.find("\"verdict\":\"blocked\""), std::string::npos) << "the record's verdict is the line's own";
}

class EventLogFile : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("callwall-events-" + std::to_string(::getpid()) + "-" +
                                                         testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    static std::string slurp(const std::filesystem::path& p) {
        std::ifstream in(p);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    std::filesystem::path dir_;
};

TEST_F(EventLogFile, AppendsAndFollowsARotatedPathOnReopen) {
    const auto path = dir_ / "events.jsonl";
    std::ofstream(path) << "an older line\n";
    EventLog log(path.string());
    ASSERT_TRUE(log.ok()) << log.error();
    log.write("one\n");
    std::filesystem::rename(path, dir_ / "events.jsonl.1");  // what logrotate does
    log.write("two\n");  // still the old file until reopened
    log.reopen();
    log.write("three\n");
    EXPECT_TRUE(log.ok());
    EXPECT_EQ(log.lines(), 3u);
    EXPECT_EQ(slurp(dir_ / "events.jsonl.1"), "an older line\none\ntwo\n");
    EXPECT_EQ(slurp(path), "three\n");
}

TEST_F(EventLogFile, RefusesAnSqliteDatabaseAndLeavesItAlone) {
    const auto path = dir_ / "run.sqlite";
    const std::string db = std::string("SQLite format 3\0", 16) + std::string(84, '\x01');
    std::ofstream(path, std::ios::binary) << db;
    EventLog log(path.string());
    EXPECT_FALSE(log.ok());
    EXPECT_NE(log.error().find("is an SQLite database"), std::string::npos) << log.error();
    log.write("never\n");
    EXPECT_EQ(slurp(path), db);
}

TEST_F(EventLogFile, AWriteErrorIsKeptAndLaterLinesAreDropped) {
    if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this machine";
    EventLog log("/dev/full");
    ASSERT_TRUE(log.ok()) << log.error();
    log.write("a\n");
    EXPECT_FALSE(log.ok());
    EXPECT_NE(log.error().find("/dev/full: No space left on device"), std::string::npos) << log.error();
    log.write("b\n");
    EXPECT_EQ(log.lines(), 0u);
}

TEST_F(EventLogFile, MissingDirectoryIsAClearError) {
    EventLog log((dir_ / "no" / "such" / "events.jsonl").string());
    EXPECT_FALSE(log.ok());
    EXPECT_NE(log.error().find("No such file or directory"), std::string::npos) << log.error();
}

}  // namespace
}  // namespace callwall::events
