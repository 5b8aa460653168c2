// Protocol values as the database spells them (proto/dns_text.hpp, proto/tls_text.hpp).
#include <gtest/gtest.h>

#include <string>

#include "proto/dns_text.hpp"
#include "proto/tls_text.hpp"

namespace callwall::proto {
namespace {

TEST(ProtocolText, DatabaseNamesOfProtocolValues) {
    std::string s;
    dns::rrtype_name(1, s);
    EXPECT_EQ(s, "A");
    dns::rrtype_name(65, s);
    EXPECT_EQ(s, "HTTPS");
    dns::rrtype_name(99, s);
    EXPECT_EQ(s, "TYPE99");
    dns::rrtype_name(65535, s);
    EXPECT_EQ(s, "TYPE65535");
    tls_version_name(0x0304, s);
    EXPECT_EQ(s, "TLS1.3");
    tls_version_name(0, s);
    EXPECT_EQ(s, "");
    tls_version_name(0x7f1c, s);
    EXPECT_EQ(s, "0x7f1c");
    quic_version_name(1, s);
    EXPECT_EQ(s, "QUICv1");
    EXPECT_EQ(dns::rcode_name(3), "NXDOMAIN");
    EXPECT_EQ(dns::rcode_name(23), "OTHER");
}

}  // namespace
}  // namespace callwall::proto
