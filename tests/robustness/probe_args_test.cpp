// `callwall probe` options that need no network: the plan (--dry-run) for
// IPv4 and IPv6 destinations, and addresses that are not literals refused
// with one line (a name there would be resolved behind the allowed set's
// back).
#include <string>

#include "robustness/cli_test.hpp"

namespace callwall::robustness {
namespace {

class ProbeArgs : public CliTest {
protected:
    ProbeArgs() : CliTest("probe-args") {}
};

TEST_F(ProbeArgs, Ipv6DestinationsArePlannedInBrackets) {
    const auto r =
        callwall({"probe", "--vendor", "whereby", "--dry-run", "--reflector", "fd00:201:2::2", "--sample", "16"});
    ASSERT_EQ(r.exit.code, 0) << r.err;
    EXPECT_NE(r.out.find("probe plan: 20 probes to 1 addresses"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  coverage whereby.turn-sfu-highport.udp: 16 of 64,512 ports sampled"), std::string::npos)
        << r.out;
    // Through a reflector every port of a range is swept unless a sample is asked for.
    const auto sweep = callwall({"probe", "--vendor", "whereby", "--dry-run", "--reflector", "fd00:201:2::2"});
    ASSERT_EQ(sweep.exit.code, 0) << sweep.err;
    EXPECT_NE(sweep.out.find("probe plan: 64516 probes to 1 addresses at 1000/s (about 65 s)"), std::string::npos)
        << sweep.out;
    EXPECT_NE(sweep.out.find("  coverage whereby.turn-sfu-highport.udp: every port (64,512) swept"), std::string::npos)
        << sweep.out;
    EXPECT_NE(r.out.find("  tls            [fd00:201:2::2]:443  turnserver.appearin.net  (whereby.turn.tcp)"),
              std::string::npos)
        << r.out;
    const auto v6 = callwall(
        {"probe", "--vendor", "whereby", "--dry-run", "-6", "--resolve", "turnserver.appearin.net=2001:db8::5"});
    ASSERT_EQ(v6.exit.code, 0) << v6.err;
    EXPECT_NE(v6.out.find("  turn-allocate  [2001:db8::5]:443  turnserver.appearin.net  (whereby.turn.udp)"),
              std::string::npos)
        << v6.out;
}

TEST_F(ProbeArgs, AddressesAreWrittenCanonically) {
    // The capture's flows carry the canonical text; the probe's own record of
    // what it sent for each flow must use the same.
    const auto r = callwall({"probe", "--vendor", "whereby", "--dry-run", "--reflector", "FD00:201:2:0:0:0:0:2"});
    ASSERT_EQ(r.exit.code, 0) << r.err;
    EXPECT_NE(r.out.find("[fd00:201:2::2]:443"), std::string::npos) << r.out;
    const auto v = callwall({"probe", "--vendor", "whereby", "--dry-run", "-6", "--resolve",
                             "turnserver.appearin.net=2001:0db8:0000::0005"});
    ASSERT_EQ(v.exit.code, 0) << v.err;
    EXPECT_NE(v.out.find("[2001:db8::5]:443  turnserver.appearin.net"), std::string::npos) << v.out;
}

TEST_F(ProbeArgs, AddressesMustBeLiterals) {
    expect_one_line(callwall({"probe", "--vendor", "whereby", "--dry-run", "--reflector", "reflector.example.com"}), 2,
                    "callwall probe: --reflector takes an IPv4 or IPv6 address, not 'reflector.example.com'");
    expect_one_line(callwall({"probe", "--vendor", "whereby", "--dry-run", "--resolve",
                              "turnserver.appearin.net=turn.example.com"}),
                    2,
                    "callwall probe: --resolve turnserver.appearin.net=turn.example.com: not an IPv4 or IPv6 address");
}

TEST_F(ProbeArgs, TheKeyGoesWithAReflector) {
    // Without a reflector the probes go to the vendor's servers, which never
    // answer the reflector's challenge: every TCP probe would read intercepted.
    expect_one_line(callwall({"probe", "--vendor", "whereby", "--dry-run", "--key", "K1"}), 2,
                    "callwall probe: --key goes with --reflector (it checks the reflector's answers)");
}

}  // namespace
}  // namespace callwall::robustness
