// The TLS assemblers after a HelloRetryRequest (RFC 8446 §4.1.4): where a
// flight ends, and a second flight that may open with a ChangeCipherSpec.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/tls.hpp"
#include "unit/proto/fixtures.hpp"
#include "unit/test_util.hpp"

namespace callwall::proto::tls::second_flight_test {
namespace {

using callwall::test::hex;
using callwall::test::view;

// zeek__tls13-ech.pcap frame 7: a ClientHello record (outer SNI cloudflare-ech.com).
const std::vector<uint8_t> kClientRecord = hex(test::fixtures::kTlsEchClientRecord);
const std::vector<uint8_t> kChangeCipherSpec = hex("140303000101");

std::vector<uint8_t> joined(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// A HelloRetryRequest record: TLS 1.3 selected, a key share of secp256r1 asked for.
std::vector<uint8_t> hello_retry_record() {
    const std::vector<uint8_t> body =
        hex("0303"
            "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"  // SHA-256("HelloRetryRequest")
            "00"
            "1301"
            "00"
            "000c"
            "002b00020304"
            "003300020017");
    std::vector<uint8_t> hs = {0x02, 0x00, 0x00, static_cast<uint8_t>(body.size())};
    hs.insert(hs.end(), body.begin(), body.end());
    std::vector<uint8_t> rec = {0x16, 0x03, 0x03, 0x00, static_cast<uint8_t>(hs.size())};
    rec.insert(rec.end(), hs.begin(), hs.end());
    return rec;
}

TEST(TlsSecondFlight, ASecondClientHelloBehindAChangeCipherSpecIsDecoded) {
    const auto stream = joined({kChangeCipherSpec, kClientRecord});
    std::vector<uint8_t> buf(kMinFlightBuffer);
    ClientHelloAssembler a(buf);
    const uint32_t start = 0xFFFFFF00u;  // the sequence numbers wrap inside the flight
    a.start_second_flight(start);
    // The hello's segment first, then the one with the ChangeCipherSpec.
    EXPECT_EQ(a.add_segment(start + 200, view(stream).subspan(200)), AssemblyStatus::NeedMore);
    ASSERT_EQ(a.add_segment(start, view(stream).first(200)), AssemblyStatus::Done);
    const auto ch = a.client_hello();
    ASSERT_TRUE(ch.ok());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ch->server_name.data()), ch->server_name.size()),
              "cloudflare-ech.com");
    uint32_t next = 0;
    ASSERT_TRUE(a.next_flight_seq(next));
    EXPECT_EQ(next, start + static_cast<uint32_t>(stream.size()));
}

TEST(TlsSecondFlight, AFirstFlightNeverOpensWithAChangeCipherSpec) {
    const auto stream = joined({kChangeCipherSpec, kClientRecord});
    std::vector<uint8_t> buf(kMinFlightBuffer);
    ClientHelloAssembler a(buf);
    a.anchor_syn(999);
    EXPECT_EQ(a.add_segment(1000, view(stream)), AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::NotThisProtocol);
}

TEST(TlsSecondFlight, AChangeCipherSpecOtherThanOneIsMalformed) {
    const auto stream = joined({hex("140303000102"), kClientRecord});
    std::vector<uint8_t> buf(kMinFlightBuffer);
    ClientHelloAssembler a(buf);
    a.start_second_flight(1000);
    EXPECT_EQ(a.add_segment(1000, view(stream)), AssemblyStatus::Failed);
    EXPECT_EQ(a.error().code, DecodeErrorCode::Malformed);
}

// The server's HelloRetryRequest flight carries its ChangeCipherSpec in the
// same segment: the next flight starts behind both.
TEST(TlsSecondFlight, TheNextFlightStartsBehindAHeldChangeCipherSpec) {
    const auto hrr = hello_retry_record();
    std::vector<uint8_t> buf(kMinFlightBuffer);
    ServerFlightAssembler with_ccs(buf);
    with_ccs.anchor_syn(4999);
    ASSERT_EQ(with_ccs.add_segment(5000, view(joined({hrr, kChangeCipherSpec}))), AssemblyStatus::Done);
    const auto sf = with_ccs.server_flight();
    ASSERT_TRUE(sf.ok());
    EXPECT_TRUE(sf->server_hello.hello_retry_request);
    EXPECT_EQ(sf->server_hello.version(), 0x0304);
    uint32_t next = 0;
    ASSERT_TRUE(with_ccs.next_flight_seq(next));
    EXPECT_EQ(next, 5000 + hrr.size() + kChangeCipherSpec.size());

    // Alone in its segment, the next flight starts right behind the message's record.
    std::vector<uint8_t> buf2(kMinFlightBuffer);
    ServerFlightAssembler alone(buf2);
    alone.anchor_syn(4999);
    ASSERT_EQ(alone.add_segment(5000, view(hrr)), AssemblyStatus::Done);
    ASSERT_TRUE(alone.next_flight_seq(next));
    EXPECT_EQ(next, 5000 + hrr.size());
}

TEST(TlsSecondFlight, NoNextFlightBeforeTheFirstIsDone) {
    std::vector<uint8_t> buf(kMinFlightBuffer);
    ClientHelloAssembler a(buf);
    a.anchor_syn(0);
    EXPECT_EQ(a.add_segment(1, view(kClientRecord).first(100)), AssemblyStatus::NeedMore);
    uint32_t next = 7;
    EXPECT_FALSE(a.next_flight_seq(next));
    EXPECT_EQ(next, 7u);
}

}  // namespace
}  // namespace callwall::proto::tls::second_flight_test
