// A vendor is judged only on evidence of its own, and gets one answer:
// names general web use shares (catalog `shared`) never show a vendor in
// use nor block it; STUN on a port a destination-ANY entry lists is no
// evidence for a vendor nobody called; the vendor's own named flow on a
// port only its ANY entry lists counts for it; of several editions, one
// (the newest, or the one chosen) concludes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "attrib/attribute.hpp"
#include "catalog/catalog.hpp"

namespace callwall::attrib {
namespace {

// "G" stands for a vendor with company-wide names (a browser asks for them
// without any call) beside its own, and ANY entries for its media and UDP
// 443; "W" for another vendor whose call uses STUN on 3478 too.
constexpr const char* kG = R"toml(schema = 2
[document]
vendor = "G"
url = "https://g.example/net"
undated = true
transcribed = 2026-11-26
shared = ["www.g.example", "*.gstatic.example", "accounts.g.example"]

[[entry]]
id = "g.media.udp"
product = "G"
service = "Media"
transport = "udp"
ports = [3478, [19302, 19309]]
destinations = ["ANY"]
required = true
[entry.source]
section = "Media"

[[entry]]
id = "g.web.udp"
product = "G"
service = "Web (UDP)"
transport = "udp"
ports = [443]
destinations = ["ANY"]
required = true
[entry.source]
section = "Web"

[[entry]]
id = "g.api.tcp"
product = "G"
service = "API"
transport = "tcp"
ports = [443]
destinations = ["accounts.g.example", "meet.g.example", "www.g.example", "fonts.gstatic.example"]
required = true
[entry.source]
section = "API"
)toml";

constexpr const char* kW = R"toml(schema = 2
[document]
vendor = "W"
url = "https://w.example/net"
undated = true
transcribed = 2026-11-26

[[entry]]
id = "w.turn.udp"
product = "W"
service = "TURN"
transport = "udp"
ports = [3478]
destinations = ["*.turn.w.example"]
required = true
[entry.source]
section = "TURN"
)toml";

const catalog::Catalog& own_catalog() {
    static const catalog::Catalog c = [] {
        const std::array<catalog::SourceText, 2> src{{{"g.toml", kG}, {"w.toml", kW}}};
        auto r = catalog::load_sources(src);
        for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
        return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
    }();
    return c;
}

uint32_t idx(const catalog::Catalog& c, std::string_view id) { return c.entry_index(id).value_or(UINT32_MAX); }

// A flow that got through: TCP with its handshake, UDP answered.
FlowFacts through(uint64_t id, const std::string& transport, const std::string& server, uint16_t port,
                  const std::string& name = "", const std::string& source = "sni") {
    FlowFacts f;
    f.id = id;
    f.transport = transport;
    f.client_ip = "10.0.0.5";
    f.server_ip = server;
    f.client_port = static_cast<uint16_t>(50000 + id);
    f.server_port = port;
    f.first_ts = 100;
    f.last_ts = 110;
    f.packets_c2s = 6;
    f.packets_s2c = 5;
    if (transport == "tcp") {
        f.syn_count = f.synack_count = 1;
        f.first_syn_ts = f.last_syn_ts = 100;
        f.state = "SF";
    } else {
        f.state = "answered";
    }
    if (!name.empty()) f.names.push_back({name, source});
    return f;
}

// An answered STUN exchange on UDP.
FlowFacts stun(uint64_t id, const std::string& server, uint16_t port, const std::string& name = "") {
    FlowFacts f = through(id, "udp", server, port, name, "dns");
    f.app = "stun";
    f.stun_requests = 3;
    f.stun_answered = 3;
    return f;
}

bool has_product(const Result& r, std::string_view vendor) {
    return std::any_of(r.verdicts.products.begin(), r.verdicts.products.end(),
                       [&](const ProductConclusion& p) { return p.vendor == vendor; });
}

TEST(SharedNames, TheLoaderMarksTheDestinationsTheListCovers) {
    const auto& c = own_catalog();
    ASSERT_EQ(c.entries().size(), 4u);
    const catalog::Entry& api = c.entries()[idx(c, "g.api.tcp")];
    ASSERT_EQ(api.destinations.size(), 4u);
    EXPECT_TRUE(api.destinations[0].shared);  // accounts.g.example
    EXPECT_FALSE(api.destinations[1].shared);  // meet.g.example: G's own
    EXPECT_TRUE(api.destinations[2].shared);  // www.g.example
    EXPECT_TRUE(api.destinations[3].shared);  // fonts.gstatic.example, by *.gstatic.example
    EXPECT_TRUE(api.shared_only("www.g.example"));
    EXPECT_FALSE(api.shared_only("meet.g.example"));
    EXPECT_FALSE(api.shared_only("other.example"));
    // A shared name shows no vendor in use; the vendor's own name does.
    EXPECT_TRUE(c.vendor_for_host("www.g.example").empty());
    EXPECT_TRUE(c.vendor_for_host("fonts.gstatic.example").empty());
    ASSERT_EQ(c.vendor_for_host("meet.g.example").size(), 1u);
    EXPECT_EQ(c.vendors()[c.vendor_for_host("meet.g.example")[0]], "G");
}

TEST(SharedNames, CoversTakesEveryNameOfTheDestination) {
    auto d = [](const char* s) { return *catalog::parse_destination(s); };
    EXPECT_TRUE(catalog::destination_covers(d("*.x.com"), d("a.x.com")));
    EXPECT_TRUE(catalog::destination_covers(d("*.x.com"), d("*.a.x.com")));
    EXPECT_TRUE(catalog::destination_covers(d("*.x.com"), d("*.x.com")));
    EXPECT_FALSE(catalog::destination_covers(d("*.x.com"), d("x.com")));
    EXPECT_FALSE(catalog::destination_covers(d("*.x.com"), d(".x.com")));  // x.com itself is not below
    EXPECT_TRUE(catalog::destination_covers(d("*.x.com"), d(".a.x.com")));
    EXPECT_TRUE(catalog::destination_covers(d(".x.com"), d("x.com")));
    EXPECT_TRUE(catalog::destination_covers(d(".x.com"), d(".x.com")));
    EXPECT_FALSE(catalog::destination_covers(d("a.x.com"), d("*.x.com")));
    EXPECT_FALSE(catalog::destination_covers(d("www.x.com"), d("meet.x.com")));
}

TEST(SharedNames, TheLoaderRefusesAListThatMarksNothing) {
    auto diags = [](const std::string& shared) {
        std::string text = kG;
        text.replace(text.find("shared = ["), text.find('\n', text.find("shared = [")) - text.find("shared = ["),
                     "shared = " + shared);
        const auto r = catalog::load_string("g.toml", text);
        std::string all;
        for (const auto& d : r.diagnostics) all += d.to_string() + "\n";
        return all;
    };
    EXPECT_EQ(diags(R"(["www.g.example"])"), "");
    EXPECT_NE(diags(R"(["nothing.example"])").find("shared name 'nothing.example' covers no destination"),
              std::string::npos)
        << diags(R"(["nothing.example"])");
    EXPECT_NE(diags(R"(["ANY"])").find("shared name ANY names no host"), std::string::npos);
    EXPECT_NE(diags(R"(["www.g.example", "www.g.example"])").find("listed twice"), std::string::npos);
    EXPECT_NE(diags(R"(["*x.g.example"])").find("bad shared name"), std::string::npos);
    // Schema 1 has no such key.
    std::string one = kG;
    one.replace(0, std::string("schema = 2").size(), "schema = 1");
    const auto r1 = catalog::load_string("g.toml", one);
    bool needs2 = false;
    for (const auto& d : r1.diagnostics) needs2 |= d.message.find("'shared' needs schema = 2") != std::string::npos;
    EXPECT_TRUE(needs2);
}

TEST(OwnEvidence, BrowsingSharedNamesConcludesNothing) {
    RunFacts facts;
    facts.capture_end = 200;
    facts.flows.push_back(through(1, "tcp", "192.0.2.10", 443, "www.g.example"));
    facts.flows.push_back(through(2, "tcp", "192.0.2.11", 443, "fonts.gstatic.example"));
    facts.flows.push_back(through(3, "udp", "192.0.2.10", 443, "www.g.example"));  // QUIC
    facts.dns_queries = {{"www.g.example", true, "NOERROR", 1}};
    const Result r = attribute(facts, own_catalog());
    EXPECT_FALSE(has_product(r, "G")) << "no G call: nothing to conclude";
    EXPECT_EQ(r.verdicts.entries[idx(own_catalog(), "g.api.tcp")].verdict, Verdict::NotExercised);
    EXPECT_EQ(r.verdicts.entries[idx(own_catalog(), "g.web.udp")].verdict, Verdict::NotExercised);
    for (const auto& f : r.flows) EXPECT_TRUE(f.gaps.empty()) << "a shared name is no catalog gap";
}

TEST(OwnEvidence, SharedNamesCountOnceTheVendorIsInUse) {
    RunFacts facts;
    facts.capture_end = 200;
    facts.flows.push_back(through(1, "tcp", "192.0.2.10", 443, "www.g.example"));
    facts.flows.push_back(through(2, "tcp", "192.0.2.12", 443, "meet.g.example"));
    const Result r = attribute(facts, own_catalog());
    ASSERT_TRUE(has_product(r, "G"));
    const EntryVerdict& api = r.verdicts.entries[idx(own_catalog(), "g.api.tcp")];
    EXPECT_EQ(api.verdict, Verdict::Observed);
    EXPECT_EQ(api.flows_observed, 2u);
}

TEST(OwnEvidence, AnotherVendorsCallIsNoEvidenceForG) {
    // A W call: its TURN server by name, a peer's STUN on 3478 without a
    // name, and the browser's failed lookup of G's sign-in host.
    RunFacts facts;
    facts.capture_end = 200;
    facts.flows.push_back(stun(1, "198.51.100.20", 3478, "eu.turn.w.example"));
    facts.flows.push_back(stun(2, "203.0.113.9", 3478));
    facts.dns_queries = {{"eu.turn.w.example", true, "NOERROR", 1}, {"accounts.g.example", false, "", 0}};
    const Result r = attribute(facts, own_catalog());
    EXPECT_TRUE(has_product(r, "W"));
    EXPECT_FALSE(has_product(r, "G")) << "nobody called G";
    EXPECT_EQ(r.verdicts.entries[idx(own_catalog(), "g.media.udp")].verdict, Verdict::NotExercised);
    EXPECT_EQ(r.verdicts.entries[idx(own_catalog(), "g.api.tcp")].verdict, Verdict::NotExercised)
        << r.verdicts.entries[idx(own_catalog(), "g.api.tcp")].why;
    EXPECT_EQ(r.verdicts.entries[idx(own_catalog(), "w.turn.udp")].verdict, Verdict::Observed);
}

TEST(OwnEvidence, AFailedLookupOfASharedNameBlocksNothingEvenInACall) {
    RunFacts facts;
    facts.capture_end = 200;
    facts.flows.push_back(through(1, "tcp", "192.0.2.12", 443, "meet.g.example"));
    facts.dns_queries = {{"accounts.g.example", true, "SERVFAIL", 0}, {"meet.g.example", true, "NOERROR", 1}};
    const Result r = attribute(facts, own_catalog());
    const EntryVerdict& api = r.verdicts.entries[idx(own_catalog(), "g.api.tcp")];
    EXPECT_EQ(api.verdict, Verdict::Observed) << api.why;
    EXPECT_TRUE(std::find(api.reasons.begin(), api.reasons.end(), "dns-failure") == api.reasons.end());
    // The vendor's own name failing still blocks.
    RunFacts own;
    own.dns_queries = {{"meet.g.example", true, "NXDOMAIN", 0}};
    EXPECT_EQ(attribute(own, own_catalog()).verdicts.entries[idx(own_catalog(), "g.api.tcp")].verdict,
              Verdict::Blocked);
}

TEST(OwnEvidence, TheVendorsNamedFlowOnAPortOnlyItsAnyEntryListsCountsForIt) {
    RunFacts facts;
    facts.capture_end = 200;
    facts.flows.push_back(through(1, "udp", "192.0.2.12", 443, "meet.g.example"));  // QUIC, named by its SNI
    const Result r = attribute(facts, own_catalog());
    const EntryVerdict& web = r.verdicts.entries[idx(own_catalog(), "g.web.udp")];
    EXPECT_EQ(web.verdict, Verdict::Observed) << web.why;
    ASSERT_EQ(r.flows.size(), 1u);
    EXPECT_TRUE(r.flows[0].gaps.empty()) << "no catalog gap: the ANY entry lists UDP 443";
    ASSERT_EQ(r.flows[0].matches.size(), 1u);
    EXPECT_EQ(r.flows[0].matches[0].match.evidence, Evidence::Sni);
    EXPECT_EQ(r.flows[0].matches[0].match.name, "meet.g.example");
    EXPECT_TRUE(r.flows[0].matches[0].counted);
    // On a port no entry of G lists, the named flow stays a catalog gap.
    RunFacts other;
    other.flows.push_back(through(2, "udp", "192.0.2.12", 8443, "meet.g.example"));
    const Result g = attribute(other, own_catalog());
    ASSERT_EQ(g.flows.size(), 1u);
    EXPECT_TRUE(g.flows[0].matches.empty());
    ASSERT_EQ(g.flows[0].gaps.size(), 1u);
}

// Two editions of "E": the 2020 one also needs UDP 3478, the current one
// does not. A call whose UDP 3478 failed: the current edition answers.
constexpr const char* kE2020 = R"toml(schema = 2
[document]
vendor = "E"
edition = "2020"
url = "https://e.example/2020"
date = 2020-01-01
transcribed = 2026-11-26

[[entry]]
id = "e2020.web.tcp"
product = "E"
service = "Web"
transport = "tcp"
ports = [443]
destinations = ["*.e.example"]
required = true
[entry.source]
section = "Web"

[[entry]]
id = "e2020.media.udp"
product = "E"
service = "Media"
transport = "udp"
ports = [3478]
destinations = ["*.e.example"]
required = true
[entry.source]
section = "Media"
)toml";

constexpr const char* kECurrent = R"toml(schema = 2
[document]
vendor = "E"
edition = "current"
url = "https://e.example/now"
undated = true
transcribed = 2026-11-26

[[entry]]
id = "ecurrent.web.tcp"
product = "E"
service = "Web"
transport = "tcp"
ports = [443]
destinations = ["*.e.example"]
required = true
[entry.source]
section = "Web"
)toml";

catalog::Catalog editions() {
    const std::array<catalog::SourceText, 2> src{{{"e_2020.toml", kE2020}, {"e_current.toml", kECurrent}}};
    auto r = catalog::load_sources(src);
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    return r.ok() ? std::move(*r.catalog) : catalog::Catalog{};
}

RunFacts call_with_udp_blocked() {
    RunFacts facts;
    facts.capture_end = 200;
    facts.flows.push_back(through(1, "tcp", "192.0.2.30", 443, "a.e.example"));
    FlowFacts udp = through(2, "udp", "192.0.2.31", 3478, "m.e.example", "dns");
    udp.packets_s2c = 0;
    udp.app = "stun";
    udp.stun_requests = 3;
    udp.stun_retransmissions = 2;
    udp.state = "one-way";
    facts.flows.push_back(udp);
    return facts;
}

TEST(Editions, TheNewestEditionAnswersAndSaysWhatTheOlderOneWould) {
    const catalog::Catalog c = editions();
    ASSERT_EQ(c.documents().size(), 2u);
    EXPECT_EQ(c.documents()[c.judging_document(0)].edition, "current");
    const Result r = attribute(call_with_udp_blocked(), c);
    ASSERT_EQ(r.verdicts.products.size(), 1u) << "one answer for the vendor";
    const ProductConclusion& p = r.verdicts.products[0];
    EXPECT_EQ(p.edition, "current");
    EXPECT_EQ(p.conclusion, "ready");
    EXPECT_NE(p.detail.find("judged by edition 'current'; the older edition '2020' would answer: works, degraded"),
              std::string::npos)
        << p.detail;
    // Every edition's entries are still judged.
    EXPECT_EQ(r.verdicts.entries[idx(c, "e2020.media.udp")].verdict, Verdict::Blocked);
    EXPECT_EQ(r.verdicts.entries[idx(c, "ecurrent.web.tcp")].verdict, Verdict::Observed);
}

TEST(Editions, AChosenEditionAnswersInstead) {
    catalog::Catalog c = editions();
    EXPECT_EQ(c.choose_edition("2020"), "");
    const Result r = attribute(call_with_udp_blocked(), c);
    ASSERT_EQ(r.verdicts.products.size(), 1u);
    EXPECT_EQ(r.verdicts.products[0].edition, "2020");
    EXPECT_EQ(r.verdicts.products[0].conclusion, "works, degraded");
    EXPECT_NE(r.verdicts.products[0].detail.find("the edition 'current' would answer: ready"), std::string::npos)
        << r.verdicts.products[0].detail;
    // By its file's name too; an unknown name says which editions exist.
    EXPECT_EQ(c.choose_edition("e_current.toml"), "");
    EXPECT_EQ(attribute(call_with_udp_blocked(), c).verdicts.products.at(0).edition, "current");
    EXPECT_EQ(c.choose_edition("1999"), "no edition '1999' in the catalog; editions: '2020' (E), 'current' (E)");
}

TEST(Editions, EditionsThatAgreeSayNothingMore) {
    const catalog::Catalog c = editions();
    RunFacts facts;
    facts.capture_end = 200;
    facts.flows.push_back(through(1, "tcp", "192.0.2.30", 443, "a.e.example"));
    const Result r = attribute(facts, c);
    ASSERT_EQ(r.verdicts.products.size(), 1u);
    EXPECT_EQ(r.verdicts.products[0].conclusion, "ready");
    EXPECT_EQ(r.verdicts.products[0].detail.find("judged by edition"), std::string::npos)
        << r.verdicts.products[0].detail;
}

}  // namespace
}  // namespace callwall::attrib
