// The regression captures of TLS after a cleartext start, 802.11 behind
// radiotap and the tunnels of IP (tools/gen_field_starttls.py,
// tools/gen_field_links.py): the hellos, names, flows and run notes each
// must give. tshark 4.0 reads the same SNIs and DNS answers from them, but
// for db2.mysql.example.net (its MySQL dissector hands over to TLS only at a
// segment's start, and that hello shares its segment with the SSL request).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "golden/run_util.hpp"

namespace callwall::test {
namespace {

using Rows = std::vector<std::string>;

struct FieldCapture {
    TempDb db;
    explicit FieldCapture(const std::string& capture) {
        analyze_files({source_dir() + "/captures/field/" + capture}, db.path());
    }
    Rows rows(const std::string& sql) const { return query_rows(db.path(), sql); }
};

TEST(FieldStartTls, EveryUpgradeGivesItsHelloAndSni) {
    const FieldCapture r("tls_starttls.pcap");
    EXPECT_EQ(r.rows("SELECT sni, protocol, server_hello FROM tls_hello ORDER BY ts"),
              (Rows{"mx1.mail.example.net\ttls\t1", "submit.mail.example.net\ttls\t1", "imap.mail.example.net\ttls\t1",
                    "pop.mail.example.net\ttls\t1", "ftp.files.example.net\ttls\t1", "chat.example.net\ttls\t1",
                    "ldap.dir.example.net\ttls\t1", "db.pg.example.net\ttls\t1", "db.mysql.example.net\ttls\t1",
                    "db2.mysql.example.net\ttls\t1", "direct.mail.example.net\ttls\t0"}));
    // The request seen: "starttls"; refused (454), the session in clear: no hello;
    // a client speaking TLS on the cleartext port without a request: "tls".
    EXPECT_EQ(r.rows("SELECT server_port, app, name FROM flow ORDER BY client_port"),
              (Rows{"25\ttls+starttls\tmx1.mail.example.net", "587\ttls+starttls\tsubmit.mail.example.net",
                    "143\ttls+starttls\timap.mail.example.net", "110\ttls+starttls\tpop.mail.example.net",
                    "21\ttls+starttls\tftp.files.example.net", "5222\ttls+starttls\tchat.example.net",
                    "389\ttls+starttls\tldap.dir.example.net", "5432\ttls+starttls\tdb.pg.example.net",
                    "3306\ttls+starttls\tdb.mysql.example.net", "25\tstarttls\t", "143\ttls\tdirect.mail.example.net",
                    "3306\ttls+starttls\tdb2.mysql.example.net"}));
}

TEST(FieldWlan, DataFramesAreReadTheRestCountedAndSaidOnce) {
    const FieldCapture r("wlan_radiotap_mixed.pcap");
    EXPECT_EQ(r.rows("SELECT transport, client_ip, server_ip, server_port, app, state FROM flow ORDER BY first_ts"),
              (Rows{"udp\t10.1.0.10\t192.0.2.53\t53\tdns\tanswered", "tcp\t10.1.0.10\t203.0.113.80\t443\ttls\tSF"}));
    EXPECT_EQ(r.rows("SELECT sni FROM tls_hello"), Rows{"wifi.calls.example.net"});
    EXPECT_EQ(r.rows("SELECT qname, answer FROM dns_answer"), Rows{"wifi.calls.example.net\t203.0.113.80"});
    // 6 management/control/null + EAPOL (not IP) + 3 protected + 1 A-MSDU.
    const Rows run = r.rows("SELECT undecoded_packets, notes FROM run");
    ASSERT_EQ(run.size(), 1u);
    EXPECT_EQ(run[0].substr(0, 3), "11\t");
    EXPECT_NE(run[0].find("802.11: 6 management, control and null data frames skipped"), std::string::npos) << run[0];
    EXPECT_NE(run[0].find("802.11: 3 protected data frames not decoded"), std::string::npos) << run[0];
    EXPECT_NE(run[0].find("802.11: 1 A-MSDU frames not decoded"), std::string::npos) << run[0];
}

TEST(FieldTunnels, InnerFlowsAndNamesAndTheUnknownCountedAndNamed) {
    const FieldCapture r("tunnels_mixed.pcap");
    EXPECT_EQ(r.rows("SELECT sni FROM tls_hello ORDER BY ts"),
              (Rows{"six.in.four.example.net", "gre.udp.example.net", "ayiya.example.net", "teredo.example.net"}));
    EXPECT_EQ(r.rows("SELECT qname, rrtype, answer FROM dns_answer ORDER BY ts"),
              (Rows{"six.in.four.example.net\tAAAA\t2001:db8:2::441", "gre.udp.example.net\tA\t203.0.113.54",
                    "ayiya.example.net\tAAAA\t2001:db8:2::5072", "teredo.example.net\tAAAA\t2001:db8:2::3544"}));
    EXPECT_EQ(r.rows("SELECT transport, client_ip, client_port, server_ip, server_port, app, state FROM flow "
                     "WHERE app = '' ORDER BY first_ts"),
              (Rows{"udp\t10.1.0.10\t40100\t203.0.113.77\t9\t\tone-way",  // inside EtherIP
                    "udp\t2001:db8:1::10\t40200\t2001:db8:2::9\t9\t\tone-way",  // IPv6 under protocol 4
                    "udp\t192.0.2.1\t50200\t198.51.100.41\t4754\t\tone-way"}));  // not GRE: a UDP flow
    EXPECT_EQ(r.rows("SELECT undecoded_packets, notes FROM run"),
              Rows{"4\tencapsulations not decoded: packets whose tunnel, label stack or PPP session carried what "
                   "callwall does not read (another protocol inside, headers cut short), counted in "
                   "undecoded_packets: 2 in gre, 2 in vxlan-gpe\n"});
}

}  // namespace
}  // namespace callwall::test
