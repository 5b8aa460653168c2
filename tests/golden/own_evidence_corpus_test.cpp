// No false vendor: for every capture in ../shared/captures/public and every
// capture of our own (scenarios, the lab's both sides), the vendors the run
// concludes anything about ("in use": a product conclusion) are exactly the
// bundled vendors the capture's traffic holds.
//
// The tables are written by hand from each capture's traffic as tshark
// reads it (the public captures' <file>.truth.json: TLS/QUIC SNIs, DNS
// questions, flow addresses; our captures' README and ground truth), not
// from callwall's output. A vendor is held when its own names (not a name
// general web use shares: www.google.com, accounts.google.com, *.skype.com
// of Skype...) or its published ranges appear. Every public capture not
// listed holds none: browsing Google, Facebook, Microsoft or Amazon hosts,
// WhatsApp, Signal, Telegram, Viber, Discord and Skype calls, and STUN or
// media without any vendor's name or range (Meet's and Zoom's bare media
// captures among them: their traffic names no one). A vendor a table names
// that the bundled catalog does not hold (yet) is left out of the
// comparison. Skipped when ../shared is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "attrib/run_attribution.hpp"
#include "golden/run_util.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::test {
namespace {

namespace fs = std::filesystem;
using Vendors = std::set<std::string>;

// ../shared/captures/public: the captures that hold a bundled vendor, and why.
const std::map<std::string, Vendors>& public_truth() {
    static const std::map<std::string, Vendors> t{
        // SNI meet.google.com over TLS and QUIC.
        {"ndpi__google_meet.pcapng", {"Google Meet"}},
        // SNIs teams.microsoft.com, *.teams.microsoft.com, api.flightproxy.teams.microsoft.com...
        {"ndpi__teams.pcap", {"Microsoft Teams"}},
        // STUN to 52.115.136.55, inside Teams' published 52.112.0.0/14, on UDP 3478-3481.
        {"ndpi__stun_msteams_unidir.pcapng", {"Microsoft Teams"}},
        // DNS questions for *.teams.microsoft.com (with teams.skype.com and
        // api.teams.skype.com): a Teams client's own names.
        {"ndpi__dns_ambiguous_names.pcap", {"Microsoft Teams"}},
        // SNI radcom.webex.com.
        {"ndpi__webex.pcap", {"Webex"}},
        // SNIs and DNS of zoom.us, zoomfr84zc.zoom.us, log.zoom.us...
        {"ndpi__zoom.pcap", {"Zoom"}},
        // SNI zoomsjccv154mmr.sjc.zoom.us.
        {"ndpi__zoom2.pcap", {"Zoom"}},
        // TURN over TCP port 80 to 141.101.90.1, one of the four addresses
        // Cloudflare's TURN FAQ publishes for turn.cloudflare.com (the
        // capture's provenance: "turn.cloudflare.com").
        {"arkime__turn.pcap", {"Cloudflare Realtime"}},
    };
    return t;
}

// Our own captures (captures/README.md, captures/scenarios/README.md,
// captures/lab/README.md and each profile's groundtruth.tsv). The lab's
// Chromium asks for accounts.google.com, clients2.google.com and
// update.googleapis.com on its own (dnsmasq.log): no Meet there.
const std::map<std::string, Vendors>& own_truth() {
    static const Vendors agora{"Agora"}, sendbird{"Sendbird"}, whereby{"Whereby"};
    static const Vendors lab{"Agora", "Sendbird", "Whereby"};
    static const std::map<std::string, Vendors> t{
        {"scenarios/agora_2018_gaming.pcap", agora},
        {"scenarios/agora_2018_native.pcap", agora},
        {"scenarios/agora_2018_recording.pcap", agora},
        {"scenarios/agora_2018_signaling.pcap", agora},
        {"scenarios/agora_2018_web.pcap", agora},
        {"scenarios/agora_2020_rtc_web.pcap", agora},
        {"scenarios/agora_2020_rtm.pcap", agora},
        // Agora's TURN by name; the peers are nobody's.
        {"scenarios/field_inbound_not_vendor.pcap", agora},
        {"scenarios/field_inbound_recording.pcap", agora},
        {"scenarios/field_p2p_abandoned.pcap", sendbird},
        {"scenarios/field_p2p_all_failed.pcap", sendbird},
        {"scenarios/field_p2p_relay_remote_first.pcap", sendbird},
        {"scenarios/field_p2p_remote_first.pcap", sendbird},
        {"scenarios/field_table_overflow.pcap", whereby},
        // media-eu.agora.io by name; d1x.cloudfront.net is only Whereby's third party.
        {"scenarios/field_third_party_and_cname.pcap", agora},
        {"scenarios/inconclusive_and_dns.pcap", lab},
        {"scenarios/sendbird_calls.pcap", sendbird},
        {"scenarios/whereby.pcap", whereby},
        {"lab/corporate/client.pcap", lab},
        {"lab/high-ports/client.pcap", lab},
        {"lab/open/client.pcap", lab},
        {"lab/restrictive/client.pcap", lab},
        {"lab/strict/client.pcap", lab},
        {"lab/udp-egress/client.pcap", lab},
        {"lab/corporate/cloud.pcap", lab},
        {"lab/high-ports/cloud.pcap", lab},
        {"lab/open/cloud.pcap", lab},
        {"lab/restrictive/cloud.pcap", lab},
        {"lab/strict/cloud.pcap", lab},
        {"lab/udp-egress/cloud.pcap", lab},
    };
    return t;
}

// The vendors a run of `pcap` against the bundled catalog concludes about.
Vendors in_use(const std::string& pcap) {
    TempDb db;
    const int64_t run = analyze_files({pcap}, db.path());
    auto s = store::Store::open(db.path());
    const attrib::RunVerdicts v = attrib::run_attribution(*s, run, full_bundled_catalog());
    Vendors out;
    for (const auto& p : v.products) out.insert(p.vendor);
    return out;
}

// What the table says, of the vendors the bundled catalog holds.
Vendors bundled(const Vendors& truth) {
    Vendors out;
    for (const auto& v : truth)
        if (full_bundled_catalog().vendor_index(v)) out.insert(v);
    return out;
}

TEST(NoFalseVendor, EveryPublicCaptureReportsExactlyTheVendorsItsTrafficHolds) {
    const std::string shared = shared_dir();
    if (shared.empty() || !fs::is_directory(shared + "/captures/public"))
        GTEST_SKIP() << "../shared is absent: the public captures are in ../shared/captures/public";
    const auto captures = oracle_captures_in(shared + "/captures/public");
    ASSERT_GT(captures.size(), 200u);
    size_t with_vendor = 0;
    for (const fs::path& pcap : captures) {
        const std::string name = pcap.filename().string();
        SCOPED_TRACE(name);
        const auto it = public_truth().find(name);
        const Vendors want = it == public_truth().end() ? Vendors{} : bundled(it->second);
        with_vendor += !want.empty();
        EXPECT_EQ(in_use(pcap.string()), want);
    }
    for (const auto& [name, v] : public_truth())
        EXPECT_TRUE(fs::exists(shared + "/captures/public/" + name)) << name << " is in the table, not in ../shared";
    EXPECT_GE(with_vendor, 3u) << "Meet and Teams calls at least";
}

TEST(NoFalseVendor, OurOwnCapturesReportExactlyTheVendorsTheyHold) {
    for (const auto& [name, truth] : own_truth()) {
        SCOPED_TRACE(name);
        const std::string pcap = source_dir() + "/captures/" + name;
        ASSERT_TRUE(fs::exists(pcap)) << pcap;
        EXPECT_EQ(in_use(pcap), bundled(truth));
    }
}

}  // namespace
}  // namespace callwall::test
