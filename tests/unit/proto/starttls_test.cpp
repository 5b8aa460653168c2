// The upgrading protocols' openings and upgrade requests (proto/starttls.hpp).
#include "proto/starttls.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "unit/test_util.hpp"

namespace callwall::proto::starttls {
namespace {

using test::hex;
using test::view;

ByteView text(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(StartTls, KindsByPort) {
    EXPECT_EQ(kind_of_port(25), Kind::Smtp);
    EXPECT_EQ(kind_of_port(587), Kind::Smtp);
    EXPECT_EQ(kind_of_port(143), Kind::Imap);
    EXPECT_EQ(kind_of_port(110), Kind::Pop3);
    EXPECT_EQ(kind_of_port(21), Kind::Ftp);
    EXPECT_EQ(kind_of_port(5222), Kind::Xmpp);
    EXPECT_EQ(kind_of_port(389), Kind::Ldap);
    EXPECT_EQ(kind_of_port(5432), Kind::Postgres);
    EXPECT_EQ(kind_of_port(3306), Kind::Mysql);
    EXPECT_EQ(kind_of_port(443), Kind::None);
}

TEST(StartTls, Openings) {
    EXPECT_TRUE(opening(Kind::Smtp, text("220 mx.example.net ESMTP\r\n")));
    EXPECT_TRUE(opening(Kind::Smtp, text("EHLO client\r\n")));
    EXPECT_FALSE(opening(Kind::Smtp, hex("160301")));
    EXPECT_TRUE(opening(Kind::Imap, text("* OK ready\r\n")));
    EXPECT_TRUE(opening(Kind::Pop3, text("+OK POP3\r\n")));
    EXPECT_TRUE(opening(Kind::Ftp, text("220-Welcome\r\n")));
    EXPECT_TRUE(opening(Kind::Xmpp, text("<?xml version='1.0'?>")));
    EXPECT_TRUE(opening(Kind::Ldap, hex("301d02010177188016312e332e362e312e342e312e313436362e3230303337")));
    EXPECT_TRUE(opening(Kind::Postgres, hex("0000000804d2162f")));
    EXPECT_FALSE(opening(Kind::Postgres, hex("ffffffff04d2162f")));
    // MySQL 8 greeting: length 0x4a, sequence 0, protocol 10, "8.0.36"
    EXPECT_TRUE(opening(Kind::Mysql, hex("4a0000000a382e302e333600")));
    EXPECT_FALSE(opening(Kind::Mysql, hex("4a0000010a")));
}

TEST(StartTls, TextCommands) {
    EXPECT_EQ(upgrade_request(Kind::Smtp, text("STARTTLS\r\n")), 10u);
    EXPECT_EQ(upgrade_request(Kind::Smtp, text("starttls \r\n")), 11u);
    // Pipelined (RFC 2920): the request is the last command of the group.
    EXPECT_EQ(upgrade_request(Kind::Smtp, text("EHLO x\r\nSTARTTLS\r\n")), 18u);
    EXPECT_EQ(upgrade_request(Kind::Smtp, text("STARTTLS")), 0u);  // no line end yet
    EXPECT_EQ(upgrade_request(Kind::Smtp, text("MAIL FROM:<a@b>\r\n")), 0u);
    EXPECT_EQ(upgrade_request(Kind::Imap, text("a2 STARTTLS\r\n")), 13u);
    EXPECT_EQ(upgrade_request(Kind::Imap, text("STARTTLS\r\n")), 0u);  // a tag is required
    EXPECT_EQ(upgrade_request(Kind::Pop3, text("STLS\r\n")), 6u);
    EXPECT_EQ(upgrade_request(Kind::Ftp, text("AUTH TLS\r\n")), 10u);
    EXPECT_EQ(upgrade_request(Kind::Ftp, text("AUTH SSL\r\n")), 10u);
    EXPECT_EQ(upgrade_request(Kind::Ftp, text("AUTH GSSAPI\r\n")), 0u);
}

TEST(StartTls, XmppLdapPostgresMysql) {
    const std::string_view x = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    EXPECT_EQ(upgrade_request(Kind::Xmpp, text(x)), x.size());
    EXPECT_EQ(upgrade_request(Kind::Xmpp, text("<message/>")), 0u);
    // LDAPMessage: messageID 1, ExtendedRequest [APPLICATION 23] with requestName 1.3.6.1.4.1.1466.20037.
    const auto ldap = hex("301d02010177188016312e332e362e312e342e312e313436362e3230303337");
    EXPECT_EQ(upgrade_request(Kind::Ldap, view(ldap)), ldap.size());
    EXPECT_EQ(upgrade_request(Kind::Ldap, hex("300c020101600702010304008000")), 0u);  // a bind request
    EXPECT_EQ(upgrade_request(Kind::Postgres, hex("0000000804d2162f")), 8u);
    EXPECT_EQ(upgrade_request(Kind::Postgres, hex("0000000804d21630")), 0u);  // GSSENCRequest
    // MySQL SSLRequest: 32 bytes, sequence 1, capabilities (little-endian) 0x8a00: SECURE_CONNECTION,
    // CLIENT_SSL (0x0800) and PROTOCOL_41, then a TLS record.
    const auto mysql = hex("20000001 008a0000 00000001 ff 0000000000000000000000000000000000000000000000 160301");
    EXPECT_EQ(upgrade_request(Kind::Mysql, view(mysql)), 36u);
    // 0x8200: the same without CLIENT_SSL.
    const auto no_ssl = hex("20000001 00820000 00000001 ff 0000000000000000000000000000000000000000000000");
    EXPECT_EQ(upgrade_request(Kind::Mysql, view(no_ssl)), 0u);
}

TEST(StartTls, EveryPrefixIsSafe) {
    const auto ldap = hex("301d02010177188016312e332e362e312e342e312e313436362e3230303337");
    const auto mysql = hex("20000001 008a0800 00000001 ff 0000000000000000000000000000000000000000000000");
    for (Kind k :
         {Kind::Smtp, Kind::Imap, Kind::Pop3, Kind::Ftp, Kind::Xmpp, Kind::Ldap, Kind::Postgres, Kind::Mysql}) {
        for (const auto* f : {&ldap, &mysql}) {
            for (size_t n = 0; n <= f->size(); ++n) {
                const ByteView v(f->data(), n);
                EXPECT_LE(upgrade_request(k, v), n);
                (void)opening(k, v);
            }
        }
    }
}

}  // namespace
}  // namespace callwall::proto::starttls
