// The interfaces an audit uses: nft variables resolved, the guess checked,
// and the audit stopped (exit 2) when the names given or guessed are not the
// ones the ruleset matches.
#include <gtest/gtest.h>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/ruleset_text.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

TEST(AuditInterfaceChoice, DefinesAreResolved) {
    EXPECT_EQ(resolve_defines("define LAN = \"enp2s0\"\ndefine ALL = { $LAN, \"lo\" }\niifname $ALL accept\n"),
              "define LAN = \"enp2s0\"\ndefine ALL = { \"enp2s0\", \"lo\" }\niifname { \"enp2s0\", \"lo\" } accept\n");
    EXPECT_EQ(interface_names("define LAN_IF = \"enp2s0\"\niifname $LAN_IF oifname enp1s0 accept"),
              (std::vector<std::string>{"enp2s0", "enp1s0"}));
}

TEST(AuditInterfaceChoice, TheVariablesNamePlacesTheInterface) {
    const auto c = choose_interfaces(
        "define LAN_IF = \"enp2s0\"\ndefine WAN_IF = \"enp1s0\"\n"
        "iifname $LAN_IF oifname $WAN_IF accept\n",
        "", "");
    EXPECT_EQ(c.problem, "");
    EXPECT_EQ(c.inside, "enp2s0");
    EXPECT_EQ(c.outside, "enp1s0");
}

TEST(AuditInterfaceChoice, UnsureOrWrongNamesStopTheAudit) {
    EXPECT_EQ(choose_interfaces("iifname \"enp3s0\" oifname \"enp4s0\" accept", "", "").problem,
              "cannot tell which interface faces the clients and which the servers: the ruleset names enp3s0, "
              "enp4s0 (say --inside IFACE --outside IFACE)");
    EXPECT_EQ(choose_interfaces("iifname $LAN accept", "", "").problem.substr(0, 67),
              "the ruleset matches interfaces by a variable it does not define ($L");
    const auto wrong = choose_interfaces("iifname \"lan0\" oifname \"wan0\" accept", "eth1", "wan0");
    EXPECT_EQ(wrong.problem,
              "--inside eth1: the ruleset matches no interface of that name; it names lan0, wan0 (give the names "
              "the ruleset uses: the audit cannot judge a firewall the ruleset does not describe)");
    // A name the ruleset never matches is fine when it matches no other one
    // (a ruleset that only ever names its uplink).
    EXPECT_EQ(choose_interfaces("oifname \"fw-out\" drop", "fw-in", "fw-out").problem, "");
    // Nor when the others it names are of the given name's other side, or
    // neither side, beside a used one (a second LAN, a DMZ).
    EXPECT_EQ(choose_interfaces("iifname { \"lan0\", \"lan1\", \"dmz0\" } accept", "lan0", "wan0").problem, "");
    EXPECT_NE(choose_interfaces("iifname \"enp3s0\" oifname \"enp4s0\" accept", "eth1", "eth0").problem, "");
    // A wildcard covers the name; the given names then decide.
    EXPECT_EQ(choose_interfaces("iifname \"br-*\" oifname \"ppp0\" accept", "br-lan", "ppp0").problem, "");
    // An iptables dump's names, and an extra interface beside the two placed.
    const auto dump = choose_interfaces("-A FORWARD -i lan0 -o wan0 -j ACCEPT\n-A FORWARD -i dmz0 -j DROP\n", "", "");
    EXPECT_EQ(dump.problem, "");
    EXPECT_EQ(dump.inside, "lan0");
    EXPECT_EQ(dump.outside, "wan0");
    // No interface named at all: any two names do.
    const auto none = choose_interfaces("tcp dport 443 accept", "", "");
    EXPECT_EQ(none.problem, "");
    EXPECT_EQ(none.inside, "lan0");
}

TEST(AuditInterfaceChoice, DefinedInterfacesAreAuditedWithoutFlags) {
    AUDIT_OR_SKIP(r, "defined_interfaces.nft");
    EXPECT_EQ(r.inside, "enp2s0");
    EXPECT_EQ(r.outside, "enp1s0");
    for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "comment \"web\"");
    expect(r, kTurnUdp, V::Observed, "comment \"turn\"");
    expect(r, kHigh, V::Partial, "inet filter forward: policy drop");
    expect_port(r, kHigh, 3478, O::Passed, "comment \"turn\"");
}

TEST(AuditInterfaceChoice, TheCommandStopsWithExit2) {
    robustness::TempDir dir("ifaces");
    ASSERT_TRUE(dir.ok());
    auto audit = [&](std::vector<std::string> more) {
        std::vector<std::string> argv{CALLWALL_BINARY, "audit", "--vendor",      "whereby",
                                      "--no-fix",      "--db",  dir / "a.sqlite"};
        argv.insert(argv.end(), more.begin(), more.end());
        return robustness::run(argv, 60);
    };
    const auto unsure = audit({"--nft", ruleset("two_nics.nft")});
    EXPECT_EQ(unsure.exit.code, 2) << unsure.err;
    EXPECT_NE(unsure.err.find("cannot tell which interface faces the clients"), std::string::npos) << unsure.err;
    EXPECT_EQ(unsure.out, "");
    const auto wrong = audit({"--nft", ruleset("defined_interfaces.nft"), "--inside", "eth1", "--outside", "eth0"});
    EXPECT_EQ(wrong.exit.code, 2) << wrong.err;
    EXPECT_NE(wrong.err.find("--inside eth1: the ruleset matches no interface of that name; it names enp2s0, enp1s0"),
              std::string::npos)
        << wrong.err;
}

TEST(AuditTraceText, RulesAreShownWithoutLiveCounts) {
    const auto packets = parse_trace(
        "trace id 1a inet filter forward packet: iif \"lan0\" ip saddr 192.168.77.2 ip daddr 203.0.113.10 udp sport "
        "40000 udp dport 443\ntrace id 1a inet filter forward rule iifname \"lan0\" udp dport 443 counter packets 1 "
        "bytes 29 drop comment \"no quic\" # handle 7 (verdict drop)\n",
        "callwall_audit_trace");
    ASSERT_EQ(packets.size(), 1u);
    ASSERT_EQ(packets[0].events.size(), 1u);
    EXPECT_EQ(packets[0].events[0].rule, "iifname \"lan0\" udp dport 443 counter drop comment \"no quic\"");
    EXPECT_EQ(packets[0].events[0].handle, 7);
}

}  // namespace
}  // namespace callwall::audit

namespace callwall::audit {
namespace {

using namespace audit_test;

TEST(AuditTraceText, ADropAfterAJumpShowsThePath) {
    AUDIT_OR_SKIP(r, "jump_then_policy.nft");
    expect(r, kSig, V::Observed, "inet filter lan_out: rule 'tcp dport 443 accept comment \"https\"'");
    EXPECT_EQ(entry(r, kSig).verdict.why.find("path:"), std::string::npos);  // a pass needs no path
    expect(r, kTurnUdp, V::Blocked,
           "inet filter forward: policy drop (path: forward -> lan_out (returned) -> policy drop)");
    AUDIT_OR_SKIP(j, "user_chain_jump.nft");
    expect(j, kTurnUdp, V::Blocked, "comment \"no quic\"' (handle 4) (path: forward -> lan_out)");
}

}  // namespace
}  // namespace callwall::audit
