// Mirror-port encapsulations (GRE, ERSPAN II, ERSPAN III, VXLAN) made by
// tools/gen_encap.py from captures/scenarios/whereby.pcap, and the other
// tunnels, label stacks and link types it makes (Geneve, GTP-U, MPLS with
// and without a pseudowire, PPPoE, PPTP, PPP, PPP HDLC, PPP over Ethernet,
// NFLOG) from captures/scenarios/inconclusive_and_dns.pcap, and the tunnels
// of IP and link types it makes from captures/scenarios/sendbird_calls.pcap
// (IPv4 and IPv6: 6in4 / IP in IP, GRE in UDP, AYIYA, Teredo, VXLAN-GPE,
// MPLS in UDP and in GRE, EtherIP, Cisco HDLC, 802.11 plain, behind
// radiotap and behind PPI) must give the same flows, facts and verdicts as
// the bare capture.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "attrib/attrib.hpp"
#include "attrib/run_attribution.hpp"
#include "catalog/catalog.hpp"
#include "golden/run_util.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;

struct Dump {
    std::vector<std::string> flows, verdicts, hellos, stun, dns, undecoded;
};

Dump analyze(const std::string& capture) {
    static const catalog::Catalog cat = [] {
        const fs::path dir = catalog::bundled_catalog_dir();
        auto r = catalog::load(std::span<const fs::path>(&dir, 1));
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    TempDb db;
    const int64_t run = analyze_files({capture}, db.path());
    {
        auto s = store::Store::open(db.path());
        attrib::run_attribution(*s, run, cat);
    }
    Dump d;
    d.flows =
        query_rows(db.path(),
                   "SELECT transport, client_ip, client_port, server_ip, server_port, packets_c2s, packets_s2c, "
                   "state, icmp_errors, app, name, name_source, outcome FROM flow ORDER BY first_ts, client_port");
    d.verdicts = query_rows(db.path(), "SELECT entry_id, verdict, reasons FROM verdict ORDER BY entry_id");
    d.hellos = query_rows(db.path(), "SELECT protocol, sni, alpn FROM tls_hello ORDER BY ts");
    d.stun =
        query_rows(db.path(), "SELECT method, class, transaction_id FROM stun_message ORDER BY ts, transaction_id");
    d.dns = query_rows(db.path(), "SELECT qname, rrtype, answer FROM dns_answer ORDER BY ts, qname, rrtype, answer");
    d.undecoded = query_rows(db.path(), "SELECT undecoded_packets, notes FROM run");
    return d;
}

struct Wrapped {
    std::string base, kind;
    friend void PrintTo(const Wrapped& w, std::ostream* os) { *os << w.base << "." << w.kind; }
};

class Encap : public ::testing::TestWithParam<Wrapped> {};

TEST_P(Encap, ClassifiedTheSameAsTheBareTraffic) {
    const std::string base = source_dir() + "/captures/scenarios/" + GetParam().base + ".pcap";
    const std::string wrapped = source_dir() + "/captures/encap/" + GetParam().base + "." + GetParam().kind + ".pcap";
    ASSERT_TRUE(fs::exists(wrapped)) << wrapped << " (run tools/gen_encap.py " << base << ")";
    const Dump bare = analyze(base);
    const Dump enc = analyze(wrapped);
    ASSERT_FALSE(bare.flows.empty());
    EXPECT_EQ(enc.flows, bare.flows);
    EXPECT_EQ(enc.verdicts, bare.verdicts);
    EXPECT_EQ(enc.hellos, bare.hellos);
    EXPECT_EQ(enc.stun, bare.stun);
    EXPECT_EQ(enc.dns, bare.dns);
    EXPECT_EQ(enc.undecoded, bare.undecoded);
}

INSTANTIATE_TEST_SUITE_P(MirrorPort, Encap,
                         ::testing::Values(Wrapped{"whereby", "gre"}, Wrapped{"whereby", "erspan2"},
                                           Wrapped{"whereby", "erspan3"}, Wrapped{"whereby", "vxlan"}),
                         [](const auto& info) { return info.param.kind; });

INSTANTIATE_TEST_SUITE_P(
    TunnelsAndLinks, Encap,
    ::testing::Values(Wrapped{"inconclusive_and_dns", "geneve"}, Wrapped{"inconclusive_and_dns", "gtpu"},
                      Wrapped{"inconclusive_and_dns", "mpls"}, Wrapped{"inconclusive_and_dns", "mplspw"},
                      Wrapped{"inconclusive_and_dns", "pppoe"}, Wrapped{"inconclusive_and_dns", "pptp"},
                      Wrapped{"inconclusive_and_dns", "ppp"}, Wrapped{"inconclusive_and_dns", "ppphdlc"},
                      Wrapped{"inconclusive_and_dns", "pppether"}, Wrapped{"inconclusive_and_dns", "nflog"}),
    [](const auto& info) { return info.param.kind; });

INSTANTIATE_TEST_SUITE_P(TunnelsOfIpAndWlan, Encap,
                         ::testing::Values(Wrapped{"sendbird_calls", "ipip"}, Wrapped{"sendbird_calls", "greudp"},
                                           Wrapped{"sendbird_calls", "ayiya"}, Wrapped{"sendbird_calls", "teredo"},
                                           Wrapped{"sendbird_calls", "vxlangpe"}, Wrapped{"sendbird_calls", "mplsudp"},
                                           Wrapped{"sendbird_calls", "mplsgre"}, Wrapped{"sendbird_calls", "etherip"},
                                           Wrapped{"sendbird_calls", "chdlc"}, Wrapped{"sendbird_calls", "wlan"},
                                           Wrapped{"sendbird_calls", "radiotap"}, Wrapped{"sendbird_calls", "ppi"}),
                         [](const auto& info) { return info.param.kind; });

// The SNIs inside every one of them, IPv6 flows included (tshark 4.0 reads
// api-4c1d.calls.sendbird.com and ws-4c1d.calls.sendbird.com from each).
TEST(EncapInside, EveryTunnelOfIpAndWlanLinkShowsTheSnis) {
    for (const char* kind : {"ipip", "greudp", "ayiya", "teredo", "vxlangpe", "mplsudp", "mplsgre", "etherip", "chdlc",
                             "wlan", "radiotap", "ppi"}) {
        SCOPED_TRACE(kind);
        const Dump d = analyze(source_dir() + "/captures/encap/sendbird_calls." + kind + ".pcap");
        for (const char* sni : {"\tapi-4c1d.calls.sendbird.com\t", "\tws-4c1d.calls.sendbird.com\t"})
            EXPECT_TRUE(std::any_of(d.hellos.begin(), d.hellos.end(),
                                    [&](const std::string& h) { return h.find(sni) != std::string::npos; }))
                << sni << testing::PrintToString(d.hellos);
        EXPECT_TRUE(std::any_of(d.flows.begin(), d.flows.end(), [](const std::string& f) {
            return f.find("\t2001:db8") != std::string::npos;
        })) << "an IPv6 flow";
    }
}

// The SNI and the DNS answer inside every one of them (tshark 4.0 reads the
// same from each capture: api-7d21.calls.sendbird.com, 203.0.113.60).
TEST(EncapInside, EveryTunnelAndLinkTypeShowsTheSniAndTheDnsAnswer) {
    for (const char* kind :
         {"geneve", "gtpu", "mpls", "mplspw", "pppoe", "pptp", "ppp", "ppphdlc", "pppether", "nflog"}) {
        SCOPED_TRACE(kind);
        const Dump d = analyze(source_dir() + "/captures/encap/inconclusive_and_dns." + kind + ".pcap");
        EXPECT_TRUE(std::any_of(d.hellos.begin(), d.hellos.end(), [](const std::string& h) {
            return h.find("\tapi-7d21.calls.sendbird.com\t") != std::string::npos;
        })) << testing::PrintToString(d.hellos);
        EXPECT_NE(std::find(d.dns.begin(), d.dns.end(), "api-7d21.calls.sendbird.com\tA\t203.0.113.60"), d.dns.end())
            << testing::PrintToString(d.dns);
        EXPECT_EQ(d.undecoded, std::vector<std::string>{"0\t"});
    }
}

// A tunnel whose content callwall cannot read is counted and named in the
// run's notes: the Geneve capture with every protocol type made unknown.
TEST(EncapInside, ATunnelWhoseContentIsUnknownIsCountedAndNamed) {
    const std::string src = source_dir() + "/captures/encap/inconclusive_and_dns.geneve.pcap";
    std::ifstream in(src, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 24u);
    size_t frames = 0;
    for (size_t off = 24; off + 16 <= bytes.size(); ++frames) {
        uint32_t caplen = 0;
        std::memcpy(&caplen, &bytes[off + 8], 4);  // little-endian pcap on a little-endian host
        ASSERT_LE(off + 16 + caplen, bytes.size());
        bytes[off + 16 + 44] = 0x12;  // Geneve protocol type 0x1258: not Ethernet, not IP
        off += 16 + caplen;
    }
    TempDb db;
    const std::string patched = db.path() + ".pcap";
    std::ofstream(patched, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    analyze_files({patched}, db.path());
    const auto run = query_rows(db.path(), "SELECT undecoded_packets, notes FROM run");
    ASSERT_EQ(run.size(), 1u);
    EXPECT_NE(run[0].find(std::to_string(frames) + "\tencapsulations not decoded:"), std::string::npos) << run[0];
    EXPECT_NE(run[0].find(": " + std::to_string(frames) + " in geneve\n"), std::string::npos) << run[0];
    EXPECT_EQ(query_rows(db.path(), "SELECT count(*) FROM flow"), std::vector<std::string>{"0"});
}

}  // namespace
}  // namespace callwall::test
