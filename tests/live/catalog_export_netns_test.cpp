// Every bundled vendor's `catalog export`, nft and iptables (the script that
// creates its ipsets itself), loaded by the real tools in a pair of
// throw-away network namespaces joined by a veth:
//   - loading it twice leaves the same ruleset and sets (nft list ruleset;
//     iptables-save, ip6tables-save, ipset save);
//   - behind a default-drop output (and input) policy that jumps to the
//     export's chains as its header says, a packet to an address inside an
//     exported range (or, for a vendor that names hosts only, an address
//     added to its set as dnsmasq would) on the entry's port is accepted,
//     and the same packet to an address outside it is dropped. A vendor
//     whose rules are all for ANY address is exported with --include-any
//     and tried by port: its port is accepted, another one dropped (inbound,
//     as for a self-hosted server, from the other namespace).
// What passed the filter is counted by a chain of a table of the test's own,
// on the same hook at a later priority (a drop is final, an accept is not).
// IPv4 only. Skipped, with the reason, without root, namespaces, nft,
// iptables-restore or ipset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "live/netns.hpp"
#include "live/shell.hpp"
#include "unit/corpus.hpp"

namespace {

namespace cat = callwall::catalog;
using callwall::test::counted_packets;
using callwall::test::shell;
using callwall::test::shell_word;
using callwall::test::ShellOutput;

constexpr const char* kHostA = "10.205.0.1";  // the host whose firewall is under test
constexpr const char* kHostB = "10.205.0.2";  // its peer (the vendor, for inbound rules)
constexpr const char* kNamedAddress = "192.0.2.44";  // what dnsmasq would add for a vendor's names
constexpr const char* kOutside = "198.51.100.7";  // in no vendor's range, never in a set

// Sends one UDP datagram or TCP SYN (non-blocking connect) per (proto, address, port) triple.
constexpr const char* kExportProbeSender = R"py(import socket, sys
args = sys.argv[1:]
for i in range(0, len(args), 3):
    proto, addr, port = args[i], args[i + 1], int(args[i + 2])
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    s.setblocking(False)
    try:
        if proto == "udp":
            s.sendto(b"x", (addr, port))
        else:
            s.connect_ex((addr, port))
    except OSError:
        pass
    s.close()
)py";

// The entry a vendor's packets try, and the addresses and ports they go to.
struct Probe {
    const cat::Entry* entry = nullptr;
    bool inbound_any = false;  // rules for ANY address, inbound: tried from the peer, by port
    bool needs_include_any = false;
    std::string proto;
    std::string inside, outside;  // outbound: where the accepted and the dropped packet go
    uint16_t port = 0, outside_port = 0;
};

bool in_any_entry(const cat::Catalog& c, const std::string& vendor, const std::string& ip) {
    cat::HostMatches m;
    c.match_address(ip, m);
    for (uint32_t i : m)
        if (c.entries()[i].vendor == vendor) return true;
    return false;
}

bool vendor_lists_port(const cat::Catalog& c, const std::string& vendor, const std::string& proto, uint16_t port) {
    for (const cat::Entry& e : c.entries())
        if (e.vendor == vendor && cat::to_string(e.transport) == proto && e.port_set.contains(port)) return true;
    return false;
}

// The vendor's first outbound entry with an IPv4 range, else its first
// outbound entry with names, else its first outbound ANY entry, else its
// first inbound ANY entry (both tried by port).
Probe probe_for(const cat::Catalog& c, const std::string& vendor) {
    Probe p;
    const cat::Entry* named = nullptr;
    const cat::Entry* any_in = nullptr;
    const cat::Entry* any_out = nullptr;
    for (const cat::Entry& e : c.entries()) {
        if (e.vendor != vendor) continue;
        if (e.direction == cat::Direction::Outbound && !e.any_destination()) {
            for (const cat::AddressRange& r : e.addresses) {
                if (r.family != cat::AddressFamily::V4 || p.entry) continue;
                p.entry = &e;
                p.inside = cat::ip_text(r.family, r.sample());
            }
            if (e.has_names() && !named) named = &e;
        }
        if (e.direction == cat::Direction::Inbound && e.any_destination() && !any_in) any_in = &e;
        if (e.direction == cat::Direction::Outbound && e.any_destination() && !any_out) any_out = &e;
    }
    if (!p.entry && named) {
        p.entry = named;
        p.inside = kNamedAddress;
    }
    // Rules for ANY address only: by port (the same address, another port dropped).
    const bool by_port = !p.entry && (any_in || any_out);
    if (!p.entry && any_out) {
        p.entry = any_out;
        p.inside = kOutside;
    } else if (!p.entry && any_in) {
        p.entry = any_in;
        p.inbound_any = true;
    }
    if (!p.entry) return p;
    p.needs_include_any = by_port;
    p.proto = std::string(cat::to_string(p.entry->transport));
    p.port = p.entry->port_set.intervals()[0].lo;
    p.outside = by_port ? p.inside : kOutside;
    p.outside_port = p.port;
    if (by_port) {
        p.outside_port = 0;
        for (uint16_t q = 9; q < 1024 && !p.outside_port; ++q)
            if (!vendor_lists_port(c, vendor, p.proto, q)) p.outside_port = q;
    }
    return p;
}

class CatalogExportNetns : public ::testing::Test {
protected:
    void SetUp() override {
#ifndef CALLWALL_BINARY
        GTEST_SKIP() << "CALLWALL_BINARY not defined";
#else
        if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
        if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
        dir_ = std::filesystem::temp_directory_path() / ("callwall_export_netns_" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        std::ofstream(path("send.py")) << kExportProbeSender;
        std::ofstream(path("stock.conf")) << callwall::test::kDebianStockNftConf;
#endif
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    // `catalog export` of one vendor, on the whole bundled catalog, to FILE.
    std::string export_vendor(const std::string& vendor, const std::string& format, bool include_any,
                              const std::string& file) {
#ifdef CALLWALL_BINARY
        const ShellOutput r = shell("CALLWALL_CATALOG_DIR=" + shell_word(callwall::test::full_catalog_dir()) + " " +
                                    std::string(CALLWALL_BINARY) + " catalog export --format " + format + " --vendor " +
                                    shell_word(vendor) + (include_any ? " --include-any" : "") + " >" + path(file));
        EXPECT_EQ(r.code, 0) << r.text;
#endif
        return callwall::test::read_text(path(file));
    }

    // Loads, twice, one vendor's export in a fresh pair of namespaces, then
    // sends its packets: inside accepted, outside dropped.
    void check_vendor(const cat::Catalog& c, const std::string& vendor, const std::string& format) {
        SCOPED_TRACE(vendor + " (" + format + ")");
        const Probe p = probe_for(c, vendor);
        ASSERT_NE(p.entry, nullptr) << "no entry of " << vendor << " the export can hold";
        ASSERT_FALSE(in_any_entry(c, vendor, kOutside));
        const std::string file = "export." + format;
        const std::string exported = export_vendor(vendor, format, p.needs_include_any, file);
        ASSERT_NE(exported.find("\"" + p.entry->id + "\""), std::string::npos) << exported;

        callwall::test::VethPair pair;
        const std::string made = pair.make("cwx", "cwx");
        if (pair.skipped()) GTEST_SKIP() << made;
        ASSERT_EQ(made, "");
        const auto a = [&](const std::string& cmd) { return shell("ip netns exec " + pair.ns_a + " " + cmd); };
        const auto b = [&](const std::string& cmd) { return shell("ip netns exec " + pair.ns_b + " " + cmd); };
        for (const ShellOutput& r : {a("ip link set lo up"), b("ip link set lo up"),
                                     a("ip addr add " + std::string(kHostA) + "/24 dev " + pair.veth_a),
                                     b("ip addr add " + std::string(kHostB) + "/24 dev " + pair.veth_b),
                                     a("ip route add default via " + std::string(kHostB)),
                                     b("ip route add default via " + std::string(kHostA))})
            ASSERT_EQ(r.code, 0) << r.text;

        // Load twice: the same state.
        const bool nft = format == "nft";
        const std::string load = nft ? "nft -f " + path(file) : "sh " + path(file);
        const std::string state = nft ? "nft list ruleset"
                                      : "sh -c " + shell_word(
                                                       "iptables-save | grep -v '^#'; ip6tables-save | grep -v "
                                                       "'^#'; ipset save | sort");
        if (nft) {
            ASSERT_EQ(a("nft -f " + path("stock.conf")).code, 0);
        }
        const ShellOutput first = a(load);
        ASSERT_EQ(first.code, 0) << first.text << exported;
        const std::string once = a(state).text;
        const ShellOutput again = a(load);
        ASSERT_EQ(again.code, 0) << again.text;
        EXPECT_EQ(a(state).text, once);
        EXPECT_NE(once.find(p.entry->id), std::string::npos) << once;

        // The policy: drop by default, through the export's chains; for a vendor
        // with names only, its set holds what dnsmasq would have added.
        if (nft) {
            for (const std::string& j : callwall::test::export_header_commands(exported, "nft add rule inet filter ")) {
                if (j.find(" output ") != std::string::npos || j.find(" input ") != std::string::npos) {
                    ASSERT_EQ(a(j).code, 0) << j;
                }
            }
            ASSERT_EQ(a("nft chain inet filter output { policy drop \\; }").code, 0);
            ASSERT_EQ(a("nft chain inet filter input { policy drop \\; }").code, 0);
        } else {
            for (const char* rule :
                 {"-A OUTPUT -j CALLWALL-OUTBOUND", "-P OUTPUT DROP", "-A INPUT -j CALLWALL-INBOUND", "-P INPUT DROP"})
                ASSERT_EQ(a("iptables " + std::string(rule)).code, 0) << rule;
        }
        if (p.inside == kNamedAddress) {
            const std::string set = cat::address_set_name(*p.entry) + "_v4";
            const ShellOutput add = nft ? a("nft add element inet filter " + set + " { " + p.inside + " }")
                                        : a("ipset add " + set + " " + p.inside);
            ASSERT_EQ(add.code, 0) << add.text;
        }
        // What passes the filter, counted after it.
        const std::string hook = p.inbound_any ? "input" : "output";
        ASSERT_EQ(a("nft add table inet cwcount").code, 0);
        ASSERT_EQ(a("nft add chain inet cwcount seen { type filter hook " + hook + " priority 100 \\; }").code, 0);
        const std::string m = p.proto + " dport ";
        const std::vector<std::pair<std::string, std::string>> counted =
            p.inbound_any ? std::vector<std::pair<std::string, std::string>>{{"ip saddr " + std::string(kHostB) + " " +
                                                                                  m + std::to_string(p.port),
                                                                              "inside"},
                                                                             {"ip saddr " + std::string(kHostB) + " " +
                                                                                  m + std::to_string(p.outside_port),
                                                                              "outside"}}
                          : std::vector<std::pair<std::string, std::string>>{
                                {"ip daddr " + p.inside + " " + m + std::to_string(p.port), "inside"},
                                {"ip daddr " + p.outside + " " + m + std::to_string(p.outside_port), "outside"}};
        for (const auto& [match, tag] : counted)
            ASSERT_EQ(a("nft add rule inet cwcount seen " + match + " counter comment " + tag).code, 0) << match;

        const std::string send = "/usr/bin/python3 " + path("send.py") + " ";
        if (p.inbound_any) {
            b(send + p.proto + " " + kHostA + " " + std::to_string(p.port) + " " + p.proto + " " + kHostA + " " +
              std::to_string(p.outside_port));
        } else {
            a(send + p.proto + " " + p.inside + " " + std::to_string(p.port) + " " + p.proto + " " + p.outside + " " +
              std::to_string(p.outside_port));
        }
        const std::string seen = a("nft list chain inet cwcount seen").text;
        EXPECT_GE(counted_packets(seen, "inside"), 1) << p.entry->id << " " << p.inside << "\n" << seen;
        EXPECT_EQ(counted_packets(seen, "outside"), 0) << p.entry->id << "\n" << seen;
    }

    void check_every_vendor(const std::string& format) {
        const cat::Catalog& c = callwall::test::full_bundled_catalog();
        ASSERT_FALSE(c.vendors().empty());
        for (const std::string& vendor : c.vendors()) {
            check_vendor(c, vendor, format);
            if (IsSkipped() || HasFatalFailure()) return;
        }
    }

    std::filesystem::path dir_;
};

TEST_F(CatalogExportNetns, EveryVendorsNftExportLoadsTwiceAndPassesOnlyItsRanges) {
    if (shell("command -v nft").code != 0) GTEST_SKIP() << "nft is not installed";
    check_every_vendor("nft");
}

TEST_F(CatalogExportNetns, EveryVendorsIptablesScriptCreatesItsSetsLoadsTwiceAndPassesOnlyItsRanges) {
    for (const char* tool : {"iptables-restore", "ip6tables-restore", "iptables", "ipset", "nft"}) {
        if (shell(std::string("command -v ") + tool).code != 0) {
            GTEST_SKIP() << tool << " is not installed (Debian: iptables, ipset, nftables)";
        }
    }
    check_every_vendor("iptables");
}

}  // namespace
