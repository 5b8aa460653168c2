// What the reflector answers and refuses (probe/reflect_guard.hpp), without
// a network: unauthenticated, forged, stale, replayed and over-rate requests
// get nothing; authenticated ones get an answer no larger than the request,
// carrying a token the probe accepts. And the redirect table's shape: the
// host's own services left out of the ranges, a wildcard address.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "probe/address.hpp"
#include "probe/reflect_guard.hpp"
#include "probe/reflector.hpp"
#include "probe/wire.hpp"

namespace callwall::probe {
namespace {

constexpr std::array<uint8_t, 4> kFrom{198, 51, 100, 20};
constexpr int64_t kNow = 1'800'000'000;

ByteView from() { return ByteView(kFrom.data(), kFrom.size()); }

TEST(ReflectGuard, UnauthenticatedRequestsGetNothing) {
    ReflectGuard g("K1");
    const auto tid = new_transaction_id();
    for (bool allocate : {false, true})
        EXPECT_FALSE(g.answer_stun(ByteView(stun_request(tid, allocate)), from(), 5000, "n", 1.0, kNow));
    // A bare 20-byte Binding request, as an amplification attack sends it.
    std::vector<uint8_t> bare = stun_request(tid, false);
    bare.resize(20);
    bare[2] = bare[3] = 0;
    EXPECT_FALSE(g.answer_stun(ByteView(bare), from(), 5000, "n", 1.0, kNow));
    const GuardCounts c = g.take_counts();
    EXPECT_EQ(c.unauthenticated, 3u);
    EXPECT_EQ(c.answered, 0u);
    EXPECT_EQ(to_string(c), "answered 0; refused 3: 3 unauthenticated");
}

TEST(ReflectGuard, AuthenticatedRequestsAreAnsweredOnceAndNoLarger) {
    ReflectGuard g("K1");
    const auto v6 = parse_address("2001:db8::20", 5000);
    ASSERT_TRUE(v6);
    for (bool allocate : {false, true})
        for (const ByteView ip : {from(), v6->ip()}) {
            const auto tid = new_transaction_id();
            const auto req = stun_request(tid, allocate, "K1", 40000);
            ASSERT_EQ(req.size(), kAuthRequestSize);
            const auto answer = g.answer_stun(ByteView(req), ip, 5000, "0123456789abcdef", 1.0, unix_now_s());
            ASSERT_TRUE(answer) << "allocate " << allocate << ", address of " << ip.size() << " bytes";
            EXPECT_LE(answer->size(), req.size());
            const StunAnswer a = read_stun_answer(ByteView(*answer), tid, "K1");
            EXPECT_TRUE(a.stun);
            EXPECT_TRUE(a.token_valid);
            EXPECT_EQ(a.success, !allocate);
            // The same bytes again: a replay, refused.
            EXPECT_FALSE(g.answer_stun(ByteView(req), ip, 5000, "0123456789abcdef", 2.0, unix_now_s()));
        }
    const GuardCounts c = g.take_counts();
    EXPECT_EQ(c.answered, 4u);
    EXPECT_EQ(c.replayed, 4u);
    EXPECT_EQ(c.refused(), 4u);
}

TEST(ReflectGuard, RetransmissionsCarryBlocksOfTheirOwn) {
    // A probe resends its transaction with a fresh block each time: each
    // send is answered, though the transaction id is the same.
    ReflectGuard g("K1");
    const auto tid = new_transaction_id();
    for (int i = 0; i < 4; ++i)
        EXPECT_TRUE(
            g.answer_stun(ByteView(stun_request(tid, false, "K1", 3478)), from(), 5000, "n", 1.0 + i, unix_now_s()))
            << i;
}

TEST(ReflectGuard, WrongKeyTamperedStaleAreRefused) {
    ReflectGuard g("K1");
    const auto tid = new_transaction_id();
    EXPECT_FALSE(g.answer_stun(ByteView(stun_request(tid, false, "NOT-K1", 3478)), from(), 1, "n", 1.0, unix_now_s()));
    // Another port than the one the MAC covers (the port field sits first
    // in the auth attribute's value, after the 20-byte header, REQUESTED-
    // TRANSPORT-less Binding's SOFTWARE (20) and the attribute header (4)).
    auto req = stun_request(tid, false, "K1", 3478);
    auto moved = req;
    moved[20 + 20 + 4 + 1] ^= 1;
    EXPECT_FALSE(g.answer_stun(ByteView(moved), from(), 1, "n", 1.0, unix_now_s()));
    // Another transaction id than the one the MAC covers.
    auto other = req;
    other[8] ^= 1;
    EXPECT_FALSE(g.answer_stun(ByteView(other), from(), 1, "n", 1.0, unix_now_s()));
    // The reflector's clock more than kAuthFreshS away, either way.
    EXPECT_FALSE(g.answer_stun(ByteView(req), from(), 1, "n", 1.0, unix_now_s() + kAuthFreshS + 2));
    EXPECT_FALSE(g.answer_stun(ByteView(req), from(), 1, "n", 1.0, unix_now_s() - kAuthFreshS - 2));
    GuardCounts c = g.take_counts();
    EXPECT_EQ(c.bad_mac, 3u);
    EXPECT_EQ(c.stale, 2u);
    EXPECT_EQ(c.answered, 0u);
    // Within the window it is answered.
    EXPECT_TRUE(g.answer_stun(ByteView(req), from(), 1, "n", 1.0, unix_now_s() + kAuthFreshS - 2));
}

TEST(ReflectGuard, EachSourceHasABucket) {
    GuardLimits l;
    l.per_source_rate = 10;
    l.per_source_burst = 10;
    ReflectGuard g("K1", l);
    const auto ask = [&](ByteView ip, double t) {
        return g
            .answer_stun(ByteView(stun_request(new_transaction_id(), false, "K1", 3478)), ip, 1, "n", t, unix_now_s())
            .has_value();
    };
    int answered = 0;
    for (int i = 0; i < 25; ++i) answered += ask(from(), 100.0);
    EXPECT_EQ(answered, 10);
    // Another source is not held back by the first one's use.
    const std::array<uint8_t, 4> other{198, 51, 100, 21};
    EXPECT_TRUE(ask(ByteView(other.data(), 4), 100.0));
    // Half a second later, five more tokens.
    answered = 0;
    for (int i = 0; i < 25; ++i) answered += ask(from(), 100.5);
    EXPECT_EQ(answered, 5);
    EXPECT_EQ(g.take_counts().over_rate, 35u);
}

TEST(ReflectGuard, TheTableOfSourcesIsBounded) {
    GuardLimits l;
    l.max_sources = 4;
    l.per_source_rate = 1;
    l.per_source_burst = 1;
    ReflectGuard g("K1", l);
    int answered = 0;
    for (uint8_t i = 0; i < 8; ++i) {
        const std::array<uint8_t, 4> ip{203, 0, 113, i};
        answered += g.answer_stun(ByteView(stun_request(new_transaction_id(), false, "K1", 3478)),
                                  ByteView(ip.data(), 4), 1, "n", 50.0, unix_now_s())
                        .has_value();
    }
    EXPECT_EQ(answered, 4);
    // Once the first buckets are full again, they make room.
    const std::array<uint8_t, 4> late{203, 0, 113, 99};
    EXPECT_TRUE(g.answer_stun(ByteView(stun_request(new_transaction_id(), false, "K1", 3478)), ByteView(late.data(), 4),
                              1, "n", 52.0, unix_now_s()));
}

TEST(ReflectGuard, TcpChallengesAreBoundToTheirPort) {
    ReflectGuard g("K1");
    const Challenge c = new_challenge("K1", 443);
    EXPECT_EQ(g.admit(AuthScope::Tcp, 443, ByteView(), c, from(), 1.0, unix_now_s()), Refusal::None);
    EXPECT_EQ(g.admit(AuthScope::Tcp, 443, ByteView(), c, from(), 1.0, unix_now_s()), Refusal::Replayed);
    const Challenge d = new_challenge("K1", 443);
    EXPECT_EQ(g.admit(AuthScope::Tcp, 8443, ByteView(), d, from(), 1.0, unix_now_s()), Refusal::BadMac);
    // A UDP block is no TCP challenge.
    EXPECT_EQ(g.admit(AuthScope::Udp, 443, ByteView(), d, from(), 1.0, unix_now_s()), Refusal::BadMac);
    // Any 32 bytes a client chose: refused, so no MAC over them comes back.
    Challenge chosen{};
    chosen.fill(0x41);
    EXPECT_EQ(g.admit(AuthScope::Tcp, 443, ByteView(), chosen, from(), 1.0, unix_now_s()), Refusal::BadMac);
}

TEST(ReflectGuard, TheReplayWindowOutlivesTheFreshnessWindow) {
    ReflectGuard g("K1");
    const auto req = stun_request(new_transaction_id(), false, "K1", 3478);
    const int64_t sent = unix_now_s();
    ASSERT_TRUE(g.answer_stun(ByteView(req), from(), 1, "n", 1000.0, sent));
    // Replayed as late as its clock still passes (up to 2 × kAuthFreshS after
    // the original was answered, when the reflector's clock ran behind):
    // the nonce is still remembered.
    for (double later : {1.0, 30.0, 59.0, 61.0}) {
        const int64_t t = sent + static_cast<int64_t>(later) / 2;
        EXPECT_FALSE(g.answer_stun(ByteView(req), from(), 1, "n", 1000.0 + later, t)) << later;
    }
    EXPECT_EQ(g.take_counts().replayed, 4u);
}

TEST(ReflectRuleset, ServicesOfTheHostAreLeftOutUnlessNamedAlone) {
    std::vector<uint16_t> out;
    const auto r = without_services({{1, 65535}}, {22, 5432}, &out);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].lo, 1);
    EXPECT_EQ(r[0].hi, 21);
    EXPECT_EQ(r[1].lo, 23);
    EXPECT_EQ(r[1].hi, 5431);
    EXPECT_EQ(r[2].lo, 5433);
    EXPECT_EQ(r[2].hi, 65535);
    EXPECT_EQ(out, (std::vector<uint16_t>{22, 5432}));
    out.clear();
    const auto named = without_services({{22, 22}, {1, 1024}}, {22, 80}, &out);
    EXPECT_EQ(out, (std::vector<uint16_t>{80}));
    ASSERT_EQ(named.size(), 3u);  // 22 alone, 1-79, 81-1024
    EXPECT_EQ(named[0].lo, 22);
    EXPECT_EQ(named[1].hi, 79);
    EXPECT_EQ(named[2].lo, 81);
    // A service at a range's edge.
    out.clear();
    const auto edge = without_services({{1024, 2048}}, {1024, 2048}, &out);
    ASSERT_EQ(edge.size(), 1u);
    EXPECT_EQ(edge[0].lo, 1025);
    EXPECT_EQ(edge[0].hi, 2047);
}

TEST(ReflectRuleset, ListeningSocketsOfThisHostAreFound) {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    SockAddr a = *parse_address("127.0.0.1", 0);
    ASSERT_EQ(::bind(s, a.get(), a.len), 0);
    ASSERT_EQ(::listen(s, 1), 0);
    socklen_t len = sizeof a.ss;
    ASSERT_EQ(::getsockname(s, a.get(), &len), 0);
    const uint16_t port = a.port();
    const auto has = [port](const std::vector<uint16_t>& v) { return std::find(v.begin(), v.end(), port) != v.end(); };
    EXPECT_TRUE(has(local_service_ports(IPPROTO_TCP, "127.0.0.1")));
    EXPECT_TRUE(has(local_service_ports(IPPROTO_TCP, "0.0.0.0")));
    EXPECT_FALSE(has(local_service_ports(IPPROTO_TCP, "127.0.0.2")));
    EXPECT_FALSE(has(local_service_ports(IPPROTO_UDP, "127.0.0.1")));
    ::close(s);
}

TEST(ReflectRuleset, AWildcardAddressRedirectsEveryLocalAddress) {
    ReflectOptions o;
    o.listen = "0.0.0.0";
    o.udp = {{3478, 3478}, {10000, 65535}};
    const std::string r = nft_ruleset(o);
    EXPECT_NE(r.find("fib daddr type local udp dport { 3478, 10000-65535 } redirect to :30999"), std::string::npos)
        << r;
    EXPECT_EQ(r.find("flags owner"), std::string::npos) << "a printed table is the administrator's to keep";
    EXPECT_NE(nft_ruleset(o, true).find("flags owner"), std::string::npos);
    EXPECT_TRUE(is_wildcard("::"));
    EXPECT_FALSE(is_wildcard("::1"));
}

}  // namespace
}  // namespace callwall::probe
