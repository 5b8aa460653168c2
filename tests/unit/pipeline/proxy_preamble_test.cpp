// Proxy preambles before TLS (pipeline/proxy_preamble.hpp).
#include "pipeline/proxy_preamble.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callwall::pipeline::proxy {
namespace {

std::vector<uint8_t> b(std::initializer_list<int> v) {
    std::vector<uint8_t> o;
    for (int x : v) o.push_back(static_cast<uint8_t>(x));
    return o;
}
std::vector<uint8_t> s(const std::string& t) { return std::vector<uint8_t>(t.begin(), t.end()); }
std::vector<uint8_t> cat(std::vector<uint8_t> a, const std::vector<uint8_t>& c) {
    a.insert(a.end(), c.begin(), c.end());
    return a;
}

const std::vector<uint8_t> kTlsStart = b({0x16, 0x03, 0x01, 0x02, 0x00, 0x01});

TEST(ProxyPreamble, Socks5WithDomainAndAuth) {
    const auto greeting = b({5, 2, 0, 2});
    const auto auth = cat(cat(b({1, 5}), s("alice")), cat(b({6}), s("secret")));
    const auto req = cat(cat(b({5, 1, 0, 3, 11}), s("example.com")), b({1, 0xBB}));
    EXPECT_EQ(probe(greeting), Kind::Socks5);
    const auto all = cat(cat(greeting, auth), req);
    const auto with_tls = cat(all, kTlsStart);
    const Parsed p = parse_request(Kind::Socks5, with_tls);
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.length, all.size());
    EXPECT_EQ(p.target, "example.com");
    EXPECT_EQ(p.target_port, 443);
    // Every prefix of the request is NeedMore, never Done or Failed.
    for (size_t n = 0; n < all.size(); ++n)
        EXPECT_EQ(parse_request(Kind::Socks5, ByteView(all.data(), n)).status, Status::NeedMore) << n;
    const auto reply = cat(cat(b({5, 2}), b({1, 0})), b({5, 0, 0, 1, 192, 0, 2, 80, 0x9c, 0x41}));
    const Parsed r = parse_reply(Kind::Socks5, cat(reply, kTlsStart));
    ASSERT_EQ(r.status, Status::Done);
    EXPECT_EQ(r.length, reply.size());
    for (size_t n = 0; n < reply.size(); ++n)
        EXPECT_EQ(parse_reply(Kind::Socks5, ByteView(reply.data(), n)).status, Status::NeedMore) << n;
}

TEST(ProxyPreamble, Socks5AddressHasNoName) {
    const auto all = cat(b({5, 1, 0}), b({5, 1, 0, 1, 203, 0, 113, 50, 1, 0xBB}));
    const Parsed p = parse_request(Kind::Socks5, all);
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.length, all.size());
    EXPECT_TRUE(p.target.empty());
    const auto v6 = cat(b({5, 1, 0, 5, 1, 0, 4}), std::vector<uint8_t>(18, 0x20));
    EXPECT_EQ(parse_request(Kind::Socks5, v6).length, 3u + 4 + 16 + 2);
}

TEST(ProxyPreamble, Socks5Refusals) {
    EXPECT_EQ(parse_reply(Kind::Socks5, b({5, 0xFF})).status, Status::Failed);  // no method
    EXPECT_EQ(parse_reply(Kind::Socks5, b({5, 2, 1, 1})).status, Status::Failed);  // bad password
    EXPECT_EQ(parse_reply(Kind::Socks5, b({5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0})).status, Status::Failed);  // refused
    EXPECT_EQ(parse_request(Kind::Socks5, b({5, 1, 0, 5, 2, 0, 1})).status, Status::Failed);  // BIND
}

TEST(ProxyPreamble, Socks4a) {
    const auto req = cat(cat(b({4, 1, 1, 0xBB, 0, 0, 0, 1}), s("bob")), cat(b({0}), cat(s("whereby.com"), b({0}))));
    EXPECT_EQ(probe(req), Kind::Socks4);
    EXPECT_EQ(probe(cat(req, kTlsStart)), Kind::Socks4);
    const auto with_tls = cat(req, kTlsStart);
    const Parsed p = parse_request(Kind::Socks4, with_tls);
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.length, req.size());
    EXPECT_EQ(p.target, "whereby.com");
    EXPECT_EQ(p.target_port, 443);
    for (size_t n = 0; n < req.size(); ++n)
        EXPECT_EQ(parse_request(Kind::Socks4, ByteView(req.data(), n)).status, Status::NeedMore) << n;
    EXPECT_EQ(parse_reply(Kind::Socks4, b({0, 90, 0, 0, 0, 0, 0, 0, 0x16})).length, 8u);
    EXPECT_EQ(parse_reply(Kind::Socks4, b({0, 91, 0, 0, 0, 0, 0, 0})).status, Status::Failed);
}

TEST(ProxyPreamble, Socks4PlainAddress) {
    const auto req = b({4, 1, 1, 0xBB, 203, 0, 113, 50, 0});
    const Parsed p = parse_request(Kind::Socks4, req);
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.length, 9u);
    EXPECT_TRUE(p.target.empty());
    EXPECT_EQ(p.target_port, 443);
}

TEST(ProxyPreamble, HttpConnect) {
    const auto req = s("CONNECT abc.example.org:443 HTTP/1.1\r\nHost: abc.example.org:443\r\n\r\n");
    EXPECT_EQ(probe(req), Kind::HttpConnect);
    const auto with_tls = cat(req, kTlsStart);
    const Parsed p = parse_request(Kind::HttpConnect, with_tls);
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.length, req.size());
    EXPECT_EQ(p.target, "abc.example.org");
    EXPECT_EQ(p.target_port, 443);
    const auto rep = s("HTTP/1.1 200 Connection established\r\n\r\n");
    EXPECT_EQ(parse_reply(Kind::HttpConnect, cat(rep, kTlsStart)).length, rep.size());
    EXPECT_EQ(parse_reply(Kind::HttpConnect, s("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")).status,
              Status::Failed);
    EXPECT_TRUE(parse_request(Kind::HttpConnect, s("CONNECT 192.0.2.1:443 HTTP/1.1\r\n\r\n")).target.empty());
    EXPECT_TRUE(parse_request(Kind::HttpConnect, s("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n")).target.empty());
    EXPECT_EQ(parse_request(Kind::HttpConnect, s("CONNECT [2001:db8::1]:5349 HTTP/1.1\r\n\r\n")).target_port, 5349);
    EXPECT_EQ(parse_request(Kind::HttpConnect, s("CONNECT a.example:65535 HTTP/1.1\r\n\r\n")).target_port, 65535);
    for (const char* bad : {"CONNECT a.example HTTP/1.1\r\n\r\n", "CONNECT a.example:0 HTTP/1.1\r\n\r\n",
                            "CONNECT a.example:65536 HTTP/1.1\r\n\r\n", "CONNECT a.example:44x HTTP/1.1\r\n\r\n",
                            "CONNECT [2001:db8::1] HTTP/1.1\r\n\r\n"})
        EXPECT_EQ(parse_request(Kind::HttpConnect, s(bad)).target_port, 0) << bad;
    EXPECT_EQ(parse_request(Kind::HttpConnect, s("CONNECT x HTTP/1.1\r\n")).status, Status::NeedMore);
}

TEST(ProxyPreamble, EndlessHeadersAreBounded) {
    std::vector<uint8_t> big = s("CONNECT a.example:443 HTTP/1.1\r\n");
    while (big.size() < kMaxPreamble + 10) big.push_back('x');
    EXPECT_EQ(parse_request(Kind::HttpConnect, big).status, Status::Failed);
}

TEST(ProxyPreamble, ProbeRejectsOtherProtocols) {
    EXPECT_EQ(probe(s("GET / HTTP/1.1\r\n\r\n")), Kind::None);
    EXPECT_EQ(probe(kTlsStart), Kind::None);
    EXPECT_EQ(probe(b({5, 1})), Kind::None);  // truncated greeting
    EXPECT_EQ(probe(b({5, 3, 0, 1})), Kind::None);  // methods past the segment
    EXPECT_EQ(probe(b({5, 1, 0, 0x42, 0x42})), Kind::None);  // junk after the greeting
    EXPECT_EQ(probe(b({5, 1, 0x42})), Kind::None);  // unassigned method
    EXPECT_EQ(probe(b({4, 1, 0, 80, 1, 2, 3, 4, 'u'})), Kind::None);  // no NUL
    EXPECT_EQ(probe(ByteView()), Kind::None);
}

}  // namespace
}  // namespace callwall::pipeline::proxy
