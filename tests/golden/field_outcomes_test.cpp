// Targeted assertions over the "no false blocked" captures
// (captures/field/, tools/gen_field_outcomes.py): each capture analysed and
// attributed with the bundled catalog, then the flows' outcome columns read
// back. Every capture holds a control that must stay blocked, so a rule that
// stopped calling anything blocked would fail here too.
#include <gtest/gtest.h>

#include "attrib/run_attribution.hpp"
#include "attrib/attrib.hpp"
#include "store/attribution_io.hpp"
#include "store/store.hpp"
#include "golden/run_util.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

struct Attributed {
    TempDb db;
    attrib::RunVerdicts verdicts;
    explicit Attributed(const std::string& capture, const catalog::Catalog& c = bundled_catalog()) {
        const int64_t run = analyze_files({source_dir() + "/captures/field/" + capture}, db.path());
        auto s = store::Store::open(db.path());
        verdicts = attrib::run_attribution(*s, run, c);
    }
    /// "server:port outcome" of each UDP/TCP flow matching `where`.
    std::vector<std::string> outcomes(const std::string& where) const {
        return query_rows(db.path(),
                          "SELECT server_ip || ':' || server_port || ' ' || outcome FROM flow WHERE transport IN "
                          "('tcp','udp') AND (" +
                              where + ") ORDER BY first_ts, server_ip, server_port");
    }
    std::vector<std::string> rows(const std::string& sql) const { return query_rows(db.path(), sql); }
};

TEST(FieldOutcomes, SubnetBroadcastsExpectNoAnswer) {
    Attributed r("broadcast_subnet.pcap");
    EXPECT_EQ(r.outcomes("server_port NOT IN (9999, 123)"),
              (std::vector<std::string>{"10.1.0.255:137 inconclusive", "10.1.0.255:17500 inconclusive",
                                        "10.1.0.127:57621 inconclusive", "10.1.255.255:57621 inconclusive"}));
    // The link layer says so for the /25's broadcast; the address alone for the /16's.
    EXPECT_EQ(r.rows("SELECT server_ip, link_broadcast FROM flow WHERE server_port != 123 ORDER BY first_ts"),
              (std::vector<std::string>{"10.1.0.255\t1", "10.1.0.255\t1", "10.1.0.127\t1", "10.1.255.255\t0",
                                        "198.51.100.255\t0"}));
    // Another network's .255 reached by unicast is an ordinary address: unanswered, blocked.
    EXPECT_EQ(r.outcomes("server_port = 9999"), std::vector<std::string>{"198.51.100.255:9999 blocked:no-answer"});
    // The NTP exchange holds the other direction: the capture is not one-sided.
    EXPECT_EQ(r.outcomes("server_port = 123"), std::vector<std::string>{"10.1.0.1:123 observed"});
    EXPECT_EQ(r.verdicts.one_direction.flows(), 0u);
}

TEST(FieldOutcomes, FlowsHoldingOnlyAnswersAreNeverBlocked) {
    Attributed r("answers_only.pcap");
    // As recorded, the answering side opened each flow: the flow table's
    // guess. Attribution turns them by the protocol (roles 2: the initiator
    // answered) and finds them answered.
    EXPECT_EQ(r.rows("SELECT client_ip || ':' || client_port, roles, outcome FROM flow WHERE client_ip != "
                     "'10.1.0.20' ORDER BY first_ts"),
              (std::vector<std::string>{"198.51.100.10:3480\t2\tobserved", "10.1.0.30:5353\t2\tobserved",
                                        "10.1.0.30:5355\t2\tobserved"}));
    EXPECT_EQ(r.outcomes("server_port = 53"), std::vector<std::string>{"192.0.2.99:53 blocked:no-answer"});
}

TEST(FieldOutcomes, MissingSynAckWithServerDataIsEstablished) {
    Attributed r("synack_lost.pcap");
    EXPECT_EQ(r.rows("SELECT client_port, state, synack_count, outcome FROM flow ORDER BY first_ts"),
              (std::vector<std::string>{"51000\tSF\t0\tobserved", "51001\tSF\t1\tobserved",
                                        "51002\tS0\t0\tblocked:no-answer"}));
}

TEST(FieldOutcomes, TunnelLegsAreNeverNoAnswer) {
    Attributed r("tunnel_legs.pcap");
    // Whatever the decoders make of the legs (inner flows when decoded, the
    // outer flows when not), nothing here is blocked; a leg recorded one way
    // is inconclusive (GTP-U's 2152 to 2152 legs are one flow, answered).
    EXPECT_TRUE(r.outcomes("outcome LIKE 'blocked%'").empty());
    const auto legs = r.rows(
        "SELECT server_port, state, outcome FROM flow WHERE server_port IN (2152, 4789, 6081, 8472) OR client_port IN "
        "(2152, 4789, 6081, 8472)");
    EXPECT_FALSE(legs.empty());
    for (const auto& leg : legs)
        EXPECT_TRUE(leg.find("one-way\tinconclusive") != std::string::npos ||
                    leg.find("answered\tobserved") != std::string::npos)
            << leg;
    EXPECT_FALSE(r.rows("SELECT 1 FROM flow WHERE server_port = 8472").empty())
        << "the VXLAN legs on Linux's port are not decoded: they are outer flows";
}

TEST(FieldOutcomes, RefusalsByTheDestinationNameIt) {
    Attributed r("destination_refusals.pcap");
    EXPECT_EQ(r.outcomes("server_port IN (53, 5060)"),
              (std::vector<std::string>{"10.1.0.1:53 observed", "10.1.0.1:53 observed", "10.1.0.1:53 blocked:no-answer",
                                        "198.51.100.20:5060 blocked:icmp-3-3"}));
    // The origins, as an entry's verdict would carry them.
    TempDb again;
    const int64_t run = analyze_files({source_dir() + "/captures/field/destination_refusals.pcap"}, again.path());
    auto s = store::Store::open(again.path());
    store::AttributionIo io(*s, run, 0, false);
    std::vector<attrib::FlowFacts> flows;
    io.read_flow_page(0, 100, flows);
    int judged = 0;
    for (auto& f : flows) {
        if (f.server_port != 53 && f.server_port != 5060) continue;
        attrib::orient_flow(f);
        const std::set<int> ttls = attrib::needs_server_ttls(f) ? io.server_ttls(f.server_ip) : std::set<int>{};
        const attrib::FlowOutcome o = attrib::classify_flow(f, 10.0 + f.last_ts, ttls);
        if (o.outcome != attrib::Outcome::Blocked) continue;
        ++judged;
        EXPECT_TRUE(o.by_destination) << o.origin;
        EXPECT_EQ(o.origin.rfind("the destination", 0), 0u) << o.origin;
        EXPECT_EQ(o.origin.find("firewall"), std::string::npos) << o.origin;
    }
    EXPECT_EQ(judged, 2);
}

// captures/field/sni_filter_resets.pcap (tools/gen_field_oneway.py): an SNI
// filter's forged reset after the ClientHello (a TTL not the server's) reads
// tls-reset with who likely sent it; a reset or an alert with the server's
// own TTL is the server's answer (observed); a full handshake and a reset
// after the ServerHello flight are the controls.
TEST(FieldOutcomes, AClientHelloCutByAResetOrAnAlertIsTlsReset) {
    // Every bundled vendor: the entries below are Whereby's current edition.
    Attributed r("sni_filter_resets.pcap", full_bundled_catalog());
    EXPECT_EQ(
        r.rows("SELECT client_port || ' ' || outcome || ' ' || coalesce(acked_s2c, '-') || ' ' || "
               "coalesce(rst_ttl, '-') || ' ' || coalesce(tls_alert, '-') FROM flow WHERE transport = 'tcp' "
               "ORDER BY first_ts"),
        (std::vector<std::string>{"52200 blocked:tls-reset 0 61 -", "52201 observed 0 52 -", "52202 observed 8 - 49",
                                  "52203 observed 1706 - -", "52204 observed 1705 52 -"}));
    // The forged reset (TTL 61 against the SYN-ACK's 52) is named as such.
    EXPECT_EQ(r.rows("SELECT origin FROM verdict WHERE entry_id = 'whereby-current.signaling.tcp'"),
              std::vector<std::string>{
                  "likely an SNI filter on the path: the RST's TTL 61 differs from the server's SYN-ACK (TTL 52)"});
    // A reset or an alert with the server's own TTL is the server turning the
    // hello down: it passed every firewall on the way, and
    // a.turn.whereby.com's requirement reads observed, not blocked.
    EXPECT_EQ(r.rows("SELECT verdict || ' ' || " + sql_list("reasons") +
                     " FROM verdict WHERE entry_id = 'whereby-current.turn.tcp'"),
              std::vector<std::string>{"observed "});
}

// captures/field/server_side_lost.pcap: both directions captured, but one
// connection's server packets took another path; its client's ACKs prove
// the answers. The control, a SYN no ACK follows, stays blocked.
TEST(FieldOutcomes, AClientsAcksProveTheServerAnswered) {
    Attributed r("server_side_lost.pcap");
    EXPECT_EQ(
        r.rows("SELECT client_port || ' ' || state || ' ' || outcome || ' ' || coalesce(acked_s2c, '-') FROM "
               "flow WHERE transport = 'tcp' ORDER BY first_ts"),
        (std::vector<std::string>{"52000 SH observed 1706", "52001 S0 observed 0", "52002 S0 blocked:no-answer -"}));
    EXPECT_EQ(r.verdicts.one_direction.flows(), 0u);
}

}  // namespace
}  // namespace callwall::test
