// Inbound server documents (the Jitsi handbook's firewall section) audited
// as the internet reaches the server: to the router's public address and a
// port its DNAT rules forward, arriving at the inside server. A port nobody
// forwards is blocked, in the server document's words.
#include <gtest/gtest.h>

#include <filesystem>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/port_forwards.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

constexpr const char* kWeb = "jitsi-selfhosted.web.tcp";
constexpr const char* kMediaUdp = "jitsi-selfhosted.media.udp";
constexpr const char* kAcme = "jitsi-selfhosted.letsencrypt.tcp";

TEST(AuditPortForward, DnatRulesAreReadAsAdminsWriteThem) {
    // nft with defines, firewalld's nat_PRE_ chains, an iptables dump (ufw's before.rules).
    const auto f = port_forwards(
        "define JITSI = 192.168.1.10\n"
        "iifname \"wan0\" tcp dport { 443, 4443 } dnat to $JITSI comment \"jitsi\"\n"
        "meta nfproto ipv4 udp dport 10000 dnat ip to 192.168.1.10:10000\n"
        "ip daddr 198.51.100.7 meta l4proto { tcp, udp } th dport 5060 dnat to 192.168.1.20\n"
        "-A PREROUTING -d 198.51.100.7/32 -i eth0 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 10.0.0.5:443\n"
        "# -A PREROUTING -p udp --dport 9 -j DNAT --to-destination 10.0.0.1\n");
    ASSERT_EQ(f.size(), 5u);
    EXPECT_EQ(f[0].to_addr, "192.168.1.10");
    ASSERT_EQ(f[0].ports.size(), 2u);
    EXPECT_EQ(f[0].ports[1].lo, 4443);
    EXPECT_EQ(f[1].transport, catalog::Transport::Udp);
    EXPECT_EQ(f[1].inside_port(10000), 10000);
    EXPECT_EQ(f[2].public_addr, "198.51.100.7");
    EXPECT_EQ(f[3].transport, catalog::Transport::Udp);
    EXPECT_EQ(f[4].to_port, 443);
    EXPECT_EQ(f[4].inside_port(8443), 443);
    EXPECT_EQ(f[4].public_addr, "198.51.100.7");
    EXPECT_EQ(forward_for(f, catalog::Transport::Udp, 10000), &f[1]);
    EXPECT_EQ(forward_for(f, catalog::Transport::Tcp, 22), nullptr);
}

// Forwards through maps, anonymous and named, as admins write them and as
// `nft list ruleset` prints them (a named map over several lines).
TEST(AuditPortForward, DnatThroughAMapGivesOneForwardPerElement) {
    const auto f = port_forwards(
        "table ip nat {\n"
        "  map jitsi_udp {\n"
        "    type inet_service : ipv4_addr . inet_service\n"
        "    elements = { 10000 : 192.168.1.10 . 10000,\n"
        "                 3478 : 192.168.1.11 . 3479 }\n"
        "  }\n"
        "  chain prerouting {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        "    ip daddr 198.51.100.7 tcp dport { 22, 443 } dnat to tcp dport map { 22 : 10.0.0.9, 443 : 10.0.0.10 }\n"
        "    iifname \"wan0\" dnat ip to udp dport map @jitsi_udp\n"
        "    dnat ip to tcp dport map { 8000-8099 : 10.0.0.11 . 80 }\n"
        "    dnat ip to tcp dport map @nowhere\n"
        "  }\n"
        "}\n");
    ASSERT_EQ(f.size(), 5u);
    const PortForward* ssh = forward_for(f, catalog::Transport::Tcp, 22);
    ASSERT_NE(ssh, nullptr);
    EXPECT_EQ(ssh->to_addr, "10.0.0.9");
    EXPECT_EQ(ssh->inside_port(22), 22);
    EXPECT_EQ(ssh->public_addr, "198.51.100.7");
    const PortForward* web = forward_for(f, catalog::Transport::Tcp, 443);
    ASSERT_NE(web, nullptr);
    EXPECT_EQ(web->to_addr, "10.0.0.10");
    const PortForward* media = forward_for(f, catalog::Transport::Udp, 10000);
    ASSERT_NE(media, nullptr);
    EXPECT_EQ(media->to_addr, "192.168.1.10");
    EXPECT_EQ(media->inside_port(10000), 10000);
    const PortForward* turn = forward_for(f, catalog::Transport::Udp, 3478);
    ASSERT_NE(turn, nullptr);
    EXPECT_EQ(turn->to_addr, "192.168.1.11");
    EXPECT_EQ(turn->inside_port(3478), 3479);
    EXPECT_TRUE(turn->public_addr.empty());
    const PortForward* range = forward_for(f, catalog::Transport::Tcp, 8050);
    ASSERT_NE(range, nullptr);
    EXPECT_EQ(range->to_addr, "10.0.0.11");
    EXPECT_EQ(range->inside_port(8050), 80);
    EXPECT_EQ(forward_for(f, catalog::Transport::Udp, 443), nullptr);
    EXPECT_EQ(forward_for(f, catalog::Transport::Tcp, 8100), nullptr);
}

// The repository's catalog (the seed catalog has no server document): its
// Jitsi handbook file.
const catalog::Catalog& with_jitsi() {
    static const catalog::Catalog c = [] {
        const std::vector<std::filesystem::path> dirs{std::string(CALLWALL_SOURCE_DIR) + "/catalog"};
        catalog::LoadResult r = catalog::load(dirs);
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    return c;
}

class AuditPortForwardRouter : public ::testing::TestWithParam<const char*> {};

// The same router with its forwards as DNAT rules and as maps.
INSTANTIATE_TEST_SUITE_P(Rulesets, AuditPortForwardRouter,
                         ::testing::Values("router_jitsi.nft", "router_jitsi_map.nft"),
                         [](const auto& info) { return std::string(info.index == 0 ? "DnatRules" : "Maps"); });

TEST_P(AuditPortForwardRouter, TheInternetReachesTheInsideServerThroughTheForward) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed (tools/setup.sh installs it)";
    AuditOptions opt;
    opt.ruleset_path = ruleset(GetParam());
    opt.vendors = {"Jitsi Meet (self-hosted)"};
    const AuditResult r = run_audit(with_jitsi(), opt);
    if (!r.replay.ok && !r.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    ASSERT_TRUE(r.replay.ok) << r.replay.error;
    ASSERT_EQ(r.forwards.size(), 2u);
    // A packet from the outside to the public address and forwarded port
    // arrived at the inside server (192.168.1.10, in the client's namespace).
    for (const char* id : {kWeb, kMediaUdp}) {
        const auto& a = entry(r, id);
        ASSERT_EQ(a.intervals.size(), 1u) << id;
        const ProbeResult& p = a.intervals[0].result;
        EXPECT_EQ(p.probe.to, "100.64.77.1") << id;
        EXPECT_EQ(p.probe.inside, "192.168.1.10") << id;
        EXPECT_EQ(to_string(p.outcome), to_string(O::Passed)) << id << ": " << p.how << " / " << p.decided_by;
        expect(r, id, V::Observed, "rule 'ct status dnat accept comment \"port forwards\"'");
        expect(r, id, V::Observed, "to the router's public address as its port forwards");
    }
    EXPECT_EQ(entry(r, kMediaUdp).intervals[0].result.how, "arrived unsolicited at the client's port");
    // Let's Encrypt's TCP 80 is not forwarded: blocked, not inconclusive.
    expect(r, kAcme, V::Blocked, "no DNAT rule of the ruleset publishes tcp 80 to the server");
    EXPECT_NE(entry(r, kAcme).verdict.why.find("tcp 80 not forwarded"), std::string::npos)
        << entry(r, kAcme).verdict.why;
    EXPECT_EQ(entry(r, kAcme).verdict.why.find("requirement of this product gets out"), std::string::npos);
}

}  // namespace
}  // namespace callwall::audit
